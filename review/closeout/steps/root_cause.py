"""root cause recorded: done when the Root Cause field is set.

The process's Urgent Response, step 3.3. Not applicable for a rejected ticket or one still
open without it; not observable when no ticket carries the field.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.step import DONE, MISSING, NA, Checklist, pick, rows, step


@step(__doc__, order=80, reads=("root_cause",))
def root_cause(checklist: Checklist, label: str) -> pd.DataFrame:
    name = checklist.config.fields.root_cause
    unseen = checklist.unseen_field("root_cause", label)
    if unseen is not None:
        return unseen
    value = checklist.field(name)
    rejected = checklist.audit.rejected
    pending = ~checklist.audit.closed & (value == "")
    state = pick([rejected, value != "", pending], [NA, DONE, NA], checklist.ids)
    evidence = pick(
        [rejected, value != "", pending],
        [
            pd.Series("rejected: not a problem", index=checklist.ids),
            checklist.set_by(name, value),
            pd.Series("still open", index=checklist.ids),
        ],
        checklist.ids,
    )
    state = state.replace("", MISSING)
    evidence = evidence.replace("", f"custom field '{name}' is empty")
    return rows(state, evidence, f"custom field '{name}'", label)
