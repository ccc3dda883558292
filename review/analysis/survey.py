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

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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
    than their counting. Parts without a ticket are left out."""
    tickets, tx = snapshot.tickets, snapshot.transactions
    moves = _status_moves(tx).assign(part=lambda m: part_of.reindex(m["ticket_id"]).to_numpy())
    tickets = tickets.assign(part=part_of.reindex(tickets["ticket_id"]).to_numpy())
    created_in = _status_at_creation(tickets, moves)
    queue_names = snapshot.queues.set_index("queue_id")["name"]
    queues = _queue_counts(tickets, tx, queue_names, part_of).assign(kind=QUEUE)
    statuses = _status_counts(tickets, moves, created_in).assign(kind=STATUS)
    found = pd.concat([queues, statuses]).rename_axis(["part", "name"]).reset_index()
    found = (
        found.reindex(columns=["part", "kind", "name", *TALLIED])
        .fillna(dict.fromkeys(TALLIED, 0))
        .astype(dict.fromkeys(TALLIED, "int64"))
    )
    parts = found.pop("part").astype("int64")
    return {int(n): rows.reset_index(drop=True) for n, rows in found.groupby(parts, sort=False)}


def _by_part(part: object, values: object) -> pd.Series:
    """How many of `values` there are in each part: counts indexed by (part, value)."""
    return pd.DataFrame({"part": part, "name": values}).value_counts(sort=False)


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
    values = custom_fields.assign(value=custom_fields["value"].astype(str).str.strip())
    values = values.loc[values["value"] != ""].drop_duplicates(["field", "ticket_id", "value"])
    held = values.groupby(["field", "value"], sort=True).size()
    filled = values.groupby("field", sort=True)["ticket_id"].nunique()
    found = pd.concat(
        [
            held.rename("tickets").reset_index(),
            filled.rename("tickets").reset_index().assign(value=""),
        ],
        ignore_index=True,
    )
    return found[FIELD_TALLY].astype({"field": str, "value": str, "tickets": "int64"})


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


def _status_moves(tx: pd.DataFrame) -> pd.DataFrame:
    """Status changes: ticket_id, at, old, new, in time order."""
    status = (tx["type"] == "Status") | ((tx["type"] == "Set") & (tx["field"] == "Status"))
    moves = tx.loc[status, ["ticket_id", "created", "txn_id", "old", "new"]]
    return sort_stable(moves, ["ticket_id", "created", "txn_id"]).rename(columns={"created": "at"})


def _status_at_creation(tickets: pd.DataFrame, moves: pd.DataFrame) -> pd.Series:
    """Each ticket's status at creation: the first change's old value, else its status now."""
    first = moves.groupby("ticket_id")["old"].first()
    now = tickets.set_index("ticket_id")["status"]
    return first.reindex(now.index).where(lambda s: s.notna() & (s != ""), now)


def _queue_counts(
    tickets: pd.DataFrame, tx: pd.DataFrame, names: pd.Series, part_of: pd.Series
) -> pd.DataFrame:
    """Per part and queue: tickets now in it, created in it, moves into and out of it."""
    queue_moves = tx.loc[(tx["type"] == "Set") & (tx["field"] == "Queue")]
    moved = part_of.reindex(queue_moves["ticket_id"]).to_numpy()
    old = queue_moves["old"].map(names).fillna(queue_moves["old"])
    new = queue_moves["new"].map(names).fillna(queue_moves["new"])
    now = tickets["queue_id"].map(names).fillna(tickets["queue_id"])
    first_old = (
        pd.Series(old.to_numpy(), index=queue_moves["ticket_id"].to_numpy())
        .groupby(level=0)
        .first()
    )
    created = first_old.reindex(tickets["ticket_id"]).fillna(
        pd.Series(now.to_numpy(), index=tickets["ticket_id"])
    )
    part = tickets["part"].to_numpy()
    return pd.DataFrame(
        {
            "now": _by_part(part, now.to_numpy()),
            "created": _by_part(part, created.to_numpy()),
            "moved_in": _by_part(moved, new.to_numpy()),
            "moved_out": _by_part(moved, old.to_numpy()),
        }
    ).fillna(0)


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
    tickets: pd.DataFrame, moves: pd.DataFrame, created_in: pd.Series
) -> pd.DataFrame:
    """Per part and status: tickets in it now, ever in it, created in it, and the tickets whose
    dates show each role (INACTIVE, ACTIVE, INITIAL)."""
    t = tickets.set_index("ticket_id")
    created_in = created_in.reindex(t.index)
    # every entry into a status: creation, then each move; Resolved is the last entry into an
    # inactive one, so an entry at Resolved is into an inactive status and one after it is not
    entries = pd.concat(
        [
            pd.DataFrame(
                {
                    "ticket_id": t.index,
                    "part": t["part"].to_numpy(),
                    "at": t["created"].array,  # kept typed: no Python object per ticket
                    "seq": -1,  # creation comes before any change of the same second
                    "status": created_in.to_numpy(),
                }
            ),
            moves[["ticket_id", "part", "at", "txn_id", "new"]].rename(
                columns={"new": "status", "txn_id": "seq"}
            ),
        ],
        ignore_index=True,
    ).join(t[["resolved"]], on="ticket_id")
    entries = entries.loc[entries["status"].notna() & (entries["status"] != "")]
    entries = sort_stable(entries, ["ticket_id", "at", "seq"])
    # typed even when there are no tickets (a quiet snapshot): object columns cannot subtract
    gap = pd.to_datetime(entries["at"], utc=True) - pd.to_datetime(entries["resolved"], utc=True)
    # the entry Resolved was set at: the last one within the moment (created and closed in
    # the same second, the creation status was not the closing one)
    near = entries.loc[gap.abs() <= _SAME_MOMENT]
    at_resolved = pd.Series(
        entries.index.isin(near.groupby("ticket_id").tail(1).index), index=entries.index
    )
    after = entries["resolved"].isna() | (gap > _SAME_MOMENT)
    unstarted = t["started"].isna() | (t["started"] > t["created"] + _SAME_MOMENT)
    held = pd.concat(
        [
            entries[["ticket_id", "part", "status"]],
            moves[["ticket_id", "part", "old"]].rename(columns={"old": "status"}),
        ]
    )
    held = held.loc[held["status"].notna() & (held["status"] != "")].drop_duplicates()
    by_entry, by_ticket = [entries["part"], entries["status"]], [t["part"], created_in]
    return pd.DataFrame(
        {
            "now": _by_part(t["part"].to_numpy(), t["status"].to_numpy()),
            "ever": _by_part(held["part"].to_numpy(), held["status"].to_numpy()),
            "created": _by_part(t["part"].to_numpy(), created_in.to_numpy()),
            INACTIVE: at_resolved.groupby(by_entry).sum(),
            ACTIVE: after.groupby(by_entry).sum(),
            INITIAL: unstarted.groupby(by_ticket).sum(),
        }
    ).fillna(0)


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
