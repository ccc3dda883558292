"""triaged at: the first of: the owner set from Nobody to a person; a reply (Correspond) from
staff; staff moving the status out of '{initial}'. Staff = anyone who is neither a requestor of
the ticket, nor a user RT records as unprivileged who did no staff work on the ticket (a
comment, an owner, queue, status or field change; a Cc'd customer), nor RT_System. A ticket
created already closed was never triaged.

The process asks for immediate triage of an urgent problem: the recipient contacts
ops-help and the service owner, who takes the ticket as Tech Lead. Staff moving the
status, replying or taking the ticket are what RT records of it.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "triaged_at",
    order=20,
    unit="time",
    reads=("statuses.initial",),
    inputs=(quality.TRIAGE, quality.USER_NAMES),
)
def triaged_at(inc: Incidents) -> pd.Series:
    ev = inc.events
    triage = facts.triage(ev, inc.config.statuses.initial)
    return inc.per_ticket(ev.loc[triage, ["ticket_id", "at"]].groupby("ticket_id")["at"].min())
