"""One run at a time: an advisory lock file per job and directory (cron and a person overlap).

A second run that finds the lock held stops at once with one line; the lock goes away with
the process that held it, also when it is killed, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from review.errors import ReviewError


@contextmanager
def exclusive(lock_file: Path, busy: str) -> Iterator[None]:
    """Hold `lock_file` (made with its directory when missing) for the block; `busy` is the
    error when another process holds it."""
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_file.open("a")
    except OSError as exc:
        raise ReviewError(f"cannot write to {lock_file.parent}: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReviewError(busy) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
