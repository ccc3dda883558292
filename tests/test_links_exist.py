"""Pages link only to pages that exist (issue 22): `review render N --force` without --html
took incident-N.html away while the monthly report and the support-gap report still linked to
it; a support report rendered before any review linked to reviews never rendered.

Input: the small render scenario (tests/render_scenario.py): ticket 1 opened in September,
tickets 2 and 3 in October 2026; close-out findings on tickets 1 and 3.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from review.cli import main
from tests.render_scenario import make_snapshot

HREF = re.compile(r'href="([^"#]+)"')


def review(*args: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(list(args))
        raise SystemExit(0)
    assert done.value.code == 0


def dangling(page: Path) -> list[str]:
    """The links of an HTML page that lead to no file."""
    targets = [t for t in HREF.findall(page.read_text()) if not t.startswith(("http:", "https:"))]
    return [t for t in targets if not (page.parent / t).is_file()]


def test_every_link_leads_to_a_page_that_exists(tmp_path: Path) -> None:
    snapshot = str(make_snapshot(tmp_path))
    out = tmp_path / "reports"
    common = ["--snapshot", snapshot, "--out", str(out), "--jobs", "1"]
    review("support-report", *common[:4], "--today", "2026-11-01")  # before any review
    support = out / "support-gaps.html"
    assert dangling(support) == []
    assert "incident-" not in "".join(HREF.findall(support.read_text()))
    review("report", "--month", "2026-10", *common)  # reviews 2 and 3 with HTML, the report
    review("render", "2", "--force", *common)  # no --html: the review's HTML stays, current
    assert (out / "2026-10" / "incident-2.html").is_file()
    review("render", "1", *common)  # September's review as a notebook only
    review("support-report", *common[:4], "--today", "2026-11-01", "--force")
    monthly = out / "2026-10" / "monthly.html"
    assert dangling(monthly) == [] and dangling(support) == []
    text = support.read_text()
    # findings on tickets 1 and 3: 3 has its HTML review, 1 only a notebook
    assert 'href="2026-10/incident-3.html"' in text
    assert 'href="2026-09/incident-1.ipynb"' in text
    assert {"incident-2.html", "incident-3.html"} <= set(HREF.findall(monthly.read_text()))
