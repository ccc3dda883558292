"""Copies of a fixture snapshot with hand edits (an impossible time, a queue row gone, ...):
the inputs of the tests that check the kit says so rather than computing from them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from review.snapshot import DATA_FILES, read_jsonl, write_snapshot

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"
Rows = dict[str, list[dict[str, Any]]]
# the example's link (txn 109) was backdated by hand to 2026-09-09T10:25Z, before transactions
# RT wrote before it: a history that runs backwards (test_backwards_times.py); an edited copy
# stamps it with its ticket's last time, so a test of another problem sees that one alone
EXAMPLE_LINK, EXAMPLE_LINK_IN_ORDER = 109, "2026-09-10T12:00:00Z"


def edited(source: Path, target: Path, edit: Callable[[Rows], None]) -> Path:
    """`source` with `edit` applied to its rows, written as a snapshot (same pull time and
    coverage) at `target` (EXAMPLE's backdated link first put in RT's order)."""
    rows = {name: read_jsonl(source / name) for name in DATA_FILES}
    if source == EXAMPLE:
        txn(rows, EXAMPLE_LINK)["Created"] = EXAMPLE_LINK_IN_ORDER
    edit(rows)
    manifest = json.loads((source / "manifest.json").read_text())
    return write_snapshot(
        target, *(rows[name] for name in DATA_FILES), source=manifest["source"],
        query=manifest["query"], pulled_at=manifest["pulled_at"],
        coverage=manifest.get("coverage"),
    )  # fmt: skip


def txn(rows: Rows, txn_id: int) -> dict[str, Any]:
    """The transaction `txn_id` (to edit in place)."""
    return next(t for t in rows["transactions.jsonl"] if t["id"] == str(txn_id))


def stamp(txn_id: int, when: str) -> Callable[[Rows], None]:
    """An edit: transaction `txn_id` stamped `when` (RT's ...Z form)."""

    def edit(rows: Rows) -> None:
        txn(rows, txn_id)["Created"] = when

    return edit


def unbacked_lines(stderr: str) -> list[str]:
    """The warning lines about data the numbers cannot rest on (review.analysis.quality), not
    those about the config's fit to the data."""
    from review.analysis.quality import KINDS

    heads = [what for what, _ in KINDS.values()]
    return [
        line
        for line in stderr.splitlines()
        if line.startswith("warning:") and any(f"mismatch: {head} " in line for head in heads)
    ]
