"""validated by service and business owners: done when the Validated By field is set.

The process's Urgent Response, step 4: the service and business owners validate the
service before the problem is closed. Not applicable for a rejected ticket or one still
open; when missing, the evidence is that of the rule not-validated.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.rules.not_validated import not_validated
from review.closeout.step import DONE, MISSING, NA, Checklist, pick, rows, step


@step(__doc__, order=90, reads=("validated_by",), reports=(not_validated,))
def validation(checklist: Checklist, label: str) -> pd.DataFrame:
    name = checklist.config.fields.validated_by
    unseen = checklist.unseen_field("validated_by", label)
    if unseen is not None:
        return unseen
    value = checklist.inc["validated_by"]
    rejected = checklist.audit.rejected
    still_open = ~checklist.audit.closed
    state = pick([rejected | still_open, value != ""], [NA, DONE], checklist.ids).replace(
        "", MISSING
    )
    evidence = pick(
        [rejected, still_open, value != ""],
        [
            pd.Series("rejected: not a problem", index=checklist.ids),
            pd.Series("still open", index=checklist.ids),
            checklist.set_by(name, value),
        ],
        checklist.ids,
    )
    evidence = evidence.where(evidence != "", checklist.finding(not_validated))
    return rows(state, evidence, f"custom field '{name}'", label)
