"""What a close-out rule is: one declaration, in one file of review/closeout/rules/.

A rule says what it checks (id, and its docstring's first paragraph 'Title: meaning.'),
how much it matters (severity), whether senior staff act on it per incident or per
service (scope), what to do and who does it (action, action_owner), where it sits among
the rules (order: findings, report columns and the per-service ranking follow it), and
the function that finds it over all incidents at once: it takes the Audit
(review.closeout.audit) and returns ticket_id and evidence rows, plus an action_owner
column when the owner differs per finding and an action column when the action does::

    \"\"\"No owner at close: closed while its owner was Nobody.\"\"\"

    @rule(__doc__, "no-owner-at-close", order=90, severity="low", action="...")
    def no_owner_at_close(audit: Audit) -> pd.DataFrame: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from review.closeout.audit import Audit
from review.settings.registries import docstring, heading

Check = Callable[[Audit], pd.DataFrame]
Scope = Literal["incident", "service"]
SEVERITIES = ("high", "medium", "low")  # most severe first
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
# action_owner of a rule whose owner is each incident's service owner (else senior staff)
SERVICE_OWNER = "the service owner (else senior staff)"


@dataclass(frozen=True)
class Rule:
    """One close-out rule (see the module docstring); `doc` is its documentation."""

    id: str
    title: str
    severity: str
    scope: Scope
    action: str
    action_owner: str
    meaning: str
    check: Check = field(repr=False)
    order: int
    followup_satisfies: bool = False  # a linked follow-up ticket is what the rule asks for
    doc: str = field(default="", repr=False)
    # the [fields] keys it cannot observe without: with one of them absent from every ticket
    # it is not run, and reports say "not observable" rather than a clean 0 (`unobservable`)
    reads: tuple[str, ...] = ()
    # the data it reads (review.analysis.quality): not observable where the data cannot back it
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES or self.scope not in ("incident", "service"):
            raise ValueError(f"rule {self.id!r}: bad severity or scope")

    def __call__(self, audit: Audit) -> pd.DataFrame:
        return self.check(audit)


def rule(
    doc: str | None,
    rule_id: str,
    *,
    order: int,
    severity: str,
    scope: Scope = "incident",
    action: str,
    action_owner: str = SERVICE_OWNER,
    followup_satisfies: bool = False,
    reads: tuple[str, ...] = (),
    inputs: tuple[str, ...] = (),
) -> Callable[[Check], Rule]:
    """Declare a rule around its check function (a decorator); `doc` is the rule module's
    docstring, whose first paragraph reads 'Title: meaning.'."""

    def declare(check: Check) -> Rule:
        text = docstring(doc, check.__module__)
        title, meaning = heading(text, f"rule {rule_id!r}")
        return Rule(
            id=rule_id,
            title=title,
            severity=severity,
            scope=scope,
            action=action,
            action_owner=action_owner,
            meaning=meaning,
            check=check,
            order=order,
            followup_satisfies=followup_satisfies,
            doc=text,
            reads=reads,
            inputs=inputs,
        )

    return declare


def field_unseen(name: str, key: str) -> str:
    """Why what reads custom field `name` ([fields] `key`) cannot observe."""
    return f"[fields] {key} is not set" if not name else f"field '{name}' not on any ticket"


def unobservable(
    rules: Iterable[Rule], fields: Mapping[str, str], defined: Iterable[str]
) -> dict[str, str]:
    """Rule id -> 'not observable (field X not on any ticket)' for each of `rules` that reads
    a [fields] key (`fields`: key -> configured name) whose field no ticket carries (`defined`:
    the fields tickets carry, filled or not)."""
    have = set(defined)
    found = {}
    for declared in rules:
        missing = [k for k in declared.reads if not fields.get(k) or fields[k] not in have]
        if missing:
            why = field_unseen(fields.get(missing[0], ""), missing[0])
            found[declared.id] = f"not observable ({why})"
    return found
