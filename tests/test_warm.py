"""Warm kernels (review.pages.warm): one kernel runs many notebooks, each of which sees a new kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from papermill.exceptions import PapermillExecutionError

from review.pages import render as rendering
from review.pages import warm
from review.settings.config import sample_snapshot

pytestmark = pytest.mark.slow  # runs notebooks, kernels, JupyterLab or a browser


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Iterator[warm.WarmKernel]:
    """A warm kernel started as a render worker starts it (the batch's kernel environment)."""
    for key, value in rendering.kernel_environment().items():
        monkeypatch.setenv(key, value)
    warm_kernel = warm.WarmKernel(rendering.KERNEL_NAME)
    yield warm_kernel
    warm_kernel.shutdown(now=True)


def notebook(path: Path, *cells: str) -> Path:
    book = new_notebook(
        cells=[new_code_cell(source) for source in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(book, path)
    return path


def run(kernel: warm.WarmKernel, template: Path, cwd: Path | None = None, **parameters: Any) -> Any:
    """papermill on the warm kernel as the batch calls it; the executed notebook (in cwd)."""
    output = (cwd or template.parent) / f"{template.stem}-out.ipynb"
    kernel.execute(
        input_path=str(template),
        output_path=str(output),
        parameters=parameters,
        kernel_name=rendering.KERNEL_NAME,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        cwd=str(cwd) if cwd else None,
    )
    return nbformat.read(output, as_version=4)


def test_nothing_one_notebook_sets_is_seen_by_the_next(
    kernel: warm.WarmKernel, tmp_path: Path
) -> None:
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    setter = notebook(
        tmp_path / "setter.ipynb",
        "leaked = 1\nimport os, matplotlib, matplotlib.pyplot as plt, pandas as pd",
        "plt.figure()\nmatplotlib.rcParams['lines.linewidth'] = 7.5\n"
        "pd.set_option('display.max_rows', 3)\nos.chdir('..')",
    )
    checker = notebook(
        tmp_path / "checker.ipynb",
        "assert 'leaked' not in globals()\nassert 'plt' not in globals()",
        "import os, matplotlib, matplotlib.pyplot as plt, pandas as pd\n"
        "assert plt.get_fignums() == [], plt.get_fignums()\n"
        "assert matplotlib.rcParams['lines.linewidth'] == 1.5\n"
        "assert pd.get_option('display.max_rows') == 60\n"
        "print(os.path.basename(os.getcwd()))",
    )
    run(kernel, setter, cwd=tmp_path / "first")
    pid = kernel.pid
    result = run(kernel, checker, cwd=tmp_path / "second")
    assert kernel.pid == pid  # the same kernel ran both
    assert [cell.execution_count for cell in result.cells] == [1, 2]  # as on a new kernel
    assert result.cells[1].outputs[0]["text"] == "second\n"


def test_after_a_failure_the_next_notebook_gets_a_fresh_kernel(
    kernel: warm.WarmKernel, tmp_path: Path
) -> None:
    good = notebook(tmp_path / "good.ipynb", "import os\nprint(os.getpid())")
    failing = notebook(tmp_path / "failing.ipynb", "raise ValueError('broken')")
    dying = notebook(tmp_path / "dying.ipynb", "import os\nos._exit(3)")

    first = int(run(kernel, good).cells[0].outputs[0]["text"])
    assert first == kernel.pid
    with pytest.raises(PapermillExecutionError, match="broken"):
        run(kernel, failing)
    assert kernel.pid is None  # shut down, not reused
    second = int(run(kernel, good).cells[0].outputs[0]["text"])
    assert second not in (first, None)
    assert int(run(kernel, good).cells[0].outputs[0]["text"]) == second  # warm again

    with pytest.raises(Exception, match=r"(?i)kernel died"):
        run(kernel, dying)
    third = int(run(kernel, good).cells[0].outputs[0]["text"])
    assert third not in (first, second)


def _comparable(book: Any) -> list[list[dict[str, Any]]]:
    """Each cell's outputs without figure bytes, timings or other execution metadata."""
    cells = []
    for cell in book.cells:
        outputs = []
        for output in cell.get("outputs", []):
            shown = {"type": output["output_type"], "count": output.get("execution_count")}
            shown["text"] = output.get("text")
            data = output.get("data", {})
            shown["data"] = {k: v for k, v in data.items() if not k.startswith("image/")}
            shown["images"] = sorted(k for k in data if k.startswith("image/"))
            outputs.append(shown)
        cells.append([cell.get("execution_count"), outputs])
    return cells


@pytest.mark.skipif(not sample_snapshot().is_dir(), reason="the bundled sample is not there")
def test_warm_review_equals_a_cold_papermill_review(
    kernel: warm.WarmKernel, tmp_path: Path
) -> None:
    inputs = rendering.load_inputs(sample_snapshot(), None)
    first, second = sorted(int(t) for t in inputs.metrics_month.index)[:2]
    jobs = rendering.incident_jobs(inputs, [first, second], tmp_path / "out", False)
    for job in jobs:
        job.output.parent.mkdir(parents=True, exist_ok=True)
    cold = tmp_path / "cold.ipynb"
    rendering.execute_notebook(jobs[1].template, cold, jobs[1].parameters, jobs[1].output.parent)

    template = jobs[0].template
    run(kernel, template, jobs[0].output.parent, **jobs[0].parameters)  # another review first
    warm_book = run(kernel, template, jobs[1].output.parent, **jobs[1].parameters)

    expected = _comparable(nbformat.read(cold, as_version=4))
    assert sum(len(outputs) for _, outputs in expected) >= 8  # the review really ran
    assert _comparable(warm_book) == expected


def test_off_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("0", False), ("off", False), ("false", False), ("1", True)):
        monkeypatch.setenv(warm.WARM_ENV, value)
        assert warm.enabled() is expected
    monkeypatch.delenv(warm.WARM_ENV)
    assert warm.enabled() is True
