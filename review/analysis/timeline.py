"""RT transactions -> an event timeline per incident, and the state over time.

`build_events` keeps the transactions that are human or process actions
(dropping EmailRecord, CommentEmailRecord and the SetWatcher twin of owner
changes), names them (`kind`), translates RT's ids into names and says who
acted (`actor`: staff, requestor, unprivileged or system). `state_segments` turns the events
into stretches of constant queue, status and owner, the shape every duration
metric and the timeline figure need.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from review.settings.config import Config
from review.snapshot import Snapshot, plausible
from review.snapshot.frames import sort_stable, stable_order

SYSTEM_USER = "RT_System"
NOBODY = "Nobody"
STAFF, REQUESTOR, SYSTEM = "staff", "requestor", "system"  # the values of `actor`, and:
# one RT says is not staff (Privileged 0): a Cc'd customer replying to all is no staff reply
UNPRIVILEGED = "unprivileged"
ACTORS = [STAFF, REQUESTOR, SYSTEM, UNPRIVILEGED]
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
# what only staff do on a ticket (`_unprivileged`)
_STAFF_WORK = ("comment", "owner", "queue", "status", "field")


def kinds(tx: pd.DataFrame) -> pd.Series:
    """What each transaction is, as the `kind` of an event (create, reply, queue, ...)."""
    return _named(_kind_numbers(tx), _KINDS, tx.index)


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
    tx, tickets = snapshot.transactions, snapshot.tickets
    # each transaction's ticket's creation (none when its ticket is not listed), looked up by
    # position: a join cost three times as much
    at = pd.Index(tickets["ticket_id"]).get_indexer(tx["ticket_id"])
    created = pd.Series(tickets["created"].array.take(at, allow_fill=True), index=tx.index)
    return plausible.implausible_codes(tx["created"], created, snapshot.pulled_at)


def build_events(snapshot: Snapshot, config: Config, *, implausible: bool = False) -> pd.DataFrame:
    """One row per meaningful transaction, sorted by ticket, time and transaction id.

    Owner values become user names, queue values queue names, and custom-field
    ids field names. `actor` is `system` for RT_System, `requestor` for a current
    requestor of the ticket, `unprivileged` for another user RT says is not staff and who
    did no staff work on the ticket (a Cc'd customer; RT's SLA counts such a reply inside, as
    it does staff's; `_unprivileged`), `staff` for anyone
    else (one the users list lacks too: review.analysis.quality warns about it). `handoff`
    marks a queue move from an ops queue into a developer queue (the process's hand-off).

    A transaction whose time cannot be true (`time_problems`) is left out: no time,
    order or gap is computed from it. `implausible=True` gives only those instead, with
    a `reason` column (review.analysis.quality says what each takes away).

    The rows are chosen and put in order by their numbers first and taken once: each take
    of the history's text columns cost as much as the rest of the step.
    """
    tx = snapshot.transactions
    why = time_problems(snapshot)
    wanted = ((why != 0) if implausible else (why == 0)) & ~tx["type"].isin(IGNORED_TYPES).to_numpy(
        dtype=bool
    )
    rows = np.flatnonzero(wanted)
    rows = rows[_order(tx["ticket_id"], tx["created"], tx["txn_id"], rows)]
    tx = tx.take(rows).reset_index(drop=True)
    kind = _kind_numbers(tx)
    text = {column: _arrow(tx[column]) for column in ("field", "old", "new", "creator")}
    users = snapshot.users
    owner, queue = kind == _KINDS.index("owner"), kind == _KINDS.index("queue")
    for column in ("old", "new"):
        values = _renamed(text[column], owner, users["user_id"], users["name"])
        text[column] = _queue_named(snapshot, values, queue)
    if len(snapshot.field_names):
        names = snapshot.field_names.drop_duplicates("field_id")
        is_cf = kind == _KINDS.index("field")
        text["field"] = _renamed(text["field"], is_cf, names["field_id"], names["field"])
    system = _true(pc.equal(text["creator"], SYSTEM_USER))
    actor = np.where(system, 2, _requestors(snapshot, tx["ticket_id"], text["creator"]))
    unprivileged = _unprivileged(users, tx["ticket_id"], text["creator"], kind, actor == 0)
    actor = np.where(unprivileged, 3, actor)
    handoff = (
        queue
        & _true(pc.is_in(text["old"], pa.array(config.queues.ops, pa.large_string())))
        & _true(pc.is_in(text["new"], pa.array(config.queues.developer, pa.large_string())))
    )
    columns: dict[str, object] = {
        "ticket_id": tx["ticket_id"], "txn_id": tx["txn_id"], "at": tx["created"],
        "kind": _named(kind, _KINDS, tx.index), "type": tx["type"],
        **{c: _string(text[c], tx.index) for c in ("field", "old", "new", "creator")},
        "actor": _named(actor.astype("int64"), ACTORS, tx.index),
        "handoff": pd.arrays.ArrowExtensionArray(pa.array(handoff)),  # as isin gives it
    }  # fmt: skip
    if implausible:
        columns["reason"] = np.array(plausible.CODED, dtype=object)[why[rows]]
    events = pd.DataFrame(columns, index=tx.index)
    return events[[*EVENT_COLUMNS, "reason"] if implausible else EVENT_COLUMNS]


def _order(ticket_id: pd.Series, at: pd.Series, txn_id: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The positions that put `rows` of these columns in ticket, time and id order (ties in
    their order)."""
    keys = pd.DataFrame(
        {
            "ticket_id": ticket_id.to_numpy()[rows],
            "at": at.array[rows],
            "txn_id": txn_id.to_numpy()[rows],
        }
    )
    order = stable_order([keys["ticket_id"], keys["at"], keys["txn_id"]])
    if order is None:  # a missing time (implausible rows): pandas puts it last
        order = keys.sort_values(["ticket_id", "at", "txn_id"], kind="stable").index.to_numpy()
    return order


def _kind_numbers(tx: pd.DataFrame) -> np.ndarray:
    """Each transaction's kind as its place in _KINDS (see `kinds`)."""
    kind = _kind_codes(tx["type"], _TYPE_KINDS)
    is_set = (tx["type"] == "Set").fillna(False).to_numpy(dtype=bool)
    kind[is_set] = _kind_codes(tx["field"].loc[is_set], _SET_KINDS)
    return kind


def _arrow(values: pd.Series) -> pa.Array:
    """Text as one Arrow array (large_string, as pandas keeps it)."""
    text = pa.array(values.astype("string").array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return text.cast(pa.large_string())


def _string(values: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(values), index=index, dtype="string")


def _unprivileged(
    users: pd.DataFrame, ticket_id: pd.Series, creator: pa.Array, kind: np.ndarray,
    others: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Of the rows by neither RT_System nor a requestor (`others`): those by a user RT records
    as unprivileged now, unless that user did staff's work on the same ticket (a comment, an
    owner, queue, status or field change: staff since unprivileged, such as one who left, was
    staff then). Judged within the ticket, so that a month's part derives as the whole does."""
    names = users.loc[users["privileged"].eq(False).fillna(False).to_numpy(bool), "name"]
    rows = others & _true(pc.is_in(creator, pa.array(names.dropna(), pa.large_string())))
    at = np.flatnonzero(rows)
    if len(at):  # few rows: a customer's on a ticket they do not request
        work = pd.Series(np.isin(kind[at], [_KINDS.index(k) for k in _STAFF_WORK]))
        who = [ticket_id.to_numpy()[at], pc.take(creator, pa.array(at)).to_numpy(False)]
        rows[at[work.groupby(who).transform("any").to_numpy(bool)]] = False
    return np.asarray(rows, dtype=bool)


def _true(mask: pa.Array) -> np.ndarray:
    """An Arrow boolean array as numpy, missing as False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _renamed(
    values: pa.Array,
    rows: np.ndarray,
    keys: pd.Series,
    names: pd.Series,
    unknown: Callable[[pa.Array], pa.Array] | None = None,
) -> pa.Array:
    """`values` with those of `rows` found among `keys` replaced by their `names` (the first
    of a key listed twice); those not found as `unknown` writes them (None: as they were)."""
    mine = pc.take(values, pa.array(np.flatnonzero(rows)))
    found = pc.index_in(mine, value_set=_arrow(keys), skip_nulls=True)
    missing = mine if unknown is None else unknown(mine)
    return pc.replace_with_mask(
        values, pa.array(rows), pc.coalesce(pc.take(_arrow(names), found), missing)
    )


def _unknown_queue(ids: pa.Array) -> pa.Array:
    """How a queue id RT's queue list lacks is shown: '#9 (unknown queue)'."""
    text = [pa.scalar(t, pa.large_string()) for t in ("#", " (unknown queue)", "")]
    return pc.binary_join_element_wise(text[0], ids, text[1], text[2])


def _queue_named(snapshot: Snapshot, values: pa.Array, rows: np.ndarray) -> pa.Array:
    """`values` with those of `rows` as queue names (`queue_names`)."""
    queues = snapshot.queues
    return _renamed(values, rows, queues["queue_id"], queues["name"], _unknown_queue)


def _requestors(snapshot: Snapshot, ticket_id: pd.Series, creator: pa.Array) -> np.ndarray:
    """Whether each (ticket, creator) is among the ticket's requestors (a missing name is one
    of a ticket whose requestors list one missing too, as a join matches them)."""
    watchers = snapshot.watchers
    requestors = watchers.loc[(watchers["role"] == "Requestor").to_numpy(dtype=bool)]
    n = len(ticket_id)
    people = pd.factorize(
        pa.concat_arrays([creator, _arrow(requestors["user"])]).to_pandas(
            types_mapper=pd.ArrowDtype
        )
    )[0]
    both = np.concatenate([ticket_id.to_numpy(), requestors["ticket_id"].to_numpy()])
    pair = pd.factorize(both)[0].astype("int64") * (int(people.max(initial=0)) + 2) + people + 1
    return pd.Series(pair[:n]).isin(pair[n:]).to_numpy().astype("int64")


def _initial(changes: pd.DataFrame, tickets: pd.DataFrame, kind: str) -> pd.Series:
    """Value at creation: the first change's old value, else the ticket's value now."""
    first_old = changes.loc[changes["kind"] == kind].groupby("ticket_id")["old"].first()
    now = tickets.set_index("ticket_id")[kind]
    return first_old.reindex(now.index).fillna(now)


def queue_names(snapshot: Snapshot, ids: pd.Series) -> pd.Series:
    """RT queue ids as names; an id RT's queue list lacks shows as '#9 (unknown queue)'
    (review.analysis.quality warns about it)."""
    every = np.ones(len(ids), dtype=bool)
    return _string(_queue_named(snapshot, _arrow(ids), every), ids.index)


def state_segments(events: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """Stretches of constant (queue, status, owner) per ticket: ticket_id, start, end, ...

    The first stretch starts at the ticket's Created; each queue, status or owner
    change starts a new one. The last stretch has no end (end is NaT).
    """
    tickets = snapshot.tickets
    now = tickets[["ticket_id", "status", "owner"]].assign(
        queue=queue_names(snapshot, tickets["queue_id"])
    )
    columns = ["ticket_id", "at", "txn_id", "kind", "old", "new"]
    changes = events.loc[events["kind"].isin(["queue", "status", "owner"]), columns]
    start = pd.DataFrame(
        {
            "ticket_id": now["ticket_id"],
            "at": tickets["created"],
            "txn_id": AT_CREATION,
            **{
                kind: _initial(changes, now, kind).reindex(now["ticket_id"]).to_numpy()
                for kind in ("queue", "status", "owner")
            },
        }
    )
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
