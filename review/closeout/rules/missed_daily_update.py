"""Daily update missed: an urgent incident went more than gaps.daily_update_hours while open
without a staff reply (Correspond) to the Recipient List.

The process's Urgent Response, step 7: "During an extended outage, the service owner updates
the Recipient List and 3Down at least daily." The points are the creation, each staff reply,
each close and reopen, and the snapshot's time for a ticket still open; time while closed
before a reopen does not count. Evidence names the two transactions around each long
silence and its length in hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from review.analysis import facts
from review.analysis.facts import AT_CREATION
from review.closeout.audit import Audit, hours_to_limit, join_evidence, txn_text
from review.closeout.rule import rule


@rule(
    __doc__,
    "missed-daily-update",
    order=60,
    severity="high",
    action="During an extended outage the service owner updates the Recipient List and 3Down at "
    "least daily.",
    reads=("classification",),
    inputs=("create", "reply", "status"),
)
def missed_daily_update(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    urgent = inc.index[inc["classification"].isin(audit.config.classification.urgent)]
    ev = audit.events.loc[audit.events["ticket_id"].isin(urgent)]
    closing = facts.closing(ev, audit.inactive)
    points = ev.loc[
        (ev["kind"] == "create")
        | facts.staff_reply(ev)
        | closing
        | facts.reopening(ev, audit.inactive),
        ["ticket_id", "txn_id", "at", "kind"],
    ].copy()
    points["closing"] = closing.reindex(points.index)
    still_open = urgent[~audit.closed.reindex(urgent, fill_value=False).to_numpy(dtype=bool)]
    snapshot_points = pd.DataFrame(
        {
            "ticket_id": still_open,
            "txn_id": AT_CREATION,  # not a transaction
            "at": audit.pulled_at,
            "kind": "snapshot",
        }
    ).assign(closing=False)
    points = pd.concat([points, snapshot_points], ignore_index=True)
    points = points.sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    group = points.groupby("ticket_id")
    prev_txn, prev_at = group["txn_id"].shift(), group["at"].shift()
    prev_closing = group["closing"].shift().fillna(True).astype(bool)
    hours = (points["at"] - prev_at).dt.total_seconds() / 3600.0
    limit = audit.config.gaps.daily_update_hours
    long = (hours > limit) & ~prev_closing
    gaps = points.loc[long]
    end = np.where(
        gaps["txn_id"] == AT_CREATION,
        "the snapshot at " + facts.iso_utc(gaps["at"], "?") + " (still open)",
        txn_text(gaps["txn_id"].clip(lower=0), gaps["at"]),
    )
    text: pd.Series = (
        "no staff update for "
        + hours_to_limit(hours[long], limit)
        + f" h (limit {limit:g} h) between "
        + txn_text(prev_txn[long], prev_at[long])
        + " and "
        + end
    )
    return join_evidence(
        pd.DataFrame({"ticket_id": gaps["ticket_id"], "evidence": text})
    ).reset_index()
