"""Commands that print tables: metrics, stats, sla, gaps, support-gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from review.cli.common import (
    DAY,
    check_data,
    cli,
    config_option,
    emit,
    format_option,
    open_context,
    output_option,
    partial_option,
    registry_option,
    snapshot_option,
    strict_option,
    today_option,
    warn_partial,
)
from review.pages.terminal import fit_text
from review.settings.config import load_config, with_registry


@cli.command()
@snapshot_option
@strict_option
@config_option
@format_option
@output_option
def metrics(snapshot_dir: Path, config_path: Path | None, fmt: str, output: Path | None) -> None:
    """One row of metrics per incident (definitions: README, section Metrics)."""
    from review.analysis.metrics import definitions, format_metrics

    config = load_config(config_path)
    digits = 2 if fmt == "table" else None  # files for machines keep full precision
    context = open_context(snapshot_dir, config)
    check_data(context)
    table = format_metrics(context.metrics, digits)
    emit(table, fmt, output)
    if fmt == "table" and output is None:
        click.echo("\nDefinitions:")
        for name, words in definitions(config).items():
            click.echo(fit_text(f"{name}: {words}", indent="  "))


@cli.command()
@click.option(
    "--month",
    required=True,
    help="YYYY-MM, or 'previous' for the month before today (for cron).",
)
@click.option(
    "--compare",
    type=click.IntRange(min=0, max=36),
    default=3,
    show_default=True,
    help="Also show this many months before it.",
)
@snapshot_option
@strict_option
@config_option
@format_option
@output_option
@partial_option
def stats(
    month: str, compare: int, snapshot_dir: Path, config_path: Path | None, fmt: str,
    output: Path | None, partial: bool,
) -> None:  # fmt: skip
    """Medians and p90s with 95% intervals, change from the month before, verdict.

    One row per month, metric and clock: what the monthly report shows (method: README,
    section Statistics). An interval too few incidents can back is empty, and its
    *_withheld column says why.
    """
    from review.analysis.stats import ADDED, COLUMNS
    from review.pages.reports import monthly_report, require_covered
    from review.settings.months import resolve_month

    month = resolve_month(month)
    context = open_context(snapshot_dir, load_config(config_path))
    check_data(context)
    warn_partial(require_covered(context.snapshot, month, context.config, compare, partial))
    report = monthly_report(context, month, compare)
    table = report.month_stats[[*COLUMNS, *ADDED]]
    if fmt == "table":
        numbers = [c for c in table.columns if c.endswith(("_h", "_low", "_high", "_geomean"))]
        numbers += ["log_spread", "mdc_pct"]
        table = table.astype({c: float for c in numbers}).round({c: 2 for c in numbers})
        table = table.round({"p_value": 4})
    emit(table, fmt, output)


@cli.command()
@snapshot_option
@strict_option
@config_option
@format_option
@output_option
def sla(snapshot_dir: Path, config_path: Path | None, fmt: str, output: Path | None) -> None:
    """Service levels after the fact: one row per incident with an SLA (README, section SLA).

    Deadlines from the [sla] levels of the config, else from the Due dates RT recorded;
    where both exist, rt_due_agrees says whether they agree.
    """
    from review.analysis.sla import format_sla

    context = open_context(snapshot_dir, load_config(config_path))
    check_data(context)
    table = context.sla
    if table.empty:
        click.echo(
            "note: no incident has a service level: set [sla] levels in the config, "
            "or pull from an RT that sets Due by %ServiceAgreements",
            err=True,
        )
    emit(format_sla(table, 2 if fmt == "table" else None), fmt, output)


@cli.command()
@snapshot_option
@strict_option
@config_option
@registry_option
@format_option
@output_option
def gaps(
    snapshot_dir: Path,
    config_path: Path | None,
    registry_path: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Close-out findings: one row per incident and rule (rules: README, Close-out audit)."""
    context = open_context(snapshot_dir, with_registry(load_config(config_path), registry_path))
    check_data(context)
    emit(context.findings, fmt, output)


@cli.command("support-gaps")
@snapshot_option
@strict_option
@config_option
@registry_option
@click.option(
    "--since",
    type=DAY,
    default=None,
    help="Count only incidents opened on or after this date (YYYY-MM-DD).",
)
@today_option
@format_option
@output_option
def support_gaps(
    snapshot_dir: Path,
    config_path: Path | None,
    registry_path: Path | None,
    since: Any,
    today: Any,
    fmt: str,
    output: Path | None,
) -> None:
    """Per service, for senior staff: findings by rule, gap age, action, stale registry entries."""
    from review.pages.reports.support import support_table

    context = open_context(snapshot_dir, with_registry(load_config(config_path), registry_path))
    check_data(context)
    day = since.date() if since else None
    emit(support_table(context, day, today.date() if today else None), fmt, output)
