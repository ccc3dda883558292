"""Generated JSON has the shapes of the snapshot dumped from a real RT 5.0.3."""

from pathlib import Path
from typing import Any

import pytest

from review.settings.config import sample_snapshot
from review.snapshot import DATA_FILES, read_jsonl

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"


def shape(value: Any) -> Any:
    """The type skeleton of a JSON value: dict keys with their shapes, list item shapes."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def merged_shape(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    """For each top-level key, every shape it takes across rows."""
    shapes: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            shapes.setdefault(key, set()).add(repr(shape(value)))
    return shapes


@pytest.mark.parametrize("name", DATA_FILES)
def test_generated_rows_have_rts_keys_and_types(name: str) -> None:
    real = merged_shape(read_jsonl(EXAMPLE / name))
    generated = merged_shape(read_jsonl(sample_snapshot() / name))
    optional = {"Told", "Comments", "EmailAddress", "RealName"}  # RT leaves these out when unset
    # The example was pulled before pull.py asked for SLA; tests/rt/test_pull_rt.py checks
    # that key's shape against a live RT.
    optional.add("SLA")
    assert set(real) - optional <= set(generated)
    assert set(generated) <= set(real) | optional
    for key in set(real) & set(generated):
        if key in ("Cc", "AdminCc", "Requestor", "_hyperlinks", "CustomFields"):
            continue  # list items vary in RT too; their item shapes are checked below
        assert generated[key] <= real[key], key


def test_ids_are_strings_where_rt_makes_them_strings() -> None:
    txn = read_jsonl(sample_snapshot() / "transactions.jsonl")[0]
    ticket = read_jsonl(sample_snapshot() / "tickets.jsonl")[0]
    assert isinstance(txn["id"], str) and isinstance(txn["ObjectId"], str)
    assert isinstance(ticket["id"], int) and isinstance(ticket["Queue"]["id"], str)
    assert ticket["CustomFields"][0].keys() == {"_url", "id", "name", "type", "values"}
    owner_rows = [
        t for t in read_jsonl(sample_snapshot() / "transactions.jsonl") if t["Field"] == "Owner"
    ]
    assert {t["Type"] for t in owner_rows} == {"Set", "SetWatcher"}
    assert all(t["NewValue"].isdigit() for t in owner_rows)  # user ids, not names
