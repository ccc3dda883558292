"""The `review` command's group, the options its commands share, and how results are printed."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import pandas as pd

from review import __version__
from review.errors import ReviewError
from review.pages.terminal import fit_table
from review.settings import utc
from review.settings.config import Config, sample_snapshot
from review.snapshot import Snapshot
from review.text import spreadsheet_safe

if TYPE_CHECKING:
    from review.context import Context


def from_cwd(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """One path rule for every command: a relative path is read from the current directory
    (made absolute here, so code that reads it elsewhere, such as a notebook's, cannot
    read it from another place)."""
    return None if value is None else Path(value).absolute()


snapshot_option = click.option(
    "--snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=sample_snapshot,
    callback=from_cwd,
    show_default="the bundled sample",
    help="Snapshot directory made by `review pull`.",
)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    callback=from_cwd,
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
    callback=from_cwd,
    help="Service registry file (default: gaps.registry in the config, data/services.yaml).",
)


DAY = click.DateTime(formats=[utc.DAY_FORMAT])  # a date option: YYYY-MM-DD

today_option = click.option(
    "--today",
    type=DAY,
    default=None,
    help="Date the gaps' ages and registry reviews are measured at (default: today, UTC).",
)


def _strict(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["review.strict"] = True


strict_option = click.option(
    "--strict",
    is_flag=True,
    expose_value=False,
    callback=_strict,
    help="Stop with an error when the config does not fit the data (what `review check` "
    "lists), instead of warning; also [check] strict in the config. For cron.",
)


def open_context(snapshot_dir: Path, config: Config) -> Context:
    """The snapshot's pipeline (review.context.open_context), with a warning on stderr for
    each row left out of the snapshot."""
    from review import context

    opened = context.open_context(snapshot_dir, config)
    warn_problems(opened.snapshot, snapshot_dir)
    return opened


def check_data(context: Context) -> None:
    """Print the data's mismatches with the config (`Context.problems`) once on stderr; with
    --strict (or [check] strict) a mismatch is an error before anything is written."""
    from review.analysis import problems as data

    for line in data.warning_lines(context.problems):
        click.echo(line, err=True)
    current = click.get_current_context(silent=True)
    strict = context.config.check.strict or bool(current and current.meta.get("review.strict"))
    data.enforce(context.problems, strict)


def warn_partial(line: str) -> None:
    """The one line saying a month given with --partial is partial (none when it is not)."""
    if line:
        click.echo(f"warning: {line}", err=True)


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


partial_option = click.option(
    "--partial",
    is_flag=True,
    help="Render a month the snapshot does not wholly cover; the report says it is partial.",
)
