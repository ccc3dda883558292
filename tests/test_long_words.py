"""A long unbroken run (a pasted URL, a hash, a log line) in ticket or written text breaks
where it must, so no page scrolls sideways: a 400-character subject made every review, the
monthly report and the index as wide as it (the index 6,459 px at a 1280 px window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from review.pages import library
from review.pages.display import PageHeader, Prose, html_table
from review.pages.render.files import html_from_node
from review.settings.config import load_config
from review.text import unbroken
from tests.prerequisites import BROWSER, require

LONG = "W" * 400  # wider than any window
WIDTH = 1280


def test_only_a_run_too_long_for_a_line_may_break_anywhere() -> None:
    assert unbroken("x" * 24) and unbroken("see " + "a/" * 12 + " now")
    assert not unbroken("x" * 23) and not unbroken("Mail to lists over 10 MB bounced")
    assert not unbroken("two-factor authentication fails for 3 accounts")
    table = html_table(pd.DataFrame({"subject": [LONG, "Mail to lists over 10 MB bounced"]}))
    cells = table.split("<td ")[1:]
    assert "overflow-wrap:anywhere" in cells[0] and LONG in cells[0]
    assert "overflow-wrap:anywhere" not in cells[1]  # ordinary words wrap between them


def _notebook() -> dict[str, Any]:
    """A review page's parts with LONG in each: header, table, sentences, written text."""

    def shown(display: Any) -> dict[str, Any]:
        return {"output_type": "display_data", "metadata": {},
                "data": {"text/html": display._repr_html_(), "text/plain": "x"}}  # fmt: skip

    outputs = [
        shown(PageHeader(f"Ticket 10: {LONG}", "../index.html")),
        shown(Prose(f"It began with {LONG}.")),
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": html_table(pd.DataFrame({"ticket_id": [10], "subject": [LONG],
                                                        "service": ["mail-lists"]})),
                  "text/plain": "x"}},
    ]  # fmt: skip
    return {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "code", "id": "c", "metadata": {}, "source": "", "execution_count": 1,
             "outputs": outputs},
            {"cell_type": "markdown", "id": "summary", "metadata": {"tags": ["written"]},
             "source": f"## Summary\n\nThe log said {LONG}\n\n- {LONG}"},
        ],
    }  # fmt: skip


@pytest.mark.slow  # a browser
def test_no_page_scrolls_sideways_for_a_long_word(tmp_path: Path) -> None:
    require(*BROWSER)
    import nbformat
    from playwright.sync_api import sync_playwright

    review = tmp_path / "incident-10.html"
    review.write_bytes(html_from_node(nbformat.from_dict(_notebook()), "incident-10"))
    frame = pd.DataFrame(
        {"ticket_id": [10], "opened_at": ["2026-08-10T13:30:00Z"], "subject": [LONG],
         "service": [LONG], "classification": ["Hand-off"], "status": ["resolved"],
         "time_to_resolve_h": [2.0], "findings": [1], "followups_open": [0],
         "review": ["missing"], "review_waited_days": [3], "review_signed": [""],
         "review_note": [LONG]}
    )  # fmt: skip
    index = tmp_path / "index.html"
    body = library.table_html(frame, load_config(None), {10: "not rendered"}, [])
    index.write_text(library.page_html([f"<h1>{LONG}</h1>"], body), "utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        for path in (review, index):
            page.goto(path.as_uri())
            seen = page.evaluate(
                """() => ({width: document.documentElement.scrollWidth,
                  wide: [...document.querySelectorAll('body *')].filter(e =>
                    ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                    && e.scrollWidth > e.clientWidth + 1).map(e => e.tagName),
                  text: document.body.innerText})"""
            )
            assert seen["width"] <= WIDTH, path.name
            assert seen["wide"] == [], path.name
            assert seen["text"].count(LONG) >= 3, path.name  # every character still shown
        browser.close()
