"""Independent jobs run in worker processes: the month parts of a snapshot parsed or derived
side by side on a machine's cores, each with its own memory (bounded by one job's)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from review.errors import ReviewError

WORKERS_ENV = "REVIEW_WORKERS"  # how many processes (default: up to 2, one per core)
Result = TypeVar("Result")


def workers() -> int:
    """The worker processes to use: REVIEW_WORKERS, else the cores this process may use, at
    most 2 (each holds a job's frames: memory grows with the count)."""
    given = os.environ.get(WORKERS_ENV, "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return min(2, len(os.sched_getaffinity(0)))


def run_all(jobs: Sequence[Callable[[], Result]], count: int | None = None) -> list[Result]:
    """Every job's result, in order; in worker processes when there is more than one job
    and more than one worker. The workers are spawned (no thread of this process is copied
    into them) once and kept for the next call: parsing and deriving share them."""
    count = min(count or workers(), len(jobs))
    if count <= 1:
        return [job() for job in jobs]
    pool = _pool(count)
    try:
        return [future.result() for future in [pool.submit(job) for job in jobs]]
    except BrokenProcessPool:
        _POOLS.pop(count, None)  # a worker died: the pool is not used again
        raise ReviewError(
            "a worker process ended before its work was done (killed, out of memory, or "
            'started by a script that calls the kit without `if __name__ == "__main__":`, '
            f"which each worker runs again); run again, with {WORKERS_ENV}=1 to work in this "
            "one process (less memory)"
        ) from None


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(count: int) -> ProcessPoolExecutor:
    if count not in _POOLS:
        context = multiprocessing.get_context("spawn")
        _POOLS[count] = ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_start_worker, initargs=(count,)
        )
    return _POOLS[count]


def _start_worker(count: int) -> None:
    """A worker's set-up: it ends with its parent, and Arrow's threads in it share the cores
    with the other workers (Arrow's own threads spend a third more CPU on a parse where the
    workers already keep the cores busy: benchmarks/README.md)."""
    import pyarrow

    pyarrow.set_cpu_count(max(1, len(os.sched_getaffinity(0)) // count))
    end_with_parent()


def end_with_parent() -> None:
    """In a worker process: end it (SIGTERM: a render worker shuts its kernel down) once the
    process that started it is gone, even killed with SIGKILL. A pool's worker holds both
    ends of its job queue, so it never sees the parent go: it would wait for work for ever,
    with its kernel, after every killed cron run."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def shutdown() -> None:
    """End the kept workers (they end with this process anyway)."""
    while _POOLS:
        _POOLS.popitem()[1].shutdown()
