"""Parse a stretch of one snapshot file, block by block, into flat frames with row positions.

A stretch (`Span`) is a whole data file or one month's part of it (review.snapshot.layout).
It is read in blocks of whole lines: each block is hashed (the manifest's checksum is checked
at the end of the stretch), parsed by Arrow with the file's schema (and searched for lines that
are not JSON objects where one may be: `tables`) and flattened at once, so only one block of
JSON is ever held. Every row keeps its position in the stretch; review.snapshot.load leaves
rows out by position and names their lines, which are only counted when there is a problem to
report.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from review.errors import SnapshotError
from review.settings.utc import ISO_UTC
from review.snapshot.layout import QUEUES, TICKETS, TRANSACTIONS, UNSET_DATE, USERS
from review.snapshot.manifest import NOT_UTF8

BLOCK_BYTES = 1 << 26  # JSON parsed at a time: what one block costs in memory, about 4 x this
# the two read buffers of the last stretch, kept for the next: a fresh buffer's memory costs its
# page faults, 0.35 s of CPU a GB of JSON read stretch by stretch
_SPARE: list[bytearray] = []

CHANGED = (
    "checksum does not match manifest.json: the file was changed after the pull; "
    "snapshots are immutable, pull again instead of editing"
)
REPULL = "the file was not written by `review pull` or was altered: pull the snapshot again"
_NOT_AN_OBJECT = re.compile(rb"(?m)^[ \t\r]*[^{\s]")  # a line that does not start an object
_NOT_AFTER_NEWLINE = re.compile(rb"\n[^{]")  # a line that may not (or an empty last one)

_REF = pa.struct([("id", pa.string())])
_REFS = pa.list_(_REF)
_CUSTOM_FIELDS = pa.list_(
    pa.struct([("id", pa.string()), ("name", pa.string()), ("values", pa.list_(pa.string()))])
)
_LINKS = pa.list_(pa.struct([("ref", pa.string()), ("type", pa.string()), ("_url", pa.string())]))
SCHEMAS: dict[str, pa.Schema] = {
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
            ("CustomFields", _CUSTOM_FIELDS),
            ("_hyperlinks", _LINKS),
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
    QUEUES: pa.schema([("id", pa.int64()), ("Name", pa.string()), ("Lifecycle", pa.string())]),
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
REQUIRED: dict[str, tuple[str, ...]] = {
    TICKETS: ("id", "Status", "Queue", "Created"),
    TRANSACTIONS: ("id", "ObjectId", "Type", "Created", "Creator"),
    QUEUES: ("id", "Name"),
    USERS: ("id", "Name"),
}
_LINK_REFS = ("depends-on", "depended-on-by", "parent", "child", "refers-to", "referred-to-by")


@dataclass(frozen=True)
class Span:
    """A stretch of one data file: `length` bytes from `offset` (None: to the end).

    `sha256` is the manifest's checksum of exactly these bytes (None: not checked).
    """

    directory: Path
    name: str
    offset: int = 0
    length: int | None = None
    sha256: str | None = None

    @property
    def path(self) -> Path:
        return self.directory / self.name

    def blocks(self) -> Iterator[tuple[int, memoryview]]:
        """(offset in the file, bytes) of consecutive blocks of whole lines; the checksum is
        checked after the last block (a changed file is refused, never half read).

        Two buffers take turns: a block is read into one while the other's bytes are hashed
        (beside the parse: hashing holds no lock), and a block is only valid until the next.
        """
        if not self.path.is_file():
            raise SnapshotError(
                "missing file: the snapshot is incomplete; pull it again", str(self.path)
            )
        digest = hashlib.sha256()
        size = self.path.stat().st_size - self.offset if self.length is None else self.length
        buffers = [_buffer(size), _buffer(size)]
        try:
            yield from self._read(buffers, digest)
        finally:
            _SPARE[:] = [b for b in buffers if len(b) == BLOCK_BYTES][:2]
        self.check(digest)

    def _read(
        self, buffers: list[bytearray], digest: hashlib._Hash
    ) -> Iterator[tuple[int, memoryview]]:
        hashing: Future[None] | None = None
        with self.path.open("rb") as handle, ThreadPoolExecutor(1) as hasher:
            handle.seek(self.offset)
            left = self.length
            kept, at, turn = 0, self.offset, 0
            while left is None or left > 0:
                buffer = buffers[turn]
                room = len(buffer) - kept if left is None else min(len(buffer) - kept, left)
                read = handle.readinto(memoryview(buffer)[kept : kept + room])
                if not read:
                    break
                if left is not None:
                    left -= read
                if hashing is not None:
                    hashing.result()
                hashing = hasher.submit(digest.update, memoryview(buffer)[kept : kept + read])
                end = kept + read
                cut = buffer.rfind(b"\n", 0, end) + 1
                if cut == 0:  # one line longer than a block: make room and read on
                    hashing.result()
                    buffers = [buffer + bytearray(len(buffer)), bytearray(2 * len(buffer))]
                    turn, kept = 0, end
                    continue
                yield at, memoryview(buffer)[:cut]
                at += cut
                carry = buffer[cut:end]
                turn = 1 - turn
                if hashing is not None:
                    hashing.result()  # the other buffer is free once its bytes are hashed
                buffers[turn][: len(carry)] = carry
                kept = len(carry)
            if kept:
                yield at, memoryview(buffers[turn])[:kept]
            if hashing is not None:
                hashing.result()

    def check(self, digest: hashlib._Hash) -> None:
        if self.sha256 is not None and digest.hexdigest() != self.sha256:
            raise SnapshotError(CHANGED, str(self.path))

    def verify(self) -> None:
        """Read the whole stretch only to check its checksum."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            left = self.length
            while left is None or left > 0:
                chunk = handle.read(1 << 22 if left is None else min(1 << 22, left))
                if not chunk:
                    break
                digest.update(chunk)
                if left is not None:
                    left -= len(chunk)
        self.check(digest)

    def lines_before(self, offset: int) -> int:
        """How many lines of the file end before byte `offset`."""
        count, at = 0, 0
        with self.path.open("rb") as handle:
            while at < offset:
                chunk = handle.read(min(1 << 22, offset - at))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                at += len(chunk)
        return count

    @cached_property
    def relative_lines(self) -> np.ndarray:
        """For each row of the stretch (its non-blank lines), its line within the stretch."""
        numbers: list[int] = []
        for number, raw in self.lines():
            if raw.strip():
                numbers.append(number)
        return np.asarray(numbers, dtype=np.int64)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(line within the stretch, from 1; its bytes) of every line of the stretch."""
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            left = self.length
            for number, raw in enumerate(handle, start=1):
                if left is not None:
                    if left <= 0:
                        return
                    left -= len(raw)
                yield number, raw

    def objects(self, wanted: set[int]) -> dict[int, Any]:
        """The JSON objects on these lines of the stretch, by line."""
        return {n: json.loads(raw) for n, raw in self.lines() if n in wanted}

    def refuse(self, offset: int, data: bytes, options: pa_json.ParseOptions) -> SnapshotError:
        """The error for a block that Arrow cannot take: its first bad line, and why.

        Halves the block's lines with Arrow's own parser (about two parses of the block), so
        a wrong type or an out-of-range number is found as surely as broken JSON.
        """
        lines = [line + b"\n" for line in data.split(b"\n")]  # as a file is read
        numbered = [(n, raw) for n, raw in enumerate(lines) if raw.strip()]

        def fails(part: list[tuple[int, bytes]]) -> bool:
            try:
                parse_json(b"".join(raw.rstrip(b"\r\n") + b"\n" for _, raw in part), options)
            except pa.ArrowInvalid:
                return True
            return False

        part = numbered
        while len(part) > 1:
            half = len(part) // 2
            part = part[:half] if fails(part[:half]) else part[half:]
        index, raw = part[0]
        line = self.lines_before(offset) + index + 1
        try:
            obj = json.loads(raw)
        except UnicodeDecodeError:
            return SnapshotError(NOT_UTF8, str(self.path), line)
        except json.JSONDecodeError as exc:
            return SnapshotError(f"bad JSON ({exc.msg})", str(self.path), line)
        if not isinstance(obj, dict):
            return SnapshotError(
                f"expected one JSON object per line; {REPULL}", str(self.path), line
            )
        try:
            parse_json(raw, options)
        except pa.ArrowInvalid as exc:
            return SnapshotError(
                f"a value has the wrong type or is out of range ({exc}); {REPULL}",
                str(self.path),
                line,
            )
        return SnapshotError(f"cannot parse; {REPULL}", str(self.path), line)


def _buffer(size: int) -> bytearray:
    """A read buffer for a stretch of `size` bytes: a spare one, else one no bigger than needed
    (one pop: two threads reading at once never share one)."""
    try:
        spare = _SPARE.pop()
    except IndexError:
        spare = bytearray()
    return spare if len(spare) == BLOCK_BYTES else bytearray(max(1, min(BLOCK_BYTES, size)))


def parse_json(data: bytes | memoryview, options: pa_json.ParseOptions) -> pa.Table:
    """JSON lines as a table (a line that is not an object is an error, or a row of nulls
    for `null`), parsed as one block: one thread (a worker's share of the cores; Arrow's own
    threads spent a third more CPU), and no line is ever the first of a block of Arrow's own
    but the data's first (Arrow crashes the process on a block that starts with `null`:
    `tables` checks the data's first line before it)."""
    reading = pa_json.ReadOptions(block_size=max(1, len(data)))
    with pa.BufferReader(data) as source:
        table = pa_json.read_json(source, read_options=reading, parse_options=options)
    table.validate(full=True)  # Arrow takes bytes that are not UTF-8 into text columns as they are
    return table


def tables(span: Span) -> Iterator[pa.Table]:
    """The stretch's rows as Arrow tables of the file's schema, one per block.

    A block is searched for lines that are no JSON object (`_stray_line`) only where one may
    be: when it does not start with `{` (Arrow would crash on a first `null`), when Arrow
    refuses it (such a line is named before any other problem of the block, as a search
    before the parse named it), and when a row has no id (a `null` line is a row of nulls).
    """
    options = pa_json.ParseOptions(
        explicit_schema=SCHEMAS[span.name],
        unexpected_field_behavior="ignore",
        newlines_in_values=False,
    )
    failure: SnapshotError | None = None
    for offset, data in span.blocks():
        if failure is not None:
            continue  # read on: a checksum that does not match says more than a parse error
        table = None
        stray = _stray_line(data) if data.nbytes and data[0] != ord("{") else None
        if stray is None:
            try:
                table = parse_json(data, options)
            except pa.ArrowInvalid:
                stray = _stray_line(data)
            else:
                stray = _stray_line(data) if table.column("id").null_count else None
        if stray is not None:
            line = span.lines_before(offset) + bytes(data[:stray]).count(b"\n") + 1
            failure = SnapshotError(
                f"expected one JSON object per line; {REPULL}", str(span.path), line
            )
        elif table is None:
            failure = span.refuse(offset, bytes(data), options)
        else:
            yield table
    if failure is not None:
        raise failure


def _stray_line(data: memoryview) -> int | None:
    """Where the first line that does not start a JSON object is (blank lines are fine).

    `data` is the start of a buffer (as Span.blocks gives it): it is searched in place.
    """
    buffer, end = data.obj, data.nbytes
    assert isinstance(buffer, bytearray | bytes)
    # the usual case: every line starts with `{` (a search for a newline followed by anything
    # else is one pass at memchr's speed, a third less CPU than comparing every byte in numpy)
    if end == 0 or (buffer[0] == ord("{") and _NOT_AFTER_NEWLINE.search(buffer, 0, end) is None):
        return None
    found = _NOT_AN_OBJECT.search(buffer, 0, end)  # blank or indented lines: look closely
    return None if found is None else found.start()


# --------------------------------------------------------------------------- flat columns


def timestamps(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """RT's UTC date strings as timestamps; RT's unset date (1970-01-01) and junk become NaT,
    and so does a time that does not exist or is not written as RT writes it (`_as_written`).

    Arrow's ISO 8601 cast reads a column 8 x faster than strptime and refuses a day or time
    that does not exist, but takes other ways of writing a time (a space for the T, no
    seconds, an offset) and fails the whole column on one value that is no time at all: it
    reads a column whose every value is a time, and keeps those written as RT writes them
    (`_as_rt_writes`); any other column is read by strptime, value by value."""
    text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    try:
        cast = pc.cast(text, pa.timestamp("us", "UTC"))
    except pa.ArrowInvalid:
        found = pc.strptime(text, format=ISO_UTC, unit="s", error_is_null=True)
        stamps = pd.Series(_as_written(text, found).to_pandas()).dt.tz_localize("UTC")
        stamps = stamps.dt.as_unit("us")
    else:
        shaped = pa.array(_as_rt_writes(text))
        stamps = pd.Series(pc.if_else(shaped, cast, pa.scalar(None, cast.type)).to_pandas())
    return stamps.where(stamps != pd.Timestamp(UNSET_DATE))


_SEPARATORS = np.array([4, 7, 10, 13, 16, 19])  # where ISO_UTC's separators are
_SEPARATOR = np.frombuffer(b"--T::Z", dtype=np.uint8)


def _as_rt_writes(text: pa.Array) -> np.ndarray:
    """Which values are 20 characters with ISO_UTC's separators in their places (the digits
    between them are Arrow's cast's to check)."""
    offsets, data = _text_buffers(text)
    shaped: np.ndarray = np.diff(offsets) == 20
    if text.null_count == 0 and shaped.all():  # the usual column: a table of 20 bytes a row
        chars = data[offsets[0] : offsets[-1]].reshape(-1, 20)
        found: np.ndarray = (chars[:, _SEPARATORS] == _SEPARATOR).all(axis=1)
        return found
    shaped &= np.asarray(text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    at = offsets[:-1][shaped]
    shaped[shaped] = (data[at[:, None] + _SEPARATORS] == _SEPARATOR).all(axis=1)
    return shaped


def _text_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A text array's offsets (one more than its values) and bytes, as numpy, not copied."""
    wide = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=wide)[text.offset :][: len(text) + 1]
    return offsets, np.frombuffer(text.buffers()[2] or b"", dtype=np.uint8)


def _as_written(text: pa.Array, stamps: pa.Array) -> pa.Array:
    """`stamps` (`text` read by strptime) without the times that do not read back as written:
    Arrow's parse carries 30 February into 1 March and 23:59:61 into the next minute, and takes
    '2020-1-2' too. A time written as RT writes it (ISO_UTC: 20 characters) is kept where its
    day and second are the ones written, read from the text's bytes (a format back was 2.5 x
    the parse)."""
    offsets, data = _text_buffers(text)
    start = offsets[:-1]
    kept = (np.diff(offsets) == 20) & np.asarray(text.is_valid().to_numpy(zero_copy_only=False))
    at = start[kept]

    def number(first: int) -> np.ndarray:  # the two digits at `first` of each kept time
        tens, ones = data[at + first].astype(np.int64), data[at + first + 1].astype(np.int64)
        found: np.ndarray = (tens - 48) * 10 + ones - 48
        return found

    day = pc.day(stamps).to_numpy(zero_copy_only=False)[kept]
    second = pc.second(stamps).to_numpy(zero_copy_only=False)[kept]
    kept[kept] = (day == number(8)) & (second == number(17))
    return pc.if_else(pa.array(kept), stamps, pa.scalar(None, stamps.type))


def seconds_text(at: pd.Series) -> pa.Array | None:
    """UTC times as SECOND_FORMAT text (null where none), to the second as strftime writes
    them, by Arrow's cast: 30 x faster than strftime, pandas' or Arrow's, which format each
    time on its own. None for times that are not UTC (they keep strftime)."""
    dtype = at.dtype
    if not (isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"):
        return None
    seconds = at.to_numpy(dtype="datetime64[us]").astype("datetime64[s]")  # floored, as %S
    found: pa.Array = pc.cast(pa.array(seconds, type=pa.timestamp("s")), pa.string())
    return found


def integers(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Ids that RT sends as strings, as nullable integers.

    Anything but 1 to 18 ASCII digits (a sign, a fraction, another script's digits, a number
    too big for 64 bits) becomes NA. (Unicode's digits, "²" or "٣", passed a check of
    utf8_is_digit and then failed Arrow's cast: a crash.)
    """
    digits = pc.and_(pc.ascii_is_decimal(values), pc.less_equal(pc.binary_length(values), 18))
    clean = pc.if_else(digits, values, pa.scalar(None, pa.string()))
    return nullable(pc.cast(clean, pa.int64()))


def nullable(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Arrow integers as pandas' nullable Int64, exactly: not by way of floats, which a null
    among them would make (a 17-digit id came back one off)."""
    return pd.Series(values.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))


def text(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Arrow text as pandas' "string" (kept in Arrow: no Python object per value)."""
    return pd.Series(
        pd.arrays.ArrowStringArray(
            pa.chunked_array([values]) if isinstance(values, pa.Array) else values
        )
    )


def _ref_ids(table: pa.Table, column: str) -> pd.Series:
    return text(table.column(column).combine_chunks().field("id"))


def missing_required(table: pa.Table, name: str) -> np.ndarray:
    """Rows of a parsed table that lack a field the kit cannot do without."""
    bad = np.zeros(table.num_rows, dtype=bool)
    for column in REQUIRED[name]:
        col = table.column(column)
        if pa.types.is_struct(col.type):
            col = col.combine_chunks().field("id")
        bad |= np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return bad


@dataclass
class TicketRows:
    """Flattened tickets of a stretch; `pos` is each row's position in the stretch.

    tickets has `pos` and `missing` (a required field is absent); the other frames have the
    `pos` of their ticket (ticket_id is filled in once the tickets kept are known).
    """

    tickets: pd.DataFrame
    watchers: pd.DataFrame
    custom_fields: pd.DataFrame
    field_names: pd.DataFrame
    links: pd.DataFrame


def _refs_long(table: pa.Table, pos: np.ndarray, column: str) -> pd.DataFrame:
    lists = table.column(column).combine_chunks()
    parents = pc.list_parent_indices(lists).to_numpy()
    return pd.DataFrame(
        {"pos": pos[parents], "role": column, "user": text(lists.flatten().field("id"))}
    )


def flatten_tickets(table: pa.Table, start: int) -> TicketRows:
    """One block of tickets, its rows numbered from `start`."""
    pos = np.arange(start, start + table.num_rows)
    tickets = pd.DataFrame(
        {
            "pos": pos,
            "missing": missing_required(table, TICKETS),
            "ticket_id": nullable(table.column("id")),
            "subject": text(table.column("Subject")).fillna(""),
            "status": text(table.column("Status")),
            "sla": text(table.column("SLA")).fillna(""),
            "queue_id": _ref_ids(table, "Queue"),
            "owner": _ref_ids(table, "Owner"),
            "creator": _ref_ids(table, "Creator"),
            "effective_id": integers(table.column("EffectiveId").combine_chunks().field("id")),
        }
    )
    for column in ("Created", "Started", "Resolved", "LastUpdated"):
        key = {"LastUpdated": "last_updated"}.get(column, column.lower())
        tickets[key] = timestamps(table.column(column))
    watchers = pd.concat(
        [_refs_long(table, pos, role) for role in ("Requestor", "Cc", "AdminCc")],
        ignore_index=True,
    )
    cfs = table.column("CustomFields").combine_chunks()
    cf_rows = cfs.flatten()
    cf_parent = pc.list_parent_indices(cfs).to_numpy()
    values = cf_rows.field("values")
    value_parent = pc.list_parent_indices(values).to_numpy()
    field_ids, field = text(cf_rows.field("id")), text(cf_rows.field("name"))
    custom_fields = pd.DataFrame(
        {
            "pos": pos[cf_parent[value_parent]],
            "field_id": field_ids.to_numpy()[value_parent],
            "field": field.to_numpy()[value_parent],
            "value": text(values.flatten()),
        }
    )
    field_names = pd.DataFrame({"pos": pos[cf_parent], "field_id": field_ids, "field": field})
    # an entry without its id or name (null in RT's list) says nothing: not a watcher or value
    return TicketRows(
        tickets=tickets,
        watchers=watchers.dropna(subset=["user"]).reset_index(drop=True),
        custom_fields=custom_fields.dropna(subset=["field", "value"]).reset_index(drop=True),
        field_names=field_names.dropna(subset=["field"]).reset_index(drop=True),
        links=_links(table, pos),
    )


def _links(table: pa.Table, pos: np.ndarray) -> pd.DataFrame:
    """A block's links between tickets (RT's _hyperlinks): ref, target ticket or URL, external."""
    links_raw = table.column("_hyperlinks").combine_chunks()
    link_rows = links_raw.flatten()
    links = pd.DataFrame(
        {
            "pos": pos[pc.list_parent_indices(links_raw).to_numpy()],
            "ref": text(link_rows.field("ref")),
            "type": text(link_rows.field("type")),
            "url": text(link_rows.field("_url")),
        }
    )
    links = links.loc[links["ref"].isin(_LINK_REFS)].reset_index(drop=True)
    links["external"] = links["type"] != "ticket"
    target = links["url"].str.extract(r"/ticket/(\d+)$", expand=False)
    links["target"] = target.where(~links["external"], links["url"])
    return links[["pos", "ref", "target", "external"]]


def flatten_transactions(table: pa.Table, start: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One block of transactions, rows numbered from `start`: (transactions, bodies).

    The bodies (RT's Data: message text) are kept apart, so what is analysed never holds them;
    `raw_id` is the id as written, for telling repeated rows apart.
    """
    pos = np.arange(start, start + table.num_rows)
    frame = pd.DataFrame(
        {
            "pos": pos,
            "missing": missing_required(table, TRANSACTIONS),
            "raw_id": text(table.column("id")),
            "txn_id": integers(table.column("id")),
            "object_type": text(table.column("ObjectType")),
            "ticket_id": integers(table.column("ObjectId")),
            "type": text(table.column("Type")),
            "field": text(table.column("Field")).fillna(""),
            "old": text(table.column("OldValue")).fillna(""),
            "new": text(table.column("NewValue")).fillna(""),
            "created": timestamps(table.column("Created")),
            "creator": _ref_ids(table, "Creator"),
        }
    )
    bodies = pd.DataFrame({"pos": pos, "data": text(table.column("Data")).fillna("")})
    return frame, bodies
