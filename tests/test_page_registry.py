"""The page registry: a page is one declaration, read by the renderer, the index and demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.pages import render as rendering
from review.pages.page import Page
from review.pages.render import index, plan
from review.pages.reports import PAGES, support_gaps_data
from review.settings.config import sample_snapshot
from review.settings.registries import Registry


def test_pages_in_their_index_order_each_with_its_template() -> None:
    assert list(PAGES) == ["support-gaps", "monthly", "incident"]
    for page in PAGES.values():
        cells = json.loads(rendering.template_path(page.template).read_text())["cells"]
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert f"{page.data.__name__}(" in code, page.name  # the notebook calls its data


def test_a_declaration_that_cannot_be_planned_is_refused() -> None:
    fields = dict(title="T", template="t.ipynb", data=print, job="j", order=99)
    with pytest.raises(ValueError, match="unknown depends"):
        Page(name="x", per="snapshot", output="x.ipynb", depends=("weather",), **fields)
    with pytest.raises(ValueError, match=r"names \{ticket\}"):
        Page(name="x", per="incident", output="{month}/x.ipynb", depends=(), **fields)


def test_a_new_page_is_one_declaration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Declared (here into a copy of PAGES), a page is planned for `review demo` with its own
    output and fingerprint, and the index links it where its `per` and `order` put it."""
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    extra = Page(
        name="registry-review",
        title="Service registry review",
        template="support_gaps.ipynb",
        data=support_gaps_data,
        per="snapshot",
        output="registry-review.ipynb",
        job="registry review",
        depends=("registry",),
        order=5,
    )
    pages = Registry[Page]("page", lambda p: p.name).register_all([extra, *PAGES.values()])
    monkeypatch.setattr(plan, "PAGES", pages)
    monkeypatch.setattr(index, "PAGES", pages)
    out = tmp_path / "reports"
    inputs = rendering.load_inputs(sample_snapshot(), None)
    jobs = rendering.all_jobs(inputs, out)
    names = [job.name for job in jobs]
    months = sorted(set(inputs.metrics_month))
    assert names[-2:] == ["registry review", "support-gap report"]  # the registry's order
    assert names[-2 - len(months) : -2] == [f"monthly report {m}" for m in months]
    assert len(names) == len(inputs.metrics_month) + len(months) + 2
    mine = jobs[-2]
    assert mine.output == out / "registry-review.ipynb" and mine.ticket_id is None
    assert mine.template.name == "support_gaps.ipynb"
    assert mine.fingerprint != jobs[-1].fingerprint
    assert mine.fingerprint == rendering.page_job(inputs, extra, out).fingerprint  # stable
    for page in ("registry-review.html", "support-gaps.html"):
        (out / page).parent.mkdir(parents=True, exist_ok=True)
        (out / page).write_text("<html></html>")
    text = rendering.write_index(out, inputs).read_text()
    first = text.index('<a href="registry-review.html">Service registry review</a>')
    assert first < text.index('<a href="support-gaps.html">Support-assignment gap report</a>')
