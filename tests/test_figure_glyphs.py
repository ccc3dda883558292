"""Text in any script in the figures: a subject in CJK made matplotlib warn "Glyph ...
missing from font(s) DejaVu Sans" (its only font), the warning with the venv's path showed in
the rendered review, and the chart showed boxes. The figures now fall back glyph by glyph to
the fonts of other scripts the machine has (figures.font_families), and a page never shows a
glyph warning, nor the file path of any other (display.notebook_setup). The subject is the
real RT site's ticket 11 (tests/rt/realsite.py).
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import matplotlib.font_manager
import pytest

from review.cli import main
from review.pages import display, figures
from review.pages.reports import incident_review_data
from review.settings.config import sample_snapshot
from tests.edited import Rows, edited

SUBJECT = "Überweisung fehlgeschlagen — 支払い"
TICKET = 10  # a sample incident (handed off, resolved)
CJK = {"Noto Sans CJK JP", "Noto Sans CJK SC", "Droid Sans Fallback", "WenQuanYi Zen Hei",
       "Source Han Sans", "IPAGothic", "IPAexGothic", "TakaoGothic"}  # fmt: skip
HAS_CJK = bool(CJK & {f.name for f in matplotlib.font_manager.fontManager.ttflist})


def _drawn(subject: str) -> list[str]:
    """The warnings drawing the sample incident's timeline titled `subject` raises."""
    review = incident_review_data(None, TICKET)
    review.title = subject
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures.review_timeline(review).savefig(io.BytesIO(), format="png")
    return [str(w.message) for w in caught]


@pytest.mark.skipif(not HAS_CJK, reason="no CJK font on this machine (fonts-noto-cjk)")
def test_a_cjk_subject_is_drawn_from_a_cjk_font() -> None:
    assert figures.font_families()[0] == "DejaVu Sans"
    assert CJK & set(figures.font_families())
    assert _drawn(SUBJECT) == []  # before: "Glyph 25903 (\\N{CJK UNIFIED IDEOGRAPH-652F}) ..."


def test_a_glyph_no_font_has_is_a_box_and_the_page_says_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(figures, "font_families", lambda: ("DejaVu Sans",))  # no CJK font
    said = _drawn(SUBJECT)  # 支 (U+652F), 払 (U+6255), い (U+3044): one warning or more each
    assert {text.split()[1] for text in said} == {"25903", "25173", "12356"}
    assert all("missing from font(s) DejaVu Sans" in text for text in said)
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)  # put back after
    with warnings.catch_warnings(record=True) as caught:
        display.notebook_setup()  # what every template runs first
        review = incident_review_data(None, TICKET)
        review.title = SUBJECT
        figures.review_timeline(review).savefig(io.BytesIO(), format="png")
        shown = warnings.formatwarning(
            UserWarning("other"), UserWarning, f"{sys.prefix}/lib/site-packages/m.py", 3, "x = 1"
        )
    assert caught == []
    assert shown == "UserWarning: other\n"  # no path, no source line


@pytest.mark.slow
def test_a_rendered_review_of_a_cjk_subject_shows_no_warning_and_no_path(tmp_path: Path) -> None:
    def subject(rows: Rows) -> None:
        for ticket in rows["tickets.jsonl"]:
            if ticket["id"] == TICKET:
                ticket["Subject"] = SUBJECT

    snapshot = edited(sample_snapshot(), tmp_path / "s", subject)
    out = tmp_path / "reports"
    main(["render", str(TICKET), "--snapshot", str(snapshot), "--out", str(out), "--html"])
    [page] = out.glob(f"*/incident-{TICKET}.html")
    [notebook] = out.glob(f"*/incident-{TICKET}.ipynb")
    for text in (page.read_text(), notebook.read_text()):
        assert "支払い" in text  # the subject is shown (as text, escaped where it must be)
        for leak in ("Glyph", "missing from font", "findfont", "site-packages", sys.prefix):
            assert leak not in text
