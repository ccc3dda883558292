"""The `review` command: parse arguments, call the package, print results.

The commands live by job in this package (analyse: tables; pages: rendering; rt: RT and
mail; site: a site's config, drafted and checked; written: a review's written account);
review.cli.common holds the group and the options they share. User mistakes (a missing
snapshot, a bad config line, an unreachable RT) end in one line on stderr and a non-zero
exit, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from review import private
from review.cli import analyse, pages, rt, site, written
from review.cli.common import cli
from review.errors import ReviewError

COMMANDS = (analyse, pages, rt, site, written)  # importing them registers their commands on `cli`


def main(argv: list[str] | None = None) -> Any:
    """Run the command line; ReviewError becomes one line on stderr and exit status 1.

    Whatever the umask, what it writes is for this user alone (review.private)."""
    private.restrict()
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
