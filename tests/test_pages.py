"""How pages show things: headers people read, numbers right, one time zone, one palette."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.colors import to_hex

from review.pages import figures, palette, reports
from review.pages.display import PageHeader, html_table, rt_ticket_url
from review.pages.times import local_times_in_text
from review.settings.config import Config, sample_snapshot


class Cells(HTMLParser):
    """The header texts, the rows' cell texts and each cell's style, parsed from a table."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.styles: list[list[str]] = []
        self.links: list[str] = []
        self._cell: str | None = None
        self._tag = ""
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
            self.styles.append([])
        if tag in ("td", "th"):
            self._cell, self._tag = "", tag
            self.styles[-1].append(dict(attrs).get("style") or "")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            (self.headers if self._tag == "th" else self.rows[-1]).append(self._cell)
            self._cell = None


def test_tables_have_human_headers_words_for_flags_and_numbers_on_the_right() -> None:
    frame = pd.DataFrame(
        {
            "ticket_id": [7, 8],
            "how_to_observe": ["<b>field</b>", "x"],
            "review_overdue": [True, False],
            "gap_days": [3.0, None],
            "time to resolve (h)": [2.5, 10.0],
            "not-validated": [1, 0],
            "line": [12, 13],
        }
    )
    page = Cells(html_table(frame, links={"ticket_id": "incident-{}.html"}))
    assert page.headers == [
        "Ticket", "How to make it observable", "Registry review overdue", "Gap (days)",
        "Time to resolve (h)", "not-validated",
    ]  # fmt: skip
    body = [r for r in page.rows if r]
    assert body == [
        ["7", "<b>field</b>", "Yes", "3", "2.50", "1"],
        ["8", "x", "No", "", "10.00", "0"],
    ]
    assert page.links == ["incident-7.html", "incident-8.html"]
    styles = [s for s in page.styles if s][1]  # the first row of cells
    right = ["text-align:right" in s for s in styles]
    assert right == [True, False, False, True, True, True]


def test_numbers_written_as_text_are_right_aligned_too() -> None:
    page = Cells(html_table(pd.DataFrame({"value": ["2.00", "", "10"], "unit": ["h", "h", "h"]})))
    assert ["text-align:right" in s for s in page.styles[1]] == [True, False]


def test_utc_times_in_evidence_are_shown_in_the_calendar_zone(config: Config) -> None:
    texts = pd.Series(["closed by txn 803 at 2026-10-15T16:40:00Z", "2026-01-15T16:40:00Z; none"])
    assert local_times_in_text(texts, config).tolist() == [
        "closed by txn 803 at 2026-10-15 12:40 EDT",
        "2026-01-15 11:40 EST; none",
    ]


def test_page_header_links_to_the_index_and_rt_and_names_the_page() -> None:
    url = rt_ticket_url("https://rt.example.edu/REST/2.0/", 51)
    assert url == "https://rt.example.edu/Ticket/Display.html?id=51"
    assert rt_ticket_url("sample", 51) == ""
    header = PageHeader("Post-incident review: Ticket 51: <x>", "../index.html", {"RT": url})
    page = Cells(header._repr_html_())
    assert page.links == ["../index.html", url]
    data, metadata = header._repr_mimebundle_()
    assert metadata == {"review_title": "Post-incident review: Ticket 51: <x>"}
    assert "&lt;x&gt;" in data["text/html"] and "<x>" not in data["text/html"]


def _bar_colors(ax: Any) -> dict[str, str]:
    """Each bar series' label (a rule) and its colour."""
    return {c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in ax.containers}


def test_a_rule_has_the_same_colour_in_every_findings_chart() -> None:
    one = pd.DataFrame({"service": ["a", "a", "b"], "rule": ["not-validated", "never-triaged",
                                                             "not-validated"]})  # fmt: skip
    two = pd.DataFrame({"service": ["c"], "rule": ["not-validated"]})
    first = _bar_colors(figures.findings_chart(one).axes[0])
    second = _bar_colors(figures.findings_chart(two).axes[0])
    assert first["not-validated"] == second["not-validated"] == palette.RULE_COLORS["not-validated"]
    assert first["never-triaged"] == palette.RULE_COLORS["never-triaged"]
    assert first["never-triaged"] != first["not-validated"]


def test_a_classification_and_a_queue_keep_their_colour(config: Config) -> None:
    by_class = pd.DataFrame(
        {"classification": ["Hand-off", "Urgent - Outage"], "incidents": [2, 1]}
    )
    by_service = pd.DataFrame({"service": ["vpn"], "incidents": [3]})
    ax = figures.counts_chart(by_class, by_service, config).axes[0]
    colors = [to_hex(p.get_facecolor()) for p in ax.patches]
    # bars bottom-up: the last row first
    assert colors == [palette.CLASSIFICATION_COLORS["urgent_outage"],
                      palette.CLASSIFICATION_COLORS["handoff"]]  # fmt: skip
    assert palette.queue_color("dev-storage", config) == palette.DEV_QUEUE_COLORS[2]
    assert palette.queue_color("ops-help", config) == palette.OPS_QUEUE_COLORS[0]


def test_an_empty_chart_says_so_without_axes() -> None:
    empty = pd.DataFrame({"classification": [], "incidents": []})
    fig = figures.counts_chart(empty, pd.DataFrame({"service": [], "incidents": []}))
    assert all(not ax.axison for ax in fig.axes)
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["no incidents"] * 2


def test_a_comparison_of_months_without_incidents_says_so() -> None:
    report = reports.monthly_report_data(None, "2026-07")  # the sample starts in August
    fig = figures.monthly_comparison(report.comparison, statistics=report.month_stats)
    assert [ax.axison for ax in fig.axes] == [False] * 4
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["no incidents in these months"] + ["no durations to compare"] * 3
    assert report.summary.startswith("PARTIAL (the snapshot does not cover the month) - ")
    assert "Monthly report 2026-07: no incidents opened in the month (America/New_York); " in (
        report.summary
    )


def test_an_incident_review_links_to_its_ticket_in_the_rt_it_was_pulled_from(
    tmp_path: Path,
) -> None:
    snapshot = tmp_path / "snap"
    shutil.copytree(sample_snapshot(), snapshot)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["source"] = "https://rt.example.edu/REST/2.0/"
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    header = reports.incident_review_data(snapshot, 51).header()
    page = Cells(header._repr_html_())
    assert page.links == ["../index.html", "https://rt.example.edu/Ticket/Display.html?id=51"]
    assert (
        header.title == "Post-incident review: Ticket 51: Snapshots missing for /projects volumes"
    )
    sample = reports.incident_review_data(None, 51).header()
    assert Cells(sample._repr_html_()).links == ["../index.html"]  # not from RT: no link
