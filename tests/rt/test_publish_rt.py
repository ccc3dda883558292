"""`review publish` against a real RT 5: the dry run changes nothing, --apply adds one comment
with the review's HTML attached, a re-run adds nothing, a changed review adds one comment that
says what changed, and a run that failed after commenting never comments twice.

The review is rendered from the bundled sample, whose incidents have the replayed RT's ids.
The publishing accounts and the "Review status" custom field are loaded into this test's own
copy of the replayed RT (initialdata below), so the shared replay stays as it is.
"""

from __future__ import annotations

import base64
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from review.cli import main
from review.pages import written
from scenarios.replay import PASSWORD, load_initialdata, rt_server

if TYPE_CHECKING:
    from conftest import RTServer

QUEUES = ("ops-help", "dev-web", "dev-identity", "dev-storage", "dev-network")
RIGHTS = ["SeeQueue", "ShowTicket", "ShowTicketComments", "CommentOnTicket", "SeeCustomField",
          "ModifyCustomField"]  # fmt: skip
ACCOUNTS = {
    "publisher": RIGHTS,
    "publisher-mute": [r for r in RIGHTS if r != "CommentOnTicket"],
    "publisher-blind": [r for r in RIGHTS if r != "ShowTicketComments"],
}


def _initialdata() -> str:
    users = ", ".join(
        f"{{Name => '{n}', EmailAddress => '{n}@example.edu', Privileged => 1, "
        f"Password => '{PASSWORD}'}}"
        for n in ACCOUNTS
    )
    acl = ", ".join(
        f"{{UserId => '{n}', Queue => '{q}', Right => [{', '.join(repr(r) for r in rights)}]}}"
        for n, rights in ACCOUNTS.items()
        for q in QUEUES
    )
    queues = ", ".join(repr(q) for q in QUEUES)
    return (
        f"@Users = ({users});\n"
        "@CustomFields = ({Name => 'Review status', Type => 'SelectSingle', "
        f"LookupType => 'RT::Queue-RT::Ticket', Queue => [{queues}], "
        "Values => [{Name => 'draft'}, {Name => 'in review'}, {Name => 'final'}]});\n"
        f"@ACL = ({acl});\n1;\n"
    )


@pytest.fixture(scope="module")
def pub_rt(replayed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTServer]:
    """The replayed RT with the publishing accounts and the Review status field."""
    from conftest import start_copy

    server = start_copy(replayed_db, tmp_path_factory.mktemp("publish") / "rt")
    server.stop()  # the site config is written: load the accounts, then serve again
    load_initialdata(server.directory, _initialdata())
    rt_server("start", server.directory, server.port)
    yield server
    server.stop()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "review.toml"
    path.write_text('[publish]\nstatus_field = "Review status"\n')
    return path


def run(
    args: list[str], server: RTServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], user: str = "publisher",
) -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.delenv("RT_TOKEN", raising=False)
    monkeypatch.setenv("RT_URL", server.url)
    monkeypatch.setenv("RT_USER", user)
    monkeypatch.setenv("RT_PASSWORD", PASSWORD)
    with pytest.raises(SystemExit) as exited:
        main(args)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def history(server: RTServer, ticket: int) -> list[dict[str, Any]]:
    """Every transaction of the ticket, as root sees it."""
    with server.client() as client:
        pages = client.pages(f"ticket/{ticket}/history", {"fields": "Type,Data,Field"})
    return [item for page in pages for item in page.items]


def review_status(server: RTServer, ticket: int) -> list[str]:
    with server.client() as client:
        fields = client.get_object(f"ticket/{ticket}")["CustomFields"]
    return next(f["values"] for f in fields if f["name"] == "Review status")


def parts(server: RTServer, transaction: str) -> dict[str, tuple[str, bytes]]:
    """The comment's parts: content type -> (file name, bytes)."""
    with server.client() as client:
        listed = client.get(f"transaction/{transaction}/attachments", {"fields": "ContentType"})
        found = {}
        for item in listed["items"]:
            one = client.get_object(f"attachment/{item['id']}")
            content = base64.b64decode(one.get("Content") or "")
            found[one["ContentType"]] = (one.get("Filename") or "", content)
    return found


def test_dry_run_apply_rerun_and_a_change(
    pub_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "reports"
    args = ["publish", "10", "--config", str(config_file), "--out", str(out)]
    before = history(pub_rt, 10)

    # the dry run says what it would do and changes nothing, in RT or on disk
    code, shown, err = run(args, pub_rt, monkeypatch, capsys)
    assert code == 0, err
    lines = shown.splitlines()
    assert lines[0].startswith("comment on #10: the review (draft), version ")
    assert lines[0].endswith(
        f"with the HTML attached ({out}/2026-08/incident-10.html is rendered first)"
    )
    assert lines[1:] == ["set #10's 'Review status' to 'draft' (now unset)"]
    assert err.endswith("dry run: --apply to do it\n")
    assert history(pub_rt, 10) == before and review_status(pub_rt, 10) == []
    assert not out.exists()

    # --apply: exactly one comment, the HTML attached, the status in the field
    code, shown, err = run([*args, "--apply"], pub_rt, monkeypatch, capsys)
    assert code == 0, err
    added = history(pub_rt, 10)[len(before) :]
    comments = [t for t in added if t["Type"] == "Comment"]
    assert len(comments) == 1
    assert {t["Type"] for t in added} <= {"Comment", "CustomField", "CommentEmailRecord"}
    version = lines[0].split("version ")[1].split(",")[0]
    assert comments[0]["Data"].startswith(f"[review-published:incident/10:{version}] review, draft")
    got = parts(pub_rt, comments[0]["id"])
    html = (out / "2026-08" / "incident-10.html").read_bytes()
    assert got["text/html"] == ("incident-10-review.html", html)
    text = got["text/plain"][1].decode()
    assert text.startswith("Post-incident review of #10: draft.\n")
    assert "Classification: Urgent - Degraded; service: web-portal." in text
    assert "Time to resolve: 30.0 h (business: 14.0 h)" in text  # the sample's, by hand
    assert "Changed since" not in text
    assert review_status(pub_rt, 10) == ["draft"]
    record = written.load(written.review_path(out, 10), 10)
    assert record is not None
    assert [e["comment"] for e in record.extra["published"]] == [int(comments[0]["id"])]

    # again: nothing, not even a second look at the field
    after_first = history(pub_rt, 10)
    code, shown, err = run([*args, "--apply"], pub_rt, monkeypatch, capsys)
    assert code == 0, err
    assert "comment on #10: none, version" in shown
    assert err.endswith("nothing to publish: RT has this version\n")
    assert history(pub_rt, 10) == after_first

    # the team writes a summary and both owners sign: one more comment that says what changed
    path = written.review_path(out, 10)
    summary = written.Section("summary", "## Summary\n\nThe IdP's signing certificate expired.")
    written.update(path, 10, lambda r: written.replace(r, sections=(summary,)))
    for role, name in (("service-owner", "Carol Chen"), ("business-owner", "Bo Diaz")):
        assert run(["signoff", "10", "--role", role, "--name", name, "--out", str(out)],
                   pub_rt, monkeypatch, capsys)[0] == 0  # fmt: skip
    assert run(["status", "10", "final", "--out", str(out)], pub_rt, monkeypatch, capsys)[0] == 0
    code, shown, err = run([*args, "--apply"], pub_rt, monkeypatch, capsys)
    assert code == 0, err
    added = history(pub_rt, 10)[len(after_first) :]
    comments = [t for t in added if t["Type"] == "Comment"]
    assert len(comments) == 1 and comments[0]["Data"].rstrip().endswith("review, final")
    text = parts(pub_rt, comments[0]["id"])["text/plain"][1].decode()
    changed = text.split("Changed since the review published ")[1].split("\n\n")[0]
    assert changed.splitlines()[1:] == [
        "- status draft -> final",
        "- written sections added: summary",
        f"- signed off by the service owner Carol Chen on {changed[:10]}",
        f"- signed off by the business owner Bo Diaz on {changed[:10]}",
    ]
    assert "  ## Summary\n  \n  The IdP's signing certificate expired." in text
    assert review_status(pub_rt, 10) == ["final"]

    # the review file loses its record: RT's comment still says it is published
    data = json.loads(path.read_text())
    del data["published"]
    path.write_text(json.dumps(data))
    final = history(pub_rt, 10)
    code, shown, err = run([*args, "--apply"], pub_rt, monkeypatch, capsys)
    assert code == 0, err
    assert "found in RT" in shown and history(pub_rt, 10) == final
    again = written.load(path, 10)
    assert again is not None and again.extra["published"][0]["comment"] == int(comments[0]["id"])


def test_a_run_that_fails_after_commenting_never_comments_twice(
    pub_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "reports"
    args = ["publish", "11", "--config", str(config_file), "--out", str(out), "--apply"]
    before = history(pub_rt, 11)

    def full_disk(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(written, "save", full_disk)
        code, _, err = run(args, pub_rt, monkeypatch, capsys)
    path = written.review_path(out, 11)
    assert code == 1 and err.splitlines()[-1] == (
        f"error: cannot write {path} (No space left on device): the comment is in RT (#11); "
        "once it can be written, run again, which finds the comment there and records it "
        "without commenting again"
    )
    assert [t["Type"] for t in history(pub_rt, 11)[len(before) :]].count("Comment") == 1

    code, shown, err = run(args, pub_rt, monkeypatch, capsys)
    assert code == 0, err
    assert "comment on #11: none" in shown
    assert "set #11's 'Review status' to 'draft' (now unset)" in shown  # left undone, now done
    assert [t["Type"] for t in history(pub_rt, 11)[len(before) :]].count("Comment") == 1
    assert review_status(pub_rt, 11) == ["draft"]


def test_missing_rights_are_one_line(
    pub_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "reports"
    args = ["publish", "12", "--config", str(config_file), "--out", str(out), "--apply"]
    before = history(pub_rt, 12)

    code, _, err = run(args, pub_rt, monkeypatch, capsys, user="publisher-mute")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: RT at {pub_rt.url} refused a comment on #12 (HTTP ")
    assert "the account needs CommentOnTicket" in err
    assert history(pub_rt, 12) == before

    # an account that cannot read comments would not see its own: said, and recorded locally
    code, _, err = run(args, pub_rt, monkeypatch, capsys, user="publisher-blind")
    assert code == 1 and "grant it ShowTicketComments" in err.splitlines()[-1]
    assert [t["Type"] for t in history(pub_rt, 12)[len(before) :]].count("Comment") == 1
    code, shown, _ = run(args, pub_rt, monkeypatch, capsys, user="publisher-blind")
    assert code == 0 and "comment on #12: none" in shown
    assert [t["Type"] for t in history(pub_rt, 12)[len(before) :]].count("Comment") == 1

    # a status field the site does not have
    other = tmp_path / "other.toml"
    other.write_text('[publish]\nstatus_field = "Review state"\n')
    code, _, err = run(["publish", "12", "--config", str(other), "--out", str(out)], pub_rt,
                       monkeypatch, capsys)  # fmt: skip
    assert code == 1 and err.count("\n") == 1
    assert "has no custom field 'Review state' this account may see" in err


def test_publishing_does_not_change_the_reviewed_data(
    pub_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A pull after publishing sees the comment, its mail copy and the field change, yet the
    incident's data digest (what a sign-off keeps) and its metrics are as before."""
    from datetime import UTC, datetime

    from review.context import Context
    from review.rt.pull import Window, pull
    from review.settings.config import load_config
    from review.snapshot import load_snapshot
    from review.snapshot.fingerprint import review_data_digests

    config = load_config(config_file)
    window = Window(
        datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
        config.queues.ops + config.queues.developer, config.statuses.inactive,
    )  # fmt: skip

    def pulled(name: str) -> Any:
        with pub_rt.client() as client:
            pull(client, window, tmp_path / name, progress=False)
        return load_snapshot(tmp_path / name)

    before = pulled("before")
    args = ["publish", "13", "--config", str(config_file), "--out", str(tmp_path / "reports")]
    assert run([*args, "--apply"], pub_rt, monkeypatch, capsys)[0] == 0
    after = pulled("after")

    seen = after.messages([13])  # a transaction's text is read apart from the history
    assert seen["data"].str.startswith("[review-published:incident/13:").sum() == 1
    assert review_data_digests(after, "Review status").equals(
        review_data_digests(before, "Review status")
    )
    assert Context(after, config).metrics.equals(Context(before, config).metrics)
