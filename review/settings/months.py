"""Months and dates as the reports and the command line take them."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from review.errors import ReviewError
from review.settings import utc
from review.settings.config import Config

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def month_of(stamps: pd.Series, config: Config) -> pd.Series:
    """YYYY-MM of each instant in the configured time zone."""
    local = pd.to_datetime(stamps, utc=True).dt.tz_convert(config.calendar.timezone)
    return local.dt.strftime(utc.MONTH_FORMAT)


def day_start(day: str | pd.Timestamp, zone: str) -> pd.Timestamp:
    """The first instant of a local day (a date, or a naive time's date) in `zone`: its
    midnight, or where a change to daylight saving time skips midnight (America/Asuncion on
    2023-10-01), the first time the clock shows that day."""
    midnight = pd.Timestamp(day).normalize()
    return midnight.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")


def month_span(month: str, config: Config) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, next month's start) of a YYYY-MM month in the calendar's zone, as UTC times."""
    period = pd.Period(month, freq="M")
    zone = config.calendar.timezone
    start, end = (day_start(str(p.start_time.date()), zone) for p in (period, period + 1))
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def resolve_month(month: str, today: date | None = None) -> str:
    """`previous` (the month before today) or a YYYY-MM string, checked."""
    if month == "previous":
        today = today or date.today()
        year, number = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return f"{year:04d}-{number:02d}"
    if not MONTH.fullmatch(month):
        raise ReviewError(f"--month must be YYYY-MM or 'previous', got {month!r}")
    return month


def previous_months(month: str, count: int) -> list[str]:
    """The `count` months before `month`, oldest first."""
    period = pd.Period(month, freq="M")
    return [str(period - n) for n in range(count, 0, -1)]


def parse_date(value: str | date | None, name: str) -> date | None:
    """A YYYY-MM-DD option value as a date (None when empty); `name` names the option."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReviewError(f"{name} must be a date like 2026-08-01, got {value!r}") from None
