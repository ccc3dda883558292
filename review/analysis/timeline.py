"""RT transactions -> an event timeline per incident, and the state over time.

`build_events` keeps the transactions that are human or process actions
(dropping EmailRecord, CommentEmailRecord and the SetWatcher twin of owner
changes), names them (`kind`), translates RT's ids into names and says who
acted (`actor`: staff, requestor or system). `state_segments` turns the events
into stretches of constant queue, status and owner, the shape every duration
metric and the timeline figure need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from review.settings.config import Config
from review.snapshot import Snapshot, plausible
from review.snapshot.frames import sort_stable

SYSTEM_USER = "RT_System"
NOBODY = "Nobody"
STAFF, REQUESTOR, SYSTEM = "staff", "requestor", "system"  # the values of `actor`
# The txn_id of a ticket's state at creation (each ticket's first stretch), and of any point
# that is not a transaction (the snapshot's time in an update-gap check).
AT_CREATION = -1
IGNORED_TYPES = ("EmailRecord", "CommentEmailRecord", "SetWatcher")
# (the text of a reply or comment is not an event's: Snapshot.messages, read for a review only)
EVENT_COLUMNS = [
    "ticket_id", "txn_id", "at", "kind", "type", "field", "old", "new", "creator", "actor",
    "handoff",
]  # fmt: skip


# each transaction type's kind (`other` when not here); a `Set` is known by its field
_TYPE_KINDS = {
    "Create": "create", "Correspond": "reply", "Comment": "comment", "Status": "status",
    "Take": "owner", "Give": "owner", "Steal": "owner", "Untake": "owner", "Force": "owner",
    "CustomField": "field", "AddLink": "link", "DeleteLink": "link", "AddWatcher": "watcher",
    "DelWatcher": "watcher",
}  # fmt: skip
_SET_KINDS = {"Status": "status", "Owner": "owner", "Queue": "queue"}


def kinds(tx: pd.DataFrame) -> pd.Series:
    """What each transaction is, as the `kind` of an event (create, reply, queue, ...)."""
    kind = _kind_codes(tx["type"], _TYPE_KINDS)
    is_set = (tx["type"] == "Set").fillna(False).to_numpy(dtype=bool)
    kind[is_set] = _kind_codes(tx["field"].loc[is_set], _SET_KINDS)
    return _named(kind, _KINDS, tx.index)


_KINDS = ["other", *dict.fromkeys([*_TYPE_KINDS.values(), *_SET_KINDS.values()])]


def _kind_codes(values: pd.Series, kinds: dict[str, str]) -> np.ndarray:
    """Each value's kind as its place in _KINDS (0, `other`, when not in `kinds`), looked up
    once per distinct value."""
    codes, uniques = pd.factorize(values)
    found = np.array([_KINDS.index(kinds.get(u, "other")) for u in uniques] + [0])
    return found[codes]  # a missing value's code is -1: the last, `other`


def _named(codes: np.ndarray, names: list[str], index: pd.Index) -> pd.Series:
    """Text by its place in `names` (one copy of Arrow's: a Python string per row took six
    times as long)."""
    taken = pc.take(pa.array(names, pa.string()), pa.array(codes, pa.int64()))
    return pd.Series(pd.arrays.ArrowStringArray(taken), index=index, dtype="string")


def time_problems(snapshot: Snapshot) -> np.ndarray:
    """Per transaction of the snapshot, why its time cannot be true, as the code of its
    reason (review.snapshot.plausible.CODED; 0 when it can be)."""
    tx = snapshot.transactions
    born = snapshot.tickets[["ticket_id", "created"]].rename(columns={"created": "born"})
    created = tx[["ticket_id"]].merge(born, on="ticket_id", how="left")["born"]
    created.index = tx.index
    return plausible.implausible_codes(tx["created"], created, snapshot.pulled_at)


def build_events(snapshot: Snapshot, config: Config, *, implausible: bool = False) -> pd.DataFrame:
    """One row per meaningful transaction, sorted by ticket, time and transaction id.

    Owner values become user names, queue values queue names, and custom-field
    ids field names. `actor` is `system` for RT_System, `requestor` for a current
    requestor of the ticket, `staff` for anyone else. `handoff` marks a queue move
    from an ops queue into a developer queue (the process's hand-off).

    A transaction whose time cannot be true (`time_problems`) is left out: no time,
    order or gap is computed from it. `implausible=True` gives only those instead, with
    a `reason` column (review.analysis.quality says what each takes away).
    """
    tx = snapshot.transactions
    why = time_problems(snapshot)
    wanted = ((why != 0) if implausible else (why == 0)) & ~tx["type"].isin(IGNORED_TYPES)
    tx = tx.loc[wanted]
    if implausible:
        tx = tx.assign(reason=np.array(plausible.CODED, dtype=object)[why[wanted.to_numpy()]])
    tx["kind"] = kinds(tx)
    users = snapshot.users.set_index("user_id")["name"]
    cf_names = snapshot.field_names
    for column in ("old", "new"):
        owner = tx["kind"] == "owner"
        tx.loc[owner, column] = tx.loc[owner, column].map(users).fillna(tx.loc[owner, column])
        queue = tx["kind"] == "queue"
        tx.loc[queue, column] = queue_names(snapshot, tx.loc[queue, column])
    if len(cf_names):
        names = cf_names.drop_duplicates("field_id").set_index("field_id")["field"]
        is_cf = tx["kind"] == "field"
        tx.loc[is_cf, "field"] = tx.loc[is_cf, "field"].map(names).fillna(tx.loc[is_cf, "field"])
    requestors = snapshot.watchers.loc[
        snapshot.watchers["role"] == "Requestor", ["ticket_id", "user"]
    ]
    requestors = requestors.drop_duplicates().assign(is_requestor=True)
    tx = tx.merge(
        requestors.rename(columns={"user": "creator"}), on=["ticket_id", "creator"], how="left"
    )
    actor = np.where(
        (tx["creator"] == SYSTEM_USER).fillna(False).to_numpy(dtype=bool),
        2,
        tx["is_requestor"].fillna(False).to_numpy(dtype=bool).astype("int64"),
    )
    tx["actor"] = _named(actor, [STAFF, REQUESTOR, SYSTEM], tx.index)
    tx["handoff"] = (
        (tx["kind"] == "queue")
        & tx["old"].isin(config.queues.ops)
        & tx["new"].isin(config.queues.developer)
    )
    tx = tx.rename(columns={"created": "at"})
    columns = [*EVENT_COLUMNS, "reason"] if implausible else EVENT_COLUMNS
    return sort_stable(tx[columns], ["ticket_id", "at", "txn_id"])


def _initial(events: pd.DataFrame, tickets: pd.DataFrame, kind: str, current: str) -> pd.Series:
    """Value at creation: the first change's old value, else the ticket's value now."""
    first_old = events.loc[events["kind"] == kind].groupby("ticket_id")["old"].first()
    now = tickets.set_index("ticket_id")[current]
    return first_old.reindex(now.index).fillna(now)


def queue_names(snapshot: Snapshot, ids: pd.Series) -> pd.Series:
    """RT queue ids as names; an id RT's queue list lacks shows as '#9 (unknown queue)'
    (review.analysis.quality warns about it)."""
    known = ids.map(snapshot.queues.set_index("queue_id")["name"]).astype("string")
    names: pd.Series = known.fillna("#" + ids.astype("string") + " (unknown queue)")
    return names


def state_segments(events: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """Stretches of constant (queue, status, owner) per ticket: ticket_id, start, end, ...

    The first stretch starts at the ticket's Created; each queue, status or owner
    change starts a new one. The last stretch has no end (end is NaT).
    """
    tickets = snapshot.tickets
    now = tickets[["ticket_id", "status", "owner"]].assign(
        queue=queue_names(snapshot, tickets["queue_id"])
    )
    start = pd.DataFrame(
        {
            "ticket_id": now["ticket_id"],
            "at": tickets["created"],
            "txn_id": AT_CREATION,
            "queue": _initial(events, now, "queue", "queue").reindex(now["ticket_id"]).to_numpy(),
            "status": _initial(events, now, "status", "status")
            .reindex(now["ticket_id"])
            .to_numpy(),
            "owner": _initial(events, now, "owner", "owner").reindex(now["ticket_id"]).to_numpy(),
        }
    )
    changes = events.loc[events["kind"].isin(["queue", "status", "owner"])]
    rows = changes[["ticket_id", "at", "txn_id"]].copy()
    for kind in ("queue", "status", "owner"):
        rows[kind] = changes["new"].where(changes["kind"] == kind)
    states = pd.concat([start, rows], ignore_index=True)
    states = sort_stable(states, ["ticket_id", "at", "txn_id"])
    states[["queue", "status", "owner"]] = states.groupby("ticket_id")[
        ["queue", "status", "owner"]
    ].ffill()
    states["end"] = states.groupby("ticket_id")["at"].shift(-1)
    states = states.rename(columns={"at": "start"})
    return states[["ticket_id", "start", "end", "queue", "status", "owner", "txn_id"]]
