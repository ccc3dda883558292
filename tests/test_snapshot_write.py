"""Writing snapshots: nothing that is not a snapshot is ever replaced, and no swap loses one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from review.errors import SnapshotError
from review.snapshot import DATA_FILES, load_snapshot, read_jsonl, write_snapshot

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"


def write(target: Path | str, ticket_id: int) -> Path:
    return write_snapshot(
        target, [{"id": ticket_id}], [], [], [], source="t", query="q", pulled_at="t"
    )


def write_example(target: Path) -> Path:
    """A small readable snapshot (RT's own JSON from tests/fixtures/rt-example)."""
    files = [read_jsonl(EXAMPLE / name) for name in DATA_FILES]
    return write_snapshot(target, *files, source="t", query="q", pulled_at="t")


def test_a_directory_of_other_files_is_refused_and_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sample").mkdir(parents=True)
    (data / "services.yaml").write_text("services: []\n")
    with pytest.raises(SnapshotError) as caught:
        write(data, 1)
    assert str(caught.value) == (
        f"{data}: holds files that are not a snapshot (sample, services.yaml); refusing to "
        "replace it: give --snapshot a new or empty directory"
    )
    assert sorted(p.name for p in data.iterdir()) == ["sample", "services.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_snapshot_with_a_stray_file_is_refused(tmp_path: Path) -> None:
    target = write(tmp_path / "snap", 1)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(SnapshotError, match=r"not a snapshot \(manifest.json, notes.txt,"):
        write(target, 2)
    assert (target / "notes.txt").read_text() == "mine"


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(SnapshotError, match="is a file, not a snapshot directory"):
        write(tmp_path / "f", 1)
    assert (tmp_path / "f").read_text() == "x"


def test_an_empty_directory_and_a_snapshot_are_replaced(tmp_path: Path) -> None:
    (tmp_path / "snap").mkdir()
    write(tmp_path / "snap", 1)
    write(tmp_path / "snap", 2)
    assert read_jsonl(tmp_path / "snap" / "tickets.jsonl") == [{"id": 2}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_dot_is_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "work" / "keep.txt").parent.mkdir()
    (tmp_path / "work" / "keep.txt").write_text("x")
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(SnapshotError, match=r"not a snapshot \(keep.txt\)"):
        write(".", 1)
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    write(".", 1)
    assert read_jsonl(tmp_path / "empty" / "tickets.jsonl") == [{"id": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "work"]


def test_a_symlinked_snapshot_stays_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    real = write(tmp_path / "store" / "rt-2026", 1)
    link = tmp_path / "current"
    link.symlink_to(real)
    write(link, 2)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert read_jsonl(real / "tickets.jsonl") == [{"id": 2}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "store"]
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["rt-2026"]


def test_opening_restores_a_snapshot_retired_by_a_killed_swap(tmp_path: Path) -> None:
    target = write_example(tmp_path / "snap")
    target.rename(tmp_path / ".snap.old-4242")  # killed between the two renames
    assert len(load_snapshot(target).tickets) == len(read_jsonl(EXAMPLE / "tickets.jsonl"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_opening_removes_retired_copies_and_dead_staging(tmp_path: Path) -> None:
    target = write_example(tmp_path / "snap")
    (tmp_path / ".snap.old-4242").mkdir()  # the rmtree after a swap was interrupted
    (tmp_path / ".snap.new-4243-abc").mkdir()  # a writer killed while writing
    load_snapshot(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_a_live_writers_staging_is_left_alone(tmp_path: Path) -> None:
    target = write(tmp_path / "snap", 1)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            staging = tmp_path / f".snap.new-{other.pid}-abc"
            staging.mkdir()
            write_example(target)
            load_snapshot(target)
            assert staging.is_dir()
        finally:
            other.kill()
    write(target, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
