"""The close-out rules: one module each, found here by iterating the package.

A rule is one file, review/closeout/rules/<rule_id>.py (hyphens as underscores), whose
docstring is its documentation and which declares one Rule (review.closeout.rule) around
its check. Its expected findings live in tests/rules/<rule_id>.yaml, read by one generic
test. A new rule adds those two files and edits no list: findings, the checklist,
`review support-gaps`, follow-ups and `review follow-ups --rule` read RULES, in the
order the rules declare.
"""

from __future__ import annotations

from review.closeout.rule import Rule
from review.settings.registries import Registry

RULES: Registry[Rule] = Registry[Rule]("rule", lambda r: r.id).discover(
    __name__, Rule, lambda r: r.order
)
# the Close Out checks senior staff act on per service, not per ticket, in rule order
SERVICE_RULES = tuple(r.id for r in RULES.values() if r.scope == "service")
