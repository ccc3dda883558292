"""The first screen of an incident review: what happened, key moments, action items, the
checklist against the findings, long logs cut short. Expected values read by hand from the
bundled sample's history (data/sample, scenarios in data/scenarios)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from review.analysis.moments import RELABELLED, TEAM, with_team_moments
from review.pages import reports, what_happened
from review.pages.display import Note, Stack, Table


@pytest.fixture(scope="module")
def ticket10() -> reports.IncidentReview:
    return reports.incident_review_data(None, 10)


def _moments(review: reports.IncidentReview) -> list[tuple[int, str, str]]:
    return [(int(m.txn_id), m.label, m.who) for m in review.moments.itertuples()]


def test_key_moments_come_from_the_history(ticket10: reports.IncidentReview) -> None:
    # 231 created by fay; 236 dave (Operations) takes it; 238 dave's first reply; 245 to
    # dev-web; 246 walt owns it; 259 back from ops-help to dev-identity; 281 Validated By
    # fay; 282 resolved
    assert _moments(ticket10) == [
        (231, "Opened", "fay"),
        (238, "First staff reply (detection)", "dave"),
        (245, "Hand-off: ops-help to dev-web", "dave"),
        (246, "Tech Lead takes over: walt", "dave"),
        (259, "Hand-off: ops-help to dev-identity", "ivan"),
        (281, "Validated by fay", "ivan"),
        (282, "Resolved (resolved)", "ivan"),
    ]


def test_a_temporary_fix_a_reopen_and_a_close_are_moments() -> None:
    # ticket 8: Resolution Type Temporary by txn 210; ticket 51: closed 946, reopened 948
    assert (210, "Temporary fix recorded (Resolution Type)", "raj") in _moments(
        reports.incident_review_data(None, 8)
    )
    labels = [label for _, label, _ in _moments(reports.incident_review_data(None, 51))]
    assert labels[-3:] == [
        "Closed (resolved), later reopened",
        "Reopened (open)",
        "Resolved (resolved)",
    ]


def test_the_team_relabels_and_adds_moments_and_nothing_written_is_lost(
    ticket10: reports.IncidentReview,
) -> None:
    team = [(245, "Handed to the web team"), (252, "Diagnosis: the SSO rejects"), (99999, "x")]
    shown = with_team_moments(ticket10.moments, ticket10.events, team)

    row = shown.set_index("txn_id")
    assert (row.loc[245, "label"], row.loc[245, "source"]) == ("Handed to the web team", RELABELLED)
    assert (row.loc[252, "label"], row.loc[252, "who"], row.loc[252, "source"]) == (
        "Diagnosis: the SSO rejects", "walt", TEAM,
    )  # fmt: skip
    assert row.loc[252, "at"] == pd.Timestamp("2026-08-10T16:00:00Z")  # walt's reply, 12:00 EDT
    assert shown["txn_id"].iloc[-1] == 99999 and pd.isna(shown["at"].iloc[-1])  # kept, last
    assert len(shown) == len(ticket10.moments) + 2


def test_each_moment_links_to_its_transaction_in_rt(ticket10: reports.IncidentReview) -> None:
    url = "https://rt.example.edu/Ticket/Display.html?id=10"
    table = what_happened.moments_table(ticket10.moments, ticket10.events, [], ticket10.config, url)

    assert f'href="{url}#txn-238"' in table._repr_html_()
    plain = what_happened.moments_table(ticket10.moments, ticket10.events, [], ticket10.config, "")
    assert "href" not in plain._repr_html_()  # the sample is not from an RT server


def test_what_happened_says_it_in_words(ticket10: reports.IncidentReview) -> None:
    # opened 2026-08-10 13:30Z, resolved 2026-08-11 19:30Z: 30 h; business hours Mon
    # 09:30-17:00 EDT (7.5) + Tue 09:00-15:30 (6.5) = 14; the urgent level's resolve deadline
    # 13:30Z (09:30 EDT) missed by 6 h; response due 14:30Z, dave replied 13:50Z
    assert repr(ticket10.what_happened()).splitlines() == [
        "Urgent - Degraded incident of web-portal (service owner Web Services, business owner "
        "Registrar's Office); reported by fay <fay@example.org>, with web-announce@example.edu "
        "on Cc.",
        "Open 30.0 h wall-clock, 14.0 business hours: from 2026-08-10 09:30 EDT to 2026-08-11 "
        "15:30 EDT.",
        "Triaged 0.2 h after it was opened (0.2 business hours); the first staff reply came "
        "2026-08-10 09:50 EDT, so the response deadline (2026-08-10 10:30 EDT) was met.",
        "Handed off to a developer queue 2 times, 8.0 h in developer queues (8.0 business "
        "hours); the hand-off target (8 business hours to a first developer action) was met.",
        "Service level urgent: the response deadline (2026-08-10 10:30 EDT) was met; the "
        "resolve deadline (2026-08-11 09:30 EDT) was missed: resolved 6.0 h after it.",
        "1 close-out finding still open (ad-hoc-support-team); the snapshot holds no follow-up "
        "tickets (`review pull` takes them).",
        "Process checklist: 9 of 12 steps done, 3 missing; 2 differences from the findings, "
        "explained under the checklist.",
    ]


def test_a_ticket_never_answered_and_closed_in_an_hour() -> None:
    text = repr(reports.incident_review_data(None, 9).what_happened())
    assert "Never triaged: no staff owner, staff reply or staff status change before it was " \
        "closed." in text  # fmt: skip
    assert "no staff reply came, and it was closed before the response deadline" in text
    assert "Never handed off to a developer queue." in text


def test_where_the_checklist_and_findings_differ_the_page_says_why(
    ticket10: reports.IncidentReview,
) -> None:
    # 3 steps missing, 1 finding (ad-hoc-support-team, under close-out records): the other two
    why = ticket10.differences.set_index("step")["why"]
    assert list(why.index) == ["Recipient List and Help Desk in the loop", "3Down updated (urgent)"]
    assert why.iloc[0].startswith("no rule fired: comms-channels-undefined fires only when")
    assert "Help Desk list helpdesk-list@example.edu is not a watcher" in why.iloc[0]
    assert why.iloc[1].startswith("no close-out rule checks this step")
    agree = reports.incident_review_data(None, 6)  # 4 missing, 4 findings, one per step
    assert agree.differences.empty
    assert "agree" in repr(agree.checklist_differences())


def test_a_finding_whose_step_is_done_is_explained() -> None:
    from review.closeout.checklist import differences

    checklist = pd.DataFrame(
        {"step": ["Tech Lead assigned"], "state": ["done"], "evidence": ["owner set to walt"]}
    )
    findings = pd.DataFrame({"rule": ["no-owner-at-close"]})
    why = differences(checklist, findings)["why"].tolist()
    assert why == [
        "finding no-owner-at-close while the checklist's 'Tech Lead assigned' is done: the rule "
        "asks something else (closed while its owner was Nobody)."
    ]


def _findings_with_followups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": ["not-validated", "handoff-not-announced"],
            "action": ["Validate", "Announce"],
            "action_owner": ["Storage Team", "sara"],
            "followup": pd.array([75, pd.NA], dtype="Int64"),
            "followup_status": ["open", ""],
            "followup_owner": ["bob", ""],
            "followup_age_days": pd.array([12, pd.NA], dtype="Int64"),
            "followup_overdue": [False, pd.NA],
        }
    )


def test_action_items_are_the_follow_ups_with_owner_status_and_age() -> None:
    links = {"followup": "https://rt.example.edu/Ticket/Display.html?id={}"}
    table = what_happened.action_items(_findings_with_followups(), links)

    assert isinstance(table, Table)
    shown = repr(table).splitlines()
    assert shown[0].split() == ["Finding", "Action", "Action", "owner", "Follow-up", "Owner",
                                "in", "RT", "RT", "status", "Age", "(days)", "Overdue"]  # fmt: skip
    assert shown[1].split() == ["Not", "validated", "Validate", "Storage", "Team", "75", "bob",
                                "open", "12", "No"]  # fmt: skip
    assert "no follow-up yet" in shown[2]
    assert 'href="https://rt.example.edu/Ticket/Display.html?id=75"' in table._repr_html_()
    words = what_happened._findings(_findings_with_followups())
    assert words == (
        "2 close-out findings still open (not-validated, handoff-not-announced); follow-ups "
        "in RT: #75 open for 12 days; 1 without one."
    )


def test_a_long_communication_log_shows_its_ends_and_counts_the_rest() -> None:
    n = 50_000
    log = pd.DataFrame(
        {
            "when": [f"t{i}" for i in range(n)],
            "what": ["comment" if i % 4 else "reply (to requestors, Cc)" for i in range(n)],
            "who": "x",
            "as": "staff",
            "text": [f"message {i}" for i in range(n)],
        }
    )
    parts = what_happened.communication_log(log, 77)

    note = parts[0]
    assert len(parts) == 3
    assert isinstance(note, Note)
    assert note.text.startswith("50,000 messages (37,500 comment, 12,500 reply (to requestors, "
                                "Cc)) from t0 to t49999: the first and last 10 are shown. The "
                                "other 49,980 are in the notebook")  # fmt: skip
    assert "review lab 77" in note.text
    html = Stack(parts)._repr_html_()
    assert "message 9<" in html and "message 10<" not in html and "message 49990<" in html
    assert len(html) < 20_000
    short = what_happened.communication_log(log.head(25), 77)
    assert len(short) == 1 and "message 24<" in short[0]._repr_html_()


def test_a_long_message_is_cut_on_the_page_and_kept_whole_in_the_frame() -> None:
    pasted = "log line\n" * 1_000  # 9,000 characters
    log = pd.DataFrame(
        {"when": ["t0", "t1"], "what": ["opened", "comment"], "who": "x", "as": "staff",
         "text": ["short", pasted]}
    )  # fmt: skip
    (table,) = what_happened.communication_log(log, 77)
    assert isinstance(table, Table)
    assert table.frame["text"].tolist() == [
        "short",
        pasted[:2_000] + " [... 7,000 more characters: the whole message is in RT and in the "
        "notebook's review.communication]",
    ]
    assert len(log.loc[1, "text"]) == 9_000  # the frame itself is not cut


def _review_at(tmp_path: Path, text: str) -> Any:
    from review.pages import written

    path = tmp_path / "incident-10.json"
    written.save(path, written.WrittenReview(10, (written.Section("moments", text),)))
    return path


def test_the_review_data_reads_the_teams_moments(tmp_path: Path) -> None:
    path = _review_at(tmp_path, "- 252: Diagnosis: the SSO assertion is rejected")
    review = reports.incident_review_data(None, 10, written=path)

    assert review.team_moments == [(252, "Diagnosis: the SSO assertion is rejected")]
    assert "Diagnosis: the SSO assertion is rejected" in repr(review.key_moments())


def test_local_times_for_a_whole_column_match_one_at_a_time() -> None:
    from review.pages.times import local_time, local_times
    from review.settings.config import load_config

    config = load_config(None)
    # summer, missing, winter, and the hour 01:00-02:00 that happens twice on 2026-11-01
    moments = pd.Series(pd.to_datetime(["2026-08-10T13:30Z", None, "2026-12-01T13:30Z",
                                        "2026-11-01T05:30Z", "2026-11-01T06:30Z"], utc=True))  # fmt: skip
    assert local_times(moments, config).tolist() == [
        "2026-08-10 09:30 EDT", "", "2026-12-01 08:30 EST", "2026-11-01 01:30 EDT",
        "2026-11-01 01:30 EST",
    ]  # fmt: skip
    assert local_times(moments, config).tolist() == [local_time(m, config) for m in moments]


def test_a_reviews_action_items_show_its_follow_up_tickets_from_the_pull(tmp_path: Path) -> None:
    """Incident 10's finding (ad-hoc-support-team, per service) and its follow-up #75 as the
    pull saved it: owner, RT status and age at the pull (2026-10-01 to 2026-11-01T06:00Z)."""
    from review.settings.config import sample_snapshot
    from review.snapshot import DATA_FILES, read_jsonl, write_snapshot

    followup = {
        "id": "75",
        "Subject": "[followup:ad-hoc-support-team:service/web-portal] ad-hoc-support-team, "
        "web-portal: incident 10",
        "Status": "open",
        "Owner": {"id": "wendy", "Name": "wendy", "EmailAddress": "wendy@example.edu"},
        "Created": "2026-10-01T00:00:00Z",
        "Resolved": "1970-01-01T00:00:00Z",
        "_hyperlinks": [{"ref": "refers-to", "type": "ticket", "id": "10"}],
    }
    rows = [read_jsonl(sample_snapshot() / name) for name in DATA_FILES]
    manifest = json.loads((sample_snapshot() / "manifest.json").read_text())
    snapshot = write_snapshot(
        tmp_path / "snapshot", *rows, source="https://rt.example.edu/REST/2.0/", query="q",
        pulled_at=manifest["pulled_at"], followups=[followup], coverage=manifest["coverage"],
    )  # fmt: skip
    review = reports.incident_review_data(snapshot, 10)

    table = review.action_items()
    shown = table.frame.iloc[0]
    assert (shown["followup"], shown["owner_in_RT"], shown["RT_status"], shown["age_days"]) == (
        75, "wendy", "open", 31,
    )  # fmt: skip
    assert bool(shown["overdue"])  # open more than 30 days at the pull
    assert 'href="https://rt.example.edu/Ticket/Display.html?id=75"' in table._repr_html_()
    assert "follow-ups in RT: #75 open for 31 days." in repr(review.what_happened())
    moments = review.key_moments()._repr_html_()
    assert 'href="https://rt.example.edu/Ticket/Display.html?id=10#txn-238"' in moments
