"""`review init`'s drafts: a commented config and a registry skeleton from what a site holds.

The config names the kit's keys where the evidence is clear (a field whose name or values
are the kit's, statuses whose role RT's own records show, the queue tickets start in and
leave from) and leaves the others open, commented out, with the candidates the data offers
beside them; the business calendar always (no data names the team's zone or hours). Every
line of site data in a comment is escaped to stay on its line (a value with a line break must
not become a config key). `review check` then says what is still
open: the defaults of a key left open do not fit the data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from review.analysis.survey import ACTIVE, INACTIVE, INITIAL, FieldSurvey, Survey, roles
from review.settings.config import Config, default_config
from review.settings.sections import DELETED
from review.text import one_line

CHOOSE = "CHOOSE"
# words in a field's name that make it a candidate for a key of [fields]
_FIELD_WORDS = {
    "service": ("service", "system", "application", "app", "product", "component"),
    "service_owner": ("owner", "steward", "team", "group"),
    "business_owner": ("business", "sponsor", "customer", "department"),
    "classification": ("class", "kind", "type", "severity", "priority", "category", "impact"),
    "resolution_type": ("resolution", "fix", "remedy", "solution"),
    "validated_by": ("validat", "verif", "sign", "approv", "confirm"),
    "root_cause": ("cause", "root", "reason", "origin"),
}
# words in a value that make it a candidate for a classification or resolution key
_VALUE_WORDS = {
    "urgent_outage": ("outage", "down", "p1", "sev1", "sev 1", "critical"),
    "urgent_degraded": ("degrad", "slow", "partial", "p2", "sev2", "sev 2", "major"),
    "handoff": ("hand", "plan", "backlog", "defer", "develop"),
    "permanent": ("perman", "durable", "final", "root"),
    "temporary": ("tempor", "workaround", "interim", "stopgap"),
}
_REJECTED_WORDS = ("reject", "withdraw", "cancel", "duplicate", "invalid", "spam", "not a")


@dataclass
class Draft:
    """The config text, the registry text, and what was left open (for the command's summary)."""

    config: str
    registry: str
    open_keys: list[str] = field(default_factory=list)


def _q(text: str) -> str:
    """A TOML (and YAML) double-quoted string."""
    return json.dumps(text, ensure_ascii=False)


def _c(text: str) -> str:
    """Site data in a comment: one line, control characters escaped."""
    return one_line(text)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def _names(items: Iterable[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.open: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def key(
        self, section: str, key: str, value: str | None, why: str, candidates: str,
        suggestion: str | None = None,
    ) -> None:  # fmt: skip
        """`key = value  # why`, or left open: the candidates, then the suggested line
        commented out (uncomment it to take it)."""
        if value is not None:
            self.add(f"{key} = {value}  # {_c(why)}")
            return
        self.open.append(f"{section}.{key}")
        self.add(f"# {CHOOSE} {key}: {_c(candidates)}")
        if suggestion is not None:
            self.add(f"# {key} = {suggestion}")


def draft(survey: Survey, offered_values: dict[str, tuple[str, ...]] | None = None,
          offered_statuses: Sequence[str] = (), registry_file: str = "services.yaml",
          today: date | None = None) -> Draft:  # fmt: skip
    """The config and registry drafts for a surveyed site (see the module docstring)."""
    defaults = default_config()
    offered = offered_values or {}
    w = _Writer()
    w.add(
        "# Incident review kit: a config drafted by `review init` from "
        f"{_c(survey.source)} ({survey.tickets} tickets), {today or date.today()}.",
        f"# Keys marked {CHOOSE} are left open (commented out: the kit's default applies, and",
        "# `review check` says where it does not fit); the candidates the data offers are",
        "# beside them. Complete them, then run `review check --config THIS-FILE`.",
        "# Every key and its meaning: review/settings/default_config.toml (README: Configuration).",
        "",
    )
    fields = _fields(w, survey, offered, defaults)
    _queues(w, survey, defaults)
    _statuses(w, survey, offered_statuses)
    for section, key in (("classification", "classification"), ("resolution", "resolution_type")):
        _values(w, survey, section, fields.get(key), offered, defaults)
    _calendar(w, defaults)
    _sla(w, survey)
    w.add("[gaps]", "# The service registry `review init` drafted beside this file.",
          f"registry = {_q(registry_file)}", "")  # fmt: skip
    return Draft(
        config="\n".join(w.lines) + "\n",
        registry=registry_skeleton(survey, fields.get("service"), today),
        open_keys=w.open,
    )


# --------------------------------------------------------------------------- [fields]


def _field_line(f: FieldSurvey) -> str:
    return f"{f.name}: filled on {f.filled} tickets; {len(f.values)} values: {f.top(4)}"


def _fields(
    w: _Writer, survey: Survey, offered: dict[str, tuple[str, ...]], defaults: Config
) -> dict[str, str]:
    """Write [fields]; the chosen field name per key (only those clear from the data)."""
    w.add("[fields]", "# Ticket custom fields on the tickets (most filled first):")
    w.add(*(f"#   {_c(_field_line(f))}" for f in survey.fields))
    empty = sorted(survey.defined_fields - {f.name for f in survey.fields})
    if empty:
        w.add(f"#   on the tickets but never filled: {_c(', '.join(empty))}")
    chosen: dict[str, str] = {}
    for key, default in vars(defaults.fields).items():
        name, why = _clear_field(survey, key, default, offered, defaults)
        if name:
            chosen[key] = name
        ranked = _field_candidates(survey, key)
        rival = _filled_rival(survey, default)
        candidates = (
            (f"{default} is on the tickets but never filled, {rival} is; " if rival else "")
            + (f"candidates by name: {', '.join(ranked)}" if ranked else "no field matches by name")
            + '; "" if the site does not record it'
        )
        w.key(
            "fields", key, _q(name) if name else None, why, candidates,
            _q(rival or ranked[0]) if rival or ranked else _q(""),
        )  # fmt: skip
    w.add("")
    return chosen


def _clear_field(
    survey: Survey, key: str, default: str, offered: dict[str, tuple[str, ...]], defaults: Config
) -> tuple[str, str]:
    """(field name, why) when the data leaves no doubt, else ('', '')."""
    by_name = [n for n in _all_fields(survey, offered) if _norm(n) == _norm(default)]
    if len(by_name) == 1 and not _filled_rival(survey, default):
        return by_name[0], "the kit's name for it"
    kit_values = {
        "classification": set(vars(defaults.classification).values()),
        "resolution_type": set(vars(defaults.resolution).values()),
    }.get(key)
    if kit_values:
        matches = [
            n
            for n in _all_fields(survey, offered)
            if len(kit_values & _values_of(survey, n, offered)) >= 2
        ]
        if len(matches) == 1:
            return matches[0], "its values are the kit's"
    return "", ""


def _filled_rival(survey: Survey, default: str) -> str | None:
    """A filled field whose name holds the kit's (Affected Service) when the kit's own name
    is on the tickets but never filled (a field left behind): the kit's name is then no
    evidence, the rival the likelier home of the data (the kit's other names are no rival)."""
    carried = survey.defined_fields | {f.name for f in survey.fields}
    own = [n for n in carried if _norm(n) == _norm(default)]
    if not own or any(survey.field(n) for n in own):
        return None
    kit = {_norm(n) for n in vars(default_config().fields).values()}
    rivals = [
        f.name
        for f in survey.fields
        if _norm(default) in _norm(f.name) and _norm(f.name) not in kit
    ]
    return rivals[0] if rivals else None


def _all_fields(survey: Survey, offered: dict[str, tuple[str, ...]]) -> list[str]:
    return sorted(survey.defined_fields | {f.name for f in survey.fields} | set(offered))


def _values_of(survey: Survey, name: str, offered: dict[str, tuple[str, ...]]) -> set[str]:
    found = survey.field(name)
    have = {v for v, _ in found.values} if found else set()
    return have | set(offered.get(name, ()))


def _field_candidates(survey: Survey, key: str) -> list[str]:
    """Fields whose name has one of the key's words, most filled first."""
    words = _FIELD_WORDS[key]
    names = survey.defined_fields | {f.name for f in survey.fields}
    hits = [n for n in names if any(word in n.casefold() for word in words)]
    filled = {f.name: f.filled for f in survey.fields}
    return sorted(hits, key=lambda n: (-filled.get(n, 0), n))


# --------------------------------------------------------------------------- [queues]


def _queues(w: _Writer, survey: Survey, defaults: Config) -> None:
    w.add(
        "[queues]", "# Queues (tickets created in it, now in it, moved in, moved out; lifecycle):"
    )
    for q in sorted(survey.queues, key=lambda q: (-q.created, -q.now, q.name)):
        w.add(
            f"#   {_c(q.name)}: {q.created} created, {q.now} now, {q.moved_in} moved in, "
            f"{q.moved_out} moved out; lifecycle {_c(q.lifecycle or '?')}"
        )
    used = [q for q in survey.queues if q.created or q.now or q.moved_in]
    created = sorted(used, key=lambda q: -q.created)
    total = sum(q.created for q in used)
    ops = None
    if created and created[0].created * 2 > total and (created[0].moved_out or len(used) == 1):
        ops = created[0]
    w.key(
        "queues",
        "ops",
        _names([ops.name]) if ops else None,
        f"{ops.created} of {total} tickets were created in it" if ops else "",
        "the queue problems arrive in; by tickets created: "
        + ", ".join(f"{q.name} ({q.created})" for q in created[:5]),
        _names([created[0].name]) if created else None,
    )
    developer = [q for q in used if q.moved_in and (ops is None or q.name != ops.name)]
    developer.sort(key=lambda q: -q.moved_in)
    w.key(
        "queues",
        "developer",
        _names(q.name for q in developer) if ops and developer else None,
        f"tickets were moved into them from {ops.name if ops else '?'}",
        "the developers' queues tickets are handed off to; by moves in: "
        + (", ".join(f"{q.name} ({q.moved_in})" for q in developer) or "none"),
        _names(q.name for q in developer),
    )
    w.add("")


# --------------------------------------------------------------------------- [statuses]


def _statuses(w: _Writer, survey: Survey, offered: Sequence[str]) -> None:
    w.add("[statuses]", "# Statuses (tickets now in it, tickets that held it; role and why):")
    for s in survey.statuses:
        role = s.role or "role unknown"
        w.add(f"#   {_c(s.name)}: {s.now} now, {s.ever} held it; {role}: {_c(s.evidence)}")
    seen = {s.name for s in survey.statuses}
    extra = [name for name in offered if name not in seen]
    if extra:
        w.add(f"#   offered by the lifecycle but held by no ticket: {_c(', '.join(extra))}")
    w.add(f"#   {DELETED}: RT's status of a deleted ticket; inactive whether listed or not "
          "(RT's searches never show such a ticket, and the kit counts none)")  # fmt: skip
    # a status RT's records leave open but the kit's lifecycle names: the kit's role
    kit = default_config().statuses
    kit_roles = {kit.initial: INITIAL, **dict.fromkeys(kit.active, ACTIVE)}
    kit_roles.update(dict.fromkeys(kit.inactive, INACTIVE))
    unknown = [s.name for s in survey.statuses if not s.role and s.name not in kit_roles]
    named = [s.name for s in survey.statuses if not s.role and kit_roles.get(s.name) == ACTIVE]
    initial = roles(survey.statuses, INITIAL)
    w.key(
        "statuses",
        "initial",
        _q(initial[0]) if initial else None,
        "tickets start in it"
        + (f" (also initial: {', '.join(initial[1:])})" if initial[1:] else ""),
        "the status new tickets start in; statuses at creation: "
        + ", ".join(f"{s.name} ({s.at_creation})" for s in survey.statuses if s.at_creation),
    )
    active = roles(survey.statuses, ACTIVE) + named
    w.key(
        "statuses",
        "active",
        _names(active) if active and not unknown else None,
        "RT's records or the kit's lifecycle name them active",
        f"RT's records do not say whether {', '.join(unknown)} are worked-on (active) or "
        "closed (inactive) statuses",
        _names([*active, *unknown]),
    )
    inactive = roles(survey.statuses, INACTIVE)
    w.key(
        "statuses",
        "inactive",
        _names(inactive) if inactive else None,
        "RT counts them inactive",
        "the statuses a closed ticket has; none shows in RT's records",
        _names(unknown),
    )
    rejected = [n for n in inactive if any(word in n.casefold() for word in _REJECTED_WORDS)]
    w.key(
        "statuses",
        "rejected",
        _names(rejected) if rejected else None,
        "its name says the ticket was not a problem",
        "the inactive statuses that mean 'not a problem'; [] if none",
        _names(inactive[1:]),
    )
    w.add("")


# --------------------------------------------------------------------------- values


def _values(
    w: _Writer,
    survey: Survey,
    section: str,
    field_name: str | None,
    offered: dict[str, tuple[str, ...]],
    defaults: Config,
) -> None:
    """[classification] or [resolution]: the kit's values where the field has them, else the
    field's values as candidates (of the likeliest field when none was clear)."""
    w.add(f"[{section}]")
    name = field_name
    if name is None:
        ranked = _field_candidates(survey, "classification" if section == "classification"
                                   else "resolution_type")  # fmt: skip
        name = ranked[0] if ranked else None
        w.add(
            "# The field is not clear yet (see [fields]); "
            + (f"the values of its likeliest, {_c(name)}:" if name else "no field is likely.")
        )
    found = survey.field(name) if name else None
    values = [v for v, _ in found.values] if found else []
    values += [v for v in offered.get(name or "", ()) if v not in values]
    counts = dict(found.values) if found else {}
    if name is not None:
        w.add(
            f"# Values of {_c(name)}: "
            + (_c(", ".join(f"{v} ({counts.get(v, 0)})" for v in values)) or "none")
        )
    for key, default in vars(getattr(defaults, section)).items():
        exact = field_name is not None and default in values
        hits = [v for v in values if any(word in v.casefold() for word in _VALUE_WORDS[key])]
        w.key(
            section,
            key,
            _q(default) if exact else None,
            "the kit's value",
            'which value means it; "" if none does',
            _q(hits[0]) if len(hits) == 1 else _q(""),
        )
    w.add("")


def _calendar(w: _Writer, defaults: Config) -> None:
    """[calendar], every key left open: RT's records hold UTC times only (its $Timezone and
    %ServiceBusinessHours are in RT_SiteConfig.pm), so no data names the team's hours, and a
    draft taken as written would reckon every business hour and month in the kit's zone."""
    cal = defaults.calendar
    w.add(
        "[calendar]",
        "# The team's business hours: every *_bh metric, the hand-off announcement's business",
        "# day, SLA business minutes, and the months of the reports are reckoned in them. RT's",
        "# records cannot tell them (RT's $Timezone and %ServiceBusinessHours are in",
        "# RT_SiteConfig.pm): until set, the kit's default applies, "
        f"{cal.timezone} {cal.start:%H:%M}-{cal.end:%H:%M}",
        f"# {', '.join(cal.workdays)}, holidays of {cal.holidays_country} "
        f"{cal.holidays_subdivision}.",
    )
    keys = (
        ("timezone", _q(cal.timezone), "the IANA zone of the team's hours (RT's $Timezone)"),
        ("workdays", _names(cal.workdays), "the team's working days (Mon to Sun)"),
        ("start", _q(f"{cal.start:%H:%M}"), "when the working day starts, HH:MM local"),
        ("end", _q(f"{cal.end:%H:%M}"), "when the working day ends, HH:MM local"),
        ("holidays_country", _q(cal.holidays_country), 'ISO country of the holidays; "" for none'),
        ("holidays_subdivision", _q(cal.holidays_subdivision), 'its state or region; "" for none'),
    )
    for key, default, what in keys:
        w.key("calendar", key, None, "", what, default)
    w.add("")


def _sla(w: _Writer, survey: Survey) -> None:
    levels = ", ".join(f"{name} ({n})" for name, n in survey.sla_levels) or "none"
    w.add(
        "[sla]",
        f"# SLA levels on the tickets: {_c(levels)}. Without [sla.levels] the kit reads the Due",
        "# dates RT recorded; to recompute deadlines, copy RT's %ServiceAgreements here",
        "# (README: Service levels after the fact).",
        "",
    )


# --------------------------------------------------------------------------- the registry


def registry_skeleton(survey: Survey, service_field: str | None, today: date | None) -> str:
    """One entry per Service value (most incidents first), every key to complete."""
    found = survey.field(service_field) if service_field else None
    if found is None:
        ranked = _field_candidates(survey, "service")
        found = survey.field(ranked[0]) if ranked else None
    values = list(found.values) if found else []
    lines = [
        f"# Service registry drafted by `review init` from {_c(survey.source)}, "
        f"{today or date.today()}.",
        "# One entry per value of "
        + (f"the field {_c(found.name)}" if found else "the Service field (none found: add yours)")
        + ", most incidents first. Complete each: who owns and supports",
        "# the service, its lists and the queues that are its developers' system of record.",
        "# last_reviewed 1970-01-01 means never: set the day Operations checks the entry.",
        "# The keys: data/services.yaml of the kit (README: Close-out audit and the registry).",
        "operations_staff: []",
        'helpdesk_list: ""',
        'threedown_list: ""',
        "services:",
    ]
    for value, count in values or [("CHANGE ME", 0)]:
        lines += [
            f"  - service: {_q(value)}  # {count} ticket(s)",
            '    service_owner: ""',
            '    business_owner: ""',
            "    tech_leads: []",
            "    support_team: []",
            "    support_assignment: unassigned  # permanent | temporary | unassigned",
            "    announce_lists: []",
            "    support_lists: []",
            "    queues: []",
            "    last_reviewed: 1970-01-01",
        ]
    return "\n".join(lines) + "\n"
