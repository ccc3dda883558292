"""Business hours, checked against values worked out by hand on a calendar."""

import numpy as np
import pandas as pd
import pytest

from review.settings.calendar import BusinessClock
from review.settings.config import load_config

# (start UTC, end UTC, business hours by hand; America/New_York, Mon-Fri 09-17, US+MA holidays)
CASES = [
    # Tue 10:00-12:00 EDT: inside one working day
    ("2026-09-08T14:00:00Z", "2026-09-08T16:00:00Z", 2.0),
    # Fri 16:00 EDT -> Tue 10:00 EDT over Labor Day (Mon 2026-09-07): 1 h Fri + 1 h Tue
    ("2026-09-04T20:00:00Z", "2026-09-08T14:00:00Z", 2.0),
    # Sat 10:00 -> Sun 20:00 EDT: a weekend holds no working time
    ("2026-08-15T14:00:00Z", "2026-08-17T00:00:00Z", 0.0),
    # Fri 09:00 EDT -> Mon 10:00 EST across the end of daylight saving (2026-11-01): 8 h + 1 h
    ("2026-10-30T13:00:00Z", "2026-11-02T15:00:00Z", 9.0),
    # Fri 2026-10-09 17:30 EDT -> Tue 10-13 08:30 EDT: Columbus Day off, nothing worked
    ("2026-10-09T21:30:00Z", "2026-10-13T12:30:00Z", 0.0),
    # Wed 06:00 EDT (before opening) -> Wed 20:00 EDT (after closing): the full day
    ("2026-08-05T10:00:00Z", "2026-08-06T00:00:00Z", 8.0),
    # Mon 2026-08-03 12:15 EDT -> Fri 2026-08-07 09:45 EDT: 4.75 + 3*8 + 0.75
    ("2026-08-03T16:15:00Z", "2026-08-07T13:45:00Z", 29.5),
]


@pytest.fixture(scope="module")
def clock() -> BusinessClock:
    return BusinessClock(load_config().calendar)


@pytest.mark.parametrize(("start", "end", "hours"), CASES)
def test_business_hours_match_hand_computed(
    clock: BusinessClock, start: str, end: str, hours: float
) -> None:
    got = clock.hours_between(
        pd.Series(pd.to_datetime([start], utc=True)), pd.Series(pd.to_datetime([end], utc=True))
    )
    assert got[0] == pytest.approx(hours)


def test_vectorised_over_many_pairs_and_missing_ends(clock: BusinessClock) -> None:
    starts = pd.Series(pd.to_datetime([c[0] for c in CASES] + ["2026-08-03T16:15:00Z"], utc=True))
    ends = pd.Series(pd.to_datetime([c[1] for c in CASES] + [None], utc=True))
    got = clock.hours_between(starts, ends)
    assert got[:-1] == pytest.approx([c[2] for c in CASES])
    assert np.isnan(got[-1])


def test_holidays_include_labor_day_and_columbus_day(clock: BusinessClock) -> None:
    days = set(clock.holidays.astype(str))
    assert {"2026-09-07", "2026-10-12", "2026-04-20"} <= days  # Patriots' Day is a MA holiday
