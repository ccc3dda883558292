"""What the findings, and the actions the team adds by hand, ask for: one Wanted follow-up each.

Actions come from the review's written "actions" section (one per line, ``- OWNER: what to
do``): `team_actions` reads them, `wanted_actions` turns them into follow-ups.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from review.closeout.audit import NO_SERVICE
from review.closeout.followups.keys import (
    ACTION,
    ACTIONS_SECTION,
    CLEARED,
    SUBJECT_MAX,
    TAG,
    clean,
    finding_keys,
    subject_for,
)
from review.closeout.rules import RULES
from review.settings.config import Config
from review.settings.utc import DAY_FORMAT
from review.text import visible


@dataclass(frozen=True)
class Wanted:
    """One follow-up the findings ask for."""

    key: str
    rule: str
    service: str
    incidents: tuple[int, ...]
    subject: str
    body: str
    action_owner: str
    owner: str  # RT user name, '' when the action owner is not mapped


def wanted_followups(
    findings: pd.DataFrame,
    opened: pd.Series,
    config: Config,
    review_links: pd.Series,
    rt_web: str,
    snapshot_label: str,
) -> list[Wanted]:
    """Group findings by follow-up key: subject, body (evidence, action, review links), owner.

    `opened` maps ticket_id -> opened_at; `review_links` ticket_id -> the review's address.
    """
    found = findings.assign(key=finding_keys(findings)).sort_values(
        ["key", "ticket_id"], kind="stable"
    )
    wanted = []
    for key, group in found.groupby("key", sort=True):
        rule_id = str(group["rule"].iloc[0])
        rule = RULES[rule_id]
        service = clean(str(group["service"].iloc[0] or "")) or NO_SERVICE
        ids = tuple(int(t) for t in group["ticket_id"])
        # the action owner most findings name (the first of equals)
        action_owner = str(group["action_owner"].value_counts(sort=True).index[0])
        owner = config.followups.rt_user(action_owner)
        lines = [
            f"Close-out finding '{rule_id}' ({rule.severity}) for service {service}: "
            + rule.meaning,
            "",
            "Evidence:",
        ]
        for ticket, evidence in zip(ids, group["evidence"].astype(str), strict=True):
            when = opened.get(ticket)
            stamp = f", opened {when:{DAY_FORMAT}}" if isinstance(when, pd.Timestamp) else ""
            lines.append(f"- incident #{ticket}{stamp} ({rt_web}Ticket/Display.html?id={ticket})")
            lines.append(f"  {visible(evidence)}")
            lines.append(f"  review: {review_links.get(ticket, '(not rendered)')}")
        lines += [
            "",
            f"Action: {rule.action}",
            f"Action owner: {action_owner}"
            + ("" if owner else " (not mapped to an RT user in [followups.owners])"),
            "",
            f"Filed by `review follow-ups` from {snapshot_label}. Keep the [{TAG}:...] tag at "
            "the start of the subject: the next run finds this ticket by it. When the finding "
            "no longer fires, the next run comments here; closing is yours.",
        ]
        wanted.append(
            Wanted(
                key=str(key),
                rule=rule_id,
                service=service,
                incidents=ids,
                subject=subject_for(str(key), rule_id, service, ids),
                body="\n".join(lines) + "\n",
                action_owner=action_owner,
                owner=owner,
            )
        )
    return wanted


def review_links(opened: pd.Series, config: Config) -> pd.Series:
    """ticket_id -> the address of its rendered review (under [followups] reports_url)."""
    from review.settings.months import month_of

    months = pd.Series(month_of(opened, config).to_numpy(), index=opened.index)
    base = config.followups.reports_url or "reports/"
    return base + months + "/incident-" + opened.index.astype(str) + ".html"


_ACTION_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]?\]\s+)?(\S.*?)\s*$")
OWNER_MAX = 60


def team_actions(text: str) -> list[tuple[str, str]]:
    """The actions of a written "actions" section: each list item as (owner, what to do).

    An item is ``- OWNER: what to do`` (also ``*``, ``+``, ``1.``, a ``[ ]`` checkbox); an
    item without a short owner before a colon has no owner (''). Other lines (prose, the
    template's placeholder) are not actions; an action listed twice counts once.
    """
    found: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        match = _ACTION_LINE.match(line)
        if not match:
            continue
        item = match[1]
        owner, colon, rest = item.partition(":")
        named = 0 < len(owner.strip()) <= OWNER_MAX and not rest.startswith("//")  # no URL
        if colon and rest.strip() and named:
            pair = (" ".join(owner.split()), " ".join(rest.split()))
        else:
            pair = ("", " ".join(item.split()))
        found.setdefault(action_digest(pair[1]), pair)
    return list(found.values())


ACTION_COLUMNS = ["ticket_id", "owner", "action"]
_ACTIONS_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+action", re.IGNORECASE)


def lists_actions(section_id: str, text: str) -> bool:
    """Whether a written section is where the team lists actions: the template's "actions"
    cell, or any written cell whose first line is a heading that starts with "Action"
    ("## Actions", "### Action items"), so a team may add its own."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return section_id == ACTIONS_SECTION or bool(_ACTIONS_HEADING.match(first))


def actions_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Hand-added actions, one row each (ACTION_COLUMNS)."""
    return pd.DataFrame(rows, columns=ACTION_COLUMNS).astype(
        {"ticket_id": "int64", "owner": "object", "action": "object"}
    )


def empty_actions() -> pd.DataFrame:
    return actions_frame([])


def action_digest(words: str) -> str:
    """What names an action in its tag: its words, case and spacing aside (8 hex digits)."""
    plain = " ".join(words.lower().split()).rstrip(".!")
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()[:8]


def wanted_actions(
    actions: pd.DataFrame,
    opened: pd.Series,
    services: pd.Series,
    config: Config,
    review_links: pd.Series,
    rt_web: str,
) -> list[Wanted]:
    """One follow-up per hand-added action (`actions`: ticket_id, owner, action)."""
    wanted = []
    for ticket, owner, words in actions[["ticket_id", "owner", "action"]].itertuples(index=False):
        ticket = int(ticket)
        service = clean(str(services.get(ticket) or "")) or NO_SERVICE
        key = f"{ACTION}:ticket/{ticket}/{action_digest(words)}"
        shown = visible(words)
        user = config.followups.rt_user(owner) if owner else ""
        body = [
            f"An action the team added to the review of incident #{ticket} (service {service}):",
            "",
            f"  {shown}",
            "",
            f"Action owner: {visible(owner) or 'not named'}"
            + ("" if user or not owner else " (not mapped to an RT user in [followups.owners])"),
            f"Incident: #{ticket} ({rt_web}Ticket/Display.html?id={ticket})",
            f"Review: {review_links.get(ticket, '(not rendered)')}",
            "",
            f"Filed by `review follow-ups` from the review's Actions section. Keep the [{TAG}:...] "
            "tag at the start of the subject: the next run finds this ticket by it. When the "
            "action leaves the review, the next run comments here; closing is yours.",
        ]
        head = f"[{TAG}:{key}] {ACTION}, {service}: incident {ticket}: "
        wanted.append(
            Wanted(
                key=key,
                rule=ACTION,
                service=service,
                incidents=(ticket,),
                subject=(head + clean(words))[: SUBJECT_MAX - len(CLEARED)],
                body="\n".join(body) + "\n",
                action_owner=owner or "(no owner named)",
                owner=user,
            )
        )
    return wanted
