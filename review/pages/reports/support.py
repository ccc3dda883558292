"""The support-assignment gap report page: per service, for senior staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis import quality
from review.analysis.problems import DataProblem
from review.closeout import recurrence
from review.closeout.followups import attach_followups, followup_links
from review.closeout.gaps import support_gaps, under_each_service
from review.closeout.recurrence import recurrences_by_service
from review.closeout.rules import RULES
from review.context import Context, PathLike, open_context
from review.pages.display import (
    DataQuality,
    Note,
    PageHeader,
    ServiceGaps,
    Table,
    parameter_paths,
    safe_table,
)
from review.pages.page import Page
from review.pages.reports import incident
from review.pages.reports.common import (
    existing_pages,
    registry_frame,
    reports_folder,
    review_states,
    review_words,
)
from review.settings.config import Config, load_config, project_dir, with_registry
from review.settings.months import month_of, parse_date
from review.snapshot import join_per_key


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
    recurrences_blind: str = ""  # why recurrences cannot be found ('' when they can)
    review_pages: dict[int, str] = field(default_factory=dict)  # ticket -> its review's page
    review_states: dict[int, str] = field(default_factory=dict)  # ticket -> its review, in words
    # where the config does not fit the data, and rules that could not see (the data note)
    problems: list[DataProblem] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)
    # the findings one row per service of their incident (several services: under each)
    service_findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the window's incidents of several services (index ticket_id): their services
    several: pd.Series = field(default_factory=lambda: pd.Series(dtype=str))

    def data_quality(self) -> DataQuality:
        """The data-quality note: where the config does not fit the data, what it costs."""
        return DataQuality(self.problems, self.unobservable)

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
        findings = self.findings if self.service_findings.empty else self.service_findings
        return ServiceGaps(
            self.table, self.registry, findings, self.review_pages, self.followup_links,
            self.review_states,
        )  # fmt: skip

    @property
    def summary(self) -> str:
        window = f"incidents opened since {self.since}" if self.since else "all incidents"
        wrong = quality.mismatch_words(self.problems)
        warning = f"{wrong[:1].upper()}{wrong[1:]}: see the data-quality note. " if wrong else ""
        blind = (
            f" ({len(self.unobservable)} rule(s) not observable: {', '.join(self.unobservable)})"
            if self.unobservable
            else ""
        )
        return (
            f"{warning}Support-assignment gaps over {window} of the snapshot ({self.incidents}): "
            f"{len(self.findings)} close-out finding(s){blind} across {len(self.table)} "
            f"service(s); {self.recurring_words()}.{self.several_words()}"
        )

    def several_words(self) -> str:
        """Which incidents count under several services ('' for none)."""
        if self.several.empty:
            return ""
        each = "; ".join(f"#{t}: {v}" for t, v in self.several.head(10).items())
        more = f"; and {len(self.several) - 10} more" if len(self.several) > 10 else ""
        return (
            f" {len(self.several)} incident(s) hold several services and count under each of "
            f"them, with their findings ({each}{more}), so the services' counts add up to more."
        )

    def recurring_words(self) -> str:
        if self.recurrences_blind:
            return f"recurring incidents {self.recurrences_blind}"
        return f"{len(self.recurring)} service(s) with recurring incidents"

    def recurring_table(self) -> Any:
        """Services with recurring incidents, or a sentence saying there are none."""
        if self.recurrences_blind:
            return Note(f"Recurring incidents are {self.recurrences_blind}.")
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
    reports: PathLike | None = None,
) -> SupportGapsReport:
    """The support-gap notebook's one call: `support_gaps_report` of the snapshot's context
    (`derived`: see review.context.open_context). `registry` replaces the config's service
    registry; `reports` is the folder the review files are under."""
    snapshot_dir, config_path = parameter_paths(snapshot_dir, config_path)
    if registry is not None and not Path(registry).expanduser().is_absolute():
        registry = project_dir() / registry  # as parameter_paths reads snapshot and config
    config = with_registry(load_config(config_path), Path(registry) if registry else None)
    context = open_context(snapshot_dir, config, derived=derived)
    return support_gaps_report(
        context,
        parse_date(since, "since"),
        parse_date(today, "today"),
        reports_folder(reports, context.config),
    )


def support_gaps_report(
    context: Context,
    since: date | None = None,
    today: date | None = None,
    reports: Path | None = None,
) -> SupportGapsReport:
    """`review support-gaps` as a report: the per-service table, the findings behind it.

    `today` is the day gap ages count to (default: today); `reports` the folder the review
    files are under (each incident's review status beside it; None: the config's)."""
    findings = context.findings
    if since is not None and len(findings):
        opened = context.metrics.set_index("ticket_id")["opened_at"]
        when = findings["ticket_id"].map(opened)
        findings = findings.loc[when >= pd.Timestamp(since, tz="UTC")]
    several = several_services(context)
    each = under_each_service(findings, context.metrics, context.registry, several)
    metrics = context.metrics
    if since is not None:
        metrics = metrics.loc[metrics["opened_at"] >= pd.Timestamp(since, tz="UTC")]
    held = several.loc[several["ticket_id"].isin(metrics["ticket_id"])]
    by_service = (
        each.pivot_table(index="service", columns="rule", aggfunc="size", fill_value=0).rename_axis(
            columns=None
        )
        if len(findings)
        else pd.DataFrame()
    )
    table = support_table(context, since, today)
    folder = reports or reports_folder(None, context.config)
    states = review_states(context, folder, findings["ticket_id"])
    rules = [c for c in table.columns if c in RULES]
    return SupportGapsReport(
        recurring=recurrences_by_service(recurrence.opened_since(context.recurrences, since)),
        recurrences_blind=recurrence.unobservable(context.snapshot, context.config),
        table=table.drop(columns=rules),
        rule_counts=table[["service", *rules]],
        findings=attach_followups(
            findings.reset_index(drop=True), context.snapshot, context.config
        ),
        service_findings=attach_followups(each, context.snapshot, context.config),
        several=join_per_key(held["ticket_id"], held["value"], ", "),
        findings_by_service=by_service,
        registry=registry_frame(context.registry),
        since=since,
        config=context.config,
        incidents=int(
            (context.metrics["opened_at"] >= pd.Timestamp(since, tz="UTC")).sum()
            if since is not None
            else len(context.metrics)
        ),
        followup_links=followup_links(context.snapshot),
        problems=context.problems,
        unobservable=context.unobservable,
        review_pages=review_pages(context.metrics, context.config, folder),
        review_states=dict(
            zip(states.index.astype("int64").tolist(), review_words(states).tolist(), strict=True)
        ),
    )


def support_table(context: Context, since: date | None, today: date | None) -> pd.DataFrame:
    """`review support-gaps`'s per-service table (review.closeout.gaps.support_gaps), with
    each service's recurrences among the incidents opened since `since`."""
    table = support_gaps(
        context.findings, context.metrics, context.registry, context.config,
        since=since, today=today, unobservable=context.unobservable,
        several=several_services(context),
    )  # fmt: skip
    found = recurrence.opened_since(context.recurrences, since)
    blind = recurrence.unobservable(context.snapshot, context.config)
    return recurrence.with_recurrence_counts(table, found, blind)


def several_services(context: Context) -> pd.DataFrame:
    """(ticket_id, value): the services of each incident whose service field holds several
    (each counts under every one of them in the per-service tables)."""
    return quality.values_held(context.snapshot, context.config.fields.service)


def review_pages(metrics: pd.DataFrame, config: Config, reports: Path) -> dict[int, str]:
    """The incidents' reviews that exist under the reports folder (the support report's own
    folder): where `review render` puts them (the incident page's HTML), kept by
    common.existing_pages."""
    months = month_of(metrics["opened_at"], config).astype(str)
    ids = metrics["ticket_id"].astype(int)
    return existing_pages(
        {
            t: Path(incident.PAGE.where(t, m)).with_suffix(".html").as_posix()
            for t, m in zip(ids, months, strict=True)
        },
        reports,
    )


PAGE = Page(
    name="support-gaps",
    title="Support-assignment gap report",
    template="support_gaps.ipynb",
    data=support_gaps_data,
    per="snapshot",
    output="support-gaps.ipynb",
    job="support-gap report",
    depends=("tickets", "today", "registry", "reviews"),
    order=10,
)
