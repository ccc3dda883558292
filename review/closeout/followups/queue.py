"""RT's side: the tagged tickets of the follow-up queue, as RT returns them and as rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from review.closeout.followups.keys import CLEARED, KEY, NOTE, NOTE_SUBJECT, TAG
from review.rt.client import RTClient
from review.rt.history import marked_comments
from review.rt.window import sql_quote

SEARCH_FIELDS = "Subject,Status,Owner,Requestor,Created,Resolved,LastUpdated,_hyperlinks"
FOLLOWUP_COLUMNS = [
    "followup_id", "key", "rule", "scope", "name", "subject", "status", "owner", "owner_email",
    "created", "resolved", "incidents", "cleared",
]  # fmt: skip


def fetch_followups(client: RTClient, queue: str) -> list[dict[str, Any]]:
    """Every tagged ticket of the follow-up queue, as RT returns it (owner with name and email).

    One search; the pull stores the result as the snapshot's followups.jsonl.
    """
    query = f"Queue = '{sql_quote(queue)}' AND Subject LIKE '[{TAG}:'"
    params = {
        "query": query,
        "fields": SEARCH_FIELDS,
        "fields[Owner]": "Name,EmailAddress",
        "fields[Requestor]": "Name,EmailAddress",
        "orderby": "id",
    }
    items = [item for page in client.pages("tickets", params) for item in page.items]
    return sorted((i for i in items if KEY.match(str(i.get("Subject", "")))), key=_id)


def tagged(client: RTClient, queue: str, key: str) -> int | None:
    """The first ticket of the queue whose subject carries `key`'s tag now, if any: asked
    right before a create, so a follow-up another run filed since the plan is not filed again."""
    params = {
        "query": f"Queue = '{sql_quote(queue)}' AND Subject LIKE '[{TAG}:{sql_quote(key)}]'",
        "fields": "Subject",
        "orderby": "id",
    }
    items = [item for page in client.pages("tickets", params) for item in page.items]
    found = followup_frame(items)
    same = found.loc[found["key"] == key, "followup_id"]
    return int(same.iloc[0]) if len(same) else None


def notes(client: RTClient, followup_id: int) -> list[str]:
    """The marker digests of the kit's comments on a follow-up that this account sees, oldest
    first (history.marked_comments: without ShowTicketComments, none)."""
    found = [
        (int(r["id"]), m["digest"])
        for r in marked_comments(client, followup_id, f"{NOTE}:")
        if (m := NOTE_SUBJECT.match(str(r.get("Data", ""))))
    ]
    return [digest for _, digest in sorted(found)]


def _id(item: dict[str, Any]) -> int:
    return int(item["id"])


def followup_frame(items: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """RT's follow-up tickets as one row each (columns FOLLOWUP_COLUMNS), by ticket id."""
    rows = []
    for item in items:
        subject = str(item.get("Subject") or "")
        match = KEY.match(subject)
        if not match:
            continue
        owner = item.get("Owner") or {}
        refers = sorted(
            int(h["id"])
            for h in item.get("_hyperlinks") or []
            if h.get("ref") == "refers-to" and h.get("type") == "ticket" and str(h["id"]).isdigit()
        )
        rows.append(
            {
                "followup_id": int(item["id"]),
                "key": f"{match['rule']}:{match['scope']}/{match['name']}",
                "rule": match["rule"],
                "scope": match["scope"],
                "name": match["name"],
                "subject": subject,
                "status": str(item.get("Status") or ""),
                "owner": str(owner.get("Name") or owner.get("id") or "Nobody"),
                "owner_email": str(owner.get("EmailAddress") or ""),
                "created": _time(item.get("Created")),
                "resolved": _time(item.get("Resolved")),
                "incidents": refers,
                "cleared": subject.endswith(CLEARED),
            }
        )
    frame = pd.DataFrame(rows, columns=FOLLOWUP_COLUMNS)
    for column in ("created", "resolved"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.sort_values("followup_id", kind="stable").reset_index(drop=True)


def _time(value: Any) -> str | None:
    text = str(value or "")
    return None if not text or text.startswith("1970-01-01") else text


def rt_web_url(api_url: str) -> str:
    """RT's web address from its REST2 address (…/REST/2.0/ -> …/)."""
    return api_url.split("REST/2.0/")[0]
