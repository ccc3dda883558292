"""The per-batch bookkeeping of a derive, done cheaper: each result as before, hand-computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review import derive
from review.analysis.survey import TALLIED, tally, tally_parts
from review.closeout.audit import incident_services
from review.closeout.registry import load_registry
from review.settings.config import load_config
from review.snapshot import Snapshot, join_per_key
from review.snapshot.load import open_catalog

SAMPLE = Path(__file__).parent.parent / "data" / "sample"
AT = pd.Timestamp("2024-01-01", tz="UTC").as_unit("us")
TIME = "datetime64[us, UTC]"


def _snapshot(tickets: pd.DataFrame, moves: list[tuple[int, int, str, str, str]]) -> Snapshot:
    """Tickets and their moves (txn_id, ticket_id, field, old, new: Set transactions)."""
    history = pd.DataFrame(
        {
            "txn_id": pd.Series([m[0] for m in moves], dtype="int64"),
            "ticket_id": pd.Series([m[1] for m in moves], dtype="int64"),
            "type": pd.Series(["Set"] * len(moves), dtype="string"),
            "field": pd.Series([m[2] for m in moves], dtype="string"),
            "old": pd.Series([m[3] for m in moves], dtype="string"),
            "new": pd.Series([m[4] for m in moves], dtype="string"),
            "created": pd.Series([AT + pd.Timedelta(minutes=m[0]) for m in moves], dtype=TIME),
            "creator": pd.Series(["x"] * len(moves), dtype="string"),
        }
    )
    queues = pd.DataFrame(
        {
            "queue_id": pd.Series(["3", "4"], dtype="string"),
            "name": pd.Series(["ops", "dev"], dtype="string"),
            "lifecycle": pd.Series(["", ""], dtype="string"),
        }
    )
    none = pd.DataFrame({"ticket_id": pd.Series([], dtype="int64")})
    return Snapshot(
        path=Path("."), manifest={}, tickets=tickets, transactions=history, watchers=none,
        custom_fields=none, field_names=pd.DataFrame({"field": []}), links=none,
        queues=queues, users=none,
    )  # fmt: skip


def _tickets() -> pd.DataFrame:
    """Ticket 1 in queue ops (3), open and started; ticket 2 in dev (4), new, not started."""
    return pd.DataFrame(
        {
            "ticket_id": pd.Series([1, 2], dtype="int64"),
            "status": pd.Series(["open", "new"], dtype="string"),
            "queue_id": pd.Series(["3", "4"], dtype="string"),
            "created": pd.Series([AT, AT], dtype=TIME),
            "started": pd.Series([AT, pd.NaT], dtype=TIME),
            "resolved": pd.Series([pd.NaT, pd.NaT], dtype=TIME),
        }
    )


def _rows(found: pd.DataFrame) -> list[list[object]]:
    return found[["kind", "name", *TALLIED]].to_numpy().tolist()


def test_a_tally_keeps_the_order_its_counts_first_appeared_in_where_pandas_did() -> None:
    """Counted as numbers, the rows come in the order counting names as text gave: each kind
    by first appearance where all its counts name the same (part, name) in that order (the
    queues here: ops before dev, as the tickets are), else sorted (the statuses: the roles
    are counted by groupby, sorted)."""
    found = tally(_snapshot(_tickets(), []))
    # kind, name, now, created, moved_in, moved_out, ever, inactive, active, initial
    assert _rows(found) == [
        ["queue", "ops", 1, 1, 0, 0, 0, 0, 0, 0],
        ["queue", "dev", 1, 1, 0, 0, 0, 0, 0, 0],
        ["status", "new", 1, 1, 0, 0, 1, 0, 1, 1],  # not resolved: active; not started
        ["status", "open", 1, 1, 0, 0, 1, 0, 1, 0],
    ]
    assert list(found.dtypes.astype(str)[2:]) == ["int64"] * len(TALLIED)


def test_a_tally_sorts_each_kind_whose_counts_name_different_rows() -> None:
    """Ticket 1 moved from dev into ops: created in dev (its first move's old queue), so the
    queues' counts name different rows and come sorted, dev first. By part, each part's rows
    are its own, in the same order."""
    snapshot = _snapshot(_tickets(), [(10, 1, "Queue", "4", "3")])
    assert _rows(tally(snapshot))[:2] == [
        ["queue", "dev", 1, 2, 0, 1, 0, 0, 0, 0],
        ["queue", "ops", 1, 0, 1, 0, 0, 0, 0, 0],
    ]
    by_part = tally_parts(snapshot, pd.Series([7, 5], index=[1, 2]))
    assert list(by_part) == [5, 7]  # in the order of the first row of each: sorted here
    assert _rows(by_part[7]) == [
        ["queue", "dev", 0, 1, 0, 1, 0, 0, 0, 0],
        ["queue", "ops", 1, 0, 1, 0, 0, 0, 0, 0],
        ["status", "open", 1, 1, 0, 0, 1, 0, 1, 0],
    ]
    assert _rows(by_part[5]) == [
        ["queue", "dev", 1, 1, 0, 0, 0, 0, 0, 0],
        ["status", "new", 1, 1, 0, 0, 1, 0, 1, 1],
    ]


def test_the_survey_takes_a_batchs_moves_from_its_history_as_a_read_gives_them(
    tmp_path: Path,
) -> None:
    """A batch's status and queue moves, taken out of the history it has read part by part,
    are those a read of its moves gives, in the same order (by txn_id: parts of several
    segments), whatever the order of its parts."""
    catalog = open_catalog(SAMPLE, tmp_path / "cache")
    assert len(set(catalog.order)) > 1
    for chosen in ([0, 1, 2], [2, 0], [1]):
        history = catalog.snapshot(parts=chosen, in_file_order=False).transactions
        taken = catalog.surveyed(chosen, history)
        assert len(taken) < len(history)
        pd.testing.assert_frame_equal(taken, catalog.surveyed(chosen))


def test_a_part_whose_rows_are_one_run_is_a_slice_of_the_frame() -> None:
    """Each part's rows in the frame's order, whether they are one run (a slice) or not (a
    take); a ticket of no part is in none."""
    frame = pd.DataFrame(
        {
            "ticket_id": pd.Series([1, 1, 2, 3, 2, 9], dtype="int64"),
            "text": pd.Series(list("abcdef"), dtype="string"),
        }
    )

    def part(ids: list[int], text: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "ticket_id": pd.Series(ids, dtype="int64"),
                "text": pd.Series(list(text), dtype="string"),
            }
        )

    found = derive._split({"f": frame}, {7: {1}, 8: {2, 3}})  # one run each
    pd.testing.assert_frame_equal(found[7]["f"], part([1, 1], "ab"))
    pd.testing.assert_frame_equal(found[8]["f"], part([2, 3, 2], "cde"))
    found = derive._split({"f": frame}, {7: {1, 3}, 8: {2}, 9: {4}})  # rows apart; none
    pd.testing.assert_frame_equal(found[7]["f"], part([1, 1, 3], "abd"))
    pd.testing.assert_frame_equal(found[8]["f"], part([2, 2], "ce"))
    pd.testing.assert_frame_equal(found[9]["f"], part([], ""))


@pytest.mark.parametrize("dtype", ["string", "str"])
def test_a_fields_values_are_as_joined_where_no_ticket_holds_two(dtype: str) -> None:
    """A field no ticket holds twice: its values as they are (blanks kept, a missing value
    missing, '' for a ticket without it), as join_per_key gives them; one held twice, joined."""
    tickets = pd.DataFrame({"ticket_id": pd.Series([4, 1, 2, 3], dtype="int64")})
    custom = pd.DataFrame(
        {
            "ticket_id": pd.Series([1, 2, 3, 1, 1], dtype="int64"),
            "field": pd.Series(["Service", "Service", "Root", "Root", "Root"], dtype="string"),
            "value": pd.Series([" svc ", None, "x", "y", "z"], dtype=dtype),
        }
    )
    none = pd.DataFrame({"ticket_id": pd.Series([], dtype="int64")})
    snapshot = Snapshot(
        path=Path("."), manifest={}, tickets=tickets, transactions=none, watchers=none,
        custom_fields=custom, field_names=pd.DataFrame({"field": []}), links=none,
        queues=none, users=none,
    )  # fmt: skip
    service = snapshot.field_values("Service")
    assert service.index.tolist() == [4, 1, 2, 3]
    assert service.tolist()[:2] == ["", " svc "] and pd.isna(service.iloc[2])
    assert service.iloc[3] == "" and service.dtype == custom["value"].dtype
    held = custom.loc[custom["field"] == "Service"]
    joined = join_per_key(held["ticket_id"], held["value"], ", ")
    expected = joined.reindex(tickets["ticket_id"], fill_value="").rename("Service")
    pd.testing.assert_series_equal(service, expected)
    assert snapshot.field_values("Root").tolist() == ["", "y, z", "", "x"]


def test_incident_services_reads_each_value_and_queue_once_as_each_incident_would() -> None:
    """The registry's service for the field's value (case and blanks ignored), else for the
    queue where the field is empty; an unregistered value as written, trimmed; repeated
    (value, queue) pairs and missing ones each answered as alone."""
    registry = load_registry(load_config(None).gaps.registry)
    metrics = pd.DataFrame(
        {
            "ticket_id": pd.Series([5, 6, 7, 8, 9, 10], dtype="int64"),
            "service": pd.Series(
                [" Web Portal ", "", "unknown ", None, " Web Portal ", ""], dtype="string"
            ),
            "queue": pd.Series(
                ["ops", "dev-web", "dev-web", None, "ops", "dev-web"], dtype="string"
            ),
        }
    )
    found = incident_services(metrics, registry)
    assert found.index.tolist() == [5, 6, 7, 8, 9, 10]
    assert found["service"].tolist() == [
        "web-portal", "web-portal", "unknown", "", "web-portal", "web-portal",
    ]  # fmt: skip
    assert found["registered"].tolist() == [True, True, False, False, True, True]
    # as each incident's own reading gives it
    rt_name = metrics["service"].fillna("").astype("string").set_axis(metrics["ticket_id"])
    by_name = registry.service_of_name(rt_name)
    by_queue = registry.service_of_queue(metrics["queue"].set_axis(metrics["ticket_id"]))
    service = by_name.where(by_name != "", by_queue.where(rt_name == "", ""))
    expected = pd.DataFrame(
        {"service": service.where(service != "", rt_name.str.strip()), "registered": service != ""}
    )
    pd.testing.assert_frame_equal(found, expected)
    assert np.array_equal(found["registered"].to_numpy(dtype=bool), [1, 1, 0, 0, 1, 1])
