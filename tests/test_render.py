"""The templates executed for real with papermill: sections, numbers, figures, HTML safety,
no credentials in outputs, failing incidents, and the skip-unchanged cache."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from review.cli import main
from review.pages import library
from review.pages import render as rendering
from review.pages.display import safe_table
from review.pages.render import run as running
from review.pages.reports import PAGES, incident_review_data, monthly_report_data
from review.settings.config import load_config, sample_snapshot
from review.settings.months import resolve_month
from review.snapshot import fingerprint
from review.text import visible
from tests.render_scenario import (
    HOSTILE_NAME,
    HOSTILE_REPLY,
    HOSTILE_SUBJECT,
    HOSTILE_TICKET,
    LONG_TICKET,
    SEPTEMBER_TICKET,
    make_snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cr3t-MARKER-do-not-leak"
TEMPLATE_SCRIPTS: set[str] = set()  # the pages run no script at all


def run_cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


SECRETS = {
    "RT_PASSWORD": SECRET,
    "RT_TOKEN": SECRET,
    "SMTP_PASSWORD": SECRET,
    "RT_URL": f"https://alice:{SECRET}@rt.example.edu/rt/",
    "VAULT_API_TOKEN": SECRET,
}


@pytest.fixture(scope="module")
def secrets_in_environment() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def rendered(
    snapshot: Path, tmp_path_factory: pytest.TempPathFactory, secrets_in_environment: None
) -> Path:
    """Every template rendered once, with credentials set in the environment."""
    out = tmp_path_factory.mktemp("reports")
    base = ["--snapshot", str(snapshot), "--out", str(out)]
    assert run_cli("render", "--all", "--html", "--jobs", "2", *base) == 0
    assert run_cli("report", "--month", "2026-10", *base) == 0
    assert run_cli("support-report", *base) == 0
    return out


def outputs(notebook: Path) -> str:
    """Every output of an executed notebook as one text (plain text and HTML)."""
    node = nbformat.read(notebook, as_version=4)
    parts = []
    for cell in node.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts += [str(data.get("text/plain", "")), str(data.get("text/html", ""))]
    return "\n".join(parts)


def tables(notebook: Path) -> list[pd.DataFrame]:
    """Every HTML table a notebook shows, as text: header cells as columns, one row per row."""
    from bs4 import BeautifulSoup

    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            page = BeautifulSoup(str(output.get("data", {}).get("text/html", "")), "html.parser")
            for table in page.find_all("table"):
                head = [th.get_text(strip=True) for th in table.find("thead").find_all("th")]
                rows = [
                    [td.get_text(strip=True) for td in tr.find_all(["td", "th"])]
                    for tr in table.find("tbody").find_all("tr")
                ]
                found.append(pd.DataFrame(rows, columns=head))
    return found


def table_with(notebook: Path, *columns: str) -> pd.DataFrame:
    """The one table of the notebook that has these columns."""
    (found,) = [t for t in tables(notebook) if set(columns) <= set(t.columns)]
    return found


def images(notebook: Path) -> int:
    node = nbformat.read(notebook, as_version=4)
    return sum(
        "image/png" in output.get("data", {})
        for cell in node.cells
        for output in cell.get("outputs", [])
    )


# --------------------------------------------------------------------------- layout and content


@pytest.mark.slow
def test_layout_is_browsable(rendered: Path) -> None:
    for ticket, month in ((SEPTEMBER_TICKET, "2026-09"), (HOSTILE_TICKET, "2026-10")):
        assert (rendered / month / f"incident-{ticket}.ipynb").is_file()
        assert (rendered / month / f"incident-{ticket}.html").is_file()
    assert (rendered / "2026-10" / "monthly.html").is_file()
    assert (rendered / "support-gaps.html").is_file()
    index = (rendered / "index.html").read_text()
    for link in (
        "2026-10/incident-2.html",
        "2026-10/incident-3.html",
        "2026-09/incident-1.html",
        "2026-10/monthly.html",
        "support-gaps.html",
    ):
        assert f'href="{link}"' in index


@pytest.mark.slow
def test_outputs_are_for_their_user_alone_by_default(rendered: Path) -> None:
    """The pages show internal comments: private whatever the umask (review.private)."""
    for path in [
        rendered / "index.html",
        *rendered.glob("2026-*/*.html"),
        *rendered.glob("2026-*/*.ipynb"),
    ]:
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert {p.stat().st_mode & 0o777 for p in [rendered, *rendered.glob("2026-*")]} == {0o700}


@pytest.mark.slow
def test_incident_review_has_sections_numbers_and_figure(rendered: Path) -> None:
    notebook = rendered / "2026-10" / f"incident-{LONG_TICKET}.ipynb"
    page = (rendered / "2026-10" / f"incident-{LONG_TICKET}.html").read_text()
    for section in (
        "Who and what",
        "Timeline",
        "Metrics",
        "Process checklist",
        "Close-out findings",
        "Communication log",
        "Definitions",
    ):
        assert f">{section}" in page
    text = outputs(notebook)
    metrics = table_with(notebook, "Metric", "Business h").set_index("Metric")
    hours = metrics[["Value (wall-clock h)", "Business h"]].astype(str)
    assert hours.loc["time to triage"].tolist() == ["0.50", "0.50"]
    assert hours.loc["time in hand-off"].tolist() == ["238.00", "62.00"]
    assert hours.loc["time to resolve"].tolist() == ["240.00", "64.00"]
    for expected in ("file-storage", "Hand-off"):
        assert expected in text
    assert "Sara Storage (sara)" in text  # owner now, with the real name
    assert "olga -&gt; sara" in text or "olga -> sara" in text  # owners over time
    assert "wall-clock hours" in text.lower() and "business hours" in text.lower()
    assert "Still slow today." in text  # the requestor's reply in the communication log
    # the process checklist and the close-out findings of issue 4, with evidence and actions
    assert "Tech Lead assigned" in text and "not applicable" in text and "missing" in text
    for rule in ("not-validated", "handoff-not-announced", "ad-hoc-support-team"):
        assert rule in text
    assert images(notebook) == 1
    assert 'src="data:image/png;base64,' in page
    assert "import " not in page  # HTML without code


@pytest.mark.slow
def test_monthly_report_numbers_distributions_comparison_links(rendered: Path) -> None:
    notebook = rendered / "2026-10" / "monthly.ipynb"
    page = (rendered / "2026-10" / "monthly.html").read_text()
    text = outputs(notebook)
    assert "2 incident(s) opened in the month" in text
    statistics = table_with(notebook, "Metric", "Hours", "Median", "90th percentile")
    resolve = statistics.loc[
        (statistics["Metric"] == "time to resolve") & (statistics["Hours"] == "wall-clock hours")
    ]
    # median of 2 and 240 h, and its 90th percentile
    assert resolve[["Median", "90th percentile"]].astype(float).values.tolist() == [[121.0, 216.2]]
    assert "2026-09" in text and "2026-08" in text  # the months compared
    assert images(notebook) == 4  # counts, distributions, comparison, findings
    assert "handoff-not-announced" in text  # findings by rule
    for ticket in (HOSTILE_TICKET, LONG_TICKET):
        assert f'href="incident-{ticket}.html"' in page
    assert 'href="incident-1.html"' not in page  # September's incident is not October's


@pytest.mark.slow
def test_support_gap_report_renders(rendered: Path) -> None:
    page = (rendered / "support-gaps.html").read_text()
    assert "Support-assignment gaps" in page
    assert "Services that need attention" in page
    assert ">Action</th>" in page and ">Gap (days)</th>" in page
    assert "data/services.yaml" in page or "services.yaml" in page or "last_reviewed" in page
    assert images(rendered / "support-gaps.ipynb") == 2


# --------------------------------------------------------------------------- safety


@pytest.mark.slow
def test_hostile_ticket_text_is_shown_as_text(rendered: Path) -> None:
    paths = [
        rendered / "2026-10" / f"incident-{HOSTILE_TICKET}.html",
        rendered / "2026-10" / "monthly.html",
        rendered / "index.html",
    ]
    for path in paths:
        page = path.read_text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page and "<img src=y" not in page
        assert "[click](http://evil.example)" in page  # Markdown left as typed
        assert 'href="http://evil.example"' not in page
        scripts = set(re.findall(r"<script[^>]*>", page))
        if path.name == "index.html":  # the library sorts and filters with its own script only
            assert re.findall(r"<script>(.*?)</script>", page, re.S) == [library._SCRIPT]
            scripts -= {"<script>"}
        assert scripts <= TEMPLATE_SCRIPTS, scripts
        assert "mathjax.js" not in page.lower() and "MathJax.Hub" not in page
        assert not any(c in page for c in "\x1b\x07\x08\x00"), path  # controls never raw
        assert 'class="ansi-' not in page  # nbconvert's colours for ANSI escapes
        assert "white on white\\x1b[0m\\x07\\x08\\x00" in page, path  # shown, escaped
    review_page = paths[0].read_text()
    assert "still looking \\x1b[8mconcealed" in review_page
    assert "&lt;img src=x onerror=alert(2)&gt;" in review_page  # the reply text
    assert "&lt;img src=y onerror=alert(3)&gt;" in review_page  # the requestor's name
    assert "$5 and $x^2$" in review_page


@pytest.mark.slow
def test_pages_load_nothing_from_outside(rendered: Path) -> None:
    """No CDN script (require.js, MathJax), stylesheet, font or image: a page is one file."""
    pages = sorted(rendered.rglob("*.html"))
    assert len(pages) == 6  # index, 3 reviews, the October report, support gaps
    for page in pages:
        text = page.read_text()
        assert '<script src="http' not in text and "https://cdn" not in text, page
        remote = re.findall(
            r'<(?:script|link|img|iframe)[^>]*(?:src|href)="(?:https?:)?//[^"]*', text
        )
        assert remote == [], (page, remote)
        assert not re.search(r"url\(['\"]?(?:https?:)?//", text), page
        assert not re.search(r"@import\s+['\"]?(?:https?:)?//", text), page


@pytest.mark.slow
def test_no_credentials_in_any_output(rendered: Path) -> None:
    checked = 0
    for path in rendered.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            checked += 1
    assert checked >= 10
    assert os.environ["RT_PASSWORD"] == SECRET  # the renderer did not hide it from us


@pytest.mark.slow
def test_a_kernel_sees_no_credentials(
    snapshot: Path, tmp_path: Path, secrets_in_environment: None
) -> None:
    """A notebook that prints its whole environment, rendered as a batch renders."""
    node = nbformat.v4.new_notebook()
    node.cells = [
        nbformat.v4.new_code_cell("ticket_id = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nprint(sorted(os.environ.items()))"),
    ]
    node.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    template = tmp_path / "environment.ipynb"
    nbformat.write(node, template)
    inputs = rendering.load_inputs(snapshot, None)
    jobs = rendering.incident_jobs(inputs, [HOSTILE_TICKET], tmp_path, True, template)
    assert rendering.run_batch(jobs, tmp_path, workers=1).ok
    printed = outputs(jobs[0].output)
    assert "('PYTHONPATH', " in printed  # it did print the environment
    assert SECRET not in printed and "alice" not in printed
    assert "RT_URL" not in printed  # notebooks read snapshots, never RT (tests/test_kernel_env.py)
    assert SECRET not in jobs[0].output.with_suffix(".html").read_text()


@pytest.mark.slow
def test_notebook_records_parameters_not_credentials(rendered: Path) -> None:
    node = nbformat.read(rendered / "2026-10" / f"incident-{HOSTILE_TICKET}.ipynb", as_version=4)
    parameters = node.metadata["papermill"]["parameters"]
    assert set(parameters) == {"snapshot", "config", "ticket_id", "derived", "written"}
    assert node.metadata["kernelspec"]["name"] == "python3"


# --------------------------------------------------------------------------- batch behaviour


@pytest.mark.slow
def test_unchanged_inputs_are_not_rendered_again(rendered: Path, snapshot: Path) -> None:
    inputs = rendering.load_inputs(snapshot, None)
    ids = sorted(int(t) for t in inputs.metrics_month.index)
    jobs = rendering.incident_jobs(inputs, ids, rendered, True)
    called: list[str] = []

    def runner(job: rendering.Job) -> rendering.Staged:
        called.append(job.name)
        raise AssertionError("nothing is rendered again")

    result = rendering.run_batch(jobs, rendered, workers=1, runner=runner)
    assert called == [] and len(result.skipped) == len(ids) and result.ok


def test_fingerprint_follows_the_incidents_own_data(snapshot: Path) -> None:
    inputs = rendering.load_inputs(snapshot, None)
    before = inputs.tickets.copy()
    texts = inputs.snapshot.messages(None).copy()  # the text of a reply is its data too
    changed = texts.index[texts["ticket_id"] == LONG_TICKET][-1]
    texts.loc[changed, "data"] = "edited"
    inputs.snapshot.messages = lambda ticket_ids=None: texts
    after = fingerprint.ticket_digests(inputs.snapshot)
    assert after[LONG_TICKET] != before[LONG_TICKET]
    assert after[HOSTILE_TICKET] == before[HOSTILE_TICKET]
    shuffled = inputs.snapshot
    shuffled.transactions = shuffled.transactions.sample(frac=1, random_state=1)
    assert fingerprint.ticket_digests(shuffled).equals(after)  # row order does not matter


def test_history_hashed_in_slices_gives_the_same_digests(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history is hashed with its text a slice at a time (memory); every digest is the
    one a single pass gives, also where a slice ends inside a ticket's history."""
    inputs = rendering.load_inputs(snapshot, None)
    whole = fingerprint.ticket_digests(inputs.snapshot)
    data = fingerprint.review_data_digests(inputs.snapshot)
    monkeypatch.setattr(fingerprint, "HASHED_AT_ONCE", 5)
    assert len(inputs.snapshot.transactions) > 5 * 5  # many slices
    pd.testing.assert_series_equal(fingerprint.ticket_digests(inputs.snapshot), whole)
    pd.testing.assert_series_equal(fingerprint.review_data_digests(inputs.snapshot), data)
    assert whole.str.fullmatch("[0-9a-f]{16}").all() and whole.is_unique


def _broken_template(tmp_path: Path) -> Path:
    """The real incident template plus a cell that breaks on the hand-off incident's data."""
    node = nbformat.read(rendering.template_path(PAGES["incident"].template), as_version=4)
    node.cells.insert(
        5,
        nbformat.v4.new_code_cell(
            "if review.row['handoff_count'] > 0:\n"
            "    raise ValueError('time in hand-off cannot be reviewed')"
        ),
    )
    for i, cell in enumerate(node.cells):
        cell["id"] = f"c{i}"
    path = tmp_path / "broken.ipynb"
    nbformat.write(node, path)
    return path


@pytest.mark.slow
def test_failing_incident_is_reported_and_the_batch_goes_on(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    code = run_cli(
        "render", str(HOSTILE_TICKET), str(LONG_TICKET), "--snapshot", str(snapshot),
        "--out", str(out), "--html", "--jobs", "2", "--template", str(_broken_template(tmp_path)),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    failure_line = next(line for line in err.splitlines() if f"incident {LONG_TICKET}" in line)
    assert "at cell 6" in failure_line  # the injected parameters cell shifts it by one
    assert "ValueError: time in hand-off cannot be reviewed" in failure_line
    partial = out / "2026-10" / f"incident-{LONG_TICKET}.failed.ipynb"
    assert f"partial notebook kept: {partial}" in failure_line
    assert partial.is_file() and not (out / "2026-10" / f"incident-{LONG_TICKET}.html").exists()
    assert not (out / "2026-10" / f"incident-{LONG_TICKET}.ipynb").exists()
    assert "Who and what" in outputs(partial) or images(partial) == 0
    assert (out / "2026-10" / f"incident-{HOSTILE_TICKET}.html").is_file()  # the other one
    assert "1 failed" in err
    state = json.loads((out / rendering.STATE_FILE).read_text())
    assert f"2026-10/incident-{HOSTILE_TICKET}.ipynb" in state
    assert f"2026-10/incident-{LONG_TICKET}.ipynb" not in state  # tried again next time
    index = (out / "index.html").read_text()
    assert "failed" in index and f'href="2026-10/incident-{LONG_TICKET}.failed.ipynb"' in index


def test_unknown_ticket_is_one_clear_error(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli("render", "999", "--snapshot", str(snapshot), "--out", str(tmp_path))
    err = capsys.readouterr().err
    assert code == 1 and "not in the snapshot: 999" in err and "Traceback" not in err


@pytest.mark.slow
def test_report_from_cron_is_quiet_and_idempotent(
    rendered: Path, snapshot: Path, secrets_in_environment: None
) -> None:
    command = [sys.executable, "-m", "review", "report", "--month", "2026-10"]
    command += ["--snapshot", str(snapshot), "--out", str(rendered)]
    before = (rendered / "2026-10" / "monthly.html").stat().st_mtime_ns
    done = subprocess.run(
        command, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert (rendered / "2026-10" / "monthly.html").stat().st_mtime_ns == before


# --------------------------------------------------------------------------- units


def test_previous_month_and_month_checks() -> None:
    assert resolve_month("previous", date(2026, 1, 15)) == "2025-12"
    assert resolve_month("previous", date(2026, 11, 27)) == "2026-10"
    assert resolve_month("2026-10") == "2026-10"
    with pytest.raises(Exception, match="YYYY-MM"):
        resolve_month("2026-13")


def test_kernel_runs_this_interpreter_without_credentials(secrets_in_environment: None) -> None:
    env = rendering.kernel_environment()
    for name in ("RT_PASSWORD", "RT_TOKEN", "SMTP_PASSWORD", "VAULT_API_TOKEN"):
        assert name not in env
    assert "RT_URL" not in env  # notebooks read snapshots, never RT
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT)
    assert running._spec_runs_this_python() or "JUPYTER_PATH" in env


def test_safe_table_escapes_text_and_links_only_integers() -> None:
    frame = pd.DataFrame({"ticket": [7], "subject": [HOSTILE_SUBJECT], "who": [HOSTILE_NAME]})
    page = safe_table(frame, links={"ticket": "incident-{}.html"}).to_html()
    assert '<a href="incident-7.html">7</a>' in page
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_review_data_without_a_kernel(snapshot: Path) -> None:
    review = incident_review_data(snapshot, HOSTILE_TICKET)
    assert review.title == f"Ticket {HOSTILE_TICKET}: {visible(HOSTILE_SUBJECT)}"
    texts = review.communication["text"].tolist()
    assert HOSTILE_REPLY in texts
    metrics = review.metrics.set_index("metric")
    assert metrics.loc["time to resolve", "value (wall-clock h)"] == "2.00"
    assert metrics.loc["time to triage", "business h"] == "0.25"
    report = monthly_report_data(snapshot, "2026-10")
    stats = report.statistics.set_index(["metric", "hours"])
    assert stats.loc[("time to resolve", "wall-clock hours"), "median"] == 121.0
    assert stats.loc[("time to resolve", "business hours"), "median"] == 33.0
    assert report.months == ["2026-07", "2026-08", "2026-09", "2026-10"]


@pytest.mark.slow
@pytest.mark.skipif(not sample_snapshot().is_dir(), reason="the bundled sample is not there yet")
def test_templates_run_on_the_bundled_sample_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each template's own defaults (no parameters) run on the bundled sample."""
    import papermill as pm

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's package, as in JupyterLab

    for template in (
        rendering.template_path(PAGES["incident"].template),
        rendering.template_path(PAGES["monthly"].template),
        rendering.template_path(PAGES["support-gaps"].template),
    ):
        pm.execute_notebook(
            str(template),
            str(tmp_path / template.name),
            kernel_name=rendering.KERNEL_NAME,
            progress_bar=False,
            cwd=str(template.parent),
        )
        assert images(tmp_path / template.name) >= 1


def test_templates_are_committed_clean() -> None:
    for template in (
        rendering.template_path(PAGES["incident"].template),
        rendering.template_path(PAGES["monthly"].template),
        rendering.template_path(PAGES["support-gaps"].template),
    ):
        node = nbformat.read(template, as_version=4)
        nbformat.validate(node)
        code = [c for c in node.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), template
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "snapshot = None" in tagged[0].source
        assert "password" not in tagged[0].source.lower().replace("credentials", "")
        assert node.metadata["kernelspec"]["name"] == "python3"
        logic = [
            c.source for c in code if re.search(r"^\s*(def |for |while |class )", c.source, re.M)
        ]
        assert not logic, f"{template.name} holds logic: {logic}"


def test_derived_cache_gives_the_same_review(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review import context as derived

    def prepare(snapshot: Path) -> Path:
        config = load_config(None)
        return derived.derive_into(derived.derived_dir(snapshot, config), snapshot, None, config)

    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    computed = {t: incident_review_data(snapshot, t) for t in (1, 2, 3)}
    directory = prepare(snapshot)
    assert (directory / "done").is_file()
    for ticket, expected in computed.items():
        cached = incident_review_data(snapshot, ticket)
        for name in ("who_what", "metrics", "checklist", "findings", "communication"):
            assert getattr(cached, name).astype(str).equals(getattr(expected, name).astype(str))
        assert cached.segments.equals(expected.segments) and cached.end == expected.end
    assert prepare(snapshot) == directory  # a no-op the second time
    stale = directory.with_name("0" * 32)  # an older cache of the same snapshot
    stale.mkdir()
    (stale / "manifest.json").write_text((directory / "manifest.json").read_text())
    (stale / "done").write_text("")
    directory.joinpath("done").unlink()
    assert prepare(snapshot) == directory and not stale.exists()


# --------------------------------------------------------------------------- issue 12


def test_a_month_without_incidents_says_so(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    code = run_cli("render", "--month", "2026-08", "--snapshot", str(snapshot), "--out", str(out))
    err = capsys.readouterr().err
    assert code == 0
    assert err == f"no incidents opened in 2026-08 in the snapshot {snapshot}: nothing to render\n"


@pytest.mark.slow
def test_render_without_html_keeps_a_reviews_html_current(snapshot: Path, tmp_path: Path) -> None:
    """A render without --html took a review's HTML away, while the monthly and support-gap
    reports linked to it (issue 22): it is kept, and rendered again with the notebook, so
    it is never stale either."""
    out = tmp_path / "reports"
    base = [str(HOSTILE_TICKET), "--snapshot", str(snapshot), "--out", str(out)]
    page = out / "2026-10" / f"incident-{HOSTILE_TICKET}.html"
    assert run_cli("render", *base, "--html") == 0
    first = page.stat().st_mtime_ns
    assert run_cli("render", *base, "--force") == 0
    assert page.stat().st_mtime_ns > first  # written again, with the notebook
    assert f'href="2026-10/incident-{HOSTILE_TICKET}.html"' in (out / "index.html").read_text()


def test_running_a_template_does_not_change_the_fingerprint(snapshot: Path, tmp_path: Path) -> None:
    """What JupyterLab adds when a template is run and saved: outputs, counts, metadata."""
    template = rendering.template_path(PAGES["incident"].template)
    node = json.loads(template.read_text())
    for cell in node["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ran\n"]}]
            cell["execution_count"] = 7
        cell["metadata"]["collapsed"] = True
    node["metadata"]["widgets"] = {"state": {}}
    ran = tmp_path / "ran.ipynb"
    ran.write_text(json.dumps(node, indent=2))
    inputs = rendering.load_inputs(snapshot, None)

    def fingerprint(path: Path) -> str:
        return rendering.incident_jobs(inputs, [HOSTILE_TICKET], tmp_path, True, path)[
            0
        ].fingerprint

    assert fingerprint(ran) == fingerprint(template)
    node["cells"][2]["source"] = "print('an edited template')"
    ran.write_text(json.dumps(node, indent=2))
    assert fingerprint(ran) != fingerprint(template)
