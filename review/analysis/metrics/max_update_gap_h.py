"""longest update gap: the longest wait, in wall-clock hours, while the ticket was open,
between consecutive points of: opened_at, each staff reply, each close and reopen, resolved_at
(for an incident still open, the pull); time while closed before a reopen does not count.

The process asks for updates to the Recipient List at least daily in an extended
outage; this is the longest silence towards it (the close-out rule missed-daily-update
judges it for urgent incidents, on the same points). A ticket resolved and reopened days
later was not silent while it stayed resolved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from review.analysis import facts
from review.analysis.incidents import Incidents, hours
from review.analysis.metric import metric
from review.analysis.timeline import AT_CREATION
from review.snapshot.frames import sort_stable

_LAST = np.iinfo("int64").max  # the order of a point after every transaction of its time


@metric(
    __doc__,
    "max_update_gap_h",
    order=100,
    unit="wall hours",
    reads=("statuses.inactive",),
    inputs=("reply", "status"),
)
def max_update_gap_h(inc: Incidents) -> pd.Series:
    """The longest silence towards the Recipient List while the ticket was open."""
    ev = inc.events
    closing = facts.closing(ev, inc.inactive).to_numpy(dtype=bool)
    moving = facts.staff_reply(ev).to_numpy(dtype=bool) | closing
    moving |= facts.reopening(ev, inc.inactive).to_numpy(dtype=bool)
    points = pd.concat(
        [
            inc["opened_at"].rename("at").reset_index().assign(closing=False, seq=AT_CREATION),
            ev.loc[moving, ["ticket_id", "at", "txn_id"]]
            .rename(columns={"txn_id": "seq"})
            .assign(closing=closing[moving]),
            inc["resolved_at"].dropna().rename("at").reset_index().assign(closing=True, seq=_LAST),
            _still_open(inc).assign(seq=_LAST),
        ],
        ignore_index=True,
    )
    # points of one time in the order RT wrote them (a close and a reopen in one second: the
    # silence after the reopen counts); a point without a time sorts last in its ticket and
    # ends no gap: left out, the keys are numbers that numpy sorts (sort_stable), not pandas
    points = points.astype({"seq": "int64"})
    points = sort_stable(points.loc[points["at"].notna()], ["ticket_id", "at", "seq"])
    group = points.groupby("ticket_id")
    gaps = hours(group["at"].diff()).where(~group["closing"].shift(fill_value=False).astype(bool))
    return inc.per_ticket(gaps.groupby(points["ticket_id"]).max())


def _still_open(inc: Incidents) -> pd.DataFrame:
    """The pull, a point of each incident still open then: its silence so far is a wait too
    (as the rule missed-daily-update counts it), never left out of the longest."""
    pulled_at = inc.snapshot.pulled_at
    still_open = inc["resolved_at"].isna().to_numpy() & (pulled_at is not None)
    at = pd.Series(pulled_at, index=inc.index[still_open], dtype=inc["opened_at"].dtype)
    return at.rename("at").reset_index().assign(closing=False)
