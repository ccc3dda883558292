"""Small months and tied durations: every interval shown keeps its 95%, every verdict its 5%
false alarms, at each n from 3 to 30 (fixed seed; slow: about 40 s, no timing threshold).

Months of n incidents are drawn in pairs from one distribution (so the true change in median
is 0 and the true ratio of geometric means 1) and fed to `month_summary` and
`compare_months`, the functions behind the report and `review stats`. Besides the
log-normal and Lomax of tests/test_stats_calibration.py, three with heavy ties: 60% of
incidents at 0 (business hours of incidents wholly outside them: the one-minute floor of the
log scale), durations rounded to whole hours (many 0s and 1s), and every duration 0. The
true median of a tied distribution is its lower quantile, inf{x: P(X <= x) >= 0.5}.

Expected values: the exact binomial coverage of the order-statistic interval (which ties can
only raise), 95% for the change in median (two 97.47% intervals joined), 5% false alarms.
A rate over m months is allowed 3 standard errors below (above, for false alarms) its bar.
Below the sizes the methods need, no interval is shown and the reason says how many it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from review.analysis import stats
from tests.test_stats_calibration import MEDIAN_H, allowed, exact_coverage, lognormal, lomax

Draw = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]
SIZES = [3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30]
MONTHS = 1000


def zeros_60(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return np.where(rng.random(size) < 0.6, 0.0, lognormal(rng, size))


def whole_hours(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return np.round(lognormal(rng, size))


def all_zero(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return np.zeros(size)


# the true medians: log-normal and Lomax by construction; 60% at 0 puts the median at 0;
# P(round(X) <= 0) = P(X < 0.5) = 0.26 and P(X < 1.5) = 0.59, so whole hours' median is 1
TRUE_MEDIAN = {lognormal: MEDIAN_H, lomax: MEDIAN_H, zeros_60: 0.0, whole_hours: 1.0, all_zero: 0.0}


@pytest.mark.slow
@pytest.mark.parametrize("draw", list(TRUE_MEDIAN), ids=lambda d: d.__name__)
def test_small_months_keep_every_promise_or_say_why_not(draw: Draw) -> None:
    rng = np.random.default_rng(20261207)
    for n in SIZES:
        this, before = draw(rng, (MONTHS, n)), draw(rng, (MONTHS, n))
        summary = [stats.month_summary(row) for row in this]
        compared = [stats.compare_months(a, b) for a, b in zip(this, before, strict=True)]
        _median_interval(n, summary, TRUE_MEDIAN[draw])
        assert {s["p90_ci_withheld"] for s in summary} == {
            "too few incidents for a p90 interval: needs 36"
        }
        assert all(math.isnan(s["p90_ci_low"]) for s in summary)
        _change_interval(n, compared)
        _verdicts(n, compared)


def _median_interval(n: int, summary: list, truth: float) -> None:  # type: ignore[type-arg]
    if n < 6:
        assert {s["median_ci_withheld"] for s in summary} == {
            "too few incidents for a median interval: needs 6"
        }
        assert all(math.isnan(s["median_ci_low"]) for s in summary)
        return
    ranks = stats.order_ranks(n, 0.5)
    assert ranks is not None
    expected = exact_coverage(n, 0.5, ranks)
    covered = np.mean([s["median_ci_low"] <= truth <= s["median_ci_high"] for s in summary])
    assert covered >= expected - allowed(expected, MONTHS), (n, covered, expected)


def _change_interval(n: int, compared: list) -> None:  # type: ignore[type-arg]
    if n < 7:
        assert {c["change_ci_withheld"] for c in compared} == {
            "too few incidents for an interval of the change in median: needs 7 in each month"
        }
        return
    covered = np.mean([c["change_ci_low"] <= 0 <= c["change_ci_high"] for c in compared])
    assert covered >= 0.95 - allowed(0.95, MONTHS), (n, covered)


def _verdicts(n: int, compared: list) -> None:  # type: ignore[type-arg]
    verdicts = [c["verdict"] for c in compared]
    if n < stats.MIN_N:
        assert set(verdicts) == {"too few"}
        return
    alarms = np.mean([v in ("better", "worse") for v in verdicts])
    assert alarms <= 0.05 + allowed(0.05, MONTHS), (n, alarms)
    # the ratio of geometric means is 1: its interval covers it exactly when no alarm rings
    ratio = [c["ratio_ci_low"] <= 1 <= c["ratio_ci_high"] for c in compared]
    assert np.mean(ratio) == pytest.approx(1 - alarms)
