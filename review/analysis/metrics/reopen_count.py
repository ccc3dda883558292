"""reopens: moves from an inactive status back to an active one.

A close that did not hold: each move out of an inactive status counts.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts
from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "reopen_count",
    order=90,
    unit="count",
    reads=("statuses.inactive",),
    inputs=("status",),
)
def reopen_count(inc: Incidents) -> pd.Series:
    return inc.count(inc.events.loc[facts.reopening(inc.events, inc.inactive), ["ticket_id"]])
