"""Hand-off not announced: moved from an ops queue to a developer queue with no staff reply
within gaps.handoff_announce_business_hours business hours after the move.

The process's Handoff, step 3: "Tech Lead notifies the Recipient List that the problem has
moved into a longer-term resolution, with estimates." Evidence names each late move and the
first staff reply after it, in business hours (the default limit of 8 is one business day);
a move with no reply after it counts once the ticket is closed or the limit has passed. The
action owner is the Tech Lead at the hand-off.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.closeout.audit import Audit, join_evidence
from review.closeout.rule import rule


@rule(
    __doc__,
    "handoff-not-announced",
    order=70,
    severity="medium",
    action="Tech Lead notifies the Recipient List that the problem moved into longer-term "
    "resolution, with estimates.",
    action_owner="the Tech Lead at the hand-off",
    inputs=("queue", "reply", quality.QUEUE_NAMES),
)
def handoff_not_announced(audit: Audit) -> pd.DataFrame:
    late = audit.handoffs()
    late = late.loc[late["late"]]
    text = join_evidence(late)
    who = audit.lead_after(late.groupby("ticket_id")[["txn_id", "at"]].first())
    return pd.DataFrame(
        {"ticket_id": text.index, "evidence": text.to_numpy(), "action_owner": who.to_numpy()}
    )
