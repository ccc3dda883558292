"""Any mangled snapshot line or config value gives a result or one ReviewError, never another
exception (a traceback is a bug: the user cannot tell what to fix).

Found so far: a transaction without Creator, a null watcher or custom-field value (pandas
errors), and a bare `null` line, on which pyarrow's JSON reader crashes the process.
"""

import json
import math
import shutil
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.analysis.metrics import format_metrics
from review.closeout.gaps import FINDING_COLUMNS
from review.closeout.registry import load_registry
from review.context import Context
from review.errors import ReviewError
from review.settings.config import _default_tree, load_config
from review.snapshot import DATA_FILES, load_snapshot

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"
REGISTRY = Path(__file__).parent / "fixtures" / "gaps" / "services.yaml"
CONFIG = load_config(None)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["", "1970-01-01T00:00:00Z", "2026-10-05T14:00:00Z", "9" * 30, "-1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@st.composite
def mangled_line(draw: st.DrawFn, line: bytes) -> bytes:
    """One line of a snapshot file, damaged the way files get damaged."""
    how = draw(st.sampled_from(["field", "drop", "cut", "bytes", "twice", "other"]))
    if how == "cut":
        return line[: draw(st.integers(0, max(len(line) - 1, 0)))]
    if how == "bytes":
        at = draw(st.integers(0, len(line)))
        return line[:at] + draw(st.binary(min_size=1, max_size=4)) + line[at:]
    if how == "twice":
        return line + b"\n" + line
    if how == "other":
        return json.dumps(draw(JSON), allow_nan=True).encode()
    obj = json.loads(line)
    key = draw(st.sampled_from(sorted(obj)))
    if how == "drop":
        del obj[key]
    else:
        obj[key] = draw(JSON)
    return json.dumps(obj, allow_nan=True).encode()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_mangled_snapshot_line_is_a_result_or_one_review_error(tmp_path_factory, data) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path_factory.mktemp("mangled") / "snap"
    shutil.copytree(EXAMPLE, target)
    name = data.draw(st.sampled_from(DATA_FILES))
    lines = (target / name).read_bytes().splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    lines[index] = data.draw(mangled_line(lines[index]))
    (target / name).write_bytes(b"\n".join(lines) + b"\n")
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["sha256"].pop(name)  # as if a pull had written it so: the reader must cope
    (target / "manifest.json").write_text(json.dumps(manifest))
    Path("/tmp/trust_last.bin").write_bytes((target / name).read_bytes())
    try:
        snapshot = load_snapshot(target)
        context = Context(snapshot, CONFIG, stages={"registry": load_registry(REGISTRY)})
        format_metrics(context.metrics)
        assert list(context.findings.columns) == FINDING_COLUMNS
    except ReviewError:
        pass


def _toml(value: Any) -> str:
    """A TOML literal for a value hypothesis made (TOML has inf and nan; JSON strings are TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


SETTINGS = [
    (section, key)
    for section, table in _default_tree().items()
    for key, value in table.items()
    if not isinstance(value, dict)
]
VALUES = st.recursive(
    st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
    | st.sampled_from(["", "09:00", "25:00", "Mon", "US", "XX", "Europe/Paris", "Mars/Base"]),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(setting=st.sampled_from(SETTINGS), value=VALUES)
def test_any_config_value_is_a_result_or_one_review_error(tmp_path_factory, setting, value) -> None:  # type: ignore[no-untyped-def]
    section, key = setting
    path = tmp_path_factory.mktemp("config") / "review.toml"
    path.write_text(f"[{section}]\n{key} = {_toml(value)}\n")
    tomllib.loads(path.read_text())  # the test writes valid TOML; the value is what varies
    try:
        config = load_config(path)
        snapshot = load_snapshot(EXAMPLE)
        context = Context(snapshot, config, stages={"registry": load_registry(REGISTRY)})
        assert list(context.findings.columns) == FINDING_COLUMNS
    except ReviewError:
        pass
