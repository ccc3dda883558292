"""tech-lead changes: changes of owner, after dropping Nobody from the sequence of owners (A ->
Nobody -> B counts 1, A -> Nobody -> A counts 0).

The process lets the Tech Lead role move as resolution moves to other components; a
ticket taken back to Nobody and given to someone else counts as one change.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.analysis.incidents import Incidents
from review.analysis.metric import metric
from review.analysis.timeline import NOBODY
from review.snapshot.frames import sort_stable


@metric(
    __doc__,
    "tech_lead_handoffs",
    order=80,
    unit="count",
    inputs=("owner", quality.USER_NAMES),
)
def tech_lead_handoffs(inc: Incidents) -> pd.Series:
    owners = facts.at_creation(inc.segments).reset_index()[
        ["ticket_id", "start", "txn_id", "owner"]
    ]
    ev = inc.events
    owner_changes = ev.loc[ev["kind"] == "owner", ["ticket_id", "at", "txn_id", "new"]]
    sequence = sort_stable(
        pd.concat(
            [
                owners.rename(columns={"start": "at"}),
                owner_changes.rename(columns={"new": "owner"}),
            ],
            ignore_index=True,
        ),
        ["ticket_id", "at", "txn_id"],
    )
    sequence = sequence.loc[sequence["owner"].notna() & (sequence["owner"] != NOBODY)]
    previous = sequence.groupby("ticket_id")["owner"].shift()
    changed = previous.notna() & (sequence["owner"] != previous)
    return inc.per_ticket(changed.groupby(sequence["ticket_id"]).sum(), 0).astype("int64")
