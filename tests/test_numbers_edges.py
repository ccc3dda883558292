"""Numbers at their edges, from small scenarios whose values are worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from review.context import Context
from review.settings.config import load_config
from review.snapshot import load_snapshot
from scenarios.generate import generate_snapshot

SITE = {
    "rtname": "example",
    "queues": [{"name": "ops-help"}, {"name": "dev-web"}],
    "custom_fields": ["Service", "Classification"],
    "staff": [{"name": "ann", "email": "ann@example.edu"}],
    "customers": [{"name": "cust", "email": "cust@example.org"}],
}


def context_of(
    tmp: Path, steps: list[dict[str, Any]], created: str, fields: dict[str, str] | None = None
) -> Context:
    """The context of one incident opened in ops-help at `created` by cust."""
    scenario = tmp / "scenario"
    scenario.mkdir()
    (scenario / "site.yaml").write_text(yaml.safe_dump(SITE))
    incident = {"key": "edge", "subject": "edge", "created": created, "queue": "ops-help",
                "requestor": "cust", "fields": fields or {}, "steps": steps}  # fmt: skip
    (scenario / "incidents.yaml").write_text(yaml.safe_dump({"incidents": [incident]}))
    snapshot = load_snapshot(generate_snapshot(scenario, tmp / "snapshot"))
    return Context(snapshot, load_config())


def metrics_of(tmp: Path, steps: list[dict[str, Any]], created: str) -> pd.DataFrame:
    """The metrics of one incident opened in ops-help at `created` by cust."""
    return context_of(tmp, steps, created).metrics


def test_a_close_and_reopen_in_one_second_keeps_the_silence_after_it(tmp_path: Path) -> None:
    """Opened Tue 13:00Z, staff reply 14:00, resolved 15:00 and reopened in the same second,
    the next staff reply 28 h later (Wed 19:00), resolved 20:00: the longest silence while
    open is 15:00 -> 19:00 next day, 28 h. Points of one time were ordered closes last, so
    the reopen came before the close and the 28 h after it counted as closed time (1.0)."""
    found = metrics_of(
        tmp_path,
        [
            {"after": "1h", "by": "ann", "reply": "looking"},
            {"after": "1h", "by": "ann", "status": "resolved"},
            {"after": "0s", "by": "ann", "status": "open"},
            {"after": "28h", "by": "ann", "reply": "still on it"},
            {"after": "1h", "by": "ann", "status": "resolved"},
        ],
        "2026-08-04T13:00:00Z",
    )
    assert found["reopen_count"].tolist() == [1]
    assert found["max_update_gap_h"].tolist() == [28.0]
    assert found["time_to_resolve_h"].tolist() == [31.0]


def test_a_deadline_missed_by_a_minute_never_reads_as_missed_by_0_0_h() -> None:
    """Resolved 12:31 for a 12:30 deadline: 1/60 h late. Hours to one decimal said 'missed:
    resolved 0.0 h after it'; a triage 2 min 24 s after opening read 'Triaged 0.0 h'."""
    from review.pages import what_happened
    from review.pages.times import duration_text

    config = load_config()
    sla = {"sla": "urgent", "resolve_due_at": pd.Timestamp("2026-08-11T12:30:00Z"),
           "resolved_at": pd.Timestamp("2026-08-11T12:31:00Z"), "resolve_breached": True}  # fmt: skip
    assert what_happened._deadlines(sla, config).endswith("was missed: resolved 1 min after it.")
    row = {"triaged_at": pd.Timestamp("2026-08-11T12:02:24Z"), "time_to_triage_h": 0.04,
           "time_to_triage_bh": 0.0}  # fmt: skip
    assert what_happened._triage(row, None, config).startswith(
        "Triaged 2 min after it was opened (0.0 business hours);"
    )
    assert [duration_text(h) for h in (0.0, 0.5 / 60, 2.99 / 60, 0.05, 0.96)] == [
        "0.0 h", "under 1 min", "2 min", "0.1 h", "1.0 h",
    ]  # fmt: skip
    assert duration_text(1 / 60, "business hours") == "1 business minute"


def test_a_silence_a_minute_over_the_limit_is_not_written_as_the_limit(tmp_path: Path) -> None:
    """An urgent incident: staff replies 13:10Z and 24 h 1 min later (24.0167 h > 24 h). The
    finding read 'no staff update for 24.0 h (limit 24 h)': a breach shown as the limit."""
    found = context_of(
        tmp_path,
        [
            {"after": "10m", "by": "ann", "reply": "on it"},
            {"after": "24h1m", "by": "ann", "reply": "still"},
            {"after": "1h", "by": "ann", "status": "resolved"},
        ],
        "2026-08-04T13:00:00Z",
        {"Classification": "Urgent - Outage"},
    ).findings
    [evidence] = found.loc[found["rule"] == "missed-daily-update", "evidence"]
    assert evidence.startswith("no staff update for 24.02 h (limit 24 h) between txn 104")
    from review.closeout.audit import hours_to_limit

    hours = pd.Series([24.004, 24.0, 23.96, 30.0, 8.049])
    assert hours_to_limit(hours, 24).tolist() == ["just over 24", "24.0", "24.0", "30.0", "8.0"]


def test_a_statistic_of_a_minute_or_two_never_reads_as_zero() -> None:
    """Six triages of 1, 1, 1, 2, 2, 2 minutes: median 1.5 min = 0.025 h, its interval the
    1st to 6th values (0.017-0.033 h). One decimal wrote '0.0 h median (95% interval
    0.0-0.0 h)'; 9.96 h wrote '10.0' where 10 and more are whole."""
    from review.analysis.stats import _hours, month_statistics, sentences

    values = [1 / 60, 1 / 60, 1 / 60, 2 / 60, 2 / 60, 2 / 60]
    metrics = pd.DataFrame({"month": "2026-10", "time_to_triage_h": values})
    for column in ("time_to_triage_bh", "time_to_resolve_h", "time_to_resolve_bh",
                   "time_in_handoff_h", "time_in_handoff_bh"):  # fmt: skip
        metrics[column] = float("nan")
    frame = month_statistics(metrics, ["2026-10"], {"2026-10": True, "2026-09": True})
    said = sentences(frame, "2026-10").set_index("metric").loc["time to triage", "sentence"]
    assert said.startswith("time to triage: 0.025 h median (95% interval 0.017-0.033 h)")
    assert [_hours(v) for v in (0.0, 9.96, 0.049, -0.01, 0.05)] == [
        "0.0", "10", "0.049", "-0.01", "0.1",
    ]  # fmt: skip


def test_a_triage_of_minutes_is_not_shown_as_0_0_h_on_the_figure_or_the_library() -> None:
    """Triages of 1, 2 and 3 minutes: median 2 min, p90 2.8 min (linear interpolation:
    2 + 0.8 x 1). The duration figure's caption said 'median 0.0 h, p90 0.0 h'; the
    library's time-to-resolve cell of a ticket resolved in 2 minutes said '0.0 h'."""
    from review.analysis.metrics import DURATIONS
    from review.pages import figures, library

    metrics = pd.DataFrame({c: [float("nan")] * 3 for m in DURATIONS.values() for c in m.columns})
    metrics["time_to_triage_h"] = [1 / 60, 2 / 60, 3 / 60]
    fig = figures.duration_distributions(metrics)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "wall-clock: median 2 min, p90 2 min (dotted)" in texts
    frame = pd.DataFrame(
        {"ticket_id": [10], "opened_at": ["2026-08-10T13:30:00Z"], "subject": ["s"],
         "service": ["web"], "classification": ["Hand-off"], "status": ["resolved"],
         "time_to_resolve_h": [2 / 60], "findings": [0], "followups_open": [0],
         "review": ["missing"], "review_waited_days": [3], "review_signed": [""],
         "review_note": [""]}
    )  # fmt: skip
    body = "".join(library.table_html(frame, load_config(), {10: "r"}, []))
    assert '<td class="n" data-sort="0.0333">2 min</td>' in body
