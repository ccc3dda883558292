"""Read, validate and write raw snapshots: RT's own REST2 JSON, one object per line.

A snapshot directory holds tickets.jsonl, transactions.jsonl, queues.jsonl,
users.jsonl and manifest.json. It is immutable input: written once (atomically,
beside the old one and swapped in) and only ever read afterwards. Reading
flattens it into tidy frames and keeps a parquet copy keyed by the files'
checksums, so the next read skips JSON parsing.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from review.errors import SnapshotError
from review.snapshot.fingerprint import snapshot_key

FORMAT = 1
TICKETS, TRANSACTIONS, QUEUES, USERS = (
    "tickets.jsonl",
    "transactions.jsonl",
    "queues.jsonl",
    "users.jsonl",
)
DATA_FILES = (TICKETS, TRANSACTIONS, QUEUES, USERS)
MANIFEST = "manifest.json"
FOLLOWUPS = "followups.jsonl"  # optional: the follow-up tickets, not incidents
UNSET_DATE = "1970-01-01T00:00:00Z"
CACHE_LAYOUT = 2  # bump when the flattened tables change shape

_REF = pa.struct([("id", pa.string())])
_REFS = pa.list_(_REF)
_SCHEMAS: dict[str, pa.Schema] = {
    TICKETS: pa.schema(
        [
            ("id", pa.int64()),
            ("Subject", pa.string()),
            ("Status", pa.string()),
            ("SLA", pa.string()),  # RT's service level; absent in older pulls
            ("Queue", _REF),
            ("Owner", _REF),
            ("Creator", _REF),
            ("EffectiveId", _REF),
            ("Requestor", _REFS),
            ("Cc", _REFS),
            ("AdminCc", _REFS),
            ("Created", pa.string()),
            ("Started", pa.string()),
            ("Resolved", pa.string()),
            ("LastUpdated", pa.string()),
            (
                "CustomFields",
                pa.list_(
                    pa.struct(
                        [
                            ("id", pa.string()),
                            ("name", pa.string()),
                            ("values", pa.list_(pa.string())),
                        ]
                    )
                ),
            ),
            (
                "_hyperlinks",
                pa.list_(
                    pa.struct([("ref", pa.string()), ("type", pa.string()), ("_url", pa.string())])
                ),
            ),
        ]
    ),
    TRANSACTIONS: pa.schema(
        [
            ("id", pa.string()),
            ("ObjectType", pa.string()),
            ("ObjectId", pa.string()),
            ("Type", pa.string()),
            ("Field", pa.string()),
            ("OldValue", pa.string()),
            ("NewValue", pa.string()),
            ("Created", pa.string()),
            ("Creator", _REF),
            ("Data", pa.string()),
        ]
    ),
    QUEUES: pa.schema([("id", pa.int64()), ("Name", pa.string())]),
    USERS: pa.schema(
        [
            ("id", pa.int64()),
            ("Name", pa.string()),
            ("EmailAddress", pa.string()),
            ("RealName", pa.string()),
            ("Privileged", pa.int64()),
        ]
    ),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    TICKETS: ("id", "Status", "Queue", "Created"),
    TRANSACTIONS: ("id", "ObjectId", "Type", "Created", "Creator"),
    QUEUES: ("id", "Name"),
    USERS: ("id", "Name"),
}
_NOT_UTF8 = "not UTF-8 text (RT writes UTF-8): the file was altered; pull the snapshot again"
_REPULL = "the file was not written by `review pull` or was altered: pull the snapshot again"
_NOT_AN_OBJECT = re.compile(rb"(?m)^[ \t\r]*[^{\s]")  # a line that does not start an object
_LINE_NOT_AN_OBJECT = re.compile(rb"\n[^{]")
_WHAT = {TICKETS: "ticket", TRANSACTIONS: "transaction", QUEUES: "queue", USERS: "user"}
_LINK_REFS = ("depends-on", "depended-on-by", "parent", "child", "refers-to", "referred-to-by")


@dataclass(frozen=True)
class Problem:
    """Something wrong in one line of a snapshot file; the row was left out."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.message}"
            if self.line
            else f"{self.file}: {self.message}"
        )


@dataclass(frozen=True)
class Coverage:
    """What a pull copied, from manifest.json's "coverage" (see CONTRACTS: written by the pull).

    Every ticket of `queues` that reached an inactive status in [since, until) is in the
    snapshot when `closed_in_window`, and every ticket created then when `opened_in_window`.
    """

    since: pd.Timestamp  # UTC, inclusive
    until: pd.Timestamp  # UTC, exclusive
    queues: tuple[str, ...]
    closed_in_window: bool
    opened_in_window: bool
    pulled_at: pd.Timestamp | None = None  # nothing after the pull can be in the snapshot

    @property
    def end(self) -> pd.Timestamp:
        """Where what the snapshot holds ends: `until`, or the pull's time if that is earlier."""
        return min(self.until, self.pulled_at) if self.pulled_at is not None else self.until

    def __str__(self) -> str:
        return f"{self.since:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


def covers(coverage: Coverage | None, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether every ticket opened in [start, end) is in the snapshot (None covers nothing)."""
    return (
        coverage is not None
        and coverage.opened_in_window
        and coverage.since <= start
        and end <= coverage.end
    )


def coverage_of(manifest: Mapping[str, Any], path: Path) -> Coverage | None:
    """The parsed "coverage" of a manifest; None for pulls that did not record one."""
    raw = manifest.get("coverage")
    if raw is None:
        return None

    def bad(what: str) -> SnapshotError:
        return SnapshotError(
            f"coverage.{what}; the manifest was altered: pull the snapshot again", str(path)
        )

    if not isinstance(raw, dict):
        raise bad("is not a table")
    stamps = {}
    for key in ("since", "until"):
        try:
            stamps[key] = pd.Timestamp(datetime.fromisoformat(raw[key])).tz_convert("UTC")
        except (KeyError, TypeError, ValueError):
            raise bad(f"{key} must be a UTC time like 2026-08-01T00:00:00Z") from None
    queues = raw.get("queues")
    if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
        raise bad("queues must be a list of queue names")
    flags = {key: raw.get(key) for key in ("closed_in_window", "opened_in_window")}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise bad(f"{key} must be true or false")
    if stamps["until"] <= stamps["since"]:
        raise bad("until must be later than since")
    return Coverage(
        since=stamps["since"],
        until=stamps["until"],
        queues=tuple(queues),
        closed_in_window=bool(flags["closed_in_window"]),
        opened_in_window=bool(flags["opened_in_window"]),
        pulled_at=_utc(manifest.get("pulled_at")),
    )


def _utc(value: Any) -> pd.Timestamp | None:
    """An ISO 8601 time with a zone as a UTC timestamp; None if it is not one."""
    stamp = pd.to_datetime(str(value), utc=True, errors="coerce")
    return None if pd.isna(stamp) else stamp


@dataclass
class Snapshot:
    """A snapshot flattened into frames, one fact per row.

    tickets: ticket_id, subject, status, queue, owner, creator, effective_id,
             created, started, resolved, last_updated (UTC timestamps; unset dates are NaT)
    transactions: txn_id, ticket_id, type, field, old, new, created, creator, data
    watchers: ticket_id, role (Requestor|Cc|AdminCc), user   (the watchers now, not at the time)
    custom_fields: ticket_id, field_id, field, value          (one row per value)
    field_names: field_id, field                              (every custom field seen on a ticket)
    links: ticket_id, ref (refers-to, depends-on, ...), target (ticket id or URL), external
    queues: queue_id (str), name;  users: user_id (str), name, email, real_name, privileged
    """

    path: Path
    manifest: dict[str, Any]
    tickets: pd.DataFrame
    transactions: pd.DataFrame
    watchers: pd.DataFrame
    custom_fields: pd.DataFrame
    field_names: pd.DataFrame
    links: pd.DataFrame
    queues: pd.DataFrame
    users: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def coverage(self) -> Coverage | None:
        """The window, queues and kinds of ticket the pull copied; None if not recorded."""
        return coverage_of(self.manifest, self.path / MANIFEST)

    @property
    def pulled_at(self) -> pd.Timestamp | None:
        """When the pull ran: "now" for incidents still open (reproducible, not the wall clock)."""
        return _utc(self.manifest.get("pulled_at"))

    def around(self, ticket_ids: Iterable[int]) -> Snapshot:
        """The part about these tickets and the tickets they link to (one incident's review)."""
        wanted = set(ticket_ids)
        links = self.links
        linked = links.loc[links["ticket_id"].isin(wanted) & ~links["external"], "target"]
        keep = wanted | set(pd.to_numeric(linked, errors="coerce").dropna().astype("int64"))
        per_ticket = ("tickets", "transactions", "watchers", "custom_fields", "links")
        return dataclasses.replace(
            self,
            **{
                name: getattr(self, name)
                .loc[lambda f: f["ticket_id"].isin(keep)]
                .reset_index(drop=True)
                for name in per_ticket
            },
        )

    def field_values(self, name: str) -> pd.Series:
        """One custom field's current value per ticket (values joined by ', '), '' if unset."""
        cf = self.custom_fields
        values = cf.loc[cf["field"] == name].groupby("ticket_id")["value"].agg(", ".join)
        return values.reindex(self.tickets["ticket_id"], fill_value="").rename(name)


# --------------------------------------------------------------------------- writing


def _jsonl(objects: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"
        for obj in objects
    )


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
    which tickets the snapshot holds all of.
    """
    target = snapshot_target(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_snapshot(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", dir=target.parent))
    staging.chmod(umask_mode(0o777))  # mkdtemp makes 0700; a snapshot follows the umask
    try:
        counts: dict[str, int] = {}
        sums: dict[str, str] = {}
        for name, objects in zip(DATA_FILES, (tickets, transactions, queues, users), strict=True):
            rows = list(objects)
            payload = _jsonl(rows)
            (staging / name).write_bytes(payload)
            counts[name] = len(rows)
            sums[name] = hashlib.sha256(payload).hexdigest()
        if followups is not None:  # the follow-up queue (review.closeout.followups), when pulled
            rows = list(followups)
            payload = _jsonl(rows)
            (staging / FOLLOWUPS).write_bytes(payload)
            counts[FOLLOWUPS] = len(rows)
            sums[FOLLOWUPS] = hashlib.sha256(payload).hexdigest()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "source": source,
            "query": query,
            "pulled_at": pulled_at,
            "counts": counts,
            "sha256": sums,
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


def umask_mode(base: int) -> int:
    """`base` permissions less the process umask: what open() would give a new file."""
    mask = os.umask(0o022)
    os.umask(mask)
    return base & ~mask


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


# --------------------------------------------------------------------------- reading


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a snapshot directory, with a clear error if the snapshot is not there."""
    recover_snapshot(directory)  # a pull killed mid-swap must not make the snapshot vanish
    if not directory.is_dir():
        raise SnapshotError(
            "no snapshot here; give --snapshot a directory made by `review pull` "
            "(or omit it to use the bundled sample)",
            str(directory),
        )
    path = directory / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SnapshotError(
            "missing manifest.json: this directory is not a complete snapshot; pull it again",
            str(path),
        ) from None
    except UnicodeDecodeError:
        raise SnapshotError(_NOT_UTF8, str(path)) from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"bad JSON ({exc.msg})", str(path), exc.lineno) from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise SnapshotError(
            f"unsupported snapshot format {found!r}"
            f" (this kit reads format {FORMAT}); pull it again with this version",
            str(path),
        )
    sums = manifest.get("sha256", {})
    files = (*DATA_FILES, FOLLOWUPS)
    if not isinstance(sums, dict) or not all(
        name in files and isinstance(value, str) for name, value in sums.items()
    ):
        raise SnapshotError(
            f"sha256 must be a table from file name ({', '.join(files)}) to checksum; "
            "the manifest was altered: pull the snapshot again",
            str(path),
        )
    coverage_of(manifest, path)  # a malformed coverage is reported now, not mid-report
    return manifest


def _bad_line(path: Path, options: pa_json.ParseOptions) -> tuple[int, str]:
    """The first line of a JSON-lines file that the table cannot take, and why.

    Halves the lines with Arrow's own parser (about two parses of the file in all),
    so a wrong type or an out-of-range number is found as surely as broken JSON.
    """
    with path.open("rb") as handle:
        lines = [(n, raw) for n, raw in enumerate(handle, start=1) if raw.strip()]

    def fails(part: list[tuple[int, bytes]]) -> bool:
        try:
            _parse_json(b"".join(raw.rstrip(b"\r\n") + b"\n" for _, raw in part), options)
        except pa.ArrowInvalid:
            return True
        return False

    part = lines
    if not fails(part):
        return 0, ""
    while len(part) > 1:
        half = len(part) // 2
        part = part[:half] if fails(part[:half]) else part[half:]
    number, raw = part[0]
    try:
        obj = json.loads(raw)
    except UnicodeDecodeError:
        return number, _NOT_UTF8
    except json.JSONDecodeError as exc:
        return number, f"bad JSON ({exc.msg})"
    if not isinstance(obj, dict):
        return number, "expected one JSON object per line"
    try:
        _parse_json(raw, options)
    except pa.ArrowInvalid as exc:
        return number, f"a value has the wrong type or is out of range ({exc}); {_REPULL}"
    return number, f"cannot parse; {_REPULL}"


def _stray_line(data: bytes) -> re.Match[bytes] | None:
    """The first line that does not start a JSON object (blank lines are fine), if any."""
    if data[:1] in (b"{", b"") and not _LINE_NOT_AN_OBJECT.search(data):
        return None  # the usual case: a quick scan for a line not starting with `{`
    return _NOT_AN_OBJECT.search(data)  # blank or indented lines: look closely


def _parse_json(data: bytes, options: pa_json.ParseOptions) -> pa.Table:
    """JSON lines as a table; every non-blank line must already be known to start with `{`."""
    reading = pa_json.ReadOptions(block_size=1 << 24)
    with pa.BufferReader(data) as source:
        table = pa_json.read_json(source, read_options=reading, parse_options=options)
    table.validate(full=True)  # Arrow takes bytes that are not UTF-8 into text columns as they are
    return table


def _line_numbers(path: Path) -> list[int]:
    """Line number of each non-blank line: row i of the parsed table is line result[i]."""
    with path.open("rb") as handle:
        return [n for n, raw in enumerate(handle, start=1) if raw.strip()]


def _read_table(directory: Path, name: str) -> pa.Table:
    path = directory / name
    if not path.is_file():
        raise SnapshotError("missing file: the snapshot is incomplete; pull it again", str(path))
    options = pa_json.ParseOptions(
        explicit_schema=_SCHEMAS[name], unexpected_field_behavior="ignore", newlines_in_values=False
    )
    data = path.read_bytes()
    stray = _stray_line(data)  # Arrow crashes the process on a bare `null` line
    if stray:
        line = data.count(b"\n", 0, stray.start()) + 1
        raise SnapshotError(f"expected one JSON object per line; {_REPULL}", str(path), line)
    try:
        return _parse_json(data, options)
    except pa.ArrowInvalid as exc:
        if not _line_numbers(path):
            return _SCHEMAS[name].empty_table()  # no rows (a quiet month) is a valid snapshot
        line, message = _bad_line(path, options)
        if line:
            raise SnapshotError(message, str(path), line) from None
        raise SnapshotError(f"cannot parse ({exc}); {_REPULL}", str(path)) from None


def _timestamps(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """RT's UTC date strings as timestamps; RT's unset date (1970-01-01) and junk become NaT."""
    parsed = pc.strptime(values, format="%Y-%m-%dT%H:%M:%SZ", unit="s", error_is_null=True)
    stamps = pd.Series(parsed.to_pandas()).dt.tz_localize("UTC").dt.as_unit("us")
    return stamps.where(stamps != pd.Timestamp(UNSET_DATE))


def _integers(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Ids that RT sends as strings, as nullable integers.

    Anything but 1 to 18 digits (a sign, a fraction, a number too big for 64 bits) becomes NA.
    """
    digits = pc.and_(pc.utf8_is_digit(values), pc.less_equal(pc.utf8_length(values), 18))
    clean = pc.if_else(digits, values, pa.scalar(None, pa.string()))
    return pd.Series(pc.cast(clean, pa.int64()).to_pandas(), dtype="Int64")


def _ref_ids(table: pa.Table, column: str) -> pd.Series:
    return pd.Series(table.column(column).combine_chunks().field("id").to_pandas(), dtype="string")


def _refs_long(table: pa.Table, ids: pd.Series, column: str) -> pd.DataFrame:
    lists = table.column(column).combine_chunks()
    flat = lists.flatten()
    parents = pc.list_parent_indices(lists)
    return pd.DataFrame(
        {
            "ticket_id": ids.to_numpy()[parents.to_numpy()],
            "role": column,
            "user": pd.Series(flat.field("id").to_pandas(), dtype="string"),
        }
    )


def _flatten_tickets(
    table: pa.Table,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ids = pd.Series(table.column("id").to_pandas(), dtype="Int64")
    tickets = pd.DataFrame(
        {
            "ticket_id": ids,
            "subject": pd.Series(table.column("Subject").to_pandas(), dtype="string").fillna(""),
            "status": pd.Series(table.column("Status").to_pandas(), dtype="string"),
            "sla": pd.Series(table.column("SLA").to_pandas(), dtype="string").fillna(""),
            "queue_id": _ref_ids(table, "Queue"),
            "owner": _ref_ids(table, "Owner"),
            "creator": _ref_ids(table, "Creator"),
            "effective_id": _integers(table.column("EffectiveId").combine_chunks().field("id")),
        }
    )
    for column in ("Created", "Started", "Resolved", "LastUpdated"):
        key = {"LastUpdated": "last_updated"}.get(column, column.lower())
        tickets[key] = _timestamps(table.column(column))
    watchers = pd.concat(
        [_refs_long(table, ids, role) for role in ("Requestor", "Cc", "AdminCc")], ignore_index=True
    )
    cfs = table.column("CustomFields").combine_chunks()
    cf_rows = cfs.flatten()
    cf_parent = pc.list_parent_indices(cfs).to_numpy()
    values = cf_rows.field("values")
    value_parent = pc.list_parent_indices(values).to_numpy()
    custom_fields = pd.DataFrame(
        {
            "ticket_id": ids.to_numpy()[cf_parent[value_parent]],
            "field_id": pd.Series(cf_rows.field("id").to_pandas(), dtype="string").to_numpy()[
                value_parent
            ],
            "field": pd.Series(cf_rows.field("name").to_pandas(), dtype="string").to_numpy()[
                value_parent
            ],
            "value": pd.Series(values.flatten().to_pandas(), dtype="string"),
        }
    )
    field_names = pd.DataFrame(
        {
            "field_id": pd.Series(cf_rows.field("id").to_pandas(), dtype="string"),
            "field": pd.Series(cf_rows.field("name").to_pandas(), dtype="string"),
        }
    ).drop_duplicates()
    links_raw = table.column("_hyperlinks").combine_chunks()
    link_rows = links_raw.flatten()
    links = pd.DataFrame(
        {
            "ticket_id": ids.to_numpy()[pc.list_parent_indices(links_raw).to_numpy()],
            "ref": pd.Series(link_rows.field("ref").to_pandas(), dtype="string"),
            "type": pd.Series(link_rows.field("type").to_pandas(), dtype="string"),
            "url": pd.Series(link_rows.field("_url").to_pandas(), dtype="string"),
        }
    )
    links = links.loc[links["ref"].isin(_LINK_REFS)].reset_index(drop=True)
    links["external"] = links["type"] != "ticket"
    target = links["url"].str.extract(r"/ticket/(\d+)$", expand=False)
    links["target"] = target.where(~links["external"], links["url"])
    links = links[["ticket_id", "ref", "target", "external"]]
    # an entry without its id or name (null in RT's list) says nothing: not a watcher or value
    watchers = watchers.dropna(subset=["user"]).reset_index(drop=True)
    custom_fields = custom_fields.dropna(subset=["field", "value"]).reset_index(drop=True)
    field_names = field_names.dropna(subset=["field"])
    return tickets, watchers, custom_fields, field_names.reset_index(drop=True), links


def _flatten_transactions(table: pa.Table) -> pd.DataFrame:
    def text(column: str) -> pd.Series:
        return pd.Series(table.column(column).to_pandas(), dtype="string")

    frame = pd.DataFrame(
        {
            "txn_id": _integers(table.column("id")),
            "object_type": text("ObjectType"),
            "ticket_id": _integers(table.column("ObjectId")),
            "type": text("Type"),
            "field": text("Field").fillna(""),
            "old": text("OldValue").fillna(""),
            "new": text("NewValue").fillna(""),
            "created": _timestamps(table.column("Created")),
            "creator": _ref_ids(table, "Creator"),
            "data": text("Data").fillna(""),
        }
    )
    return frame


def _missing_required(table: pa.Table, name: str) -> pd.Series:
    """Rows of a parsed table that lack a field the kit cannot do without."""
    bad = pd.Series(False, index=range(table.num_rows))
    for column in _REQUIRED[name]:
        col = table.column(column)
        if pa.types.is_struct(col.type):
            col = col.combine_chunks().field("id")
        bad |= pd.Series(col.is_null().to_pandas(), index=bad.index)
    return bad


class _Rows:
    """The rows of one file still kept, as positions in the file's parsed table.

    Rows are left out in steps; each step's problems name the file's own line numbers.
    """

    def __init__(self, directory: Path, name: str, table: pa.Table) -> None:
        self.path, self.name, self.table = directory / name, name, table
        self.positions = np.arange(table.num_rows)
        self.problems: list[Problem] = []
        self._lines: list[int] | None = None

    def line(self, position: int) -> int:
        if self._lines is None:
            self._lines = _line_numbers(self.path)
        return self._lines[position]

    def drop(self, rows: pd.Series | np.ndarray, message: str | list[str] | None) -> None:
        """Leave out `rows` (a mask over the kept rows), noting each with its line.

        `message` is one text for all, one per dropped row, or None for rows that
        are not problems (only not wanted).
        """
        mask = np.asarray(rows, dtype=bool)
        if not mask.any():
            return
        dropped = self.positions[mask]
        if message is not None:
            texts = [message] * len(dropped) if isinstance(message, str) else message
            self.problems += [
                Problem(self.name, self.line(int(p)), text)
                for p, text in zip(dropped, texts, strict=True)
            ]
        self.positions = self.positions[~mask]
        self.table = self.table.filter(pa.array(~mask))

    def drop_repeats(self, what: str) -> None:
        """Leave out a row that repeats an earlier one with the same id; refuse if they differ.

        A pull writes each object once; an identical repeat (a file concatenated or
        appended twice) is harmless to drop, but two different versions of one object
        cannot be told apart, so the snapshot is refused rather than one of them picked.
        """
        ids = pd.Series(self.table.column("id").to_pandas())
        repeated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
        if not repeated.any():
            return
        wanted = {self.line(int(p)): int(p) for p in self.positions[repeated]}
        objects: dict[int, Any] = {}
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number in wanted:
                    objects[wanted[number]] = json.loads(raw)
        first: dict[Any, int] = {}
        drop = np.zeros(len(self.positions), dtype=bool)
        messages: list[str] = []
        for index in np.flatnonzero(repeated):
            position, key = int(self.positions[index]), ids.iloc[index]
            earlier = first.setdefault(key, position)
            if earlier == position:
                continue
            if objects[position] != objects[earlier]:
                raise SnapshotError(
                    f"{what} {key} appears twice with different content (first at line "
                    f"{self.line(earlier)}); the snapshot is inconsistent: pull it again",
                    str(self.path),
                    self.line(position),
                )
            drop[index] = True
            messages.append(f"{what} {key} repeats line {self.line(earlier)}; repeat left out")
        self.drop(drop, messages)


def _parse(directory: Path) -> Snapshot:
    rows = {name: _Rows(directory, name, _read_table(directory, name)) for name in DATA_FILES}
    for name, part in rows.items():
        required = ", ".join(_REQUIRED[name])
        part.drop(_missing_required(part.table, name), f"missing one of {required}; row left out")
        part.drop_repeats(_WHAT[name])
    t, x = rows[TICKETS], rows[TRANSACTIONS]
    created = _timestamps(t.table.column("Created"))
    t.drop(created.isna(), "Created is unset or not an RT date; ticket left out")
    tickets, watchers, custom_fields, field_names, links = _flatten_tickets(t.table)
    tickets["ticket_id"] = tickets["ticket_id"].astype("int64")
    transactions = _flatten_transactions(x.table)
    non_ticket = transactions["object_type"].fillna("RT::Ticket") != "RT::Ticket"
    x.drop(non_ticket, None)  # history of queues, users, ...: not a problem, not kept
    transactions = transactions.loc[~non_ticket].reset_index(drop=True)
    rules: tuple[tuple[Callable[[pd.DataFrame], pd.Series], str], ...] = (
        (lambda f: f["ticket_id"].isna(), "ObjectId is not a ticket number; left out"),
        (
            lambda f: ~f["ticket_id"].isin(tickets["ticket_id"]),
            "transaction of a ticket that is not in tickets.jsonl; left out",
        ),
        (
            lambda f: f["created"].isna() | f["txn_id"].isna(),
            "id is not a number or Created is not an RT date; left out",
        ),
    )
    for rule, message in rules:
        bad = rule(transactions)
        x.drop(bad, message)
        transactions = transactions.loc[~bad].reset_index(drop=True)
    transactions = transactions.drop(columns="object_type")
    transactions = transactions.astype({"txn_id": "int64", "ticket_id": "int64"})
    queues_table, users_table = rows[QUEUES].table, rows[USERS].table
    queues = pd.DataFrame(
        {
            "queue_id": queues_table.column("id").to_pandas().astype("string"),
            "name": pd.Series(queues_table.column("Name").to_pandas(), dtype="string"),
        }
    )
    users = pd.DataFrame(
        {
            "user_id": users_table.column("id").to_pandas().astype("string"),
            "name": pd.Series(users_table.column("Name").to_pandas(), dtype="string"),
            "email": pd.Series(
                users_table.column("EmailAddress").to_pandas(), dtype="string"
            ).fillna(""),
            "real_name": pd.Series(
                users_table.column("RealName").to_pandas(), dtype="string"
            ).fillna(""),
            "privileged": pd.Series(users_table.column("Privileged").to_pandas())
            .fillna(0)
            .astype(bool),
        }
    )
    frames = {
        "tickets": tickets,
        "transactions": transactions,
        "watchers": watchers,
        "custom_fields": custom_fields,
        "field_names": field_names,
        "links": links,
        "queues": queues,
        "users": users,
    }
    return Snapshot(
        path=directory,
        manifest={},
        problems=[p for part in rows.values() for p in part.problems],
        **{k: v.reset_index(drop=True) for k, v in frames.items()},
    )


_FRAMES = (
    "tickets", "transactions", "watchers", "custom_fields",
    "field_names", "links", "queues", "users",
)  # fmt: skip


def _verify_checksums(directory: Path, manifest: dict[str, Any]) -> None:
    for name, expected in (manifest.get("sha256") or {}).items():
        path = directory / name
        if path.is_file() and file_sha256(path) != expected:
            raise SnapshotError(
                "checksum does not match manifest.json: the file was changed after the pull; "
                "snapshots are immutable, pull again instead of editing",
                str(path),
            )


def load_snapshot(
    directory: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> Snapshot:
    """Read and validate a snapshot; rows with problems are left out and listed in `problems`.

    With `cache_dir`, the flattened frames are kept as parquet under a key made of
    the manifest checksums and the files' sizes and times, and read from there next time.
    """
    path = Path(directory)
    manifest = read_manifest(path)
    cache = Path(cache_dir) / snapshot_key(path, manifest) if cache_dir else None
    if cache is not None and (cache / "done").is_file():
        snapshot = _read_cache(cache, path)
    else:
        _verify_checksums(path, manifest)
        snapshot = _parse(path)
        if cache is not None:
            _write_cache(cache, snapshot)
    snapshot.manifest = manifest
    return snapshot


def _write_cache(cache: Path, snapshot: Snapshot) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            frame: pd.DataFrame = getattr(snapshot, name)
            frame.to_parquet(cache / f"{name}.parquet", index=False)
        (cache / "problems.json").write_text(
            json.dumps([[p.file, p.line, p.message] for p in snapshot.problems])
        )
        (cache / "done").write_text("")
    except OSError:
        shutil.rmtree(cache, ignore_errors=True)  # a cache that cannot be written is only slower


def _read_cache(cache: Path, path: Path) -> Snapshot:
    frames = {name: pd.read_parquet(cache / f"{name}.parquet") for name in _FRAMES}
    problems = [Problem(*p) for p in json.loads((cache / "problems.json").read_text())]
    return Snapshot(path=path, manifest={}, problems=problems, **frames)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All objects of one JSON-lines file (for small files: tests, merging pulls)."""
    with path.open("rb") as handle:
        return [json.loads(line) for line in handle if line.strip()]
