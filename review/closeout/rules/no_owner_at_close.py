"""No owner at close: closed while its owner was Nobody.

The process names a Tech Lead for every problem response; RT shows the Tech Lead as the
ticket's owner. Evidence names the closing transaction (or the creation of a ticket created
already closed).
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.analysis.facts import AT_CREATION
from review.analysis.timeline import NOBODY
from review.closeout.audit import Audit
from review.closeout.rule import rule


@rule(
    __doc__,
    "no-owner-at-close",
    order=90,
    severity="low",
    action="Name the Tech Lead (the service owner or a designate) as the ticket's owner before "
    "closing.",
    inputs=("owner", "status", quality.USER_NAMES),
)
def no_owner_at_close(audit: Audit) -> pd.DataFrame:
    closes = audit.closes.loc[audit.closed]
    txn = closes["txn_id"].fillna(AT_CREATION).astype("int64")
    keys = pd.DataFrame({"ticket_id": closes.index, "txn_id": txn.to_numpy()})
    state = keys.merge(audit.segments[["ticket_id", "txn_id", "owner"]], how="left")
    owner = pd.Series(state["owner"].to_numpy(), index=closes.index)
    flagged = owner.fillna(NOBODY) == NOBODY
    text = (audit.close_text.reindex(closes.index) + " while the owner was Nobody")[flagged]
    return pd.DataFrame({"ticket_id": text.index, "evidence": text.to_numpy()})
