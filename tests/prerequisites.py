"""What the tests need from the machine beyond pip's packages, checked in one place.

Each prerequisite has a name, a check and how to get it. `require(...)` skips a test with
every missing one named and how to install it, or, under CI=true, fails it: CI installs them
all (.ci/run) and must never skip these tests silently. The README's test command therefore
ends in skips with reasons, never in errors, on a machine that lacks some of them.

REVIEW_TESTS_PRETEND_MISSING=name,... makes the checks report those as missing (to try the
guard on a machine that has everything).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import pytest

PRETEND = "REVIEW_TESTS_PRETEND_MISSING"
RT_INSTALL = "run `sudo bash scripts/rt-server install`"


@dataclass(frozen=True)
class Prerequisite:
    name: str
    check: Callable[[], bool]
    install: str


def _files(*patterns: str) -> Callable[[], bool]:
    return lambda: all(glob.glob(pattern) for pattern in patterns)


def _perl_module(module: str) -> Callable[[], bool]:
    def check() -> bool:
        if shutil.which("perl") is None:
            return False
        done = subprocess.run(["perl", f"-M{module}", "-e1"], capture_output=True, check=False)
        return done.returncode == 0

    return check


def _python_module(module: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return check


PREREQUISITES = {
    p.name: p
    for p in (
        Prerequisite(
            "RT 5",
            _files(
                "/usr/share/request-tracker5/libexec/rt-server", "/usr/sbin/rt-setup-database-5"
            ),
            f"Debian's request-tracker5: {RT_INSTALL}",
        ),
        Prerequisite(
            "RT's SQLite driver",
            _perl_module("DBD::SQLite"),
            f"Debian's rt5-db-sqlite: {RT_INSTALL}",
        ),
        Prerequisite(
            "RT's standalone server",
            _perl_module("Starlet"),
            f"Debian's rt5-standalone: {RT_INSTALL}",
        ),
        Prerequisite(
            "curl", lambda: shutil.which("curl") is not None, f"Debian's curl: {RT_INSTALL}"
        ),
        Prerequisite(
            "libfaketime",
            _files("/usr/lib/*/faketime/libfaketimeMT.so.1"),  # as scripts/rt-server finds it
            f"Debian's faketime, to replay the scenarios into RT: {RT_INSTALL}",
        ),
        Prerequisite(
            "chromium", _files("/usr/bin/chromium"), "Debian's chromium: apt-get install chromium"
        ),
        Prerequisite(
            "playwright",
            _python_module("playwright.sync_api"),
            "the playwright package: pip install -e '.[test]' (never `playwright install`)",
        ),
    )
}
# What a group of tests needs.
RT = ("RT 5", "RT's SQLite driver", "RT's standalone server", "curl")
REPLAY = (*RT, "libfaketime")
BROWSER = ("chromium", "playwright")


@cache
def _present(name: str) -> bool:
    return PREREQUISITES[name].check()


def missing(names: tuple[str, ...], env: Mapping[str, str] | None = None) -> list[Prerequisite]:
    """The prerequisites among `names` this machine lacks, in the order given."""
    env = os.environ if env is None else env
    pretend = {n.strip() for n in env.get(PRETEND, "").split(",") if n.strip()}
    return [PREREQUISITES[n] for n in names if n in pretend or not _present(n)]


def under_ci(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require(*names: str, env: Mapping[str, str] | None = None) -> None:
    """Skip the test (fail it under CI=true) unless the machine has all of `names`."""
    gone = missing(names, env)
    if not gone:
        return
    reason = "; ".join(f"{p.name} is missing ({p.install})" for p in gone)
    if under_ci(env):
        pytest.fail(f"{reason}: CI must run these tests", pytrace=False)
    pytest.skip(reason)
