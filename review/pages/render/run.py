"""Executing a render: worker processes with their kernels, commits, state, Ctrl-C.

Jobs run in worker processes (each with its Jupyter kernel) into temp files; the parent
puts each job's outputs in place atomically and records it in the state file. A job that
fails keeps its partial notebook beside the good one (NAME.failed.ipynb) and is reported
with the failing cell, and the others go on; but once the output directory cannot be written
(a full disk, no permission) the batch stops starting notebooks, whose every output would be
thrown away, and says how to go on.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import review
from review.errors import Interrupted, ReviewError
from review.locks import exclusive
from review.pages import warm, written
from review.pages.render.files import (
    commit_file,
    fsync_file,
    html_from_node,
    read_notebook,
    temp_beside,
    write_atomic,
    write_temp,
)
from review.pages.render.plan import Job
from review.snapshot.cache import UNWRITABLE
from review.workers import end_with_parent

STATE_FILE = ".render-state.json"


KERNEL_NAME = "python3"


# What the kernels that execute the notebooks get of the environment: an allow-list, so no
# credential reaches a notebook under any name (rendering reads snapshots only). The system's
# basics, locale and time zone, the kit's own settings (REVIEW_*), and what Python, Jupyter,
# matplotlib and numpy's thread pools read; the cache paths (XDG_*) keep the derived cache
# the same one the command uses.
KERNEL_VARIABLES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "IPYTHONDIR", "MPLBACKEND",
    "MPLCONFIGDIR", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
})  # fmt: skip


_KERNEL_FAMILIES = re.compile(r"(LC_|XDG_|JUPYTER_|REVIEW_)[A-Z0-9_]+|PYTHON[A-Z0-9]+")


# Even in those families, a name that says it holds a secret (JUPYTER_TOKEN) is left out.
_SECRET_NAME = re.compile(r"PASSW|TOKEN|SECRET|KEY|CREDENTIAL", re.IGNORECASE)


# user:password@ in an address (RT_URL=https://alice:pw@rt.example.edu/, proxies).
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


@dataclass(frozen=True)
class Failure:
    """A job that did not complete: where it stopped and why (one line, no traceback)."""

    name: str
    output: str  # the notebook the job was to write (left as it was)
    message: str
    ticket_id: int | None = None
    cell_index: int | None = None
    execution_count: int | None = None
    partial: str | None = None  # the partially executed notebook, if one was written
    unwritable: bool = False  # its outputs could not be written: no notebook after it can be

    def __str__(self) -> str:
        where = ""
        if self.cell_index is not None:
            where = f" at cell {self.cell_index}"
            if self.execution_count is not None:
                where += f" (In [{self.execution_count}])"
        kept = f"; partial notebook kept: {self.partial}" if self.partial else ""
        return f"{self.name}{where}: {self.message}{kept}"


@dataclass
class BatchResult:
    rendered: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # batch outputs that could not be written
    seconds: float = 0.0
    not_started: list[Job] = field(default_factory=list)  # left when `stopped`
    stopped: Failure | None = None  # the first output that could not be written

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and not self.not_started


def kernel_environment() -> dict[str, str]:
    """Environment for the kernels: this package first on the path, no credentials.

    Only the variables a kernel needs are passed (KERNEL_VARIABLES and the families
    beside it), and `user:password@` is taken out of any address among them; what a
    notebook prints can then never show a credential.

    If the `python3` kernel spec does not run this interpreter (e.g. a user-level spec
    pointing at another Python), a private spec that does is put first on JUPYTER_PATH.
    """
    env = {
        name: _USERINFO.sub("", value)
        for name, value in os.environ.items()
        if (name in KERNEL_VARIABLES or _KERNEL_FAMILIES.fullmatch(name))
        and not _SECRET_NAME.search(name)
    }
    package_root = str(Path(review.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p
    )
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    if not _spec_runs_this_python():
        spec_root = Path(tempfile.gettempdir()) / f"review-kernels-{os.getuid()}"
        spec_dir = spec_root / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True, exist_ok=True)
        (spec_dir / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            )
        )
        env["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(spec_root), os.environ.get("JUPYTER_PATH", "")) if p
        )
    return env


def _spec_runs_this_python() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return False
    command = spec.argv[0] if spec.argv else ""
    version = sys.version_info
    if command in {"python", f"python{version[0]}", f"python{version[0]}.{version[1]}"}:
        return True  # jupyter_client runs these as sys.executable
    try:
        return Path(command).resolve() == Path(sys.executable).resolve()
    except OSError:
        return False


def _init_worker(env: dict[str, str], warm_kernel: bool = False) -> None:
    """Worker setup: the kernel environment, kernel chatter kept off the terminal, and
    (`warm_kernel`) one kernel for all of this worker's notebooks (review.pages.warm)."""
    os.environ.clear()
    os.environ.update(env)
    end_with_parent()
    if warm_kernel:
        warm.start_worker(KERNEL_NAME)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    import logging

    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)


def execute_notebook(
    template: Path, output: Path, parameters: dict[str, Any], cwd: Path | None = None
) -> None:
    """papermill, as the batch runs it: the `python3` kernel, the output saved once at the end.

    In a worker with a warm kernel (review.pages.warm) the notebook runs on that kernel."""
    import papermill as pm

    arguments: dict[str, Any] = dict(
        input_path=str(template),
        output_path=str(output),
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        cwd=str(cwd) if cwd else None,
    )
    kernel = warm.worker_kernel()
    if kernel is None:
        pm.execute_notebook(**arguments)
    else:
        kernel.execute(**arguments)


@dataclass(frozen=True)
class Staged:
    """A job's complete outputs in temp files beside their targets: the parent commits them."""

    notebook: Path
    html: Path | None
    # the written sections the notebook was given (id, text digest), None: not a review
    sections: tuple[tuple[str, str], ...] | None = None


def failed_path(output: Path) -> Path:
    """Where a failed job's partial notebook is kept: beside the last good one, never over it."""
    return output.with_name(f"{output.stem}.failed.ipynb")


def with_written(job: Job, notebook: Path) -> Any:
    """The job's notebook with the team's written sections put in (review.pages.written),
    written back to `notebook`; returns the node (nbformat)."""
    import nbformat

    read: Any = nbformat.read
    node = read(notebook, as_version=4)
    if job.written is None or job.ticket_id is None:
        return node
    review = written.load(job.written, job.ticket_id)
    template = json.loads(job.template.read_text("utf-8"))
    relative = os.path.relpath(job.written, job.output.parent)
    place = os.path.relpath(job.output, job.written.parent)
    as_node: Any = nbformat.from_dict
    node = as_node(written.merge(node, template, review, job.ticket_id, relative, place))
    write: Any = nbformat.write
    write(node, str(notebook))
    return node


def run_job(job: Job) -> Failure | Staged:
    """Execute one notebook (and export HTML) into temp files; a failure is returned, not raised.

    Nothing is put in place here: the parent commits the outputs (`commit`), so an
    interrupted batch leaves only temp files, which it removes.
    """
    from papermill.exceptions import PapermillExecutionError

    temp = temp_beside(job.output.with_suffix(""), ".ipynb")  # .incident-N.XXXX.ipynb
    html_temp = None
    try:
        execute_notebook(job.template, temp, job.parameters, cwd=job.output.parent)
        node = with_written(job, temp)
        given = node.metadata.get(written.META)
        sections = None if given is None else tuple(given["texts"].items())
        fsync_file(temp)
        if job.html:
            html_temp = write_temp(
                job.output.with_suffix(".html"), html_from_node(node, job.output.stem)
            )
    except (KeyboardInterrupt, SystemExit):
        _stop_this_worker()
        raise
    except PapermillExecutionError as exc:
        return Failure(
            name=job.name,
            output=str(job.output),
            message=f"{exc.ename}: {_one_line(exc.evalue)}",
            ticket_id=job.ticket_id,
            cell_index=exc.cell_index,
            execution_count=exc.exec_count,
            partial=_partial(temp),
        )
    except Exception as exc:  # kernel died, disk full, unreadable template ...
        if isinstance(exc, OSError) and exc.errno in UNWRITABLE:  # nothing to keep, no room
            for path in (temp, html_temp):
                if path is not None:
                    path.unlink(missing_ok=True)
            return _unwritable(job, exc)
        stage = "HTML export failed: " if temp.stat().st_size and job.html else ""
        return Failure(
            name=job.name,
            output=str(job.output),
            message=f"{stage}{type(exc).__name__}: {_one_line(str(exc))}",
            ticket_id=job.ticket_id,
            partial=_partial(temp),
        )
    return Staged(temp, html_temp, sections)


def _unwritable(job: Job, exc: OSError) -> Failure:
    """A job whose outputs could not be written in its directory (see UNWRITABLE)."""
    where = job.output.parent
    return Failure(job.name, str(job.output), f"cannot write in {where} ({exc.strerror})",
                   job.ticket_id, unwritable=True)  # fmt: skip


def _stop_this_worker() -> None:
    """In a worker told to stop (SIGTERM from the parent, Ctrl-C in the terminal): exit now.

    The kernel was shut down on the way out of the notebook; returning would only make the
    pool's worker loop start the next queued notebook until the parent kills it.
    """
    from multiprocessing import parent_process

    if parent_process() is not None:
        os._exit(128 + signal.SIGTERM)


def _partial(temp: Path) -> str | None:
    """The temp notebook if anything was written to it (removed otherwise)."""
    if temp.is_file() and temp.stat().st_size:
        return str(temp)
    temp.unlink(missing_ok=True)
    return None


def commit(out: Path, job: Job, outcome: Failure | Staged, state: dict[str, str]) -> Failure | None:
    """Put a job's outputs in place and record it in `state` (the parent does this, not workers).

    A success replaces the HTML, then the notebook, and drops an HTML left from a run
    with --html when this one has none (the index links only to current files). A
    failure keeps its partial notebook as `NAME.failed.ipynb`; the good files stay. A
    review notebook goes in with its review file's sections as they are then, under the
    file's lock (`_written_now`), so a save in JupyterLab meanwhile is in it.
    """
    key = _key(out, job)
    html_path = job.output.with_suffix(".html")
    try:
        if isinstance(outcome, Failure):
            state.pop(key, None)
            if outcome.partial is None:
                return outcome
            kept = failed_path(job.output)
            commit_file(Path(outcome.partial), kept)
            return replace(outcome, partial=str(kept))
        with _review_locked(job):  # a save in JupyterLab waits, or is seen
            held = unsaved_text(job)
            if held:
                state.pop(key, None)
                for temp in (outcome.notebook, outcome.html):
                    if temp is not None:
                        temp.unlink(missing_ok=True)
                return Failure(job.name, str(job.output), held, job.ticket_id)
            _written_now(job, outcome)
            if outcome.html is not None:
                commit_file(outcome.html, html_path)
            else:
                html_path.unlink(missing_ok=True)
            commit_file(outcome.notebook, job.output)
        failed_path(job.output).unlink(missing_ok=True)
    except (OSError, ReviewError) as exc:
        state.pop(key, None)
        if isinstance(exc, OSError) and exc.errno in UNWRITABLE:
            return _unwritable(job, exc)
        return Failure(job.name, str(job.output), f"cannot write: {exc}", job.ticket_id)
    state[key] = job.fingerprint
    return None


def _review_locked(job: Job) -> AbstractContextManager[None]:
    """The review file's lock (review.pages.written), when the job's review folder exists."""
    if job.written is None or not job.written.parent.is_dir():
        return nullcontext()
    return written.locked(job.written)


def _written_now(job: Job, outcome: Staged) -> None:
    """The staged notebook with its review file's sections as they are now (under its
    lock): a save in JupyterLab while the notebook ran came after the worker put them in,
    and the notebook put in place would hold the text as it was before that save, which
    the next save from it would write back over the newer text."""
    if outcome.sections is None or job.written is None or job.ticket_id is None:
        return
    review = written.load(job.written, job.ticket_id)
    now = tuple(written.section_digests(review).items()) if review else ()
    if now == outcome.sections:
        return
    import nbformat

    read: Any = nbformat.read
    node = written.remerge(read(outcome.notebook, as_version=4), _template(job), review)
    write: Any = nbformat.write
    as_node: Any = nbformat.from_dict
    write(as_node(node), str(outcome.notebook))
    fsync_file(outcome.notebook)


def _template(job: Job) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(job.template.read_text("utf-8"))
    return template


def unsaved_text(job: Job) -> str:
    """Why `job`'s notebook must not be replaced ('' when it may): it holds written text its
    review file lacks (review.pages.written.unsaved), or is not a notebook the kit can read
    (files.read_notebook). The text stays where it is; the message says how to keep it."""
    if job.written is None or job.ticket_id is None or not job.output.is_file():
        return ""
    try:
        node = read_notebook(job.output)
    except ReviewError as exc:
        return f"not replaced: {exc}, then render again"
    try:
        review = written.load(job.written, job.ticket_id)
    except ReviewError as exc:
        return f"not replaced: {exc}"
    sections = written.unsaved(node, review)
    if not sections:
        return ""
    return (
        f"not replaced: it holds written text that is not in {job.written} (cells "
        f"{', '.join(sections)}: saved without the kit's save hook?); open it with `review lab "
        f"{job.ticket_id}` and save it, or move it aside, then render again"
    )


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _state_path(out: Path) -> Path:
    return out / STATE_FILE


def read_state(out: Path) -> dict[str, str]:
    try:
        state = json.loads(_state_path(out).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(out: Path, state: dict[str, str]) -> None:
    write_atomic(_state_path(out), json.dumps(state, indent=0, sort_keys=True).encode())


def _key(out: Path, job: Job) -> str:
    return job.output.relative_to(out).as_posix()


def is_current(out: Path, job: Job, state: dict[str, str]) -> bool:
    if state.get(_key(out, job)) != job.fingerprint or not job.output.is_file():
        return False
    return not job.html or job.output.with_suffix(".html").is_file()


def run_batch(
    jobs: list[Job],
    out: Path,
    workers: int | None = None,
    force: bool = False,
    progress: bool | None = None,
    runner: Callable[[Job], Failure | Staged] = run_job,
) -> BatchResult:
    """Render the jobs whose inputs changed, `workers` at a time, each in its own process.

    Ctrl-C or SIGTERM stops the batch within seconds: jobs not started are cancelled,
    the workers (and with them their kernels) are ended, their temp files removed, and
    the state file records exactly the notebooks that were put in place.
    """
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    state = read_state(out)
    result = BatchResult()
    todo = []
    for job in jobs:
        if not force and is_current(out, job, state):
            result.skipped.append(job)
        else:
            todo.append(job)
    _remove_temps(result.skipped)  # a killed run's, beside notebooks not rendered again
    if todo:
        try:
            _execute(todo, out, state, result, workers, progress, runner)
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted: {len(result.rendered)} notebook(s) finished and recorded, "
                f"{len(todo) - len(result.rendered) - len(result.failures)} not rendered; "
                "run the same command again to finish"
            ) from None
        finally:
            _remove_temps(todo)
            try:
                write_state(out, state)
            except OSError as exc:
                result.errors.append(
                    f"cannot record what was rendered in {_state_path(out)} ({exc.strerror}); "
                    "the next render redoes those notebooks"
                )
    result.failures.sort(key=lambda f: (f.ticket_id is None, f.ticket_id or 0, f.name))
    result.seconds = time.perf_counter() - started
    return result


def _execute(
    todo: list[Job],
    out: Path,
    state: dict[str, str],
    result: BatchResult,
    workers: int | None,
    progress: bool | None,
    runner: Callable[[Job], Failure | Staged],
) -> None:
    """Run the jobs in a process pool and commit each outcome as it arrives; the jobs that
    link to others (Job.links) start once the others are in place."""
    from tqdm import tqdm

    workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    bar = tqdm(
        total=len(todo),
        unit="notebook",
        desc="rendering",
        disable=(not sys.stderr.isatty()) if progress is None else not progress,
        file=sys.stderr,
    )
    interrupts = _Interrupts()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(kernel_environment(), warm.enabled()),
    )
    try:
        with interrupts.installed():
            for wave in ([j for j in todo if not j.links], [j for j in todo if j.links]):
                if result.stopped is not None:  # the pages that link to others: none
                    result.not_started += wave
                    continue
                _run_wave(pool, workers, wave, runner, out, state, result, interrupts, bar)
    except BaseException:
        _stop_workers(pool)
        raise
    else:
        pool.shutdown()
    finally:
        bar.close()


def _run_wave(
    pool: ProcessPoolExecutor,
    workers: int,
    wave: list[Job],
    runner: Callable[[Job], Failure | Staged],
    out: Path,
    state: dict[str, str],
    result: BatchResult,
    interrupts: _Interrupts,
    bar: Any,
) -> None:
    """Run jobs in the pool, `workers` at a time, and commit each outcome as it arrives; once
    an output cannot be written, no job is started (`result.not_started`). Jobs are handed
    to the pool one as another ends: a job queued inside the pool could not be held back."""
    waiting = list(reversed(wave))
    running: dict[Future[Failure | Staged], Job] = {}
    while waiting or running:
        while waiting and len(running) < workers and result.stopped is None:
            job = waiting.pop()
            running[pool.submit(runner, job)] = job
        if result.stopped is not None and waiting:
            result.not_started += reversed(waiting)
            bar.update(len(waiting))
            waiting.clear()
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            _settle(future, running.pop(future), out, state, result, interrupts)
            bar.update()


def _settle(
    future: Future[Failure | Staged],
    job: Job,
    out: Path,
    state: dict[str, str],
    result: BatchResult,
    interrupts: _Interrupts,
) -> None:
    """Commit one job's outcome and record it in `result` (the first that could not be
    written stops the batch)."""
    try:
        outcome = future.result()
    except Exception as exc:  # the worker process itself died
        outcome = Failure(
            job.name, str(job.output), f"{type(exc).__name__}: {_one_line(str(exc))}", job.ticket_id
        )
    with interrupts.held():  # the files and the state change together
        failure = commit(out, job, outcome, state)
        if failure is None:
            result.rendered.append(job)
            return
        result.failures.append(failure)
    if failure.unwritable and result.stopped is None:
        result.stopped = failure


class _Interrupts:
    """SIGINT and SIGTERM as KeyboardInterrupt, deferred while a job's outputs are committed."""

    def __init__(self) -> None:
        self.holding = False
        self.pending = False

    def __call__(self, signum: int, frame: Any) -> None:
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending:
            raise KeyboardInterrupt


def _stop_workers(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Cancel the jobs not started and end the workers within `grace` seconds.

    SIGTERM first: papermill's client then shuts its kernel down; a worker still alive
    after `grace` is killed (its kernel notices its parent is gone and exits).
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


def _remove_temps(jobs: Iterable[Job]) -> None:
    """Remove the temp files of these jobs (`.incident-N.*`) left by an interrupted batch."""
    for job in jobs:
        for temp in job.output.parent.glob(f".{job.output.stem}.*"):
            temp.unlink(missing_ok=True)


def batch_lock(out: Path) -> AbstractContextManager[None]:
    """One render at a time per output directory (cron and a person may overlap)."""
    return exclusive(
        out / ".render.lock",
        f"another render is writing to {out}; wait for it to finish and run again",
    )


def result_lines(result: BatchResult) -> list[str]:
    """The failures and the outputs that could not be written, one line each, and why the
    batch stopped early."""
    lines = [*map(str, result.failures), *result.errors]
    if result.stopped is not None:
        lines.append(
            f"stopped: {Path(result.stopped.output).parent} cannot be written; free space "
            "there or give --out a directory you may write, and run the same command again "
            f"(the {len(result.rendered)} notebook(s) written are kept; "
            f"{len(result.not_started)} not started)"
        )
    return [f"error: {line}" for line in lines]


def problems(result: BatchResult) -> str:
    """What went wrong in a batch, counted: "2 notebook(s) failed, 1 output not written"."""
    parts = [f"{len(result.failures)} notebook(s) failed"] if result.failures else []
    if result.not_started:
        parts.append(f"{len(result.not_started)} not started")
    if result.errors:
        parts.append(f"{len(result.errors)} output(s) not written")
    return ", ".join(parts)


def summary(result: BatchResult) -> str:
    unstarted = f", {len(result.not_started)} not started" if result.not_started else ""
    return (
        f"{len(result.rendered)} rendered, {len(result.skipped)} unchanged, "
        f"{len(result.failures)} failed{unstarted} in {result.seconds:.1f}s"
    )
