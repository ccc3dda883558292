"""The derived cache, month by month: what every report reads, in memory bounded by a month.

A snapshot's parts (review.snapshot.load.Catalog: the tickets last updated in one month, with
their history) are derived one at a time by the context's compute step (events, stretches,
metrics, findings, checklist), each with what it reads of the rest: the ticket rows of the
tickets it links to. A part's frames are cached under a key of all they depend on
(fingerprint.part_key), so a snapshot pulled again derives only the months that changed and
those linking to them. What the whole snapshot needs of a part is kept with it: its incidents
as recurrence reads them (the recurrences are found once over every incident: a recurrence
needs the earlier ones), the survey's tallies of its history and custom fields, and what
its values name among the users and queues (for its key). Of every part, the whole snapshot
reads only a few columns of its tickets, and its links (LIGHT); the other rows only of the
tickets it needs. An incident still open (or closed without a close transaction) has figures
that run to the pull's time: those are derived together, at every run.

The derived directory holds one directory per frame (events.parquet/, ...) with a file per
part, hard links into the part cache: pandas and Arrow read such a directory as one table.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from review.analysis import quality
from review.analysis.survey import (
    EMPTY_TALLY,
    FIELD_TALLY,
    TALLIED,
    add_field_tallies,
    add_tallies,
    field_tally,
    tally_parts,
)
from review.analysis.timeline import IGNORED_TYPES
from review.closeout.recurrence import COLUMNS as RECURRENCE_COLUMNS
from review.closeout.recurrence import find_recurrences, opened
from review.closeout.registry import Registry, load_registry
from review.settings.config import Config
from review.snapshot import Snapshot, cache
from review.snapshot.cache import MESSAGES, REFS, Part
from review.snapshot.fingerprint import (
    derive_digest,
    digest,
    frame_digest,
    part_key,
    ticket_digests,
)
from review.snapshot.load import Catalog
from review.snapshot.manifest import utc
from review.workers import run_all

Compute = Callable[[Snapshot, Config, pd.DataFrame], Any]  # a Context: a frame per name
TICKET_FRAMES = ("tickets", "watchers", "custom_fields", "links")  # of the snapshot, per ticket
# what the whole snapshot's steps read of every part (frame: columns, None for all): the
# tickets' ids, creation (to keep the plausible ones), merges (quality.merged_away) and SLA
# levels (the survey), and every link. Other rows are read only for the tickets linked to or
# still open, and the survey adds up each part's tallies (Tallies).
LIGHT = {"tickets": ["ticket_id", "created", "effective_id", "sla"], "links": None}
GLOBAL = ("recurrences",)  # found once over every incident, written whole
# a part's incidents left to the run's "now" part, its rows per frame, and its counts for the
# survey of the whole snapshot (survey.tally, as rows of TALLY)
ABOUT = "part.json"
OPENED = "opened"  # a part's incidents as recurrence reads them (recurrence.opened)
TALLY = ["kind", "name", *TALLIED]
PARTS = "parts.json"  # the part keys a derived directory links to
DIGESTS = "ticket-digests.parquet"  # kept beside a parsed part: its linked tickets' digests
_DIGESTS = pa.schema([("ticket_id", pa.int64()), ("digest", pa.string())])
# recurrences are found once over all incidents: a part's compute need not find them again
NO_RECURRENCES = pd.DataFrame(columns=RECURRENCE_COLUMNS)


@dataclass(frozen=True)
class Tallies:
    """What the survey of the whole snapshot counts of a part (review.analysis.survey): its
    history's `tally` and its custom fields' `field_tally`; the parts' add up to the whole's."""

    history: pd.DataFrame
    fields: pd.DataFrame


BATCH = 1_500_000  # transactions derived in one go: about 1.5 GB of working memory
# bytes of cached message text derived in one go: the digests of what a review is about read
# every mail of a batch, about three times its cached size at their peak
MAIL_BATCH = 200_000_000


def derive_parts(
    catalog: Catalog,
    config: Config,
    staging: Path,
    store: Path,
    compute: Compute,
    derived: Sequence[str],
    workers: int | None = None,
) -> tuple[Snapshot, Tallies]:
    """Fill `staging` with the `derived` frames of every part (cached in `store`) and the
    snapshot frames a review reads (tickets, watchers, custom fields, links, messages,
    queues, users). Parts not cached yet are derived in batches of consecutive months, in
    `workers` processes (review.workers) when there is more than one batch. Returns the
    snapshot as LIGHT reads it (not its history, watchers or custom fields), and the
    survey's tallies of history and custom fields: each part's, kept with it, added."""
    light = catalog.snapshot(frames=LIGHT)
    registry = load_registry(config.gaps.registry)
    # each part's tickets as the snapshot keeps them (one read may leave out a ticket another
    # keeps, e.g. by the pull's time): the part's key names the tickets kept
    kept = set(light.tickets["ticket_id"])
    ids = [set(found.tolist()) & kept for found in catalog.ticket_ids]
    run = _Run(catalog, config, light, derive_digest(config), ids)
    per_ticket = [name for name in derived if name not in GLOBAL]
    keys, extras = [], []
    for number, found_ids in enumerate(ids):
        extra, linked = run.linked(found_ids, number)
        part = digest(catalog.parts[number].key, sorted(found_ids))
        keys.append(run.key(part, [number], linked, run.fallback))
        extras.append(extra)
    missing = [n for n, key in enumerate(keys) if not cache.done(store / key)]
    jobs = []
    for batch in _batches(missing, catalog.parts):
        inside = set().union(*(ids[n] for n in batch))
        outside = set().union(*(extras[n] for n in batch)) - inside
        todo = {n: (keys[n], ids[n]) for n in batch}
        jobs.append(
            _Job(catalog, config, compute, per_ticket, run.manifest, run.inactive, store, todo,
                 run.ticket_rows(outside), registry)
        )  # fmt: skip
    run_all(jobs, workers)
    homes = [store / key for key in keys]
    found, tallied, unsettled = _gathered(homes, run, registry)
    if unsettled:
        homes.append(run.now(unsettled, ids, per_ticket, compute, store))
    files, filled = _frame_files(homes, [*per_ticket, *TICKET_FRAMES], catalog.parts)
    frames = {"recurrences": found, "queues": catalog.queues, "users": catalog.users}
    if catalog.parts:
        for name, paths in files.items():
            _link_all(paths, filled, cache.file_of(staging, name))
    else:  # no ticket at all (a quiet month)
        frames.update(_empty_frames(catalog, config, compute, per_ticket))
    cache.write_frames(staging, frames)
    cache.write_json(staging / PARTS, sorted({p.parent.name for p in files[per_ticket[0]]}))
    return light, tallied


def _empty_frames(
    catalog: Catalog, config: Config, compute: Compute, per_ticket: list[str]
) -> dict[str, pd.DataFrame]:
    """The frames of a snapshot without a ticket: empty, typed as full ones (the whole
    snapshot's columns: LIGHT's tickets lack most)."""
    whole = catalog.snapshot()
    empty = compute(whole, config, NO_RECURRENCES)
    frames = {name: getattr(empty, name) for name in per_ticket}
    frames.update({name: getattr(whole, name) for name in TICKET_FRAMES})
    frames[MESSAGES] = pd.DataFrame(
        {"ticket_id": pd.Series(dtype="int64"), "txn_id": pd.Series(dtype="int64"),
         "data": pd.Series(dtype="string")}
    )  # fmt: skip
    return frames


def _gathered(
    homes: list[Path], run: _Run, registry: Registry
) -> tuple[pd.DataFrame, Tallies, set[int]]:
    """What the parts at `homes` keep for the whole snapshot: the recurrences of every
    incident (found over each part's OPENED rows: a recurrence needs the earlier incidents),
    the survey's tallies, and the tickets left to the run's "now" part."""
    about = [cache.read_json(home / ABOUT) for home in homes]
    rows = [row for found in about for row in found["tally"]]  # one frame: not one a part
    held = [row for found in about for row in found["fields"]]
    tallied = Tallies(
        add_tallies([pd.DataFrame(rows, columns=TALLY)]),
        add_field_tallies([pd.DataFrame(held, columns=FIELD_TALLY)]),
    )
    unsettled = {int(t) for found in about for t in found["unsettled"]}
    every = cache.read_files([cache.file_of(home, OPENED) for home in homes])[0]
    if every.empty:  # no incident (or no part): typed as the whole snapshot's
        whole = run.catalog.snapshot(frames=dict.fromkeys(TICKET_FRAMES))
        every = opened(whole, run.config, registry)
    return find_recurrences(every, run.config.gaps.recurrence_days), tallied, unsettled


def _frame_files(
    homes: list[Path], names: list[str], parts: list[Part]
) -> tuple[dict[str, list[Path]], set[Path]]:
    """Each frame's files in the derived parts at `homes` (and the messages of the snapshot's
    parts), and which of them have rows (an empty one's columns may lack types)."""
    files: dict[str, list[Path]] = {name: [] for name in names}
    filled: set[Path] = set()
    for home in homes:
        rows = cache.read_json(home / ABOUT)["rows"]
        for name in names:
            if name in rows:
                files[name].append(cache.file_of(home, name))
                if rows[name]:
                    filled.add(cache.file_of(home, name))
    files[MESSAGES] = [p.path(MESSAGES) for p in parts]
    filled.update(p.path(MESSAGES) for p in parts if p.transactions)
    return files, filled


def _batches(numbers: list[int], parts: list[Part]) -> list[list[int]]:
    """The parts in runs of about BATCH transactions and MAIL_BATCH bytes of message text
    (whichever is reached first; a part is never split)."""
    batches: list[list[int]] = []
    size = mail = 0
    for number in numbers:
        more = parts[number].transactions, _mail_bytes(parts[number])
        if not batches or size + more[0] > BATCH or mail + more[1] > MAIL_BATCH:
            batches.append([])
            size = mail = 0
        batches[-1].append(number)
        size, mail = size + more[0], mail + more[1]
    return batches


def _mail_bytes(part: Part) -> int:
    """The size of a part's message text as cached (0 when held in memory)."""
    return 0 if part.held is not None else part.path(MESSAGES).stat().st_size


@dataclass
class _Job:
    """A batch of parts to derive (in a worker process): each part's key and tickets, and the
    ticket rows of the tickets they link to outside the batch."""

    catalog: Catalog
    config: Config
    compute: Compute
    names: list[str]
    manifest: dict[str, Any]
    inactive: list[str]
    store: Path
    parts: dict[int, tuple[str, set[int]]]
    extra: dict[str, pd.DataFrame]
    registry: Registry

    def __call__(self) -> None:
        # part after part, not sorted into file order: what is derived is per ticket, a
        # ticket's rows are all in its part, and each part's rows are taken out of the results
        # in their order (_split): the same frames, without a sort of the batch's history
        snapshot = self.catalog.snapshot(parts=list(self.parts), in_file_order=False)
        for name, rows in self.extra.items():
            if len(rows):
                frame = pd.concat([getattr(snapshot, name), rows], ignore_index=True)
                setattr(snapshot, name, frame)
        snapshot.manifest = self.manifest
        context = self.compute(snapshot, self.config, NO_RECURRENCES)
        metrics = context.metrics
        status = snapshot.tickets.set_index("ticket_id")["status"].reindex(metrics["ticket_id"])
        open_ = ~status.isin(self.inactive).to_numpy() | metrics["resolved_at"].isna().to_numpy()
        unsettled = set(metrics.loc[open_, "ticket_id"].astype("int64"))
        # a time after the pull may be true at a later pull of the same rows: by its time too
        unsettled |= quality.on_pull_time(context.lost)
        every = {number: ids for number, (_, ids) in self.parts.items()}
        derived = _split(
            {name: getattr(context, name) for name in self.names},
            {number: ids - unsettled for number, ids in every.items()},
        )
        kept = _rows(snapshot.tickets, set().union(*every.values()))  # not the ones linked to
        mine = dataclasses.replace(snapshot, tickets=kept)
        held = _split(
            {**{name: getattr(snapshot, name) for name in TICKET_FRAMES},
             OPENED: opened(mine, self.config, self.registry)},
            every,
        )  # fmt: skip
        history = self.tallies(mine, every)
        for number, (key, ids) in self.parts.items():
            left = sorted(int(t) for t in unsettled & ids)
            tallied = Tallies(
                history.get(number, EMPTY_TALLY), field_tally(held[number]["custom_fields"])
            )
            _write(self.store / key, {**derived[number], **held[number]}, left, tallied)

    def tallies(self, mine: Snapshot, every: dict[int, set[int]]) -> dict[int, pd.DataFrame]:
        """The survey's history tally of each part's tickets (`mine`: the batch's snapshot of
        them), all parts in one pass."""
        numbers = list(every)
        ticket = np.concatenate([np.fromiter(every[n], dtype="int64") for n in numbers])
        part = np.repeat(numbers, [len(every[n]) for n in numbers])
        moves = self.catalog.surveyed(numbers, mine.transactions)  # not read again
        mine_only = moves.loc[moves["ticket_id"].isin(ticket)].reset_index(drop=True)  # as _rows
        history = dataclasses.replace(mine, transactions=mine_only)
        return tally_parts(history, pd.Series(part, index=ticket))


class _Run:
    """One derive of a catalog: what the keys of its parts share."""

    def __init__(
        self, catalog: Catalog, config: Config, light: Snapshot, common: str, ids: list[set[int]]
    ) -> None:
        self.catalog, self.config, self.light, self.common = catalog, config, light, common
        self.ids, self.kept = ids, set().union(*ids)  # each part's tickets, all of them
        self.inactive = list(config.statuses.inactive)
        pulled = utc(catalog.manifest.get("pulled_at"))
        # the Audit's "now" without a pull time: the last event of the whole snapshot
        self.fallback = None if pulled is not None else _last_event(catalog)
        self.manifest = dict(catalog.manifest)
        if self.fallback is not None:
            self.manifest["pulled_at"] = self.fallback
        self.names = digest(catalog.field_names.values.tolist())
        # the users and queues every part's values are looked up in (Run.named)
        self.lookups = digest(frame_digest(catalog.users), frame_digest(catalog.queues))[:16]
        self.seen: dict[tuple[tuple[int, ...], tuple[int, ...]], str] = {}  # digests of those
        # every link to a ticket, and a digest of each linked ticket's rows (what a part reads)
        links = light.links.loc[~light.links["external"]]
        target = pd.to_numeric(links["target"], errors="coerce")
        pairs = pd.DataFrame({"ticket_id": links["ticket_id"], "target": target}).dropna()
        self.pairs = pairs.astype("int64")
        self.targets = self.digests(set(self.pairs["target"]) & self.kept)
        # each part's links, found once (a search of every link for each part grew with the
        # square of the history)
        split = _split({"pairs": self.pairs}, dict(enumerate(ids)))
        self.by_part = [split[number]["pairs"] for number in range(len(ids))]

    def key(self, part: str, parts: Iterable[int], linked: str, now: str | None) -> str:
        """A part's key: its parse, what it reads of users, queues, field names and the
        tickets it links to, config, registry and code (and the pull's time, if `now`)."""
        users, queues = self.catalog.users, self.catalog.queues
        named = np.zeros(len(users), dtype=bool)
        queued = np.zeros(len(queues), dtype=bool)
        for number in parts:
            found = self.named(number)
            named[found["users"]] = True
            queued[found["queues"]] = True
        at = (tuple(np.flatnonzero(named).tolist()), tuple(np.flatnonzero(queued).tolist()))
        if at not in self.seen:  # most parts name the same users and queues
            self.seen[at] = digest(
                frame_digest(users.loc[named]), frame_digest(queues.loc[queued]), self.names
            )
        return part_key(part, self.common, self.seen[at], linked, now)

    def named(self, number: int) -> dict[str, list[int]]:
        """The rows of the users and queues a part's values name (positions), kept beside the
        part for these users and queues: a later run reads them instead of the part's values."""
        part = self.catalog.parts[number]
        kept = part.directory / f"named-{self.lookups}.json"
        try:
            found: dict[str, list[int]] = cache.read_json(kept)
            return found
        except (OSError, ValueError):
            pass
        refs = part.read(REFS)["value"]
        users, queues = self.catalog.users, self.catalog.queues
        named = _among(users["user_id"], refs) | _among(users["name"], refs)
        queued = _among(queues["queue_id"], refs) | _among(queues["name"], refs)
        found = {"users": np.flatnonzero(named).tolist(), "queues": np.flatnonzero(queued).tolist()}
        if part.held is None:
            _keep_beside(kept, partial(cache.write_json, value=found))
        return found

    def digests(self, ids: set[int]) -> dict[int, str]:
        """A digest of each of these tickets' rows (what a part linking to one reads of it).
        Each part keeps those it has made (DIGESTS), so a run reads the rows only of tickets
        first linked to since: a site whose tickets link across the years read most of the
        history's rows at every run."""
        holding = [n for n, held in enumerate(self.ids) if not held.isdisjoint(ids)]
        known = {n: self.kept_digests(n) for n in holding}
        wanted = pa.array(sorted(ids), pa.int64())
        every = pa.concat_tables([_DIGESTS.empty_table(), *known.values()])
        mine = every.filter(pc.is_in(every["ticket_id"], wanted))
        found = dict(zip(mine["ticket_id"].to_pylist(), mine["digest"].to_pylist(), strict=True))
        missing = ids - set(found)
        if not missing:
            return found
        rows = self.ticket_rows(missing)
        snapshot = dataclasses.replace(
            self.light,
            transactions=self.light.transactions.iloc[0:0],  # not what a link reads
            tickets=rows["tickets"],
            watchers=rows["watchers"],
            custom_fields=rows["custom_fields"],
            links=rows["links"],
        )
        digests = ticket_digests(snapshot)
        made = pd.DataFrame(
            {"ticket_id": digests.index.astype("int64"), "digest": digests.astype(str).to_numpy()}
        )
        found.update(zip(made["ticket_id"].tolist(), made["digest"].tolist(), strict=True))
        by_part = _split({DIGESTS: made}, {n: self.ids[n] & missing for n in holding})
        for number, new in by_part.items():
            if len(new[DIGESTS]):
                self.keep_digests(number, known[number], new[DIGESTS])
        return found

    def kept_digests(self, number: int) -> pa.Table:
        """ticket_id, digest: those a part keeps (none when it keeps none, or a damaged file)."""
        part = self.catalog.parts[number]
        if part.held is not None:
            return _DIGESTS.empty_table()
        try:
            found = pq.ParquetFile(part.directory / DIGESTS).read().select(_DIGESTS.names)
            return found.cast(_DIGESTS)
        except (OSError, ValueError, KeyError):
            return _DIGESTS.empty_table()

    def keep_digests(self, number: int, known: pa.Table, new: pd.DataFrame) -> None:
        """Keep a part's digests, `new` (ticket_id, digest) added: its directory is named by
        its content, so they never go stale."""
        part = self.catalog.parts[number]
        if part.held is None:
            added = pa.Table.from_pandas(new, schema=_DIGESTS, preserve_index=False)
            table = pa.concat_tables([known, added])
            _keep_beside(part.directory / DIGESTS, partial(pq.write_table, table))

    def ticket_rows(self, ids: set[int]) -> dict[str, pd.DataFrame]:
        """These tickets' rows in the per-ticket frames: those LIGHT holds whole from the
        whole snapshot's, the others read from the parts holding them, in the whole's order."""
        whole = [name for name, columns in LIGHT.items() if columns is None]
        rows = {name: _rows(getattr(self.light, name), ids) for name in whole}
        held = ids & self.kept
        parts = [n for n, found in enumerate(self.ids) if found & held]
        if not parts and self.ids:  # no rows: typed as a part's
            parts = [0]
        for name in TICKET_FRAMES:
            if name not in rows:
                rows[name] = self.catalog.frame(name, parts, ticket_ids=held)
        return {name: rows[name] for name in TICKET_FRAMES}

    def linked(self, ids: set[int], part: int | None = None) -> tuple[set[int], str]:
        """The tickets these link to (not among them), and a digest of what is read of them
        (`part`: the ids are that part's tickets)."""
        if part is None:
            pairs = self.pairs.loc[self.pairs["ticket_id"].isin(ids)]
        else:
            pairs = self.by_part[part]
        extra = set(pairs["target"]) - ids
        return extra, digest([(t, self.targets.get(t, "")) for t in sorted(extra)])

    def now(
        self, wanted: set[int], ids: list[set[int]], names: list[str], compute: Compute, store: Path
    ) -> Path:
        """The incidents whose figures run to the pull's time, all together."""
        parts = [n for n, found in enumerate(ids) if found & wanted]
        extra, linked = self.linked(wanted)
        material = digest([self.catalog.parts[n].key for n in parts], sorted(wanted))
        key = self.key(material, parts, linked, str(self.manifest.get("pulled_at")))
        home = store / key
        if cache.done(home):
            return home
        history = cache.concat(
            [self.catalog.parts[n].read("transactions", ticket_ids=wanted) for n in parts]
        ).drop(columns="seq")
        light = self.light
        rows = self.ticket_rows(wanted | extra)
        snapshot = Snapshot(
            path=light.path,
            manifest=self.manifest,
            tickets=rows["tickets"],
            transactions=history.sort_values("txn_id", kind="stable", ignore_index=True),
            watchers=rows["watchers"],
            custom_fields=rows["custom_fields"],
            field_names=light.field_names,
            links=rows["links"],
            queues=light.queues,
            users=light.users,
            messages=partial(self.catalog.messages, parts=parts),
        )
        context = compute(snapshot, self.config, NO_RECURRENCES)
        _write(home, {name: _rows(getattr(context, name), wanted) for name in names}, [])
        return home


def _write(
    home: Path,
    frames: dict[str, pd.DataFrame],
    unsettled: list[int],
    tallied: Tallies | None = None,
) -> None:
    staging = cache.staging_for(home)
    try:
        cache.write_frames(staging, frames)
        rows = {name: len(frame) for name, frame in frames.items()}
        about = {"unsettled": unsettled, "rows": rows}
        if tallied is not None:
            about["tally"] = tallied.history[TALLY].to_numpy().tolist()
            about["fields"] = tallied.fields[FIELD_TALLY].to_numpy().tolist()
        cache.write_json(staging / ABOUT, about)
        cache.publish(staging, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _among(values: pd.Series, candidates: pd.Series) -> np.ndarray:
    """values.isin(candidates) for text, in Arrow (pandas compares them one by one)."""
    found = pc.is_in(
        pa.array(values.astype("string").array), pa.array(candidates.astype("string").array)
    )
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _rows(frame: pd.DataFrame, ids: set[int]) -> pd.DataFrame:
    return frame.loc[frame["ticket_id"].isin(ids)].reset_index(drop=True)


def _keep_beside(kept: Path, write: Callable[[Path], None]) -> None:
    """Write what a run keeps beside a parsed part (`write` to a path), whole or not at all:
    a cache that cannot be written is only slower."""
    staging = kept.with_name(f"{kept.name}.{os.getpid()}")
    try:
        write(staging)
        os.replace(staging, kept)
    except OSError:
        staging.unlink(missing_ok=True)


def _split(
    frames: dict[str, pd.DataFrame], ids: dict[int, set[int]]
) -> dict[int, dict[str, pd.DataFrame]]:
    """Each part's rows of these frames (`ids`: each part's tickets), in the frames' order, as
    `_rows` gives them: one pass a frame, where `_rows` for each part of a batch of small
    months was a pass a part (three quarters of a cold derive at 1,000 tickets a month)."""
    numbers = list(ids)
    if all(frame.empty for frame in frames.values()):  # e.g. no links: no ticket to place
        none = {name: frame.reset_index(drop=True) for name, frame in frames.items()}
        return {number: dict(none) for number in numbers}
    sizes = [len(ids[number]) for number in numbers]
    tickets = itertools.chain.from_iterable(ids[number] for number in numbers)
    owner = pd.Series(
        np.repeat(np.arange(len(numbers)), sizes),
        index=np.fromiter(tickets, dtype="int64", count=sum(sizes)),
    )
    found: dict[int, dict[str, pd.DataFrame]] = {number: {} for number in numbers}
    for name, frame in frames.items():
        part = owner.reindex(frame["ticket_id"].to_numpy()).to_numpy()  # NaN: another's
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(len(numbers) + 1))
        for place, number in enumerate(numbers):
            chosen = order[bounds[place] : bounds[place + 1]]
            if len(chosen) and chosen[-1] - chosen[0] == len(chosen) - 1:  # rows in one run
                rows = frame.iloc[chosen[0] : chosen[-1] + 1]  # (the snapshot's, part by part)
            else:  # a copy of each column, text too
                rows = frame.take(chosen)
            found[number][name] = rows.reset_index(drop=True)
    return found


def _last_event(catalog: Catalog) -> str | None:
    """The time of the snapshot's last event (what an Audit takes for "now" without a pull
    time), read from every part's history."""
    last = None
    for part in catalog.parts:
        history = part.read("transactions", ["type", "created"])
        at = history.loc[~history["type"].isin(IGNORED_TYPES), "created"].max()
        if pd.notna(at) and (last is None or at > last):
            last = at
    return None if last is None else last.isoformat()


def _link_all(paths: list[Path], filled: set[Path], directory: Path) -> None:
    """A directory of the files (hard links; copies where links fail), read as one table.

    Files without rows are left out (their columns may lack types), unless all are empty.
    """
    directory.mkdir()
    for number, path in enumerate([p for p in paths if p in filled] or paths[:1]):
        target = cache.file_of(directory, f"{number:05d}")
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)


def prune(store: Path, derived: Path) -> None:
    """Drop the cached parts no derived directory links to (an hour old at least: one may be
    for a derive still running)."""
    import time

    used: set[str] = set()
    for directory in derived.iterdir() if derived.is_dir() else ():
        try:
            used.update(cache.read_json(directory / PARTS))
        except (OSError, ValueError):
            continue
    settled = time.time() - 3600
    for home in store.iterdir() if store.is_dir() else ():
        if home.name not in used and home.stat().st_mtime < settled:
            shutil.rmtree(home, ignore_errors=True)  # also what a killed derive left half done
