"""The post-incident review page of one ticket: its data, section by section."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis import facts
from review.analysis import problems as data
from review.analysis.incidents import incidents
from review.analysis.metrics import REPORT_ORDER, definitions, unmeasured
from review.analysis.moments import key_moments
from review.analysis.problems import DataProblem
from review.analysis.sla import deadlines
from review.analysis.timeline import NOBODY
from review.closeout.checklist import differences
from review.closeout.followups import attach_followups, followup_links
from review.closeout.recurrence import recurrence_text
from review.context import Context, PathLike, open_context
from review.errors import TicketError
from review.pages import what_happened
from review.pages.display import (
    DataQuality,
    Note,
    PageHeader,
    Prose,
    Stack,
    parameter_paths,
    rt_ticket_url,
    safe_table,
)
from review.pages.page import Page
from review.pages.reports.common import clock_definitions, definitions_table
from review.pages.signoff import status_lines
from review.pages.times import (
    business_hours_text,
    hours_text,
    local_time,
    local_times,
    local_times_in_text,
)
from review.pages.written import load as load_written
from review.pages.written import team_moments
from review.settings.config import Config
from review.settings.sections import DELETED
from review.snapshot import Snapshot
from review.text import visible


@dataclass
class IncidentReview:
    """What the incident review notebook shows, section by section."""

    ticket_id: int
    title: str
    who_what: pd.DataFrame
    metrics: pd.DataFrame
    definitions: pd.DataFrame
    events: pd.DataFrame
    segments: pd.DataFrame
    end: pd.Timestamp
    checklist: pd.DataFrame
    findings: pd.DataFrame  # with each finding's follow-up when the pull took them
    communication: pd.DataFrame
    config: Config
    row: dict[str, Any]
    followup_links: dict[str, str] = field(default_factory=dict)  # safe_table links
    deadlines: dict[str, pd.Timestamp] = field(
        default_factory=dict
    )  # review.analysis.sla, for the timeline
    rt_url: str = ""  # the ticket in RT's web interface ('' when not from an RT server)
    sla: dict[str, Any] | None = None  # its row of review.analysis.sla (None: no level)
    moments: pd.DataFrame = field(default_factory=pd.DataFrame)  # review.analysis.moments
    team_moments: list[tuple[int, str]] = field(default_factory=list)  # the team's (written)
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)  # checklist vs findings
    clocks: pd.DataFrame = field(default_factory=pd.DataFrame)  # wall-clock and business hours
    pulled_at: pd.Timestamp | None = None
    status: list[str] = field(default_factory=list)  # the review's status (review.pages.signoff)
    not_measured: dict[str, str] = field(default_factory=dict)  # metric key -> why (quality)

    def review_status(self) -> Prose:
        """The review's status, its sign-offs and what changed since (review signoff)."""
        return Prose(*self.status)

    def what_happened(self) -> Prose:
        """The first screen: what happened, in sentences from the evidence."""
        who = {str(k): str(v) for k, v in self.who_what.itertuples(index=False)}
        sentences = what_happened.summary_sentences(
            who,
            self.row,
            self.sla,
            self.findings,
            self.checklist,
            self.differences,
            self.config,
            self.pulled_at,
            self.not_measured,
        )
        return Prose(*sentences)

    def key_moments(self) -> Any:
        """The key moments with the team's, each linked to its transaction."""
        return what_happened.moments_table(
            self.moments, self.events, self.team_moments, self.config, self.rt_url
        )

    def action_items(self) -> Any:
        """Each finding's follow-up ticket: owner, RT status, age."""
        return what_happened.action_items(self.findings, self.followup_links)

    def findings_table(self) -> Any:
        """The findings with their evidence (actions and follow-ups: `action_items`)."""
        shown = self.findings[["rule", "severity", "evidence"]] if len(self.findings) else None
        if shown is None:
            return Note("No close-out findings for this incident.")
        return safe_table(shown)

    def checklist_differences(self) -> Any:
        """Where the checklist and the findings differ, and why."""
        if self.differences.empty:
            return Note("The checklist and the findings agree: each missing step has its finding.")
        return safe_table(self.differences, caption="Where the checklist and the findings differ")

    def communication_log(self) -> Any:
        """The replies and comments, a long log cut to its first and last messages."""
        return Stack(what_happened.communication_log(self.communication, self.ticket_id))

    # where the config does not fit the data (review.analysis.problems), and rules that
    # could not see: the page's data-quality note
    problems: list[DataProblem] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)

    def data_quality(self) -> DataQuality:
        """The data-quality note: the data's problems and this incident's own."""
        return DataQuality(self.problems, self.unobservable)

    def header(self) -> PageHeader:
        """The page's title, with links to the index and to the ticket in RT."""
        rt = (
            {f"Ticket {self.ticket_id} in RT": self.rt_url}
            if self.rt_url
            else {"no RT link (this snapshot does not come from an RT server)": ""}
        )
        return PageHeader(f"Post-incident review: {self.title}", "../index.html", rt)


def _people(snapshot: Snapshot, ticket_id: int, role: str) -> str:
    watchers = snapshot.watchers
    names = watchers.loc[(watchers["ticket_id"] == ticket_id) & (watchers["role"] == role), "user"]
    return ", ".join(_person(snapshot, str(n)) for n in names)


def _people_named(snapshot: Snapshot, names: pd.Series) -> pd.Series:
    """Each user name as people read it: 'Real Name (name) <email>' (the name when unknown)."""
    users = snapshot.users.drop_duplicates("name").set_index("name")
    name = users.index.to_series().astype(str)
    real, email = users["real_name"].fillna("").astype(str), users["email"].fillna("").astype(str)
    label = (real + " (" + name + ")").where((real != "") & (real != name), name)
    label = (label + " <" + email + ">").where((email != "") & (email != name), label)
    names = names.astype(str)
    return names.map(label).fillna(names)


def _person(snapshot: Snapshot, name: str) -> str:
    return str(_people_named(snapshot, pd.Series([name])).iloc[0])


def _field(snapshot: Snapshot, ticket_id: int, name: str) -> str:
    return str(facts.field_values(snapshot, name, pd.Index([ticket_id])).iloc[0])


def incident_review_data(
    snapshot_dir: PathLike | None,
    ticket_id: int,
    config_path: PathLike | None = None,
    derived: PathLike | None = None,
    written: PathLike | None = None,
) -> IncidentReview:
    """The incident review notebook's one call: `incident_review` of the ticket's context
    (`derived`: see review.context.open_context; `written`: the team's review file)."""
    ticket_id = int(ticket_id)
    snapshot_dir, config_path = parameter_paths(snapshot_dir, config_path)
    context = open_context(snapshot_dir, config_path, tickets={ticket_id}, derived=derived)
    return incident_review(context, ticket_id, Path(written) if written else None)


def incident_review(
    context: Context, ticket_id: int, written: Path | None = None
) -> IncidentReview:
    """Everything the post-incident review of one ticket shows (`written`: the team's review
    file, for the key moments they added)."""
    snapshot, config = context.snapshot, context.config
    ticket = _incident(snapshot, ticket_id, context.lost)
    metrics_row = context.metrics.set_index("ticket_id").loc[ticket_id]
    row: dict[str, Any] = {str(k): v for k, v in metrics_row.items()}
    segments = context.segments.loc[context.segments["ticket_id"] == ticket_id]
    events = context.events.loc[context.events["ticket_id"] == ticket_id].reset_index(drop=True)
    checklist = context.checklist.loc[context.checklist["ticket_id"] == ticket_id]
    checklist = checklist.assign(
        evidence=local_times_in_text(checklist["evidence"], config)
    ).reset_index(drop=True)
    findings = attach_followups(
        context.findings.loc[context.findings["ticket_id"] == ticket_id], snapshot, config
    )
    findings = findings.assign(
        evidence=local_times_in_text(findings["evidence"], config)
    ).reset_index(drop=True)
    sla_row = context.sla.loc[context.sla["ticket_id"] == ticket_id]
    account = load_written(written, ticket_id) if written else None
    lost = unmeasured(context.lost.loc[context.lost["ticket_id"] == ticket_id])
    return IncidentReview(
        ticket_id=ticket_id,
        title=f"Ticket {ticket_id}: {visible(str(ticket['subject']))}",  # printed: a stream output
        who_what=_who_what(context, ticket, row, segments),
        metrics=incident_metrics_table(row, config, lost),
        definitions=definitions_table(config),
        events=events,
        segments=segments.reset_index(drop=True),
        end=_timeline_end(row, events, snapshot),
        checklist=checklist.drop(columns="ticket_id"),
        findings=findings.drop(columns="ticket_id"),
        communication=_communication(events, snapshot, config),
        config=config,
        row=row,
        followup_links=followup_links(snapshot),
        deadlines=deadlines(context.sla, ticket_id),
        rt_url=rt_ticket_url(snapshot.manifest.get("source", ""), ticket_id),
        sla={str(k): v for k, v in sla_row.iloc[0].items()} if len(sla_row) else None,
        moments=key_moments(events, config, context.registry.operations_staff),
        not_measured=dict(zip(lost["item"], lost["reason"], strict=True)),
        team_moments=team_moments(account),
        differences=differences(checklist, findings),
        clocks=clock_definitions(config),
        pulled_at=snapshot.pulled_at,
        status=status_lines(account, _review_data(context.review_data, ticket_id)),
        problems=data.about(context.problems, ticket_id),
        unobservable=context.unobservable,
    )


def _incident(snapshot: Snapshot, ticket_id: int, lost: pd.DataFrame) -> pd.Series:
    """The ticket's row; a TicketError when it is not in the snapshot or not an incident
    (deleted in RT; merged into another: which, and whether the snapshot holds it, from
    `lost`)."""
    tickets = snapshot.tickets.set_index("ticket_id")
    if ticket_id not in tickets.index:
        raise TicketError(f"not in the snapshot {snapshot.path}", ticket_id)
    if ticket_id not in set(incidents(snapshot)["ticket_id"]):
        if tickets.at[ticket_id, "status"] == DELETED:
            raise TicketError(f"was deleted in RT (status {DELETED}): it is no incident", ticket_id)
        away = lost.loc[(lost["ticket_id"] == ticket_id) & (lost["kind"] == "merged-away")]
        if len(away):  # "ticket N was merged into ticket M, which is not in the snapshot"
            raise TicketError(str(away["detail"].iloc[0]).split(" was ", 1)[1], ticket_id)
        survivor = facts.survivors(snapshot.tickets).get(ticket_id)
        raise TicketError(f"was merged into ticket {survivor}; review that one", ticket_id)
    ticket: pd.Series = tickets.loc[[ticket_id]].iloc[0]
    return ticket


def _who_what(
    context: Context, ticket: pd.Series, row: dict[str, Any], segments: pd.DataFrame
) -> pd.DataFrame:
    """The review's first table: the ticket, its people and fields, its times."""
    snapshot, config, fields = context.snapshot, context.config, context.config.fields
    ticket_id = int(str(ticket.name))
    owners = [o for o in segments["owner"].dropna().drop_duplicates() if o != NOBODY]
    who_what = pd.DataFrame(
        [
            ("ticket", str(ticket_id)),
            ("subject", str(ticket["subject"])),
            ("status now", str(ticket["status"])),
            ("queue now", str(facts.queue_now(snapshot, ticket.to_frame().T).iloc[0])),
            ("owner now", _person(snapshot, str(ticket["owner"]))),
            ("owners over time", " -> ".join(owners) or "nobody"),
            ("service", _field(snapshot, ticket_id, fields.service)),
            ("service owner", _field(snapshot, ticket_id, fields.service_owner)),
            ("business owner", _field(snapshot, ticket_id, fields.business_owner)),
            ("classification", _field(snapshot, ticket_id, fields.classification)),
            ("resolution type", _field(snapshot, ticket_id, fields.resolution_type)),
            ("root cause", _field(snapshot, ticket_id, fields.root_cause)),
            ("recurrence", recurrence_text(context.recurrences, ticket_id, config)),
            ("validated by", _field(snapshot, ticket_id, fields.validated_by)),
            ("requestors", _people(snapshot, ticket_id, "Requestor")),
            ("Cc", _people(snapshot, ticket_id, "Cc")),
            ("AdminCc", _people(snapshot, ticket_id, "AdminCc")),
            ("opened", local_time(row["opened_at"], config)),
            ("resolved", local_time(row["resolved_at"], config) or "not resolved"),
            ("last updated in RT", local_time(ticket["last_updated"], config)),
        ],
        columns=["", "value"],
    )
    who_what["value"] = who_what["value"].replace("", "none recorded")
    return who_what


def _communication(events: pd.DataFrame, snapshot: Snapshot, config: Config) -> pd.DataFrame:
    """Who told whom what, when: the ticket's create, replies and comments."""
    comms = events.loc[events["kind"].isin(["create", "reply", "comment"])]
    ids = comms["ticket_id"].drop_duplicates().tolist()
    text = snapshot.messages(ids).drop_duplicates("txn_id").set_index("txn_id")["data"]
    return pd.DataFrame(
        {
            "when": local_times(comms["at"], config).to_numpy(),
            "what": comms["kind"]
            .map({"create": "opened", "reply": "reply (to requestors, Cc)", "comment": "comment"})
            .to_numpy(),
            "who": _people_named(snapshot, comms["creator"]).to_numpy(),
            "as": comms["actor"].to_numpy(),
            "text": comms["txn_id"].map(text).fillna("").to_numpy(),
        }
    )


def _review_data(frame: pd.DataFrame, ticket_id: int) -> str | None:
    """The incident's review_data_digests entry (None: not known)."""
    found = frame.loc[frame["ticket_id"] == ticket_id, "data"]
    return str(found.iloc[0]) if len(found) else None


def _timeline_end(row: dict[str, Any], events: pd.DataFrame, snapshot: Snapshot) -> pd.Timestamp:
    """Where the timeline stops: resolution, else the snapshot time, else the last event."""
    candidates = [row.get("resolved_at")]
    if not events.empty:
        candidates.append(events["at"].max())
    pulled = snapshot.manifest.get("pulled_at")
    if pd.isna(row.get("resolved_at")) and pulled:
        candidates.append(pd.Timestamp(pulled))
    found = [pd.Timestamp(c) for c in candidates if c is not None and not pd.isna(c)]
    return max(found) if found else pd.Timestamp(row["opened_at"])


def incident_metrics_table(
    row: dict[str, Any], config: Config, lost: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One incident's metrics: value, wall-clock and business hours, definition. A metric
    the data cannot back (`lost`: metrics.unmeasured of the incident) says why instead."""
    bh = business_hours_text(config)
    words = definitions(config)
    why = {} if lost is None else dict(zip(lost["item"], lost["reason"], strict=True))
    rows: list[tuple[str, str, str, str]] = []
    for m in REPORT_ORDER:
        if m.key in why:
            rows.append((m.label, f"not measured: {why[m.key]}", "", words[m.key]))
            continue
        if m.unit == "hours":
            wall, business = (hours_text(row[c]) for c in m.columns)
            rows.append((m.label, wall, business, f"{words[m.key]} Wall-clock hours and {bh}."))
            continue
        value = row[m.key]
        if m.unit == "time":
            shown = local_time(value, config)
        elif pd.isna(value):
            shown = ""
        else:
            shown = hours_text(value) if m.unit == "wall hours" else str(value)
        rows.append((m.label, shown, "", words[m.key]))
    return pd.DataFrame(
        rows, columns=["metric", "value (wall-clock h)", "business h", "definition"]
    )


PAGE = Page(
    name="incident",
    title="Post-incident review",
    template="incident_review.ipynb",
    data=incident_review_data,
    per="incident",
    output="{month}/incident-{ticket}.ipynb",
    job="incident {ticket}",
    depends=("incident", "written"),
    order=30,
)
