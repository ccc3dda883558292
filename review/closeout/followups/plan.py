"""The plan: what the findings want against the follow-ups RT holds, one Step per follow-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from review.closeout.audit import NO_SERVICE
from review.closeout.followups.keys import ACTION, CLEARED, clean, incident_of, note_digest
from review.closeout.followups.wanted import Wanted
from review.closeout.rules import RULES


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
    names = services.reindex(sorted(ids)).fillna("").astype(str).map(clean)
    found = findings.loc[findings["ticket_id"].isin(ids) & findings["rule"].isin(rules)]
    return found, ids, set(names.where(names != "", NO_SERVICE))


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
    note: str = ""  # the comment's marker digest (keys.note_digest), when there is a comment
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
    canonical, duplicates = _first_of_each_key(existing.loc[existing["rule"].isin(rules)])
    plan = Plan()
    for w in wanted:
        have = canonical.get(w.key)
        plan.steps.append(
            Step("create", w.key, wanted=w)
            if have is None
            else _still_wanted(w, have, inactive, snapshot_label)
        )
    known = _Known(in_scope, scope_services, reviews_read or set())
    wanted_keys = {w.key for w in wanted}
    for key, have in canonical.items():
        if key not in wanted_keys:
            plan.steps.append(_no_longer_wanted(str(key), have, inactive, known, snapshot_label))
    for dup in duplicates:
        first = canonical[dup["key"]]["followup_id"]
        plan.steps.append(
            Step("leave", dup["key"], int(dup["followup_id"]), why=f"duplicate of #{first}")
        )
    plan.unmapped = sorted({w.action_owner for w in wanted if not w.owner})
    return plan


def _first_of_each_key(
    existing: pd.DataFrame,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """RT's follow-ups by key, the first (lowest ticket id) of each; and the later ones."""
    canonical: dict[str, dict[str, Any]] = {}
    duplicates: list[dict[str, Any]] = []
    for r in existing.to_dict("records"):  # sorted by ticket id
        record = {str(k): v for k, v in r.items()}
        if record["key"] in canonical:
            duplicates.append(record)
        else:
            canonical[record["key"]] = record
    return canonical, duplicates


def _still_wanted(
    w: Wanted, have: dict[str, Any], inactive: Sequence[str], snapshot_label: str
) -> Step:
    """The step for a follow-up RT holds whose finding still fires: left when closed or up to
    date, else linked to new incidents, retitled, and commented when it fires again or more.

    One linked to no incident was filed by a run that stopped before linking it (killed, or
    RT refused the link): it is linked, not commented, since its text says it all already."""
    number = int(have["followup_id"])
    if have["status"] in inactive:
        return Step("leave", w.key, number, why=f"{have['status']}; the finding still fires")
    new = tuple(i for i in w.incidents if i not in set(have["incidents"]))
    step = Step("update", w.key, number, wanted=w, link=new)
    if have["subject"] != w.subject:
        step.subject = w.subject
    if have["cleared"]:
        step.comment = f"The finding fires again in {snapshot_label}.\n\n{w.body}"
    elif new and not have["incidents"]:
        step.why = "not linked yet: the run that filed it stopped before linking it"
    elif new:
        step.comment = (
            f"The finding now also fires for incident(s) "
            f"{', '.join(f'#{i}' for i in new)} ({snapshot_label}).\n\n{w.body}"
        )
    if not (step.link or step.comment or step.subject is not None):
        return Step("leave", w.key, number, why="up to date")
    if step.comment:
        incidents = sorted(set(have["incidents"]) | set(new))
        step.note = note_digest(number, incidents, step.subject or str(have["subject"]))
    return step


@dataclass(frozen=True)
class _Known:
    """What the run saw: the incidents in scope, their services, the reviews read."""

    incidents: set[int]
    services: set[str]
    reviews: set[int]

    def covers(self, have: dict[str, Any]) -> bool:
        """Whether the run can tell that a follow-up's finding (or action) is gone."""
        if have["scope"] != "ticket":
            return have["name"] in self.services
        incident = incident_of(str(have["name"]))
        return incident in self.incidents and (have["rule"] != ACTION or incident in self.reviews)


def _no_longer_wanted(
    key: str, have: dict[str, Any], inactive: Sequence[str], known: _Known, snapshot_label: str
) -> Step:
    """The step for a follow-up RT holds that nothing asks for any more: marked cleared with a
    comment once, when the run can tell; never closed."""
    number = int(have["followup_id"])
    if have["status"] in inactive:
        return Step("leave", key, number, why=f"{have['status']}")
    if have["cleared"]:
        return Step("leave", key, number, why="cleared earlier; still clear")
    satisfies = RULES.get(str(have["rule"]))
    if satisfies is not None and satisfies.followup_satisfies:
        return Step("leave", key, number, why="open: the rule counts it as the follow-up")
    if not known.covers(have):
        why = "not in this snapshot's incidents: cannot tell whether it still fires"
        return Step("leave", key, number, why=why)
    comment = (
        "The action is no longer in the review's Actions section. Check whether it "
        "was done or dropped, then resolve this follow-up (the tool never closes it)."
        if have["rule"] == ACTION
        else f"The finding no longer fires in {snapshot_label}. Check that the "
        "action was taken, then resolve this follow-up (the tool never closes it)."
    )
    subject = str(have["subject"]) + CLEARED
    note = note_digest(number, have["incidents"], subject)
    return Step("update", key, number, subject=subject, comment=comment, note=note)
