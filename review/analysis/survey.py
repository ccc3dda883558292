"""What a site's data holds, whatever the config says: queues, fields, statuses, SLA levels.

`survey` reads a snapshot the way a new site's first hour needs it: every queue (with its
lifecycle, the tickets created in it, now in it and moved into it), every ticket custom
field (how many tickets fill it, its most common values), every status (how many tickets
hold or held it, created in it, and its role in RT's lifecycle), and the SLA levels on the
tickets. `review init` drafts a config from it and review.analysis.fit holds a config
against it.

A status's role comes from what RT itself recorded (RT keeps no list of a lifecycle's
statuses in REST2): RT sets a ticket's Resolved date when it enters an inactive status, so
a ticket that now holds a status it entered exactly when Resolved was set shows the status
is inactive, and one that entered it after (or never) shows it is active. RT sets Started
when a ticket first leaves an initial status (or at creation in any other), so a ticket
created in a status and not started then shows the status is initial. Read live from RT,
TicketSQL's `__Inactive__` answers instead (review.rt.survey).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from review.rt.survey import OUTSIDE
from review.snapshot import Snapshot
from review.snapshot.frames import sort_stable

INITIAL, ACTIVE, INACTIVE = "initial", "active", "inactive"
ROLES = (INITIAL, ACTIVE, INACTIVE)
QUEUE, STATUS = "queue", "status"  # a tally's kinds of rows
# a tally's counts: queues' now, created, moved_in, moved_out; statuses' now, ever, created
# (at creation) and the tickets whose dates show each role
TALLIED = ("now", "created", "moved_in", "moved_out", "ever", INACTIVE, ACTIVE, INITIAL)
# a field tally's columns: per custom field and value, the tickets holding it (value "": the
# tickets that fill the field at all)
FIELD_TALLY = ["field", "value", "tickets"]
# RT writes Resolved and the status change in the same request: allow for a second ticking over
_SAME_MOMENT = pd.Timedelta(seconds=2)


@dataclass(frozen=True)
class QueueSurvey:
    """One queue: its lifecycle and how tickets used it."""

    name: str
    lifecycle: str
    now: int  # tickets now in it
    created: int  # tickets created in it
    moved_in: int  # moves of tickets into it
    moved_out: int  # moves of tickets out of it


@dataclass(frozen=True)
class FieldSurvey:
    """One ticket custom field: tickets that fill it and its values, most common first."""

    name: str
    filled: int
    values: tuple[tuple[str, int], ...]

    def top(self, count: int = 5) -> str:
        """'a (12), b (3), ... and 4 more' for messages and comments."""
        shown = ", ".join(f"{v} ({n})" for v, n in self.values[:count])
        more = len(self.values) - count
        return shown + (f" and {more} more" if more > 0 else "") if shown else "no values"


@dataclass(frozen=True)
class StatusSurvey:
    """One status: tickets that hold it now, ever held it, were created in it; its role."""

    name: str
    now: int
    ever: int
    at_creation: int
    role: str  # one of ROLES, or '' when the data cannot tell
    evidence: str  # why, in words

    def counts(self) -> str:
        """'now on 12 tickets, held by 14' in messages."""
        return f"now on {_tickets(self.now)}, held by {self.ever}"


@dataclass(frozen=True)
class Survey:
    """What the data of one site holds (see the module docstring)."""

    source: str  # 'the snapshot DIR' or 'RT at URL'
    tickets: int
    queues: tuple[QueueSurvey, ...]
    fields: tuple[FieldSurvey, ...]
    statuses: tuple[StatusSurvey, ...]
    sla_levels: tuple[tuple[str, int], ...]
    defined_fields: frozenset[str] = field(default_factory=frozenset)  # on a ticket, even empty

    def field(self, name: str) -> FieldSurvey | None:
        return next((f for f in self.fields if f.name == name), None)

    def status(self, name: str) -> StatusSurvey | None:
        return next((s for s in self.statuses if s.name == name), None)

    def queue(self, name: str) -> QueueSurvey | None:
        return next((q for q in self.queues if q.name == name), None)

    def has_field(self, name: str) -> bool:
        """Does any ticket carry the field (filled or not)?"""
        return name in self.defined_fields or self.field(name) is not None

    def fields_text(self, count: int = 8) -> str:
        """'A (12), B (11), ...': the fields tickets fill, most filled first."""
        shown = ", ".join(f"{f.name} ({f.filled})" for f in self.fields[:count])
        more = len(self.fields) - count
        return shown + (f" and {more} more" if more > 0 else "") if shown else "none"

    def statuses_text(self) -> str:
        """'finished (60), withdrawn (1)': the statuses tickets hold now."""
        held = sorted((s for s in self.statuses if s.now), key=lambda s: (-s.now, s.name))
        return ", ".join(f"{s.name} ({s.now})" for s in held) or "none"

    def with_rt_roles(self, said: dict[str, str]) -> Survey:
        """The survey with RT's own word on each status ('inactive', 'active', or '' where
        queues disagree) over what its dates show; RT's "active" includes initial statuses,
        so a status the dates show initial stays initial; one RT's lifecycles no longer have
        (OUTSIDE) keeps what its dates show."""
        statuses = []
        for s in self.statuses:
            verdict = said.get(s.name)
            if verdict == INACTIVE or (verdict == ACTIVE and s.role != INITIAL):
                s = replace(s, role=verdict, evidence=f"RT counts it {verdict} (TicketSQL "
                            f"__{'Inactive' if verdict == INACTIVE else 'Active'}__)")  # fmt: skip
            elif verdict == "":
                s = replace(s, role="", evidence="RT counts it inactive in one queue's "
                            "lifecycle and active in another's")  # fmt: skip
            elif verdict == OUTSIDE:
                dates = s.evidence or "role unknown"
                s = replace(s, evidence="no lifecycle of its queues has it now (RT counts it "
                            f"neither active nor inactive); {dates}")  # fmt: skip
            statuses.append(s)
        return replace(self, statuses=tuple(statuses))


EMPTY_TALLY = pd.DataFrame(
    {"kind": pd.Series(dtype=object), "name": pd.Series(dtype=object)}
    | {name: pd.Series(dtype="int64") for name in TALLIED}
)


def survey(
    snapshot: Snapshot,
    source: str = "",
    tallied: pd.DataFrame | None = None,
    fields: pd.DataFrame | None = None,
) -> Survey:
    """The survey of a snapshot (see the module docstring); `tallied`, when given, is the
    `tally` of its history (summed over its parts: `add_tallies`), which is then not read;
    `fields`, the `field_tally` of its custom fields (summed: `add_field_tallies`), likewise."""
    tickets = snapshot.tickets
    if tickets.empty:  # a quiet window: its queues, and nothing else to tell
        return Survey(
            source=source or f"the snapshot {snapshot.path}",
            tickets=0,
            queues=tuple(
                QueueSurvey(str(q.name), str(q.lifecycle), 0, 0, 0, 0)
                for q in snapshot.queues.itertuples()
            ),
            fields=(),
            statuses=(),
            sla_levels=(),
        )
    counts = tally(snapshot) if tallied is None else tallied
    return Survey(
        source=source or f"the snapshot {snapshot.path}",
        tickets=len(tickets),
        queues=_queues(snapshot.queues, _of_kind(counts, QUEUE)),
        fields=_fields(field_tally(snapshot.custom_fields) if fields is None else fields),
        statuses=_statuses(_of_kind(counts, STATUS)),
        sla_levels=_counts(tickets.loc[tickets["sla"] != "", "sla"]),
        defined_fields=frozenset(snapshot.field_names["field"].dropna()),
    )


def tally(snapshot: Snapshot) -> pd.DataFrame:
    """What the survey counts of the history (status and queue moves), per queue and status:
    kind ('queue' or 'status'), name and TALLIED counts. Every count is of tickets or of one
    ticket's moves, so the tallies of snapshots without a ticket in common add up
    (`add_tallies`): review.derive keeps one per month's part."""
    ids = pd.concat([snapshot.tickets["ticket_id"], snapshot.transactions["ticket_id"]])
    return tally_parts(snapshot, pd.Series(0, index=ids.unique())).get(0, EMPTY_TALLY)


def tally_parts(snapshot: Snapshot, part_of: pd.Series) -> dict[int, pd.DataFrame]:
    """`tally` of each part's tickets (`part_of`: a ticket's part, by ticket_id), in one pass:
    a part is a month of tickets, and a pass for each of a batch's sixty small months cost more
    than their counting. Parts without a ticket are left out. Parts and names are counted as
    numbers in their sorted order (`_Names`): the counts come out in the order counting them
    as text gave (by first appearance, or sorted), and counting text cost most of a tally."""
    tickets, tx = snapshot.tickets, snapshot.transactions
    number, parts = pd.factorize(part_of.to_numpy(), sort=True)  # -1: none
    numbered = pd.Series(number.astype("int64"), index=part_of.index)
    part = numbered.reindex(tickets["ticket_id"], fill_value=-1).to_numpy()
    kind, field = tx["type"], tx["field"]
    is_set = kind == "Set"
    moves = {
        QUEUE: tx.loc[is_set & (field == "Queue"), ["ticket_id", "old", "new"]],
        STATUS: tx.loc[
            (kind == "Status") | (is_set & (field == "Status")),
            ["ticket_id", "created", "txn_id", "old", "new"],
        ],
    }
    queue_names = snapshot.queues.set_index("queue_id")["name"]
    queues = _queue_counts(tickets, part, moves[QUEUE], queue_names, numbered)
    statuses = _status_counts(tickets, part, moves[STATUS], numbered)
    found = pd.concat([queues.assign(kind=QUEUE), statuses.assign(kind=STATUS)])
    found = found.rename_axis(["part", "name"]).reset_index()
    found = (
        found.reindex(columns=["part", "kind", "name", *TALLIED])
        .fillna(dict.fromkeys(TALLIED, 0))
        .astype(dict.fromkeys(TALLIED, "int64"))
    )
    at = np.asarray(parts)[found.pop("part").to_numpy(dtype="int64")]
    at = pd.Series(at, index=found.index).astype("int64")
    return {int(n): rows.reset_index(drop=True) for n, rows in found.groupby(at, sort=False)}


def _by_part(part: np.ndarray, codes: np.ndarray) -> pd.Series:
    """How many rows there are of each part and name (`part`, `codes`: numbers, -1 where
    missing), indexed by (part, code) in the order each first appears, as value_counts(
    sort=False) gives them; a row without a part or a name is not counted."""
    key, _, width = _pairs(part, codes)
    seen = pd.unique(key)  # in the order they first appear
    return pd.Series(np.bincount(key)[seen], index=_index(seen, width))


def _sum_by_part(flags: np.ndarray, part: np.ndarray, codes: np.ndarray) -> pd.Series:
    """How many rows of each part and name have `flags` set, indexed by (part, code) in
    sorted order, as flags.groupby([part, codes]).sum() gives them (no part or name: left
    out)."""
    key, known, width = _pairs(part, codes)
    seen = np.flatnonzero(np.bincount(key))
    sums = np.bincount(key, weights=flags[known])[seen]
    return pd.Series(sums.astype("int64"), index=_index(seen, width))


def _pairs(part: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Each (part, code) as one number (that sorts as they do), of the rows with both; which
    rows those are; and the width: key // width is the part, key % width the code."""
    known = (codes >= 0) & (part >= 0)
    width = int(codes.max(initial=0)) + 1
    return part[known] * width + codes[known], known, width


def _index(key: np.ndarray, width: int) -> pd.MultiIndex:
    """(part, code) of each of `_pairs`' numbers."""
    return pd.MultiIndex.from_arrays([key // width, key % width])


class _Names:
    """The names a tally counts (statuses, or queues) as numbers: each one's place among them
    all in sorted order, so (part, number) sorts, and is unique, as (part, name) is and the
    counts come out in the order pandas gives them by name; -1 stands for a missing name.
    Each distinct value of a column is read once (`rename`: how each is named)."""

    def __init__(
        self,
        columns: list[pd.Series],
        rename: Callable[[pd.Series], pd.Series] | None = None,
    ) -> None:
        found = [pd.factorize(column) for column in columns]
        distinct = [pd.Series(np.asarray(uniques, dtype=object)) for _, uniques in found]
        if rename is not None:
            distinct = [rename(values) for values in distinct]
        every: set[str] = set().union(*(values.tolist() for values in distinct))
        self.names = np.array(sorted(every), dtype=object)
        where = pd.Index(self.names)
        self.codes = [  # a missing value (-1) takes the last number: -1
            np.append(where.get_indexer(values), -1).astype("int64")[codes]
            for (codes, _), values in zip(found, distinct, strict=True)
        ]

    def code(self, name: str) -> int:
        """The number of `name`, -1 when no value is it."""
        at = int(np.searchsorted(self.names, name))
        return at if at < len(self.names) and self.names[at] == name else -1

    def named(self, counts: pd.DataFrame) -> pd.DataFrame:
        """Counts indexed by (part, number) as indexed by (part, name)."""
        index = counts.index
        names = self.names[index.get_level_values(1).to_numpy(dtype="int64")]
        named = pd.DataFrame({"part": index.get_level_values(0), "name": names})  # typed as text
        return counts.set_axis(pd.MultiIndex.from_frame(named))


def _of_kind(counts: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A tally's counts of queues or of statuses, by name."""
    return counts.loc[counts["kind"] == kind].set_index("name")[list(TALLIED)]


def add_tallies(tallies: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The tally of snapshots without a ticket in common: their counts added up."""
    found = pd.concat([EMPTY_TALLY, *tallies], ignore_index=True)
    summed = found.groupby(["kind", "name"], sort=False)[list(TALLIED)].sum().reset_index()
    return summed.astype(dict.fromkeys(TALLIED, "int64"))


def field_tally(custom_fields: pd.DataFrame) -> pd.DataFrame:
    """What the survey counts of the custom fields (FIELD_TALLY): per field, the tickets that
    fill it and those holding each of its values. Counts of tickets, so the field tallies of
    snapshots without a ticket in common add up (`add_field_tallies`)."""
    text = custom_fields["value"].astype(str).str.strip()
    # fields and values as numbers, in sorted order (-1: missing, a value of its own to keep
    # a row once, none to be counted): counted as numbers, not text
    kept = (text != "").to_numpy(dtype=bool, na_value=False)
    fields, field_names = pd.factorize(custom_fields["field"].loc[kept], sort=True)
    values, value_names = pd.factorize(text.loc[kept], sort=True)
    tickets = pd.factorize(custom_fields["ticket_id"].loc[kept])[0]
    holding = pd.factorize((fields + 1) * (tickets.max(initial=0) + 1) + tickets)[0]
    once = ~pd.Series(holding * (len(value_names) + 1) + values).duplicated().to_numpy()
    once &= fields >= 0
    fields, tickets, values = fields[once], tickets[once], values[once]
    width = max(len(value_names), 1)
    both = values >= 0
    pair, held = pd.factorize(fields[both] * width + values[both], sort=True)
    counts = np.bincount(pair, minlength=len(held))
    ticket_width = tickets.max(initial=0) + 1
    filled = np.bincount(pd.unique(fields * ticket_width + tickets) // ticket_width)
    named = np.flatnonzero(filled)
    names = np.asarray(field_names, dtype=object)
    found = pd.DataFrame(
        {
            "field": np.concatenate([names[held // width], names[named]]),
            "value": np.concatenate(
                [
                    np.asarray(value_names, dtype=object)[held % width],
                    np.full(len(named), "", dtype=object),
                ]
            ),
            "tickets": np.concatenate([counts, filled[named]]),
        }
    )
    return found.astype({"field": str, "value": str, "tickets": "int64"})


def add_field_tallies(tallies: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The field tally of snapshots without a ticket in common: their counts added up."""
    empty = pd.DataFrame(columns=FIELD_TALLY).astype({"tickets": "int64"})
    found = pd.concat([empty, *tallies], ignore_index=True)
    summed = found.groupby(["field", "value"], sort=True)["tickets"].sum().reset_index()
    return summed.astype({"field": str, "value": str, "tickets": "int64"})


def _fields(counts: pd.DataFrame) -> tuple[FieldSurvey, ...]:
    """Every field a ticket fills, most filled first, from a field tally."""
    found = []
    for name, group in counts.groupby("field", sort=True):
        held = group.loc[group["value"] != ""]
        ordered = sorted(
            zip(held["value"], held["tickets"], strict=True), key=lambda i: (-i[1], i[0])
        )
        found.append(
            FieldSurvey(
                name=str(name),
                filled=int(group.loc[group["value"] == "", "tickets"].sum()),
                values=tuple((str(v), int(n)) for v, n in ordered),
            )
        )
    return tuple(sorted(found, key=lambda f: (-f.filled, f.name)))


def _counts(values: pd.Series) -> tuple[tuple[str, int], ...]:
    """(value, count) most common first, ties by value."""
    counts = values.astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple((str(v), int(n)) for v, n in ordered)


def _first(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """Each key's first value that is not missing (-1), by key: groupby(keys).first()."""
    known = values >= 0
    distinct, first = np.unique(keys[known], return_index=True)
    return pd.Series(values[known][first], index=distinct)


def _queue_counts(
    tickets: pd.DataFrame, part: np.ndarray, queue_moves: pd.DataFrame, names: pd.Series,
    part_of: pd.Series,
) -> pd.DataFrame:  # fmt: skip
    """Per part and queue: tickets now in it, created in it (the old queue of its first move,
    else the one it is in now), moves into and out of it. A queue RT's list does not name is
    counted by its id. `part`: each ticket's part; `part_of`: the part of each ticket_id."""
    moved = part_of.reindex(queue_moves["ticket_id"], fill_value=-1).to_numpy()
    coded = _Names(
        [queue_moves["old"], queue_moves["new"], tickets["queue_id"]],
        lambda ids: ids.map(names).fillna(ids),
    )
    old, new, now = coded.codes
    first = _first(queue_moves["ticket_id"].to_numpy(), old)
    at_first = first.reindex(tickets["ticket_id"].to_numpy()).to_numpy()
    created = np.where(np.isnan(at_first), now, np.nan_to_num(at_first, nan=-1)).astype("int64")
    counts = pd.DataFrame(
        {
            "now": _by_part(part, now),
            "created": _by_part(part, created),
            "moved_in": _by_part(moved, new),
            "moved_out": _by_part(moved, old),
        }
    ).fillna(0)
    return coded.named(counts)


def _queues(queues: pd.DataFrame, count: pd.DataFrame) -> tuple[QueueSurvey, ...]:
    """Every queue the snapshot lists or a ticket was ever in, with its counts (a tally's)."""
    lifecycles = queues.set_index("name")["lifecycle"]
    every = sorted(set(queues["name"]) | set(count.index))
    rows = count.reindex(every, fill_value=0).to_dict("index")
    return tuple(
        QueueSurvey(
            name=str(q),
            lifecycle=str(lifecycles.get(q, "")),
            now=int(rows[q]["now"]),
            created=int(rows[q]["created"]),
            moved_in=int(rows[q]["moved_in"]),
            moved_out=int(rows[q]["moved_out"]),
        )
        for q in every
    )


def _status_counts(
    tickets: pd.DataFrame, part: np.ndarray, changes: pd.DataFrame, part_of: pd.Series
) -> pd.DataFrame:
    """Per part and status: tickets in it now, ever in it, created in it, and the tickets whose
    dates show each role (INACTIVE, ACTIVE, INITIAL). `changes`: the status changes."""
    coded = _Names([tickets["status"], changes["old"], changes["new"]])
    now, old, new = coded.codes
    moves = pd.DataFrame(
        {
            "ticket_id": changes["ticket_id"].to_numpy(),
            "at": changes["created"].array,
            "seq": changes["txn_id"].to_numpy(),
            "old": old,
            "status": new,
        }
    )
    moves = sort_stable(moves, ["ticket_id", "at", "seq"])  # in time order
    moves["part"] = part_of.reindex(moves["ticket_id"], fill_value=-1).to_numpy()
    ids = tickets["ticket_id"].to_numpy()
    # each ticket's status at creation: the first change's old value, else its status now
    first = _first(moves["ticket_id"].to_numpy(), moves["old"].to_numpy()).reindex(ids).to_numpy()
    unset = np.isnan(first) | (first == coded.code(""))
    created_in = np.where(unset, now, np.nan_to_num(first, nan=-1)).astype("int64")
    # every entry into a status: creation, then each move; Resolved is the last entry into an
    # inactive one, so an entry at Resolved is into an inactive status and one after it is not
    entries = pd.concat(
        [
            pd.DataFrame(
                {
                    "ticket_id": ids,
                    "part": part,
                    "at": tickets["created"].array,  # kept typed: no Python object per ticket
                    "seq": -1,  # creation comes before any change of the same second
                    "status": created_in,
                }
            ),
            moves[["ticket_id", "part", "at", "seq", "status"]],
        ],
        ignore_index=True,
    )
    entries = entries.loc[(entries["status"] >= 0) & (entries["status"] != coded.code(""))]
    entries = sort_stable(entries, ["ticket_id", "at", "seq"])
    at_resolved, after = _at_resolved(entries, tickets)
    started, created = tickets["started"], tickets["created"]
    unstarted = (started.isna() | (started > created + _SAME_MOMENT)).to_numpy()
    ever = _ever(entries, moves, coded)
    by_entry = entries["part"].to_numpy(), entries["status"].to_numpy()
    counts = pd.DataFrame(
        {
            "now": _by_part(part, now),
            "ever": _by_part(*ever),
            "created": _by_part(part, created_in),
            INACTIVE: _sum_by_part(at_resolved, *by_entry),
            ACTIVE: _sum_by_part(after, *by_entry),
            INITIAL: _sum_by_part(unstarted, part, created_in),
        }
    ).fillna(0)
    return coded.named(counts)


def _at_resolved(entries: pd.DataFrame, tickets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Of each entry into a status (in ticket and time order): whether Resolved was set at it
    (the last one within the moment of Resolved), and whether it came after Resolved (or the
    ticket has none)."""
    ids = tickets["ticket_id"].to_numpy()
    resolved = pd.Series(tickets["resolved"].array, index=ids).reindex(entries["ticket_id"])
    # typed even when there are no tickets (a quiet snapshot): object columns cannot subtract
    gap = pd.Series(
        pd.to_datetime(entries["at"], utc=True).array - pd.to_datetime(resolved, utc=True).array
    )
    # the entry Resolved was set at: the last one within the moment (created and closed in
    # the same second, the creation status was not the closing one)
    near = np.flatnonzero((gap.abs() <= _SAME_MOMENT).to_numpy())
    near_ids = entries["ticket_id"].to_numpy()[near]
    last = np.ones(len(near), dtype=bool)  # entries are in ticket order
    last[:-1] = near_ids[1:] != near_ids[:-1]
    at_resolved = np.zeros(len(entries), dtype=bool)
    at_resolved[near[last]] = True
    after = resolved.isna().to_numpy() | (gap > _SAME_MOMENT).to_numpy()
    return at_resolved, after


def _ever(entries: pd.DataFrame, moves: pd.DataFrame, coded: _Names) -> tuple[np.ndarray, ...]:
    """(part, status) of each status each ticket held, entered or left, once per ticket."""
    held = {
        column: np.concatenate([entries[column].to_numpy(), moves[other].to_numpy()])
        for column, other in (("ticket_id", "ticket_id"), ("part", "part"), ("status", "old"))
    }
    kept = (held["status"] >= 0) & (held["status"] != coded.code(""))
    held = {column: values[kept] for column, values in held.items()}
    tickets_in = pd.factorize(held["ticket_id"])[0].astype("int64")
    pair = pd.Series(tickets_in * (len(coded.names) + 1) + held["status"])
    once = ~pair.duplicated().to_numpy()
    return held["part"][once], held["status"][once]


def _statuses(count: pd.DataFrame) -> tuple[StatusSurvey, ...]:
    """One survey per status any ticket was ever in (counts: a tally's): tickets in it now,
    ever and at creation, and the role RT's dates give it."""
    rows = count.loc[count["ever"] > 0].to_dict("index")
    return tuple(
        StatusSurvey(
            name=str(name),
            now=int(rows[name]["now"]),
            ever=int(rows[name]["ever"]),
            at_creation=int(rows[name]["created"]),
            **_role(pd.Series(rows[name])),
        )
        for name in sorted(rows, key=str)
    )


def _role(counts: pd.Series) -> dict[str, str]:
    """A status's role from the tickets that show it (counts by role), with the evidence."""
    inactive, active, initial = (int(counts[r]) for r in (INACTIVE, ACTIVE, INITIAL))
    if inactive and not (active or initial):
        return {"role": INACTIVE, "evidence": f"RT set Resolved as {_tickets(inactive)} entered it"}
    if initial and not inactive:
        return {
            "role": INITIAL,
            "evidence": f"{_tickets(initial)} created in it were not started, as RT does "
            "only in an initial status",
        }
    if active and not inactive:
        return {
            "role": ACTIVE,
            "evidence": f"{_tickets(active)} entered it after their last close, or never closed",
        }
    if inactive:
        return {
            "role": "",
            "evidence": f"mixed: RT set Resolved as {_tickets(inactive)} entered it, but not for "
            f"{active}: queues with different lifecycles?",
        }
    return {"role": "", "evidence": "RT's dates do not tell: every ticket left it before it closed"}


def _tickets(count: int) -> str:
    return f"{count} ticket{'' if count == 1 else 's'}"


def roles(statuses: Iterable[StatusSurvey], role: str) -> list[str]:
    """The names of the statuses of one role, most used first."""
    found = [s for s in statuses if s.role == role]
    return [s.name for s in sorted(found, key=lambda s: (-s.ever, s.name))]
