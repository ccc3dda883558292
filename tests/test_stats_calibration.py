"""Calibration: review.analysis.stats keeps its promises on simulated months (fixed seeds, ~5 s).

Months are drawn from the log-normal of Davidovič, "Incident Metrics in SRE" (Google, 2021):
p50 67 minutes, p95 528 minutes; and from a heavier-tailed Lomax (Pareto II, shape 1.5,
infinite variance) with the same median. Each run is a series of months fed to
`month_statistics`, the function behind the report and `review stats`, each month compared
with the one before. Expected values are computed here: exact binomial coverage of the
order-statistic intervals, 5% false alarms, the power of a two-sided test on log durations
(normal approximation), the smallest detectable change from the true spread.

A rate measured over m comparisons is allowed 3 standard errors, sqrt(p (1 - p) / m), of
its expected value, plus 0.02 where the expected value is an approximation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from review.analysis import stats
from review.analysis.stats import month_statistics

NORMAL = NormalDist()
MEDIAN_H = 67 / 60
SIGMA = math.log(528 / 67) / NORMAL.inv_cdf(0.95)  # 1.2549: the log-normal's log spread
SHAPE = 1.5
LOMAX_SCALE = MEDIAN_H / (2 ** (1 / SHAPE) - 1)  # so that its median is 67 minutes too

Draw = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]


def lognormal(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return MEDIAN_H * np.exp(SIGMA * rng.standard_normal(size))


def lomax(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return LOMAX_SCALE * ((1 - rng.random(size)) ** (-1 / SHAPE) - 1)


def _log_spread(draw: Draw) -> float:
    """The true standard deviation of log durations, by quadrature over 10^6 quantiles."""
    u = (np.arange(1_000_000) + 0.5) / 1_000_000
    if draw is lognormal:
        return SIGMA
    return float(np.log(LOMAX_SCALE * ((1 - u) ** (-1 / SHAPE) - 1)).std())


TRUE_P90 = {
    lognormal: MEDIAN_H * math.exp(SIGMA * NORMAL.inv_cdf(0.9)),
    lomax: LOMAX_SCALE * (10 ** (1 / SHAPE) - 1),
}
COLUMNS = ["time_to_triage", "time_in_handoff", "time_to_resolve"]


def simulate(draw: Draw, n: int, months: int, fold: float, seed: int) -> pd.DataFrame:
    """`month_statistics` rows (time to resolve, wall clock) of `months` simulated months of n
    incidents, every second month's durations `fold` times the month before's; with the
    true median, p90, change in median and ratio of geometric means of each comparison."""
    rng = np.random.default_rng(seed)
    scale = np.where(np.arange(months) % 2 == 1, fold, 1.0)
    values = draw(rng, (months, n)) * scale[:, None]
    labels = [str(pd.Period("1900-01", freq="M") + i) for i in range(months)]
    frame = pd.DataFrame({"month": np.repeat(labels, n)})
    for column in COLUMNS:
        for suffix in ("_h", "_bh"):
            frame[column + suffix] = np.nan
    frame["time_to_resolve_h"] = values.ravel()
    table = month_statistics(frame, labels[1:], dict.fromkeys(labels, True))
    rows = table.loc[(table["metric"] == "time_to_resolve") & (table["clock"] == "wall")]
    rows = rows.reset_index(drop=True)
    return rows.assign(
        true_median=MEDIAN_H * scale[1:],
        true_p90=TRUE_P90[draw] * scale[1:],
        true_change=MEDIAN_H * (scale[1:] - scale[:-1]),
        true_ratio=scale[1:] / scale[:-1],
    )


def covers(rows: pd.DataFrame, low: str, high: str, truth: str) -> pd.Series:
    """Whether each shown interval holds the truth (rows whose interval is withheld: out)."""
    shown = rows.loc[rows[low].notna()]
    return (shown[low] <= shown[truth]) & (shown[truth] <= shown[high])


def exact_coverage(n: int, q: float, ranks: tuple[int, int]) -> float:
    """P(x_(l) <= true q-quantile <= x_(u)) = P(l <= B <= u - 1), B ~ Binomial(n, q)."""
    low, high = ranks
    return sum(math.comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(low, high))


def allowed(expected: float, m: int) -> float:
    return 3 * math.sqrt(expected * (1 - expected) / m)


def power(fold: float, n: int, spread: float) -> float:
    """The chance a two-sided 5% test on log durations calls a `fold` change (normal
    approximation of the t-test, both months of n)."""
    shift = abs(math.log(fold)) / (spread * math.sqrt(2 / n))
    return NORMAL.cdf(shift - NORMAL.inv_cdf(0.975))


@pytest.mark.parametrize("draw", [lognormal, lomax], ids=["lognormal", "lomax"])
def test_months_of_10_intervals_cover_and_false_alarms_stay_under_5_percent(draw: Draw) -> None:
    rows = simulate(draw, 10, 1601, 1.0, seed=23)
    m = len(rows)
    # Median: order statistics 2 and 9 of 10, exact coverage 1 - 2 x 11/1024 = 97.85%
    assert stats.order_ranks(10, 0.5) == (2, 9)
    expected = exact_coverage(10, 0.5, (2, 9))
    assert expected == pytest.approx(1 - 22 / 1024)
    median = covers(rows, "median_ci_low", "median_ci_high", "true_median")
    assert len(median) == m
    assert median.mean() >= expected - allowed(expected, m)
    # p90: 10 incidents cannot back a 95% interval; none is shown, each says why
    assert rows["p90_ci_low"].isna().all()
    assert set(rows["p90_ci_withheld"]) == {"too few incidents for a p90 interval: needs 36"}
    # The change in median: two 97.47% intervals, together at least 95%
    change = covers(rows, "change_ci_low", "change_ci_high", "true_change")
    assert len(change) == m and change.mean() >= 0.95 - allowed(0.95, m)
    # The ratio of geometric means: Welch's interval, 95% (t-based: approximate on Lomax)
    ratio = covers(rows, "ratio_ci_low", "ratio_ci_high", "true_ratio")
    assert abs(ratio.mean() - 0.95) <= allowed(0.95, m) + 0.01
    # No real change: 'better' or 'worse' at most 5% (the bar: 7%)
    alarms = rows["verdict"].isin(["better", "worse"]).mean()
    assert alarms <= 0.05 + allowed(0.05, m)
    assert alarms <= 0.07
    # every interval shown covers at least 90% (the bar)
    assert min(median.mean(), change.mean(), ratio.mean()) >= 0.90


@pytest.mark.parametrize("draw", [lognormal, lomax], ids=["lognormal", "lomax"])
def test_the_p90_interval_covers_once_there_are_enough_incidents(draw: Draw) -> None:
    rows = simulate(draw, 40, 401, 1.0, seed=36)
    ranks = stats.order_ranks(40, 0.9)
    assert ranks is not None
    expected = exact_coverage(40, 0.9, ranks)
    assert expected >= 0.95
    p90 = covers(rows, "p90_ci_low", "p90_ci_high", "true_p90")
    assert len(p90) == len(rows)
    assert p90.mean() >= expected - allowed(expected, len(rows))


@pytest.mark.parametrize("draw", [lognormal, lomax], ids=["lognormal", "lomax"])
def test_a_real_2x_change_at_50_incidents_gets_the_right_verdict(draw: Draw) -> None:
    rows = simulate(draw, 50, 401, 2.0, seed=50)  # months alternate: up 2x, down 2x
    right = np.where(rows["true_ratio"] > 1, "worse", "better")
    hits = (rows["verdict"] == right).mean()
    wrong = (rows["verdict"].isin(["better", "worse"]) & (rows["verdict"] != right)).mean()
    expected = power(2.0, 50, _log_spread(draw))  # log-normal: 0.78; Lomax: 0.58
    assert abs(hits - expected) <= allowed(expected, len(rows)) + 0.02
    assert wrong <= 0.005
    if draw is lognormal:
        assert hits >= 0.70  # the bar


def test_verdicts_are_as_sharp_as_the_t_test_on_log_durations() -> None:
    # The published replication (t-test on log durations, two groups of n): a 50% cut at
    # n = 20 is detected 42% of the time, at n = 100 97.3%; a 25% cut at n = 100 37.5%.
    for n, fold, published in ((20, 0.5, 0.42), (100, 0.5, 0.973), (100, 0.75, 0.375)):
        rows = simulate(lognormal, n, 301, fold, seed=n)
        down = rows.loc[rows["true_ratio"] < 1]
        hits = (down["verdict"] == "better").mean()
        assert hits >= published - allowed(published, len(down)) - 0.02, (n, fold)


def test_the_detectable_change_is_detected_80_percent_of_the_time() -> None:
    n = 20
    rows = simulate(lognormal, n, 401, 1.0, seed=80)
    # df 38: t(0.975) + t(0.80) = 2.024394 + 0.851183 (tables); the spread is the true one
    fold = math.exp((2.024394 + 0.851183) * SIGMA * math.sqrt(2 / n))  # 3.13-fold
    expected_pct = 100 * (1 - 1 / fold)  # a cut of 68%
    reported = rows["mdc_pct"]
    # pooled over 6 months, the reported change is stable: within 5 points of the truth
    assert reported.median() == pytest.approx(expected_pct, abs=1.0)
    assert expected_pct - 5 < reported.quantile(0.05) < reported.quantile(0.95) < expected_pct + 5
    # and a change of that size is called 80% of the time
    shifted = simulate(lognormal, n, 401, 1 / fold, seed=81)
    hits = (shifted["verdict"] == np.where(shifted["true_ratio"] > 1, "worse", "better")).mean()
    assert abs(hits - 0.80) <= allowed(0.80, len(shifted)) + 0.02


def grid(months: int) -> None:
    """Print coverage, false alarms and power over a grid of n and changes (README, section
    Statistics): `python tests/test_stats_calibration.py [MONTHS]`; minutes, not seconds."""
    print("draw        n  fold   median    p90 change  ratio  called  right  mdc_pct")
    print("                       (interval coverage)  (better/worse)")
    for draw in (lognormal, lomax):
        for n in (5, 10, 20, 50, 100):
            for fold in (1.0, 0.5, 0.75, 2.0):
                rows = simulate(draw, n, months + 1, fold, seed=n)
                called = rows["verdict"].isin(["better", "worse"]).mean()
                right = rows["verdict"] == np.where(rows["true_ratio"] > 1, "worse", "better")
                cells = [
                    covers(rows, f"{name}_ci_low", f"{name}_ci_high", f"true_{name}").mean()
                    for name in ("median", "p90", "change", "ratio")
                ]
                shown = " ".join(f"{c:6.1%}" if c == c else "     -" for c in cells)
                power_ = f"{right.mean():6.1%}" if fold != 1 else "     -"
                print(f"{draw.__name__:9} {n:3} {fold:5} {shown} {called:7.1%} {power_}"
                      f" {rows['mdc_pct'].median():6.1f}")  # fmt: skip


if __name__ == "__main__":
    import sys

    grid(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
