"""Every rule against its own cases (tests/rules/<rule_id>.yaml): one generic test.

A rule is one module of review/closeout/rules/ named after it, with a docstring that
documents it; its cases file says, worked out by hand, every finding it makes on
tests/fixtures/gaps and every sample incident it fires on. Nothing here names a rule.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest

import review.closeout.rules as rules_package
from review.closeout.rule import SEVERITIES, SEVERITY_RANK, Rule
from review.closeout.rules import RULES, SERVICE_RULES
from tests.rule_cases import Finding, case_files, rule_cases

README = Path(__file__).resolve().parent.parent / "README.md"


def _as_findings(frame: pd.DataFrame) -> list[Finding]:
    rows = frame[["ticket_id", "rule", "evidence", "action_owner"]].itertuples(index=False)
    return [Finding(int(t), str(r), str(e), str(o)) for t, r, e, o in rows]


def test_every_rule_is_one_documented_module_with_its_own_cases() -> None:
    assert case_files() == sorted(RULES), "a rule without tests/rules/<id>.yaml, or the reverse"
    modules = {p.stem for p in Path(rules_package.__file__).parent.glob("[!_]*.py")}
    assert modules == {r.replace("-", "_") for r in RULES}
    for rule_id, rule in RULES.items():
        module = importlib.import_module(f"review.closeout.rules.{rule_id.replace('-', '_')}")
        declared = [v for v in vars(module).values() if isinstance(v, Rule)]
        assert declared == [rule], f"{module.__name__} declares exactly its own rule"
        assert rule.doc == module.__doc__
        assert rule.doc.split("\n\n")[1].strip(), f"{rule_id}: document it below the first line"


def test_rules_iterate_in_their_declared_order() -> None:
    orders = [r.order for r in RULES.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert tuple(r for r in RULES if RULES[r].scope == "service") == SERVICE_RULES
    assert list(SEVERITY_RANK) == list(SEVERITIES)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_on_the_hand_made_incidents(rule_id: str, findings: pd.DataFrame) -> None:
    cases = rule_cases(rule_id)
    assert cases.fixture, f"{rule_id} must fire on tests/fixtures/gaps somewhere"
    assert _as_findings(findings.loc[findings["rule"] == rule_id]) == list(cases.fixture)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_on_the_sample(rule_id: str, sample_findings: pd.DataFrame) -> None:
    cases = rule_cases(rule_id)
    mine = sample_findings.loc[sample_findings["rule"] == rule_id]
    assert tuple(mine["ticket_id"]) == cases.sample_tickets
    got = {f.ticket: f for f in _as_findings(mine)}
    for want in cases.sample:
        assert got[want.ticket] == want


def _in_rule_order(cases: list[Finding]) -> list[Finding]:
    place = {r: i for i, r in enumerate(RULES)}
    return sorted(cases, key=lambda f: (f.ticket, place[f.rule]))


def test_findings_are_every_rules_cases_by_ticket_then_rule(
    findings: pd.DataFrame, sample_findings: pd.DataFrame
) -> None:
    fixture = [f for r in RULES for f in rule_cases(r).fixture]
    assert _as_findings(findings) == _in_rule_order(fixture)
    sample = [(t, r) for r in RULES for t in rule_cases(r).sample_tickets]
    place = {r: i for i, r in enumerate(RULES)}
    got = list(zip(sample_findings["ticket_id"], sample_findings["rule"], strict=True))
    assert got == sorted(sample, key=lambda tr: (tr[0], place[tr[1]]))


def test_the_readme_rule_table_is_the_registry() -> None:
    """The README's table of rule ids lists every rule, in order, and nothing else."""
    text = README.read_text()
    table = text[text.index("| rule | fires when | action |") :].split("\n\n")[0]
    ids = [line.split("`")[1] for line in table.splitlines()[2:]]
    assert ids == list(RULES)
