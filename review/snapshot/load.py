"""Read and validate a snapshot: parse RT's JSON lines, leave out bad rows, flatten to frames.

Rows with problems are left out and listed with their file and line; a file that
cannot be read at all is refused in one line. The flattened frames are kept in the
parquet cache (review.snapshot.cache) keyed by the files' checksums.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from review.errors import SnapshotError
from review.settings.utc import ISO_UTC
from review.snapshot.cache import read_cache, write_cache
from review.snapshot.fingerprint import snapshot_key
from review.snapshot.frames import Problem, Snapshot
from review.snapshot.layout import DATA_FILES, QUEUES, TICKETS, TRANSACTIONS, UNSET_DATE, USERS
from review.snapshot.manifest import NOT_UTF8, read_manifest
from review.snapshot.store import file_sha256

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
_REQUIRED: dict[str, tuple[str, ...]] = {
    TICKETS: ("id", "Status", "Queue", "Created"),
    TRANSACTIONS: ("id", "ObjectId", "Type", "Created", "Creator"),
    QUEUES: ("id", "Name"),
    USERS: ("id", "Name"),
}
_REPULL = "the file was not written by `review pull` or was altered: pull the snapshot again"
_NOT_AN_OBJECT = re.compile(rb"(?m)^[ \t\r]*[^{\s]")  # a line that does not start an object
_LINE_NOT_AN_OBJECT = re.compile(rb"\n[^{]")
_WHAT = {TICKETS: "ticket", TRANSACTIONS: "transaction", QUEUES: "queue", USERS: "user"}
_LINK_REFS = ("depends-on", "depended-on-by", "parent", "child", "refers-to", "referred-to-by")


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
        return number, NOT_UTF8
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
    parsed = pc.strptime(values, format=ISO_UTC, unit="s", error_is_null=True)
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
            # RT's lifecycle of the queue (which statuses are initial, active, inactive)
            "lifecycle": pd.Series(
                queues_table.column("Lifecycle").to_pandas(), dtype="string"
            ).fillna(""),
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
        snapshot = read_cache(cache, path)
    else:
        _verify_checksums(path, manifest)
        snapshot = _parse(path)
        if cache is not None:
            write_cache(cache, snapshot)
    snapshot.manifest = manifest
    return snapshot
