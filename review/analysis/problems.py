"""Data problems: where the data cannot back a number, said once and the same everywhere.

A problem is one line that names what is wrong and what the data has instead, e.g.
"[fields] validated_by = 'Validated By' is on 0 of 14 tickets; fields on these tickets:
Approved By (12), ...". The analysis finds them (review.analysis.fit holds the config
against the snapshot; other kinds, such as implausible times, add their own with their own
`kind`), and every consumer shows the same list:

- every command that computes from a snapshot prints its mismatches once on stderr
  (`warning_lines`; notes only in `review check`, so cron stays quiet while numbers stand);
- every page shows them in a data-quality note (review.pages.display.DataQuality);
- `review check` lists them all and exits non-zero on a mismatch;
- `--strict` (or [check] strict in the config) makes a mismatch an error (`enforce`), for cron.

A *mismatch* is a problem that makes numbers wrong or unobservable (the config does not fit
the data); a *note* is worth knowing but leaves the numbers standing (a configured status
that no ticket happened to use).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from review.errors import ReviewError
from review.text import one_line

COLUMNS = ["kind", "text", "tickets", "mismatch"]
SHOWN = 10  # lines a command prints before pointing to `review check` for the rest


@dataclass(frozen=True)
class DataProblem:
    """One problem: `kind` is a stable code ('field-absent', 'status-unknown', ...), `text`
    the line people read, `tickets` those it concerns (() = the data as a whole)."""

    kind: str
    text: str
    tickets: tuple[int, ...] = ()
    mismatch: bool = True

    def line(self) -> str:
        """How it reads on stderr and in `review check` (site data in it kept on its line)."""
        return f"{'mismatch' if self.mismatch else 'note'}: {one_line(self.text)}"


class DataMismatch(ReviewError):
    """--strict (or [check] strict) and the config does not fit the data."""


def ordered(problems: Iterable[DataProblem]) -> list[DataProblem]:
    """Mismatches first, each once, otherwise in the order found."""
    unique = list(dict.fromkeys(problems))
    return [p for p in unique if p.mismatch] + [p for p in unique if not p.mismatch]


def mismatches(problems: Iterable[DataProblem]) -> list[DataProblem]:
    return [p for p in problems if p.mismatch]


def about(problems: Iterable[DataProblem], ticket_id: int) -> list[DataProblem]:
    """The problems an incident's page shows: the mismatches of the whole data and its own
    (a note about other tickets' data is for `review check` and the overviews)."""
    return [p for p in problems if int(ticket_id) in p.tickets or (not p.tickets and p.mismatch)]


def warning_lines(problems: Sequence[DataProblem], shown: int = SHOWN) -> list[str]:
    """What a command prints on stderr: one line per mismatch, at most `shown`, then one
    line pointing to `review check` for the rest (notes leave the numbers standing: only
    `review check` and the pages list them)."""
    found = mismatches(ordered(problems))
    lines = [f"warning: {p.line()}" for p in found[:shown]]
    if len(found) > shown:
        lines.append(
            f"warning: ... and {len(found) - shown} more mismatches: `review check` lists them"
        )
    return lines


def enforce(problems: Sequence[DataProblem], strict: bool) -> None:
    """Under --strict, a mismatch is an error (the lines were printed before)."""
    found = mismatches(problems)
    if strict and found:
        raise DataMismatch(
            f"{len(found)} mismatch(es) between the config and the data (listed above; "
            "`review check` shows them all): fix the config, or run without --strict "
            "([check] strict) to compute anyway"
        )


def to_frame(problems: Iterable[DataProblem]) -> pd.DataFrame:
    """The problems as a frame (the derived cache keeps them as parquet)."""
    rows = [(p.kind, p.text, list(p.tickets), p.mismatch) for p in problems]
    return pd.DataFrame(rows, columns=COLUMNS).astype({"mismatch": bool})


def from_frame(frame: pd.DataFrame) -> list[DataProblem]:
    """The problems a frame made by `to_frame` holds."""
    return [
        DataProblem(str(k), str(t), tuple(int(i) for i in ids), bool(m))
        for k, t, ids, m in frame[COLUMNS].itertuples(index=False)
    ]
