"""What a metric is: one declaration, in one file of review/analysis/metrics/.

A metric's `key` names its column (a duration's: key_h and key_bh, one per clock); its
docstring is its documentation, and the first paragraph reads 'label: definition.', where
the label is how reports name it and the definition a template filled from the config (see
`words`). `unit` says what it is, `order` where its column sits, and the decorated function
computes it for all incidents at once from an Incidents (review.analysis.incidents). A
duration's `includes` says which incidents its statistics count, filled with {missing}
(incidents without a value), {total} and {still_open} ('; N still open left out').
`reads` names the config keys it cannot be computed without ('statuses.inactive'), so a
config that does not fit the data names the metrics it takes away (review.analysis.fit).
`inputs` names the data it is computed from (event kinds whose times it uses, and
review.analysis.quality's TRIAGE and *_NAMES): where the data cannot back one of them for
an incident, its value there is empty, never a number computed without it::

    \"\"\"reopens: moves from an inactive status back to an active one.\"\"\"

    @metric(__doc__, "reopen_count", order=90, unit="count")
    def reopen_count(inc: Incidents) -> pd.Series: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from review.analysis.incidents import Incidents, Value
from review.settings.calendar import calendar_text
from review.settings.config import Config
from review.settings.registries import docstring, heading

Unit = Literal["time", "hours", "wall hours", "count"]
UNITS = ("time", "hours", "wall hours", "count")
Compute = Callable[[Incidents], Value]


@dataclass(frozen=True)
class Clock:
    """One way a duration is counted: `suffix` of its column (and of its frame's column),
    `name` in statistics (`review stats`' clock column), `hours` in words."""

    suffix: str
    name: str
    hours: str

    def column(self, key: str) -> str:
        """The column of duration `key` in this clock."""
        return f"{key}_{self.suffix}"


# every duration in both clocks, by suffix, wall-clock first
CLOCKS = {
    c.suffix: c
    for c in (Clock("h", "wall", "wall-clock hours"), Clock("bh", "business", "business hours"))
}


@dataclass(frozen=True)
class Metric:
    """One metric (see the module docstring)."""

    key: str
    label: str
    unit: Unit
    definition: str
    compute: Compute = field(repr=False)
    order: int
    includes: str = "resolved incidents{still_open}"
    doc: str = field(default="", repr=False)
    reads: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.key!r}: unit must be one of {', '.join(UNITS)}")

    @property
    def columns(self) -> list[str]:
        """Its columns in the metrics table."""
        return [c.column(self.key) for c in CLOCKS.values()] if self.unit == "hours" else [self.key]

    @property
    def term(self) -> str:
        """Its name in the definitions table: a timestamp by its column, else its label."""
        return self.key if self.unit == "time" else self.label

    def define(self, config: Config) -> str:
        """The definition in words, for this config's queues, statuses and calendar."""
        return self.definition.format(**words(config))

    def comparison_column(self, stat: str, clock: str) -> str:
        """The monthly comparison's column of `stat` (median, p90) in `clock` (h, bh)."""
        return f"{self.label} {stat} ({clock})"


def metric(
    doc: str | None,
    key: str,
    *,
    order: int,
    unit: Unit,
    includes: str | None = None,
    reads: tuple[str, ...] = (),
    inputs: tuple[str, ...] = (),
) -> Callable[[Compute], Metric]:
    """Declare a metric around its compute function (a decorator); `doc` is the metric
    module's docstring, whose first paragraph reads 'label: definition.'."""

    def declare(compute: Compute) -> Metric:
        text = docstring(doc, compute.__module__)
        label, definition = heading(text, f"metric {key!r}")
        spec = Metric(
            key, label, unit, definition, compute, order, doc=text, reads=reads, inputs=inputs
        )
        return spec if includes is None else replace(spec, includes=includes)

    return declare


def words(config: Config) -> dict[str, str]:
    """What a definition template may name: {ops}, {developer}, {initial}, {inactive},
    {calendar}."""
    return {
        "ops": ", ".join(config.queues.ops),
        "developer": ", ".join(config.queues.developer),
        "initial": config.statuses.initial,
        "inactive": ", ".join(config.statuses.inactive),
        "calendar": calendar_text(config.calendar),
    }
