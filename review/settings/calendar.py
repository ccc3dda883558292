"""The business-hours clock: working time between two instants, vectorised and exact.

Each instant is mapped to the working time from a fixed epoch to it, in whole microseconds:
the working time of the local days before its own (a table of days, each with its opening
and its working length in real time), plus the worked part of its own day. Working time
between two instants is the difference, so it is exact, never negative, never more than the
wall-clock time, and the same however a stretch is cut: a sum of stretches equals the
stretch. Days are real days: on the day daylight saving time starts or ends, hours that span
the change are an hour shorter or longer, as the clock on the wall says; a time is worked
when the wall clock then reads working hours, so where a working day starts or ends inside
an hour the clocks repeat, the part of the repeat outside them is not (its `gap`). The table covers
the years the instants need (holidays included), so a time before 2000 or after 2040 counts
its own holidays. No stepping through hours: millions of intervals cost a few numpy passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from review.settings.sections import WEEKDAYS, Calendar

_EPOCH = np.datetime64("2000-01-01", "D")
_EPOCH_YEAR = 2000
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND
_US_PER_DAY = 86400 * US_PER_SECOND


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


def as_hours(microseconds: Any) -> Any:
    """Whole microseconds (a number, array or Series) as hours: the one rounding of a duration."""
    return microseconds / US_PER_HOUR


@dataclass(frozen=True)
class _Days:
    """Consecutive local days from `first` (day number since 1970): each one's opening (UTC,
    microseconds since 1970), its working length and the working time from the epoch's
    start to its opening (both in microseconds; 0 length on a day off), and the stretch
    from `gap_at` (UTC) `gap` long within its hours that is not worked: on the day clocks
    go back, the repeated wall times outside the working hours (0 on other days)."""

    first: int
    opening: np.ndarray
    length: np.ndarray
    before: np.ndarray
    gap_at: np.ndarray
    gap: np.ndarray

    def worked(self, at: np.ndarray, utc: np.ndarray) -> np.ndarray:
        """Working microseconds of day `at` (positions) up to each instant `utc`."""
        span = self.length[at] + self.gap[at]
        into = np.clip(utc - self.opening[at], 0, span)
        found: np.ndarray = into - np.clip(utc - self.gap_at[at], 0, self.gap[at])
        return found

    @property
    def last(self) -> int:
        return self.first + len(self.length) - 1


class BusinessClock:
    """Working time under one calendar: weekdays, daily hours, public holidays."""

    def __init__(self, calendar: Calendar, first_year: int = 2000, last_year: int = 2040) -> None:
        if not calendar.workdays or calendar.end <= calendar.start:
            raise ValueError(
                f"the calendar {calendar_text(calendar) if calendar.workdays else '(no days)'} "
                "has no working hours: business hours cannot be counted under it; give it "
                "working days and an end later than its start"
            )
        self.calendar = calendar
        self.first_year = first_year
        self.last_year = last_year
        self.weekmask = [day in calendar.workdays for day in WEEKDAYS]
        self.day_start_s = calendar.start.hour * 3600 + calendar.start.minute * 60
        self.day_end_s = calendar.end.hour * 3600 + calendar.end.minute * 60
        self._table: _Days | None = None

    @property
    def holidays(self) -> np.ndarray:
        """Holiday dates (local) from first_year to last_year as datetime64[D], from the
        `holidays` package (what RT's Business::Hours is given)."""
        return self._holidays(self.first_year, self.last_year)

    def _holidays(self, first_year: int, last_year: int) -> np.ndarray:
        if not self.calendar.holidays_country:
            return np.array([], dtype="datetime64[D]")
        import holidays

        found = holidays.country_holidays(
            self.calendar.holidays_country,
            subdiv=self.calendar.holidays_subdivision or None,
            years=range(first_year, last_year + 1),
        )
        return np.array(sorted(found.keys()), dtype="datetime64[D]")

    @property
    def day_seconds(self) -> int:
        """The length of a working day by the clock on the wall (a DST day's may differ)."""
        return self.day_end_s - self.day_start_s

    def days(self, first: int, last: int) -> _Days:
        """The table of days covering local day numbers `first` to `last` (and the epoch)."""
        table = self._table
        if table is None or first < table.first or last > table.last:
            lo = min(first, table.first if table else first)
            hi = max(last, table.last if table else last)
            first_year = min(self.first_year, _EPOCH_YEAR, _year(lo))
            last_year = max(self.last_year, _EPOCH_YEAR, _year(hi))
            table = self._table = self._build(first_year, last_year)
        return table

    def _build(self, first_year: int, last_year: int) -> _Days:
        """Every day of the years: each working day's opening and closing in real time (a
        time the change to DST skips is the first one after it; of a time it repeats, the
        opening is the first and the closing the last) and the part of a repeated hour in
        between whose wall time is outside the hours (`_gaps`), so a day's hours are those
        worked by the clock on the wall."""
        days = np.arange(
            np.datetime64(f"{first_year}-01-01"), np.datetime64(f"{last_year + 1}-01-01")
        ).astype("datetime64[D]")
        busy = np.is_busday(
            days, weekmask=self.weekmask, holidays=self._holidays(first_year, last_year)
        )
        opening, opening_last = self._instants(days, self.day_start_s)
        closing_first, closing = self._instants(days, self.day_end_s)
        gap_at, gap = self._gaps(opening, opening_last, closing_first, closing)
        gap = np.where(busy, gap, 0)
        length = np.where(busy, np.maximum(closing - opening - gap, 0), 0)
        before = np.concatenate([[0], np.cumsum(length)[:-1]])
        epoch = int((_EPOCH - days[0]).astype("int64"))
        return _Days(
            int(days[0].astype("int64")), opening, length, before - before[epoch], gap_at, gap
        )

    def _gaps(
        self, opening: np.ndarray, opening_last: np.ndarray, closing_first: np.ndarray,
        closing: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Where clocks go back (at T) between a day's opening and closing, the times whose
        wall time is outside the hours: from a closing time's first pass to T (its repeat
        from T on is worked), and from T to an opening time's second pass."""
        reopens, recloses = opening_last > opening, closing > closing_first
        gap_at, gap_end = opening.copy(), opening.copy()
        gap_at[recloses] = closing_first[recloses]
        gap_end[reopens] = opening_last[reopens]
        only_closing, only_opening = recloses & ~reopens, reopens & ~recloses
        gap_end[only_closing] = self._change(closing_first[only_closing], closing[only_closing])
        gap_at[only_opening] = self._change(opening[only_opening], opening_last[only_opening])
        return gap_at, np.maximum(gap_end - gap_at, 0)

    def _change(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """The instant the zone's offset changed in each (low, high] (UTC microseconds, one
        change in each): the first with `high`'s offset, by bisection to the microsecond."""
        target = self._offsets(high)
        while len(low) and (high - low > 1).any():
            middle = (low + high) // 2
            there = self._offsets(middle) == target
            high, low = np.where(there, middle, high), np.where(there, low, middle)
        return high

    def _offsets(self, utc: np.ndarray) -> np.ndarray:
        """The calendar zone's UTC offset (microseconds) at each instant."""
        moments = pd.DatetimeIndex(pd.to_datetime(utc, unit="us", utc=True)).as_unit("us")
        wall: np.ndarray = moments.tz_convert(self.calendar.timezone).tz_localize(None).asi8
        found: np.ndarray = wall - utc
        return found

    def _instants(self, days: np.ndarray, second: int) -> tuple[np.ndarray, np.ndarray]:
        """UTC microseconds of local time `second` on each day: its first and last time (the
        same but where the clocks repeat it; one the change to DST skips: the change itself,
        the first instant after it, found here: pandas' shift_forward moves a time in a skip
        that is not a whole hour, Lord Howe's 30 minutes, past its end or before its start)."""
        local = pd.DatetimeIndex(days.astype("datetime64[us]")) + pd.Timedelta(seconds=second)
        zone = self.calendar.timezone
        first, last = (
            local.tz_localize(zone, ambiguous=np.full(len(days), dst), nonexistent="NaT")
            .as_unit("us")
            .asi8
            for dst in (True, False)
        )
        skipped = first == np.iinfo("int64").min  # NaT
        if skipped.any():  # offsets a day before and after: the change lies between them
            wall = local.as_unit("us").asi8[skipped]
            before, after = self._offsets(wall - _US_PER_DAY), self._offsets(wall + _US_PER_DAY)
            first[skipped] = last[skipped] = self._change(wall - after, wall - before)
        return np.minimum(first, last), np.maximum(first, last)

    def working_us(self, instants: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Working microseconds from the epoch to each instant: whole numbers as floats (exact
        below 2**53, some 1,000 years of working time), NaN where the instant is missing."""
        ts = pd.DatetimeIndex(pd.to_datetime(instants, utc=True)).as_unit("us")
        missing = np.asarray(ts.isna())
        utc = np.where(missing, 0, ts.asi8)
        local = ts.tz_convert(self.calendar.timezone).tz_localize(None).asi8
        if missing.all():
            return np.full(len(ts), np.nan)
        day = np.floor_divide(local, _US_PER_DAY)
        day = np.where(missing, day[~missing][0], day)
        table = self.days(int(day.min()), int(day.max()))
        at = day - table.first
        into = table.worked(at, utc)
        return np.where(missing, np.nan, (table.before[at] + into).astype("float64"))

    def working_seconds_since_epoch(self, instants: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Working seconds from the epoch to each instant (NaN where the instant is missing)."""
        return self.working_us(instants) / US_PER_SECOND

    def micros_between(
        self, start: pd.Series | pd.DatetimeIndex, end: pd.Series | pd.DatetimeIndex
    ) -> np.ndarray:
        """Working microseconds from each start to its end (whole numbers: sums are exact)."""
        found: np.ndarray = self.working_us(end) - self.working_us(start)
        return found

    def hours_between(
        self, start: pd.Series | pd.DatetimeIndex, end: pd.Series | pd.DatetimeIndex
    ) -> np.ndarray:
        """Business hours from each start to its end; NaN where either is missing."""
        found: np.ndarray = self.micros_between(start, end) / US_PER_HOUR
        return found

    def working_hours(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """The working hours of each working day from start's local day to end's: opening
        and closing (UTC), in real time (a day DST changes in may be shorter or longer)."""
        local = pd.DatetimeIndex([start, end]).tz_convert(self.calendar.timezone)
        first, last = np.floor_divide(local.tz_localize(None).as_unit("us").asi8, _US_PER_DAY)
        table = self.days(int(first), int(last))
        rows = slice(int(first) - table.first, int(last) - table.first + 1)
        busy = table.length[rows] > 0
        opening, gap_at = table.opening[rows][busy], table.gap_at[rows][busy]
        gap = table.gap[rows][busy]
        closing = opening + table.length[rows][busy] + gap
        split = gap > 0  # a day with a gap is two stretches: before it and after it
        starts = np.sort(np.concatenate([opening, gap_at[split] + gap[split]]))
        ends = np.sort(np.concatenate([closing, gap_at[split]]))
        return pd.DataFrame(
            {
                "opening": pd.to_datetime(starts, unit="us", utc=True),
                "closing": pd.to_datetime(ends, unit="us", utc=True),
            }
        )

    def at_working_us(self, worked: np.ndarray) -> np.ndarray:
        """The inverse: the first instant (UTC microseconds since 1970) with `worked` working
        microseconds from the epoch, so an end exactly at closing is the next opening."""
        table = self.days(_day_number(_EPOCH), _day_number(_EPOCH))
        while len(worked) and worked.max() >= table.before[-1] + table.length[-1]:
            table = self.days(table.first, table.last + 366)
        while len(worked) and worked.min() < table.before[0]:
            table = self.days(table.first - 366, table.last)
        busy = table.length > 0
        before, opening = table.before[busy], table.opening[busy]
        k = np.searchsorted(before, worked, side="right") - 1
        found: np.ndarray = opening[k] + (worked - before[k])
        return found + np.where(found >= table.gap_at[busy][k], table.gap[busy][k], 0)


def _day_number(day: np.datetime64) -> int:
    return int(day.astype("datetime64[D]").astype("int64"))


def _year(day_number: int) -> int:
    return int(np.datetime64(day_number, "D").astype("datetime64[Y]").astype("int64")) + 1970


def add_business_seconds(clock: BusinessClock, start: pd.Series, seconds: np.ndarray) -> pd.Series:
    """RT's Business::Hours add_seconds: the instant `seconds` working seconds after `start`.

    A start outside hours counts from the next opening; a result exactly at closing time is
    the next opening (Business::Hours counts whole seconds and closing is not a working one).
    """
    worked = clock.working_us(start) + np.round(np.asarray(seconds, "float64") * US_PER_SECOND)
    missing = np.isnan(worked)
    found = clock.at_working_us(np.where(missing, 0, worked).astype("int64"))
    utc = pd.to_datetime(found, unit="us", utc=True).as_unit("us")
    return pd.Series(utc, index=start.index).where(~missing)


def business_second(clock: BusinessClock, at: pd.Series) -> np.ndarray:
    """Whether the whole second starting at each instant is a working one."""
    later = at + pd.Timedelta(seconds=1)
    return np.asarray(clock.micros_between(at, later) > US_PER_SECOND // 2)
