"""The monthly report page: the month's incidents against the months before."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis import quality
from review.analysis.attainment import attainment
from review.analysis.metric import CLOCKS
from review.analysis.metrics import DURATIONS, definitions, unmeasured
from review.analysis.problems import DataProblem
from review.analysis.stats import (
    MDC_METHOD,
    METHOD,
    POOL_MONTHS,
    month_statistics,
    quantiles,
    sentences,
)
from review.analysis.stats import NOT_COVERED as STATS_NOT_COVERED
from review.closeout.followups import followups_by_service
from review.closeout.gaps import NOT_OBSERVABLE, under_each_service
from review.closeout.recurrence import recurrences_by_service
from review.closeout.recurrence import unobservable as recurrence_blind
from review.context import Context, PathLike, open_context
from review.pages.display import (
    Banner,
    DataQuality,
    Note,
    PageHeader,
    parameter_paths,
    safe_table,
)
from review.pages.page import Page
from review.pages.reports.common import (
    coverage_text,
    definitions_table,
    existing_pages,
    month_coverage,
    reports_folder,
    review_states,
    review_words,
)
from review.pages.times import business_hours_text, local_time
from review.settings.config import Config
from review.settings.months import month_of, previous_months, resolve_month
from review.snapshot import Snapshot

NOT_COVERED = "not covered"  # a compared month the snapshot does not wholly cover: never 0


COMPARE_MONTHS = 3  # the months before the report month it is compared with


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
    # the findings one row per service of their incident (several services: under each)
    service_findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    months: list[str] = field(default_factory=list)
    # open and overdue follow-ups per service at the pull; None: the pull took none
    followups_by_service: pd.DataFrame | None = None
    coverage: str = ""  # what the snapshot covers, in words
    covered: bool = True  # every incident opened in the month is in the snapshot
    # each of `months`: is every incident opened in it in the snapshot?
    month_covered: dict[str, bool] = field(default_factory=dict)
    pulled_at: pd.Timestamp | None = None  # "now" for incidents still open
    # analysis.stats: per month, metric and clock, n, intervals, change, verdict (`review stats`)
    month_stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    # one sentence per metric, with the smallest change in median this month's n could detect
    stats_sentences: pd.DataFrame = field(default_factory=pd.DataFrame)
    # review.analysis.sla: share of deadlines met per level and target, 95% exact interval
    sla_attainment: pd.DataFrame = field(default_factory=pd.DataFrame)
    # review.closeout.recurrence: per service, the month's incidents that recur an earlier one
    recurrences: pd.DataFrame = field(default_factory=pd.DataFrame)
    recurrences_blind: str = ""  # why recurrences cannot be found ('' when they can)
    # where the config does not fit the data, and rules that could not see (the data note)
    problems: list[DataProblem] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)
    review_pages: dict[int, str] = field(default_factory=dict)  # ticket -> its review's page

    def data_quality(self) -> DataQuality:
        """The data-quality note: where the config does not fit the data, what it costs."""
        return DataQuality(self.problems, self.unobservable)

    def recurrence_table(self) -> Any:
        """Recurrences per service this month, or a sentence saying there were none (or
        that they cannot be found)."""
        if self.recurrences_blind:
            return Note(f"Recurrences are {self.recurrences_blind}.")
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
        blind = (
            f" ({len(self.unobservable)} rule(s) not observable: {', '.join(self.unobservable)})"
            if self.unobservable
            else ""
        )
        wrong = quality.mismatch_words(self.problems)
        warning = f"{wrong[:1].upper()}{wrong[1:]}: see the data-quality note. " if wrong else ""
        return (
            f"{partial}{warning}Monthly report {self.month}: {opened}; "
            f"{len(self.findings)} close-out finding(s){blind}; "
            f"{self._recurrence_words()}. "
            f"{self.compared_text()}{followups}"
        )

    def _recurrence_words(self) -> str:
        if self.recurrences_blind:
            return f"recurrences {self.recurrences_blind}"
        found = int(self.recurrences["recurrences"].sum()) if len(self.recurrences) else 0
        return f"{found} recurrence(s) of an earlier incident"

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
        """`review stats`'s rows for the report's months, for people: each figure with its 95%
        interval in one cell (hours, 2 decimals), the verdict, the ratio of geometric means it
        is about, the smallest detectable change, and why an interval is not shown. Narrow
        enough for a page; `review stats --format csv` has every column apart."""
        stats = self.month_stats
        reasons = stats[["median_ci_withheld", "p90_ci_withheld", "change_ci_withheld"]]
        withheld = reasons.apply(lambda r: "; ".join(dict.fromkeys(v for v in r if v)), axis=1)
        clocks = {"wall": "wall-clock", "business": "business hours"}
        detectable = _number(stats["mdc_pct"], 0)
        return pd.DataFrame(
            {
                "month": stats["month"],
                "metric": stats["metric"].map({k: m.label for k, m in DURATIONS.items()}),
                "clock": stats["clock"].map(clocks),
                "n": stats["n"],
                "median h (95% interval)": _with_interval(stats, "median_h", "median_ci"),
                "p90 h (95% interval)": _with_interval(stats, "p90_h", "p90_ci"),
                "change in median h (95% interval)": _with_interval(
                    stats, "change_median_h", "change_ci"
                ),
                # a covered month after one that is not: say which, never a bare 'not
                # covered' beside a month the comparison table calls covered
                "verdict": stats["verdict"].mask(
                    stats["n"].notna() & (stats["verdict"] == STATS_NOT_COVERED),
                    "no comparison: " + stats["previous"].astype(str) + " is not covered",
                ),
                "ratio of geometric means (95% interval)": _with_interval(
                    stats, "ratio_geomean", "ratio_ci", digits=2
                ),
                "detectable change": detectable.where(detectable == "", detectable + "%"),
                "interval not shown because": withheld,
            }
        )

    def compared_text(self) -> str:
        """Which months this one is compared with: only those the snapshot covers."""
        earlier = self.months[:-1]
        compared = [m for m in earlier if self.month_covered.get(m, False)]
        missing = [m for m in earlier if m not in compared]
        if not earlier:
            return "No earlier month is compared."
        verb = "is" if len(missing) == 1 else "are"
        if not compared:
            return (
                f"No month before it is covered by the snapshot ({_listed(missing)} {verb} "
                "not), so it is compared with none."
            )
        gaps = f" ({_listed(missing)} {verb} not covered by the snapshot)" if missing else ""
        return f"Compared with {_listed(compared)}{gaps}."

    def incident_links(self) -> Any:
        """The incident list as an escaped table whose ticket ids link to the reviews that
        exist beside the report (`review_pages`)."""
        return safe_table(
            self.incident_list,
            links={"ticket": self.review_pages},
            empty=f"No incidents opened in {self.month}.",
        )


def _number(values: pd.Series, digits: int) -> pd.Series:
    """Numbers as text rounded to `digits`, empty where there is none."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    text = numbers.map(lambda v: f"{v:.{digits}f}")
    return text.where(numbers.notna(), "")


def _with_interval(stats: pd.DataFrame, value: str, interval: str, digits: int = 2) -> pd.Series:
    """'12.50 (8.00-20.00)': a figure and its interval in one cell; the figure alone where
    the interval is withheld, empty where there is no figure."""
    figure = _number(stats[value], digits)
    low = _number(stats[f"{interval}_low"], digits)
    high = _number(stats[f"{interval}_high"], digits)
    both = (low != "") & (high != "")
    return figure.where(~both | (figure == ""), figure + " (" + low + "\u2013" + high + ")")


def _listed(months: list[str]) -> str:
    """'2026-08', '2026-08 and 2026-09', '2026-08, 2026-09 and 2026-10'."""
    return months[0] if len(months) == 1 else f"{', '.join(months[:-1])} and {months[-1]}"


def duration_statistics(
    metrics: pd.DataFrame, config: Config, lost: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Median, 90th percentile and mean of each duration, wall-clock and business hours.

    Each row says which incidents it includes: a duration that ends at resolution
    (hand-off, resolve) counts resolved incidents only, never the time so far of
    one still open; one the data cannot back (`lost`: metrics.unmeasured) is counted apart,
    never as "not triaged".
    """
    rows = []
    blind = pd.DataFrame(columns=["ticket_id", "item"]) if lost is None else lost
    blind = blind.loc[blind["ticket_id"].isin(metrics["ticket_id"])]
    still_open = int(metrics["resolved_at"].isna().sum())
    words = definitions(config)
    for key, m in DURATIONS.items():
        for clock, column in zip(CLOCKS.values(), m.columns, strict=True):
            values = metrics[column].dropna().astype(float)
            unmeasured = int((blind["item"] == key).sum())
            rows.append(
                {
                    "metric": m.label,
                    "hours": clock.hours,
                    "incidents": len(values),
                    "includes": m.includes.format(
                        missing=len(metrics) - len(values) - unmeasured,
                        total=len(metrics),
                        still_open=f"; {still_open} still open left out" if still_open else "",
                    )
                    + (
                        f"; {unmeasured} not measured (data the note above names)"
                        if unmeasured
                        else ""
                    ),
                    **quantiles(values),
                    "mean": values.mean() if len(values) else float("nan"),
                    "definition": words[key]
                    + (" " + business_hours_text(config) if clock.suffix == "bh" else ""),
                }
            )
    return pd.DataFrame(rows).round({"median": 2, "p90": 2, "mean": 2})


def monthly_report_data(
    snapshot_dir: PathLike | None,
    month: str,
    config_path: PathLike | None = None,
    compare: int = COMPARE_MONTHS,
    derived: PathLike | None = None,
    reports: PathLike | None = None,
) -> MonthlyReport:
    """The monthly report notebook's one call: `monthly_report` of the snapshot's context
    (`derived`: see review.context.open_context; `reports`: the folder the review files are
    under, for each incident's review status)."""
    snapshot_dir, config_path = parameter_paths(snapshot_dir, config_path)
    context = open_context(snapshot_dir, config_path, derived=derived)
    return monthly_report(context, month, compare, reports_folder(reports, context.config))


def monthly_report(
    context: Context, month: str, compare: int = COMPARE_MONTHS, reports: Path | None = None
) -> MonthlyReport:
    """The month's incidents (opened in the month, local time) against the months before
    (`reports`: the folder the review files are under; None: the config's)."""
    month = resolve_month(month)
    config, snapshot = context.config, context.snapshot
    metrics = _with_months(context.metrics, snapshot, config)
    months = [*previous_months(month, compare), month]
    covered = month_coverage(snapshot, months, config)
    current = metrics.loc[metrics["month"] == month].reset_index(drop=True)
    history = metrics.loc[metrics["month"].isin(months)].reset_index(drop=True)
    month_stats = report_statistics(metrics, months, month, snapshot, config)
    findings = context.findings.loc[context.findings["ticket_id"].isin(current["ticket_id"])]
    # an incident whose service field holds several services counts under each of them
    several = quality.values_held(snapshot, config.fields.service)
    each = under_each_service(findings, context.metrics, context.registry, several)
    by_rule, by_service = _findings_tables(findings, each, context.unobservable)
    in_month = context.sla["ticket_id"].isin(current["ticket_id"])
    folder = reports or reports_folder(None, config)
    return MonthlyReport(
        month=month,
        incidents=current,
        recurrences=recurrences_by_service(
            context.recurrences.loc[context.recurrences["ticket_id"].isin(current["ticket_id"])]
        ),
        recurrences_blind=recurrence_blind(context.snapshot, config),
        counts_by_classification=_counts(current, "classification"),
        counts_by_service=_counts(_each_service(current, several), "service").sort_values(
            "incidents", ascending=False, kind="stable"
        ),
        statistics=duration_statistics(current, config, unmeasured(context.lost)),
        comparison=_comparison(history, months, month, covered),
        history=history,
        findings_by_rule=by_rule,
        findings_by_service=by_service,
        incident_list=_incident_list(context, current, findings, folder),
        definitions=pd.concat([definitions_table(config), method_table()], ignore_index=True),
        config=config,
        findings=findings.reset_index(drop=True),
        service_findings=each.reset_index(drop=True),
        months=months,
        coverage=coverage_text(snapshot, config),
        covered=covered[month],
        month_covered=covered,
        pulled_at=snapshot.pulled_at,
        month_stats=month_stats,
        stats_sentences=sentences(month_stats, month),
        sla_attainment=attainment(context.sla.loc[in_month]),
        unobservable=context.unobservable,
        followups_by_service=followups_by_service(
            snapshot,
            context.findings.drop_duplicates("ticket_id").set_index("ticket_id")["service"],
            config,
        ),
        problems=_month_problems(context.problems, current["ticket_id"]),
        review_pages=_reviews_beside(current["ticket_id"], folder / month),
    )


def _month_problems(problems: list[DataProblem], ticket_ids: pd.Series) -> list[DataProblem]:
    """The data's problems as a whole, those of the month's own incidents, and those of the
    tickets the snapshot lacks (of some month of the window: it cannot tell which)."""
    month = set(ticket_ids.astype(int))
    return [
        p for p in problems if not p.tickets or p.kind in quality.NOT_HELD or set(p.tickets) & month
    ]


def _reviews_beside(ticket_ids: pd.Series, month_folder: Path) -> dict[int, str]:
    """The incidents' reviews rendered beside the month's report (`review render` puts both
    in the month's folder), as links from it."""
    return existing_pages({int(t): f"incident-{int(t)}.html" for t in ticket_ids}, month_folder)


def _with_months(metrics: pd.DataFrame, snapshot: Snapshot, config: Config) -> pd.DataFrame:
    """Metrics with the month each incident opened in, whether it is still open, and how
    long it has been open at the pull."""
    out = metrics.assign(month=month_of(metrics["opened_at"], config))
    pulled_at = snapshot.pulled_at
    out["still_open"] = out["resolved_at"].isna()
    out["open_so_far_h"] = (
        ((pulled_at - out["opened_at"]).dt.total_seconds() / 3600).where(out["still_open"])
        if pulled_at is not None
        else float("nan")
    )
    return out


def _counts(current: pd.DataFrame, column: str) -> pd.DataFrame:
    """Incidents per value of `column` ('(none)' for an empty one)."""
    return (
        current.groupby([current[column].replace("", "(none)")])
        .size()
        .rename("incidents")
        .reset_index()
    )


def _comparison(
    history: pd.DataFrame, months: list[str], month: str, covered: dict[str, bool]
) -> pd.DataFrame:
    """Per month compared: incidents, and each duration's median and p90 on both clocks;
    a month the snapshot does not wholly cover says so instead of a number."""
    rows = []
    for m in months:
        part = history.loc[history["month"] == m]
        partial = m == month and not covered[m]  # the report month itself, with its banner
        known = covered[m] or partial
        row: dict[str, Any] = {
            "month": m,
            "covered": "yes" if covered[m] else "partial" if partial else "no",
            "incidents": (
                f"{len(part)} (partial)" if partial else len(part) if known else NOT_COVERED
            ),
        }
        for spec in DURATIONS.values():
            for clock, column in zip(CLOCKS, spec.columns, strict=True):
                values = part[column].dropna().astype(float)
                for stat, value in quantiles(values).items():
                    shown = value if known and len(values) else None
                    row[spec.comparison_column(stat, clock)] = shown
        rows.append(row)
    return pd.DataFrame(rows).round(2)


def _each_service(current: pd.DataFrame, several: pd.DataFrame) -> pd.DataFrame:
    """The month's incidents one row per service (ticket_id, service): an incident whose
    service field holds several (`several`: quality.values_held) under each of them."""
    held = several.loc[several["ticket_id"].isin(current["ticket_id"])]
    one = current.loc[~current["ticket_id"].isin(held["ticket_id"]), ["ticket_id", "service"]]
    return pd.concat([one, held.rename(columns={"value": "service"})], ignore_index=True)


def _findings_tables(
    findings: pd.DataFrame, each: pd.DataFrame, unobservable: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Findings per rule, and per service (rows) and rule (columns), from `each`, the
    findings one row per service of their incident; a rule that could not see says so,
    never a clean 0."""
    by_rule = findings.groupby("rule").size().rename("findings").reset_index()
    by_service = (
        each.pivot_table(index="service", columns="rule", aggfunc="size", fill_value=0)
        .reset_index()
        .rename_axis(columns=None)
        if len(each)
        else pd.DataFrame({"service": pd.Series(dtype="object")})
    )
    if unobservable:
        blind = pd.DataFrame({"rule": list(unobservable), "findings": list(unobservable.values())})
        by_rule = pd.concat([by_rule.astype({"findings": object}), blind], ignore_index=True)
        if len(by_service):
            by_service = by_service.assign(**dict.fromkeys(unobservable, NOT_OBSERVABLE))
    return by_rule, by_service


def _incident_list(
    context: Context, current: pd.DataFrame, findings: pd.DataFrame, reports: Path
) -> pd.DataFrame:
    """The month's incidents, one line each: state, time to resolve, findings, review."""
    per_ticket = findings.groupby("ticket_id").size()
    incident_list = pd.DataFrame(
        {
            "ticket": current["ticket_id"],
            "subject": current["subject"],
            "service": current["service"],
            "classification": current["classification"],
            "opened": [local_time(a, context.config) for a in current["opened_at"]],
            "state": current["still_open"].map({True: "still open", False: "resolved"}),
            "time to resolve (h)": current["time_to_resolve_h"].round(2),
            "open so far (h)": current["open_so_far_h"].round(2),
            "findings": current["ticket_id"].map(per_ticket).fillna(0).astype(int),
        }
    )
    states = review_states(context, reports, current["ticket_id"])
    incident_list["review"] = current["ticket_id"].map(review_words(states)).to_numpy()
    incident_list["signed off"] = current["ticket_id"].map(states["review_signed"]).to_numpy()
    return incident_list


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


PAGE = Page(
    name="monthly",
    title="Monthly report",
    template="monthly_report.ipynb",
    data=monthly_report_data,
    per="month",
    output="{month}/monthly.ipynb",
    job="monthly report {month}",
    depends=("months", "reviews"),
    order=20,
)
