"""Transaction times that run backwards against their ids: RT numbers transactions in the
order it writes them, so a later id stamped earlier (beyond a minute: plausible.ORDER_TOLERANCE)
means one of the two times is wrong (a clock set back, an import, a hand edit). Before, nothing
said so and every metric was computed from the order the times gave.

Inputs: the real RT example (tests/fixtures/rt-example) as dumped, whose link txn 109 was
backdated by hand to 2026-09-09T10:25Z, after txn 76 (2026-09-10T12:00Z) was written; and
copies with hand-edited times (tests/edited.py puts txn 109 back in RT's order first). Ticket 1's
numbers, worked out by hand in tests/metrics/*.yaml, are those of test_plausible_times.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from review.analysis import quality
from review.context import Context
from review.settings.config import load_config
from review.snapshot import load_snapshot, plausible
from tests.edited import EXAMPLE, edited, stamp

CONFIG = load_config(None)
KIND = "time-backwards"
STATUS_METRICS = ["resolved_at", "time_to_resolve_h", "time_to_resolve_bh", "reopen_count",
                  "max_update_gap_h", "time_in_handoff_h", "time_in_handoff_bh"]  # fmt: skip
TRIAGE_METRICS = ["triaged_at", "time_to_triage_h", "time_to_triage_bh"]


def _at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_backwards_is_a_running_maximum_in_id_order() -> None:
    # ticket 1: ids 1..4 at 10:00, 12:00, 10:05, 11:00 (rows given out of order): 3 and 4 are
    # earlier than 2, which RT wrote before them; ticket 2: 30 s backwards is within the minute,
    # 61 s is not (against the latest before it, id 6 at 10:00:00, not id 7)
    times = ["2026-01-05T10:05Z", "2026-01-05T10:00Z", "2026-01-05T11:00Z", "2026-01-05T12:00Z",
             "2026-01-05T10:00:00Z", "2026-01-05T09:59:30Z", "2026-01-05T09:58:59Z"]  # fmt: skip
    frame = pd.DataFrame(
        {
            "ticket_id": [1, 1, 1, 1, 2, 2, 2],
            "txn_id": [3, 1, 4, 2, 6, 7, 8],
            "at": [_at(t) for t in times],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    found = plausible.backwards(frame["ticket_id"], frame["txn_id"], frame["at"])
    assert found.index.tolist() == [10, 12, 16]  # ids 3, 4 and 8
    assert found["after"].tolist() == [2, 2, 6]
    assert found["after_at"].tolist() == [_at("2026-01-05T12:00Z")] * 2 + [_at("2026-01-05T10:00Z")]


def test_the_examples_backdated_link_is_said_and_changes_no_number() -> None:
    snapshot = load_snapshot(EXAMPLE)
    lost = quality.lost_inputs(snapshot, CONFIG)
    assert lost.to_dict("records") == [
        {
            "ticket_id": 1,
            "kind": KIND,
            "input": "link",
            # 2026-09-10T12:00Z - 2026-09-09T10:25Z = 25 h 35 min = 25.58 h
            "detail": "txn 109 (link) at 2026-09-09T10:25:00Z is 25.58 h before txn 76 at "
            "2026-09-10T12:00:00Z, which RT wrote before it",
        }
    ]
    [problem] = quality.data_problems(lost)
    assert (problem.kind, problem.tickets, problem.mismatch) == (KIND, (1,), True)
    # no metric reads a link's time: ticket 1's numbers stay as worked out by hand
    row = Context(snapshot, CONFIG).metrics.set_index("ticket_id").loc[1]
    assert row["time_to_resolve_h"] == pytest.approx(46.92, abs=0.01)
    assert row["reopen_count"] == 1


def test_a_status_change_stamped_before_one_written_earlier_takes_the_order_away(
    tmp_path: Path,
) -> None:
    # txn 75 (the reopen, resolved -> open, 2026-09-10T09:00Z) stamped 10:00Z the day before:
    # 10 min before txn 73 (the first resolve, 09-09T10:10Z), written before it
    snap = edited(EXAMPLE, tmp_path / "s", stamp(75, "2026-09-09T10:00:00Z"))
    context = Context(load_snapshot(snap), CONFIG)
    lost = context.lost.loc[context.lost["kind"] == KIND]
    detail = ("txn 75 (status) at 2026-09-09T10:00:00Z is 0.17 h before txn 73 at "
              "2026-09-09T10:10:00Z, which RT wrote before it")  # fmt: skip
    assert lost[["ticket_id", "input", "detail"]].values.tolist() == [
        [1, "status", detail],
        [1, quality.TRIAGE, detail],
    ]
    metrics = context.metrics.set_index("ticket_id")
    for key in STATUS_METRICS + TRIAGE_METRICS:
        assert pd.isna(metrics.loc[1, key]), f"{key} = {metrics.loc[1, key]!r}, not empty"
    # ticket 2 is untouched: taken at 15:00Z (1 h), rejected 09-16T11:00Z (45 h)
    assert metrics.loc[2, "time_to_triage_h"] == 1.0
    assert metrics.loc[2, "time_to_resolve_h"] == 45.0


@pytest.mark.parametrize(
    ("when", "flagged"),
    [("2026-09-10T08:59:00Z", False), ("2026-09-10T08:58:59Z", True)],
)
def test_a_minute_backwards_is_tolerated_a_second_more_is_not(
    tmp_path: Path, when: str, flagged: bool
) -> None:
    # txn 76 (the last resolve, 12:00Z) stamped 60 s / 61 s before txn 75 (09:00Z)
    snap = edited(EXAMPLE, tmp_path / "s", stamp(76, when))
    lost = quality.lost_inputs(load_snapshot(snap), CONFIG)
    assert (KIND in set(lost["kind"])) is flagged


def test_out_of_order_reads_a_batchs_parts_as_they_lie() -> None:
    # a derive batch: two parts one after the other, each sorted by ticket and id, their ticket
    # ranges overlapping (1, 3 and 2, 4) but no ticket in both: ticket 3 goes back an hour,
    # ticket 4 three; then a row of ticket 1 in the second part, earlier than its first part's
    def frame(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
        found = pd.DataFrame(rows, columns=["ticket_id", "txn_id", "at"])
        return found.assign(at=pd.to_datetime(found["at"], utc=True))

    parts = [(1, 1, "10:00"), (1, 2, "12:00"), (3, 5, "10:00"), (3, 6, "09:00"),
             (2, 3, "10:00"), (2, 4, "10:30"), (4, 7, "11:00"), (4, 8, "08:00")]  # fmt: skip
    for rows, flagged, late in [
        (parts, [3, 4], [3, 7]),
        ([*parts, (1, 9, "09:00")], [1, 3, 4], [8, 3, 7]),
    ]:
        batch = frame([(t, i, f"2026-01-05T{at}Z") for t, i, at in rows])
        found = plausible.out_of_order(batch["ticket_id"], batch["txn_id"], batch["at"])
        assert batch.loc[found, "ticket_id"].unique().tolist() == flagged
        # as the whole file order (sorted) finds them, labels and all
        ordered = batch.sort_values(["ticket_id", "txn_id"])
        back = plausible.backwards(batch["ticket_id"], batch["txn_id"], batch["at"])
        pd.testing.assert_frame_equal(
            back, plausible.backwards(ordered["ticket_id"], ordered["txn_id"], ordered["at"])
        )
        assert back.index.tolist() == late  # (in ticket and id order)


def test_a_batch_of_parts_finds_what_the_file_order_finds() -> None:
    # review.derive reads a batch's parts one after another: ticket 2's part before ticket 1's
    snapshot = load_snapshot(EXAMPLE)
    tx = snapshot.transactions
    batch = pd.concat([tx.loc[tx["ticket_id"] == 2], tx.loc[tx["ticket_id"] == 1]])
    found = quality.lost_inputs(dataclasses.replace(snapshot, transactions=batch), CONFIG)
    pd.testing.assert_frame_equal(found, quality.lost_inputs(snapshot, CONFIG))
    assert found["detail"].tolist() == [
        "txn 109 (link) at 2026-09-09T10:25:00Z is 25.58 h before txn 76 at "
        "2026-09-10T12:00:00Z, which RT wrote before it"
    ]
