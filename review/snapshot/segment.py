"""One segment of a snapshot parsed: its rows checked, left out with their lines, filed by month.

A segment is a stretch of tickets.jsonl and one of transactions.jsonl read together (a
month's part of each, or both whole files of a snapshot written before parts; see
review.snapshot.load). Rows are left out in steps, each problem noted with its line within
the stretch (the file's line once the stretch's place is known, `placed`). The tickets kept
are filed by the month they were last updated in, with their history, watchers, custom
fields and links; the text of each transaction (its messages) is kept apart, since a
review reads it for one incident and nothing else reads it at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from review.errors import SnapshotError
from review.settings.utc import MONTH_FORMAT
from review.snapshot import cache
from review.snapshot.cache import MESSAGES
from review.snapshot.frames import MESSAGE_COLUMNS, Problem
from review.snapshot.layout import TICKETS, TRANSACTIONS
from review.snapshot.parse import (
    REQUIRED,
    SCHEMAS,
    Span,
    TicketRows,
    flatten_tickets,
    flatten_transactions,
    integers,
    tables,
)

TICKET_COLUMNS = [
    "ticket_id", "subject", "status", "sla", "queue_id", "owner", "creator", "effective_id",
    "created", "started", "resolved", "last_updated",
]  # fmt: skip
TRANSACTION_COLUMNS = ["txn_id", "ticket_id", "type", "field", "old", "new", "created", "creator"]
NESTED_COLUMNS = {
    "watchers": ["ticket_id", "role", "user"],
    "custom_fields": ["ticket_id", "field_id", "field", "value"],
    "links": ["ticket_id", "ref", "target", "external"],
}
SEQ = "seq"  # a row's place in its segment: whole snapshots come back in file order
SURVEYED = ("Status", "Set")  # the transactions review.analysis.survey reads (cache.MOVES)
IDS = ["ticket_id", "txn_id"]  # what a read of messages filters on: their statistics are kept
MESSAGE_SCHEMA = pa.Table.from_pandas(  # with pandas' metadata: the text reads back typed
    pd.DataFrame(
        {
            "ticket_id": pd.Series([], dtype="int64"),
            "txn_id": pd.Series([], dtype="int64"),
            "data": pd.Series([], dtype="string"),
        }
    ),
    schema=pa.schema([("ticket_id", pa.int64()), ("txn_id", pa.int64()), ("data", pa.string())]),
    preserve_index=False,
).schema


class Rows:
    """The rows of one stretch still kept (a flat frame with `pos`), left out in steps.

    Each problem names its line within the stretch; "{ref}" in its message stands for the
    line in `ref` (both become lines of the file in `_placed`).
    """

    def __init__(self, span: Span, frame: pd.DataFrame) -> None:
        self.span, self.frame = span, frame
        self.problems: list[dict[str, Any]] = []

    def line(self, position: int) -> int:
        return int(self.span.relative_lines[position])

    def drop(self, rows: pd.Series | np.ndarray, message: str | None) -> None:
        """Leave out `rows` (a mask over the kept rows), each noted with its line and
        `message` (None: rows that are not problems, only not wanted)."""
        mask = np.asarray(rows, dtype=bool)
        if not mask.any():
            return
        if message is None:
            self.frame = self.frame.loc[~mask].reset_index(drop=True)
        else:
            self._drop_each(mask, [message] * int(mask.sum()), [0] * int(mask.sum()))

    def drop_repeats(self, ids: pd.Series, what: str) -> None:
        """Leave out a row that repeats an earlier one with the same id; refuse if they differ.

        A pull writes each object once; an identical repeat (a file concatenated or
        appended twice) is harmless to drop, but two different versions of one object
        cannot be told apart, so the snapshot is refused rather than one of them picked.
        """
        ids = ids.reset_index(drop=True)
        repeated = (ids.notna() & _duplicated(ids)).to_numpy()
        if not repeated.any():
            return
        positions = self.frame["pos"].to_numpy()
        objects = self.span.objects({self.line(int(p)) for p in positions[repeated]})
        first: dict[Any, int] = {}
        drop = np.zeros(len(positions), dtype=bool)
        refs: list[int] = []
        for index in np.flatnonzero(repeated):
            line, key = self.line(int(positions[index])), ids.iloc[index]
            earlier = first.setdefault(key, line)
            if earlier == line:
                continue
            if objects[line] != objects[earlier]:
                base = self.span.lines_before(self.span.offset)
                raise SnapshotError(
                    f"{what} {key} appears twice with different content (first at line "
                    f"{base + earlier}); the snapshot is inconsistent: pull it again",
                    str(self.span.path),
                    base + line,
                )
            drop[index] = True
            refs.append(earlier)
        messages = [f"{what} {key} repeats line {{ref}}; repeat left out" for key in ids[drop]]
        self._drop_each(drop, messages, refs)

    def _drop_each(self, mask: np.ndarray, messages: list[str], refs: list[int]) -> None:
        dropped = self.frame["pos"].to_numpy()[mask]
        self.problems += [
            {"file": self.span.name, "line": self.line(int(p)), "message": m, "ref": r}
            for p, m, r in zip(dropped, messages, refs, strict=True)
        ]
        self.frame = self.frame.loc[~mask].reset_index(drop=True)


def _duplicated(ids: pd.Series) -> pd.Series:
    """`ids.duplicated(keep=False)`, text ids compared as numbers first (much faster): two
    equal texts are equal numbers, so only rows whose number repeats, or that have none,
    need their text compared."""
    if ids.dtype != "string":
        found: pd.Series = ids.duplicated(keep=False)
        return found
    numbers = integers(pa.array(ids.array)).set_axis(ids.index)
    known = numbers.dropna().to_numpy(dtype="int64")
    if (np.diff(known) > 0).all():  # rising, as a pull writes them: no number repeats
        maybe = numbers.isna()
    else:
        maybe = numbers.isna() | numbers.duplicated(keep=False)
    found = pd.Series(False, index=ids.index)
    if maybe.any():
        found[maybe] = ids[maybe].duplicated(keep=False)
    return found


def placed(found: list[dict[str, Any]], base: int) -> list[Problem]:
    """Problems found in a stretch whose first line is the file's line `base` + 1."""
    return [
        Problem(
            p["file"],
            base + p["line"],
            p["message"].replace("{ref}", str(base + p["ref"])) if p["ref"] else p["message"],
        )
        for p in found
    ]


# --------------------------------------------------------------------------- one segment


def _parse_tickets(span: Span) -> tuple[Rows, TicketRows]:
    start, blocks = 0, []
    for table in tables(span):
        blocks.append(flatten_tickets(table, start))
        start += table.num_rows
    if not blocks:
        blocks = [flatten_tickets(SCHEMAS[TICKETS].empty_table(), 0)]
    flat = TicketRows(
        *(
            pd.concat([getattr(b, name) for b in blocks], ignore_index=True)
            for name in ("tickets", "watchers", "custom_fields", "field_names", "links")
        )
    )
    rows = Rows(span, flat.tickets)
    required = ", ".join(REQUIRED[TICKETS])
    rows.drop(rows.frame["missing"], f"missing one of {required}; row left out")
    rows.drop_repeats(rows.frame["ticket_id"], "ticket")
    rows.drop(rows.frame["created"].isna(), "Created is unset or not an RT date; ticket left out")
    return rows, flat


def _parse_transactions(
    span: Span, tickets: pd.Series, bodies: Path | None, held: list[pd.DataFrame]
) -> Rows:
    """The transactions of `span` kept (those of `tickets`); the text of every row is
    written to the file `bodies` as it is read, or, without one, added to `held`."""
    start, blocks = 0, []
    writer: pa.ipc.RecordBatchFileWriter | None = None
    try:
        for table in tables(span):
            frame, text = flatten_transactions(table, start)
            blocks.append(frame)
            if bodies is None:
                held.append(text)
            else:  # Arrow's own format, uncompressed: read back mapped, not decoded (a
                # parquet file cost 2.6 s of CPU a GB of bodies, written and read again)
                batch = pa.Table.from_pandas(text, preserve_index=False)
                writer = writer or pa.ipc.new_file(bodies, batch.schema)
                writer.write_table(batch)
            start += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    if not blocks:
        blocks = [flatten_transactions(SCHEMAS[TRANSACTIONS].empty_table(), 0)[0]]
    rows = Rows(span, pd.concat(blocks, ignore_index=True))
    required = ", ".join(REQUIRED[TRANSACTIONS])
    rows.drop(rows.frame["missing"], f"missing one of {required}; row left out")
    rows.drop_repeats(rows.frame["raw_id"], "transaction")
    # history of queues, users, ...: not a problem, not kept
    rows.drop(rows.frame["object_type"].fillna("RT::Ticket") != "RT::Ticket", None)
    rows.drop(rows.frame["ticket_id"].isna(), "ObjectId is not a ticket number; left out")
    rows.drop(
        ~rows.frame["ticket_id"].isin(tickets),
        "transaction of a ticket that is not in tickets.jsonl; left out",
    )
    # one whose Created is not an RT date is kept: review.analysis.quality says what its
    # missing time takes away (review.snapshot.plausible), rather than its ticket's numbers
    # being computed without it
    rows.drop(rows.frame["txn_id"].isna(), "id is not a number; left out")
    return rows


def _nested(flat: TicketRows, kept: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Watchers, custom fields and links of the kept tickets, by ticket_id, in file order."""
    ids = pd.Series(kept["ticket_id"].to_numpy(), index=kept["pos"].to_numpy())
    found = {}
    for name, columns in NESTED_COLUMNS.items():
        frame = getattr(flat, name)
        frame = frame.assign(**{SEQ: np.arange(len(frame))})
        frame = frame.loc[frame["pos"].isin(ids.index)]
        frame = frame.assign(ticket_id=ids.reindex(frame["pos"]).to_numpy())
        found[name] = frame[[*columns, SEQ]].reset_index(drop=True)
    return found


def typed_empty(name: str) -> pd.DataFrame:
    """A per-ticket frame of a snapshot without tickets, typed as a full one's."""
    flat = flatten_tickets(SCHEMAS[TICKETS].empty_table(), 0)
    kept = flat.tickets.astype({"ticket_id": "int64"})
    if name == "tickets":
        return kept[TICKET_COLUMNS]
    if name == "transactions":
        txns = flatten_transactions(SCHEMAS[TRANSACTIONS].empty_table(), 0)[0]
        return txns.astype({"txn_id": "int64", "ticket_id": "int64"})[TRANSACTION_COLUMNS]
    return _nested(flat, kept)[name].drop(columns=SEQ)


def _refs(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every value of a part that may name a user or a queue (see cache.REFS)."""
    columns = {
        "tickets": ("owner", "creator", "queue_id"),
        "transactions": ("creator", "old", "new"),
        "watchers": ("user",),
    }
    values = pa.chunked_array(  # in Arrow: the history's old and new values are most rows
        [chunk for name, cs in columns.items() for c in cs for chunk in _chunks(frames[name][c])],
        type=pa.large_string(),
    )
    found = pc.drop_null(pc.unique(values))
    ordered = pa.chunked_array([found.take(pc.array_sort_indices(found))])
    return pd.DataFrame({"value": pd.arrays.ArrowStringArray(ordered)})


def _chunks(values: pd.Series) -> list[pa.Array]:
    """A text column's Arrow arrays, as they are (a list of them given to pa.chunked_array
    would be converted value by value in Python: 0.75 s for a month's history)."""
    found = pa.array(values.astype("string").array)
    return found.chunks if isinstance(found, pa.ChunkedArray) else [found]


def _months(tickets: pd.DataFrame) -> pd.Series:
    """The month each ticket is filed under: last updated, else created (layout.month_of)."""
    at = tickets["last_updated"].fillna(tickets["created"])
    months: pd.Series = at.dt.strftime(MONTH_FORMAT).fillna("")
    return months


def _messages(text: pd.DataFrame, where: pd.DataFrame) -> pd.DataFrame:
    """ticket_id, txn_id, data, month of the rows of `text` (pos, data) that were kept."""
    text = text.loc[text["pos"].isin(where.index)]
    data = text["data"].astype("string").array  # stays in Arrow
    return where.loc[text["pos"].to_numpy()].assign(data=data)


def _write_messages(bodies: Path, where: pd.DataFrame, names: list[str], target: Path) -> None:
    """The bodies of the kept transactions (`where`: by position, their ids and month, a
    place in `names`), each in its month: MONTH/messages.parquet, one for every month of
    `names` (no `bodies` file: no history was parsed). In Arrow throughout: the bodies are
    most of a real snapshot's bytes."""
    writers: dict[str, pq.ParquetWriter] = {}
    place = _by_position(where)
    mapped = pa.memory_map(str(bodies)) if bodies.is_file() else None
    read = pa.ipc.open_file(mapped) if mapped is not None else None
    batches = (read.get_batch(i) for i in range(read.num_record_batches)) if read else ()
    try:
        for batch in batches:
            for code, chosen, rows in _by_month(batch.column("pos").to_numpy(), place[0]):
                name = names[code]
                data = batch.column("data")  # all of it in its order: not copied
                data = data if len(chosen) == len(data) else data.take(chosen)
                table = pa.Table.from_arrays(
                    [pa.array(place[1][rows]), pa.array(place[2][rows]), data.cast(pa.string())],
                    schema=MESSAGE_SCHEMA,
                )
                if name not in writers:
                    path = cache.file_of(target / (name or "none"), MESSAGES)
                    writers[name] = pq.ParquetWriter(
                        path,
                        table.schema,
                        write_statistics=IDS,  # with pandas types
                        use_dictionary=cache.DICTIONARY,
                    )
                writers[name].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
        if mapped is not None:
            mapped.close()
    for name in set(names) - set(writers):
        path = cache.file_of(target / (name or "none"), MESSAGES)
        none = pd.DataFrame({"ticket_id": [], "txn_id": [], "data": pd.Series([], dtype="string")})
        pq.write_table(
            pa.Table.from_pandas(none, schema=MESSAGE_SCHEMA, preserve_index=False), path
        )


def _by_position(where: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Each position's month (-1: left out), ticket_id and txn_id."""
    size = int(where.index.max()) + 1 if len(where) else 0
    month, ticket, txn = np.full(size, -1), np.zeros(size, "int64"), np.zeros(size, "int64")
    at = where.index.to_numpy()
    month[at] = where["month"].to_numpy()
    ticket[at], txn[at] = where["ticket_id"].to_numpy(), where["txn_id"].to_numpy()
    return month, ticket, txn


def _by_month(
    positions: np.ndarray, month: np.ndarray
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(month, rows of the batch, their positions) for each month the batch's kept rows are
    in, rows in batch order."""
    code = np.full(len(positions), -1)
    inside = positions < len(month)
    code[inside] = month[positions[inside]]
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(-1, int(code.max(initial=-1)) + 1), "right")
    for number, (start, end) in enumerate(itertools.pairwise(bounds)):
        if end > start:
            chosen = order[start:end]
            yield number, chosen, positions[chosen]


@dataclass
class Parsed:
    """A segment parsed: each month's frames (with SEQ), their messages when held in
    memory, and what it holds (months, problems by file, custom-field names, last event)."""

    months: dict[str, dict[str, pd.DataFrame]]
    about: dict[str, Any]
    messages: dict[str, pd.DataFrame] = field(default_factory=dict)


def parse_segment(spans: dict[str, Span], target: Path | None) -> Parsed:
    """Parse one segment; with `target`, the messages are written there (MONTH/), as the
    bodies are read, else held in memory."""
    t_rows, flat = _parse_tickets(spans[TICKETS])
    kept = t_rows.frame.astype({"ticket_id": "int64"})
    bodies = None if target is None else cache.file_of(target, ".bodies")
    held: list[pd.DataFrame] = []
    x_rows = _parse_transactions(spans[TRANSACTIONS], kept["ticket_id"], bodies, held)
    txns = x_rows.frame.astype({"txn_id": "int64", "ticket_id": "int64"})
    nested = _nested(flat, kept)
    month = _months(kept)
    month_names = sorted(month.unique())
    code = pd.Categorical(month, categories=month_names).codes  # each ticket's month, as a number
    ticket_at = pd.Index(kept["ticket_id"].to_numpy())  # unique: repeats are left out
    txn_code = code[ticket_at.get_indexer(txns["ticket_id"].to_numpy())]  # every one is kept
    nested_code = {k: code[ticket_at.get_indexer(v["ticket_id"])] for k, v in nested.items()}
    parsed = Parsed(months={}, about={})
    counts = []
    for number, name in enumerate(month_names):
        frames = {
            "tickets": kept.loc[code == number, [*TICKET_COLUMNS, "pos"]],
            "transactions": txns.loc[txn_code == number, [*TRANSACTION_COLUMNS, "pos"]],
            **{k: v.loc[nested_code[k] == number] for k, v in nested.items()},
        }
        frames = {k: v.rename(columns={"pos": SEQ}) for k, v in frames.items()}
        frames[cache.REFS] = _refs(frames)
        history = frames["transactions"]
        frames[cache.MOVES] = history.loc[history["type"].isin(SURVEYED)]
        parsed.months[name] = frames
        counts.append(
            {"month": name, "tickets": len(frames["tickets"]),
             "transactions": len(frames["transactions"])}
        )  # fmt: skip
    where = pd.DataFrame(
        {"ticket_id": txns["ticket_id"].to_numpy(), "txn_id": txns["txn_id"].to_numpy(),
         "month": txn_code},
        index=txns["pos"].to_numpy(),
    )  # fmt: skip
    if bodies is not None and target is not None:  # every month gets its messages file,
        for name in parsed.months:  # empty when the segment has no history
            (target / (name or "none")).mkdir(parents=True, exist_ok=True)
        _write_messages(bodies, where, month_names, target)
        bodies.unlink(missing_ok=True)
    else:
        text = pd.concat(held, ignore_index=True) if held else pd.DataFrame(columns=["pos", "data"])
        found = _messages(text, where)
        parsed.messages = {
            name: found.loc[found["month"] == number, MESSAGE_COLUMNS].reset_index(drop=True)
            for number, name in enumerate(month_names)
        }
    names = flat.field_names.loc[flat.field_names["pos"].isin(kept["pos"])]
    parsed.about = {
        "months": counts,
        "problems": {TICKETS: t_rows.problems, TRANSACTIONS: x_rows.problems},
        "field_names": names[["field_id", "field"]].drop_duplicates().values.tolist(),
        "last_event": txns["created"].max().isoformat() if len(txns) else None,
    }
    return parsed
