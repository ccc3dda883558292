"""Commands that talk to RT or mail people: pull, follow-ups, remind."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from review.cli.common import (
    DAY,
    cli,
    config_option,
    from_cwd,
    open_context,
    out_option,
    registry_option,
    snapshot_option,
    strict_option,
)
from review.errors import ReviewError
from review.settings.config import (
    NEW_SNAPSHOT,
    is_bundled_sample,
    load_config,
    project_dir,
    with_registry,
)
from review.settings.sections import DELETED
from review.settings.utc import DAY_FORMAT

if TYPE_CHECKING:
    from datetime import date

    from review.closeout.followups import Plan
    from review.context import Context
    from review.delivery.remind import Digest
    from review.rt.client import RTClient
    from review.settings.config import Config


@cli.command("follow-ups")
@snapshot_option
@strict_option
@config_option
@registry_option
@click.option("--apply", "do_apply", is_flag=True, help="Write to RT (default: print the plan).")
@click.option(
    "--rule",
    "rules",
    multiple=True,
    help="Only this rule (repeatable; 'action': the actions the reviews list; default: every "
    "rule and the actions).",
)
@click.option(
    "--since",
    type=DAY,
    default=None,
    help="Only incidents opened on or after this date (YYYY-MM-DD, UTC).",
)
@out_option
def follow_ups(
    snapshot_dir: Path, config_path: Path | None, registry_path: Path | None, do_apply: bool,
    rules: tuple[str, ...], since: Any, out: Path | None,
) -> None:  # fmt: skip
    """Close-out findings and the actions a review lists -> follow-up tickets in RT
    ([followups] queue); dry run by default.

    The actions come from each review's written "actions" section under --out
    (reports/reviews/incident-N.json), one per line: "- OWNER: what to do".

    Connection: RT_URL (or [rt] url), and RT_TOKEN or RT_USER/RT_PASSWORD.
    """
    from review.closeout import followups as fu
    from review.closeout.rules import RULES
    from review.locks import exclusive
    from review.rt.client import RTClient, connection_from

    unknown = [r for r in rules if r not in RULES and r != fu.ACTION]
    if unknown:
        raise ReviewError(f"unknown rule {unknown[0]!r}; rules: {', '.join(RULES)}, {fu.ACTION}")
    chosen = list(rules) if rules else [*RULES, fu.ACTION]
    context = open_context(snapshot_dir, with_registry(load_config(config_path), registry_path))
    config = context.config
    queue = config.followups.queue
    lock = config.paths.reports / ".followups.lock"
    busy = (
        f"another `review follow-ups --apply` is running ({lock}); wait for it to finish and "
        "run again"
    )
    # --apply: one run at a time from the plan's read of RT to the last write (cron and a
    # person overlap); the dry run writes nothing and needs no lock
    with (
        exclusive(lock, busy) if do_apply else nullcontext(),
        RTClient(connection_from(config.rt)) as client,
    ):
        plan = _followup_plan(context, client, chosen, since, out or config.paths.reports)
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
        _apply_plan(client, plan, queue)
    click.echo(f"done: {counts.replace(' to ', ' ')} in queue '{queue}'", err=True)


def _followup_plan(
    context: Context, client: RTClient, rules: list[str], since: Any, out: Path
) -> Plan:
    """What to create, update and leave in RT for the findings of `rules` since `since`, and
    for the actions the reviews under `out` list (when `rules` has fu.ACTION)."""
    from datetime import UTC

    from review.closeout import followups as fu
    from review.closeout.audit import incident_services

    config, metrics = context.config, context.metrics
    services = incident_services(metrics, context.registry)["service"]
    found, in_scope, scope_services = fu.scope_of(
        context.findings, metrics, services, rules, since.replace(tzinfo=UTC) if since else None
    )
    opened = metrics.set_index("ticket_id")["opened_at"]
    actions, reviews_read = (
        review_actions(out, in_scope) if fu.ACTION in rules else (fu.empty_actions(), set())
    )
    label = f"the snapshot pulled at {context.snapshot.manifest.get('pulled_at', '?')}"
    rt_web = fu.rt_web_url(client.conn.url)
    links = fu.review_links(opened, config)
    wanted = fu.wanted_followups(found, opened, config, links, rt_web, label)
    wanted += fu.wanted_actions(actions, opened, services, config, links, rt_web)
    existing = fu.followup_frame(fu.fetch_followups(client, config.followups.queue))
    return fu.make_plan(
        wanted, existing, in_scope, scope_services, rules, config.statuses.inactive,
        label, reviews_read,
    )  # fmt: skip


def _apply_plan(client: RTClient, plan: Plan, queue: str) -> None:
    """Write the plan's steps to RT, say what was done (also when a step fails), then check."""
    from review.closeout import followups as fu

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


def review_actions(out: Path, incidents: set[int]) -> tuple[Any, set[int]]:
    """The actions the incidents' reviews list (ticket_id, owner, action), and the incidents
    whose review file was read (an action missing from one of those has left the review)."""
    from review.closeout import followups as fu
    from review.pages import written

    rows, read = [], set()
    for ticket in sorted(incidents):
        review = written.load(written.review_path(out, ticket), ticket)
        if review is None:
            continue
        read.add(ticket)
        listed = [s.text for s in review.sections if fu.lists_actions(s.id, s.text)]
        for owner, action in fu.team_actions("\n".join(listed)):
            rows.append({"ticket_id": ticket, "owner": owner, "action": action})
    return fu.actions_frame(rows), read


@cli.command()
@snapshot_option
@config_option
@registry_option
@click.option("--apply", "do_apply", is_flag=True, help="Send the mail (default: print the plan).")
@click.option(
    "--today",
    type=DAY,
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

    from review.delivery.remind import STATE_FILE, digests
    from review.text import one_line

    context = open_context(snapshot_dir, with_registry(load_config(config_path), registry_path))
    config = context.config
    day = today.date() if today else datetime.now(UTC).date()
    plan, warnings = digests(context.snapshot, context.registry, config, day)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    unsent = [d for d in plan if not d.to]
    _show_digests(plan, config, day, do_apply)
    failed = _send_digests(plan, config, day) if do_apply and len(unsent) < len(plan) else 0
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


def _show_digests(plan: list[Digest], config: Config, day: date, do_apply: bool) -> None:
    """One line per digest: no address; or, on a dry run, who had it today and who would."""
    from review.delivery.remind import delivered
    from review.text import one_line

    for digest in plan:
        what = digest.subject.split(": ", 1)[1]
        if not digest.to:
            click.echo(f"no address {one_line(digest.owner)}: {what}")
        elif not do_apply:
            owner = one_line(digest.owner)
            before = delivered(digest, config, day, config.paths.reports)
            if before:
                click.echo(f"already sent {', '.join(before)} ({owner}) today: {what}")
            if len(before) < len(digest.to):
                rest = [a for a in digest.to if a not in before]
                click.echo(f"would send {', '.join(rest)} ({owner}): {what}")


def _send_digests(plan: list[Digest], config: Config, day: date) -> int:
    """Send the digests (one run at a time), one line each; returns how many failed."""
    from review.delivery import mail
    from review.delivery.remind import LOCK_FILE, deliver
    from review.locks import exclusive
    from review.text import one_line

    out = config.paths.reports
    mail.check_sender(config.mail)
    failed = 0
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
    return failed


@cli.command()
@click.option(
    "--since",
    type=DAY,
    required=True,
    help="First day (UTC) of the window in which tickets reached an inactive status.",
)
@click.option(
    "--until",
    type=DAY,
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
    callback=from_cwd,
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

    from review.closeout.followups import fetch_followups
    from review.rt.client import RTClient, connection_from
    from review.rt.history import History
    from review.rt.pull import pull as run_pull
    from review.rt.window import Window

    config = load_config(config_path)
    start, end = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
    if end <= start:
        raise ReviewError("--until must be later than --since")
    # RT's searches never return a deleted ticket (they add Status != 'deleted' to any query):
    # asking for that status would find nothing and change the query an incremental pull matches
    inactive = tuple(s for s in config.statuses.inactive if s != DELETED)
    window = Window(start, end, queues or config.queues.ops + config.queues.developer, inactive)
    target = (
        snapshot_dir
        or project_dir() / "data" / "interim" / f"rt-{start:{DAY_FORMAT}}_{end:{DAY_FORMAT}}"
    )
    if is_bundled_sample(target):
        raise ReviewError(
            f"--snapshot {target} is the bundled sample, which a pull never replaces: "
            f"give a new directory, e.g. --snapshot {NEW_SNAPSHOT}"
        )
    with RTClient(connection_from(config.rt)) as client:
        report = run_pull(
            client, window, target, history=cast(History, history), full=full,
            followup_queue=config.followups.queue, fetch_followups=fetch_followups,
        )  # fmt: skip
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"{report.mode} pull: {report.tickets} tickets, {report.transactions} transactions "
        f"({report.changed} tickets fetched, {report.history} history) in {report.requests} "
        f"requests -> {report.snapshot}",
        err=True,
    )
