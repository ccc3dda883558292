"""A real RT 5 for the integration tests: seeded, replayed once, restored from a cached copy.

The replayed database is cached under data/cache/rt/ keyed by a hash of the scenario files,
the replayer and the server script, so a session normally restores it in about a second
instead of replaying for minutes. Without what they need (RT, and libfaketime to replay:
tests/prerequisites.py) the tests are skipped locally with the reason, and fail under CI=true:
CI must never skip them silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from review.rt.client import Connection, RTClient
from review.settings.config import cache_dir, source_dir
from scenarios import model, replay, rt_config
from scenarios.replay import ROOT_PASSWORD, SLA_CONFIG, free_port, rt_server
from tests.prerequisites import REPLAY, RT, require


def scenario_key() -> str:
    """Hash of everything that shapes the replayed database."""
    digest = hashlib.sha256()
    inputs = [
        *sorted(source_dir("data/scenarios").glob("*.yaml")),
        Path(replay.__file__),
        Path(model.__file__),  # site.yaml's levels, parsed
        Path(rt_config.__file__),  # rt_site_config writes them for RT
        source_dir("scripts") / "rt-server",
    ]
    for path in inputs:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class RTServer:
    """One running rt-server on loopback, started from a copy of a database."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/REST/2.0/"

    def connection(self, user: str = "root", password: str = ROOT_PASSWORD) -> Connection:
        return Connection(url=self.url, user=user, password=password, timeout=60)

    def client(self, user: str = "root", password: str = ROOT_PASSWORD, **kw: Any) -> RTClient:
        return RTClient(self.connection(user, password), **kw)

    def stop(self) -> None:
        rt_server("stop", self.directory)


def start_copy(database: Path, directory: Path) -> RTServer:
    """Serve a copy of `database`, with the service levels kept beside it (if any), so
    tickets changed in a test get RT's SLA dates as in the replay."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(database, directory / "rt.sqlite")
    levels = database.parent / SLA_CONFIG
    if levels.exists():
        (directory / "RT_SiteConfig.d").mkdir(exist_ok=True)
        shutil.copy2(levels, directory / "RT_SiteConfig.d" / SLA_CONFIG)
    port = free_port()
    rt_server("start", directory, port)
    return RTServer(directory, port)


@pytest.fixture(scope="session")
def replayed_db() -> Path:
    """The RT database with every scenario replayed (built once, then cached)."""
    require(*RT)
    cache = cache_dir() / "rt" / scenario_key()
    database = cache / "rt.sqlite"
    if database.exists():
        return database
    require(*REPLAY)  # replaying backdates history under libfaketime
    build = Path(tempfile.mkdtemp(prefix="rt-replay-"))
    try:
        (build / "site.pl").write_text(
            replay.initialdata(replay.load_scenarios(source_dir("data/scenarios")).site)
        )
        rt_server("init", build, build / "site.pl")
        replay.replay_into(source_dir("data/scenarios"), build)
        cache.mkdir(parents=True, exist_ok=True)
        levels = build / "RT_SiteConfig.d" / SLA_CONFIG
        if levels.exists():
            shutil.copy2(levels, cache / SLA_CONFIG)
        staging = cache / f"rt.sqlite.{os.getpid()}"
        shutil.copy2(build / "rt.sqlite", staging)
        staging.replace(database)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return database


@pytest.fixture(scope="session")
def rt(replayed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTServer]:
    """A shared server for tests that only read."""
    server = start_copy(replayed_db, tmp_path_factory.mktemp("rt-shared"))
    yield server
    server.stop()


@pytest.fixture
def own_rt(replayed_db: Path, tmp_path: Path) -> Iterator[RTServer]:
    """A server of the test's own, for tests that change data or stop it."""
    server = start_copy(replayed_db, tmp_path / "rt")
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here talks to a real RT: marked slow, so `pytest -m "not slow"` leaves it out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)
