"""3Down updated (urgent): done when the 3Down address is a watcher of an urgent ticket, so
staff replies reach 3Down.

The process's Urgent Response, step 2. Not applicable when the ticket is not urgent; not
observable when the registry names no 3Down address, or no ticket carries the
Classification field (which says what is urgent).
"""

from __future__ import annotations

import pandas as pd

from review.closeout.step import DONE, MISSING, NA, UNSEEN, Checklist, pick, rows, step


@step(__doc__, order=60, reads=("classification",))
def threedown(checklist: Checklist, label: str) -> pd.DataFrame:
    unseen = checklist.unseen_field("classification", label)  # which incidents are urgent
    if unseen is not None:
        return unseen
    address = checklist.audit.registry.threedown_list
    if not address:
        state = pd.Series(NA, index=checklist.ids).mask(checklist.urgent, UNSEEN)
        evidence = pd.Series("not urgent", index=checklist.ids).mask(
            checklist.urgent, "RT does not record 3Down posts"
        )
        how = (
            "set threedown_list in the registry and Cc that address on urgent tickets, "
            "or add a ticket custom field '3Down Updated'"
        )
        return rows(state, evidence, how, label)
    on = checklist.on_watchers(pd.Series(address, index=checklist.ids))
    state = pick([~checklist.urgent, on], [NA, DONE], checklist.ids).replace("", MISSING)
    evidence = pick(
        [~checklist.urgent, on],
        [
            "classified " + checklist.inc["classification"].fillna("") + ", not urgent",
            f"{address} is a watcher, so staff replies reach 3Down",
        ],
        checklist.ids,
    ).replace("", f"{address} is not a watcher of this urgent ticket")
    return rows(state, evidence, f"the 3Down address {address} on the ticket's Cc", label)
