"""RT's `deleted` status: inactive in RT's lifecycles (RT sets Resolved on entering it, and its
ticket searches leave deleted tickets out), but the kit's statuses did not name it, so a
ticket moved resolved -> deleted counted a reopen, one moved back (an undelete) was resolved
again, and a ticket deleted now was an incident still open. It is now inactive whatever
[statuses] lists (unless it names it another role), and a ticket deleted now is no incident.

Inputs: the real RT example (tests/fixtures/rt-example) with hand-added status rows. Ticket 1
opened 2026-09-08T13:05Z, resolved 09-09T10:10Z, reopened 09-10T09:00Z, resolved 09-10T12:00Z:
time to resolve 46.92 h, 1 reopen (tests/metrics/*.yaml).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from review.cli import main
from review.context import Context
from review.errors import TicketError
from review.pages.reports import incident_review_data
from review.settings.config import load_config
from review.snapshot import load_snapshot
from tests.edited import EXAMPLE, Rows, edited, txn

CONFIG = load_config(None)


def _status(rows: Rows, ticket: int, txn_id: int, at: str, old: str, new: str) -> None:
    row = copy.deepcopy(txn(rows, 76))  # a Status row of RT's shape
    row.update(id=str(txn_id), ObjectId=str(ticket), Created=at, OldValue=old, NewValue=new)
    rows["transactions.jsonl"].append(row)


def _deleted(rows: Rows) -> None:
    # ticket 1 deleted by mistake the day after its resolution and undeleted an hour later
    _status(rows, 1, 200, "2026-09-11T09:00:00Z", "resolved", "deleted")
    _status(rows, 1, 201, "2026-09-11T10:00:00Z", "deleted", "resolved")
    # ticket 2, rejected, then deleted (a pull that asked for Status = 'deleted' keeps it)
    _status(rows, 2, 202, "2026-09-16T12:00:00Z", "rejected", "deleted")
    next(t for t in rows["tickets.jsonl"] if t["id"] == 2)["Status"] = "deleted"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Context:
    snapshot = edited(EXAMPLE, tmp_path_factory.mktemp("deleted") / "s", _deleted)
    return Context(load_snapshot(snapshot), CONFIG)


def test_deleted_is_inactive_by_default_and_in_any_lifecycle(tmp_path: Path) -> None:
    assert "deleted" in CONFIG.statuses.inactive
    path = tmp_path / "review.toml"
    path.write_text('[statuses]\ninactive = ["closed", "cancelled"]\ninitial = "triage"\n')
    assert load_config(path).statuses.inactive == ("closed", "cancelled", "deleted")


def test_a_deletion_undone_is_neither_a_reopen_nor_a_new_resolution(context: Context) -> None:
    row = context.metrics.set_index("ticket_id").loc[1]
    # before: 2 reopens (resolved -> deleted counted), resolved again at 09-11T10:00Z (68.92 h)
    assert row["reopen_count"] == 1
    assert row["resolved_at"] == pd.Timestamp("2026-09-10T12:00:00Z")
    assert row["time_to_resolve_h"] == pytest.approx(46.92, abs=0.01)


def test_a_ticket_deleted_now_is_no_incident(context: Context) -> None:
    # before: ticket 2 was an incident with no resolution (still open), in every table
    assert context.metrics["ticket_id"].tolist() == [1]
    assert set(context.findings["ticket_id"]) <= {1}
    assert 2 not in set(context.sla["ticket_id"])
    assert set(context.checklist["ticket_id"]) == {1}


def test_its_review_says_it_was_deleted(tmp_path: Path) -> None:
    snapshot = edited(EXAMPLE, tmp_path / "s", _deleted)
    with pytest.raises(TicketError) as caught:
        incident_review_data(snapshot, 2)
    # before: "was merged into ticket None; review that one"
    assert str(caught.value) == "ticket 2: was deleted in RT (status deleted): it is no incident"


def test_review_init_says_deleted_is_inactive_whether_listed_or_not(tmp_path: Path) -> None:
    main(["init", "--snapshot", str(EXAMPLE), "--output", str(tmp_path / "review.toml")])
    assert (
        "#   deleted: RT's status of a deleted ticket; inactive whether listed or not (RT's "
        "searches never show such a ticket, and the kit counts none)"
    ) in (tmp_path / "review.toml").read_text().splitlines()
