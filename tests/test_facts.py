"""The shared facts: one definition each, and every consumer reads it."""

from __future__ import annotations

import pandas as pd
import pytest

from review.analysis import facts
from review.analysis.timeline import EVENT_COLUMNS
from review.pages import figures
from review.snapshot import Snapshot

T0 = pd.Timestamp("2026-08-03T14:00:00Z")


def _events(rows: list[tuple[int, str, str, str, str, str]]) -> pd.DataFrame:
    """(txn_id, minutes after T0, kind, actor, old, new) -> an events frame of ticket 1."""
    frame = pd.DataFrame(
        [
            {
                "ticket_id": 1,
                "txn_id": txn,
                "at": T0 + pd.Timedelta(minutes=int(minutes)),
                "kind": kind,
                "type": "",
                "field": "",
                "old": old,
                "new": new,
                "creator": {"system": "RT_System", "requestor": "carol"}.get(actor, "dave"),
                "actor": actor,
                "handoff": False,
                "data": "",
            }
            for txn, minutes, kind, actor, old, new in rows
        ]
    )
    return frame[EVENT_COLUMNS]


EVENTS = _events(
    [
        (10, "0", "create", "requestor", "", ""),
        (11, "5", "reply", "system", "", ""),  # RT_System's autoreply
        (12, "10", "reply", "requestor", "", ""),
        (13, "20", "reply", "staff", "", ""),
        (14, "30", "owner", "staff", "Nobody", "dave"),
        (15, "40", "owner", "staff", "dave", "Nobody"),
        (16, "50", "status", "staff", "open", "resolved"),
        (17, "60", "status", "requestor", "resolved", "open"),
        (18, "70", "status", "staff", "open", "rejected"),
    ]
)


def test_rt_system_reply_is_not_a_staff_reply_in_the_timeline_figure() -> None:
    groups = figures._event_groups(EVENTS)
    assert list(groups["reply-staff"]) == [T0 + pd.Timedelta(minutes=20)]
    assert list(groups["reply-requestor"]) == [T0 + pd.Timedelta(minutes=10)]
    assert list(EVENTS.loc[facts.staff_reply(EVENTS), "txn_id"]) == [13]


def test_close_reopen_and_owner_masks() -> None:
    inactive = ["resolved", "rejected"]
    assert list(EVENTS.loc[facts.closing(EVENTS, inactive), "txn_id"]) == [16, 18]
    assert list(EVENTS.loc[facts.reopening(EVENTS, inactive), "txn_id"]) == [17]
    assert list(EVENTS.loc[facts.owner_set(EVENTS), "txn_id"]) == [14]
    assert list(EVENTS.loc[facts.owner_taken(EVENTS), "txn_id"]) == [14]
    last = facts.last_close(EVENTS, inactive)
    assert last.loc[1, "txn_id"] == 18 and last.loc[1, "new"] == "rejected"


def test_extra_cc_leaves_out_requestors() -> None:
    watchers = pd.DataFrame(
        {
            "ticket_id": [1, 1, 1, 2],
            "role": ["Requestor", "Cc", "Cc", "Cc"],
            "user": ["carol", "carol", "lists@x", "carol"],
        }
    )
    assert facts.extra_cc(watchers).values.tolist() == [[1, "lists@x"], [2, "carol"]]


def test_iso_utc_writes_one_format() -> None:
    at = pd.Series([T0, pd.NaT])
    assert facts.iso_utc(at, "?").tolist() == ["2026-08-03T14:00:00Z", "?"]


def test_one_derive_builds_the_state_stretches_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics, the close-out audit, the checklist and the SLA all read the context's stretches."""
    from review import context as derived
    from review.analysis import timeline
    from review.settings.config import load_config

    calls: list[int] = []

    def counted(events: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
        calls.append(len(events))
        return timeline.state_segments(events, snapshot)

    monkeypatch.setattr(derived, "state_segments", counted)
    config = load_config(None)
    context = derived.Context(derived.open_snapshot(None, config), config)
    assert len(context.checklist) > 0 and len(context.findings) > 0 and len(context.sla) > 0
    assert len(calls) == 1


def test_a_time_written_as_iso_utc_is_found_again_in_text() -> None:
    import re
    from datetime import UTC, datetime, timedelta, timezone

    from review.settings.utc import ISO_UTC_IN_TEXT, iso_utc_text

    eastern = datetime(2026, 8, 3, 10, 0, 5, tzinfo=timezone(timedelta(hours=-4)))
    text = iso_utc_text(eastern)
    assert text == "2026-08-03T14:00:05Z"
    assert datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) == eastern
    found = re.search(ISO_UTC_IN_TEXT, f"moved by txn 12 at {text}; ...")
    assert found is not None and found.groups() == ("2026-08-03", "14:00")


def test_utc_times_are_written_to_the_second_as_strftime_writes_them() -> None:
    at = pd.Series(
        pd.to_datetime(
            ["2026-08-03 14:00:00", "1969-12-31 23:59:59.5", None, "0001-01-01 00:00:00.999"],
            format="ISO8601",
        ).tz_localize("UTC"),
        index=[7, 3, 5, 1],
        name="at",
    )
    text = facts.iso_utc(at)
    expected = ["2026-08-03T14:00:00Z", "1969-12-31T23:59:59Z", "", "0001-01-01T00:00:00Z"]
    assert text.tolist() == expected
    assert text.index.tolist() == [7, 3, 5, 1] and text.name == "at"
    assert facts.iso_utc(at, missing=None).isna().tolist() == [False, False, True, False]
    local = at.iloc[:1].dt.tz_convert("America/New_York")  # not UTC: written as strftime does
    assert facts.iso_utc(local).tolist() == ["2026-08-03T10:00:00Z"]
