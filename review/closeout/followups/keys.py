"""What names a follow-up: the tag at the start of its subject, and its subject.

Every follow-up carries ``[followup:RULE:ticket/123]`` or ``[followup:RULE:service/NAME]``
(a hand-added action: ``[followup:action:ticket/123/DIGEST]``) at the start of its subject;
one search of the follow-up queue finds them all by it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

import pandas as pd

from review.closeout.audit import NO_SERVICE
from review.closeout.rules import SERVICE_RULES
from review.text import visible

TAG = "followup"
ACTION = "action"  # the rule part of a hand-added action's tag
ACTIONS_SECTION = "actions"  # the written section (cell id) where the team lists them
KEY = re.compile(r"^\[followup:(?P<rule>[a-z][a-z-]*):(?P<scope>ticket|service)/(?P<name>[^\]]+)\]")
CLEARED = " (cleared)"
# A comment the kit adds to a follow-up has the subject "[followup-note:DIGEST] ...": DIGEST
# names the change it goes with (note_digest), so a re-run finds it and does not post it twice.
NOTE = "followup-note"
NOTE_SUBJECT = re.compile(r"^\[followup-note:(?P<digest>[0-9a-f]{16})\]")
SUBJECT_MAX = 200  # RT's Subject column
_BRACKETS = re.compile(r"[\[\]]+")


def clean(text: str) -> str:
    """Ticket text for a subject or a key: control characters as escapes, no brackets (they
    delimit the tag), one line."""
    return " ".join(_BRACKETS.sub(" ", visible(text)).split())


def finding_keys(findings: pd.DataFrame) -> pd.Series:
    """The follow-up key of each finding: 'RULE:service/NAME' for service-level rules, else
    'RULE:ticket/ID'."""
    service = findings["service"].fillna("").astype(str).map(clean)
    service = service.where(service != "", NO_SERVICE)
    per_service = findings["rule"].isin(SERVICE_RULES)
    keys: pd.Series = (
        findings["rule"]
        + ":"
        + service.radd("service/").where(
            per_service, "ticket/" + findings["ticket_id"].astype("int64").astype(str)
        )
    )
    return keys


def note_digest(followup_id: int, incidents: Sequence[int], subject: str) -> str:
    """What names one update of a follow-up: the ticket, and the incidents it refers to and
    the subject it has once the update is done. The same before and after any of the
    update's writes, so a run stopped between them and its re-run compute the same one."""
    text = json.dumps([int(followup_id), sorted(int(i) for i in incidents), subject])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def note_subject(digest: str) -> str:
    """The subject of the kit's comment on a follow-up: the marker, then words for people."""
    return f"[{NOTE}:{digest}] follow-up updated by review follow-ups"


def incident_of(name: str) -> int | None:
    """The incident a ticket-scoped tag names: '123' and an action's '123/DIGEST' -> 123."""
    head = name.split("/", 1)[0]
    return int(head) if head.isdigit() else None


def subject_for(key: str, rule: str, service: str, incidents: Sequence[int]) -> str:
    """'[followup:KEY] RULE, SERVICE: incidents 5, 9' within RT's 200 characters."""
    head = f"[{TAG}:{key}] {rule}, {service}: "
    word = "incident " if len(incidents) == 1 else "incidents "
    ids = [str(i) for i in incidents]
    text = head + word + ", ".join(ids)
    room = SUBJECT_MAX - len(CLEARED)
    shown = len(ids)
    while len(text) > room and shown > 1:
        shown -= 1
        text = head + word + ", ".join(ids[:shown]) + f" ... ({len(ids)} in all)"
    return text[:room]
