"""Honest monthly numbers: bootstrap intervals, month-over-month verdicts, detectable change.

Incident durations are skewed and months hold 5-25 incidents, so most month-to-month
differences in a median are noise. Every function here takes frames and returns frames:

- `month_statistics`: per month, metric (time to triage, in hand-off, to resolve) and clock
  (wall, business): n, median and p90 with 95% bootstrap percentile intervals, the change in
  median from the month before with its interval, a verdict, and the smallest change in
  median this month's n could detect.
- `sentences`: one sentence per metric, in words, for the monthly report.

Method (stated in the report's definitions table, METHOD): percentile bootstrap with
RESAMPLES resamples. Each month's resamples come from its own generator,
``numpy.random.default_rng([SEED, year, month])``, drawing an index matrix
``integers(0, n, size=(RESAMPLES, n))`` in one call; the same snapshot always gives the same
numbers, and a month's numbers do not depend on which other months are shown. The change in
median is this month's resampled medians minus the month before's (independent resamples),
and its interval the 2.5th and 97.5th percentiles of those differences. Lower is better.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np
import pandas as pd

from review.analysis.metrics import DURATIONS

SEED = 20261203
RESAMPLES = 4000
LEVEL = 0.95
MIN_N = 5  # fewer incidents in either month: no interval, no verdict
POWER = 0.80
Z_LEVEL = 1.959963984540054  # two-sided 95%
Z_POWER = 0.8416212335729143  # one-sided 80%

METRICS = {key: spec.label for key, spec in DURATIONS.items()}  # the durations, by key
CLOCKS = {"wall": "_h", "business": "_bh"}
COLUMNS = [
    "month", "metric", "clock", "n", "median_h", "median_ci_low", "median_ci_high", "p90_h",
    "p90_ci_low", "p90_ci_high", "change_median_h", "change_ci_low", "change_ci_high", "verdict",
]  # fmt: skip
VERDICTS = ("better", "worse", "no clear change", "too few", "not covered")
NOT_COVERED = "not covered"

METHOD = (
    f"95% percentile bootstrap: {RESAMPLES:,} resamples (with replacement, of the month's "
    f"incidents) per month, seeded numpy.random.default_rng([{SEED}, year, month]) so the same "
    "snapshot always gives the same numbers. Median and p90 use linear interpolation (as the "
    "report's). The change in median is this month's minus the month before's, with the "
    "interval of the resampled differences; 'better' or 'worse' only when that interval "
    f"excludes zero (lower is better), 'too few' when either month has fewer than {MIN_N} "
    "incidents (no interval, no verdict), 'not covered' when the snapshot does not wholly "
    "cover the month."
)
MDC_METHOD = (
    "smallest detectable change in median: (z 0.975 + z 0.80) x sqrt(2) x the standard "
    "deviation of the month's resampled medians, i.e. the shift that a comparison with a "
    f"month of the same n and spread would call better or worse {POWER:.0%} of the time "
    "(bootstrap simulation from the month's own observed values)."
)


def resample_index(month: str, n: int, resamples: int = RESAMPLES) -> np.ndarray:
    """The (resamples, n) index matrix of a month's bootstrap: fixed by the month and n."""
    year, number = (int(p) for p in month.split("-"))
    rng = np.random.default_rng([SEED, year, number])
    return rng.integers(0, n, size=(resamples, n))


def bootstrap(values: np.ndarray, month: str, resamples: int = RESAMPLES) -> dict[str, np.ndarray]:
    """Resampled medians and p90s of `values` (one per resample), vectorised."""
    samples = values[resample_index(month, len(values), resamples)]
    return {
        "median": np.median(samples, axis=1),
        "p90": np.quantile(samples, 0.9, axis=1),
    }


def interval(draws: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of bootstrap draws."""
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def verdict(low: float, high: float) -> str:
    """better / worse only when the interval of the change excludes zero; lower is better."""
    if high < 0:
        return "better"
    if low > 0:
        return "worse"
    return "no clear change"


def detectable_change(medians: np.ndarray) -> float:
    """Smallest change in median a same-size month could detect (see MDC_METHOD)."""
    return float((Z_LEVEL + Z_POWER) * np.sqrt(2.0) * np.std(medians, ddof=1))


def _empty_row(month: str, metric: str, clock: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys([*COLUMNS, "mdc_median_h", "previous"], np.nan)
    row.update(month=month, metric=metric, clock=clock, n=0, verdict="too few", previous="")
    return row


def month_statistics(
    metrics: pd.DataFrame,
    months: list[str],
    covered: Mapping[str, bool],
    resamples: int = RESAMPLES,
) -> pd.DataFrame:
    """One row per month in `months`, metric and clock (COLUMNS, then `mdc_median_h`, `previous`).

    `metrics` is the incident metrics table with a `month` column (YYYY-MM of opened_at in
    the calendar's zone, as the monthly report assigns it); durations that end at
    resolution are already empty for incidents still open, so they are left out.
    `covered[m]` says whether month `m` is known (wholly covered, or the report month
    itself); the month before the first of `months` is looked up too. A month not covered
    has verdict 'not covered', no n and no numbers, never 0.
    """
    rows: list[dict[str, object]] = []
    cache: dict[tuple[str, str], tuple[np.ndarray, dict[str, np.ndarray] | None]] = {}

    def sample(month: str, column: str) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        if (month, column) not in cache:
            part = metrics.loc[metrics["month"] == month, column]
            values = part.dropna().astype(float).to_numpy()
            boot = bootstrap(values, month, resamples) if len(values) >= MIN_N else None
            cache[month, column] = (values, boot)
        return cache[month, column]

    for month in months:
        before = str(pd.Period(month, freq="M") - 1)
        for metric in METRICS:
            for clock, suffix in CLOCKS.items():
                row = _empty_row(month, metric, clock)
                row["previous"] = before
                rows.append(row)
                if not covered.get(month, False):
                    row.update(n=pd.NA, verdict=NOT_COVERED)
                    continue
                values, boot = sample(month, metric + suffix)
                row["n"] = len(values)
                if len(values):
                    row["median_h"] = float(np.median(values))
                    row["p90_h"] = float(np.quantile(values, 0.9))
                if boot is None:
                    continue
                row["median_ci_low"], row["median_ci_high"] = interval(boot["median"])
                row["p90_ci_low"], row["p90_ci_high"] = interval(boot["p90"])
                row["mdc_median_h"] = detectable_change(boot["median"])
                if not covered.get(before, False):
                    row["verdict"] = NOT_COVERED
                    continue
                old_values, old_boot = sample(before, metric + suffix)
                if old_boot is None:
                    continue
                row["change_median_h"] = float(np.median(values) - np.median(old_values))
                low, high = interval(boot["median"] - old_boot["median"])
                row["change_ci_low"], row["change_ci_high"] = low, high
                row["verdict"] = verdict(low, high)
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "mdc_median_h", "previous"])
    return frame.astype({"n": "Int64"})


def _hours(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if abs(number) >= 10 else f"{number:.1f}"


def sentences(statistics: pd.DataFrame, month: str, clock: str = "wall") -> pd.DataFrame:
    """One sentence per metric for `month`, e.g. 'time to resolve: 22 h median (95% interval
    9-41 h, n=12); no clear change from September'. Columns: metric, n, sentence,
    smallest detectable change."""
    part = statistics.loc[(statistics["month"] == month) & (statistics["clock"] == clock)]
    unit = "h" if clock == "wall" else "business h"
    out = []
    for record in part.to_dict("records"):
        row = SimpleNamespace(**{str(k): v for k, v in record.items()})
        label = METRICS[str(row.metric)]
        before = pd.Period(str(row.previous), freq="M").strftime("%B")
        if pd.isna(row.n):
            text = f"{label}: the snapshot does not cover {month}"
        elif not row.n:
            text = f"{label}: no incidents to measure (n=0)"
        elif pd.isna(row.median_ci_low):
            text = (
                f"{label}: {_hours(row.median_h)} {unit} median (n={row.n}; fewer than {MIN_N} "
                f"incidents: no interval, no comparison with {before})"
            )
        else:
            head = (
                f"{label}: {_hours(row.median_h)} {unit} median (95% interval "
                f"{_hours(row.median_ci_low)}-{_hours(row.median_ci_high)} {unit}, n={row.n})"
            )
            if row.verdict == NOT_COVERED:
                tail = f"{before} is not covered by the snapshot, no comparison"
            elif row.verdict == "too few":
                tail = f"too few incidents in {before} (under {MIN_N}) to compare"
            else:
                change = float(row.change_median_h)
                sign = "+" if change > 0 else ""
                tail = (
                    f"{row.verdict} than {before} ({sign}{_hours(change)} {unit}, 95% interval "
                    f"{_hours(row.change_ci_low)} to {_hours(row.change_ci_high)})"
                    if row.verdict in ("better", "worse")
                    else f"no clear change from {before} ({sign}{_hours(change)} {unit}, "
                    f"95% interval {_hours(row.change_ci_low)} to {_hours(row.change_ci_high)})"
                )
            text = f"{head}; {tail}"
        out.append(
            {
                "metric": label,
                "n": row.n,
                "sentence": text,
                "smallest detectable change (h)": row.mdc_median_h,
            }
        )
    return pd.DataFrame(
        out, columns=["metric", "n", "sentence", "smallest detectable change (h)"]
    ).round({"smallest detectable change (h)": 1})
