"""How often service levels were met: the share of decided deadlines met per level and target,
with Wilson intervals, honest for the few incidents a month gives each level."""

from __future__ import annotations

import numpy as np
import pandas as pd

ATTAINMENT_COLUMNS = ["sla", "target", "n", "met", "share_met", "ci_low", "ci_high"]
_TARGETS = {"response": "response_breached", "resolve": "resolve_breached"}


def wilson_interval(
    met: np.ndarray, n: np.ndarray, z: float = 1.959963984540054
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a share met/n (95% by default); NaN where n is 0.

    Unlike the plain p +- z*se it stays inside [0, 1] and is honest for small n and
    shares near 0 or 1, which is what a month of a few incidents per level gives.
    """
    met, n = np.asarray(met, "float64"), np.asarray(n, "float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = met / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)


def attainment(table: pd.DataFrame) -> pd.DataFrame:
    """Share of decided deadlines met per level and target (response, resolve, hand-off OLA),
    with 95% Wilson intervals. A deadline is decided once met or missed; one still running
    is left out. The hand-off OLA is one row across levels (sla = "hand-off OLA")."""
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
    out["ci_low"], out["ci_high"] = wilson_interval(out["met"].to_numpy(), out["n"].to_numpy())
    ola_last = out.assign(ola=out["sla"] == "hand-off OLA")
    out = ola_last.sort_values(["ola", "sla"], kind="stable")[ATTAINMENT_COLUMNS]
    return out.reset_index(drop=True)
