"""The connection to RT's REST2 API: python-rt's client plus what a bulk pull needs.

python-rt (``rt.rest2.Rt``) owns the HTTP session and authentication. Its own
paging is fixed at 20 per page and it has no retries, so collections are read
here through its authenticated session: 100 per page, independent pages fetched
concurrently, bounded retries with backoff on timeouts, resets, 429 and 5xx,
and every failure turned into a one-line error that names the server (never
the credentials) and says what to do. Each HTTP request is counted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
import rt.rest2

from review.config import RTSettings
from review.errors import RTAuthError, RTError, RTUnreachable

log = logging.getLogger(__name__)

PER_PAGE = 100
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class RTNotFound(RTError):
    """RT answered 404: the resource, or on RT < 5.0.2 the bulk transactions search, is missing."""


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
        return "RT_TOKEN" if self.token else "RT_USER and RT_PASSWORD"


def rest2_url(url: str) -> str:
    """RT's base URL or its REST2 URL, normalised to ``.../REST/2.0/`` without user info."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RTError(
            "RT_URL must be an http(s) address such as https://rt.example.edu/ "
            "(or set [rt] url in the config)"
        )
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    path = parts.path.rstrip("/")
    if not path.endswith("/REST/2.0"):
        path += "/REST/2.0"
    return urlunsplit((parts.scheme, netloc, path + "/", "", ""))


def connection_from(settings: RTSettings, env: Mapping[str, str] | None = None) -> Connection:
    """The connection from the environment (RT_URL, RT_TOKEN or RT_USER/RT_PASSWORD) and config."""
    env = os.environ if env is None else env
    raw = env.get("RT_URL") or settings.url
    if not raw:
        raise RTError(
            "no RT server given: set RT_URL (e.g. https://rt.example.edu/) "
            "or [rt] url in the config"
        )
    url = rest2_url(raw)
    token = env.get("RT_TOKEN") or None
    user = env.get("RT_USER") or None
    password = env.get("RT_PASSWORD") or None
    if not token and not (user and password):
        raise RTAuthError("no RT credentials: set RT_TOKEN, or RT_USER and RT_PASSWORD")
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


@dataclass
class Page:
    """One page of a REST2 collection."""

    items: list[dict[str, Any]]
    page: int
    per_page: int
    pages: int | None
    total: int | None
    next_page: str | None

    @property
    def short(self) -> bool:
        """RT dropped rows this account may not see (visible count below the page size)."""
        return len(self.items) < self.per_page


class RTClient:
    """python-rt's REST2 client with paged, retried, counted and concurrent reads."""

    def __init__(
        self,
        conn: Connection,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        workers: int = 4,
    ) -> None:
        self.conn = conn
        self.retries = retries
        self.backoff = backoff
        self.workers = workers
        self.requests = 0
        self._lock = threading.Lock()
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

    def _count(self, _request: httpx2.Request) -> None:
        with self._lock:
            self.requests += 1
            n = self.requests
        for hook in self._hooks:
            hook(n)

    def on_request(self, hook: Callable[[int], None]) -> None:
        """Call ``hook(n)`` before the n-th HTTP request (tests use it to inject faults)."""
        self._hooks.append(hook)

    def close(self) -> None:
        """Close the HTTP session (python-rt has no close of its own)."""
        self.session.close()

    def __enter__(self) -> RTClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """Absolute URL of a REST2 path such as ``tickets`` (absolute URLs pass through)."""
        return path if path.startswith(("http://", "https://")) else self.conn.url + path

    def status(self, path: str) -> int:
        """HTTP status of one GET without retries or errors (for cheap probes)."""
        try:
            return self.session.get(self.url(path)).status_code
        except httpx2.TransportError:
            return 0

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a REST2 resource as JSON, retrying transient failures; raise an RTError otherwise."""
        url = self.url(path)
        where = f"RT at {self.conn.url}"
        attempt = 0
        while True:
            attempt += 1
            problem: str
            try:
                response = self.session.get(url, params=dict(params or {}))
            except httpx2.TimeoutException:
                problem = f"did not answer within {self.conn.timeout:g} s"
            except httpx2.TransportError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise RTError(
                        f"the TLS certificate of {where} could not be verified: "
                        "set [rt] ca_bundle to your CA file (keep verify_tls on)"
                    ) from None
                problem = f"could not be reached ({type(exc).__name__})"
            else:
                code = response.status_code
                if code in (200, 201):
                    return response.json()
                if code not in RETRY_STATUS:
                    raise _status_error(where, code, path, response, self.conn) from None
                problem = f"answered HTTP {code}"
                if code == 429:
                    wait = _retry_after(response)
                    if wait is not None and attempt <= self.retries:
                        log.info("%s %s; retrying in %.1f s", where, problem, wait)
                        time.sleep(wait)
                        continue
            if attempt > self.retries:
                if problem.startswith("answered"):
                    raise RTError(
                        f"{where} {problem} for {_short(path)} after {attempt} tries: "
                        "try again later, or check RT's log"
                    )
                raise RTUnreachable(
                    f"{where} {problem} after {attempt} tries: check RT_URL and that RT is running"
                )
            wait = self.backoff * 2 ** (attempt - 1)
            log.info("%s %s; retry %d in %.1f s", where, problem, attempt, wait)
            time.sleep(wait)

    def send(self, method: str, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        """One write (POST or PUT) with a JSON body: RT's status code and its JSON answer.

        Never retried (a repeated create would file a second ticket) and not interpreted:
        RT answers a refused change with 200 and a message, so the caller reads the answer.
        Only a server that cannot be reached raises (RTUnreachable).
        """
        try:
            response = self.session.request(method, self.url(path), json=dict(body))
        except httpx2.TransportError as exc:
            raise RTUnreachable(
                f"RT at {self.conn.url} could not be reached ({type(exc).__name__}) during "
                f"{method} {_short(path)}: check that RT is running, then run again"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return response.status_code, answer

    def page(self, path: str, params: Mapping[str, Any], page: int = 1) -> Page:
        """One page of a collection, at 100 per page."""
        data = self.get(path, {**params, "per_page": PER_PAGE, "page": page})
        return Page(
            items=list(data.get("items") or []),
            page=int(data.get("page") or page),
            per_page=int(data.get("per_page") or PER_PAGE),
            pages=None if data.get("pages") is None else int(data["pages"]),
            total=None if data.get("total") is None else int(data["total"]),
            next_page=data.get("next_page"),
        )

    def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        on_page: Callable[[Page], None] | None = None,
    ) -> Iterator[Page]:
        """All pages of a collection in order.

        When RT states the page count, pages 2..N are fetched concurrently. When
        it does not (``pages`` is null for an account that may not see every
        row), ``next_page`` is followed or, where RT 5.0.3 omits it, pages are
        read in turn until an empty one.
        """
        first = self.page(path, params)
        if on_page:
            on_page(first)
        yield first
        if first.pages is not None:
            rest = range(2, first.pages + 1)
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for got in pool.map(lambda n: self.page(path, params, n), rest):
                    if on_page:
                        on_page(got)
                    yield got
            return
        current = first
        while current.items or current.next_page:
            current = self.page(path, params, current.page + 1)
            if on_page:
                on_page(current)
            yield current

    def map(self, fn: Callable[[Any], Any], args: list[Any]) -> list[Any]:
        """Run independent requests concurrently, bounded by ``workers``, results in order."""
        if len(args) <= 1:
            return [fn(a) for a in args]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(fn, args))


def _status_error(
    where: str, code: int, path: str, response: httpx2.Response, conn: Connection
) -> RTError:
    if code == 401:
        return RTAuthError(f"{where} rejected the credentials (401): check {conn.credential_hint}")
    if code == 403:
        return RTAuthError(
            f"{where} refused {_short(path)} (403): the account needs SeeQueue, ShowTicket, "
            "ShowTicketComments and ShowOutgoingEmail on the pulled queues"
        )
    if code == 404:
        return RTNotFound(
            f"{where} has no {_short(path)} (404): check RT_URL and the name asked for"
        )
    message = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            message = str(body.get("message", ""))
    except ValueError:
        pass
    detail = f": {message}" if message else ""
    return RTError(f"{where} rejected {_short(path)} (HTTP {code}){detail}")


def _short(path: str) -> str:
    """The REST2 path without query string or host, for messages."""
    return urlsplit(path).path.split("/REST/2.0/")[-1] or path


def _retry_after(response: httpx2.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(float(value), 60.0)
    except ValueError:
        return None
