"""Where a snapshot's parts live: its file names, format number and RT's unset date.

A snapshot directory holds tickets.jsonl, transactions.jsonl, queues.jsonl,
users.jsonl and manifest.json (and followups.jsonl when the follow-up queue was
pulled). It is immutable input: written once (review.snapshot.store) and only
ever read afterwards (review.snapshot.load).
"""

from __future__ import annotations

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
