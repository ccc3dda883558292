"""The pipeline (review.context): each stage once, and a cached context as whole as a computed one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import review.context as pipeline
from review.analysis import facts
from review.analysis.timeline import build_events
from review.context import Context, derive_into, derived_dir, open_context, open_snapshot
from review.errors import ReviewError
from review.pages.reports import monthly_report
from review.settings.config import Config, load_config, sample_snapshot

FRAME_STAGES = ("events", "segments", "metrics", "findings", "checklist", "recurrences", "sla")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    return load_config(None)


def test_each_stage_is_computed_once_from_the_stages_before_it(config: Config) -> None:
    context = Context(open_snapshot(None, config), config)
    assert context.metrics is context.metrics
    assert context.audit.segments is context.segments  # the audit reuses the stretches
    assert context.audit.registry is context.registry
    assert context.checklist is context.checklist


def test_known_stages_are_taken_as_given_and_only_stages(config: Config) -> None:
    snapshot = open_snapshot(None, config)
    events = build_events(snapshot, config).iloc[:0]  # as if nothing had happened
    context = Context(snapshot, config, stages={"events": events})
    assert context.events is events and context.metrics["triaged_at"].isna().all()
    with pytest.raises(ValueError, match="not stages of a Context: transactions"):
        Context(snapshot, config, stages={"transactions": events})


def test_the_sla_table_is_computed_once_per_context(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = pipeline.sla_table

    def counted(*args: object) -> pd.DataFrame:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "sla_table", counted)
    context = Context(open_snapshot(None, config), config)
    october, september = monthly_report(context, "2026-10"), monthly_report(context, "2026-09")
    assert len(calls) == 1
    assert len(october.sla_attainment) and len(september.sla_attainment)


def test_a_cached_context_holds_what_a_computed_one_holds(config: Config) -> None:
    computed = Context(open_snapshot(None, config), config)
    derive_into(derived_dir(sample_snapshot(), config), sample_snapshot(), None, config)
    cached = open_context(None, config)
    assert "events" in vars(cached) and "audit" not in vars(cached)  # read, not computed
    for name in ("events", "segments", "metrics", "findings", "checklist", "recurrences", "sla"):
        pd.testing.assert_frame_equal(getattr(cached, name), getattr(computed, name), obj=name)
    for name in ("tickets", "watchers", "custom_fields", "links", "queues", "users"):
        rows = [getattr(c.snapshot, name) for c in (cached, computed)]  # the same rows
        mine, whole = (r.sort_values(list(r.columns), ignore_index=True) for r in rows)
        pd.testing.assert_frame_equal(mine, whole, obj=name)
    pd.testing.assert_frame_equal(cached.snapshot.field_names, computed.snapshot.field_names)
    assert cached.snapshot.manifest == computed.snapshot.manifest
    assert cached.snapshot.problems == computed.snapshot.problems
    assert cached.problems == computed.problems and cached.unobservable == computed.unobservable
    # what a later call asks of the cached snapshot, it answers as the computed one does,
    # or says it cannot: never an empty history that reads as "nothing happened"
    assert facts.has_field(cached.snapshot, config.fields.validated_by)
    with pytest.raises(ReviewError, match="holds its events, not its transactions"):
        build_events(cached.snapshot, config)
    with pytest.raises(ReviewError, match="not its transactions"):
        cached.snapshot.around({1})


def test_a_cached_part_holds_its_tickets_and_the_whole_snapshots_recurrences(
    config: Config,
) -> None:
    computed = Context(open_snapshot(None, config), config)
    derive_into(derived_dir(sample_snapshot(), config), sample_snapshot(), None, config)
    ticket = int(computed.recurrences.dropna(subset=["recurrence_of"])["ticket_id"].iloc[0])
    part = open_context(None, config, tickets={ticket})
    computed_part = computed.around({ticket})
    wanted = set(part.snapshot.tickets["ticket_id"])
    assert ticket in wanted and wanted == set(computed_part.snapshot.tickets["ticket_id"])
    for name in ("events", "segments", "metrics", "checklist"):
        pd.testing.assert_frame_equal(getattr(part, name), getattr(computed_part, name), obj=name)
    own = part.recurrences.set_index("ticket_id").loc[ticket]
    assert own.equals(computed.recurrences.set_index("ticket_id").loc[ticket])
    assert computed_part.recurrences is computed.recurrences  # the whole snapshot's
    assert computed_part.problems is computed.problems
