"""Honest monthly numbers: intervals that cover, verdicts on the log scale, detectable change.

Incident durations are skewed (roughly log-normal) and months hold 5-25 incidents, so most
month-to-month differences are noise. Three methods, each able to back its claim:

- **Intervals** of the median and p90 come from order statistics (distribution-free): the
  interval from the l-th to the u-th smallest value covers the true quantile with a
  probability that follows from the binomial distribution alone, whatever the shape of the
  durations. Each end misses with probability at most 2.5%. A month too small for that has
  no interval, and a reason in words ("too few incidents for a p90 interval: needs 36").
- **Verdicts** compare the geometric means of two months: Welch's t-test on the logarithm of
  the durations (durations under FLOOR_H count as FLOOR_H), the standard test for log-normal
  durations; `better` or `worse` when the 95% interval of the ratio of geometric means
  excludes 1. The median and p90 stay what people read.
- **The smallest detectable change** is a proportional change (the model improvements
  follow: they scale durations), computed for the verdict's test from the spread of log
  durations pooled over the month and the POOL_MONTHS - 1 before it.

Public API (for notebooks; README, section Statistics): `month_summary` and `compare_months`
on any durations, `detectable_change`, `pooled_spread`; `month_statistics` builds the
report's and `review stats`'s table from them, `sentences` says it in words. The t and
binomial distributions are computed here (`t_cdf`, `t_quantile`, `binomial_pmf`), so the
kit needs nothing beyond numpy for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from review.analysis.metric import CLOCKS
from review.analysis.metrics import DURATIONS

LEVEL = 0.95  # every interval, and the verdict's test (two-sided, so false alarms <= 5%)
MIN_N = 5  # fewer incidents in either month: no verdict
POWER = 0.80  # the smallest detectable change is detected this often
FLOOR_H = 1 / 60  # on the log scale, durations under one minute count as one minute
POOL_MONTHS = 6  # the spread behind the smallest detectable change: this month and 5 before
REALISTIC_FOLD = 4.0  # a change larger than 4-fold (a cut of over 75%) is not realistic
QUANTILES = {"median": 0.5, "p90": 0.9}

# `review stats`'s columns, a stable interface: never renamed or reordered; ADDED follow them.
COLUMNS = [
    "month", "metric", "clock", "n", "median_h", "median_ci_low", "median_ci_high", "p90_h",
    "p90_ci_low", "p90_ci_high", "change_median_h", "change_ci_low", "change_ci_high", "verdict",
]  # fmt: skip
ADDED = [
    "median_ci_withheld", "p90_ci_withheld", "change_ci_withheld", "geomean_h", "ratio_geomean",
    "ratio_ci_low", "ratio_ci_high", "p_value", "log_spread", "mdc_pct", "mdc_median_h",
]  # fmt: skip
VERDICTS = ("better", "worse", "no clear change", "too few", "not covered")
NOT_COVERED = "not covered"

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- distributions


def binomial_pmf(n: int, q: float) -> FloatArray:
    """P(B = k) for k = 0..n, B ~ Binomial(n, q), computed on the log scale (any n)."""
    k = np.arange(n + 1, dtype=float)
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))])
    log_pmf = (
        log_factorial[n]
        - log_factorial
        - log_factorial[::-1]
        + k * math.log(q)
        + (n - k) * math.log1p(-q)
    )
    pmf: FloatArray = np.exp(log_pmf)
    return pmf


@lru_cache(maxsize=4096)
def order_ranks(n: int, q: float, level: float = LEVEL) -> tuple[int, int] | None:
    """1-based ranks (l, u) of the order-statistic interval of the q-quantile of n values:
    P(x_(l) > true) <= (1 - level) / 2 and P(x_(u) < true) <= (1 - level) / 2, l as high
    and u as low as that allows. None when n is too small for that (see `min_n`)."""
    if n < 1:
        return None
    tail = (1 - level) / 2
    pmf = binomial_pmf(n, q)  # of B, the number of values below the true quantile
    below = np.cumsum(pmf)  # below[k] = P(B <= k): x_(k+1) is above the true quantile
    above = np.cumsum(pmf[::-1])[::-1]  # above[k] = P(B >= k): x_(k) is below it
    lows = np.flatnonzero(below[:n] <= tail)  # l - 1, for l = 1..n
    highs = np.flatnonzero(above[1:] <= tail)  # u - 1, for u = 1..n
    if not len(lows) or not len(highs):
        return None
    return int(lows[-1]) + 1, int(highs[0]) + 1


@lru_cache(maxsize=64)
def min_n(q: float, level: float = LEVEL) -> int:
    """The fewest values whose order statistics give a `level` interval of the q-quantile."""
    n = max(1, math.floor(math.log((1 - level) / 2) / math.log(max(q, 1 - q))))
    while order_ranks(n, q, level) is None:
        n += 1
    return n


_TINY = 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def beta_regularized(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` (any positive real) degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * beta_regularized(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def _t_density(t: float, df: float) -> float:
    log_density = (
        math.lgamma((df + 1) / 2)
        - math.lgamma(df / 2)
        - 0.5 * math.log(df * math.pi)
        - (df + 1) / 2 * math.log1p(t * t / df)
    )
    return math.exp(log_density)


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: Newton's method from the normal quantile, kept in a bracket."""
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    low, high = 0.0, math.tan(math.pi * (p - 0.5)) * 1.000001  # df 1 (Cauchy): the widest
    while df < 1 and t_cdf(high, df) < p:
        low, high = high, high * 2
    z = NormalDist().inv_cdf(p)  # Cornish-Fisher: close from about 4 degrees of freedom
    t = min(max(z + (z**3 + z) / (4 * df), low), high)
    for _ in range(200):
        error = t_cdf(t, df) - p
        if error == 0:
            break
        if error > 0:
            high = t
        else:
            low = t
        step = t - error / _t_density(t, df)
        step = step if low < step < high else (low + high) / 2
        if abs(step - t) <= 1e-14 * t:
            return step
        t = step
    return t


METHOD = (
    "Intervals of the median and 90th percentile (p90): distribution-free, from order "
    "statistics: the l-th to the u-th smallest of the month's n durations, with l and u from "
    "the binomial distribution so that each end misses the true value at most 2.5% of the "
    "time, whatever the shape of the durations (at least 95% coverage). A month too small "
    f"for that shows no interval and says how many incidents it needs ({min_n(0.5)} for the "
    f"median, {min_n(0.9)} for the p90). The change in median is this month's minus the "
    "month before's; its interval joins the two months' median intervals at 97.5% each (95% "
    f"together; {min_n(0.5, math.sqrt(LEVEL))} incidents in each month). The verdict compares "
    "geometric means (the typical duration on a log scale, which improvements scale): "
    "Welch's t-test on log durations "
    f"(durations under {FLOOR_H * 60:.0f} minute count as {FLOOR_H * 60:.0f} minute); "
    "'better' or 'worse' when the 95% interval of the ratio of geometric means, this month "
    "over the month before, excludes 1 (lower is better; false alarms at most 5%), else "
    f"'no clear change'; 'too few' when either month has fewer than {MIN_N} incidents, 'not "
    "covered' when the snapshot does not wholly cover the month or the month before. Medians "
    "and p90s use linear interpolation (as the report's)."
)
MDC_METHOD = (
    "smallest detectable change: the proportional change (durations scaled up or down, as "
    f"improvements do) that the verdict's test would call better or worse {POWER:.0%} of the "
    "time when both months hold this month's n: log ratio (t 0.975 + t 0.80, 2n - 2 degrees "
    "of freedom) x s x sqrt(2 / n), with s the standard deviation of log durations pooled "
    f"within the month and the {POOL_MONTHS - 1} months before it (those the snapshot "
    f"covers). A change over {REALISTIC_FOLD:g}-fold is reported as nothing realistic."
)


# --------------------------------------------------------------------------- one month


Durations = Iterable[float] | pd.Series | FloatArray


def _clean(values: Durations) -> FloatArray:
    """Durations in hours as a sorted float array; missing values (still open) left out."""
    if isinstance(values, pd.Series):
        array = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    return np.sort(array[~np.isnan(array)])


def log_durations(values: FloatArray) -> FloatArray:
    """Natural log of durations in hours, those under FLOOR_H counted as FLOOR_H: zero (a
    business-hours duration wholly outside business hours) has no logarithm."""
    return np.log(np.maximum(values, FLOOR_H))


def quantile_interval(
    values: FloatArray, q: float, level: float = LEVEL, name: str = ""
) -> tuple[float, float, str]:
    """(low, high, "") of the distribution-free interval of the q-quantile of sorted `values`,
    or (nan, nan, the reason in words) when there are too few."""
    ranks = order_ranks(len(values), q, level)
    if ranks is None:
        need = min_n(q, level)
        return math.nan, math.nan, f"too few incidents for a {name or q} interval: needs {need}"
    low, high = ranks
    return float(values[low - 1]), float(values[high - 1]), ""


def quantiles(durations_h: Durations) -> dict[str, float]:
    """The median and p90 (QUANTILES) of durations in hours, missing values left out; NaN
    when there are none. The one definition of the numbers reports and `review stats` show."""
    values = _clean(durations_h)
    return {
        q: float(np.quantile(values, at)) if len(values) else math.nan
        for q, at in QUANTILES.items()
    }


NO_INCIDENTS = "no incidents"  # why a month without incidents has no interval


def _summary(values: FloatArray) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(values)}
    points = quantiles(values)
    for name, q in QUANTILES.items():
        point = points[name]
        low, high, reason = quantile_interval(values, q, name=name)
        out.update({f"{name}_h": point, f"{name}_ci_low": low, f"{name}_ci_high": high})
        out[f"{name}_ci_withheld"] = reason if len(values) else NO_INCIDENTS
    logs = log_durations(values)
    out["geomean_h"] = float(np.exp(logs.mean())) if len(values) else math.nan
    out["log_sd"] = float(logs.std(ddof=1)) if len(values) > 1 else math.nan
    return out


def month_summary(durations_h: Durations) -> pd.Series:
    """One set of incidents' statistics: n, median and p90 with their 95% distribution-free
    intervals (or, in *_ci_withheld, why there is none), geometric mean (`geomean_h`) and
    standard deviation of log durations (`log_sd`).

    `durations_h`: durations in hours (any unit works, the numbers come back in it); missing
    values (incidents still open) are left out.
    """
    return pd.Series(_summary(_clean(durations_h)))


# --------------------------------------------------------------------------- two months


def welch(logs: FloatArray, before: FloatArray) -> tuple[float, float, float]:
    """(difference of means, its standard error, Welch-Satterthwaite degrees of freedom)."""
    var_a, var_b = logs.var(ddof=1) / len(logs), before.var(ddof=1) / len(before)
    se = math.sqrt(var_a + var_b)
    denominator = var_a**2 / (len(logs) - 1) + var_b**2 / (len(before) - 1)
    df = (var_a + var_b) ** 2 / denominator if denominator > 0 else math.inf
    return float(logs.mean() - before.mean()), se, df


def _median_change_interval(values: FloatArray, before: FloatArray) -> tuple[float, float, str]:
    """Interval of (median - median before): each month's median interval at sqrt(LEVEL),
    so both cover together with probability at least LEVEL (independent months)."""
    each = math.sqrt(LEVEL)
    low, high, _ = quantile_interval(values, 0.5, each)
    low_before, high_before, _ = quantile_interval(before, 0.5, each)
    if math.isnan(low) or math.isnan(low_before):
        need = min_n(0.5, each)
        return (
            math.nan,
            math.nan,
            f"too few incidents for an interval of the change in median: needs {need} in each "
            "month",
        )
    return low - high_before, high - low_before, ""


def _compare(values: FloatArray, before: FloatArray) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(
        ["change_median_h", "change_ci_low", "change_ci_high", "ratio_geomean", "ratio_ci_low",
         "ratio_ci_high", "p_value"], math.nan,
    )  # fmt: skip
    out["verdict"] = "too few"
    low, high, reason = _median_change_interval(values, before)
    out.update(change_ci_low=low, change_ci_high=high, change_ci_withheld=reason)
    if min(len(values), len(before)) < MIN_N:
        return out
    out["change_median_h"] = float(np.median(values) - np.median(before))
    difference, se, df = welch(log_durations(values), log_durations(before))
    if se == 0:  # both months constant: the difference is exact
        margin, p_value = 0.0, 1.0 if difference == 0 else 0.0
    else:
        margin = t_quantile(1 - (1 - LEVEL) / 2, df) * se
        t = difference / se
        p_value = beta_regularized(df / 2, 0.5, df / (df + t * t))  # P(|T| >= |t|)
    low, high = difference - margin, difference + margin
    verdict = "better" if high < 0 else "worse" if low > 0 else "no clear change"
    out.update(
        ratio_geomean=math.exp(difference),
        ratio_ci_low=math.exp(low),
        ratio_ci_high=math.exp(high),
        p_value=p_value,
        verdict=verdict,
    )
    return out


def compare_months(durations_h: Durations, before_h: Durations) -> pd.Series:
    """Compare one set of incidents' durations with another's (this month, the month before).

    Returns the change in median (with MIN_N or more in both) with its distribution-free
    95% interval (or, in `change_ci_withheld`, why there is none), the ratio of geometric
    means (this / before) with its 95% Welch interval and p-value, and the verdict, which is
    about the geometric mean: 'better' (shorter), 'worse', 'no clear change', or 'too few'
    when either has fewer than MIN_N.
    """
    return pd.Series(_compare(_clean(durations_h), _clean(before_h)))


def _squares(values: FloatArray) -> tuple[float, int]:
    """Sum of squared deviations of the log durations from their mean, and its n - 1."""
    if len(values) < 2:
        return 0.0, 0
    logs = log_durations(values)
    return float(((logs - logs.mean()) ** 2).sum()), len(logs) - 1


def pooled_spread(samples: Iterable[Durations]) -> float:
    """Standard deviation of log durations within groups (months), pooled: the square root of
    the sum of squared deviations from each group's mean over the sum of (n - 1). NaN when no
    group has two values."""
    parts = [_squares(_clean(sample)) for sample in samples]
    freedom = sum(f for _, f in parts)
    return math.sqrt(sum(s for s, _ in parts) / freedom) if freedom else math.nan


def _detectable(n: int, spread: float, median_h: float) -> dict[str, Any]:
    if n < MIN_N or not math.isfinite(spread):
        fold = math.nan
    else:
        df = 2 * n - 2
        critical = t_quantile(1 - (1 - LEVEL) / 2, df) + t_quantile(POWER, df)
        fold = math.exp(critical * spread * math.sqrt(2 / n))
    cut = 1 - 1 / fold
    return {
        "fold": fold,
        "mdc_pct": 100 * cut,
        "mdc_median_h": median_h * cut,
        "realistic": bool(fold <= REALISTIC_FOLD),
    }


def detectable_change(n: int, spread: float, median_h: float = math.nan) -> pd.Series:
    """The smallest proportional change the verdict detects POWER of the time, both months of
    n incidents with log-duration standard deviation `spread` (e.g. `pooled_spread` of recent
    months): `fold` (the factor), `mdc_pct` (the cut, in percent of the median),
    `mdc_median_h` (the cut in hours, from `median_h`), `realistic` (at most REALISTIC_FOLD).
    NaN with fewer than MIN_N incidents (no verdict is made) or no spread."""
    return pd.Series(_detectable(n, spread, median_h))


# --------------------------------------------------------------------------- the report


_BLANK: dict[str, Any] = {
    **dict.fromkeys([*COLUMNS, *ADDED], math.nan),
    **dict.fromkeys(["median_ci_withheld", "p90_ci_withheld", "change_ci_withheld"], ""),
    "n": 0,
    "verdict": "too few",
}


def none_counted(incidents: int) -> str:
    """Why a month with `incidents` has no number for a duration: none of them has one (all
    still open, never handed off ...); never 'no incidents', which they are not."""
    return f"none of the month's {incidents} incident(s) counted"


def month_statistics(
    metrics: pd.DataFrame, months: list[str], covered: Mapping[str, bool]
) -> pd.DataFrame:
    """One row per month in `months`, metric and clock (COLUMNS, then ADDED and `previous`).

    `metrics` is the incident metrics table with a `month` column (YYYY-MM of opened_at in
    the calendar's zone, as the monthly report assigns it); durations that end at
    resolution are already empty for incidents still open, so they are left out.
    `covered[m]` says whether month `m` is known (wholly covered, or the report month
    itself); the month before each of `months` is compared with, and the POOL_MONTHS up to
    each give the spread of its smallest detectable change (unknown months left out). A
    month not covered has verdict 'not covered', no n and no numbers, never 0. A month's
    numbers do not depend on which other months are shown.
    """
    samples: dict[tuple[str, str], FloatArray] = {
        (str(m), column): _clean(part[column])
        for m, part in metrics.groupby("month", sort=False)
        for column in (c.column(metric) for metric in DURATIONS for c in CLOCKS.values())
    }
    squares = {key: _squares(values) for key, values in samples.items()}
    opened = metrics.groupby("month", sort=False).size()
    empty = np.array([], dtype=float)
    rows: list[dict[str, Any]] = []
    for month in months:
        period = pd.Period(month, freq="M")
        window = [str(period - k) for k in range(POOL_MONTHS)]
        for metric in DURATIONS:
            for clock in CLOCKS.values():
                column = clock.column(metric)
                row = {**_BLANK, "month": month, "metric": metric, "clock": clock.name,
                       "previous": window[1]}  # fmt: skip
                rows.append(row)
                if not covered.get(month, False):
                    _not_covered(row, month)
                    continue
                values = samples.get((month, column), empty)
                row.update({k: v for k, v in _summary(values).items() if k in row})
                if not len(values) and opened.get(month, 0):  # incidents, none counted
                    uncounted = none_counted(int(opened[month]))
                    row.update(median_ci_withheld=uncounted, p90_ci_withheld=uncounted)
                pooled = _spread(squares, covered, window, column)
                mdc = _detectable(len(values), pooled, row["median_h"])
                row.update(log_spread=pooled, mdc_pct=mdc["mdc_pct"])
                row["mdc_median_h"] = mdc["mdc_median_h"]
                if len(values) < MIN_N:  # too few, whatever the month before holds
                    row["change_ci_withheld"] = _median_change_interval(values, empty)[2]
                    continue
                if not covered.get(row["previous"], False):
                    row["verdict"] = NOT_COVERED
                    row["change_ci_withheld"] = f"the snapshot does not cover {row['previous']}"
                    continue
                row.update(_compare(values, samples.get((row["previous"], column), empty)))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *ADDED, "previous"])
    return frame.astype({"n": "Int64"})


def _spread(
    squares: Mapping[tuple[str, str], tuple[float, int]],
    covered: Mapping[str, bool],
    months: list[str],
    column: str,
) -> float:
    """The pooled standard deviation of log durations over the known `months`."""
    parts = [squares.get((m, column), (0.0, 0)) for m in months if covered.get(m, False)]
    freedom = sum(f for _, f in parts)
    return math.sqrt(sum(s for s, _ in parts) / freedom) if freedom else math.nan


def _not_covered(row: dict[str, Any], month: str) -> None:
    """A month the snapshot does not cover: no n and no numbers, never 0, each saying why."""
    row.update(n=pd.NA, verdict=NOT_COVERED)
    for name in ("median", "p90", "change"):
        row[f"{name}_ci_withheld"] = f"the snapshot does not cover {month}"


def _hours(value: object) -> str:
    """Hours as sentences write them: whole from 10, one decimal below, two significant
    digits under 0.05 (0.02, never 0.0 for a time that is not zero)."""
    number = float(value)  # type: ignore[arg-type]
    if number and abs(number) < 0.05:
        return f"{number:.2g}"
    return f"{number:.0f}" if abs(round(number, 1)) >= 10 else f"{number:.1f}"


def _fold(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.2f}x" if number < 10 else f"{number:.0f}x"


def _quantile_words(row: SimpleNamespace, name: str, label: str, unit: str) -> str:
    point = getattr(row, f"{name}_h")
    reason = getattr(row, f"{name}_ci_withheld")
    if reason:
        return f"{_hours(point)} {unit} {label} ({reason})"
    low, high = getattr(row, f"{name}_ci_low"), getattr(row, f"{name}_ci_high")
    return f"{_hours(point)} {unit} {label} (95% interval {_hours(low)}-{_hours(high)} {unit})"


def _comparison_words(row: SimpleNamespace, before: str, unit: str) -> str:
    if row.verdict == NOT_COVERED:
        return f"{before} is not covered by the snapshot, no comparison"
    if row.verdict == "too few":
        if row.n < MIN_N:
            return f"fewer than {MIN_N} incidents: no comparison with {before}"
        return f"too few incidents in {before} (under {MIN_N}) to compare"
    change = float(row.change_median_h)
    ratio = (
        f"geometric mean {_fold(row.ratio_geomean)} {before}'s, 95% interval "
        f"{_fold(row.ratio_ci_low)}-{_fold(row.ratio_ci_high)}; median "
        f"{'+' if change > 0 else ''}{_hours(change)} {unit}"
    )
    if row.verdict in ("better", "worse"):
        return f"{row.verdict} than {before} ({ratio})"
    return f"no clear change from {before} ({ratio})"


def _detectable_words(row: SimpleNamespace, unit: str) -> str:
    if pd.isna(row.n) or row.n < MIN_N:
        return f"fewer than {MIN_N} incidents: no comparison is made"
    if pd.isna(row.mdc_pct):
        return "no spread to estimate it from"
    if row.mdc_pct < 0.5:  # 0%, up to rounding
        return "the durations do not vary: any change would be detected"
    cut = float(row.mdc_pct) / 100
    fold = 1 / (1 - cut)
    median = float(row.median_h)
    change = (
        f"a change of about {cut:.0%} (from {_hours(median)} {unit} to "
        f"{_hours(median * (1 - cut))} {unit}, or up to {_hours(median * fold)} {unit})"
    )
    detected = f"would be detected {POWER:.0%} of the time with {row.n} incidents a month"
    if fold > REALISTIC_FOLD:
        return f"no realistic change is detectable: only {change} {detected}"
    return f"{change} {detected}"


def sentences(statistics: pd.DataFrame, month: str, clock: str = "wall") -> pd.DataFrame:
    """One sentence per metric for `month`, e.g. 'time to resolve: 22 h median (95% interval
    9.0-41 h), 74 h p90 (too few incidents for a p90 interval: needs 36), n=20; no clear
    change from September (...)', and its smallest detectable change in words.
    Columns: metric, n, sentence, smallest detectable change."""
    part = statistics.loc[(statistics["month"] == month) & (statistics["clock"] == clock)]
    unit = "h" if clock == "wall" else "business h"
    out = []
    for record in part.to_dict("records"):
        row = SimpleNamespace(**{str(k): v for k, v in record.items()})
        label = DURATIONS[str(row.metric)].label
        before = pd.Period(str(row.previous), freq="M").strftime("%B")
        if pd.isna(row.n):
            text = f"{label}: the snapshot does not cover {month}"
        elif not row.n and row.median_ci_withheld != NO_INCIDENTS:
            text = f"{label}: not measured: {row.median_ci_withheld} (n=0)"
        elif not row.n:
            text = f"{label}: no incidents to measure (n=0)"
        else:
            text = (
                f"{label}: {_quantile_words(row, 'median', 'median', unit)}, "
                f"{_quantile_words(row, 'p90', 'p90', unit)}, n={row.n}; "
                f"{_comparison_words(row, before, unit)}"
            )
        out.append(
            {
                "metric": label,
                "n": row.n,
                "sentence": text,
                "smallest detectable change": _detectable_words(row, unit)
                if not pd.isna(row.n)
                else "",
            }
        )
    return pd.DataFrame(out, columns=["metric", "n", "sentence", "smallest detectable change"])
