"""Commands on a review: its sign-off and status, and publishing it to RT."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from review.cli.common import (
    cli,
    config_option,
    open_context,
    out_option,
    snapshot_option,
    warn_problems,
)
from review.cli.pages import _finish as finish
from review.errors import ReviewError
from review.settings.config import Config, load_config


def _review_file(ticket: int, out: Path | None, config: Config) -> Path:
    """The review file of `ticket` under --out (default: the config's reports folder)."""
    from review.pages import written

    return written.review_path(out or config.paths.reports, ticket)


def _update(path: Path, ticket: int, change: Any, then: str = "") -> Any:
    """written.update, with a file that cannot be written (a full disk, no rights) as one line
    (`then`: what the next run does about it)."""
    from review.pages import written

    try:
        return written.update(path, ticket, change)
    except OSError as exc:
        raise ReviewError(f"cannot write {path} ({exc.strerror}){then}") from None


def _data_digest(ticket: int, snapshot_dir: Path, config: Config) -> str:
    """The incident's data digest, as the pages read it (Context.review_data)."""
    from review.pages import signoff as so

    context = open_context(snapshot_dir, config)
    digests = context.review_data.set_index("ticket_id")["data"]
    return so.digest_in(digests, ticket, context.snapshot.path)


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

    config = load_config(config_path)
    data = _data_digest(ticket, snapshot_dir, config)
    path = _review_file(ticket, out, config)
    review = _update(path, ticket, lambda r: so.sign(r, role, name, data))
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
        review = _update(path, ticket, lambda r: so.set_status(r, new_status))
    for line in so.describe(review, data):
        click.echo(line)


@cli.command()
@click.argument("ticket", type=int)
@snapshot_option
@config_option
@out_option
@click.option("--apply", "do_apply", is_flag=True, help="Write to RT (default: print the plan).")
def publish(
    ticket: int, snapshot_dir: Path, config_path: Path | None, out: Path | None, do_apply: bool
) -> None:
    """Add the finished review to its ticket in RT as one comment, HTML attached; dry run by
    default. Again: nothing when unchanged, one comment saying what changed otherwise.

    Connection: RT_URL (or [rt] url), and RT_TOKEN or RT_USER/RT_PASSWORD.
    """
    from review.delivery import publish as pub
    from review.pages import render as rendering
    from review.pages import signoff as so
    from review.pages import written
    from review.pages.render.run import is_current
    from review.rt.client import RTClient, connection_from

    inputs = rendering.load_inputs(snapshot_dir, config_path)
    warn_problems(inputs.snapshot, snapshot_dir)
    config = inputs.config
    out = out or config.paths.reports
    job = rendering.incident_jobs(inputs, [ticket], out, html=True)[0]
    html = job.output.with_suffix(".html")
    path = written.review_path(out, ticket)
    field = config.publish.status_field
    lock = pub.publishing(path) if do_apply else nullcontext()  # a dry run writes nothing
    with lock, RTClient(connection_from(config.rt)) as client:
        review = written.load(path, ticket)
        version = pub.version_of(review, ticket, so.data_digest(inputs.snapshot, ticket, field))
        current = is_current(out, job, rendering.read_state(out))
        render = f"{html} is up to date" if current else f"{html} is rendered first"
        plan = pub.make_plan(client, review, version, field, render)
        for line in plan.lines():
            click.echo(line)
        if not do_apply:
            what = "nothing to do" if plan.nothing else "--apply to do it"
            click.echo(f"dry run: {what}", err=True)
            return
        comment = plan.last.comment if plan.last is not None else None
        if plan.comment:
            _comment(client, plan, inputs, job, out, review, version)
        elif comment is not None:  # found in RT: the review file learns of it too
            recorded = pub.local_record(written.load(path, ticket))
            if recorded is None or recorded.digest != version.digest:
                _update(
                    path, ticket, lambda r: pub.with_record(r, version, comment, client.conn.url)
                )
        if plan.set_field:
            pub.set_status_field(client, plan)
            click.echo(f"set #{ticket}'s '{field}' to '{version.status}'", err=True)
    click.echo("done" if not plan.nothing else "nothing to publish: RT has this version", err=True)


def _comment(
    client: Any, plan: Any, inputs: Any, job: Any, out: Path, review: Any, version: Any
) -> None:
    """Render the review (so the comment carries the page as it is now), comment on the ticket
    with the page attached, and record the comment in the review file."""
    from review import context as pipeline
    from review.closeout.followups import attach_followups
    from review.delivery import publish as pub
    from review.pages import render as rendering
    from review.pages import written

    ticket, config = int(job.ticket_id), inputs.config
    html, name = job.output.with_suffix(".html"), f"incident-{ticket}-review.html"
    path = written.review_path(out, ticket)
    with rendering.batch_lock(out):
        result = rendering.run_batch([job], out, workers=1)
        rendering.write_index(out, inputs, result)
    finish(result, out, quiet=True)
    context = pipeline.open_context(
        inputs.snapshot_dir, config, tickets={ticket}, derived=inputs.derived
    )
    findings = attach_followups(context.findings, context.snapshot, config)
    text = pub.comment_text(
        plan, pub.incident_facts(context.metrics, findings, ticket), review, name
    )
    if html.stat().st_size > pub.ATTACHMENT_WARN_BYTES:
        click.echo(f"warning: {html} is over 10 MB, RT's default $MaxAttachmentSize", err=True)
    comment, posted = pub.post(client, plan, text, html, name)
    _update(
        path, ticket, lambda r: pub.with_record(r, version, comment, client.conn.url),
        f": the comment is in RT (#{ticket}); once it can be written, run again, which "
        "finds the comment there and records it without commenting again",
    )  # fmt: skip
    if comment is None:
        raise pub.unseen(client, ticket, path)
    if not posted:
        click.echo(
            f"not commented on #{ticket}: transaction {comment} holds this version already, "
            "posted by another run since this one's plan",
            err=True,
        )
    else:
        click.echo(f"commented on #{ticket}: transaction {comment}", err=True)
