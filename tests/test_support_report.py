"""`review support-report --registry --today`, as `review support-gaps` takes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.cli import main
from review.closeout.rules import RULES
from review.pages import reports
from review.settings.config import project_dir
from tests.metric_cases import sample_incidents
from tests.rule_cases import sample_total

PAYROLL = """
  - service: payroll-export
    service_owner: Finance Systems
    business_owner: Payroll Office
    tech_leads: [fiona]
    support_team: [fiona]
    support_assignment: permanent
    announce_lists: [payroll-announce@example.edu]
    support_lists: [payroll-support@example.edu]
    queues: []
    last_reviewed: 2026-11-01
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """The sample registry with payroll-export (unregistered in the sample) registered."""
    path = tmp_path / "services.yaml"
    path.write_text((project_dir() / "data" / "services.yaml").read_text() + PAYROLL)
    return path


def test_another_registry_and_day_change_the_report(registry: Path) -> None:
    default = reports.support_gaps_data(None, today="2026-11-30")
    other = reports.support_gaps_data(None, today="2026-11-30", registry=registry)
    before = default.table.set_index("service").loc["payroll-export"]
    after = other.table.set_index("service").loc["payroll-export"]
    assert before["support_assignment"] == "unregistered"
    assert after["support_assignment"] == "permanent"
    # its 3 incidents no longer find an unknown owner
    payroll = [i["ticket"] for i in sample_incidents().values() if i["service"] == "payroll-export"]
    assert len(payroll) == 3
    found = sample_total(list(RULES), payroll)
    assert (before["findings"], after["findings"]) == (found, found - 3)
    assert (
        other.rule_counts.set_index("service").loc["payroll-export", "unknown-service-owner"] == 0
    )
    # the gap has stood from 25 August: 6 + 30 + 31 + 30 days to 30 November
    assert after["gap_days"] == 97


@pytest.mark.slow
def test_support_report_takes_registry_and_today(registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    main(
        ["support-report", "--registry", str(registry), "--today", "2026-11-30", "--out", str(out)]
    )
    notebook = json.loads((out / "support-gaps.ipynb").read_text())
    outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
    printed = "".join(  # printed text and displayed prose (the summary is a Prose)
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/html", ""))
        for o in outputs
    )
    # every finding of the sample (the rules' cases), but payroll-export's three
    # unknown-service-owner ones: it is registered here, with an owner
    total = sample_total(list(RULES)) - 3
    assert f"{total} close-out finding(s) across 7 service(s)" in printed
    injected = next(
        "".join(c["source"])
        for c in notebook["cells"]
        if "injected-parameters" in c["metadata"].get("tags", [])
    )
    assert 'today = "2026-11-30"' in injected and str(registry.resolve()) in injected


def test_a_missing_registry_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["support-report", "--registry", str(tmp_path / "nope.yaml"), "--out", str(tmp_path)])
    assert exit_.value.code == 1
    assert capsys.readouterr().err == f"error: --registry {tmp_path / 'nope.yaml'}: no such file\n"
