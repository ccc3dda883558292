"""Render the notebook templates with papermill: a batch, HTML export, skip-unchanged cache.

A render is a list of jobs (one notebook each). Jobs run in worker processes
(each with its Jupyter kernel) into temp files; the parent puts each job's
outputs in place atomically and records it in the state file. A job that fails
keeps its partial notebook beside the good one (NAME.failed.ipynb) and is
reported with the failing cell, and the others go on. Each output is remembered
with a fingerprint of its inputs (review.snapshot.fingerprint: the incident's rows of the
snapshot, the template's cells, the config's settings, the registry file and
the package's version and source); a job whose fingerprint is unchanged and
whose outputs exist is skipped.

Output layout (under `out`, default ./reports):
    index.html                        links to everything below
    2026-10/incident-1234.ipynb/.html one review per incident, by month opened
    2026-10/incident-1234.failed.ipynb the partial notebook of a failed render, if any
    2026-10/monthly.ipynb/.html       the monthly report
    support-gaps.ipynb/.html          the support-assignment gap report
    .render-state.json                fingerprints of what was rendered
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

import review
from review.analysis.incidents import incidents
from review.closeout.followups import followups_digest
from review.context import derive_into, derived_dir, open_snapshot, registry_path
from review.errors import Interrupted, ReviewError, SnapshotError
from review.locks import exclusive
from review.pages import warm
from review.pages.display import local_time
from review.settings.config import Config, load_config, templates_dir, with_registry
from review.settings.months import month_of
from review.snapshot import Snapshot, umask_mode
from review.snapshot.fingerprint import (
    config_digest,
    digest,
    file_digest,
    package_digest,
    shared_digest,
    source_digest,
    ticket_digests,
)
from review.text import visible

INCIDENT_TEMPLATE = "incident_review.ipynb"
MONTHLY_TEMPLATE = "monthly_report.ipynb"
SUPPORT_TEMPLATE = "support_gaps.ipynb"
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
_HTML_TEMPLATE = (
    "{%- extends 'lab/index.html.j2' -%}"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}"
    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}"
)


def template_path(name: str) -> Path:
    """One of the bundled templates (notebooks/ in a clone, the package's copy when installed)."""
    return templates_dir() / name


@dataclass(frozen=True)
class Job:
    """One notebook to render."""

    name: str  # what the user reads: "incident 1234", "monthly 2026-10", "support gaps"
    template: Path
    output: Path  # the .ipynb; the .html goes beside it
    parameters: dict[str, Any]
    fingerprint: str
    html: bool
    ticket_id: int | None = None


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

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors


@dataclass
class Inputs:
    """A loaded snapshot with what every job's fingerprint shares."""

    snapshot_dir: Path
    derived: Path  # the derived cache of this version of the snapshot
    config_path: Path | None
    config: Config
    snapshot: Snapshot
    metrics_month: pd.Series  # ticket_id -> YYYY-MM opened (local), incidents only
    tickets: pd.Series  # ticket_id -> digest
    common: str  # config, registry, package, shared frames


def load_inputs(snapshot_dir: Path, config_path: Path | None) -> Inputs:
    """The snapshot, read once, and the derived cache every notebook of the batch reads.

    A symlink is resolved once; the version read is checked not to have been swapped
    while it was read, and the kernels get that version's derived cache by name
    (`derived`), so a pull during the batch does not mix two snapshots.
    """
    config = load_config(config_path)
    real = Path(os.path.realpath(snapshot_dir))
    derived = derived_dir(real, config)  # names the version on disk now
    snapshot = open_snapshot(real, config)
    if derived_dir(real, config) != derived:
        raise SnapshotError(
            "was replaced while it was read (a pull swapped it in): run again", str(snapshot_dir)
        )
    found = incidents(snapshot)
    months = pd.Series(
        month_of(found["created"], config).to_numpy(), index=found["ticket_id"].to_numpy()
    )
    derive_into(derived, real, snapshot, config)
    common = digest(
        config_digest(config),
        file_digest(registry_path(config)),
        package_digest(),
        shared_digest(snapshot),
        followups_digest(snapshot),
    )
    return Inputs(
        snapshot_dir=real,
        derived=derived,
        config_path=config_path.resolve() if config_path else None,
        config=config,
        snapshot=snapshot,
        metrics_month=months,
        tickets=ticket_digests(snapshot),
        common=common,
    )


def _linked(snapshot: Snapshot, ticket_id: int) -> list[int]:
    links = snapshot.links
    targets = links.loc[(links["ticket_id"] == ticket_id) & ~links["external"], "target"]
    return sorted(int(t) for t in targets.dropna() if str(t).isdigit())


# --------------------------------------------------------------------------- planning


def _parameters(inputs: Inputs, derived: Path | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "snapshot": str(inputs.snapshot_dir),
        "config": str(inputs.config_path) if inputs.config_path else None,
        "derived": str(derived or inputs.derived),
        **extra,
    }


def incident_jobs(
    inputs: Inputs, ticket_ids: Iterable[int], out: Path, html: bool, template: Path | None = None
) -> list[Job]:
    """One job per incident; unknown or merged ticket ids are a ReviewError naming them."""
    template = template or template_path(INCIDENT_TEMPLATE)
    template_digest = source_digest(template)
    pulled = str(inputs.snapshot.manifest.get("pulled_at", ""))
    resolved = inputs.snapshot.tickets.set_index("ticket_id")["resolved"]
    wanted = list(dict.fromkeys(int(t) for t in ticket_ids))
    missing = [t for t in wanted if t not in inputs.metrics_month.index]
    if missing:
        known = inputs.tickets.index
        merged = [t for t in missing if t in known]
        absent = [t for t in missing if t not in known]
        parts = []
        if absent:
            parts.append(f"not in the snapshot: {', '.join(map(str, absent))}")
        if merged:
            parts.append(f"merged into other tickets: {', '.join(map(str, merged))}")
        raise ReviewError(f"cannot review tickets {'; '.join(parts)} ({inputs.snapshot_dir})")
    jobs = []
    for ticket_id in wanted:
        related = [inputs.tickets.get(t, "") for t in _linked(inputs.snapshot, ticket_id)]
        still_open = pd.isna(resolved.get(ticket_id))
        fingerprint = digest(
            "incident",
            inputs.common,
            template_digest,
            inputs.tickets[ticket_id],
            related,
            pulled if still_open else "",
            html,
        )
        month = inputs.metrics_month[ticket_id]
        jobs.append(
            Job(
                name=f"incident {ticket_id}",
                template=template,
                output=out / month / f"incident-{ticket_id}.ipynb",
                parameters=_parameters(inputs, ticket_id=ticket_id),
                fingerprint=fingerprint,
                html=html,
                ticket_id=ticket_id,
            )
        )
    return jobs


def month_ticket_ids(inputs: Inputs, month: str) -> list[int]:
    months = inputs.metrics_month
    return sorted(int(t) for t in months.index[months == month])


def monthly_job(inputs: Inputs, month: str, out: Path, compare: int = 3) -> Job:
    """The monthly report: depends on every incident of the month and the months compared."""
    period = pd.Period(month, freq="M")
    months = {str(period - n) for n in range(compare + 1)}
    ids = sorted(int(t) for t in inputs.metrics_month.index[inputs.metrics_month.isin(months)])
    fingerprint = digest(
        "monthly",
        inputs.common,
        source_digest(template_path(MONTHLY_TEMPLATE)),
        month,
        str(inputs.snapshot.coverage),  # its banner and "not covered" months
        str(inputs.snapshot.pulled_at),  # time so far of incidents still open
        [(t, inputs.tickets[t]) for t in ids],
    )
    return Job(
        name=f"monthly report {month}",
        template=template_path(MONTHLY_TEMPLATE),
        output=out / month / "monthly.ipynb",
        parameters=_parameters(inputs, month=month),
        fingerprint=fingerprint,
        html=True,
    )


def support_job(
    inputs: Inputs,
    out: Path,
    since: str | None = None,
    today: str | None = None,
    registry: Path | None = None,
) -> Job:
    """The support-gap report: depends on the whole snapshot and the registry (and the date).

    `today` (default: the real date) is the day gap ages count to; `registry` replaces the
    config's registry file."""
    fingerprint = digest(
        "support",
        inputs.common,
        source_digest(template_path(SUPPORT_TEMPLATE)),
        since,
        sorted(inputs.tickets.items()),
        today or time.strftime("%Y-%m-%d"),  # "how long the gap has stood" counts to today
        file_digest(registry) if registry else "",
    )
    return Job(
        name="support-gap report",
        template=template_path(SUPPORT_TEMPLATE),
        output=out / "support-gaps.ipynb",
        parameters=_parameters(
            inputs,
            _derived_with(inputs, registry),
            since=since,
            today=today,
            registry=str(registry.resolve()) if registry else None,
        ),
        fingerprint=fingerprint,
        html=True,
    )


def _derived_with(inputs: Inputs, registry: Path | None) -> Path:
    """The derived cache of the batch's snapshot with another registry file (`--registry`)."""
    if registry is None:
        return inputs.derived
    config = with_registry(inputs.config, registry.resolve())
    return derive_into(
        derived_dir(inputs.snapshot_dir, config), inputs.snapshot_dir, inputs.snapshot, config
    )


# --------------------------------------------------------------------------- executing


def _kernel_environment() -> dict[str, str]:
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
    if warm_kernel:
        warm.start_worker(KERNEL_NAME)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    import logging

    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)


@lru_cache(maxsize=1)
def _html_exporter() -> Any:
    """One exporter per process: loading the templates is most of an export's cost."""
    import nbconvert
    from jinja2 import DictLoader

    exporter: Any = nbconvert.HTMLExporter
    return exporter(
        template_name="lab",
        template_file="review.html.j2",
        extra_loaders=[DictLoader({"review.html.j2": _HTML_TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def export_html(notebook: Path, target: Path) -> None:
    """The executed notebook as HTML without code or prompts (for email), written atomically."""
    _commit_file(_write_temp(target, html_bytes(notebook, target.stem)), target)


def html_bytes(notebook: Path, name: str) -> bytes:
    """The executed notebook as HTML without code, prompts or remote scripts.

    Ticket text is already escaped in the outputs (nbconvert's sanitize_html would
    also escape the headings and tables, so it stays off); MathJax, require.js and the
    mermaid loader (CDN scripts the pages do not use) are left out, so a page loads
    nothing from outside and a `$` in ticket text stays a dollar sign.
    """
    import nbformat

    read: Any = nbformat.read
    node = read(notebook, as_version=4)
    titles = [  # the page header's own title (review.pages.display.PageHeader), when it has one
        output["metadata"]["review_title"]
        for cell in node.cells
        for output in cell.get("outputs", [])
        if "review_title" in output.get("metadata", {})
    ]
    if titles:
        node.metadata["title"] = str(titles[0])
    body, _ = _html_exporter().from_notebook_node(node, resources={"metadata": {"name": name}})
    return str(body).encode("utf-8")


def _temp_beside(target: Path, suffix: str = "") -> Path:
    """A new empty file `.NAME.XXXX` beside `target` (same filesystem: os.replace is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.fchmod(handle, umask_mode(0o666))  # mkstemp makes 0600; reports are meant to be shared
    os.close(handle)
    return Path(temp)


def _write_temp(target: Path, data: bytes) -> Path:
    """`data` in a temp file beside `target`, on disk (fsync); removed if writing fails."""
    temp = _temp_beside(target)
    try:
        with temp.open("wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _fsync_file(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


def _commit_file(temp: Path, target: Path) -> None:
    """Put a complete temp file in place: the old file stays until the new one is whole."""
    os.replace(temp, target)
    handle = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)  # the rename itself survives a crash
    finally:
        os.close(handle)


def _write_atomic(target: Path, data: bytes) -> None:
    _commit_file(_write_temp(target, data), target)


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


def failed_path(output: Path) -> Path:
    """Where a failed job's partial notebook is kept: beside the last good one, never over it."""
    return output.with_name(f"{output.stem}.failed.ipynb")


def run_job(job: Job) -> Failure | Staged:
    """Execute one notebook (and export HTML) into temp files; a failure is returned, not raised.

    Nothing is put in place here: the parent commits the outputs (`commit`), so an
    interrupted batch leaves only temp files, which it removes.
    """
    from papermill.exceptions import PapermillExecutionError

    temp = _temp_beside(job.output.with_suffix(""), ".ipynb")  # .incident-N.XXXX.ipynb
    html_temp = None
    try:
        execute_notebook(job.template, temp, job.parameters, cwd=job.output.parent)
        _fsync_file(temp)
        if job.html:
            html_temp = _write_temp(
                job.output.with_suffix(".html"), html_bytes(temp, job.output.stem)
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
        stage = "HTML export failed: " if temp.stat().st_size and job.html else ""
        return Failure(
            name=job.name,
            output=str(job.output),
            message=f"{stage}{type(exc).__name__}: {_one_line(str(exc))}",
            ticket_id=job.ticket_id,
            partial=_partial(temp),
        )
    return Staged(temp, html_temp)


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
    failure keeps its partial notebook as `NAME.failed.ipynb`; the good files stay.
    """
    key = _key(out, job)
    html_path = job.output.with_suffix(".html")
    try:
        if isinstance(outcome, Failure):
            state.pop(key, None)
            if outcome.partial is None:
                return outcome
            kept = failed_path(job.output)
            _commit_file(Path(outcome.partial), kept)
            return replace(outcome, partial=str(kept))
        if outcome.html is not None:
            _commit_file(outcome.html, html_path)
        else:
            html_path.unlink(missing_ok=True)
        _commit_file(outcome.notebook, job.output)
        failed_path(job.output).unlink(missing_ok=True)
    except OSError as exc:
        state.pop(key, None)
        return Failure(job.name, str(job.output), f"cannot write: {exc}", job.ticket_id)
    state[key] = job.fingerprint
    return None


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
    _write_atomic(_state_path(out), json.dumps(state, indent=0, sort_keys=True).encode())


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
    """Run the jobs in a process pool and commit each outcome as it arrives."""
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
        initargs=(_kernel_environment(), warm.enabled()),
    )
    try:
        with interrupts.installed():
            futures = {pool.submit(runner, job): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker process itself died
                    outcome = Failure(
                        job.name,
                        str(job.output),
                        f"{type(exc).__name__}: {_one_line(str(exc))}",
                        job.ticket_id,
                    )
                with interrupts.held():  # the files and the state change together
                    failure = commit(out, job, outcome, state)
                    if failure is None:
                        result.rendered.append(job)
                    else:
                        result.failures.append(failure)
                bar.update()
    except BaseException:
        _stop_workers(pool)
        raise
    else:
        pool.shutdown()
    finally:
        bar.close()


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


# --------------------------------------------------------------------------- index


def write_index(out: Path, inputs: Inputs, result: BatchResult | None = None) -> Path:
    """`index.html`: every rendered report under `out`, with subjects as plain text.

    Replaced atomically; if it cannot be written, the reason goes to `result.errors`
    (the batch's failures are still reported) and the previous index stays.
    """
    failed = {Path(f.output).resolve(): f for f in (result.failures if result else ())}
    subjects = inputs.snapshot.tickets.set_index("ticket_id")["subject"]

    def esc(text: str) -> str:
        return html.escape(visible(text))

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Incident reviews and reports</title>',
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "td,th{padding:2px 10px;text-align:left}.n{text-align:right}.failed{color:#b00}"
        "</style></head><body>",
        "<h1>Incident reviews and reports</h1>",
        f"<p>Snapshot: {esc(str(inputs.snapshot_dir))}, taken "
        f"{esc(local_time(inputs.snapshot.pulled_at, inputs.config) or 'at an unknown time')}.</p>",
    ]
    support = out / "support-gaps.html"
    if support.is_file():
        parts.append('<p><a href="support-gaps.html">Support-assignment gap report</a></p>')
    for month_dir in sorted((p for p in out.iterdir() if p.is_dir()), reverse=True):
        numbers = {_ticket_number(p) for p in month_dir.glob("incident-*.ipynb")} - {-1}
        notebooks = [month_dir / f"incident-{n}.ipynb" for n in sorted(numbers)]
        monthly = month_dir / "monthly.html"
        if not notebooks and not monthly.is_file():
            continue
        parts.append(f"<h2>{esc(month_dir.name)}</h2>")
        if monthly.is_file():
            parts.append(f'<p><a href="{esc(month_dir.name)}/monthly.html">Monthly report</a></p>')
        parts.append('<table><tr><th class="n">Ticket</th><th>Subject</th><th>Review</th></tr>')
        for notebook in notebooks:
            number = _ticket_number(notebook)
            subject = str(subjects.get(number, ""))
            base = f"{month_dir.name}/{notebook.stem}"
            page = notebook.with_suffix(".html")
            links = []
            if page.is_file():
                links.append(f'<a href="{esc(base)}.html">HTML</a>')
            if notebook.is_file():
                links.append(f'<a href="{esc(base)}.ipynb">notebook</a>')
            review_cell = " · ".join(links)
            if failed_path(notebook).is_file():
                review_cell += f' (<a href="{esc(base)}.failed.ipynb">partial notebook</a>)'
            if notebook.resolve() in failed:
                reason = esc(str(failed[notebook.resolve()]))
                review_cell = f'<span class="failed">failed: {reason}</span> {review_cell}'
            parts.append(
                f'<tr><td class="n">{number}</td><td>{esc(subject)}</td><td>{review_cell}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>")
    target = out / "index.html"
    try:
        _write_atomic(target, ("\n".join(parts) + "\n").encode("utf-8"))
    except OSError as exc:
        if result is None:
            raise ReviewError(f"cannot write {target}: {exc.strerror}") from None
        result.errors.append(f"cannot write {target} ({exc.strerror}); the previous one stays")
    return target


def _ticket_number(path: Path) -> int:
    """N of incident-N.ipynb and of incident-N.failed.ipynb; -1 for other names."""
    try:
        return int(path.name.split(".", 1)[0].split("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def batch_lock(out: Path) -> AbstractContextManager[None]:
    """One render at a time per output directory (cron and a person may overlap)."""
    return exclusive(
        out / ".render.lock",
        f"another render is writing to {out}; wait for it to finish and run again",
    )


def result_lines(result: BatchResult) -> list[str]:
    """The failures and the outputs that could not be written, one line each."""
    return [f"error: {line}" for line in [*map(str, result.failures), *result.errors]]


def problems(result: BatchResult) -> str:
    """What went wrong in a batch, counted: "2 notebook(s) failed, 1 output not written"."""
    parts = [f"{len(result.failures)} notebook(s) failed"] if result.failures else []
    if result.errors:
        parts.append(f"{len(result.errors)} output(s) not written")
    return ", ".join(parts)


def summary(result: BatchResult) -> str:
    return (
        f"{len(result.rendered)} rendered, {len(result.skipped)} unchanged, "
        f"{len(result.failures)} failed in {result.seconds:.1f}s"
    )
