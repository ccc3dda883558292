"""A synthetic RT for the benchmarks: any number of tickets over any number of months.

Tickets come at a steady rate from January 2016 (`per_month` of them a month), each with
about 25 transactions in RT's REST2 JSON shapes: create, mail records, triage, comments,
owner and queue moves, replies, custom fields, resolve. Each ticket is drawn from its own
random stream (seeded by its id), so a snapshot one month longer holds the same tickets plus
that month's, and `touch` makes a share of the month before's tickets get a comment and a
reply in the new month, as a monthly pull finds them. With `links`, tickets link as a
site's do: each problem ticket (one in PROBLEM_EVERY) is depended on by the incidents after
it, and a share of incidents (REFERS) refers to an earlier one up to half a year back, across
months' parts (only the forward link is written: RT's reverse one is read the same way). With
`bodies`, each message (create, reply, comment) holds about that many characters of text, as a
site's mail does (the synthetic default is a word: most of a real snapshot's bytes are bodies).
Written with the kit's own `write_snapshot_lines` (the lines made by format strings, for
speed), so the files are laid out by month as a pull lays them out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from review.snapshot import TICKETS, TRANSACTIONS
from review.snapshot.store import write_snapshot_lines

BASE = "https://rt.example.edu/REST/2.0/"
STAFF = [f"staff{i}" for i in range(40)]
QUEUES = {"3": "ops-help", "4": "dev-web", "5": "dev-identity", "6": "dev-storage"}
START = datetime(2016, 1, 1, tzinfo=UTC)
TOUCHED = 0.05  # the share of the month before's tickets a new month touches
RT_TIME = "%Y-%m-%dT%H:%M:%SZ"
PROBLEM_EVERY = 50  # with links: ticket 50, 100, ... is a problem the next 49 depend on
REFERS = 0.3  # with links: the share of incidents that refer to an earlier one
WORDS = [  # the words of long message bodies (JSON-safe)
    "".join(random.Random(n).choices("abcdefghijklmnopqrstuvwxyz", k=2 + n % 8))
    for n in range(4096)
]


def _month(number: int) -> datetime:
    """The first instant of month `number` (0 = January 2016)."""
    return START.replace(year=START.year + number // 12, month=number % 12 + 1)


def _links(tid: int, per_month: int) -> list[dict[str, Any]]:
    """Ticket `tid`'s links to other tickets, as RT's _hyperlinks lists them."""
    rng = random.Random(9_000_011 + tid)
    found = []
    problem = tid - tid % PROBLEM_EVERY
    if problem and problem != tid:
        found.append(("depends-on", problem))
    if tid > 1 and rng.random() < REFERS:
        found.append(("refers-to", max(1, tid - rng.randrange(1, 6 * per_month))))
    return [
        {"_url": f"{BASE}ticket/{t}", "id": str(t), "ref": ref, "type": "ticket"}
        for ref, t in found
    ]


def _text(tid: int, number: int, length: int) -> str:
    """About `length` characters of message text, different for each ticket and message."""
    rng = random.Random(tid * 100 + number)
    words = [WORDS[rng.randrange(len(WORDS))] for _ in range(length // 6 + 1)]
    return " ".join(words)[:length]


def _ticket(
    tid: int, per_month: int, touch: int | None, links: bool = False, bodies: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ticket `tid` and its history; `touch`: the month whose pull found it touched, if any."""
    rng = random.Random(7_000_003 + tid)
    month, place = divmod(tid - 1, per_month)
    start, end = _month(month), _month(month + 1)
    at = start + (end - start) * (place / per_month) + timedelta(minutes=rng.randrange(0, 60))
    created = at
    requestor, owner, queue = f"cust{rng.randrange(5000)}", rng.choice(STAFF), "3"
    steps: list[tuple[str, str, str, str, str, str]] = [
        ("Create", requestor, "", "", "", ""), ("EmailRecord", "RT_System", "", "", "", "<m>"),
        ("EmailRecord", "RT_System", "", "", "", "<m>"), ("Correspond", owner, "", "", "", "Looking"),
        ("EmailRecord", "RT_System", "", "", "", "<m>"), ("Status", "RT_System", "Status", "new", "open", ""),
        ("Set", owner, "Owner", "6", "30", ""), ("SetWatcher", owner, "Owner", "6", "30", ""),
        ("Comment", owner, "", "", "", "note"),
    ]  # fmt: skip
    if rng.random() < 0.5:
        new_queue = rng.choice(["4", "5", "6"])
        steps.append(("Set", owner, "Queue", queue, new_queue, ""))
        queue = new_queue
        steps += [
            ("Set", "dev", "Owner", "30", "31", ""),
            ("SetWatcher", "dev", "Owner", "30", "31", ""),
        ]
    for _ in range(rng.randrange(3, 6)):
        steps += [
            ("Correspond", owner, "", "", "", "update"),
            ("EmailRecord", "RT_System", "", "", "", "<m>"),
        ]
        steps.append(("Comment", owner, "", "", "", "note"))
    steps.append(("CustomField", owner, "5", "", "Permanent", ""))  # Resolution Type
    steps += [
        ("Status", owner, "Status", "open", "resolved", ""),
        ("EmailRecord", "RT_System", "", "", "", "<m>"),
    ]
    touched = touch is not None and month == touch - 1 and rng.random() < TOUCHED
    history, resolved = [], at
    for number, (kind, creator, field, old, new, data) in enumerate(steps):
        if bodies and kind in ("Create", "Correspond", "Comment"):
            data = _text(tid, number, bodies)
        if kind not in ("EmailRecord", "SetWatcher", "Create") or creator != "RT_System":
            at += timedelta(minutes=rng.randrange(1, 600))
        history.append(_txn(tid, tid * 100 + number, at, creator, kind, field, old, new, data))
        resolved = at
    if touched:  # a comment and a reply after the close, in the new month
        assert touch is not None
        at = _month(touch) + timedelta(hours=rng.randrange(1, 24 * 20))
        for number, kind in ((90, "Comment"), (91, "Correspond")):
            history.append(_txn(tid, tid * 100 + number, at, owner, kind, "", "", "", "later"))
            at += timedelta(minutes=rng.randrange(1, 600))
    ticket = {
        "id": tid, "Subject": f"Incident {tid}", "Status": "resolved", "Type": "ticket",
        "Queue": {"id": queue, "type": "queue"}, "Owner": {"id": owner, "type": "user"},
        "Creator": {"id": requestor, "type": "user"}, "EffectiveId": {"id": str(tid), "type": "ticket"},
        "Requestor": [{"id": requestor, "type": "user"}], "Cc": [], "AdminCc": [],
        "Created": f"{created:{RT_TIME}}", "Started": f"{created:{RT_TIME}}",
        "Resolved": f"{resolved:{RT_TIME}}", "LastUpdated": history[-1]["Created"],
        "Due": "1970-01-01T00:00:00Z",
        "CustomFields": [{"id": "1", "name": "Service", "type": "customfield", "values": [f"svc{tid % 12}"]},
                         {"id": "4", "name": "Classification", "type": "customfield", "values": ["Hand-off"]},
                         {"id": "5", "name": "Resolution Type", "type": "customfield", "values": ["Permanent"]}],
        "_hyperlinks": [{"_url": f"{BASE}ticket/{tid}", "id": tid, "ref": "self", "type": "ticket"},
                        *(_links(tid, per_month) if links else [])],
    }  # fmt: skip
    return ticket, history


def _txn(tid: int, xid: int, at: datetime, creator: str, kind: str, field: str, old: str,
         new: str, data: str) -> dict[str, Any]:  # fmt: skip
    return {"Created": f"{at:{RT_TIME}}", "Creator": creator, "Data": data, "Field": field, "NewValue": new,
            "ObjectId": str(tid), "OldValue": old, "Type": kind, "id": str(xid)}  # fmt: skip


def _txn_line(t: dict[str, Any]) -> bytes:
    """A transaction as RT's REST2 JSON line (format strings: much faster than json.dumps)."""
    return (
        f'{{"Created": "{t["Created"]}", "Creator": {{"_url": "{BASE}user/{t["Creator"]}", "id": "{t["Creator"]}", '
        f'"type": "user"}}, "Data": "{t["Data"]}", "Field": "{t["Field"]}", "NewValue": "{t["NewValue"]}", '
        f'"ObjectId": "{t["ObjectId"]}", "ObjectType": "RT::Ticket", "OldValue": "{t["OldValue"]}", '
        f'"Type": "{t["Type"]}", "_url": "{BASE}transaction/{t["id"]}", "id": "{t["id"]}", "type": "transaction"}}\n'
    ).encode()


def write(
    directory: Path,
    per_month: int,
    months: int,
    touch: bool = False,
    links: bool = False,
    bodies: int = 0,
) -> Path:
    """A snapshot of `months` months of `per_month` tickets; with `touch`, the last month also
    touches a share of the month before's tickets (as a monthly pull finds them); with
    `links`, tickets link to earlier ones; with `bodies`, messages of about that length."""
    count = per_month * months
    last = months - 1 if touch else None

    def lines() -> Iterator[tuple[str, str, bytes]]:
        for tid in range(1, count + 1):
            ticket, history = _ticket(tid, per_month, last, links, bodies)
            month = ticket["LastUpdated"][:7]
            yield TICKETS, month, json.dumps(ticket, sort_keys=True).encode() + b"\n"
            for txn in history:
                yield TRANSACTIONS, month, _txn_line(txn)

    queues = [{"id": int(q), "Name": n} for q, n in QUEUES.items()]
    users = [{"id": 1, "Name": "RT_System"}, {"id": 6, "Name": "Nobody"}, {"id": 30, "Name": "staff"},
             {"id": 31, "Name": "dev"}]  # fmt: skip
    end = _month(months)
    pulled = end + timedelta(days=10)  # after the last ticket's close
    return write_snapshot_lines(
        directory, lines(), queues, users, source="synthetic", query="benchmark",
        pulled_at=f"{pulled:{RT_TIME}}",
        coverage={"since": f"{START:{RT_TIME}}", "until": f"{end:{RT_TIME}}", "queues": list(QUEUES.values()),
                  "closed_in_window": True, "opened_in_window": True},
    )  # fmt: skip
