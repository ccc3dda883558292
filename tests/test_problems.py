"""The one list of data problems: ordering, the lines commands print, --strict, the cache."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from review.analysis import problems as dp
from review.analysis.problems import DataProblem

NOTE = DataProblem("status-unseen", "status 'stalled' is configured but never seen", (), False)
FIELD = DataProblem("field-absent", "[fields] root_cause = 'Root Cause' is on 0 of 3 tickets")
OWN = DataProblem("time", "ticket 7 was resolved before it was created", (7,))


def test_mismatches_come_first_and_each_problem_once() -> None:
    assert dp.ordered([NOTE, FIELD, OWN, FIELD]) == [FIELD, OWN, NOTE]
    assert dp.mismatches([NOTE, FIELD, OWN]) == [FIELD, OWN]


def test_a_command_prints_each_mismatch_then_points_to_review_check() -> None:
    assert dp.warning_lines([NOTE, FIELD]) == [
        "warning: mismatch: [fields] root_cause = 'Root Cause' is on 0 of 3 tickets",
    ]
    assert dp.warning_lines([NOTE]) == []  # a note leaves the numbers standing: cron stays quiet
    many = [DataProblem("k", f"problem {n}") for n in range(12)]
    lines = dp.warning_lines([NOTE, *many], shown=10)
    assert len(lines) == 11
    assert lines[-1] == "warning: ... and 2 more mismatches: `review check` lists them"


def test_an_incident_page_shows_the_data_wide_mismatches_and_its_own_problems() -> None:
    assert dp.about([NOTE, FIELD, OWN], 7) == [FIELD, OWN]
    assert dp.about([NOTE, FIELD, OWN], 8) == [FIELD]


def test_strict_fails_on_a_mismatch_only() -> None:
    dp.enforce([NOTE], strict=True)
    dp.enforce([FIELD], strict=False)
    with pytest.raises(dp.DataMismatch, match="1 mismatch"):
        dp.enforce([NOTE, FIELD], strict=True)


def test_problems_survive_the_derived_cache(tmp_path: Path) -> None:
    path = tmp_path / "problems.parquet"
    dp.to_frame([FIELD, OWN, NOTE]).to_parquet(path)

    assert dp.from_frame(pd.read_parquet(path)) == [FIELD, OWN, NOTE]
    dp.to_frame([]).to_parquet(path)
    assert dp.from_frame(pd.read_parquet(path)) == []
