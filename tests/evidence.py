"""Evidence as tests compare it: without incidental numbering.

Transaction ids are global: one more step in a scenario renumbers every transaction after
it, and a line added to a registry moves every entry below. Tests therefore do not pin them.
`unpin` checks each 'txn N [at T]' of a finding against the events (a transaction of that
ticket, at that time) and then drops N; `entry` writes "registry entry 'S' (FILE:LINE)"
with the line read from the registry file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from review.analysis.facts import iso_utc

TXN = re.compile(r"txn (\d+)(?: at (\S+Z))?")


def unpin(text: str, ticket_id: int, events: pd.DataFrame) -> str:
    """`text` with each 'txn N' checked to be ticket `ticket_id`'s (at the time given, if
    any) and written 'txn' (and 'txn at T')."""

    def check(match: re.Match[str]) -> str:
        row = events.loc[events["txn_id"] == int(match[1])]
        assert len(row) == 1, f"txn {match[1]} is not one event: {text}"
        assert int(row["ticket_id"].iloc[0]) == ticket_id, f"txn {match[1]} of another ticket"
        if match[2] is None:
            return "txn"
        assert iso_utc(row["at"]).iloc[0] == match[2], f"txn {match[1]} is not at {match[2]}"
        return f"txn at {match[2]}"

    return TXN.sub(check, text)


def unpin_frame(frame: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Findings or checklist rows with their evidence unpinned (see `unpin`)."""
    evidence = [
        unpin(str(text), int(ticket), events)
        for ticket, text in zip(frame["ticket_id"], frame["evidence"], strict=True)
    ]
    return frame.assign(evidence=evidence)


def line_of(registry: Path, service: str) -> int:
    """The line of a registry file where the entry '- service: NAME' starts."""
    lines = registry.read_text().splitlines()
    pattern = re.compile(rf"^\s*-\s*service:\s*{re.escape(service)}\s*$")
    return next(n for n, text in enumerate(lines, start=1) if pattern.match(text))


def entry(registry: Path, service: str, shown: str | None = None) -> str:
    """How evidence names a registry entry: its file and the line the entry starts on."""
    return f"registry entry '{service}' ({shown or registry}:{line_of(registry, service)})"
