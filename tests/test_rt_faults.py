"""Every fault an RT server (or what stands in front of it) can show ends in one bounded line.

A fault-injecting HTTP server of the test's own on 127.0.0.1 (tests/fault_server.py, one
thread per connection) plays each fault: a trickle of one byte at a time, a hang, text where
JSON belongs, JSON of the wrong shape, redirects, 429/5xx with odd Retry-After values, a page
of search results served twice. Nothing here sleeps
for the retry schedule: the client records the waits it would make instead.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pandas as pd
import pytest

from review.cli import main
from review.errors import RTError, RTUnreachable
from review.rt.client import REFUSED_DELAYS, RETRY_DELAYS, Connection, RTClient
from tests import fault_server
from tests.edited import unbacked_lines
from tests.fault_server import FakeRT, FaultServer, answer


@pytest.fixture
def server() -> Iterator[FaultServer]:
    fault, thread = fault_server.start()
    yield fault
    fault_server.stop(fault, thread)


def client_for(server: FaultServer, waits: list[float], **kw: Any) -> RTClient:
    conn = Connection(url=server.url, user="u", password="pw", timeout=kw.pop("timeout", 1.0))
    return RTClient(conn, sleep=waits.append, **kw)


PAGE = {"items": [], "page": 1, "per_page": 100, "pages": 1, "total": 0, "count": 0}


@pytest.mark.parametrize("fault", ["trickle-body", "trickle-headers", "hang"])
def test_a_slow_or_silent_server_ends_at_the_deadline(server: FaultServer, fault: str) -> None:
    server.script = [fault]
    waits: list[float] = []
    with client_for(server, waits, delays=(0.0,)) as client, pytest.raises(RTUnreachable) as caught:
        client.get("queues/all")
    assert str(caught.value) == (
        f"RT at {server.url} did not answer in full within 1 s after 2 tries: "
        "check RT_URL and that RT is running"
    )
    assert (len(server.paths), waits) == (2, [0.0])


@pytest.mark.parametrize("fault", ["trickle-body", "trickle-headers", "hang"])
def test_a_write_whose_answer_trickles_ends_at_the_deadline(
    server: FaultServer, fault: str
) -> None:
    """A write (the follow-ups' creates and comments, a publication) had httpx's per-read
    timeout only: a server sending a byte every 0.25 s held it until the server gave up
    (20 s here; forever on a real one). Now the whole answer is due within the timeout, as
    a GET's is; never retried, and said as possibly done (the re-run finds what was)."""
    server.script = [fault]
    waits: list[float] = []
    started = time.monotonic()
    with client_for(server, waits) as client, pytest.raises(RTUnreachable) as caught:
        client.send("POST", "ticket/7/comment", {"Content": "c", "ContentType": "text/plain"})
    took = time.monotonic() - started
    assert str(caught.value) == (
        f"RT at {server.url} did not answer POST ticket/7/comment in full within 1 s; it may "
        "have been done all the same: run again once RT answers (the re-run finds what was "
        "written and does not write it twice)"
    )
    assert took < fault_server.GIVE_UP / 2  # ended by the deadline, not by the server
    assert (server.paths, waits) == (["/REST/2.0/ticket/7/comment"], [])  # one try, no wait
    assert json.loads(server.bodies[0]) == {"Content": "c", "ContentType": "text/plain"}


def test_a_write_to_a_server_that_is_not_there_was_not_done() -> None:
    with socket.socket() as taken:  # a port nothing listens on
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
    conn = Connection(url=f"http://127.0.0.1:{port}/REST/2.0/", token="t", timeout=1.0)
    with RTClient(conn) as client, pytest.raises(RTUnreachable) as caught:
        client.send("PUT", "ticket/7", {"Subject": "s"})
    assert str(caught.value) == (
        f"RT at {conn.url} could not be reached (ConnectError) during PUT ticket/7: check that "
        "RT is running, then run again"
    )


def test_rt_1_url_is_turned_into_rest2() -> None:
    from review.rt.client import rest2_url

    assert rest2_url("http://127.0.0.1:8080/REST/1.0/") == "http://127.0.0.1:8080/REST/2.0/"
    assert rest2_url("https://h.example/rt/REST/1.0") == "https://h.example/rt/REST/2.0/"


def test_text_where_json_belongs_is_one_line(server: FaultServer) -> None:
    body = b"RT/5.0.3 401 Credentials required\n"
    server.script = [(200, {"Content-Type": "text/plain; charset=utf-8"}, body)]
    with client_for(server, []) as client, pytest.raises(RTError) as caught:
        client.get("queues/all")
    assert str(caught.value) == (
        f"RT at {server.url} answered queues/all with text/plain, not JSON: RT_URL must be "
        "RT's address (https://rt.example.edu/) or its REST2 URL (.../REST/2.0/)"
    )


def test_json_cut_short_is_retried_and_said_as_such(server: FaultServer) -> None:
    """A proxy that cuts an answer: it was JSON, is not whole; a passing fault, not a wrong
    RT_URL (the advice to fix RT_URL sent people to a setting that was right)."""
    whole = json.dumps(PAGE).encode()
    cut = (200, {"Content-Type": "application/json; charset=utf-8"}, whole[:20])
    server.script = [cut, answer(200, PAGE)]
    waits: list[float] = []
    with client_for(server, waits) as client:
        assert client.get("tickets") == PAGE
    assert waits == [RETRY_DELAYS[0]]
    server.script = [cut]
    with client_for(server, waits, delays=(0.0, 0.0)) as client, pytest.raises(RTError) as caught:
        client.get("tickets")
    assert str(caught.value) == (
        f"RT at {server.url} answered tickets with JSON cut short (20 bytes), 3 times: "
        "something between (a proxy) cuts or replaces RT's answers: try again later, or have "
        "RT_URL reach RT directly"
    )


def test_a_proxy_page_after_rt_answered_json_is_retried(server: FaultServer) -> None:
    """Mid-pull, a proxy's maintenance page (HTML) in place of page 2: RT answered JSON
    before, so RT_URL is right; the page is asked for again."""
    rows = [{"id": str(i)} for i in (1, 2, 3, 4)]
    page = {"per_page": 2, "pages": 2, "total": 4}
    maintenance = (200, {"Content-Type": "text/html"}, b"<html>back soon</html>")
    server.script = [
        answer(200, {**page, "page": 1, "items": rows[0:2]}),
        maintenance,
        answer(200, {**page, "page": 2, "items": rows[2:4]}),
    ]
    waits: list[float] = []
    with client_for(server, waits) as client:
        got = [item["id"] for p in client.pages("tickets", {}) for item in p.items]
    assert got == ["1", "2", "3", "4"] and waits == [RETRY_DELAYS[0]]
    assert len(server.paths) == 3


@pytest.mark.parametrize(
    ("body", "kind"), [([1, 2], "JSON list"), ("ok", "JSON string"), (None, "JSON null")]
)
def test_json_of_the_wrong_shape_is_one_line(server: FaultServer, body: Any, kind: str) -> None:
    server.script = [(200, {"Content-Type": "application/json"}, json.dumps(body).encode())]
    with client_for(server, []) as client, pytest.raises(RTError) as caught:
        list(client.pages("queues/all", {}))
    assert str(caught.value).startswith(
        f"RT at {server.url} answered queues/all with a {kind} where an object was expected"
    )


def test_a_page_whose_items_are_not_objects_is_one_line(server: FaultServer) -> None:
    server.script = [answer(200, {**PAGE, "items": [1, 2], "pages": "x"})]
    with client_for(server, []) as client, pytest.raises(RTError, match="items are not JSON"):
        list(client.pages("queues/all", {}))


def test_a_redirect_to_a_login_page_says_what_to_do(server: FaultServer) -> None:
    login = "https://sso.example.edu/NoAuth/Login.html?next=/secret"
    server.script = [answer(302, Location=login)]
    with client_for(server, []) as client, pytest.raises(RTError) as caught:
        client.get("queues/all")
    assert str(caught.value) == (
        f"RT at {server.url} sent queues/all to a login page "
        "(https://sso.example.edu/NoAuth/Login.html, HTTP 302): the server wants a browser "
        "login (single sign-on?); use an RT auth token in RT_TOKEN, or the address that "
        "reaches RT's REST2 directly"
    )
    assert len(server.paths) == 1


def test_a_redirect_elsewhere_says_what_to_do(server: FaultServer) -> None:
    server.script = [answer(301, Location="https://rt.example.edu/rt/REST/2.0/queues/all")]
    with client_for(server, []) as client, pytest.raises(RTError) as caught:
        client.get("queues/all")
    assert str(caught.value) == (
        f"RT at {server.url} redirected queues/all to https://rt.example.edu/rt/REST/2.0/queues/all"
        " (HTTP 301): set RT_URL to the address RT answers at (https:// and RT's web path, "
        "e.g. https://rt.example.edu/rt/)"
    )


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [("-5", 1.0), ("nan", 1.0), ("inf", 1.0), ("soon", 1.0), ("0", 1.0), ("7", 7.0),
     ("100000", 120.0)],
)  # fmt: skip
def test_retry_after_is_honoured_within_bounds(
    server: FaultServer, retry_after: str, wait: float
) -> None:
    server.script = [answer(429, {}, **{"Retry-After": retry_after}), answer(200, PAGE)]
    waits: list[float] = []
    with client_for(server, waits) as client:
        assert client.get("queues/all") == PAGE
    assert waits == [wait]


def test_retry_after_as_an_http_date(server: FaultServer) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    server.script = [answer(503, {}, **{"Retry-After": later}), answer(200, PAGE)]
    waits: list[float] = []
    with client_for(server, waits) as client:
        assert client.get("queues/all") == PAGE
    assert len(waits) == 1 and 30 < waits[0] <= 40


def test_5xx_backs_off_for_more_than_a_minute_then_gives_one_line(server: FaultServer) -> None:
    server.script = [answer(502, {})]
    waits: list[float] = []
    with client_for(server, waits) as client, pytest.raises(RTError) as caught:
        client.get("tickets", {"query": "Queue = 'x'"})
    assert waits == list(RETRY_DELAYS) and sum(waits) >= 60
    assert len(server.paths) == len(RETRY_DELAYS) + 1
    assert str(caught.value) == (
        f"RT at {server.url} answered HTTP 502 for tickets after {len(RETRY_DELAYS) + 1} tries: "
        "try again later, or check RT's log"
    )


def test_rt_restarting_mid_pull_is_ridden_out(server: FaultServer, tmp_path: Path) -> None:
    """Queues first, then RT restarts: refused connections and 503s, then answers again."""
    queues = {**PAGE, "items": [{"id": "3", "Name": "ops-help"}], "total": 1, "count": 1}
    server.script = [answer(200, queues), *[answer(503, {})] * 5, answer(200, PAGE)]
    waits: list[float] = []
    with client_for(server, waits) as client:
        assert client.get("queues/all") == queues
        assert client.get("tickets") == PAGE
    assert waits == list(RETRY_DELAYS[:5])


def _refusing_url() -> tuple[str, int]:
    with socket.socket() as probe:  # bound, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/REST/2.0/", port


def test_a_refused_connection_gives_up_in_seconds_not_minutes() -> None:
    url, _ = _refusing_url()
    waits: list[float] = []
    told: list[str] = []
    conn = Connection(url=url, user="u", password="p")
    with RTClient(conn, sleep=waits.append) as client, pytest.raises(RTUnreachable) as caught:
        client.notify = told.append
        client.get("queues/all")
    assert waits == [1.0, 2.0, 3.0, 4.0] == list(REFUSED_DELAYS)
    assert sum(REFUSED_DELAYS) == 10 < sum(RETRY_DELAYS) == 90
    assert str(caught.value) == (
        f"RT at {url} could not be reached (ConnectError) after 5 tries: check RT_URL and that "
        "RT is running"
    )
    assert told == [
        f"RT at {url} could not be reached (ConnectError); retry {n} of 4 in {w:g} s"
        for n, w in enumerate(REFUSED_DELAYS, 1)
    ]


def _comes_back(port: int, after: int, script: list[Any]) -> tuple[list[float], Any, Any]:
    """A sleep recorder that starts a server on `port` playing `script` at the `after`-th wait."""
    waits: list[float] = []
    started: list[tuple[FaultServer, Any]] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == after:
            server = FaultServer(port)
            server.script = script
            started.append((server, fault_server.serve(server)))

    def stop() -> None:
        for server, thread in started:
            fault_server.stop(server, thread)

    return waits, sleep, stop


def test_rt_restarting_behind_refused_connections_is_ridden_out() -> None:
    """RT's own server restarting: two refused connections, then it listens again."""
    url, port = _refusing_url()
    waits, sleep, stop = _comes_back(port, 2, [answer(200, PAGE)])
    told: list[str] = []
    try:
        with RTClient(Connection(url=url, user="u", password="p"), sleep=sleep) as client:
            client.notify = told.append
            assert client.get("queues/all") == PAGE
    finally:
        stop()
    assert waits == [1.0, 2.0]
    assert told[-1] == ""  # the retry line is cleared once RT answers


def test_refused_then_5xx_gets_the_full_schedule() -> None:
    """A proxy comes up before RT: once the answer is a 5xx, the 90 s schedule applies."""
    url, port = _refusing_url()
    waits, sleep, stop = _comes_back(port, 1, [answer(502, {}), answer(502, {}), answer(200, PAGE)])
    try:
        with RTClient(Connection(url=url, user="u", password="p"), sleep=sleep) as client:
            assert client.get("queues/all") == PAGE
    finally:
        stop()
    assert waits == [REFUSED_DELAYS[0], RETRY_DELAYS[1], RETRY_DELAYS[2]] == [1.0, 2.0, 4.0]


def test_the_pull_command_reports_a_wrong_answer_in_one_line(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    server.script = [answer(200, [{"id": 3}])]
    monkeypatch.setenv("RT_URL", server.url.replace("/REST/2.0/", "/REST/1.0/"))
    monkeypatch.setenv("RT_USER", "u")
    monkeypatch.setenv("RT_PASSWORD", "pw")
    with pytest.raises(SystemExit) as exited:
        main(["pull", "--since", "2026-10-01", "--until", "2026-11-01",
              "--snapshot", str(tmp_path / "s")])  # fmt: skip
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.startswith(f"error: RT at {server.url} answered queues/all with a JSON list")
    assert err.count("\n") == 1
    assert server.paths[0].startswith("/REST/2.0/queues/all?")
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------- a page served twice

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def _sample_ids(name: str) -> list[int]:
    return sorted(int(json.loads(line)["id"]) for line in (SAMPLE / name).read_text().splitlines())


def _pull(server: FaultServer, snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`review pull` of a window holding every ticket of the sample served by the fake RT."""
    monkeypatch.setenv("RT_URL", server.url)
    monkeypatch.setenv("RT_USER", "u")
    monkeypatch.setenv("RT_PASSWORD", "pw")
    main(["pull", "--since", "2026-07-01", "--until", "2026-12-01", "--snapshot", str(snapshot)])


def _ids(snapshot: Path, name: str) -> list[int]:
    return sorted(
        int(json.loads(line)["id"]) for line in (snapshot / name).read_text().splitlines()
    )


@pytest.mark.parametrize("counted", [True, False], ids=["rt-counts", "rt-hides-counts"])
@pytest.mark.parametrize("collection", ["tickets", "transactions"])
def test_a_page_served_twice_is_read_again_and_nothing_is_lost(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: str,
    counted: bool,
) -> None:  # fmt: skip
    """Page 3 comes back as page 2 twice (a cache), then right: the pull asks until it is."""
    server.rt = FakeRT(SAMPLE, per_page=7)
    server.rt.counted = counted
    server.rt.repeat[(collection, 3)] = 2
    _pull(server, tmp_path / "s", monkeypatch)
    assert _ids(tmp_path / "s", "tickets.jsonl") == _sample_ids("tickets.jsonl")
    assert len(_sample_ids("tickets.jsonl")) == 61  # ids 1..62 but 32
    transactions = _ids(tmp_path / "s", "transactions.jsonl")
    assert transactions == _sample_ids("transactions.jsonl") and len(transactions) == 1038
    asked = [p for p in server.paths if p.startswith(f"/REST/2.0/{collection}?")]
    asked = [p for p in asked if "Field = 'Queue'" not in unquote_plus(p)]  # not moves out
    assert sum("page=3&" in p or p.endswith("page=3") for p in asked) == 3


@pytest.mark.parametrize("counted", [True, False], ids=["rt-counts", "rt-hides-counts"])
def test_a_page_always_served_twice_is_refused_in_one_line_and_nothing_written(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], counted: bool,
) -> None:  # fmt: skip
    server.rt = FakeRT(SAMPLE, per_page=7)
    server.rt.counted = counted
    server.rt.repeat[("tickets", 5)] = 1000
    with pytest.raises(SystemExit) as exited:
        _pull(server, tmp_path / "s", monkeypatch)
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err == (
        f"error: RT at {server.url} answered page 5 of tickets with the rows of an earlier "
        "page, 3 times: something between (a proxy or cache) ignores the page asked for; "
        "nothing was written: have RT_URL reach RT directly\n"
    )
    assert not (tmp_path / "s").exists()


def test_a_short_read_is_read_again_then_refused(server: FaultServer) -> None:
    """RT counts 4 rows; page 2 comes back shifted by one (row 2 again, row 4 lost)."""
    rows = [{"id": str(i)} for i in (1, 2, 3, 4)]
    page = {"per_page": 2, "pages": 2, "total": 4}
    first = answer(200, {**page, "page": 1, "items": rows[0:2]})
    shifted = answer(200, {**page, "page": 2, "items": rows[1:3]})
    right = answer(200, {**page, "page": 2, "items": rows[2:4]})
    server.script = [first, shifted, first, right]
    with client_for(server, []) as client:
        got = [item["id"] for page in client.pages("tickets", {}) for item in page.items]
    assert got == ["1", "2", "3", "4"] and len(server.paths) == 4
    server.script = [first, shifted, first, shifted]
    with client_for(server, []) as client, pytest.raises(RTError) as caught:
        client.pages("tickets", {})
    assert str(caught.value) == (
        f"RT at {server.url} counted 4 rows in tickets but its pages held 3 distinct ones, "
        "twice: something between (a proxy or cache) may be repeating pages; nothing was "
        "written: pull again, or have RT_URL reach RT directly"
    )


def test_a_count_behind_the_rows_is_read_past_not_trusted(server: FaultServer) -> None:
    """RT's count out of date (a cache's first page, a count taken before rows came): 61
    tickets at 7 a page are 9 pages, but every page says 8 pages and 51 rows. The 8 pages
    held 56 rows, more than counted, and ended full: the pull read on and got all 61 (it
    kept 56 as complete before, losing tickets 57-62 without a word)."""
    server.rt = FakeRT(SAMPLE, per_page=7)
    stated = server.rt._page

    def behind(rows: list[dict[str, Any]], page: int) -> dict[str, Any]:
        return {**stated(rows, page), "pages": 8, "total": 51}

    server.rt._page = behind  # type: ignore[method-assign]
    with client_for(server, []) as client:
        got = [int(item["id"]) for p in client.pages("tickets", {}) for item in p.items]
    assert got == _sample_ids("tickets.jsonl") and len(got) == 61
    asked = sorted(int(parse_qs(urlsplit(p).query)["page"][0]) for p in server.paths)
    assert asked == list(range(1, 11))  # pages 9 (5 rows) and 10 (empty) past the count
    server.paths.clear()
    server.rt._page = stated  # type: ignore[method-assign]
    with client_for(server, []) as client:  # a true count: its 9 pages, nothing more
        assert len([i for p in client.pages("tickets", {}) for i in p.items]) == 61
    assert len(server.paths) == 9


class Refusing(FakeRT):
    """RT that answers page 2 of `refuse` with 401 (a password changed mid-pull, a token
    revoked), and the pages of `slow` a little late (a long collection still being read)."""

    def __init__(self, refuse: str, slow: str) -> None:
        super().__init__(SAMPLE, per_page=7)
        self.refuse, self.slow = refuse, slow

    def answer(self, target: str) -> fault_server.Answer:
        parts = urlsplit(target)
        name = parts.path.split("/REST/2.0/", 1)[-1]
        if name == self.refuse and parse_qs(parts.query)["page"] == ["2"]:
            return answer(401, {"message": "Unauthorized"})
        if name == self.slow:
            time.sleep(0.2)
        return super().answer(target)


def test_a_401_in_the_ticket_search_stops_the_history_read_beside_it(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A full pull reads the window's history (149 pages here) beside the ticket search. The
    search's page 2 answers 401: the pull ends with that line, and the history read stops at
    its next request; it went on through all 149 pages before (minutes of a large window,
    each request one more failed login)."""
    server.rt = Refusing(refuse="tickets", slow="transactions")
    with pytest.raises(SystemExit) as exited:
        _pull(server, tmp_path / "s", monkeypatch)
    assert (exited.value.code, capsys.readouterr().err) == (1, (
        f"error: RT at {server.url} rejected the credentials (401): check RT_USER and "
        "RT_PASSWORD\n"
    ))  # fmt: skip
    history = [p for p in server.paths if p.startswith("/REST/2.0/transactions?")]
    assert 1 <= len(history) <= 5  # its first page, and at most the 4 pages a pool starts
    assert not (tmp_path / "s").exists()


def test_an_incremental_pull_with_a_page_served_twice_loses_nothing(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.rt = FakeRT(SAMPLE, per_page=7)
    _pull(server, tmp_path / "s", monkeypatch)
    server.rt.repeat[("tickets", 4)] = 1
    _pull(server, tmp_path / "s", monkeypatch)  # every ticket "changed": the fake has no SQL
    assert _ids(tmp_path / "s", "tickets.jsonl") == _sample_ids("tickets.jsonl")
    assert len(_ids(tmp_path / "s", "transactions.jsonl")) == 1038


# --------------------------------------------------------------------------- data that cannot be true


def _metrics_of(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[pd.DataFrame, list[str]]:
    main(["metrics", "--snapshot", str(snapshot), "--format", "json"])
    out, err = capsys.readouterr()
    table = pd.DataFrame(json.loads(out)).set_index("ticket_id")
    return table, unbacked_lines(err)


def test_times_an_rt_clock_got_wrong_are_pulled_and_named_never_counted(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """RT served ticket 3's staff reply (txn 136) stamped 9999 and ticket 10's creation
    (txn 231) an hour before the ticket: the pull keeps RT's data as it is; every number
    from it is the sample's or empty, and one line per kind names the tickets."""
    server.rt = FakeRT(SAMPLE, per_page=40)
    server.rt.stamp = {"136": "9999-01-01T00:00:00Z", "231": "2026-08-10T12:30:00Z"}
    _pull(server, tmp_path / "s", monkeypatch)
    capsys.readouterr()
    got, warnings = _metrics_of(tmp_path / "s", capsys)
    expected, clean = _metrics_of(SAMPLE, capsys)
    assert clean == []
    assert len(warnings) == 2
    assert "after the snapshot was pulled on ticket(s) 3 (txn 136 (reply)" in warnings[1]
    assert "before their ticket was created on ticket(s) 10 (txn 231 (create)" in warnings[0]
    for ticket in expected.index:
        for column, value in expected.loc[ticket].items():
            if not pd.isna(got.loc[ticket, column]):
                assert got.loc[ticket, column] == value, (ticket, column)
    assert pd.isna(got.loc[3, "max_update_gap_h"]) and not pd.isna(
        expected.loc[3, "max_update_gap_h"]
    )


def test_a_move_to_a_queue_rt_no_longer_has_is_one_line_and_nothing_written(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    server.rt = FakeRT(SAMPLE, per_page=40)
    server.rt.edit = {"128": {"NewValue": "9"}}  # ticket 2's hand-off, now to a deleted queue
    server.rt.gone = {"queue/9"}
    with pytest.raises(SystemExit) as exited:
        _pull(server, tmp_path / "s", monkeypatch)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"error: RT at {server.url} has no queue/9 (404): check RT_URL and the name asked for"
    )
    assert not (tmp_path / "s").exists()
