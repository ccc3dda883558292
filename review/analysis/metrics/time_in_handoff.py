"""time in hand-off: total time in developer queues while the ticket was not closed, from the
first handoff to the final resolution; empty if never handed off or not resolved yet.

How long a problem sat with developers before it was resolved. Its statistics count
resolved incidents that were handed off; the time so far of one still open is never
mixed in.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.analysis.incidents import Incidents, hours
from review.analysis.metric import CLOCKS, metric
from review.settings.calendar import as_hours


@metric(
    __doc__,
    "time_in_handoff",
    order=60,
    unit="hours",
    includes="resolved incidents that were handed off{still_open}",
    reads=("statuses.inactive", "queues.ops", "queues.developer"),
    inputs=("queue", "status", quality.QUEUE_NAMES),
)
def time_in_handoff(inc: Incidents) -> pd.DataFrame:
    first_handoff = inc.handoffs.groupby("ticket_id")["at"].min()
    seg = inc.segments.merge(first_handoff.rename("first_handoff").reset_index(), on="ticket_id")
    in_dev = (
        seg["queue"].isin(inc.config.queues.developer)
        & ~seg["status"].isin(inc.inactive)
        & (seg["start"] >= seg["first_handoff"])
    )
    seg = seg.loc[in_dev]
    # summed exactly (whole microseconds) and made hours once: the same however the stay in
    # developer queues is cut into stretches (by owner or status changes, or batches)
    seg = seg.assign(
        h=seg["end"] - seg["start"], bh=inc.clock.micros_between(seg["start"], seg["end"])
    )
    sums = seg.groupby("ticket_id").agg(h=("h", "sum"), bh=("bh", "sum"))
    sums = pd.DataFrame({"h": hours(sums["h"]), "bh": as_hours(sums["bh"])})
    handed = (inc["handoff_count"].fillna(0) > 0) & inc["resolved_at"].notna()  # open: no end
    return pd.DataFrame({c: inc.per_ticket(sums[c], 0.0).where(handed) for c in CLOCKS})
