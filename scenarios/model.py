"""Scenario files parsed into a model that both the generator and the replayer use.

Times are resolved to absolute UTC instants here, once, so a generated snapshot
and a replay into a real RT see exactly the same sequence of actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from review.errors import ConfigError, ScenarioError
from review.settings.service_levels import Agreements, parse_agreements

if TYPE_CHECKING:
    from review.settings.calendar import BusinessClock

ACTIONS = ("reply", "comment", "owner", "queue", "set", "status", "link", "merge_into")
LINK_KINDS = {
    "refers_to": "RefersTo",
    "depends_on": "DependsOn",
    "parent": "MemberOf",
    "child": "HasMember",
}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_INCIDENT_KEYS = {
    "key", "subject", "created", "queue", "requestor", "creator", "cc", "admincc", "status",
    "fields", "steps",
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    real_name: str
    privileged: bool


@dataclass(frozen=True)
class Site:
    rtname: str
    queues: tuple[tuple[str, str], ...]  # (name, description)
    custom_fields: tuple[str, ...]
    people: tuple[Person, ...]
    sla: Agreements = field(default_factory=Agreements)  # RT's %ServiceAgreements, if on
    sla_by_classification: tuple[tuple[str, str], ...] = ()  # Classification -> level at create

    def person(self, name: str) -> Person | None:
        return next((p for p in self.people if p.name == name), None)

    def sla_at_create(self, incident: Incident) -> str:
        """The level an incident gets at creation: the one the intake sets from its
        Classification, else RT's GetDefaultServiceLevel (queue default, else Default)."""
        if not self.sla.levels:
            return ""
        chosen = dict(self.sla_by_classification).get(incident.fields.get("Classification", ""))
        return chosen or dict(self.sla.queue_defaults).get(incident.queue, self.sla.default)

    def sla_sent_at_create(self, incident: Incident) -> str:
        """The level the intake names when it creates the ticket ("" = RT's default applies)."""
        if not self.sla.levels:
            return ""
        return dict(self.sla_by_classification).get(incident.fields.get("Classification", ""), "")


@dataclass(frozen=True)
class Step:
    """One action at one instant: `action` is one of ACTIONS, `value` its argument."""

    at: datetime
    by: str
    action: str
    value: Any


@dataclass
class Incident:
    key: str
    subject: str
    created: datetime
    queue: str
    requestors: tuple[str, ...]
    creator: str
    cc: tuple[str, ...]
    admincc: tuple[str, ...]
    status: str
    fields: dict[str, str]
    steps: list[Step]
    source: str
    ticket_id: int = 0


@dataclass
class ScenarioSet:
    site: Site
    incidents: list[Incident] = field(default_factory=list)

    def timeline(self) -> list[tuple[datetime, int, int, Incident, Step | None]]:
        """Every creation and step of every incident in the order they happen.

        Ties keep creation before steps and file order; a replay walks this list.
        """
        entries: list[tuple[datetime, int, int, Incident, Step | None]] = []
        for incident in self.incidents:
            entries.append((incident.created, incident.ticket_id, -1, incident, None))
            for number, step in enumerate(incident.steps):
                entries.append((step.at, incident.ticket_id, number, incident, step))
        return sorted(entries, key=lambda e: (e[0], e[1], e[2]))


def business_clock(scenarios: ScenarioSet) -> BusinessClock:
    """The business hours the site's levels run on: the default config's [calendar] (the
    bundled sample is read with the default config), for every year the scenarios touch."""
    from review.settings.calendar import BusinessClock
    from review.settings.config import default_config

    calendar = default_config().calendar
    years = [i.created.year for i in scenarios.incidents] or [2026]
    return BusinessClock(calendar, first_year=min(years), last_year=max(years) + 1)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(str(text).strip())
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration like 15m, 2h, 1d2h30m")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


def parse_instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset such as -04:00")
    return moment.astimezone(UTC)


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", str(path)) from None


def _site(path: Path) -> Site:
    raw = _load_yaml(path)
    try:
        people = [
            Person(p["name"], p.get("email", ""), p.get("real_name", ""), privileged)
            for key, privileged in (("staff", True), ("customers", False))
            for p in raw.get(key, [])
        ]
        return Site(
            rtname=raw.get("rtname", "example"),
            queues=tuple((q["name"], q.get("description", "")) for q in raw["queues"]),
            custom_fields=tuple(raw["custom_fields"]),
            people=tuple(people),
            **_site_sla(raw.get("sla"), str(path)),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ScenarioError(
            f"site file needs queues, custom_fields, staff, customers ({exc})", str(path)
        ) from None


def _site_sla(raw: Any, path: str) -> dict[str, Any]:
    """site.yaml's `sla` block: the keys of the config's [sla] section (RT's terms) plus
    `by_classification`, the level the intake form sets from the Classification."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ScenarioError("sla must be a mapping like the config's [sla] section", path)
    section = {"default": "", "queue_defaults": {}, "levels": {}, "handoff_ola_hours": 8, **raw}
    by_class = section.pop("by_classification", None) or {}
    try:
        agreements = parse_agreements(section, path)
    except ConfigError as exc:
        raise ScenarioError(str(exc), path) from None
    unknown = sorted(set(by_class.values()) - {lv.name for lv in agreements.levels})
    if unknown:
        raise ScenarioError(f"sla.by_classification names undefined level {unknown[0]!r}", path)
    return {
        "sla": agreements,
        "sla_by_classification": tuple((str(k), str(v)) for k, v in by_class.items()),
    }


def _step(raw: dict[str, Any], previous: datetime, source: str, key: str) -> Step:
    actions = [a for a in ACTIONS if a in raw]
    unknown = set(raw) - set(ACTIONS) - {"by", "after", "at"}
    if len(actions) != 1 or unknown or "by" not in raw:
        raise ScenarioError(
            f"step {raw!r} needs `by`, `after` or `at`, and exactly one of {', '.join(ACTIONS)}",
            source,
            key,
        )
    try:
        if "at" in raw:
            at = parse_instant(raw["at"])
        elif "after" in raw:
            at = previous + parse_duration(raw["after"])
        else:
            raise ValueError("a step needs `after` or `at`")
    except ValueError as exc:
        raise ScenarioError(str(exc), source, key) from None
    if at < previous:
        raise ScenarioError(f"step {raw!r} happens before the step before it", source, key)
    action = actions[0]
    value = raw[action]
    if action == "link" and (
        not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in LINK_KINDS
    ):
        raise ScenarioError(f"link must be one of {', '.join(LINK_KINDS)}: <key>", source, key)
    if action == "set" and not isinstance(value, dict):
        raise ScenarioError("set takes a mapping of custom field to value", source, key)
    return Step(at=at, by=str(raw["by"]), action=action, value=value)


def _incident(raw: dict[str, Any], source: str) -> Incident:
    key = str(raw.get("key", "?"))
    unknown = set(raw) - _INCIDENT_KEYS
    if unknown:
        raise ScenarioError(
            f"unknown keys {sorted(unknown)}; allowed: {sorted(_INCIDENT_KEYS)}", source, key
        )
    for needed in ("key", "subject", "created", "queue", "requestor"):
        if needed not in raw:
            raise ScenarioError(f"missing `{needed}`", source, key)
    try:
        created = parse_instant(raw["created"])
    except ValueError as exc:
        raise ScenarioError(str(exc), source, key) from None
    requestors = _names(raw["requestor"])
    steps: list[Step] = []
    previous = created
    for step in raw.get("steps") or []:
        steps.append(_step(step, previous, source, key))
        previous = steps[-1].at
    return Incident(
        key=key,
        subject=str(raw["subject"]),
        created=created,
        queue=str(raw["queue"]),
        requestors=requestors,
        creator=str(raw.get("creator", requestors[0])),
        cc=_names(raw.get("cc")),
        admincc=_names(raw.get("admincc")),
        status=str(raw.get("status", "new")),
        fields={str(k): str(v) for k, v in (raw.get("fields") or {}).items()},
        steps=steps,
        source=source,
    )


def load_scenarios(directory: str | Path) -> ScenarioSet:
    """Parse site.yaml and every other *.yaml in `directory`; ticket ids follow creation order."""
    root = Path(directory)
    site_file = root / "site.yaml"
    if not site_file.is_file():
        raise ScenarioError("missing site.yaml (queues, custom fields and people)", str(root))
    scenarios = ScenarioSet(site=_site(site_file))
    for path in sorted(root.glob("*.yaml")):
        if path.name == "site.yaml":
            continue
        raw = _load_yaml(path) or {}
        for item in raw.get("incidents", []):
            scenarios.incidents.append(_incident(item, path.name))
    scenarios.incidents.sort(key=lambda i: i.created)  # stable: ties keep file order
    seen: set[str] = set()
    for number, incident in enumerate(scenarios.incidents, start=1):
        if incident.key in seen:
            raise ScenarioError("duplicate key", incident.source, incident.key)
        seen.add(incident.key)
        incident.ticket_id = number
    _check_references(scenarios)
    return scenarios


def _check_references(scenarios: ScenarioSet) -> None:
    site = scenarios.site
    queues = {name for name, _ in site.queues}
    for incident in scenarios.incidents:
        where = (incident.source, incident.key)
        names = [incident.creator, *incident.requestors, *incident.admincc]
        names += [s.by for s in incident.steps]
        names += [
            str(s.value) for s in incident.steps if s.action == "owner" and s.value != "Nobody"
        ]
        for name in names:
            if site.person(name) is None:
                raise ScenarioError(f"{name!r} is not a person in site.yaml", *where)
        moved_to = [str(s.value) for s in incident.steps if s.action == "queue"]
        for queue in [incident.queue, *moved_to]:
            if queue not in queues:
                raise ScenarioError(f"queue {queue!r} is not in site.yaml", *where)
        set_fields = [f for s in incident.steps if s.action == "set" for f in s.value]
        for name in [*incident.fields, *set_fields]:
            if name not in site.custom_fields:
                raise ScenarioError(f"custom field {name!r} is not in site.yaml", *where)
        targets = [next(iter(s.value.values())) for s in incident.steps if s.action == "link"]
        targets += [s.value for s in incident.steps if s.action == "merge_into"]
        keys = {i.key for i in scenarios.incidents}
        for target in targets:
            if target not in keys:
                raise ScenarioError(f"link or merge to unknown incident {target!r}", *where)
