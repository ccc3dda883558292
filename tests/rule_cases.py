"""Each rule's expected findings, from tests/rules/<rule_id>.yaml (one file per rule).

A case file holds the rule's every finding on tests/fixtures/gaps (`fixture`), every
sample incident it fires on (`sample.tickets`) and some sample findings in full
(`sample.findings`). Tests read the cases of all rules from here, so a new rule adds its
own file and edits no shared list.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from review.analysis.timeline import build_events
from review.closeout.registry import Registry
from review.context import Context
from review.settings.config import Config, source_dir
from review.snapshot import load_snapshot
from tests.evidence import entry, unpin_frame

CASES = Path(__file__).parent / "rules"
GAP_REGISTRY = Path(__file__).parent / "fixtures" / "gaps" / "services.yaml"
SAMPLE_REGISTRY = source_dir("data") / "services.yaml"
ENTRY = re.compile(r"\{entry ([^}]+)\}")


@dataclass(frozen=True)
class Finding:
    ticket: int
    rule: str
    evidence: str
    action_owner: str


@dataclass(frozen=True)
class RuleCases:
    rule: str
    fixture: tuple[Finding, ...]  # every finding on tests/fixtures/gaps, in ticket order
    sample_tickets: tuple[int, ...]  # every sample incident it fires on
    sample: tuple[Finding, ...]  # sample findings worked out in full


def _findings(
    rule: str, rows: list[dict] | None, registry: Path, shown: str
) -> tuple[Finding, ...]:
    def fill(text: str) -> str:
        return ENTRY.sub(lambda m: entry(registry, m[1], shown), text)

    return tuple(
        Finding(int(r["ticket"]), rule, fill(str(r["evidence"])), str(r["action_owner"]))
        for r in rows or []
    )


@cache
def rule_cases(rule: str) -> RuleCases:
    """The cases of one rule (tests/rules/<rule>.yaml)."""
    data = yaml.safe_load((CASES / f"{rule}.yaml").read_text())
    assert set(data) == {"fixture", "sample"}, f"tests/rules/{rule}.yaml: fixture and sample"
    sample = data["sample"]
    return RuleCases(
        rule,
        _findings(rule, data["fixture"], GAP_REGISTRY, "tests/fixtures/gaps/services.yaml"),
        tuple(int(t) for t in sample["tickets"]),
        _findings(rule, sample.get("findings"), SAMPLE_REGISTRY, "data/services.yaml"),
    )


def case_files() -> list[str]:
    """The rule ids that have a case file."""
    return sorted(p.stem for p in CASES.glob("*.yaml"))


def sample_total(rules: list[str], tickets: Collection[int] | None = None) -> int:
    """How many findings the sample holds, summed over `rules`' case files (on `tickets`
    only, when given)."""
    return sum(
        1 for r in rules for t in rule_cases(r).sample_tickets if tickets is None or t in tickets
    )


def audit(directory: Path, config: Config, registry: Registry) -> pd.DataFrame:
    """The findings of a snapshot, their transaction ids checked against the events and left out."""
    snapshot = load_snapshot(directory)
    events = build_events(snapshot, config)
    findings = Context(snapshot, config, stages={"registry": registry}).findings
    return unpin_frame(findings, events)
