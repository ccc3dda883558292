"""time to resolve: from opened_at to resolved_at (reopened time included).

From report to the last close. Its statistics count resolved incidents only.
"""

from __future__ import annotations

import pandas as pd

from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "time_to_resolve",
    order=70,
    unit="hours",
    reads=("statuses.inactive",),
    inputs=("status",),
)
def time_to_resolve(inc: Incidents) -> pd.DataFrame:
    return inc.between("opened_at", "resolved_at")
