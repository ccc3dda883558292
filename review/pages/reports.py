"""What each report shows, assembled in one call per notebook.

The notebooks in ``notebooks/`` hold no logic: they call one of
``incident_review_data``, ``monthly_report_data`` or ``support_gaps_data`` and
display the frames it returns (plus the figures of ``review.pages.figures``), through
``notebook_setup`` and ``safe_table`` (from ``review.pages.display``, importable here so a
notebook needs one import).

Ticket text (subjects, reply texts, names) is untrusted. Everything here is
returned as plain values in DataFrames; notebooks show them through pandas'
escaping HTML or as plain text, never as Markdown or hand-made HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis import facts
from review.analysis.incidents import incidents
from review.analysis.metric import CLOCKS
from review.analysis.metrics import DURATIONS, REPORT_ORDER, definitions
from review.analysis.sla import attainment, deadlines, sla_table
from review.analysis.stats import MDC_METHOD, METHOD, POOL_MONTHS, month_statistics, sentences
from review.analysis.timeline import NOBODY
from review.closeout import recurrence
from review.closeout.followups import attach_followups, followup_links, followups_by_service
from review.closeout.gaps import support_gaps
from review.closeout.recurrence import recurrence_text, recurrences_by_service
from review.closeout.registry import load_registry
from review.closeout.rules import RULES
from review.context import Context, PathLike, empty_frame, load_context
from review.errors import ReviewError, TicketError
from review.pages.display import (
    Banner,
    Note,
    PageHeader,
    ServiceGaps,
    Table,
    business_hours_text,
    hours_text,
    local_time,
    local_times_in_text,
    parameter_paths,
    rt_ticket_url,
)
from review.pages.display import Prose as Prose
from review.pages.display import notebook_setup as notebook_setup
from review.pages.display import safe_table as safe_table
from review.settings.config import NEW_SNAPSHOT, Config, is_bundled_sample, project_dir
from review.settings.months import month_of, month_span, parse_date, previous_months, resolve_month
from review.snapshot import Snapshot, covers
from review.text import visible

NOT_COVERED = "not covered"  # a compared month the snapshot does not wholly cover: never 0


def support_gaps_table(context: Context, since: date | None, today: date | None) -> pd.DataFrame:
    """`review support-gaps`'s per-service table."""
    if context.registry is None:
        context.registry = load_registry(context.config.gaps.registry)
    return support_gaps(
        context.findings,
        context.metrics,
        context.registry,
        context.config,
        since=since,
        today=today,
    )


def registry_frame(context: Context) -> pd.DataFrame:
    """The service registry as a table, lists joined into text, with its file and line."""
    if context.registry is None:
        context.registry = load_registry(context.config.gaps.registry)
    frame = context.registry.frame().copy()
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, list | tuple)).any():
            frame[column] = frame[column].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v
            )
    return frame


def definitions_table(config: Config) -> pd.DataFrame:
    """Every metric with its definition: what starts and stops the clock, and in which hours."""
    words = definitions(config)
    rows = [(m.term, words[m.key]) for m in REPORT_ORDER]
    rows += [
        ("wall-clock hours (h)", words["_h"]),
        ("business hours (bh)", business_hours_text(config) + "."),
    ]
    return pd.DataFrame(rows, columns=["term", "definition"])


# --------------------------------------------------------------------------- incident review


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


def _person(snapshot: Snapshot, name: str) -> str:
    users = snapshot.users
    match = users.loc[users["name"] == name]
    if match.empty:
        return name
    email, real = str(match["email"].iloc[0]), str(match["real_name"].iloc[0])
    label = f"{real} ({name})" if real and real != name else name
    return f"{label} <{email}>" if email and email != name else label


def _field(snapshot: Snapshot, ticket_id: int, name: str) -> str:
    return str(facts.field_values(snapshot, name, pd.Index([ticket_id])).iloc[0])


def incident_review_data(
    snapshot_dir: PathLike | None,
    ticket_id: int,
    config_path: PathLike | None = None,
    derived: PathLike | None = None,
) -> IncidentReview:
    """Everything the post-incident review of one ticket shows (`derived`: see load_context)."""
    ticket_id = int(ticket_id)
    snapshot_dir, config_path = parameter_paths(snapshot_dir, config_path)
    context = load_context(snapshot_dir, config_path, ticket_ids={ticket_id}, derived=derived)
    snapshot, config = context.snapshot, context.config
    tickets = snapshot.tickets.set_index("ticket_id")
    if ticket_id not in tickets.index:
        raise TicketError(f"not in the snapshot {snapshot.path}", ticket_id)
    if ticket_id not in set(incidents(snapshot)["ticket_id"]):
        survivor = tickets["effective_id"].to_dict().get(ticket_id)
        raise TicketError(f"was merged into ticket {survivor}; review that one", ticket_id)
    ticket = tickets.loc[ticket_id]
    metrics_row = context.metrics.set_index("ticket_id").loc[ticket_id]
    row: dict[str, Any] = {str(k): v for k, v in metrics_row.items()}
    fields = config.fields
    segments = context.segments.loc[context.segments["ticket_id"] == ticket_id]
    owners = [o for o in segments["owner"].dropna().drop_duplicates() if o != NOBODY]
    queue_names = snapshot.queues.set_index("queue_id")["name"]
    who_what = pd.DataFrame(
        [
            ("ticket", str(ticket_id)),
            ("subject", str(ticket["subject"])),
            ("status now", str(ticket["status"])),
            ("queue now", str(queue_names.to_dict().get(str(ticket["queue_id"]), ""))),
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
    events = context.events.loc[context.events["ticket_id"] == ticket_id].reset_index(drop=True)
    end = _timeline_end(row, events, snapshot)
    comms = events.loc[events["kind"].isin(["create", "reply", "comment"])]
    communication = pd.DataFrame(
        {
            "when": [local_time(a, config) for a in comms["at"]],
            "what": comms["kind"]
            .map({"create": "opened", "reply": "reply (to requestors, Cc)", "comment": "comment"})
            .to_numpy(),
            "who": [_person(snapshot, str(c)) for c in comms["creator"]],
            "as": comms["actor"].to_numpy(),
            "text": comms["data"].to_numpy(),
        }
    )
    checklist = context.checklist.loc[context.checklist["ticket_id"] == ticket_id]
    checklist = checklist.assign(evidence=local_times_in_text(checklist["evidence"], config))
    findings = attach_followups(
        context.findings.loc[context.findings["ticket_id"] == ticket_id], snapshot, config
    )
    findings = findings.assign(evidence=local_times_in_text(findings["evidence"], config))
    return IncidentReview(
        ticket_id=ticket_id,
        title=f"Ticket {ticket_id}: {visible(str(ticket['subject']))}",  # printed: a stream output
        who_what=who_what,
        metrics=incident_metrics_table(row, config),
        definitions=definitions_table(config),
        events=events,
        segments=segments.reset_index(drop=True),
        end=end,
        checklist=checklist.drop(columns="ticket_id").reset_index(drop=True),
        findings=findings.drop(columns="ticket_id").reset_index(drop=True),
        communication=communication,
        config=config,
        row=row,
        followup_links=followup_links(snapshot),
        deadlines=deadlines(
            sla_table(
                snapshot,
                config,
                context.events,
                context.metrics.loc[context.metrics["ticket_id"] == ticket_id],
                segments=context.segments,
            ),
            ticket_id,
        ),
        rt_url=rt_ticket_url(snapshot.manifest.get("source", ""), ticket_id),
    )


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


def incident_metrics_table(row: dict[str, Any], config: Config) -> pd.DataFrame:
    """One incident's metrics: value, wall-clock and business hours, definition."""
    bh = business_hours_text(config)
    words = definitions(config)
    rows: list[tuple[str, str, str, str]] = []
    for m in REPORT_ORDER:
        if m.unit == "hours":
            wall, business = (hours_text(row[c]) for c in m.columns)
            rows.append((m.label, wall, business, f"{words[m.key]} Wall-clock hours and {bh}."))
            continue
        value = row[m.key]
        if m.unit == "time":
            shown = local_time(value, config)
        else:
            shown = hours_text(value) if m.unit == "wall hours" else str(value)
        rows.append((m.label, shown, "", words[m.key]))
    return pd.DataFrame(
        rows, columns=["metric", "value (wall-clock h)", "business h", "definition"]
    )


@dataclass
class MonthlyReport:
    """What the monthly report notebook shows."""

    month: str
    incidents: pd.DataFrame  # metrics of the month's incidents
    counts_by_classification: pd.DataFrame
    counts_by_service: pd.DataFrame
    statistics: pd.DataFrame
    comparison: pd.DataFrame
    history: pd.DataFrame  # metrics of this and the compared months, with a `month` column
    findings_by_rule: pd.DataFrame
    findings_by_service: pd.DataFrame
    incident_list: pd.DataFrame
    definitions: pd.DataFrame
    config: Config
    findings: pd.DataFrame
    months: list[str] = field(default_factory=list)
    # open and overdue follow-ups per service at the pull; None: the pull took none
    followups_by_service: pd.DataFrame | None = None
    coverage: str = ""  # what the snapshot covers, in words
    covered: bool = True  # every incident opened in the month is in the snapshot
    pulled_at: pd.Timestamp | None = None  # "now" for incidents still open
    # analysis.stats: per month, metric and clock, n, intervals, change, verdict (`review stats`)
    month_stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    # one sentence per metric, with the smallest change in median this month's n could detect
    stats_sentences: pd.DataFrame = field(default_factory=pd.DataFrame)
    # review.analysis.sla: share of deadlines met per level and target, 95% Wilson interval
    sla_attainment: pd.DataFrame = field(default_factory=pd.DataFrame)
    # review.closeout.recurrence: per service, the month's incidents that recur an earlier one
    recurrences: pd.DataFrame = field(default_factory=pd.DataFrame)

    def recurrence_table(self) -> Any:
        """Recurrences per service this month, or a sentence saying there were none."""
        return safe_table(
            self.recurrences,
            empty=f"No recurrences: no incident opened in {self.month} had the service and root "
            f"cause of one opened in the {self.config.gaps.recurrence_days:g} days before it.",
        )

    @property
    def summary(self) -> str:
        n = len(self.incidents)
        resolved = int(self.incidents["resolved_at"].notna().sum())
        still_open = n - resolved
        pulled = (
            f" at the pull ({local_time(self.pulled_at, self.config)})" if self.pulled_at else ""
        )
        followups = ""
        if self.followups_by_service is not None:
            open_, overdue = self.followups_by_service[["open", "overdue"]].sum()
            followups = (
                f" Follow-ups in RT: {open_} open, {overdue} overdue "
                f"(open more than {self.config.followups.overdue_days} days)."
            )
        partial = "" if self.covered else "PARTIAL (the snapshot does not cover the month) - "
        opened = (
            f"{n} incident(s) opened in the month ({self.config.calendar.timezone}), {resolved} "
            f"resolved and {still_open} still open{pulled}"
            if n
            else f"no incidents opened in the month ({self.config.calendar.timezone})"
        )
        return (
            f"{partial}Monthly report {self.month}: {opened}; "
            f"{len(self.findings)} close-out finding(s); "
            f"{int(self.recurrences['recurrences'].sum()) if len(self.recurrences) else 0} "
            "recurrence(s) of an earlier incident. "
            f"Compared with {', '.join(self.months[:-1])}.{followups}"
        )

    def header(self) -> PageHeader:
        """The page's title, with a link to the index."""
        return PageHeader(f"Monthly incident report, {self.month}", "../index.html")

    def coverage_banner(self) -> Any:
        """What the snapshot covers; a warning banner when the month is not wholly covered."""
        if self.covered:
            return Note(f"Data: {self.coverage}.")
        return Banner(
            f"Partial report: {self.coverage}, which does not wholly cover {self.month}. "
            "Incidents opened in the month may be missing and every number may be too low."
        )

    def followups_table(self) -> Any:
        """Open and overdue follow-ups per service, or why there are none to count."""
        if self.followups_by_service is None:
            return Note(
                "The snapshot holds no follow-ups: `review pull` takes the [followups] queue, "
                "and `review follow-ups --apply` files them."
            )
        return safe_table(self.followups_by_service, empty="No open follow-ups.")

    @property
    def stats_table(self) -> pd.DataFrame:
        """`review stats`'s rows for the report's months (hours rounded): the stable columns,
        the ratio of geometric means the verdict is about, the smallest detectable change,
        and why an interval is not shown."""
        from review.analysis.stats import COLUMNS

        shown = [*COLUMNS, "ratio_geomean", "ratio_ci_low", "ratio_ci_high", "mdc_pct"]
        table = self.month_stats[shown]
        numbers = [c for c in shown[4:] if c not in ("verdict",)]
        table = table.astype({c: float for c in numbers}).round({c: 2 for c in numbers})
        reasons = self.month_stats[["median_ci_withheld", "p90_ci_withheld", "change_ci_withheld"]]
        withheld = reasons.apply(lambda r: "; ".join(dict.fromkeys(v for v in r if v)), axis=1)
        clocks = {"wall": "wall-clock", "business": "business hours"}
        return table.assign(
            metric=table["metric"].map({k: m.label for k, m in DURATIONS.items()}),
            clock=table["clock"].map(clocks),
            mdc_pct=table["mdc_pct"].round(0),
            intervals_withheld=withheld,
        )

    def incident_links(self) -> Any:
        """The incident list as an escaped table whose ticket ids link to the reviews."""
        return safe_table(
            self.incident_list,
            links={"ticket": "incident-{}.html"},
            empty=f"No incidents opened in {self.month}.",
        )


def duration_statistics(metrics: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Median, 90th percentile and mean of each duration, wall-clock and business hours.

    Each row says which incidents it includes: a duration that ends at resolution
    (hand-off, resolve) counts resolved incidents only, never the time so far of
    one still open.
    """
    rows = []
    still_open = int(metrics["resolved_at"].isna().sum())
    words = definitions(config)
    for key, m in DURATIONS.items():
        for clock, column in zip(CLOCKS.values(), m.columns, strict=True):
            values = metrics[column].dropna().astype(float)
            rows.append(
                {
                    "metric": m.label,
                    "hours": clock.hours,
                    "incidents": len(values),
                    "includes": m.includes.format(
                        missing=len(metrics) - len(values),
                        total=len(metrics),
                        still_open=f"; {still_open} still open left out" if still_open else "",
                    ),
                    "median": values.median() if len(values) else float("nan"),
                    "p90": values.quantile(0.9) if len(values) else float("nan"),
                    "mean": values.mean() if len(values) else float("nan"),
                    "definition": words[key]
                    + (" " + business_hours_text(config) if clock.suffix == "bh" else ""),
                }
            )
    return pd.DataFrame(rows).round({"median": 2, "p90": 2, "mean": 2})


def month_coverage(snapshot: Snapshot, months: list[str], config: Config) -> dict[str, bool]:
    """For each YYYY-MM month: is every incident opened in it in the snapshot?"""
    return {m: covers(snapshot.coverage, *month_span(m, config)) for m in months}


def coverage_text(snapshot: Snapshot, config: Config | None = None) -> str:
    """What the snapshot holds, in words (for banners and error lines); with `config`, its
    span in the business calendar's zone (a page's times), else in UTC."""
    found = snapshot.coverage
    if found is None:
        return (
            f"the snapshot {snapshot.path} does not record what it covers "
            "(pulled by an older version)"
        )
    kinds = " and ".join(
        kind
        for kind, flag in (("opened", found.opened_in_window), ("closed", found.closed_in_window))
        if flag
    )
    span = (
        f"{local_time(found.since, config)} to {local_time(found.end, config)}"
        if config is not None
        else str(found)
    )
    return (
        f"the snapshot {snapshot.path} holds the tickets {kinds or 'of no known kind'} "
        f"from {span} in {', '.join(found.queues) or 'no queue'}"
    )


def pull_command(snapshot: Snapshot, months: list[str], config: Config) -> str:
    """The `review pull` that would cover `months` (and what the snapshot covers already)."""
    spans = [month_span(m, config) for m in months]
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    if snapshot.coverage is not None:
        start, end = min(start, snapshot.coverage.since), max(end, snapshot.coverage.until)
    since = start.floor("D")
    until = end.ceil("D")
    # The bundled sample is never a pull's target (`review pull` refuses it): name a new one.
    target = NEW_SNAPSHOT if is_bundled_sample(snapshot.path) else snapshot.path
    return f"review pull --since {since:%Y-%m-%d} --until {until:%Y-%m-%d} --snapshot {target}"


def require_covered(snapshot: Snapshot, month: str, config: Config, compare: int = 3) -> None:
    """Refuse a month the snapshot does not wholly cover: its report would be silently short."""
    if covers(snapshot.coverage, *month_span(month, config)):
        return
    raise ReviewError(
        f"{month} is not wholly covered: {coverage_text(snapshot)}. To cover it (and the "
        f"{compare} months it is compared with): "
        f"{pull_command(snapshot, [*previous_months(month, compare), month], config)}; "
        "or pass --partial to render it anyway, marked as partial"
    )


def monthly_report_data(
    snapshot_dir: PathLike | None,
    month: str,
    config_path: PathLike | None = None,
    compare: int = 3,
    derived: PathLike | None = None,
) -> MonthlyReport:
    """The month's incidents (opened in the month, local time) against the months before."""
    month = resolve_month(month)
    snapshot_dir, config_path = parameter_paths(snapshot_dir, config_path)
    context = load_context(snapshot_dir, config_path, derived=derived)
    config = context.config
    snapshot = context.snapshot
    metrics = context.metrics.assign(month=month_of(context.metrics["opened_at"], config))
    months = [*previous_months(month, compare), month]
    covered = month_coverage(snapshot, months, config)
    pulled_at = snapshot.pulled_at
    metrics["still_open"] = metrics["resolved_at"].isna()
    metrics["open_so_far_h"] = (
        ((pulled_at - metrics["opened_at"]).dt.total_seconds() / 3600).where(metrics["still_open"])
        if pulled_at is not None
        else float("nan")
    )
    current = metrics.loc[metrics["month"] == month].reset_index(drop=True)
    history = metrics.loc[metrics["month"].isin(months)].reset_index(drop=True)
    by_class = (
        current.groupby(current["classification"].replace("", "(none)"))
        .size()
        .rename("incidents")
        .reset_index()
    )
    by_service = (
        current.groupby([current["service"].replace("", "(none)")])
        .size()
        .rename("incidents")
        .reset_index()
        .sort_values("incidents", ascending=False, kind="stable")
    )
    comparison_rows = []
    for m in months:
        part = history.loc[history["month"] == m]
        known = covered[m] or m == month  # the report month itself: shown, with its banner
        row: dict[str, Any] = {
            "month": m,
            "covered": "yes" if covered[m] else "no",
            "incidents": len(part) if known else NOT_COVERED,
        }
        for spec in DURATIONS.values():
            for clock, column in zip(CLOCKS, spec.columns, strict=True):
                values = part[column].dropna().astype(float)
                row[spec.comparison_column("median", clock)] = (
                    values.median() if known and len(values) else None
                )
                row[spec.comparison_column("p90", clock)] = (
                    values.quantile(0.9) if known and len(values) else None
                )
        comparison_rows.append(row)
    comparison = pd.DataFrame(comparison_rows).round(2)
    month_stats = report_statistics(metrics, months, month, snapshot, config)
    findings = context.findings.loc[context.findings["ticket_id"].isin(current["ticket_id"])]
    findings_by_rule = findings.groupby("rule").size().rename("findings").reset_index()
    findings_by_service = (
        findings.pivot_table(index="service", columns="rule", aggfunc="size", fill_value=0)
        .reset_index()
        .rename_axis(columns=None)
        if len(findings)
        else empty_frame(["service"])
    )
    per_ticket = findings.groupby("ticket_id").size()
    incident_list = pd.DataFrame(
        {
            "ticket": current["ticket_id"],
            "subject": current["subject"],
            "service": current["service"],
            "classification": current["classification"],
            "opened": [local_time(a, config) for a in current["opened_at"]],
            "state": current["still_open"].map({True: "still open", False: "resolved"}),
            "time to resolve (h)": current["time_to_resolve_h"].round(2),
            "open so far (h)": current["open_so_far_h"].round(2),
            "findings": current["ticket_id"].map(per_ticket).fillna(0).astype(int),
        }
    )
    return MonthlyReport(
        month=month,
        incidents=current,
        recurrences=recurrences_by_service(
            context.recurrences.loc[context.recurrences["ticket_id"].isin(current["ticket_id"])]
        ),
        counts_by_classification=by_class,
        counts_by_service=by_service,
        statistics=duration_statistics(current, config),
        comparison=comparison,
        history=history,
        findings_by_rule=findings_by_rule,
        findings_by_service=findings_by_service,
        incident_list=incident_list,
        definitions=pd.concat([definitions_table(config), method_table()], ignore_index=True),
        config=config,
        findings=findings.reset_index(drop=True),
        months=months,
        coverage=coverage_text(snapshot, config),
        covered=covered[month],
        pulled_at=pulled_at,
        month_stats=month_stats,
        stats_sentences=sentences(month_stats, month),
        sla_attainment=attainment(
            sla_table(snapshot, config, context.events, current, segments=context.segments)
        ),
        followups_by_service=followups_by_service(
            context.snapshot,
            context.findings.drop_duplicates("ticket_id").set_index("ticket_id")["service"],
            config,
        ),
    )


def report_statistics(
    metrics: pd.DataFrame, months: list[str], month: str, snapshot: Snapshot, config: Config
) -> pd.DataFrame:
    """review.analysis.stats for the report's months (metrics with their `month`): a month is known
    when the snapshot wholly covers it, and the report month always (shown with its banner).
    The months before the first are looked up too: the first is compared with the month
    before it, and every month's detectable change pools the spread of the months before."""
    before = previous_months(months[0], POOL_MONTHS - 1)  # compared with, and pooled spread
    covered = month_coverage(snapshot, [*before, *months], config)
    known = {m: flag or m == month for m, flag in covered.items()}
    return month_statistics(metrics, months, known)


def method_table() -> pd.DataFrame:
    """The statistics' method, as rows of the definitions table."""
    return pd.DataFrame(
        [("intervals, change and verdict", METHOD), ("smallest detectable change", MDC_METHOD)],
        columns=["term", "definition"],
    )


# --------------------------------------------------------------------------- support gaps


@dataclass
class SupportGapsReport:
    """What the support-gap report shows senior staff."""

    table: pd.DataFrame  # per service: owner, assignment, findings, gap, action, review
    rule_counts: pd.DataFrame  # per service: findings by rule
    findings: pd.DataFrame
    findings_by_service: pd.DataFrame
    registry: pd.DataFrame
    since: date | None
    config: Config
    incidents: int = 0
    followup_links: dict[str, str] = field(default_factory=dict)  # safe_table links
    # services whose incidents recur (review.closeout.recurrence), with or without findings
    recurring: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_pages: dict[int, str] = field(default_factory=dict)  # ticket -> its review's page

    def header(self) -> PageHeader:
        """The page's title, with a link to the index."""
        return PageHeader("Support-assignment gaps by service", "index.html")

    def attention(self) -> Any:
        """One compact row per service, in attention order, the action in words."""
        columns = [
            "service", "service_owner", "support_assignment", "incidents", "findings",
            "worst_severity", "gap_days", "review_overdue", "recommended_action",
        ]  # fmt: skip
        shown = (
            self.table[columns]
            .replace({"service_owner": {"": "unknown"}})
            .rename(
                columns={
                    "support_assignment": "support",
                    "review_overdue": "registry review overdue",
                }
            )
        )
        shown.insert(0, "#", range(1, len(shown) + 1))
        return Table(shown) if len(shown) else Note("No service has a support gap.")

    def services(self) -> ServiceGaps:
        """Each service in the same order: its registry entry and its findings by rule."""
        return ServiceGaps(
            self.table, self.registry, self.findings, self.review_pages, self.followup_links
        )

    @property
    def summary(self) -> str:
        window = f"incidents opened since {self.since}" if self.since else "all incidents"
        return (
            f"Support-assignment gaps over {window} of the snapshot ({self.incidents}): "
            f"{len(self.findings)} close-out finding(s) across {len(self.table)} service(s); "
            f"{len(self.recurring)} service(s) with recurring incidents."
        )

    def recurring_table(self) -> Any:
        """Services with recurring incidents, or a sentence saying there are none."""
        return safe_table(
            self.recurring,
            empty="No service has recurring incidents (the same root cause within "
            f"{self.config.gaps.recurrence_days:g} days).",
        )


def support_gaps_data(
    snapshot_dir: PathLike | None,
    config_path: PathLike | None = None,
    since: str | date | None = None,
    today: str | date | None = None,
    registry: PathLike | None = None,
    derived: PathLike | None = None,
) -> SupportGapsReport:
    """`review support-gaps` as a report: the per-service table, the findings behind it.

    `today` is the day gap ages count to (default: today); `registry` replaces the config's
    service registry."""
    since_date = parse_date(since, "since")
    today_date = parse_date(today, "today")
    snapshot_dir, config_path = parameter_paths(snapshot_dir, config_path)
    if registry is not None and not Path(registry).expanduser().is_absolute():
        registry = project_dir() / registry  # as parameter_paths reads snapshot and config
    context = load_context(snapshot_dir, config_path, registry=registry, derived=derived)
    findings = context.findings
    if since_date is not None and len(findings):
        opened = context.metrics.set_index("ticket_id")["opened_at"]
        when = findings["ticket_id"].map(opened)
        findings = findings.loc[when >= pd.Timestamp(since_date, tz="UTC")]
    by_service = (
        findings.pivot_table(
            index="service", columns="rule", aggfunc="size", fill_value=0
        ).rename_axis(columns=None)
        if len(findings)
        else pd.DataFrame()
    )
    table = support_gaps_table(context, since_date, today_date)
    rules = [c for c in table.columns if c in RULES]
    found = recurrence.opened_since(context.recurrences, since_date)
    table = recurrence.with_recurrence_counts(table, found)
    return SupportGapsReport(
        recurring=recurrences_by_service(found),
        table=table.drop(columns=rules),
        rule_counts=table[["service", *rules]],
        findings=attach_followups(
            findings.reset_index(drop=True), context.snapshot, context.config
        ),
        findings_by_service=by_service,
        registry=registry_frame(context),
        since=since_date,
        config=context.config,
        incidents=int(
            (context.metrics["opened_at"] >= pd.Timestamp(since_date, tz="UTC")).sum()
            if since_date is not None
            else len(context.metrics)
        ),
        followup_links=followup_links(context.snapshot),
        review_pages=review_pages(context.metrics, context.config),
    )


def review_pages(metrics: pd.DataFrame, config: Config) -> dict[int, str]:
    """Where `review render` puts each incident's review, from the top of the reports folder."""
    months = month_of(metrics["opened_at"], config).astype(str)
    pages = months + "/incident-" + metrics["ticket_id"].astype(str) + ".html"
    return dict(zip(metrics["ticket_id"].astype(int), pages, strict=True))
