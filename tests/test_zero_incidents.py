"""Zero incidents is a valid answer: a quiet month, or every ticket dropped as malformed."""

import json
from pathlib import Path

import pytest

from review.analysis.metrics import METRIC_COLUMNS
from review.cli import main
from review.context import Context
from review.pages import figures, reports
from review.settings.config import load_config
from review.snapshot import load_snapshot, read_jsonl, write_snapshot

SAMPLE = Path(__file__).parent.parent / "data" / "sample"


@pytest.fixture(params=["quiet", "all-malformed"])
def no_incidents(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A snapshot of the sample's queues and users with no usable ticket."""
    tickets = [] if request.param == "quiet" else [{"id": 7, "Subject": "no status or queue"}]
    return write_snapshot(
        tmp_path / "snap",
        tickets,
        [],
        read_jsonl(SAMPLE / "queues.jsonl"),
        read_jsonl(SAMPLE / "users.jsonl"),
        source="t",
        query="q",
        pulled_at="2026-11-01T06:00:00Z",
        coverage={
            "since": "2026-10-01T00:00:00Z",
            "until": "2026-11-01T06:00:00Z",
            "queues": ["ops-help"],
            "closed_in_window": True,
            "opened_in_window": True,
        },
    )


def test_metrics_of_no_incidents_is_an_empty_table(no_incidents: Path) -> None:
    metrics = Context(load_snapshot(no_incidents), load_config(None)).metrics
    assert list(metrics.columns) == METRIC_COLUMNS
    assert len(metrics) == 0


@pytest.mark.parametrize("command", ["metrics", "gaps", "support-gaps", "sla"])
def test_commands_answer_zero_rows(
    no_incidents: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--today", "2026-11-02"] if command == "support-gaps" else []
    main([command, "--snapshot", str(no_incidents), "--format", "json", *extra])
    rows = json.loads(capsys.readouterr().out)
    if command == "support-gaps":  # every registered service, none with an incident
        assert rows and all(row["incidents"] == 0 for row in rows)
    else:
        assert rows == []


def test_reports_of_no_incidents(no_incidents: Path) -> None:
    monthly = reports.monthly_report_data(no_incidents, "2026-10")
    assert len(monthly.incidents) == 0
    assert monthly.covered  # a quiet month, wholly pulled: 0 is the answer
    assert monthly.summary.startswith("Monthly report 2026-10: no incidents opened in the month")
    assert list(monthly.statistics["incidents"]) == [0] * 6
    support = reports.support_gaps_data(no_incidents, today="2026-11-02")
    assert support.incidents == 0 and len(support.findings) == 0
    # and every figure of the two notebooks draws (empty) instead of failing
    figures.counts_chart(monthly.counts_by_classification, monthly.counts_by_service)
    figures.duration_distributions(monthly.incidents, title="none")
    figures.monthly_comparison(monthly.comparison)
    figures.findings_chart(monthly.findings, title="none")
    figures.gap_age_chart(support.table)
    monthly.incident_links()


@pytest.mark.slow
def test_the_report_of_a_snapshot_with_rows_left_out_warns_about_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = write_snapshot(
        tmp_path / "snap",
        [{"id": 7, "Subject": "no status or queue"}],
        [],
        read_jsonl(SAMPLE / "queues.jsonl"),
        read_jsonl(SAMPLE / "users.jsonl"),
        source="t",
        query="q",
        pulled_at="2026-11-01T06:00:00Z",
        coverage={"since": "2026-10-01T00:00:00Z", "until": "2026-11-01T06:00:00Z",
                  "queues": ["ops-help"], "closed_in_window": True, "opened_in_window": True},
    )  # fmt: skip
    main(["report", "--month", "2026-10", "--snapshot", str(snapshot),
          "--out", str(tmp_path / "out")])  # fmt: skip
    assert capsys.readouterr().err == (
        f"warning: {snapshot}/tickets.jsonl:1: missing one of id, Status, Queue, Created; "
        "row left out\n"
    )  # cron mails it: the report lacks a ticket
    assert (tmp_path / "out" / "2026-10" / "monthly.html").is_file()
