"""review.analysis.stats: order-statistic intervals, t and binomial quantities and Welch verdicts
checked against hand computations and tables; the pooled detectable change; too few; months
not covered; the `review stats` command's columns. Calibration: test_stats_calibration.py."""

import json
import math
from fractions import Fraction
from pathlib import Path
from statistics import NormalDist

import pandas as pd
import pytest

from review.analysis import stats
from review.analysis.stats import ADDED, COLUMNS, month_statistics, sentences
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


def _hand_ranks(n: int, q: Fraction, tail: Fraction) -> tuple[int, int] | None:
    """The order-statistic ranks by hand, in exact fractions: l the highest with
    P(B <= l - 1) <= tail, u the lowest with P(B >= u) <= tail, B ~ Binomial(n, q)."""
    pmf = [math.comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(n + 1)]
    lows = [k + 1 for k in range(n) if sum(pmf[: k + 1]) <= tail]
    highs = [k for k in range(1, n + 1) if sum(pmf[k:]) <= tail]
    return (max(lows), min(highs)) if lows and highs else None


SEPT = [3.0, 41.0, 9.0, 22.0, 1.5, 70.0, 12.0, 5.0]
OCT = [30.0, 2.0, 18.0, 95.0, 7.5, 44.0, 26.0]


@pytest.mark.parametrize(
    ("n", "q", "expected"),
    [
        (5, "1/2", None),  # P(all 5 above the median) = 1/32 > 2.5%
        (6, "1/2", (1, 6)),  # 1/64 <= 2.5%
        (7, "1/2", (1, 7)),  # P(B <= 1) = 8/128 > 2.5%
        (10, "1/2", (2, 9)),  # P(B <= 1) = 11/1024; P(B <= 2) = 56/1024
        (20, "1/2", (6, 15)),  # P(B <= 5) = 21700/2**20 = 2.07%; P(B <= 6) = 5.77%
        (35, "9/10", None),  # 0.9**35 = 2.503% > 2.5%
        (36, "9/10", (29, 36)),  # 0.9**36 = 2.25%
        (100, "9/10", None),
    ],
)
def test_order_statistic_ranks_are_the_binomial_ones(n: int, q: str, expected) -> None:
    if expected is not None or n < 100:
        assert stats.order_ranks(n, float(Fraction(q))) == expected
    assert stats.order_ranks(n, float(Fraction(q))) == _hand_ranks(n, Fraction(q), Fraction(1, 40))


def test_too_few_for_an_interval_says_how_many_it_needs() -> None:
    assert (stats.min_n(0.5), stats.min_n(0.9)) == (6, 36)
    assert stats.min_n(0.5, math.sqrt(0.95)) == 7  # 0.5**6 = 1.56% > 1.27%, 0.5**7 = 0.78%
    summary = stats.month_summary([4.0, 1.0, 3.0, 2.0, 5.0])
    assert summary["median_h"] == 3.0 and pd.isna(summary["median_ci_low"])
    assert summary["median_ci_withheld"] == "too few incidents for a median interval: needs 6"
    assert summary["p90_ci_withheld"] == "too few incidents for a p90 interval: needs 36"


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.706205),  # t tables (to 6 decimals)
        (0.975, 2, 4.302653),
        (0.975, 8, 2.306004),
        (0.975, 10, 2.228139),
        (0.975, 18, 2.100922),
        (0.975, 30, 2.042272),
        (0.8, 8, 0.888890),
        (0.8, 18, 0.862049),  # (checked by integrating the density: 0.8620487)
        (0.999, 3, 10.214532),
        (0.025, 10, -2.228139),
        (0.975, 1e7, 1.959964),  # the normal's
    ],
)
def test_t_quantiles_match_the_tables(p: float, df: float, expected: float) -> None:
    assert stats.t_quantile(p, df) == pytest.approx(expected, abs=2e-6)


def test_t_distribution_matches_its_closed_forms() -> None:
    for t in (-3.0, -0.4, 0.0, 0.7, 2.5, 40.0):
        assert stats.t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
        assert stats.t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12)
    # fractional degrees of freedom (Welch): between its integer neighbours
    assert stats.t_quantile(0.975, 8) < stats.t_quantile(0.975, 7.5) < stats.t_quantile(0.975, 7)


def test_binomial_probabilities_are_exact_for_large_n() -> None:
    pmf = stats.binomial_pmf(10, 0.5)
    assert pmf * 1024 == pytest.approx([1, 10, 45, 120, 210, 252, 210, 120, 45, 10, 1])
    big = stats.binomial_pmf(5000, 0.9)  # math.comb would overflow a float here
    assert big.sum() == pytest.approx(1.0)
    assert big[4500] == pytest.approx(math.exp(
        math.lgamma(5001) - 2 * math.lgamma(4501) + math.lgamma(4501) - math.lgamma(501)
        + 4500 * math.log(0.9) + 500 * math.log(0.1)
    ))  # fmt: skip


def test_intervals_are_the_order_statistics_the_binomial_picks() -> None:
    frame = month_statistics(
        _metrics({"2026-09": SEPT, "2026-10": OCT}), ["2026-10"], {"2026-09": True, "2026-10": True}
    )
    row = _row(frame, "2026-10")
    assert row["n"] == 7
    assert row["median_h"] == 26.0
    assert row["p90_h"] == pytest.approx(44.0 + 0.4 * 51.0)  # sorted[5] + 0.4 * (95 - 44)
    # n = 7: ranks (1, 7), the smallest and the largest
    assert (row["median_ci_low"], row["median_ci_high"]) == (2.0, 95.0)
    assert row["median_ci_withheld"] == ""
    assert pd.isna(row["p90_ci_low"]) and pd.isna(row["p90_ci_high"])
    assert row["p90_ci_withheld"] == "too few incidents for a p90 interval: needs 36"
    assert row["change_median_h"] == 26.0 - 10.5  # Sept median: (9 + 12) / 2
    # each month's median interval at sqrt(95%) = 97.47% (1.27% a tail): ranks (1, 7) of
    # October's 7 and (1, 8) of September's 8 (P(B <= 1) = 9/256 = 3.5%): [2, 95] - [1.5, 70]
    assert (row["change_ci_low"], row["change_ci_high"]) == (2.0 - 70.0, 95.0 - 1.5)
    twenty = [float(k) for k in (7, 3, 19, 12, 1, 15, 20, 8, 11, 4, 16, 2, 6, 18, 9, 14, 5, 13)]
    twenty += [17.0, 10.0]  # 1..20 shuffled: ranks 6 and 15
    summary = stats.month_summary(twenty)
    assert (summary["median_ci_low"], summary["median_ci_high"]) == (6.0, 15.0)


def test_a_large_sample_interval_is_where_theory_puts_it() -> None:
    # Log-normal(0, 1): median 1; the median of n draws has standard error
    # 1 / (2 f(1) sqrt(n)) with f(1) = 1 / sqrt(2 pi): 0.0627 for n = 400, so the 95% interval
    # is about 1 +- 0.123. The sample: the 400 quantiles (i - 0.5) / 400 of that distribution.
    normal = NormalDist()
    values = [math.exp(normal.inv_cdf((i - 0.5) / 400)) for i in range(1, 401)]
    summary = stats.month_summary(values)
    low, high = _hand_ranks(400, Fraction(1, 2), Fraction(1, 40))  # (180, 221)
    assert summary["median_ci_low"] == values[low - 1]
    assert summary["median_ci_high"] == values[high - 1]
    assert summary["median_ci_low"] < 1.0 < summary["median_ci_high"]
    width = summary["median_ci_high"] - summary["median_ci_low"]
    assert 0.8 * 2 * 0.123 < width < 1.25 * 2 * 0.123


# Logs 0..4 in each month: variance 2.5 (n - 1 = 4), so the standard error of the difference of
# means is sqrt(2.5 / 5 + 2.5 / 5) = 1 and Welch's degrees of freedom are exactly 8:
# t(0.975, 8) = 2.306004 (tables). A month 10 times the other: ln 10 = 2.302585 < 2.306004.
BASE = [math.exp(k) for k in range(5)]


def test_the_verdict_is_welchs_test_on_log_durations() -> None:
    ten = stats.compare_months([10 * v for v in BASE], BASE)
    assert ten["ratio_geomean"] == pytest.approx(10.0)
    assert ten["ratio_ci_low"] == pytest.approx(10 * math.exp(-2.306004), rel=1e-6)  # 0.9966
    assert ten["ratio_ci_high"] == pytest.approx(10 * math.exp(2.306004), rel=1e-6)
    assert ten["verdict"] == "no clear change"
    assert 0.05 < ten["p_value"] < 0.0503
    more = stats.compare_months([10.1 * v for v in BASE], BASE)  # ln 10.1 = 2.312535
    assert more["verdict"] == "worse" and more["ratio_ci_low"] > 1 and more["p_value"] < 0.05
    less = stats.compare_months(BASE, [10.1 * v for v in BASE])
    assert less["verdict"] == "better" and less["ratio_ci_high"] < 1
    assert less["p_value"] == pytest.approx(more["p_value"])
    # at t = 2.306004 exactly the two-sided p-value is 5%
    edge = stats.compare_months([math.exp(2.306004) * v for v in BASE], BASE)
    assert edge["p_value"] == pytest.approx(0.05, abs=1e-6)


def test_zero_durations_count_as_one_minute_on_the_log_scale() -> None:
    summary = stats.month_summary([0.0, 0.0, 1.0, 2.0, 3.0])
    # (1/60 * 1/60 * 1 * 2 * 3) ** (1/5) = (1/600) ** 0.2
    assert summary["geomean_h"] == pytest.approx((1 / 600) ** 0.2)
    assert summary["median_h"] == 1.0  # what people read is unchanged
    compared = stats.compare_months([0.0] * 5, [0.0] * 4 + [1.0])
    assert compared["verdict"] == "no clear change" and compared["ratio_geomean"] == pytest.approx(
        (1 / 60) / (1 / 60) ** 0.8
    )


def test_verdicts_of_constant_months_are_exact() -> None:
    samples = {"2026-08": [10.0] * 5, "2026-09": [20.0] * 6, "2026-10": [5.0, 5.0, 5.0, 5.0, 5.0]}
    covered = dict.fromkeys(samples, True)
    frame = month_statistics(_metrics(samples), ["2026-09", "2026-10"], covered)
    september, october = _row(frame, "2026-09"), _row(frame, "2026-10")
    assert (september["median_ci_low"], september["median_ci_high"]) == (20.0, 20.0)
    assert september["change_median_h"] == 10.0
    assert pd.isna(september["change_ci_low"])  # 5 in August: needs 7 in each month
    assert september["change_ci_withheld"] == (
        "too few incidents for an interval of the change in median: needs 7 in each month"
    )
    assert september["verdict"] == "worse"  # longer is worse
    assert september["ratio_geomean"] == pytest.approx(2.0) and september["p_value"] == 0.0
    assert october["change_median_h"] == -15.0
    assert october["verdict"] == "better"
    assert october["median_ci_withheld"] == "too few incidents for a median interval: needs 6"
    assert october[["log_spread", "mdc_pct", "mdc_median_h"]].tolist() == pytest.approx([0, 0, 0])


def test_the_detectable_change_pools_the_spread_of_recent_months() -> None:
    # log spreads: May logs 0,2 (squares 2, n - 1 = 1); October logs 0..4 (squares 10, 4);
    # March is 7 months back (outside the 6) and June is not covered: both left out.
    samples = {
        "2026-03": [1.0, math.exp(9)],
        "2026-05": [1.0, math.exp(2)],
        "2026-06": [1.0, math.exp(6)],
        "2026-10": BASE,
    }
    covered = {"2026-03": True, "2026-05": True, "2026-06": False, "2026-10": True}
    frame = month_statistics(_metrics(samples), ["2026-10"], covered)
    october = _row(frame, "2026-10")
    spread = math.sqrt(12 / 5)
    assert october["log_spread"] == pytest.approx(spread)
    # n = 5: 2n - 2 = 8 degrees of freedom, t(0.975) + t(0.80) = 2.306004 + 0.888890
    fold = math.exp((2.306004 + 0.888890) * spread * math.sqrt(2 / 5))  # 22.9-fold
    assert october["mdc_pct"] == pytest.approx(100 * (1 - 1 / fold), abs=1e-4)
    assert october["mdc_median_h"] == pytest.approx(math.e**2 * (1 - 1 / fold), rel=1e-5)
    words = sentences(frame, "2026-10").set_index("metric")["smallest detectable change"]
    assert words["time to resolve"].startswith(
        "no realistic change is detectable: only a change of about 96% (from 7.4 h to 0.3 h, "
    )
    assert stats.pooled_spread([[1.0, math.exp(2)], BASE, [5.0], []]) == pytest.approx(spread)
    # n = 10 and spread 0.5: 18 degrees of freedom, 2.100922 + 0.862049
    realistic = stats.detectable_change(10, 0.5, 20.0)
    fold = math.exp((2.100922 + 0.862049) * 0.5 * math.sqrt(2 / 10))  # 1.94-fold
    assert realistic["fold"] == pytest.approx(fold, rel=1e-6) and realistic["realistic"]
    assert realistic["mdc_median_h"] == pytest.approx(20.0 * (1 - 1 / fold), rel=1e-6)
    assert pd.isna(stats.detectable_change(4, 0.5)["fold"])  # no verdict under 5


def test_too_few_in_either_month_gives_no_verdict() -> None:
    samples = {"2026-08": [1.0, 2.0, 3.0, 4.0], "2026-09": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    covered = {"2026-07": True, "2026-08": True, "2026-09": True}
    frame = month_statistics(_metrics(samples), ["2026-08", "2026-09"], covered)
    august, september = _row(frame, "2026-08"), _row(frame, "2026-09")
    assert august["n"] == 4 and august["median_h"] == 2.5
    assert august[["median_ci_low", "p90_ci_high", "change_median_h", "mdc_pct"]].isna().all()
    assert august["verdict"] == "too few"
    # September has an interval of its own (6: ranks 1 and 6), but nothing to compare with
    assert (september["median_ci_low"], september["median_ci_high"]) == (1.0, 6.0)
    assert september[["change_median_h", "change_ci_low", "ratio_geomean"]].isna().all()
    assert september["verdict"] == "too few"


def test_incidents_still_open_are_left_out_of_resolved_time() -> None:
    frame = month_statistics(
        _metrics({"2026-10": [1.0, 2.0, 3.0, 4.0, 5.0, float("nan")]}),
        ["2026-10"],
        {"2026-10": True},
    )
    assert _row(frame, "2026-10")["n"] == 5
    assert _row(frame, "2026-10")["median_h"] == 3.0


def test_a_month_whose_incidents_have_no_value_says_so_not_no_incidents() -> None:
    """October: four incidents, all still open (no time to resolve); November: none."""
    metrics = _metrics({"2026-10": [float("nan")] * 4})
    frame = month_statistics(metrics, ["2026-10", "2026-11"], {"2026-10": True, "2026-11": True})
    october, november = _row(frame, "2026-10"), _row(frame, "2026-11")
    assert october["n"] == 0 and pd.isna(october["median_h"])
    assert october["median_ci_withheld"] == "none of the month's 4 incident(s) counted"
    assert october["p90_ci_withheld"] == "none of the month's 4 incident(s) counted"
    assert november["median_ci_withheld"] == "no incidents"
    said = sentences(frame, "2026-10").set_index("metric")["sentence"]
    assert said["time to resolve"] == (
        "time to resolve: not measured: none of the month's 4 incident(s) counted (n=0)"
    )
    said = sentences(frame, "2026-11").set_index("metric")["sentence"]
    assert said["time to resolve"] == "time to resolve: no incidents to measure (n=0)"


def test_months_not_covered_are_not_covered_never_zero() -> None:
    samples = {"2026-09": [1.0, 2.0, 3.0, 4.0, 5.0], "2026-10": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    frame = month_statistics(
        _metrics(samples), ["2026-09", "2026-10"], {"2026-09": False, "2026-10": True}
    )
    september, october = _row(frame, "2026-09"), _row(frame, "2026-10")
    assert pd.isna(september["n"]) and september["verdict"] == "not covered"
    assert pd.isna(september["median_h"]) and pd.isna(september["mdc_pct"])
    assert september["median_ci_withheld"] == "the snapshot does not cover 2026-09"
    assert (october["n"], october["median_ci_low"], october["median_ci_high"]) == (6, 1.0, 6.0)
    assert october["verdict"] == "not covered"  # the month before is unknown
    assert october["change_ci_withheld"] == "the snapshot does not cover 2026-09"
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
    samples = {"2026-09": [10.0] * 6, "2026-10": [22.0] * 6}
    frame = month_statistics(_metrics(samples), ["2026-10"], dict.fromkeys(samples, True))
    words = sentences(frame, "2026-10").set_index("metric")
    assert words.loc["time to resolve", "sentence"] == (
        "time to resolve: 22 h median (95% interval 22-22 h), 22 h p90 (too few incidents for a "
        "p90 interval: needs 36), n=6; worse than September (geometric mean 2.20x September's, "
        "95% interval 2.20x-2.20x; median +12 h)"
    )
    assert words.loc["time to resolve", "smallest detectable change"] == (
        "the durations do not vary: any change would be detected"
    )
    few = month_statistics(_metrics({"2026-10": [2.0, 4.0]}), ["2026-10"], {"2026-10": True})
    few_words = sentences(few, "2026-10").set_index("metric").loc["time to triage"]
    assert few_words["sentence"] == (
        "time to triage: 3.0 h median (too few incidents for a median interval: needs 6), "
        "3.8 h p90 (too few incidents for a p90 interval: needs 36), n=2; fewer than 5 "
        "incidents: no comparison with September"
    )
    assert few_words["smallest detectable change"] == (
        "fewer than 5 incidents: no comparison is made"
    )


def test_sentences_give_the_detectable_change_as_a_proportion_of_the_median() -> None:
    # 10 incidents a month, logs spread 0.5 in both: 18 degrees of freedom; the fold is
    # exp((2.100922 + 0.862049) x 0.5 x sqrt(2 / 10)) = 1.9398: a cut of 48.4%
    logs = [-0.75, -0.5, -0.25, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75]  # mean 0
    spread = math.sqrt(sum(v * v for v in logs) / 9)
    month = [20.0 * math.exp(v * 0.5 / spread) for v in logs]
    samples = {"2026-09": month, "2026-10": month}
    frame = month_statistics(_metrics(samples), ["2026-10"], dict.fromkeys(samples, True))
    row = _row(frame, "2026-10")
    assert row["log_spread"] == pytest.approx(0.5)
    fold = math.exp((2.100922 + 0.862049) * 0.5 * math.sqrt(2 / 10))
    assert row["mdc_pct"] == pytest.approx(100 * (1 - 1 / fold), abs=1e-4)
    words = sentences(frame, "2026-10").set_index("metric")
    assert words.loc["time to resolve", "smallest detectable change"] == (
        "a change of about 48% (from 20 h to 10 h, or up to 39 h) would be detected 80% of the "
        "time with 10 incidents a month"
    )
    assert words.loc["time to resolve", "sentence"].endswith(
        "no clear change from September (geometric mean 1.00x September's, 95% interval "
        "0.63x-1.60x; median 0.0 h)"
    )  # exp(+-2.100922 x 0.5 x sqrt(2 / 10)) = 0.625, 1.600


def test_review_stats_has_exactly_the_columns_and_the_sample_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert COLUMNS == [
        "month", "metric", "clock", "n", "median_h", "median_ci_low", "median_ci_high", "p90_h",
        "p90_ci_low", "p90_ci_high", "change_median_h", "change_ci_low", "change_ci_high",
        "verdict",
    ]  # fmt: skip
    # (the stable interface: what today's scripts read, never renamed or reordered)
    out = tmp_path / "stats.csv"
    main(["stats", "--month", "2026-10", "--format", "csv", "--output", str(out)])
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == [*COLUMNS, *ADDED]
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
    # median: order statistics 6 and 15 of 20; p90: withheld, empty, with the reason
    assert (row["median_ci_low"], row["median_ci_withheld"]) != ("", "")
    assert (row["p90_ci_low"], row["p90_ci_high"]) == ("", "")
    assert row["p90_ci_withheld"] == "too few incidents for a p90 interval: needs 36"
    assert row["verdict"] in stats.VERDICTS
    handoff = table.loc[(table["month"] == "2026-10") & (table["metric"] == "time_in_handoff")]
    assert set(handoff["verdict"]) == {"too few"}  # September: 2 hand-offs
    main(["stats", "--month", "2026-10", "--format", "json"])
    records = json.loads(capsys.readouterr().out)
    assert [list(r) for r in records[:1]] == [[*COLUMNS, *ADDED]]
    october = [r for r in records if r["month"] == "2026-10" and r["clock"] == "wall"]
    assert {r["p90_ci_low"] for r in october} == {None}
    main(["stats", "--month", "2026-10"])
    printed = capsys.readouterr().out
    assert "not covered" in printed and "<NA>" not in printed and "nan" not in printed.lower()


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
    table = report.stats_table
    assert list(table.columns) == [
        "month", "metric", "clock", "n", "median h (95% interval)", "p90 h (95% interval)",
        "change in median h (95% interval)", "verdict", "ratio of geometric means (95% interval)",
        "detectable change", "interval not shown because",
    ]  # fmt: skip
    stats = report.month_stats
    row = table.index[(stats["month"] == "2026-10") & (stats["metric"] == "time_to_resolve")][0]
    one = stats.loc[row]
    median = f"{one['median_h']:.2f} ({one['median_ci_low']:.2f}\u2013{one['median_ci_high']:.2f})"
    assert table.loc[row, "median h (95% interval)"] == median
    assert table.loc[row, "p90 h (95% interval)"] == f"{one['p90_h']:.2f}"  # n=20 < 36: withheld
    assert "needs 36" in table.loc[row, "interval not shown because"]
    definitions = report.definitions.set_index("term")["definition"]
    method = definitions["intervals, change and verdict"]
    assert "order statistics" in method and "Welch" in method and "geometric mean" in method
    assert "36 for the p90" in method
    assert "pooled" in definitions["smallest detectable change"]
    figure = figures.monthly_comparison(report.comparison, statistics=report.month_stats)
    bars = [c for ax in figure.axes for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3 * 2 * 2  # 3 durations x (median, p90) x (h, bh)
