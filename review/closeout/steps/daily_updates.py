"""daily updates in an extended outage: done when an urgent incident open longer than
gaps.daily_update_hours never went longer without a staff reply.

The process's Urgent Response, step 7. Not applicable when the incident is not urgent or
was not open that long; when missing, the evidence is that of the rule missed-daily-update;
not observable when no ticket carries the Classification field (which says what is urgent).
"""

from __future__ import annotations

import pandas as pd

from review.closeout.rules.missed_daily_update import missed_daily_update
from review.closeout.step import DONE, MISSING, NA, Checklist, pick, rows, step


@step(
    __doc__,
    order=70,
    reads=("classification",),
    reports=(missed_daily_update,),
    inputs=missed_daily_update.inputs,
    decides=("status",),
)
def daily_updates(checklist: Checklist, label: str) -> pd.DataFrame:
    unseen = checklist.unseen_field("classification", label)  # which incidents are urgent
    if unseen is not None:
        return unseen
    inc = checklist.inc
    end = inc["resolved_at"].fillna(checklist.audit.pulled_at)
    hours = (end - inc["opened_at"]).dt.total_seconds() / 3600.0
    limit = checklist.config.gaps.daily_update_hours
    extended = checklist.urgent & (hours > limit)
    missed = checklist.finding(missed_daily_update)
    state = pick([~extended, missed.notna()], [NA, MISSING], checklist.ids).replace("", DONE)
    evidence = pick(
        [~checklist.urgent, ~extended, missed.notna()],
        [
            pd.Series("not urgent", index=checklist.ids),
            "open " + hours.round(1).astype(str) + f" h, not more than {limit:g} h",
            missed,
        ],
        checklist.ids,
    ).replace("", f"no gap of more than {limit:g} h between staff replies")
    return rows(state, evidence, "staff replies (Correspond) while the ticket is open", label)
