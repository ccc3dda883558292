"""Events and state stretches -> one row of metrics per incident.

Each metric is one declaration (a Metric): its columns, its label in reports, its unit,
its definition in words rendered from the config, and the function that computes it for
all incidents at once. METRIC_COLUMNS, `definitions`, DURATIONS and the reports' label
lists are views of METRICS. Every function is a vectorised frame-to-frame step; there is
no per-ticket Python loop, so 100,000 incidents cost about what 100 do, times 1,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from review.analysis import facts
from review.analysis.timeline import NOBODY, build_events, state_segments
from review.settings.calendar import BusinessClock, calendar_text
from review.settings.config import Config
from review.snapshot.core import Snapshot

Unit = Literal["time", "hours", "wall hours", "count"]
IDENTITY_COLUMNS = ["ticket_id", "subject", "queue", "service", "classification"]
CLOCKS = {"h": "wall-clock hours", "bh": "business hours"}  # duration column suffixes


@dataclass(frozen=True)
class Metric:
    """One metric: `key` names its column (durations: key_h and key_bh), `label` is how
    reports name it, `definition` is a template filled from the config (see `words`), and
    `compute` gives its value per incident (durations: a frame of both columns). A
    duration's `includes` says which incidents its statistics count, filled with {missing}
    (incidents without a value), {total} and {still_open} ('; N still open left out')."""

    key: str
    label: str
    unit: Unit
    definition: str
    compute: Callable[[Incidents], pd.Series | pd.DataFrame]
    includes: str = "resolved incidents{still_open}"

    @property
    def columns(self) -> list[str]:
        """Its columns in the metrics table."""
        return [f"{self.key}_{c}" for c in CLOCKS] if self.unit == "hours" else [self.key]

    @property
    def term(self) -> str:
        """Its name in the definitions table: a timestamp by its column, else its label."""
        return self.key if self.unit == "time" else self.label

    def define(self, config: Config) -> str:
        """The definition in words, for this config's queues, statuses and calendar."""
        return self.definition.format(**words(config))

    def comparison_column(self, stat: str, clock: str) -> str:
        """The monthly comparison's column of `stat` (median, p90) in `clock` (h, bh)."""
        return f"{self.label} {stat} ({clock})"


METRICS: dict[str, Metric] = {}  # by key, in column order


def metric(
    key: str, *, label: str, unit: Unit, definition: str, includes: str | None = None
) -> Callable[[Callable[[Incidents], pd.Series | pd.DataFrame]], Metric]:
    """Declare and register a metric around its compute function (a decorator)."""

    def register(compute: Callable[[Incidents], pd.Series | pd.DataFrame]) -> Metric:
        if key in METRICS:
            raise ValueError(f"metric {key!r} is declared twice")
        spec = Metric(key, label, unit, definition, compute)
        METRICS[key] = spec if includes is None else replace(spec, includes=includes)
        return METRICS[key]

    return register


def words(config: Config) -> dict[str, str]:
    """What a definition template may name: {ops}, {developer}, {initial}, {inactive},
    {calendar}."""
    return {
        "ops": ", ".join(config.queues.ops),
        "developer": ", ".join(config.queues.developer),
        "initial": config.statuses.initial,
        "inactive": ", ".join(config.statuses.inactive),
        "calendar": calendar_text(config.calendar),
    }


def definitions(config: Config) -> dict[str, str]:
    """Every metric's definition by key, then what the _h and _bh suffixes mean."""
    found = {m.key: m.define(config) for m in METRICS.values()}
    found["_h"] = "wall-clock hours."
    found["_bh"] = (
        "business hours: working time under the configured calendar "
        f"({calendar_text(config.calendar)})."
    )
    return found


def _hours(delta: pd.Series) -> pd.Series:
    hours: pd.Series = delta.dt.total_seconds() / 3600.0
    return hours


def incidents(snapshot: Snapshot) -> pd.DataFrame:
    """The tickets reported as incidents: a ticket merged into another is reported under it."""
    t = snapshot.tickets
    merged = t["effective_id"].notna() & (t["effective_id"] != t["ticket_id"])
    return t.loc[~merged]


class Incidents:
    """What metrics are computed from, for all incidents at once (index: ticket_id).

    `inc["resolved_at"]` is a metric's value, computed once on first use, so a metric
    reads the ones it builds on (time to resolve reads resolved_at).
    """

    def __init__(
        self,
        events: pd.DataFrame,
        snapshot: Snapshot,
        config: Config,
        clock: BusinessClock,
        segments: pd.DataFrame,
    ) -> None:
        self.snapshot = snapshot
        self.config = config
        self.clock = clock
        self.segments = segments
        self.tickets = incidents(snapshot).set_index("ticket_id")
        self.index = self.tickets.index
        self.events = events.loc[events["ticket_id"].isin(self.index)]
        self.inactive = list(config.statuses.inactive)
        self._values: dict[str, pd.Series | pd.DataFrame] = {}

    def value(self, key: str) -> pd.Series | pd.DataFrame:
        """Metric `key` per incident (a frame for a duration)."""
        if key not in self._values:
            self._values[key] = METRICS[key].compute(self)
        return self._values[key]

    def __getitem__(self, key: str) -> pd.Series:
        found = self.value(key)
        assert isinstance(found, pd.Series), f"{key} is a duration: use value()"
        return found

    def per_ticket(self, values: pd.Series, fill: float | None = None) -> pd.Series:
        """Values by ticket_id for every incident (`fill` where a ticket has none)."""
        out = values.reindex(self.index)
        return out if fill is None else out.fillna(fill)

    def count(self, rows: pd.DataFrame) -> pd.Series:
        """Rows per incident, 0 where none."""
        return self.per_ticket(rows.groupby("ticket_id").size(), 0).astype("int64")

    def between(self, start: str, end: str) -> pd.DataFrame:
        """Wall-clock and business hours from metric `start` to metric `end`."""
        a, b = self[start], self[end]
        return pd.DataFrame({"h": _hours(b - a), "bh": self.clock.hours_between(a, b)})

    @property
    def staff_replies(self) -> pd.DataFrame:
        return self.events.loc[facts.staff_reply(self.events)]

    @property
    def handoffs(self) -> pd.DataFrame:
        return self.events.loc[self.events["handoff"]]


# --------------------------------------------------------------------------- the metrics


@metric("opened_at", label="opened at", unit="time",
        definition="when the ticket was created in RT.")  # fmt: skip
def _opened_at(inc: Incidents) -> pd.Series:
    opened: pd.Series = inc.tickets["created"]
    return opened


@metric(
    "triaged_at",
    label="triaged at",
    unit="time",
    definition="the first of: the owner set from Nobody to a person; a reply (Correspond) from "
    "staff; staff moving the status out of '{initial}'. Staff = anyone who is neither a "
    "requestor of the ticket nor RT_System. A ticket created already closed was never triaged.",
)
def _triaged_at(inc: Incidents) -> pd.Series:
    ev = inc.events
    triage = (
        facts.owner_taken(ev)
        | facts.staff_reply(ev)
        | facts.staff_left_status(ev, inc.config.statuses.initial)
    )
    return inc.per_ticket(ev.loc[triage].groupby("ticket_id")["at"].min())


@metric(
    "resolved_at",
    label="resolved at",
    unit="time",
    definition="the last move into an inactive status ({inactive}); a ticket created already "
    "closed was resolved when created.",
)
def _resolved_at(inc: Incidents) -> pd.Series:
    closes = inc.events.loc[facts.closing(inc.events, inc.inactive)]
    born = facts.at_creation(inc.segments)["status"]
    created_closed = born.isin(inc.inactive).reindex(inc.index, fill_value=False)
    resolved = inc.per_ticket(closes.groupby("ticket_id")["at"].max())
    resolved = resolved.fillna(inc.tickets["created"].where(created_closed))
    return resolved.where(inc.tickets["status"].isin(inc.inactive))


@metric(
    "time_to_triage",
    label="time to triage",
    unit="hours",
    definition="from opened_at to triaged_at.",
    includes="triaged incidents ({missing} of {total} not triaged)",
)
def _time_to_triage(inc: Incidents) -> pd.DataFrame:
    return inc.between("opened_at", "triaged_at")


@metric(
    "handoff_count",
    label="hand-offs",
    unit="count",
    definition="moves from an ops queue ({ops}) into a developer queue.",
)
def _handoff_count(inc: Incidents) -> pd.Series:
    return inc.count(inc.handoffs)


@metric(
    "time_in_handoff",
    label="time in hand-off",
    unit="hours",
    definition="total time in developer queues while the ticket was not closed, from the first "
    "handoff to the final resolution; empty if never handed off or not resolved yet.",
    includes="resolved incidents that were handed off{still_open}",
)
def _time_in_handoff(inc: Incidents) -> pd.DataFrame:
    first_handoff = inc.handoffs.groupby("ticket_id")["at"].min()
    seg = inc.segments.merge(first_handoff.rename("first_handoff").reset_index(), on="ticket_id")
    in_dev = (
        seg["queue"].isin(inc.config.queues.developer)
        & ~seg["status"].isin(inc.inactive)
        & (seg["start"] >= seg["first_handoff"])
    )
    seg = seg.loc[in_dev]
    seg = seg.assign(
        h=_hours(seg["end"] - seg["start"]), bh=inc.clock.hours_between(seg["start"], seg["end"])
    )
    sums = seg.groupby("ticket_id")[["h", "bh"]].sum(min_count=1)
    handed = (inc["handoff_count"] > 0) & inc["resolved_at"].notna()  # open: nothing to end at
    return pd.DataFrame({c: inc.per_ticket(sums[c], 0.0).where(handed) for c in CLOCKS})


@metric("time_to_resolve", label="time to resolve", unit="hours",
        definition="from opened_at to resolved_at (reopened time included).")  # fmt: skip
def _time_to_resolve(inc: Incidents) -> pd.DataFrame:
    return inc.between("opened_at", "resolved_at")


@metric(
    "tech_lead_handoffs",
    label="tech-lead changes",
    unit="count",
    definition="changes of owner, after dropping Nobody from the sequence of owners "
    "(A -> Nobody -> B counts 1, A -> Nobody -> A counts 0).",
)
def _tech_lead_handoffs(inc: Incidents) -> pd.Series:
    owners = facts.at_creation(inc.segments).reset_index()[
        ["ticket_id", "start", "txn_id", "owner"]
    ]
    ev = inc.events
    owner_changes = ev.loc[ev["kind"] == "owner", ["ticket_id", "at", "txn_id", "new"]]
    sequence = pd.concat(
        [owners.rename(columns={"start": "at"}), owner_changes.rename(columns={"new": "owner"})],
        ignore_index=True,
    ).sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    sequence = sequence.loc[sequence["owner"].notna() & (sequence["owner"] != NOBODY)]
    previous = sequence.groupby("ticket_id")["owner"].shift()
    changed = previous.notna() & (sequence["owner"] != previous)
    return inc.per_ticket(changed.groupby(sequence["ticket_id"]).sum(), 0).astype("int64")


@metric("reopen_count", label="reopens", unit="count",
        definition="moves from an inactive status back to an active one.")  # fmt: skip
def _reopen_count(inc: Incidents) -> pd.Series:
    return inc.count(inc.events.loc[facts.reopening(inc.events, inc.inactive)])


@metric(
    "max_update_gap_h",
    label="longest update gap",
    unit="wall hours",
    definition="the longest wait, in wall-clock hours, between consecutive points of: "
    "opened_at, each staff reply, resolved_at.",
)
def _max_update_gap(inc: Incidents) -> pd.Series:
    """The longest silence towards the Recipient List."""
    points = pd.concat(
        [
            inc["opened_at"].rename("at").reset_index(),
            inc.staff_replies[["ticket_id", "at"]],
            inc["resolved_at"].dropna().rename("at").reset_index(),
        ],
        ignore_index=True,
    ).sort_values(["ticket_id", "at"], kind="stable")
    gaps = points.groupby("ticket_id")["at"].diff()
    return inc.per_ticket(_hours(gaps).groupby(points["ticket_id"]).max())


# --------------------------------------------------------------------------- views and tables

METRIC_COLUMNS = IDENTITY_COLUMNS + [c for m in METRICS.values() for c in m.columns]
TIMESTAMP_COLUMNS = [m.key for m in METRICS.values() if m.unit == "time"]
DURATIONS = {k: m for k, m in METRICS.items() if m.unit == "hours"}
# how reports list them: timestamps, then durations, then counts and the update gap
REPORT_ORDER = sorted(METRICS.values(), key=lambda m: {"time": 0, "hours": 1}.get(m.unit, 2))


def compute_metrics(
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    clock: BusinessClock | None = None,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per incident with the columns of METRIC_COLUMNS (timestamps as UTC Timestamps)."""
    clock = clock or BusinessClock(config.calendar)
    if segments is None:
        segments = state_segments(events, snapshot)
    inc = Incidents(events, snapshot, config, clock, segments)
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
            columns.update({f"{m.key}_{c}": value[c] for c in CLOCKS})
        else:
            columns[m.key] = value
    out = pd.DataFrame(columns, index=index)
    return (
        out.reset_index()[METRIC_COLUMNS]
        .sort_values("ticket_id", kind="stable")
        .reset_index(drop=True)
    )


def metrics_for_snapshot(snapshot: Snapshot, config: Config) -> pd.DataFrame:
    """The metrics table straight from a loaded snapshot."""
    events = build_events(snapshot, config)
    return compute_metrics(events, snapshot, config)


def format_metrics(metrics: pd.DataFrame, digits: int | None = 2) -> pd.DataFrame:
    """Metrics for people and files: ISO 8601 UTC timestamps, hours rounded, empty where n/a.

    `digits=None` keeps hours at full precision (CSV and JSON are read by machines).
    """
    out = metrics.copy()
    for column in TIMESTAMP_COLUMNS:
        out[column] = facts.iso_utc(out[column], missing=None)
    if digits is not None:
        hours = [c for c in out.columns if c.endswith(("_h", "_bh"))]
        out[hours] = out[hours].round(digits)
    return out
