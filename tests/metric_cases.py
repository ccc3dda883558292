"""Each metric's expected values, from tests/metrics/<key>.yaml (one file per metric).

A case file holds, worked out by hand, the metric's value for every incident of two
snapshots: `rt-example` (tests/fixtures/rt-example, by ticket id) and `sample` (the bundled
sample generated from data/scenarios, by scenario key; tests/fixtures/sample-incidents.yaml
gives each key's ticket id). A new metric adds its own file and edits no shared table.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
CASES = HERE / "metrics"
SAMPLE_INCIDENTS = HERE / "fixtures" / "sample-incidents.yaml"
EXAMPLE = HERE / "fixtures" / "rt-example"
SCENARIOS = HERE.parent / "data" / "scenarios"
SNAPSHOTS = ("rt-example", "sample")


@cache
def sample_incidents() -> dict[str, dict[str, Any]]:
    """The sample's incidents by scenario key: ticket, queue, service, classification."""
    found: dict[str, dict[str, Any]] = yaml.safe_load(SAMPLE_INCIDENTS.read_text())
    return found


@cache
def metric_cases(key: str) -> dict[str, dict[int, Any]]:
    """Metric `key`'s expected value per ticket id, per snapshot (SNAPSHOTS)."""
    data = yaml.safe_load((CASES / f"{key}.yaml").read_text())
    assert set(data) == set(SNAPSHOTS), f"tests/metrics/{key}.yaml: {', '.join(SNAPSHOTS)}"
    tickets = {k: int(v["ticket"]) for k, v in sample_incidents().items()}
    unknown = set(data["sample"]) - set(tickets)
    assert not unknown, f"tests/metrics/{key}.yaml: no such sample incident {sorted(unknown)}"
    return {
        "rt-example": {int(t): v for t, v in data["rt-example"].items()},
        "sample": {tickets[k]: v for k, v in data["sample"].items()},
    }


def case_files() -> list[str]:
    """The metric keys that have a case file."""
    return sorted(p.stem for p in CASES.glob("*.yaml"))
