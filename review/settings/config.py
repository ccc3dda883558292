"""Settings and paths: one place owns them.

The documented defaults live in ``default_config.toml`` inside the package; a
user file overrides any subset of its keys. Unknown keys and wrong values are
errors that name the key and what is allowed (each section's own checks:
review.settings.sections). Every path the kit reads or writes is looked up here.
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from review.errors import ConfigError, not_utf8
from review.settings.sections import (
    Calendar,
    Checking,
    Classification,
    Fields,
    Followups,
    Gaps,
    Mail,
    Paths,
    Publish,
    Queues,
    Resolution,
    RTSettings,
    Statuses,
    parse_calendar,
    parse_followups,
    parse_gaps,
    parse_mail,
    parse_queues,
    parse_rt,
    parse_statuses,
)
from review.settings.service_levels import Agreements, parse_agreements

CONFIG_ENV = "REVIEW_CONFIG"
CACHE_ENV = "REVIEW_CACHE_DIR"
APP_NAME = "rt-incident-review"


@dataclass(frozen=True)
class Config:
    queues: Queues
    statuses: Statuses
    fields: Fields
    classification: Classification
    resolution: Resolution
    calendar: Calendar
    rt: RTSettings
    gaps: Gaps
    paths: Paths
    followups: Followups
    mail: Mail
    sla: Agreements
    check: Checking = Checking(strict=False)  # noqa: RUF009 (frozen)
    publish: Publish = Publish(status_field="")  # noqa: RUF009 (frozen)
    source: str = "defaults"


# --------------------------------------------------------------------------- paths


@functools.cache
def checkout() -> Path | None:
    """The source checkout the package runs from (a clone, editable install), or None if installed.

    Paths are looked up when asked for, never fixed at import: the same code runs from
    a clone and from a wheel in site-packages.
    """
    root = Path(__file__).resolve().parent.parent.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def project_dir() -> Path:
    """Where relative default paths start: the checkout, else the working directory."""
    return checkout() or Path.cwd()


def bundled(name: str) -> Path:
    """A file shipped with the kit: `notebooks`, `data/sample`, `data/services.yaml`.

    From a checkout these are the repository's own files; from a wheel, the package's
    copies (setup.py maps the repository's folders into the package under the same names).
    """
    root = checkout()
    if root is not None:
        return root / name
    return Path(str(resources.files("review").joinpath(name)))


def sample_snapshot() -> Path:
    """The bundled sample snapshot (data/sample): the default for every command."""
    return bundled("data/sample")


# Where the README's cron lines keep the current pull (relative to the project directory).
NEW_SNAPSHOT = Path("data/interim/rt-current")


def is_bundled_sample(directory: str | os.PathLike[str]) -> bool:
    """Whether `directory` is the bundled sample, which a pull must never replace."""
    return os.path.realpath(directory) == os.path.realpath(sample_snapshot())


def templates_dir() -> Path:
    """The notebook templates (notebooks/)."""
    return bundled("notebooks")


def source_dir(name: str) -> Path:
    """A development folder that only a clone has (data/scenarios, scripts); error if installed."""
    root = checkout()
    if root is None:
        raise ConfigError(
            f"{name} is part of the source repository, not of an installed kit; run this "
            "from a clone of the repository"
        )
    return root / name


def cache_dir(config: Config | None = None) -> Path:
    """Where parquet caches go: $REVIEW_CACHE_DIR, else [paths] cache, else the default.

    The default is data/cache in a checkout and the user's cache directory
    ($XDG_CACHE_HOME or ~/.cache, then rt-incident-review) for an installed kit, never
    site-packages.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    if config is not None and config.paths.cache is not None:
        return config.paths.cache
    root = checkout()
    if root is not None:
        return root / "data" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / APP_NAME


def _default_tree() -> dict[str, Any]:
    text = resources.files("review.settings").joinpath("default_config.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(defaults: dict[str, Any], user: dict[str, Any], path: str) -> dict[str, Any]:
    merged = {section: dict(values) for section, values in defaults.items()}
    for section, values in user.items():
        if section not in defaults:
            allowed = ", ".join(f"[{s}]" for s in defaults)
            raise ConfigError(f"unknown section [{section}]; allowed: {allowed}", path, section)
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table of keys", path, section)
        for key, value in values.items():
            if key not in defaults[section]:
                allowed = ", ".join(defaults[section])
                raise ConfigError(
                    f"unknown key {section}.{key}; allowed in [{section}]: {allowed}",
                    path,
                    f"{section}.{key}",
                )
            expected = defaults[section][key]
            if not _same_kind(expected, value):
                raise ConfigError(
                    f"{section}.{key} must be {_kind(expected)}, got {value!r}",
                    path,
                    f"{section}.{key}",
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(
                    f"{section}.{key} must be a finite number, got {value!r}",
                    path,
                    f"{section}.{key}",
                )
            merged[section][key] = value
    return merged


def _same_kind(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool):
        return isinstance(value, bool)
    if isinstance(expected, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(expected, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, type(expected))


def _kind(expected: Any) -> str:
    if isinstance(expected, bool):
        return "true or false"
    if isinstance(expected, int | float):
        return "a number"
    if isinstance(expected, list):
        return "a list of strings"
    return "a string"


def _build(tree: dict[str, Any], path: str, user: dict[str, Any], base: Path) -> Config:
    """The Config of a merged tree; a relative path the user's file sets is taken from `base`."""

    def own(section: str, key: str) -> Path | None:
        """A path the user's file sets, made absolute from the file's folder."""
        value = user.get(section, {}).get(key)
        return base / value if value else None

    # checked in this order, so a file with several mistakes names the same one first
    queues = parse_queues(tree["queues"], path)
    if not tree["statuses"]["inactive"]:
        raise ConfigError("statuses.inactive must name at least one status", path)
    s = parse_statuses(tree["statuses"], user.get("statuses", {}), path)
    calendar = parse_calendar(tree["calendar"], path)
    gaps = parse_gaps(tree["gaps"], path, own("gaps", "registry"), _default_registry)
    return Config(
        queues=queues,
        statuses=Statuses(
            tuple(s["inactive"]), s["initial"], tuple(s["active"]), tuple(s["rejected"])
        ),
        fields=Fields(**tree["fields"]),
        classification=Classification(**tree["classification"]),
        resolution=Resolution(**tree["resolution"]),
        calendar=calendar,
        rt=parse_rt(tree["rt"], path),
        gaps=gaps,
        paths=Paths(
            cache=own("paths", "cache"),
            reports=own("paths", "reports") or Path(tree["paths"]["reports"]),
            share_reports=tree["paths"]["share_reports"],
        ),
        followups=parse_followups(tree["followups"], path),
        mail=parse_mail(tree["mail"], path),
        sla=parse_agreements(tree["sla"], path),
        check=Checking(strict=tree["check"]["strict"]),
        publish=Publish(status_field=tree["publish"]["status_field"].strip()),
        source=path,
    )


def with_registry(config: Config, registry: Path | None) -> Config:
    """`config` reading another service registry (`--registry`), or unchanged for None."""
    if registry is None:
        return config
    return replace(config, gaps=replace(config.gaps, registry=registry))


def _default_registry(name: str) -> Path:
    """The project's registry (data/services.yaml), else the example the kit ships."""
    own = project_dir() / name
    return own if own.is_file() or checkout() is not None else bundled(name)


def default_config() -> Config:
    """The documented defaults alone, whatever REVIEW_CONFIG says (the bundled sample's)."""
    return _build(_default_tree(), "defaults", {}, Path.cwd())


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file (or REVIEW_CONFIG, or none) over the documented defaults."""
    from_environment = path is None and bool(os.environ.get(CONFIG_ENV))
    if path is None:
        path = os.environ.get(CONFIG_ENV) or None
    defaults = _default_tree()
    if path is None:
        return _build(defaults, "defaults", {}, Path.cwd())
    file = Path(path)
    try:
        data = file.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, message = not_utf8(data, exc)
        raise ConfigError(f"line {line}: {message}", str(file)) from None
    except FileNotFoundError:
        fix = (
            f"{CONFIG_ENV} names it: correct or unset {CONFIG_ENV} to use the defaults"
            if from_environment
            else "check the path, or omit --config to use the defaults"
        )
        raise ConfigError(f"config file not found; {fix}", str(file)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", str(file)) from None
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", str(file)) from None
    return _build(_merge(defaults, user, str(file)), str(file), user, file.resolve().parent)
