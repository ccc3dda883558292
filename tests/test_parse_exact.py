"""The parse's shortcuts give what the long way gives: ids read exactly, repeats found among
rising ids and each part's referenced values (cache.REFS) found in Arrow."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from review.snapshot import load_snapshot
from review.snapshot.segment import _refs
from tests.test_snapshot import EXAMPLE, rewrite

LONG = 12345678901234567  # 17 digits: a float has no room for it (12345678901234568)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    target = tmp_path / "snap"
    shutil.copytree(EXAMPLE, target)
    return target


def test_a_long_id_beside_one_that_is_no_number_is_read_exactly(example: Path) -> None:
    tickets = (example / "tickets.jsonl").read_text().splitlines()
    ticket = json.loads(tickets[1])
    ticket["id"] = LONG
    rewrite(example, "tickets.jsonl", [tickets[0], json.dumps(ticket), json.dumps({"id": None})])
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    for row in rows:
        if row["ObjectId"] == "2":
            row["ObjectId"] = str(LONG)
    rows[4]["id"] = "not-a-number"  # a null among the ids of the block: floats, before
    rows[-1]["id"] = str(LONG + 2)  # the last (ticket 1's, id 109): still rising
    rewrite(example, "transactions.jsonl", [json.dumps(row) for row in rows])
    snap = load_snapshot(example)
    assert sorted(snap.tickets["ticket_id"]) == [1, LONG]
    assert snap.transactions["txn_id"].iloc[-1] == LONG + 2
    assert set(snap.transactions["ticket_id"]) == {1, LONG}
    assert [str(p) for p in snap.problems] == [
        "tickets.jsonl:3: missing one of id, Status, Queue, Created; row left out",
        "transactions.jsonl:5: id is not a number; left out",
    ]


def test_repeats_among_rising_ids_are_found(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    rows[2]["id"] = "x"  # the numbers still rise (57, 58, 60, ...): only texts can repeat
    lines = [json.dumps(row) for row in rows]
    rewrite(example, "transactions.jsonl", [*lines[:4], lines[2], *lines[4:]])  # line 5 = 3
    snap = load_snapshot(example)
    assert [str(p) for p in snap.problems] == [
        "transactions.jsonl:5: transaction x repeats line 3; repeat left out",
        "transactions.jsonl:3: id is not a number; left out",
    ]
    assert len(snap.transactions) == 33


def test_a_number_repeated_next_to_itself_is_found(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rewrite(example, "transactions.jsonl", [*lines[:4], lines[3], *lines[4:]])  # 57 58 59 60 60
    snap = load_snapshot(example)
    assert [str(p) for p in snap.problems] == [
        "transactions.jsonl:5: transaction 60 repeats line 4; repeat left out"
    ]


def test_refs_are_each_value_once_in_code_point_order() -> None:
    def strings(*values: str | None) -> pd.Series:
        return pd.Series(list(values), dtype="string")

    frames = {
        "tickets": pd.DataFrame(
            {
                "owner": strings("bob", None, "Zoë"),
                "creator": strings("bob", "ann", "ann"),
                "queue_id": strings("3", "3", "12"),
            }
        ),
        "transactions": pd.DataFrame(
            {"creator": strings("ann"), "old": strings("", "é"), "new": strings("Z", "3")}
        ),
        "watchers": pd.DataFrame({"user": strings("ann", None)}),
    }
    found = _refs(frames)
    assert list(found.columns) == ["value"] and found["value"].dtype == "string"
    assert list(found["value"]) == ["", "12", "3", "Z", "Zoë", "ann", "bob", "é"]
    empty = {name: frame.iloc[:0] for name, frame in frames.items()}
    assert len(_refs(empty)) == 0 and _refs(empty)["value"].dtype == "string"


def test_an_id_in_digits_of_another_script_is_no_number_not_a_crash(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    rows[2]["ObjectId"] = "²"  # Unicode calls it a digit; Arrow's cast to a number failed
    rows[3]["id"] = "٣"  # an Arabic-Indic three
    rows[4]["ObjectId"] = "１"  # a full-width one
    rewrite(example, "transactions.jsonl", [json.dumps(row) for row in rows])
    snap = load_snapshot(example)
    assert [str(p) for p in snap.problems] == [
        "transactions.jsonl:3: ObjectId is not a ticket number; left out",
        "transactions.jsonl:5: ObjectId is not a ticket number; left out",
        "transactions.jsonl:4: id is not a number; left out",
    ]
    assert len(snap.transactions) == 31
