"""Read and validate a snapshot into the parquet cache, a month at a time; open it as frames.

A snapshot's files are read in segments: each month's part of tickets.jsonl and
transactions.jsonl (from the manifest's "parts"), or the whole files of a snapshot written
before parts. A segment is parsed block by block (review.snapshot.parse), its bad rows are
left out and listed with their file and line, and its tickets are cached by the month they
were last updated in (review.snapshot.cache). A segment already parsed, for this snapshot or
the one before it, is not parsed again: after a monthly pull only that month is read.

`open_catalog` gives the cached snapshot as month parts (the derived cache works through
them one at a time); `load_snapshot` gives it whole, as one Snapshot.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from review.errors import SnapshotError
from review.settings.utc import ISO_UTC
from review.snapshot import cache, plausible
from review.snapshot.cache import MESSAGES, MOVES, Part
from review.snapshot.fingerprint import digest, parse_version, snapshot_key
from review.snapshot.frames import MESSAGE_COLUMNS, Problem, Snapshot
from review.snapshot.layout import FOLLOWUPS, MANIFEST, PARTED, QUEUES, TICKETS, TRANSACTIONS, USERS
from review.snapshot.manifest import parts_of, read_manifest, utc
from review.snapshot.parse import REQUIRED, SCHEMAS, Span, missing_required, tables
from review.snapshot.segment import SEQ, SURVEYED, Rows, parse_segment, placed, typed_empty
from review.workers import run_all

_WHAT = {QUEUES: "queue", USERS: "user"}
PARALLEL_BYTES = 1 << 28  # parts of larger snapshots are parsed in worker processes
# The order rows of several months' parts are put in: as one file the pull writes (sorted by
# id) is read, watchers by role first (see parse.flatten_tickets)
_PULL_ORDER = {
    "tickets": ["ticket_id"],
    "transactions": ["txn_id"],
    "watchers": ["role", "ticket_id"],
    "custom_fields": ["ticket_id"],
    "links": ["ticket_id"],
    MOVES: ["txn_id"],
}
_ROLES = {"Requestor": 0, "Cc": 1, "AdminCc": 2}


def _rank(column: pd.Series) -> pd.Series:
    return column.map(_ROLES) if column.name == "role" else column


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Segment:
    """Stretches of tickets.jsonl and transactions.jsonl parsed together, and their cache key."""

    spans: dict[str, Span]
    key: str
    trusted: bool  # as the pull wrote it: a cached parse of it needs no checksum pass


def _segments(directory: Path, manifest: dict[str, Any]) -> list[Segment]:
    """Each month's part (manifest "parts"), or, without parts, the two whole files.

    A part is known by its checksum, so the same month of the next pull finds its parse in
    the cache; the files count as the pull left them when none was changed after the manifest.
    """
    sums = manifest.get("sha256") or {}
    parts = parts_of(manifest, directory / MANIFEST)
    if parts is not None and all(
        name in sums and _size(directory / name) == sum(p.length for p in parts[name])
        for name in PARTED
    ):
        written = _mtime(directory / MANIFEST)
        trusted = all(_mtime(directory / name) <= written for name in PARTED)
        found = []
        for pair in zip(parts[TICKETS], parts[TRANSACTIONS], strict=True):
            spans = {
                name: Span(directory, name, p.offset, p.length, p.sha256)
                for name, p in zip(PARTED, pair, strict=True)
            }
            material = [(p.sha256, p.length) for p in pair]
            found.append(Segment(spans, digest(parse_version(), material)[:32], trusted))
        return found
    spans = {name: Span(directory, name, sha256=sums.get(name)) for name in PARTED}
    stamps = [(name, _size(directory / name), _mtime(directory / name)) for name in PARTED]
    key = digest(parse_version(), [sums.get(n) for n in PARTED], stamps)[:32]
    return [Segment(spans, key, trusted=True)]


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else -1


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns if path.exists() else 0


def _parsed(segment: Segment, root: Path | None) -> tuple[list[Part], dict[str, Any]]:
    """The segment's month parts, from the cache under `root` (parsed into it if not there
    yet), or, without a cache, parsed and held in memory; and what the segment holds."""
    if root is None:
        parsed = parse_segment(segment.spans, None)
        parts = [
            Part(f"{segment.key}/{name}", name, Path(), len(frames["tickets"]),
                 len(frames["transactions"]), held={**frames, MESSAGES: parsed.messages[name]})
            for name, frames in parsed.months.items()
        ]  # fmt: skip
        return parts, parsed.about
    target = root / "segments" / segment.key
    if cache.done(target):
        about = _about(target)
        parts = cache.segment_parts(target, segment.key, about)
        if all(p.whole() for p in parts):
            if not segment.trusted:
                for span in segment.spans.values():
                    span.verify()
            return parts, about
        shutil.rmtree(target, ignore_errors=True)  # not whole: parsed again
    staging = cache.staging_for(target)
    try:
        parsed = parse_segment(segment.spans, staging)
        for name, frames in parsed.months.items():
            cache.write_frames(staging / (name or "none"), frames)
        cache.write_json(staging / "segment.json", parsed.about)
        cache.publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache.segment_parts(target, segment.key, parsed.about), parsed.about


def _about(target: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = cache.read_json(target / "segment.json")
    except (OSError, ValueError):
        return {"months": [{"month": "?", "tickets": 0, "transactions": 0}]}  # not whole
    return found


def _shared(
    directory: Path, manifest: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """queues.jsonl and users.jsonl (read whole: they are small), checked and flattened."""
    sums = manifest.get("sha256") or {}
    kept, problems = {}, []
    for name in (QUEUES, USERS):
        span = Span(directory, name, sha256=sums.get(name))
        parsed = list(tables(span))
        table = pa.concat_tables(parsed) if parsed else SCHEMAS[name].empty_table()
        ids = pd.Series(table.column("id").to_pandas())
        rows = Rows(span, pd.DataFrame({"pos": np.arange(table.num_rows), "id": ids}))
        rows.drop(
            missing_required(table, name),
            f"missing one of {', '.join(REQUIRED[name])}; row left out",
        )
        rows.drop_repeats(rows.frame["id"], _WHAT[name])
        keep = np.zeros(table.num_rows, dtype=bool)
        keep[rows.frame["pos"].to_numpy()] = True
        kept[name] = table.filter(pa.array(keep))
        problems += placed(rows.problems, 0)
    q, u = kept[QUEUES], kept[USERS]

    def text(table: pa.Table, column: str) -> pd.Series:
        return pd.Series(table.column(column).to_pandas(), dtype="string")

    frames = {
        "queues": pd.DataFrame(
            {
                "queue_id": q.column("id").to_pandas().astype("string"),
                "name": text(q, "Name"),
                # RT's lifecycle of the queue (which statuses are initial, active, inactive)
                "lifecycle": text(q, "Lifecycle").fillna(""),
            }
        ),
        "users": pd.DataFrame(
            {
                "user_id": u.column("id").to_pandas().astype("string"),
                "name": text(u, "Name"),
                "email": text(u, "EmailAddress").fillna(""),
                "real_name": text(u, "RealName").fillna(""),
                # RT's word on staff; missing (an older pull's row) is not known: NA
                "privileged": pd.Series(u.column("Privileged").to_pandas()).astype("boolean"),
            }
        ),
    }
    return frames, problems


# --------------------------------------------------------------------------- the catalog


@dataclass
class Catalog:
    """A snapshot in the parquet cache: its month parts and what every part shares."""

    path: Path
    manifest: dict[str, Any]
    parts: list[Part]
    order: list[int]  # each part's segment, in file order
    queues: pd.DataFrame
    users: pd.DataFrame
    field_names: pd.DataFrame
    problems: list[Problem]
    last_event: pd.Timestamp | None  # the latest transaction

    def frame(
        self,
        name: str,
        parts: Iterable[int] | None = None,
        columns: list[str] | None = None,
        ticket_ids: Iterable[int] | None = None,
        in_file_order: bool = True,
    ) -> pd.DataFrame:
        """One per-ticket frame of the parts chosen (all by default), in file order; with
        `ticket_ids`, only their rows, in the order a read of every part gives them. Without
        `in_file_order`, part after part: each ticket's rows are in one part, in file order."""
        chosen = list(range(len(self.parts)) if parts is None else parts)
        if not chosen:
            empty = typed_empty(name)
            return empty if columns is None else empty[columns]
        spanned = self.order if ticket_ids is not None else [self.order[i] for i in chosen]
        keys = _PULL_ORDER[name] if len(set(spanned)) > 1 else []
        read = None if columns is None else list(dict.fromkeys([*columns, *keys, SEQ]))
        whole, rows = self.read(name, chosen, read, ticket_ids)
        whole["_segment"] = np.repeat([self.order[i] for i in chosen], rows)
        if len(chosen) > 1 and in_file_order:  # months' parts: the order of one file
            whole = whole.sort_values(
                [*keys, "_segment", SEQ], kind="stable", ignore_index=True, key=_rank
            )
        whole = whole.drop(columns=["_segment", SEQ])
        return whole if columns is None else whole[columns]

    def __getstate__(self) -> dict[str, Any]:
        """What a worker is sent: not the ids read for this process (a million ids a batch)."""
        state = dict(self.__dict__)
        state.pop("ticket_ids", None)
        return state

    @cached_property
    def ticket_ids(self) -> list[np.ndarray]:
        """Each part's ticket ids (one read of every part's, made into pandas once)."""
        if not self.parts:
            return []
        every, rows = self.read("tickets", list(range(len(self.parts))), ["ticket_id"])
        return np.split(every["ticket_id"].to_numpy(dtype="int64"), np.cumsum(rows)[:-1])

    def read(
        self,
        name: str,
        parts: list[int],
        columns: list[str] | None = None,
        ticket_ids: Iterable[int] | None = None,
    ) -> tuple[pd.DataFrame, list[int]]:
        """One frame of these parts as one (in their order), and each one's number of rows."""
        if any(self.parts[i].held is not None for i in parts):  # parsed into memory
            frames = [self.parts[i].read(name, columns, ticket_ids) for i in parts]
            return cache.concat(frames), [len(frame) for frame in frames]
        return cache.read_files([self.parts[i].path(name) for i in parts], columns, ticket_ids)

    def snapshot(
        self,
        parts: Iterable[int] | None = None,
        frames: Mapping[str, list[str] | None] | None = None,
        in_file_order: bool = True,
    ) -> Snapshot:
        """The parts chosen (all by default) as one Snapshot; with `frames`, only those
        per-ticket frames are read, each with the columns it names (None: all), and the others
        are left empty (review.derive reads some columns of every part's tickets, and the rest
        only of the tickets it needs). `in_file_order`: as `frame`'s."""
        chosen = list(range(len(self.parts)) if parts is None else parts)
        wanted = dict.fromkeys(cache.PER_TICKET) if frames is None else frames
        per_ticket = {}
        for name in cache.PER_TICKET:
            if name in wanted:
                per_ticket[name] = self.frame(
                    name, chosen, wanted[name], in_file_order=in_file_order
                )
            else:  # no row of the first part, typed as its (typed_empty takes longer)
                per_ticket[name] = self.frame(name, chosen[:1], ticket_ids=())
        return _created_plausibly(
            Snapshot(
                path=self.path,
                manifest=self.manifest,
                queues=self.queues,
                users=self.users,
                field_names=self.field_names,
                problems=self.problems,
                messages=partial(self.messages, parts=chosen),
                **per_ticket,
            )
        )

    def messages(
        self, ticket_ids: Iterable[int] | None = None, parts: Iterable[int] | None = None
    ) -> pd.DataFrame:
        """ticket_id, txn_id, data: the text of the transactions of these tickets (all) in
        these parts (all)."""
        wanted = None if ticket_ids is None else sorted(set(ticket_ids))
        chosen = range(len(self.parts)) if parts is None else parts
        found = [
            self.parts[i].read(MESSAGES, ticket_ids=self._unless_all(i, wanted)) for i in chosen
        ]
        return cache.concat(found) if found else pd.DataFrame(columns=MESSAGE_COLUMNS)

    def _unless_all(self, part: int, wanted: list[int] | None) -> list[int] | None:
        """`wanted`, or None when it holds every ticket of the part: a filter that keeps every
        row still copies it (a batch's mails read for its digests, twice their size)."""
        if wanted is None or len(wanted) < self.parts[part].tickets:  # (a review's one)
            return wanted
        ids = self.parts[part].read("tickets", ["ticket_id"])["ticket_id"].to_numpy()
        return None if np.isin(ids, wanted).all() else wanted

    def surveyed(self, parts: list[int], history: pd.DataFrame | None = None) -> pd.DataFrame:
        """The history review.analysis.survey reads of some parts: status and queue moves (its
        types, segment.SURVEYED), not the whole history, in the order a read of every part
        gives them (by txn_id when the parts come from more than one segment). `history`: the
        parts' transactions as read part after part (`snapshot(parts, in_file_order=False)`,
        without the tickets it leaves out as created implausibly): the moves are taken out of
        it, not read again, where a sort by txn_id gives that order (a catalog of one segment
        gives its file's order, which only a read of it knows)."""
        if history is not None and len(set(self.order)) > 1:
            chosen = np.flatnonzero(history["type"].isin(SURVEYED).to_numpy())
            ids = history["txn_id"].to_numpy()[chosen]
            return history.take(chosen[np.argsort(ids, kind="stable")]).reset_index(drop=True)
        moves = self.frame(MOVES, parts)
        if len(set(self.order)) > 1:
            moves = moves.sort_values("txn_id", kind="stable", ignore_index=True)
        return moves


def _write_catalog(home: Path, catalog: Catalog, segments: list[str]) -> None:
    staging = cache.staging_for(home)
    try:
        cache.write_frames(staging, {"queues": catalog.queues, "users": catalog.users})
        cache.write_json(
            staging / "catalog.json",
            {
                "path": str(catalog.path),
                "segments": segments,
                "parts": [
                    [
                        str(p.directory.relative_to(home.parent.parent)),
                        p.key,
                        p.month,
                        p.tickets,
                        p.transactions,
                        order,
                    ]
                    for p, order in zip(catalog.parts, catalog.order, strict=True)
                ],
                "field_names": catalog.field_names.values.tolist(),
                "problems": cache.problems_to_json(catalog.problems),
                "last_event": None
                if catalog.last_event is None
                else catalog.last_event.isoformat(),
            },
        )
        cache.publish(staging, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_catalog(home: Path, path: Path, manifest: dict[str, Any]) -> Catalog:
    about = cache.read_json(home / "catalog.json")
    root = home.parent.parent
    parts = [Part(key, month, root / where, t, x) for where, key, month, t, x, _ in about["parts"]]
    return Catalog(
        path=path,
        manifest=manifest,
        parts=parts,
        order=[row[5] for row in about["parts"]],
        queues=pd.read_parquet(cache.file_of(home, "queues")),
        users=pd.read_parquet(cache.file_of(home, "users")),
        field_names=pd.DataFrame(about["field_names"], columns=["field_id", "field"]).astype(
            "string"
        ),
        problems=cache.problems_from_json(about["problems"]),
        last_event=utc(about["last_event"]) if about["last_event"] else None,
    )


def open_catalog(
    directory: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None
) -> Catalog:
    """The snapshot at `directory` in the parquet cache under `cache_dir` (parsing what is not
    there yet), or, without a cache, parsed into memory: rows with problems are left out and
    listed in `problems`."""
    path = Path(directory)
    manifest = read_manifest(path)
    root = None if cache_dir is None else Path(cache_dir)
    home = None if root is None else root / "snapshots" / snapshot_key(path, manifest)
    cached = None if home is None else _cached_catalog(home, path, manifest)
    if cached is not None:
        return cached
    segments = _segments(path, manifest)
    size = sum(s.length or 0 for segment in segments for s in segment.spans.values())
    side_by_side = root is not None and size > PARALLEL_BYTES
    jobs = [partial(_parsed, segment, root) for segment in segments]
    try:
        results = run_all(jobs) if side_by_side else [job() for job in jobs]
    except OSError as exc:  # a cache that cannot be written: parsed into memory
        _uncached(root, exc)
        root = home = None
        results = [_parsed(segment, None) for segment in segments]
    parts, order, names, last, problems = _combined(segments, results)
    follow = manifest.get("sha256", {}).get(FOLLOWUPS)
    if follow is not None and (path / FOLLOWUPS).is_file():
        Span(path, FOLLOWUPS, sha256=follow).verify()
    shared, shared_problems = _shared(path, manifest)
    catalog = Catalog(
        path=path,
        manifest=manifest,
        parts=parts,
        order=order,
        queues=shared["queues"],
        users=shared["users"],
        field_names=pd.DataFrame(names, columns=["field_id", "field"])
        .astype("string")
        .drop_duplicates()
        .reset_index(drop=True),
        problems=problems + shared_problems,
        last_event=utc(max(last)) if last else None,
    )
    _refuse_repeats_across(catalog)
    if root is not None and home is not None:
        try:
            _write_catalog(home, catalog, [s.key for s in segments])
            cache.prune(root, home, str(path))
        except OSError as exc:
            _uncached(root, exc)
    return catalog


_SAID: set[Path] = set()  # the caches `_uncached` has warned about in this process


def _uncached(root: Path | None, exc: OSError) -> None:
    """Say once that the cache under `root` cannot be written: the run goes on without it,
    slower and holding the whole snapshot in memory (a cron run should say why). Other
    errors (a file another run pruned meanwhile) only cost this run the cache: not said."""
    if root is None or exc.errno not in cache.UNWRITABLE or root in _SAID:
        return
    _SAID.add(root)
    print(
        f"warning: cannot write the snapshot cache {root} ({exc.strerror}): read without it, "
        f"slower and in more memory; {cache.how_to_write(exc)}",
        file=sys.stderr,
    )


def _cached_catalog(home: Path, path: Path, manifest: dict[str, Any]) -> Catalog | None:
    """The catalog cached at `home` when it is there whole; None for none or a damaged one
    (made again)."""
    if not cache.done(home):
        return None
    try:
        catalog = _read_catalog(home, path, manifest)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return catalog if all(part.whole() for part in catalog.parts) else None


def _combined(
    segments: list[Segment], results: list[tuple[list[Part], dict[str, Any]]]
) -> tuple[list[Part], list[int], list[Any], list[str], list[Problem]]:
    """The parsed segments put together: their parts, each part's segment number, field
    names, last events, and problems placed at their line in the snapshot's files."""
    parts: list[Part] = []
    order: list[int] = []
    names: list[Any] = []
    last: list[str] = []
    problems: dict[str, list[Problem]] = {TICKETS: [], TRANSACTIONS: []}
    for number, (segment, (found, about)) in enumerate(zip(segments, results, strict=True)):
        parts += found
        order += [number] * len(found)
        names += about["field_names"]
        last += [about["last_event"]] if about["last_event"] else []
        for name in problems:
            if about["problems"][name]:
                span = segment.spans[name]
                problems[name] += placed(about["problems"][name], span.lines_before(span.offset))
    return parts, order, names, last, problems[TICKETS] + problems[TRANSACTIONS]


def _refuse_repeats_across(catalog: Catalog) -> None:
    """A ticket in two months' parts: the parts were altered (a pull files each ticket once)."""
    if len(catalog.parts) < 2:
        return
    ids = catalog.ticket_ids
    if pd.Index(np.concatenate(ids)).is_unique:  # the months named only when one is not
        return
    months = np.repeat([p.month for p in catalog.parts], [len(found) for found in ids])
    both = pd.Series(months, index=np.concatenate(ids))
    twice = both.index.duplicated(keep=False)
    if twice.any():
        ticket = both.index[twice][0]
        seen = ", ".join(sorted(set(both[twice].loc[ticket])))
        raise SnapshotError(
            f"ticket {ticket} is in the parts of two months ({seen}); the snapshot is "
            "inconsistent: pull it again",
            str(catalog.path / TICKETS),
        )


def _created_plausibly(snapshot: Snapshot) -> Snapshot:
    """The snapshot without the tickets created at a time that cannot be true (before RT
    existed, after the pull: review.snapshot.plausible), each named in one problem line, as
    a ticket whose Created is unset is (a month, an age, every duration would rest on it)."""
    tickets = snapshot.tickets
    why = plausible.why_implausible(tickets["created"], None, snapshot.pulled_at)
    bad = why != ""
    if not bad.any():
        return snapshot
    stamps = tickets.loc[bad, "created"].dt.strftime(ISO_UTC)
    problems = [
        Problem(TICKETS, None, f"ticket {ticket}: Created {at} is {words}; ticket left out")
        for ticket, at, words in zip(
            tickets.loc[bad, "ticket_id"], stamps, plausible.describe(why[bad]), strict=True
        )
    ]
    gone = set(tickets.loc[bad, "ticket_id"])
    kept = {
        name: getattr(snapshot, name).loc[lambda f: ~f["ticket_id"].isin(gone)]
        for name in cache.PER_TICKET
    }
    return dataclasses.replace(snapshot, problems=[*snapshot.problems, *problems], **kept)


def load_snapshot(
    directory: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> Snapshot:
    """Read and validate a snapshot; rows with problems are left out and listed in `problems`.

    With `cache_dir`, the parsed frames are kept there as parquet (review.snapshot.cache)
    and read from there next time; without, they are held in memory, message bodies too.
    """
    return open_catalog(directory, cache_dir).snapshot()
