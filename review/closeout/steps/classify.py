"""classify the problem: done when the Classification field holds one of the process's classes
(urgent outage, urgent degraded, hand-off).

The process's Define the Problem. Missing when the field is empty or holds another value;
not observable when no ticket carries the field.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.step import DONE, MISSING, Checklist, pick, rows, step


@step(__doc__, order=10, reads=("classification",))
def classify(checklist: Checklist, label: str) -> pd.DataFrame:
    name = checklist.config.fields.classification
    unseen = checklist.unseen_field("classification", label)
    if unseen is not None:
        return unseen
    value = checklist.inc["classification"].fillna("").str.strip()
    c = checklist.config.classification
    known = value.isin([c.urgent_outage, c.urgent_degraded, c.handoff])
    state = pick([known], [DONE], checklist.ids).replace("", MISSING)
    evidence = pick(
        [known, value == "", value != ""],
        [
            checklist.set_by(name, value),
            f"custom field '{name}' is empty",
            f"custom field '{name}' is '"
            + value
            + f"', not one of {c.urgent_outage}, {c.urgent_degraded}, {c.handoff}",
        ],
        checklist.ids,
    )
    return rows(state, evidence, f"custom field '{name}'", label)
