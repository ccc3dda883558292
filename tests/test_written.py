"""The written account's file: format, checks, atomic and locked updates."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest

from review.errors import FileLineError
from review.pages import written
from review.pages.written import Section, SignOff, WrittenReview


def _review() -> WrittenReview:
    return WrittenReview(
        ticket_id=10,
        sections=(
            Section(
                "summary", "## Summary\n\nThe disk filled. Ünïcode stays.", "cell-03", "t", "a"
            ),
            Section("added-by-team", "## Timeline notes", "summary", "t", "b"),
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
        "updated_at": "t",
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
    ],
)
def test_a_broken_file_is_one_line_naming_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "incident-10.json"
    path.write_text(content)

    with pytest.raises(FileLineError) as error:
        written.load(path, 10)

    assert str(error.value).startswith(str(path))
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert path.read_text() == content  # nothing is lost


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
