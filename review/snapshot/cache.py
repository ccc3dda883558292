"""The parsed snapshot on disk: parquet, one directory per month part, so a month is read alone.

Under the cache directory:

    segments/KEY/            one stretch of the JSON files parsed (a month's part, or a whole
                             snapshot written before parts), KEY from its checksums
        segment.json         its months, problems and custom-field names
        MONTH/               the frames of the tickets last updated in MONTH (UTC):
            tickets.parquet transactions.parquet watchers.parquet custom_fields.parquet
            links.parquet messages.parquet (the message bodies, read only for a review)
            refs.parquet (the user and queue names and ids it mentions), moves.parquet (its
            status and Set transactions: what the survey of the whole snapshot reads)
    snapshots/KEY/           one snapshot: which segments, its queues, users and problems
        catalog.json queues.parquet users.parquet

A snapshot pulled again shares every segment whose month did not change with the one before,
so only the new month is parsed. Every directory is written beside its place and renamed in,
so a reader sees it whole or not at all; a cache that cannot be written is only slower.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from review.settings.config import CACHE_ENV
from review.snapshot.frames import Problem

CACHE_LAYOUT = 7  # bump when the cached frames change shape or place
PER_TICKET = ("tickets", "transactions", "watchers", "custom_fields", "links")
SHARED = ("queues", "users", "field_names")
MESSAGES = "messages"  # ticket_id, txn_id, data: RT's Data, the text of each transaction
REFS = "refs"  # value: every value of a part that may name a user or a queue (a derived key's)
MOVES = "moves"  # the part's transactions the survey of a whole snapshot reads (status, Set)
STAGING = ".tmp-"  # in a directory's name: one being written (then renamed into place) by a pid
# what makes a cache one cannot write: a full disk or quota, no permission, a read-only file
# system, a file where a directory should be (any other OSError is a fault, not the disk)
UNWRITABLE = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR,
     errno.EISDIR}
)  # fmt: skip
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def how_to_write(exc: OSError) -> str:
    """How to fix a cache that cannot be written (`exc`'s errno is in UNWRITABLE)."""
    free = "free space there, or " if exc.errno in _FULL else ""
    return f"{free}give {CACHE_ENV} or [paths] cache a directory you may write"


@dataclass(frozen=True)
class Part:
    """The frames of the tickets of one segment last updated in one month."""

    key: str  # SEGMENT/MONTH: the same bytes parsed give the same key
    month: str
    directory: Path
    tickets: int
    transactions: int
    held: Mapping[str, pd.DataFrame] | None = field(default=None, compare=False, repr=False)

    def path(self, frame: str) -> Path:
        return file_of(self.directory, frame)

    def whole(self) -> bool:
        """Whether every file of the part is there (a cache someone pruned by hand is not)."""
        names = (*PER_TICKET, MESSAGES, REFS, MOVES)
        return self.held is not None or all(self.path(name).is_file() for name in names)

    def read(
        self,
        frame: str,
        columns: list[str] | None = None,
        ticket_ids: Iterable[int] | None = None,
        filters: list[tuple[str, str, Any]] | None = None,
    ) -> pd.DataFrame:
        """One frame of this part (only `columns`, only rows of `ticket_ids` when given);
        from memory when the part is `held` there (a snapshot read without a cache).
        `filters` (column, "in", values) keep the rows whose column holds one of values."""
        every = list(filters or [])
        if ticket_ids is not None:
            every.append(("ticket_id", "in", sorted(set(ticket_ids))))
        if self.held is None:
            found: pd.DataFrame = pd.read_parquet(
                self.path(frame), columns=columns, filters=every or None
            )
            return found
        rows = self.held[frame]
        for column, _, values in every:
            rows = rows.loc[rows[column].isin(values)]
        return (rows if columns is None else rows[columns]).reset_index(drop=True)


# no dictionary pages in the cache's files: building them was a third of a part's write time,
# and snappy compresses the repeated names and statuses nearly as well (7 % more bytes)
DICTIONARY = False


def file_of(directory: Path, frame: str) -> Path:
    """Where a frame is kept in a directory of the cache (a file, or a directory of them)."""
    return directory / f"{frame}.parquet"


def write_frames(directory: Path, frames: Mapping[str, pd.DataFrame]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.reset_index(drop=True).to_parquet(
            file_of(directory, name),
            index=False,
            write_statistics=counted(frame),
            use_dictionary=DICTIONARY,
        )


def counted(frame: pd.DataFrame) -> list[str]:
    """The columns whose statistics parquet keeps: numbers and times, which a read filters on
    (ticket_id); the min and max of text columns, never read, were half a part's write time."""
    return [
        str(name)
        for name, dtype in frame.dtypes.items()
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
    ]


def staging_for(target: Path) -> Path:
    """A fresh directory beside `target` to fill and then `publish`."""
    staging = target.with_name(f".{target.name}{STAGING}{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def clear_leftovers(directory: Path) -> None:
    """Remove the staging directories a killed run left in `directory` (its process gone,
    and nothing written there for an hour): at a million tickets one holds gigabytes."""
    settled = time.time() - 3600
    for entry in directory.iterdir() if directory.is_dir() else ():
        owner = entry.name.rpartition(STAGING)[2]
        dead = STAGING in entry.name and owner.isdigit() and not _running(int(owner))
        if dead and entry.stat().st_mtime < settled:
            shutil.rmtree(entry, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def publish(staging: Path, target: Path) -> None:
    """Rename a filled staging directory into place (a complete one already there wins)."""
    (staging / "done").write_text("")
    try:
        if target.exists() and not (target / "done").is_file():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process put it there first
        if not (target / "done").is_file():
            raise


def done(directory: Path) -> bool:
    return (directory / "done").is_file()


def problems_to_json(problems: Iterable[Problem]) -> list[list[Any]]:
    return [[p.file, p.line, p.message] for p in problems]


def problems_from_json(rows: Iterable[list[Any]]) -> list[Problem]:
    return [Problem(*row) for row in rows]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value))


def segment_parts(directory: Path, key: str, about: Mapping[str, Any]) -> list[Part]:
    """The month parts of a parsed segment, in month order."""
    return [
        Part(
            key=f"{key}/{month['month']}",
            month=month["month"],
            directory=directory / (month["month"] or "none"),
            tickets=month["tickets"],
            transactions=month["transactions"],
        )
        for month in about["months"]
    ]


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of several parts as one (the first's columns when all are empty)."""
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0].iloc[0:0] if frames else pd.DataFrame()
    if len(filled) == 1:
        return filled[0].reset_index(drop=True)
    return pd.concat(filled, ignore_index=True)


def read_files(
    paths: Iterable[Path], columns: list[str] | None = None, ticket_ids: Iterable[int] | None = None
) -> tuple[pd.DataFrame, list[int]]:
    """The frames in these parquet files as one (as `concat` of each one's read gives it), and
    each file's number of rows: made into pandas once, not once a file (a read of every month's
    part of a decade was mostly what each file costs), when their columns are typed alike."""
    filters = None if ticket_ids is None else [("ticket_id", "in", sorted(set(ticket_ids)))]
    tables = [
        pq.read_table(path, columns=columns, filters=filters, use_pandas_metadata=True)
        for path in paths
    ]
    rows = [table.num_rows for table in tables]
    filled = [table for table in tables if table.num_rows]
    alike = all(t.schema.equals(filled[0].schema, check_metadata=True) for t in filled[1:])
    if len(filled) > 1 and alike:
        return pa.concat_tables(filled).to_pandas(), rows
    return concat([table.to_pandas() for table in tables]), rows


def prune(cache: Path, keep: Path, snapshot_path: str) -> None:
    """Drop the other catalogs of this snapshot directory, then every segment no catalog uses."""
    catalogs = cache / "snapshots"
    used: set[str] = set()
    for other in catalogs.iterdir() if catalogs.is_dir() else ():
        try:
            about = read_json(other / "catalog.json")
        except (OSError, ValueError):
            continue
        being_written = STAGING in other.name  # by another run: not this one's to remove
        if other != keep and not being_written and about.get("path") == snapshot_path:
            shutil.rmtree(other, ignore_errors=True)
            continue
        used.update(about.get("segments", []))
    segments = cache / "segments"
    clear_leftovers(catalogs)
    clear_leftovers(segments)
    settled = time.time() - 3600  # a segment this young may be for a catalog still being made
    for segment in segments.iterdir() if segments.is_dir() else ():
        if segment.name not in used and done(segment) and segment.stat().st_mtime < settled:
            shutil.rmtree(segment, ignore_errors=True)
