"""What `review publish` compares and says, without RT: versions, their record, what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.delivery import publish
from review.delivery.publish import Published, Version
from review.pages.written import Section, SignOff, WrittenReview


def _review(**change: object) -> WrittenReview:
    base = WrittenReview(
        ticket_id=10,
        sections=(Section("summary", "The disk filled."), Section("lessons", "Watch disks.")),
        status="in review",
        signoffs=(SignOff("service owner", "Carol", "2026-12-06T09:00:00Z", "d1"),),
    )
    return WrittenReview(**{**base.__dict__, **change})  # type: ignore[arg-type]


def test_a_version_is_the_data_the_written_text_the_status_and_the_sign_offs() -> None:
    one = publish.version_of(_review(), 10, "data1")
    assert publish.version_of(_review(), 10, "data1") == one
    # sha256 of each section's text, first 16 hex digits (sha256sum of the text)
    assert one.to_json()["sections"] == {
        "summary": "6693ac7452633c6f",
        "lessons": "f4c1b105cc628b57",
    }
    # anything that differs makes another version; where a file sits or the kit does not
    digests = {
        publish.version_of(_review(), 10, "data2").digest,
        publish.version_of(_review(status="final"), 10, "data1").digest,
        publish.version_of(
            _review(sections=(Section("summary", "The disk filled!"),)), 10, "data1"
        ).digest,
        publish.version_of(_review(signoffs=()), 10, "data1").digest,
        one.digest,
    }
    assert len(digests) == 5
    assert len(one.digest) == 16 and set(one.digest) <= set("0123456789abcdef")


def test_the_record_round_trips_and_a_tampered_one_is_not_read() -> None:
    version = publish.version_of(_review(), 10, "data1")
    line = json.loads(json.dumps(version.to_json()))
    assert Version.from_json(line) == version
    assert Version.from_json({**line, "status": "final"}) is None  # its digest no longer fits
    assert Version.from_json({**line, "format": 2}) is None
    assert Version.from_json("garbage") is None


def test_what_changed_is_said_in_words() -> None:
    old = publish.version_of(_review(), 10, "data1")
    new = publish.version_of(
        _review(
            status="final",
            sections=(Section("summary", "The disk filled at 02:10."), Section("impact", "All")),
            signoffs=(
                SignOff("service owner", "Carol", "2026-12-06T09:00:00Z", "d1"),
                SignOff("business owner", "Bo", "2026-12-08T10:00:00Z", "d2"),
            ),
        ),
        10,
        "data2",
    )
    assert publish.changes(old, new) == [
        "status in review -> final",
        "written sections added: impact",
        "written sections changed: summary",
        "written sections removed: lessons",
        "signed off by the business owner Bo on 2026-12-08",
        "the incident's data in RT changed (a later pull)",
    ]
    withdrawn = publish.version_of(_review(signoffs=()), 10, "data1")
    assert publish.changes(old, withdrawn) == ["the service owner's sign-off was withdrawn"]


def test_rt_is_the_record_unless_the_review_file_knows_a_newer_comment() -> None:
    version = publish.version_of(_review(), 10, "data1")
    local = Published(version, version.digest, 120, "2026-12-01T00:00:00Z", "the review file")
    remote = Published(None, version.digest, 120, "2026-12-01T00:00:00Z", "RT")
    # RT names the same digest without a readable record: the file's version fills it in
    assert publish.last_published(local, remote) == Published(
        version, version.digest, 120, "2026-12-01T00:00:00Z", "RT"
    )
    assert publish.last_published(None, remote) == remote
    assert publish.last_published(local, None) == local
    newer = Published(version, version.digest, 130, "2026-12-02T00:00:00Z", "the review file")
    assert publish.last_published(newer, remote) == newer


def test_the_comment_ends_with_its_record_and_quotes_the_summary_as_text() -> None:
    review = _review(sections=(Section("summary", "Line one <script>x</script>\n\x1b[8mhid"),))
    version = publish.version_of(review, 10, "data1")
    plan = publish.Plan(version, None, comment=True)
    text = publish.comment_text(plan, ["Subject: Disk full"], review, "incident-10-review.html")
    lines = text.splitlines()
    assert lines[:3] == [
        "Post-incident review of #10: in review.",
        "Sign-off: service owner Carol 2026-12-06; business owner: not yet.",
        "Subject: Disk full",
    ]
    assert "  Line one <script>x</script>" in lines  # a text comment: shown, never run
    assert "  \\x1b[8mhid" in lines  # control characters shown as escapes
    assert lines[-1] == publish.RECORD + json.dumps(version.to_json(), separators=(",", ":"))
    assert publish.subject(version, "in review") == (
        f"[review-published:incident/10:{version.digest}] review, in review"
    )


def test_two_publishes_of_one_review_at_once_are_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from review.cli import main
    from review.pages import written

    monkeypatch.setenv("RT_URL", "http://127.0.0.1:9/")  # never reached: the lock comes first
    monkeypatch.setenv("RT_USER", "u")
    monkeypatch.setenv("RT_PASSWORD", "p")
    out = tmp_path / "reports"
    with publish.publishing(written.review_path(out, 10)), pytest.raises(SystemExit) as exited:
        main(["publish", "10", "--out", str(out), "--apply"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "error: another review publish of incident-10 is running; wait for it and run again\n"
    )


def test_a_server_error_to_the_comment_is_not_called_a_missing_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 502 from a proxy to the comment: before, 'the account needs CommentOnTicket', a right
    it had; RT may have taken the comment, which the re-run finds."""
    from review.errors import RTAuthError, RTError
    from review.rt.client import Connection, RTClient

    client = RTClient(Connection(url="http://rt.invalid/REST/2.0/", token="t"))
    monkeypatch.setattr(client, "send", lambda *_: (502, None))
    monkeypatch.setattr(publish, "find_in_rt", lambda *_: None)  # not published before
    html = tmp_path / "incident-10.html"
    html.write_text("<p>review</p>")
    plan = publish.Plan(publish.version_of(_review(), 10, "d1"), None, comment=True)
    with pytest.raises(RTError) as caught:
        publish.post(client, plan, "text", html, "incident-10-review.html")
    assert not isinstance(caught.value, RTAuthError)
    assert str(caught.value) == (
        "RT at http://rt.invalid/REST/2.0/ answered HTTP 502 to the comment on #10; it may have "
        "been posted all the same: run again once RT is well (the re-run finds it in RT and "
        "does not post it twice)"
    )


def test_a_comment_another_run_posted_since_the_plan_is_not_posted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two publishes of one review from two reports folders (the lock is per folder), or two
    machines: both plans found nothing in RT, and before, both commented. RT is searched
    again right before the comment: the version found there is not posted twice."""
    from review.rt.client import Connection, RTClient

    client = RTClient(Connection(url="http://rt.invalid/REST/2.0/", token="t"))
    sent: list[object] = []
    monkeypatch.setattr(client, "send", lambda *a: sent.append(a) or (201, None))
    version = publish.version_of(_review(), 10, "d1")
    other = Published(version, version.digest, 4711, "2026-12-08T00:40:00Z", "RT")
    monkeypatch.setattr(publish, "find_in_rt", lambda *_: other)
    html = tmp_path / "incident-10.html"
    html.write_text("<p>review</p>")
    plan = publish.Plan(version, None, comment=True)  # the plan saw no publication
    assert publish.post(client, plan, "text", html, "incident-10-review.html") == (4711, False)
    assert sent == []
    # another version in RT (an older one) does not stop this one
    older = publish.version_of(_review(status="draft"), 10, "d1")
    monkeypatch.setattr(
        publish, "find_in_rt",
        lambda *_: other if sent else Published(older, older.digest, 4700, "", "RT"),
    )  # fmt: skip
    assert publish.post(client, plan, "text", html, "incident-10-review.html") == (4711, True)
    assert len(sent) == 1
