"""The JupyterLab path: working copies under reports/, templates never dirtied, `review lab`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from review.pages import lab
from review.pages import render as rendering
from review.pages.reports import PAGES
from review.settings.config import sample_snapshot, templates_dir

pytestmark = pytest.mark.slow  # runs notebooks, kernels, JupyterLab or a browser

ROOT = Path(__file__).resolve().parent.parent


def _tree_bytes(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*")
            if p.is_file()}  # fmt: skip


def _images(node: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in node.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_a_working_copy_runs_and_the_templates_stay_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    before = _tree_bytes(templates_dir())
    inputs = rendering.load_inputs(sample_snapshot(), None)
    job = rendering.incident_jobs(inputs, [10], tmp_path, html=False)[0]

    path, fresh = lab.working_copy(job)

    assert fresh and path == job.output and path.is_relative_to(tmp_path)
    node = nbformat.read(path, as_version=4)
    injected = [c for c in node.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "ticket_id = 10" in injected[0].source
    assert "derived" not in injected[0].source  # a batch's cache; JupyterLab finds its own
    NotebookClient(
        node, kernel_name=rendering.KERNEL_NAME, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    nbformat.write(node, path)
    assert _images(nbformat.read(path, as_version=4)) >= 1
    loaded = next(c for c in node.cells if "incident_review_data" in c.source)
    assert "Ticket 10:" in json.dumps(loaded.outputs)
    assert _tree_bytes(templates_dir()) == before
    assert lab.working_copy(job) == (path, False)  # the next time: the notebook that is there


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory whose notebooks/ holds a copy of the incident template."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(
        rendering.template_path(PAGES["incident"].template),
        tmp_path / "notebooks" / "incident_review.ipynb",
    )
    monkeypatch.setattr(lab, "_templates", lambda: tmp_path / "notebooks")
    return tmp_path


def _as_run_in_jupyterlab(model: dict, new_source: str | None = None) -> dict:
    """The model JupyterLab sends after a run: outputs, counts, a fuller language_info."""
    content = model["content"]
    for number, cell in enumerate(content["cells"]):
        if cell["cell_type"] == "code":
            cell["execution_count"] = number
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x\n"}]
            cell["metadata"]["execution"] = {"iopub.status.busy": "2026-11-01T00:00:00Z"}
    content["metadata"]["language_info"] = {"name": "python", "version": "3.11.2"}
    if new_source is not None:
        content["cells"][-1]["source"] = new_source
    return {"type": "notebook", "format": "json", "content": content}


def test_save_hook_keeps_a_run_template_byte_identical(templates: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager

    manager = FileContentsManager(root_dir=str(templates), pre_save_hook=lab.HOOK)
    path = "notebooks/incident_review.ipynb"
    before = (templates / path).read_bytes()

    manager.save(_as_run_in_jupyterlab(manager.get(path)), path)

    assert (templates / path).read_bytes() == before


def test_save_hook_keeps_a_real_edit_without_outputs(templates: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager

    manager = FileContentsManager(root_dir=str(templates), pre_save_hook=lab.HOOK)
    path = "notebooks/incident_review.ipynb"
    manager.save(_as_run_in_jupyterlab(manager.get(path), "reports.safe_table(x)"), path)

    node = nbformat.read(templates / path, as_version=4)
    assert node.cells[-1].source == "reports.safe_table(x)"
    code = [c for c in node.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert all("execution" not in c.metadata for c in code)
    assert node.metadata["language_info"] == {"name": "python"}


def test_save_hook_leaves_other_notebooks_alone(templates: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager

    (templates / "reports").mkdir()
    shutil.copy(
        rendering.template_path(PAGES["incident"].template),
        templates / "reports" / "incident-10.ipynb",
    )
    manager = FileContentsManager(root_dir=str(templates), pre_save_hook=lab.HOOK)
    path = "reports/incident-10.ipynb"
    manager.save(_as_run_in_jupyterlab(manager.get(path)), path)

    code = [c for c in nbformat.read(templates / path, as_version=4).cells if c.cell_type == "code"]
    assert code[0].outputs[0]["text"] == "x\n"


def test_save_hook_is_installed_once_into_an_environment(tmp_path: Path) -> None:
    written = lab.install_save_hook(tmp_path)

    assert written == tmp_path / "etc/jupyter/jupyter_server_config.d/rt-incident-review.json"
    config = json.loads(written.read_text())
    assert config == {"FileContentsManager": {"pre_save_hook": lab.HOOK}}
    assert lab.install_save_hook(tmp_path) is None


def test_review_lab_serves_a_working_copy_under_reports_only(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    process = subprocess.Popen(
        [sys.executable, "-m", "review", "lab", "10", "--no-browser", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        base, token = url.split("/lab/tree/")[0], url.split("token=")[1]
        assert url.split("/lab/tree/")[1].split("?")[0] == "2026-08/incident-10.ipynb"
        with urllib.request.urlopen(f"{base}/api/contents/2026-08?token={token}") as answer:
            listing = json.load(answer)
        assert [item["name"] for item in listing["content"]] == ["incident-10.ipynb"]
        with urllib.request.urlopen(f"{base}/api/contents?token={token}") as answer:
            assert "notebooks" not in {item["name"] for item in json.load(answer)["content"]}
    finally:
        process.terminate()
        process.wait(timeout=30)
    with pytest.raises(OSError):  # `kill` stopped JupyterLab too: nothing is left serving
        urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)


def test_review_lab_pages_load_no_remote_image(tmp_path: Path) -> None:
    """A written section with `![x](https://tracker.example/p.png)`, opened with `review lab`:
    JupyterLab's sanitizer keeps remote images, so opening the review made the browser ask
    that server (seen with chromium: a request to the address). Now the pages JupyterLab
    serves forbid images and media from anywhere but itself, data: (the figures) and blob:.
    """
    _review_notebook(tmp_path)
    process, url = lab.start(tmp_path, "2026-08/incident-10.ipynb")
    try:
        with urllib.request.urlopen(url) as answer:  # the page the browser opens
            policy = answer.headers["Content-Security-Policy"]
    finally:
        lab.stop(process)
    assert policy == (
        "frame-ancestors 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:"
    )


def test_a_template_run_in_notebooks_reads_relative_paths_from_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`snapshot = "data/sample"` typed into a template in JupyterLab (kernel in notebooks/)."""
    import papermill as pm

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pm.execute_notebook(
        str(rendering.template_path(PAGES["incident"].template)),
        str(tmp_path / "review.ipynb"),
        parameters={"snapshot": "data/sample", "ticket_id": 10},
        kernel_name=rendering.KERNEL_NAME,
        progress_bar=False,
        cwd=str(templates_dir()),
    )
    assert _images(nbformat.read(tmp_path / "review.ipynb", as_version=4)) >= 1


def test_a_wrong_path_in_a_notebook_is_one_readable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    with pytest.raises(PapermillExecutionError) as failure:
        pm.execute_notebook(
            str(rendering.template_path(PAGES["monthly"].template)),
            str(tmp_path / "monthly.ipynb"),
            parameters={"snapshot": "data/no-such-snapshot"},
            kernel_name=rendering.KERNEL_NAME,
            progress_bar=False,
            cwd=str(templates_dir()),
        )
    error = failure.value
    assert error.ename == "ReviewError"
    assert error.traceback == [f"ReviewError: {error.evalue}"]
    assert error.evalue.startswith("snapshot = 'data/no-such-snapshot': no such directory")
    assert f"project directory {ROOT}" in error.evalue
    assert "--" not in error.evalue  # no command-line advice inside a notebook


def _children(pid: int) -> list[int]:
    """Every process below `pid` (from /proc: each one's parent is in its stat line)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        todo += kids
    return found


def _proc(pid: int, name: str) -> bytes:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes()
    except OSError:
        return b""


def test_review_lab_keeps_its_token_off_command_lines_and_out_of_kernels(tmp_path: Path) -> None:
    """`ps` (any local user) shows no token; the token works; a kernel's environment lacks it."""
    import time
    import urllib.error

    inherited = "token-of-another-jupyter-0123456789"  # would win over a token file
    process = subprocess.Popen(
        [sys.executable, "-m", "review", "lab", "--no-browser", "--out", str(tmp_path / "r")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "JUPYTER_TOKEN": inherited},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        base, token = url.split("/lab")[0], url.split("token=")[1]
        assert token != inherited
        assert len(token) >= 32
        server = _children(process.pid)
        assert server, "JupyterLab runs as a child of `review lab`"
        for pid in [process.pid, *server]:
            assert token.encode() not in _proc(pid, "cmdline")
        # the token opens the server, and nothing else does
        with urllib.request.urlopen(f"{base}/api/status?token={token}") as answer:
            assert answer.status == 200
        for wrong in (token[::-1], inherited):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{base}/api/status?token={wrong}")
            assert refused.value.code == 403
        # the token is not in the server's environment, nor in a file left on disk
        environ = dict(
            entry.split(b"=", 1) for entry in _proc(server[0], "environ").split(b"\0") if entry
        )
        assert token.encode() not in b"".join(environ.values())
        if b"JUPYTER_TOKEN_FILE" in environ:
            assert not Path(environ[b"JUPYTER_TOKEN_FILE"].decode()).exists()
        # a kernel the server starts has neither
        request = urllib.request.Request(
            f"{base}/api/kernels", data=b'{"name": "python3"}', method="POST",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 201
        deadline = time.monotonic() + 60
        while not (
            kernels := [p for p in _children(server[0]) if b"ipykernel" in _proc(p, "cmdline")]
        ):
            assert time.monotonic() < deadline, "no kernel process appeared"
            time.sleep(0.2)
        for pid in kernels:
            for secret in (token, inherited):
                assert secret.encode() not in _proc(pid, "cmdline") + _proc(pid, "environ")
    finally:
        process.terminate()
        process.wait(timeout=30)


def _review_notebook(root: Path, ticket: int = 10) -> str:
    """A review notebook as a render leaves it (the template with its written sections)."""
    from review.pages import written

    template = json.loads(rendering.template_path(PAGES["incident"].template).read_text())
    notebook = written.merge(json.loads(json.dumps(template)), template, None, ticket,
                             f"../reviews/incident-{ticket}.json")  # fmt: skip
    path = root / "2026-08" / f"incident-{ticket}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(notebook))
    return f"2026-08/incident-{ticket}.ipynb"


def test_saving_a_review_in_jupyter_keeps_the_written_cells(tmp_path: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager

    from review.pages import written

    path = _review_notebook(tmp_path)
    manager = FileContentsManager(root_dir=str(tmp_path), pre_save_hook=lab.HOOK)
    model = manager.get(path)
    cells = model["content"]["cells"]
    next(c for c in cells if c["id"] == "summary")["source"] = "### Summary\n\nThe cert expired."
    cells.append(nbformat.v4.new_markdown_cell("A section the team added"))

    manager.save(model, path)

    review = written.load(tmp_path / "reviews" / "incident-10.json", 10)
    assert review is not None
    assert [(s.id, s.text) for s in review.sections] == [
        ("summary", "### Summary\n\nThe cert expired."),
        (cells[-1]["id"], "A section the team added"),
    ]
    saved = json.loads((tmp_path / path).read_text())
    assert saved["metadata"][written.META]["given"] == ["summary", cells[-1]["id"]]
    assert "written" in saved["cells"][-1]["metadata"]["tags"]

    model = manager.get(path)  # the team deletes the cell they added, and saves
    model["content"]["cells"].pop()
    manager.save(model, path)
    review = written.load(tmp_path / "reviews" / "incident-10.json", 10)
    assert review is not None and [s.id for s in review.sections] == ["summary"]


def test_a_broken_review_file_fails_the_save_with_its_reason(tmp_path: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from tornado.web import HTTPError

    path = _review_notebook(tmp_path)
    broken = tmp_path / "reviews" / "incident-10.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    manager = FileContentsManager(root_dir=str(tmp_path), pre_save_hook=lab.HOOK)
    model = manager.get(path)
    next(c for c in model["content"]["cells"] if c["id"] == "impact")["source"] = "Words"

    with pytest.raises(HTTPError) as error:
        manager.save(model, path)

    assert f"{broken}:1: not valid JSON" in str(error.value)
    assert broken.read_text() == "{not json"


def test_half_a_character_fails_the_save_with_where_it_is(tmp_path: Path) -> None:
    """An emoji cut in two (a lone surrogate, which JSON carries and UTF-8 cannot): the save
    was an HTTP 500 about a codec; now a 409 naming the cell and line, and nothing written."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from tornado.web import HTTPError

    path = _review_notebook(tmp_path)
    manager = FileContentsManager(root_dir=str(tmp_path), pre_save_hook=lab.HOOK)
    model = manager.get(path)
    before = (tmp_path / path).read_bytes()
    cell = next(c for c in model["content"]["cells"] if c["id"] == "impact")
    cell["source"] = "## Impact\n\nMail was down \ud83d for 6 hours."

    with pytest.raises(HTTPError) as error:
        manager.save(model, path)

    assert error.value.status_code == 409
    assert str(error.value.log_message % error.value.args) == (
        "cell impact, line 3, holds half of a character (\\ud83d, often half of an emoji cut "
        "in two): delete it and save again"
    )
    assert not (tmp_path / "reviews").exists() and (tmp_path / path).read_bytes() == before


def test_a_review_notebook_moved_to_another_folder_does_not_write_elsewhere(
    tmp_path: Path,
) -> None:
    """Dragged one folder up in JupyterLab's file browser and saved, a review notebook wrote
    its sections to ../reviews/ of its new folder: a review file outside the reports (and
    JupyterLab's root), while the real one and the pages kept the old text. Now the save is
    refused, saying where the notebook belongs; saved there again, it is kept."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from tornado.web import HTTPError

    from review.pages import written

    out = tmp_path / "reports"
    inputs = rendering.load_inputs(sample_snapshot(), None)
    lab.working_copy(rendering.incident_jobs(inputs, [10], out, html=False)[0])
    manager = FileContentsManager(root_dir=str(out), pre_save_hook=lab.HOOK)

    def save(where: str, text: str) -> None:
        model = manager.get(where)
        next(c for c in model["content"]["cells"] if c["id"] == "summary")["source"] = text
        manager.save(model, where)

    def summary() -> str:
        review = written.load(out / "reviews" / "incident-10.json", 10)
        assert review is not None and review.sections[0].id == "summary"
        return review.sections[0].text

    save("2026-08/incident-10.ipynb", "First words")
    manager.rename("2026-08/incident-10.ipynb", "incident-10.ipynb")
    with pytest.raises(HTTPError) as error:
        save("incident-10.ipynb", "Second words")

    assert error.value.status_code == 409
    assert str(error.value.log_message % error.value.args) == (
        "incident-10.ipynb was moved from 2026-08/incident-10.ipynb in the reports folder, "
        "where the render put it: its written sections are kept in reviews/incident-10.json "
        "only from there; move it back and save again, or save a copy under another name"
    )
    assert not (tmp_path / "reviews").exists() and summary() == "First words"
    manager.rename("incident-10.ipynb", "2026-08/incident-10.ipynb")
    save("2026-08/incident-10.ipynb", "Second words")
    assert summary() == "Second words"


def test_a_copy_saved_under_another_name_is_just_a_notebook(tmp_path: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager

    path = _review_notebook(tmp_path)
    manager = FileContentsManager(root_dir=str(tmp_path), pre_save_hook=lab.HOOK)
    model = manager.get(path)
    next(c for c in model["content"]["cells"] if c["id"] == "impact")["source"] = "Words"

    manager.save(model, "2026-08/incident-10-copy.ipynb")

    assert not (tmp_path / "reviews").exists()


def test_review_lab_readies_a_notebook_rendered_before_written_sections(tmp_path: Path) -> None:
    """A notebook rendered by an older kit has no record of its written sections: `review lab`
    adds it (and the team's saved sections), so its first save is kept too."""
    from review.pages import written

    inputs = rendering.load_inputs(sample_snapshot(), None)
    job = rendering.incident_jobs(inputs, [10], tmp_path, html=False)[0]
    old = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Old page")])
    job.output.parent.mkdir(parents=True)
    nbformat.write(old, job.output)
    section = written.Section("impact", "## Impact\n\nSaved from another copy.")
    written.save(written.review_path(tmp_path, 10), written.WrittenReview(10, (section,)))

    path, fresh = lab.working_copy(job)

    node = nbformat.read(path, as_version=4)
    assert not fresh and node.cells[0].source == "## Old page"
    assert node.metadata[written.META]["file"] == "../reviews/incident-10.json"
    assert node.cells[-1].source == "## Impact\n\nSaved from another copy."
    assert lab.working_copy(job) == (path, False)  # ready: left as it is


def test_a_broken_review_file_fails_that_render_in_one_line(tmp_path: Path) -> None:
    from review.errors import FileLineError
    from review.pages import written

    inputs = rendering.load_inputs(sample_snapshot(), None)
    job = rendering.incident_jobs(inputs, [10], tmp_path, html=False)[0]
    broken = written.review_path(tmp_path, 10)
    broken.parent.mkdir(parents=True)
    broken.write_text('{"format": 1, "ticket_id": 10, "sections": [{"id": "x"}]}')
    notebook = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)

    with pytest.raises(FileLineError) as error:
        rendering.with_written(job, notebook)

    assert str(error.value).startswith(f"{broken}: section 1's text must be text")
