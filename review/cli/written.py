"""Commands on a review's written account: signoff, status."""

from __future__ import annotations

from pathlib import Path

import click

from review.cli.common import cli, config_option, open_snapshot, out_option, snapshot_option
from review.settings.config import Config, load_config


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
