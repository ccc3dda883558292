"""The sections of the config file: what each holds, and the checks that name a wrong key.

Each [section] is a frozen dataclass and a `parse_*` function that checks the merged values
and raises ConfigError naming the key and what is allowed (review.settings.config merges the
user's file over the defaults and builds the Config from these).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from review.errors import ConfigError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Queues:
    ops: tuple[str, ...]
    developer: tuple[str, ...]


@dataclass(frozen=True)
class Statuses:
    inactive: tuple[str, ...]
    initial: str
    active: tuple[str, ...]
    rejected: tuple[str, ...]

    @property
    def known(self) -> tuple[str, ...]:
        """Every status of the configured lifecycle: initial, active, inactive."""
        return (self.initial, *self.active, *self.inactive)


@dataclass(frozen=True)
class Fields:
    service: str
    service_owner: str
    business_owner: str
    classification: str
    resolution_type: str
    validated_by: str
    root_cause: str


@dataclass(frozen=True)
class Classification:
    urgent_outage: str
    urgent_degraded: str
    handoff: str

    @property
    def urgent(self) -> tuple[str, str]:
        return (self.urgent_outage, self.urgent_degraded)


@dataclass(frozen=True)
class Resolution:
    permanent: str
    temporary: str


@dataclass(frozen=True)
class Calendar:
    timezone: str
    workdays: tuple[str, ...]
    start: time
    end: time
    holidays_country: str
    holidays_subdivision: str


@dataclass(frozen=True)
class RTSettings:
    url: str
    verify_tls: bool
    ca_bundle: str
    timeout: float


@dataclass(frozen=True)
class Gaps:
    daily_update_hours: float
    handoff_announce_business_hours: float
    registry_review_days: int
    registry: Path
    recurrence_days: float


@dataclass(frozen=True)
class Checking:
    """How commands treat data the config does not fit (see [check] in default_config.toml)."""

    strict: bool


@dataclass(frozen=True)
class Paths:
    """Where the kit keeps what it derives and writes (see [paths] in default_config.toml)."""

    cache: Path | None  # None: the default of `cache_dir`
    reports: Path
    share_reports: bool = False  # pages readable as the umask allows (review.private)


@dataclass(frozen=True)
class Followups:
    """Where `review follow-ups` files tickets, when they are overdue, who owns them."""

    queue: str
    overdue_days: int
    reports_url: str
    owners: tuple[tuple[str, str], ...]  # (action owner as findings name it, RT user name)

    def rt_user(self, action_owner: str) -> str:
        """The RT user mapped to an action owner, '' when unmapped."""
        return dict(self.owners).get(action_owner, "")


@dataclass(frozen=True)
class Publish:
    """How `review publish` records a review in RT (see [publish] in default_config.toml)."""

    status_field: str  # the ticket custom field that holds the review status ('' = none)


@dataclass(frozen=True)
class Mail:
    """The SMTP server and default recipients; the password is read from SMTP_PASSWORD only."""

    host: str
    port: int
    starttls: bool
    user: str
    sender: str
    to: tuple[str, ...]
    timeout: float = 60.0  # seconds for one message in all (connect, login, send)


def _clock(value: str, key: str, path: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"{key} must be a time like 09:00, got {value!r}", path, key)
    return time(int(match[1]), int(match[2]))


def parse_queues(q: dict[str, Any], path: str) -> Queues:
    """[queues]: at least one ops queue, none also a developer queue."""
    if not q["ops"]:
        raise ConfigError("queues.ops must name at least one queue, e.g. ['ops-help']", path)
    both = sorted(set(q["ops"]) & set(q["developer"]))
    if both:
        raise ConfigError(
            f"queues {both} are listed both in queues.ops and queues.developer; keep each in one",
            path,
            "queues",
        )
    return Queues(tuple(q["ops"]), tuple(q["developer"]))


def parse_calendar(cal: dict[str, Any], path: str) -> Calendar:
    """[calendar]: a known zone, working days, a working day that ends after it starts, and
    holidays the `holidays` package knows."""
    try:
        ZoneInfo(cal["timezone"])
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "US" is a directory in tzdata
        raise ConfigError(
            f"calendar.timezone {cal['timezone']!r} is not a known IANA zone "
            "(for example America/New_York)",
            path,
            "calendar.timezone",
        ) from None
    bad_days = [d for d in cal["workdays"] if d not in WEEKDAYS]
    if bad_days or not cal["workdays"]:
        raise ConfigError(
            f"calendar.workdays has {bad_days or 'nothing'}; allowed: {', '.join(WEEKDAYS)}",
            path,
            "calendar.workdays",
        )
    start = _clock(cal["start"], "calendar.start", path)
    end = _clock(cal["end"], "calendar.end", path)
    if end <= start:
        raise ConfigError("calendar.end must be later than calendar.start", path, "calendar.end")
    _check_holidays(cal["holidays_country"], cal["holidays_subdivision"], path)
    return Calendar(
        timezone=cal["timezone"],
        workdays=tuple(cal["workdays"]),
        start=start,
        end=end,
        holidays_country=cal["holidays_country"],
        holidays_subdivision=cal["holidays_subdivision"],
    )


def _no_credentials(url: str, key: str, path: str, fix: str) -> None:
    """A url in the config holds no user name or password: the kit never reads a credential
    from a file (others may read it, and it is copied about), nor passes one on (a follow-up's
    link is read by everyone in RT). The value is never shown: it may hold a password."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # "https://[::1" (an IPv6 address not closed): a traceback, before
        raise ConfigError(
            f"{key} must be an http(s) address such as https://rt.example.edu/", path, key
        ) from None
    if "@" in netloc:
        raise ConfigError(f"{key} holds a user name or password (user:password@): {fix}", path, key)


def parse_rt(rt: dict[str, Any], path: str) -> RTSettings:
    """[rt]: where RT is and how long to wait for it (credentials come from the environment).

    A url with a user name or password in it is refused: the kit never reads a credential
    from a file (others may read it, and it is copied about); before, it was dropped without
    a word, and the password stayed in the file."""
    fix = (
        "the kit never reads one from a file: take it out of the file and set RT_TOKEN, or "
        "RT_USER and RT_PASSWORD, in the environment"
    )
    _no_credentials(rt["url"], "rt.url", path, fix)
    return RTSettings(
        url=rt["url"],
        verify_tls=rt["verify_tls"],
        ca_bundle=rt["ca_bundle"],
        timeout=_within(rt["timeout"], "rt.timeout", "seconds", 3600, path),
    )


# RT's status of a deleted ticket, a name RT itself fixes (the DeleteTicket right guards the
# move, and its ticket searches leave such tickets out): inactive in RT's lifecycles, so
# inactive here whatever [statuses] lists, unless the file gives it another role
DELETED = "deleted"


def parse_statuses(s: dict[str, Any], own: dict[str, Any], path: str) -> dict[str, Any]:
    """[statuses] with each status in one role, rejected ones inactive, and RT's DELETED
    inactive unless the file names it initial or active.

    A key the file leaves out keeps its default without the statuses the file gives another
    role (a file that only says inactive = ["done", "stalled"] takes stalled out of active).
    """
    s = dict(s)
    taken = {n for key in ("initial", "inactive") if key in own for n in _names(s[key])}
    if "active" not in own:
        s["active"] = [n for n in s["active"] if n not in taken]
    if DELETED not in {*_names(s["initial"]), *s["active"], *s["inactive"]}:
        s["inactive"] = [*s["inactive"], DELETED]
    if "rejected" not in own:
        s["rejected"] = [n for n in s["rejected"] if n in s["inactive"]]
    roles = {"initial": [s["initial"]], "active": s["active"], "inactive": s["inactive"]}
    seen: dict[str, str] = {}
    for role, names in roles.items():
        for name in names:
            if name in seen and seen[name] != role:
                raise ConfigError(
                    f"status {name!r} is both statuses.{seen[name]} and statuses.{role}; "
                    "keep it in one",
                    path,
                    f"statuses.{role}",
                )
            seen[name] = role
    stray = [r for r in s["rejected"] if r not in s["inactive"]]
    if stray:
        raise ConfigError(
            f"statuses.rejected names {stray[0]!r}, which is not in statuses.inactive "
            f"({', '.join(s['inactive'])}); a rejected ticket is a closed one",
            path,
            "statuses.rejected",
        )
    return s


def _names(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _within(value: float, key: str, unit: str, most: float, path: str) -> float:
    """A positive setting no larger than `most` (a bigger one is a typo, and overflows dates)."""
    if not 0 < value <= most:
        raise ConfigError(
            f"{key} must be more than 0 and at most {most:g} {unit}, got {value!r}", path, key
        )
    return float(value)


def parse_gaps(
    g: dict[str, Any], path: str, registry: Path | None, default: Callable[[str], Path]
) -> Gaps:
    """The close-out audit's thresholds; `registry` is the file's own, if it sets one, else
    `default` finds the one it names."""
    days = g["registry_review_days"]
    if days != int(_within(days, "gaps.registry_review_days", "days", 36500, path)):
        raise ConfigError(
            f"gaps.registry_review_days must be a whole number of days, got {days!r}",
            path,
            "gaps.registry_review_days",
        )
    if not g["registry"]:
        raise ConfigError(
            "gaps.registry must name the service registry file, e.g. 'data/services.yaml'",
            path,
            "gaps.registry",
        )
    return Gaps(
        daily_update_hours=_within(
            g["daily_update_hours"], "gaps.daily_update_hours", "hours", 24 * 366, path
        ),
        handoff_announce_business_hours=_within(
            g["handoff_announce_business_hours"],
            "gaps.handoff_announce_business_hours",
            "business hours",
            24 * 366,
            path,
        ),
        registry_review_days=int(days),
        registry=registry or default(g["registry"]),
        recurrence_days=_within(g["recurrence_days"], "gaps.recurrence_days", "days", 36500, path),
    )


def parse_followups(f: dict[str, Any], path: str) -> Followups:
    if not f["queue"]:
        raise ConfigError("followups.queue must name an RT queue", path, "followups.queue")
    if f["overdue_days"] <= 0:
        raise ConfigError(
            f"followups.overdue_days must be more than 0, got {f['overdue_days']!r}",
            path,
            "followups.overdue_days",
        )
    bad = [k for k, v in f["owners"].items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ConfigError(
            f"followups.owners.{bad[0]!r} must be an RT user name (a string)",
            path,
            "followups.owners",
        )
    url = f["reports_url"]
    fix = "take it out: the follow-ups' links to the reviews, which everyone in RT reads, carry it"
    _no_credentials(url, "followups.reports_url", path, fix)
    return Followups(
        queue=f["queue"],
        overdue_days=int(f["overdue_days"]),
        reports_url=url if not url or url.endswith("/") else url + "/",
        owners=tuple((k, v.strip()) for k, v in f["owners"].items()),
    )


# one plain address: no space or control character (an RT user record is untrusted text:
# an escape sequence went to the terminal as it was), nothing mail headers read as syntax
# ("group:", "(comment)", "[literal]", quotes: the message went to another address than the
# one recorded); letters of any script are fine (SMTPUTF8)
_PLAIN = r"[^@\s<>,;:()\[\]\"\\\x00-\x1f\x7f-\x9f]+"
_ADDRESS = re.compile(rf"{_PLAIN}@{_PLAIN}\.{_PLAIN}")


def parse_mail(m: dict[str, Any], path: str) -> Mail:
    if not 0 < m["port"] < 65536 or m["port"] != int(m["port"]):
        raise ConfigError(f"mail.port must be a TCP port, got {m['port']!r}", path, "mail.port")
    for key, values in (("from", [m["from"]] if m["from"] else []), ("to", m["to"])):
        bad = [v for v in values if not is_address(v)]
        if bad:
            raise ConfigError(
                f"mail.{key} must be an email address like ops@example.edu, got {bad[0]!r}",
                path,
                f"mail.{key}",
            )
    return Mail(
        host=m["host"],
        port=int(m["port"]),
        starttls=m["starttls"],
        user=m["user"],
        sender=m["from"],
        to=tuple(m["to"]),
        timeout=_within(m["timeout"], "mail.timeout", "seconds", 3600, path),
    )


def is_address(text: str) -> bool:
    """Whether `text` looks like one plain email address (user@example.edu); printable
    throughout (no bidi override or zero-width character either)."""
    return _ADDRESS.fullmatch(text) is not None and text.isprintable()


def _check_holidays(country: str, subdivision: str, path: str) -> None:
    import holidays

    if not country:
        return
    if country not in holidays.list_supported_countries():
        raise ConfigError(
            f"calendar.holidays_country {country!r} is not known to the holidays package "
            "(use an ISO code such as US), or leave it empty for no holidays",
            path,
            "calendar.holidays_country",
        )
    if subdivision and subdivision not in holidays.list_supported_countries()[country]:
        raise ConfigError(
            f"calendar.holidays_subdivision {subdivision!r} is not a subdivision of {country} "
            "(for the US use a state code such as MA), or leave it empty",
            path,
            "calendar.holidays_subdivision",
        )
