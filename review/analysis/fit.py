"""Does the config fit the data? The config held against a survey of the snapshot.

One DataProblem per misfit, each naming what the config says, what the data has instead
and what it costs (the metrics that cannot be computed, the rules that cannot observe):
a custom field no ticket carries, a status no role of [statuses] names, a configured
status no ticket holds, a classification or resolution value the field never takes (or
one it takes that the config does not name), an ops or developer queue no ticket used, an
SLA level the config does not define. What the close-out adds (the registry's services,
the rules each field feeds) comes in through `uses` and review.closeout.fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from review.analysis.metrics import METRICS
from review.analysis.problems import DataProblem
from review.analysis.survey import INACTIVE, Survey
from review.settings.config import Config
from review.settings.sections import DELETED

# metrics columns that show a custom field's value as it is
_FIELD_COLUMNS = {"service": "service", "classification": "classification"}
# what a value the config does not name is read as
_UNNAMED = {
    "classification": "neither urgent nor a hand-off",
    "resolution": "neither permanent nor temporary",
}


def config_problems(
    survey: Survey, config: Config, uses: Mapping[str, Sequence[str]] | None = None
) -> list[DataProblem]:
    """Every way `config` does not fit the surveyed data (mismatches and notes).

    `uses` maps a config key ('fields.validated_by') to what else needs it ('rule
    not-validated'), named in the problem's line; the metrics that read a key are found
    from their declarations.
    """
    uses = dict(uses or {})
    if not survey.tickets:  # a quiet window: nothing to hold the config against
        return [
            DataProblem(
                "no-tickets",
                f"{survey.source} holds no tickets: nothing to hold the config against",
                (),
                False,
            )
        ]
    return [
        *_fields(survey, config, uses),
        *_statuses(survey, config),
        *_values(survey, config, "classification", config.fields.classification),
        *_values(survey, config, "resolution", config.fields.resolution_type),
        *_queues(survey, config),
        *_sla(survey, config),
    ]


def needs(key: str, uses: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """What cannot be computed or observed without config key `key`: metrics, then `uses`."""
    metrics = [m.key for m in METRICS.values() if key in m.reads]
    found = [f"metric{'s' if len(metrics) > 1 else ''} {_listed(metrics)}"] if metrics else []
    section, _, name = key.partition(".")
    if section == "fields" and name in _FIELD_COLUMNS:
        found.append(f"the metrics column {_FIELD_COLUMNS[name]}")
    return found + list((uses or {}).get(key, ()))


def _listed(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fields(survey: Survey, config: Config, uses: dict[str, Sequence[str]]) -> list[DataProblem]:
    found = []
    for key, name in vars(config.fields).items():
        lost = needs(f"fields.{key}", uses)
        plural = len(lost) > 1 or any(part.startswith("metrics ") for part in lost)
        cost = f", so {_listed(lost)} {'are' if plural else 'is'} not observable"
        if not name:
            found.append(
                DataProblem(
                    "field-unset", f"[fields] {key} is not set{cost if lost else ''}", (), False
                )
            )
        elif not survey.has_field(name):
            found.append(
                DataProblem(
                    "field-absent",
                    f"[fields] {key} = '{name}' is on none of the {survey.tickets} tickets"
                    f"{cost if lost else ''}; fields on these tickets: {survey.fields_text()}",
                )
            )
        elif survey.field(name) is None:
            found.append(
                DataProblem(
                    "field-empty",
                    f"[fields] {key} = '{name}' is empty on all {survey.tickets} tickets",
                    (),
                    False,
                )
            )
    return found


def _statuses(survey: Survey, config: Config) -> list[DataProblem]:
    seen = {st.name for st in survey.statuses}
    return (
        _status_roles(survey, config)
        + _inactive_unseen(survey, config, seen)
        + _initial_unseen(survey, config, seen)
        + [
            DataProblem("status-unseen", f"[statuses] active '{n}' is on no ticket", (), False)
            for n in config.statuses.active
            if n not in seen
        ]
    )


def _status_roles(survey: Survey, config: Config) -> list[DataProblem]:
    """A status RT uses that [statuses] does not name, or names with a role RT's dates deny."""
    s = config.statuses
    found = []
    role_of = {s.initial: "initial", **dict.fromkeys(s.active, "active")}
    role_of.update(dict.fromkeys(s.inactive, INACTIVE))
    for status in survey.statuses:
        said = f"RT's dates say it is {status.role} ({status.evidence})" if status.role else ""
        if status.name not in role_of:
            where = status.role or "active or inactive"
            found.append(
                DataProblem(
                    "status-unknown",
                    f"status '{status.name}' ({status.counts()}) is not in [statuses]; "
                    + (said or f"its role is not known ({status.evidence})")
                    + f": add it to statuses.{'initial' if where == 'initial' else where}",
                )
            )
        elif status.role and _contradicts(role_of[status.name], status.role):
            found.append(
                DataProblem(
                    "status-role",
                    f"[statuses] {role_of[status.name]} names '{status.name}', but {said}",
                )
            )
    return found


def _inactive_unseen(survey: Survey, config: Config, seen: set[str]) -> list[DataProblem]:
    """No configured inactive status on any ticket blocks resolution; one unseen is a note."""
    inactive = config.statuses.inactive
    if any(name in seen for name in inactive):
        return [
            DataProblem("status-unseen", f"[statuses] inactive '{n}' is on no ticket", (), False)
            for n in inactive
            if n not in seen and n != DELETED  # RT's searches never show a deleted ticket
        ]
    metrics = [m.key for m in METRICS.values() if "statuses.inactive" in m.reads]
    closed = [st.name for st in survey.statuses if st.role == INACTIVE]
    return [
        DataProblem(
            "inactive-unseen",
            f"[statuses] inactive = {', '.join(inactive)}: no ticket is or was in any of "
            f"them, so {_listed(metrics)} cannot be computed (every incident reads as still "
            f"open); statuses now: {survey.statuses_text()}"
            + (f"; RT's dates say these are inactive: {', '.join(closed)}" if closed else ""),
        )
    ]


def _initial_unseen(survey: Survey, config: Config, seen: set[str]) -> list[DataProblem]:
    """The configured initial status on no ticket: name the statuses tickets were created in."""
    initial = config.statuses.initial
    if initial in seen:
        return []
    metrics = [m.key for m in METRICS.values() if "statuses.initial" in m.reads]
    created = sorted(
        (st for st in survey.statuses if st.at_creation), key=lambda st: -st.at_creation
    )
    return [
        DataProblem(
            "initial-unseen",
            f"[statuses] initial = '{initial}' is on no ticket, so {_listed(metrics)} "
            "cannot count a staff move out of it; tickets were created in: "
            + (", ".join(f"{st.name} ({st.at_creation})" for st in created) or "none"),
        )
    ]


def _contradicts(configured: str, evidence: str) -> bool:
    """Whether the config's role for a status disagrees with RT's record of it.

    RT's dates tell closed from not closed surely; initial from active only by Started,
    which a ticket created in an active status also lacks when it was set by hand.
    """
    return (configured == INACTIVE) != (evidence == INACTIVE)


def _values(survey: Survey, config: Config, section: str, field_name: str) -> list[DataProblem]:
    field = survey.field(field_name) if field_name else None
    if field is None:
        return []  # the field itself is reported by _fields
    configured = {k: v for k, v in vars(getattr(config, section)).items() if v}
    values = dict(field.values)
    unseen = {k: v for k, v in configured.items() if v not in values}
    unnamed = [(v, n) for v, n in field.values if v not in configured.values()]
    if unseen:
        return [
            DataProblem(
                f"{section}-unseen",
                f"[{section}] {key} = '{value}' is never a value of {field_name}; "
                f"its values: {field.top(8)}",
                (),
                bool(unnamed),
            )
            for key, value in unseen.items()
        ]
    if unnamed:
        shown = ", ".join(f"{v} ({n})" for v, n in unnamed[:8])
        return [
            DataProblem(
                f"{section}-unnamed",
                f"values of {field_name} that [{section}] does not name: {shown}; they are read "
                f"as {_UNNAMED[section]}",
            )
        ]
    return []


def _queues(survey: Survey, config: Config) -> list[DataProblem]:
    def used(name: str) -> bool:
        q = survey.queue(name)
        return q is not None and bool(q.now or q.created or q.moved_in or q.moved_out)

    found = []
    handoffs = _listed(needs("queues.developer"))
    created = sorted((q for q in survey.queues if q.created), key=lambda q: -q.created)
    for name in config.queues.ops:
        if not used(name):
            found.append(
                DataProblem(
                    "queue-unseen",
                    f"[queues] ops '{name}' holds no ticket (none created in it, moved through "
                    f"it or in it now), so {handoffs} miss the hand-offs from it; tickets were "
                    "created in: " + ", ".join(f"{q.name} ({q.created})" for q in created),
                )
            )
    developer = [n for n in config.queues.developer if used(n)]
    into = sorted((q for q in survey.queues if q.moved_in), key=lambda q: -q.moved_in)
    if config.queues.developer and not developer:
        found.append(
            DataProblem(
                "queue-unseen",
                f"[queues] developer = {', '.join(config.queues.developer)}: no ticket was in "
                f"any of them, so {handoffs} count no hand-off; tickets were moved into: "
                + (", ".join(f"{q.name} ({q.moved_in})" for q in into) or "no other queue"),
            )
        )
    else:
        found += [
            DataProblem("queue-unseen", f"[queues] developer '{n}' holds no ticket", (), False)
            for n in config.queues.developer
            if n not in developer
        ]
    configured = {*config.queues.ops, *config.queues.developer}
    # a developer queue no ticket touched while tickets moved into one the config does not
    # name: the shape of a queue renamed in RT (dev-web -> web-dev), its hand-offs lost
    unseen = [n for n in config.queues.developer if n not in developer] if developer else []
    found += [
        DataProblem(
            "queue-unnamed",
            f"queue '{q.name}' ({q.now} ticket(s) now, {q.moved_in} moved in) is neither in "
            "[queues] ops nor developer: moves into it are not hand-offs"
            + (
                f", while [queues] developer {', '.join(repr(n) for n in unseen)} holds no "
                f"ticket: if '{q.name}' is a developers' queue (renamed in RT since the config "
                f"named it, say), add it to [queues] developer, or {handoffs} miss its hand-offs"
                if unseen and q.moved_in
                else ""
            ),
            (),
            bool(unseen and q.moved_in),
        )
        for q in survey.queues
        if q.name not in configured and (q.now or q.moved_in)
    ]
    return found


def _sla(survey: Survey, config: Config) -> list[DataProblem]:
    levels = {level.name for level in config.sla.levels}
    if not levels:
        return []
    unknown = [(name, n) for name, n in survey.sla_levels if name not in levels]
    if not unknown:
        return []
    return [
        DataProblem(
            "sla-level-unknown",
            "SLA levels on the tickets that [sla.levels] does not define: "
            + ", ".join(f"{name} ({n})" for name, n in unknown)
            + f"; defined: {', '.join(sorted(levels))}",
        )
    ]
