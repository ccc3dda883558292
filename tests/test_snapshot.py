"""Reading snapshots: RT's shapes, and problems reported by file and line."""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from review.errors import SnapshotError
from review.snapshot import DATA_FILES, load_snapshot, read_jsonl, write_snapshot

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"


def rewrite(directory: Path, name: str, lines: list[str]) -> None:
    """Replace one file and fix the manifest checksum, as a pull that wrote this would."""
    objects = {n: read_jsonl(directory / n) for n in DATA_FILES if n != name}
    (directory / name).write_text("".join(line + "\n" for line in lines))
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["sha256"].pop(name)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert objects  # the other files stay as they were


@pytest.fixture
def example(tmp_path: Path) -> Path:
    target = tmp_path / "snap"
    shutil.copytree(EXAMPLE, target)
    return target


def test_reads_rt_shapes_into_tidy_frames() -> None:
    snap = load_snapshot(EXAMPLE)
    assert list(snap.tickets["ticket_id"]) == [1, 2]
    assert snap.tickets.loc[0, "created"] == pd.Timestamp("2026-09-08T13:05:00Z")
    assert len(snap.transactions) == 34
    assert set(snap.watchers.query("ticket_id == 2 and role == 'Requestor'")["user"]) == {
        "cust2",
        "cust3",
    }
    assert snap.field_values("Service").to_dict() == {1: "web-portal", 2: "lists"}
    assert snap.links.to_dict("records") == [
        {"ticket_id": 1, "ref": "refers-to", "target": "4", "external": False}
    ]
    assert dict(zip(snap.users["user_id"], snap.users["name"], strict=True))["6"] == "Nobody"
    assert snap.problems == []


def test_unset_dates_are_missing_not_1970() -> None:
    snap = load_snapshot(EXAMPLE)
    assert snap.tickets["started"].notna().all()
    example = read_jsonl(EXAMPLE / "tickets.jsonl")
    assert example[0]["Due"] == "1970-01-01T00:00:00Z"  # RT's unset date really is in the data
    assert "due" not in snap.tickets  # and nothing reads it as 1970


def test_missing_directory_and_missing_file(tmp_path: Path, example: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot here"):
        load_snapshot(tmp_path / "absent")
    (example / "users.jsonl").unlink()
    with pytest.raises(SnapshotError, match=r"users.jsonl: missing file"):
        load_snapshot(example)


def test_bad_json_names_file_and_line(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    lines[6] = lines[6][:40]  # line 7 cut short
    rewrite(example, "transactions.jsonl", lines)
    with pytest.raises(SnapshotError, match=r"transactions.jsonl:7: bad JSON"):
        load_snapshot(example)


def test_transaction_of_unknown_ticket_is_reported_and_left_out(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    row = json.loads(lines[3])
    row["ObjectId"] = "99"
    row["id"] = "9999"
    lines.insert(10, json.dumps(row))  # becomes line 11
    rewrite(example, "transactions.jsonl", lines)
    snap = load_snapshot(example)
    assert [(p.file, p.line) for p in snap.problems] == [("transactions.jsonl", 11)]
    assert "not in tickets.jsonl" in snap.problems[0].message
    assert len(snap.transactions) == 34


def test_ticket_with_unset_created_is_left_out_with_its_line(example: Path) -> None:
    lines = (example / "tickets.jsonl").read_text().splitlines()
    ticket = json.loads(lines[1])
    ticket["Created"] = "1970-01-01T00:00:00Z"
    rewrite(example, "tickets.jsonl", [lines[0], json.dumps(ticket)])
    snap = load_snapshot(example)
    assert list(snap.tickets["ticket_id"]) == [1]
    assert ("tickets.jsonl", 2) in [(p.file, p.line) for p in snap.problems]
    assert {p.file for p in snap.problems} == {
        "tickets.jsonl",
        "transactions.jsonl",
    }  # ticket 2's rows


def test_edited_file_fails_its_checksum(example: Path) -> None:
    with (example / "queues.jsonl").open("a") as handle:
        handle.write('{"id": 9, "Name": "extra"}\n')
    with pytest.raises(SnapshotError, match=r"checksum does not match manifest\.json"):
        load_snapshot(example)


def test_cache_returns_the_same_frames(tmp_path: Path) -> None:
    first = load_snapshot(EXAMPLE, cache_dir=tmp_path)
    assert len(list((tmp_path / "snapshots").iterdir())) == 1  # one catalog, one segment
    assert len(list((tmp_path / "segments").iterdir())) == 1
    second = load_snapshot(EXAMPLE, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first.transactions, second.transactions)
    pd.testing.assert_frame_equal(first.tickets, second.tickets)


def test_a_cache_that_cannot_be_written_is_said_once_and_the_snapshot_read_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    whole = load_snapshot(EXAMPLE)
    for _ in range(2):
        found = load_snapshot(EXAMPLE, cache_dir=blocked)
        pd.testing.assert_frame_equal(found.transactions, whole.transactions)
        pd.testing.assert_frame_equal(found.tickets, whole.tickets)
    assert capsys.readouterr().err == (
        f"warning: cannot write the snapshot cache {blocked} (Not a directory): read without "
        "it, slower and in more memory; give REVIEW_CACHE_DIR or [paths] cache a directory you "
        "may write\n"
    )  # once a process: a run reads its snapshot more than once


def test_a_race_while_caching_only_costs_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another run may prune a file this one looks at: read all the same, and not called a
    full disk."""
    from review.snapshot import load

    def pruned_meanwhile(*args: object) -> None:
        raise FileNotFoundError("a part's file")

    monkeypatch.setattr(load, "_write_catalog", pruned_meanwhile)
    found = load_snapshot(EXAMPLE, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(found.tickets, load_snapshot(EXAMPLE).tickets)
    assert capsys.readouterr().err == ""


def test_write_replaces_atomically_and_keeps_the_old_one_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    write_snapshot(target, [{"id": 1}], [], [], [], source="t", query="q", pulled_at="now")

    def failing() -> Iterator[dict[str, str]]:
        yield {"id": "7"}
        raise OSError("disk full")  # half-way through writing transactions.jsonl

    with pytest.raises(OSError, match="disk full"):
        write_snapshot(
            target, [{"id": 2}], failing(), [], [], source="t", query="q", pulled_at="now"
        )
    assert read_jsonl(target / "tickets.jsonl") == [{"id": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]


def test_a_snapshot_is_private_whatever_the_umask(tmp_path: Path) -> None:
    """It holds ticket text: its folder is 0700 (mkdtemp's, kept), so what is in it cannot be
    reached by others even when written under umask 022 outside the `review` command."""
    mask = os.umask(0o022)
    try:
        target = write_snapshot(
            tmp_path / "snap", [], [], [], [], source="t", query="q", pulled_at="t"
        )
    finally:
        os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o700


def test_a_write_killed_between_its_renames_loses_nothing(tmp_path: Path) -> None:
    target = write_snapshot(
        tmp_path / "snap", [{"id": 1}], [], [], [], source="t", query="q", pulled_at="t"
    )
    target.rename(tmp_path / ".snap.old-4242")  # killed after retiring the old snapshot
    (tmp_path / ".snap.new-abc").mkdir()  # and before the new one was in place
    write_snapshot(tmp_path / "elsewhere", [], [], [], [], source="t", query="q", pulled_at="t")
    assert (tmp_path / ".snap.old-4242").exists()  # another snapshot's write leaves it alone
    with pytest.raises(OSError, match="disk full"):

        def failing() -> Iterator[dict[str, str]]:
            raise OSError("disk full")
            yield {}

        write_snapshot(target, [{"id": 2}], failing(), [], [], source="t", query="q", pulled_at="t")
    assert read_jsonl(target / "tickets.jsonl") == [{"id": 1}]  # the previous snapshot is back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "snap"]


# --------------------------------------------------------------------------- hostile and quiet input


def test_a_quiet_month_without_tickets_is_a_valid_snapshot(tmp_path: Path) -> None:
    queues = read_jsonl(EXAMPLE / "queues.jsonl")
    target = write_snapshot(
        tmp_path / "quiet", [], [], queues, [], source="t", query="q", pulled_at="t"
    )
    snap = load_snapshot(target)
    assert len(snap.tickets) == 0 and len(snap.transactions) == 0 and snap.problems == []
    assert list(snap.tickets.columns)[:3] == ["ticket_id", "subject", "status"]
    assert len(snap.queues) == 2


def test_tickets_all_dropped_as_malformed_leave_an_empty_snapshot(example: Path) -> None:
    lines = (example / "tickets.jsonl").read_text().splitlines()
    rewrite(
        example, "tickets.jsonl", [json.dumps({"id": 1}), json.dumps({"id": 2, "Status": "open"})]
    )
    snap = load_snapshot(example)
    assert len(snap.tickets) == 0 and len(snap.transactions) == 0
    assert [(p.file, p.line) for p in snap.problems][:2] == [
        ("tickets.jsonl", 1),
        ("tickets.jsonl", 2),
    ]
    assert len(snap.problems) == 2 + 34  # and every transaction, whose ticket is gone
    assert lines  # the original had two good tickets


def test_a_repeated_ticket_line_is_kept_once_with_a_warning(example: Path) -> None:
    lines = (example / "tickets.jsonl").read_text().splitlines()
    rewrite(example, "tickets.jsonl", [lines[0], lines[1], lines[0]])
    snap = load_snapshot(example)
    assert list(snap.tickets["ticket_id"]) == [1, 2]
    assert snap.field_values("Service").to_dict() == {1: "web-portal", 2: "lists"}  # not doubled
    assert len(snap.watchers.query("ticket_id == 1")) == len(
        load_snapshot(EXAMPLE).watchers.query("ticket_id == 1")
    )
    assert [str(p) for p in snap.problems] == [
        "tickets.jsonl:3: ticket 1 repeats line 1; repeat left out"
    ]


def test_a_repeated_transaction_is_kept_once_with_a_warning(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rewrite(example, "transactions.jsonl", [*lines, lines[4]])  # line 35 repeats line 5
    snap = load_snapshot(example)
    assert len(snap.transactions) == 34
    txn = json.loads(lines[4])["id"]
    assert [str(p) for p in snap.problems] == [
        f"transactions.jsonl:35: transaction {txn} repeats line 5; repeat left out"
    ]


def test_two_different_versions_of_one_ticket_are_refused(example: Path) -> None:
    lines = (example / "tickets.jsonl").read_text().splitlines()
    changed = json.loads(lines[0])
    changed["Status"] = "open"
    rewrite(example, "tickets.jsonl", [lines[0], lines[1], json.dumps(changed)])
    with pytest.raises(
        SnapshotError,
        match=r"tickets.jsonl:3: ticket 1 appears twice with different content \(first at line 1\)",
    ):
        load_snapshot(example)


def test_a_file_that_is_not_utf8_is_named_with_its_line(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    rewrite(example, "transactions.jsonl", lines)  # no checksum: the reader must catch it
    latin1 = [line.encode() for line in lines]
    latin1[5] = latin1[5].replace(b'"Type": "', b'"Type": "\xe9', 1)
    assert b"\xe9" in latin1[5]
    (example / "transactions.jsonl").write_bytes(b"\n".join(latin1) + b"\n")
    with pytest.raises(SnapshotError, match=r"transactions.jsonl:6: not UTF-8 text"):
        load_snapshot(example)


def test_a_manifest_that_is_not_utf8_or_whose_sha256_is_not_a_table(example: Path) -> None:
    manifest = json.loads((example / "manifest.json").read_text())
    assert load_snapshot(example)  # with a checksum for each of the four data files
    for sums in (["abc"], "abc", {"tickets.jsonl": 5}, {"../../../dev/zero": "abc"}):
        (example / "manifest.json").write_text(json.dumps({**manifest, "sha256": sums}))
        with pytest.raises(SnapshotError, match=r"manifest.json: sha256 must be a table"):
            load_snapshot(example)
    (example / "manifest.json").write_bytes(b'{"format": 1, "source": "\xff"}')
    with pytest.raises(SnapshotError, match=r"manifest.json: not UTF-8 text"):
        load_snapshot(example)


def test_a_huge_or_odd_object_id_is_a_problem_line_not_a_crash(example: Path) -> None:
    lines = (example / "transactions.jsonl").read_text().splitlines()
    for number, value in ((3, "9" * 30), (4, "1e5"), (5, "-2")):
        row = json.loads(lines[number - 1])
        row["ObjectId"] = value
        lines[number - 1] = json.dumps(row)
    rewrite(example, "transactions.jsonl", lines)
    snap = load_snapshot(example)
    assert [str(p) for p in snap.problems] == [
        f"transactions.jsonl:{n}: ObjectId is not a ticket number; left out" for n in (3, 4, 5)
    ]
    assert len(snap.transactions) == 31


def test_a_huge_ticket_id_names_the_line(example: Path) -> None:
    lines = (example / "tickets.jsonl").read_text().splitlines()
    row = json.loads(lines[1])
    row["id"] = int("9" * 30)
    rewrite(example, "tickets.jsonl", [lines[0], json.dumps(row)])
    with pytest.raises(
        SnapshotError, match=r"tickets.jsonl:2: a value has the wrong type or is out of range"
    ):
        load_snapshot(example)


@pytest.mark.parametrize("stray", ["null", "[1, 2]", "5", '"text"'])
def test_a_line_that_is_not_an_object_is_named_not_a_crash(example: Path, stray: str) -> None:
    lines = (example / "queues.jsonl").read_text().splitlines()
    rewrite(example, "queues.jsonl", [lines[0], stray, lines[1]])  # Arrow segfaulted on `null`
    with pytest.raises(SnapshotError, match=r"queues.jsonl:2: expected one JSON object per line"):
        load_snapshot(example)


def test_null_watchers_and_values_are_no_watchers_and_no_values(example: Path) -> None:
    tickets = read_jsonl(example / "tickets.jsonl")
    tickets[0]["Requestor"] = [None, {"id": None}, *tickets[0]["Requestor"]]
    tickets[0]["CustomFields"][0]["values"] = [None]
    rewrite(example, "tickets.jsonl", [json.dumps(t) for t in tickets])
    snap = load_snapshot(example)
    assert snap.watchers["user"].notna().all()
    assert set(snap.watchers.query("ticket_id == 1 and role == 'Requestor'")["user"]) == {"cust1"}
    assert snap.custom_fields["value"].notna().all()
