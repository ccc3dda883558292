"""A reply by someone RT says is not staff (Privileged 0) who is not a requestor either (a
customer on the Cc replying to all, a requestor removed since) is no staff reply: it neither
triages the incident nor breaks a silence. RT's own SLA counts it inside, as staff's.

Input: the real RT example (tests/fixtures/rt-example; test_plausible_times works out its
metrics by hand) with an unprivileged customer, cust9, on ticket 1's Cc, replying at 13:10Z
(before dave's first staff reply at 13:20Z) and at 00:00Z the next night (inside the 20.75 h
silence between dave's reply and bob's at 10:05Z on 2026-09-09).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from review.context import Context
from review.settings.config import load_config
from review.snapshot import load_snapshot
from tests.edited import EXAMPLE, Rows, edited, txn

CONFIG = load_config(None)


# an internal comment by cust9 (in place of rows the kit ignores, ids rising with the times):
# on ticket 1 (txn 58, 13:06Z, before its reply 59) or ticket 2 (txn 86, 14:10Z, after 85)
COMMENTS = {1: ("58", "2026-09-08T13:06:00Z"), 2: ("86", "2026-09-14T14:10:00Z")}


def cc_customer_replies(privileged: Any, comments_on: int | None = None) -> Any:
    """The edit: cust9 (Privileged `privileged`; None: the field absent) Cc'd on ticket 1,
    replying in place of two rows the kit ignores (an EmailRecord, a SetWatcher twin), so
    that the ids still rise with the times; with a comment on ticket `comments_on`."""

    def edit(rows: Rows) -> None:
        user = copy.deepcopy(next(u for u in rows["users.jsonl"] if u["Name"] == "cust1"))
        user.update(id=36, Name="cust9", EmailAddress="cust9@example.org")
        if privileged is None:
            del user["Privileged"]
        else:
            user["Privileged"] = privileged
        rows["users.jsonl"].append(user)
        ticket = next(t for t in rows["tickets.jsonl"] if t["id"] == 1)
        ticket["Cc"].append({"id": "cust9", "type": "user", "_url": "x/user/cust9"})
        for txn_id, when in ((59, "2026-09-08T13:10:00Z"), (68, "2026-09-09T00:00:00Z")):
            reply = copy.deepcopy(txn(rows, 60))  # dave's Correspond
            reply.update(id=str(txn_id), Created=when)
            reply["Creator"]["id"] = "cust9"
            rows["transactions.jsonl"] = [
                t for t in rows["transactions.jsonl"] if t["id"] != str(txn_id)
            ] + [reply]
        if comments_on is not None:
            comment = copy.deepcopy(txn(rows, 63))  # dave's Comment on ticket 1
            txn_id, when = COMMENTS[comments_on]
            comment.update(id=txn_id, ObjectId=str(comments_on), Created=when)
            comment["Creator"]["id"] = "cust9"
            rows["transactions.jsonl"] = [
                t for t in rows["transactions.jsonl"] if t["id"] != txn_id
            ] + [comment]

    return edit


def metrics(
    tmp_path: Path, privileged: Any, comments_on: int | None = None
) -> tuple[Context, pd.Series]:
    snap = edited(EXAMPLE, tmp_path / "s", cc_customer_replies(privileged, comments_on))
    context = Context(load_snapshot(snap), CONFIG)
    return context, context.metrics.set_index("ticket_id").loc[1]


def test_a_cc_customers_reply_neither_triages_nor_breaks_a_silence(tmp_path: Path) -> None:
    context, found = metrics(tmp_path, 0)
    # before: triaged at cust9's 13:10Z reply (0.083 h), and the longest silence 10.67 h
    # (dave 13:20Z -> cust9 00:00Z)
    assert found["triaged_at"] == pd.Timestamp("2026-09-08T13:20:00Z")  # dave's reply
    assert found["time_to_triage_h"] == pytest.approx(0.25)
    assert found["max_update_gap_h"] == pytest.approx(20.75)  # 13:20Z -> 10:05Z next day
    events = context.events.set_index("txn_id")
    assert list(events.loc[[59, 60, 68], "actor"]) == ["unprivileged", "staff", "unprivileged"]


def test_a_user_whose_privilege_the_pull_did_not_record_counts_as_staff(tmp_path: Path) -> None:
    """A users row without Privileged (an older pull) says nothing: as before, staff."""
    _, found = metrics(tmp_path, None)
    assert found["triaged_at"] == pd.Timestamp("2026-09-08T13:10:00Z")
    assert found["max_update_gap_h"] == pytest.approx(10 + 40 / 60)


def test_an_unprivileged_user_who_did_staffs_work_on_the_ticket_was_staff(
    tmp_path: Path,
) -> None:
    """RT records today's privilege: one who comments on a ticket they do not request (staff's
    work; so are owner, queue, status and field changes) was staff then (since left, say)."""
    context, found = metrics(tmp_path, 0, comments_on=1)
    assert found["triaged_at"] == pd.Timestamp("2026-09-08T13:10:00Z")
    assert found["max_update_gap_h"] == pytest.approx(10 + 40 / 60)
    assert set(context.events.loc[context.events["creator"] == "cust9", "actor"]) == {"staff"}


def test_staffs_work_is_judged_within_the_ticket(tmp_path: Path) -> None:
    """Work on another ticket (ticket 2) says nothing of ticket 1: a month's part, which holds
    its tickets whole, derives as the whole snapshot does."""
    context, found = metrics(tmp_path, 0, comments_on=2)
    assert found["triaged_at"] == pd.Timestamp("2026-09-08T13:20:00Z")
    events = context.events.set_index("txn_id")
    assert list(events.loc[[59, 86], "actor"]) == ["unprivileged", "staff"]
