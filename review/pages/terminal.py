"""Tables for people at a terminal: fitted to its width, text wrapped, never cut.

The CLI's CSV and JSON are for machines and stay as they are; this is only the
`--format table` view. A table that fits is printed as it is (text left, numbers
right). A wider one wraps its text columns, the longest first, down to a floor;
when even that is too wide (many columns, a narrow window), each row becomes a
record of ``column: value`` lines. Text is shown `visible` (review.text).
"""

from __future__ import annotations

import shutil
import textwrap

import pandas as pd

from review.text import visible_frame

GAP = "  "
MIN_TEXT = 20  # a text column is never wrapped narrower than this (or its natural width)
FALLBACK_WIDTH = 100  # no terminal (a pipe, cron) and no $COLUMNS


def terminal_width() -> int:
    """The terminal's width in columns: $COLUMNS, the terminal, else FALLBACK_WIDTH."""
    return shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as display text: pandas' own number formatting, missing as blank."""
    shown = visible_frame(frame)
    out = pd.DataFrame(index=shown.index)
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            text = values.to_string(index=False, header=False, na_rep="").split("\n")
            # nullable integers print a missing value as <NA> whatever na_rep says
            missing = values.isna().to_numpy()
            out[column] = ["" if m else t.strip() for t, m in zip(text, missing, strict=False)]
        else:
            out[column] = values.astype(object).where(values.notna(), "").astype(str)
    out.columns = [str(c) for c in shown.columns]
    return out


def _numeric(frame: pd.DataFrame) -> dict[str, bool]:
    return {
        str(c): pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    }


def _natural(cells: pd.DataFrame) -> dict[str, int]:
    """Each column's unwrapped width: its widest cell line or its header."""
    return {
        c: max([len(c), *(len(line) for v in cells[c] for line in v.split("\n"))])
        for c in cells.columns
    }


def _widths(cells: pd.DataFrame, numeric: dict[str, bool], width: int) -> dict[str, int] | None:
    """Column widths that fit `width`, wrapping the widest text columns first; None if none do."""
    natural = _natural(cells)
    spacing = len(GAP) * (len(natural) - 1)
    if sum(natural.values()) + spacing <= width:
        return natural
    floors = {c: natural[c] if numeric[c] else min(natural[c], MIN_TEXT) for c in natural}
    # Lower one cap on every text column until the table fits (water-filling).
    for cap in range(max(natural.values()), 0, -1):
        widths = {c: max(floors[c], min(natural[c], cap)) for c in natural}
        if sum(widths.values()) + spacing <= width:
            return widths
    return None


def _wrap(text: str, width: int) -> list[str]:
    lines = [part for line in text.split("\n") for part in textwrap.wrap(line, width) or [""]]
    return lines or [""]


def _grid(cells: pd.DataFrame, numeric: dict[str, bool], widths: dict[str, int]) -> str:
    def row(values: list[str]) -> list[str]:
        wrapped = [_wrap(v, widths[c]) for c, v in zip(widths, values, strict=True)]
        height = max(len(w) for w in wrapped)
        lines = []
        for i in range(height):
            parts = []
            for c, w in zip(widths, wrapped, strict=True):
                part = w[i] if i < len(w) else ""
                parts.append(part.rjust(widths[c]) if numeric[c] else part.ljust(widths[c]))
            lines.append(GAP.join(parts).rstrip())
        return lines

    rows = [row(list(values)) for values in cells.itertuples(index=False)]
    # Rows that wrap are told apart by a blank line between them.
    between = [""] if any(len(r) > 1 for r in rows) else []
    out = row(list(widths))
    for i, lines in enumerate(rows):
        out.extend((between if i else []) + lines)
    return "\n".join(out) + "\n"


def _records(cells: pd.DataFrame, width: int) -> str:
    """One block per row: ``column: value`` lines, values wrapped under themselves."""
    label = max(len(c) for c in cells.columns)
    room = max(MIN_TEXT, width - label - 2)
    blocks = []
    for values in cells.itertuples(index=False):
        lines = []
        for column, value in zip(cells.columns, values, strict=True):
            wrapped = _wrap(value, room)
            lines.append(f"{column.rjust(label)}: {wrapped[0]}".rstrip())
            lines.extend(" " * (label + 2) + more for more in wrapped[1:])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def fit_table(frame: pd.DataFrame, width: int | None = None) -> str:
    """`frame` as text no wider than `width` (default: the terminal's)."""
    width = terminal_width() if width is None else width
    if frame.columns.empty:
        return "\n"
    cells = _cells(frame)
    numeric = _numeric(frame)
    widths = _widths(cells, numeric, width)
    if widths is None:
        return _records(cells, width)
    return _grid(cells, numeric, widths)


def fit_text(text: str, indent: str = "", width: int | None = None) -> str:
    """A paragraph wrapped to the terminal, continuation lines indented under the first."""
    width = terminal_width() if width is None else width
    return textwrap.fill(text, width, subsequent_indent=indent + "  ", initial_indent=indent)
