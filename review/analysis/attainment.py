"""How often service levels were met: the share of decided deadlines met per level and target,
with exact (Clopper-Pearson) intervals, which keep their 95% for the few incidents a month
gives each level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from review.analysis.stats import LEVEL, beta_regularized

ATTAINMENT_COLUMNS = ["sla", "target", "n", "met", "share_met", "ci_low", "ci_high"]
_TARGETS = {"response": "response_breached", "resolve": "resolve_breached"}


def exact_interval(
    met: np.ndarray, n: np.ndarray, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of a share met/n (95% by default); NaN where n is 0.

    It covers the true share at least `level` of the time for every n and share (each end
    misses at most half the rest), also for the few deadlines a level has in a month and
    shares near 100%, where the Wilson interval covered as little as 84%. Its ends are
    quantiles of the beta distribution: the share whose binomial tail is exactly the end's.
    """
    met, n = np.asarray(met, "int64"), np.asarray(n, "int64")
    tail = (1 - level) / 2
    pairs = list(zip(met.tolist(), n.tolist(), strict=True))  # a row per level and target
    low = [_beta_quantile(tail, k, m - k + 1) if k > 0 else 0.0 for k, m in pairs]
    high = [_beta_quantile(1 - tail, k + 1, m - k) if k < m else 1.0 for k, m in pairs]
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def _beta_quantile(p: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = p, by bisection (to the last bit: I_x is increasing in x)."""
    low, high = 0.0, 1.0
    while True:
        mid = (low + high) / 2
        if mid in (low, high):
            return mid
        if beta_regularized(a, b, mid) < p:
            low = mid
        else:
            high = mid


def attainment(table: pd.DataFrame) -> pd.DataFrame:
    """Share of decided deadlines met per level and target (response, resolve, hand-off OLA),
    with 95% exact (Clopper-Pearson) intervals. A deadline is decided once met or missed; one
    still running is left out. The hand-off OLA is one row across levels (sla = "hand-off OLA")."""
    parts = [
        pd.DataFrame({"sla": table["sla"], "target": target, "breached": table[column]})
        for target, column in _TARGETS.items()
    ]
    parts.append(
        pd.DataFrame(
            {"sla": "hand-off OLA", "target": "handoff", "breached": table["handoff_ola_breached"]}
        )
    )
    long = pd.concat(parts, ignore_index=True).dropna(subset=["breached"])
    long = long.loc[long["sla"] != ""]
    if long.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ATTAINMENT_COLUMNS})
    long["met"] = ~long["breached"].astype(bool)
    out = long.groupby(["sla", "target"], sort=False)["met"].agg(n="size", met="sum").reset_index()
    out["share_met"] = out["met"] / out["n"]
    out["ci_low"], out["ci_high"] = exact_interval(out["met"].to_numpy(), out["n"].to_numpy())
    ola_last = out.assign(ola=out["sla"] == "hand-off OLA")
    out = ola_last.sort_values(["ola", "sla"], kind="stable")[ATTAINMENT_COLUMNS]
    return out.reset_index(drop=True)
