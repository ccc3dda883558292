"""The command line: results on the sample, and one clear line for every user mistake."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from review.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review", *args], capture_output=True, text=True, check=False
    )


def test_python_dash_m_review_prints_metrics_of_the_sample_as_csv() -> None:
    result = run("metrics", "--format", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "ticket_id,subject,queue,service,classification,opened_at,triaged_at"
    )
    assert len(lines) == 1 + 61  # 62 sample tickets, one merged into another
    assert lines[1].startswith("1,")


def test_missing_snapshot_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("metrics", "--snapshot", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'}: no snapshot here; give --snapshot a directory made by "
        "`review pull` (or omit it to use the bundled sample)"
    ]


def test_bad_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "review.toml"
    config.write_text("[statuses]\nclosed = ['resolved']\n")
    with pytest.raises(SystemExit) as exit_:
        main(["metrics", "--config", str(config)])
    assert exit_.value.code == 1
    assert (
        "unknown key statuses.closed; allowed in [statuses]: inactive, initial"
        in capsys.readouterr().err
    )


def test_json_output_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.json"
    main(["metrics", "--format", "json", "--output", str(out)])
    rows = json.loads(out.read_text())
    first = rows[0]
    assert (first["ticket_id"], first["opened_at"], first["time_to_triage_h"]) == (
        1,
        "2026-08-01T15:00:00Z",
        1.0,
    )
    assert "wrote 61 rows" in capsys.readouterr().err


def test_table_shows_the_definitions_next_to_the_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["metrics"])
    out = capsys.readouterr().out
    assert "Definitions:" in out
    assert "time_in_handoff: total time in developer queues while the ticket was not closed" in out
