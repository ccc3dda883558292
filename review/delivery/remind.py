"""`review remind`: one digest per owner of overdue follow-ups and registry entries due for review.

Read from the snapshot (the follow-ups its pull took, at its pull time) and the
registry (due at `today`). A follow-up goes to its RT owner; a registry entry to the
RT user its service owner maps to under [followups.owners]. Whatever has no owner,
no known address or an address that is not one plain address (RT's user records are
untrusted: a line break there would add mail headers) goes to the default recipients,
[mail] to, so nothing is silently dropped; with no [mail] to either, it is listed as
undeliverable.

Exactly once: `deliver` records each digest as soon as the server took it (per owner:
the day, the text's SHA-256, the addresses that got it) in `.remind-state.json`, the
record written before the send so that one which cannot be written sends nothing, and
sends a digest again only to addresses that have not had that text that day. A run
that fails halfway still tries every digest; the next run sends only what failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from review.closeout.followups import read_followups, rt_web_url
from review.closeout.gaps import REVIEW_ACTION, review_overdue
from review.closeout.registry import Registry
from review.delivery import mail
from review.settings.config import Config
from review.settings.sections import is_address
from review.settings.utc import DAY_FORMAT
from review.snapshot import Snapshot
from review.text import one_line, visible

UNASSIGNED = "(no owner)"
STATE_FILE = ".remind-state.json"
LOCK_FILE = ".remind.lock"


@dataclass
class Digest:
    """What one owner is reminded of."""

    owner: str  # RT user name, or UNASSIGNED
    to: list[str]
    followups: list[str] = field(default_factory=list)
    registry: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        parts = []
        if self.followups:
            parts.append(f"{len(self.followups)} overdue follow-up(s)")
        if self.registry:
            n = len(self.registry)
            parts.append(f"{n} registry entr{'y' if n == 1 else 'ies'} to review")
        return f"Close-out reminders for {one_line(self.owner)}: {', '.join(parts)}"

    def body(self, config: Config) -> str:
        lines = [
            f"Reminders for {one_line(self.owner)}, from the incident review kit "
            "(`review remind`).",
            "",
        ]
        if self.followups:
            lines += [
                f"Follow-ups open for more than {config.followups.overdue_days} days:",
                *self.followups,
                "",
            ]
        if self.registry:
            lines += [
                f"Registry entries not reviewed for {config.gaps.registry_review_days} days "
                "(the service registry Operations keeps):",
                *self.registry,
                f"Action: {REVIEW_ACTION}",
                "",
            ]
        return "\n".join(lines)


def digests(
    snapshot: Snapshot, registry: Registry, config: Config, today: date
) -> tuple[list[Digest], list[str]]:
    """The digests to send, by owner, and warnings (e.g. the snapshot holds no follow-ups)."""
    warnings: list[str] = []
    emails = dict(zip(snapshot.users["name"], snapshot.users["email"], strict=False))
    pulled = read_followups(snapshot.path)
    by_owner: dict[str, Digest] = {}

    def digest(owner: str, address: str) -> Digest:
        if owner not in by_owner:
            if address and not is_address(address):
                warnings.append(
                    f"user {one_line(owner)}: RT's email address '{one_line(address)}' is not "
                    "one plain address; their digest goes to the default recipients ([mail] "
                    "to): fix the address in RT"
                )
                address = ""
            to = [address] if address else []
            by_owner[owner] = Digest(owner, to or list(config.mail.to))
        return by_owner[owner]

    if pulled is None:
        warnings.append(
            "the snapshot holds no follow-ups (pulled before `review follow-ups`, or not by "
            "`review pull`): only registry entries are reminded"
        )
    else:
        now = pd.Timestamp(str(snapshot.manifest.get("pulled_at")))
        open_ = pulled.loc[~pulled["status"].isin(config.statuses.inactive)]
        age = (now - open_["created"]).dt.days
        late = open_.loc[age > config.followups.overdue_days].assign(age=age)
        web = rt_web_url(str(snapshot.manifest.get("source", "")))
        for row in late.itertuples(index=False):
            owner = str(row.owner) if row.owner != "Nobody" else UNASSIGNED
            address = str(row.owner_email) or emails.get(owner, "")
            digest(owner, address).followups.append(
                f"- #{row.followup_id} {visible(str(row.subject))} ({row.status}, opened "
                f"{row.created:{DAY_FORMAT}}, {row.age} days): {web}Ticket/Display.html?id="
                f"{row.followup_id}"
            )
    frame = registry.frame()
    due = frame.loc[review_overdue(frame["last_reviewed"], config, pd.Timestamp(today, tz="UTC"))]
    for row in due.itertuples(index=False):
        user = config.followups.rt_user(str(row.service_owner)) if row.service_owner else ""
        owner = user or UNASSIGNED
        digest(owner, emails.get(user, "")).registry.append(
            f"- {row.service!s} ({registry.path.name}:{row.line!s}): last reviewed "
            f"{row.last_reviewed!s}; service owner {row.service_owner or 'unknown'!s}"
        )
    return sorted(by_owner.values(), key=lambda d: (d.owner == UNASSIGNED, d.owner)), warnings


@dataclass
class Outcome:
    """What became of one digest in a run."""

    digest: Digest
    sent: list[str] = field(default_factory=list)  # took it in this run
    before: list[str] = field(default_factory=list)  # had this text today from an earlier run
    error: str = ""  # why the others did not get it

    @property
    def missing(self) -> list[str]:
        done = {*self.sent, *self.before}
        return [a for a in self.digest.to if a not in done]


def _text_sha256(digest: Digest, config: Config) -> str:
    return hashlib.sha256(f"{digest.subject}\n{digest.body(config)}".encode()).hexdigest()


def delivered(digest: Digest, config: Config, today: date, out: Path) -> list[str]:
    """The digest's addresses that had this very text `today` (out/.remind-state.json).

    A record dated after `today` counts as today's: the clock was set back (a clock that ran
    ahead, corrected), and the digest went out within the day all the same. Before, it went
    again at once, and a third time when the clock reached the recorded day."""
    entry = mail.read_state(out / STATE_FILE).get(digest.owner)
    if not isinstance(entry, dict) or _day(entry) < today.isoformat():
        return []
    if entry.get("sha256") != _text_sha256(digest, config):
        return []
    return [a for a in digest.to if a in (entry.get("to") or [])]


def deliver(plan: list[Digest], config: Config, today: date, out: Path) -> Iterator[Outcome]:
    """Send every digest that has recipients to those who have not had its text `today`.

    Each delivery's record is written before the send (beside ``out/.remind-state.json``,
    put in place as soon as the server took it): a record that cannot be written (disk
    full, read-only) sends nothing, where a send found unrecorded after it would go again
    on every run. A failure (a refused recipient, a server that cannot be reached, a
    record that cannot be written) is kept on its outcome and the next digest is tried.
    """
    state_file = out / STATE_FILE
    for digest in (d for d in plan if d.to):
        before = delivered(digest, config, today, out)
        outcome = Outcome(digest, before=before)
        pending = outcome.missing
        if not pending:
            yield outcome
            continue
        try:
            prepared = _prepared(state_file, digest, config, today, [*before, *pending])
        except OSError as exc:
            outcome.error = (
                f"not sent: cannot record it in {state_file} ({exc.strerror}); free space or "
                f"make {out} writable, then run again"
            )
            yield outcome
            continue
        message = mail.text_message(
            subject=digest.subject, body=digest.body(config), sender=config.mail.sender,
            to=pending,
        )  # fmt: skip
        try:
            mail.send(message, config.mail)
            outcome.sent = pending
        except mail.MailError as exc:
            outcome.sent, outcome.error = list(exc.accepted), str(exc)
        try:
            if outcome.sent and outcome.sent != pending:  # some took it: record who did
                prepared = _prepared(state_file, digest, config, today, [*before, *outcome.sent])
            if outcome.sent:
                prepared.replace(state_file)
            else:
                prepared.unlink(missing_ok=True)
        except OSError as exc:
            unrecorded = (
                f"sent to {', '.join(outcome.sent)} but not recorded in {state_file} "
                f"({exc.strerror}): a run today sends it again"
            )
            outcome.error = f"{outcome.error}; {unrecorded}" if outcome.error else unrecorded
        yield outcome


def _prepared(
    state_file: Path, digest: Digest, config: Config, today: date, got: list[str]
) -> Path:
    """The record with `digest` delivered to `got` `today`, written beside the record
    (mail.prepare_state) to be renamed over it."""
    state = mail.read_state(state_file)
    text, day = _text_sha256(digest, config), today.isoformat()
    old = state.get(digest.owner)
    if isinstance(old, dict) and old.get("sha256") == text:  # a later day stays (delivered)
        day = max(day, _day(old))
    state[digest.owner] = {"day": day, "sha256": text, "to": sorted(set(got))}
    return mail.prepare_state(state_file, state)


def _day(entry: dict[str, Any]) -> str:
    """The day a record's entry names (YYYY-MM-DD), "" when it names none (edited by hand)."""
    day = entry.get("day")
    try:
        return date.fromisoformat(day).isoformat() if isinstance(day, str) else ""
    except ValueError:
        return ""
