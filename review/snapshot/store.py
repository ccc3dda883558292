"""Write snapshots atomically: beside the old one, swapped in by renames under a lock.

If anything fails before the swap, the previous snapshot is untouched; a process
killed mid-swap is repaired by `recover_snapshot`, which every write and open calls.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from review.errors import SnapshotError
from review.snapshot.layout import (
    DATA_FILES,
    FOLLOWUPS,
    FORMAT,
    MANIFEST,
    PARTED,
    QUEUES,
    TICKETS,
    TRANSACTIONS,
    USERS,
    month_of,
)


def _line(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"


class _ByMonth:
    """The lines of one data file gathered by month in scratch files, then written month
    after month into the file, each month's offset, length and checksum noted as a part."""

    def __init__(self, scratch: Path, name: str) -> None:
        self.scratch, self.name = scratch, name
        self.files: dict[str, BinaryIO] = {}
        self.sums: dict[str, Any] = {}
        self.rows: dict[str, int] = {}
        self.lengths: dict[str, int] = {}

    def add(self, month: str, line: bytes) -> None:
        if month not in self.files:
            self.files[month] = (self.scratch / f"{self.name}.{month or 'none'}").open("wb")
            self.sums[month] = hashlib.sha256()
            self.rows[month], self.lengths[month] = 0, 0
        self.files[month].write(line)
        self.sums[month].update(line)
        self.rows[month] += 1
        self.lengths[month] += len(line)

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()

    def finish(self, target: Path, months: list[str]) -> tuple[int, str, list[dict[str, Any]]]:
        """Write the file: (rows, sha256, parts), parts in `months` order (empty ones too)."""
        self.close()
        whole, parts, offset = hashlib.sha256(), [], 0
        with target.open("wb") as out:
            for month in months:
                if month in self.files:
                    scratch = self.scratch / f"{self.name}.{month or 'none'}"
                    with scratch.open("rb") as handle:
                        while block := handle.read(1 << 22):
                            whole.update(block)
                            out.write(block)
                    scratch.unlink()
                length = self.lengths.get(month, 0)
                empty = hashlib.sha256().hexdigest()
                parts.append(
                    {
                        "month": month,
                        "offset": offset,
                        "length": length,
                        "rows": self.rows.get(month, 0),
                        "sha256": self.sums[month].hexdigest() if month in self.sums else empty,
                    }
                )
                offset += length
        return sum(self.rows.values()), whole.hexdigest(), parts


def _write_lines(path: Path, objects: Iterable[Mapping[str, Any]]) -> tuple[int, str]:
    """Write objects as JSON lines: (rows, sha256)."""
    digest, rows = hashlib.sha256(), 0
    with path.open("wb") as out:
        for obj in objects:
            line = _line(obj)
            digest.update(line)
            out.write(line)
            rows += 1
    return rows, digest.hexdigest()


def _write_parted(
    staging: Path, lines: Iterable[tuple[str, str, bytes]]
) -> tuple[dict[str, int], dict[str, str], dict[str, list[dict[str, Any]]]]:
    """tickets.jsonl and transactions.jsonl from (file, month, line) rows, by month."""
    scratch = staging / ".scratch"
    scratch.mkdir()
    by_month = {name: _ByMonth(scratch, name) for name in PARTED}
    try:
        for name, month, line in lines:
            by_month[name].add(month, line)
        used = {m for grouped in by_month.values() for m in grouped.files}
        order = sorted(used - {""}) + [m for m in ("",) if m in used]  # '' (no date) last
        counts: dict[str, int] = {}
        sums: dict[str, str] = {}
        parts: dict[str, list[dict[str, Any]]] = {}
        for name, grouped in by_month.items():
            counts[name], sums[name], parts[name] = grouped.finish(staging / name, order)
    finally:
        for grouped in by_month.values():
            grouped.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return counts, sums, parts


def _by_month(
    tickets: Iterable[Mapping[str, Any]], transactions: Iterable[Mapping[str, Any]]
) -> Iterator[tuple[str, str, bytes]]:
    """Each ticket in its month (layout.month_of), each transaction of a ticket with it, any
    other (another object's, or of a ticket not given) in month ''."""
    months: dict[str, str] = {}
    for ticket in tickets:
        month = month_of(ticket)
        months.setdefault(str(ticket.get("id")), month)
        yield TICKETS, month, _line(ticket)
    for txn in transactions:
        is_ticket = txn.get("ObjectType", "RT::Ticket") == "RT::Ticket"
        month = months.get(str(txn.get("ObjectId")), "") if is_ticket else ""
        yield TRANSACTIONS, month, _line(txn)


def write_snapshot(
    directory: str | os.PathLike[str],
    tickets: Iterable[Mapping[str, Any]],
    transactions: Iterable[Mapping[str, Any]],
    queues: Iterable[Mapping[str, Any]],
    users: Iterable[Mapping[str, Any]],
    *,
    source: str,
    query: str,
    pulled_at: str,
    followups: Iterable[Mapping[str, Any]] | None = None,
    coverage: Mapping[str, Any] | None = None,
) -> Path:
    """Write a complete snapshot beside `directory`, then swap it in.

    If anything fails before the swap, the previous snapshot is untouched. A
    directory that is neither absent, empty nor a snapshot is refused (see
    `snapshot_target`); a symlink stays a symlink and its target is replaced.
    `source` must not hold credentials; it is written to the manifest as given.
    `coverage` (since, until, queues, closed_in_window, opened_in_window) says
    which tickets the snapshot holds all of. The objects are streamed to disk (memory
    does not grow with the snapshot); tickets and transactions are written by month,
    each month's part noted in the manifest, so a reader can take one month alone.
    """
    return write_snapshot_lines(
        directory, _by_month(tickets, transactions), queues, users, source=source, query=query,
        pulled_at=pulled_at, followups=followups, coverage=coverage,
    )  # fmt: skip


def write_snapshot_lines(
    directory: str | os.PathLike[str],
    lines: Iterable[tuple[str, str, bytes]],
    queues: Iterable[Mapping[str, Any]],
    users: Iterable[Mapping[str, Any]],
    *,
    source: str,
    query: str,
    pulled_at: str,
    followups: Iterable[Mapping[str, Any]] | None = None,
    coverage: Mapping[str, Any] | None = None,
) -> Path:
    """`write_snapshot` for a writer that holds the JSON lines of tickets and transactions
    already: (tickets.jsonl or transactions.jsonl, month, line) rows, each ticket's month
    as layout.month_of gives it and each transaction in its ticket's."""
    target = snapshot_target(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_snapshot(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", dir=target.parent))
    # mkdtemp makes 0700, kept: a snapshot holds ticket text (review.private)
    try:
        counts, sums, parts = _write_parted(staging, lines)
        for name, objects in ((QUEUES, queues), (USERS, users), (FOLLOWUPS, followups)):
            if objects is not None:  # followups: the follow-up queue, when pulled
                counts[name], sums[name] = _write_lines(staging / name, objects)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "source": source,
            "query": query,
            "pulled_at": pulled_at,
            "counts": counts,
            "sha256": sums,
            "parts": parts,
        }
        if coverage is not None:
            manifest["coverage"] = dict(coverage)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        with _swap_lock(target.parent):
            snapshot_target(directory)  # still ours: nothing was put there meanwhile
            _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def snapshot_target(directory: str | os.PathLike[str]) -> Path:
    """The real directory a snapshot at `directory` is written to, if it may be replaced.

    It may when it is absent, empty or a snapshot this kit wrote (manifest.json and
    the data files, nothing else); anything else is refused, so a mistyped
    ``--snapshot`` never deletes a user's files. A symlink is followed: its target is
    replaced and the link stays.
    """
    given = Path(directory)
    real = Path(os.path.realpath(given))
    if real == real.parent:
        raise SnapshotError(
            "cannot hold a snapshot (it is the filesystem root): give --snapshot a new directory",
            str(given),
        )
    try:
        entries = sorted(os.listdir(real)) if real.is_dir() else None
    except OSError as exc:
        raise SnapshotError(
            f"cannot be read ({exc.strerror}): give --snapshot a directory you may write",
            str(given),
        ) from None
    if entries is None and os.path.lexists(real):
        raise SnapshotError(
            "is a file, not a snapshot directory: give --snapshot a new or empty directory",
            str(given),
        )
    if entries and not _is_snapshot(real, entries):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise SnapshotError(
            f"holds files that are not a snapshot ({shown}); refusing to replace it: "
            "give --snapshot a new or empty directory",
            str(given),
        )
    return real


def _is_snapshot(directory: Path, entries: list[str]) -> bool:
    """Whether a directory holds exactly what `write_snapshot` writes, with its manifest."""
    if MANIFEST not in entries or not set(entries) <= {MANIFEST, FOLLOWUPS, *DATA_FILES}:
        return False
    try:
        manifest = json.loads((directory / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"format", "pulled_at", "sha256"} <= manifest.keys()


@contextmanager
def _swap_lock(parent: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock that serialises swaps (and their repair) in `parent`.

    An flock on the directory itself: no lock file to leave behind, and the
    kernel releases it when a process dies. Yields False if `wait` is off and
    another process holds it.
    """
    handle = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)


def recover_snapshot(directory: str | os.PathLike[str]) -> None:
    """Repair what an interrupted write left beside a snapshot; cheap when there is nothing.

    A process killed between the two renames of a swap leaves the previous
    snapshot only as ``.NAME.old-PID``: it is put back. Retired copies and the
    staging directories of dead writers are removed. Called by every write and
    every open of a snapshot.
    """
    target = Path(os.path.realpath(directory))
    if target == target.parent:
        return
    if not _leftovers(target):
        return
    try:
        with _swap_lock(target.parent, wait=not target.exists()) as locked:
            if locked:
                _recover_leftovers(target)
    except OSError as exc:
        retired = _leftovers(target)
        if not target.exists() and retired:
            raise SnapshotError(
                f"was left aside by an interrupted pull as {retired[-1].name} and cannot be put "
                f"back ({exc.strerror}): rename it back to {target.name}",
                str(target),
            ) from None


def _leftovers(target: Path) -> list[Path]:
    """Retired copies (oldest first) and staging directories beside `target`."""
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    retired = [target.parent / n for n in names if n.startswith(f".{target.name}.old-")]
    staging = [target.parent / n for n in names if n.startswith(f".{target.name}.new-")]
    return sorted(retired, key=lambda p: p.stat().st_mtime) + staging


def _recover_leftovers(target: Path) -> None:
    """Put a retired snapshot back if `target` is missing; remove what dead writers left.

    Runs under the swap lock, so no live swap is half done. A staging directory
    carries its writer's PID and stays while that process runs.
    """
    names = [p.name for p in _leftovers(target)]
    retired = [target.parent / n for n in names if n.startswith(f".{target.name}.old-")]
    if retired and not os.path.lexists(target):
        os.replace(retired.pop(), target)
    staging = [
        target.parent / n
        for n in names
        if n.startswith(f".{target.name}.new-") and not _alive(n[len(target.name) + 6 :])
    ]
    for stale in [*retired, *staging]:
        shutil.rmtree(stale, ignore_errors=True)


def _alive(suffix: str) -> bool:
    """Whether the process whose PID starts `suffix` ("PID-random") still runs."""
    pid = suffix.split("-", 1)[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def _swap_in(staging: Path, target: Path) -> None:
    """Replace `target` by `staging` with renames only, so a crash leaves one of the two whole."""
    if not target.exists():
        os.replace(staging, target)
        return
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All objects of one JSON-lines file (for small files: tests, merging pulls)."""
    with path.open("rb") as handle:
        return [json.loads(line) for line in handle if line.strip()]
