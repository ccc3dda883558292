"""The service registry: Operations' record of who owns and supports each service.

The process's Close Out asks Operations to keep a record of service owners,
permanent support assignments and stakeholder lists, and its Open Question asks
where. This is the answer: one human-edited YAML file (data/services.yaml by
default), validated on every load so a typo is one clear error with the file,
the line and the fix, never a silently wrong audit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from review.errors import RegistryError, not_utf8

ASSIGNMENTS = ("permanent", "temporary", "unassigned")
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Service:
    """One registry entry; `line` is where it starts in the file."""

    service: str
    rt_names: tuple[str, ...]
    service_owner: str
    business_owner: str
    tech_leads: tuple[str, ...]
    support_team: tuple[str, ...]
    support_assignment: str
    announce_lists: tuple[str, ...]
    support_lists: tuple[str, ...]
    helpdesk_list: str
    queues: tuple[str, ...]
    last_reviewed: date
    notes: str
    line: int


FRAME_COLUMNS = [
    "service", "rt_names", "service_owner", "business_owner", "tech_leads", "support_team",
    "support_assignment", "announce_lists", "support_lists", "helpdesk_list", "queues",
    "last_reviewed", "notes", "line",
]  # fmt: skip


@dataclass(frozen=True)
class Registry:
    """All services of the registry file, plus what holds for every service.

    `operations_staff` own tickets legitimately during triage (the process's
    "Operations and Infrastructure staff"), so they never count as an ad-hoc
    support team. `helpdesk_list` is the Help Desk's address (an entry may override
    it) and `threedown_list` the address that posts to 3Down: on a ticket's Cc they
    make those steps of the process visible in RT.
    """

    path: Path
    services: tuple[Service, ...]
    operations_staff: tuple[str, ...]
    helpdesk_list: str
    threedown_list: str

    def frame(self) -> pd.DataFrame:
        """One row per service, list-valued columns as Python lists, in file order."""
        rows = [
            {
                **{c: getattr(s, c) for c in FRAME_COLUMNS},
                **{
                    c: list(getattr(s, c))
                    for c in FRAME_COLUMNS
                    if isinstance(getattr(s, c), tuple)
                },
            }
            for s in self.services
        ]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def service_of_name(self, names: pd.Series) -> pd.Series:
        """The registered service for each name as written in RT ('' when not registered).

        Matching ignores case and surrounding spaces, as people type service names
        into RT's custom field inconsistently.
        """
        lookup = {n.strip().casefold(): s.service for s in self.services for n in s.rt_names}
        key = names.fillna("").astype("string").str.strip().str.casefold()
        return key.map(lookup).astype("string").fillna("")  # typed first: lookup may be empty

    def service_of_queue(self, queues: pd.Series) -> pd.Series:
        """The service that claims each RT queue ('' when none does)."""
        lookup = {q: s.service for s in self.services for q in s.queues}
        found = queues.fillna("").astype("string").map(lookup)
        return found.astype("string").fillna("")  # typed first: no service may claim a queue

    def get(self, service: str) -> Service | None:
        return next((s for s in self.services if s.service == service), None)


# --------------------------------------------------------------------------- validation


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    """Turns composed YAML nodes into values, raising RegistryError at the node's line."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, node: yaml.Node, message: str) -> RegistryError:
        return RegistryError(message, self.file, _line(node))

    def mapping(
        self, node: yaml.Node, allowed: tuple[str, ...], what: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys (key: value)")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                raise self.fail(
                    key_node, f"unknown key {key!r} in {what}; allowed: {', '.join(allowed)}"
                )
            if key in out:
                first = _line(out[key][0])
                raise self.fail(
                    key_node, f"key {key!r} appears twice in {what} (also line {first}); keep one"
                )
            out[key] = (key_node, value_node)
        return out

    def text(self, node: yaml.Node, key: str, *, email: bool = False) -> str:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return ""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            shown = node.value if isinstance(node, yaml.ScalarNode) else "a list or mapping"
            raise self.fail(node, f"{key} must be text, got {shown!r}; put it in quotes")
        value = str(node.value).strip()
        if email and value and "@" not in value:
            raise self.fail(
                node,
                f"{key} value {value!r} is not an email address; "
                "write the list's address as it appears on RT's Cc",
            )
        return value

    def texts(self, node: yaml.Node, key: str, *, email: bool = False) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{key} must be a list like [a, b] (or [] for none)")
        values = tuple(self.text(item, key, email=email) for item in node.value)
        for item, value in zip(node.value, values, strict=True):
            if not value:
                raise self.fail(item, f"{key} has an empty entry; remove it")
        return values

    def day(self, node: yaml.Node, key: str) -> date:
        raw = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise self.fail(node, f"{key} must be a date like 2026-06-30, got {raw!r}") from None

    def choice(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(node, key)
        if value not in allowed:
            raise self.fail(node, f"{key} must be one of {', '.join(allowed)}, got {value!r}")
        return value


_TOP_KEYS = ("operations_staff", "helpdesk_list", "threedown_list", "services")
_SERVICE_KEYS = (
    "service", "rt_names", "service_owner", "business_owner", "tech_leads", "support_team",
    "support_assignment", "announce_lists", "support_lists", "helpdesk_list", "queues",
    "last_reviewed", "notes",
)  # fmt: skip
_REQUIRED = ("service", "support_assignment", "last_reviewed")


def _service(reader: _Reader, node: yaml.Node, default_helpdesk: str) -> Service:
    fields = reader.mapping(node, _SERVICE_KEYS, "a service entry")
    for key in _REQUIRED:
        if key not in fields:
            hint = {
                "service": "the service's name as RT's Service field shows it",
                "support_assignment": f"one of {', '.join(ASSIGNMENTS)}",
                "last_reviewed": "the date Operations last checked this entry, e.g. 2026-06-30",
            }[key]
            raise reader.fail(node, f"service entry has no {key}; add {key}: <{hint}>")

    def get(key: str, convert: Callable[[yaml.Node, str], Any], empty: Any) -> Any:
        return convert(fields[key][1], key) if key in fields else empty

    name = get("service", reader.text, "")
    if not name:
        raise reader.fail(fields["service"][1], "service must not be empty")
    rt_names = get("rt_names", reader.texts, ())
    team = get("support_team", reader.texts, ())
    assignment = reader.choice(fields["support_assignment"][1], "support_assignment", ASSIGNMENTS)
    if assignment == "permanent" and not team:
        raise reader.fail(
            fields["support_assignment"][1],
            "support_assignment is permanent but support_team is empty; "
            "list the team members, or set support_assignment: unassigned",
        )
    return Service(
        service=name,
        rt_names=(name, *(n for n in rt_names if n != name)),
        service_owner=get("service_owner", reader.text, ""),
        business_owner=get("business_owner", reader.text, ""),
        tech_leads=get("tech_leads", reader.texts, ()),
        support_team=team,
        support_assignment=assignment,
        announce_lists=get("announce_lists", lambda n, k: reader.texts(n, k, email=True), ()),
        support_lists=get("support_lists", lambda n, k: reader.texts(n, k, email=True), ()),
        helpdesk_list=get("helpdesk_list", lambda n, k: reader.text(n, k, email=True), "")
        or default_helpdesk,
        queues=get("queues", reader.texts, ()),
        last_reviewed=reader.day(fields["last_reviewed"][1], "last_reviewed"),
        notes=get("notes", reader.text, ""),
        line=_line(node),
    )


def _check_unique(reader: _Reader, services: list[Service], nodes: list[yaml.Node]) -> None:
    """A name (or RT spelling) and a queue may belong to one service only."""
    names: dict[str, Service] = {}
    queues: dict[str, Service] = {}
    for service, node in zip(services, nodes, strict=True):
        for name in service.rt_names:
            key = name.casefold()
            if key in names and names[key] is not service:
                other = names[key]
                raise reader.fail(
                    node,
                    f"service name {name!r} is already used by {other.service!r} "
                    f"(line {other.line}); keep one entry per service and merge the two",
                )
            names[key] = service
        for queue in service.queues:
            if queue in queues and queues[queue] is not service:
                other = queues[queue]
                raise reader.fail(
                    node,
                    f"queue {queue!r} of {service.service!r} is already claimed by "
                    f"{other.service!r} (line {other.line}); a queue belongs to one service, "
                    "remove it from one of the two",
                )
            queues[queue] = service


def parse_registry(text: str, file: str) -> Registry:
    """Validate registry text; `file` is only used in error messages and Registry.path."""
    reader = _Reader(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise RegistryError(f"not valid YAML: {exc.problem}", file, line) from None
    if root is None:
        raise RegistryError("the registry is empty; it needs a `services:` list", file)
    top = reader.mapping(root, _TOP_KEYS, "the registry's top level")
    if "services" not in top:
        raise reader.fail(root, "the registry has no `services:` list; add one entry per service")
    staff = (
        reader.texts(top["operations_staff"][1], "operations_staff")
        if "operations_staff" in top
        else ()
    )
    helpdesk, threedown = (
        reader.text(top[key][1], key, email=True) if key in top else ""
        for key in ("helpdesk_list", "threedown_list")
    )
    entries = top["services"][1]
    if not isinstance(entries, yaml.SequenceNode) or not entries.value:
        raise reader.fail(entries, "services must be a list of entries, each starting with '- '")
    services = [_service(reader, node, helpdesk) for node in entries.value]
    _check_unique(reader, services, list(entries.value))
    return Registry(Path(file), tuple(services), staff, helpdesk, threedown)


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """Read and validate the registry file (default: the config's gaps.registry)."""
    if path is None:
        from review.settings.config import load_config

        path = load_config().gaps.registry
    file = Path(path)
    try:
        data = file.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, message = not_utf8(data, exc)
        raise RegistryError(message, str(file), line) from None
    except FileNotFoundError:
        raise RegistryError(
            "service registry not found; create it (README: 'Close-out audit and the service "
            "registry') or point gaps.registry in the config at it",
            str(file),
        ) from None
    except OSError as exc:
        raise RegistryError(
            f"cannot read the service registry: {exc.strerror}", str(file)
        ) from None
    return parse_registry(text, str(file))
