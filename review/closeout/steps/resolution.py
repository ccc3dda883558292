"""temporary vs permanent resolution: done when the Resolution Type is Permanent, or Temporary
with a follow-up linked.

The process's Urgent Response, step 5. When missing, the evidence is that of the rule
temporary-fix-no-followup, or the field is empty on a closed ticket; not applicable for a
rejected ticket or one still open.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.rules.temporary_fix_no_followup import temporary_fix_no_followup
from review.closeout.step import DONE, MISSING, NA, Checklist, pick, rows, step
from review.snapshot import join_per_key


@step(__doc__, order=100, reads=("resolution_type",), reports=(temporary_fix_no_followup,))
def resolution(checklist: Checklist, label: str) -> pd.DataFrame:
    name = checklist.config.fields.resolution_type
    unseen = checklist.unseen_field("resolution_type", label)
    if unseen is not None:
        return unseen
    value = checklist.inc["resolution"]
    r = checklist.config.resolution
    rejected = checklist.audit.rejected
    still_open = ~checklist.audit.closed
    no_followup = checklist.finding(temporary_fix_no_followup)
    temporary = value == r.temporary
    state = pick(
        [rejected, value == r.permanent, temporary & no_followup.isna(), temporary],
        [NA, DONE, DONE, MISSING],
        checklist.ids,
    )
    state = state.mask((state == "") & still_open, NA).replace("", MISSING)
    links = checklist.audit.snapshot.links
    ordered = links.sort_values(["ticket_id", "target"])
    text = (ordered["ref"] + " " + ordered["target"].astype(str)).rename("text")
    linked = join_per_key(ordered["ticket_id"], text, ", ").reindex(checklist.ids).fillna("")
    evidence = pick(
        [rejected, value == r.permanent, temporary & no_followup.isna(), temporary],
        [
            pd.Series("rejected: not a problem", index=checklist.ids),
            checklist.set_by(name, value),
            checklist.set_by(name, value) + "; follow-up linked: " + linked,
            no_followup,
        ],
        checklist.ids,
    )
    evidence = evidence.mask((evidence == "") & still_open, "still open").replace(
        "", f"custom field '{name}' is empty"
    )
    return rows(state, evidence, f"custom field '{name}'; links to follow-up tickets", label)
