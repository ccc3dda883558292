"""Every metric against its own cases (tests/metrics/<key>.yaml): one generic test.

A metric is one module of review/analysis/metrics/ named after it, with a docstring that
documents it; its cases file gives, worked out by hand, its value for every incident of the
real RT example and of the bundled sample. Nothing here names a metric.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import review.analysis.metrics as metrics_package
from review.analysis.metric import CLOCKS, Metric
from review.analysis.metrics import METRIC_COLUMNS, METRICS
from tests.metric_cases import SNAPSHOTS, case_files, metric_cases

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_metric_is_one_documented_module_with_its_own_cases() -> None:
    assert case_files() == sorted(METRICS), (
        "a metric without tests/metrics/<key>.yaml, or the reverse"
    )
    modules = {p.stem for p in Path(metrics_package.__file__).parent.glob("[!_]*.py")}
    assert modules == set(METRICS)
    for key, spec in METRICS.items():
        module = importlib.import_module(f"review.analysis.metrics.{key}")
        declared = [v for v in vars(module).values() if isinstance(v, Metric)]
        assert declared == [spec], f"{module.__name__} declares exactly its own metric"
        assert spec.doc == module.__doc__
        assert spec.doc.split("\n\n")[1].strip(), f"{key}: document it below the first line"


def test_metrics_iterate_in_their_declared_order() -> None:
    orders = [m.order for m in METRICS.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert METRIC_COLUMNS[5:] == [c for m in METRICS.values() for c in m.columns]


def _same(want: Any, got: Any) -> bool:
    """A hand-written value (None, a UTC time as text, a count, hours to 2 decimals) against
    the computed one."""
    if want is None:
        return bool(pd.isna(got))
    if pd.isna(got):
        return False
    if isinstance(want, str):
        return pd.Timestamp(want) == pd.Timestamp(got)
    if isinstance(want, int):
        return int(got) == want
    return abs(float(got) - float(want)) <= 0.01


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
@pytest.mark.parametrize("key", sorted(METRICS))
def test_metric_value_of_every_incident(
    key: str, snapshot: str, example_metrics: pd.DataFrame, sample_metrics: pd.DataFrame
) -> None:
    table = {"rt-example": example_metrics, "sample": sample_metrics}[snapshot]
    expected = metric_cases(key)[snapshot]
    assert sorted(expected) == sorted(table.index), f"{key}: a value for every {snapshot} incident"
    spec = METRICS[key]
    problems = []
    for ticket, want in expected.items():
        if spec.unit == "hours":
            wants = [None] * len(CLOCKS) if want is None else want
            pairs = zip(wants, (table.at[ticket, c] for c in spec.columns), strict=True)
        else:
            pairs = iter([(want, table.at[ticket, key])])
        for one, got in pairs:
            if not _same(one, got):
                problems.append(f"ticket {ticket}: expected {want}, got {got}")
    assert not problems, f"{key} on {snapshot}: " + "; ".join(problems)


def test_the_readme_metric_table_is_the_registry() -> None:
    """The README's table of metric columns names every metric, in column order."""
    text = README.read_text()
    table = text[text.index("| column | definition |") :].split("\n\n")[0]
    columns = [re.match(r"\| `(\w+?)(?:_h/_bh)?`", line)[1] for line in table.splitlines()[2:]]
    assert columns == list(METRICS)
