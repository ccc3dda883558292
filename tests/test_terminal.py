"""The terminal table: fits the width, wraps text, falls back to records; CSV/JSON unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from review.cli import main
from review.pages.terminal import fit_table


def test_a_table_that_fits_is_aligned_text_left_numbers_right() -> None:
    frame = pd.DataFrame({"id": [1, 22], "name": ["a", "bb"], "h": [0.5, 12.25]})
    assert fit_table(frame, 40) == (
        "id  name      h\n"
        " 1  a      0.50\n"
        "22  bb    12.25\n"
    )  # fmt: skip


def test_a_missing_count_is_blank_never_na() -> None:
    # `review stats`: a month the snapshot does not cover has no n (nullable integer)
    frame = pd.DataFrame({"month": ["2026-07", "2026-08"], "n": pd.array([None, 12], "Int64")})
    assert fit_table(frame, 40) == (
        "month     n\n"
        "2026-07\n"
        "2026-08  12\n"
    )  # fmt: skip


def test_a_wide_text_column_wraps_at_word_boundaries_to_fit() -> None:
    frame = pd.DataFrame({"id": [1], "text": ["alpha beta gamma delta epsilon zeta"]})
    # 2 + 2 + 36 = 40 > 30: the text column gets the 26 columns left
    assert fit_table(frame, 30) == (
        "id  text\n"
        " 1  alpha beta gamma delta\n"
        "    epsilon zeta\n"
    )  # fmt: skip


def test_too_narrow_for_a_grid_gives_one_record_per_row() -> None:
    frame = pd.DataFrame(
        {"service": ["mail", "dns"], "action": ["escalate to senior staff now", "none"]}
    )
    # 7 + 2 + 20 (the action column's floor) = 29 > 24: records, values wrapped at 20
    assert fit_table(frame, 24) == (
        "service: mail\n"
        " action: escalate to senior\n"
        "         staff now\n"
        "\n"
        "service: dns\n"
        " action: none\n"
    )  # fmt: skip


def test_control_characters_in_ticket_text_are_shown_escaped() -> None:
    frame = pd.DataFrame({"subject": ["\x1b[31mred\x07"]})
    assert fit_table(frame, 80) == "subject\n\\x1b[31mred\\x07\n"


def test_review_gaps_fits_100_columns_and_csv_keeps_every_row_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    main(["gaps"])
    shown = capsys.readouterr().out
    out = tmp_path / "gaps.csv"
    main(["gaps", "--format", "csv", "--output", str(out)])
    table = pd.read_csv(out)
    assert max(len(line) for line in shown.splitlines()) <= 100
    # one record per finding, each starting with its ticket id
    records = [line for line in shown.splitlines() if line.strip().startswith("ticket_id:")]
    assert len(records) == len(table)
    assert max(table["action"].str.len()) > 100  # the CSV is not wrapped
    assert "\n" not in "".join(pd.read_csv(io.StringIO(out.read_text()))["action"])
