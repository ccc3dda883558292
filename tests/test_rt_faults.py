"""Every fault an RT server (or what stands in front of it) can show ends in one bounded line.

A fault-injecting HTTP server of the test's own on 127.0.0.1 (one thread per connection)
plays each fault: a trickle of one byte at a time, a hang, text where JSON belongs, JSON
of the wrong shape, redirects, 429/5xx with odd Retry-After values. Nothing here sleeps
for the retry schedule: the client records the waits it would make instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from review.cli import main
from review.errors import RTError, RTUnreachable
from review.rt.client import RETRY_DELAYS, Connection, RTClient

STALL = 0.25  # seconds between two trickled bytes
GIVE_UP = 20.0  # the server stops any fault after this long, so a regression fails, not hangs


class FaultServer(ThreadingHTTPServer):
    """Answers each GET with the next fault of ``script`` (the last one repeats)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[str | tuple[int, dict[str, str], bytes]] = []
        self.paths: list[str] = []
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/REST/2.0/"

    def next_fault(self, path: str) -> str | tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.paths.append(path)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fault = self.server.next_fault(self.path)
        if isinstance(fault, tuple):
            code, headers, body = fault
            self.send_response(code)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        elif fault == "hang":
            self.server.stopped.wait(GIVE_UP)
        elif fault == "trickle-body":
            body = json.dumps({"items": [], "page": 1, "per_page": 100}).encode() + b" " * 500
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            self._trickle(body)
        elif fault == "trickle-headers":
            self._trickle(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 500 + b"\r\n\r\n{}")

    def _trickle(self, data: bytes) -> None:
        for i in range(len(data)):
            if self.server.stopped.wait(STALL):
                return
            try:
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
            except OSError:
                return


@pytest.fixture
def server() -> Iterator[FaultServer]:
    fault = FaultServer()
    thread = threading.Thread(target=fault.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fault
    fault.stopped.set()
    fault.shutdown()
    fault.server_close()
    thread.join(5)


def client_for(server: FaultServer, waits: list[float], **kw: Any) -> RTClient:
    conn = Connection(url=server.url, user="u", password="pw", timeout=kw.pop("timeout", 1.0))
    return RTClient(conn, sleep=waits.append, **kw)


def answer(code: int, body: Any = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
    data = b"" if body is None else json.dumps(body).encode()
    return code, {"Content-Type": "application/json", **headers}, data


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


def test_a_refused_connection_follows_the_same_schedule(tmp_path: Path) -> None:
    port = FaultServer().server_address[1]  # bound, closed again: nothing listens there
    conn = Connection(url=f"http://127.0.0.1:{port}/REST/2.0/", user="u", password="p")
    waits: list[float] = []
    with RTClient(conn, sleep=waits.append) as client, pytest.raises(RTUnreachable) as caught:
        client.get("queues/all")
    assert waits == list(RETRY_DELAYS)
    assert "could not be reached (ConnectError)" in str(caught.value)


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
