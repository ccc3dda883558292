"""review.analysis.stats: bootstrap intervals checked against a plain loop and known cases; verdicts;
too few; months not covered; the `review stats` command's columns."""

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from review.analysis import stats
from review.analysis.stats import COLUMNS, SEED, month_statistics, sentences
from review.cli import main


def _metrics(samples: dict[str, list[float]], column: str = "time_to_resolve_h") -> pd.DataFrame:
    """A metrics-like frame: one row per value, every duration column set to it."""
    rows = [
        {"month": month, "time_to_triage_h": v, "time_to_triage_bh": v, "time_in_handoff_h": v,
         "time_in_handoff_bh": v, "time_to_resolve_h": v, "time_to_resolve_bh": v}
        for month, values in samples.items()
        for v in values
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _row(frame: pd.DataFrame, month: str, metric: str = "time_to_resolve", clock: str = "wall"):
    hit = frame.loc[
        (frame["month"] == month) & (frame["metric"] == metric) & (frame["clock"] == clock)
    ]
    assert len(hit) == 1
    return hit.iloc[0]


def _percentile(sorted_draws: list[float], q: float) -> float:
    """Linear-interpolation percentile by hand (numpy's default 'linear' method)."""
    position = q * (len(sorted_draws) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_draws) - 1)
    return sorted_draws[low] + (position - low) * (sorted_draws[high] - sorted_draws[low])


def _plain_median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


SEPT = [3.0, 41.0, 9.0, 22.0, 1.5, 70.0, 12.0, 5.0]
OCT = [30.0, 2.0, 18.0, 95.0, 7.5, 44.0, 26.0]


def test_intervals_equal_a_plain_loop_bootstrap_with_the_same_seed_and_scheme() -> None:
    resamples = 2000
    frame = month_statistics(
        _metrics({"2026-09": SEPT, "2026-10": OCT}),
        ["2026-10"],
        {"2026-09": True, "2026-10": True},
        resamples=resamples,
    )

    def loop(values: list[float], year: int, month: int) -> tuple[list[float], list[float]]:
        rng = np.random.default_rng([SEED, year, month])
        medians, p90s = [], []
        for _ in range(resamples):
            picks = [values[int(i)] for i in rng.integers(0, len(values), size=len(values))]
            medians.append(_plain_median(picks))
            p90s.append(_percentile(sorted(picks), 0.9))
        return medians, p90s

    oct_medians, oct_p90s = loop(OCT, 2026, 10)
    sept_medians, _ = loop(SEPT, 2026, 9)
    differences = sorted(o - s for o, s in zip(oct_medians, sept_medians, strict=True))
    row = _row(frame, "2026-10")
    assert row["n"] == 7
    assert row["median_h"] == 26.0
    assert row["p90_h"] == pytest.approx(44.0 + 0.4 * 51.0)  # sorted[5] + 0.4 * (95 - 44)
    assert row["median_ci_low"] == pytest.approx(_percentile(sorted(oct_medians), 0.025))
    assert row["median_ci_high"] == pytest.approx(_percentile(sorted(oct_medians), 0.975))
    assert row["p90_ci_low"] == pytest.approx(_percentile(sorted(oct_p90s), 0.025))
    assert row["p90_ci_high"] == pytest.approx(_percentile(sorted(oct_p90s), 0.975))
    assert row["change_median_h"] == 26.0 - 10.5  # Sept median: (9 + 12) / 2
    assert row["change_ci_low"] == pytest.approx(_percentile(differences, 0.025))
    assert row["change_ci_high"] == pytest.approx(_percentile(differences, 0.975))
    assert row["change_ci_low"] < 0 < row["change_ci_high"]
    assert row["verdict"] == "no clear change"
    spread = float(np.std(oct_medians, ddof=1))
    assert row["mdc_median_h"] == pytest.approx((1.959964 + 0.841621) * math.sqrt(2) * spread)


def test_the_interval_of_a_known_distribution_is_where_theory_puts_it() -> None:
    # Log-normal(0, 1): median 1; the median of n draws has standard error
    # 1 / (2 f(1) sqrt(n)) with f(1) = 1 / sqrt(2 pi): 0.0627 for n = 400, so the 95% interval
    # is about 1 +- 0.123.
    # The sample: the 400 quantiles (i - 0.5) / 400 of that distribution (its median is 1).
    normal = NormalDist()
    values = [math.exp(normal.inv_cdf((i - 0.5) / 400)) for i in range(1, 401)]
    frame = month_statistics(_metrics({"2026-10": values}), ["2026-10"], {"2026-10": True})
    row = _row(frame, "2026-10")
    assert row["median_ci_low"] < 1.0 < row["median_ci_high"]
    width = row["median_ci_high"] - row["median_ci_low"]
    assert 0.8 * 2 * 0.123 < width < 1.25 * 2 * 0.123


def test_verdicts_need_an_interval_of_the_change_that_excludes_zero() -> None:
    samples = {"2026-08": [10.0] * 5, "2026-09": [20.0] * 6, "2026-10": [5.0, 5.0, 5.0, 5.0, 5.0]}
    covered = dict.fromkeys(samples, True)
    frame = month_statistics(_metrics(samples), ["2026-09", "2026-10"], covered)
    september, october = _row(frame, "2026-09"), _row(frame, "2026-10")
    # constant months: every resampled median is the month's value
    assert (september["median_ci_low"], september["median_ci_high"]) == (20.0, 20.0)
    assert (september["change_median_h"], september["change_ci_low"]) == (10.0, 10.0)
    assert september["verdict"] == "worse"  # longer is worse
    assert (october["change_median_h"], october["change_ci_high"]) == (-15.0, -15.0)
    assert october["verdict"] == "better"
    assert october["mdc_median_h"] == 0.0


def test_too_few_in_either_month_gives_no_interval_and_no_verdict() -> None:
    samples = {"2026-08": [1.0, 2.0, 3.0, 4.0], "2026-09": [1.0, 2.0, 3.0, 4.0, 5.0]}
    covered = {"2026-07": True, "2026-08": True, "2026-09": True}
    frame = month_statistics(_metrics(samples), ["2026-08", "2026-09"], covered)
    august, september = _row(frame, "2026-08"), _row(frame, "2026-09")
    assert august["n"] == 4 and august["median_h"] == 2.5
    assert august[["median_ci_low", "p90_ci_high", "change_median_h"]].isna().all()
    assert august["verdict"] == "too few"
    # September has an interval of its own, but nothing to compare with
    assert september["median_ci_low"] <= 3.0 <= september["median_ci_high"]
    assert september[["change_median_h", "change_ci_low", "change_ci_high"]].isna().all()
    assert september["verdict"] == "too few"


def test_incidents_still_open_are_left_out_of_resolved_time() -> None:
    frame = month_statistics(
        _metrics({"2026-10": [1.0, 2.0, 3.0, 4.0, 5.0, float("nan")]}),
        ["2026-10"],
        {"2026-10": True},
    )
    assert _row(frame, "2026-10")["n"] == 5
    assert _row(frame, "2026-10")["median_h"] == 3.0


def test_months_not_covered_are_not_covered_never_zero() -> None:
    samples = {"2026-09": [1.0, 2.0, 3.0, 4.0, 5.0], "2026-10": [1.0, 2.0, 3.0, 4.0, 5.0]}
    frame = month_statistics(
        _metrics(samples), ["2026-09", "2026-10"], {"2026-09": False, "2026-10": True}
    )
    september, october = _row(frame, "2026-09"), _row(frame, "2026-10")
    assert pd.isna(september["n"]) and september["verdict"] == "not covered"
    assert pd.isna(september["median_h"])
    assert october["n"] == 5 and october["median_ci_low"] <= 3.0
    assert october["verdict"] == "not covered"  # the month before is unknown
    assert pd.isna(october["change_median_h"])


def test_the_same_input_gives_the_same_numbers_whatever_else_is_shown() -> None:
    samples = {"2026-08": SEPT, "2026-09": SEPT, "2026-10": OCT}
    covered = dict.fromkeys(samples, True)
    alone = month_statistics(_metrics(samples), ["2026-10"], covered)
    with_more = month_statistics(_metrics(samples), ["2026-09", "2026-10"], covered)
    pd.testing.assert_series_equal(
        _row(alone, "2026-10"), _row(with_more, "2026-10"), check_names=False
    )


def test_sentences_say_each_metric_in_words() -> None:
    samples = {"2026-09": [10.0] * 5, "2026-10": [22.0] * 5}
    frame = month_statistics(_metrics(samples), ["2026-10"], dict.fromkeys(samples, True))
    words = sentences(frame, "2026-10").set_index("metric")["sentence"]
    assert words["time to resolve"] == (
        "time to resolve: 22 h median (95% interval 22-22 h, n=5); worse than September "
        "(+12 h, 95% interval 12 to 12)"
    )
    few = month_statistics(_metrics({"2026-10": [2.0, 4.0]}), ["2026-10"], {"2026-10": True})
    assert sentences(few, "2026-10").set_index("metric")["sentence"]["time to triage"] == (
        "time to triage: 3.0 h median (n=2; fewer than 5 incidents: no interval, "
        "no comparison with September)"
    )


def test_review_stats_has_exactly_the_columns_and_the_sample_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "stats.csv"
    main(["stats", "--month", "2026-10", "--format", "csv", "--output", str(out)])
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == COLUMNS
    assert len(table) == 4 * 3 * 2  # July (not covered) to October, 3 metrics, 2 clocks
    july = table.loc[table["month"] == "2026-07"]
    assert set(july["n"]) == {""} and set(july["verdict"]) == {"not covered"}  # no n, never 0
    row = table.loc[
        (table["month"] == "2026-10")
        & (table["metric"] == "time_to_resolve")
        & (table["clock"] == "wall")
    ].iloc[0]
    # the 20 resolved October incidents: sorted[9], sorted[10] = 22.0, 22.5; p90 between
    # sorted[17] = 72.5 and sorted[18] = 92.0 at 0.1
    assert (row["n"], float(row["median_h"])) == ("20", 22.25)
    assert float(row["p90_h"]) == pytest.approx(74.45)
    assert row["verdict"] in stats.VERDICTS
    handoff = table.loc[(table["month"] == "2026-10") & (table["metric"] == "time_in_handoff")]
    assert set(handoff["verdict"]) == {"too few"}  # September: 2 hand-offs


def test_review_stats_refuses_an_uncovered_month_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["stats", "--month", "2026-12"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: 2026-12 is not wholly covered")
    main(["stats", "--month", "2026-12", "--partial", "--compare", "0", "--format", "json"])
    assert '"n": 0' in capsys.readouterr().out


def test_the_monthly_report_carries_the_statistics_and_draws_their_intervals() -> None:
    from matplotlib.container import ErrorbarContainer

    from review.pages import figures
    from review.pages.reports import monthly_report_data

    report = monthly_report_data(None, "2026-10")
    words = report.stats_sentences.set_index("metric")
    assert list(words["n"]) == [20, 6, 20]
    assert words.loc["time to resolve", "sentence"].startswith(
        "time to resolve: 22 h median (95% interval "
    )
    assert words.loc["time to resolve", "sentence"].endswith(")")
    assert "from September" in words.loc["time to resolve", "sentence"]
    assert list(report.stats_table.columns) == [*COLUMNS, "mdc_median_h"]
    terms = set(report.definitions["term"])
    assert {"intervals, change and verdict", "smallest detectable change"} <= terms
    assert str(stats.RESAMPLES) in report.definitions.iloc[-2]["definition"].replace(",", "")
    figure = figures.monthly_comparison(report.comparison, statistics=report.month_stats)
    bars = [c for ax in figure.axes for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3 * 2 * 2  # 3 durations x (median, p90) x (h, bh)
