"""The support-assignment gap report page: per service, for senior staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis.problems import DataProblem
from review.closeout import recurrence
from review.closeout.followups import attach_followups, followup_links
from review.closeout.recurrence import recurrences_by_service
from review.closeout.rules import RULES
from review.context import PathLike, load_context
from review.pages.display import (
    DataQuality,
    Note,
    PageHeader,
    ServiceGaps,
    Table,
    parameter_paths,
)
from review.pages.display import Prose as Prose
from review.pages.display import notebook_setup as notebook_setup
from review.pages.display import safe_table as safe_table
from review.pages.reports.common import (
    registry_frame,
    reports_folder,
    review_states,
    review_words,
    support_gaps_table,
)
from review.settings.config import Config, project_dir
from review.settings.months import month_of, parse_date


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
    review_states: dict[int, str] = field(default_factory=dict)  # ticket -> its review, in words
    # where the config does not fit the data, and rules that could not see (the data note)
    problems: list[DataProblem] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)

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
        return ServiceGaps(
            self.table, self.registry, self.findings, self.review_pages, self.followup_links,
            self.review_states,
        )  # fmt: skip

    @property
    def summary(self) -> str:
        window = f"incidents opened since {self.since}" if self.since else "all incidents"
        misfit = sum(p.mismatch for p in self.problems)
        warning = (
            f"The config does not fit the data in {misfit} way(s): see the data-quality note. "
            if misfit
            else ""
        )
        blind = (
            f" ({len(self.unobservable)} rule(s) not observable: {', '.join(self.unobservable)})"
            if self.unobservable
            else ""
        )
        return (
            f"{warning}Support-assignment gaps over {window} of the snapshot ({self.incidents}): "
            f"{len(self.findings)} close-out finding(s){blind} across {len(self.table)} "
            f"service(s); {len(self.recurring)} service(s) with recurring incidents."
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
    reports: PathLike | None = None,
) -> SupportGapsReport:
    """`review support-gaps` as a report: the per-service table, the findings behind it.

    `today` is the day gap ages count to (default: today); `registry` replaces the config's
    service registry; `reports` is the folder the review files are under (each incident's
    review status beside it)."""
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
    folder = reports_folder(reports, context.config)
    states = review_states(context, folder, findings["ticket_id"])
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
        problems=context.problems,
        unobservable=context.unobservable,
        review_pages=review_pages(context.metrics, context.config),
        review_states=dict(
            zip(states.index.astype("int64").tolist(), review_words(states).tolist(), strict=True)
        ),
    )


def review_pages(metrics: pd.DataFrame, config: Config) -> dict[int, str]:
    """Where `review render` puts each incident's review, from the top of the reports folder."""
    months = month_of(metrics["opened_at"], config).astype(str)
    pages = months + "/incident-" + metrics["ticket_id"].astype(str) + ".html"
    return dict(zip(metrics["ticket_id"].astype(int), pages, strict=True))
