"""Events and state stretches -> one row of metrics per incident.

A metric is one file, review/analysis/metrics/<key>.py, whose docstring is its
documentation and which declares one Metric (review.analysis.metric) around its compute
function; its expected values live in tests/metrics/<key>.yaml, read by one generic test.
METRICS finds them by iterating this package, in their declared order; METRIC_COLUMNS,
`definitions`, DURATIONS and the reports' label lists are views of it. Every function is a
vectorised frame-to-frame step; there is no per-ticket Python loop, so 100,000 incidents
cost about what 100 do, times 1,000.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.analysis.incidents import Incidents
from review.analysis.metric import CLOCKS, Metric
from review.settings.calendar import BusinessClock, calendar_text
from review.settings.config import Config
from review.settings.registries import Registry
from review.snapshot import Snapshot

IDENTITY_COLUMNS = ["ticket_id", "subject", "queue", "service", "classification"]
METRICS: Registry[Metric] = Registry[Metric]("metric", lambda m: m.key).discover(
    __name__, Metric, lambda m: m.order
)


def definitions(config: Config) -> dict[str, str]:
    """Every metric's definition by key, then what the _h and _bh suffixes mean."""
    found = {m.key: m.define(config) for m in METRICS.values()}
    found["_h"] = f"{CLOCKS['h'].hours}."
    found["_bh"] = (
        f"{CLOCKS['bh'].hours}: working time under the configured calendar "
        f"({calendar_text(config.calendar)})."
    )
    return found


# --------------------------------------------------------------------------- views and tables

METRIC_COLUMNS = IDENTITY_COLUMNS + [c for m in METRICS.values() for c in m.columns]
DURATIONS = {k: m for k, m in METRICS.items() if m.unit == "hours"}
# how reports list them: timestamps, then durations, then counts and the update gap
REPORT_ORDER = sorted(METRICS.values(), key=lambda m: {"time": 0, "hours": 1}.get(m.unit, 2))


def unmeasured(lost: pd.DataFrame) -> pd.DataFrame:
    """Per incident, each metric the data cannot back (`item`: its key) and why, from
    review.analysis.quality.lost_inputs: where compute_metrics leaves it empty."""
    return quality.unmeasured(lost, {m.key: m.inputs for m in METRICS.values()})


def compute_metrics(
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    clock: BusinessClock,
    segments: pd.DataFrame,
    lost: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per incident with the columns of METRIC_COLUMNS (timestamps as UTC Timestamps).

    The inputs are the stages of a review.context.Context, which computes each once. A
    metric is empty for an incident where the data cannot back an input it reads (`lost`:
    review.analysis.quality.lost_inputs of the snapshot, found here when not given)."""
    if lost is None:
        lost = quality.lost_inputs(snapshot, config)
    blank = {str(k): set(g["ticket_id"]) for k, g in unmeasured(lost).groupby("item")}
    computes = {m.key: m.compute for m in METRICS.values()}
    inc = Incidents(events, snapshot, config, clock, segments, computes, blank)
    tickets, index = inc.tickets, inc.index
    columns: dict[str, pd.Series] = {
        "subject": tickets["subject"],
        "queue": facts.queue_now(snapshot, tickets),
        "service": facts.field_values(snapshot, config.fields.service, index),
        "classification": facts.field_values(snapshot, config.fields.classification, index),
    }
    for m in METRICS.values():
        value = inc.value(m.key)
        if isinstance(value, pd.DataFrame):
            columns.update({c.column(m.key): value[c.suffix] for c in CLOCKS.values()})
        else:
            columns[m.key] = value
    out = pd.DataFrame(columns, index=index)
    return (
        out.reset_index()[METRIC_COLUMNS]
        .sort_values("ticket_id", kind="stable")
        .reset_index(drop=True)
    )


def format_metrics(metrics: pd.DataFrame, digits: int | None = 2) -> pd.DataFrame:
    """Metrics for people and files: ISO 8601 UTC timestamps, hours rounded, empty where n/a.

    `digits=None` keeps hours at full precision (CSV and JSON are read by machines).
    """
    out = facts.times_as_text(metrics)
    if digits is not None:
        hours = [c for c in out.columns if c.endswith(("_h", "_bh"))]
        out[hours] = out[hours].round(digits)
    return out
