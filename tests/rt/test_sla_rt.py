"""Service levels against a real RT 5: RT computes Due itself, the kit rebuilds the same.

A fresh RT gets the levels of tests/fixtures/sla/config.toml as %ServiceAgreements and the
[calendar] as %ServiceBusinessHours (written by scenarios.rt_config.rt_site_config), the SLA
scenarios are replayed under libfaketime as their people, and the pull's `Set Due`
transactions are compared with the kit's rebuild after every triggering transaction.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import RTServer, start_copy

from review.analysis.sla import compare_due, due_history, rt_due_history
from review.analysis.timeline import build_events
from review.context import Context
from review.rt.pull import Window, pull
from review.settings.calendar import BusinessClock
from review.settings.config import load_config
from review.snapshot import Snapshot, load_snapshot
from scenarios import replay
from scenarios.rt_config import rt_site_config
from tests.prerequisites import REPLAY, require

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sla"
CONFIG = load_config(FIXTURES / "config.toml")


def sla_initialdata(site: replay.Site) -> str:
    """The scenario site's initialdata with SLAs on in every queue (RT creates queues off)."""
    lines = replay.initialdata(site).splitlines(keepends=True)
    return "".join(
        line.replace("{ Name => ", "{ SLADisabled => 0, Name => ")
        if line.startswith("@Queues")
        else line
        for line in lines
    )


@pytest.fixture(scope="module")
def sla_rt() -> Iterator[RTServer]:
    """A fresh RT with the fixture's levels, the SLA scenarios replayed into it, running."""
    require(*REPLAY)
    build = Path(tempfile.mkdtemp(prefix="rt-sla-"))
    try:
        scenarios = replay.load_scenarios(FIXTURES)
        (build / "site.pl").write_text(sla_initialdata(scenarios.site))
        replay.rt_server("init", build, build / "site.pl")
        clock = BusinessClock(CONFIG.calendar, first_year=2025, last_year=2027)
        (build / "RT_SiteConfig.d" / "sla.pm").write_text(rt_site_config(CONFIG.sla, clock))
        replay.replay_into(FIXTURES, build)
        server = start_copy(build / "rt.sqlite", build / "serve")
        shutil.copy2(build / "RT_SiteConfig.d" / "sla.pm", build / "serve" / "RT_SiteConfig.d")
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(build, ignore_errors=True)


@pytest.fixture(scope="module")
def pulled(sla_rt: RTServer, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    target = tmp_path_factory.mktemp("sla-pull") / "snapshot"
    window = Window(
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
        CONFIG.queues.ops + CONFIG.queues.developer,
        CONFIG.statuses.inactive,
    )
    with sla_rt.client() as client:
        pull(client, window, target, progress=False)
    return load_snapshot(target)


def test_rt_wrote_due_for_every_replayed_ticket(pulled: Snapshot) -> None:
    recorded = rt_due_history(build_events(pulled, CONFIG))
    assert sorted(recorded["ticket_id"].unique()) == [1, 2, 3, 4, 5, 6, 7]


def test_rebuilt_due_equals_rt_after_every_trigger(pulled: Snapshot) -> None:
    context = Context(pulled, CONFIG)
    history = due_history(context.events, pulled, CONFIG, context.clock, context.segments)
    check = compare_due(history, rt_due_history(context.events))
    assert sorted(check["ticket_id"].unique()) == [1, 2, 3, 4, 5, 6, 7]
    wrong = check.loc[~check["agrees"]]
    assert wrong.empty, wrong.to_string()


def test_rt_due_values_hand_computed(pulled: Snapshot) -> None:
    """The Due values RT itself wrote for the scenarios' decisive moments."""
    recorded = rt_due_history(build_events(pulled, CONFIG))
    dues = {t: set(g["due"].dropna()) for t, g in recorded.groupby("ticket_id")}
    utc = lambda text: pd.Timestamp(text, tz="UTC")  # noqa: E731
    assert utc("2026-11-12 14:00") in dues[3]  # closing time -> after the holiday
    assert utc("2026-11-10 16:00") in dues[2]  # created out of hours
    assert utc("2026-11-12 21:00") in dues[4]  # requestor reply resets the response clock
    assert utc("2026-11-09 14:30") in dues[1]  # real minutes
    # stalled Mon 10:00 to Tue 10:00 local: Resolve moves by 8 business hours and 1 second
    assert utc("2026-11-19 14:10:01") in dues[6]
    # stalled before the first answer for 1.5 business hours (+1 s): Response moves too
    assert utc("2026-11-17 17:30:01") in dues[7]
    assert recorded["due"].isna().sum() == 2  # RT unsets Due while 6 and 7 are stalled


def test_review_sla_on_the_pull_agrees_with_rt(pulled: Snapshot) -> None:
    table = Context(pulled, CONFIG).sla.set_index("ticket_id")
    assert list(table.index) == [1, 2, 3, 4, 5, 6, 7]
    assert set(table["source"]) == {"config+rt"}
    assert table["rt_due_agrees"].all(), table["rt_due_note"].to_string()
    assert table.loc[3, "response_due_at"] == pd.Timestamp("2026-11-12 14:00", tz="UTC")
    assert table.loc[5, "resolve_due_at"] == pd.Timestamp("2026-11-19 14:00:01", tz="UTC")
