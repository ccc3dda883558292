"""Snapshots by month: written in parts the manifest checks, read a part and a block at a time."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from review.errors import SnapshotError
from review.snapshot import (
    DATA_FILES,
    TICKETS,
    TRANSACTIONS,
    load_snapshot,
    read_jsonl,
    read_manifest,
    write_snapshot,
)
from review.snapshot import parse as parsing
from review.snapshot.layout import month_of

SAMPLE = Path(__file__).parent.parent / "data" / "sample"
EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"


def sample_rows() -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    tickets, transactions, queues, users = (read_jsonl(SAMPLE / n) for n in DATA_FILES)
    return tickets, transactions, queues, users


def write(target: Path, tickets: list[dict], transactions: list[dict]) -> Path:
    _, _, queues, users = sample_rows()
    return write_snapshot(
        target, tickets, transactions, queues, users, source="t", query="q",
        pulled_at="2026-11-01T06:00:00Z",
    )  # fmt: skip


def test_each_month_is_one_part_with_its_checksum(tmp_path: Path) -> None:
    tickets, transactions, _, _ = sample_rows()
    snap = write(tmp_path / "s", tickets, transactions)
    parts = read_manifest(snap)["parts"]
    assert [p["month"] for p in parts[TICKETS]] == ["2026-08", "2026-09", "2026-10"]
    months = {str(t["id"]): month_of(t) for t in tickets}
    for name in (TICKETS, TRANSACTIONS):
        data = (snap / name).read_bytes()
        assert sum(p["length"] for p in parts[name]) == len(data)
        for part in parts[name]:
            piece = data[part["offset"] : part["offset"] + part["length"]]
            assert hashlib.sha256(piece).hexdigest() == part["sha256"]
            rows = [json.loads(line) for line in piece.splitlines()]
            assert len(rows) == part["rows"]
            ids = [str(r["id"]) if name == TICKETS else r["ObjectId"] for r in rows]
            assert {months[i] for i in ids} == {part["month"]}  # a ticket's history with it
    pd.testing.assert_frame_equal(load_snapshot(snap).tickets, load_snapshot(SAMPLE).tickets)


def test_blocks_smaller_than_a_file_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = load_snapshot(SAMPLE)
    monkeypatch.setattr(parsing, "BLOCK_BYTES", 4096)  # lines cross many block ends
    blocks = load_snapshot(SAMPLE)
    for name in ("tickets", "transactions", "watchers", "custom_fields", "links"):
        pd.testing.assert_frame_equal(getattr(blocks, name), getattr(whole, name))
    lines = (EXAMPLE / TRANSACTIONS).read_text().splitlines()
    row = json.loads(lines[30])
    row["ObjectId"] = "99"
    (tmp_path / "e").mkdir()
    for name in DATA_FILES:
        (tmp_path / "e" / name).write_bytes((EXAMPLE / name).read_bytes())
    (tmp_path / "e" / TRANSACTIONS).write_text(
        "\n".join([*lines[:30], json.dumps(row), *lines[31:]]) + "\n"
    )
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    manifest["sha256"].pop(TRANSACTIONS)
    (tmp_path / "e" / "manifest.json").write_text(json.dumps(manifest))
    found = load_snapshot(tmp_path / "e")
    assert [(p.file, p.line) for p in found.problems] == [(TRANSACTIONS, 31)]  # line of the file


def test_a_read_buffer_kept_from_a_longer_file_shows_the_next_only_its_own_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(parsing, "_SPARE", [])
    long_rows = [{"id": n, "Name": "x" * 50} for n in range(1, 200)]  # many blocks
    (tmp_path / "long.jsonl").write_text("".join(json.dumps(r) + "\n" for r in long_rows))
    (tmp_path / "short.jsonl").write_text('{"id": 7, "Name": "seven"}\n{"id": 8}')  # no last \n

    def rows(name: str) -> list[dict]:
        span = parsing.Span(tmp_path, name)
        options = parsing.pa_json.ParseOptions(explicit_schema=parsing.SCHEMAS["queues.jsonl"])
        return [
            r for _, data in span.blocks() for r in parsing.parse_json(data, options).to_pylist()
        ]

    assert len(rows("long.jsonl")) == 199
    assert [len(b) for b in parsing._SPARE] == [4096, 4096]  # kept for the next file
    assert rows("short.jsonl") == [
        {"id": 7, "Name": "seven", "Lifecycle": None},
        {"id": 8, "Name": None, "Lifecycle": None},
    ]


def test_a_file_changed_after_the_pull_is_checked_before_its_cache_is_used(tmp_path: Path) -> None:
    tickets, transactions, _, _ = sample_rows()
    snap = write(tmp_path / "s", tickets, transactions)
    load_snapshot(snap, tmp_path / "cache")
    data = bytearray((snap / TRANSACTIONS).read_bytes())
    at = data.index(b'"Type": "Comment"')
    data[at + 9 : at + 16] = b"Commenz"  # same length: only the checksum can tell
    (snap / TRANSACTIONS).write_bytes(bytes(data))
    later = (snap / "manifest.json").stat().st_mtime_ns + 1_000_000_000
    os.utime(snap / TRANSACTIONS, ns=(later, later))
    with pytest.raises(SnapshotError, match=r"checksum does not match manifest\.json"):
        load_snapshot(snap, tmp_path / "cache")


def test_parts_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    tickets, transactions, _, _ = sample_rows()
    snap = write(tmp_path / "s", tickets, transactions)
    manifest = json.loads((snap / "manifest.json").read_text())
    manifest["parts"][TICKETS][1]["offset"] += 1
    (snap / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match=r"manifest.json: parts must list each month"):
        load_snapshot(snap)


def test_a_ticket_filed_under_two_months_is_refused(tmp_path: Path) -> None:
    tickets, transactions, _, _ = sample_rows()
    again = dict(tickets[0], LastUpdated="2026-10-30T00:00:00Z")  # ticket 1, a month later
    snap = write(tmp_path / "s", [*tickets, again], transactions)
    with pytest.raises(SnapshotError, match=r"ticket 1 is in the parts of two months"):
        load_snapshot(snap)


def test_messages_are_read_for_the_tickets_asked(tmp_path: Path) -> None:
    cached = load_snapshot(SAMPLE, tmp_path / "cache")
    held = load_snapshot(SAMPLE)
    texts = cached.messages([5, 7])
    assert set(texts["ticket_id"]) == {5, 7}
    assert list(texts.columns) == ["ticket_id", "txn_id", "data"]
    pd.testing.assert_frame_equal(
        texts.sort_values("txn_id", ignore_index=True),
        held.messages([5, 7]).sort_values("txn_id", ignore_index=True),
    )
    assert "data" not in cached.transactions  # the history analysed never holds the texts


def test_a_message_longer_than_a_parse_block_is_read_whole(tmp_path: Path) -> None:
    """Arrow parses JSON in 16 MB blocks and refused a line across more than two of them (a
    pasted log): the whole snapshot was refused as 'not written by review pull'."""
    tickets, transactions, _, _ = sample_rows()
    reply = next(t for t in transactions if t["Type"] == "Correspond")
    reply["Data"] = "log line\n" * 4_000_000  # 36,000,000 characters: 40 MB of JSON
    snap = write(tmp_path / "s", tickets, transactions)
    texts = load_snapshot(snap, tmp_path / "cache").messages([int(reply["ObjectId"])])
    said = texts.set_index("txn_id")["data"][int(reply["id"])]
    assert said == reply["Data"]
    assert load_snapshot(snap).transactions["txn_id"].tolist() == [
        int(t["id"]) for t in transactions
    ]


def test_parts_read_from_the_cache_as_one_are_the_parts_read_one_by_one(tmp_path: Path) -> None:
    from review.snapshot.cache import MOVES, PER_TICKET
    from review.snapshot.load import open_catalog

    tickets, transactions, _, _ = sample_rows()
    snap = write(tmp_path / "s", tickets, transactions)
    cached, held = open_catalog(snap, tmp_path / "cache"), open_catalog(snap, None)
    assert len(cached.parts) == 3 and all(p.held is None for p in cached.parts)
    for name in (*PER_TICKET, MOVES):
        for parts in (None, [1], [0, 2]):
            pd.testing.assert_frame_equal(cached.frame(name, parts), held.frame(name, parts))


def test_files_read_as_one_keep_their_order_rows_and_types(tmp_path: Path) -> None:
    from review.snapshot.cache import read_files

    first = pd.DataFrame({"ticket_id": [3, 1], "name": pd.Series(["c", "a"], dtype="string")})
    empty = first.iloc[0:0]
    last = pd.DataFrame({"ticket_id": [2], "name": pd.Series(["b"], dtype="string")})
    paths = [tmp_path / f"{n}.parquet" for n in range(3)]
    for frame, path in zip((first, empty, last), paths, strict=True):
        frame.to_parquet(path, index=False)
    found, rows = read_files(paths)
    assert rows == [2, 0, 1]
    assert found["ticket_id"].tolist() == [3, 1, 2] and found["name"].tolist() == ["c", "a", "b"]
    assert str(found["name"].dtype) == "string"
    found, rows = read_files(paths, ["name"], ticket_ids={1, 2})
    assert rows == [1, 0, 1] and found.columns.tolist() == ["name"]
    assert found["name"].tolist() == ["a", "b"]
    # typed unlike the others (a float id): read one by one, as pandas puts them together
    pd.DataFrame({"ticket_id": [4.5], "name": ["d"]}).to_parquet(paths[1], index=False)
    found, rows = read_files(paths)
    assert rows == [2, 1, 1] and found["ticket_id"].tolist() == [3.0, 1.0, 4.5, 2.0]


def test_a_cache_parsed_by_other_code_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot cache is keyed by the source of review.snapshot too: a checkout between
    versions never reads a parse made by other code as if it were its own."""
    from review.snapshot import fingerprint
    from review.snapshot import load as loading

    cached = tmp_path / "cache"
    first = load_snapshot(SAMPLE, cached)
    parsed = set(os.listdir(cached / "segments"))
    assert len(parsed) == 3  # a part a month
    for module in (fingerprint, loading):
        monkeypatch.setattr(module, "parse_version", lambda: "other code")
    again = load_snapshot(SAMPLE, cached)
    assert len(set(os.listdir(cached / "segments")) - parsed) == 3  # each part parsed again
    pd.testing.assert_frame_equal(again.transactions, first.transactions)
