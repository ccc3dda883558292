"""A queue, user or custom field the snapshot does not list (deleted in RT, or hidden from
the pull's account) is a warning naming it and the tickets; what depends on its name is
"not observable" or empty, never a clean 0 (issue 22).

Inputs: the real RT example (tests/fixtures/rt-example; see test_plausible_times for its
hand-worked metrics), with a row of queues.jsonl or users.jsonl removed, or a custom-field
change pointing at a field no ticket has.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from review.analysis import quality
from review.analysis.problems import DataProblem
from review.cli import main
from review.context import Context, open_context
from review.settings.config import load_config
from review.snapshot import load_snapshot
from tests.edited import EXAMPLE, Rows, edited, txn, unbacked_lines

CONFIG = load_config(None)


def ours(problems: list[DataProblem]) -> list[DataProblem]:
    """The problems review.analysis.quality finds (not the config's fit)."""
    return [p for p in problems if p.kind in quality.KINDS]


def without(file: str, row_id: int):  # type: ignore[no-untyped-def]
    def edit(rows: Rows) -> None:
        rows[file] = [r for r in rows[file] if r["id"] != row_id]

    return edit


def test_a_missing_developer_queue_makes_hand_offs_unknown_not_zero(tmp_path: Path) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", without("queues.jsonl", 4))  # dev-web
    found = Context(load_snapshot(snap), CONFIG).metrics.set_index("ticket_id")
    # before: handoff_count 0, time in hand-off empty as if never handed off
    assert pd.isna(found.loc[1, "handoff_count"])
    assert pd.isna(found.loc[1, "time_in_handoff_h"])
    assert found.loc[1, "queue"] == "#4 (unknown queue)"
    assert found.loc[1, "time_to_resolve_h"] == pytest.approx(46.92, abs=0.01)
    assert found.loc[2, "handoff_count"] == 0  # ticket 2 never left ops-help (queue 3)
    context = open_context(snap)
    steps = context.checklist.set_index(["ticket_id", "step"])
    handoff = steps.loc[(1, "hand-off announced with estimates")]
    assert handoff["state"] == "not observable"  # before: "not applicable" (never moved)
    assert (
        "txn 66 moves the ticket to queue #4, which queues.jsonl does not list"
        in (handoff["evidence"])
    )
    assert steps.loc[(2, "hand-off announced with estimates"), "state"] == "not applicable"
    [problem] = ours(context.problems)
    assert problem.kind == "unknown-queue" and problem.tickets == (1,)


def test_the_review_of_a_ticket_moved_to_an_unknown_queue_says_hand_offs_are_not_measured(
    tmp_path: Path,
) -> None:
    from review.pages.reports import incident_review_data

    snap = edited(EXAMPLE, tmp_path / "s", without("queues.jsonl", 4))  # dev-web
    said = incident_review_data(snap, 1).what_happened().sentences  # before: a TypeError on NA
    assert (
        "Hand-offs not measured: txn 66 moves the ticket to queue #4, which queues.jsonl does "
        "not list" in " ".join(said)
    )
    assert not any(s.startswith(("Never handed off", "Handed off")) for s in said)


def test_the_hand_off_ola_of_a_ticket_moved_through_an_unknown_queue_is_not_judged(
    tmp_path: Path,
) -> None:
    from review.settings.config import sample_snapshot

    snap = edited(sample_snapshot(), tmp_path / "s", without("queues.jsonl", 4))  # dev-web
    sla = open_context(snap).sla.set_index("ticket_id")
    sample = open_context(sample_snapshot()).sla.set_index("ticket_id")
    assert not sample.loc[2, "handoff_ola_breached"]  # the sample's ticket 2: met
    assert pd.isna(sla.loc[2, "handoff_ola_breached"])  # was: met, through a queue not known
    assert sla.loc[2, "response_breached"] == sample.loc[2, "response_breached"]


def test_a_missing_nobody_user_makes_triage_unknown_not_later(tmp_path: Path) -> None:
    snap = edited(EXAMPLE, tmp_path / "s", without("users.jsonl", 6))  # Nobody
    found = Context(load_snapshot(snap), CONFIG).metrics.set_index("ticket_id")
    # before: ticket 2's take from Nobody (txn 94, 15:00Z) is not seen as one, so triage moves
    # to alice's status change at 15:30Z (1.5 h) and "6" counts as a tech lead
    for ticket in (1, 2):
        assert pd.isna(found.loc[ticket, "triaged_at"])
        assert pd.isna(found.loc[ticket, "tech_lead_handoffs"])
    assert found.loc[2, "time_to_resolve_h"] == pytest.approx(45.0)
    context = open_context(snap)
    assert not {"never-triaged", "no-owner-at-close", "ad-hoc-support-team"} & set(
        context.findings["rule"]
    )
    tech_lead = context.checklist.set_index(["ticket_id", "step"]).loc[(2, "Tech Lead assigned")]
    assert tech_lead["state"] == "not observable"
    assert (
        "txn 94 changes the owner from user #6, which users.jsonl does not list"
        in (tech_lead["evidence"])
    )


def test_each_unknown_reference_is_one_line_naming_it_and_the_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(rows: Rows) -> None:
        without("queues.jsonl", 4)(rows)
        without("users.jsonl", 31)(rows)  # bob
        txn(rows, 69)["Field"] = "17"  # a custom field since deleted

    snap = edited(EXAMPLE, tmp_path / "s", edit)
    with pytest.raises(SystemExit) as done:
        main(["gaps", "--snapshot", str(snap), "--format", "csv"])
        raise SystemExit(0)
    assert done.value.code == 0
    lines = unbacked_lines(capsys.readouterr().err)
    assert lines == [
        "warning: mismatch: queues that queues.jsonl does not list on ticket(s) 1 (txn 66 moves "
        "the ticket to queue #4, which queues.jsonl does not list; its queue now is #4, which "
        "queues.jsonl does not list): hand-offs and queue checks are not observable for those "
        "tickets",
        "warning: mismatch: owners that users.jsonl does not list on ticket(s) 1 (txn 67 "
        "changes the owner to user #31, which users.jsonl does not list): triage, Tech Lead and "
        "owner checks are not observable for those tickets",
        "warning: mismatch: custom fields that no ticket of the snapshot names on ticket(s) 1 "
        "(txn 69 changes custom field #17, which no ticket of the snapshot names): their "
        "changes are shown by id",
    ]


def test_no_queue_list_at_all_is_warned_about_not_a_traceback(tmp_path: Path) -> None:
    """An account that may see no queue: queues.jsonl is empty (the analysis crashed)."""

    def edit(rows: Rows) -> None:
        rows["queues.jsonl"] = []

    snap = edited(EXAMPLE, tmp_path / "s", edit)
    found = Context(load_snapshot(snap), CONFIG).metrics.set_index("ticket_id")
    assert list(found["queue"]) == ["#4 (unknown queue)", "#3 (unknown queue)"]
    assert found["handoff_count"].isna().all()
    assert found.loc[2, "time_to_resolve_h"] == pytest.approx(45.0)


def test_a_problem_on_many_tickets_is_still_one_readable_line() -> None:
    from review.analysis import quality

    lost = pd.DataFrame(
        {
            "ticket_id": range(1, 601),
            "kind": "unknown-field",
            "input": "field_names",
            "detail": [f"txn {100 * t} changes custom field #7" for t in range(1, 601)],
        }
    )
    (problem,) = quality.data_problems(lost)
    assert problem.tickets == tuple(range(1, 601))  # all kept: each incident's page names its own
    assert problem.text.startswith(
        "custom fields that no ticket of the snapshot names on 600 tickets: "
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 590 more (txn 100 changes custom field #7; txn 200 "
        "changes custom field #7; txn 300 changes custom field #7; and 597 more): "
    )
