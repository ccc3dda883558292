"""Close-out rules -> findings, and the per-service summary senior staff work from.

Each rule turns the process's Close Out checks (and the response steps they
depend on) into a vectorised test over all incidents at once. A finding names
the transactions (ids and UTC times) or the missing field that prove it, and
the action the process prescribes, so a reviewer can check it in RT and act.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from review.analysis import facts
from review.analysis.facts import AT_CREATION
from review.analysis.metrics import compute_metrics
from review.analysis.timeline import NOBODY, state_segments
from review.closeout.registry import Registry
from review.closeout.rules import RULES as RULES  # re-exported: gaps.RULES is the registry
from review.closeout.rules import SERVICE_OWNER, rule
from review.settings.calendar import BusinessClock
from review.settings.config import Config, project_dir
from review.snapshot.core import Snapshot

FINDING_COLUMNS = ["ticket_id", "service", "rule", "severity", "evidence", "action", "action_owner"]
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
SENIOR_STAFF = "senior staff"
NO_SERVICE = "(no service)"


def _txn(ids: pd.Series, at: pd.Series) -> pd.Series:
    """'txn 66 at 2026-08-03T14:00:00Z' for each row."""
    return "txn " + ids.astype("int64").astype(str) + " at " + facts.iso_utc(at, "?")


def _join(parts: pd.DataFrame) -> pd.Series:
    """Evidence clauses (ticket_id, evidence) -> one '; '-joined text per ticket, in order."""
    return parts.groupby("ticket_id", sort=True)["evidence"].agg("; ".join)


def _where(registry: Registry) -> str:
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
    rt_name = by_id["service"].fillna("").astype("string")
    by_name = registry.service_of_name(rt_name)
    by_queue = registry.service_of_queue(by_id["queue"])
    service = by_name.where(by_name != "", by_queue.where(rt_name == "", ""))
    registered = service != ""
    return pd.DataFrame(
        {"service": service.where(registered, rt_name.str.strip()), "registered": registered}
    )


class Audit:
    """The facts every rule needs, computed once for all incidents (the rules, declared
    below with review.closeout.rules.rule, each take it). The process checklist reuses it, so a step
    and the rule behind it always agree.
    """

    def __init__(
        self,
        events: pd.DataFrame,
        snapshot: Snapshot,
        config: Config,
        registry: Registry,
        metrics: pd.DataFrame,
        segments: pd.DataFrame | None = None,
    ) -> None:
        self.events = events
        self.snapshot = snapshot
        self.config = config
        self.registry = registry
        self.where = _where(registry)
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
        self.segments = state_segments(events, snapshot) if segments is None else segments
        self.closes = facts.last_close(events, inactive).reindex(self.ids)
        self.creates = facts.creations(events).reindex(self.ids)

    def field_set_by(self, name: str) -> pd.Series:
        """Per ticket: 'set by txn N at T' for the last change of custom field `name` to a
        value, or 'set at creation' when no transaction set it."""
        ev = self.events
        sets = ev.loc[(ev["kind"] == "field") & (ev["field"] == name) & (ev["new"] != "")]
        last = sets.groupby("ticket_id")[["txn_id", "at"]].last()
        text: pd.Series = "set by " + _txn(last["txn_id"], last["at"])
        return text.reindex(self.ids).fillna("set at creation")

    @cached_property
    def close_text(self) -> pd.Series:
        """'closed (resolved) by txn N at T', or 'created already <status> at T'."""
        closes = self.closes
        by_txn = (
            "closed ("
            + closes["new"].fillna("")
            + ") by "
            + _txn(closes["txn_id"].fillna(0), closes["at"])
        )
        created = (
            "created already "
            + self.inc["status"].astype(str)
            + " by "
            + _txn(self.creates["txn_id"].fillna(0), self.creates["at"])
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
            + _txn(paired["txn_id"], paired["at"])
        )
        answer = np.where(
            no_reply,
            "no staff reply after it",
            "first staff reply after it is "
            + _txn(paired["reply_txn"].fillna(0), paired["reply_at"])
            + ", "
            + business.round(1).astype(str)
            + f" business hours later (limit {limit:g})",
        )
        paired = paired.assign(
            late=(business > limit) | (no_reply & closed), evidence=moved + "; " + answer
        )
        return paired.sort_values(["ticket_id", "at", "txn_id"], kind="stable")

    def _lead_after(self, moments: pd.DataFrame) -> pd.Series:
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


# --------------------------------------------------------------------------- rules


@rule(
    "unknown-service-owner",
    title="Service owner unknown",
    severity="high",
    scope="service",
    action="Escalate to senior staff to name the service owner, then update Operations' records "
    "(the service registry).",
    action_owner=SENIOR_STAFF,
    meaning="the service has no owner in RT's Service Owner field or in the registry, "
    "or the service is not in the registry at all.",
)
def unknown_service_owner(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    field = audit.config.fields
    unregistered = ~inc["registered"]
    no_field = inc["service"] == ""
    text = pd.Series("", index=audit.ids, dtype="object")
    text = text.mask(
        unregistered & ~no_field,
        "service '" + inc["service"] + f"' is not in the registry {audit.where}",
    )
    text = text.mask(
        unregistered & no_field,
        f"custom field '{field.service}' is empty and queue '"
        + inc["queue"]
        + f"' is claimed by no service in {audit.where}",
    )
    ownerless = inc["registered"] & (inc["owner_name"] == "")
    text = text.mask(
        ownerless,
        f"custom field '{field.service_owner}' is empty and "
        + audit.entry
        + " has no service_owner",
    )
    found = text.loc[text != ""]
    return pd.DataFrame({"ticket_id": found.index, "evidence": found.to_numpy()})


@rule(
    "ad-hoc-support-team",
    title="Support team ad hoc",
    severity="medium",
    scope="service",
    action="Service owner and managers establish permanent support responsibilities; "
    "Operations records them in the registry (support_team, support_assignment: permanent).",
    meaning="the service's support assignment is temporary or unassigned (or unrecorded), or "
    "someone who owned the ticket is not in the service's support team, tech leads or "
    "Operations staff.",
)
def ad_hoc_support_team(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    assignment = inc["reg_support_assignment"]
    weak = inc["registered"] & assignment.isin(["temporary", "unassigned"])
    parts = [
        pd.DataFrame(
            {
                "ticket_id": inc.index[weak],
                "order": 0,
                "evidence": ("support_assignment is " + assignment + " in " + audit.entry)[
                    weak
                ].to_numpy(),
            }
        ),
        pd.DataFrame(
            {
                "ticket_id": inc.index[~inc["registered"]],
                "order": 0,
                "evidence": (
                    "no registry entry for '"
                    + inc["service"].where(inc["service"] != "", NO_SERVICE)
                    + "', so no support assignment is recorded"
                )[~inc["registered"]].to_numpy(),
            }
        ),
    ]
    # people who owned the ticket, at creation or by a Set/Owner change
    owners = audit.events.loc[
        facts.owner_set(audit.events), ["ticket_id", "txn_id", "at", "new"]
    ].rename(columns={"new": "person"})
    first = facts.at_creation(audit.segments).reset_index()
    first = first.loc[first["owner"].notna() & (first["owner"] != NOBODY)]
    initial = pd.DataFrame(
        {"ticket_id": first["ticket_id"], "txn_id": AT_CREATION, "at": first["start"]},
    ).assign(person=first["owner"].to_numpy())
    owners = pd.concat([initial, owners], ignore_index=True)
    owners = owners.loc[owners["ticket_id"].isin(inc.index[inc["registered"]])]
    owners = owners.join(inc[["service"]], on="ticket_id")
    allowed = pd.DataFrame(
        [
            (s.service, person)
            for s in audit.registry.services
            for person in (*s.support_team, *s.tech_leads)
        ],
        columns=["service", "person"],
    ).drop_duplicates()
    owners = owners.merge(allowed, on=["service", "person"], how="left", indicator=True)
    outsiders = owners.loc[
        (owners["_merge"] == "left_only") & ~owners["person"].isin(audit.registry.operations_staff)
    ].sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    how = np.where(
        outsiders["txn_id"] == AT_CREATION,
        "owner at creation",
        "owner set by " + _txn(outsiders["txn_id"].clip(lower=0), outsiders["at"]),
    )
    team = inc["reg_support_team"].reindex(outsiders["ticket_id"]).str.join(", ")
    entry = audit.entry.reindex(outsiders["ticket_id"])
    parts.append(
        pd.DataFrame(
            {
                "ticket_id": outsiders["ticket_id"].to_numpy(),
                "order": 1,
                "evidence": (
                    outsiders["person"].to_numpy()
                    + " owned it ("
                    + how
                    + ") but is not in the support team ["
                    + team.to_numpy()
                    + "] of "
                    + entry.to_numpy()
                ),
            }
        )
    )
    found = pd.concat(parts, ignore_index=True).sort_values(["ticket_id", "order"], kind="stable")
    return _join(found).reset_index()


@rule(
    "comms-channels-undefined",
    title="Communication channels undefined",
    severity="medium",
    scope="service",
    action="Service owner corrects the announce and support lists with the service's sponsors "
    "and managers, records them in the registry, and Cc's them on incidents.",
    meaning="the registry has no announce list or no support list for the service, or the "
    "ticket had nobody on its Cc beyond the requestors.",
)
def comms_channels_undefined(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    announce = inc["reg_announce_lists"].str.len().fillna(0) > 0
    support = inc["reg_support_lists"].str.len().fillna(0) > 0
    text = pd.Series("", index=audit.ids, dtype="object")
    registered = inc["registered"]
    text = text.mask(registered & ~announce & support, audit.entry + " has no announce_lists")
    text = text.mask(registered & announce & ~support, audit.entry + " has no support_lists")
    text = text.mask(
        registered & ~announce & ~support,
        audit.entry + " has no announce_lists and no support_lists",
    )
    text = text.mask(
        ~registered,
        "no registry entry for '"
        + inc["service"].where(inc["service"] != "", NO_SERVICE)
        + "', so no announce or support list is recorded",
    )
    watchers = audit.snapshot.watchers
    requestors = facts.requestors(watchers)
    has_cc = pd.Series(True, index=facts.extra_cc(watchers)["ticket_id"].unique())
    lonely = ~has_cc.reindex(audit.ids, fill_value=False)
    named = (
        requestors.sort_values(["ticket_id", "user"])
        .groupby("ticket_id")["user"]
        .agg(", ".join)
        .reindex(audit.ids)
        .fillna("none")
    )
    cc_text = "nobody on the ticket's Cc beyond the requestors (" + named + ")"
    text = text.mask(lonely & (text != ""), text + "; " + cc_text)
    text = text.mask(lonely & (text == ""), cc_text)
    found = text.loc[text != ""]
    return pd.DataFrame({"ticket_id": found.index, "evidence": found.to_numpy()})


@rule(
    "temporary-fix-no-followup",
    title="Temporary fix without a follow-up",
    severity="medium",
    action="Service owner addresses the permanent resolution: open or hand off a follow-up "
    "ticket, link it, and decide whether to stay in urgent mode or shift to hand-off.",
    meaning="Resolution Type is Temporary and no link leads to a follow-up that is open or was "
    "resolved permanently.",
    followup_satisfies=True,
)
def temporary_fix_no_followup(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    config = audit.config
    temporary = inc["resolution"] == config.resolution.temporary
    links = audit.snapshot.links
    links = links.loc[links["ticket_id"].isin(inc.index[temporary])]
    target = pd.to_numeric(links["target"].where(~links["external"]), errors="coerce")
    tickets = audit.snapshot.tickets.set_index("ticket_id")
    target_status = tickets["status"].reindex(target).to_numpy()
    target_closed = pd.Series(target_status, index=links.index).isin(audit.inactive)
    target_resolution = pd.Series(
        facts.field_values(audit.snapshot, config.fields.resolution_type, target).to_numpy(),
        index=links.index,
    ).fillna("")
    dead = target_closed & (target_resolution != config.resolution.permanent)
    good = links.loc[~dead, "ticket_id"].unique()
    bad = links.loc[dead].assign(resolution=target_resolution[dead])
    bad = bad.sort_values(["ticket_id", "target"], kind="stable")
    bad_text = (
        "follow-up #"
        + bad["target"].astype(str)
        + " ("
        + bad["ref"]
        + ") is closed with Resolution Type '"
        + bad["resolution"]
        + f"', not {config.resolution.permanent}"
    )
    bad_by_ticket = (
        pd.DataFrame({"ticket_id": bad["ticket_id"], "evidence": bad_text}).pipe(_join)
        if len(bad)
        else pd.Series(dtype="object")
    )
    flagged = temporary & ~inc.index.isin(good)
    head = (
        f"custom field '{config.fields.resolution_type}' is {config.resolution.temporary} ("
        + audit.field_set_by(config.fields.resolution_type)
        + ")"
    )
    tail = bad_by_ticket.reindex(audit.ids).fillna("no link to a follow-up ticket")
    text = (head + "; " + tail)[flagged]
    return pd.DataFrame({"ticket_id": text.index, "evidence": text.to_numpy()})


@rule(
    "not-validated",
    title="Not validated",
    severity="medium",
    action="Service and business owners validate the service; record who in the Validated By "
    "field before the problem is closed.",
    action_owner="the service owner with the business owner",
    meaning="resolved (not rejected) with the Validated By field empty.",
)
def not_validated(audit: Audit) -> pd.DataFrame:
    field = audit.config.fields.validated_by
    if not facts.has_field(audit.snapshot, field):
        return pd.DataFrame(columns=["ticket_id", "evidence"])  # not observable: checklist
    inc = audit.inc
    flagged = audit.closed & ~audit.rejected & (inc["validated_by"] == "")
    text = (audit.close_text + f"; custom field '{field}' is empty")[flagged]
    owners = inc["owner_name"].where(inc["owner_name"] != "", "service owner")
    business = inc["cf_business"].where(
        inc["cf_business"] != "", inc["reg_business_owner"].fillna("")
    )
    who = (owners + " with " + business.where(business != "", "the business owner"))[flagged]
    return pd.DataFrame(
        {"ticket_id": text.index, "evidence": text.to_numpy(), "action_owner": who.to_numpy()}
    )


@rule(
    "missed-daily-update",
    title="Daily update missed",
    severity="high",
    action="During an extended outage the service owner updates the Recipient List and 3Down "
    "at least daily.",
    meaning="an urgent incident went more than gaps.daily_update_hours while open without a "
    "staff reply (Correspond) to the Recipient List.",
)
def missed_daily_update(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    urgent = inc.index[inc["classification"].isin(audit.config.classification.urgent)]
    ev = audit.events.loc[audit.events["ticket_id"].isin(urgent)]
    closing = facts.closing(ev, audit.inactive)
    points = ev.loc[
        (ev["kind"] == "create")
        | facts.staff_reply(ev)
        | closing
        | facts.reopening(ev, audit.inactive),
        ["ticket_id", "txn_id", "at", "kind"],
    ].copy()
    points["closing"] = closing.reindex(points.index)
    still_open = [t for t in urgent if not audit.closed.get(t, False)]
    snapshot_points = pd.DataFrame(
        {
            "ticket_id": still_open,
            "txn_id": AT_CREATION,  # not a transaction
            "at": audit.pulled_at,
            "kind": "snapshot",
        }
    ).assign(closing=False)
    points = pd.concat([points, snapshot_points], ignore_index=True)
    points = points.sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    group = points.groupby("ticket_id")
    prev_txn, prev_at = group["txn_id"].shift(), group["at"].shift()
    prev_closing = group["closing"].shift().fillna(True).astype(bool)
    hours = (points["at"] - prev_at).dt.total_seconds() / 3600.0
    limit = audit.config.gaps.daily_update_hours
    long = (hours > limit) & ~prev_closing
    gaps = points.loc[long]
    end = np.where(
        gaps["txn_id"] == AT_CREATION,
        "the snapshot at " + facts.iso_utc(gaps["at"], "?") + " (still open)",
        _txn(gaps["txn_id"].clip(lower=0), gaps["at"]),
    )
    text: pd.Series = (
        "no staff update for "
        + hours[long].round(1).astype(str)
        + f" h (limit {limit:g} h) between "
        + _txn(prev_txn[long], prev_at[long])
        + " and "
        + end
    )
    return _join(pd.DataFrame({"ticket_id": gaps["ticket_id"], "evidence": text})).reset_index()


@rule(
    "handoff-not-announced",
    title="Hand-off not announced",
    severity="medium",
    action="Tech Lead notifies the Recipient List that the problem moved into longer-term "
    "resolution, with estimates.",
    action_owner="the Tech Lead at the hand-off",
    meaning="moved from an ops queue to a developer queue with no staff reply within "
    "gaps.handoff_announce_business_hours business hours after the move.",
)
def handoff_not_announced(audit: Audit) -> pd.DataFrame:
    late = audit.handoffs()
    late = late.loc[late["late"]]
    text = _join(late)
    who = audit._lead_after(late.groupby("ticket_id")[["txn_id", "at"]].first())
    return pd.DataFrame(
        {"ticket_id": text.index, "evidence": text.to_numpy(), "action_owner": who.to_numpy()}
    )


@rule(
    "never-triaged",
    title="Never triaged",
    severity="high",
    action="The recipient contacts ops-help and the service owner; the service owner (or a "
    "designate) takes the ticket as Tech Lead and triages it.",
    action_owner="Operations (ops-help)",
    meaning="no staff owner, staff reply or staff status change ever happened (metrics' "
    "triaged_at is empty).",
)
def never_triaged(audit: Audit) -> pd.DataFrame:
    flagged = audit.ids[audit.inc["triaged_at"].isna()]
    creates = audit.creates.reindex(flagged)
    closed = audit.closed.reindex(flagged)
    close_text = audit.close_text.reindex(flagged)
    snapshot_at = facts.iso_utc(pd.Series(audit.pulled_at, index=flagged), "?")
    text = (
        "no staff owner, staff reply or staff status change between created by "
        + _txn(creates["txn_id"].fillna(0), creates["at"])
        + " and "
        + close_text.where(closed, "the snapshot at " + snapshot_at + " (still open)")
    )
    born_closed = closed & audit.closes["txn_id"].reindex(flagged).isna()
    text = text.mask(born_closed, close_text + ", so it was never triaged")
    return pd.DataFrame({"ticket_id": flagged, "evidence": text.to_numpy()})


@rule(
    "no-owner-at-close",
    title="No owner at close",
    severity="low",
    action="Name the Tech Lead (the service owner or a designate) as the ticket's owner before "
    "closing.",
    meaning="closed while its owner was Nobody.",
)
def no_owner_at_close(audit: Audit) -> pd.DataFrame:
    closes = audit.closes.loc[audit.closed]
    txn = closes["txn_id"].fillna(AT_CREATION).astype("int64")
    keys = pd.DataFrame({"ticket_id": closes.index, "txn_id": txn.to_numpy()})
    state = keys.merge(audit.segments[["ticket_id", "txn_id", "owner"]], how="left")
    owner = pd.Series(state["owner"].to_numpy(), index=closes.index)
    flagged = owner.fillna(NOBODY) == NOBODY
    text = (audit.close_text.reindex(closes.index) + " while the owner was Nobody")[flagged]
    return pd.DataFrame({"ticket_id": text.index, "evidence": text.to_numpy()})


def find_gaps(
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    registry: Registry,
    metrics: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All findings: one row per incident and rule that fires, columns FINDING_COLUMNS.

    Sorted by ticket id and then by the rule order of RULES; the same whatever the
    order of rows in the snapshot files. `segments`: the state stretches of `events`,
    when already computed.
    """
    if segments is None:
        segments = state_segments(events, snapshot)
    if metrics is None:
        metrics = compute_metrics(events, snapshot, config, segments=segments)
    return audit_findings(Audit(events, snapshot, config, registry, metrics, segments))


def audit_findings(audit: Audit) -> pd.DataFrame:
    """Run every registered rule on a prepared Audit (see find_gaps).

    A finding's action_owner is the rule's own column when it returns one, else each
    incident's service owner (else senior staff) for SERVICE_OWNER rules, else the
    rule's declared owner.
    """
    frames: list[pd.DataFrame] = []
    for declared in RULES.values():
        found = declared(audit)
        if "action_owner" not in found:
            owner = (
                audit.inc["action_owner"].reindex(found["ticket_id"]).to_numpy()
                if declared.action_owner == SERVICE_OWNER
                else declared.action_owner
            )
            found = found.assign(action_owner=owner)
        frames.append(
            found.assign(
                rule=declared.id,
                severity=declared.severity,
                action=declared.action,
                order=len(frames),
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["ticket_id"] = out["ticket_id"].astype("int64")
    out["service"] = audit.inc["service"].reindex(out["ticket_id"]).to_numpy()
    out = out.sort_values(["ticket_id", "order"], kind="stable").reset_index(drop=True)
    result: pd.DataFrame = out[FINDING_COLUMNS]
    return result


# --------------------------------------------------------------------------- per service

SUPPORT_COLUMNS = [
    "service", "service_owner", "support_assignment", "incidents", "findings", *RULES,
    "worst_severity", "last_incident", "gap_since", "gap_days", "recommended_action",
    "last_reviewed", "review_overdue",
]  # fmt: skip
# the Close Out checks senior staff act on per service, not per ticket
SERVICE_RULES = tuple(r.id for r in RULES.of_scope("service"))
REVIEW_ACTION = (
    "Operations reviews the registry entry with the service owner and sets last_reviewed."
)


def review_overdue(last_reviewed: pd.Series, config: Config, today: pd.Timestamp) -> pd.Series:
    """Registry entries due for review: never reviewed (or not registered), or reviewed more
    than gaps.registry_review_days before `today` (UTC)."""
    reviewed = pd.to_datetime(last_reviewed, utc=True)
    due: pd.Series = reviewed.isna() | (
        (today - reviewed).dt.days > config.gaps.registry_review_days
    )
    return due


def support_gaps(
    findings: pd.DataFrame,
    metrics: pd.DataFrame,
    registry: Registry,
    config: Config,
    since: date | pd.Timestamp | str | None = None,
    today: date | pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Per service, what senior staff need to act on, most urgent first.

    incidents: incidents opened since `since`; findings and one count column per rule;
    worst_severity of those; last_incident (date opened); gap_since/gap_days: the
    first incident with a finding and how long before `today` that was;
    recommended_action: the action of the service-level rule (unknown owner, ad-hoc
    team, channels) found, else of the most severe and frequent rule, else the
    registry review; last_reviewed and review_overdue (older than
    gaps.registry_review_days, or not registered). Sorted by the first of SERVICE_RULES
    found (unknown owner, ad-hoc team, channels), then the worst finding, the number of
    findings and the gap's age.
    """
    today_ts = pd.Timestamp(today if today is not None else pd.Timestamp.now("UTC").date())
    today_ts = today_ts.tz_localize("UTC") if today_ts.tzinfo is None else today_ts
    metrics = metrics.copy()
    if since is not None:
        since_ts = pd.Timestamp(since)
        since_ts = since_ts.tz_localize("UTC") if since_ts.tzinfo is None else since_ts
        metrics = metrics.loc[metrics["opened_at"] >= since_ts]
    services = incident_services(metrics, registry)
    metrics["svc"] = services["service"].reindex(metrics["ticket_id"]).to_numpy()
    metrics["svc"] = metrics["svc"].where(metrics["svc"] != "", NO_SERVICE)
    found = findings.loc[findings["ticket_id"].isin(metrics["ticket_id"])]
    found = found.assign(
        svc=metrics.set_index("ticket_id")["svc"].reindex(found["ticket_id"]).to_numpy(),
        opened_at=metrics.set_index("ticket_id")["opened_at"]
        .reindex(found["ticket_id"])
        .to_numpy(),
        rank=found["severity"].map(SEVERITY_RANK).astype("float64"),
    )
    reg = registry.frame().set_index("service")
    names = list(dict.fromkeys([*reg.index, *sorted(metrics["svc"].unique())]))
    out = pd.DataFrame(index=pd.Index(names, name="service"))
    out["service_owner"] = reg["service_owner"].reindex(out.index).fillna("")
    out["support_assignment"] = reg["support_assignment"].reindex(out.index).fillna("unregistered")
    out["incidents"] = metrics.groupby("svc").size().reindex(out.index).fillna(0).astype("int64")
    counts = found.groupby(["svc", "rule"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=out.index, columns=list(RULES)).fillna(0).astype("int64")
    out["findings"] = counts.sum(axis=1)
    out = out.join(counts)
    worst = found.groupby("svc")["rank"].min().reindex(out.index)
    out["worst_severity"] = worst.map({v: k for k, v in SEVERITY_RANK.items()}).fillna("")
    # to_datetime keeps the dtype when no incident or finding is left to group
    last = metrics.groupby("svc")["opened_at"].max().reindex(out.index)
    out["last_incident"] = pd.to_datetime(last, utc=True)
    first = found.groupby("svc")["opened_at"].min().reindex(out.index)
    out["gap_since"] = pd.to_datetime(first, utc=True)
    out["gap_days"] = (today_ts.normalize() - out["gap_since"].dt.normalize()).dt.days
    # the first service-level rule found; else the most severe, then most frequent rule
    service_order = {r: float(i) for i, r in enumerate(SERVICE_RULES)}
    unranked = float(len(SERVICE_RULES))
    tally = found.groupby(["svc", "rule"]).agg(rank=("rank", "first"), n=("rule", "size"))
    tally = tally.reset_index()
    tally["order"] = tally["rule"].map({r: i for i, r in enumerate(RULES)})
    tally["service_order"] = tally["rule"].map(service_order).astype("float64").fillna(unranked)
    ranked = tally.sort_values(
        ["svc", "service_order", "rank", "n", "order"], ascending=[True, True, True, False, True]
    )
    top = ranked.groupby("svc")["rule"].first()
    action = top.map({r.id: r.action for r in RULES.values()}).reindex(out.index)
    out["last_reviewed"] = reg["last_reviewed"].reindex(out.index)
    out["review_overdue"] = review_overdue(out["last_reviewed"], config, today_ts)
    fallback = np.where(out["review_overdue"], REVIEW_ACTION, "")
    out["recommended_action"] = np.where(action.notna(), action.astype(object), fallback)
    for column in ("last_incident", "gap_since"):
        out[column] = out[column].dt.strftime("%Y-%m-%d")
    out["last_reviewed"] = out["last_reviewed"].map(
        lambda d: d.isoformat() if isinstance(d, date) else ""
    )
    out["_service_rank"] = tally.groupby("svc")["service_order"].min().reindex(out.index)
    out["_service_rank"] = out["_service_rank"].fillna(unranked)
    out["_rank"] = worst.fillna(len(SEVERITY_RANK))
    out = out.reset_index().sort_values(
        ["_service_rank", "_rank", "findings", "gap_days", "review_overdue", "service"],
        ascending=[True, True, False, False, False, True],
        na_position="last",
        kind="stable",
    )
    return out[SUPPORT_COLUMNS].reset_index(drop=True)
