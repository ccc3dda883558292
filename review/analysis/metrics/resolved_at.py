"""resolved at: the last move into an inactive status ({inactive}); a ticket created already
closed was resolved when created.

Empty while the ticket is in an active status (still open, or reopened at the pull).
A reopened and resolved again ticket is resolved at its last close.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts
from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "resolved_at",
    order=30,
    unit="time",
    reads=("statuses.inactive",),
    inputs=("status",),
)
def resolved_at(inc: Incidents) -> pd.Series:
    closes = inc.events.loc[facts.closing(inc.events, inc.inactive), ["ticket_id", "at"]]
    born = facts.at_creation(inc.segments)["status"]
    created_closed = born.isin(inc.inactive).reindex(inc.index, fill_value=False)
    resolved = inc.per_ticket(closes.groupby("ticket_id")["at"].max())
    resolved = resolved.fillna(inc.tickets["created"].where(created_closed))
    return resolved.where(inc.tickets["status"].isin(inc.inactive))
