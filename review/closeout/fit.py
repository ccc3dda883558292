"""Does the close-out's side of the config fit the data? The registry and the rules' fields.

`uses` says which rules and checklist steps read each [fields] key, so a field no ticket
carries names what it takes away (review.analysis.fit words the line). `registry_problems`
holds the service registry against the Service values the tickets carry: a registry that
names none of them is another site's (the example shipped with the kit, say); values it
does not name are worth a note (the unknown-service-owner rule flags them as findings).
"""

from __future__ import annotations

from review.analysis.problems import DataProblem
from review.analysis.survey import Survey
from review.closeout.audit import registry_where
from review.closeout.registry import Registry
from review.closeout.rules import RULES
from review.closeout.steps import STEPS
from review.settings.config import Config


def uses() -> dict[str, list[str]]:
    """Config key ('fields.validated_by') -> the rules and checklist steps that read it."""
    found: dict[str, list[str]] = {}
    for rule in RULES.values():
        for key in rule.reads:
            found.setdefault(f"fields.{key}", []).append(f"rule {rule.id}")
    for step in STEPS.values():
        for key in step.reads:
            found.setdefault(f"fields.{key}", []).append(f"checklist step '{step.label}'")
    found.setdefault("fields.root_cause", []).append("recurrences")
    return found


def registry_problems(survey: Survey, config: Config, registry: Registry) -> list[DataProblem]:
    """The registry's services against the Service values of the tickets."""
    field = survey.field(config.fields.service) if config.fields.service else None
    if field is None or not registry.services:
        return []  # no Service values (review.analysis.fit reports the field)
    names = {n.strip().casefold() for s in registry.services for n in s.rt_names}
    unnamed = [(v, n) for v, n in field.values if v.strip().casefold() not in names]
    where = registry_where(registry)
    if len(unnamed) == len(field.values):
        services = ", ".join(s.service for s in registry.services[:8])
        more = len(registry.services) - 8
        return [
            DataProblem(
                "registry-unmatched",
                f"the registry {where} names none of the {field.name} values: {field.top(8)}; "
                f"its services: {services}{f' and {more} more' if more > 0 else ''} (`review "
                "init` drafts entries for this site's services)",
            )
        ]
    if unnamed:
        shown = ", ".join(f"{v} ({n})" for v, n in unnamed[:8])
        return [
            DataProblem(
                "registry-partial",
                f"{field.name} values not in the registry {where}: {shown} (rule "
                "unknown-service-owner flags their incidents)",
                (),
                False,
            )
        ]
    return []
