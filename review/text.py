"""Untrusted text shown as text: control characters made visible, spreadsheet formulas defused.

Ticket text (subjects, replies, names) comes from anyone who can mail RT. A terminal
runs the ANSI escapes in it, nbconvert turns them into coloured spans (white on white
hides text), and BEL, backspace or a bidi override rewrite what a reader sees. Every
path that shows text to people (notebook tables, the terminal table, CSV) passes it
through `visible`, which writes such characters as escapes (ESC as ``\\x1b``), so
they are seen and never acted on. JSON is for machines and keeps the text exactly
(its own escaping makes control characters inert).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# C0 controls but newline and tab, DEL, C1 controls; bidi marks, embeddings, overrides
# and isolates; line and paragraph separators; the byte-order mark.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)
# A run of characters without a space wider than a table column should be (a pasted URL, a
# hash, a log line): a page shows it breaking anywhere, or it pushes the page sideways.
_UNBROKEN = re.compile(r"\S{24,}")
# OWASP CSV injection: a spreadsheet evaluates a cell that starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character written as an escape (``\\x1b``, ``\\u202e``)."""
    return _CONTROL.sub(_escape, text)


def unbroken(text: str) -> bool:
    """Whether `text` holds a run too long for a table column (24 characters without a
    space): shown in HTML, it gets ``overflow-wrap:anywhere``, so a table or a page stays as
    wide as the window; text with only ordinary words keeps breaking between them."""
    return _UNBROKEN.search(text) is not None


def one_line(text: str) -> str:
    """`visible`, with line breaks and tabs escaped too: a value that must stay on its line
    (a name or an address in a message, a header)."""
    return visible(text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t"))


def _cells(frame: pd.DataFrame, change: Any) -> pd.DataFrame:
    """`frame` with `change` applied to every text cell (and text column name)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(lambda v: change(v) if isinstance(v, str) else v)
    return out.rename(columns=lambda c: change(c) if isinstance(c, str) else c)


def visible_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text is `visible`: what every table shown to people uses."""
    return _cells(frame, visible)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for CSV: text `visible`, and a cell that would start a formula quoted with '."""

    def defuse(text: str) -> str:
        return "'" + text if text.startswith(_FORMULA_START) else text

    return _cells(frame, lambda text: defuse(visible(text)))
