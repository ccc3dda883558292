"""The figures: readable for a 2-hour and a 10-day incident, ticket text never mathtext,
and every chart drawable with no data."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

from review.pages import figures
from review.pages.display import notebook_setup
from review.pages.reports import incident_review_data, monthly_report_data
from tests.render_scenario import HOSTILE_SUBJECT, HOSTILE_TICKET, LONG_TICKET, make_snapshot

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("scenario"))


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _draw(fig: Figure, path: Path) -> None:
    fig.savefig(path)
    assert path.stat().st_size > 10_000


def test_two_hour_timeline_has_lanes_marks_and_minute_ticks(snapshot: Path, tmp_path: Path) -> None:
    notebook_setup()
    review = incident_review_data(snapshot, HOSTILE_TICKET)
    fig = figures.review_timeline(review)
    _draw(fig, tmp_path / "two-hours.png")
    ax = fig.axes[0]
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert lanes == [
        "queue", "owner", "status", "staff reply", "requestor reply", "comment", "fields, links",
    ]  # fmt: skip
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert any(":" in t for t in ticks)  # hours and minutes for a 2-hour incident
    texts = _texts(fig)
    assert "ops-help" in texts and "dave" in texts and " triaged" in texts
    # the subject, with its $...$ and <script>, is a title of plain text
    assert any(HOSTILE_SUBJECT[:40] in t for t in texts)
    title = next(t for t in fig.findobj(matplotlib.text.Text) if "alert(1)" in t.get_text())
    assert title.get_parse_math() is False
    marks = {
        line.get_marker(): len(line.get_xdata()) for line in ax.get_lines() if line.get_marker()
    }
    assert marks["^"] == 1 and marks["o"] == 1  # one staff reply, one comment


def test_ten_day_timeline_has_day_ticks_and_shaded_nights(snapshot: Path, tmp_path: Path) -> None:
    review = incident_review_data(snapshot, LONG_TICKET)
    fig = figures.review_timeline(review)
    _draw(fig, tmp_path / "ten-days.png")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 5 <= len(ticks) <= 14 and not any(":" in t for t in ticks)  # days, not hours
    texts = _texts(fig)
    assert "dev-storage" in texts and "sara" in texts
    # off hours: before the first morning, 8 nights (one of them the weekend), after the end
    assert len(ax.patches) == 10
    marks = {
        line.get_marker(): len(line.get_xdata()) for line in ax.get_lines() if line.get_marker()
    }
    assert marks["^"] == 2 and marks["v"] == 1 and marks["o"] == 1


def test_dollar_signs_and_markup_do_not_break_drawing(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "at": pd.to_datetime(["2026-10-05T14:15:00Z"]),
            "kind": ["reply"],
            "actor": ["staff"],
        }
    )
    segments = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-10-05T14:00:00Z"]),
            "end": pd.Series([pd.NaT], dtype="datetime64[s, UTC]"),
            "queue": ["ops-help"],
            "status": ["open"],
            "owner": ["$unbalanced {owner"],  # mathtext would fail on this
        }
    )
    from review.settings.config import load_config

    fig = figures.incident_timeline(
        segments, events, load_config(), pd.Timestamp("2026-10-05T18:00:00Z"),
        title="costs $5 and $x^2$ \\frac{1}{2} <b>bold</b>",
    )  # fmt: skip
    _draw(fig, tmp_path / "dollars.png")
    assert "$unbalanced {owner" in _texts(fig)


def test_monthly_figures(snapshot: Path, tmp_path: Path) -> None:
    report = monthly_report_data(snapshot, "2026-10")
    fig = figures.duration_distributions(report.incidents, title="October")
    _draw(fig, tmp_path / "distributions.png")
    labels = [t.get_text() for t in fig.axes[2].get_xticklabels()]
    assert "1d" in labels and "1w" in labels  # plain duration labels, not mathtext powers
    assert not any("$" in t for t in _texts(fig))
    assert any("median 121.0 h, p90 216.2 h" in t for t in _texts(fig))
    _draw(figures.monthly_comparison(report.comparison), tmp_path / "comparison.png")
    _draw(
        figures.counts_chart(report.counts_by_classification, report.counts_by_service),
        tmp_path / "counts.png",
    )


def test_charts_with_no_data_say_so(tmp_path: Path) -> None:
    empty = pd.DataFrame(columns=["ticket_id", "service", "rule"])
    assert "no findings" in _texts(figures.findings_chart(empty))
    assert "nothing to show" in _texts(figures.gap_age_chart(pd.DataFrame({"service": []})))
    metrics = pd.DataFrame(
        {f"{k}_{u}": pd.Series(dtype=float) for k in figures_durations() for u in ("h", "bh")}
    )
    fig = figures.duration_distributions(metrics)
    assert _texts(fig).count("no incidents") == 3
    assert [ax.axison for ax in fig.axes] == [False] * 3  # no axes that mean nothing
    assert fig.get_figheight() == 1.4  # one line of words, not an empty 3.6 in chart
    fig.savefig(tmp_path / "empty.png")


def test_findings_chart_stacks_rules_per_service(tmp_path: Path) -> None:
    findings = pd.DataFrame(
        {
            "ticket_id": [1, 2, 3, 4],
            "service": ["vpn", "vpn", "wiki", "$pay<roll>"],
            "rule": ["not-validated", "never-triaged", "not-validated", "not-validated"],
        }
    )
    fig = figures.findings_chart(findings)
    _draw(fig, tmp_path / "findings.png")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "vpn" and "$pay<roll>" in labels  # most findings on top


def test_a_month_whose_incidents_are_all_open_does_not_say_no_incidents() -> None:
    """Three incidents, triaged, none handed off or resolved at the pull: the hand-off and
    resolve panels say none of the three counted and that all three are open."""
    metrics = pd.DataFrame(
        {f"{k}_{u}": [0.5, 1.0, 2.0] if k == "time_to_triage" else [float("nan")] * 3
         for k in figures_durations() for u in ("h", "bh")}
    ).assign(resolved_at=pd.Series([pd.NaT] * 3, dtype="datetime64[ns, UTC]"))  # fmt: skip
    texts = _texts(figures.duration_distributions(metrics))
    assert "no incidents" not in texts
    assert texts.count("none of the month's 3 incident(s) counted\n(3 still open)") == 2
    assert "wall-clock hours (n=3)" in texts  # time to triage is drawn


def figures_durations() -> list[str]:
    from review.analysis.metrics import DURATIONS

    return list(DURATIONS)


def test_nights_are_shaded_across_a_dst_change_whatever_the_opening_hour() -> None:
    """A calendar opening at 01:00, a time the end of DST repeats (and 02:30, one its start
    skips): the shading is drawn from real openings and closings (it raised before)."""
    import dataclasses
    from datetime import time

    from review.settings.config import load_config

    config = load_config(None)
    every_day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    calendar = dataclasses.replace(
        config.calendar, start=time(1), end=time(9), workdays=every_day, holidays_country=""
    )
    night = dataclasses.replace(config, calendar=calendar)
    utc = pd.Timestamp
    off = figures._off_hours(utc("2026-10-31T12:00Z"), utc("2026-11-01T12:00Z"), night)
    # Sat 01:00-09:00 EDT (05-13Z); Sun from the first 01:00 EDT (05Z) to 09:00 EST (14Z);
    # the view runs from Sat 00:00 EDT (04Z) to Mon 00:00 EST (05Z)
    assert [(a.tz_convert("UTC"), b.tz_convert("UTC")) for a, b in off] == [
        (utc("2026-10-31T04:00Z"), utc("2026-10-31T05:00Z")),
        (utc("2026-10-31T13:00Z"), utc("2026-11-01T05:00Z")),
        (utc("2026-11-01T14:00Z"), utc("2026-11-02T05:00Z")),
    ]
    spring = dataclasses.replace(night, calendar=dataclasses.replace(calendar, start=time(2, 30)))
    off = figures._off_hours(utc("2026-03-08T12:00Z"), utc("2026-03-08T12:00Z"), spring)
    # Sun 2026-03-08: 02:30 does not exist, the day opens at 03:00 EDT (07Z), closes 09:00 (13Z)
    assert [(a.tz_convert("UTC"), b.tz_convert("UTC")) for a, b in off] == [
        (utc("2026-03-08T05:00Z"), utc("2026-03-08T07:00Z")),
        (utc("2026-03-08T13:00Z"), utc("2026-03-09T04:00Z")),
    ]
