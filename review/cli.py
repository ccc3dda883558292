"""The `review` command: parse arguments, call the package, print results.

User mistakes (a missing snapshot, a bad config line, an unreachable RT) end
in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import date
from pathlib import Path
from typing import Any, cast

import click
import numpy as np
import pandas as pd

from review import __version__
from review.errors import ReviewError
from review.pages.terminal import fit_table, fit_text
from review.settings.config import (
    NEW_SNAPSHOT,
    Config,
    cache_dir,
    is_bundled_sample,
    load_config,
    project_dir,
    sample_snapshot,
)
from review.snapshot import Snapshot, load_snapshot
from review.text import spreadsheet_safe


def _from_cwd(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """One path rule for every command: a relative path is read from the current directory
    (made absolute here, so code that reads it elsewhere, such as a notebook's, cannot
    read it from another place)."""
    return None if value is None else Path(value).absolute()


snapshot_option = click.option(
    "--snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=sample_snapshot,
    callback=_from_cwd,
    show_default="the bundled sample",
    help="Snapshot directory made by `review pull`.",
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    callback=_from_cwd,
    help="TOML config file (default: $REVIEW_CONFIG, else the documented defaults).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
output_option = click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file instead of standard output.",
)


registry_option = click.option(
    "--registry",
    "registry_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    callback=_from_cwd,
    help="Service registry file (default: gaps.registry in the config, data/services.yaml).",
)


today_option = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the gaps' ages and registry reviews are measured at (default: today, UTC).",
)


def open_snapshot(snapshot_dir: Path, config: Config) -> Snapshot:
    """Load a snapshot through the parquet cache and warn about rows that were left out."""
    snapshot = load_snapshot(snapshot_dir, cache_dir=cache_dir(config))
    warn_problems(snapshot, snapshot_dir)
    return snapshot


def warn_problems(snapshot: Snapshot, snapshot_dir: Path) -> None:
    """One warning line per row left out of the snapshot (the first 20), on stderr."""
    for problem in snapshot.problems[:20]:
        click.echo(f"warning: {snapshot_dir}{os.sep}{problem}", err=True)
    if len(snapshot.problems) > 20:
        click.echo(f"warning: ... and {len(snapshot.problems) - 20} more problems", err=True)


def emit(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
    """Print or save a frame as an aligned table, CSV or JSON records.

    CSV and JSON are for machines: numbers at full precision. Text is shown as text
    (review.text): escaped control characters in the table and CSV, formulas defused
    in CSV; JSON keeps it exactly.
    """
    if fmt == "csv":
        text = spreadsheet_safe(frame).to_csv(index=False)
    elif fmt == "json":
        text = json_records(frame)
    else:  # people: fitted to the terminal; a file gets the whole unwrapped table
        text = fit_table(frame, None if output is None else sys.maxsize)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, "utf-8")
        except OSError as exc:
            raise ReviewError(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"wrote {len(frame)} rows to {output}", err=True)


def json_records(frame: pd.DataFrame) -> str:
    """One JSON object per row: text exactly, numbers at full precision, missing as null."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")

    def plain(value: Any) -> Any:
        if isinstance(value, pd.Timestamp | date):
            return value.isoformat()
        if isinstance(value, np.generic):
            return value.item()
        return str(value)

    return json.dumps(records, indent=1, ensure_ascii=False, default=plain) + "\n"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="review")
def cli() -> None:
    """Incident analytics and post-incident reviews for problem response run in RT."""


@cli.command()
@snapshot_option
@config_option
@format_option
@output_option
def metrics(snapshot_dir: Path, config_path: Path | None, fmt: str, output: Path | None) -> None:
    """One row of metrics per incident (definitions: README, section Metrics)."""
    from review.analysis.metrics import definitions, format_metrics, metrics_for_snapshot

    config: Config = load_config(config_path)
    digits = 2 if fmt == "table" else None  # files for machines keep full precision
    table = format_metrics(
        metrics_for_snapshot(open_snapshot(snapshot_dir, config), config), digits
    )
    emit(table, fmt, output)
    if fmt == "table" and output is None:
        click.echo("\nDefinitions:")
        for name, words in definitions(config).items():
            click.echo(fit_text(f"{name}: {words}", indent="  "))


# --------------------------------------------------------------------------- reports and notebooks

out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="[paths] reports in the config: reports",
    help="Where the notebooks, HTML and index.html go (reports/YYYY-MM/incident-N.html ...).",
)
jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks rendered in parallel (default: the number of cores).",
)
force_option = click.option(
    "--force", is_flag=True, help="Render even the notebooks whose inputs have not changed."
)


mail_to_option = click.option(
    "--mail-to",
    "mail_to",
    multiple=True,
    help="Mail the report to this address (repeatable; default: [mail] to, else no mail). "
    "Sent only when the report is new since the last mail.",
)


def _mail_recipients(mail_to: tuple[str, ...], config: Config) -> list[str]:
    """The recipients, checked before anything is rendered (with the From address)."""
    from review.delivery import mail

    to = mail.recipients(mail_to, config.mail)
    if to:
        mail.check_sender(config.mail)
    return to


def _mail_report(
    out: Path, notebook: Path, to: list[str], subject: str, summary: Any, config: Config
) -> None:
    """Mail the rendered HTML (inline), summary (text) and notebook if not mailed before."""
    from review.delivery import mail

    html = notebook.with_suffix(".html")
    if not to or not html.is_file() or not mail.is_new(out, html, to):
        return
    message = mail.report_message(
        subject=subject, summary=summary(), html_path=html, notebook_path=notebook,
        sender=config.mail.sender, to=to,
    )  # fmt: skip
    try:
        mail.send(message, config.mail)
    except mail.MailError as exc:
        raise mail.MailError(f"{exc}; the rendered report stays in {html}") from None
    mail.record_sent(out, html, to)


def _finish(result: Any, out: Path, quiet: bool = False) -> None:
    """Print the failures (one line each) and exit non-zero if there were any."""
    from review.pages import render as rendering

    for line in rendering.result_lines(result):
        click.echo(line, err=True)
    if not quiet or result.failures:
        click.echo(f"{rendering.summary(result)}; index: {out / 'index.html'}", err=True)
    if not result.ok:
        raise ReviewError(f"{rendering.problems(result)} (listed above); the others were written")


partial_option = click.option(
    "--partial",
    is_flag=True,
    help="Render a month the snapshot does not wholly cover; the report says it is partial.",
)


@cli.command()
@click.argument("tickets", nargs=-1, type=int)
@click.option("--month", help="Every incident opened in this month (YYYY-MM or 'previous').")
@click.option("--all", "all_incidents", is_flag=True, help="Every incident in the snapshot.")
@snapshot_option
@config_option
@out_option
@click.option("--html", is_flag=True, help="Also write HTML without code, for email.")
@jobs_option
@force_option
@click.option(
    "--template",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="A site's own incident template (default: notebooks/incident_review.ipynb).",
)
@partial_option
def render(
    tickets: tuple[int, ...],
    month: str | None,
    all_incidents: bool,
    snapshot_dir: Path,
    config_path: Path | None,
    out: Path | None,
    html: bool,
    jobs: int | None,
    force: bool,
    template: Path | None,
    partial: bool,
) -> None:
    """Render post-incident review notebooks: TICKET..., --month YYYY-MM or --all."""
    from review.pages import render as rendering
    from review.pages.reports import require_covered
    from review.settings.months import resolve_month

    if sum((bool(tickets), month is not None, all_incidents)) != 1:
        raise click.UsageError("give ticket ids, --month YYYY-MM or --all (exactly one)")
    inputs = rendering.load_inputs(snapshot_dir, config_path)
    warn_problems(inputs.snapshot, snapshot_dir)
    out = out or inputs.config.paths.reports
    if month is not None:
        month = resolve_month(month)
        if not partial:
            require_covered(inputs.snapshot, month, inputs.config)
        ids = rendering.month_ticket_ids(inputs, month)
    elif all_incidents:
        ids = sorted(int(t) for t in inputs.metrics_month.index)
    else:
        ids = list(tickets)
    if not ids:
        which = f"opened in {month}" if month is not None else "at all"
        click.echo(
            f"no incidents {which} in the snapshot {snapshot_dir}: nothing to render", err=True
        )
        return
    batch = rendering.incident_jobs(inputs, ids, out, html, template)
    with rendering.batch_lock(out):
        result = rendering.run_batch(batch, out, workers=jobs, force=force)
        rendering.write_index(out, inputs, result)
    _finish(result, out)


@cli.command()
@click.option(
    "--month",
    required=True,
    help="YYYY-MM, or 'previous' for the month before today (for cron).",
)
@snapshot_option
@config_option
@out_option
@jobs_option
@force_option
@mail_to_option
@partial_option
def report(
    month: str,
    snapshot_dir: Path,
    config_path: Path | None,
    out: Path | None,
    jobs: int | None,
    force: bool,
    mail_to: tuple[str, ...],
    partial: bool,
) -> None:
    """The monthly report (and the month's incident reviews it links to), as HTML.

    Safe to run from cron: unchanged inputs render nothing, output files are replaced
    atomically, and it prints nothing unless something fails.
    """
    from review.pages import render as rendering
    from review.pages.reports import monthly_report_data, require_covered
    from review.settings.months import resolve_month

    month = resolve_month(month)
    to = _mail_recipients(mail_to, load_config(config_path))
    inputs = rendering.load_inputs(snapshot_dir, config_path)
    warn_problems(inputs.snapshot, snapshot_dir)
    if not partial:
        require_covered(inputs.snapshot, month, inputs.config)
    out = out or inputs.config.paths.reports
    batch = rendering.incident_jobs(inputs, rendering.month_ticket_ids(inputs, month), out, True)
    monthly = rendering.monthly_job(inputs, month, out)
    batch.append(monthly)
    with rendering.batch_lock(out):
        result = rendering.run_batch(batch, out, workers=jobs, force=force)
        rendering.write_index(out, inputs, result)
        _finish(result, out, quiet=True)
        _mail_report(
            out, monthly.output, to, f"Incident report {month}",
            lambda: monthly_report_data(snapshot_dir, month, config_path).summary,
            inputs.config,
        )  # fmt: skip


@cli.command("support-report")
@snapshot_option
@config_option
@out_option
@registry_option
@click.option("--since", default=None, help="Only incidents opened on or after this date.")
@today_option
@force_option
@mail_to_option
def support_report(
    snapshot_dir: Path, config_path: Path | None, out: Path | None, registry_path: Path | None,
    since: str | None, today: Any, force: bool, mail_to: tuple[str, ...],
) -> None:  # fmt: skip
    """The support-assignment gap report for senior staff, as a notebook and HTML."""
    from review.pages import render as rendering
    from review.pages.reports import support_gaps_data
    from review.settings.months import parse_date

    parse_date(since, "--since")
    to = _mail_recipients(mail_to, load_config(config_path))
    inputs = rendering.load_inputs(snapshot_dir, config_path)
    warn_problems(inputs.snapshot, snapshot_dir)
    out = out or inputs.config.paths.reports
    if registry_path is not None and not registry_path.is_file():
        raise ReviewError(f"--registry {registry_path}: no such file")
    day = today.strftime("%Y-%m-%d") if today else None
    job = rendering.support_job(inputs, out, since, day, registry_path)
    with rendering.batch_lock(out):
        result = rendering.run_batch([job], out, workers=1, force=force)
        rendering.write_index(out, inputs, result)
        _finish(result, out)
        _mail_report(
            out, job.output, to, "Support-assignment gaps",
            lambda: support_gaps_data(
                snapshot_dir, config_path, since, day, registry_path
            ).summary,
            inputs.config,
        )  # fmt: skip


@cli.command()
@out_option
@jobs_option
@force_option
def demo(out: Path | None, jobs: int | None, force: bool) -> None:
    """Render everything for the bundled sample: reviews, monthly reports, gap report, index."""
    from review.pages import render as rendering

    inputs = rendering.load_inputs(sample_snapshot(), None)
    warn_problems(inputs.snapshot, sample_snapshot())
    out = out or inputs.config.paths.reports
    ids = sorted(int(t) for t in inputs.metrics_month.index)
    batch = rendering.incident_jobs(inputs, ids, out, True)
    batch += [rendering.monthly_job(inputs, m, out) for m in sorted(set(inputs.metrics_month))]
    batch.append(rendering.support_job(inputs, out))
    with rendering.batch_lock(out):
        result = rendering.run_batch(batch, out, workers=jobs, force=force)
        index = rendering.write_index(out, inputs, result)
    _finish(result, out)
    click.echo(f"open {index}")


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
    from review.pages.reports import monthly_report_data, require_covered
    from review.settings.months import resolve_month

    month = resolve_month(month)
    config = load_config(config_path)
    snapshot = open_snapshot(snapshot_dir, config)
    if not partial:
        require_covered(snapshot, month, config, compare)
    report = monthly_report_data(snapshot_dir, month, config_path, compare)
    table = report.month_stats[[*COLUMNS, *ADDED]]
    if fmt == "table":
        numbers = [c for c in table.columns if c.endswith(("_h", "_low", "_high", "_geomean"))]
        numbers += ["log_spread", "mdc_pct"]
        table = table.astype({c: float for c in numbers}).round({c: 2 for c in numbers})
        table = table.round({"p_value": 4})
    emit(table, fmt, output)


@cli.command()
@snapshot_option
@config_option
@format_option
@output_option
def sla(snapshot_dir: Path, config_path: Path | None, fmt: str, output: Path | None) -> None:
    """Service levels after the fact: one row per incident with an SLA (README, section SLA).

    Deadlines from the [sla] levels of the config, else from the Due dates RT recorded;
    where both exist, rt_due_agrees says whether they agree.
    """
    from review.analysis.sla import format_sla, sla_table

    config = load_config(config_path)
    table = sla_table(open_snapshot(snapshot_dir, config), config)
    if table.empty:
        click.echo(
            "note: no incident has a service level: set [sla] levels in the config, "
            "or pull from an RT that sets Due by %ServiceAgreements",
            err=True,
        )
    emit(format_sla(table, 2 if fmt == "table" else None), fmt, output)


@cli.command()
@click.argument("ticket", required=False, type=int)
@click.option("--month", help="The monthly report of this month (YYYY-MM or 'previous').")
@snapshot_option
@config_option
@out_option
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: a free one.")
@click.option("--browser/--no-browser", default=True, help="Open a web browser on the notebook.")
def lab(
    ticket: int | None,
    month: str | None,
    snapshot_dir: Path,
    config_path: Path | None,
    out: Path | None,
    port: int | None,
    browser: bool,
) -> None:
    """JupyterLab on a working copy of a review (or a monthly report) under --out.

    Opens the rendered notebook, or a fresh copy of the template with the parameters
    filled in; never the templates in notebooks/. Ctrl-C stops it.
    """
    from review.pages import lab as jupyter
    from review.pages import render as rendering
    from review.settings.months import resolve_month

    if ticket is not None and month is not None:
        raise click.UsageError("give a ticket id or --month, not both")
    out = out or load_config(config_path).paths.reports
    open_path = ""
    if ticket is not None or month is not None:
        inputs = rendering.load_inputs(snapshot_dir, config_path)
        if ticket is not None:
            job = rendering.incident_jobs(inputs, [ticket], out, html=False)[0]
        else:
            job = rendering.monthly_job(inputs, resolve_month(str(month)), out)
        path, fresh = jupyter.working_copy(job)
        open_path = path.relative_to(out).as_posix()
        made = "a fresh copy of the template, to run" if fresh else "already there"
        click.echo(f"opening {path} ({made})", err=True)
    out.mkdir(parents=True, exist_ok=True)
    process, url = jupyter.start(out, open_path, port=port, browser=browser)
    click.echo(url)
    click.echo("JupyterLab is running; Ctrl-C stops it.", err=True)
    # `kill` or a closed terminal must stop JupyterLab too, not leave it serving orphaned.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        jupyter.stop(process)


def _interrupt(signum: int, frame: object) -> None:
    """A stop signal, handled like Ctrl-C so `finally` blocks clean up."""
    raise KeyboardInterrupt


def _audit_inputs(
    snapshot_dir: Path, config_path: Path | None, registry_path: Path | None
) -> tuple[Any, ...]:
    """Config, registry, snapshot, events and metrics: what both gap commands start from."""
    from review.analysis.metrics import compute_metrics
    from review.analysis.timeline import build_events
    from review.closeout.registry import load_registry

    config: Config = load_config(config_path)
    registry = load_registry(registry_path or config.gaps.registry)
    snapshot = open_snapshot(snapshot_dir, config)
    events = build_events(snapshot, config)
    return config, registry, snapshot, events, compute_metrics(events, snapshot, config)


@cli.command()
@snapshot_option
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
    from review.closeout.gaps import find_gaps

    config, registry, snapshot, events, metrics = _audit_inputs(
        snapshot_dir, config_path, registry_path
    )
    emit(find_gaps(events, snapshot, config, registry, metrics), fmt, output)


@cli.command("support-gaps")
@snapshot_option
@config_option
@registry_option
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
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
    from review.closeout import recurrence
    from review.closeout.gaps import find_gaps
    from review.closeout.gaps import support_gaps as summarise

    config, registry, snapshot, events, metrics = _audit_inputs(
        snapshot_dir, config_path, registry_path
    )
    findings = find_gaps(events, snapshot, config, registry, metrics)
    day = since.date() if since else None
    table = summarise(
        findings, metrics, registry, config, since=day, today=today.date() if today else None
    )
    found = recurrence.opened_since(recurrence.recurrences(snapshot, config, registry), day)
    emit(recurrence.with_recurrence_counts(table, found), fmt, output)


@cli.command("follow-ups")
@snapshot_option
@config_option
@registry_option
@click.option("--apply", "do_apply", is_flag=True, help="Write to RT (default: print the plan).")
@click.option(
    "--rule",
    "rules",
    multiple=True,
    help="Only this rule (repeatable; default: every rule).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only incidents opened on or after this date (YYYY-MM-DD, UTC).",
)
def follow_ups(
    snapshot_dir: Path, config_path: Path | None, registry_path: Path | None, do_apply: bool,
    rules: tuple[str, ...], since: Any,
) -> None:  # fmt: skip
    """Close-out findings -> follow-up tickets in RT ([followups] queue); dry run by default.

    Connection: RT_URL (or [rt] url), and RT_TOKEN or RT_USER/RT_PASSWORD.
    """
    from datetime import UTC

    from review.closeout import followups as fu
    from review.closeout.audit import incident_services
    from review.closeout.gaps import find_gaps
    from review.closeout.rules import RULES
    from review.rt.client import RTClient, connection_from

    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ReviewError(f"unknown rule {unknown[0]!r}; rules: {', '.join(RULES)}")
    config, registry, snapshot, events, metrics = _audit_inputs(
        snapshot_dir, config_path, registry_path
    )
    findings = find_gaps(events, snapshot, config, registry, metrics)
    services = incident_services(metrics, registry)["service"]
    found, in_scope, scope_services = fu.scope_of(
        findings, metrics, services, rules or list(RULES),
        since.replace(tzinfo=UTC) if since else None,
    )  # fmt: skip
    opened = metrics.set_index("ticket_id")["opened_at"]
    label = f"the snapshot pulled at {snapshot.manifest.get('pulled_at', '?')}"
    queue = config.followups.queue
    with RTClient(connection_from(config.rt)) as client:
        rt_web = fu.rt_web_url(client.conn.url)
        wanted = fu.wanted_followups(
            found, opened, config, fu.review_links(opened, config), rt_web, label
        )
        existing = fu.followup_frame(fu.fetch_followups(client, queue))
        plan = fu.make_plan(
            wanted, existing, in_scope, scope_services, rules or list(RULES),
            config.statuses.inactive, label,
        )  # fmt: skip
        for step in plan.steps:
            click.echo(step.line())
        counts = ", ".join(f"{plan.count(v)} to {v}" for v in ("create", "update", "leave"))
        if plan.unmapped:
            click.echo(
                "unmapped action owners (their follow-ups stay owned by Nobody; map them under "
                f"[followups.owners]): {'; '.join(plan.unmapped)}",
                err=True,
            )
        if not do_apply:
            click.echo(f"plan: {counts} in queue '{queue}' (dry run: --apply to do it)", err=True)
            return
        done: list[str] = []
        try:
            for step in plan.steps:
                if step.verb != "leave":
                    fu.apply_step(client, step, queue, done)
        finally:
            for line in done:
                click.echo(line, err=True)
        for warning in fu.check_after(client, plan, queue):
            click.echo(f"warning: {warning}", err=True)
    click.echo(f"done: {counts.replace(' to ', ' ')} in queue '{queue}'", err=True)


@cli.command()
@snapshot_option
@config_option
@registry_option
@click.option("--apply", "do_apply", is_flag=True, help="Send the mail (default: print the plan).")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date registry reviews are due at (default: today, UTC).",
)
def remind(
    snapshot_dir: Path, config_path: Path | None, registry_path: Path | None, do_apply: bool,
    today: Any,
) -> None:  # fmt: skip
    """Mail each owner a digest of overdue follow-ups and registry entries due for review.

    Follow-ups as the snapshot's pull saw them; a dry run by default. What was delivered
    is recorded in [paths] reports/.remind-state.json: a run sends a digest only to who
    has not had that text today, so a re-run after a failure sends only what failed.
    """
    from datetime import UTC, datetime

    from review.closeout.registry import load_registry
    from review.delivery import mail
    from review.delivery.remind import LOCK_FILE, STATE_FILE, deliver, delivered, digests
    from review.locks import exclusive
    from review.text import one_line

    config = load_config(config_path)
    registry = load_registry(registry_path or config.gaps.registry)
    snapshot = open_snapshot(snapshot_dir, config)
    day = today.date() if today else datetime.now(UTC).date()
    plan, warnings = digests(snapshot, registry, config, day)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    unsent = [d for d in plan if not d.to]
    out = config.paths.reports
    for digest in plan:
        what = digest.subject.split(": ", 1)[1]
        if not digest.to:
            click.echo(f"no address {one_line(digest.owner)}: {what}")
        elif not do_apply:
            owner = one_line(digest.owner)
            before = delivered(digest, config, day, out)
            if before:
                click.echo(f"already sent {', '.join(before)} ({owner}) today: {what}")
            if len(before) < len(digest.to):
                rest = [a for a in digest.to if a not in before]
                click.echo(f"would send {', '.join(rest)} ({owner}): {what}")
    failed = 0
    if do_apply and len(unsent) < len(plan):
        mail.check_sender(config.mail)
        busy = f"another `review remind --apply` is sending ({out / LOCK_FILE}); wait for it"
        with exclusive(out / LOCK_FILE, busy):
            for outcome in deliver(plan, config, day, out):
                owner = one_line(outcome.digest.owner)
                what = outcome.digest.subject.split(": ", 1)[1]
                if outcome.before:
                    click.echo(f"already sent {', '.join(outcome.before)} ({owner}) today: {what}")
                if outcome.sent:
                    click.echo(f"sent {', '.join(outcome.sent)} ({owner}): {what}")
                if outcome.error:
                    failed += 1
                    click.echo(f"error: {owner}: {outcome.error}", err=True)
    if not plan:
        click.echo("nothing to remind: no overdue follow-ups, no registry entry due", err=True)
    elif not do_apply:
        click.echo(f"dry run: {len(plan)} digest(s); --apply sends them", err=True)
    problems = []
    if failed:
        problems.append(
            f"{failed} digest(s) not delivered to everyone (listed above); what was sent is "
            f"recorded in {config.paths.reports / STATE_FILE}: run again to send only the rest"
        )
    if unsent and do_apply:
        problems.append(
            f"no address for {', '.join(one_line(d.owner) for d in unsent)}: set [mail] to (the "
            "default recipients) or map owners to RT users with an email address under "
            "[followups.owners]"
        )
    if problems:
        raise ReviewError("; ".join(problems))


@cli.command()
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First day (UTC) of the window in which tickets reached an inactive status.",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Day after the window (exclusive, UTC).",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="Queue to pull (repeatable). Default: the configured ops and developer queues.",
)
@click.option(
    "--snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    callback=_from_cwd,
    help="Snapshot directory. Default: data/interim/rt-SINCE_UNTIL.",
)
@click.option("--full", is_flag=True, help="Pull everything again instead of only what changed.")
@click.option(
    "--history",
    type=click.Choice(["auto", "bulk", "per-ticket"]),
    default="auto",
    show_default=True,
    help="Bulk transactions search (RT >= 5.0.2) or one history listing per ticket.",
)
@config_option
def pull(
    since: Any, until: Any, queues: tuple[str, ...], snapshot_dir: Path | None, full: bool,
    history: str, config_path: Path | None,
) -> None:  # fmt: skip
    """Pull closed tickets, their history, queues and users from RT into a snapshot.

    Connection: RT_URL (or [rt] url), and RT_TOKEN or RT_USER/RT_PASSWORD.
    """
    from datetime import UTC

    from review.rt.client import RTClient, connection_from
    from review.rt.pull import History, Window
    from review.rt.pull import pull as run_pull

    config = load_config(config_path)
    start, end = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
    if end <= start:
        raise ReviewError("--until must be later than --since")
    window = Window(
        start, end, queues or config.queues.ops + config.queues.developer, config.statuses.inactive
    )
    target = (
        snapshot_dir or project_dir() / "data" / "interim" / f"rt-{start:%Y-%m-%d}_{end:%Y-%m-%d}"
    )
    if is_bundled_sample(target):
        raise ReviewError(
            f"--snapshot {target} is the bundled sample, which a pull never replaces: "
            f"give a new directory, e.g. --snapshot {NEW_SNAPSHOT}"
        )
    with RTClient(connection_from(config.rt)) as client:
        report = run_pull(
            client, window, target, history=cast(History, history), full=full,
            followup_queue=config.followups.queue,
        )  # fmt: skip
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"{report.mode} pull: {report.tickets} tickets, {report.transactions} transactions "
        f"({report.changed} tickets fetched, {report.history} history) in {report.requests} "
        f"requests -> {report.snapshot}",
        err=True,
    )


# ------------------------------------------------------------------------ review status, sign-off


def _review_file(ticket: int, out: Path | None, config: Config) -> Path:
    """The review file of `ticket` under --out (default: the config's reports folder)."""
    from review.pages import written

    return written.review_path(out or config.paths.reports, ticket)


def _data_digest(ticket: int, snapshot_dir: Path, config: Config) -> str:
    from review.pages import signoff as so

    return so.data_digest(open_snapshot(snapshot_dir, config), ticket, config.publish.status_field)


@cli.command()
@click.argument("ticket", type=int)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["service-owner", "business-owner"]),
    help="Whose agreement this is (the process asks both owners).",
)
@click.option("--name", required=True, help="Who signs off, as they want to be named.")
@snapshot_option
@config_option
@out_option
def signoff(
    ticket: int, role: str, name: str, snapshot_dir: Path, config_path: Path | None,
    out: Path | None,
) -> None:  # fmt: skip
    """Record an owner's sign-off of an incident's review (who, when, and the data they saw).

    A draft review goes to "in review". Signing again replaces that role's sign-off.
    """
    from review.pages import signoff as so
    from review.pages import written

    config = load_config(config_path)
    data = _data_digest(ticket, snapshot_dir, config)
    path = _review_file(ticket, out, config)
    review = written.update(path, ticket, lambda r: so.sign(r, role, name, data))
    for line in so.describe(review, data):
        click.echo(line)
    click.echo(f"recorded in {path}", err=True)


@cli.command()
@click.argument("ticket", type=int)
@click.argument(
    "new_status", metavar="[STATUS]", required=False,
    type=click.Choice(["draft", "in-review", "final"]),
)  # fmt: skip
@snapshot_option
@config_option
@out_option
def status(
    ticket: int, new_status: str | None, snapshot_dir: Path, config_path: Path | None,
    out: Path | None,
) -> None:  # fmt: skip
    """Show an incident's review status and sign-offs, or set it: draft, in-review or final.

    Final needs the sign-off of both owners (review signoff). Says when the incident's data
    or the written text changed since they signed.
    """
    from review.pages import signoff as so
    from review.pages import written

    config = load_config(config_path)
    data = _data_digest(ticket, snapshot_dir, config)
    path = _review_file(ticket, out, config)
    if new_status is None:
        review = written.load(path, ticket)
    else:
        review = written.update(path, ticket, lambda r: so.set_status(r, new_status))
    for line in so.describe(review, data):
        click.echo(line)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line; ReviewError becomes one line on stderr and exit status 1."""
    try:
        return cli.main(args=argv, prog_name="review", standalone_mode=False)
    except ReviewError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; nothing already written was lost", err=True)
        sys.exit(130)
