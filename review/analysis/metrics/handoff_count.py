"""hand-offs: moves from an ops queue ({ops}) into a developer queue.

The process's Handoff: the Tech Lead moves the ticket from the ops queue to the
developers' system of record. Moves between developer queues do not count.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "handoff_count",
    order=50,
    unit="count",
    reads=("queues.ops", "queues.developer"),
    inputs=("queue", quality.QUEUE_NAMES),
)
def handoff_count(inc: Incidents) -> pd.Series:
    return inc.count(inc.handoffs)
