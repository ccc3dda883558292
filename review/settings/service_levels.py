"""The `[sla]` section's schema: RT's %ServiceAgreements as the config file states them.

Part of the settings (the bottom layer): the config parses it, review.analysis.sla applies
it to a history, and scenarios.replay writes the same levels into a test RT's site config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from review.errors import ConfigError

TYPES = ("response", "resolve", "keep_in_loop")
RT_TYPES = {"response": "Response", "resolve": "Resolve", "keep_in_loop": "KeepInLoop"}
_TARGET_KEYS = {
    "business_minutes", "real_minutes", "ignore_on_statuses", "exclude_time_on_ignored_statuses",
}  # fmt: skip
_LEVEL_KEYS = {*TYPES, "business_hours", "start_immediately"}


@dataclass(frozen=True)
class Target:
    """One of a level's Response, Resolve or KeepInLoop, as RT reads it."""

    business_minutes: float | None
    real_minutes: float | None
    ignore_on_statuses: tuple[str, ...] = ()
    exclude_time_on_ignored_statuses: bool = False


@dataclass(frozen=True)
class Level:
    """One entry of RT's `Levels`; every business-hours name is served by [calendar]."""

    name: str
    response: Target | None
    resolve: Target | None
    keep_in_loop: Target | None
    business_hours: str = "Default"
    start_immediately: bool = False  # moves only RT's Starts date, never Due

    def target(self, kind: str) -> Target | None:
        found: Target | None = getattr(self, kind)
        return found

    @property
    def ignored(self) -> tuple[str, ...]:
        """Every status some target of this level ignores (the level's pauses)."""
        seen = [s for k in TYPES if (t := self.target(k)) for s in t.ignore_on_statuses]
        return tuple(dict.fromkeys(seen))


@dataclass(frozen=True)
class Agreements:
    """The `[sla]` section: RT's %ServiceAgreements plus the hand-off OLA target."""

    levels: tuple[Level, ...] = ()
    default: str = ""
    queue_defaults: tuple[tuple[str, str], ...] = ()
    handoff_ola_hours: float = 8.0

    def level(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.name == name), None)

    def default_for(self, queue: pd.Series) -> pd.Series:
        """RT's GetDefaultServiceLevel: the queue's default, else the global one."""
        names = queue.astype("string")
        by_queue = pd.Series(dict(self.queue_defaults), dtype="string")
        found = pd.Series(by_queue.reindex(names).to_numpy(), index=queue.index, dtype="string")
        return found.fillna(self.default)


def _target(raw: Any, key: str, path: str) -> Target:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Target(business_minutes=float(raw), real_minutes=None)
    if not isinstance(raw, dict):
        raise ConfigError(f"{key} must be a number of business minutes or a table", path, key)
    unknown = sorted(set(raw) - _TARGET_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key {key}.{unknown[0]}; allowed: {', '.join(sorted(_TARGET_KEYS))}", path, key
        )
    minutes: dict[str, float | None] = {}
    for name in ("business_minutes", "real_minutes"):
        value = raw.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6
        ):
            raise ConfigError(f"{key}.{name} must be minutes from 0, got {value!r}", path, key)
        minutes[name] = None if value is None else float(value)
    if minutes["business_minutes"] is None and minutes["real_minutes"] is None:
        raise ConfigError(f"{key} needs business_minutes or real_minutes", path, key)
    ignore = raw.get("ignore_on_statuses", [])
    if not isinstance(ignore, list) or not all(isinstance(s, str) for s in ignore):
        raise ConfigError(f"{key}.ignore_on_statuses must be a list of statuses", path, key)
    exclude = raw.get("exclude_time_on_ignored_statuses", False)
    if not isinstance(exclude, bool):
        raise ConfigError(f"{key}.exclude_time_on_ignored_statuses must be true or false", path)
    return Target(minutes["business_minutes"], minutes["real_minutes"], tuple(ignore), exclude)


def parse_agreements(section: Mapping[str, Any], path: str) -> Agreements:
    """The `[sla]` section of a merged config tree; a wrong key or value is a ConfigError."""
    levels = []
    for name, raw in section["levels"].items():
        key = f"sla.levels.{name}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{key} must be a table", path, key)
        unknown = sorted(set(raw) - _LEVEL_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_LEVEL_KEYS))
            raise ConfigError(f"unknown key {key}.{unknown[0]}; allowed: {allowed}", path, key)
        targets = {k: _target(raw[k], f"{key}.{k}", path) if k in raw else None for k in TYPES}
        hours = raw.get("business_hours", "Default")
        start = raw.get("start_immediately", False)
        if not isinstance(hours, str) or not isinstance(start, bool):
            raise ConfigError(
                f"{key}: business_hours is a name, start_immediately true/false", path
            )
        levels.append(Level(name, **targets, business_hours=hours, start_immediately=start))
    names = {lv.name for lv in levels}
    queue_defaults = tuple((str(q), str(v)) for q, v in section["queue_defaults"].items())
    for where, name in [("sla.default", section["default"])] + [
        (f"sla.queue_defaults.{q}", v) for q, v in queue_defaults
    ]:
        if name and name not in names:
            raise ConfigError(
                f"{where} names level {name!r}; defined: {', '.join(sorted(names)) or 'none'}",
                path,
                where,
            )
    hours = section["handoff_ola_hours"]
    if not 0 < hours <= 10_000:
        raise ConfigError(f"sla.handoff_ola_hours must be above 0, got {hours!r}", path)
    return Agreements(tuple(levels), section["default"], queue_defaults, float(hours))
