"""Where a snapshot's parts live: its file names, format number and RT's unset date.

A snapshot directory holds tickets.jsonl, transactions.jsonl, queues.jsonl,
users.jsonl and manifest.json (and followups.jsonl when the follow-up queue was
pulled). It is immutable input: written once (review.snapshot.store) and only
ever read afterwards (review.snapshot.load). Tickets and transactions are written
grouped by month (`month_of` a ticket; its history with it), each month's lines together,
so a month can be read, checked and cached without reading the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from review.settings.utc import ISO_UTC

FORMAT = 1
TICKETS, TRANSACTIONS, QUEUES, USERS = (
    "tickets.jsonl",
    "transactions.jsonl",
    "queues.jsonl",
    "users.jsonl",
)
DATA_FILES = (TICKETS, TRANSACTIONS, QUEUES, USERS)
MANIFEST = "manifest.json"
FOLLOWUPS = "followups.jsonl"  # optional: the follow-up tickets, not incidents
UNSET_DATE = "1970-01-01T00:00:00Z"
PARTED = (TICKETS, TRANSACTIONS)  # written in parts, one per month (manifest "parts")


def month_of(ticket: Mapping[str, Any]) -> str:
    """The part a ticket and its history are filed under: the UTC month (YYYY-MM) it was last
    updated in, else created in; '' when it has neither date (it will be left out)."""
    for key in ("LastUpdated", "Created"):
        value = ticket.get(key)
        if not isinstance(value, str) or value == UNSET_DATE:
            continue
        try:
            datetime.strptime(value, ISO_UTC)
        except ValueError:
            continue
        return value[:7]
    return ""
