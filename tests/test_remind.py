"""`review remind --apply` is exactly once per digest and day, and hostile addresses stop nothing.

A real SMTP server (aiosmtpd on 127.0.0.1) that refuses chosen recipients at RCPT, as a
mail server does for an unknown mailbox; then accepts them again for the re-run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from review.cli import main
from review.settings.config import sample_snapshot
from review.snapshot import DATA_FILES, read_jsonl, write_snapshot
from scenarios.replay import free_port
from tests.test_mail import Inbox, followup


class Refusing(Inbox):
    """Keeps what it receives; refuses the addresses in `refuse` (550, unknown mailbox)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def received(self) -> dict[str, int]:
        """Messages per recipient."""
        counts: dict[str, int] = {}
        for envelope in self.envelopes:
            for address in envelope.rcpt_tos:
                counts[address] = counts.get(address, 0) + 1
        return counts


@pytest.fixture
def smtp() -> Iterator[tuple[Refusing, int]]:
    inbox = Refusing()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    """Exit status, stdout lines, stderr lines."""
    with pytest.raises(SystemExit) as exited:
        main(args)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out.splitlines(), captured.err.splitlines()


def make_snapshot(tmp_path: Path, followups: list[dict[str, Any]],
                  users: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]  # fmt: skip
    sample = sample_snapshot()
    tickets, transactions, queues, sample_users = (read_jsonl(sample / n) for n in DATA_FILES)
    return write_snapshot(
        tmp_path / "snapshot", tickets, transactions, queues, [*sample_users, *users],
        source="https://rt.example.edu/REST/2.0/", query="sample",
        pulled_at="2026-11-01T06:00:00Z", followups=followups,
    )  # fmt: skip


def make_config(tmp_path: Path, port: int, extra: str = "") -> Path:
    config = tmp_path / "review.toml"
    config.write_text(
        f'[paths]\nreports = "reports"\n[mail]\nhost = "127.0.0.1"\nport = {port}\n'
        'from = "ops-reports@example.edu"\nto = ["ops-lead@example.edu", "oncall@example.edu"]\n'
        + extra
    )
    return config


def test_a_run_that_fails_halfway_tries_every_digest_and_the_rerun_sends_only_the_failures(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, port = smtp
    snapshot = make_snapshot(tmp_path, [
        followup(100, "wendy", "2026-09-01T10:00:00Z"),  # 61 days at the pull: overdue
        followup(101, "kim", "2026-08-15T10:00:00Z"),  # 78 days
        followup(102, "Nobody", "2026-08-01T10:00:00Z", status="new"),  # 92 days
    ])  # fmt: skip
    config = make_config(tmp_path, port)
    args = ["remind", "--snapshot", str(snapshot), "--config", str(config), "--today", "2026-11-01"]
    state = tmp_path / "reports" / ".remind-state.json"
    # kim's mailbox and one of the two default recipients are refused
    inbox.refuse = {"kim@example.edu", "oncall@example.edu"}
    code, out, err = run([*args, "--apply"], capsys)
    assert code == 1
    kim, wendy, nobody = (
        "1 overdue follow-up(s)", "1 overdue follow-up(s)",
        "1 overdue follow-up(s), 3 registry entries to review",
    )  # fmt: skip
    server = f"127.0.0.1:{port}"
    assert out == [  # every digest tried, in the plan's order (kim first)
        f"sent wendy@example.edu (wendy): {wendy}",
        f"sent ops-lead@example.edu ((no owner)): {nobody}",
    ]
    assert err == [
        f"error: kim: the SMTP server {server} refused every recipient (kim@example.edu): "
        "check the addresses",
        f"error: (no owner): the SMTP server {server} refused oncall@example.edu; the others "
        "got it",
        f"error: 2 digest(s) not delivered to everyone (listed above); what was sent is "
        f"recorded in {state}: run again to send only the rest",
    ]
    assert inbox.received() == {"wendy@example.edu": 1, "ops-lead@example.edu": 1}
    recorded = json.loads(state.read_text())
    assert {owner: entry["to"] for owner, entry in recorded.items()} == {
        "wendy": ["wendy@example.edu"], "(no owner)": ["ops-lead@example.edu"],
    }  # fmt: skip

    inbox.refuse = set()  # the mailboxes exist again
    code, out, err = run(args, capsys)  # the dry run says what a re-run would do
    assert (code, out, err) == (0, [
        f"would send kim@example.edu (kim): {kim}",
        f"already sent wendy@example.edu (wendy) today: {wendy}",
        f"already sent ops-lead@example.edu ((no owner)) today: {nobody}",
        f"would send oncall@example.edu ((no owner)): {nobody}",
    ], ["dry run: 3 digest(s); --apply sends them"])  # fmt: skip
    code, out, err = run([*args, "--apply"], capsys)
    assert (code, out, err) == (0, [
        f"sent kim@example.edu (kim): {kim}",
        f"already sent wendy@example.edu (wendy) today: {wendy}",
        f"already sent ops-lead@example.edu ((no owner)) today: {nobody}",
        f"sent oncall@example.edu ((no owner)): {nobody}",
    ], [])  # fmt: skip
    once = {a: 1 for a in ("wendy", "kim", "ops-lead", "oncall")}
    assert inbox.received() == {f"{a}@example.edu": n for a, n in once.items()}
    oncall = inbox.messages()[-1]
    assert oncall["To"] == "oncall@example.edu"  # not ops-lead again, not even in the header

    code, out, err = run([*args, "--apply"], capsys)  # a third run: nothing left to send
    assert code == 0 and not [line for line in out if line.startswith("sent")]
    assert len(inbox.envelopes) == 4
    # a week later the same reminders go out again: once a day at most, not once ever
    code, out, err = run([*args[:-1], "2026-11-08", "--apply"], capsys)
    assert code == 0 and len(inbox.envelopes) == 7


def test_an_address_with_a_line_break_is_refused_with_one_line_and_the_others_go(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, port = smtp
    mallory = followup(104, "mallory", "2026-09-01T10:00:00Z")
    mallory["Owner"]["EmailAddress"] = "mallory@example.edu\r\nBcc: everyone@example.edu"
    # eve's address comes from RT's user record (the registry entry of Network Services)
    eve = {**read_jsonl(sample_snapshot() / "users.jsonl")[5], "id": 99, "Name": "eve",
           "EmailAddress": "eve@example.edu\nX-Injected: yes", "_hyperlinks": []}  # fmt: skip
    snapshot = make_snapshot(
        tmp_path, [mallory, followup(100, "wendy", "2026-09-01T10:00:00Z")], [eve]
    )
    config = make_config(tmp_path, port, '[followups.owners]\n"Network Services" = "eve"\n')
    args = ["remind", "--snapshot", str(snapshot), "--config", str(config), "--today", "2026-11-01"]
    code, out, err = run(args, capsys)
    assert code == 0 and "\r" not in "".join(out + err)
    assert err[:2] == [
        "warning: user mallory: RT's email address 'mallory@example.edu\\r\\nBcc: "
        "everyone@example.edu' is not one plain address; their digest goes to the default "
        "recipients ([mail] to): fix the address in RT",
        "warning: user eve: RT's email address 'eve@example.edu\\nX-Injected: yes' is not one "
        "plain address; their digest goes to the default recipients ([mail] to): fix the "
        "address in RT",
    ]
    assert out == [
        "would send ops-lead@example.edu, oncall@example.edu (eve): 1 registry entry to review",
        "would send ops-lead@example.edu, oncall@example.edu (mallory): 1 overdue follow-up(s)",
        "would send wendy@example.edu (wendy): 1 overdue follow-up(s)",
        "would send ops-lead@example.edu, oncall@example.edu ((no owner)): 2 registry entries to "
        "review",
    ]

    code, out, err = run([*args, "--apply"], capsys)
    assert code == 0, err
    assert "\r" not in "".join(out + err) and len(out) == 4
    assert inbox.received() == {"ops-lead@example.edu": 3, "oncall@example.edu": 3,
                                "wendy@example.edu": 1}  # fmt: skip
    for message in inbox.messages():
        assert message["Bcc"] is None and message["X-Injected"] is None


def test_a_second_run_while_one_is_sending_stops_with_one_line(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from review.locks import exclusive

    inbox, port = smtp
    snapshot = make_snapshot(tmp_path, [followup(100, "wendy", "2026-09-01T10:00:00Z")])
    config = make_config(tmp_path, port)
    lock = tmp_path / "reports" / ".remind.lock"
    with exclusive(lock, "held by the test"):  # the first run, still sending
        code, out, err = run(["remind", "--snapshot", str(snapshot), "--config", str(config),
                              "--today", "2026-11-01", "--apply"], capsys)  # fmt: skip
    assert (code, out, err) == (1, [], [
        f"error: another `review remind --apply` is sending ({lock}); wait for it"
    ])  # fmt: skip
    assert inbox.envelopes == []


class HangsUpBadly(Refusing):
    """Takes each message (250 after the data), then answers QUIT with 421, as a server
    shutting down does: the message is delivered all the same."""

    async def handle_QUIT(self, server: Any, session: Session, envelope: Envelope) -> str:
        return "421 4.3.2 shutting down"


def test_a_quit_refused_after_the_message_was_taken_counts_as_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the 421 at QUIT made the run say 'refused the message' and record nothing, so
    every re-run mailed the same digests again."""
    inbox, port = HangsUpBadly(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        snapshot = make_snapshot(tmp_path, [followup(100, "wendy", "2026-09-01T10:00:00Z")])
        args = ["remind", "--snapshot", str(snapshot), "--config",
                str(make_config(tmp_path, port)), "--today", "2026-11-01", "--apply"]  # fmt: skip
        wendy, nobody = "1 overdue follow-up(s)", "3 registry entries to review"
        code, out, err = run(args, capsys)
        assert (code, out, err) == (0, [
            f"sent wendy@example.edu (wendy): {wendy}",
            f"sent ops-lead@example.edu, oncall@example.edu ((no owner)): {nobody}",
        ], [])  # fmt: skip
        code, out, err = run(args, capsys)  # the re-run finds both recorded: nothing again
        assert (code, out, err) == (0, [
            f"already sent wendy@example.edu (wendy) today: {wendy}",
            f"already sent ops-lead@example.edu, oncall@example.edu ((no owner)) today: {nobody}",
        ], [])  # fmt: skip
    finally:
        controller.stop()
    assert inbox.received() == {a: 1 for a in
                                ("wendy@example.edu", "ops-lead@example.edu", "oncall@example.edu")}  # fmt: skip


def test_a_record_that_cannot_be_written_sends_nothing_so_no_run_sends_twice(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The record is written before the send. Before, a reports folder that could not take it
    (disk full, read-only, `ulimit -f`; here a directory where its temporary file goes) was
    found after the server took each digest: every run sent every digest again."""
    inbox, port = smtp
    snapshot = make_snapshot(tmp_path, [followup(100, "wendy", "2026-09-01T10:00:00Z")])
    args = ["remind", "--snapshot", str(snapshot), "--config", str(make_config(tmp_path, port)),
            "--today", "2026-11-01", "--apply"]  # fmt: skip
    reports = tmp_path / "reports"
    state, blocked = reports / ".remind-state.json", reports / "..remind-state.json.tmp"
    blocked.mkdir(parents=True)
    why = f"not sent: cannot record it in {state} (Is a directory); free space or make {reports} writable, then run again"  # fmt: skip
    for _ in range(2):  # a cron job running on: nobody gets anything twice
        code, out, err = run(args, capsys)
        assert (code, out, err) == (1, [], [
            f"error: wendy: {why}",
            f"error: (no owner): {why}",
            f"error: 2 digest(s) not delivered to everyone (listed above); what was sent is "
            f"recorded in {state}: run again to send only the rest",
        ])  # fmt: skip
    assert inbox.envelopes == [] and not state.exists()
    blocked.rmdir()  # space again: each digest goes once
    wendy, nobody = "1 overdue follow-up(s)", "3 registry entries to review"
    assert run(args, capsys) == (0, [
        f"sent wendy@example.edu (wendy): {wendy}",
        f"sent ops-lead@example.edu, oncall@example.edu ((no owner)): {nobody}",
    ], [])  # fmt: skip
    assert run(args, capsys)[1] == [
        f"already sent wendy@example.edu (wendy) today: {wendy}",
        f"already sent ops-lead@example.edu, oncall@example.edu ((no owner)) today: {nobody}",
    ]
    assert inbox.received() == {a: 1 for a in
                                ("wendy@example.edu", "ops-lead@example.edu", "oncall@example.edu")}  # fmt: skip
    assert sorted(p.name for p in reports.iterdir()) == [".remind-state.json", ".remind.lock"]


def test_a_clock_set_back_a_day_sends_no_digest_twice(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The day is the clock's (`--today` here, as a clock that ran a day ahead and was set
    back gives it). Before, the record of 2 November did not count on 1 November: the digests
    went again at once, and a third time when the clock reached 2 November again."""
    inbox, port = smtp
    snapshot = make_snapshot(tmp_path, [followup(100, "wendy", "2026-09-01T10:00:00Z")])
    args = ["remind", "--snapshot", str(snapshot), "--config", str(make_config(tmp_path, port)),
            "--apply", "--today"]  # fmt: skip
    wendy, nobody = "1 overdue follow-up(s)", "3 registry entries to review"
    sent = [
        f"sent wendy@example.edu (wendy): {wendy}",
        f"sent ops-lead@example.edu, oncall@example.edu ((no owner)): {nobody}",
    ]
    had = [
        f"already sent wendy@example.edu (wendy) today: {wendy}",
        f"already sent ops-lead@example.edu, oncall@example.edu ((no owner)) today: {nobody}",
    ]
    assert run([*args, "2026-11-02"], capsys) == (0, sent, [])
    assert run([*args, "2026-11-01"], capsys) == (0, had, [])  # the clock set back
    assert run([*args, "2026-11-02"], capsys) == (0, had, [])  # and on to the same day
    assert inbox.received() == {a: 1 for a in
                                ("wendy@example.edu", "ops-lead@example.edu", "oncall@example.edu")}  # fmt: skip
    assert run([*args, "2026-11-03"], capsys) == (0, sent, [])  # the next day: once again
    assert len(inbox.envelopes) == 4


def test_a_recipient_added_while_the_clock_is_set_back_keeps_the_later_day(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The record written on the earlier day keeps the later one: the digest's first
    recipients are not mailed again when the clock reaches it."""
    inbox, port = smtp
    snapshot = make_snapshot(tmp_path, [])
    config = make_config(tmp_path, port)
    args = ["remind", "--snapshot", str(snapshot), "--config", str(config), "--apply", "--today"]
    assert run([*args, "2026-11-02"], capsys)[0] == 0
    config.write_text(config.read_text().replace('"]\n', '", "third@example.edu"]\n', 1))
    assert run([*args, "2026-11-01"], capsys)[1] == [  # the clock set back: the new one only
        "already sent ops-lead@example.edu, oncall@example.edu ((no owner)) today: "
        "3 registry entries to review",
        "sent third@example.edu ((no owner)): 3 registry entries to review",
    ]
    assert run([*args, "2026-11-02"], capsys)[1] == [
        "already sent ops-lead@example.edu, oncall@example.edu, third@example.edu ((no owner)) "
        "today: 3 registry entries to review"
    ]
    assert inbox.received() == {a: 1 for a in
                                ("ops-lead@example.edu", "oncall@example.edu", "third@example.edu")}  # fmt: skip


def test_an_address_with_an_escape_or_mail_syntax_goes_to_the_default_recipients(
    smtp: tuple[Refusing, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RT's user records are untrusted. Before, an address with a terminal escape passed as one
    plain address: `sent ...` wrote the escape to the terminal as it was, and the mail went to
    what the header parser made of it ('\\x1b'); 'x:eve@evil.example' (a group) went to
    eve@evil.example while the record said otherwise."""
    inbox, port = smtp
    owners = {"mallory": "mallory\x1b[2J@example.edu", "trent": "x:eve@evil.example",
              "zed": "zed\u202e@example.edu"}  # fmt: skip
    followups = []
    for number, (owner, address) in enumerate(owners.items(), start=100):
        followups.append(followup(number, owner, "2026-09-01T10:00:00Z"))
        followups[-1]["Owner"]["EmailAddress"] = address
    snapshot = make_snapshot(tmp_path, followups)
    args = ["remind", "--snapshot", str(snapshot), "--config", str(make_config(tmp_path, port)),
            "--today", "2026-11-01", "--apply"]  # fmt: skip
    code, out, err = run(args, capsys)
    shown = {"mallory": "mallory\\x1b[2J@example.edu", "trent": "x:eve@evil.example",
             "zed": "zed\\u202e@example.edu"}  # fmt: skip
    assert (code, err) == (0, [
        f"warning: user {owner}: RT's email address '{address}' is not one plain address; "
        "their digest goes to the default recipients ([mail] to): fix the address in RT"
        for owner, address in shown.items()
    ])  # fmt: skip
    assert out == [
        f"sent ops-lead@example.edu, oncall@example.edu ({owner}): 1 overdue follow-up(s)"
        for owner in owners
    ] + ["sent ops-lead@example.edu, oncall@example.edu ((no owner)): 3 registry entries to review"]
    assert inbox.received() == {"ops-lead@example.edu": 4, "oncall@example.edu": 4}


class DropsAfterData(Refusing):
    """Reads the message, then drops the connection instead of answering it."""

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        server.transport.close()
        return "250 OK"


def test_a_server_that_drops_the_connection_after_the_data_is_not_called_a_wrong_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: 'could not send mail ... (Connection unexpectedly closed): check [mail] host and
    port', which were right. It counts as not sent, and the line says what that means."""
    inbox, port = DropsAfterData(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        snapshot = make_snapshot(tmp_path, [followup(100, "wendy", "2026-09-01T10:00:00Z")])
        config = make_config(tmp_path, port)
        code, out, err = run(["remind", "--snapshot", str(snapshot), "--config", str(config),
                              "--today", "2026-11-01", "--apply"], capsys)  # fmt: skip
    finally:
        controller.stop()
    dropped = (
        f"the SMTP server 127.0.0.1:{port} broke off the connection before it confirmed the "
        "message to {}: it counts as not sent, and the next run sends it again (if the server "
        "had taken it, they get it twice: SMTP cannot tell)"
    )
    state = tmp_path / "reports" / ".remind-state.json"
    assert (code, out, err) == (1, [], [
        "error: wendy: " + dropped.format("wendy@example.edu"),
        "error: (no owner): " + dropped.format("ops-lead@example.edu, oncall@example.edu"),
        f"error: 2 digest(s) not delivered to everyone (listed above); what was sent is "
        f"recorded in {state}: run again to send only the rest",
    ])  # fmt: skip
    assert not state.exists()


@pytest.mark.parametrize("day", [None, "zzz", 20261102])
def test_a_record_without_a_day_is_not_taken_for_a_later_one(tmp_path: Path, day: Any) -> None:
    """Only a real day later than today counts as today's (a record edited by hand)."""
    from datetime import date

    from review.delivery import remind
    from review.settings.config import load_config

    config = load_config(make_config(tmp_path, 25))
    digest = remind.Digest("wendy", ["wendy@example.edu"], followups=["- #100"])
    entry = {"sha256": remind._text_sha256(digest, config), "to": ["wendy@example.edu"]}
    out = tmp_path / "reports"
    out.mkdir()
    (out / remind.STATE_FILE).write_text(json.dumps({"wendy": {**entry, "day": day}}))
    assert remind.delivered(digest, config, date(2026, 11, 1), out) == []
    (out / remind.STATE_FILE).write_text(json.dumps({"wendy": {**entry, "day": "2026-11-02"}}))
    assert remind.delivered(digest, config, date(2026, 11, 1), out) == ["wendy@example.edu"]
