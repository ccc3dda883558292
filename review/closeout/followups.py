"""Close-out findings -> follow-up tickets in RT, kept in step with the findings run after run.

One follow-up per (incident, rule), or per (service, rule) for the service-level
rules (rules.SERVICE_RULES), so senior staff get one ticket per gap. RT's own state
is the only memory: every follow-up carries a tag at the start of its subject,
``[followup:RULE:ticket/123]`` or ``[followup:RULE:service/NAME]``, and one search of
the follow-up queue finds them all, so running twice files nothing the second time,
on any machine. A finding that no longer fires is never closed here: its follow-up
gets a comment and its subject ends in ``(cleared)``, and a person closes it.

Actions the team adds by hand, in the review's written "actions" section (one per
line, ``- OWNER: what to do``), go the same way: one follow-up each, tagged
``[followup:action:ticket/123/DIGEST]`` (DIGEST: of the action's words), filed, found
and commented on exactly as the findings' are (`team_actions`, `wanted_actions`).

The follow-ups pulled with a snapshot (followups.jsonl) give each finding its
follow-up's link, status, age and whether it is overdue, for the reports.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from review.closeout.audit import NO_SERVICE
from review.closeout.rules import RULES, SERVICE_RULES
from review.errors import RTAuthError, RTError, SnapshotError
from review.rt.client import RTClient
from review.settings.config import Config
from review.snapshot import Snapshot
from review.text import visible

TAG = "followup"
ACTION = "action"  # the rule part of a hand-added action's tag
ACTIONS_SECTION = "actions"  # the written section (cell id) where the team lists them
KEY = re.compile(r"^\[followup:(?P<rule>[a-z][a-z-]*):(?P<scope>ticket|service)/(?P<name>[^\]]+)\]")
CLEARED = " (cleared)"
SUBJECT_MAX = 200  # RT's Subject column
SEARCH_FIELDS = "Subject,Status,Owner,Requestor,Created,Resolved,LastUpdated,_hyperlinks"
FOLLOWUP_COLUMNS = [
    "followup_id", "key", "rule", "scope", "name", "subject", "status", "owner", "owner_email",
    "created", "resolved", "incidents", "cleared",
]  # fmt: skip
_BRACKETS = re.compile(r"[\[\]]+")


def _clean(text: str) -> str:
    """Ticket text for a subject or a key: control characters as escapes, no brackets (they
    delimit the tag), one line."""
    return " ".join(_BRACKETS.sub(" ", visible(text)).split())


def finding_keys(findings: pd.DataFrame) -> pd.Series:
    """The follow-up key of each finding: 'RULE:service/NAME' for service-level rules, else
    'RULE:ticket/ID'."""
    service = findings["service"].fillna("").astype(str).map(_clean)
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


# --------------------------------------------------------------------------- RT's state


def fetch_followups(client: RTClient, queue: str) -> list[dict[str, Any]]:
    """Every tagged ticket of the follow-up queue, as RT returns it (owner with name and email).

    One search; the pull stores the result as the snapshot's followups.jsonl.
    """
    query = f"Queue = '{_sql_quote(queue)}' AND Subject LIKE '[{TAG}:'"
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
        "query": f"Queue = '{_sql_quote(queue)}' AND Subject LIKE '[{TAG}:{_sql_quote(key)}]'",
        "fields": "Subject",
        "orderby": "id",
    }
    items = [item for page in client.pages("tickets", params) for item in page.items]
    found = followup_frame(items)
    same = found.loc[found["key"] == key, "followup_id"]
    return int(same.iloc[0]) if len(same) else None


def incident_of(name: str) -> int | None:
    """The incident a ticket-scoped tag names: '123' and an action's '123/DIGEST' -> 123."""
    head = name.split("/", 1)[0]
    return int(head) if head.isdigit() else None


def _id(item: dict[str, Any]) -> int:
    return int(item["id"])


def _sql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


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


# --------------------------------------------------------------------------- what is wanted


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
        service = _clean(str(group["service"].iloc[0] or "")) or NO_SERVICE
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
            stamp = f", opened {when:%Y-%m-%d}" if isinstance(when, pd.Timestamp) else ""
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


# --------------------------------------------------------------------------- hand-added actions

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
        service = _clean(str(services.get(ticket) or "")) or NO_SERVICE
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
                subject=(head + _clean(words))[: SUBJECT_MAX - len(CLEARED)],
                body="\n".join(body) + "\n",
                action_owner=owner or "(no owner named)",
                owner=user,
            )
        )
    return wanted


# --------------------------------------------------------------------------- the plan


Verb = Literal["create", "update", "leave"]


@dataclass
class Step:
    """One line of the plan: what happens to one follow-up."""

    verb: Verb
    key: str
    followup_id: int | None = None
    wanted: Wanted | None = None
    subject: str | None = None  # new subject, when it changes
    link: tuple[int, ...] = ()  # incidents to link (RefersTo)
    comment: str = ""
    why: str = ""

    def line(self) -> str:
        """The plan line: verb, ticket, key, then what changes or why nothing does."""
        ticket = f"#{self.followup_id}" if self.followup_id else "new"
        what: list[str] = []
        if self.verb == "create" and self.wanted:
            owner = self.wanted.owner or f"Nobody ({self.wanted.action_owner}: unmapped)"
            what.append(f"owner {owner}")
            what.append("refers to " + ", ".join(f"#{i}" for i in self.wanted.incidents))
        else:
            if self.link:
                what.append("link " + ", ".join(f"#{i}" for i in self.link))
            if self.comment:
                what.append("comment: " + self.comment.splitlines()[0])
            if self.subject is not None:
                what.append("subject")
        if self.why:
            what.append(self.why)
        return f"{self.verb:<7} {ticket:<6} {self.key}  " + "; ".join(what)


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def count(self, verb: Verb) -> int:
        return sum(1 for s in self.steps if s.verb == verb)


def make_plan(
    wanted: list[Wanted],
    existing: pd.DataFrame,
    in_scope: set[int],
    scope_services: set[str],
    rules: Sequence[str],
    inactive: Sequence[str],
    snapshot_label: str,
    reviews_read: set[int] | None = None,
) -> Plan:
    """Compare what the findings (and the reviews' actions) want with the follow-ups RT holds.

    `in_scope`: the incidents the findings were computed for; `scope_services`: their
    services. A follow-up whose finding is gone is commented (once) only when its
    incident, or an incident of its service, is in scope: otherwise the data cannot tell.
    Likewise an action's follow-up only when its incident's review was read
    (`reviews_read`) and no longer lists it.
    """
    plan = Plan()
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()}
        for r in existing.loc[existing["rule"].isin(rules)].to_dict("records")
    ]
    canonical: dict[str, dict[str, Any]] = {}
    duplicates: list[dict[str, Any]] = []
    for record in records:  # sorted by ticket id: the first of a key is the follow-up
        if record["key"] in canonical:
            duplicates.append(record)
        else:
            canonical[record["key"]] = record
    by_key = {w.key: w for w in wanted}
    for w in wanted:
        if w.key not in canonical:
            plan.steps.append(Step("create", w.key, wanted=w))
            continue
        have = canonical[w.key]
        number = int(have["followup_id"])
        if have["status"] in inactive:
            plan.steps.append(
                Step("leave", w.key, number, why=f"{have['status']}; the finding still fires")
            )
            continue
        new = tuple(i for i in w.incidents if i not in set(have["incidents"]))
        step = Step("update", w.key, number, wanted=w, link=new)
        if have["subject"] != w.subject:
            step.subject = w.subject
        if have["cleared"]:
            step.comment = f"The finding fires again in {snapshot_label}.\n\n{w.body}"
        elif new:
            step.comment = (
                f"The finding now also fires for incident(s) "
                f"{', '.join(f'#{i}' for i in new)} ({snapshot_label}).\n\n{w.body}"
            )
        if not (step.link or step.comment or step.subject is not None):
            step = Step("leave", w.key, number, why="up to date")
        plan.steps.append(step)
    for key, have in canonical.items():
        if key in by_key:
            continue
        number = int(have["followup_id"])
        if have["status"] in inactive:
            plan.steps.append(Step("leave", str(key), number, why=f"{have['status']}"))
            continue
        if have["cleared"]:
            plan.steps.append(Step("leave", str(key), number, why="cleared earlier; still clear"))
            continue
        satisfies = RULES.get(str(have["rule"]))
        if satisfies is not None and satisfies.followup_satisfies:
            plan.steps.append(
                Step("leave", str(key), number, why="open: the rule counts it as the follow-up")
            )
            continue
        action = have["rule"] == ACTION
        if have["scope"] == "ticket":
            incident = incident_of(str(have["name"]))
            known = incident in in_scope and (not action or incident in (reviews_read or set()))
        else:
            known = have["name"] in scope_services
        if not known:
            plan.steps.append(
                Step(
                    "leave",
                    str(key),
                    number,
                    why="not in this snapshot's incidents: cannot tell whether it still fires",
                )
            )
            continue
        plan.steps.append(
            Step(
                "update",
                str(key),
                number,
                subject=str(have["subject"]) + CLEARED,
                comment=(
                    "The action is no longer in the review's Actions section. Check whether it "
                    "was done or dropped, then resolve this follow-up (the tool never closes it)."
                    if action
                    else f"The finding no longer fires in {snapshot_label}. Check that the "
                    "action was taken, then resolve this follow-up (the tool never closes it)."
                ),
            )
        )
    for dup in duplicates:
        first = canonical[dup["key"]]["followup_id"]
        plan.steps.append(
            Step("leave", dup["key"], int(dup["followup_id"]), why=f"duplicate of #{first}")
        )
    plan.unmapped = sorted({w.action_owner for w in wanted if not w.owner})
    return plan


# --------------------------------------------------------------------------- doing it


def _refused(answer: Any) -> list[str]:
    """RT's messages that refuse a change (it answers 200 with them)."""
    messages = answer if isinstance(answer, list) else []
    return [
        str(m)
        for m in messages
        if any(w in str(m).lower() for w in ("permission denied", "couldn't", "could not"))
    ]


def apply_step(client: RTClient, step: Step, queue: str, log: list[str]) -> int:
    """Carry out one create or update; returns the follow-up's ticket id.

    A refusal raises RTAuthError naming the right the account lacks.
    """
    where = f"RT at {client.conn.url}"
    if step.verb == "create":
        assert step.wanted is not None
        w = step.wanted
        other = tagged(client, queue, step.key)
        if other is not None:  # filed by another run since the plan was made: not again
            step.followup_id = other
            log.append(
                f"skipped {step.key}: #{other} carries its tag already (filed by another run "
                "since this one's plan)"
            )
            return other
        body: dict[str, Any] = {
            "Queue": queue,
            "Subject": w.subject,
            "Content": w.body,
            "ContentType": "text/plain",
        }
        if w.owner:
            body["Owner"] = w.owner
            body["Requestor"] = [w.owner]
        code, answer = client.send("POST", "ticket", body)
        if code == 403:
            raise RTAuthError(
                f"{where} refused to create a ticket in queue '{queue}' (403): the queue does "
                "not exist or the account lacks CreateTicket on it ([followups] queue)"
            )
        if code != 201 or not isinstance(answer, dict) or "id" not in answer:
            raise RTError(f"{where} did not create the follow-up {step.key} (HTTP {code})")
        number = int(answer["id"])
        log.append(f"created #{number} {step.key}")
        if client.status(f"ticket/{number}") != 200:
            raise RTAuthError(
                f"{where} does not show follow-up #{number} to this account: it needs "
                f"ShowTicket on queue '{queue}', or every run files it again"
            )
        step.followup_id = number
        links = w.incidents
    else:
        assert step.followup_id is not None
        number = step.followup_id
        links = step.link
    path = f"ticket/{number}"
    if links:
        code, answer = client.send("PUT", path, {"AddRefersTo": list(links)})
        refused = _refused(answer)
        if code != 200 or refused:
            raise RTAuthError(
                f"{where} refused the RefersTo link from follow-up #{number} to incident(s) "
                f"{', '.join(map(str, links))}: the account needs ModifyTicket on queue "
                f"'{queue}' and, unless RT's $StrictLinkACL is 0, on the incidents' queues too "
                f"(RT said: {refused[0] if refused else f'HTTP {code}'})"
            )
        log.append(f"linked #{number} to {', '.join(f'#{i}' for i in links)}")
    if step.subject is not None:
        code, answer = client.send("PUT", path, {"Subject": step.subject})
        if code != 200 or _refused(answer):
            raise RTAuthError(
                f"{where} refused to change the subject of follow-up #{number}: the account "
                f"needs ModifyTicket on queue '{queue}'"
            )
        log.append(f"retitled #{number}")
    if step.comment:
        code, answer = client.send(
            "POST", f"{path}/comment", {"Content": step.comment, "ContentType": "text/plain"}
        )
        if code not in (200, 201):
            raise RTAuthError(
                f"{where} refused a comment on follow-up #{number} (HTTP {code}): the account "
                f"needs ModifyTicket (or CommentOnTicket) on queue '{queue}'"
            )
        log.append(f"commented on #{number}")
    return number


def check_after(client: RTClient, plan: Plan, queue: str) -> list[str]:
    """Read the queue again: every follow-up written must be visible (else the next run would
    file it again) and owned as asked. Returns warnings; raises when one is invisible."""
    frame = followup_frame(fetch_followups(client, queue))
    owners = dict(
        (int(i), str(o)) for i, o in frame[["followup_id", "owner"]].itertuples(index=False)
    )
    written = [s for s in plan.steps if s.verb != "leave" and s.followup_id]
    hidden = [s.followup_id for s in written if s.followup_id not in owners]
    if hidden:
        raise RTAuthError(
            f"RT at {client.conn.url} does not show follow-up(s) "
            f"{', '.join(f'#{i}' for i in hidden)} to this account: it needs ShowTicket on "
            f"queue '{queue}', or every run files them again"
        )
    warnings = []
    first = frame.drop_duplicates("key").set_index("key")["followup_id"].astype(int).to_dict()
    for step in written:
        if step.verb == "create" and first.get(step.key, step.followup_id) != step.followup_id:
            warnings.append(
                f"follow-up #{step.followup_id} repeats #{first[step.key]} ({step.key}), filed "
                "by a run on another machine at the same moment: resolve "
                f"#{step.followup_id} as a duplicate (later runs leave it alone)"
            )
    for step in written:
        w = step.wanted
        if step.verb == "create" and w and w.owner:
            got = owners[int(step.followup_id or 0)]
            if got != w.owner:
                warnings.append(
                    f"follow-up #{step.followup_id} is owned by {got}, not {w.owner}: RT user "
                    f"'{w.owner}' does not exist or may not own tickets in '{queue}' (OwnTicket)"
                )
    return warnings


# --------------------------------------------------------------------------- for the reports


def finding_followups(
    findings: pd.DataFrame,
    followups: pd.DataFrame,
    config: Config,
    now: pd.Timestamp,
    rt_web: str = "",
) -> pd.DataFrame:
    """Each finding's follow-up: followup_id, followup_url, followup_status, followup_owner,
    followup_age_days, followup_overdue (open for more than followups.overdue_days at `now`).
    Empty when none."""
    keyed = findings.assign(key=finding_keys(findings))
    latest = followups.drop_duplicates("key", keep="first").set_index("key")
    joined = latest.reindex(keyed["key"])
    # open: up to now; resolved: how long it stayed open
    age = (joined["resolved"].where(joined["resolved"].notna(), now) - joined["created"]).dt.days
    inactive = joined["status"].isin(config.statuses.inactive)
    number = joined["followup_id"].astype("Int64")
    url = rt_web + "Ticket/Display.html?id=" + number.astype(str)
    out = pd.DataFrame(
        {
            "followup_id": number.to_numpy(),
            "followup_url": url.where(number.notna(), "").to_numpy(),
            "followup_status": joined["status"].fillna("").to_numpy(),
            "followup_owner": joined["owner"].fillna("").to_numpy(),
            "followup_age_days": age.astype("Int64").to_numpy(),
            "followup_overdue": (
                joined["followup_id"].notna() & ~inactive & (age > config.followups.overdue_days)
            ).to_numpy(),
        },
        index=findings.index,
    )
    return out


def rt_web_url(api_url: str) -> str:
    """RT's web address from its REST2 address (…/REST/2.0/ -> …/)."""
    return api_url.split("REST/2.0/")[0]


def read_followups(
    snapshot_dir: Path, manifest: dict[str, Any] | None = None
) -> pd.DataFrame | None:
    """The follow-ups pulled with a snapshot (followups.jsonl), or None when the pull did not
    take them (older snapshots, the bundled sample). Checked against the manifest: the one
    given (the version the rest of the snapshot was read from), else the one on disk."""
    from review.snapshot import FOLLOWUPS, file_sha256, read_jsonl, read_manifest

    path = Path(snapshot_dir) / FOLLOWUPS
    pinned = manifest is not None
    recorded = manifest if manifest is not None else read_manifest(Path(snapshot_dir))
    checksum = (recorded.get("sha256") or {}).get(FOLLOWUPS)
    if checksum is None or (not pinned and not path.is_file()):
        return None
    if not path.is_file() or file_sha256(path) != checksum:
        if pinned:
            raise SnapshotError(
                "was replaced since the rest of the snapshot was read (a pull swapped it in): "
                "run again",
                str(path),
            )
        raise SnapshotError(
            "checksum does not match manifest.json: the file was changed after the pull; "
            "pull again instead of editing",
            str(path),
        )
    return followup_frame(read_jsonl(path))


def review_links(opened: pd.Series, config: Config) -> pd.Series:
    """ticket_id -> the address of its rendered review (under [followups] reports_url)."""
    from review.settings.months import month_of

    months = pd.Series(month_of(opened, config).to_numpy(), index=opened.index)
    base = config.followups.reports_url or "reports/"
    return base + months + "/incident-" + opened.index.astype(str) + ".html"


def scope_of(
    findings: pd.DataFrame, metrics: pd.DataFrame, services: pd.Series,
    rules: Sequence[str], since: pd.Timestamp | None,
) -> tuple[pd.DataFrame, set[int], set[str]]:  # fmt: skip
    """The findings of the selected rules for incidents opened since `since`, those incidents,
    and their services as follow-up keys name them."""
    chosen = metrics
    if since is not None:
        chosen = metrics.loc[metrics["opened_at"] >= since]
    ids = set(int(t) for t in chosen["ticket_id"])
    names = services.reindex(sorted(ids)).fillna("").astype(str).map(_clean)
    found = findings.loc[findings["ticket_id"].isin(ids) & findings["rule"].isin(rules)]
    return found, ids, set(names.where(names != "", NO_SERVICE))


# --------------------------------------------------------------------------- in the reports


def _now(snapshot: Snapshot) -> pd.Timestamp:
    """'Now' for ages and overdue: the snapshot's pull time (reproducible)."""
    return pd.Timestamp(str(snapshot.manifest.get("pulled_at")))


def attach_followups(findings: pd.DataFrame, snapshot: Snapshot, config: Config) -> pd.DataFrame:
    """Findings with their follow-up (followup, followup_status, followup_owner,
    followup_age_days, followup_overdue) when the snapshot's pull took the follow-up queue;
    unchanged otherwise."""
    pulled = read_followups(snapshot.path, snapshot.manifest)
    if pulled is None:
        return findings
    shown = finding_followups(findings, pulled, config, _now(snapshot))
    return findings.assign(
        followup=shown["followup_id"],
        followup_status=shown["followup_status"],
        followup_owner=shown["followup_owner"],
        followup_age_days=shown["followup_age_days"],
        followup_overdue=shown["followup_overdue"].where(shown["followup_id"].notna(), pd.NA),
    )


def followups_digest(snapshot: Snapshot) -> str:
    """What the reports show of the follow-ups changes with this: the pulled file and, since
    ages and overdue count to the pull, its time ('' without follow-ups)."""
    from review.snapshot import FOLLOWUPS

    path = snapshot.path / FOLLOWUPS
    if not path.is_file():
        return ""
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{content} {snapshot.manifest.get('pulled_at', '')}"


def followup_links(snapshot: Snapshot) -> dict[str, str]:
    """safe_table links for the `followup` column (the ticket in RT's web interface), when the
    snapshot holds follow-ups."""
    if read_followups(snapshot.path, snapshot.manifest) is None:
        return {}
    web = html.escape(rt_web_url(str(snapshot.manifest.get("source", ""))), quote=True)
    return {"followup": web + "Ticket/Display.html?id={}"} if web else {}


def followups_by_service(
    snapshot: Snapshot, services: pd.Series, config: Config
) -> pd.DataFrame | None:
    """Open and overdue follow-ups per service at the pull (None if the pull took none).

    `services` maps an incident's ticket_id to its service, for per-incident follow-ups.
    """
    pulled = read_followups(snapshot.path, snapshot.manifest)
    if pulled is None:
        return None
    open_ = pulled.loc[~pulled["status"].isin(config.statuses.inactive)]
    ticket_names = open_["name"].where(open_["scope"] == "ticket").str.split("/").str[0]
    incident = pd.to_numeric(ticket_names, errors="coerce")
    service = open_["name"].where(
        open_["scope"] == "service", incident.map(services).fillna("(unknown)")
    )
    age = (_now(snapshot) - open_["created"]).dt.days
    table = pd.DataFrame(
        {"service": service, "open": 1, "overdue": (age > config.followups.overdue_days)}
    )
    out = table.groupby("service", sort=True)[["open", "overdue"]].sum().astype("int64")
    return out.sort_values(["overdue", "open"], ascending=False, kind="stable").reset_index()
