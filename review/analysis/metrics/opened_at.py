"""opened at: when the ticket was created in RT.

The start of every duration. A ticket merged into another is reported under the ticket it
was merged into, so its own creation is no incident's opened_at.
"""

from __future__ import annotations

import pandas as pd

from review.analysis.incidents import Incidents
from review.analysis.metric import metric


@metric(
    __doc__,
    "opened_at",
    order=10,
    unit="time",
)
def opened_at(inc: Incidents) -> pd.Series:
    opened: pd.Series = inc.tickets["created"]
    return opened
