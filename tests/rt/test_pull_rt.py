"""`review pull` against a real RT 5 holding the replayed scenarios."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import pandas as pd
import pytest

from review.cli import main
from review.context import Context
from review.errors import RTUnreachable
from review.rt.client import RTClient, RTNotFound
from review.rt.pull import PullReport, Window, pull
from review.settings.config import load_config, source_dir
from review.snapshot import DATA_FILES, load_snapshot, read_jsonl
from scenarios.generate import generate_snapshot
from scenarios.replay import AUDITOR, PASSWORD, rt_server

if TYPE_CHECKING:
    from conftest import RTServer

CONFIG = load_config()
SINCE, UNTIL = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
WINDOW = Window(SINCE, UNTIL, CONFIG.queues.ops + CONFIG.queues.developer, CONFIG.statuses.inactive)
PULL_ARGS = ["pull", "--since", "2026-08-01", "--until", "2026-11-01"]


def do_pull(server: RTServer, target: Path, user: str = "root", password: str = "password",
            **kw: Any) -> PullReport:  # fmt: skip
    with server.client(user, password) as client:
        return pull(client, WINDOW, target, progress=False, **kw)


@pytest.fixture(scope="session")
def pulled(rt: RTServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PullReport]:
    target = tmp_path_factory.mktemp("pulled") / "snapshot"
    return target, do_pull(rt, target)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_snapshot(
        source_dir("data/scenarios"), tmp_path_factory.mktemp("generated") / "snapshot"
    )


def closed_in_window(snapshot: Path) -> set[int]:
    """Tickets of a snapshot that reached an inactive status inside the window."""
    return {
        t["id"]
        for t in read_jsonl(snapshot / "tickets.jsonl")
        if t["Status"] in CONFIG.statuses.inactive and "2026-08-01" <= t["Resolved"] < "2026-11-01"
    }


def test_metrics_equal_the_generators_incident_by_incident(
    pulled: tuple[Path, PullReport], generated: Path
) -> None:
    snapshot, report = pulled
    assert (report.mode, report.history, report.warnings) == ("full", "bulk", [])
    wanted = closed_in_window(generated)
    got = Context(load_snapshot(snapshot), CONFIG).metrics.set_index("ticket_id")
    expected = Context(load_snapshot(generated), CONFIG).metrics.set_index("ticket_id")
    assert set(got.index) == wanted
    pd.testing.assert_frame_equal(got.sort_index(), expected.loc[sorted(wanted)].sort_index())


def shapes(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every key of a file's objects with the JSON types its value takes (nested keys too)."""

    def skeleton(value: Any) -> Any:
        if isinstance(value, dict):
            return tuple(sorted((k, skeleton(v)) for k, v in value.items() if k != "values"))
        if isinstance(value, list):
            return "list"
        return type(value).__name__

    found: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            if key != "_hyperlinks":
                found.setdefault(key, set()).add(repr(skeleton(value)))
    return found


@pytest.mark.parametrize("name", ["tickets.jsonl", "transactions.jsonl"])
def test_json_shapes_match_the_generators(
    pulled: tuple[Path, PullReport], generated: Path, name: str
) -> None:
    assert shapes(read_jsonl(pulled[0] / name)) == shapes(read_jsonl(generated / name))


def sla_dates(snapshot: Path) -> dict[int, list[tuple[str, str, str, str]]]:
    """Each ticket's `Set Starts`/`Set Due` rows by RT_System (time, field, old, new) in order,
    then its SLA, Starts and Due fields."""
    found: dict[int, list[tuple[str, str, str, str]]] = {}
    for txn in sorted(read_jsonl(snapshot / "transactions.jsonl"), key=lambda t: int(t["id"])):
        if txn["Type"] == "Set" and txn["Field"] in ("Starts", "Due"):
            assert txn["Creator"]["id"] == "RT_System"
            row = (txn["Created"], txn["Field"], txn["OldValue"], txn["NewValue"])
            found.setdefault(int(txn["ObjectId"]), []).append(row)
    for ticket in read_jsonl(snapshot / "tickets.jsonl"):
        fields = ("fields", ticket["SLA"], ticket["Starts"], ticket["Due"])
        found.setdefault(ticket["id"], []).append(fields)
    return found


def test_sla_dates_equal_the_generators(pulled: tuple[Path, PullReport], generated: Path) -> None:
    """RT, with site.yaml's levels in RT_SiteConfig.d and SLA on in every queue, wrote the
    same Starts and Due rows the generator wrote from review.analysis.sla's replay of SLA_SetDue."""
    got, expected = sla_dates(pulled[0]), sla_dates(generated)
    assert got == {ticket: expected[ticket] for ticket in got}
    assert sum(row[1] == "Due" for rows in got.values() for row in rows) > len(got)


def test_review_sla_with_default_config_equals_the_generators(
    pulled: tuple[Path, PullReport], generated: Path
) -> None:
    """With no levels in the config, `review sla` reads RT's SLA field and Due history alone."""
    got = Context(load_snapshot(pulled[0]), CONFIG).sla.set_index("ticket_id")
    expected = Context(load_snapshot(generated), CONFIG).sla.set_index("ticket_id")
    assert set(got["source"]) == {"rt"}
    assert set(got["sla"]) == {"standard", "urgent"}
    pd.testing.assert_frame_equal(got, expected.loc[got.index])


def test_manifest_names_the_server_without_credentials(pulled: tuple[Path, PullReport],
                                                       rt: RTServer) -> None:  # fmt: skip
    manifest = json.loads((pulled[0] / "manifest.json").read_text())
    assert manifest["source"] == rt.url
    assert manifest["format"] == 1
    assert manifest["counts"]["tickets.jsonl"] == len(closed_in_window(pulled[0]))


def test_merged_tickets_and_foreign_transactions_are_left_out(
    pulled: tuple[Path, PullReport],
) -> None:
    tickets = {t["id"] for t in read_jsonl(pulled[0] / "tickets.jsonl")}
    assert 32 not in tickets  # storage-quota-merged-duplicate, merged into ticket 31
    assert {int(t["ObjectId"]) for t in read_jsonl(pulled[0] / "transactions.jsonl")} <= tickets
    merge_rows = [
        t for t in read_jsonl(pulled[0] / "transactions.jsonl") if t["Field"] == "MergedInto"
    ]
    assert [(t["ObjectId"], t["NewValue"]) for t in merge_rows] == [
        ("31", "fsck.com-rt://example/ticket/31")
    ]


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            **env: str) -> tuple[int, str]:  # fmt: skip
    for key in ("RT_URL", "RT_USER", "RT_PASSWORD", "RT_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exited:
        main(args)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


def test_wrong_password_is_one_clear_line(
    rt: RTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, output = run_cli(
        [*PULL_ARGS, "--snapshot", str(tmp_path / "s")], monkeypatch, capsys,
        RT_URL=rt.url, RT_USER="root", RT_PASSWORD="Wr0ng-Secret-17",
    )  # fmt: skip
    assert code == 1
    assert output == (
        f"error: RT at {rt.url} rejected the credentials (401): check RT_USER and RT_PASSWORD\n"
    )
    assert not (tmp_path / "s").exists()


def test_unknown_queue_is_one_clear_line(
    rt: RTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, output = run_cli(
        [*PULL_ARGS, "--queue", "ops-help", "--queue", "no-such-queue",
         "--snapshot", str(tmp_path / "s")],
        monkeypatch, capsys, RT_URL=rt.url, RT_USER="root", RT_PASSWORD="password",
    )  # fmt: skip
    assert code == 1
    assert output.startswith(f"error: RT at {rt.url} has no queue 'no-such-queue' visible")
    assert output.count("\n") == 1


def test_cli_pull_reports_what_it_did(
    rt: RTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, output = run_cli(
        [*PULL_ARGS, "--queue", "dev-network", "--snapshot", str(tmp_path / "s")],
        monkeypatch, capsys, RT_URL=rt.url.replace("/REST/2.0/", "/"), RT_USER="dave",
        RT_PASSWORD=PASSWORD,
    )  # fmt: skip
    tickets = read_jsonl(tmp_path / "s" / "tickets.jsonl")
    assert code == 0
    assert {t["Queue"]["id"] for t in tickets} == {"7"}  # dev-network is the fifth queue
    assert output.startswith(f"full pull: {len(tickets)} tickets, ")


def test_credentials_never_reach_output_or_files(
    rt: RTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level("DEBUG")
    url_with_secret = rt.url.replace("http://", f"http://dave:{PASSWORD}@")
    code, output = run_cli(
        [*PULL_ARGS, "--snapshot", str(tmp_path / "s")], monkeypatch, capsys,
        RT_URL=url_with_secret, RT_USER="dave", RT_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert code == 0
    written = "".join(p.read_text() for p in (tmp_path / "s").iterdir())
    for text in (output, caplog.text, written):
        assert PASSWORD not in text
    basic = httpx2.BasicAuth("dave", PASSWORD)
    token = next(basic.auth_flow(httpx2.Request("GET", rt.url))).headers["Authorization"]
    assert token.split()[1] not in caplog.text + written


def test_server_stopped_mid_pull_keeps_the_previous_snapshot(
    own_rt: RTServer, tmp_path: Path
) -> None:
    target = tmp_path / "snapshot"
    do_pull(own_rt, target)
    before = {name: (target / name).read_bytes() for name in (*DATA_FILES, "manifest.json")}
    with own_rt.client(delays=(0.1, 0.1), refused_delays=(0.1, 0.1)) as client:
        client.on_request(lambda n: rt_server("stop", own_rt.directory) if n == 4 else None)
        with pytest.raises(RTUnreachable, match=r"could not be reached .* after 3 tries"):
            pull(client, WINDOW, target, full=True, progress=False)
    after = {name: (target / name).read_bytes() for name in before}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rt", "snapshot"]
    assert len(load_snapshot(target).tickets) == len(closed_in_window(target))


def test_incremental_pull_fetches_only_the_edited_ticket(own_rt: RTServer, tmp_path: Path) -> None:
    target = tmp_path / "snapshot"
    first = do_pull(own_rt, target)
    with own_rt.client() as client:
        answer = client.session.put(
            own_rt.url + "ticket/2", json={"CustomFields": {"Root Cause": "edited by the test"}}
        ).json()
    assert answer == ["Root Cause session store full changed to edited by the test"]
    time.sleep(6)  # so that the edit is older than the 5 s margin of the pull after next
    second = do_pull(own_rt, target)
    # queues/all, the LastUpdated search, one page of ticket 2's transactions, the search for
    # merges, user root, the search for tickets that left the queues
    assert (second.mode, second.changed, second.requests) == ("incremental", 1, 6)
    assert second.tickets == first.tickets
    assert second.transactions == first.transactions + 1
    rows = [t for t in read_jsonl(target / "transactions.jsonl") if t["ObjectId"] == "2"]
    assert (rows[-1]["Type"], rows[-1]["OldValue"], rows[-1]["NewValue"]) == (
        "CustomField", "session store full", "edited by the test",
    )  # fmt: skip
    assert rows[-1]["Creator"]["id"] == "root"
    kept = (target / "transactions.jsonl").read_bytes()
    third = do_pull(own_rt, target)
    # queues/all, the LastUpdated search, the search for merges and deletions
    assert (third.mode, third.changed, third.requests) == ("unchanged", 0, 3)
    assert (target / "transactions.jsonl").read_bytes() == kept


@pytest.mark.parametrize("history", ["bulk", "per-ticket"])
def test_incremental_pull_drops_a_ticket_merged_since(
    own_rt: RTServer, tmp_path: Path, history: str
) -> None:
    target = tmp_path / "snapshot"
    first = do_pull(own_rt, target, history=history)
    with own_rt.client() as client:
        answer = client.session.put(own_rt.url + "ticket/3", json={"MergeInto": 2}).json()
    assert answer == ["Merge Successful"]
    second = do_pull(own_rt, target, history=history)
    tickets = {t["id"] for t in read_jsonl(target / "tickets.jsonl")}
    objects = {int(t["ObjectId"]) for t in read_jsonl(target / "transactions.jsonl")}
    assert (second.mode, second.tickets) == ("incremental", first.tickets - 1)
    assert 3 not in tickets | objects and 2 in tickets


def test_per_ticket_fallback_gives_the_same_snapshot(
    rt: RTServer, pulled: tuple[Path, PullReport], tmp_path: Path
) -> None:
    report = do_pull(rt, tmp_path / "s", history="per-ticket")
    assert report.history == "per-ticket"
    for name in DATA_FILES:
        assert (tmp_path / "s" / name).read_bytes() == (pulled[0] / name).read_bytes(), name
    assert report.requests > pulled[1].requests + report.tickets - 20


def test_auto_falls_back_when_rt_has_no_bulk_search(
    rt: RTServer, pulled: tuple[Path, PullReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_page = RTClient.page

    def old_rt(self: RTClient, path: str, params: Any, page: int = 1) -> Any:
        if path == "transactions":  # as RT < 5.0.2 answers
            raise RTNotFound("no bulk search")
        return real_page(self, path, params, page)

    monkeypatch.setattr(RTClient, "page", old_rt)
    report = do_pull(rt, tmp_path / "s")
    assert report.history == "per-ticket"
    assert (tmp_path / "s" / "transactions.jsonl").read_bytes() == (
        pulled[0] / "transactions.jsonl"
    ).read_bytes()


def test_account_without_show_ticket_comments_is_warned(
    rt: RTServer, pulled: tuple[Path, PullReport], tmp_path: Path
) -> None:
    report = do_pull(rt, tmp_path / "s", user=AUDITOR, password=PASSWORD)
    comments = [t for t in read_jsonl(pulled[0] / "transactions.jsonl") if t["Type"] == "Comment"]
    seen = read_jsonl(tmp_path / "s" / "transactions.jsonl")
    assert comments and not [t for t in seen if t["Type"] == "Comment"]
    assert report.tickets == pulled[1].tickets
    assert len(report.warnings) == 1
    assert "lacks ShowTicketComments" in report.warnings[0]
    # kept in the manifest: every command says it, not only the pull
    coverage = json.loads((tmp_path / "s" / "manifest.json").read_text())["coverage"]
    assert coverage["hidden_history"] is True


def test_an_open_ticket_created_in_the_window_is_pulled_and_kept_current(
    own_rt: RTServer, tmp_path: Path
) -> None:
    target = tmp_path / "snapshot"
    with own_rt.client() as client:
        answer = client.session.put(own_rt.url + "ticket/2", json={"Status": "open"}).json()
    assert answer == ["Ticket 2: Status changed from 'resolved' to 'open'"]
    do_pull(own_rt, target, full=True)
    tickets = {t["id"]: t for t in read_jsonl(target / "tickets.jsonl")}
    assert tickets[2]["Status"] == "open"  # created 2026-08, still open: an incident of August
    assert {t["ObjectId"] for t in read_jsonl(target / "transactions.jsonl")} >= {"2"}
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["coverage"] == {
        "since": "2026-08-01T00:00:00Z", "until": "2026-11-01T00:00:00Z",
        "queues": list(WINDOW.queues), "closed_in_window": True, "opened_in_window": True,
        "moved_out": {}, "hidden_history": False,
    }  # fmt: skip
    with own_rt.client() as client:  # it changes in RT: the next, incremental, pull refreshes it
        client.session.put(own_rt.url + "ticket/2", json={"Status": "stalled"}).json()
    time.sleep(6)  # older than the 5 s margin
    again = do_pull(own_rt, target)
    assert (again.mode, again.changed) == ("incremental", 1)
    assert {t["id"]: t for t in read_jsonl(target / "tickets.jsonl")}[2]["Status"] == "stalled"
