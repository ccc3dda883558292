"""longest update gap: the longest wait, in wall-clock hours, between consecutive points of:
opened_at, each staff reply, resolved_at.

The process asks for updates to the Recipient List at least daily in an extended
outage; this is the longest silence towards it (the close-out rule missed-daily-update
judges it for urgent incidents).
"""

from __future__ import annotations

import pandas as pd

from review.analysis.incidents import Incidents, hours
from review.analysis.metric import metric


@metric(
    __doc__,
    "max_update_gap_h",
    order=100,
    unit="wall hours",
    reads=("statuses.inactive",),
    inputs=("reply", "status"),
)
def max_update_gap_h(inc: Incidents) -> pd.Series:
    """The longest silence towards the Recipient List."""
    points = pd.concat(
        [
            inc["opened_at"].rename("at").reset_index(),
            inc.staff_replies[["ticket_id", "at"]],
            inc["resolved_at"].dropna().rename("at").reset_index(),
        ],
        ignore_index=True,
    ).sort_values(["ticket_id", "at"], kind="stable")
    gaps = points.groupby("ticket_id")["at"].diff()
    return inc.per_ticket(hours(gaps).groupby(points["ticket_id"]).max())
