"""One path rule for every command: a relative --snapshot, --config or --registry is read from
the current directory, never from the project directory (issue 22)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from review.settings.config import sample_snapshot
from review.snapshot import DATA_FILES, read_jsonl, write_snapshot

SEPTEMBER_KEPT = 4  # incidents of the sample opened in September kept in the local copy


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with its own data/sample: the first four September incidents of the bundled
    sample, with the same coverage, and a registry and config of its own."""
    folder = tmp_path_factory.mktemp("elsewhere")
    rows = {name: read_jsonl(sample_snapshot() / name) for name in DATA_FILES}
    september = sorted(t["id"] for t in rows["tickets.jsonl"] if t["Created"][:7] == "2026-09")
    keep = set(september[:SEPTEMBER_KEPT])
    rows["tickets.jsonl"] = [t for t in rows["tickets.jsonl"] if t["id"] in keep]
    rows["transactions.jsonl"] = [
        t for t in rows["transactions.jsonl"] if int(t["ObjectId"]) in keep
    ]
    manifest = json.loads((sample_snapshot() / "manifest.json").read_text())
    write_snapshot(
        folder / "data" / "sample", *(rows[n] for n in DATA_FILES), source="sample",
        query="q", pulled_at=manifest["pulled_at"], coverage=manifest["coverage"],
    )  # fmt: skip
    (folder / "data" / "services.yaml").write_text(
        "services:\n  - service: local-only\n    support_assignment: unassigned\n"
        "    last_reviewed: 2026-10-01\n"
    )
    (folder / "local.toml").write_text('[statuses]\ninitial = "new"\n')
    return folder


def review(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review", *args],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_stats_reads_a_relative_snapshot_from_the_current_directory(elsewhere: Path) -> None:
    result = review(
        elsewhere, "stats", "--month", "2026-09", "--compare", "0", "--format", "json",
        "--snapshot", "data/sample", "--config", "local.toml",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    resolve = [r for r in rows if r["metric"] == "time_to_resolve" and r["clock"] == "wall"]
    # all four kept incidents were resolved; the bundled sample has 18 in September
    assert [r["n"] for r in resolve] == [SEPTEMBER_KEPT]


def test_support_gaps_reads_a_relative_registry_from_the_current_directory(
    elsewhere: Path,
) -> None:
    result = review(
        elsewhere, "support-gaps", "--format", "json", "--snapshot", "data/sample",
        "--registry", "data/services.yaml", "--today", "2026-11-01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    # the local registry names one service, which no incident has: none of data/services.yaml
    assert {r["service"]: r["support_assignment"] for r in table}["local-only"] == "unassigned"
    assert {r["support_assignment"] for r in table if r["service"] != "local-only"} == {
        "unregistered"
    }
    assert sum(r["incidents"] for r in table) == SEPTEMBER_KEPT
