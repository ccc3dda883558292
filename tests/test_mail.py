"""Reports by mail, received by a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from review.cli import main
from review.closeout.rules import RULES
from review.settings.config import source_dir
from scenarios.replay import free_port
from tests.evidence import line_of
from tests.metric_cases import metric_cases
from tests.rule_cases import sample_total

SECRET = "Smtp-Secret-42"
REGISTRY = source_dir("data") / "services.yaml"  # the default registry the reminders name


class Inbox:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(bytes(e.content), policy=email.policy.default)  # type: ignore[arg-type]
            for e in self.envelopes
        ]


def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str,
                 data: Any) -> AuthResult:  # fmt: skip
    def text(value: str | bytes) -> str:
        return value.decode() if isinstance(value, bytes) else value

    ok = isinstance(data, LoginPassword) and (text(data.login), text(data.password)) == (
        "reports",
        SECRET,
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
        auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The support-gap report of the bundled sample, rendered once."""
    out = tmp_path_factory.mktemp("reports")
    main(["support-report", "--out", str(out)])
    return out


def config_for(tmp_path: Path, port: int, user: str = "reports") -> Path:
    path = tmp_path / "review.toml"
    path.write_text(
        f'[mail]\nhost = "127.0.0.1"\nport = {port}\nuser = "{user}"\n'
        'from = "ops-reports@example.edu"\n'
    )
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


@pytest.mark.slow
def test_support_report_mail_has_html_inline_text_summary_and_notebook(
    smtp: tuple[Inbox, int], rendered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    inbox, port = smtp
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    args = ["support-report", "--out", str(out), "--config", str(config_for(tmp_path, port)),
            "--mail-to", "senior-staff@example.edu", "--mail-to", "ops@example.edu"]  # fmt: skip
    code, output = run(args, capsys)
    assert code == 0, output
    assert [e.rcpt_tos for e in inbox.envelopes] == [
        ["senior-staff@example.edu", "ops@example.edu"]
    ]
    assert inbox.envelopes[0].mail_from == "ops-reports@example.edu"
    message = inbox.messages()[0]
    assert message["Subject"] == "Support-assignment gaps"
    assert message["From"] == "ops-reports@example.edu"
    assert message["To"] == "senior-staff@example.edu, ops@example.edu"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.edu>")
    # mixed: alternative(text, related(html, figures)), then the notebook
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = list(message.iter_parts())
    text, related = list(alternative.iter_parts())
    assert (alternative.get_content_type(), text.get_content_type()) == (
        "multipart/alternative", "text/plain",
    )  # fmt: skip
    assert text.get_content().startswith(
        "Support-assignment gaps over all incidents of the snapshot (61): "
    )
    html_part, *figures = list(related.iter_parts())
    html = html_part.get_content()
    assert html_part.get_content_type() == "text/html"
    assert len(figures) == 2 and {f.get_content_type() for f in figures} == {"image/png"}
    cids = {f["Content-ID"].strip("<>") for f in figures}
    assert set(re.findall(r'src="cid:([^"]+)"', html)) == cids
    assert "<script" not in html
    assert 'src="data:' not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "Services that need attention" in html
    assert attachment.get_filename() == "support-gaps.ipynb"
    assert attachment.get_content_type() == "application/x-ipynb+json"
    notebook = json.loads(attachment.get_content())
    assert notebook == json.loads((out / "support-gaps.ipynb").read_text())
    # the password came from the environment and reached neither output nor files
    assert SECRET not in output + "".join(
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()
    )

    # the same report again: not new, so no mail
    code, output = run(args, capsys)
    assert code == 0 and len(inbox.envelopes) == 1


@pytest.mark.slow
def test_failed_send_is_one_line_keeps_the_files_and_is_retried(
    smtp: tuple[Inbox, int], rendered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    inbox, port = smtp
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    args = ["support-report", "--out", str(out), "--config", str(config_for(tmp_path, port)),
            "--mail-to", "ops@example.edu"]  # fmt: skip
    code, output = run(args, capsys)
    assert code == 1
    assert output.splitlines()[-1] == (
        f"error: the SMTP server 127.0.0.1:{port} rejected the login of [mail] user 'reports' "
        f"(535): check SMTP_PASSWORD; the rendered report stays in {out / 'support-gaps.html'}"
    )
    kept = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {"support-gaps.html", "support-gaps.ipynb", "index.html"} <= set(kept)
    assert inbox.envelopes == []
    # the next run renders nothing (unchanged) but mails the report it could not send
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    assert run(args, capsys)[0] == 0
    assert len(inbox.envelopes) == 1
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if k != ".mail-state.json"} == kept


def test_a_report_whose_record_cannot_be_written_is_not_mailed_so_never_twice(
    smtp: tuple[Inbox, int], rendered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The record of what was mailed is written before the send (here a directory stands where
    its temporary file goes; a full disk, a read-only folder or `ulimit -f` alike): one line,
    and nobody is mailed. Before, the server took the report first and every run (cron, each
    day) mailed it to everyone again."""
    inbox, port = smtp
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    (out / "..mail-state.json.tmp").mkdir()
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    args = ["support-report", "--out", str(out), "--config", str(config_for(tmp_path, port)),
            "--mail-to", "ops@example.edu"]  # fmt: skip
    for _ in range(2):
        code, output = run(args, capsys)
        assert (code, output.splitlines()[-1]) == (1, (
            f"error: cannot record what is mailed in {out / '.mail-state.json'} (Is a "
            f"directory): nothing was mailed; free space or make {out} writable, then run again"
        ))  # fmt: skip
    assert inbox.envelopes == [] and not (out / ".mail-state.json").exists()
    (out / "..mail-state.json.tmp").rmdir()
    assert run(args, capsys)[0] == 0
    assert run(args, capsys)[0] == 0  # recorded: not mailed again
    assert len(inbox.envelopes) == 1
    assert not (out / "..mail-state.json.tmp").exists()
    (out / ".mail-state.json").unlink()
    (out / ".mail-state.json").mkdir()  # the record itself unreadable: nothing is sent
    code, output = run(args, capsys)
    assert (code, output.splitlines()[-1]) == (1, (
        f"error: cannot read the delivery record {out / '.mail-state.json'} (Is a directory): "
        "make it a readable file, then run again"
    ))  # fmt: skip
    assert len(inbox.envelopes) == 1


@pytest.mark.parametrize(
    ("user", "password", "what"),
    [("reports", "Smtp-Sécret-42", "SMTP_PASSWORD"), ("repörts", SECRET, "[mail] user")],
)
def test_a_login_that_is_not_ascii_is_one_line_that_shows_no_password(
    smtp: tuple[Inbox, int], user: str, password: str, what: str
) -> None:
    """smtplib encodes the login as ASCII: before, a UnicodeEncodeError traceback that named a
    character of the password and its place."""
    from review.delivery import mail
    from review.settings.sections import Mail

    inbox, port = smtp
    settings = Mail("127.0.0.1", port, False, user, "ops-reports@example.edu", ())
    message = mail.text_message(subject="s", body="b", sender=settings.sender, to=["a@b.edu"])
    with pytest.raises(mail.MailError) as caught:
        mail.send(message, settings, {"SMTP_PASSWORD": password})
    kind = "password" if what == "SMTP_PASSWORD" else "name"
    assert str(caught.value) == (
        f"{what} holds a character that is not ASCII, which the SMTP login cannot send: use an "
        f"ASCII {kind} for the SMTP server 127.0.0.1:{port}"
    )
    assert inbox.envelopes == []


@pytest.mark.parametrize(
    ("host", "starttls", "warned"),
    [("smtp.example.edu", False, True), ("10.0.0.5", False, True),
     ("smtp.example.edu", True, False), ("127.0.0.1", False, False), ("localhost", False, False),
     ("[::1]", False, False)],
)  # fmt: skip
def test_a_login_without_starttls_to_another_host_is_warned_about(
    host: str, starttls: bool, warned: bool, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """As RT_URL over plain http is: before, SMTP_PASSWORD crossed the network unencrypted
    without a word."""
    from review.delivery import mail
    from review.settings.sections import Mail

    monkeypatch.setattr(mail, "_WARNED", set())
    settings = Mail(host, 587, starttls, "reports", "ops-reports@example.edu", ())
    mail._warn_if_in_clear(settings)
    mail._warn_if_in_clear(settings)  # once a run, not once a message
    assert capsys.readouterr().err == (
        f"warning: [mail] starttls is off: the login to the SMTP server {host} sends "
        "SMTP_PASSWORD unencrypted; set [mail] starttls = true\n"
        if warned
        else ""
    )


def test_a_report_rendered_again_unchanged_is_not_mailed_again(
    rendered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report rendered again without a change (--force here; a kit upgrade alike) differs
    from the one mailed only in the random id papermill gives its parameters cell: before,
    that made it a new version, mailed to everyone again. A change in what it says is one."""
    from review.delivery import mail

    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    html, to = out / "support-gaps.html", ["ops@example.edu", "lead@example.edu"]
    mail.record_sent(out, html, to)
    before = html.read_bytes()
    assert run(["support-report", "--out", str(out), "--force"], capsys)[0] == 0
    assert html.read_bytes() != before  # rendered again: the bytes differ ...
    assert mail.pending(out, html, to) == []  # ... but not the report: nobody is mailed again
    html.write_text(html.read_text().replace("Support-assignment gaps", "Support gaps", 1))
    assert mail.pending(out, html, to) == to


@pytest.mark.slow
def test_unreachable_server_and_bad_address_are_one_line(
    rendered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    port = free_port()  # nothing listens there
    config = str(config_for(tmp_path, port, user=""))
    code, output = run(["support-report", "--out", str(out), "--config", config,
                        "--mail-to", "ops@example.edu"], capsys)  # fmt: skip
    assert code == 1
    assert output.splitlines()[-1].startswith(
        f"error: could not send mail to ops@example.edu through 127.0.0.1:{port} ("
    )
    assert output.splitlines()[-1].endswith(
        f"check [mail] host and port; the rendered report stays in {out / 'support-gaps.html'}"
    )
    code, output = run(["report", "--month", "2026-10", "--out", str(tmp_path / "none"),
                        "--config", config, "--mail-to", "ops at example"], capsys)  # fmt: skip
    assert (code, output) == (
        1, "error: --mail-to 'ops at example' is not an email address like ops@example.edu\n",
    )  # fmt: skip
    assert not (tmp_path / "none").exists()


def followup(number: int, owner: str, created: str, status: str = "open") -> dict[str, Any]:
    """A follow-up ticket as the pull stores it (RT's search answer)."""
    return {
        "id": str(number),
        "Subject": f"[followup:not-validated:ticket/{number - 90}] not-validated, wiki: incident {number - 90}",
        "Status": status,
        "Owner": {
            "id": owner,
            "Name": owner,
            "EmailAddress": f"{owner}@example.edu" if owner != "Nobody" else "",
        },
        "Created": created,
        "Resolved": "1970-01-01T00:00:00Z",
        "_hyperlinks": [],
    }


def test_remind_mails_one_digest_per_owner(
    smtp: tuple[Inbox, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from review.settings.config import sample_snapshot
    from review.snapshot import DATA_FILES, read_jsonl, write_snapshot

    inbox, port = smtp
    sample = sample_snapshot()
    snapshot = write_snapshot(
        tmp_path / "snapshot",
        *(read_jsonl(sample / name) for name in DATA_FILES),
        source="https://rt.example.edu/REST/2.0/", query="sample", pulled_at="2026-11-01T06:00:00Z",
        followups=[
            followup(100, "wendy", "2026-09-01T10:00:00Z"),  # 60 days at the pull: overdue
            followup(101, "wendy", "2026-10-25T10:00:00Z"),  # 6 days
            followup(102, "Nobody", "2026-08-01T10:00:00Z", status="new"),  # 91 days
            followup(103, "kim", "2026-08-01T10:00:00Z", status="resolved"),
        ],
    )  # fmt: skip
    config = tmp_path / "review.toml"
    config.write_text(
        f'[paths]\nreports = "reports"\n[mail]\nhost = "127.0.0.1"\nport = {port}\n'
        'from = "ops-reports@example.edu"\nto = ["ops-lead@example.edu"]\n'
        '[followups.owners]\n"Web Services" = "wendy"\n'
    )
    args = ["remind", "--snapshot", str(snapshot), "--config", str(config), "--today", "2026-11-01"]
    code, output = run(args, capsys)
    assert code == 0 and inbox.envelopes == []
    assert output.splitlines() == [
        "would send wendy@example.edu (wendy): 1 overdue follow-up(s), 1 registry entry to review",
        "would send ops-lead@example.edu ((no owner)): 1 overdue follow-up(s), 2 registry entries to review",
        "dry run: 2 digest(s); --apply sends them",
    ]
    code, output = run([*args, "--apply"], capsys)
    assert code == 0, output
    assert [e.rcpt_tos for e in inbox.envelopes] == [
        ["wendy@example.edu"],
        ["ops-lead@example.edu"],
    ]
    wendy, nobody = inbox.messages()
    assert (
        wendy["Subject"]
        == "Close-out reminders for wendy: 1 overdue follow-up(s), 1 registry entry to review"
    )
    assert wendy["Auto-Submitted"] == "auto-generated" and wendy.get_content_type() == "text/plain"
    body = wendy.get_content().replace("\r\n", "\n")
    assert (
        "- #100 [followup:not-validated:ticket/10] not-validated, wiki: incident 10 (open, opened "
        "2026-09-01, 60 days): https://rt.example.edu/Ticket/Display.html?id=100\n"
    ) in body
    assert "#101" not in body and "#103" not in body
    # wiki, last reviewed 2025-03-02: 609 days before 2026-11-01, more than 365
    assert (
        f"- wiki (services.yaml:{line_of(REGISTRY, 'wiki')}): last reviewed 2025-03-02; service owner Web Services\n"
        in body
    )
    text = nobody.get_content().replace("\r\n", "\n")
    assert "#102" in text and "(new, opened 2026-08-01, 91 days)" in text
    assert (
        f"- vpn (services.yaml:{line_of(REGISTRY, 'vpn')}): last reviewed 2025-09-30; service owner Network Services"
        in text
    )
    assert (
        f"- mail-lists (services.yaml:{line_of(REGISTRY, 'mail-lists')}): last reviewed 2024-11-04; service owner unknown"
        in text
    )


@pytest.mark.slow
def october_findings() -> int:
    """The sample's findings (the rules' cases) on incidents opened in October, New York time."""
    opened = metric_cases("opened_at")["sample"]
    month = {t: pd.Timestamp(at).tz_convert("America/New_York").month for t, at in opened.items()}
    return sample_total(list(RULES), [t for t, m in month.items() if m == 10])


def test_monthly_report_mail_carries_its_summary(
    smtp: tuple[Inbox, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from review.pages import render

    # only the monthly notebook: the incident reviews it links to are render's own tests
    monkeypatch.setattr(render, "incident_jobs", lambda *a, **k: [])
    inbox, port = smtp
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    out = tmp_path / "out"
    args = ["report", "--month", "2026-10", "--out", str(out),
            "--config", str(config_for(tmp_path, port)), "--mail-to", "ops@example.edu"]  # fmt: skip
    code, output = run(args, capsys)
    assert (code, output) == (0, "")  # quiet for cron
    message = inbox.messages()[0]
    assert message["Subject"] == "Incident report 2026-10"
    alternative, attachment = list(message.iter_parts())
    text = next(alternative.iter_parts()).get_content().replace("\r\n", "\n")
    assert text.startswith(
        "Monthly report 2026-10: 20 incident(s) opened in the month (America/New_York), "
        "20 resolved and 0 still open at the pull (2026-11-01 01:00 EST); "
        f"{october_findings()} close-out "
        "finding(s); 2 recurrence(s) of an earlier incident. Compared with 2026-08 and 2026-09 "
        "(2026-07 is not covered by the snapshot).\n"
    )
    assert attachment.get_filename() == "monthly.ipynb"
    assert run(args, capsys) == (0, "") and len(inbox.envelopes) == 1  # unchanged: no mail


@pytest.mark.parametrize("phase", ["greeting", "data"])
def test_a_server_answering_a_byte_at_a_time_is_cut_off_at_the_deadline(phase: str) -> None:
    """Each read had its own 30 s timeout, so an SMTP server sending a line every 0.2 s (a
    greeting of continuation lines, or the answer to the message) held a `review report` or
    `review remind` for ever. Now one message has `[mail] timeout` seconds in all."""
    import socket
    import threading
    import time

    from review.delivery.mail import MailError, send
    from review.settings.sections import Mail

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            lines = conn.makefile("rb")
            try:
                if phase == "data":  # a quick server until the message is in
                    conn.sendall(b"220 mx ready\r\n")
                    for answer in (b"250 mx\r\n", b"250 ok\r\n", b"250 ok\r\n", b"354 go\r\n"):
                        lines.readline()
                        conn.sendall(answer)
                    while lines.readline() not in (b".\r\n", b""):
                        pass
                while not stop.wait(0.2):
                    conn.sendall(b"250-still working\r\n" if phase == "data" else b"220-hi\r\n")
            except OSError:  # the client cut the connection
                return

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "kit@example.edu", "ops@example.edu", "r"
    message.set_content("report")
    mail = Mail("127.0.0.1", port, False, "", "kit@example.edu", (), timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(MailError) as caught:
            send(message, mail, env={})
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - started < 10  # the deadline, not the server, ended it
    assert str(caught.value) == (
        f"the SMTP server 127.0.0.1:{port} did not take the message to ops@example.edu within "
        "1 s ([mail] timeout) and was cut off: it counts as not sent, and the next run sends it "
        "again"
    )
