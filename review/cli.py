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


registry_option = click.option(
    "--registry",
    "registry_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Service registry file (default: gaps.registry in the config, data/services.yaml).",
)


def _audit_inputs(
    snapshot_dir: Path, config_path: Path | None, registry_path: Path | None
) -> tuple[Any, ...]:
    """Config, registry, snapshot, events and metrics: what both gap commands start from."""
    from review.metrics import compute_metrics
    from review.registry import load_registry
    from review.timeline import build_events

    config: Config = load_config(config_path)
    registry = load_registry(registry_path or config.gaps.registry)
    snapshot = open_snapshot(snapshot_dir)
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
    from review.gaps import find_gaps

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
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the gaps' ages and registry reviews are measured at (default: today, UTC).",
)
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
    from review.gaps import find_gaps
    from review.gaps import support_gaps as summarise

    config, registry, snapshot, events, metrics = _audit_inputs(
        snapshot_dir, config_path, registry_path
    )
    findings = find_gaps(events, snapshot, config, registry, metrics)
    table = summarise(
        findings,
        metrics,
        registry,
        config,
        since=since.date() if since else None,
        today=today.date() if today else None,
    )
    emit(table, fmt, output)


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
