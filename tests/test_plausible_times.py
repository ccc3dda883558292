"""Impossible times never reach a number (issue 22): a time before RT existed, before its
ticket was created or after the pull is left out, what it feeds is empty with the reason,
commands print one line per kind naming the tickets, and the incident's page says so.

Inputs: the real RT example (tests/fixtures/rt-example), hand-edited. Its metrics, worked
out by hand in tests/metrics/*.yaml: ticket 1 opened 2026-09-08 13:05Z, first staff reply
txn 60 at 13:20Z (triage 0.25 h), owner taken txn 64 at 13:26Z, handed off txn 66, resolved
09-10 12:00Z (46.92 h, 15.92 business), 1 hand-off (22.17 h, 6 business), 1 owner change,
1 reopen, longest gap 20.75 h (the day resolved before the reopen not counted). Ticket 2 opened 09-14 14:00Z, taken txn 94 at 15:00Z (1 h),
rejected txn 101 at 09-16 11:00Z (45 h, 15 business), 1 owner change, gap 45 h.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review.analysis import quality
from review.analysis.problems import DataProblem
from review.cli import main
from review.context import Context, open_context
from review.pages.reports import incident_review_data, monthly_report_data
from review.settings.config import load_config, sample_snapshot
from review.snapshot import load_snapshot, plausible
from tests.edited import EXAMPLE, Rows, edited, stamp, txn, unbacked_lines

CONFIG = load_config(None)
TICKET_1 = {"resolved_at": pd.Timestamp("2026-09-10T12:00:00Z"), "time_to_resolve_h": 46.92,
            "time_to_resolve_bh": 15.92, "handoff_count": 1, "time_in_handoff_h": 22.17,
            "time_in_handoff_bh": 6.0, "tech_lead_handoffs": 1, "reopen_count": 1}  # fmt: skip
TICKET_2 = {"triaged_at": pd.Timestamp("2026-09-14T15:00:00Z"), "time_to_triage_h": 1.0,
            "time_to_triage_bh": 1.0, "handoff_count": 0, "tech_lead_handoffs": 1}  # fmt: skip


def ours(problems: list[DataProblem]) -> list[DataProblem]:
    """The problems review.analysis.quality finds (not the config's fit)."""
    return [p for p in problems if p.kind in quality.KINDS]


def metrics(snapshot_dir: Path) -> pd.DataFrame:
    return Context(load_snapshot(snapshot_dir), CONFIG).metrics.set_index("ticket_id")


def assert_values(row: pd.Series, expected: dict[str, object]) -> None:
    for key, value in expected.items():
        if isinstance(value, float):
            assert row[key] == pytest.approx(value, abs=0.01), key
        else:
            assert row[key] == value, key


def assert_empty(row: pd.Series, keys: list[str]) -> None:
    for key in keys:
        assert pd.isna(row[key]), f"{key} = {row[key]!r}, not empty"


def test_the_one_definition() -> None:
    at = pd.Series(pd.to_datetime(["1995-12-31T23:59:59Z", "2026-09-08T13:04:59Z",
                                   "2026-09-08T13:05:00Z", "2026-11-27T10:49:13Z", None],
                                  utc=True))  # fmt: skip
    created = pd.Series(pd.Timestamp("2026-09-08T13:05:00Z"), index=at.index)
    why = plausible.why_implausible(at, created, pd.Timestamp("2026-11-27T10:49:12Z"))
    assert list(why) == ["before-rt", "before-creation", "", "after-pull", "missing"]
    assert list(plausible.why_implausible(at, None, None)) == ["before-rt", "", "", "", "missing"]


def test_a_reply_before_the_ticket_was_created_leaves_triage_empty_not_negative(
    tmp_path: Path,
) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", stamp(60, "2026-09-08T12:50:00Z"))
    found = metrics(snap)
    # before: triaged_at 12:50Z, time to triage -0.25 h
    assert_empty(found.loc[1], ["triaged_at", "time_to_triage_h", "time_to_triage_bh",
                                "max_update_gap_h"])  # fmt: skip
    assert_values(found.loc[1], TICKET_1)
    assert_values(found.loc[2], TICKET_2)
    context = open_context(snap)
    rules = set(context.findings.loc[context.findings["ticket_id"] == 1, "rule"])
    assert "never-triaged" not in rules  # it was triaged; when is unknown
    assert "missed-daily-update" not in rules  # not observable: a reply's time is unknown
    steps = context.checklist.loc[context.checklist["ticket_id"] == 1].set_index("step")
    daily = steps.loc["daily updates in an extended outage"]
    assert daily["state"] == "not observable"
    assert (
        "txn 60 (reply) at 2026-09-08T12:50:00Z is before its ticket was created"
        in (daily["evidence"])
    )


def test_a_close_before_the_ticket_was_created_leaves_resolve_empty(tmp_path: Path) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", stamp(101, "2026-09-13T11:00:00Z"))
    found = metrics(snap)
    # before: resolved 09-13 11:00Z, time to resolve -27 h (wall) and negative business hours
    assert_empty(found.loc[2], ["resolved_at", "time_to_resolve_h", "time_to_resolve_bh",
                                "reopen_count", "max_update_gap_h"])  # fmt: skip
    assert_values(found.loc[2], TICKET_2)  # triage was the owner taken: still 1 h
    assert_values(found.loc[1], TICKET_1)


def test_a_reply_in_the_year_9999_is_no_gap_of_70_million_hours(tmp_path: Path) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", stamp(71, "9999-01-01T00:00:00Z"))
    found = metrics(snap)
    assert_empty(found.loc[1], ["max_update_gap_h", "triaged_at", "time_to_triage_h"])
    assert_values(found.loc[1], TICKET_1)
    events = open_context(snap).events
    assert events["at"].max() < pd.Timestamp("2026-11-27T10:49:12Z")  # no 9999 on a timeline


@pytest.mark.parametrize(
    "when",
    [
        "1970-01-01T00:00:00Z",
        "2026-09-31T13:20:00Z",
        "2026-09-08T13:20:60Z",
        "2026-9-8T13:20:00Z",
        "2026-09-08 13:20:00Z",
        "2026-09-08T13:20Z",
        "2026-09-08T14:20:00+01:00",
    ],
)
def test_a_reply_at_no_time_is_no_reply_at_all(tmp_path: Path, when: str) -> None:
    """RT's unset date (1970-01-01) was read as no time and the reply left out at load with a
    line, so triage silently moved to the owner taken at 13:26Z (0.35 h). Arrow's parse
    carried 31 September into 1 October (the reply then came after the resolve) and 13:20:60
    into 13:21:00, and read '2026-9-8' as 8 September: the reply (txn 60) triaged at a time
    nobody wrote. Each is no time: what it feeds is empty, with the reason. The last three
    are times Arrow's ISO 8601 cast reads (parse.timestamps reads a column of such with it),
    but not written as RT writes them: no time either, as strptime had them."""
    snap = edited(EXAMPLE, tmp_path / "s", stamp(60, when))
    found = metrics(snap)
    assert_empty(found.loc[1], ["triaged_at", "time_to_triage_h", "max_update_gap_h"])
    assert_values(found.loc[1], TICKET_1)
    [problem] = ours(open_context(snap).problems)
    assert problem.kind == "time-missing" and problem.tickets == (1,)
    assert "txn 60 (reply) has a Created that is not a time" in problem.text


def test_a_comment_before_rt_existed_is_reported_and_changes_no_number(tmp_path: Path) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", stamp(63, "1995-06-30T12:00:00Z"))
    pd.testing.assert_frame_equal(metrics(snap), metrics(EXAMPLE))
    problems = ours(open_context(snap).problems)
    assert [(p.kind, p.tickets) for p in problems] == [("time-before-rt", (1,))]
    assert "txn 63 (comment) at 1995-06-30T12:00:00Z is before RT existed (1996)" in (
        problems[0].text
    )


@pytest.mark.parametrize(
    ("created", "why"),
    [("1994-02-01T09:00:00Z", "before RT existed (1996)"),
     ("2026-12-01T09:00:00Z", "after the snapshot was pulled")],
)  # fmt: skip
def test_a_ticket_created_at_an_impossible_time_is_left_out_with_a_line(
    tmp_path: Path, created: str, why: str
) -> None:
    def edit(rows: Rows) -> None:
        rows["tickets.jsonl"][1]["Created"] = created

    snapshot = load_snapshot(edited(EXAMPLE, tmp_path / "s", edit))
    assert list(snapshot.tickets["ticket_id"]) == [1]
    assert f"ticket 2: Created {created} is {why}; ticket left out" in [
        p.message for p in snapshot.problems if p.file == "tickets.jsonl"
    ]
    assert list(snapshot.transactions["ticket_id"].unique()) == [1]


def test_the_command_prints_one_line_per_kind_naming_the_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(rows: Rows) -> None:
        for step in (stamp(60, "2026-09-08T12:50:00Z"), stamp(101, "2026-09-13T11:00:00Z"),
                     stamp(71, "9999-01-01T00:00:00Z")):  # fmt: skip
            step(rows)

    snap = edited(EXAMPLE, tmp_path / "s", edit)
    with pytest.raises(SystemExit) as done:
        main(["metrics", "--snapshot", str(snap), "--format", "csv"])
        raise SystemExit(0)
    assert done.value.code == 0
    out, err = capsys.readouterr()
    lines = unbacked_lines(err)
    assert len(lines) == 2
    assert lines[0].startswith(
        "warning: mismatch: transaction times before their ticket was created on ticket(s) 1, 2 "
        "(txn 60 (reply) at 2026-09-08T12:50:00Z is before its ticket was created; txn 101 "
        "(status) at 2026-09-13T11:00:00Z is before its ticket was created)"
    )
    assert lines[1].startswith(
        "warning: mismatch: transaction times after the snapshot was pulled on ticket(s) 1 "
        "(txn 71 (reply) at 9999-01-01T00:00:00Z is after the snapshot was pulled)"
    )
    assert "-0.25" not in out and "-27.0" not in out


def test_no_deadline_is_met_or_missed_on_a_history_that_lacks_its_reply(tmp_path: Path) -> None:
    from review.settings.config import sample_snapshot

    def sla(snap: Path) -> pd.DataFrame:
        return open_context(snap).sla.set_index("ticket_id")

    # the sample's ticket 1: replied 16:00Z (txn 106), an hour after it was created
    snap = edited(sample_snapshot(), tmp_path / "s", stamp(106, "2026-08-01T14:00:00Z"))
    before, after = sla(sample_snapshot()).loc[1], sla(snap).loc[1]
    assert not before["response_breached"] and not before["resolve_breached"]
    for column in quality.SLA_VERDICTS:  # was: response not breached, with no reply at all
        assert pd.isna(after[column]), column
    assert sla(snap).drop(index=1).equals(sla(sample_snapshot()).drop(index=1))
    said = " ".join(incident_review_data(snap, 1).what_happened().sentences)
    assert "is still running" not in said and "deadline" in said
    assert "cannot be judged" in said


def test_check_and_summaries_call_bad_data_bad_data_not_a_config_misfit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from review.settings.config import sample_snapshot

    def last_line(snap: Path) -> str:
        with pytest.raises(SystemExit) as done:
            main(["check", "--snapshot", str(snap)])
        assert done.value.code == 1
        return capsys.readouterr().err.splitlines()[-1]

    # the sample fits the config: its one mismatch is ticket 2's reply stamped 9999
    snap = edited(sample_snapshot(), tmp_path / "s", stamp(129, "9999-01-01T00:00:00Z"))
    # before: "the config does not fit the data: ... (`review init` drafts a config ...)"
    assert last_line(snap) == (
        "error: the data cannot back some numbers: 1 mismatch(es) above (fix them in RT and "
        "pull again; until then the numbers they take away are empty)"
    )
    assert monthly_report_data(snap, "2026-08").summary.startswith(
        "The data cannot back some numbers in 1 way(s): see the data-quality note. "
    )
    # the example also misfits the default config once: both said, each with its fix
    example = edited(EXAMPLE, tmp_path / "e", stamp(71, "9999-01-01T00:00:00Z"))
    assert last_line(example) == (
        "error: the config does not fit the data: 2 mismatch(es) above (`review init` drafts a "
        "config from the data; fix the data's own problems in RT)"
    )
    assert (
        "The config does not fit the data in 1 way(s), and the data cannot back some numbers in "
        "1 way(s): see the data-quality note. "
    ) in monthly_report_data(example, "2026-09").summary


def test_the_incident_page_says_what_is_not_measured_and_why(tmp_path: Path) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", stamp(60, "2026-09-08T12:50:00Z"))
    review = incident_review_data(snap, 1)
    shown = review.metrics.set_index("metric")["value (wall-clock h)"]
    reason = "not measured: txn 60 (reply) at 2026-09-08T12:50:00Z is before its ticket was created"
    assert shown["triaged at"] == reason
    assert shown["time to triage"] == reason
    assert shown["time to resolve"] == "46.92"
    note = review.data_quality()
    assert note is not None and "before their ticket was created on ticket(s) 1" in repr(note)
    # the example as dumped: its backdated link runs backwards (test_backwards_times.py)
    assert [p.kind for p in ours(incident_review_data(EXAMPLE, 1).problems)] == ["time-backwards"]


def test_what_happened_says_triage_is_not_measured_not_never_triaged(tmp_path: Path) -> None:
    # the example's ticket 2: triaged when its owner was set (txn 94); stamped before creation
    snap = edited(EXAMPLE, tmp_path / "s", stamp(94, "2026-09-14T13:00:00Z"))
    said = " ".join(incident_review_data(snap, 2).what_happened().sentences)
    assert "Never triaged" not in said  # before: "Never triaged: no staff owner, ..."
    assert (
        "Time to triage not measured: txn 94 (owner) at 2026-09-14T13:00:00Z is before its "
        "ticket was created." in said
    )
    assert "the response deadline" not in said or "cannot be judged" in said
    assert "Triaged 1.0 h after it was opened" in " ".join(
        incident_review_data(EXAMPLE, 2).what_happened().sentences
    )


def test_review_stats_median_leaves_out_an_impossible_triage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An August incident of the sample whose first staff reply is stamped an hour before it
    was created: the month's n drops by one and the median is that of the others."""
    sample = metrics(sample_snapshot())
    august = sample.loc[sample["opened_at"].dt.strftime("%Y-%m") == "2026-08"]
    rows_before = {}

    def edit(rows: Rows) -> None:
        replies = [t for t in rows["transactions.jsonl"] if t["Type"] == "Correspond"
                   and int(t["ObjectId"]) in august.index
                   and pd.Timestamp(t["Created"]) == august.loc[int(t["ObjectId"]), "triaged_at"]]  # fmt: skip
        first = replies[0]
        rows_before["ticket"] = int(first["ObjectId"])
        created = august.loc[rows_before["ticket"], "opened_at"] - pd.Timedelta(hours=1)
        txn(rows, int(first["id"]))["Created"] = f"{created:%Y-%m-%dT%H:%M:%SZ}"

    snap = edited(sample_snapshot(), tmp_path / "s", edit)
    others = august.drop(index=rows_before["ticket"])["time_to_triage_h"].dropna()

    def stats(snapshot_dir: Path) -> dict[str, object]:
        with pytest.raises(SystemExit):
            main(["stats", "--month", "2026-08", "--compare", "0", "--format", "json",
                  "--snapshot", str(snapshot_dir)])  # fmt: skip
            raise SystemExit(0)
        rows = json.loads(capsys.readouterr().out)
        return next(r for r in rows if (r["metric"], r["clock"]) == ("time_to_triage", "wall"))

    before, after = stats(sample_snapshot()), stats(snap)
    assert after["n"] == before["n"] - 1 == len(others)
    assert after["median_h"] == pytest.approx(float(np.median(others)))
    report = monthly_report_data(snap, "2026-08")
    triage = report.statistics.set_index(["metric", "hours"]).loc[
        ("time to triage", "wall-clock hours")
    ]
    assert triage["incidents"] == len(others)
    assert triage["includes"].endswith("; 1 not measured (data the note above names)")
    assert f"on ticket(s) {rows_before['ticket']} (" in repr(report.data_quality())
