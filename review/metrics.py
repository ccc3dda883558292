"""Events and state stretches -> one row of metrics per incident.

Every function here is a vectorised frame-to-frame step; there is no
per-ticket Python loop, so 100,000 incidents cost about what 100 do, times 1,000.
The definitions in words (DEFINITIONS) are shown next to every number a report prints.
"""

from __future__ import annotations

import pandas as pd

from review import facts
from review.calendar import BusinessClock
from review.config import Config
from review.snapshot import Snapshot
from review.timeline import NOBODY, build_events, state_segments

METRIC_COLUMNS = [
    "ticket_id", "subject", "queue", "service", "classification", "opened_at", "triaged_at",
    "resolved_at", "time_to_triage_h", "time_to_triage_bh", "handoff_count", "time_in_handoff_h",
    "time_in_handoff_bh", "time_to_resolve_h", "time_to_resolve_bh", "tech_lead_handoffs",
    "reopen_count", "max_update_gap_h",
]  # fmt: skip
TIMESTAMP_COLUMNS = ["opened_at", "triaged_at", "resolved_at"]

DEFINITIONS: dict[str, str] = {
    "opened_at": "when the ticket was created in RT.",
    "triaged_at": (
        "the first of: the owner set from Nobody to a person; a reply (Correspond) from staff; "
        "staff moving the status out of 'new'. Staff = anyone who is neither a requestor "
        "of the ticket nor RT_System. A ticket created already closed was never triaged."
    ),
    "resolved_at": (
        "the last move into an inactive status (resolved, rejected); a ticket created "
        "already closed was resolved when created."
    ),
    "time_to_triage": "from opened_at to triaged_at.",
    "handoff_count": "moves from an ops queue (ops-help) into a developer queue.",
    "time_in_handoff": (
        "total time in developer queues while the ticket was not closed, from the first "
        "handoff to the final resolution; empty if never handed off or not resolved yet."
    ),
    "time_to_resolve": "from opened_at to resolved_at (reopened time included).",
    "tech_lead_handoffs": (
        "changes of owner, after dropping Nobody from the sequence of owners "
        "(A -> Nobody -> B counts 1, A -> Nobody -> A counts 0)."
    ),
    "reopen_count": "moves from an inactive status back to an active one.",
    "max_update_gap_h": (
        "the longest wait, in wall-clock hours, between consecutive points of: "
        "opened_at, each staff reply, resolved_at."
    ),
    "_h": "wall-clock hours.",
    "_bh": (
        "business hours: working time under the configured calendar "
        "(default Mon-Fri 09:00-17:00 America/New_York, US federal and Massachusetts holidays off)."
    ),
}


def _hours(delta: pd.Series) -> pd.Series:
    hours: pd.Series = delta.dt.total_seconds() / 3600.0
    return hours


def _per_ticket(values: pd.Series, index: pd.Index) -> pd.Series:
    return values.reindex(index)


def incidents(snapshot: Snapshot) -> pd.DataFrame:
    """The tickets reported as incidents: a ticket merged into another is reported under it."""
    t = snapshot.tickets
    merged = t["effective_id"].notna() & (t["effective_id"] != t["ticket_id"])
    return t.loc[~merged]


def compute_metrics(
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    clock: BusinessClock | None = None,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per incident with the columns of METRIC_COLUMNS (timestamps as UTC Timestamps)."""
    clock = clock or BusinessClock(config.calendar)
    tickets = incidents(snapshot).set_index("ticket_id")
    index = tickets.index
    inactive = list(config.statuses.inactive)
    if segments is None:
        segments = state_segments(events, snapshot)
    ev = events.loc[events["ticket_id"].isin(index)]

    # triage
    staff_reply = facts.staff_reply(ev)
    triage = (
        facts.owner_taken(ev) | staff_reply | facts.staff_left_status(ev, config.statuses.initial)
    )
    triaged_at = _per_ticket(ev.loc[triage].groupby("ticket_id")["at"].min(), index)

    # resolution and reopens
    closes = ev.loc[facts.closing(ev, inactive)]
    reopens = ev.loc[facts.reopening(ev, inactive)]
    born = facts.at_creation(segments)["status"]
    created_closed = born.isin(inactive).reindex(index, fill_value=False)
    closed_now = tickets["status"].isin(inactive)
    resolved_at = _per_ticket(closes.groupby("ticket_id")["at"].max(), index)
    resolved_at = resolved_at.fillna(tickets["created"].where(created_closed))
    resolved_at = resolved_at.where(closed_now)
    reopen_count = _per_ticket(reopens.groupby("ticket_id").size(), index).fillna(0).astype("int64")

    # handoffs and time in developer queues
    handoffs = ev.loc[ev["handoff"]]
    handoff_count = (
        _per_ticket(handoffs.groupby("ticket_id").size(), index).fillna(0).astype("int64")
    )
    first_handoff = handoffs.groupby("ticket_id")["at"].min()
    seg = segments.merge(first_handoff.rename("first_handoff").reset_index(), on="ticket_id")
    in_dev = (
        seg["queue"].isin(config.queues.developer)
        & ~seg["status"].isin(inactive)
        & (seg["start"] >= seg["first_handoff"])
    )
    seg = seg.loc[in_dev]
    seg = seg.assign(
        wall=_hours(seg["end"] - seg["start"]),
        business=clock.hours_between(seg["start"], seg["end"]),
    )
    sums = seg.groupby("ticket_id")[["wall", "business"]].sum(min_count=1)
    handed = (handoff_count > 0) & resolved_at.notna()  # open: no final resolution to end at
    time_in_handoff_h = _per_ticket(sums["wall"], index).fillna(0.0).where(handed)
    time_in_handoff_bh = _per_ticket(sums["business"], index).fillna(0.0).where(handed)

    # tech-lead changes: owner sequence without Nobody
    owners = facts.at_creation(segments).reset_index()[["ticket_id", "start", "txn_id", "owner"]]
    owner_changes = ev.loc[ev["kind"] == "owner", ["ticket_id", "at", "txn_id", "new"]]
    sequence = pd.concat(
        [owners.rename(columns={"start": "at"}), owner_changes.rename(columns={"new": "owner"})],
        ignore_index=True,
    ).sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    sequence = sequence.loc[sequence["owner"].notna() & (sequence["owner"] != NOBODY)]
    previous = sequence.groupby("ticket_id")["owner"].shift()
    changed = previous.notna() & (sequence["owner"] != previous)
    tech_lead_handoffs = (
        _per_ticket(changed.groupby(sequence["ticket_id"]).sum(), index).fillna(0).astype("int64")
    )

    # the longest silence towards the Recipient List
    points = pd.concat(
        [
            tickets["created"].rename("at").reset_index(),
            ev.loc[staff_reply, ["ticket_id", "at"]],
            resolved_at.dropna().rename("at").reset_index(),
        ],
        ignore_index=True,
    ).sort_values(["ticket_id", "at"], kind="stable")
    gaps = points.groupby("ticket_id")["at"].diff()
    max_gap = _per_ticket(_hours(gaps).groupby(points["ticket_id"]).max(), index)

    opened_at = tickets["created"]
    out = pd.DataFrame(
        {
            "subject": tickets["subject"],
            "queue": tickets["queue_id"]
            .map(snapshot.queues.set_index("queue_id")["name"])
            .fillna(tickets["queue_id"]),
            "service": facts.field_values(snapshot, config.fields.service, index),
            "classification": facts.field_values(snapshot, config.fields.classification, index),
            "opened_at": opened_at,
            "triaged_at": triaged_at,
            "resolved_at": resolved_at,
            "time_to_triage_h": _hours(triaged_at - opened_at),
            "time_to_triage_bh": clock.hours_between(opened_at, triaged_at),
            "handoff_count": handoff_count,
            "time_in_handoff_h": time_in_handoff_h,
            "time_in_handoff_bh": time_in_handoff_bh,
            "time_to_resolve_h": _hours(resolved_at - opened_at),
            "time_to_resolve_bh": clock.hours_between(opened_at, resolved_at),
            "tech_lead_handoffs": tech_lead_handoffs,
            "reopen_count": reopen_count,
            "max_update_gap_h": max_gap,
        },
        index=index,
    )
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
