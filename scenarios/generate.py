"""Scenarios -> a raw snapshot in exactly the JSON shapes RT 5 returns through REST2.

The generator plays every incident's actions in global time order against a
small model of a ticket and writes the transactions RT itself would record,
including what RT adds on its own (RT_System's new->open after a staff reply,
EmailRecord rows, the SetWatcher twin of every owner change).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis.sla import UNSET_DUE
from review.errors import ReviewError
from review.snapshot import UNSET_DATE, write_snapshot
from scenarios.model import (
    LINK_KINDS,
    Incident,
    ScenarioSet,
    Step,
    business_clock,
    load_scenarios,
)

SAMPLE_BASE_URL = "https://rt.example.edu/REST/2.0/"
SAMPLE_PULLED_AT = "2026-11-01T06:00:00Z"
SAMPLE_SINCE = "2026-08-01T00:00:00Z"
SAMPLE_QUERY = "Status = '__Inactive__' AND Resolved >= '2026-08-01' AND Resolved < '2026-11-01'"
RT_SYSTEM, NOBODY = "RT_System", "Nobody"
ACCOUNTS_CREATED = "2026-07-01T12:00:00Z"
INACTIVE = ("resolved", "rejected", "deleted")
# RT's link types: (field on the base, field on the target, ref of base, ref of target)
_LINKS = {
    "RefersTo": ("RefersTo", "ReferredToBy", "refers-to", "referred-to-by"),
    "DependsOn": ("DependsOn", "DependedOnBy", "depends-on", "depended-on-by"),
    "MemberOf": ("MemberOf", "HasMember", "parent", "child"),
    "HasMember": ("HasMember", "MemberOf", "child", "parent"),
}


def rt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Ticket:
    incident: Incident
    status: str
    queue: str
    owner: str = NOBODY
    fields: dict[str, str] = field(default_factory=dict)
    requestors: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    admincc: list[str] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)  # (ref, other ticket id)
    started: str = UNSET_DATE
    resolved: str = UNSET_DATE
    told: str | None = None
    last_updated: str = ""
    last_updated_by: str = ""
    merged_into: int | None = None
    sla: str = ""
    starts: str = UNSET_DUE  # RT's Starts and Due as its Set transactions write them
    due: str = UNSET_DUE


class _Generator:
    def __init__(
        self, scenarios: ScenarioSet, base_url: str, sla: dict[int, dict[str, str]] | None = None
    ) -> None:
        """`sla`: for each action (its place in the timeline), the Starts and Due RT's SLA
        scrips leave after it (RT's text, unset 1970-01-01 00:00:00); None writes none."""
        self.sla = sla or {}
        self.action = 0  # the timeline place of the action being recorded
        self.action_of: dict[int, int] = {}  # transaction id -> its action
        self.scenarios = scenarios
        self.site = scenarios.site
        self.base = base_url
        self.txn_id = 100
        self.transactions: list[dict[str, Any]] = []
        self.tickets: dict[int, _Ticket] = {}
        self.queue_ids = {name: str(n) for n, (name, _) in enumerate(self.site.queues, start=3)}
        self.cf_ids = {name: str(n) for n, name in enumerate(self.site.custom_fields, start=1)}
        self.user_ids = {RT_SYSTEM: 1, NOBODY: 6}
        for number, person in enumerate(self.site.people, start=20):
            self.user_ids[person.name] = number
        self.key_to_id = {i.key: i.ticket_id for i in scenarios.incidents}

    # ------------------------------------------------------------------ references
    def ref(self, kind: str, ident: str | int) -> dict[str, Any]:
        return {"_url": f"{self.base}{kind}/{ident}", "id": str(ident), "type": kind}

    def user_id(self, name: str) -> int:
        if name not in self.user_ids:  # RT creates an unprivileged user for a new address
            self.user_ids[name] = max(self.user_ids.values()) + 1
        return self.user_ids[name]

    def uri(self, ticket_id: int) -> str:
        return f"fsck.com-rt://{self.site.rtname}/ticket/{ticket_id}"

    # ------------------------------------------------------------------ recording
    def record(
        self, ticket: _Ticket, at: datetime, creator: str, kind: str, *, fld: str = "",
        old: str = "", new: str = "", data: str = "", object_id: int | None = None,
    ) -> None:  # fmt: skip
        self.txn_id += 1
        self.action_of[self.txn_id] = self.action
        target = ticket.incident.ticket_id if object_id is None else object_id
        self.transactions.append(
            {
                "Created": rt_time(at),
                "Creator": self.ref("user", creator),
                "Data": data,
                "Field": fld,
                "NewValue": new,
                "ObjectId": str(target),
                "ObjectType": "RT::Ticket",
                "OldValue": old,
                "Type": kind,
                "_url": f"{self.base}transaction/{self.txn_id}",
                "id": str(self.txn_id),
                "type": "transaction",
            }
        )
        self.user_id(creator)
        owner_ticket = self.tickets[target]
        owner_ticket.last_updated = rt_time(at)
        if creator != RT_SYSTEM:
            owner_ticket.last_updated_by = creator

    def email_record(self, ticket: _Ticket, at: datetime) -> None:
        data = f"<rt-5.0.3-{self.txn_id + 1}-{ticket.incident.ticket_id}@{self.site.rtname}>"
        self.record(ticket, at, RT_SYSTEM, "EmailRecord", data=data)

    def set_status(self, ticket: _Ticket, at: datetime, by: str, status: str) -> None:
        old = ticket.status
        if old == status:
            return
        self.record(ticket, at, by, "Status", fld="Status", old=old, new=status)
        ticket.status = status
        if old == "new" and ticket.started == UNSET_DATE:
            ticket.started = rt_time(at)
        if status in INACTIVE:
            ticket.resolved = rt_time(at)
            self.email_record(ticket, at)

    # ------------------------------------------------------------------ actions
    def create(self, incident: Incident) -> None:
        ticket = _Ticket(
            incident=incident,
            status=incident.status,
            queue=incident.queue,
            fields={k: v for k, v in incident.fields.items() if v != ""},
            requestors=list(incident.requestors),
            cc=list(incident.cc),
            admincc=list(incident.admincc),
        )
        self.tickets[incident.ticket_id] = ticket
        for name in [*ticket.requestors, *ticket.cc, *ticket.admincc]:
            self.user_id(name)
        at = incident.created
        self.record(ticket, at, incident.creator, "Create")
        self.email_record(ticket, at)
        self.email_record(ticket, at)
        if incident.status != "new":
            ticket.started = rt_time(at)
        if incident.status in INACTIVE:
            ticket.resolved = rt_time(at)
        ticket.sla = self.site.sla_at_create(incident)

    def sla_dates(self, ticket: _Ticket, at: datetime) -> None:
        """RT's SLA scrips after an action: `Set Starts` (at creation) and `Set Due` by
        RT_System, written only when the value changes."""
        for name, new in self.sla.get(self.action, {}).items():  # Starts before Due, as RT
            old = getattr(ticket, name.lower())
            if new != old:
                self.record(ticket, at, RT_SYSTEM, "Set", fld=name, old=old, new=new)
                setattr(ticket, name.lower(), new)

    def step(self, incident: Incident, step: Step) -> None:
        ticket = self.tickets[incident.ticket_id]
        at, by, value = step.at, step.by, step.value
        if step.action in ("reply", "comment"):
            kind = "Correspond" if step.action == "reply" else "Comment"
            data = str(value) if value not in (None, "") else "No Subject"
            self.record(ticket, at, by, kind, data=data)
            if kind == "Correspond":
                self.email_record(ticket, at)
                from_requestor = by in ticket.requestors
                if not from_requestor:
                    ticket.told = rt_time(at)
                # RT's scrip "On Correspond Open Inactive Tickets" opens any ticket that is
                # not active, the initial `new` included, whoever replies (checked on 5.0.3).
                if ticket.status == "new" or ticket.status in INACTIVE:
                    self.set_status(ticket, at, RT_SYSTEM, "open")
        elif step.action == "owner":
            old, new = str(self.user_id(ticket.owner)), str(self.user_id(str(value)))
            for kind in ("Set", "SetWatcher"):
                self.record(ticket, at, by, kind, fld="Owner", old=old, new=new)
            ticket.owner = str(value)
        elif step.action == "queue":
            old_q, new_q = self.queue_ids[ticket.queue], self.queue_ids[str(value)]
            self.record(ticket, at, by, "Set", fld="Queue", old=old_q, new=new_q)
            ticket.queue = str(value)
        elif step.action == "set":
            for name, new_value in value.items():
                old_value = ticket.fields.get(name, "")
                new_text = "" if new_value is None else str(new_value)
                self.record(
                    ticket,
                    at,
                    by,
                    "CustomField",
                    fld=self.cf_ids[name],
                    old=old_value,
                    new=new_text,
                )
                ticket.fields[name] = new_text
        elif step.action == "status":
            self.set_status(ticket, at, by, str(value))
        elif step.action == "link":
            kind_key, target_key = next(iter(value.items()))
            base_field, target_field, base_ref, target_ref = _LINKS[LINK_KINDS[kind_key]]
            target_id = self.key_to_id[target_key]
            target = self.tickets.get(target_id)
            self.record(ticket, at, by, "AddLink", fld=base_field, new=self.uri(target_id))
            ticket.links.append((base_ref, target_id))
            if target is not None:
                base_uri = self.uri(incident.ticket_id)
                self.record(target, at, by, "AddLink", fld=target_field, new=base_uri)
                target.links.append((target_ref, incident.ticket_id))
        elif step.action == "merge_into":
            survivor_id = self.key_to_id[str(value)]
            survivor = self.tickets[survivor_id]
            ticket.merged_into = survivor_id
            self.record(
                ticket,
                at,
                by,
                "AddLink",
                fld="MergedInto",
                new=self.uri(survivor_id),
                object_id=survivor_id,
            )
            for name in ticket.requestors:
                if name not in survivor.requestors:
                    survivor.requestors.append(name)
            for name in ticket.cc:
                if name not in survivor.cc:
                    survivor.cc.append(name)

    # ------------------------------------------------------------------ output
    def ticket_json(self, ticket: _Ticket) -> dict[str, Any]:
        tid = ticket.incident.ticket_id
        fields = list(self.site.custom_fields)
        shift = tid % len(fields) if fields else 0
        fields = fields[shift:] + fields[:shift]  # RT's order is not stable either
        custom_fields = [
            {
                "_url": f"{self.base}customfield/{self.cf_ids[name]}",
                "id": self.cf_ids[name],
                "name": name,
                "type": "customfield",
                "values": [ticket.fields[name]] if ticket.fields.get(name) else [],
            }
            for name in fields
        ]
        links: list[dict[str, Any]] = [
            {"_url": f"{self.base}ticket/{tid}", "id": tid, "ref": "self", "type": "ticket"}
        ]
        links += [{**self.ref("ticket", other), "ref": ref} for ref, other in ticket.links]
        links += [
            {"_url": f"{self.base}customfield/{self.cf_ids[name]}", "id": self.cf_ids[name],
             "name": name, "ref": "customfield", "type": "customfield"}
            for name in self.site.custom_fields
        ]  # fmt: skip
        links += [
            {"_url": f"{self.base}ticket/{tid}/{ref}", "ref": ref}
            for ref in ("history", "correspond", "comment")
        ]
        if ticket.status in INACTIVE:
            links.append(
                {"_url": f"{self.base}ticket/{tid}/comment", "from": ticket.status,
                 "label": "Re-open",
                 "ref": "lifecycle", "to": "open", "update": "Comment"}
            )  # fmt: skip
        body: dict[str, Any] = {
            "AdminCc": [self.ref("user", n) for n in ticket.admincc],
            "Cc": [self.ref("user", n) for n in ticket.cc],
            "Created": rt_time(ticket.incident.created),
            "Creator": self.ref("user", ticket.incident.creator),
            "CustomFields": custom_fields,
            "Due": _iso(ticket.due),
            "EffectiveId": self.ref("ticket", tid),
            "FinalPriority": "0",
            "InitialPriority": "0",
            "LastUpdated": ticket.last_updated,
            "LastUpdatedBy": self.ref("user", ticket.last_updated_by or ticket.incident.creator),
            "Owner": self.ref("user", ticket.owner),
            "Priority": "0",
            "Queue": self.ref("queue", self.queue_ids[ticket.queue]),
            "Requestor": [self.ref("user", n) for n in ticket.requestors],
            "Resolved": ticket.resolved,
            "Started": ticket.started,
            "SLA": ticket.sla or None,
            "Starts": _iso(ticket.starts),
            "Status": ticket.status,
            "Subject": ticket.incident.subject,
            "TimeEstimated": "0",
            "TimeLeft": "0",
            "TimeWorked": "0",
            "Type": "ticket",
            "_hyperlinks": links,
            "id": tid,
        }
        if ticket.told:
            body["Told"] = ticket.told
        return body

    def user_json(self, name: str) -> dict[str, Any]:
        person = self.site.person(name)
        uid = self.user_ids[name]
        body: dict[str, Any] = {
            "Created": ACCOUNTS_CREATED,
            "Creator": self.ref("user", RT_SYSTEM),
            "CustomFields": [],
            "Disabled": "0",
            "LastUpdated": ACCOUNTS_CREATED,
            "LastUpdatedBy": self.ref("user", RT_SYSTEM),
            "Memberships": [],
            "Name": name,
            "Privileged": 1 if person and person.privileged else 0,
            "_hyperlinks": [
                {"_url": f"{self.base}user/{uid}", "id": uid, "ref": "self", "type": "user"},
                {"_url": f"{self.base}user/{uid}/history", "ref": "history"},
                {"_url": f"{self.base}user/{uid}/groups", "ref": "memberships"},
            ],
            "id": uid,
        }
        if name == NOBODY:
            body.update(EmailAddress="", RealName="Nobody in particular")
        elif name == RT_SYSTEM:
            body["RealName"] = "The RT System itself"
        else:
            body["EmailAddress"] = person.email if person else name
            if person and person.real_name:
                body["RealName"] = person.real_name
        return body

    def queue_json(self, name: str) -> dict[str, Any]:
        qid = int(self.queue_ids[name])
        description = dict(self.site.queues)[name]
        return {
            "AdminCc": [], "Cc": [], "CommentAddress": "", "CorrespondAddress": "",
            "Created": ACCOUNTS_CREATED, "Creator": self.ref("user", RT_SYSTEM), "CustomFields": [],
            "Description": description, "Disabled": "0", "LastUpdated": ACCOUNTS_CREATED,
            "LastUpdatedBy": self.ref("user", RT_SYSTEM), "Lifecycle": "default", "Name": name,
            "SLADisabled": "0" if self.site.sla.levels else "1", "SortOrder": "0",
            "TicketCustomFields": [
                {"_url": f"{self.base}customfield/{self.cf_ids[cf]}", "id": self.cf_ids[cf],
                 "name": cf,
                 "ref": "customfield", "type": "customfield"}
                for cf in self.site.custom_fields
            ],
            "TicketTransactionCustomFields": [],
            "_hyperlinks": [
                {"_url": f"{self.base}queue/{qid}", "id": qid, "ref": "self", "type": "queue"},
                {"_url": f"{self.base}queue/{qid}/history", "ref": "history"},
                {"_url": f"{self.base}ticket?Queue={qid}", "ref": "create", "type": "ticket"},
            ],
            "id": qid,
        }  # fmt: skip

    def run(self) -> tuple[list[dict[str, Any]], ...]:
        for action, (_, _, _, incident, step) in enumerate(self.scenarios.timeline()):
            self.action = action
            if step is None:
                self.create(incident)
            else:
                self.step(incident, step)
            ticket = self.tickets[incident.ticket_id]
            self.sla_dates(ticket, incident.created if step is None else step.at)
        kept = {tid: t for tid, t in self.tickets.items() if t.merged_into is None}
        tickets = [self.ticket_json(t) for _, t in sorted(kept.items())]
        transactions = [t for t in self.transactions if int(t["ObjectId"]) in kept]
        used_queues = {t.queue for t in kept.values()} | {
            name for name, qid in self.queue_ids.items()
            for txn in transactions
            if txn["Field"] == "Queue" and qid in (txn["OldValue"], txn["NewValue"])
        }  # fmt: skip
        used_users = {txn["Creator"]["id"] for txn in transactions}
        for ticket in kept.values():
            used_users |= {
                ticket.owner,
                ticket.incident.creator,
                *ticket.requestors,
                *ticket.cc,
                *ticket.admincc,
            }
        by_id = {str(uid): name for name, uid in self.user_ids.items()}
        for txn in transactions:
            if txn["Field"] == "Owner":
                used_users |= {by_id[txn["OldValue"]], by_id[txn["NewValue"]]}
        queues = [
            self.queue_json(n) for n in sorted(used_queues, key=lambda n: int(self.queue_ids[n]))
        ]
        users = [self.user_json(n) for n in sorted(used_users, key=lambda n: self.user_ids[n])]
        return tickets, transactions, queues, users


def _iso(rt_text: str) -> str:
    """A date as RT's Set transaction writes it, as REST2 shows it on the ticket."""
    return UNSET_DATE if rt_text == UNSET_DUE else rt_text.replace(" ", "T") + "Z"


def _sla_actions(
    scenarios: ScenarioSet, base_url: str, pulled_at: str
) -> dict[int, dict[str, str]]:
    """Starts and Due after every action, as RT's SLA scrips set them with the site's levels.

    The history without them is generated first; review.analysis.sla replays SLA_SetDue on it (the
    Due after an action's last trigger) and Starts is RT's first business second at or
    after creation (creation itself with StartImmediately).
    """
    from review.analysis.sla import due_history
    from review.context import Context
    from review.settings.calendar import add_business_seconds
    from review.settings.config import default_config
    from review.snapshot import load_snapshot

    site = scenarios.site
    if not site.sla.levels:
        return {}
    draft = _Generator(scenarios, base_url)
    tickets, transactions, queues, users = draft.run()
    clock = business_clock(scenarios)
    config = replace(default_config(), sla=site.sla)
    with tempfile.TemporaryDirectory(prefix="review-generate-") as scratch:
        snapshot = load_snapshot(
            write_snapshot(Path(scratch) / "s", tickets, transactions, queues, users,
                           source="sample", query=SAMPLE_QUERY, pulled_at=pulled_at),
            cache_dir=Path(scratch) / "cache",
        )  # fmt: skip
        known = Context(snapshot, config, stages={"clock": clock})  # the scenarios' calendar
        dues = due_history(known.events, snapshot, config, known.clock, known.segments)
    dues["action"] = dues["txn_id"].map(draft.action_of)
    after = dues.sort_values("seq").drop_duplicates("action", keep="last")
    due_text = after["due"].dt.strftime("%Y-%m-%d %H:%M:%S").fillna(UNSET_DUE)
    actions: dict[int, dict[str, str]] = {}
    created = pd.Series([i.created for i in scenarios.incidents], dtype="datetime64[ns, UTC]")
    opening = add_business_seconds(clock, created, pd.Series(0.0, index=created.index).to_numpy())
    place = {i.ticket_id: n for n, (*_, i, step) in enumerate(scenarios.timeline()) if not step}
    for row, incident in enumerate(scenarios.incidents):
        level = site.sla.level(site.sla_at_create(incident))
        if level is not None:
            starts = created[row] if level.start_immediately else opening[row]
            actions[place[incident.ticket_id]] = {"Starts": f"{starts:%Y-%m-%d %H:%M:%S}"}
    for action, due in zip(after["action"], due_text, strict=True):
        actions.setdefault(int(action), {})["Due"] = due
    return actions


def pull_time(scenarios: ScenarioSet) -> str:
    """When a pull of the scenarios ran: the bundled sample's time, or for scenarios that go
    on later, the hour after their last step (a snapshot holds nothing later than its pull:
    review.snapshot.plausible)."""
    last = max((at for at, *_ in scenarios.timeline()), default=None)
    if last is None or pd.Timestamp(last) <= pd.Timestamp(SAMPLE_PULLED_AT):
        return SAMPLE_PULLED_AT
    return f"{pd.Timestamp(last).floor('h') + pd.Timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"


def generate_snapshot(
    scenario_dir: str | Path,
    out_dir: str | Path,
    *,
    base_url: str = SAMPLE_BASE_URL,
    pulled_at: str | None = None,
    since: str = SAMPLE_SINCE,
) -> Path:
    """Generate the snapshot of every incident in `scenario_dir` into `out_dir`.

    It holds every scenario incident, open or closed, so its coverage is every ticket
    opened or closed from `since` to the pull (`pulled_at`, default `pull_time`) in the
    queues it names.
    """
    scenarios = load_scenarios(scenario_dir)
    pulled_at = pulled_at or pull_time(scenarios)
    sla = _sla_actions(scenarios, base_url, pulled_at)
    tickets, transactions, queues, users = _Generator(scenarios, base_url, sla).run()
    coverage = {
        "since": since, "until": pulled_at, "queues": [q["Name"] for q in queues],
        "closed_in_window": True, "opened_in_window": True,
    }  # fmt: skip
    return write_snapshot(
        out_dir, tickets, transactions, queues, users,
        source="sample", query=SAMPLE_QUERY, pulled_at=pulled_at, coverage=coverage,
    )  # fmt: skip


def main() -> None:
    """`python -m scenarios.generate [SCENARIOS] [OUT]`: rebuild the bundled sample."""
    from review.settings.config import source_dir

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("scenarios", nargs="?", default=str(source_dir("data/scenarios")))
    parser.add_argument("out", nargs="?", default=str(source_dir("data/sample")))
    args = parser.parse_args()
    try:
        print(generate_snapshot(args.scenarios, args.out))
    except ReviewError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
