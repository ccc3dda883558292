"""Service levels after the fact: RT's %ServiceAgreements rebuilt from a ticket's history.

RT keeps only the current Due date and no record of a breach. Two sources say what the
deadlines were: RT's own `Set Due` transactions (what RT said at the time) and the site's
levels written in the `[sla]` section of our config, in RT's own terms. `due_history`
replays RT's SLA_SetDue scrip on every transaction that triggers it (Create, Correspond,
status change, SLA change), `rt_due_history` reads what RT wrote; `sla_table` gives one
row per incident and says where the two disagree. Business time follows RT's
Business::Hours: a deadline that falls exactly at closing time moves to the next opening.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from review.analysis import facts
from review.analysis.incidents import hours
from review.analysis.timeline import REQUESTOR, STAFF
from review.settings.calendar import BusinessClock, add_business_seconds, business_second
from review.settings.config import Config
from review.settings.service_levels import TYPES, Agreements, Target
from review.snapshot import Snapshot

SLA_COLUMNS = [
    "ticket_id", "sla", "response_due_at", "responded_at", "response_breached", "resolve_due_at",
    "resolved_at", "resolve_breached", "paused_h", "keep_in_loop_breaches",
    "handoff_ola_breached", "response_breaches", "source", "rt_due_agrees", "rt_due_note",
]  # fmt: skip
TIMESTAMP_COLUMNS = ["response_due_at", "responded_at", "resolve_due_at", "resolved_at"]
UNSET_DUE = "1970-01-01 00:00:00"


def deadline(
    clock: BusinessClock, target: Target, base: pd.Series, pause_business_s: np.ndarray,
    pause_real_s: np.ndarray,
) -> pd.Series:  # fmt: skip
    """RT's CalculateTime: base plus the paused time, plus business then real minutes."""
    if target.business_minutes is not None:
        due = add_business_seconds(clock, base, pause_business_s + 60 * target.business_minutes)
    else:
        due = base + pd.to_timedelta(pause_real_s, unit="s")
    if target.real_minutes is not None:
        due = due + pd.Timedelta(minutes=target.real_minutes)
    return due


def _pauses(
    clock: BusinessClock, target: Target, status: pd.DataFrame, asks: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Paused seconds (business, real) RT adds for each ask (ticket_id, base, upto_seq[, until]).

    RT's ExcludeTimeOnIgnoredStatuses: every status change out of an ignored status made
    at or after the base adds the time since the previous change (or since the base), the
    business count including the change's own second when that second is a working one.
    """
    zeros = np.zeros(len(asks))
    if not (target.exclude_time_on_ignored_statuses and target.ignore_on_statuses) or not len(
        status
    ):
        return zeros, zeros
    ignored = list(target.ignore_on_statuses)
    st = status.assign(
        old_ignored=status["old"].isin(ignored), new_ignored=status["new"].isin(ignored)
    )
    st["setter_at"] = st["at"].where(~(st["old_ignored"] & st["new_ignored"]))
    st["previous"] = st.groupby("ticket_id")["setter_at"].shift()
    st["previous"] = st.groupby("ticket_id")["previous"].ffill()
    exits = st.loc[st["old_ignored"] & ~st["new_ignored"], ["ticket_id", "at", "seq", "previous"]]
    pairs = asks.reset_index(names="ask").merge(exits, on="ticket_id")
    keep = (pairs["at"] >= pairs["base"]) & (pairs["seq"] <= pairs["upto_seq"])
    if "until" in pairs:
        keep &= pairs["at"] < pairs["until"]
    pairs = pairs.loc[keep]
    start = pairs[["previous", "base"]].max(axis=1)
    business = (
        clock.working_seconds_since_epoch(pairs["at"])
        - clock.working_seconds_since_epoch(start)
        + business_second(clock, pairs["at"])
    )
    real = (pairs["at"] - start).dt.total_seconds()
    sums = pd.DataFrame({"ask": pairs["ask"], "b": business, "r": real}).groupby("ask").sum()
    b = sums["b"].reindex(range(len(asks)), fill_value=0.0).to_numpy()
    r = sums["r"].reindex(range(len(asks)), fill_value=0.0).to_numpy()
    return b, r


# --------------------------------------------------------------------------- the history


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] for each key (Series.map, but keeping the dtype when `values` is empty)."""
    return pd.Series(values.reindex(keys.to_numpy()).array, index=keys.index)


def _ordered(
    events: pd.DataFrame,
    snapshot: Snapshot,
    agreements: Agreements,
    segments: pd.DataFrame,
) -> pd.DataFrame:
    """Events with their order (seq), the status, queue and level after each one
    (`segments`: the state stretches of the events)."""

    ev = events.reset_index(drop=True).assign(seq=np.arange(len(events)))
    first = facts.at_creation(segments)
    for column, kind in (("status", "status"), ("queue", "queue")):
        after = ev["new"].where(ev["kind"] == kind)
        after = after.groupby(ev["ticket_id"]).ffill()
        ev[column] = after.fillna(_lookup(ev["ticket_id"], first[column])).astype("string")
    is_sla = (ev["type"] == "Set") & (ev["field"] == "SLA")
    initial = ev.loc[is_sla].groupby("ticket_id")["old"].first()
    created_in = first["queue"].astype("string")
    default = agreements.default_for(created_in)
    # The ticket's own SLA field (RT sets it at Create without a transaction) says which
    # level RT applied; the config's defaults serve pulls without it and sites without SLAs.
    tickets = snapshot.tickets.set_index("ticket_id")
    in_rt = tickets.get("sla", pd.Series(dtype="string")).reindex(first.index)
    start_level = initial.reindex(first.index).fillna(in_rt.replace("", pd.NA)).fillna(default)
    level = ev["new"].where(is_sla).groupby(ev["ticket_id"]).ffill()
    ev["level"] = level.fillna(_lookup(ev["ticket_id"], start_level)).fillna("").astype("string")
    return ev


def _acts(ev: pd.DataFrame) -> pd.DataFrame:
    """RT's LastEffectiveAct for every event: the clock that runs after it and its base.

    Creates and replies only. After a staff (inside) one, KeepInLoop runs from it; after a
    requestor's (outside) one, Response runs from the first requestor act since the last
    staff one, so repeated requestor replies do not move the deadline.
    """

    acts = ev.loc[ev["type"].isin(["Create", "Correspond"])].copy()
    acts["outside"] = acts["actor"] == REQUESTOR
    run = (~acts["outside"]).astype("int64").groupby(acts["ticket_id"]).cumsum()
    run_start = acts["at"].where(acts["outside"]).groupby([acts["ticket_id"], run]).transform("min")
    acts["clock"] = np.where(acts["outside"], "response", "keep_in_loop")
    acts["base"] = run_start.where(acts["outside"], acts["at"])
    out = ev[["ticket_id"]].copy()
    out["clock"] = acts["clock"].reindex(ev.index)
    out["base"] = acts["base"].reindex(ev.index)
    out[["clock", "base"]] = out.groupby("ticket_id")[["clock", "base"]].ffill()
    return out[["clock", "base"]]


def due_history(
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    clock: BusinessClock,
    segments: pd.DataFrame,
) -> pd.DataFrame:
    """The Due RT's SLA_SetDue scrip sets after each transaction that triggers it.

    One row per trigger: ticket_id, txn_id, seq, at, level, clock (response or
    keep_in_loop), response_due (that clock's deadline), resolve_due, due (the earlier).
    A clock whose target is missing, or ignores the status the ticket is in, sets nothing.
    """

    agreements = config.sla
    ev = _ordered(events, snapshot, agreements, segments)
    ev[["clock", "base"]] = _acts(ev)
    created = snapshot.tickets.set_index("ticket_id")["created"]
    trigger = (
        ev["type"].isin(["Create", "Correspond"])
        | (ev["kind"] == "status")
        | ((ev["type"] == "Set") & (ev["field"] == "SLA"))
    )
    tr = ev.loc[trigger & (ev["level"] != "")].reset_index(drop=True)
    status = ev.loc[ev["kind"] == "status", ["ticket_id", "at", "seq", "old", "new"]]
    tr["response_due"] = pd.Series(pd.NaT, index=tr.index, dtype="datetime64[ns, UTC]")
    tr["resolve_due"] = tr["response_due"]
    tr["created"] = _lookup(tr["ticket_id"], created)
    for level in agreements.levels:
        for kind in TYPES:
            target = level.target(kind)
            if target is None:
                continue
            rows = tr["level"] == level.name
            rows &= (tr["clock"] == kind) if kind != "resolve" else True
            rows &= ~tr["status"].isin(list(target.ignore_on_statuses))
            if not rows.any():
                continue
            part = tr.loc[rows]
            base = part["created"] if kind == "resolve" else part["base"]
            asks = pd.DataFrame(
                {"ticket_id": part["ticket_id"], "base": base, "upto_seq": part["seq"]}
            ).reset_index(drop=True)
            business, real = _pauses(clock, target, status, asks)
            due = deadline(clock, target, base.reset_index(drop=True), business, real)
            column = "resolve_due" if kind == "resolve" else "response_due"
            tr.loc[rows, column] = due.to_numpy()
    tr["due"] = tr[["response_due", "resolve_due"]].min(axis=1)
    return tr[
        ["ticket_id", "txn_id", "seq", "at", "level", "clock", "response_due", "resolve_due", "due"]
    ]


def rt_due_history(events: pd.DataFrame) -> pd.DataFrame:
    """What RT wrote: one row per `Set Due` transaction (ticket_id, txn_id, at, due; NaT unset)."""
    rows = events.loc[(events["type"] == "Set") & (events["field"] == "Due")]
    due = pd.to_datetime(rows["new"].where(rows["new"] != UNSET_DUE), utc=True, errors="coerce")
    return pd.DataFrame(
        {"ticket_id": rows["ticket_id"], "txn_id": rows["txn_id"], "at": rows["at"], "due": due}
    ).reset_index(drop=True)


def compare_due(expected: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """Per action, the Due the config gives and the one RT had set when the next action came.

    Triggers of one ticket at the same instant are one action (a reply and the status change
    RT makes for it run their scrips interleaved), judged after its last trigger. RT's value
    is its last `Set Due` before the next action; `agrees` is True where both are unset or equal.
    """
    exp = expected.sort_values(["ticket_id", "txn_id"])
    first_txn = exp.groupby(["ticket_id", "at"])["txn_id"].transform("min")
    exp = exp.assign(first_txn=first_txn).drop_duplicates(["ticket_id", "at"], keep="last")
    if exp.empty:
        moment = "datetime64[ns, UTC]"
        kinds = {"ticket_id": "int64", "txn_id": "int64", "at": moment, "due": moment,
                 "rt_due": moment, "agrees": "bool"}  # fmt: skip
        return pd.DataFrame({c: pd.Series(dtype=kind) for c, kind in kinds.items()})
    ids = pd.concat([exp["txn_id"], recorded["txn_id"]]).dropna()
    last = int(ids.max()) + 1
    exp["until"] = exp.groupby("ticket_id")["first_txn"].shift(-1).fillna(last)
    rec = recorded.sort_values("txn_id")
    merged = pd.merge_asof(
        exp.astype({"until": "int64"}).sort_values("until"),
        rec[["ticket_id", "txn_id", "due"]].rename(columns={"txn_id": "rt_txn", "due": "rt_due"}),
        left_on="until",
        right_on="rt_txn",
        by="ticket_id",
        allow_exact_matches=False,
    ).sort_values(["ticket_id", "txn_id"])
    both_unset = merged["due"].isna() & merged["rt_due"].isna()
    merged["agrees"] = both_unset | (merged["due"] == merged["rt_due"])
    merged["txn_id"] = merged["first_txn"]  # the action is named by its first transaction
    return merged[["ticket_id", "txn_id", "at", "due", "rt_due", "agrees"]].reset_index(drop=True)


# --------------------------------------------------------------------------- one row per incident


def _periods(
    ev: pd.DataFrame, ends: pd.Series, now: pd.Timestamp, closes: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Response and KeepInLoop stretches: (ticket_id, level, base, end, met_at).

    A Response stretch runs from the first requestor act after a staff one to the next
    staff act (met) or the first close after it; a KeepInLoop stretch from a staff act to
    the next act of anyone, or the first close after it (`closes`: ticket_id, at, seq): RT
    unsets Due when a ticket closes, so the days a ticket stayed resolved before a reopen
    are no one's delay. Without either end it runs until the resolution, else `now`.
    """

    acts = ev.loc[ev["type"].isin(["Create", "Correspond"])].copy()
    acts["outside"] = acts["actor"] == REQUESTOR
    acts["next_at"] = acts.groupby("ticket_id")["at"].shift(-1)
    inside_at = acts["at"].where(~acts["outside"])
    next_inside = inside_at.groupby(acts["ticket_id"]).shift(-1)
    acts["next_inside"] = next_inside.groupby(acts["ticket_id"]).bfill()
    previous_outside = acts.groupby("ticket_id")["outside"].shift(fill_value=False)
    resolution = _first_close(closes, acts).fillna(_lookup(acts["ticket_id"], ends))
    starts = acts.loc[acts["outside"] & ~previous_outside.astype(bool)]
    response = starts.assign(
        base=starts["at"],
        met_at=starts["next_inside"],
        end=_earlier(starts["next_inside"], resolution.loc[starts.index]).fillna(now),
    )
    keep = acts.loc[~acts["outside"]]
    keep = keep.assign(
        base=keep["at"],
        met_at=keep["next_at"],
        end=_earlier(keep["next_at"], resolution.loc[keep.index]).fillna(now),
    )
    columns = ["ticket_id", "level", "base", "end", "met_at"]
    response, keep = (
        p.assign(level=_level_at(ev, p["ticket_id"], p["end"]))[columns].reset_index(drop=True)
        for p in (response, keep)
    )
    return response, keep


def _earlier(a: pd.Series, b: pd.Series) -> pd.Series:
    """The earlier of two times, either where the other is missing."""
    return a.where(b.isna() | (a <= b), b)


def _first_close(closes: pd.DataFrame, acts: pd.DataFrame) -> pd.Series:
    """Per act (ticket_id, seq), the time of the ticket's first close after it in the order
    RT wrote them (seq): a close in the same second but before it does not end what it
    starts (a reply that reopens a ticket resolved that second). NaT: none."""
    found = pd.merge_asof(
        acts[["ticket_id", "seq"]].reset_index(names="row").sort_values("seq", kind="stable"),
        closes[["ticket_id", "seq", "at"]]
        .rename(columns={"seq": "close_seq", "at": "closed"})
        .sort_values("close_seq", kind="stable"),
        left_on="seq",
        right_on="close_seq",
        by="ticket_id",
        direction="forward",
    )
    return found.set_index("row")["closed"].reindex(acts.index)


def _level_at(ev: pd.DataFrame, ticket_id: pd.Series, at: pd.Series) -> pd.Series:
    """The level in force at each (ticket_id, at): after the ticket's last event then. RT
    computes every Due with the level of its moment, so a level changed while a deadline
    runs moves it (from the same base): a stretch is judged by its level when it ended."""
    asks = pd.DataFrame(
        {"row": np.arange(len(at)), "ticket_id": ticket_id.to_numpy(),
         "at": at.astype(ev["at"].dtype).array}
    )  # fmt: skip
    found = pd.merge_asof(
        asks.sort_values("at", kind="stable"),
        ev[["ticket_id", "at", "level"]].sort_values("at", kind="stable"),
        on="at",
        by="ticket_id",
    ).sort_values("row")
    return pd.Series(found["level"].to_numpy(), index=at.index, dtype="string")


def _period_dues(
    clock: BusinessClock, agreements: Agreements, kind: str, periods: pd.DataFrame,
    status: pd.DataFrame,
) -> pd.Series:  # fmt: skip
    """Each stretch's deadline, with the pauses that ended before the stretch did."""
    due = pd.Series(pd.NaT, index=periods.index, dtype="datetime64[ns, UTC]")
    for level in agreements.levels:
        target = level.target(kind)
        rows = periods["level"] == level.name
        if target is None or not rows.any():
            continue
        asks = periods.loc[rows, ["ticket_id", "base", "end"]].reset_index(drop=True)
        asks = asks.rename(columns={"end": "until"}).assign(upto_seq=np.iinfo("int64").max)
        business, real = _pauses(clock, target, status, asks)
        due.loc[rows] = deadline(clock, target, asks["base"], business, real).to_numpy()
    return due


def _first(frame: pd.DataFrame, columns: list[str], index: pd.Index) -> pd.DataFrame:
    return frame.groupby("ticket_id")[columns].first().reindex(index)


def _rt_due_at(recorded: pd.DataFrame, asks: pd.DataFrame) -> pd.Series:
    """The Due RT showed just before each (ticket_id, at): its last write strictly earlier."""
    if not len(asks):
        return pd.Series(pd.NaT, index=asks.index, dtype="datetime64[ns, UTC]")
    found = pd.merge_asof(
        asks.reset_index(names="row").sort_values("at"),
        recorded.rename(columns={"at": "rt_at"}).sort_values("rt_at")[
            ["ticket_id", "rt_at", "due"]
        ],
        left_on="at",
        right_on="rt_at",
        by="ticket_id",
        allow_exact_matches=False,
    )
    return found.set_index("row")["due"].reindex(asks.index)


def _ola_breached(
    ev: pd.DataFrame, config: Config, clock: BusinessClock, index: pd.Index, now: pd.Timestamp
) -> pd.Series:
    """Hand-off OLA: business hours from the first move into a developer queue to the first
    staff reply, comment, owner or status change made while in a developer queue, or the
    first close after the move (the wait is over: it ran to the pull for a ticket resolved
    without a developer's act); NA when never handed off, or still waiting at `now` and
    not late yet (undecided, never met)."""

    first_moves = ev.loc[ev["handoff"]].groupby("ticket_id")[["at", "seq"]].first()
    handoffs = first_moves["at"]
    acts = ev.loc[
        ev["kind"].isin(["reply", "comment", "owner", "status"])
        & (ev["actor"] == STAFF)
        & ev["queue"].isin(config.queues.developer)
    ]
    acts = acts.merge(handoffs.rename("handoff_at").reset_index(), on="ticket_id")
    acts = acts.loc[acts["at"] >= acts["handoff_at"]]
    first = acts.groupby("ticket_id")["at"].min().reindex(handoffs.index)
    moves = first_moves.reset_index().set_index(first_moves.index)
    closes = ev.loc[facts.closing(ev, config.statuses.inactive), ["ticket_id", "at", "seq"]]
    end = _earlier(first, _first_close(closes, moves))
    hours = pd.Series(clock.hours_between(handoffs, end.fillna(now)), index=handoffs.index)
    breached = (hours > config.sla.handoff_ola_hours).astype("boolean")
    return breached.mask(end.isna() & ~breached).reindex(index)


def sla_table(
    snapshot: Snapshot, config: Config, events: pd.DataFrame, metrics: pd.DataFrame,
    clock: BusinessClock, segments: pd.DataFrame,
) -> pd.DataFrame:  # fmt: skip
    """One row per incident with a service level (SLA_COLUMNS; timestamps UTC).

    Deadlines come from the config's levels where the ticket has one, else from RT's own
    Due history (the Due RT showed when the reply or resolution came). Where both exist,
    `rt_due_agrees` says whether RT's Due after every trigger equals the rebuilt one, and
    `rt_due_note` names the first difference. The inputs are the stages of a
    review.context.Context (`Context.sla`), which computes each once.
    """

    index = pd.Index(metrics["ticket_id"], name="ticket_id")
    if index.empty:  # typed as a full table is, so formatting and reports take it as it is
        return pd.DataFrame(
            {
                c: pd.Series(dtype="datetime64[ns, UTC]" if c in TIMESTAMP_COLUMNS else "object")
                for c in SLA_COLUMNS
            }
        )
    now = snapshot.pulled_at or events["at"].max()
    ev = _ordered(events.loc[events["ticket_id"].isin(index)], snapshot, config.sla, segments)
    level = ev.groupby("ticket_id")["level"].last().reindex(index).fillna("")
    configured = level.isin([lv.name for lv in config.sla.levels])
    recorded = rt_due_history(ev)
    from_rt = pd.Series(index.isin(recorded["ticket_id"]), index=index)
    resolved_at = metrics.set_index("ticket_id")["resolved_at"].reindex(index)
    status = ev.loc[ev["kind"] == "status", ["ticket_id", "at", "seq", "old", "new"]]
    dues = _Dues(clock, config.sla, status, configured, recorded, config.statuses.inactive)
    response, keep = dues.of_periods(ev, resolved_at, now, index)
    created = snapshot.tickets.set_index("ticket_id")["created"].reindex(index)
    resolve = dues.of_resolution(ev, level, created, resolved_at.fillna(now))
    segments = segments.loc[segments["ticket_id"].isin(index)]
    both = configured & from_rt
    agree = _agreement(events, index[both.to_numpy()], snapshot, config, clock, segments, recorded)
    # RT's Due history alone does not say which statuses pause a level or what its
    # KeepInLoop is: unknown (missing) for those tickets, never a made-up 0
    paused = _paused_hours(ev, segments, level, config, resolved_at, now).reindex(index).fillna(0)
    kept = keep.loc[_lookup(keep["ticket_id"], configured).astype(bool)]
    out = pd.concat(
        [
            _response_columns(response, index, now, configured),
            _resolve_columns(resolve, resolved_at, index),
            _agreement_columns(agree, both, index),
        ],
        axis=1,
    ).assign(
        sla=level,
        paused_h=paused.where(configured.to_numpy()),
        keep_in_loop_breaches=_count(kept, index).astype("Int64").where(configured.to_numpy()),
        handoff_ola_breached=_ola_breached(ev, config, clock, index, now),
        source=np.where(both, "config+rt", np.where(configured, "config", "rt")),
    )
    out = out.loc[configured | from_rt]
    return (
        out.reset_index()[SLA_COLUMNS]
        .sort_values("ticket_id", kind="stable")
        .reset_index(drop=True)
    )


def _response_columns(
    response: pd.DataFrame, index: pd.Index, now: pd.Timestamp, configured: pd.Series
) -> pd.DataFrame:
    """The first response's due time, when it came and whether it was late (missing while
    still running at the pull, or without a deadline), and the breached responses."""
    first = _first(response, ["due", "met_at", "breached", "end"], index)
    running = first["breached"].eq(False) & first["end"].eq(now)  # not decided at the pull
    breached = first["breached"].astype("boolean").mask(running)
    breached = breached.mask(~configured & first["due"].isna())  # RT's Due: none, no verdict
    return pd.DataFrame(
        {
            "response_due_at": first["due"],
            "responded_at": first["met_at"],
            "response_breached": breached,
            "response_breaches": _count(response, index).astype("int64"),
        },
        index=index,
    )


def _resolve_columns(
    resolve: pd.DataFrame, resolved_at: pd.Series, index: pd.Index
) -> pd.DataFrame:
    """The resolve deadline, the resolution and whether it was late (missing while open and
    not yet late)."""
    late = (resolve["end"] > resolve["due"]).reindex(index)
    return pd.DataFrame(
        {
            "resolve_due_at": resolve["due"].reindex(index),
            "resolved_at": resolved_at,
            "resolve_breached": late.astype("boolean").mask(resolved_at.isna() & ~late),
        },
        index=index,
    )


def _agreement_columns(agree: pd.DataFrame, both: pd.Series, index: pd.Index) -> pd.DataFrame:
    """For tickets with both a configured level and RT's Due history: whether RT's Due after
    every trigger equals the rebuilt one, and the first difference in words."""
    return pd.DataFrame(
        {
            "rt_due_agrees": agree.groupby("ticket_id")["agrees"]
            .all()
            .reindex(index)
            .where(both)
            .astype("boolean"),
            "rt_due_note": _first_difference(agree).reindex(index).where(both).fillna(""),
        },
        index=index,
    )


@dataclass(frozen=True)
class _Dues:
    """Where a deadline comes from: the config's level when the ticket has one, else RT's own
    Due history (`recorded`) at the moment the period ended."""

    clock: BusinessClock
    agreements: Agreements
    status: pd.DataFrame
    configured: pd.Series  # by ticket_id: the ticket has a configured level
    recorded: pd.DataFrame
    inactive: tuple[str, ...]  # the statuses a ticket is closed in

    def of_periods(
        self, ev: pd.DataFrame, resolved_at: pd.Series, now: pd.Timestamp, index: pd.Index
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The response periods of the incidents and the keep-in-loop periods, each with its
        due time and whether it was breached."""
        closes = ev.loc[facts.closing(ev, self.inactive), ["ticket_id", "at", "seq"]]
        response, keep = _periods(ev, resolved_at.copy(), now, closes)
        response = self.of_responses(response.loc[response["ticket_id"].isin(index)])
        keep["due"] = _period_dues(self.clock, self.agreements, "keep_in_loop", keep, self.status)
        keep["breached"] = keep["end"] > keep["due"]
        return response, keep

    def of_responses(self, response: pd.DataFrame) -> pd.DataFrame:
        """Response periods with their due time and whether each was breached."""
        response = response.assign(
            due=_period_dues(self.clock, self.agreements, "response", response, self.status)
        )
        rt_rows = ~_lookup(response["ticket_id"], self.configured).astype(bool)
        rt_asks = pd.DataFrame({"ticket_id": response["ticket_id"], "at": response["end"]})
        response.loc[rt_rows, "due"] = _rt_due_at(self.recorded, rt_asks.loc[rt_rows])
        return response.assign(breached=response["end"] > response["due"])

    def of_resolution(
        self, ev: pd.DataFrame, level: pd.Series, created: pd.Series, end: pd.Series
    ) -> pd.DataFrame:
        """Per incident (`level`'s index: ticket_id): its level when it ended (else `level`,
        its last), base (created), end (resolved, else the pull) and due time to resolve."""
        index = level.index
        level = _level_at(ev, pd.Series(index, index=index), end).fillna(level)
        resolve = pd.DataFrame(
            {"ticket_id": index, "level": level.to_numpy(), "base": created.to_numpy(),
             "end": end.to_numpy()}
        )  # fmt: skip
        resolve["due"] = _period_dues(self.clock, self.agreements, "resolve", resolve, self.status)
        rt_resolve = ~self.configured.to_numpy()
        resolve.loc[rt_resolve, "due"] = _rt_due_at(
            self.recorded,
            resolve.loc[rt_resolve, ["ticket_id", "end"]].rename(columns={"end": "at"}),
        )
        return resolve.set_index("ticket_id")


def _agreement(
    events: pd.DataFrame,
    both: pd.Index,
    snapshot: Snapshot,
    config: Config,
    clock: BusinessClock,
    segments: pd.DataFrame,
    recorded: pd.DataFrame,
) -> pd.DataFrame:
    """RT's Due after each trigger against the rebuilt one, for the tickets with `both` a
    configured level and RT's Due history (compare_due)."""
    mine = events.loc[events["ticket_id"].isin(both)]
    return compare_due(due_history(mine, snapshot, config, clock, segments), recorded)


def _paused_hours(
    ev: pd.DataFrame,
    segments: pd.DataFrame,
    level: pd.Series,
    config: Config,
    resolved_at: pd.Series,
    now: pd.Timestamp,
) -> pd.Series:
    """Wall-clock hours per ticket in a status its level then ignored (the clock paused),
    until it was resolved (or the pull)."""
    segments = segments.loc[segments["ticket_id"].isin(level.index)]
    pauses = pd.DataFrame(
        [(lv.name, status) for lv in config.sla.levels for status in lv.ignored],
        columns=["sla", "status"],
    )
    then = _level_at(ev, segments["ticket_id"], segments["start"])
    seg = segments.assign(sla=then.fillna(_lookup(segments["ticket_id"], level)))
    seg = seg.merge(pauses, on=["sla", "status"])
    stop = pd.concat(
        [seg["end"].fillna(now), _lookup(seg["ticket_id"], resolved_at).fillna(now)], axis=1
    ).min(axis=1)
    # summed exactly (a timedelta) and made hours once, however the pauses are cut
    stay = stop - seg["start"]
    paused = stay.where(stay > pd.Timedelta(0), pd.Timedelta(0)).groupby(seg["ticket_id"]).sum()
    return hours(paused)


def _count(breaches: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Breached periods per ticket (0 where none)."""
    counted: pd.Series = breaches.groupby("ticket_id")["breached"].sum().reindex(index).fillna(0)
    return counted


def _first_difference(agree: pd.DataFrame) -> pd.Series:
    """Per ticket: where RT's Due first differs from the rebuilt one, in words."""
    differ = agree.loc[~agree["agrees"]].groupby("ticket_id").first()
    note: pd.Series = (
        "after txn " + differ["txn_id"].astype(str) + " (" + facts.iso_utc(differ["at"], None)
        + "): RT Due " + facts.iso_utc(differ["rt_due"], "unset")
        + ", levels give " + facts.iso_utc(differ["due"], "unset")
    )  # fmt: skip
    return note


def format_sla(table: pd.DataFrame, digits: int | None = 2) -> pd.DataFrame:
    """The SLA table for people and files: ISO 8601 UTC timestamps, hours rounded."""
    out = facts.times_as_text(table)
    if digits is not None:
        out["paused_h"] = out["paused_h"].round(digits)
    return out


def deadlines(table: pd.DataFrame, ticket_id: int) -> dict[str, pd.Timestamp]:
    """One incident's response and resolve deadlines (for its timeline); empty without a level."""
    row = table.loc[table["ticket_id"] == ticket_id]
    if row.empty:
        return {}
    found = {
        "response due": row["response_due_at"].iloc[0],
        "resolve due": row["resolve_due_at"].iloc[0],
    }
    return {label: pd.Timestamp(at) for label, at in found.items() if pd.notna(at)}
