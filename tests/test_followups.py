"""Follow-up planning without RT: keys, subjects, the plan against RT-shaped tickets, overdue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from review.closeout.followups import (
    CLEARED,
    Wanted,
    finding_followups,
    finding_keys,
    followup_frame,
    make_plan,
    subject_for,
)
from review.settings.config import Config

FINDINGS = pd.DataFrame(
    {
        "ticket_id": [5, 9, 9, 12],
        "service": ["wiki", "wiki", "wiki", ""],
        "rule": [
            "ad-hoc-support-team",
            "ad-hoc-support-team",
            "not-validated",
            "comms-channels-undefined",
        ],
    }
)


def test_keys_are_per_service_for_service_rules_and_per_incident_otherwise() -> None:
    assert finding_keys(FINDINGS).tolist() == [
        "ad-hoc-support-team:service/wiki",
        "ad-hoc-support-team:service/wiki",
        "not-validated:ticket/9",
        "comms-channels-undefined:service/(no service)",
    ]


def test_subject_names_rule_service_incidents_and_fits_rt() -> None:
    assert subject_for("not-validated:ticket/9", "not-validated", "wiki", [9]) == (
        "[followup:not-validated:ticket/9] not-validated, wiki: incident 9"
    )
    many = subject_for("r:service/s", "r", "s", list(range(1000, 1100)))
    assert len(many) <= 200 - len(CLEARED)
    assert many.startswith("[followup:r:service/s] r, s: incidents 1000, 1001, ")
    assert many.endswith(" ... (100 in all)")


def ticket(number: int, subject: str, status: str = "open", refers: tuple[int, ...] = (),
           created: str = "2026-10-01T00:00:00Z") -> dict[str, Any]:  # fmt: skip
    """A follow-up as RT's ticket search returns it."""
    return {
        "id": str(number),
        "Subject": subject,
        "Status": status,
        "Owner": {"id": "kim", "Name": "kim", "EmailAddress": "kim@example.edu"},
        "Created": created,
        "Resolved": "1970-01-01T00:00:00Z",
        "_hyperlinks": [{"ref": "self", "type": "ticket", "id": number}]
        + [{"ref": "refers-to", "type": "ticket", "id": str(i)} for i in refers],
    }


def wanted(key: str, incidents: tuple[int, ...], owner: str = "kim") -> Wanted:
    rule, rest = key.split(":")
    service = rest.split("/")[1] if rest.startswith("service/") else "wiki"
    return Wanted(
        key=key, rule=rule, service=service, incidents=incidents,
        subject=subject_for(key, rule, service, incidents), body="evidence\n",
        action_owner="Web Services" if not owner else "senior staff", owner=owner,
    )  # fmt: skip


RULES = ["ad-hoc-support-team", "not-validated", "no-owner-at-close"]
INACTIVE = ["resolved", "rejected"]


def plan_lines(wants: list[Wanted], tickets: list[dict[str, Any]], in_scope: set[int],
               services: set[str]) -> list[str]:  # fmt: skip
    existing = followup_frame(tickets)
    plan = make_plan(wants, existing, in_scope, services, RULES, INACTIVE, "the snapshot")
    return [s.line() for s in plan.steps]


def test_plan_creates_updates_and_leaves() -> None:
    adhoc = wanted("ad-hoc-support-team:service/wiki", (5, 9, 20))
    new = wanted("not-validated:ticket/20", (20,), owner="")
    done = wanted("not-validated:ticket/9", (9,))
    still = wanted("not-validated:ticket/5", (5,))
    tickets = [
        ticket(100, subject_for(adhoc.key, adhoc.rule, "wiki", (5, 9)), refers=(5, 9)),
        ticket(101, done.subject, refers=(9,)),
        ticket(102, still.subject, status="resolved", refers=(5,)),
        ticket(103, "[followup:not-validated:ticket/7] not-validated, wiki: incident 7"),
        ticket(104, "[followup:not-validated:ticket/3] not-validated, vpn: incident 3"),
        ticket(105, "[followup:no-owner-at-close:ticket/8] x" + CLEARED),
        ticket(106, done.subject, refers=(9,)),
        ticket(107, "[followup:never-triaged:ticket/9] a rule not asked for"),
        ticket(108, "no tag: someone else's ticket"),
    ]
    lines = plan_lines([adhoc, new, done, still], tickets, {5, 7, 8, 9, 20}, {"wiki"})
    assert lines == [
        "update  #100   ad-hoc-support-team:service/wiki  link #20; comment: The finding now "
        "also fires for incident(s) #20 (the snapshot).; subject",
        "create  new    not-validated:ticket/20  owner Nobody (Web Services: unmapped); "
        "refers to #20",
        "leave   #101   not-validated:ticket/9  up to date",
        "leave   #102   not-validated:ticket/5  resolved; the finding still fires",
        "update  #103   not-validated:ticket/7  comment: The finding no longer fires in the "
        "snapshot. Check that the action was taken, then resolve this follow-up (the tool "
        "never closes it).; subject",
        "leave   #104   not-validated:ticket/3  not in this snapshot's incidents: cannot tell "
        "whether it still fires",
        "leave   #105   no-owner-at-close:ticket/8  cleared earlier; still clear",
        "leave   #106   not-validated:ticket/9  duplicate of #101",
    ]


def test_a_cleared_follow_up_that_fires_again_is_retitled_and_commented() -> None:
    again = wanted("not-validated:ticket/9", (9,))
    lines = plan_lines([again], [ticket(7, again.subject + CLEARED, refers=(9,))], {9}, set())
    assert lines == [
        "update  #7     not-validated:ticket/9  comment: The finding fires again in the "
        "snapshot.; subject"
    ]


def test_an_updates_comment_marker_is_the_same_until_every_write_is_done() -> None:
    """An update writes a comment, links and a subject. The comment's marker names the update
    by what it leaves (the follow-up, its incidents, its subject), so a run stopped after any
    of the writes and its re-run mark the comment the same, and the re-run finds it."""
    import hashlib

    def note(tickets: list[dict[str, Any]], w: Wanted) -> str:
        plan = make_plan([w], followup_frame(tickets), {5, 9, 20}, {"wiki"}, RULES, INACTIVE,
                         "the snapshot")  # fmt: skip
        return plan.steps[0].note

    more = wanted("ad-hoc-support-team:service/wiki", (5, 9, 20))
    was = subject_for(more.key, more.rule, "wiki", (5, 9))
    expected = hashlib.sha256(f'[100, [5, 9, 20], "{more.subject}"]'.encode()).hexdigest()[:16]
    assert note([ticket(100, was, refers=(5, 9))], more) == expected
    # linked, not yet retitled: no comment is asked for any more (nothing new to link)
    plan = make_plan([more], followup_frame([ticket(100, was, refers=(5, 9, 20))]), {5, 9, 20},
                     {"wiki"}, RULES, INACTIVE, "the snapshot")  # fmt: skip
    assert (plan.steps[0].comment, plan.steps[0].subject) == ("", more.subject)

    again = wanted("not-validated:ticket/9", (9, 20))
    cleared = again.subject.replace("incidents 9, 20", "incident 9") + CLEARED
    first = note([ticket(7, cleared, refers=(9,))], again)
    assert note([ticket(7, cleared, refers=(9, 20))], again) == first  # after the link
    assert first != note([ticket(8, cleared, refers=(9,))], again)  # another follow-up

    gone = [ticket(103, "[followup:not-validated:ticket/7] not-validated, wiki: incident 7",
                   refers=(7,))]  # fmt: skip
    plan = make_plan([], followup_frame(gone), {7}, set(), RULES, INACTIVE, "the snapshot")
    subject = f"{gone[0]['Subject']}{CLEARED}"
    assert (
        plan.steps[0].note == hashlib.sha256(f'[103, [7], "{subject}"]'.encode()).hexdigest()[:16]
    )


def test_a_follow_up_filed_but_never_linked_is_linked_without_a_second_comment() -> None:
    """A run created #7 and stopped before its RefersTo link (killed, or RT refused the link
    until the rights were fixed). The re-run links it; before, it also commented "the finding
    now also fires for incident(s) #9", posting the finding's text a second time."""
    w = wanted("ad-hoc-support-team:service/wiki", (5, 9))
    lines = plan_lines([w], [ticket(7, w.subject)], {5, 9}, {"wiki"})
    assert lines == [
        "update  #7     ad-hoc-support-team:service/wiki  link #5, #9; not linked yet: the run "
        "that filed it stopped before linking it"
    ]


def test_findings_show_their_follow_up_and_whether_it_is_overdue(config: Config) -> None:
    tickets = [
        ticket(
            100, "[followup:ad-hoc-support-team:service/wiki] x", created="2026-09-01T10:00:00Z"
        ),
        ticket(101, "[followup:not-validated:ticket/9] x", created="2026-10-20T10:00:00Z"),
        ticket(
            102,
            "[followup:comms-channels-undefined:service/(no service)] x",
            status="resolved",
            created="2026-08-01T10:00:00Z",
        ),
    ]
    shown = finding_followups(
        FINDINGS, followup_frame(tickets), config, pd.Timestamp("2026-11-01T06:00:00Z"),
        "https://rt.example.edu/",
    )  # fmt: skip
    assert shown["followup_id"].tolist() == [100, 100, 101, 102]
    assert shown["followup_url"].tolist()[2] == "https://rt.example.edu/Ticket/Display.html?id=101"
    assert shown["followup_status"].tolist() == ["open", "open", "open", "resolved"]
    # 2026-09-01T10:00 -> 2026-11-01T06:00 is 60 days 20 h; 2026-10-20T10:00 is 11 days 20 h
    assert shown["followup_age_days"].tolist() == [60, 60, 11, 91]
    # overdue after 30 days, and never once resolved
    assert shown["followup_overdue"].tolist() == [True, True, False, False]


def test_a_temporary_fix_follow_up_satisfies_its_own_rule_and_is_left() -> None:
    subject = (
        "[followup:temporary-fix-no-followup:ticket/9] temporary-fix-no-followup, wiki: incident 9"
    )
    existing = followup_frame([ticket(7, subject, refers=(9,))])
    plan = make_plan([], existing, {9}, set(), ["temporary-fix-no-followup"], INACTIVE, "x")
    assert [s.line() for s in plan.steps] == [
        "leave   #7     temporary-fix-no-followup:ticket/9  open: the rule counts it as the follow-up"
    ]


def test_rendered_reports_depend_on_the_pulled_follow_ups(tmp_path: Path) -> None:
    """Render fingerprints include followups_digest: a new follow-up state, or a later pull
    (ages), renders again; a snapshot without follow-ups keeps its fingerprints."""
    from review.closeout.followups import followups_digest
    from review.settings.config import sample_snapshot
    from review.snapshot import DATA_FILES, load_snapshot, read_jsonl, write_snapshot

    rows = [read_jsonl(sample_snapshot() / name) for name in DATA_FILES]

    def digest(followups: list[dict[str, Any]] | None, pulled_at: str) -> str:
        target = write_snapshot(tmp_path / "s", *rows, source="x", query="q",
                                pulled_at=pulled_at, followups=followups)  # fmt: skip
        return followups_digest(load_snapshot(target))

    assert digest(None, "2026-11-01T06:00:00Z") == ""
    one = [ticket(7, "[followup:not-validated:ticket/9] x")]
    first = digest(one, "2026-11-01T06:00:00Z")
    assert first.endswith(" 2026-11-01T06:00:00Z")
    assert digest(one, "2026-11-02T06:00:00Z") != first
    assert digest([ticket(7, "[followup:not-validated:ticket/9] x", status="resolved")],
                  "2026-11-01T06:00:00Z") != first  # fmt: skip


def test_hostile_service_names_stay_text_in_keys_and_subjects() -> None:
    found = pd.DataFrame(
        {"ticket_id": [3], "service": ["wiki\x1b[2J]\u202e\nx"], "rule": ["ad-hoc-support-team"]}
    )
    key = finding_keys(found).iloc[0]
    assert key == "ad-hoc-support-team:service/wiki\\x1b 2J \\u202e x"
    assert subject_for(key, "ad-hoc-support-team", "s", [3]).startswith(f"[followup:{key}] ")


# --------------------------------------------------------------------------- hand-added actions


def test_a_reviews_actions_section_lists_one_action_per_item() -> None:
    from review.closeout.followups import team_actions

    text = (
        "#### Actions the team adds\n\n"
        "*None yet.* One per line, e.g. `- Web Services: alert on expiry`.\n"
        "- Web Services: alert on the IdP certificate 30 days ahead\n"
        "* [ ] Storage Team:   add   a quota alarm.\n"
        "1. write the runbook for certificate rotation\n"
        "- see https://wiki.example.edu/certs for the list\n"
        "- web services: Alert on the IdP certificate 30 days ahead!\n"  # the first, again
        "  continued prose, not an item\n"
    )
    assert team_actions(text) == [
        ("Web Services", "alert on the IdP certificate 30 days ahead"),
        ("Storage Team", "add a quota alarm."),
        ("", "write the runbook for certificate rotation"),
        ("", "see https://wiki.example.edu/certs for the list"),
    ]
    assert team_actions("*None yet.*") == []


def test_the_team_lists_actions_in_the_actions_cell_or_a_cell_headed_actions() -> None:
    from review.closeout.followups import lists_actions

    assert lists_actions("actions", "*None yet.*")
    assert lists_actions("a1b2c3", "\n## Actions\n- kim: call the vendor")
    assert lists_actions("a1b2c3", "### Action items we agreed")
    assert not lists_actions("summary", "## Summary\n- Web: this is not an action")
    assert not lists_actions("a1b2c3", "The actions below\n## Actions")


def test_an_action_becomes_a_tagged_follow_up_its_words_kept_as_text(config: Config) -> None:
    from dataclasses import replace

    from review.closeout.followups import actions_frame, wanted_actions

    owners = replace(config.followups, owners=(("Web Services", "wendy"),))
    mapped = replace(config, followups=owners)
    actions = actions_frame(
        [
            {"ticket_id": 10, "owner": "Web Services", "action": "alert on expiry"},
            {"ticket_id": 10, "owner": "", "action": "[followup:x] fix \x1b[2J it\nnow"},
        ]
    )
    wants = wanted_actions(
        actions, pd.Series({10: pd.Timestamp("2026-08-10", tz="UTC")}),
        pd.Series({10: "web-portal"}), mapped, pd.Series({10: "reports/2026-08/incident-10.html"}),
        "https://rt.example.edu/",
    )  # fmt: skip
    first, hostile = wants
    # sha256("alert on expiry")[:8], by hand: echo -n 'alert on expiry' | sha256sum
    assert first.key == "action:ticket/10/081476dd"
    assert first.subject == (
        "[followup:action:ticket/10/081476dd] action, web-portal: incident 10: alert on expiry"
    )
    assert (first.owner, first.incidents, first.rule) == ("wendy", (10,), "action")
    assert "  alert on expiry\n" in first.body and "reports/2026-08/incident-10.html" in first.body
    assert hostile.subject.endswith("incident 10: followup:x fix \\x1b 2J it now")
    assert "\x1b" not in hostile.body and hostile.owner == ""
    assert hostile.action_owner == "(no owner named)"


def test_an_action_that_left_the_review_is_commented_only_when_the_review_was_read() -> None:
    gone = ticket(300, "[followup:action:ticket/9/081476dd] action, wiki: incident 9: alert")
    kept = wanted("not-validated:ticket/9", (9,))

    def plan(reviews_read: set[int]) -> list[str]:
        existing = followup_frame([gone, ticket(301, kept.subject, refers=(9,))])
        rules = [*RULES, "action"]
        made = make_plan([kept], existing, {9}, set(), rules, INACTIVE, "the snapshot",
                         reviews_read)  # fmt: skip
        return [s.line() for s in made.steps]

    assert plan(set())[1] == (
        "leave   #300   action:ticket/9/081476dd  not in this snapshot's incidents: cannot tell "
        "whether it still fires"
    )
    assert plan({9})[1] == (
        "update  #300   action:ticket/9/081476dd  comment: The action is no longer in the "
        "review's Actions section. Check whether it was done or dropped, then resolve this "
        "follow-up (the tool never closes it).; subject"
    )


def test_a_server_error_on_a_write_is_not_called_a_missing_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 502 from a proxy (RT restarting) to a write: before, the create said it 'did not
    create' the follow-up (RT may well have) and the link, subject and comment blamed the
    account's rights (ModifyTicket), sending people to grant a right the account had."""
    from review.closeout.followups import Step, apply
    from review.errors import RTAuthError, RTError
    from review.rt.client import Connection, RTClient

    client = RTClient(Connection(url="http://rt.invalid/REST/2.0/", token="t"))
    monkeypatch.setattr(client, "send", lambda *_: (502, None))
    monkeypatch.setattr(apply, "tagged", lambda *_: None)
    monkeypatch.setattr(apply, "notes", lambda *_: [])
    w = wanted("not-validated:ticket/9", (9,))
    again = (
        "it may have been done all the same: run again once RT is well (the re-run finds what "
        "was done, by the follow-ups' tags and links, and does only the rest)"
    )
    where = "RT at http://rt.invalid/REST/2.0/ answered HTTP 502 to"
    for step, said in [
        (Step("create", w.key, wanted=w), f"the create of follow-up {w.key}; {again}"),
        (Step("update", w.key, 7, link=(9,)), f"the RefersTo link from follow-up #7; {again}"),
        (Step("update", w.key, 7, subject="s"), f"the new subject of follow-up #7; {again}"),
        (Step("update", w.key, 7, comment="c"), "a comment on follow-up #7; it may have been "
         "done all the same: run again once RT is well (the re-run finds the comment by its "
         "marker if RT took it, and does not post it twice)"),
    ]:  # fmt: skip
        with pytest.raises(RTError) as caught:
            apply.apply_step(client, step, "follow-ups", [])
        assert not isinstance(caught.value, RTAuthError)
        assert str(caught.value) == f"{where} {said}"
