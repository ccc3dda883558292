"""A render never replaces a review notebook that holds written text its review file lacks.

Text typed into a rendered notebook and saved without the kit's save hook (an editor, or a
Jupyter that does not run the hook) is only in that notebook: the next render (`--force`, a
data or template change) replaced it, and the text was gone without a word. Now that
notebook stays as it is and its job fails with one line saying how to keep the text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from review.pages import written
from review.pages.render import run as running
from review.pages.render.plan import Job, template_path

NEW = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _job(out: Path) -> Job:
    return Job(
        name="incident 10",
        template=template_path("incident_review.ipynb"),
        output=out / "2026-08" / "incident-10.ipynb",
        parameters={},
        fingerprint="new",
        html=True,
        ticket_id=10,
        written=written.review_path(out, 10),
    )


def _rendered(job: Job, review: written.WrittenReview | None) -> dict[str, Any]:
    """The notebook a render wrote for `job` (the template, with the review's sections in)."""
    template = json.loads(job.template.read_text("utf-8"))
    notebook = written.merge(
        json.loads(json.dumps(template)), template, review, 10, "../reviews/incident-10.json"
    )
    job.output.parent.mkdir(parents=True, exist_ok=True)
    job.output.write_text(json.dumps(notebook), "utf-8")
    return notebook


def _cell(notebook: dict[str, Any], cell_id: str) -> dict[str, Any]:
    return next(c for c in notebook["cells"] if c["id"] == cell_id)


def _commit(job: Job, out: Path) -> tuple[running.Failure | None, dict[str, str]]:
    staged = running.Staged(running.write_temp(job.output, NEW),
                            running.write_temp(job.output.with_suffix(".html"), b"NEW HTML"))  # fmt: skip
    state = {"2026-08/incident-10.ipynb": "old"}
    return running.commit(out, job, staged, state), state


def test_text_saved_without_the_hook_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    job = _job(out)
    notebook = _rendered(job, None)
    _cell(notebook, "impact")["source"] = "## Impact\n\nMail was down for 6 hours."
    notebook["cells"].insert(5, {"cell_type": "markdown", "id": "mine", "metadata": {},
                                 "source": "A note of my own"})  # fmt: skip
    job.output.write_text(json.dumps(notebook), "utf-8")
    before = job.output.read_bytes()

    failure, state = _commit(job, out)

    assert failure is not None and failure.ticket_id == 10
    assert failure.message == (
        f"not replaced: it holds written text that is not in {job.written} (cells mine, "
        "impact: saved without the kit's save hook?); open it with `review lab 10` and save "
        "it, or move it aside, then render again"
    )
    assert job.output.read_bytes() == before  # every word still there
    assert not job.output.with_suffix(".html").exists()
    assert sorted(p.name for p in job.output.parent.iterdir()) == ["incident-10.ipynb"]
    assert state == {}  # rendered again next time


def test_text_in_the_review_file_or_given_by_the_render_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    job = _job(out)
    review = written.WrittenReview(10, (written.Section("summary", "## Summary\n\nOld words."),))
    _rendered(job, review)  # the render gave it "Old words."
    newer = written.WrittenReview(10, (written.Section("summary", "## Summary\n\nNew words."),))
    written.save(job.written, newer)  # saved since from another copy, through the hook

    failure, state = _commit(job, out)

    assert failure is None
    assert job.output.read_bytes() == NEW
    assert job.output.with_suffix(".html").read_bytes() == b"NEW HTML"
    assert state == {"2026-08/incident-10.ipynb": "new"}


def test_a_save_through_the_hook_makes_the_notebook_replaceable(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    job = _job(out)
    notebook = _rendered(job, None)
    _cell(notebook, "lucky")["source"] = "## Lucky\n\nThe backup ran an hour before."
    written.save_from_notebook(notebook, job.output, "alice")  # what the hook does on save
    job.output.write_text(json.dumps(notebook), "utf-8")
    assert written.load(job.written, 10).section("lucky").text.endswith("hour before.")  # type: ignore[union-attr]

    failure, _ = _commit(job, out)

    assert failure is None and job.output.read_bytes() == NEW


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"cells": [', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"cells": {"a": 1}, "metadata": [], "nbformat": 4, "nbformat_minor": 5}',
         "not a valid notebook"),
    ],
)  # fmt: skip
def test_a_notebook_broken_by_hand_is_not_replaced(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    out = tmp_path / "reports"
    job = _job(out)
    job.output.parent.mkdir(parents=True)
    job.output.write_bytes(content)

    failure, _ = _commit(job, out)

    assert failure is not None
    assert failure.message == (
        f"not replaced: {job.output}: not a notebook the kit can read ({reason}) and may hold "
        "written text; fix it or move it aside, then render again"
    )
    assert job.output.read_bytes() == content


def test_review_lab_on_a_notebook_broken_by_hand_is_one_line(tmp_path: Path) -> None:
    from review.errors import ReviewError
    from review.pages import lab

    job = _job(tmp_path / "reports")
    job.output.parent.mkdir(parents=True)
    job.output.write_bytes(b'{"cells": [')

    with pytest.raises(ReviewError) as error:  # was nbformat's NotJSONError, a traceback
        lab.working_copy(job)

    assert str(error.value) == (
        f"{job.output}: not a notebook the kit can read (not valid JSON) and may hold written "
        "text; fix it or move it aside"
    )
    assert job.output.read_bytes() == b'{"cells": ['


def _saved_while_running(job: Job) -> running.Failure | running.Staged:
    """The real run_job in the worker (the notebook "run" by copying the template), then the
    Tech Lead's save in JupyterLab before the parent puts the notebook in place: the hook
    writes the review file, then Jupyter the notebook."""

    def execute(template: Path, output: Path, parameters: Any, cwd: Any = None) -> None:
        output.write_bytes(template.read_bytes())

    running.execute_notebook = execute  # type: ignore[assignment]  # this worker only
    outcome = running.run_job(job)
    notebook = json.loads(job.output.read_text("utf-8"))
    _cell(notebook, "summary")["source"] = "## Summary\n\nNew words."
    written.save_from_notebook(notebook, job.output, "tl")
    job.output.write_text(json.dumps(notebook), "utf-8")
    return outcome


def test_a_save_while_its_notebook_renders_is_in_the_notebook_put_in_place(
    tmp_path: Path,
) -> None:
    """The worker put the review file's sections in before the save, so the notebook put
    in place held the old summary; opened later (`review lab` opens it as it is) and saved
    with another edit, it wrote the old summary back over the new one in the review file.
    Now the parent puts the sections in again, under the review file's lock, when they
    changed since."""
    from dataclasses import replace

    from review.pages import render as rendering

    out = tmp_path / "reports"
    job = replace(_job(out), html=False)
    review = written.WrittenReview(10, (written.Section("summary", "## Summary\n\nOld words."),))
    written.save(job.written, review)  # type: ignore[arg-type]
    _rendered(job, review)

    result = rendering.run_batch([job], out, workers=1, force=True, runner=_saved_while_running)

    assert not result.failures
    notebook = json.loads(job.output.read_text("utf-8"))
    assert "".join(_cell(notebook, "summary")["source"]) == "## Summary\n\nNew words."
    assert [c["id"] for c in notebook["cells"]].count("summary") == 1
    _cell(notebook, "impact")["source"] = "## Impact\n\nMail was down."  # later, another edit
    written.save_from_notebook(notebook, job.output, "tl")
    kept = written.load(job.written, 10)  # type: ignore[arg-type]
    assert kept is not None
    assert [(s.id, s.text) for s in kept.sections] == [
        ("summary", "## Summary\n\nNew words."),
        ("impact", "## Impact\n\nMail was down."),
    ]
