"""An adversary's first contact with a real site (tests/rt/realsite.py, a real RT 5): its own
lifecycle, renamed mid-history, queues with spaces, accents and a rename, a field with several
values, a merge, a deletion, a ticket moved where the pull does not look, RT in Europe/Berlin
and staff in their own zones. Every number is held against one worked out by hand from the
history the site wrote; where the data cannot answer, the kit must say so.

The built database is cached under data/cache/rt-realsite/ keyed by the fixture files and the
builder, like the replayed one of conftest.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from review.cli import main
from review.pages import reports
from review.settings.config import cache_dir
from scenarios.replay import ROOT_PASSWORD, rt_server
from tests.prerequisites import REPLAY, RT, require
from tests.rt import realsite

WINDOW = ["--since", "2026-07-31", "--until", "2026-12-02"]
QUEUES = ["--queue", "Service Desk", "--queue", "App Dev", "--queue", "Infra Networks"]
# The site's config, as its operator completes `review init`'s draft.
CONFIG = """\
[queues]
ops = ["Service Desk", "Infra Networks"]
developer = ["App Dev"]
[statuses]
initial = "triage"
active = ["investigating", "waiting"]
inactive = ["closed", "cancelled", "resolved"]
rejected = ["cancelled"]
[fields]
service = "Affected service"
service_owner = ""
business_owner = ""
classification = "Severity"
resolution_type = "Fix"
validated_by = ""
root_cause = ""
[classification]
urgent_outage = "Sev1"
urgent_degraded = "Sev2"
handoff = "Change"
[resolution]
permanent = "Permanent"
temporary = "Stopgap"
"""


def _key() -> str:
    digest = hashlib.sha256()
    for path in (*(realsite.FIXTURE / n for n in realsite.FILES), Path(realsite.__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def realsite_db() -> Path:
    """The site's RT database, written once under a fake clock, then cached."""
    require(*RT)
    cache = cache_dir() / "rt-realsite" / _key()
    database = cache / "rt.sqlite"
    if database.exists():
        return database
    require(*REPLAY)
    build = Path(tempfile.mkdtemp(prefix="rt-realsite-"))
    try:
        realsite.build(build / "rt")
        cache.mkdir(parents=True, exist_ok=True)
        staging = cache / f"rt.sqlite.{os.getpid()}"
        shutil.copy2(build / "rt" / "rt.sqlite", staging)
        staging.replace(database)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return database


@pytest.fixture(scope="module")
def site_url(realsite_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("rt-realsite")
    port = realsite.serve(realsite_db, directory)
    yield f"http://127.0.0.1:{port}/"
    rt_server("stop", directory)


def review(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def as_root(site_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RT's address and root's login in the environment; the site's config written."""
    monkeypatch.setenv("RT_URL", site_url)
    monkeypatch.setenv("RT_USER", "root")
    monkeypatch.setenv("RT_PASSWORD", ROOT_PASSWORD)
    monkeypatch.delenv("RT_TOKEN", raising=False)
    config = tmp_path / "site.toml"
    config.write_text(CONFIG)
    return config


@pytest.fixture
def pulled(as_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    snapshot = tmp_path / "snapshot"
    code, _, err = review(
        ["pull", *WINDOW, *QUEUES, "--snapshot", str(snapshot), "--config", str(as_root)], capsys
    )
    assert code == 0, err
    return snapshot


def _hours_since(start: str, snapshot: Path) -> float:
    """Hours from `start` to the snapshot's pull, as the metrics compute them."""
    pulled = json.loads((snapshot / "manifest.json").read_text())["pulled_at"]
    return (datetime.fromisoformat(pulled) - datetime.fromisoformat(start)).total_seconds() / 3600


def _rows(text: str) -> dict[int, dict[str, str]]:
    return {int(r["ticket_id"]): r for r in csv.DictReader(io.StringIO(text))}


def test_metrics_equal_the_hand_computed_ones(
    pulled: Path, as_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = review(
        ["metrics", "--snapshot", str(pulled), "--config", str(as_root), "--format", "csv"], capsys
    )
    assert code == 0
    rows = _rows(out)
    # 6 is in Sécurité (not pulled), 8 was merged into 7, 9 was deleted: RT's searches
    # leave the last two out, as they should be
    assert sorted(rows) == [1, 2, 3, 4, 5, 7, 10, 11, 12, 13]
    columns = ("time_to_triage_h", "handoff_count", "time_in_handoff_h", "time_to_resolve_h",
               "reopen_count", "max_update_gap_h")  # fmt: skip
    got = {t: tuple(rows[t][c] for c in columns) for t in rows}
    assert got == {
        # closed as 'resolved' before the lifecycle renamed it 'closed'
        1: ("0.5", "0", "", "96.0", "0", "96.0"),
        # owner 10:30; hand-off 14:00 -> resolved next day 10:00; replies 11:00
        2: ("0.5", "1", "20.0", "24.0", "0", "23.0"),
        # triaged by a status move out of 'triage' at 09:45 (the requestor's 10:00 reply is
        # not staff); staff reply 12:00, resolved 13:00
        3: ("0.75", "0", "", "4.0", "0", "3.0"),
        # reopened by its requestor a day later: 08:00 -> resolved 09:00, reopened next day
        # 09:00 -> resolved 11:00; the day it was closed is no silence
        4: ("0.25", "0", "", "27.0", "1", "2.0"),
        # a hand-off from Networks, renamed Infra Networks since: RT records the queue by id
        5: ("0.3333333333333333", "1", "24.0", "25.0", "0", "25.0"),
        # 8 merged into it at 10:30; owner 10:40; closed 15:00
        7: ("0.6666666666666666", "0", "", "5.0", "0", "5.0"),
        10: ("0.5", "0", "", "0.5", "0", "0.5"),
        # opened by Zoë; hand-off 12:00 -> closed two days later
        11: ("1.0", "1", "48.0", "50.0", "0", "48.5"),
        # its Created is after its Resolved: nothing is measured (a warning says so)
        12: ("", "0", "", "", "", ""),
        13: ("0.5", "0", "", "", "0", rows[13]["max_update_gap_h"]),
    }
    # still open: its silence runs from its opening (no staff reply) to the pull
    assert float(rows[13]["max_update_gap_h"]) == pytest.approx(
        _hours_since("2026-11-25T10:00:00Z", pulled), abs=1e-9
    )
    assert rows[11]["subject"] == "Überweisung fehlgeschlagen — 支払い"
    assert rows[5]["queue"] == "App Dev"


def test_a_ticket_moved_to_a_queue_not_pulled_is_said_missing(
    pulled: Path, as_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ticket 6 was opened in Service Desk in November and moved to Sécurité: the window's
    search, which asks about the queue a ticket is in now, cannot see it, so November's
    numbers lack it. The pull says so, records it, and every command warns."""
    coverage = json.loads((pulled / "manifest.json").read_text())["coverage"]
    assert coverage["moved_out"] == {"6": "Sécurité"}
    code, out, _ = review(
        ["check", "--no-rt", "--snapshot", str(pulled), "--config", str(as_root)], capsys
    )
    assert code == 1
    assert (
        "mismatch: tickets of the pull's window that left its queues for a queue the pull did "
        "not take on ticket(s) 6 (ticket 6 is in Sécurité): they are in no number: add that "
        "queue to [queues] (or review pull --queue) and pull again"
    ) in out.splitlines()
    code, _, err = review(
        ["stats", "--month", "2026-11", "--snapshot", str(pulled), "--config", str(as_root)],
        capsys,
    )
    assert code == 0
    assert "ticket 6 is in Sécurité" in err
    # November's report, whose numbers lack it, says so too (its own incidents are 7-13)
    november = reports.monthly_report_data(str(pulled), "2026-11", str(as_root))
    assert "moved-out" in [p.kind for p in november.problems]
    # with Sécurité pulled too, it is counted and nothing is said
    snapshot = pulled.parent / "with-securite"
    code, _, err = review(
        ["pull", *WINDOW, *QUEUES, "--queue", "Sécurité", "--snapshot", str(snapshot),
         "--config", str(as_root)], capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "left the pulled queues" not in err
    assert json.loads((snapshot / "manifest.json").read_text())["coverage"]["moved_out"] == {}
    code, out, _ = review(
        ["metrics", "--snapshot", str(snapshot), "--config", str(as_root), "--format", "csv"],
        capsys,
    )
    # owner 10:10, reply 10:20, closed in Sécurité the next day at 10:00
    assert _rows(out)[6]["time_to_resolve_h"] == "24.0"


def test_the_pull_says_what_left_the_queues(
    as_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = review(
        ["pull", *WINDOW, *QUEUES, "--snapshot", str(tmp_path / "s"), "--config", str(as_root)],
        capsys,
    )
    assert code == 0
    assert (
        "warning: 1 ticket(s) of the window left the pulled queues for a queue the pull does "
        "not take (ticket 6 is in Sécurité): they are in no number; add that queue to [queues] "
        "(or --queue) and pull again"
    ) in err.splitlines()


def test_init_does_not_call_a_renamed_status_active(
    as_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'resolved' was renamed 'closed' on November 1st: October's five tickets still hold it,
    and no lifecycle has it now, so RT counts it neither inactive nor active. init said "RT
    counts it active (TicketSQL __Active__)" and drafted active = ["investigating",
    "resolved"]: October's incidents would never have been resolved. RT's dates say it is
    inactive (RT set Resolved as the five entered it)."""
    output = tmp_path / "review.toml"
    code, _, err = review(["init", "--since", "2026-08-01", "--output", str(output)], capsys)
    assert code == 0, err
    text = output.read_text()
    assert (
        "#   resolved: 5 now, 5 held it; inactive: no lifecycle of its queues has it now (RT "
        "counts it neither active nor inactive); RT set Resolved as 5 tickets entered it"
    ) in text.splitlines()
    assert (
        "#   closed: 4 now, 4 held it; inactive: RT counts it inactive (TicketSQL __Inactive__)"
    ) in text.splitlines()
    assert (
        "active = [\"investigating\"]  # RT's records or the kit's lifecycle name them active"
        in text
    )
    assert 'inactive = ["resolved", "closed", "cancelled"]  # RT counts them inactive' in text
    assert 'initial = "triage"  # tickets start in it' in text


def test_a_service_field_with_several_values_is_said(
    pulled: Path, as_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ticket 3 affects Payroll and VPN ('Affected service' is a multi-value field in RT):
    the registry cannot be asked about one service, so its registry rules do not flag 'Payroll,
    VPN' as a service nobody owns; they are not observable, and the commands say why."""
    code, out, err = review(
        ["gaps", "--snapshot", str(pulled), "--config", str(as_root), "--format", "csv"], capsys
    )
    assert code == 0
    rules = {r["rule"] for r in csv.DictReader(io.StringIO(out)) if r["ticket_id"] == "3"}
    assert rules == {"temporary-fix-no-followup", "no-owner-at-close"}
    assert (
        "warning: mismatch: custom fields the kit reads as one value that hold several on "
        "ticket(s) 3 (ticket 3's Affected service holds 2 values: Payroll, VPN): the kit reads "
        "one value per incident"
    ) in err
    code, out, _ = review(
        ["support-gaps", "--snapshot", str(pulled), "--config", str(as_root), "--format", "csv"],
        capsys,
    )
    assert code == 0, out
    incidents = {r["service"]: r["incidents"] for r in csv.DictReader(io.StringIO(out))}
    # ticket 3 counts under Payroll (with ticket 2) and under VPN (with ticket 7, which ticket 8
    # was merged into; the registry's vpn names it); before: a 'Payroll, VPN' row, 1 and 1
    assert "Payroll, VPN" not in incidents
    assert (incidents["Payroll"], incidents["vpn"]) == ("2", "2")


def test_recurrences_without_a_root_cause_field_are_not_observable(
    pulled: Path, as_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The site records no root cause (its 'Cause' field was disabled; [fields] root_cause
    is ""): the per-service recurrences cannot be 0, they cannot be known."""
    code, out, _ = review(
        ["support-gaps", "--snapshot", str(pulled), "--config", str(as_root), "--format", "csv"],
        capsys,
    )
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["recurrences"] for r in rows} == {"not observable"}


def test_a_ticket_deleted_since_the_last_pull_leaves_the_snapshot(
    realsite_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Ticket 13 (still open) is deleted in RT after a pull. RT's ticket searches never
    return a deleted ticket, not even for its LastUpdated moving, so the nightly pull found
    nothing changed and kept it for good: an incident of November that no longer exists."""
    port = realsite.serve(realsite_db, tmp_path / "rt")
    try:
        url = f"http://127.0.0.1:{port}/"
        monkeypatch.setenv("RT_URL", url)
        monkeypatch.setenv("RT_USER", "root")
        monkeypatch.setenv("RT_PASSWORD", ROOT_PASSWORD)
        (tmp_path / "site.toml").write_text(CONFIG)
        args = ["pull", *WINDOW, *QUEUES, "--snapshot", str(tmp_path / "s"), "--config",
                str(tmp_path / "site.toml")]  # fmt: skip
        assert review(args, capsys)[0] == 0
        site = realsite.Site(url, lambda _: None)
        try:
            site.put("2026-12-01 00:00", "root", 13, Status="deleted")
        finally:
            site.close()
        time.sleep(6)  # older than the pull's 5 s margin
        code, _, err = review(args, capsys)
        assert code == 0, err
        tickets = [json.loads(line) for line in (tmp_path / "s" / "tickets.jsonl").open()]
        assert sorted(t["id"] for t in tickets) == [1, 2, 3, 4, 5, 7, 10, 11, 12]
        history = (tmp_path / "s" / "transactions.jsonl").read_text().splitlines()
        assert not [t for t in map(json.loads, history) if t["ObjectId"] == "13"]
        assert "incremental pull: 9 tickets" in err
    finally:
        rt_server("stop", tmp_path / "rt")


def test_history_hidden_from_the_account_is_said_by_every_command(
    as_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The analyst may not read comments in App Dev (ticket 11's comment of 17 November):
    the pull warned, then the reports made from its snapshot said nothing."""
    monkeypatch.setenv("RT_USER", "analyst")
    monkeypatch.setenv("RT_PASSWORD", realsite.PASSWORD)
    snapshot = tmp_path / "analyst"
    args = ["--snapshot", str(snapshot), "--config", str(as_root)]
    code, _, err = review(["pull", *WINDOW, *args], capsys)
    assert code == 0, err
    assert "lacks ShowTicketComments" in err
    rows = [json.loads(line) for line in (snapshot / "transactions.jsonl").open()]
    assert not [t for t in rows if t["Type"] == "Comment"]
    line = (
        "mismatch: RT hid rows of the pulled tickets' histories from the pull's account (most "
        "likely comments: it lacks ShowTicketComments or ShowOutgoingEmail): what reads "
        "comments (the hand-off OLA, the reviews' communication logs and key moments) is short "
        "of them: grant those rights and pull again with --full"
    )
    code, _, err = review(["metrics", *args, "--format", "csv"], capsys)
    assert code == 0
    assert f"warning: {line}" in err.splitlines()
    code, out, _ = review(["check", "--no-rt", *args], capsys)
    assert code == 1
    assert line in out.splitlines()
