"""The connection to RT's REST2 API: python-rt's client plus what a bulk pull needs.

python-rt (``rt.rest2.Rt``) owns the HTTP session and authentication. Its own
paging is fixed at 20 per page and it has no retries, so collections are read
here through its authenticated session: 100 per page, independent pages fetched
concurrently, bounded retries with backoff on timeouts, resets, 429 and 5xx
(and answers cut short or replaced by something between),
and every failure turned into a one-line error that names the server (never
the credentials) and says what to do. Each HTTP request is counted.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
import rt.rest2

from review.errors import RTAuthError, RTError, RTUnreachable
from review.settings.sections import RTSettings

log = logging.getLogger(__name__)

PER_PAGE = 100
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# Waits between the tries of a request that timed out or got a 429/5xx: 90 s in all, so a
# pull rides out an RT (or proxy) restart; a longer Retry-After is honoured up to MAX_RETRY_AFTER.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0)
# Waits after a refused connection (nothing listens, or no such host): 10 s, enough for RT's
# own server to restart, so a wrong RT_URL or a stopped RT is said within seconds.
REFUSED_DELAYS = (1.0, 2.0, 3.0, 4.0)
MAX_RETRY_AFTER = 120.0
# A page that repeats an earlier one is asked for again this many times before the pull
# refuses (a collection with fewer distinct rows than RT's `total` is read once more).
REREADS = 2


class RTNotFound(RTError):
    """RT answered 404: the resource, or on RT < 5.0.2 the bulk transactions search, is missing."""


class RTAbandoned(RTError):
    """A request not made: another request of the same job failed or was interrupted
    (RTClient.abandon); says what that was."""


# the environment variables that hold the connection (never a command line or notebook parameter)
URL_ENV, TOKEN_ENV, USER_ENV, PASSWORD_ENV = "RT_URL", "RT_TOKEN", "RT_USER", "RT_PASSWORD"


@dataclass(frozen=True)
class Connection:
    """Where RT is and how to log in; ``repr`` and ``url`` never show a secret."""

    url: str
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = 30.0

    @property
    def credential_hint(self) -> str:
        """Which environment variables hold the credentials in use."""
        return TOKEN_ENV if self.token else f"{USER_ENV} and {PASSWORD_ENV}"


def rest2_url(url: str) -> str:
    """RT's base URL or its REST2 URL, normalised to ``.../REST/2.0/`` without user info."""
    wrong = RTError(
        f"{URL_ENV} must be an http(s) address such as https://rt.example.edu/ "
        "(or set [rt] url in the config)"
    )
    try:  # urlsplit and .port raise ValueError: "https://[::1", a port over 65535
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise wrong from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise wrong
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6
    netloc = host + (f":{port}" if port else "")
    path = parts.path.rstrip("/")
    if path.endswith("/REST/1.0"):  # RT's older API; this kit speaks REST2
        path = path.removesuffix("/REST/1.0")
    if not path.endswith("/REST/2.0"):
        path += "/REST/2.0"
    return urlunsplit((parts.scheme, netloc, path + "/", "", ""))


def connection_from(settings: RTSettings, env: Mapping[str, str] | None = None) -> Connection:
    """The connection from the environment (URL_ENV, TOKEN_ENV or USER_ENV and PASSWORD_ENV)
    and config."""
    env = os.environ if env is None else env
    raw = env.get(URL_ENV) or settings.url
    if not raw:
        raise RTError(
            f"no RT server given: set {URL_ENV} (e.g. https://rt.example.edu/) "
            "or [rt] url in the config"
        )
    url = rest2_url(raw)
    _warn_if_in_clear(url)
    token = env.get(TOKEN_ENV) or None
    user = env.get(USER_ENV) or None
    password = env.get(PASSWORD_ENV) or None
    if not token and not (user and password):
        raise RTAuthError(f"no RT credentials: set {TOKEN_ENV}, or {USER_ENV} and {PASSWORD_ENV}")
    if token and (token != token.strip() or not token.isprintable()):
        # it goes in a header, where a line break is refused: before, every request failed as
        # if RT were down (90 s of retries, then "could not be reached ... check RT_URL")
        raise RTAuthError(
            f"{TOKEN_ENV} holds a line break, a tab, a space at either end or another invisible "
            "character (a token file saved with Windows line ends?): set it to the token alone"
        )
    verify: bool | str = settings.verify_tls
    if settings.verify_tls and settings.ca_bundle:
        if not os.path.isfile(settings.ca_bundle):
            raise RTError(f"[rt] ca_bundle {settings.ca_bundle!r} is not a file; fix the path")
        verify = settings.ca_bundle
    return Connection(
        url=url,
        user=None if token else user,
        password=None if token else password,
        token=token,
        verify=verify,
        timeout=settings.timeout,
    )


def _warn_if_in_clear(url: str) -> None:
    """Say on stderr when the credentials would cross the network unencrypted: plain http to
    a host other than this machine (RT on 127.0.0.1 behind a local proxy is fine)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host == "localhost" or _loopback(host):
        return
    print(
        f"warning: {URL_ENV} is plain http to {host}: the password or token crosses the "
        "network unencrypted; use RT's https address",
        file=sys.stderr,
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Page:
    """One page of a REST2 collection (``items`` without rows an earlier page already gave)."""

    items: list[dict[str, Any]]
    page: int
    per_page: int
    pages: int | None
    total: int | None
    next_page: str | None
    received: int = -1  # rows RT sent, repeats included (-1: len(items))

    def __post_init__(self) -> None:
        if self.received < 0:
            self.received = len(self.items)

    @property
    def short(self) -> bool:
        """RT dropped rows this account may not see (visible count below the page size)."""
        return self.received < self.per_page


class RTClient:
    """python-rt's REST2 client with paged, retried, counted, bounded and concurrent reads.

    ``delays`` are the waits between tries of a request that failed in a way that
    may pass (timeouts, resets, 429, 5xx); the default rides out an RT restart.
    ``refused_delays`` are the shorter waits after a refused connection. ``sleep``
    waits them (tests pass a recorder instead of sleeping); ``notify`` hears of each
    wait, and of the recovery.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        delays: Sequence[float] | None = None,
        refused_delays: Sequence[float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        workers: int = 4,
    ) -> None:
        self.conn = conn
        self.delays = tuple(RETRY_DELAYS if delays is None else delays)
        self.refused_delays = tuple(REFUSED_DELAYS if refused_delays is None else refused_delays)
        self.sleep = sleep
        self.workers = workers
        self.requests = 0
        self._lock = threading.Lock()
        self._answered_json = False  # a later answer that is not JSON is then a passing fault
        self._abandoned: BaseException | None = None
        auth = httpx2.BasicAuth(conn.user, conn.password) if conn.user and conn.password else None
        self.rt = rt.rest2.Rt(
            conn.url,
            http_auth=auth,
            token=conn.token,
            http_timeout=conn.timeout,  # type: ignore[arg-type]  # python-rt says int; floats work
            verify_cert=conn.verify,
        )
        self.session: httpx2.Client = self.rt.session
        self.session.event_hooks["request"].append(self._count)
        self._hooks: list[Callable[[int], None]] = []
        # told each wait for a retry ("RT at ... answered HTTP 503; retry 1 of 7 in 1 s"),
        # and "" when a retried request got its answer
        self.notify: Callable[[str], None] | None = None

    def _count(self, _request: httpx2.Request) -> None:
        with self._lock:
            self.requests += 1
            n = self.requests
        for hook in self._hooks:
            hook(n)

    def on_request(self, hook: Callable[[int], None]) -> None:
        """Call ``hook(n)`` before the n-th HTTP request (tests use it to inject faults)."""
        self._hooks.append(hook)

    def _tell(self, line: str) -> None:
        if self.notify is not None:
            self.notify(line)

    def close(self) -> None:
        """Close the HTTP session (python-rt has no close of its own)."""
        self.session.close()

    def __enter__(self) -> RTClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def abandon(self, reason: BaseException) -> None:
        """Ask RT nothing more: a request not yet made raises RTAbandoned instead. For a job
        whose requests run side by side (a pull's ticket search and history read), so that
        when one fails (a 401, Ctrl-C) the others stop at once, not after reading everything."""
        self._abandoned = reason

    def url(self, path: str) -> str:
        """Absolute URL of a REST2 path such as ``tickets`` (absolute URLs pass through)."""
        return path if path.startswith(("http://", "https://")) else self.conn.url + path

    def _fetch(
        self,
        url: str,
        params: Mapping[str, Any],
        method: str = "GET",
        body: Mapping[str, Any] | None = None,
    ) -> _Answer:
        """One request (a GET, or a write with a JSON `body`), whole, within ``conn.timeout``
        seconds in all.

        httpx's timeout bounds each read, not the request: a server sending a byte
        every few seconds would hold it forever. The request runs in a daemon thread
        that stops reading at the deadline; the caller stops waiting for it then too
        (a server that stalls mid-headers leaves that thread to httpx's read timeout).
        """
        deadline = time.monotonic() + self.conn.timeout
        outcome: list[_Answer | BaseException] = []
        sent = None if body is None else dict(body)

        def run() -> None:
            try:
                with self.session.stream(method, url, params=dict(params), json=sent) as response:
                    got = bytearray()
                    for chunk in response.iter_bytes():
                        got += chunk
                        if time.monotonic() > deadline:
                            raise _TooSlow
                    outcome.append(_Answer(response.status_code, response.headers, bytes(got)))
            except BaseException as exc:  # handed to the waiting caller
                outcome.append(exc)

        worker = threading.Thread(target=run, name="rt-request", daemon=True)
        worker.start()
        worker.join(max(deadline - time.monotonic(), 0.0) + 0.5)
        if not outcome:
            raise _TooSlow
        got = outcome[0]
        if isinstance(got, BaseException):
            raise got
        return got

    def status(self, path: str) -> int:
        """HTTP status of one GET without retries or errors (for cheap probes)."""
        try:
            return self._fetch(self.url(path), {}).status
        except (httpx2.TransportError, _TooSlow):
            return 0

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a REST2 resource as JSON, retrying transient failures; raise an RTError otherwise.

        A refused connection is retried on ``refused_delays`` (seconds), anything else
        that may pass on ``delays`` (a minute and a half).
        """
        url = self.url(path)
        where = f"RT at {self.conn.url}"
        attempt = refused = 0
        while True:
            if self._abandoned is not None:
                raise RTAbandoned(str(self._abandoned) or "stopped") from None
            attempt += 1
            problem: str
            asked: float | None = None
            garbled = False  # a 200 that is not JSON
            try:
                answer = self._fetch(url, params or {})
            except (httpx2.TimeoutException, _TooSlow):
                problem = f"did not answer in full within {self.conn.timeout:g} s"
            except httpx2.TransportError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise RTError(
                        f"the TLS certificate of {where} could not be verified: "
                        "set [rt] ca_bundle to your CA file (keep verify_tls on)"
                    ) from None
                problem = f"could not be reached ({type(exc).__name__})"
                refused += isinstance(exc, httpx2.ConnectError)
            else:
                code = answer.status
                if code in (200, 201):
                    try:
                        data = json.loads(answer.body)
                    except ValueError:
                        problem, garbled = self._not_json(answer, where, path), True
                    else:
                        self._answered_json = True
                        if attempt > 1:
                            self._tell("")
                        return data
                elif code not in RETRY_STATUS:
                    raise _status_error(where, code, path, answer, self.conn) from None
                else:
                    problem = f"answered HTTP {code}"
                    asked = _retry_after(answer.headers)
            schedule, tries = (
                (self.refused_delays, refused) if refused == attempt else (self.delays, attempt)
            )
            if tries > len(schedule):
                raise _given_up(where, problem, path, attempt, garbled)
            wait = max(schedule[tries - 1], asked or 0.0)
            log.info("%s %s; retry %d in %.1f s", where, problem, attempt, wait)
            self._tell(f"{where} {problem}; retry {tries} of {len(schedule)} in {wait:.3g} s")
            self.sleep(wait)

    def _not_json(self, answer: _Answer, where: str, path: str) -> str:
        """The retry's problem for a 200 that is not JSON: JSON cut short, or (after RT has
        answered JSON) a page from something between, such as a proxy's maintenance page.
        Raises at once when nothing here has been JSON yet (RT_URL is not RT's address)."""
        kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind == "application/json" or kind.endswith("+json"):
            return f"answered {_short(path)} with JSON cut short ({len(answer.body)} bytes)"
        if not self._answered_json:
            raise RTError(
                f"{where} answered {_short(path)} with {kind or 'no content type'}, not JSON: "
                "RT_URL must be RT's address (https://rt.example.edu/) or its REST2 URL "
                "(.../REST/2.0/)"
            ) from None
        return f"answered {_short(path)} with {kind or 'no content type'}, not JSON"

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a REST2 resource that must be a JSON object (a ticket, a queue, a page)."""
        data = self.get(path, params)
        if not isinstance(data, dict):
            raise RTError(
                f"RT at {self.conn.url} answered {_short(path)} with a JSON "
                f"{_json_kind(data)} where an object was expected: check that RT_URL is RT's "
                "address and that nothing between (a proxy) rewrites its answers"
            )
        return data

    def send(self, method: str, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        """One write (POST or PUT) with a JSON body: RT's status code and its JSON answer.

        Never retried (a repeated create would file a second ticket) and not interpreted:
        RT answers a refused change with 200 and a message, so the caller reads the answer.
        Answered in full within ``conn.timeout`` seconds, as a GET is, or RTUnreachable; so
        is a server that cannot be reached. A write whose answer did not come may have been
        done all the same: each writer finds its writes again in RT before writing (the
        follow-ups' tags, links and comment markers; a publication's marker), so a re-run
        does what is missing and nothing twice.
        """
        where = f"RT at {self.conn.url}"
        try:
            response = self._fetch(self.url(path), {}, method, body)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:  # nothing was sent
            raise RTUnreachable(
                f"{where} could not be reached ({type(exc).__name__}) during "
                f"{method} {_short(path)}: check that RT is running, then run again"
            ) from None
        except (httpx2.TransportError, _TooSlow) as exc:  # sent; the answer did not come whole
            problem = (
                f"did not answer {method} {_short(path)} in full within {self.conn.timeout:g} s"
                if isinstance(exc, (httpx2.TimeoutException, _TooSlow))
                else f"broke off its answer to {method} {_short(path)} ({type(exc).__name__})"
            )
            raise RTUnreachable(
                f"{where} {problem}; it may have been done all the same: run again once RT "
                "answers (the re-run finds what was written and does not write it twice)"
            ) from None
        try:
            answer = json.loads(response.body)
        except ValueError:
            answer = None
        return response.status, answer

    def page(self, path: str, params: Mapping[str, Any], page: int = 1) -> Page:
        """One page of a collection, at 100 per page."""
        data = self.get_object(path, {**params, "per_page": PER_PAGE, "page": page})
        items = data.get("items") or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise RTError(
                f"RT at {self.conn.url} answered {_short(path)} with a page whose items are not "
                "JSON objects: check that RT_URL is RT's address"
            )
        next_page = data.get("next_page")
        return Page(
            items=items,
            page=_count_field(data, "page") or page,
            per_page=_count_field(data, "per_page") or PER_PAGE,
            pages=_count_field(data, "pages"),
            total=_count_field(data, "total"),
            next_page=next_page if isinstance(next_page, str) else None,
        )

    def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        on_page: Callable[[Page], None] | None = None,
    ) -> list[Page]:
        """All pages of a collection in order, each row once, checked against RT's own count.

        When RT states the page count, pages 2..N are fetched concurrently. When
        it does not (``pages`` is null for an account that may not see every
        row), pages are read in turn until an empty one (RT 5.0.3 omits
        ``next_page`` there). A page that repeats an earlier one (a proxy or cache
        serving the same page twice) is asked for again; rows already seen are
        dropped. When RT stated a ``total`` and the pages hold fewer distinct rows,
        the collection is read once more, then refused: a short read is never
        returned as complete. When the stated pages end on a full page and hold more
        rows than ``total`` (a count out of date), pages are read on to an empty one.
        """
        for attempt in (1, 2):
            pages = self._read_pages(path, params, on_page)
            total = pages[0].total
            distinct = sum(len(p.items) for p in pages)
            if total is None or distinct >= total:
                return pages
            log.info("%s: %d of %d rows (read %d)", _short(path), distinct, total, attempt)
        raise RTError(
            f"RT at {self.conn.url} counted {total} rows in {_short(path)} but its pages held "
            f"{distinct} distinct ones, twice: something between (a proxy or cache) may be "
            "repeating pages; nothing was written: pull again, or have RT_URL reach RT directly"
        )

    def _read_pages(
        self, path: str, params: Mapping[str, Any], on_page: Callable[[Page], None] | None
    ) -> list[Page]:
        seen: set[str] = set()

        def checked(number: int, got: Page) -> Page:
            for _ in range(REREADS):
                if not _repeats(got, seen):
                    break
                log.info("%s page %d repeats an earlier page; asking again", _short(path), number)
                got = self.page(path, params, number)
                if on_page:
                    on_page(got)
            if _repeats(got, seen):
                raise RTError(
                    f"RT at {self.conn.url} answered page {number} of {_short(path)} with the "
                    f"rows of an earlier page, {REREADS + 1} times: something between (a proxy "
                    "or cache) ignores the page asked for; nothing was written: have RT_URL "
                    "reach RT directly"
                )
            fresh = [i for i in got.items if _row_id(i) not in seen]
            seen.update(_row_id(i) for i in got.items)
            seen.discard("")
            return Page(
                fresh, number, got.per_page, got.pages, got.total, got.next_page, got.received
            )

        first = self.page(path, params)
        if on_page:
            on_page(first)
        pages = [checked(1, first)]
        if first.pages is not None:
            rest = range(2, first.pages + 1)
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for number, got in zip(
                    rest, pool.map(lambda n: self.page(path, params, n), rest), strict=True
                ):
                    if on_page:
                        on_page(got)
                    pages.append(checked(number, got))
            if not _beyond_count(pages):
                return pages
            log.info("%s: RT's count is behind its rows; reading on", _short(path))
        while pages[-1].received or pages[-1].next_page:
            number = pages[-1].page + 1
            got = self.page(path, params, number)
            if on_page:
                on_page(got)
            pages.append(checked(number, got))
        return pages

    def map(self, fn: Callable[[Any], Any], args: list[Any]) -> list[Any]:
        """Run independent requests concurrently, bounded by ``workers``, results in order."""
        if len(args) <= 1:
            return [fn(a) for a in args]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(fn, args))


def _row_id(item: dict[str, Any]) -> str:
    """A row's id as text ("" when it has none: such rows are never taken for repeats)."""
    value = item.get("id")
    return "" if value is None else str(value)


def _beyond_count(pages: list[Page]) -> bool:
    """The stated page count ended on a full page while the rows disagree with RT's count
    (more rows than `total`, or fewer pages than `total` needs): a count out of date (a
    cache's first page), so rows may follow that no stated page holds."""
    first, last = pages[0], pages[-1]
    if first.total is None or last.received < last.per_page:
        return False
    held = sum(len(p.items) for p in pages)
    return held > first.total or len(pages) * last.per_page < first.total


def _repeats(page: Page, seen: set[str]) -> bool:
    """Every row of a non-empty page was on an earlier page (the same page served twice)."""
    ids = [_row_id(i) for i in page.items]
    return bool(ids) and all(i and i in seen for i in ids)


class _TooSlow(Exception):
    """The answer did not arrive in full before the request's deadline."""


@dataclass(frozen=True)
class _Answer:
    """A whole HTTP answer."""

    status: int
    headers: httpx2.Headers
    body: bytes


def _json_kind(data: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(data), "null"
    )


def _count_field(data: dict[str, Any], key: str) -> int | None:
    """A page's count field (page, pages, total, ...) as an int; absent or junk is None."""
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _given_up(where: str, problem: str, path: str, attempt: int, garbled: bool) -> RTError:
    """The error once every retry of a GET failed: answers cut or replaced on the way (a
    proxy), RT's own error answers, or no answer at all."""
    if garbled:
        return RTError(
            f"{where} {problem}, {attempt} times: something between (a proxy) cuts "
            "or replaces RT's answers: try again later, or have RT_URL reach RT directly"
        )
    if problem.startswith("answered"):
        return RTError(
            f"{where} {problem} for {_short(path)} after {attempt} tries: "
            "try again later, or check RT's log"
        )
    return RTUnreachable(
        f"{where} {problem} after {attempt} tries: check RT_URL and that RT is running"
    )


def _status_error(where: str, code: int, path: str, response: _Answer, conn: Connection) -> RTError:
    if code == 401:
        return RTAuthError(f"{where} rejected the credentials (401): check {conn.credential_hint}")
    if code == 403:
        return RTAuthError(
            f"{where} refused {_short(path)} (403): the account needs SeeQueue, ShowTicket, "
            "ShowTicketComments and ShowOutgoingEmail on the pulled queues"
        )
    if code == 404:
        return RTNotFound(
            f"{where} has no {_short(path)} (404): check {URL_ENV} and the name asked for"
        )
    if 300 <= code < 400:
        location = urlsplit(response.headers.get("Location", ""))
        shown = urlunsplit((location.scheme, location.hostname or "", location.path, "", ""))
        if "login" in location.path.lower() or "/auth" in location.path.lower():
            return RTError(
                f"{where} sent {_short(path)} to a login page ({shown}, HTTP {code}): the "
                "server wants a browser login (single sign-on?); use an RT auth token in "
                f"{TOKEN_ENV}, or the address that reaches RT's REST2 directly"
            )
        return RTError(
            f"{where} redirected {_short(path)} to {shown or 'nowhere'} (HTTP {code}): set "
            f"{URL_ENV} to the address RT answers at (https:// and RT's web path, e.g. "
            "https://rt.example.edu/rt/)"
        )
    message = ""
    try:
        body = json.loads(response.body)
        if isinstance(body, dict):
            message = str(body.get("message", ""))
    except ValueError:
        pass
    detail = f": {message}" if message else ""
    return RTError(f"{where} rejected {_short(path)} (HTTP {code}){detail}")


def _short(path: str) -> str:
    """The REST2 path without query string or host, for messages."""
    return urlsplit(path).path.split("/REST/2.0/")[-1] or path


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds a 429/503 asks to wait (a number or an HTTP date), within [0, 120]; junk is None."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
