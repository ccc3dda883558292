"""`review remind`: one digest per owner of overdue follow-ups and registry entries due for review.

Read from the snapshot (the follow-ups its pull took, at its pull time) and the
registry (due at `today`). A follow-up goes to its RT owner; a registry entry to the
RT user its service owner maps to under [followups.owners]. Whatever has no owner
or no known address goes to the default recipients, [mail] to, so nothing is
silently dropped; with no [mail] to either, it is listed as undeliverable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from review.closeout.followups import read_followups, rt_web_url
from review.closeout.gaps import REVIEW_ACTION, review_overdue
from review.closeout.registry import Registry
from review.settings.config import Config
from review.snapshot import Snapshot
from review.text import visible

UNASSIGNED = "(no owner)"


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
        return f"Close-out reminders for {self.owner}: {', '.join(parts)}"

    def body(self, config: Config) -> str:
        lines = [f"Reminders for {self.owner}, from the incident review kit (`review remind`).", ""]
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
                f"{row.created:%Y-%m-%d}, {row.age} days): {web}Ticket/Display.html?id="
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
