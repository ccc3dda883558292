"""What every close-out rule reads: the Audit of all incidents, and how evidence is written.

A rule (review/closeout/rules/) is a vectorised test over all incidents at once. Its
evidence names the transactions (ids and UTC times) or the missing field that prove it,
written with the helpers here, so a reviewer can check it in RT and act. The process
checklist reads the same Audit, so a step and the rule behind it always agree.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from review.analysis import facts, quality
from review.analysis.timeline import NOBODY
from review.closeout.registry import Registry
from review.settings.calendar import BusinessClock
from review.settings.config import Config, project_dir
from review.snapshot import Snapshot, join_per_key

SENIOR_STAFF = "senior staff"
NO_SERVICE = "(no service)"


def txn_text(ids: pd.Series, at: pd.Series) -> pd.Series:
    """'txn 66 at 2026-08-03T14:00:00Z' for each row."""
    return "txn " + ids.astype("int64").astype(str) + " at " + facts.iso_utc(at, "?")


def hours_to_limit(hours: pd.Series, limit: float) -> pd.Series:
    """Hours to one decimal as evidence writes them next to a `limit`, but never on the
    wrong side of it: one over it that one decimal shows as the limit or less (24.02 h as
    '24.0' for a limit of 24) gets two decimals, or 'just over 24' when those do not do."""
    text = hours.round(1).astype(str)
    tied = (hours > limit) & (hours.round(1) <= limit)
    closer = hours.round(2)
    text = text.mask(tied & (closer > limit), closer.map("{:.2f}".format))
    return text.mask(tied & (closer <= limit), f"just over {limit:g}")


def join_evidence(parts: pd.DataFrame) -> pd.Series:
    """Evidence clauses (ticket_id, evidence) -> one '; '-joined text per ticket, in order."""
    return join_per_key(parts["ticket_id"], parts["evidence"], "; ")


def registry_where(registry: Registry) -> str:
    """The registry file as evidence shows it: relative to the project when inside it."""
    path = Path(registry.path)
    try:
        return str(path.resolve().relative_to(project_dir()))
    except ValueError:
        return str(path)


def incident_services(metrics: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Per incident (index ticket_id): `service` and whether it is `registered`.

    The registered service whose RT names include the Service field's value; when
    the field is empty, the service that claims the ticket's current queue. An
    unregistered service keeps RT's spelling ('' when the field is empty).
    """
    by_id = metrics.set_index("ticket_id")
    # each (field value, queue) read once: a history repeats a few hundred of them
    pair, first = _distinct(by_id["service"], by_id["queue"])
    distinct = by_id[["service", "queue"]].iloc[first]
    rt_name = distinct["service"].fillna("").astype("string")
    by_name = registry.service_of_name(rt_name)
    by_queue = registry.service_of_queue(distinct["queue"])
    service = by_name.where(by_name != "", by_queue.where(rt_name == "", ""))
    registered = service != ""
    found = pd.DataFrame(
        {"service": service.where(registered, rt_name.str.strip()), "registered": registered}
    )
    return found.take(pair).set_axis(by_id.index)


def _distinct(*columns: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's combination of these columns' values (a missing value is one), numbered
    in the order they first appear, and the row each first appears at."""
    pair = np.zeros(len(columns[0]), dtype="int64")
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        pair = pair * (len(uniques) + 1) + codes
    pair = pd.factorize(pair)[0]
    return pair, np.unique(pair, return_index=True)[1]


def service_rows(metrics: pd.DataFrame, registry: Registry, several: pd.DataFrame) -> pd.DataFrame:
    """One row per incident and service (ticket_id, service, registered), for per-service
    counts: an incident whose service field holds several values (`several`: its (ticket_id,
    value) rows, review.analysis.quality.values_held) under each of them, read as
    `incident_services` reads one; every other incident under its one service."""
    split = metrics["ticket_id"].isin(several["ticket_id"])
    one = incident_services(metrics.loc[~split], registry).reset_index()
    each = several.loc[several["ticket_id"].isin(metrics["ticket_id"])].rename(
        columns={"value": "service"}
    )
    queue = metrics.set_index("ticket_id")["queue"].reindex(each["ticket_id"]).to_numpy()
    named = incident_services(each.assign(queue=queue), registry).reset_index()
    rows = pd.concat([one, named], ignore_index=True)
    return rows.sort_values("ticket_id", kind="stable").reset_index(drop=True)


class Audit:
    """The facts every rule needs, computed once for all incidents (each rule's check takes
    it). The process checklist reuses it, so a step and the rule behind it always agree.
    """

    def __init__(
        self,
        events: pd.DataFrame,
        snapshot: Snapshot,
        config: Config,
        registry: Registry,
        metrics: pd.DataFrame,
        segments: pd.DataFrame,
        lost: pd.DataFrame | None = None,
    ) -> None:
        self.events = events
        # where the data cannot back an input a rule or step reads (review.analysis.quality)
        self.lost = quality.lost_inputs(snapshot, config) if lost is None else lost
        self.snapshot = snapshot
        self.config = config
        self.registry = registry
        self.where = registry_where(registry)
        inc = metrics.set_index("ticket_id")[
            ["classification", "opened_at", "triaged_at", "resolved_at", "queue"]
        ].join(incident_services(metrics, registry))
        self.ids = inc.index
        tickets = snapshot.tickets.set_index("ticket_id").reindex(self.ids)
        inc["status"] = tickets["status"]
        fields = config.fields
        for column, name in (
            ("cf_owner", fields.service_owner),
            ("cf_business", fields.business_owner),
            ("resolution", fields.resolution_type),
            ("validated_by", fields.validated_by),
        ):
            inc[column] = facts.field_values(snapshot, name, self.ids)
        reg = registry.frame().set_index("service")
        reg = reg.add_prefix("reg_")
        inc = inc.join(reg, on="service")
        inc["owner_name"] = inc["cf_owner"].where(
            inc["cf_owner"] != "", inc["reg_service_owner"].fillna("")
        )
        inc["action_owner"] = inc["owner_name"].where(inc["owner_name"] != "", SENIOR_STAFF)
        self.inc = inc
        self.entry = (
            "registry entry '"
            + inc["service"]
            + "' ("
            + self.where
            + ":"
            + inc["reg_line"].astype("Int64").astype(str)
            + ")"
        )
        inactive = list(config.statuses.inactive)
        self.inactive = inactive
        self.closed = inc["status"].isin(inactive)
        # closed as "not a problem" (RT's rejected): the close-out asks nothing of them
        self.rejected = inc["status"].isin(config.statuses.rejected)
        pulled = pd.to_datetime(str(snapshot.manifest.get("pulled_at")), utc=True, errors="coerce")
        self.pulled_at = pulled if pd.notna(pulled) else events["at"].max()
        self.segments = segments
        self.closes = facts.last_close(events, inactive).reindex(self.ids)
        self.creates = facts.creations(events).reindex(self.ids)

    def field_set_by(self, name: str) -> pd.Series:
        """Per ticket: 'set by txn N at T' for the last change of custom field `name` to a
        value, or 'set at creation' when no transaction set it."""
        ev = self.events
        sets = ev.loc[(ev["kind"] == "field") & (ev["field"] == name) & (ev["new"] != "")]
        last = sets.groupby("ticket_id")[["txn_id", "at"]].last()
        text: pd.Series = "set by " + txn_text(last["txn_id"], last["at"])
        return text.reindex(self.ids).fillna("set at creation")

    @cached_property
    def close_text(self) -> pd.Series:
        """'closed (resolved) by txn N at T', or 'created already <status> at T'."""
        closes = self.closes
        by_txn = (
            "closed ("
            + closes["new"].fillna("")
            + ") by "
            + txn_text(closes["txn_id"].fillna(0), closes["at"])
        )
        created = (
            "created already "
            + self.inc["status"].astype(str)
            + " by "
            + txn_text(self.creates["txn_id"].fillna(0), self.creates["at"])
        )
        return by_txn.where(closes["txn_id"].notna(), created)

    def handoffs(self) -> pd.DataFrame:
        """Every move from an ops queue to a developer queue, with the first staff reply
        after it: ticket_id, txn_id, at, late (bool) and evidence, in time order."""
        ev = self.events.loc[self.events["ticket_id"].isin(self.ids)]
        config = self.config
        moves = ev.loc[ev["handoff"], ["ticket_id", "txn_id", "at", "old", "new"]]
        replies = ev.loc[facts.staff_reply(ev)]
        replies = replies[["ticket_id", "txn_id", "at"]].rename(
            columns={"txn_id": "reply_txn", "at": "reply_at"}
        )
        paired = pd.merge_asof(
            moves.sort_values("at", kind="stable"),
            replies.sort_values("reply_at", kind="stable"),
            left_on="at",
            right_on="reply_at",
            by="ticket_id",
            direction="forward",
        )
        clock = BusinessClock(config.calendar)
        end = paired["reply_at"].fillna(self.pulled_at)
        business = pd.Series(clock.hours_between(paired["at"], end), index=paired.index)
        limit = config.gaps.handoff_announce_business_hours
        no_reply = paired["reply_at"].isna()
        closed = self.closed.reindex(paired["ticket_id"]).to_numpy()
        moved = (
            "moved "
            + paired["old"]
            + " -> "
            + paired["new"]
            + " by "
            + txn_text(paired["txn_id"], paired["at"])
        )
        answer = np.where(
            no_reply,
            "no staff reply after it",
            "first staff reply after it is "
            + txn_text(paired["reply_txn"].fillna(0), paired["reply_at"])
            + ", "
            + hours_to_limit(business, limit)
            + f" business hours later (limit {limit:g})",
        )
        paired = paired.assign(
            late=(business > limit) | (no_reply & closed), evidence=moved + "; " + answer
        )
        return paired.sort_values(["ticket_id", "at", "txn_id"], kind="stable")

    def lead_after(self, moments: pd.DataFrame) -> pd.Series:
        """The Tech Lead from a moment on (index ticket_id; txn_id, at): the owner then, else
        the next person made owner, else 'Tech Lead (service owner: ...)'."""
        keys = moments.reset_index()
        then = keys.merge(self.segments[["ticket_id", "txn_id", "owner"]], how="left")
        ev = self.events
        taken = ev.loc[facts.owner_set(ev), ["ticket_id", "at", "new"]]
        later = pd.merge_asof(
            keys.sort_values("at", kind="stable"),
            taken.sort_values("at", kind="stable"),
            on="at",
            by="ticket_id",
            direction="forward",
        ).set_index("ticket_id")["new"]
        lead = pd.Series(then["owner"].to_numpy(), index=keys["ticket_id"])
        lead = lead.where(lead.notna() & (lead != NOBODY), later.reindex(lead.index))
        service_owner = self.inc["owner_name"].reindex(lead.index)
        fallback = (
            "Tech Lead (service owner: " + service_owner.where(service_owner != "", "unknown") + ")"
        )
        return lead.where(lead.notna(), fallback)
