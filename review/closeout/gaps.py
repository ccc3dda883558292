"""Close-out rules -> findings, and the per-service summary senior staff work from.

Every rule of review.closeout.rules runs on one Audit of all incidents. A finding names
the transactions (ids and UTC times) or the missing field that prove it, and the action
the process prescribes, so a reviewer can check it in RT and act.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from review.analysis import quality
from review.closeout.audit import NO_SERVICE, Audit, service_rows
from review.closeout.registry import Registry
from review.closeout.rule import SERVICE_OWNER, SEVERITY_RANK, unobservable
from review.closeout.rules import RULES, SERVICE_RULES
from review.settings.config import Config
from review.settings.utc import DAY_FORMAT
from review.snapshot import Snapshot

FINDING_COLUMNS = ["ticket_id", "service", "rule", "severity", "evidence", "action", "action_owner"]
NOT_OBSERVABLE = "not observable"  # a rule's count where it could not see (never a clean 0)


def unobservable_rules(snapshot: Snapshot, config: Config) -> dict[str, str]:
    """Rule id -> 'not observable (field X not on any ticket)' for the rules that read a
    custom field no ticket of the snapshot carries."""
    return unobservable(RULES.values(), vars(config.fields), snapshot.field_names["field"])


def audit_findings(audit: Audit) -> pd.DataFrame:
    """All findings: one row per incident and rule that fires, columns FINDING_COLUMNS, sorted
    by ticket id and then by the rule order of RULES (the same whatever the order of rows in
    the snapshot files); every registered rule run on one Audit (review.context.Context.findings).

    A finding's action_owner is the rule's own column when it returns one, else each
    incident's service owner (else senior staff) for SERVICE_OWNER rules, else the
    rule's declared owner. A rule in `unobservable_rules` is not run: it finds nothing
    because it cannot see, which the reports say (never a clean 0). A finding on data that
    cannot back it (the rule's `inputs`, review.analysis.quality) is left out: the checklist
    says "not observable" and why.
    """
    frames: list[pd.DataFrame] = []
    blind = unobservable_rules(audit.snapshot, audit.config)
    unseen = quality.unmeasured(
        audit.lost,
        {r.id: (*r.inputs, *map(quality.field_input, r.reads)) for r in RULES.values()},
    )
    for declared in RULES.values():
        if declared.id in blind:
            continue
        found = declared(audit)
        lost = unseen.loc[unseen["item"] == declared.id, "ticket_id"]
        found = found.loc[~found["ticket_id"].isin(lost)]
        if "action_owner" not in found:
            owner = (
                audit.inc["action_owner"].reindex(found["ticket_id"]).to_numpy()
                if declared.action_owner == SERVICE_OWNER
                else declared.action_owner
            )
            found = found.assign(action_owner=owner)
        if "action" not in found:
            found = found.assign(action=declared.action)
        frames.append(found.assign(rule=declared.id, severity=declared.severity, order=len(frames)))
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
    unobservable: Mapping[str, str] | None = None,
    several: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per service, what senior staff need to act on, most urgent first.

    incidents: incidents opened since `since`; findings and one count column per rule;
    worst_severity of those; last_incident (date opened); gap_since/gap_days: the
    first incident with a finding and how long before `today` that was;
    recommended_action: the action of the service-level rule (unknown owner, ad-hoc
    team, channels) found, else of the most severe and frequent rule, as its findings for
    the service state it, else the registry review; last_reviewed and review_overdue (older than
    gaps.registry_review_days, or not registered). Sorted by the first of SERVICE_RULES
    found (unknown owner, ad-hoc team, channels), then the worst finding, the number of
    findings and the gap's age. The count of a rule in `unobservable` (rule id -> why,
    `unobservable_rules`) reads NOT_OBSERVABLE, never 0: it could not have found anything.
    An incident whose service field holds several services (`several`: its (ticket_id,
    value) rows, review.analysis.quality.values_held) counts under each, its findings too, so
    the services' counts may add up to more than the incidents (`service_rows`).
    """
    today_ts = _utc(today if today is not None else pd.Timestamp.now("UTC").date())
    metrics, found = _in_window(findings, metrics, registry, since, several)
    reg = registry.frame().set_index("service")
    out, worst = _per_service(metrics, found, reg, today_ts)
    action, service_rank = _top_actions(found)
    action = action.reindex(out.index)
    out["last_reviewed"] = reg["last_reviewed"].reindex(out.index)
    out["review_overdue"] = review_overdue(out["last_reviewed"], config, today_ts)
    fallback = np.where(out["review_overdue"], REVIEW_ACTION, "")
    out["recommended_action"] = np.where(action.notna(), action.astype(object), fallback)
    out = _dates_as_text(out)
    out["_service_rank"] = service_rank.reindex(out.index).fillna(float(len(SERVICE_RULES)))
    out["_rank"] = worst.fillna(len(SEVERITY_RANK))
    out = out.reset_index().sort_values(
        ["_service_rank", "_rank", "findings", "gap_days", "review_overdue", "service"],
        ascending=[True, True, False, False, False, True],
        na_position="last",
        kind="stable",
    )
    for rule_id in unobservable or {}:
        out[rule_id] = NOT_OBSERVABLE
    return out[SUPPORT_COLUMNS].reset_index(drop=True)


def _top_actions(found: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per service (`svc`) with findings: the action of its first service-level rule found,
    else of its most severe, then most frequent rule, as that rule's findings for the
    service state it (a rule may say more precisely what to do for some findings than its
    declared action); and the place of its first service-level rule in SERVICE_RULES."""
    service_order = {r: float(i) for i, r in enumerate(SERVICE_RULES)}
    tally = found.groupby(["svc", "rule"]).agg(rank=("rank", "first"), n=("rule", "size"))
    tally = tally.reset_index()
    tally["order"] = tally["rule"].map({r: i for i, r in enumerate(RULES)})
    tally["service_order"] = (
        tally["rule"].map(service_order).astype("float64").fillna(float(len(SERVICE_RULES)))
    )
    ranked = tally.sort_values(
        ["svc", "service_order", "rank", "n", "order"], ascending=[True, True, True, False, True]
    )
    top = ranked.groupby("svc")["rule"].first()
    said = found.groupby(["svc", "rule"])["action"].agg(lambda a: " ".join(dict.fromkeys(a)))
    action = pd.Series(
        said.reindex(pd.MultiIndex.from_arrays([top.index, top.to_numpy()])).to_numpy(),
        index=top.index,
    )
    return action, tally.groupby("svc")["service_order"].min()


def _utc(value: date | pd.Timestamp | str) -> pd.Timestamp:
    """A day or instant as a UTC Timestamp (a naive one is taken as UTC)."""
    moment = pd.Timestamp(value)
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment


def _in_window(
    findings: pd.DataFrame,
    metrics: pd.DataFrame,
    registry: Registry,
    since: date | pd.Timestamp | str | None,
    several: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The incidents opened since `since`, one row per incident and service (`svc`), and
    their findings, one row per finding and service, with when the incident was opened and
    the severity's rank."""
    if since is not None:
        metrics = metrics.loc[metrics["opened_at"] >= _utc(since)]
    rows = each_service(metrics, registry, several)
    metrics = metrics.drop(columns="svc", errors="ignore").merge(rows, on="ticket_id")
    found = findings.loc[findings["ticket_id"].isin(metrics["ticket_id"])]
    found = found.merge(metrics[["ticket_id", "svc", "opened_at"]], on="ticket_id")
    found["rank"] = found["severity"].map(SEVERITY_RANK).astype("float64")
    return metrics, found


def each_service(
    metrics: pd.DataFrame, registry: Registry, several: pd.DataFrame | None = None
) -> pd.DataFrame:
    """(ticket_id, svc) per incident and service (NO_SERVICE for none): an incident of
    several services under each (`service_rows`)."""
    none = pd.DataFrame({"ticket_id": pd.Series(dtype="int64"), "value": pd.Series(dtype=str)})
    rows = service_rows(metrics, registry, none if several is None else several)
    svc = rows["service"].where(rows["service"] != "", NO_SERVICE)
    return pd.DataFrame({"ticket_id": rows["ticket_id"].to_numpy(), "svc": svc.to_numpy()})


def under_each_service(
    findings: pd.DataFrame, metrics: pd.DataFrame, registry: Registry, several: pd.DataFrame
) -> pd.DataFrame:
    """The findings with `service` one row per service of their incident: a finding of an
    incident of several services under each of them (as the per-service table counts it)."""
    split = findings["ticket_id"].isin(several["ticket_id"])
    if not split.any():
        return findings
    rows = each_service(metrics.loc[metrics["ticket_id"].isin(several["ticket_id"])], registry,
                        several)  # fmt: skip
    each = findings.loc[split].drop(columns="service").merge(rows, on="ticket_id")
    each = each.rename(columns={"svc": "service"})[list(findings.columns)]
    both = pd.concat([findings.loc[~split], each], ignore_index=True)
    return both.sort_values("ticket_id", kind="stable").reset_index(drop=True)


def _per_service(
    metrics: pd.DataFrame, found: pd.DataFrame, reg: pd.DataFrame, today: pd.Timestamp
) -> tuple[pd.DataFrame, pd.Series]:
    """One row per service (the registry's, then the others in name order): owner,
    assignment, incidents, findings in all and per rule, the worst severity, the last
    incident, and since when (and how many days) a gap has stood; and the worst rank."""
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
    out["gap_days"] = (today.normalize() - out["gap_since"].dt.normalize()).dt.days
    return out, worst


def _dates_as_text(out: pd.DataFrame) -> pd.DataFrame:
    """The last incident, the gap's start and the last registry review as YYYY-MM-DD ('')."""
    out = out.copy()
    for column in ("last_incident", "gap_since"):
        out[column] = out[column].dt.strftime(DAY_FORMAT)
    out["last_reviewed"] = out["last_reviewed"].map(
        lambda d: d.isoformat() if isinstance(d, date) else ""
    )
    return out
