"""The rule registry: one declaration per rule, looked up by id, in registration order."""

from __future__ import annotations

import pandas as pd
import pytest

from review.closeout.rules import RULES, SERVICE_OWNER, Rule, RuleRegistry


def test_built_in_rules_in_order_with_their_scope() -> None:
    assert list(RULES) == [
        "unknown-service-owner", "ad-hoc-support-team", "comms-channels-undefined",
        "temporary-fix-no-followup", "not-validated", "missed-daily-update",
        "handoff-not-announced", "never-triaged", "no-owner-at-close",
    ]  # fmt: skip
    assert [r.id for r in RULES.of_scope("service")] == [
        "unknown-service-owner", "ad-hoc-support-team", "comms-channels-undefined",
    ]  # fmt: skip
    assert [r.id for r in RULES.values() if r.followup_satisfies] == ["temporary-fix-no-followup"]
    assert RULES["never-triaged"].action_owner == "Operations (ops-help)"
    assert RULES["no-owner-at-close"].action_owner == SERVICE_OWNER


def _rule(rule_id: str, severity: str = "low") -> Rule:
    return Rule(
        id=rule_id, title="t", severity=severity, scope="incident", action="a",
        action_owner=SERVICE_OWNER, meaning="m", check=lambda audit: pd.DataFrame(),
    )  # fmt: skip


def test_a_rule_registers_once_with_a_known_severity() -> None:
    registry = RuleRegistry()
    registry.register(_rule("x"))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(_rule("x"))
    with pytest.raises(ValueError, match="bad severity"):
        registry.register(_rule("y", severity="urgent"))
    assert list(registry._rules) == ["x"]
