"""Business hours, checked against values worked out by hand on a calendar."""

from datetime import time

import numpy as np
import pandas as pd
import pytest

from review.settings.calendar import BusinessClock, add_business_seconds
from review.settings.config import load_config
from review.settings.sections import WEEKDAYS, Calendar

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


# A night shift every day, 00:00-08:00 America/New_York: its hours span both DST changes.
NIGHT = Calendar("America/New_York", WEEKDAYS, time(0, 0), time(8, 0), "", "")

# (start UTC, end UTC, business hours by hand under NIGHT)
DST_CASES = [
    # Sun 2026-03-08: 00:00 EST (05Z) to 08:00 EDT (12Z) is 7 real hours (02:00 is skipped)
    ("2026-03-08T05:00:00Z", "2026-03-08T12:00:00Z", 7.0),
    # 01:00 EST (06Z) to 04:00 EDT (08Z): two hours on the wall clock's own watch
    ("2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z", 2.0),
    # Sun 2026-11-01: 00:00 EDT (04Z) to 08:00 EST (13Z) is 9 real hours (01:00 twice)
    ("2026-11-01T04:00:00Z", "2026-11-01T13:00:00Z", 9.0),
    # the repeated hour: 01:00 EDT (05Z) to 01:00 EST (06Z) is one hour, not none
    ("2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", 1.0),
    # 01:30 EDT (05:30Z) to 01:10 EST (06:10Z): 40 minutes, not minus 20
    ("2026-11-01T05:30:00Z", "2026-11-01T06:10:00Z", 40 / 60),
    # Sat 23:00 EST to Mon 09:00 EDT across the change: Sun 7 h + Mon 8 h
    ("2026-03-08T04:00:00Z", "2026-03-09T13:00:00Z", 15.0),
]


@pytest.mark.parametrize(("start", "end", "hours"), DST_CASES)
def test_hours_across_a_dst_change_are_the_real_hours_worked(
    start: str, end: str, hours: float
) -> None:
    got = BusinessClock(NIGHT).hours_between(
        pd.Series(pd.to_datetime([start], utc=True)), pd.Series(pd.to_datetime([end], utc=True))
    )
    assert got[0] == hours


def test_business_time_never_runs_backwards_or_faster_than_the_wall() -> None:
    """Every 10 minutes over both DST weekends under NIGHT: business time moves by 0 or by
    the 10 minutes, never less than nothing and never more than the wall clock."""
    clock = BusinessClock(NIGHT)
    for day in ("2026-03-07", "2026-10-31"):
        at = pd.Series(pd.date_range(f"{day}T00:00Z", periods=3 * 144, freq="10min"))
        step = np.diff(clock.working_us(at))
        assert set(step) <= {0.0, 600e6}


def test_a_deadline_across_a_dst_change_counts_real_working_time() -> None:
    clock = BusinessClock(NIGHT)
    start = pd.Series(pd.to_datetime(["2026-03-08T05:00:00Z"] * 2, utc=True))
    due = add_business_seconds(clock, start, np.array([3 * 3600.0, 7 * 3600.0]))
    # 3 h after 00:00 EST is 04:00 EDT (08Z), not 03:00 EDT; 7 h is the whole short day,
    # so its closing, which is the next opening: Mon 00:00 EDT (04Z)
    assert list(due) == [pd.Timestamp("2026-03-08T08:00Z"), pd.Timestamp("2026-03-09T04:00Z")]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Fri 1998-12-25, Christmas: RT existed, and the holiday is off whatever the year
        ("1998-12-25T14:00:00Z", "1998-12-25T22:00:00Z"),
        # Mon 2100-07-05, Independence Day observed
        ("2100-07-05T13:00:00Z", "2100-07-05T21:00:00Z"),
        # Mon 1960-07-04
        ("1960-07-04T13:00:00Z", "1960-07-04T21:00:00Z"),
    ],
)
def test_holidays_are_off_in_any_year(clock: BusinessClock, start: str, end: str) -> None:
    got = clock.hours_between(
        pd.Series(pd.to_datetime([start], utc=True)), pd.Series(pd.to_datetime([end], utc=True))
    )
    assert got[0] == 0.0  # was 8.0: holidays were known for 2000-2040 only


def test_a_day_before_a_holiday_in_2100_is_a_working_day_as_in_2026(clock: BusinessClock) -> None:
    starts = pd.Series(pd.to_datetime(["2100-07-02T13:00Z", "2026-07-02T13:00Z"], utc=True))
    ends = pd.Series(pd.to_datetime(["2100-07-02T21:00Z", "2026-07-02T21:00Z"], utc=True))
    assert list(clock.hours_between(starts, ends)) == [8.0, 8.0]


def test_equal_and_reversed_instants(clock: BusinessClock) -> None:
    a = pd.Series(pd.to_datetime(["2026-09-08T14:00:00Z", "2026-09-08T14:00:00Z"], utc=True))
    b = pd.Series(pd.to_datetime(["2026-09-08T14:00:00Z", "2026-09-08T16:00:00Z"], utc=True))
    assert list(clock.hours_between(a, b)) == [0.0, 2.0]
    assert list(clock.hours_between(b, a)) == [0.0, -2.0]  # as wall-clock hours: signed


def test_a_calendar_without_working_hours_is_refused() -> None:
    for calendar in (
        Calendar("UTC", (), time(9), time(17), "", ""),
        Calendar("UTC", ("Mon",), time(9), time(9), "", ""),
    ):
        with pytest.raises(ValueError, match="has no working hours"):
            BusinessClock(calendar)


def test_a_month_that_starts_with_a_change_to_dst_starts_at_its_first_instant() -> None:
    """America/Asuncion moved its clocks from 00:00 to 01:00 on Sunday 2023-10-01: October's
    first instant is 01:00 -03 (04:00Z), and November starts at 00:00 -03 (03:00Z). The month
    of a report, `review stats` and the timeline's shading raised on the missing midnight."""
    import dataclasses

    from review.pages import figures
    from review.settings.months import month_span

    config = load_config(None)
    calendar = dataclasses.replace(
        config.calendar, timezone="America/Asuncion", holidays_country=""
    )
    asuncion = dataclasses.replace(config, calendar=calendar)
    assert month_span("2023-10", asuncion) == (
        pd.Timestamp("2023-10-01T04:00Z"),
        pd.Timestamp("2023-11-01T03:00Z"),
    )
    off = figures._off_hours(
        pd.Timestamp("2023-10-01T12:00Z"), pd.Timestamp("2023-10-02T12:00Z"), asuncion
    )
    # Sunday off from its first instant; Monday 09:00-17:00 -03 (12:00-20:00Z) worked
    assert [(a.tz_convert("UTC"), b.tz_convert("UTC")) for a, b in off] == [
        (pd.Timestamp("2023-10-01T04:00Z"), pd.Timestamp("2023-10-02T12:00Z")),
        (pd.Timestamp("2023-10-02T20:00Z"), pd.Timestamp("2023-10-03T03:00Z")),
    ]


def _every_day(zone: str, start: time, end: time) -> BusinessClock:
    return BusinessClock(Calendar(zone, WEEKDAYS, start, end, "", ""))


def _hours(clock: BusinessClock, start: str, end: str) -> float:
    found = clock.hours_between(pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)]))
    return float(found[0])


def test_a_repeated_hour_is_worked_only_where_the_wall_reads_working_hours() -> None:
    """Sun 2026-11-01 America/New_York: 01:00-02:00 EDT (05-06Z), then 01:00-02:00 EST
    (06-07Z). Hours 00:00-01:30: worked 04:00-05:30Z and 06:00-06:30Z, 2 h; 05:30-06:00Z
    reads 01:30-02:00 EDT, after closing. Hours 01:30-08:00: 05:30-06:00Z and 06:30-13:00Z,
    7 h. Lord Howe, 2026-04-05, 02:00 +11 back to 01:30 +10:30 (15:00Z): hours 00:30-01:30
    are 13:30-14:30Z, 1 h; 01:30-02:00 +11 (14:30-15:00Z) is after closing. The opening was
    the first of a repeated time and the closing the last, all between worked: 2.5, 7.5,
    1.5 h."""
    night = _every_day("America/New_York", time(0), time(1, 30))
    assert _hours(night, "2026-11-01T03:00Z", "2026-11-01T08:00Z") == 2.0
    assert _hours(night, "2026-11-01T05:15Z", "2026-11-01T06:15Z") == 0.5  # 15 + 15 min
    late = _every_day("America/New_York", time(1, 30), time(8))
    assert _hours(late, "2026-11-01T04:00Z", "2026-11-01T14:00Z") == 7.0
    assert _hours(late, "2026-11-01T06:00Z", "2026-11-01T06:30Z") == 0.0  # 01:00-01:30 EST
    lord_howe = _every_day("Australia/Lord_Howe", time(0, 30), time(1, 30))
    assert _hours(lord_howe, "2026-04-04T12:00Z", "2026-04-04T16:00Z") == 1.0
    hours = night.working_hours(
        pd.Timestamp("2026-11-01T12:00Z"), pd.Timestamp("2026-11-01T12:00Z")
    )
    assert hours.astype(str).values.tolist() == [
        ["2026-11-01 04:00:00+00:00", "2026-11-01 05:30:00+00:00"],
        ["2026-11-01 06:00:00+00:00", "2026-11-01 06:30:00+00:00"],
    ]


def test_a_deadline_in_a_repeated_hour_skips_the_part_after_closing() -> None:
    """Hours 00:00-01:30 New York: from 00:00 EDT (04:00Z) 1.5 h of work end at 05:30Z, the
    closing's first pass; the work resumes at 01:00 EST (06:00Z), which a deadline exactly
    at the end of a stretch moves to (as at closing); 1.75 h end at 06:15Z."""
    night = _every_day("America/New_York", time(0), time(1, 30))
    start = pd.Series([pd.Timestamp("2026-11-01T04:00Z")] * 2)
    due = add_business_seconds(night, start, np.array([5400.0, 6300.0]))
    assert due.astype(str).tolist() == ["2026-11-01 06:00:00+00:00", "2026-11-01 06:15:00+00:00"]


def test_an_opening_the_change_to_dst_skips_is_the_change_itself() -> None:
    """Lord Howe moves from 02:00 +10:30 to 02:30 +11 on 2026-10-04 (15:30Z); St John's moved
    from 00:01 -03:30 to 01:01 -02:30 on 2011-03-13 (03:31Z). An opening at 02:15 or 01:00,
    skipped, is the change: pandas' shift_forward gave 03:00 +11 (16:00Z) and 02:00 -02:30
    (04:30Z), 30 and 59 minutes late."""
    lord_howe = _every_day("Australia/Lord_Howe", time(2, 15), time(4))
    assert _hours(lord_howe, "2026-10-03T12:00Z", "2026-10-03T18:00Z") == 1.5  # 02:30-04:00
    st_johns = _every_day("America/St_Johns", time(1), time(2))
    assert _hours(st_johns, "2011-03-13T00:00Z", "2011-03-13T12:00Z") == 59 / 60  # 01:01-02:00
