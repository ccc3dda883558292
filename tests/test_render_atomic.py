"""A full disk never costs a good report: every output is replaced atomically, the batch
stops starting notebooks whose outputs could not be written, and the failures (and the state)
are still written."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from review.pages import render as rendering
from review.pages.render import run as running
from review.settings.config import sample_snapshot
from tests.render_scenario import HOSTILE_TICKET, make_snapshot

pytestmark = pytest.mark.slow  # runs notebooks, kernels, JupyterLab or a browser

ROOT = Path(__file__).resolve().parent.parent
PARTIAL = b'{"cells": [{"cell_type": "code", "source": "rev'
RENDERED = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
FULL = f"OSError: [Errno {errno.ENOSPC}] {os.strerror(errno.ENOSPC)}"


def _disk_full_runner(job: rendering.Job) -> rendering.Failure | rendering.Staged:
    """The real run_job, in the worker, with papermill's save hitting a full disk for
    incidents 2 and 3 (after writing part of the notebook) and succeeding for others."""

    def execute(template: Path, output: Path, parameters: Any, cwd: Any = None) -> None:
        if job.ticket_id in (2, 3):
            output.write_bytes(PARTIAL)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        output.write_bytes(RENDERED)

    running.execute_notebook = execute  # type: ignore[assignment]  # this worker only
    return rendering.run_job(job)


def _job(out: Path, ticket: int) -> rendering.Job:
    return rendering.Job(
        name=f"incident {ticket}",
        template=out / "template.ipynb",
        output=out / "2026-10" / f"incident-{ticket}.ipynb",
        parameters={},
        fingerprint=f"new-{ticket}",
        html=False,
        ticket_id=ticket,
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """An output directory holding a good review of incident 2 (notebook and HTML)."""
    out = tmp_path / "reports"
    (out / "2026-10").mkdir(parents=True)
    (out / "2026-10" / "incident-2.ipynb").write_bytes(b"GOOD NOTEBOOK")
    (out / "2026-10" / "incident-2.html").write_bytes(b"GOOD HTML")
    rendering.write_state(out, {"2026-10/incident-2.ipynb": "old-2"})
    return out


def test_full_disk_keeps_the_good_review_and_the_written_ones(good: Path) -> None:
    jobs = [_job(good, t) for t in (2, 3, 4)]
    result = rendering.run_batch(jobs, good, workers=3, force=True, runner=_disk_full_runner)
    month = good / "2026-10"
    assert (month / "incident-2.ipynb").read_bytes() == b"GOOD NOTEBOOK"
    assert (month / "incident-2.html").read_bytes() == b"GOOD HTML"
    assert not (month / "incident-3.ipynb").exists()
    assert (month / "incident-4.ipynb").read_bytes() == RENDERED
    # nothing half written is kept (a cut notebook is no notebook), no temp file stays
    assert sorted(p.name for p in month.iterdir()) == [
        "incident-2.html", "incident-2.ipynb", "incident-4.ipynb"
    ]  # fmt: skip
    full = os.strerror(errno.ENOSPC)
    assert rendering.result_lines(result)[:2] == [
        f"error: incident 2: cannot write in {month} ({full})",
        f"error: incident 3: cannot write in {month} ({full})",
    ]
    # the state is written and true: 4 was rendered, 2 and 3 are tried again next time
    state = json.loads((good / rendering.STATE_FILE).read_text())
    assert state == {"2026-10/incident-4.ipynb": "new-4"}


def test_a_full_disk_stops_the_batch(good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Incident 2 meets a full disk while 4 renders beside it; 5 and 6 are never started:
    their outputs would be thrown away. The batch says how to go on."""
    gate = good / "gate"
    gate.mkdir()
    real_commit = running.commit

    def commit(out: Path, job: rendering.Job, outcome: Any, state: dict[str, str]) -> Any:
        found = real_commit(out, job, outcome, state)
        (gate / f"{job.ticket_id}-settled").touch()  # 4 ends only once 2's failure is known
        return found

    monkeypatch.setattr(running, "commit", commit)
    jobs = [_job(good, t) for t in (2, 4, 5, 6)]
    result = rendering.run_batch(jobs, good, workers=2, force=True, runner=_gated_runner)
    month = good / "2026-10"
    assert [j.ticket_id for j in result.rendered] == [4]
    assert [f.ticket_id for f in result.failures] == [2]
    assert [j.ticket_id for j in result.not_started] == [5, 6] and not result.ok
    assert not (month / "incident-5.ipynb").exists() and not (month / "incident-6.ipynb").exists()
    assert rendering.result_lines(result) == [
        f"error: incident 2: cannot write in {month} ({os.strerror(errno.ENOSPC)})",
        f"error: stopped: {month} cannot be written; free space there or give --out a "
        "directory you may write, and run the same command again (the 1 notebook(s) written "
        "are kept; 2 not started)",
    ]
    assert rendering.problems(result) == "1 notebook(s) failed, 2 not started"
    assert rendering.summary(result).startswith("1 rendered, 0 unchanged, 1 failed, 2 not started")
    state = json.loads((good / rendering.STATE_FILE).read_text())
    assert state == {"2026-10/incident-4.ipynb": "new-4"}


def _gated_runner(job: rendering.Job) -> rendering.Failure | rendering.Staged:
    """_disk_full_runner, with 4 ending only after the batch has settled 2."""
    if job.ticket_id == 4:
        settled = job.output.parent.parent / "gate" / "2-settled"
        deadline = time.monotonic() + 60
        while not settled.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return _disk_full_runner(job)


def test_a_killed_runs_temps_go_even_beside_notebooks_not_rendered_again(good: Path) -> None:
    """SIGKILL leaves `.incident-2.XXXX.ipynb` (and .html) beside the outputs; the next run
    rendered only what changed, so a current notebook's temps stayed for good."""
    left = [good / "2026-10" / ".incident-2.k1ll3d.ipynb", good / "2026-10" / ".incident-2.html.x"]
    for temp in left:
        temp.write_bytes(PARTIAL)
    current = replace(_job(good, 2), fingerprint="old-2")

    result = rendering.run_batch([current], good, workers=1, runner=_disk_full_runner)

    assert result.skipped == [current] and not result.rendered
    assert not any(temp.exists() for temp in left)
    assert (good / "2026-10" / "incident-2.ipynb").read_bytes() == b"GOOD NOTEBOOK"


def test_a_later_success_removes_the_partial_of_a_failed_run(good: Path) -> None:
    (good / "2026-10" / "incident-4.failed.ipynb").write_bytes(PARTIAL)
    result = rendering.run_batch([_job(good, 4)], good, workers=1, runner=_disk_full_runner)
    assert result.ok and not (good / "2026-10" / "incident-4.failed.ipynb").exists()


def test_state_and_index_on_a_full_disk_are_one_line_each_and_the_old_ones_stay(
    good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC surfacing at fsync (delayed allocation) while the parent writes its files."""
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    inputs = rendering.load_inputs(make_snapshot(tmp_path / "scenario"), None)
    (good / "index.html").write_bytes(b"GOOD INDEX")
    before = (good / rendering.STATE_FILE).read_bytes()

    real_fsync = os.fsync

    def full(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # file data; directories sync fine
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    jobs = [_job(good, t) for t in (3, 4)]
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full)
        result = rendering.run_batch(jobs, good, workers=2, force=True, runner=_disk_full_runner)
        rendering.write_index(good, inputs, result)
    assert (good / rendering.STATE_FILE).read_bytes() == before
    assert (good / "index.html").read_bytes() == b"GOOD INDEX"
    assert [p.name for p in good.rglob(".*") if p.name != rendering.STATE_FILE] == []
    full_disk = os.strerror(errno.ENOSPC)
    assert [f.ticket_id for f in result.failures] == [3]
    assert [j.ticket_id for j in result.rendered] == [4]
    assert len(rendering.result_lines(result)) == 4  # 3, the state, the index, the stop
    assert result.errors == [
        f"cannot record what was rendered in {good / rendering.STATE_FILE} ({full_disk}); "
        "the next render redoes those notebooks",
        f"cannot write {good / 'index.html'} ({full_disk}); the previous one stays",
    ]
    assert rendering.problems(result) == "1 notebook(s) failed, 2 output(s) not written"


# --------------------------------------------------------------------------- a real full disk


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (needs root and mount(8); skipped elsewhere)."""
    target = tmp_path / "tiny"
    target.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a tmpfs mount needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(target)], capture_output=True
    )
    if done.returncode:
        pytest.skip("mount is not allowed here")
    yield target
    subprocess.run(["umount", str(target)], check=True)


def _fill(directory: Path) -> None:
    """Fill the disk. Unbuffered: a last write that fits only in part leaves no bytes behind
    for the close to flush into the full disk (an OSError out of the `with`, whenever the
    outputs before left free space that is not a whole number of writes)."""
    with (directory / "filler").open("wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_render_force_on_a_real_full_disk(tiny_disk: Path, tmp_path: Path) -> None:
    snapshot = make_snapshot(tmp_path / "scenario")
    out = tiny_disk / "reports"
    command = [sys.executable, "-m", "review", "render", str(HOSTILE_TICKET), "--html"]
    command += ["--snapshot", str(snapshot), "--out", str(out), "--jobs", "1"]
    env = {**os.environ, "REVIEW_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    notebook = out / "2026-10" / f"incident-{HOSTILE_TICKET}.ipynb"
    good = {p: p.read_bytes() for p in (notebook, notebook.with_suffix(".html"))}
    index = (out / "index.html").read_text()
    _fill(tiny_disk)
    second = subprocess.run(
        [*command, "--force"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    lines = second.stderr.splitlines()
    assert lines[0].startswith(f"error: incident {HOSTILE_TICKET}: ")
    assert "No space left on device" in lines[0]
    assert lines[-1].startswith("error: 1 notebook(s) failed")
    assert {p: p.read_bytes() for p in good} == good  # the good review is untouched
    assert (out / "index.html").read_text() == index  # and still links to it
    assert f'href="2026-10/incident-{HOSTILE_TICKET}.html"' in index
    assert [
        p.name for p in out.rglob(".*") if p.name not in {".render-state.json", ".render.lock"}
    ] == []


# --------------------------------------------------------------------------- interrupts


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "Ctrl-C in a terminal (the whole process group)"],
)
def test_interrupted_render_stops_cleans_up_and_keeps_the_state_true(
    tmp_path: Path, sig: signal.Signals, group: bool
) -> None:
    out = tmp_path / "reports"
    env = {**os.environ, "REVIEW_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "review", "render", "--all", "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=group,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("*/incident-*.ipynb")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        below = _descendants(process.pid)  # the workers and their kernels
        assert below, "the workers are running"
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
        _, err = process.communicate(timeout=15)  # a bound on the wait, not a speed test
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Traceback" not in err
    present = {p.relative_to(out).as_posix() for p in out.glob("*/incident-*.ipynb")}
    assert err.splitlines()[-1].startswith(
        f"error: interrupted: {len(present)} notebook(s) finished and recorded, "
    )
    assert [p.name for p in out.rglob(".incident-*")] == []
    state = json.loads((out / rendering.STATE_FILE).read_text())
    assert present and set(state) == present
    incidents = rendering.load_inputs(sample_snapshot(), None).metrics_month
    assert len(present) < len(incidents)  # it stopped before the end
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in below if _alive(pid)] == []  # no worker or kernel left behind
