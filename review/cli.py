"""The `review` command: parse arguments, call the package, print results.

User mistakes (a missing snapshot, a bad config line, an unreachable RT) end
in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from review import __version__
from review.config import CACHE_DIR, SAMPLE_SNAPSHOT, Config, load_config
from review.errors import ReviewError
from review.snapshot import Snapshot, load_snapshot

snapshot_option = click.option(
    "--snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=SAMPLE_SNAPSHOT,
    show_default="the bundled sample",
    help="Snapshot directory made by `review pull`.",
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
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


def open_snapshot(snapshot_dir: Path) -> Snapshot:
    """Load a snapshot through the parquet cache and warn about rows that were left out."""
    snapshot = load_snapshot(snapshot_dir, cache_dir=CACHE_DIR)
    for problem in snapshot.problems[:20]:
        click.echo(
            f"warning: {snapshot_dir / problem.file}:{problem.line}: {problem.message}", err=True
        )
    if len(snapshot.problems) > 20:
        click.echo(f"warning: ... and {len(snapshot.problems) - 20} more problems", err=True)
    return snapshot


def emit(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
    """Print or save a frame as an aligned table, CSV or JSON records."""
    if fmt == "csv":
        text = frame.to_csv(index=False)
    elif fmt == "json":
        text = frame.to_json(orient="records", indent=1, force_ascii=False) + "\n"
    else:
        with pd.option_context(
            "display.max_rows", None, "display.max_columns", None, "display.width", 250
        ):
            text = frame.astype(object).fillna("").to_string(index=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, "utf-8")
        except OSError as exc:
            raise ReviewError(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"wrote {len(frame)} rows to {output}", err=True)


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
    from review.metrics import DEFINITIONS, format_metrics, metrics_for_snapshot

    config: Config = load_config(config_path)
    table = format_metrics(metrics_for_snapshot(open_snapshot(snapshot_dir), config))
    emit(table, fmt, output)
    if fmt == "table" and output is None:
        click.echo("\nDefinitions:")
        for name, words in DEFINITIONS.items():
            click.echo(f"  {name}: {words}")


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

    from review.config import DATA_DIR
    from review.rt.client import RTClient, connection_from
    from review.rt.pull import Window
    from review.rt.pull import pull as run_pull

    config = load_config(config_path)
    start, end = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
    if end <= start:
        raise ReviewError("--until must be later than --since")
    window = Window(
        start, end, queues or config.queues.ops + config.queues.developer, config.statuses.inactive
    )
    target = snapshot_dir or DATA_DIR / "interim" / f"rt-{start:%Y-%m-%d}_{end:%Y-%m-%d}"
    with RTClient(connection_from(config.rt)) as client:
        report = run_pull(client, window, target, history=history, full=full)  # type: ignore[arg-type]
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"{report.mode} pull: {report.tickets} tickets, {report.transactions} transactions "
        f"({report.changed} tickets fetched, {report.history} history) in {report.requests} "
        f"requests -> {report.snapshot}",
        err=True,
    )


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
