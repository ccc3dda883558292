"""The parse's shortcuts give what the long way gives: ids read exactly, repeats found among
rising ids, each part's referenced values (cache.REFS) found in Arrow, and lines that are no
JSON object named wherever they are, though a block is searched for them only where one may be."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from review.errors import SnapshotError
from review.snapshot import load_snapshot
from review.snapshot import parse as parsing
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


# --------------------------------------------------------------------------- lines that are no object
# The search for them runs only where one may be (parse.tables): a block that does not start
# with `{`, one Arrow refuses, one with a row without id. Each is named as a search of every
# block before the parse named it: its file's line, before any other problem of its block.


def _with_line(example: Path, number: int, text: str) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rewrite(example, "transactions.jsonl", [*lines[: number - 1], text, *lines[number - 1 :]])


@pytest.mark.parametrize("where", [1, 2, 18, 35])  # first, second, middle, last line
@pytest.mark.parametrize("stray", ["null", " null", "5", '"text"', "[1, 2]", "true", "[]"])
def test_a_line_that_is_no_object_is_named_wherever_it_is(
    example: Path, stray: str, where: int
) -> None:
    _with_line(example, where, stray)  # Arrow reads `null` as a row of nulls, or crashes
    with pytest.raises(
        SnapshotError, match=rf"transactions.jsonl:{where}: expected one JSON object per line"
    ):
        load_snapshot(example)


def test_a_null_line_first_in_a_block_of_its_own_is_named_not_a_crash(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "BLOCK_BYTES", 4096)  # null starts a later block
    lines = (example / "transactions.jsonl").read_text().splitlines()
    sizes = [len(line) + 1 for line in lines]
    at = next(n for n in range(len(lines)) if sum(sizes[:n]) > 4096)  # in the second block
    blocks = [bytes(data) for _, data in parsing.Span(EXAMPLE, "transactions.jsonl").blocks()]
    first = len(blocks[0].splitlines())  # the lines of the first block
    assert first <= at
    _with_line(example, first + 1, "null")
    with pytest.raises(
        SnapshotError, match=rf"transactions.jsonl:{first + 1}: expected one JSON object per line"
    ):
        load_snapshot(example)


def test_a_line_that_is_no_object_is_named_before_a_wrong_type_above_it(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    row = json.loads(lines[2])
    row["Type"] = 5  # line 3: Arrow refuses the block for it
    lines[2] = json.dumps(row)
    rewrite(example, "transactions.jsonl", [*lines[:9], "null", *lines[9:]])  # line 10
    with pytest.raises(
        SnapshotError, match=r"transactions.jsonl:10: expected one JSON object per line"
    ):
        load_snapshot(example)


def test_an_object_without_id_is_a_row_left_out_not_a_stray_line(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rewrite(example, "transactions.jsonl", [*lines[:5], "{}", '  {"id": null}', *lines[5:]])
    snap = load_snapshot(example)
    assert [str(p) for p in snap.problems] == [
        f"transactions.jsonl:{n}: missing one of id, ObjectId, Type, Created, Creator; row left out"
        for n in (6, 7)
    ]
