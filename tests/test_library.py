"""The review library (index.html): every incident with its review's state, the months the
snapshot covers in words, escaped ticket text, and a page that loads and runs nothing else."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from review.closeout.followups import followup_frame
from review.context import Context, open_context
from review.pages import library, written
from review.pages.reports import PAGES
from review.pages.written import SignOff, WrittenReview


@pytest.fixture(scope="module")
def sample() -> Context:
    return open_context(None, None)


def test_one_row_per_incident_with_its_review(sample: Context, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    final = WrittenReview(
        ticket_id=60,
        status="final",
        status_at="2026-10-30T16:40:00Z",
        signoffs=(
            SignOff("service owner", "Nate", "2026-10-29T00:00:00Z", "stale"),
            SignOff("business owner", "Lee", "2026-10-29T00:00:00Z", ""),
        ),
    )
    written.save(written.review_path(out, 60), final)
    written.save(written.review_path(out, 62), WrittenReview(ticket_id=62))

    frame = library.library_frame(sample, out).set_index("ticket_id")

    assert len(frame) == 61 and list(frame.index[:3]) == [62, 61, 60]  # newest first
    row = frame.loc[62]
    # by hand from the sample: opened 10-30 20:40, resolved 10-31 15:30 UTC (18 h 50 min);
    # three findings (ad-hoc-support-team, comms-channels-undefined, not-validated); a draft
    # review waiting since the resolution until the pull (11-01 06:00): 14.5 h, 0 whole days
    assert (row["month"], row["service"], row["classification"], row["status"]) == (
        "2026-10", "file-storage", "Urgent - Degraded", "resolved",
    )  # fmt: skip
    assert round(row["time_to_resolve_h"], 2) == 18.83
    assert (row["findings"], row["followups_open"], row["review"]) == (3, 0, "draft")
    assert row["review_waited_days"] == 0
    # 60: resolved 10-27 16:40, final 10-30 16:40: waited 3 days; one owner signed other data
    assert (frame.loc[60, "review"], frame.loc[60, "review_waited_days"]) == ("final", 3)
    assert frame.loc[60, "review_note"] == (
        "the incident's data changed since the service owner's sign-off"
    )
    assert frame.loc[61, "review"] == "missing"


def test_open_follow_ups_count_for_each_incident_they_refer_to() -> None:
    def item(number: int, status: str, refers: tuple[int, ...]) -> dict[str, object]:
        return {
            "id": str(number), "Subject": f"[followup:r:ticket/{refers[0]}] x", "Status": status,
            "_hyperlinks": [{"ref": "refers-to", "type": "ticket", "id": str(i)} for i in refers],
        }  # fmt: skip

    frame = followup_frame(
        [item(1, "open", (5, 9)), item(2, "new", (9,)), item(3, "resolved", (5,))]
    )
    counts = library.open_per_incident(frame, ["resolved", "rejected"])
    assert counts.sort_index().to_dict() == {5: 1, 9: 2}
    assert library.open_per_incident(None, ["resolved"]).empty


def test_the_months_a_snapshot_covers_and_an_empty_one_in_words(
    sample: Context, tmp_path: Path
) -> None:
    config = sample.config
    # September without its incidents: a month the snapshot covers in which none was opened
    quiet = sample.metrics.loc[sample.metrics["opened_at"].dt.month != 9]
    months = library.months_frame(sample.snapshot, config, quiet)
    assert months[["month", "incidents", "covered"]].values.tolist() == [
        ["2026-11", 0, "part"],  # the pull at 11-01 06:00 UTC is 01:00 EST: one hour of it
        ["2026-10", 20, "whole"],
        ["2026-09", 0, "whole"],
        ["2026-08", 22, "whole"],
        ["2026-07", 0, "part"],  # the window starts 08-01 00:00 UTC, 07-31 20:00 EDT
    ]
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "monthly.html").write_text("report")
    monthly = [PAGES["monthly"]]  # the pages there is one of per month
    shown = "\n".join(library.months_html(months, sample.snapshot, config, tmp_path, monthly))
    assert "<li><b>2026-09</b>: no incidents were opened</li>" in shown
    assert (
        '<li><b>2026-10</b>: 20 incidents opened · <a href="2026-10/monthly.html">Monthly '
        "report</a></li>"
    ) in shown
    assert (
        "<li><b>2026-07</b>: covered only from 2026-07-31 20:00 EDT to 2026-08-01 00:00 EDT: "
        "no incidents were opened then</li>"
    ) in shown


def test_ticket_text_is_escaped_and_the_page_runs_only_its_own_script(
    sample: Context, tmp_path: Path
) -> None:
    frame = library.library_frame(sample, tmp_path)
    hostile = frame.assign(
        subject=frame["subject"].where(frame["ticket_id"] != 62, '<img src=x onerror=alert(1)>"')
    )
    body = library.table_html(hostile, sample.config, {62: '<a href="2026-10/x.html">r</a>'}, [])
    page = library.page_html(["<h1>t</h1>"], body)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;&quot;" in page
    assert "Wiki macro renders &lt;script&gt;alert(1)&lt;/script&gt; literally" in page
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    allowed = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert (
        policy[1] == f"default-src 'none'; script-src 'sha256-{allowed}'; style-src 'unsafe-inline'"
    )
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from outside
    rows = re.findall(r'<tr data-review="([^"]*)">', page)
    assert len(rows) == 61 and set(rows) == {"missing"}


def test_an_empty_snapshot_says_so(sample: Context, tmp_path: Path) -> None:
    stages = {
        "metrics": sample.metrics.iloc[0:0],
        "findings": sample.findings,
        "review_data": sample.review_data,
    }
    empty = Context(sample.snapshot, sample.config, stages=stages)
    frame = library.library_frame(empty, tmp_path)
    assert frame.empty
    assert "<p>No incidents in the snapshot.</p>" in library.table_html(
        frame, sample.config, {}, []
    )
    assert pd.Series(library.COLUMNS).isin(frame.columns).all()
