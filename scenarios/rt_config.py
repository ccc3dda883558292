"""The kit's `[sla]` levels and [calendar] as RT site config, for a test or demo RT.

Development tooling: scenarios.replay and tests/rt give a throwaway RT the same service
levels the kit replays, so RT's own Due dates can be compared with ours.
"""

from __future__ import annotations

from review.settings.calendar import BusinessClock
from review.settings.service_levels import RT_TYPES, TYPES, Agreements, Target

_PERL_DAYS = {"Sun": 0, "Mon": 1, "Tue": 2, "Wed": 3, "Thu": 4, "Fri": 5, "Sat": 6}


def _perl_target(target: Target) -> str:
    parts = []
    if target.business_minutes is not None:
        parts.append(f"BusinessMinutes => {target.business_minutes:g}")
    if target.real_minutes is not None:
        parts.append(f"RealMinutes => {target.real_minutes:g}")
    if target.ignore_on_statuses:
        statuses = ", ".join(f"'{s}'" for s in target.ignore_on_statuses)
        parts.append(f"IgnoreOnStatuses => [{statuses}]")
    if target.exclude_time_on_ignored_statuses:
        parts.append("ExcludeTimeOnIgnoredStatuses => 1")
    return "{ " + ", ".join(parts) + " }"


def rt_site_config(agreements: Agreements, clock: BusinessClock) -> str:
    """RT_SiteConfig lines (%ServiceAgreements, %ServiceBusinessHours) for the same levels.

    Every business-hours name a level uses gets [calendar]: its days, hours and holidays
    (for the clock's years); each level runs in the calendar's timezone. Names and statuses
    come from our own config file, which the site controls.
    """
    cal = clock.calendar
    days = ",\n".join(
        f"        {_PERL_DAYS[d]} => {{ Name => '{d}', Start => '{cal.start:%H:%M}', "
        f"End => '{cal.end:%H:%M}' }}"
        for d in cal.workdays
    )
    holidays = " ".join(str(day) for day in clock.holidays)
    names = sorted({lv.business_hours for lv in agreements.levels} | {"Default"})
    hours = ",\n".join(
        f"    '{name}' => {{\n{days},\n        holidays => [qw({holidays})],\n    }}"
        for name in names
    )
    levels = []
    for lv in agreements.levels:
        lines = [f"{RT_TYPES[k]} => {_perl_target(t)}" for k in TYPES if (t := lv.target(k))]
        lines += [f"BusinessHours => '{lv.business_hours}'", f"Timezone => '{cal.timezone}'"]
        if lv.start_immediately:
            lines.append("StartImmediately => 1")
        body = ",\n".join(f"            {line}" for line in lines)
        levels.append(f"        '{lv.name}' => {{\n{body},\n        }}")
    queue_defaults = ", ".join(f"'{q}' => '{v}'" for q, v in agreements.queue_defaults)
    default = f"    Default => '{agreements.default}',\n" if agreements.default else ""
    return (
        "Set(%ServiceAgreements, (\n"
        f"{default}"
        f"    QueueDefault => {{ {queue_defaults} }},\n"
        "    Levels => {\n" + ",\n".join(levels) + "\n    },\n));\n"
        "Set(%ServiceBusinessHours, (\n" + hours + "\n));\n1;\n"
    )
