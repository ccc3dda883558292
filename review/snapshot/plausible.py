"""What a plausible time is, defined once for the whole kit.

A time in a snapshot can be true only if it is

- not before RT existed (RT_EPOCH: Request Tracker was first released in 1996), nor
- before the ticket it belongs to was created (RT stamps a ticket's Create transaction
  with its Created time, and every later transaction after it), nor
- after the snapshot was pulled (nothing the pull copied can be later than the pull);

and a transaction's time cannot be true if it runs backwards: earlier, by more than
ORDER_TOLERANCE, than a transaction of the same ticket with a smaller id (`backwards`). RT
numbers transactions in the order it writes them, so a later id was written later.

Anything else is a clock that was wrong, a restore, or a hand edit: its true time is
unknown, so no number may be computed from it (review.analysis.quality says which ones
that takes away and tells the user). A transaction without a time (RT's unset date, or not
an RT date) cannot back a number either.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from review.snapshot.frames import stable_order

RT_EPOCH = pd.Timestamp("1996-01-01T00:00:00Z")
BEFORE_RT, BEFORE_CREATION, AFTER_PULL = "before-rt", "before-creation", "after-pull"
MISSING = "missing"
REASONS = {  # why, in words that finish "... is ..."
    BEFORE_RT: f"before RT existed ({RT_EPOCH:%Y})",
    BEFORE_CREATION: "before its ticket was created",
    AFTER_PULL: "after the snapshot was pulled",
    MISSING: "not a time (RT's unset date, or not an RT date)",
}


# a reason's code (implausible_codes): 0 plausible, else its place here
CODED = ("", AFTER_PULL, BEFORE_CREATION, BEFORE_RT, MISSING)


def why_implausible(
    at: pd.Series, created: pd.Series | None, pulled_at: pd.Timestamp | None
) -> pd.Series:
    """Per time, the REASONS key of why it cannot be true, '' when it can (MISSING: NaT).

    `created` is the creation of each time's ticket (None: the times are creations
    themselves); `pulled_at` the snapshot's pull time (None: not recorded, no upper bound).
    """
    reasons = np.array(CODED, dtype=object)[implausible_codes(at, created, pulled_at)]
    return pd.Series(reasons, index=at.index, dtype="object")


def implausible_codes(
    at: pd.Series, created: pd.Series | None, pulled_at: pd.Timestamp | None
) -> np.ndarray:
    """`why_implausible` as codes (CODED), no text per row. Where several reasons hold, one
    wins in this order: MISSING, BEFORE_RT, BEFORE_CREATION, AFTER_PULL."""
    codes = np.zeros(len(at), dtype="int8")
    if pulled_at is not None:
        codes[(at > pulled_at).to_numpy(dtype=bool)] = CODED.index(AFTER_PULL)
    if created is not None:
        codes[(at < created).to_numpy(dtype=bool)] = CODED.index(BEFORE_CREATION)
    codes[(at < RT_EPOCH).to_numpy(dtype=bool)] = CODED.index(BEFORE_RT)
    codes[at.isna().to_numpy(dtype=bool)] = CODED.index(MISSING)
    return codes


# RT stamps a transaction with the whole second it was written, in one process per request,
# so its own transactions never run backwards; only machines that write to one database with
# clocks apart (web nodes behind a balancer, kept by NTP within a fraction of a second) or a
# clock set back, an import or a hand edit make a later id earlier. A minute covers any sane
# skew (a false alarm would empty an incident's numbers), and an order wrong by less moves no
# duration by more than a minute (0.017 h; hours are shown to two decimals).
ORDER_TOLERANCE = pd.Timedelta(minutes=1)


def backwards(ticket_id: pd.Series, txn_id: pd.Series, at: pd.Series) -> pd.DataFrame:
    """The transactions whose time runs backwards: earlier by more than ORDER_TOLERANCE than
    a transaction of the same ticket with a smaller id. One row per such transaction (index:
    its label in the inputs) with `after`, the smaller id of the latest time before it, and
    `after_at`, that time. Vectorised: a running maximum over the ticket's rows in id order.
    Times that are missing are not compared (plausible times only: see why_implausible)."""
    frame = pd.DataFrame({"ticket_id": ticket_id, "txn_id": txn_id, "at": at}).dropna()
    # only a ticket whose times ever go down can hold one: the running maximum of the rest
    frame = frame.loc[out_of_order(frame["ticket_id"], frame["txn_id"], frame["at"])]
    order = stable_order([frame["ticket_id"], frame["txn_id"]])
    if order is None:  # keys numpy cannot order (not whole numbers): pandas, ties kept
        frame = frame.sort_values(["ticket_id", "txn_id"], kind="stable")
    else:
        frame = frame.iloc[order]
    tickets = frame["ticket_id"].to_numpy()
    first = np.ones(len(tickets), dtype=bool)  # each ticket's first row
    first[1:] = tickets[1:] != tickets[:-1]
    latest = frame["at"].groupby(np.cumsum(first), sort=False).cummax()
    # a ticket's first row is its own latest: filling forward never crosses into the next
    holder = frame["txn_id"].where(frame["at"] == latest).ffill()
    before = latest.shift().mask(first)
    late = (frame["at"] < before - ORDER_TOLERANCE).to_numpy(dtype=bool)
    holders = holder.shift()
    return pd.DataFrame({"after": holders[late].astype("int64"), "after_at": before[late]})


def out_of_order(ticket_id: pd.Series, txn_id: pd.Series, at: pd.Series) -> np.ndarray:
    """Per row, whether its ticket has a time earlier than the one before it in id order (rows
    with a missing value left out, and False): the tickets where `backwards` can find a row,
    among any of their rows (times in order stay in order when rows are left out). Numbers
    only, no frame: a snapshot's transactions are nearly all in order, and a caller keeps the
    few rows of these tickets before it compares anything else (review.analysis.quality)."""
    found = np.zeros(len(at), dtype=bool)
    valid = ~(ticket_id.isna() | txn_id.isna() | at.isna()).to_numpy(dtype=bool)
    if not pd.api.types.is_datetime64_any_dtype(at):  # no numbers to compare: every ticket
        found[valid] = True
        return found
    stamps, rows = np.asarray(at.array.asi8), np.arange(len(at))
    if not valid.all():
        rows = rows[valid]
        ticket_id, txn_id, stamps = ticket_id.iloc[rows], txn_id.iloc[rows], stamps[rows]
    keys, order = _numbers(ticket_id), _id_order(ticket_id, txn_id)
    if order is not None:
        keys, stamps, rows = keys[order], stamps[order], rows[order]
    same = keys[1:] == keys[:-1]
    down = same & (stamps[1:] < stamps[:-1])
    if not down.any():
        return found
    ticket = np.cumsum(np.concatenate([[True], ~same]))  # each row's ticket, numbered 1, 2, ...
    flagged = np.zeros(ticket[-1] + 1, dtype=bool)
    flagged[ticket[1:][down]] = True
    found[rows] = flagged[ticket]
    return found


def _numbers(values: pd.Series) -> np.ndarray:
    """Values as numbers that are equal where they are (whole numbers as they are)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        return values.to_numpy()
    return pd.factorize(values)[0]


def _id_order(ticket_id: pd.Series, txn_id: pd.Series) -> np.ndarray | None:
    """Positions that bring each ticket's rows together in id order, ties in their order (no
    value missing); None when they are so already, as a snapshot's are (its parts one after
    another, each sorted by ticket and id, no ticket in two)."""
    tickets, ids = ticket_id.to_numpy(), txn_id.to_numpy()
    if tickets.dtype.kind in "iu" and ids.dtype.kind in "iu" and _together(tickets, ids):
        return None
    order = stable_order([ticket_id, txn_id])
    if order is None:
        keys = pd.DataFrame({"ticket_id": ticket_id, "txn_id": txn_id}).reset_index(drop=True)
        order = keys.sort_values(["ticket_id", "txn_id"], kind="stable").index.to_numpy()
    return order


def _together(tickets: np.ndarray, ids: np.ndarray) -> bool:
    """Whether the rows are a few runs sorted by ticket and id (equal ids in any order), no
    ticket in two of them (looked up where their tickets' ranges overlap: both sorted)."""
    first, then = tickets[:-1], tickets[1:]
    breaks = np.flatnonzero(~((first < then) | ((first == then) & (ids[:-1] <= ids[1:])))) + 1
    if len(breaks) > 64:  # not a few sorted runs: a sort costs less than the look-ups
        return False
    bounds = [0, *breaks.tolist(), len(tickets)]
    runs = [tickets[start:end] for start, end in itertools.pairwise(bounds)]
    for number, one in enumerate(runs):
        for other in runs[number + 1 :]:
            inside = one[np.searchsorted(one, other[0]) : np.searchsorted(one, other[-1], "right")]
            if (other[np.searchsorted(other, inside)] == inside).any():
                return False
    return True


def describe(reason: pd.Series) -> pd.Series:
    """REASONS keys in words ('' stays '')."""
    return reason.map(REASONS).fillna("")
