"""How the kit writes a UTC time, and finds one again in text: defined once.

RT's REST2, snapshots, evidence and files all write times as ISO 8601 UTC to the second
('2026-08-03T14:00:00Z'); pages find those written in evidence and show them in the
business calendar's zone. The format and the pattern that finds it live side by side so
they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
DAY_FORMAT = "%Y-%m-%d"  # a date, as the command line takes it and file names carry it
MONTH_FORMAT = "%Y-%m"  # a month, as reports, snapshot parts and the command line name it
MINUTE_FORMAT = "%Y-%m-%d %H:%M"  # a time to the minute, as pages and coverage show it
SECOND_FORMAT = "%Y-%m-%d %H:%M:%S"  # to the second: RT's TicketSQL dates, pandas' text
# an ISO_UTC time inside text (seconds optional): groups date ('2026-08-03') and time ('14:00')
ISO_UTC_IN_TEXT = r"\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2})?Z\b"


def iso_utc_text(moment: datetime) -> str:
    """An aware datetime as ISO_UTC text."""
    return moment.astimezone(UTC).strftime(ISO_UTC)


def now_utc() -> str:
    """The current time as ISO_UTC text."""
    return iso_utc_text(datetime.now(UTC))
