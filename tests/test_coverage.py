"""What the snapshot covers: months it does not wholly cover are refused or marked, never 0;
incidents still open are counted, with their time so far, and kept out of resolved-time statistics."""

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from review.cli import main
from review.context import Context
from review.errors import ReviewError, SnapshotError
from review.pages import reports
from review.pages.display import Banner, Note
from review.settings.config import load_config, sample_snapshot
from review.snapshot import load_snapshot
from scenarios.generate import generate_snapshot
from tests.render_scenario import SITE

INCIDENTS = """
incidents:
  - key: done
    subject: Portal down for two hours
    created: 2026-10-05T14:00:00Z
    queue: ops-help
    requestor: ann
    fields: {Service: web-portal, Classification: Urgent - Outage}
    steps:
      - {at: 2026-10-05T14:20:00Z, by: dave, owner: dave}
      - {at: 2026-10-05T16:00:00Z, by: dave, status: resolved}
  - key: still-open
    subject: Listings slow, with the storage team
    created: 2026-10-20T12:00:00Z
    queue: ops-help
    requestor: ann
    fields: {Service: file-storage, Classification: Hand-off}
    steps:
      - {at: 2026-10-20T13:00:00Z, by: olga, reply: "Passing to storage."}
      - {at: 2026-10-20T14:00:00Z, by: olga, queue: dev-storage}
  - key: july
    subject: Before the window
    created: 2026-07-10T14:00:00Z
    queue: ops-help
    requestor: ann
    steps:
      - {at: 2026-07-10T15:00:00Z, by: dave, status: resolved}
"""
OCTOBER = {
    "since": "2026-08-01T00:00:00Z",
    "until": "2026-11-01T06:00:00Z",
    "queues": ["ops-help", "dev-storage"],
    "closed_in_window": True,
    "opened_in_window": True,
}


def with_coverage(snapshot: Path, coverage: dict[str, Any] | None) -> Path:
    """Record `coverage` in the manifest, as the pull does (the manifest has no checksum)."""
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest.pop("coverage", None)
    if coverage is not None:
        manifest["coverage"] = coverage
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    return snapshot


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("coverage")
    (root / "scen").mkdir()
    (root / "scen" / "site.yaml").write_text(SITE.replace("HOSTILE_NAME", "Mallory"))
    (root / "scen" / "incidents.yaml").write_text(INCIDENTS)
    # pulled 2026-11-01T06:00:00Z, like the sample
    return generate_snapshot(root / "scen", root / "snap")


@pytest.fixture
def october(scenario: Path) -> Path:
    return with_coverage(scenario, OCTOBER)


def test_coverage_is_read_from_the_manifest_and_checked(october: Path) -> None:
    snapshot = load_snapshot(october)
    assert snapshot.coverage is not None
    assert snapshot.coverage.since == pd.Timestamp("2026-08-01T00:00:00Z")
    assert snapshot.coverage.queues == ("ops-help", "dev-storage")
    assert snapshot.pulled_at == pd.Timestamp("2026-11-01T06:00:00Z")
    for bad, message in (
        ({**OCTOBER, "since": "yesterday"}, "coverage.since must be a UTC time"),
        ({**OCTOBER, "until": "2026-07-01T00:00:00Z"}, "coverage.until must be later than since"),
        ({**OCTOBER, "queues": "ops-help"}, "coverage.queues must be a list"),
        ({**OCTOBER, "opened_in_window": "yes"}, "coverage.opened_in_window must be true or false"),
        (["2026-08-01"], "coverage.is not a table"),
    ):
        with_coverage(october, bad)  # type: ignore[arg-type]
        with pytest.raises(SnapshotError, match=rf"manifest.json: {message}"):
            load_snapshot(october)


def test_a_month_is_covered_only_inside_the_window_and_before_the_pull(october: Path) -> None:
    snapshot, config = load_snapshot(october), load_config(None)
    months = ["2026-07", "2026-08", "2026-10", "2026-11"]
    # New York months: August starts 2026-08-01T04:00Z, inside; November ends after the pull
    assert reports.month_coverage(snapshot, months, config) == {
        "2026-07": False, "2026-08": True, "2026-10": True, "2026-11": False,
    }  # fmt: skip
    reports.require_covered(snapshot, "2026-10", config)
    late = with_coverage(october, {**OCTOBER, "until": "2027-01-01T00:00:00Z"})
    assert not reports.month_coverage(load_snapshot(late), ["2026-11"], config)["2026-11"]
    only_closed = with_coverage(october, {**OCTOBER, "opened_in_window": False})
    assert not reports.month_coverage(load_snapshot(only_closed), ["2026-10"], config)["2026-10"]


def test_an_uncovered_month_is_refused_with_the_window_and_the_pull_that_covers_it(
    october: Path,
) -> None:
    snapshot, config = load_snapshot(october), load_config(None)
    with pytest.raises(ReviewError) as caught:
        reports.require_covered(snapshot, "2026-11", config)
    assert str(caught.value) == (
        f"2026-11 is not wholly covered: the snapshot {october} holds the tickets opened and "
        "closed from 2026-08-01 00:00 to 2026-11-01 06:00 UTC in ops-help, dev-storage. To cover "
        "it (and the 3 months it is compared with): review pull --since 2026-08-01 --until "
        f"2026-12-02 --snapshot {october}; or pass --partial to render it anyway, marked as partial"
    )
    with_coverage(october, None)
    with pytest.raises(ReviewError, match=r"does not record what it covers .* review pull "
                       r"--since 2026-07-01 --until 2026-11-02"):  # fmt: skip
        reports.require_covered(load_snapshot(october), "2026-10", config)


def test_report_and_render_refuse_an_uncovered_month_in_one_line(
    october: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["report", "--month", "2026-11"], ["render", "--month", "2026-11"]):
        with pytest.raises(SystemExit) as caught:
            main([*command, "--snapshot", str(october), "--out", str(tmp_path / "out")])
        assert caught.value.code == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: 2026-11 is not wholly covered")
        assert "review pull --since 2026-08-01 --until 2026-12-02" in err
    assert not (tmp_path / "out" / "2026-11").exists()


def test_an_incident_still_open_has_no_time_in_hand_off_yet(october: Path) -> None:
    metrics = Context(load_snapshot(october), load_config(None)).metrics.set_index("subject")
    still_open = metrics.loc["Listings slow, with the storage team"]
    assert pd.isna(still_open["resolved_at"]) and still_open["handoff_count"] == 1
    assert pd.isna(still_open["time_in_handoff_h"])  # was 0.0: the open stretch has no end
    assert still_open["time_to_triage_h"] == 1.0


def test_monthly_report_counts_open_incidents_and_marks_uncovered_months(october: Path) -> None:
    report = reports.monthly_report_data(october, "2026-10")
    assert report.covered
    assert report.summary.startswith(
        "Monthly report 2026-10: 2 incident(s) opened in the month (America/New_York), "
        "1 resolved and 1 still open at the pull (2026-11-01 01:00 EST); "  # 06:00 UTC: EDT ended
    )
    listed = report.incident_list.set_index("subject")
    row = listed.loc["Listings slow, with the storage team"]
    # open from 2026-10-20 12:00 to the pull 2026-11-01 06:00 UTC: 11 days 18 hours
    assert (row["state"], row["open so far (h)"]) == ("still open", 282.0)
    assert pd.isna(row["time to resolve (h)"])
    done = listed.loc["Portal down for two hours"]
    assert (done["state"], done["time to resolve (h)"]) == ("resolved", 2.0)
    assert pd.isna(done["open so far (h)"])
    stats = report.statistics.set_index(["metric", "hours"])
    resolve = stats.loc[("time to resolve", "wall-clock hours")]
    assert (resolve["incidents"], resolve["median"]) == (1, 2.0)
    assert resolve["includes"] == "resolved incidents; 1 still open left out"
    assert stats.loc[("time in hand-off", "wall-clock hours"), "incidents"] == 0
    triage = stats.loc[("time to triage", "wall-clock hours")]
    assert (triage["incidents"], triage["median"]) == (2, 0.67)  # (1 h + 20 min) / 2, rounded
    comparison = report.comparison.set_index("month")
    assert list(comparison["incidents"]) == ["not covered", 0, 0, 2]  # July had one: unknown
    assert list(comparison["covered"]) == ["no", "yes", "yes", "yes"]
    assert pd.isna(comparison.loc["2026-07", "time to resolve median (h)"])
    assert isinstance(report.coverage_banner(), Note)


def test_a_partial_month_carries_a_banner(october: Path) -> None:
    with_coverage(october, {**OCTOBER, "until": "2026-10-15T00:00:00Z"})
    report = reports.monthly_report_data(october, "2026-10")
    assert not report.covered
    assert report.summary.startswith("PARTIAL (the snapshot does not cover the month) - ")
    banner = report.coverage_banner()
    assert isinstance(banner, Banner)
    assert "Partial report: the snapshot" in banner._repr_html_()
    assert "does not wholly cover 2026-10" in banner.text
    assert report.comparison.set_index("month").loc["2026-10", "incidents"] == "2 (partial)"
    assert report.comparison.set_index("month").loc["2026-10", "covered"] == "partial"


@pytest.mark.slow
def test_partial_renders_the_report_with_a_banner_and_uncovered_months_as_such(
    october: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_coverage(october, {**OCTOBER, "until": "2026-10-15T00:00:00Z"})
    out = tmp_path / "reports"
    main(["report", "--month", "2026-10", "--partial", "--snapshot", str(october),
          "--out", str(out)])  # fmt: skip
    page = (out / "2026-10" / "monthly.html").read_text()
    assert 'role="alert"' in page and "Partial report: the snapshot" in page
    assert "PARTIAL (the snapshot does not cover the month)" in page
    assert re.search(r"<td[^>]*>not covered</td>", page)  # July, in the comparison table
    assert "still open" in page and ">Open so far (h)</th>" in page


def test_the_bundled_sample_is_never_the_pull_that_covers_a_month(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample = sample_snapshot()
    with pytest.raises(ReviewError) as caught:
        reports.require_covered(load_snapshot(sample), "2026-11", load_config(None))
    assert (
        "review pull --since 2026-08-01 --until 2026-12-02 --snapshot data/interim/rt-current;"
        in str(caught.value)
    )
    with pytest.raises(SystemExit) as exited:
        main(["pull", "--since", "2026-08-01", "--until", "2026-12-02", "--snapshot", str(sample)])
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert err.strip() == (
        f"error: --snapshot {sample} is the bundled sample, which a pull never replaces: "
        "give a new directory, e.g. --snapshot data/interim/rt-current"
    )


def test_tickets_that_left_the_pulled_queues_are_a_mismatch_everywhere(
    october: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pull records the tickets of its window now in a queue it did not take
    (coverage.moved_out); every number lacks them, so every command says so (a real RT:
    tests/rt/test_realsite_rt.py)."""
    with_coverage(october, {**OCTOBER, "moved_out": {"41": "Security", "7": "#12"}})
    snapshot = load_snapshot(october)
    assert snapshot.coverage is not None
    assert snapshot.coverage.moved_out == ((7, "#12"), (41, "Security"))
    with pytest.raises(SystemExit):
        main(["check", "--no-rt", "--snapshot", str(october)])
    line = (
        "mismatch: tickets of the pull's window that left its queues for a queue the pull did "
        "not take on ticket(s) 7, 41 (ticket 7 is in #12; ticket 41 is in Security): they are "
        "in no number: add that queue to [queues] (or review pull --queue) and pull again"
    )
    assert line in capsys.readouterr().out.splitlines()
    main(["metrics", "--snapshot", str(october), "--format", "csv"])
    assert f"warning: {line}" in capsys.readouterr().err.splitlines()
    # the monthly report shows the problems of its own incidents: these are none of them,
    # and may be any month's of the window, so every month shows them
    report = reports.monthly_report_data(str(october), "2026-10")
    assert [p.kind for p in report.problems if p.tickets] == ["moved-out"]
    assert report.summary.startswith("The data cannot back some numbers in 1 way(s): ")
    for bad in (["41"], {"x": "Security"}, {"41": 12}):
        with_coverage(october, {**OCTOBER, "moved_out": bad})
        with pytest.raises(SnapshotError, match=r"coverage\.moved_out must map ticket ids"):
            load_snapshot(october)


def test_history_rt_hid_from_the_pull_is_a_mismatch_everywhere(
    october: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pull records that RT hid rows of the histories from its account (comments without
    ShowTicketComments: coverage.hidden_history); not only the pull says so (a real RT:
    tests/rt/test_realsite_rt.py)."""
    main(["metrics", "--snapshot", str(october), "--format", "csv"])
    assert "RT hid rows" not in capsys.readouterr().err
    with_coverage(october, {**OCTOBER, "hidden_history": True})
    main(["metrics", "--snapshot", str(october), "--format", "csv"])
    assert (
        "warning: mismatch: RT hid rows of the pulled tickets' histories from the pull's "
        "account (most likely comments: it lacks ShowTicketComments or ShowOutgoingEmail): what "
        "reads comments (the hand-off OLA, the reviews' communication logs and key moments) is "
        "short of them: grant those rights and pull again with --full"
    ) in capsys.readouterr().err.splitlines()
    with_coverage(october, {**OCTOBER, "hidden_history": "yes"})
    with pytest.raises(SnapshotError, match=r"coverage\.hidden_history must be true or false"):
        load_snapshot(october)
