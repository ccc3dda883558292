"""Review status and sign-off: who agreed when, final only when both owners did, and what
changed since (the incident's data, the written text), as the pages and commands say it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest

from review.cli import main
from review.errors import ReviewError
from review.pages import signoff, written
from review.pages.written import Section, WrittenReview
from review.settings.config import sample_snapshot
from review.snapshot import Snapshot, load_snapshot
from review.snapshot.fingerprint import review_data_digests


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    return load_snapshot(sample_snapshot())


def _with_transaction(snapshot: Snapshot, data: str = "", **row: object) -> Snapshot:
    """The snapshot with one more transaction of ticket 10, its text `data`."""
    base = {
        "txn_id": 99_001, "ticket_id": 10, "type": "Comment", "field": "", "old": "", "new": "",
        "created": pd.Timestamp("2026-12-01T10:00:00Z"), "creator": "kim",
    }  # fmt: skip
    added = pd.DataFrame([base | row]).astype(snapshot.transactions.dtypes.to_dict())
    text = pd.DataFrame([{"ticket_id": 10, "txn_id": (base | row)["txn_id"], "data": data}])
    texts = pd.concat([snapshot.messages(None), text], ignore_index=True)

    def messages(ticket_ids: Iterable[int] | None = None) -> pd.DataFrame:
        return texts if ticket_ids is None else texts.loc[texts["ticket_id"].isin(set(ticket_ids))]

    return dataclasses.replace(
        snapshot,
        transactions=pd.concat([snapshot.transactions, added], ignore_index=True),
        messages=messages,
    )


def test_signing_records_who_when_and_the_data_and_puts_a_draft_in_review() -> None:
    review = WrittenReview(ticket_id=10)
    once = signoff.sign(review, "service-owner", "Carol  Chen", "aaa", "2026-12-06T09:00:00Z")
    assert once.status == "in review" and once.status_at == "2026-12-06T09:00:00Z"
    assert once.signoffs == (
        written.SignOff("service owner", "Carol Chen", "2026-12-06T09:00:00Z", "aaa", {}),
    )  # {}: it was given no written text
    both = signoff.sign(once, "business-owner", "Bo", "aaa", "2026-12-07T09:00:00Z")
    again = signoff.sign(both, "service owner", "Carol Chen", "bbb", "2026-12-08T09:00:00Z")
    # one sign-off per role, in the process's order; signing again replaces it
    assert [(s.role, s.who, s.data) for s in again.signoffs] == [
        ("service owner", "Carol Chen", "bbb"),
        ("business owner", "Bo", "aaa"),
    ]
    assert again.status_at == "2026-12-06T09:00:00Z"  # still in review since the first


def test_final_needs_both_owners_and_the_error_says_how() -> None:
    half = signoff.sign(WrittenReview(ticket_id=7), "business-owner", "Bo", "x")
    with pytest.raises(ReviewError) as refused:
        signoff.set_status(half, "final")
    assert str(refused.value) == (
        "review 7 cannot be final without the service owner's sign-off: "
        "review signoff 7 --role service-owner --name NAME"
    )
    done = signoff.set_status(signoff.sign(half, "service-owner", "Cy", "x"), "final", "T")
    assert (done.status, done.status_at) == ("final", "T")
    assert signoff.set_status(done, "in-review", "U").status == "in review"
    with pytest.raises(ReviewError, match="status must be one of draft, in-review, final"):
        signoff.set_status(done, "approved")


def test_a_signer_name_is_one_visible_line() -> None:
    review = signoff.sign(WrittenReview(ticket_id=1), "service-owner", "Eve\x1b[8m\nX", "d")
    assert review.signoffs[0].who == "Eve\\x1b[8m X"
    with pytest.raises(ReviewError, match="--name must name"):
        signoff.sign(review, "service-owner", " \n ", "d")
    with pytest.raises(ReviewError, match="--role must be one of service-owner, business-owner"):
        signoff.sign(review, "tech-lead", "T", "d")


def test_the_data_digest_ignores_what_publishing_adds_and_sees_the_rest(sample: Snapshot) -> None:
    before = review_data_digests(sample, "Review status")
    published = _with_transaction(sample, data="[review-published:incident/10:abc] Review")
    mail = _with_transaction(published, txn_id=99_002, type="CommentEmailRecord", data="<m@x>")
    status_field = dataclasses.replace(
        mail,
        field_names=pd.concat(
            [mail.field_names, pd.DataFrame([{"field_id": "9", "field": "Review status"}])],
            ignore_index=True,
        ).astype(mail.field_names.dtypes.to_dict()),
    )
    status_set = _with_transaction(
        status_field, txn_id=99_003, type="CustomField", field="9", new="final"
    )
    touched = dataclasses.replace(
        status_set,
        tickets=status_set.tickets.assign(last_updated=pd.Timestamp("2026-12-02T00:00:00Z")),
    )
    after = review_data_digests(touched, "Review status")
    assert after.equals(before)

    late_reply = _with_transaction(sample, type="Correspond", data="It broke again")
    changed = review_data_digests(late_reply, "Review status")
    assert changed[10] != before[10]
    assert changed.drop(10).equals(before.drop(10))  # the other incidents are untouched
    # without the field configured, a custom-field change is data like any other
    assert review_data_digests(status_set)[10] != review_data_digests(sample)[10]


def test_review_states_for_the_pages(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    incidents = pd.DataFrame(
        {
            "ticket_id": [10, 11, 12, 13, 14],
            "resolved_at": pd.to_datetime(
                [
                    "2026-08-11T19:30:00Z",
                    "2026-08-11T16:30:00Z",
                    "2026-08-13T17:00:00Z",
                    None,
                    "2026-08-20T00:00:00Z",
                ],
                utc=True,
            ),
        }
    )
    # 10: final on Sept 1 with both sign-offs; the data changed since one of them
    final = WrittenReview(
        ticket_id=10,
        sections=(Section("summary", "text", None, "2026-08-31T00:00:00Z", "a"),),
        status="final",
        status_at="2026-09-01T07:30:00Z",
        signoffs=(
            written.SignOff("service owner", "Carol", "2026-08-30T00:00:00Z", "old"),
            written.SignOff("business owner", "Bo", "2026-08-30T12:00:00Z", "now"),
        ),
    )
    written.save(written.review_path(out, 10), final)
    written.save(written.review_path(out, 11), WrittenReview(ticket_id=11))  # a draft
    written.review_path(out, 14).write_text("{not json")
    data = pd.Series({10: "now", 11: "x", 12: "y", 13: "z", 14: "w"})
    now = pd.Timestamp("2026-11-01T06:00:00Z")

    states = signoff.review_states(incidents, out, data, now).set_index("ticket_id")

    assert states["review"].tolist() == ["final", "draft", "missing", "missing", "unreadable"]
    # by hand: 08-11 19:30 -> 09-01 07:30 is 20.5 days; -> 11-01 06:00 is 81.4; 08-13 17:00
    # -> 11-01 06:00 is 79.5; 13 is still open
    assert states["review_waited_days"].tolist()[:4] == [20, 81, 79, pd.NA]
    assert states.loc[10, "review_signed"] == (
        "service owner Carol 2026-08-30; business owner Bo 2026-08-30"
    )
    assert states.loc[10, "review_note"] == (
        "the incident's data changed since the service owner's sign-off; "
        "written text changed since sign-off (summary)"
    )
    assert states.loc[13, "review_note"] == "incident still open"
    assert "not valid JSON" in states.loc[14, "review_note"]


def test_the_commands_sign_off_set_final_and_say_what_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / "reports")]

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main([*args, *out])
            raise SystemExit(0)
        got = capsys.readouterr()
        return int(exited.value.code or 0), got.out, got.err

    assert run("status", "10")[1] == "review: missing (nothing written, no status set)\n"
    code, _, err = run("status", "10", "final")
    assert code == 1 and err.count("\n") == 1 and "without the service owner and the" in err
    assert run("signoff", "10", "--role", "service-owner", "--name", "Carol")[0] == 0
    assert run("signoff", "10", "--role", "business-owner", "--name", "Bo")[0] == 0
    code, shown, _ = run("status", "10", "final")
    assert code == 0 and shown.splitlines()[0].startswith("review: final since ")
    review = written.load(written.review_path(tmp_path / "reports", 10), 10)
    assert review is not None
    digest = signoff.data_digest(load_snapshot(sample_snapshot()), 10)
    assert [s.data for s in review.signoffs] == [digest, digest]
    assert run("status", "99999")[2] == (
        f"error: ticket 99999 is not in the snapshot {sample_snapshot()}: give the --snapshot "
        "that holds it\n"
    )


def test_the_review_page_says_its_status_and_what_changed(tmp_path: Path) -> None:
    from review.pages.reports import incident_review_data

    path = written.review_path(tmp_path, 10)
    assert incident_review_data(None, 10, written=path).status == [
        "Review status: draft, not signed off (review signoff, review status)."
    ]
    digest = signoff.data_digest(load_snapshot(sample_snapshot()), 10)
    review = signoff.sign(
        WrittenReview(ticket_id=10), "service-owner", "Carol", digest, "2026-12-06T09:00:00Z"
    )
    review = signoff.sign(review, "business-owner", "Bo", "older", "2026-12-06T10:00:00Z")
    written.save(path, signoff.set_status(review, "final", "2026-12-07T08:00:00Z"))
    assert incident_review_data(None, 10, written=path).status == [
        "Review status: final since 2026-12-07. Sign-off: service owner Carol 2026-12-06; "
        "business owner Bo 2026-12-06.",
        "Since the sign-off: the incident's data changed since the business owner's sign-off.",
    ]


def test_a_publication_record_does_not_change_the_pages_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "incident-10.json"
    assert signoff.content_digest(path) == ""
    written.save(path, WrittenReview(ticket_id=10))
    before = signoff.content_digest(path)
    written.update(path, 10, lambda r: dataclasses.replace(r, extra={"published": [{"c": 1}]}))
    assert signoff.content_digest(path) == before
    written.update(path, 10, lambda r: signoff.set_status(r, "in review"))
    assert signoff.content_digest(path) != before
    path.write_text("{broken")
    assert signoff.content_digest(path) not in ("", before)


def test_the_monthly_and_support_reports_show_each_reviews_state(tmp_path: Path) -> None:
    from review.pages.reports import monthly_report_data, support_gaps_data

    reports = tmp_path / "reports"
    final = WrittenReview(
        ticket_id=43,
        status="final",
        status_at="2026-10-04T15:30:00Z",
        signoffs=(
            written.SignOff("service owner", "Wendy", "2026-10-03T00:00:00Z"),
            written.SignOff("business owner", "Lee", "2026-10-03T00:00:00Z"),
        ),
    )
    written.save(written.review_path(reports, 43), final)
    written.save(written.review_path(reports, 54), WrittenReview(ticket_id=54))

    listed = monthly_report_data(None, "2026-10", reports=reports).incident_list
    shown = listed.set_index("ticket")[["review", "signed off"]]
    # by hand: 43 resolved 10-01 15:30 UTC, final 10-04 15:30: 3 days; 44 resolved 10-05 14:30,
    # nothing written by the pull (11-01 06:00): 26 days; 54 resolved 10-20 15:00: 11 days
    assert shown.loc[43].tolist() == [
        "final after 3 days", "service owner Wendy 2026-10-03; business owner Lee 2026-10-03",
    ]  # fmt: skip
    assert shown.loc[44].tolist() == ["missing, waited 26 days", ""]
    assert shown.loc[54].tolist() == ["draft, waited 11 days", ""]

    gaps = support_gaps_data(None, reports=reports)
    assert gaps.review_states[54] == "draft, waited 11 days"
    # a review not rendered is no link (issue 22: links only to pages that exist)
    assert "#54 <small>(review draft, waited 11 days)</small>" in gaps.services()._repr_html_()
    (reports / "2026-10").mkdir()
    (reports / "2026-10" / "incident-54.html").write_text("rendered")
    gaps = support_gaps_data(None, reports=reports)
    page = gaps.services()._repr_html_()
    assert (
        '<a href="2026-10/incident-54.html">#54</a> <small>(review draft, waited 11 days)' in page
    )
    monthly = monthly_report_data(None, "2026-10", reports=reports)
    assert monthly.review_pages == {54: "incident-54.html"}


def test_a_reports_fingerprint_follows_its_incidents_reviews(tmp_path: Path) -> None:
    from review.pages import render as rendering
    from review.pages.reports import PAGES

    out = tmp_path / "reports"
    inputs = rendering.load_inputs(sample_snapshot(), None)

    def prints() -> tuple[str, str]:
        return (
            rendering.page_job(inputs, PAGES["monthly"], out, "2026-10").fingerprint,
            rendering.page_job(inputs, PAGES["support-gaps"], out, today="2026-11-30").fingerprint,
        )

    before = prints()
    path = written.review_path(out, 54)
    written.save(path, WrittenReview(ticket_id=54))
    drafted = prints()
    assert drafted[0] != before[0] and drafted[1] != before[1]
    written.update(path, 54, lambda r: dataclasses.replace(r, extra={"published": [{"c": 1}]}))
    assert prints() == drafted  # what was published is RT's, not the page's
    written.save(written.review_path(out, 10), WrittenReview(ticket_id=10))  # August's
    august = prints()
    assert august[0] == drafted[0] and august[1] != drafted[1]


def test_a_sign_off_that_cannot_be_written_is_one_line_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno
    import os

    out = tmp_path / "reports"
    path = written.review_path(out, 10)
    written.save(path, WrittenReview(ticket_id=10, sections=(Section("summary", "kept"),)))
    before = path.read_bytes()

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(written, "save", full)
    with pytest.raises(SystemExit) as exited:
        main(["signoff", "10", "--role", "service-owner", "--name", "C", "--out", str(out)])
    assert exited.value.code == 1
    assert capsys.readouterr().err == f"error: cannot write {path} (No space left on device)\n"
    assert path.read_bytes() == before


def test_a_time_edited_by_hand_is_one_line_on_the_pages_not_a_traceback(tmp_path: Path) -> None:
    """A final review whose status_at was edited by hand without a zone ('2026-12-08 09:30')
    made every page that lists reviews (the index after each render, the monthly and
    support reports) end in a TypeError (naive minus aware); now that review reads as
    unreadable, with the file and the form a time must have, and the others are shown."""
    out = tmp_path / "reports"
    path = written.review_path(out, 10)
    path.parent.mkdir(parents=True)
    text = (
        '{"format": 1, "ticket_id": 10, "status": "final", "status_at": "2026-12-08 09:30",\n'
        ' "signoffs": [{"role": "service owner", "who": "C", "at": "2026-12-01T00:00:00Z"},\n'
        '  {"role": "business owner", "who": "B", "at": "2026-12-01T00:00:00Z"}]}\n'
    )
    path.write_text(text)
    written.save(written.review_path(out, 11), WrittenReview(ticket_id=11))
    incidents = pd.DataFrame(
        {"ticket_id": [10, 11], "resolved_at": pd.to_datetime(["2026-11-30T00:00:00Z"] * 2)}
    )
    now = pd.Timestamp("2026-12-10T00:00:00Z")

    states = signoff.review_states(incidents, out, pd.Series({10: "", 11: ""}), now)

    assert states["review"].tolist() == ["unreadable", "draft"]
    assert states["review_note"].iloc[0] == (
        f"{path}: status_at must be a UTC time written like 2026-12-05T14:03:11Z, got "
        "'2026-12-08 09:30'; fix the file or move it aside (the notebook still holds the text)"
    )
    assert states["review_waited_days"].iloc[1] == 10  # 11-30 00:00 -> 12-10 00:00, by hand
    assert path.read_text() == text  # nothing rewritten


def test_a_section_removed_after_the_sign_off_is_a_change_since_it(tmp_path: Path) -> None:
    """Both owners signed a review with a summary and an impact; the team then deleted the
    impact cell in JupyterLab and saved. The review stayed final with nothing said (only
    sections saved after the sign-off counted); each sign-off now keeps the text it was
    given, so a removal, an edit and an addition are all changes, and text put back as
    signed is none."""
    import json

    from review.pages.render import template_path
    from review.pages.reports import PAGES

    out = tmp_path / "reports"
    notebook_path = out / "2026-08" / "incident-10.ipynb"
    review_file = written.review_path(out, 10)
    template = json.loads(template_path(PAGES["incident"].template).read_text("utf-8"))
    notebook = written.merge(json.loads(json.dumps(template)), template, None, 10,
                             "../reviews/incident-10.json")  # fmt: skip
    cells = {c["id"]: c for c in notebook["cells"]}
    cells["summary"]["source"] = "## Summary\n\nThe certificate expired."
    cells["impact"]["source"] = "## Impact\n\nNobody could log in for 6 hours."
    written.save_from_notebook(notebook, notebook_path, "tl")
    for role, who in (("service-owner", "Carol"), ("business-owner", "Bo")):
        written.update(review_file, 10, lambda r, role=role, who=who: signoff.set_status(
            signoff.sign(r, role, who, "d"), "in review"))  # fmt: skip
    written.update(review_file, 10, lambda r: signoff.set_status(r, "final"))

    def notes() -> list[str]:
        review = written.load(review_file, 10)
        assert review is not None
        return signoff.changes_since_signoff(review, "d")

    assert notes() == []
    notebook["cells"] = [c for c in notebook["cells"] if c["id"] != "impact"]
    written.save_from_notebook(notebook, notebook_path, "tl")
    loaded = written.load(review_file, 10)
    assert loaded is not None and [s.id for s in loaded.sections] == ["summary"]
    assert notes() == ["written text changed since sign-off (impact removed)"]
    assert signoff.status_lines(loaded, "d")[1] == (
        "Since the sign-off: written text changed since sign-off (impact removed)."
    )

    cells["summary"]["source"] = "## Summary\n\nThe certificate expired on Sunday."
    written.save_from_notebook(notebook, notebook_path, "tl")
    assert notes() == ["written text changed since sign-off (summary, impact removed)"]

    cells["summary"]["source"] = "## Summary\n\nThe certificate expired."  # as signed
    impact = {**cells["impact"], "source": "## Impact\n\nNobody could log in for 6 hours."}
    notebook["cells"].append(impact)
    written.save_from_notebook(notebook, notebook_path, "tl")
    assert notes() == []
