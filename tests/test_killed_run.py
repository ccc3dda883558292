"""A derive killed midway (kill -9, the out-of-memory killer): the next run gives the same
frames, and what the killed one left half written is removed once it is surely dead."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from review import context
from review.settings.config import load_config, sample_snapshot
from review.snapshot.cache import STAGING

ROOT = Path(__file__).resolve().parents[1]
DERIVE = "from review import context; from review.settings.config import load_config, "
DERIVE += "sample_snapshot; c = load_config(None); p = sample_snapshot(); "
DERIVE += "context.derive_into(context.derived_dir(p, c), p, None, c)"


def staged(cache: Path, where: str = "*") -> list[Path]:
    return [p for p in cache.glob(f"{where}/*") if STAGING in p.name]


def frames(directory: Path) -> dict[str, pd.DataFrame]:
    return {str(f.relative_to(directory)): pd.read_parquet(f) for f in directory.rglob("*.parquet")}


def a_dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


@pytest.mark.slow
def test_a_derive_killed_midway_leaves_no_wrong_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "REVIEW_CACHE_DIR": str(cache), "REVIEW_WORKERS": "1"}
    child = subprocess.Popen([sys.executable, "-c", DERIVE], cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while not staged(cache, "derived*") and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)  # the parse is done; the derive is writing its frames
    assert staged(cache, "derived*"), "the derive finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = staged(cache)
    assert left  # half written, and not renamed into place
    assert not list(cache.glob("derived/*/done"))

    monkeypatch.setenv("REVIEW_CACHE_DIR", str(cache))
    config = load_config(None)
    target = context.derive_into(context.derived_dir(sample_snapshot(), config),
                                 sample_snapshot(), None, config)  # fmt: skip
    again = frames(target)
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "clean"))
    clean = context.derive_into(context.derived_dir(sample_snapshot(), config),
                                sample_snapshot(), None, config)  # fmt: skip
    expected = frames(clean)
    assert sorted(again) == sorted(expected) and len(expected) > 40
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(again[name], frame, obj=name)
    # the killed run's pid is gone, but its directories are young: kept for now
    assert [p for p in left if p.exists()] == left


def test_what_a_dead_run_left_is_removed_after_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(cache))
    dead, alive = a_dead_pid(), os.getppid()
    hour_ago = time.time() - 3700
    made = {}
    for where in ("segments", "snapshots", "derived"):
        for name, pid, when in (
            ("old-dead", dead, hour_ago),  # a killed run's: removed
            ("young-dead", dead, time.time()),  # perhaps a run on another machine: kept
            ("old-alive", alive, hour_ago),  # a run still going: kept
        ):
            leftover = cache / where / f".{name}{STAGING}{pid}"
            (leftover / "2026-01").mkdir(parents=True)
            (leftover / "2026-01" / "transactions.parquet").write_bytes(b"half")
            os.utime(leftover, (when, when))
            made[where, name] = leftover
    config = load_config(None)
    context.derive_into(context.derived_dir(sample_snapshot(), config), sample_snapshot(),
                        None, config)  # fmt: skip
    gone = {key for key, path in made.items() if not path.exists()}
    assert gone == {("segments", "old-dead"), ("snapshots", "old-dead"), ("derived", "old-dead")}


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether the process runs (a zombie has ended: whoever adopted it may not reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_with_a_killed_parent() -> None:
    """A run killed with SIGKILL (cron's timeout, the out-of-memory killer) leaves no worker
    behind: each held its job queue's both ends and waited for work for ever (and a render
    worker its kernel), one more set after every killed monthly run."""
    parent = subprocess.Popen(
        [sys.executable, "-c", "import functools, time; from review.workers import run_all; "
         "run_all([functools.partial(time.sleep, 600)] * 2, 2)"],
        cwd=ROOT,
    )  # fmt: skip
    workers: set[int] = set()
    for _ in range(600):  # both workers started (spawning takes a second or two)
        workers = _children(parent.pid)
        if len(workers) == 2:
            break
        time.sleep(0.1)
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    alive = workers
    for _ in range(600):  # each notices within moments: a minute is only a bound
        alive = {pid for pid in workers if _running(pid)}
        if not alive:
            break
        time.sleep(0.1)
    assert alive == set()


def test_a_worker_that_dies_is_one_line_and_its_pool_not_used_again() -> None:
    """A worker killed (the out-of-memory killer) or never started (a script without
    `if __name__ == "__main__":`) was a BrokenProcessPool traceback."""
    from review import workers
    from review.errors import ReviewError

    with pytest.raises(ReviewError) as raised:
        workers.run_all([functools.partial(os._exit, 3)] * 2, 2)
    assert str(raised.value).startswith("a worker process ended before its work was done")
    assert "REVIEW_WORKERS=1" in str(raised.value)
    assert workers.run_all([functools.partial(abs, -2)] * 2, 2) == [2, 2]  # a new pool
    workers.shutdown()


def test_workers_share_the_cores_with_arrow() -> None:
    """Each of two workers gives Arrow half the cores (at least one): Arrow's own threads
    beside a second busy worker spent a third more CPU on the same parse."""
    import pyarrow

    from review import workers

    cores, own = len(os.sched_getaffinity(0)), pyarrow.cpu_count()
    try:
        found = workers.run_all([pyarrow.cpu_count] * 2, 2)
    finally:
        workers.shutdown()
    assert found == [max(1, cores // 2)] * 2
    assert pyarrow.cpu_count() == own  # this process keeps its own
