"""Process steps -> done / missing / not applicable / not observable, per incident.

Each step of the problem-response process is checked against what RT recorded.
Where RT cannot show a step with the configured fields, the row says which
custom field or watcher would make it visible. The close-out steps reuse the
gap rules (review.closeout.audit.Audit), so the checklist and the findings never disagree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from review.analysis import facts
from review.analysis.metrics import compute_metrics
from review.analysis.timeline import NOBODY, state_segments
from review.closeout.audit import Audit
from review.closeout.gaps import audit_findings
from review.closeout.registry import Registry
from review.closeout.rule import Rule
from review.closeout.rules import RULES, SERVICE_RULES
from review.closeout.rules.missed_daily_update import missed_daily_update
from review.closeout.rules.not_validated import not_validated
from review.closeout.rules.temporary_fix_no_followup import temporary_fix_no_followup
from review.closeout.rules.unknown_service_owner import unknown_service_owner
from review.settings.config import Config
from review.snapshot import Snapshot

CHECKLIST_COLUMNS = ["ticket_id", "step", "state", "evidence", "how_to_observe"]
STATES = ("done", "missing", "not applicable", "not observable")
DONE, MISSING, NA, UNSEEN = STATES

StepCheck = Callable[["_Checklist", str], pd.DataFrame]
_STEPS: list[tuple[str, StepCheck]] = []  # (label, method), in the process's order


def _process_step(label: str) -> Callable[[StepCheck], StepCheck]:
    """Register a _Checklist method as the check of the process step `label`."""

    def register(method: StepCheck) -> StepCheck:
        _STEPS.append((label, method))
        return method

    return register


def _step(state: pd.Series, evidence: pd.Series, how: str | pd.Series, name: str) -> pd.DataFrame:
    """One step's rows (index of `state` = ticket ids) in CHECKLIST_COLUMNS."""
    return pd.DataFrame(
        {
            "ticket_id": state.index,
            "step": name,
            "state": state.to_numpy(),
            "evidence": evidence.reindex(state.index).to_numpy(),
            "how_to_observe": how if isinstance(how, str) else how.reindex(state.index).to_numpy(),
        }
    )


def _pick(
    conditions: list[pd.Series], choices: list[str | pd.Series], index: pd.Index
) -> pd.Series:
    """np.select over aligned Series, keeping the index; the first true condition wins."""
    values = np.select(
        [c.reindex(index).fillna(False).to_numpy(dtype=bool) for c in conditions],
        [c.reindex(index).to_numpy() if isinstance(c, pd.Series) else c for c in choices],
        default="",
    )
    return pd.Series(values, index=index, dtype="object")


class _Checklist:
    """One method per process step, each returning that step's rows for every incident."""

    def __init__(self, audit: Audit, findings: pd.DataFrame) -> None:
        self.audit = audit
        self.inc = audit.inc
        self.ids = audit.ids
        self.config = audit.config
        self.by_rule = {
            rule: group.set_index("ticket_id")["evidence"]
            for rule, group in findings.groupby("rule")
        }
        watchers = audit.snapshot.watchers
        self.watchers = watchers.loc[watchers["ticket_id"].isin(self.ids)]
        self.urgent = self.inc["classification"].isin(self.config.classification.urgent)

    def finding(self, rule: Rule) -> pd.Series:
        """Per ticket: the evidence of `rule`'s finding, NaN where it did not fire."""
        return self.by_rule.get(rule.id, pd.Series(dtype="object")).reindex(self.ids)

    def field(self, name: str) -> pd.Series:
        """Per ticket: custom field `name` now, '' when unset."""
        return facts.field_values(self.audit.snapshot, name, self.ids)

    def unseen_field(self, name: str, step: str) -> pd.DataFrame | None:
        """The step's rows as 'not observable' when RT has no such custom field at all."""
        if facts.has_field(self.audit.snapshot, name):
            return None
        state = pd.Series(UNSEEN, index=self.ids)
        evidence = pd.Series(f"RT has no custom field '{name}'", index=self.ids)
        how = f"create a ticket custom field '{name}' on the ops and developer queues"
        return _step(state, evidence, how, step)

    def set_by(self, name: str, values: pd.Series) -> pd.Series:
        """Per ticket: custom field 'F' is 'v' (set by txn N at T)."""
        return f"custom field '{name}' is '" + values + "' (" + self.audit.field_set_by(name) + ")"

    # ------------------------------------------------------------------ steps

    @_process_step("classify the problem")
    def classify(self, step: str) -> pd.DataFrame:
        name = self.config.fields.classification
        unseen = self.unseen_field(name, step)
        if unseen is not None:
            return unseen
        value = self.inc["classification"].fillna("").str.strip()
        c = self.config.classification
        known = value.isin([c.urgent_outage, c.urgent_degraded, c.handoff])
        state = _pick([known], [DONE], self.ids).replace("", MISSING)
        evidence = _pick(
            [known, value == "", value != ""],
            [
                self.set_by(name, value),
                f"custom field '{name}' is empty",
                f"custom field '{name}' is '"
                + value
                + f"', not one of {c.urgent_outage}, {c.urgent_degraded}, {c.handoff}",
            ],
            self.ids,
        )
        return _step(state, evidence, f"custom field '{name}'", step)

    @_process_step("identify the service owner")
    def service_owner(self, step: str) -> pd.DataFrame:
        inc = self.inc
        name = self.config.fields.service_owner
        from_field = inc["cf_owner"] != ""
        from_registry = inc["reg_service_owner"].fillna("") != ""
        state = _pick([from_field | from_registry], [DONE], self.ids).replace("", MISSING)
        evidence = _pick(
            [from_field, from_registry],
            [
                f"custom field '{name}' is '" + inc["cf_owner"] + "'",
                self.audit.entry + " names '" + inc["reg_service_owner"].fillna("") + "'",
            ],
            self.ids,
        )
        evidence = evidence.where(evidence != "", self.finding(unknown_service_owner))
        return _step(
            state, evidence, f"custom field '{name}', else the registry's service_owner", step
        )

    @_process_step("ops-help informed")
    def ops_help(self, step: str) -> pd.DataFrame:
        ops = list(self.config.queues.ops)
        first = facts.at_creation(self.audit.segments)["queue"]
        born = first.reindex(self.ids).isin(ops)
        ev = self.audit.events
        moved = ev.loc[(ev["kind"] == "queue") & ev["new"].isin(ops)]
        moved = moved.groupby("ticket_id")[["txn_id", "at", "new"]].first().reindex(self.ids)
        creates = self.audit.creates
        created_text = (
            "created in "
            + first.reindex(self.ids).fillna("?")
            + " by txn "
            + creates["txn_id"].astype("Int64").astype(str)
        )
        moved_text = (
            "moved into "
            + moved["new"].fillna("")
            + " by txn "
            + moved["txn_id"].astype("Int64").astype(str)
            + " at "
            + facts.iso_utc(moved["at"])
        )
        has_move = moved["txn_id"].notna()
        state = _pick([born | has_move], [DONE], self.ids).replace("", MISSING)
        evidence = _pick(
            [born, has_move, ~born],
            [
                created_text,
                moved_text,
                created_text + f", never in an ops queue ({', '.join(ops)})",
            ],
            self.ids,
        )
        return _step(state, evidence, "the ticket's queue history (queues.ops in the config)", step)

    @_process_step("Tech Lead assigned")
    def tech_lead(self, step: str) -> pd.DataFrame:
        ev = self.audit.events
        taken = ev.loc[facts.owner_set(ev)]
        first = taken.groupby("ticket_id")[["txn_id", "at", "new"]].first().reindex(self.ids)
        initial = facts.at_creation(self.audit.segments)["owner"]
        initial = initial.reindex(self.ids).fillna(NOBODY)
        born = initial != NOBODY
        set_later = first["txn_id"].notna()
        state = _pick([born | set_later], [DONE], self.ids).replace("", MISSING)
        evidence = _pick(
            [born, set_later],
            [
                "owner " + initial + " from creation",
                "owner set to "
                + first["new"].fillna("")
                + " by txn "
                + first["txn_id"].astype("Int64").astype(str)
                + " at "
                + facts.iso_utc(first["at"]),
            ],
            self.ids,
        ).replace("", "the owner was Nobody throughout")
        return _step(state, evidence, "the ticket's owner (Set/Owner transactions)", step)

    def _on_watchers(self, addresses: pd.Series) -> pd.Series:
        """Per ticket: is the given address (per ticket) a Cc or AdminCc watcher?"""
        watch = self.watchers.loc[self.watchers["role"].isin(["Cc", "AdminCc"])]
        wanted = pd.DataFrame(
            {"ticket_id": self.ids.to_numpy(), "user": addresses.reindex(self.ids).to_numpy()}
        )
        hit = wanted.merge(watch[["ticket_id", "user"]].drop_duplicates(), how="inner")
        return pd.Series(self.ids.isin(hit["ticket_id"]), index=self.ids)

    @_process_step("Recipient List and Help Desk in the loop")
    def recipient_list(self, step: str) -> pd.DataFrame:
        inc = self.inc
        helpdesk = inc["reg_helpdesk_list"].fillna("").astype(str)
        helpdesk = helpdesk.where(helpdesk != "", self.audit.registry.helpdesk_list)
        cc = facts.extra_cc(self.watchers)
        cc_names = cc.groupby("ticket_id")["user"].agg(", ".join).reindex(self.ids)
        has_cc = cc_names.notna()
        known = helpdesk != ""
        on = self._on_watchers(helpdesk) & known
        state = _pick(
            [~has_cc, known & ~on, ~known, on], [MISSING, MISSING, UNSEEN, DONE], self.ids
        )
        cc_text = ("Cc: " + cc_names.fillna("")).where(
            has_cc, "nobody on the ticket's Cc beyond the requestors"
        )
        help_text = _pick(
            [on, known & ~on, ~known],
            [
                "; Help Desk list " + helpdesk + " is a watcher",
                "; Help Desk list " + helpdesk + " is not a watcher",
                "; the Help Desk list is not in the registry",
            ],
            self.ids,
        )
        how = pd.Series(
            "the ticket's Cc watchers; the registry's helpdesk_list on Cc or AdminCc",
            index=self.ids,
        ).mask(
            ~known,
            "set helpdesk_list in the registry (the process's Open Question 2) "
            "and Cc that address on incidents",
        )
        return _step(state, cc_text + help_text, how, step)

    @_process_step("3Down updated (urgent)")
    def threedown(self, step: str) -> pd.DataFrame:
        address = self.audit.registry.threedown_list
        if not address:
            state = pd.Series(NA, index=self.ids).mask(self.urgent, UNSEEN)
            evidence = pd.Series("not urgent", index=self.ids).mask(
                self.urgent, "RT does not record 3Down posts"
            )
            how = (
                "set threedown_list in the registry and Cc that address on urgent tickets, "
                "or add a ticket custom field '3Down Updated'"
            )
            return _step(state, evidence, how, step)
        on = self._on_watchers(pd.Series(address, index=self.ids))
        state = _pick([~self.urgent, on], [NA, DONE], self.ids).replace("", MISSING)
        evidence = _pick(
            [~self.urgent, on],
            [
                "classified " + self.inc["classification"].fillna("") + ", not urgent",
                f"{address} is a watcher, so staff replies reach 3Down",
            ],
            self.ids,
        ).replace("", f"{address} is not a watcher of this urgent ticket")
        return _step(state, evidence, f"the 3Down address {address} on the ticket's Cc", step)

    @_process_step("daily updates in an extended outage")
    def daily_updates(self, step: str) -> pd.DataFrame:
        inc = self.inc
        end = inc["resolved_at"].fillna(self.audit.pulled_at)
        hours = (end - inc["opened_at"]).dt.total_seconds() / 3600.0
        limit = self.config.gaps.daily_update_hours
        extended = self.urgent & (hours > limit)
        missed = self.finding(missed_daily_update)
        state = _pick([~extended, missed.notna()], [NA, MISSING], self.ids).replace("", DONE)
        evidence = _pick(
            [~self.urgent, ~extended, missed.notna()],
            [
                pd.Series("not urgent", index=self.ids),
                "open " + hours.round(1).astype(str) + f" h, not more than {limit:g} h",
                missed,
            ],
            self.ids,
        ).replace("", f"no gap of more than {limit:g} h between staff replies")
        return _step(state, evidence, "staff replies (Correspond) while the ticket is open", step)

    @_process_step("root cause recorded")
    def root_cause(self, step: str) -> pd.DataFrame:
        name = self.config.fields.root_cause
        unseen = self.unseen_field(name, step)
        if unseen is not None:
            return unseen
        value = self.field(name)
        rejected = self.audit.rejected
        pending = ~self.audit.closed & (value == "")
        state = _pick([rejected, value != "", pending], [NA, DONE, NA], self.ids)
        evidence = _pick(
            [rejected, value != "", pending],
            [
                pd.Series("rejected: not a problem", index=self.ids),
                self.set_by(name, value),
                pd.Series("still open", index=self.ids),
            ],
            self.ids,
        )
        state = state.replace("", MISSING)
        evidence = evidence.replace("", f"custom field '{name}' is empty")
        return _step(state, evidence, f"custom field '{name}'", step)

    @_process_step("validated by service and business owners")
    def validation(self, step: str) -> pd.DataFrame:
        name = self.config.fields.validated_by
        unseen = self.unseen_field(name, step)
        if unseen is not None:
            return unseen
        value = self.inc["validated_by"]
        rejected = self.audit.rejected
        still_open = ~self.audit.closed
        state = _pick([rejected | still_open, value != ""], [NA, DONE], self.ids).replace(
            "", MISSING
        )
        evidence = _pick(
            [rejected, still_open, value != ""],
            [
                pd.Series("rejected: not a problem", index=self.ids),
                pd.Series("still open", index=self.ids),
                self.set_by(name, value),
            ],
            self.ids,
        )
        evidence = evidence.where(evidence != "", self.finding(not_validated))
        return _step(state, evidence, f"custom field '{name}'", step)

    @_process_step("temporary vs permanent resolution")
    def resolution(self, step: str) -> pd.DataFrame:
        name = self.config.fields.resolution_type
        unseen = self.unseen_field(name, step)
        if unseen is not None:
            return unseen
        value = self.inc["resolution"]
        r = self.config.resolution
        rejected = self.audit.rejected
        still_open = ~self.audit.closed
        no_followup = self.finding(temporary_fix_no_followup)
        temporary = value == r.temporary
        state = _pick(
            [rejected, value == r.permanent, temporary & no_followup.isna(), temporary],
            [NA, DONE, DONE, MISSING],
            self.ids,
        )
        state = state.mask((state == "") & still_open, NA).replace("", MISSING)
        links = self.audit.snapshot.links
        linked = (
            links.sort_values(["ticket_id", "target"])
            .assign(text=links["ref"] + " " + links["target"].astype(str))
            .groupby("ticket_id")["text"]
            .agg(", ".join)
            .reindex(self.ids)
            .fillna("")
        )
        evidence = _pick(
            [rejected, value == r.permanent, temporary & no_followup.isna(), temporary],
            [
                pd.Series("rejected: not a problem", index=self.ids),
                self.set_by(name, value),
                self.set_by(name, value) + "; follow-up linked: " + linked,
                no_followup,
            ],
            self.ids,
        )
        evidence = evidence.mask((evidence == "") & still_open, "still open").replace(
            "", f"custom field '{name}' is empty"
        )
        return _step(state, evidence, f"custom field '{name}'; links to follow-up tickets", step)

    @_process_step("hand-off announced with estimates")
    def handoff(self, step: str) -> pd.DataFrame:
        moves = self.audit.handoffs()
        text = moves.groupby("ticket_id")["evidence"].agg("; ".join).reindex(self.ids)
        late = moves.groupby("ticket_id")["late"].any().reindex(self.ids)
        state = _pick([text.isna(), late.fillna(False)], [NA, MISSING], self.ids).replace("", DONE)
        evidence = text.fillna("never moved from an ops queue to a developer queue")
        return _step(
            state, evidence, "queue moves to developer queues and the staff replies after", step
        )

    @_process_step("close-out records")
    def close_out(self, step: str) -> pd.DataFrame:
        parts = [
            (rule.id + ": " + self.finding(rule)).dropna().rename("text").reset_index()
            for rule in (RULES[r] for r in SERVICE_RULES)
        ]
        outstanding = (
            pd.concat(parts, ignore_index=True)
            .groupby("ticket_id", sort=True)["text"]
            .agg(" | ".join)
            .reindex(self.ids)
        )
        state = _pick([outstanding.notna()], [MISSING], self.ids).replace("", DONE)
        evidence = outstanding.fillna(
            self.audit.entry + " records an owner, a permanent support team and its lists"
        )
        return _step(
            state,
            evidence,
            "the service registry (owner, support team, announce and support lists)",
            step,
        )


STEPS = tuple(label for label, _ in _STEPS)


def process_checklist(
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    registry: Registry,
    metrics: pd.DataFrame | None = None,
    findings: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per incident per process step (STEPS order), columns CHECKLIST_COLUMNS.

    Pass the `find_gaps` result of the same inputs as `findings` to skip auditing twice.
    """
    if segments is None:
        segments = state_segments(events, snapshot)
    if metrics is None:
        metrics = compute_metrics(events, snapshot, config, segments=segments)
    audit = Audit(events, snapshot, config, registry, metrics, segments)
    return audit_checklist(audit, audit_findings(audit) if findings is None else findings)


def audit_checklist(audit: Audit, findings: pd.DataFrame) -> pd.DataFrame:
    """The checklist (see process_checklist) from a prepared Audit and its findings."""
    checklist = _Checklist(audit, findings)
    frames = [
        method(checklist, label).assign(order=number)
        for number, (label, method) in enumerate(_STEPS)
    ]
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["ticket_id", "order"], kind="stable").reset_index(drop=True)
    result: pd.DataFrame = out[CHECKLIST_COLUMNS]
    return result


def checklist_for(
    ticket_id: int,
    events: pd.DataFrame,
    snapshot: Snapshot,
    config: Config,
    registry: Registry,
) -> pd.DataFrame:
    """The checklist of one incident (what the incident review notebook shows).

    Works on the ticket and the tickets it links to only, so one review of a
    large snapshot does not pay for auditing every incident in it.
    """
    small = snapshot.around({ticket_id})
    small_events = events.loc[events["ticket_id"].isin(small.tickets["ticket_id"])]
    table = process_checklist(small_events, small, config, registry)
    return table.loc[table["ticket_id"] == ticket_id].reset_index(drop=True)
