"""A fault-injecting HTTP server on 127.0.0.1 that stands in for RT (or what is in front of it).

``FaultServer`` answers each request (a write once its body is in) with the next fault of its ``script`` (the last one
repeats) and, once the script is empty, from its ``rt``: a ``FakeRT`` that answers
REST2 reads from a snapshot's files, a few rows a page, as RT pages them, with the
faults a proxy or cache between can add (a page served twice).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

STALL = 0.25  # seconds between two trickled bytes
GIVE_UP = 20.0  # the server stops any fault after this long, so a regression fails, not hangs

Answer = tuple[int, dict[str, str], bytes]


def answer(code: int, body: Any = None, **headers: str) -> Answer:
    data = b"" if body is None else json.dumps(body).encode()
    return code, {"Content-Type": "application/json", **headers}, data


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


class FakeRT:
    """REST2 reads over a snapshot's files: a search matches every row (no TicketSQL but
    the pull's search for merges).

    Collections are paged ``per_page`` rows at a time with RT's page, pages and total
    (or, with ``counted`` off, as RT pages for an account that may not see every row:
    pages and total null). ``repeat[(collection, n)] = k``: the next k requests for page
    n get page n - 1 instead, as from a cache that ignores the page number. Data an RT can
    hold that cannot be true: ``stamp[txn_id] = created`` serves a transaction with that
    Created (a clock that was wrong, a restore), ``edit[txn_id] = {...}`` changes its fields
    (a queue move to a queue since deleted); a path in ``gone`` answers 404.
    """

    def __init__(self, snapshot: Path, per_page: int = 10) -> None:
        tickets = _rows(snapshot / "tickets.jsonl")
        queues = _rows(snapshot / "queues.jsonl")
        users = _rows(snapshot / "users.jsonl")
        self.collections: dict[str, list[dict[str, Any]]] = {
            # a fielded search gives ids as strings
            "tickets": [{**t, "id": str(t["id"])} for t in tickets],
            "transactions": _rows(snapshot / "transactions.jsonl"),
            "queues/all": [{"id": str(q["id"]), "Name": q["Name"]} for q in queues],
        }
        self.objects: dict[str, dict[str, Any]] = {}
        for queue in queues:
            self.objects[f"queue/{queue['id']}"] = queue
        for user in users:
            self.objects[f"user/{user['id']}"] = self.objects[f"user/{user['Name']}"] = user
        self.per_page = per_page
        self.counted = True
        self.repeat: dict[tuple[str, int], int] = {}
        self.stamp: dict[str, str] = {}
        self.edit: dict[str, dict[str, Any]] = {}
        self.gone: set[str] = set()
        self._lock = threading.Lock()

    def answer(self, target: str) -> Answer:
        parts = urlsplit(target)
        name = unquote(parts.path.split("/REST/2.0/", 1)[-1])
        query = parse_qs(parts.query)
        if name in self.gone:
            return answer(404, {"message": "Not found"})
        if name in self.collections:
            rows = [self._as_served(r) for r in self.collections[name]]
            sql = query.get("query", [""])[0]
            if "NewValue = 'deleted'" in sql:  # the queries it reads: merges and deletions,
                merges = "Field = 'MergedInto'" in sql
                rows = [
                    r for r in rows
                    if (r["Type"], r["NewValue"]) == ("Status", "deleted")
                    or (merges and (r["Type"], r["Field"]) == ("AddLink", "MergedInto"))
                ]  # fmt: skip
            if "Field = 'Queue'" in sql:  # and moves out of queues (by id; not where to)
                olds = re.findall(r"OldValue = '([^']*)'", sql)
                rows = [r for r in rows if (r["Type"], r["Field"]) == ("Set", "Queue")]
                rows = [r for r in rows if r["OldValue"] in olds]
            page = int(query.get("page", ["1"])[0])
            with self._lock:
                if self.repeat.get((name, page), 0) > 0:
                    self.repeat[(name, page)] -= 1
                    page -= 1
            return answer(200, self._page(rows, page))
        if name in self.objects:
            return answer(200, self.objects[name])
        return answer(404, {"message": "Not found"})

    def _as_served(self, row: dict[str, Any]) -> dict[str, Any]:
        key = str(row.get("id"))
        if row.get("type") != "transaction" or (key not in self.stamp and key not in self.edit):
            return row
        served = {**row, **self.edit.get(key, {})}
        return {**served, "Created": self.stamp[key]} if key in self.stamp else served

    def _page(self, rows: list[dict[str, Any]], page: int) -> dict[str, Any]:
        items = rows[(page - 1) * self.per_page : page * self.per_page]
        pages = max(1, -(-len(rows) // self.per_page))
        return {
            "items": items,
            "page": page,
            "per_page": self.per_page,
            "pages": pages if self.counted else None,
            "total": len(rows) if self.counted else None,
            "count": len(items),
        }


class FaultServer(ThreadingHTTPServer):
    """Answers each request with the next fault of ``script`` (the last one repeats), or from
    ``rt`` once the script is empty."""

    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.script: list[str | Answer] = []
        self.rt: FakeRT | None = None
        self.paths: list[str] = []
        self.bodies: list[bytes] = []  # of the writes (POST, PUT), in order
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/REST/2.0/"

    def next_fault(self, path: str) -> str | Answer:
        with self._lock:
            self.paths.append(path)
            if len(self.script) > 1 or (self.script and self.rt is not None):
                return self.script.pop(0)
            if self.script:
                return self.script[0]
        assert self.rt is not None, "the test gave the server nothing to answer with"
        return self.rt.answer(path)


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, *_args: Any) -> None:
        pass

    def do_POST(self) -> None:
        """A write is played the same faults as a read, once its body is in."""
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.do_GET()

    do_PUT = do_POST

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


def serve(server: FaultServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


def start() -> tuple[FaultServer, threading.Thread]:
    server = FaultServer()
    return server, serve(server)


def stop(server: FaultServer, thread: threading.Thread) -> None:
    server.stopped.set()
    server.shutdown()
    server.server_close()
    thread.join(5)
