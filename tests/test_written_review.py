"""Done when (issue 21): a review written in JupyterLab survives every render.

A Tech Lead opens incident 10 with `review lab` (which prints its URL with the token), writes
the account into the `written` cells through JupyterLab's contents API and saves; then the
data changes (data/services.yaml, in a copy of the project) and `review report`, `review
render --force` and `review demo` run: every written word is in the notebook and in the
HTML, hostile text is inert, and the computed sections show the new data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "2026-08/incident-10.ipynb"

HOSTILE = (
    "<script>alert('s')</script> <img src=x onerror=\"alert('i')\"> "
    "[click me](javascript:alert('j')) <a href=\"javascript:alert('a')\">raw</a>"
)
WRITTEN = {
    "summary": "### Summary, by the team\n\nThe portal looped for six hours because the "
    "identity provider's signing certificate expired overnight.\n\n" + HOSTILE,
    "impact": "## Impact\n\nStudents could not reach registration; roughly 4,100 sign-in "
    "attempts failed.",
    "contributing-factors": "## Contributing factors\n\nCertificate expiry had no calendar "
    "reminder; the first hand-off went to the web developers.",
    "went-well": "### What went well\n\nOperations answered within twenty minutes.",
    "went-wrong": "### What went wrong\n\nThe ticket bounced between queues twice.",
    "lucky": "### Where we got lucky\n\nIt happened before the registration deadline.",
    "moments": "#### Moments\n\n- 245: Handed to the web team by mistake\n"
    "- 252: Diagnosis: walt saw the SSO assertion rejected",
}
ADDED = "## Follow-up meeting\n\nThe team met on Thursday; *Quokka* minutes attached in RT."


class _Page(HTMLParser):
    """The text a reader sees, and every tag with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _words(markdown: str) -> set[str]:
    return set(re.findall(r"[A-Za-z0-9][A-Za-z0-9,']+", markdown))


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "review", *args],
        cwd=project,
        env=_env(project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _env(project: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project),
            "REVIEW_CACHE_DIR": str(project.parent / "cache")}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project (code, templates, sample, registry) whose inputs a test may edit."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "cache", "interim", "*.egg-info")
    for name in ("review", "notebooks", "data", "jupyter-config", "scenarios"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def _write_in_jupyterlab(project: Path, out: Path) -> None:
    """`review lab 10`, then the account written and saved through the contents API."""
    process = subprocess.Popen(
        [sys.executable, "-m", "review", "lab", "10", "--no-browser", "--out", str(out)],
        cwd=project,
        env=_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()  # what the user is shown
        assert url.startswith("http://127.0.0.1:") and "token=" in url, url
        base, token = url.split("/lab/tree/")[0], url.split("token=")[1]
        assert url.split("/lab/tree/")[1].split("?")[0] == NOTEBOOK
        api = f"{base}/api/contents/{NOTEBOOK}"
        headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
        with urllib.request.urlopen(urllib.request.Request(api, headers=headers)) as answer:
            model = json.load(answer)
        cells: list[dict[str, Any]] = model["content"]["cells"]
        for cell in cells:
            if cell.get("id") in WRITTEN:
                cell["source"] = WRITTEN[cell["id"]]
        at = next(i for i, c in enumerate(cells) if c.get("id") == "impact")
        cells.insert(at + 1, {"cell_type": "markdown", "id": "team-added", "metadata": {},
                              "source": ADDED})  # fmt: skip
        body = json.dumps({"type": "notebook", "format": "json", "content": model["content"]})
        request = urllib.request.Request(api, body.encode(), headers=headers, method="PUT")
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.wait(timeout=60)


def _check(out: Path, *expected: str, absent: tuple[str, ...] = ()) -> None:
    """Every written word in the notebook and the HTML, hostile text inert, new data shown."""
    notebook = json.loads((out / NOTEBOOK).read_text())
    sources = {c.get("id"): "".join(c["source"]) for c in notebook["cells"]}
    for cell_id, text in {**WRITTEN, "team-added": ADDED}.items():
        assert sources[cell_id] == text, cell_id  # exactly as written
    ids = list(sources)
    assert ids.index("team-added") == ids.index("impact") + 1  # where it was written
    page = _Page((out / NOTEBOOK).with_suffix(".html").read_text())
    text = " ".join(page.text)
    for words in [*WRITTEN.values(), ADDED]:
        missing = {w for w in _words(words) if w not in text}
        assert not missing, missing
    for tag, attrs in page.tags:
        assert tag not in {"script", "iframe", "object", "embed"}, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = (attrs.get("href") or "").lower()
        assert not href.startswith(("javascript", "data", "vbscript")), href
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/png;base64,")
    for phrase in expected:
        assert phrase in text, phrase
    for phrase in absent:
        assert phrase not in text, phrase


@pytest.mark.slow
def test_a_review_written_in_jupyterlab_survives_report_render_and_demo(project: Path) -> None:
    out = project / "reports"
    _write_in_jupyterlab(project, out)
    account = out / "reviews" / "incident-10.json"
    saved = account.read_bytes()
    assert {s["id"] for s in json.loads(saved)["sections"]} == {*WRITTEN, "team-added"}

    registry = project / "data" / "services.yaml"
    registry.write_text(registry.read_text().replace(
        "support_team: [wendy, walt]\n", "support_team: [wendy, walt, ivan]\n", 1))  # fmt: skip
    _run(project, "report", "--month", "2026-08", "--out", str(out), "--jobs", "2")
    # ivan is in the support team now: incident 10's only finding (ad-hoc-support-team) is gone
    relabelled = ("Handed to the web team by mistake", "Diagnosis: walt saw the SSO assertion")
    _check(out, "No close-out findings", *relabelled, absent=("ad-hoc-support-team",))

    _run(project, "render", "10", "--force", "--html", "--out", str(out))
    _check(out, "No close-out findings", *relabelled, absent=("ad-hoc-support-team",))

    registry.write_text(registry.read_text().replace(
        "operations_staff: [dave, olga, raj]", "operations_staff: [dave, olga, raj, walt]", 1))  # fmt: skip
    _run(project, "demo", "--out", str(out), "--jobs", "2")
    # walt is Operations now: the Tech Lead who took over is ivan (txn 257)
    _check(out, "Tech Lead takes over: ivan", *relabelled, absent=("Tech Lead takes over: walt",))
    assert account.read_bytes() == saved  # the kit never rewrites what the team wrote
