"""hand-off announced with estimates: done when every move from an ops queue to a developer
queue had a staff reply within gaps.handoff_announce_business_hours.

The process's Handoff, step 3: the Tech Lead tells the Recipient List, with estimates. Not
applicable when the ticket never moved; the moves are judged as the rule
handoff-not-announced judges them.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.closeout.rules.handoff_not_announced import handoff_not_announced
from review.closeout.step import DONE, MISSING, NA, Checklist, pick, rows, step
from review.snapshot import join_per_key


@step(
    __doc__,
    order=110,
    reports=(handoff_not_announced,),
    inputs=handoff_not_announced.inputs,
    decides=("queue", quality.QUEUE_NAMES),
)
def handoff(checklist: Checklist, label: str) -> pd.DataFrame:
    moves = checklist.audit.handoffs()
    text = join_per_key(moves["ticket_id"], moves["evidence"], "; ").reindex(checklist.ids)
    late = moves.groupby("ticket_id")["late"].any().reindex(checklist.ids)
    state = pick([text.isna(), late.fillna(False)], [NA, MISSING], checklist.ids).replace("", DONE)
    evidence = text.fillna("never moved from an ops queue to a developer queue")
    return rows(
        state, evidence, "queue moves to developer queues and the staff replies after", label
    )
