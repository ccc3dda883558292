"""time to triage: from opened_at to triaged_at.

How long a problem waited for someone to take it. Its statistics count the triaged
incidents only, and say how many were never triaged.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "time_to_triage",
    order=40,
    unit="hours",
    includes="triaged incidents ({missing} of {total} not triaged)",
    reads=("statuses.initial",),
    inputs=(quality.TRIAGE, quality.USER_NAMES),
)
def time_to_triage(inc: Incidents) -> pd.DataFrame:
    return inc.between("opened_at", "triaged_at")
