"""The bundled sample's metrics beyond each metric's own cases (tests/test_metric_cases.py).

Every incident's value of each metric was worked out by hand from data/scenarios/2026-*.yaml
and lives in tests/metrics/<key>.yaml; tests/fixtures/sample-incidents.yaml lists the
incidents (ticket id, queue, service, classification) with the notes they were worked out
from. Here: one row per incident, the identity columns, and the hand-written values checked
against each other.
"""

from __future__ import annotations

import pandas as pd
import pytest

from review.analysis.metrics import DURATIONS
from tests.metric_cases import metric_cases, sample_incidents

MERGED_AWAY = {"storage-quota-merged-duplicate": 32}


def test_one_row_per_incident_and_merged_ticket_absent(sample_metrics: pd.DataFrame) -> None:
    tickets = sorted(int(i["ticket"]) for i in sample_incidents().values())
    assert len(tickets) == 61
    assert sorted(tickets + list(MERGED_AWAY.values())) == list(range(1, 63))
    assert sorted(sample_metrics["ticket_id"]) == tickets
    for ticket in MERGED_AWAY.values():
        assert ticket not in sample_metrics.index


@pytest.mark.parametrize("key", sorted(sample_incidents()))
def test_sample_incident_queue_service_and_classification(
    sample_metrics: pd.DataFrame, key: str
) -> None:
    incident = sample_incidents()[key]
    got = sample_metrics.loc[int(incident["ticket"])]
    for column in ("queue", "service", "classification"):
        assert got[column] == incident[column], f"{key}: {column}"


def _hours(start: str, end: str) -> float:
    return (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / 3600


@pytest.mark.parametrize("snapshot", ["rt-example", "sample"])
def test_hand_written_values_agree_with_each_other(snapshot: str) -> None:
    """Durations match their timestamps, business hours never exceed wall-clock hours, a
    hand-off time exactly where there was a hand-off, no update gap longer than the incident."""
    related = ["opened_at", "triaged_at", "resolved_at", "handoff_count", "max_update_gap_h"]
    value = {key: metric_cases(key)[snapshot] for key in [*related, *DURATIONS]}
    for ticket, opened in value["opened_at"].items():
        resolved, triaged = value["resolved_at"][ticket], value["triaged_at"][ticket]
        resolve, triage = value["time_to_resolve"][ticket], value["time_to_triage"][ticket]
        assert resolve[0] == pytest.approx(_hours(opened, resolved), abs=0.01), ticket
        if triaged is None:
            assert triage is None, ticket
        else:
            assert triage[0] == pytest.approx(_hours(opened, triaged), abs=0.01), ticket
        for duration in DURATIONS:
            pair = value[duration][ticket]
            if pair is not None:
                assert 0 <= pair[1] <= pair[0] + 0.01, (ticket, duration)
        assert (value["handoff_count"][ticket] == 0) == (
            value["time_in_handoff"][ticket] is None
        ), ticket
        assert value["max_update_gap_h"][ticket] <= resolve[0] + 0.01, ticket
