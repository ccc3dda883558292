"""Commands that render pages: render, report, support-report, demo, lab."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from review.cli.common import (
    check_data,
    cli,
    config_option,
    force_option,
    jobs_option,
    mail_to_option,
    out_option,
    partial_option,
    registry_option,
    snapshot_option,
    strict_option,
    today_option,
    warn_partial,
    warn_problems,
)
from review.errors import ReviewError
from review.settings.config import Config, load_config, sample_snapshot
from review.settings.utc import DAY_FORMAT


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
    to = mail.pending(out, html, to) if html.is_file() else []
    if not to:
        return
    message = mail.report_message(
        subject=subject, summary=summary(), html_path=html, notebook_path=notebook,
        sender=config.mail.sender, to=to,
    )  # fmt: skip
    prepared = mail.prepare_sent(out, html, to)  # a record that cannot be written: not sent
    try:
        mail.send(message, config.mail)
    except mail.MailError as exc:
        prepared.unlink(missing_ok=True)
        if exc.accepted:  # those who got it are not mailed again by the re-run
            mail.record_sent(out, html, exc.accepted)
        raise mail.MailError(f"{exc}; the rendered report stays in {html}") from None
    mail.commit(out, html, to, prepared)


def _finish(result: Any, out: Path, quiet: bool = False) -> None:
    """Print the failures (one line each) and exit non-zero if there were any."""
    from review.pages import render as rendering

    for line in rendering.result_lines(result):
        click.echo(line, err=True)
    if not quiet or result.failures:
        click.echo(f"{rendering.summary(result)}; index: {out / 'index.html'}", err=True)
    if not result.ok:
        raise ReviewError(f"{rendering.problems(result)} (listed above); the others were written")


@cli.command()
@click.argument("tickets", nargs=-1, type=int)
@click.option("--month", help="Every incident opened in this month (YYYY-MM or 'previous').")
@click.option("--all", "all_incidents", is_flag=True, help="Every incident in the snapshot.")
@snapshot_option
@strict_option
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
    check_data(inputs.context)
    out = out or inputs.config.paths.reports
    if month is not None:
        month = resolve_month(month)
        warn_partial(require_covered(inputs.snapshot, month, inputs.config, partial=partial))
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
@strict_option
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
    from review.pages.reports import PAGES, monthly_report, require_covered
    from review.settings.months import resolve_month

    month = resolve_month(month)
    to = _mail_recipients(mail_to, load_config(config_path))
    inputs = rendering.load_inputs(snapshot_dir, config_path)
    warn_problems(inputs.snapshot, snapshot_dir)
    check_data(inputs.context)
    warn_partial(require_covered(inputs.snapshot, month, inputs.config, partial=partial))
    out = out or inputs.config.paths.reports
    batch = rendering.incident_jobs(inputs, rendering.month_ticket_ids(inputs, month), out, True)
    monthly = rendering.page_job(inputs, PAGES["monthly"], out, month)
    batch.append(monthly)
    with rendering.batch_lock(out):
        result = rendering.run_batch(batch, out, workers=jobs, force=force)
        rendering.write_index(out, inputs, result)
        _finish(result, out, quiet=True)
        _mail_report(
            out, monthly.output, to, f"Incident report {month}",
            lambda: monthly_report(inputs.context, month).summary,
            inputs.config,
        )  # fmt: skip


@cli.command("support-report")
@snapshot_option
@strict_option
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
    from review.pages.reports import PAGES, support_gaps_report
    from review.settings.months import parse_date

    since_day = parse_date(since, "--since")
    to = _mail_recipients(mail_to, load_config(config_path))
    inputs = rendering.load_inputs(snapshot_dir, config_path)
    warn_problems(inputs.snapshot, snapshot_dir)
    out = out or inputs.config.paths.reports
    if registry_path is not None and not registry_path.is_file():
        raise ReviewError(f"--registry {registry_path}: no such file")
    check_data(inputs.context_with(registry_path))
    day = today.strftime(DAY_FORMAT) if today else None
    job = rendering.page_job(
        inputs, PAGES["support-gaps"], out, since=since, today=day, registry=registry_path
    )
    with rendering.batch_lock(out):
        result = rendering.run_batch([job], out, workers=1, force=force)
        rendering.write_index(out, inputs, result)
        _finish(result, out)
        _mail_report(
            out, job.output, to, "Support-assignment gaps",
            lambda: support_gaps_report(
                inputs.context_with(registry_path), since_day, today.date() if today else None
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
    check_data(inputs.context)
    out = out or inputs.config.paths.reports
    batch = rendering.all_jobs(inputs, out)
    with rendering.batch_lock(out):
        result = rendering.run_batch(batch, out, workers=jobs, force=force)
        index = rendering.write_index(out, inputs, result)
    _finish(result, out)
    click.echo(f"open {index}")


@cli.command()
@click.argument("ticket", required=False, type=int)
@click.option("--month", help="The monthly report of this month (YYYY-MM or 'previous').")
@snapshot_option
@strict_option
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
    from review.pages.reports import PAGES
    from review.settings.months import resolve_month

    if ticket is not None and month is not None:
        raise click.UsageError("give a ticket id or --month, not both")
    out = out or load_config(config_path).paths.reports
    open_path = ""
    if ticket is not None or month is not None:
        inputs = rendering.load_inputs(snapshot_dir, config_path)
        check_data(inputs.context)
        if ticket is not None:
            job = rendering.incident_jobs(inputs, [ticket], out, html=False)[0]
        else:
            job = rendering.page_job(inputs, PAGES["monthly"], out, resolve_month(str(month)))
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
