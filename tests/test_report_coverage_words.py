"""The monthly report agrees with itself about coverage (issue 22): its summary compares only
with months the snapshot covers, a covered month is never 'not covered' in the statistics,
and the partial month it reports on says 'partial' instead of a bare count.

Input: the bundled sample, which covers 2026-08-01 00:00Z to the pull at 2026-11-01 06:00Z:
August, September and October (America/New_York) wholly, July not at all, November for its
first hour.
"""

from __future__ import annotations

import pandas as pd
import pytest

from review.cli import main
from review.pages.reports import monthly_report_data
from review.settings.config import sample_snapshot

NOT_COMPARED = "no comparison: 2026-07 is not covered"


def test_august_compares_with_no_month_and_says_why() -> None:
    report = monthly_report_data(None, "2026-08")
    assert "Compared with 2026-05" not in report.summary
    assert report.summary.endswith(
        "No month before it is covered by the snapshot (2026-05, 2026-06 and 2026-07 are not), "
        "so it is compared with none."
    )
    table = report.stats_table
    august = table.loc[table["month"] == "2026-08"]
    # August is covered: its verdict names the month that is not, never 'not covered' bare
    assert set(august["verdict"]) <= {NOT_COMPARED, "too few"}
    assert NOT_COMPARED in set(august["verdict"])
    assert set(table.loc[table["month"] == "2026-07", "verdict"]) == {"not covered"}


def test_october_compares_with_the_covered_months_only() -> None:
    report = monthly_report_data(None, "2026-10")
    assert report.summary.endswith(
        "Compared with 2026-08 and 2026-09 (2026-07 is not covered by the snapshot)."
    )
    coverage = report.comparison.set_index("month")["covered"].to_dict()
    assert coverage == {"2026-07": "no", "2026-08": "yes", "2026-09": "yes", "2026-10": "yes"}
    table = report.stats_table
    for month in ("2026-08", "2026-09", "2026-10"):
        verdicts = set(table.loc[table["month"] == month, "verdict"])
        assert "not covered" not in verdicts, month


def test_a_partial_month_is_marked_partial_not_a_bare_zero() -> None:
    report = monthly_report_data(None, "2026-11")
    row = report.comparison.set_index("month").loc["2026-11"]
    assert row["covered"] == "partial"
    assert row["incidents"] == "0 (partial)"
    assert report.summary.startswith("PARTIAL")
    assert report.summary.endswith("Compared with 2026-08, 2026-09 and 2026-10.")
    assert pd.to_numeric(report.comparison["incidents"], errors="coerce").notna().sum() == 3


def test_stats_on_a_partial_month_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def stats(*extra: str) -> tuple[int, list[str]]:
        with pytest.raises(SystemExit) as done:
            main(["stats", "--month", "2026-11", "--compare", "1", "--format", "csv", *extra])
            raise SystemExit(0)
        return int(done.value.code or 0), capsys.readouterr().err.splitlines()

    code, err = stats()  # refused: the figures would be silently short
    assert code == 1 and len(err) == 1 and err[0].startswith("error: 2026-11 is not wholly covered")
    code, err = stats("--partial")
    assert code == 0
    assert err == [
        "warning: 2026-11 is partial: the snapshot "
        f"{sample_snapshot()} holds the tickets opened and closed from 2026-08-01 00:00 to "
        "2026-11-01 06:00 UTC in ops-help, dev-web, dev-identity, dev-storage, dev-network; its "
        "figures count only the incidents the snapshot holds so far (pages mark it partial)"
    ]
