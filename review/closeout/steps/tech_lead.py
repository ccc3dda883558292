"""Tech Lead assigned: done when the ticket had an owner from creation or was given one.

The process names a Tech Lead for every problem response; RT shows the Tech Lead as the
ticket's owner (Set/Owner transactions).
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.analysis.timeline import NOBODY
from review.closeout.rules.never_triaged import never_triaged
from review.closeout.rules.no_owner_at_close import no_owner_at_close
from review.closeout.step import DONE, MISSING, Checklist, pick, rows, step


@step(
    __doc__,
    order=40,
    reports=(
        never_triaged,
        no_owner_at_close,
    ),
    inputs=("owner", quality.USER_NAMES),
)
def tech_lead(checklist: Checklist, label: str) -> pd.DataFrame:
    ev = checklist.audit.events
    taken = ev.loc[facts.owner_set(ev)]
    first = taken.groupby("ticket_id")[["txn_id", "at", "new"]].first().reindex(checklist.ids)
    initial = facts.at_creation(checklist.audit.segments)["owner"]
    initial = initial.reindex(checklist.ids).fillna(NOBODY)
    born = initial != NOBODY
    set_later = first["txn_id"].notna()
    state = pick([born | set_later], [DONE], checklist.ids).replace("", MISSING)
    evidence = pick(
        [born, set_later],
        [
            "owner " + initial + " from creation",
            "owner set to "
            + first["new"].fillna("")
            + " by txn "
            + first["txn_id"].astype("Int64").astype(str)
            + " at "
            + facts.iso_utc(first["at"]),
        ],
        checklist.ids,
    ).replace("", "the owner was Nobody throughout")
    return rows(state, evidence, "the ticket's owner (Set/Owner transactions)", label)
