"""Fixtures shared by the close-out audit tests: the hand-made gap scenarios and their registry."""

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from review.closeout.registry import Registry, load_registry
from review.context import Context
from review.settings.config import Config, load_config, source_dir
from review.snapshot import load_snapshot
from scenarios.generate import generate_snapshot
from tests.metric_cases import EXAMPLE, SCENARIOS
from tests.rule_cases import audit

GAP_FIXTURES = Path(__file__).parent / "fixtures" / "gaps"


@pytest.fixture(autouse=True)
def _umask_kept() -> Iterator[None]:
    """Each `review` command run in this process adds 077 to its umask (review.private): put
    the umask, and the starting one it records, back after each test."""
    from review.private import UMASK_ENV

    mask, recorded = os.umask(0o022), os.environ.get(UMASK_ENV)
    os.umask(mask)
    yield
    os.umask(mask)
    if recorded is None:
        os.environ.pop(UMASK_ENV, None)
    else:
        os.environ[UMASK_ENV] = recorded


@pytest.fixture(scope="session")
def config() -> Config:
    """The documented defaults, whatever REVIEW_CONFIG says."""
    return load_config(None)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(GAP_FIXTURES / "services.yaml")


@pytest.fixture(scope="session")
def gap_snapshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot of tests/fixtures/gaps/scenarios: one incident per rule, firing or not."""
    return generate_snapshot(GAP_FIXTURES / "scenarios", tmp_path_factory.mktemp("gaps") / "snap")


@pytest.fixture(scope="session")
def findings(gap_snapshot_dir: Path, config: Config, registry: Registry) -> pd.DataFrame:
    """Every finding on tests/fixtures/gaps (transaction ids checked and left out)."""
    return audit(gap_snapshot_dir, config, registry)


@pytest.fixture(scope="session")
def sample_findings(config: Config) -> pd.DataFrame:
    """Every finding on the bundled sample with its registry (transaction ids left out)."""
    data = source_dir("data")
    return audit(data / "sample", config, load_registry(data / "services.yaml"))


@pytest.fixture(scope="session")
def example_metrics(config: Config) -> pd.DataFrame:
    """The metrics of tests/fixtures/rt-example (a real RT's dump), indexed by ticket_id."""
    return Context(load_snapshot(EXAMPLE), config).metrics.set_index("ticket_id", drop=False)


@pytest.fixture(scope="session")
def sample_metrics(config: Config, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The metrics of the sample generated afresh from data/scenarios, indexed by ticket_id."""
    directory = generate_snapshot(SCENARIOS, tmp_path_factory.mktemp("sample") / "snap")
    table = Context(load_snapshot(directory), config).metrics
    return table.set_index("ticket_id", drop=False)
