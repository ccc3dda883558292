"""The written account's file: format, checks, atomic and locked updates."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest

from review.errors import FileLineError
from review.pages import written
from review.pages.written import Section, SignOff, WrittenReview, keep_sections, merge, sections_of


def _review() -> WrittenReview:
    return WrittenReview(
        ticket_id=10,
        sections=(
            Section(
                "summary",
                "## Summary\n\nThe disk filled. Ünïcode stays.",
                "cell-03",
                "2026-12-05T14:00:00Z",
                "a",
            ),
            Section("added-by-team", "## Timeline notes", "summary", "", "b"),
        ),
        status="in review",
        status_at="2026-12-05T14:03:11Z",
        signoffs=(SignOff("service owner", "carol", "2026-12-06T09:00:00Z", "abc"),),
    )


def test_a_review_file_round_trips_and_lives_beside_the_reports(tmp_path: Path) -> None:
    path = written.review_path(tmp_path / "reports", 10)
    assert path == tmp_path / "reports" / "reviews" / "incident-10.json"
    written.save(path, _review())

    assert written.load(path, 10) == _review()
    data = json.loads(path.read_text("utf-8"))
    assert data["format"] == 1 and data["status"] == "in review"
    assert data["sections"][0] == {
        "id": "summary",
        "text": "## Summary\n\nThe disk filled. Ünïcode stays.",
        "after": "cell-03",
        "updated_at": "2026-12-05T14:00:00Z",
        "updated_by": "a",
    }
    assert "Ünïcode" in path.read_text("utf-8")  # readable, not \\u escapes
    assert written.load(tmp_path / "none.json") is None


def test_keys_it_does_not_know_are_kept_on_every_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "incident-10.json"
    data = _review().to_json() | {"published": [{"comment": 77}]}
    path.write_text(json.dumps(data))

    written.update(path, 10, lambda r: written.with_status(r, "final", "2026-12-07T00:00:00Z"))

    again = json.loads(path.read_text())
    assert again["published"] == [{"comment": 77}]
    assert again["status"] == "final" and again["status_at"] == "2026-12-07T00:00:00Z"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": 1, "ticket_id": 10,\n "sections": [}', ":2: not valid JSON"),
        ('{"format": 2, "ticket_id": 10}', "format 2 is not 1"),
        ('{"format": 1, "ticket_id": 11}', "holds the review of ticket 11, not 10"),
        (
            '{"format": 1, "ticket_id": 10, "status": "done"}',
            "status must be one of draft, in review, final, got 'done'",
        ),
        (
            '{"format": 1, "ticket_id": 10, "sections": [{"id": "a", "text": 3}]}',
            "section 1's text must be text",
        ),
        (
            '{"format": 1, "ticket_id": 10, "sections": [{"id": "a", "text": ""}, {"id": "a", "text": ""}]}',
            "section ids repeat: ['a']",
        ),
        (
            '{"format": 1, "ticket_id": 10, "signoffs": [{"role": "cto", "who": "x", "at": "t"}]}',
            "sign-off 1's role must be one of service owner, business owner",
        ),
        ("[]", "not a JSON object"),
        # an edit saved as Latin-1: the line of the first bad byte, not only the file
        (
            b'{"format": 1, "ticket_id": 10,\n "sections": [{"id": "a", "text": "caf\xe9"}]}',
            ":2: not UTF-8 text (byte 0xe9); save the file as UTF-8, or move it aside",
        ),
        # edited by hand: a time the pages cannot subtract, an id no notebook cell may have
        (
            '{"format": 1, "ticket_id": 10, "status": "final", "status_at": "2026-12-08 09:30"}',
            "status_at must be a UTC time written like 2026-12-05T14:03:11Z, got "
            "'2026-12-08 09:30'",
        ),
        (
            '{"format": 1, "ticket_id": 10, "signoffs": [{"role": "service owner", "who": "x", '
            '"at": "2026-12-8T09:30:00Z"}]}',
            "sign-off 1's at must be a UTC time written like 2026-12-05T14:03:11Z",
        ),
        (
            '{"format": 1, "ticket_id": 10, "sections": [{"id": "a", "text": "", '
            '"updated_at": "2026-02-30T00:00:00Z"}]}',
            "section 1's updated_at must be a UTC time",
        ),
        (
            '{"format": 1, "ticket_id": 10, "sections": [{"id": "my notes", "text": "x"}]}',
            "section 1's id must be 1 to 64 letters, digits, '-' or '_' (a notebook cell's id), "
            "got 'my notes'",
        ),
    ],
)
def test_a_broken_file_is_one_line_naming_it(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "incident-10.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())

    with pytest.raises(FileLineError) as error:
        written.load(path, 10)

    assert str(error.value).startswith(str(path))
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert path.read_bytes() == (
        content if isinstance(content, bytes) else content.encode()
    )  # nothing lost


def test_an_unchanged_update_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "incident-10.json"
    written.save(path, _review())
    before = path.stat().st_mtime_ns

    written.update(path, 10, lambda r: r)

    assert path.stat().st_mtime_ns == before
    assert not list(tmp_path.glob(".incident-10.json.*[!k]"))  # no temp file left


def _add_sections(path: str, worker: int) -> None:
    for n in range(15):
        written.update(
            Path(path),
            10,
            lambda r, n=n: replace(r, sections=(*r.sections, Section(f"w{worker}-{n}", "x"))),
        )


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "reviews" / "incident-10.json"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_sections, args=(str(path), w)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)

    found = written.load(path, 10)
    assert found is not None
    assert sorted(s.id for s in found.sections) == sorted(
        f"w{w}-{n}" for w in range(3) for n in range(15)
    )


def test_the_format_module_needs_no_jupyter() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import review.pages.written; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('jupyterlab', 'jupyter_server', 'nbformat', 'pandas', 'papermill')]; "
        "print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- hostile text

HOSTILE = """## Summary <script>alert('s')</script>

Fine words survive: **bold** and `<code>`.

<img src=x onerror="alert('img')">

<svg onload="alert('svg')"></svg> and <iframe src="https://evil.example/"></iframe>

<a href="javascript:alert('a')">raw link</a>

[md link](javascript:alert('md')) [entity link](jav&#x61;script:alert('entity'))
[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
![tracker](https://evil.example/pixel.png) [relative](//evil.example/x)

<https://ok.example/autolink> and [good](https://ok.example/page) and [local](../index.html)

<style>body{display:none}</style>

Bidi \u202e reversed
"""


def _parsed(html: str) -> list[tuple[str, dict[str, str | None]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def _inert(html: str) -> None:
    """No script, frame, image, style or svg element, no event handler, no unsafe link."""
    for tag, attrs in _parsed(html):
        assert tag not in {"script", "iframe", "img", "svg", "style", "object", "embed"}, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(("http://", "https://", "mailto:", "../", "#")), href


def test_written_markdown_becomes_inert_html_and_keeps_every_word() -> None:
    html = written.safe_html(HOSTILE)

    _inert(html)
    assert "\n" not in html  # one HTML block: Markdown never reads it a second time
    links = [a["href"] for t, a in _parsed(html) if t == "a"]
    assert links == [  # an image is a link to it; nothing unsafe became a link
        "https://evil.example/pixel.png", "https://ok.example/autolink", "https://ok.example/page",
        "../index.html",
    ]  # fmt: skip
    assert "<strong>bold</strong>" in html and "<code>&lt;code&gt;</code>" in html
    for words in ("alert('s')", "raw link", "md link (javascript:alert(", "entity link", "data link (data:text/html",
                  "image: tracker", "relative", "Bidi \\u202e reversed"):  # fmt: skip
        assert words in html, words


def test_entities_show_the_character_they_name_and_stay_text() -> None:
    """As JupyterLab shows them: 'AT&amp;T' is AT&T, '&lt;b&gt;' the text <b>; the page
    showed '&amp;' and '&lt;b&gt;' literally. An entity never makes markup or a control."""
    html = written.safe_html("AT&amp;T &lt;b&gt;x&lt;/b&gt; &copy; &#x202e;rtl &#0; `&amp;`")

    assert html == (
        '<div class="review-written"><p>AT&amp;T &lt;b&gt;x&lt;/b&gt; \u00a9 \\u202ertl \ufffd '
        "<code>&amp;amp;</code></p>&#10;</div>"
    )
    _inert(html)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://rt.example.edu/Ticket/Display.html?id=1", True),
        ("mailto:ops@example.edu", True),
        ("../2026-08/incident-3.html", True),
        ("#key-moments", True),
        ("javascript:alert(1)", False),
        (" JaVaScRiPt:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("&#106;avascript:alert(1)", False),
        ("vbscript:x", False),
        ("data:text/html,x", False),
        ("file:///etc/passwd", False),
        ("//evil.example/x", False),
    ],
)
def test_only_safe_addresses_become_links(url: str, safe: bool) -> None:
    assert (written.safe_url(url) is not None) is safe


# --------------------------------------------------------------------------- in the notebook


def _template() -> dict:
    from review.settings.config import templates_dir

    return json.loads((templates_dir() / "incident_review.ipynb").read_text("utf-8"))


def _ids(notebook: dict) -> list[str]:
    return [c["id"] for c in notebook["cells"]]


def test_the_template_has_a_written_cell_per_section() -> None:
    tagged = [c["id"] for c in _template()["cells"] if "written" in c["metadata"].get("tags", [])]
    assert tagged == [
        "summary", "moments", "actions", "impact", "contributing-factors", "went-well",
        "went-wrong", "lucky",
    ]  # fmt: skip


def test_merge_puts_every_section_back_where_it_was_written() -> None:
    review = WrittenReview(
        ticket_id=10,
        sections=(
            Section("summary", "### Summary\n\nThe certificate expired."),
            Section("team-1", "Added after the summary", after="summary"),
            Section("team-2", "Added after that one", after="team-1"),
            Section("old-section", "From a template cell since removed", after="no-such-cell"),
        ),
    )
    notebook = merge(_template(), _template(), review, 10, "../reviews/incident-10.json")

    ids = _ids(notebook)
    assert ids[ids.index("summary") : ids.index("summary") + 3] == ["summary", "team-1", "team-2"]
    assert ids[-1] == "old-section"  # kept, not dropped: at the end
    cells = {c["id"]: c for c in notebook["cells"]}
    assert cells["summary"]["source"] == "### Summary\n\nThe certificate expired."
    assert all(
        "written" in cells[i]["metadata"]["tags"] for i in ("team-1", "team-2", "old-section")
    )
    meta = notebook["metadata"][written.META]
    assert meta["file"] == "../reviews/incident-10.json" and meta["ticket_id"] == 10
    assert meta["given"] == ["summary", "team-1", "team-2", "old-section"]


def test_a_saved_notebook_yields_what_the_team_wrote_and_nothing_else() -> None:
    notebook = merge(_template(), _template(), None, 10, "../reviews/incident-10.json")
    assert sections_of(notebook, "alice", "t") == []  # the template's placeholders: not written

    cells = notebook["cells"]
    impact = next(c for c in cells if c["id"] == "impact")
    impact["source"] = ["## Impact\n", "\n", "Nobody could log in for 6 hours."]
    cells.insert(3, {"cell_type": "markdown", "metadata": {}, "source": "A note the team added"})
    cells.insert(4, {"cell_type": "code", "metadata": {}, "source": "1 + 1", "outputs": []})

    found = sections_of(notebook, "alice", "t")

    assert [(s.text, s.updated_by) for s in found] == [
        ("A note the team added", "alice"),
        ("## Impact\n\nNobody could log in for 6 hours.", "alice"),
    ]
    ids = _ids(notebook)
    assert found[0].after == ids[2] and found[1].after == ids[ids.index("impact") - 1]
    assert "written" in cells[3]["metadata"]["tags"]  # the team sees it is kept
    assert cells[3]["id"] == found[0].id


def test_a_written_cell_turned_into_code_keeps_its_text(tmp_path: Path) -> None:
    """Y in JupyterLab's command mode makes the selected cell a code cell, keeping its id and
    tags. Saved so, the Impact the team wrote was dropped from the review file (a section
    given and no longer among the markdown cells: deleted), and the next render replaced
    the notebook: the text was nowhere. Now a tagged cell is written text whatever its
    type, and the render puts it back as Markdown."""
    notebook_path = tmp_path / "reports" / "2026-08" / "incident-10.ipynb"
    review_file = written.review_path(tmp_path / "reports", 10)
    notebook = merge(_template(), _template(), None, 10, "../reviews/incident-10.json")
    impact = next(c for c in notebook["cells"] if c["id"] == "impact")
    impact["source"] = "## Impact\n\nNobody could log in for 6 hours."
    written.save_from_notebook(notebook, notebook_path, "tl")
    impact.update(cell_type="code", outputs=[], execution_count=None)  # as JupyterLab's Y
    impact["metadata"]["trusted"] = True

    written.save_from_notebook(notebook, notebook_path, "tl")

    review = written.load(review_file, 10)
    assert review is not None
    assert [(s.id, s.text) for s in review.sections] == [
        ("impact", "## Impact\n\nNobody could log in for 6 hours.")
    ]
    rendered = merge(_template(), _template(), review, 10, "../reviews/incident-10.json")
    back = next(c for c in rendered["cells"] if c["id"] == "impact")
    assert (back["cell_type"], back["source"]) == (
        "markdown",
        "## Impact\n\nNobody could log in for 6 hours.",
    )
    assert written.unsaved(notebook, review) == []  # the render may replace the notebook


def test_a_save_keeps_other_copies_sections_and_drops_what_the_team_deleted() -> None:
    review = WrittenReview(
        ticket_id=10,
        sections=(
            Section("summary", "old text", None, "2026-12-01T00:00:00Z", "bob"),
            Section("deleted", "the team deleted this cell", "summary"),
            Section("elsewhere", "saved from another copy since", "summary"),
            Section("same", "unchanged", "summary", "2026-12-02T00:00:00Z", "carol"),
        ),
    )
    saved = [Section("summary", "new text", None, "t", "alice"),
             Section("same", "unchanged", "summary", "t", "alice")]  # fmt: skip

    kept = keep_sections(review, saved, given=["summary", "deleted", "same"])

    assert [(s.id, s.text, s.updated_by) for s in kept.sections] == [
        ("summary", "new text", "alice"),
        ("same", "unchanged", "carol"),  # not changed: its time and author stay
        ("elsewhere", "saved from another copy since", ""),
    ]


def test_team_moments_are_read_from_their_section() -> None:
    review = WrittenReview(10, (Section("moments", "#### Moments\n\n*None yet.* e.g. "
                                        "`- 1234: x`\n- 245: Handed to the web team\n"
                                        "* #300 – Fixed: cert renewed \n- abc: no"),))  # fmt: skip
    assert written.team_moments(review) == [
        (245, "Handed to the web team"),
        (300, "Fixed: cert renewed"),
    ]
    assert written.team_moments(None) == []


def test_text_written_in_any_template_cell_is_kept_and_put_back() -> None:
    """The Tech Lead writes under the template's 'Lessons' heading (no `written` tag): the
    save keeps it, the next render puts it back there, and a cell left as the template has
    it is not written text."""
    notebook = merge(_template(), _template(), None, 10, "../reviews/incident-10.json")
    lessons = next(c for c in notebook["cells"] if c["id"] == "lessons")
    lessons["source"] = "## Lessons\\n\\nAlert on the certificate's expiry, not on the outage."

    found = sections_of(notebook, "alice", "t")

    assert [(s.id, s.text, s.after) for s in found] == [
        ("lessons", "## Lessons\\n\\nAlert on the certificate's expiry, not on the outage.",
         "contributing-factors"),
    ]  # fmt: skip
    assert "written" in lessons["metadata"]["tags"]  # the team sees it is kept
    again = merge(_template(), _template(), WrittenReview(10, tuple(found)), 10, "x")
    cell = next(c for c in again["cells"] if c["id"] == "lessons")
    assert cell["source"] == "## Lessons\\n\\nAlert on the certificate's expiry, not on the outage."
    assert _ids(again) == _ids(_template())  # in its place, nothing added


def test_remerge_gives_what_a_first_merge_of_the_newer_review_gives() -> None:
    """A notebook merged with one review, merged again with a newer one (a save came while
    it rendered): the sections the newer one dropped go (a template cell gets its
    placeholder back, an added cell goes), the others are as a first merge puts them."""
    older = WrittenReview(10, (Section("summary", "Old summary"),
                               Section("team-1", "A note", after="summary"),
                               Section("impact", "Old impact")))  # fmt: skip
    newer = WrittenReview(10, (Section("summary", "New summary"),
                               Section("team-2", "Another note", after="impact")))  # fmt: skip
    file = "../reviews/incident-10.json"
    once = merge(_template(), _template(), older, 10, file, "../2026-08/incident-10.ipynb")

    again = written.remerge(once, _template(), newer)

    fresh = merge(_template(), _template(), newer, 10, file, "../2026-08/incident-10.ipynb")
    assert [(c["id"], c["source"]) for c in again["cells"]] == [
        (c["id"], c["source"]) for c in fresh["cells"]
    ]
    placeholder = next(c for c in _template()["cells"] if c["id"] == "impact")["source"]
    assert next(c for c in again["cells"] if c["id"] == "impact")["source"] == placeholder
    assert (
        "team-1" not in _ids(again)
        and _ids(again).index("team-2") == _ids(again).index("impact") + 1
    )
    assert again["metadata"][written.META]["given"] == ["summary", "team-2"]
