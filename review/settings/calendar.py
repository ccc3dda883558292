"""The business-hours clock: working time between two instants, vectorised.

Each instant is mapped to the number of working seconds since a fixed epoch
(whole working days before its local date, plus the worked part of its own
day); working time between two instants is the difference. No stepping
through hours, so millions of intervals cost one numpy pass.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from review.settings.sections import WEEKDAYS, Calendar

_EPOCH = np.datetime64("2000-01-01", "D")


def calendar_text(cal: Calendar) -> str:
    """The calendar in words: 'Mon-Fri 09:00-17:00 America/New_York, US-MA holidays off'."""
    days = f"{cal.workdays[0]}-{cal.workdays[-1]}" if len(cal.workdays) > 1 else cal.workdays[0]
    holidays = (
        f", {cal.holidays_country}"
        f"{'-' + cal.holidays_subdivision if cal.holidays_subdivision else ''} holidays off"
        if cal.holidays_country
        else ""
    )
    return f"{days} {cal.start:%H:%M}-{cal.end:%H:%M} {cal.timezone}{holidays}"


class BusinessClock:
    """Working time under one calendar: weekdays, daily hours, public holidays."""

    def __init__(self, calendar: Calendar, first_year: int = 2000, last_year: int = 2040) -> None:
        self.calendar = calendar
        self.first_year = first_year
        self.last_year = last_year
        self.weekmask = [day in calendar.workdays for day in WEEKDAYS]
        self.day_start_s = calendar.start.hour * 3600 + calendar.start.minute * 60
        self.day_end_s = calendar.end.hour * 3600 + calendar.end.minute * 60

    @cached_property
    def holidays(self) -> np.ndarray:
        """Holiday dates (local) as datetime64[D], from the `holidays` package."""
        if not self.calendar.holidays_country:
            return np.array([], dtype="datetime64[D]")
        import holidays

        found = holidays.country_holidays(
            self.calendar.holidays_country,
            subdiv=self.calendar.holidays_subdivision or None,
            years=range(self.first_year, self.last_year + 1),
        )
        return np.array(sorted(found.keys()), dtype="datetime64[D]")

    @property
    def day_seconds(self) -> int:
        return self.day_end_s - self.day_start_s

    def working_seconds_since_epoch(self, instants: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Working seconds from the epoch to each instant (NaN where the instant is missing)."""
        ts = pd.DatetimeIndex(pd.to_datetime(instants, utc=True))
        missing = np.asarray(ts.isna())
        local = ts.tz_convert(self.calendar.timezone)
        local_day = np.asarray(local.tz_localize(None).floor("D").values).astype("datetime64[D]")
        local_day = np.where(missing, _EPOCH, local_day)
        days_before = np.busday_count(
            _EPOCH, local_day, weekmask=self.weekmask, holidays=self.holidays
        ).astype("float64")
        second_of_day = np.asarray(local.hour * 3600 + local.minute * 60 + local.second, "float64")
        second_of_day += np.asarray(local.microsecond, "float64") / 1e6
        worked_today = np.clip(second_of_day - self.day_start_s, 0, self.day_seconds)
        is_workday = np.is_busday(local_day, weekmask=self.weekmask, holidays=self.holidays)
        total = days_before * self.day_seconds + np.where(is_workday, worked_today, 0.0)
        return np.where(missing, np.nan, total)

    def hours_between(
        self, start: pd.Series | pd.DatetimeIndex, end: pd.Series | pd.DatetimeIndex
    ) -> np.ndarray:
        """Business hours from each start to its end; NaN where either is missing."""
        worked = self.working_seconds_since_epoch(end) - self.working_seconds_since_epoch(start)
        return np.asarray(worked / 3600.0, dtype="float64")


def add_business_seconds(clock: BusinessClock, start: pd.Series, seconds: np.ndarray) -> pd.Series:
    """RT's Business::Hours add_seconds: the instant `seconds` working seconds after `start`.

    A start outside hours counts from the next opening; a result exactly at closing time is
    the next opening (Business::Hours counts whole seconds and closing is not a working one).
    """
    worked = clock.working_seconds_since_epoch(start) + np.asarray(seconds, "float64")
    missing = np.isnan(worked)
    worked = np.where(missing, 0.0, worked)
    day = np.floor(worked / clock.day_seconds)
    offset = worked - day * clock.day_seconds
    dates = np.busday_offset(
        np.datetime64("2000-01-01", "D"),
        day.astype("int64"),
        roll="forward",
        weekmask=clock.weekmask,
        holidays=clock.holidays,
    )
    local = pd.to_datetime(dates) + pd.to_timedelta(clock.day_start_s + offset, unit="s")
    utc = local.tz_localize(
        clock.calendar.timezone, ambiguous=False, nonexistent="shift_forward"
    ).tz_convert("UTC")
    return pd.Series(utc, index=start.index).where(~missing)


def business_second(clock: BusinessClock, at: pd.Series) -> np.ndarray:
    """Whether the whole second starting at each instant is a working one."""
    later = at + pd.Timedelta(seconds=1)
    return np.asarray(
        clock.working_seconds_since_epoch(later) - clock.working_seconds_since_epoch(at) > 0.5
    )
