"""Publish a finished review to its incident's ticket in RT: one comment per version, once.

`review publish TICKET` plans, `--apply` does it: one comment on the incident's ticket
with a short text summary and the rendered review (self-contained HTML) attached, and the
review status in a ticket custom field when `[publish] status_field` names one.

What a review *is*, for publishing (`Version`): the incident's data (its rows as pulled,
review.snapshot.fingerprint.review_data_digests), the team's written sections, the status and the
sign-offs. The kit's own code or a template changing does not make a review new; the
team or RT changing it does. Each publication is remembered twice, so that a lost record
never publishes twice:
- in RT: the comment's subject starts ``[review-published:incident/N:DIGEST]`` (RT keeps a
  comment's subject in its transaction's Data, which TransactionSQL searches), and the
  text ends with a ``review-publish-record:`` line holding the version's parts (digests,
  never text), from which the next publication says what changed;
- in the review file (reports/reviews/incident-N.json, key ``published``): the same
  record with the comment's transaction id, when and by whom.

The comment is posted before the local record is written and is found again in RT, so a
run killed between the two, or a local file lost, does not comment again; a run that
cannot see its own comment afterwards (no ShowTicketComments) stops with a one-line error
instead of commenting on every run. Two runs at once on one reports folder are refused
(a lock per ticket); runs from two folders or machines are told apart by searching RT again
right before the comment (`post`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from review.errors import RTAuthError, RTError
from review.locks import exclusive
from review.pages.signoff import PUBLISHED_KEY, signed_text
from review.pages.written import WrittenReview
from review.rt.client import RTClient
from review.rt.history import marked_comments
from review.settings.utc import now_utc
from review.snapshot.fingerprint import PUBLISHED_MARK
from review.text import visible

RECORD = "review-publish-record: "  # the last line of a publication comment's text
RECORD_KEY = PUBLISHED_KEY  # the review file's list of publications
FORMAT = 1
SUMMARY_CHARS = 1200  # of the team's summary quoted in the comment
ATTACHMENT_WARN_BYTES = 10_000_000  # RT's default $MaxAttachmentSize


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Version:
    """What one publication of a review is of (digests only: it goes into RT as a record)."""

    ticket_id: int
    data: str  # review.pages.signoff.data_digest of the incident
    sections: tuple[tuple[str, str], ...]  # (section id, digest of its text), in order
    status: str
    signoffs: tuple[tuple[str, str, str], ...]  # (role, who, at)

    @property
    def digest(self) -> str:
        parts = [self.ticket_id, self.data, self.sections, self.status, self.signoffs]
        return _short(json.dumps(parts, ensure_ascii=False))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "ticket_id": self.ticket_id,
            "digest": self.digest,
            "data": self.data,
            "sections": dict(self.sections),
            "status": self.status,
            "signoffs": [list(s) for s in self.signoffs],
        }

    @classmethod
    def from_json(cls, data: Any) -> Version | None:
        """A record read back (from RT or the review file); None when it is not one."""
        try:
            if data.get("format") != FORMAT:
                return None
            version = cls(
                ticket_id=int(data["ticket_id"]),
                data=str(data["data"]),
                sections=tuple((str(k), str(v)) for k, v in dict(data["sections"]).items()),
                status=str(data["status"]),
                signoffs=tuple(
                    (str(r), str(w), str(a)) for r, w, a in list(data.get("signoffs", []))
                ),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        return version if version.digest == data.get("digest") else None


def version_of(review: WrittenReview | None, ticket_id: int, data: str) -> Version:
    """The version of a review to publish: data, written sections, status, sign-offs."""
    review = review or WrittenReview(ticket_id=int(ticket_id))
    return Version(
        ticket_id=int(ticket_id),
        data=data,
        sections=tuple((s.id, _short(s.text)) for s in review.sections),
        status=review.status,
        signoffs=tuple((s.role, s.who, s.at) for s in review.signoffs),
    )


def changes(old: Version, new: Version) -> list[str]:
    """What differs between two versions, in words (one item per kind of change)."""
    said = []
    if old.status != new.status:
        said.append(f"status {old.status} -> {new.status}")
    before, after = dict(old.sections), dict(new.sections)
    for verb, ids in (
        ("added", [i for i in after if i not in before]),
        ("changed", [i for i in after if i in before and before[i] != after[i]]),
        ("removed", [i for i in before if i not in after]),
    ):
        if ids:
            said.append(f"written sections {verb}: {', '.join(ids)}")
    signed_before = {(r, w, a) for r, w, a in old.signoffs}
    for role, who, at in new.signoffs:
        if (role, who, at) not in signed_before:
            said.append(f"signed off by the {role} {who} on {at[:10]}")
    gone = {r for r, _, _ in old.signoffs} - {r for r, _, _ in new.signoffs}
    said += [f"the {role}'s sign-off was withdrawn" for role in sorted(gone)]
    if old.data != new.data:
        said.append("the incident's data in RT changed (a later pull)")
    return said or ["nothing the record tells apart (the record was incomplete)"]


# --------------------------------------------------------------------------- what was published


@dataclass(frozen=True)
class Published:
    """One publication found: its version, the comment (RT transaction id), when, where."""

    version: Version | None  # None: RT's comment names the digest but holds no record
    digest: str
    comment: int | None
    at: str
    found_in: str  # "RT" or the review file


def subject(version: Version, status: str) -> str:
    """The comment's subject: the marker RT searches, then words for people."""
    return f"{PUBLISHED_MARK}incident/{version.ticket_id}:{version.digest}] review, {status}"


_SUBJECT = re.compile(re.escape(PUBLISHED_MARK) + r"incident/(\d+):([0-9a-f]{16})\]")


def local_record(review: WrittenReview | None) -> Published | None:
    """The last publication the review file records (None: none recorded)."""
    entries = (review.extra.get(RECORD_KEY) if review else None) or []
    if not isinstance(entries, list) or not entries or not isinstance(entries[-1], dict):
        return None
    last = entries[-1]
    version = Version.from_json(last.get("version"))
    if version is None:
        return None
    comment = last.get("comment")
    return Published(
        version,
        version.digest,
        int(comment) if isinstance(comment, int) else None,
        str(last.get("at", "")),
        "the review file",
    )


def with_record(
    review: WrittenReview, version: Version, comment: int | None, rt_url: str
) -> WrittenReview:
    """`review` with a publication appended to its record (kept across rewrites)."""
    import getpass

    entries = review.extra.get(RECORD_KEY)
    kept = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    entry = {
        "at": now_utc(),
        "by": getpass.getuser(),
        "rt": rt_url,
        "comment": comment,
        "version": version.to_json(),
    }
    return replace(review, extra={**review.extra, RECORD_KEY: [*kept, entry]})


def find_in_rt(client: RTClient, ticket_id: int) -> Published | None:
    """The newest publication comment on the ticket, with its record when it holds one.

    One TransactionSQL search on the comment's subject (RT >= 5.0.2; older RTs: the
    ticket's history, paged), then the text part of that one comment.
    """
    mark = f"{PUBLISHED_MARK.lstrip('[')}incident/{int(ticket_id)}:"
    found = [
        (int(r["id"]), m[2], str(r.get("Created", "")))
        for r in marked_comments(client, ticket_id, mark, "Type,Data,Created")
        if (m := _SUBJECT.match(str(r.get("Data", "")))) and int(m[1]) == int(ticket_id)
    ]
    if not found:
        return None
    comment, digest, at = max(found)
    version = _record_of(client, comment)
    if version is not None and (version.digest != digest or version.ticket_id != ticket_id):
        version = None
    return Published(version, digest, comment, at, "RT")


def _record_of(client: RTClient, comment: int) -> Version | None:
    """The record line of a publication comment's text part (None when absent or garbled)."""
    query = json.dumps([{"field": "ContentType", "value": "text/plain"}])
    parts = client.pages(
        f"transaction/{comment}/attachments", {"query": query, "fields": "Content,ContentType"}
    )
    for item in (i for p in parts for i in p.items):
        text = _content(str(item.get("Content") or ""))
        lines = [line for line in text.splitlines() if line.startswith(RECORD)]
        if lines:
            try:
                return Version.from_json(json.loads(lines[-1][len(RECORD) :]))
            except ValueError:
                return None
    return None


def _content(content: str) -> str:
    """An attachment's text: RT 5.0.3 sends it as is in a collection, base64 in a single GET."""
    if RECORD in content:
        return content
    try:
        return base64.b64decode(content).decode("utf-8", "replace")
    except ValueError:
        return content


def last_published(local: Published | None, remote: Published | None) -> Published | None:
    """The publication to compare with: RT's when RT shows one (it is the system of record;
    the newer comment wins), else the review file's."""
    if remote is None:
        return local
    if local is not None and local.comment and remote.comment and local.comment > remote.comment:
        return local
    if remote.version is None and local is not None and local.digest == remote.digest:
        return replace(remote, version=local.version)
    return remote


# --------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """What `review publish` does for one review."""

    version: Version
    last: Published | None
    comment: bool  # add a comment
    what_changed: list[str] = field(default_factory=list)
    status_field: str = ""
    field_now: str | None = None  # the custom field's value in RT (None: unset)
    render: str = ""  # what happens to the rendered HTML ("up to date", "renders first")

    @property
    def set_field(self) -> bool:
        return bool(self.status_field) and self.field_now != self.version.status

    @property
    def nothing(self) -> bool:
        return not self.comment and not self.set_field

    def lines(self) -> list[str]:
        """The plan in words, one line each."""
        ticket = self.version.ticket_id
        out = []
        if self.last is not None:
            where = f"comment #{self.last.comment}" if self.last.comment else "a comment"
            out.append(
                f"last published {self.last.at[:16].replace('T', ' ')} ({where}, found in "
                f"{self.last.found_in}), version {self.last.digest}"
            )
        if self.comment:
            kind = "the review" if self.last is None else "the changed review"
            out.append(
                f"comment on #{ticket}: {kind} ({self.version.status}), version "
                f"{self.version.digest}, with the HTML attached ({self.render})"
            )
            out += [f"  changed: {c}" for c in self.what_changed]
        else:
            out.append(f"comment on #{ticket}: none, version {self.version.digest} is published")
        if self.status_field:
            if self.set_field:
                now = "unset" if self.field_now is None else repr(self.field_now)
                out.append(
                    f"set #{ticket}'s '{self.status_field}' to '{self.version.status}' (now {now})"
                )
            else:
                out.append(f"#{ticket}'s '{self.status_field}' is already '{self.version.status}'")
        return out


def status_field_value(client: RTClient, ticket_id: int, name: str) -> str | None:
    """The ticket's value of custom field `name` (None: unset); a one-line error when the
    ticket has no such field this account may see."""
    ticket = client.get_object(f"ticket/{int(ticket_id)}")
    for cf in ticket.get("CustomFields") or []:
        if isinstance(cf, dict) and cf.get("name") == name:
            values = [str(v) for v in cf.get("values") or [] if str(v)]
            return values[0] if values else None
    raise RTError(
        f"ticket #{ticket_id} at {client.conn.url} has no custom field '{name}' this account may "
        f"see ([publish] status_field): apply it to the ticket's queue and grant SeeCustomField "
        'and ModifyCustomField on it, or set status_field to ""'
    )


def make_plan(
    client: RTClient,
    review: WrittenReview | None,
    version: Version,
    status_field: str,
    render: str,
) -> Plan:
    """Compare the review with what RT and the review file say was published."""
    code = client.status(f"ticket/{version.ticket_id}")
    if code != 200:
        raise RTAuthError(
            f"RT at {client.conn.url} does not show ticket #{version.ticket_id} to this account "
            f"(HTTP {code or 'no answer'}): it needs ShowTicket on the incident's queue"
        )
    last = last_published(local_record(review), find_in_rt(client, version.ticket_id))
    plan = Plan(version, last, comment=last is None or last.digest != version.digest)
    if plan.comment and last is not None:
        plan.what_changed = (
            changes(last.version, version)
            if last.version is not None
            else ["the review differs from the last published version (RT holds no record)"]
        )
    plan.render = render
    if status_field:
        plan.status_field = status_field
        plan.field_now = status_field_value(client, version.ticket_id, status_field)
    return plan


# --------------------------------------------------------------------------- the comment


def comment_text(plan: Plan, facts: list[str], review: WrittenReview | None, html_name: str) -> str:
    """The comment's text: what the review says in a few lines, what changed since the last
    publication, the attachment's name, and the record line (last)."""
    version = plan.version
    lines = [f"Post-incident review of #{version.ticket_id}: {version.status}."]
    if review is not None and review.signoffs:
        lines.append(f"Sign-off: {signed_text(review)}.")
    lines += facts
    summary = review.section("summary") if review is not None else None
    if summary is not None and summary.text.strip():
        text = visible(summary.text.strip())
        if len(text) > SUMMARY_CHARS:
            text = text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " ..."
        lines += ["", "Summary (the team's words):", *(f"  {line}" for line in text.splitlines())]
    if plan.last is not None:
        lines += ["", f"Changed since the review published {plan.last.at[:10]}:"]
        lines += [f"- {c}" for c in plan.what_changed]
    lines += [
        "",
        f"The whole review is attached ({html_name}); it opens in any web browser.",
        "Published by `review publish`; the line below lets it tell what changed next time.",
        RECORD + json.dumps(version.to_json(), ensure_ascii=True, separators=(",", ":")),
    ]
    return "\n".join(lines) + "\n"


def incident_facts(metrics: pd.DataFrame, findings: pd.DataFrame, ticket_id: int) -> list[str]:
    """A few lines from the evidence: classification, service, durations, findings."""
    rows = metrics.loc[metrics["ticket_id"] == ticket_id]
    if rows.empty:
        return []
    row = rows.iloc[0]

    def text(name: str) -> str:
        value = row.get(name)
        return "" if value is None or pd.isna(value) else visible(str(value))

    def hours(name: str) -> str:
        value = row.get(name)
        return "not yet" if value is None or pd.isna(value) else f"{float(value):.1f} h"

    lines = [
        f"Subject: {text('subject')}",
        f"Classification: {text('classification') or 'not set'}; service: "
        f"{text('service') or 'not set'}.",
        f"Time to resolve: {hours('time_to_resolve_h')} (business: "
        f"{hours('time_to_resolve_bh')}); to triage: {hours('time_to_triage_h')}; hand-offs: "
        f"{text('handoff_count') or '0'}.",
    ]
    own = findings.loc[findings["ticket_id"] == ticket_id]
    if own.empty:
        lines.append("Close-out findings: none.")
    else:
        shown = []
        for item in own.to_dict("records"):
            text_ = f"{item['rule']} ({item['severity']})"
            number = item.get("followup")
            if number is not None and not pd.isna(number):
                text_ += f", follow-up #{int(number)} {item.get('followup_status') or ''}".rstrip()
            shown.append(text_)
        lines.append(f"Close-out findings ({len(own)}): " + "; ".join(shown) + ".")
    return lines


def post(
    client: RTClient, plan: Plan, text: str, html: Path, html_name: str
) -> tuple[int | None, bool]:
    """Add the comment with the HTML attached; returns its transaction id as found again in
    RT (None: RT took it but does not show it to this account), and whether this run posted
    it: RT is searched again right before, and a comment of this version that another run
    posted since the plan (another reports folder, another machine: the lock is per folder)
    is not posted twice. A refusal is one line naming the right missing."""
    ticket = plan.version.ticket_id
    meanwhile = find_in_rt(client, ticket)
    if meanwhile is not None and meanwhile.digest == plan.version.digest:
        return meanwhile.comment, False
    body = {
        "Subject": subject(plan.version, plan.version.status),
        "Content": text,
        "ContentType": "text/plain",
        "Attachments": [
            {
                "FileName": html_name,
                "FileType": "text/html",
                "FileContent": base64.b64encode(html.read_bytes()).decode("ascii"),
            }
        ],
    }
    code, answer = client.send("POST", f"ticket/{ticket}/comment", body)
    if code >= 500:  # RT (or a proxy before it) failed: no right is missing
        raise RTError(
            f"RT at {client.conn.url} answered HTTP {code} to the comment on #{ticket}; it may "
            "have been posted all the same: run again once RT is well (the re-run finds it in "
            "RT and does not post it twice)"
        )
    if code not in (200, 201):
        said = answer.get("message") if isinstance(answer, dict) else None
        raise RTAuthError(
            f"RT at {client.conn.url} refused a comment on #{ticket} (HTTP {code}"
            + (f": {said}" if said else "")
            + "): the account needs CommentOnTicket (and ShowTicket) on the incident's queue"
        )
    found = find_in_rt(client, ticket)
    if found is None or found.digest != plan.version.digest:
        return None, True
    return found.comment, True


def unseen(client: RTClient, ticket: int, record: Path) -> RTAuthError:
    """The error for a comment RT took but hides from this account."""
    return RTAuthError(
        f"RT at {client.conn.url} took the comment on #{ticket} but does not show it to this "
        f"account: grant it ShowTicketComments on the incident's queue (it is recorded in "
        f"{record}, so a run from here will not comment again; without it, a run from "
        "elsewhere would)"
    )


def set_status_field(client: RTClient, plan: Plan) -> None:
    """Put the review status in the custom field; checked by reading it back."""
    ticket, name, value = plan.version.ticket_id, plan.status_field, plan.version.status
    code, answer = client.send("PUT", f"ticket/{ticket}", {"CustomFields": {name: value}})
    said = "; ".join(str(m) for m in answer) if isinstance(answer, list) else f"HTTP {code}"
    now = status_field_value(client, ticket, name) if code == 200 else None
    if now != value:
        raise RTAuthError(
            f"RT at {client.conn.url} did not set '{name}' of #{ticket} to '{value}' (RT said: "
            f"{said or 'nothing'}): the account needs ModifyCustomField on it, and the field must "
            "accept draft, in review and final; the comment is published, run again once fixed"
        )


def publishing(path: Path) -> AbstractContextManager[None]:
    """One publish at a time per review (two runs would both see 'not published yet')."""
    return exclusive(
        path.parent / f".{path.stem}.publish.lock",
        f"another review publish of {path.stem} is running; wait for it and run again",
    )
