"""Every line of the support-gap report agrees with the findings it summarises (issue 22): a
service whose owner the page calls unknown has the unknown-owner finding, and a permanent
team is never told to "establish permanent support" for people outside it who worked an
incident; the action says what the findings are about, in words.

Inputs: the bundled sample with its registry (mail-lists: no service_owner in the registry,
though its tickets' Service Owner field says Messaging; web-portal: a permanent team that an
outsider owned one incident of), and a registry of my own (vpn's owner blanked; wiki made
permanent with Wendy alone, so Walt, who owned its incidents, is outside the team).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from review.closeout.rules import RULES
from review.closeout.rules.ad_hoc_support_team import OUTSIDERS_ACTION
from review.pages import reports
from review.settings.config import project_dir

TODAY = "2026-11-30"
PERMANENT_SUPPORT = "establish permanent support responsibilities"


def agree(report: reports.SupportGapsReport) -> pd.DataFrame:
    """The per-service table, checked line by line against the findings."""
    table = report.table.set_index("service")
    counts = report.rule_counts.set_index("service")
    findings = report.findings
    for service, row in table.iterrows():
        mine = findings.loc[findings["service"] == service]
        # "owner: unknown / none in the registry" only with the finding that says so
        if row["service_owner"] == "" and row["incidents"] > 0:
            assert counts.loc[service, "unknown-service-owner"] == row["incidents"], service
        if row["service_owner"] != "":
            assert counts.loc[service, "unknown-service-owner"] == 0, service
        # the action is what the service's findings ask for
        if len(mine):
            assert any(a in row["recommended_action"] for a in mine["action"]), service
        if row["support_assignment"] == "permanent":
            assert PERMANENT_SUPPORT not in row["recommended_action"], service
    return table


def test_the_sample_report_agrees_with_its_findings() -> None:
    report = reports.support_gaps_data(None, today=TODAY)
    table = agree(report)
    lists = report.findings.loc[
        (report.findings["service"] == "mail-lists")
        & (report.findings["rule"] == "unknown-service-owner")
    ]
    # before: 0 findings, while the page said "owner: unknown"
    assert len(lists) == table.loc["mail-lists", "incidents"] == 9
    assert set(lists["evidence"].str.replace(r"\(data/services.yaml:\d+\)", "", regex=True)) == {
        "registry entry 'mail-lists'  has no service_owner (custom field 'Service Owner' says "
        "'Messaging': confirm it and record it)"
    }
    assert table.loc["web-portal", "recommended_action"] == OUTSIDERS_ACTION
    page = report.services()._repr_html_()
    assert "owner: none in the registry" in page
    assert RULES["unknown-service-owner"].title in page  # findings named in words, not ids


def test_my_registry_agrees_with_its_findings(tmp_path: Path) -> None:
    text = (project_dir() / "data" / "services.yaml").read_text()
    text = text.replace("    service_owner: Network Services\n", '    service_owner: ""\n')
    wiki = text.index("  - service: wiki")
    text = text[:wiki] + text[wiki:].replace(
        "    tech_leads: [walt]\n    support_team: [walt]\n    support_assignment: temporary",
        "    tech_leads: [wendy]\n    support_team: [wendy]\n    support_assignment: permanent",
        1,
    )
    registry = tmp_path / "services.yaml"
    registry.write_text(text)
    report = reports.support_gaps_data(None, today=TODAY, registry=registry)
    table = agree(report)
    vpn = table.loc["vpn"]
    assert vpn["service_owner"] == "" and vpn["incidents"] == 10
    assert vpn["recommended_action"] == RULES["unknown-service-owner"].action
    wiki_row = table.loc["wiki"]
    assert wiki_row["support_assignment"] == "permanent"
    assert wiki_row["recommended_action"] == OUTSIDERS_ACTION
