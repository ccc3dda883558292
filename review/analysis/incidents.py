"""What every metric reads: the incidents of a snapshot with their events and stretches.

A metric (review/analysis/metrics/) computes its value for all incidents at once from an
Incidents; it may read other metrics' values (time to resolve reads resolved_at), each
computed once on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import cached_property

import pandas as pd

from review.analysis import facts
from review.settings.calendar import BusinessClock
from review.settings.config import Config
from review.settings.sections import DELETED
from review.snapshot import Snapshot

Value = pd.Series | pd.DataFrame  # a metric per incident; a duration: a frame of h and bh


def hours(delta: pd.Series) -> pd.Series:
    """Timedeltas as hours (floats)."""
    found: pd.Series = delta.dt.total_seconds() / 3600.0
    return found


def incidents(snapshot: Snapshot) -> pd.DataFrame:
    """The tickets reported as incidents: a ticket merged into another is reported under it,
    and one deleted in RT (status DELETED) is none, as RT's searches leave it out: no work
    resolved, nor still open."""
    t = snapshot.tickets
    merged = t["effective_id"].notna() & (t["effective_id"] != t["ticket_id"])
    return t.loc[~merged & (t["status"] != DELETED)]


class Incidents:
    """What metrics are computed from, for all incidents at once (index: ticket_id).

    `computes` maps each metric's key to its compute function; `inc["resolved_at"]` is a
    metric's value, computed once on first use, so a metric reads the ones it builds on.
    """

    def __init__(
        self,
        events: pd.DataFrame,
        snapshot: Snapshot,
        config: Config,
        clock: BusinessClock,
        segments: pd.DataFrame,
        computes: Mapping[str, Callable[[Incidents], Value]],
        unmeasured: Mapping[str, Collection[int]] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.config = config
        self.clock = clock
        self.segments = segments
        self.tickets = incidents(snapshot).set_index("ticket_id")
        self.index = self.tickets.index
        self.events = events.loc[events["ticket_id"].isin(self.index)]
        self.inactive = list(config.statuses.inactive)
        self._computes = computes
        self._unmeasured = unmeasured or {}
        self._values: dict[str, Value] = {}

    def value(self, key: str) -> Value:
        """Metric `key` per incident (a frame for a duration), empty for the incidents in
        `unmeasured[key]` (whose data cannot back it: review.analysis.quality); a count is a
        nullable integer."""
        if key not in self._values:
            found = self._computes[key](self)
            if isinstance(found, pd.Series) and pd.api.types.is_integer_dtype(found.dtype):
                found = found.astype("Int64")
            blank = pd.Series(found.index.isin(list(self._unmeasured.get(key, ()))), found.index)
            self._values[key] = found.mask(blank)
        return self._values[key]

    def __getitem__(self, key: str) -> pd.Series:
        found = self.value(key)
        assert isinstance(found, pd.Series), f"{key} is a duration: use value()"
        return found

    def per_ticket(self, values: pd.Series, fill: float | None = None) -> pd.Series:
        """Values by ticket_id for every incident (`fill` where a ticket has none)."""
        out = values.reindex(self.index)
        return out if fill is None else out.fillna(fill)

    def count(self, rows: pd.DataFrame) -> pd.Series:
        """Rows per incident, 0 where none."""
        return self.per_ticket(rows.groupby("ticket_id").size(), 0).astype("int64")

    def between(self, start: str, end: str) -> pd.DataFrame:
        """Wall-clock and business hours from metric `start` to metric `end`."""
        a, b = self[start], self[end]
        return pd.DataFrame({"h": hours(b - a), "bh": self.clock.hours_between(a, b)})

    @property
    def staff_replies(self) -> pd.DataFrame:
        return self.events.loc[facts.staff_reply(self.events)]

    @cached_property
    def handoffs(self) -> pd.DataFrame:
        return self.events.loc[self.events["handoff"]]
