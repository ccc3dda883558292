"""Commands for a site's first hour: init (draft a config) and check (does it fit the data?)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from review.cli.common import DAY, cli, config_option, from_cwd, registry_option, snapshot_option
from review.errors import ReviewError
from review.settings.config import cache_dir, load_config

INIT_DAYS = 90  # `review init` against RT reads the tickets of this many days by default


@cli.command()
@click.option(
    "--snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    callback=from_cwd,
    help="Draft from this snapshot, offline (default: from RT at RT_URL).",
)
@click.option(
    "--since",
    type=DAY,
    default=None,
    help="From RT: the tickets created or resolved since this day "
    f"(default: {INIT_DAYS} days ago).",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="From RT: only this queue (repeatable; default: every queue RT shows the account).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("review.toml"),
    callback=from_cwd,
    show_default=True,
    help="The config file to write; the registry skeleton goes beside it (services.yaml).",
)
@click.option("--force", is_flag=True, help="Replace the config and registry files if they exist.")
@config_option
def init(
    snapshot_dir: Path | None, since: Any, queues: tuple[str, ...], output: Path, force: bool,
    config_path: Path | None,
) -> None:  # fmt: skip
    """Draft a commented config and a service registry for a site, from RT or a snapshot.

    From RT: RT_URL (or [rt] url) and RT_TOKEN or RT_USER/RT_PASSWORD. Keys the data makes
    clear are filled in; the others are left open with the candidates; `review check`
    then says what still does not fit.
    """
    from review.draft import draft

    registry = output.with_name("services.yaml")
    taken = [p for p in (output, registry) if os.path.lexists(p)]
    if taken and not force:
        raise ReviewError(
            f"{taken[0]} exists; nothing was written: pass --force to replace "
            f"{' and '.join(map(str, taken))}, or --output a file in another folder"
        )
    if snapshot_dir is not None:
        if since is not None or queues:
            raise click.UsageError("--since and --queue are for RT; a snapshot holds its window")
        found = _survey_snapshot(snapshot_dir, config_path)
        offered: dict[str, tuple[str, ...]] = {}
        statuses: tuple[str, ...] = ()
    else:
        found, offered, statuses = _survey_rt(since, queues, config_path)
    drafted = draft(found, offered, statuses, registry_file=registry.name)
    _write(output, drafted.config)
    _write(registry, drafted.registry)
    left = f"{len(drafted.open_keys)} key(s) left open ({', '.join(drafted.open_keys)})"
    click.echo(
        f"wrote {output} ({left if drafted.open_keys else 'every key filled'}) and {registry}: "
        f"complete them, then run `review check --config {output}`",
        err=True,
    )


def _survey_snapshot(snapshot_dir: Path, config_path: Path | None) -> Any:
    from review.analysis.survey import survey
    from review.cli.common import open_context

    return survey(open_context(snapshot_dir, load_config(config_path)).snapshot)


def _survey_rt(
    since: Any, queues: tuple[str, ...], config_path: Path | None
) -> tuple[Any, dict[str, tuple[str, ...]], tuple[str, ...]]:
    """The survey of RT's tickets since `since`, RT's word on the statuses they hold, the
    values RT offers for its Select fields, the statuses the lifecycles offer."""
    from review.analysis.survey import survey
    from review.rt.client import RTClient, connection_from
    from review.rt.survey import scan
    from review.snapshot import load_snapshot

    config = load_config(config_path)
    start = since.replace(tzinfo=UTC) if since else datetime.now(UTC) - timedelta(days=INIT_DAYS)
    with (
        RTClient(connection_from(config.rt)) as client,
        tempfile.TemporaryDirectory(prefix="review-init-") as scratch,
    ):
        found = scan(client, start, Path(scratch) / "snapshot", queues)
        snapshot = load_snapshot(found.snapshot, cache_dir=Path(scratch) / "cache")
        surveyed = survey(snapshot, source=f"RT at {client.conn.url}").with_rt_roles(found.roles)
    return surveyed, found.offered_values, found.offered_statuses


def _write(path: Path, text: str) -> None:
    """Write a file whole (a temporary file renamed over it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as exc:
        raise ReviewError(f"cannot write {path}: {exc.strerror}") from None


@cli.command()
@snapshot_option
@config_option
@registry_option
@click.option(
    "--rt/--no-rt",
    "with_rt",
    default=None,
    help="Also hold the config against RT (default: when RT_URL or [rt] url is set).",
)
def check(
    snapshot_dir: Path, config_path: Path | None, registry_path: Path | None,
    with_rt: bool | None,
) -> None:  # fmt: skip
    """Does the config fit the data? One line per problem; non-zero exit on a mismatch.

    Holds the config (and the service registry) against the snapshot, and against RT
    itself with RT_URL: its queues, fields and values, statuses, and the account's rights.
    """
    from review.analysis import problems as data
    from review.analysis.problems import DataProblem
    from review.closeout.registry import load_registry
    from review.context import data_problems
    from review.errors import RegistryError
    from review.snapshot import load_snapshot

    config = load_config(config_path)
    snapshot = load_snapshot(snapshot_dir, cache_dir=cache_dir(config))
    try:
        registry = load_registry(registry_path or config.gaps.registry)
    except RegistryError as exc:  # one more problem to list, not the end of the check
        registry, unreadable = None, [DataProblem("registry", str(exc))]
    else:
        unreadable = []
    found = unreadable + data_problems(snapshot, config, registry)
    if with_rt or (with_rt is None and (os.environ.get("RT_URL") or config.rt.url)):
        from review.rt.client import RTClient, connection_from
        from review.rt.survey import rt_problems

        with RTClient(connection_from(config.rt)) as client:
            found += [
                DataProblem(m.kind, m.text, (), m.mismatch)
                for m in rt_problems(client, config, snapshot)
            ]
    found = data.ordered(found)
    for problem in found:
        click.echo(problem.line())
    wrong = data.mismatches(found)
    if wrong:
        raise data.DataMismatch(_mismatched(wrong))
    notes = f" ({len(found)} note(s) above)" if found else ""
    click.echo(f"the config fits the data{notes}", err=True)


def _mismatched(wrong: list[Any]) -> str:
    """`review check`'s last line: what the mismatches are and how to fix them (a config
    drafted from the data fits it; data the numbers cannot rest on is fixed in RT)."""
    from review.analysis import quality

    unbacked = [p for p in wrong if p.kind in quality.KINDS]
    if len(unbacked) == len(wrong):
        return (
            f"the data cannot back some numbers: {len(wrong)} mismatch(es) above (fix them in "
            "RT and pull again; until then the numbers they take away are empty)"
        )
    fix = "; fix the data's own problems in RT" if unbacked else ""
    return (
        f"the config does not fit the data: {len(wrong)} mismatch(es) above (`review init` "
        f"drafts a config from the data{fix})"
    )
