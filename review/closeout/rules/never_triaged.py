"""Never triaged: no staff owner, staff reply or staff status change ever happened (metrics'
triaged_at is empty).

The process's Communication Channels: "the recipient must contact ops-help and the
service-owner", who takes the ticket as Tech Lead or names a designate. Evidence names the
creating transaction and the close (or the snapshot's time for a ticket still open); a
ticket created already closed was never triaged.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.closeout.audit import Audit, txn_text
from review.closeout.rule import rule


@rule(
    __doc__,
    "never-triaged",
    order=80,
    severity="high",
    action="The recipient contacts ops-help and the service owner; the service owner (or a "
    "designate) takes the ticket as Tech Lead and triages it.",
    action_owner="Operations (ops-help)",
    inputs=(quality.TRIAGE, quality.USER_NAMES),
)
def never_triaged(audit: Audit) -> pd.DataFrame:
    flagged = audit.ids[audit.inc["triaged_at"].isna()]
    creates = audit.creates.reindex(flagged)
    closed = audit.closed.reindex(flagged)
    close_text = audit.close_text.reindex(flagged)
    snapshot_at = facts.iso_utc(pd.Series(audit.pulled_at, index=flagged), "?")
    text = (
        "no staff owner, staff reply or staff status change between created by "
        + txn_text(creates["txn_id"].fillna(0), creates["at"])
        + " and "
        + close_text.where(closed, "the snapshot at " + snapshot_at + " (still open)")
    )
    born_closed = closed & audit.closes["txn_id"].reindex(flagged).isna()
    text = text.mask(born_closed, close_text + ", so it was never triaged")
    return pd.DataFrame({"ticket_id": flagged, "evidence": text.to_numpy()})
