"""The close-out rule registry: each rule is one declaration, registered once.

A rule says what it checks (id, title, meaning), how much it matters (severity),
whether senior staff act on it per incident or per service (scope), what to do and
who does it (action, action_owner), and the function that finds it over all incidents
at once (it takes a review.closeout.gaps.Audit and returns ticket_id and evidence rows, plus an
action_owner column when the owner differs per finding). Findings, the checklist, the
per-service summary and follow-ups look rules up here, in registration order, the way
papermill looks up its engines::

    @rule("no-owner-at-close", title="No owner at close", severity="low", ...)
    def no_owner_at_close(audit: Audit) -> pd.DataFrame: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

if TYPE_CHECKING:
    from review.closeout.gaps import Audit

Check = Callable[["Audit"], pd.DataFrame]
Scope = Literal["incident", "service"]
SEVERITIES = ("high", "medium", "low")
# action_owner of a rule whose owner is each incident's service owner (else senior staff)
SERVICE_OWNER = "the service owner (else senior staff)"


@dataclass(frozen=True)
class Rule:
    """One close-out rule (see the module docstring)."""

    id: str
    title: str
    severity: str
    scope: Scope
    action: str
    action_owner: str
    meaning: str
    check: Check
    followup_satisfies: bool = False  # a linked follow-up ticket is what the rule asks for

    def __call__(self, audit: Audit) -> pd.DataFrame:
        return self.check(audit)


class RuleRegistry(Mapping[str, Rule]):
    """Rules by id, in registration order (the order of findings and report columns)."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        """Add a rule; an id registered twice, or an unknown severity or scope, is a bug."""
        if rule.id in self._rules:
            raise ValueError(f"rule {rule.id!r} is registered twice")
        if rule.severity not in SEVERITIES or rule.scope not in ("incident", "service"):
            raise ValueError(f"rule {rule.id!r}: bad severity or scope")
        self._rules[rule.id] = rule
        return rule

    def _loaded(self) -> dict[str, Rule]:
        import review.closeout.gaps  # noqa: F401  (declares the built-in rules)

        return self._rules

    def __getitem__(self, rule_id: str) -> Rule:
        return self._loaded()[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def of_scope(self, scope: Scope) -> tuple[Rule, ...]:
        """The rules of one scope, in registration order."""
        return tuple(r for r in self._loaded().values() if r.scope == scope)


RULES = RuleRegistry()


def rule(
    rule_id: str,
    *,
    title: str,
    severity: str,
    scope: Scope = "incident",
    action: str,
    action_owner: str = SERVICE_OWNER,
    meaning: str,
    followup_satisfies: bool = False,
) -> Callable[[Check], Rule]:
    """Declare and register a rule around its check function (a decorator)."""

    def register(check: Check) -> Rule:
        return RULES.register(
            Rule(
                id=rule_id,
                title=title,
                severity=severity,
                scope=scope,
                action=action,
                action_owner=action_owner,
                meaning=meaning,
                check=check,
                followup_satisfies=followup_satisfies,
            )
        )

    return register
