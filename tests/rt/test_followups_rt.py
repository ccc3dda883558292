"""`review follow-ups` against a real RT 5: create, re-run files nothing, comment when cleared,
each comment once also when a run stops midway.

The findings come from the bundled sample, whose incidents have the same ids as the replayed
RT's. The follow-up queue and the `closeout` account (CreateTicket, ModifyTicket and ShowTicket
on that queue only) come from data/scenarios/site.yaml; ShowTicketComments there is granted to
it in this module's copy of the replay (RIGHTS). RT's $StrictLinkACL is 0 on this RT
(RefersTo then needs ModifyTicket on one side only), except where a test says otherwise.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from review.cli import main
from review.settings.config import load_config
from scenarios.replay import PASSWORD, rt_server

if TYPE_CHECKING:
    from conftest import RTServer

ARGS = [
    "follow-ups", "--rule", "ad-hoc-support-team", "--rule", "temporary-fix-no-followup",
    "--since", "2026-10-01",
]  # fmt: skip
# By hand from the sample's findings for incidents opened in October 2026 (review gaps):
# ad-hoc-support-team per service, temporary-fix-no-followup per incident.
EXPECTED = {
    "[followup:ad-hoc-support-team:service/file-storage] ad-hoc-support-team, file-storage: "
    "incidents 47, 51, 56, 62": ("sara", [47, 51, 56, 62]),
    "[followup:ad-hoc-support-team:service/mail-lists] ad-hoc-support-team, mail-lists: "
    "incidents 44, 52, 58": ("Nobody", [44, 52, 58]),
    "[followup:ad-hoc-support-team:service/payroll-export] ad-hoc-support-team, "
    "payroll-export: incident 54": ("kim", [54]),
    "[followup:ad-hoc-support-team:service/wiki] ad-hoc-support-team, wiki: incidents 49, 57": (
        "Nobody",
        [49, 57],
    ),
    "[followup:temporary-fix-no-followup:ticket/54] temporary-fix-no-followup, payroll-export: "
    "incident 54": ("kim", [54]),
    "[followup:temporary-fix-no-followup:ticket/58] temporary-fix-no-followup, mail-lists: "
    "incident 58": ("Nobody", [58]),
    "[followup:temporary-fix-no-followup:ticket/60] temporary-fix-no-followup, vpn: incident 60": (
        "Nobody",
        [60],
    ),
}


# Beside site.yaml's rights, loaded into this module's copy of the replay: `closeout` may see
# comments on the follow-up queue (ShowTicketComments: it finds its own by their markers), and
# `closeout-blind` has site.yaml's rights of `closeout` only.
RIGHTS = f"""
@Users = ({{Name => 'closeout-blind', EmailAddress => 'closeout-blind@example.edu',
            Privileged => 1, Password => '{PASSWORD}'}});
@ACL = ({{UserId => 'closeout', Queue => 'follow-ups', Right => ['ShowTicketComments']}},
        {{UserId => 'closeout-blind', Queue => 'follow-ups',
          Right => ['CreateTicket', 'ModifyTicket', 'ShowTicket']}});
1;
"""


@pytest.fixture(scope="module")
def fu_db(replayed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The replayed database with RIGHTS loaded (once per module)."""
    from conftest import start_copy

    from scenarios.replay import SLA_CONFIG, load_initialdata

    server = start_copy(replayed_db, tmp_path_factory.mktemp("followups") / "rt")
    server.stop()  # the site config is written: load the rights into the stopped copy
    load_initialdata(server.directory, RIGHTS)
    base = server.directory / "base"
    base.mkdir()
    shutil.copy2(server.directory / "rt.sqlite", base / "rt.sqlite")
    if (replayed_db.parent / SLA_CONFIG).exists():
        shutil.copy2(replayed_db.parent / SLA_CONFIG, base / SLA_CONFIG)
    return base / "rt.sqlite"


def start(database: Path, directory: Path, strict_links: bool = False) -> RTServer:
    from conftest import start_copy

    (directory / "RT_SiteConfig.d").mkdir(parents=True)
    if not strict_links:
        (directory / "RT_SiteConfig.d" / "links.pm").write_text("Set($StrictLinkACL, 0);\n1;\n")
    return start_copy(database, directory)


@pytest.fixture
def fu_rt(fu_db: Path, tmp_path: Path) -> Iterator[RTServer]:
    server = start(fu_db, tmp_path / "rt")
    yield server
    server.stop()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "review.toml"
    path.write_text(
        '[followups]\nreports_url = "https://reports.example.edu/incidents"\n'
        '[followups.owners]\n"Storage Team" = "sara"\n"senior staff" = "kim"\n'
    )
    return path


def run(args: list[str], server: RTServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], user: str = "closeout") -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.delenv("RT_TOKEN", raising=False)
    monkeypatch.setenv("RT_URL", server.url)
    monkeypatch.setenv("RT_USER", user)
    monkeypatch.setenv("RT_PASSWORD", PASSWORD)
    with pytest.raises(SystemExit) as exited:
        main(args)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def queue_tickets(server: RTServer) -> list[dict[str, Any]]:
    """The follow-up queue as root sees it: subject, owner name, RefersTo ids, by id."""
    with server.client() as client:
        data = client.get(
            "tickets",
            {"query": "Queue = 'follow-ups'", "fields": "Subject,Owner,Status,_hyperlinks",
             "fields[Owner]": "Name", "per_page": 100, "orderby": "id"},
        )  # fmt: skip
    return [
        {
            "id": int(t["id"]),
            "subject": t["Subject"],
            "owner": t["Owner"]["Name"],
            "refers": sorted(int(h["id"]) for h in t["_hyperlinks"] if h["ref"] == "refers-to"),
        }
        for t in data["items"]
    ]


def comments(server: RTServer, ticket: int) -> list[str]:
    with server.client() as client:
        history = client.get(f"ticket/{ticket}/history", {"fields": "Type", "per_page": 100})
        ids = [h["id"] for h in history["items"] if h["Type"] == "Comment"]
        texts = []
        for txn in ids:
            attachments = client.get(
                f"transaction/{txn}/attachments", {"fields": "Content", "per_page": 100}
            )
            texts += [a.get("Content") or "" for a in attachments["items"]]
    return [t for t in texts if t]


def test_apply_files_one_follow_up_per_gap_and_a_rerun_files_nothing(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    args = [*ARGS, "--config", str(config_file)]
    code, out, err = run(args, fu_rt, monkeypatch, capsys)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["create"] * 7
    assert "plan: 7 to create, 0 to update, 0 to leave in queue 'follow-ups' (dry run" in err
    assert "unmapped action owners" in err and "Messaging; Network Services; Web Services" in err
    assert queue_tickets(fu_rt) == []

    code, out, err = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert code == 0, err
    filed = queue_tickets(fu_rt)
    assert {t["subject"]: (t["owner"], t["refers"]) for t in filed} == EXPECTED
    assert err.count("created #") == 7 and "warning" not in err

    # the body holds the evidence, the action and the link to the review
    wiki = next(t for t in filed if "service/wiki" in t["subject"])
    with fu_rt.client() as client:
        history = client.get(f"ticket/{wiki['id']}/history", {"fields": "Type", "per_page": 50})
        create = next(h for h in history["items"] if h["Type"] == "Create")
        parts = client.get(f"transaction/{create['id']}/attachments", {"fields": "Content"})
    body = parts["items"][0]["Content"]
    assert "support_assignment is temporary in registry entry 'wiki'" in body
    assert "https://reports.example.edu/incidents/2026-10/incident-49.html" in body
    assert "Service owner and managers establish permanent support" in body

    # a second run, dry and applied, changes nothing
    code, out, err = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["leave"] * 7
    assert all(line.endswith("up to date") for line in out.splitlines())
    assert queue_tickets(fu_rt) == filed


def test_a_cleared_finding_gets_one_comment_not_a_close(
    fu_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    args = [*ARGS, "--config", str(config_file)]
    assert run([*args, "--apply"], fu_rt, monkeypatch, capsys)[0] == 0
    # Operations makes wiki's support permanent in the registry
    text = load_config(None).gaps.registry.read_text()
    wiki_entry = "support_team: [walt]\n    support_assignment: temporary"
    assert text.count(wiki_entry) == 1
    registry = tmp_path / "services.yaml"
    registry.write_text(
        text.replace(wiki_entry, "support_team: [walt]\n    support_assignment: permanent")
    )
    args += ["--registry", str(registry)]
    wiki = next(t for t in queue_tickets(fu_rt) if "service/wiki" in t["subject"])

    code, out, err = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines if not line.endswith("up to date")] == [
        ["update", f"#{wiki['id']}"]
    ]
    after = {t["id"]: t for t in queue_tickets(fu_rt)}
    assert after[wiki["id"]]["subject"] == wiki["subject"] + " (cleared)"
    with fu_rt.client() as client:
        assert client.get(f"ticket/{wiki['id']}")["Status"] == "new"  # not closed
    notes = comments(fu_rt, wiki["id"])
    assert len(notes) == 1 and notes[0].startswith("The finding no longer fires in the snapshot")

    code, out, _ = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert f"leave   #{wiki['id']}" in out and "cleared earlier; still clear" in out
    assert len(comments(fu_rt, wiki["id"])) == 1


def test_an_account_without_show_ticket_is_one_line(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, _, err = run(
        [*ARGS, "--config", str(config_file), "--apply"], fu_rt, monkeypatch, capsys,
        user="closeout-noshow",
    )  # fmt: skip
    assert code == 1
    last = err.splitlines()[-1]
    assert last == (
        f"error: RT at {fu_rt.url} does not show follow-up #{queue_tickets(fu_rt)[0]['id']} to "
        "this account: it needs ShowTicket on queue 'follow-ups', or every run files it again"
    )
    assert len(queue_tickets(fu_rt)) == 1  # it stopped after the first


def test_strict_link_acl_refusal_names_the_right(
    fu_db: Path, tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    server = start(fu_db, tmp_path / "strict", strict_links=True)
    try:
        code, _, err = run([*ARGS, "--config", str(config_file), "--apply"], server,
                           monkeypatch, capsys)  # fmt: skip
    finally:
        rt_server("stop", server.directory)
    assert code == 1
    assert err.splitlines()[-1].startswith(f"error: RT at {server.url} refused the RefersTo link")
    assert "needs ModifyTicket on queue 'follow-ups' and, unless RT's $StrictLinkACL is 0" in err


def test_the_pull_takes_the_follow_ups_and_the_reports_show_them(
    fu_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from review.pages.reports import incident_review_data, monthly_report_data, support_gaps_data

    assert run([*ARGS, "--config", str(config_file), "--apply"], fu_rt, monkeypatch, capsys)[0] == 0
    ids = {t["subject"].split("]")[0] + "]": t["id"] for t in queue_tickets(fu_rt)}
    snapshot = tmp_path / "snapshot"
    code, _, err = run(
        ["pull", "--since", "2026-08-01", "--until", "2026-11-01", "--snapshot", str(snapshot)],
        fu_rt, monkeypatch, capsys, user="dave",
    )  # fmt: skip
    assert code == 0, err
    assert "warning" not in err
    pulled = [json.loads(line) for line in (snapshot / "followups.jsonl").read_text().splitlines()]
    assert sorted(int(t["id"]) for t in pulled) == sorted(ids.values())

    review = incident_review_data(snapshot, 54)
    shown = review.findings.set_index("rule")
    # the follow-up refers to incident 54, so RT now links a follow-up to the temporary fix
    assert "temporary-fix-no-followup" not in shown.index
    adhoc = shown.loc["ad-hoc-support-team"]
    assert adhoc["followup"] == ids["[followup:ad-hoc-support-team:service/payroll-export]"]
    assert (adhoc["followup_status"], adhoc["followup_age_days"]) == ("new", 0)
    assert not adhoc["followup_overdue"]
    assert pd.isna(shown.loc["not-validated", "followup"])  # not asked for (--rule)
    assert review.followup_links == {"followup": rt_web(fu_rt) + "Ticket/Display.html?id={}"}

    gaps = support_gaps_data(snapshot)
    wiki = gaps.findings.loc[
        (gaps.findings["service"] == "wiki") & (gaps.findings["rule"] == "ad-hoc-support-team")
    ]
    assert set(wiki["ticket_id"]) >= {49, 57}
    assert set(wiki["followup"]) == {ids["[followup:ad-hoc-support-team:service/wiki]"]}

    monthly = monthly_report_data(snapshot, "2026-10")
    assert monthly.followups_by_service is not None
    counts = monthly.followups_by_service.set_index("service")
    assert counts.to_dict("index") == {
        "mail-lists": {"open": 2, "overdue": 0},
        "payroll-export": {"open": 2, "overdue": 0},
        "file-storage": {"open": 1, "overdue": 0},
        "vpn": {"open": 1, "overdue": 0},
        "wiki": {"open": 1, "overdue": 0},
    }
    assert monthly.summary.endswith("Follow-ups in RT: 7 open, 0 overdue (open more than 30 days).")


def rt_web(server: RTServer) -> str:
    return server.url.replace("REST/2.0/", "")


def test_a_queue_the_account_may_not_create_in_is_one_line(
    fu_rt: RTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # Everyone may create tickets on the test site, so a queue that does not exist stands in
    # for one without CreateTicket: RT answers both with the same 403.
    config = tmp_path / "other.toml"
    config.write_text('[followups]\nqueue = "no-such-queue"\n')
    code, _, err = run([*ARGS, "--config", str(config), "--apply"], fu_rt, monkeypatch, capsys)
    assert code == 1
    assert err.splitlines()[-1] == (
        f"error: RT at {fu_rt.url} refused to create a ticket in queue 'no-such-queue' (403): "
        "the queue does not exist or the account lacks CreateTicket on it ([followups] queue)"
    )
    assert queue_tickets(fu_rt) == []


def test_a_pull_that_cannot_see_the_follow_up_queue_says_so(
    fu_rt: RTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from review.closeout.followups import read_followups

    config = tmp_path / "other.toml"
    config.write_text('[followups]\nqueue = "no-such-queue"\n')
    snapshot = tmp_path / "snapshot"
    code, _, err = run(
        ["pull", "--since", "2026-10-01", "--until", "2026-11-01", "--snapshot", str(snapshot),
         "--config", str(config)],
        fu_rt, monkeypatch, capsys, user="dave",
    )  # fmt: skip
    assert code == 0
    assert (
        "warning: the follow-up queue 'no-such-queue' does not exist or this account may not see "
        "it (SeeQueue, ShowTicket): the snapshot holds no follow-ups ([followups] queue)\n"
    ) in err
    # said once: not logged as well (Python's last-resort handler would print it a second time)
    assert err.count("does not exist or this account may not see") == 1
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
    assert read_followups(snapshot) is None  # not an empty list: unknown, not "none"


def test_a_service_follow_up_gains_new_incidents_as_links_and_a_comment(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    rules = ["--rule", "ad-hoc-support-team", "--config", str(config_file)]
    # first from 2026-10-15: file-storage's ad-hoc team shows in incidents 56 and 62
    code, _, err = run(["follow-ups", *rules, "--since", "2026-10-15", "--apply"], fu_rt,
                       monkeypatch, capsys)  # fmt: skip
    assert code == 0, err
    storage = next(t for t in queue_tickets(fu_rt) if "service/file-storage" in t["subject"])
    assert storage["refers"] == [56, 62]
    # then from 2026-10-01: 47 and 51 join the same follow-up
    code, out, err = run(["follow-ups", *rules, "--since", "2026-10-01", "--apply"], fu_rt,
                         monkeypatch, capsys)  # fmt: skip
    assert code == 0, err
    number = f"#{storage['id']}"
    assert f"update  {number:<6} ad-hoc-support-team:service/file-storage  link #47, #51; " in out
    after = next(t for t in queue_tickets(fu_rt) if t["id"] == storage["id"])
    assert after["refers"] == [47, 51, 56, 62]
    assert after["subject"].endswith("ad-hoc-support-team, file-storage: incidents 47, 51, 56, 62")
    notes = comments(fu_rt, storage["id"])
    assert len(notes) == 1
    assert notes[0].startswith("The finding now also fires for incident(s) #47, #51 (the snapshot")
    assert "- incident #51, opened 2026-10-14" in notes[0]
    assert len(queue_tickets(fu_rt)) == 4  # mail-lists, file-storage, wiki, payroll-export


def _apply_at_once(server: RTServer, configs: list[Path], cwd: Path) -> list[tuple[int, str]]:
    """`review follow-ups --apply` in separate processes, started together; (status, stderr)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "RT_URL": server.url, "RT_USER": "closeout", "RT_PASSWORD": PASSWORD}
    env.pop("RT_TOKEN", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "review", *ARGS, "--config", str(config), "--apply"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for config in configs
    ]
    errors = [p.communicate(timeout=600)[1] for p in processes]
    return [(p.returncode, err) for p, err in zip(processes, errors, strict=True)]


def _keys(server: RTServer) -> list[str]:
    return sorted(t["subject"].split("]")[0] + "]" for t in queue_tickets(server))


def test_two_runs_at_once_file_every_follow_up_once(
    fu_rt: RTServer, config_file: Path, tmp_path: Path
) -> None:
    """Cron and a person on one machine: while one files, the other stops with one line (or,
    started after it, finds every follow-up filed)."""
    config_file.write_text('[paths]\nreports = "reports"\n' + config_file.read_text())
    outcomes = _apply_at_once(fu_rt, [config_file, config_file], tmp_path)
    assert _keys(fu_rt) == sorted(key.split("]")[0] + "]" for key in EXPECTED)  # 7, each once
    assert sorted(code for code, _ in outcomes) in ([0, 0], [0, 1]), outcomes
    busy = [err for code, err in outcomes if code == 1]
    lock = tmp_path / "reports" / ".followups.lock"
    assert busy in ([], [
        f"error: another `review follow-ups --apply` is running ({lock}); wait for it to "
        "finish and run again\n"
    ])  # fmt: skip


def test_a_follow_up_filed_by_another_run_after_the_plan_is_not_filed_again(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Runs on two machines (no shared lock): the tag is searched for again right before each
    create, so one that appeared since the plan was made is left alone."""
    from review.closeout import followups as fu

    filed_meanwhile = (
        "[followup:temporary-fix-no-followup:ticket/60] temporary-fix-no-followup, vpn: incident 60"
    )
    fetch = fu.fetch_followups
    planned: list[bool] = []

    def fetch_then_the_other_run_files(client: Any, queue: str) -> list[dict[str, Any]]:
        seen = fetch(client, queue)
        if not planned:  # the plan's read: the other machine files ticket/60 right after it
            planned.append(True)
            with fu_rt.client() as root:
                code, _ = root.send("POST", "ticket", {"Queue": queue, "Subject": filed_meanwhile})
            assert code == 201
        return seen

    monkeypatch.setattr(fu, "fetch_followups", fetch_then_the_other_run_files)
    code, out, err = run([*ARGS, "--config", str(config_file), "--apply"], fu_rt, monkeypatch,
                         capsys)  # fmt: skip
    assert code == 0, err
    assert "create  new    temporary-fix-no-followup:ticket/60" in out  # as planned
    other = next(t["id"] for t in queue_tickets(fu_rt) if t["subject"] == filed_meanwhile)
    assert (
        f"skipped temporary-fix-no-followup:ticket/60: #{other} carries its tag already "
        "(filed by another run since this one's plan)"
    ) in err.splitlines()
    assert _keys(fu_rt) == sorted(key.split("]")[0] + "]" for key in EXPECTED)


def test_a_duplicate_from_a_run_on_another_machine_at_the_same_moment_is_named(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The other machine files ticket/60 between this run's search for the tag and its create
    (RT has no unique subjects): the run says which ticket repeats which, later runs leave it."""
    from review.closeout.followups import apply  # where apply_step asks for the tag

    key = "temporary-fix-no-followup:ticket/60"
    subject = f"[followup:{key}] temporary-fix-no-followup, vpn: incident 60"
    search = apply.tagged

    def search_then_the_other_run_files(client: Any, queue: str, wanted: str) -> int | None:
        found = search(client, queue, wanted)
        if wanted == key:
            with fu_rt.client() as root:
                assert root.send("POST", "ticket", {"Queue": queue, "Subject": subject})[0] == 201
        return found

    monkeypatch.setattr(apply, "tagged", search_then_the_other_run_files)
    code, _, err = run([*ARGS, "--config", str(config_file), "--apply"], fu_rt, monkeypatch,
                       capsys)  # fmt: skip
    assert code == 0, err
    first, ours = [t["id"] for t in queue_tickets(fu_rt) if t["subject"] == subject]
    assert (
        f"warning: follow-up #{ours} repeats #{first} ({key}), filed by a run on another machine "
        f"at the same moment: resolve #{ours} as a duplicate (later runs leave it alone)"
    ) in err.splitlines()
    monkeypatch.undo()
    code, out, _ = run([*ARGS, "--config", str(config_file)], fu_rt, monkeypatch, capsys)
    assert f"leave   #{ours:<5} {key}  duplicate of #{first}" in out.splitlines()


def test_actions_a_review_lists_become_follow_ups_once(
    fu_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The team adds actions to the review of incident 54 (written "actions" section): each is
    filed once, owned and linked; one taken out of the review gets one comment, no close."""
    from review.pages import written

    out = tmp_path / "reports"
    path = written.review_path(out, 54)
    text = (
        "#### Actions the team adds\n\n"
        "- senior staff: make payroll-export's support permanent\n"
        "- Storage Team: alert when the export share is 90% full\n"
    )
    section = written.Section("actions", text)
    written.save(path, written.WrittenReview(ticket_id=54, sections=(section,)))
    args = ["follow-ups", "--rule", "action", "--since", "2026-10-01", "--out", str(out),
            "--config", str(config_file)]  # fmt: skip

    code, shown, err = run(args, fu_rt, monkeypatch, capsys)
    assert code == 0, err
    assert [line.split()[:2] for line in shown.splitlines()] == [["create", "new"]] * 2
    assert queue_tickets(fu_rt) == []

    assert run([*args, "--apply"], fu_rt, monkeypatch, capsys)[0] == 0
    filed = queue_tickets(fu_rt)
    assert sorted((t["subject"].split("] ", 1)[1], t["owner"], t["refers"]) for t in filed) == [
        ("action, payroll-export: incident 54: alert when the export share is 90% full",
         "sara", [54]),
        ("action, payroll-export: incident 54: make payroll-export's support permanent",
         "kim", [54]),
    ]  # fmt: skip

    code, shown, _ = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert code == 0 and [line.split()[0] for line in shown.splitlines()] == ["leave"] * 2
    assert queue_tickets(fu_rt) == filed

    # the team takes one out: one comment, the subject marked, never closed; then quiet
    written.save(path, written.WrittenReview(ticket_id=54, sections=(
        written.Section("actions", text.split("- Storage Team")[0]),)))  # fmt: skip
    code, shown, _ = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert code == 0
    storage = next(t for t in filed if "90% full" in t["subject"])
    assert f"update  #{storage['id']}" in shown
    assert comments(fu_rt, storage["id"])[0].startswith("The action is no longer in the review")
    code, shown, _ = run([*args, "--apply"], fu_rt, monkeypatch, capsys)
    assert "cleared earlier; still clear" in shown and len(comments(fu_rt, storage["id"])) == 1


def _comment_lost(real: Any) -> Any:
    """RTClient.send where RT never gets a comment: a proxy answers 502 in its place."""

    def send(client: Any, method: str, path: str, body: Any) -> tuple[int, Any]:
        return (502, None) if path.endswith("/comment") else real(client, method, path, body)

    return send


def _answer_lost(real: Any) -> Any:
    """RTClient.send where RT takes a comment but its answer is lost (a 502 on the way)."""

    def send(client: Any, method: str, path: str, body: Any) -> tuple[int, Any]:
        code, answer = real(client, method, path, body)
        return (502, None) if path.endswith("/comment") else (code, answer)

    return send


def _stopped(*_: Any) -> None:
    raise KeyboardInterrupt  # Ctrl-C, or the end of cron's timeout, between two writes


@pytest.mark.parametrize(
    "fault", ["killed before the subject", "killed before the link", "comment lost", "answer lost"]
)
def test_an_update_stopped_midway_posts_its_comment_exactly_once(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], fault: str,
) -> None:  # fmt: skip
    """An update is a comment, links and a new subject, each its own write. Before, a run
    stopped after the link (or whose comment got a 5xx) left the comment unposted for good:
    the re-run saw the links and subject and asked nothing more. Now the comment is posted
    first with a marker, and the re-run, whose plan is the same, finds it instead of posting
    it again: one comment in the end, whatever stopped the first run."""
    from review.closeout.followups import apply
    from review.rt.client import RTClient

    rules = ["--rule", "ad-hoc-support-team", "--config", str(config_file), "--apply"]
    code, _, err = run(["follow-ups", *rules, "--since", "2026-10-15"], fu_rt, monkeypatch,
                       capsys)  # fmt: skip
    assert code == 0, err
    storage = next(t for t in queue_tickets(fu_rt) if "service/file-storage" in t["subject"])
    with monkeypatch.context() as patched:
        if fault == "killed before the subject":
            patched.setattr(apply._Followup, "retitle", _stopped)
        elif fault == "killed before the link":
            patched.setattr(apply._Followup, "link", _stopped)
        else:
            wrap = _comment_lost if fault == "comment lost" else _answer_lost
            patched.setattr(RTClient, "send", wrap(RTClient.send))
        code, _, err = run(["follow-ups", *rules, "--since", "2026-10-01"], fu_rt, monkeypatch,
                           capsys)  # fmt: skip
    assert code in (1, 130), err  # an error line, or "interrupted"
    code, out, err = run(["follow-ups", *rules, "--since", "2026-10-01"], fu_rt, monkeypatch,
                         capsys)  # fmt: skip
    assert code == 0, err
    after = next(t for t in queue_tickets(fu_rt) if t["id"] == storage["id"])
    assert after["refers"] == [47, 51, 56, 62]
    assert after["subject"].endswith("ad-hoc-support-team, file-storage: incidents 47, 51, 56, 62")
    notes = comments(fu_rt, storage["id"])
    assert len(notes) == 1, notes
    assert notes[0].startswith("The finding now also fires for incident(s) #47, #51 (the snapshot")
    found = f"comment on #{storage['id']} found in RT (posted by an earlier run)"
    assert (found in err.splitlines()) == (fault in ("killed before the link", "answer lost"))
    code, out, _ = run(["follow-ups", *rules, "--since", "2026-10-01"], fu_rt, monkeypatch, capsys)
    assert code == 0 and all(line.endswith("up to date") for line in out.splitlines())
    assert len(comments(fu_rt, storage["id"])) == 1


@pytest.mark.parametrize("fault", ["killed before the subject", "comment lost"])
def test_a_follow_up_cleared_by_a_run_stopped_midway_gets_one_comment(
    fu_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], fault: str,
) -> None:  # fmt: skip
    """The comment saying a finding no longer fires, and " (cleared)" on the subject. Before,
    the subject went first: a comment lost to a 502 was never posted (the re-run saw the
    subject cleared)."""
    from review.closeout.followups import apply
    from review.rt.client import RTClient

    args = [*ARGS, "--config", str(config_file), "--apply"]
    assert run(args, fu_rt, monkeypatch, capsys)[0] == 0
    text = load_config(None).gaps.registry.read_text()
    wiki_entry = "support_team: [walt]\n    support_assignment: temporary"
    registry = tmp_path / "services.yaml"
    registry.write_text(
        text.replace(wiki_entry, "support_team: [walt]\n    support_assignment: permanent")
    )
    args += ["--registry", str(registry)]
    wiki = next(t for t in queue_tickets(fu_rt) if "service/wiki" in t["subject"])
    with monkeypatch.context() as patched:
        if fault == "comment lost":
            patched.setattr(RTClient, "send", _comment_lost(RTClient.send))
        else:
            patched.setattr(apply._Followup, "retitle", _stopped)
        assert run(args, fu_rt, monkeypatch, capsys)[0] in (1, 130)
    code, _, err = run(args, fu_rt, monkeypatch, capsys)
    assert code == 0, err
    after = next(t for t in queue_tickets(fu_rt) if t["id"] == wiki["id"])
    assert after["subject"] == wiki["subject"] + " (cleared)"
    notes = comments(fu_rt, wiki["id"])
    assert len(notes) == 1 and notes[0].startswith("The finding no longer fires in the snapshot")


def test_an_account_that_cannot_see_comments_is_told_and_never_posts_twice(
    fu_rt: RTServer, config_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Without ShowTicketComments the account cannot find its own comments: the run says so in
    one line naming the right and the queue, after writing the links and subject the comment
    goes with (so no run asks for that comment again)."""
    rules = ["--rule", "ad-hoc-support-team", "--config", str(config_file), "--apply"]
    blind = {"user": "closeout-blind"}
    code, _, err = run(["follow-ups", *rules, "--since", "2026-10-15"], fu_rt, monkeypatch,
                       capsys, **blind)  # fmt: skip
    assert code == 0, err
    storage = next(t for t in queue_tickets(fu_rt) if "service/file-storage" in t["subject"])
    code, _, err = run(["follow-ups", *rules, "--since", "2026-10-01"], fu_rt, monkeypatch,
                       capsys, **blind)  # fmt: skip
    assert code == 1
    assert err.splitlines()[-1] == (
        f"error: RT at {fu_rt.url} took the comment on follow-up #{storage['id']} but does not "
        "show it to this account: grant it ShowTicketComments on queue 'follow-ups' (without "
        "it, a run stopped between a comment and its links would post the comment again); run "
        "again then, for the rest of the plan"
    )
    after = next(t for t in queue_tickets(fu_rt) if t["id"] == storage["id"])
    assert after["refers"] == [47, 51, 56, 62] and len(comments(fu_rt, storage["id"])) == 1
    # the next run asks no comment of it again; it posts the next update's and stops likewise
    code, out, err = run(["follow-ups", *rules, "--since", "2026-10-01"], fu_rt, monkeypatch,
                         capsys, **blind)  # fmt: skip
    assert f"leave   #{storage['id']:<5} ad-hoc-support-team:service/file-storage  up to date" in (
        out.splitlines()
    )
    lists = next(t for t in queue_tickets(fu_rt) if "service/mail-lists" in t["subject"])
    assert code == 1 and f"took the comment on follow-up #{lists['id']} but" in err
    assert len(comments(fu_rt, storage["id"])) == len(comments(fu_rt, lists["id"])) == 1


# A `review follow-ups` process that is sent SIGKILL (the OOM killer, a reboot) when it comes
# to its first RefersTo link: nothing of it runs after that, not even its lock's release.
KILLED_BEFORE_THE_LINK = """
import os, signal, sys
from review.closeout.followups import apply
from review.cli import main

apply._Followup.link = lambda *_: os.kill(os.getpid(), signal.SIGKILL)
main(sys.argv[1:])
"""


def test_an_update_killed_with_sigkill_between_its_writes_posts_its_comment_once(
    fu_rt: RTServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import os
    import signal
    import subprocess
    import sys

    config_file.write_text('[paths]\nreports = "reports"\n' + config_file.read_text())
    rules = ["--rule", "ad-hoc-support-team", "--config", str(config_file), "--apply"]
    code, _, err = run(["follow-ups", *rules, "--since", "2026-10-15"], fu_rt, monkeypatch,
                       capsys)  # fmt: skip
    assert code == 0, err
    storage = next(t for t in queue_tickets(fu_rt) if "service/file-storage" in t["subject"])
    env = {**os.environ, "RT_URL": fu_rt.url, "RT_USER": "closeout", "RT_PASSWORD": PASSWORD}
    env.pop("RT_TOKEN", None)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_LINK, "follow-ups", *rules, "--since",
         "2026-10-01"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(comments(fu_rt, storage["id"])) == 1  # posted, then killed before the link
    assert next(t for t in queue_tickets(fu_rt) if t["id"] == storage["id"])["refers"] == [56, 62]

    code, _, err = run(["follow-ups", *rules, "--since", "2026-10-01"], fu_rt, monkeypatch,
                       capsys)  # fmt: skip
    assert code == 0, err
    assert f"comment on #{storage['id']} found in RT (posted by an earlier run)" in err
    after = next(t for t in queue_tickets(fu_rt) if t["id"] == storage["id"])
    assert after["refers"] == [47, 51, 56, 62]
    assert after["subject"].endswith("ad-hoc-support-team, file-storage: incidents 47, 51, 56, 62")
    assert len(comments(fu_rt, storage["id"])) == 1
