"""Times and hours as pages show them: instants in the business calendar's zone (files keep
UTC), hours to two decimals, the calendar in words."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from review.settings.calendar import calendar_text
from review.settings.config import Config
from review.settings.utc import ISO_UTC_IN_TEXT, MINUTE_FORMAT


def local_times_in_text(texts: pd.Series, config: Config) -> pd.Series:
    """Text (findings' evidence ...) with each UTC time written in it ('2026-10-15T16:40:00Z')
    shown in the business calendar's zone, as every time on a page is; files keep UTC."""

    def local(match: Any) -> str:
        return local_time(pd.Timestamp(f"{match[1]} {match[2]}", tz="UTC"), config)

    return texts.astype(str).str.replace(ISO_UTC_IN_TEXT, local, regex=True)


def local_time(moment: Any, config: Config) -> str:
    """An instant as local time of the business calendar (empty when missing)."""
    if moment is None or pd.isna(moment):
        return ""
    stamp = pd.Timestamp(moment).tz_convert(config.calendar.timezone)
    return stamp.strftime(f"{MINUTE_FORMAT} %Z")


def local_times(moments: pd.Series, config: Config) -> pd.Series:
    """`local_time` for a whole column at once (empty where missing). The zone's
    abbreviation is looked up once per UTC offset (strftime's %Z per row is slow)."""
    utc = pd.to_datetime(pd.Series(moments), utc=True)
    local = utc.dt.tz_convert(config.calendar.timezone)
    naive = local.dt.tz_localize(None)
    offset = naive - utc.dt.tz_localize(None)
    names = {o: local[offset == o].iloc[0].strftime("%Z") for o in offset.dropna().unique()}
    zone = offset.map(names).astype("object").fillna("")
    text = naive.dt.strftime(MINUTE_FORMAT).astype("object").fillna("") + " " + zone
    return text.str.strip()


def hours_text(value: Any) -> str:
    """Hours to two decimals (empty when missing)."""
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


def duration_text(hours: Any, unit: str = "h") -> str:
    """A duration in words: hours to one decimal, but one under 0.05 h (which that would
    show as 0.0: a deadline missed by 0.0 h) in whole minutes, cut down, or under 1 minute:
    a time that is not zero never reads as zero. `unit`: 'h' or 'business hours'."""
    if hours is None or pd.isna(hours):
        return ""
    value = float(hours)
    if value == 0 or abs(value) >= 0.05:
        return f"{value:.1f} {unit}"
    whole = math.trunc(value * 60)
    one, many = ("min", "min") if unit == "h" else ("business minute", "business minutes")
    return f"{whole} {many if whole > 1 else one}" if whole else f"under 1 {one}"


def business_hours_text(config: Config) -> str:
    """The configured business-hours calendar in words."""
    return f"business hours: {calendar_text(config.calendar)}"
