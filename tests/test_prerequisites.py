"""The tests' guard (tests/prerequisites.py): a missing prerequisite is a skip with its reason,
never an error, and under CI=true a failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import prerequisites
from tests.prerequisites import PRETEND, REPLAY, RT, missing, require

ROOT = Path(__file__).resolve().parent.parent


def test_the_checks_read_the_machine(tmp_path: Path) -> None:
    lib = tmp_path / "usr" / "lib" / "x86_64-linux-gnu" / "faketime" / "libfaketimeMT.so.1"
    check = prerequisites._files(str(tmp_path / "usr/lib/*/faketime/libfaketimeMT.so.1"))
    assert not check()
    lib.parent.mkdir(parents=True)
    lib.touch()
    assert check()
    assert prerequisites._perl_module("No::Such::Module::Here")() is False
    assert prerequisites._python_module("no_such_module_here")() is False
    assert prerequisites._python_module("json")() is True


def test_rt_without_libfaketime_skips_the_replay_with_its_reason() -> None:
    assert "libfaketime" in [p.name for p in missing(REPLAY, {PRETEND: "libfaketime"})]
    with pytest.raises(pytest.skip.Exception) as skipped:
        require(*REPLAY, env={PRETEND: ",".join(REPLAY)})
    message = str(skipped.value)
    for name in REPLAY:  # every missing one named, with how to get it, in one line
        assert f"{name} is missing (" in message
    assert (
        "libfaketime is missing (Debian's faketime, to replay the scenarios into RT: run "
        "`sudo bash scripts/rt-server install`)" in message
    )
    assert "\n" not in message


@pytest.mark.parametrize(
    ("ci", "fails"), [("true", True), ("1", True), ("", False), ("false", False)]
)
def test_under_ci_a_missing_prerequisite_fails(ci: str, fails: bool) -> None:
    env = {PRETEND: "chromium", "CI": ci}
    outcome = pytest.fail.Exception if fails else pytest.skip.Exception
    with pytest.raises(outcome) as stopped:
        require("chromium", env=env)
    assert str(stopped.value).startswith("chromium is missing (Debian's chromium: apt-get install")
    assert str(stopped.value).endswith(": CI must run these tests") is fails


def test_nothing_missing_is_nothing_said() -> None:
    present = [name for name in prerequisites.PREREQUISITES if not missing((name,), {})]
    require(*present, env={"CI": "true"})  # returns: neither a skip nor a failure


@pytest.mark.skipif(bool(missing(RT, {})), reason="needs RT 5 installed, to show the rest")
def test_the_rt_tests_skip_not_error_without_libfaketime(tmp_path: Path) -> None:
    """RT installed, libfaketime not, no replayed database cached: the README's test command
    (here: tests/rt) reports skips with the reason, no errors (the tests that need no replay,
    such as tests/rt/test_site_rt.py, pass); under CI=true, no skips."""
    env = {**os.environ, PRETEND: "libfaketime", "REVIEW_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CI", None)
    command = [sys.executable, "-m", "pytest", "tests/rt", "-q", "-p", "no:cacheprovider", "-rs"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    summary = done.stdout.strip().splitlines()[-1]
    passes_or_skips = r"(\d+ passed, )?\d+ skipped in [\d.]+s( \(.*\))?"
    assert re.fullmatch(passes_or_skips, summary), done.stdout[-3000:]
    assert "libfaketime is missing (Debian's faketime" in done.stdout
    assert not (tmp_path / "cache" / "rt").exists()  # nothing half-built

    ci = subprocess.run(command, cwd=ROOT, env={**env, "CI": "true"}, capture_output=True,
                        text=True, check=False)  # fmt: skip
    assert ci.returncode != 0
    assert "skipped" not in ci.stdout.strip().splitlines()[-1]
    assert "libfaketime is missing" in ci.stdout and "CI must run these tests" in ci.stdout
