"""The RT client and pull logic without a server: URLs, credentials, retries, paging, windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest

from review.cli import main
from review.errors import RTAuthError, RTError, RTUnreachable
from review.rt.client import Connection, RTClient, connection_from, rest2_url
from review.rt.pull import Window, _as_single_get, closed_ids, parse_time, pull
from review.settings.sections import RTSettings

SETTINGS = RTSettings(url="", verify_tls=True, ca_bundle="", timeout=5)
URL = "https://rt.example.edu/REST/2.0/"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://rt.example.edu", URL),
        ("https://rt.example.edu/", URL),
        ("https://rt.example.edu/REST/2.0", URL),
        ("https://user:secret@rt.example.edu:8443/rt/", "https://rt.example.edu:8443/rt/REST/2.0/"),
        ("https://[2001:db8::5]:8443/rt", "https://[2001:db8::5]:8443/rt/REST/2.0/"),  # IPv6
    ],
)
def test_rest2_url_is_normalised_without_user_info(given: str, expected: str) -> None:
    assert rest2_url(given) == expected


def test_connection_prefers_the_token_and_hides_secrets() -> None:
    env = {"RT_URL": "https://rt.example.edu", "RT_TOKEN": "tok-123", "RT_USER": "u",
           "RT_PASSWORD": "pw-456"}  # fmt: skip
    conn = connection_from(SETTINGS, env)
    assert (conn.url, conn.token, conn.user, conn.password) == (URL, "tok-123", None, None)
    assert "tok-123" not in repr(conn) and conn.credential_hint == "RT_TOKEN"


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://rt.example.edu/", True),
        ("http://10.0.0.5:8080/rt", True),
        ("https://rt.example.edu/", False),
        ("http://127.0.0.1:8080/", False),
        ("http://localhost/", False),
        ("http://[::1]:8080/", False),
    ],
)
def test_plain_http_to_another_host_is_warned_about(
    url: str, warned: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    connection_from(SETTINGS, {"RT_URL": url, "RT_USER": "u", "RT_PASSWORD": "pw-456"})
    err = capsys.readouterr().err
    if warned:
        host = url.split("//")[1].split("/")[0].split(":")[0]
        assert err == (
            f"warning: RT_URL is plain http to {host}: the password or token crosses the "
            "network unencrypted; use RT's https address\n"
        )
    else:
        assert err == ""
    assert "pw-456" not in err


@pytest.mark.parametrize(
    ("env", "error", "message"),
    [
        ({}, RTError, "no RT server given: set RT_URL"),
        ({"RT_URL": "rt.example.edu"}, RTError, "RT_URL must be an http(s) address"),
        # these two were a ValueError traceback
        ({"RT_URL": "https://[::1"}, RTError, "RT_URL must be an http(s) address"),
        ({"RT_URL": "https://rt.example.edu:99999/"}, RTError, "RT_URL must be an http(s) address"),
        ({"RT_URL": "https://rt.example.edu", "RT_USER": "u"}, RTAuthError,
         "no RT credentials: set RT_TOKEN, or RT_USER and RT_PASSWORD"),
    ],
)  # fmt: skip
def test_connection_errors_say_what_to_set(
    env: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        connection_from(SETTINGS, env)


@pytest.mark.parametrize(
    "token", ["tok-123\r", "tok-123\n", " tok-123", "tok\x00123", "tok-\u200b123"]
)
def test_a_token_with_a_line_break_is_one_line_at_once_and_never_shown(
    token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token read from a file saved with Windows line ends keeps its CR. Before, it went into
    the Authorization header, which the HTTP library refuses (its error quotes the header):
    each request failed as a connection problem, retried for 90 s, then 'could not be reached
    ... check RT_URL and that RT is running'."""
    with pytest.raises(RTAuthError) as caught:
        connection_from(SETTINGS, {"RT_URL": "https://rt.example.edu", "RT_TOKEN": token})
    assert str(caught.value) == (
        "RT_TOKEN holds a line break, a tab, a space at either end or another invisible "
        "character (a token file saved with Windows line ends?): set it to the token alone"
    )
    assert "tok" not in capsys.readouterr().err


def mock_client(handler: Callable[[httpx2.Request], httpx2.Response], **kw: Any) -> RTClient:
    kw.setdefault("sleep", lambda _s: None)
    client = RTClient(Connection(url=URL, user="u", password="pw-456"), **kw)
    client.session._transport = httpx2.MockTransport(handler)
    return client


def test_transient_failures_are_retried_then_succeed() -> None:
    answers = iter([httpx2.Response(503), httpx2.Response(429, headers={"Retry-After": "0"}),
                    httpx2.Response(200, json={"ok": 1})])  # fmt: skip
    client = mock_client(lambda _r: next(answers))
    assert client.get("queues/all") == {"ok": 1}
    assert client.requests == 3


def test_401_is_not_retried_and_names_the_variables() -> None:
    client = mock_client(lambda _r: httpx2.Response(401))
    with pytest.raises(RTAuthError) as caught:
        client.get("tickets")
    assert str(caught.value) == (
        f"RT at {URL} rejected the credentials (401): check RT_USER and RT_PASSWORD"
    )
    assert client.requests == 1


def test_connection_failures_end_in_rt_unreachable_after_bounded_retries() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    client = mock_client(refuse, refused_delays=(0, 0))
    with pytest.raises(RTUnreachable, match=r"could not be reached \(ConnectError\) after 3 tries"):
        client.get("tickets")
    assert client.requests == 3


def test_5xx_after_retries_is_one_line_without_the_query() -> None:
    client = mock_client(lambda _r: httpx2.Response(500), delays=(0,))
    with pytest.raises(RTError) as caught:
        client.get("tickets", {"query": "Queue = 'x'"})
    assert str(caught.value) == (
        f"RT at {URL} answered HTTP 500 for tickets after 2 tries: try again later, or check RT's log"
    )


def test_pages_without_a_count_are_read_until_an_empty_page() -> None:
    pages = {1: ["a", "b"], 2: ["c"], 3: []}

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        items = [{"id": i} for i in pages[page]]
        return httpx2.Response(200, json={"items": items, "page": page, "per_page": 2,
                                          "pages": None, "total": None, "count": len(items)})  # fmt: skip

    client = mock_client(handler)
    got = [item["id"] for page in client.pages("transactions", {}) for item in page.items]
    assert (got, client.requests) == (["a", "b", "c"], 3)


def test_pages_with_a_count_are_fetched_all() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        return httpx2.Response(200, json={"items": [{"id": page}], "page": page, "per_page": 1,
                                          "pages": 4, "total": 4, "count": 1})  # fmt: skip

    client = mock_client(handler)
    got = [item["id"] for page in client.pages("tickets", {}) for item in page.items]
    assert (got, client.requests) == ([1, 2, 3, 4], 4)


def test_a_searched_ticket_is_reshaped_like_a_single_get() -> None:
    item = {"_url": f"{URL}ticket/7", "type": "ticket", "id": "7", "EffectiveId": "7",
            "CustomFields": [{"id": "10", "values": []}, {"id": "2", "values": ["x"]}]}  # fmt: skip
    assert _as_single_get(item, URL) == {
        "id": 7,
        "EffectiveId": {"_url": f"{URL}ticket/7", "id": "7", "type": "ticket"},
        "CustomFields": [{"id": "2", "values": ["x"]}, {"id": "10", "values": []}],
    }


def test_window_is_exact_in_utc() -> None:
    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                    ("ops-help",), ("resolved", "rejected"))  # fmt: skip
    names = {"3": "ops-help", "4": "dev-web"}

    def ticket(status: str, queue: str, resolved: str, created: str = "2026-09-01T00:00:00Z"
               ) -> dict[str, Any]:  # fmt: skip
        return {"id": 1 if status in ("resolved", "rejected", "done") else 2, "Status": status,
                "Queue": {"id": queue}, "Resolved": resolved, "Created": created}  # fmt: skip

    closed = {1}  # what RT says is in an inactive status of its lifecycle
    assert window.holds(ticket("resolved", "3", "2026-10-01T00:00:00Z"), names, closed)
    assert not window.holds(ticket("resolved", "3", "2026-09-30T23:59:59Z"), names, closed)
    assert not window.holds(ticket("resolved", "3", "2026-11-01T00:00:00Z"), names, closed)
    assert not window.holds(ticket("open", "3", "2026-10-05T00:00:00Z"), names, closed)
    assert not window.holds(ticket("rejected", "4", "2026-10-05T00:00:00Z"), names, closed)
    # a status the config does not name, that RT counts inactive in the queue's lifecycle
    assert window.holds(ticket("done", "3", "2026-10-05T00:00:00Z"), names, closed)
    assert not window.holds(ticket("done", "3", "2026-10-05T00:00:00Z"), names, set())
    # created in the window: taken whatever its status, still open or closed later
    assert window.holds(ticket("open", "3", UNSET, "2026-10-01T00:00:00Z"), names, closed)
    assert window.holds(ticket("resolved", "3", "2026-11-20T00:00:00Z", "2026-10-31T23:59:59Z"),
                        names, closed)  # fmt: skip
    assert not window.holds(ticket("open", "3", UNSET, "2026-11-01T00:00:00Z"), names, closed)
    assert not window.holds(ticket("new", "4", UNSET, "2026-10-05T00:00:00Z"), names, closed)
    assert window.ticket_sql() == (
        "(Queue = 'ops-help') AND (((Status = '__Inactive__' OR Status = 'resolved' OR "
        "Status = 'rejected') AND Resolved >= '2026-09-30 00:00:00' AND Resolved < "
        "'2026-11-02 00:00:00') OR (Created >= '2026-09-30 00:00:00' AND Created < "
        "'2026-11-02 00:00:00'))"
    )
    assert window.coverage() == {
        "since": "2026-10-01T00:00:00Z", "until": "2026-11-01T00:00:00Z", "queues": ["ops-help"],
        "closed_in_window": True, "opened_in_window": True, "moved_out": {},
    }  # fmt: skip
    # what left the queues: moves out of them (by queue id, as RT records a move) of tickets
    # now elsewhere, opened or resolved near the window; then exactly in it, whatever the queue
    assert window.moved_out_sql(["3"]) == (
        "ObjectType = 'RT::Ticket' AND Type = 'Set' AND Field = 'Queue' AND (OldValue = '3') "
        "AND TicketQueue != 'ops-help' AND ((TicketCreated >= '2026-09-30 00:00:00' AND "
        "TicketCreated < '2026-11-02 00:00:00') OR (TicketResolved >= '2026-09-30 00:00:00' "
        "AND TicketResolved < '2026-11-02 00:00:00'))"
    )
    assert window.left(ticket("open", "9", UNSET, "2026-10-01T00:00:00Z"))
    assert window.left(ticket("done", "9", "2026-10-31T23:59:59Z", "2026-09-01T00:00:00Z"))
    assert not window.left(ticket("done", "9", "2026-11-01T00:00:00Z", "2026-09-01T00:00:00Z"))
    assert window.coverage({12: "Security"})["moved_out"] == {"12": "Security"}


UNSET = "1970-01-01T00:00:00Z"


def test_unset_rt_dates_are_none() -> None:
    assert parse_time("1970-01-01T00:00:00Z") is None
    assert parse_time("2026-10-01T12:30:00Z") == datetime(2026, 10, 1, 12, 30, tzinfo=UTC)


def test_failed_pull_leaves_no_snapshot(tmp_path: Path) -> None:
    queues = {"items": [{"id": "3", "Name": "ops-help"}], "page": 1, "per_page": 100,
              "pages": 1, "total": 1, "count": 1}  # fmt: skip

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("queues/all"):
            return httpx2.Response(200, json=queues)
        return httpx2.Response(403, json={"message": "Forbidden"})

    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                    ("ops-help",), ("resolved",))  # fmt: skip
    # the ticket search and the history read beside it both meet the 403; whichever comes
    # first is said, as it was (the other stops: RTClient.abandon)
    with pytest.raises(
        RTAuthError, match=r"refused (tickets|transactions) \(403\): the account needs SeeQueue"
    ):
        pull(mock_client(handler), window, tmp_path / "snap", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_pull_into_a_directory_of_other_files_is_refused_before_asking_rt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "services.yaml").write_text("services: []\n")
    (tmp_path / "scenarios").mkdir()
    monkeypatch.setenv("RT_URL", "http://127.0.0.1:9/")  # nothing listens: RT is never asked
    monkeypatch.setenv("RT_USER", "u")
    monkeypatch.setenv("RT_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    for given in (str(tmp_path), "."):
        with pytest.raises(SystemExit) as exited:
            main(["pull", "--since", "2026-10-01", "--until", "2026-11-01", "--snapshot", given])
        assert exited.value.code == 1
        assert capsys.readouterr().err == (
            f"error: {tmp_path}: holds files that are not a snapshot (scenarios, services.yaml); "
            "refusing to replace it: give --snapshot a new or empty directory\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenarios", "services.yaml"]


def test_rt_says_which_tickets_are_closed_in_their_own_lifecycle() -> None:
    """A ticket opened before the window and resolved in it belongs when RT counts its status
    inactive in its queue's lifecycle (TicketSQL __Inactive__), whatever the config names."""
    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                    ("ops-help",), ("resolved",))  # fmt: skip
    names = {"3": "ops-help"}

    def ticket(ticket_id: int, status: str, created: str, resolved: str) -> dict[str, Any]:
        return {"id": ticket_id, "Status": status, "Queue": {"id": "3"}, "Created": created,
                "Resolved": resolved}  # fmt: skip

    tickets = [
        ticket(5, "done", "2026-09-30T12:00:00Z", "2026-10-03T00:00:00Z"),  # RT: inactive
        ticket(6, "open", "2026-09-30T12:00:00Z", "2026-10-04T00:00:00Z"),  # reopened since
        ticket(7, "open", "2026-10-02T00:00:00Z", UNSET),  # opened in the window: not asked
        ticket(8, "done", "2026-06-01T00:00:00Z", "2026-10-05T00:00:00Z"),  # known closed
    ]
    asked: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        query = request.url.params["query"]
        asked.append(query)
        items = [{"type": "ticket", "id": "5", "_url": f"{URL}ticket/5"}]
        return httpx2.Response(200, json={"items": items, "page": 1, "per_page": 100,
                                          "pages": 1, "total": 1, "count": 1})  # fmt: skip

    closed = closed_ids(mock_client(handler), window, tickets, names, lambda _p: None, {8})
    assert closed == {5, 8}
    assert asked == ["(id = 5 OR id = 6) AND (Status = '__Inactive__' OR Status = 'resolved')"]
    assert [t["id"] for t in tickets if window.holds(t, names, closed)] == [5, 7, 8]
