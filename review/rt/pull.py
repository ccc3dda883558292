"""Pull the tickets closed or opened in a window, their history, queues and users, into a snapshot.

Request budget: one ticket search with every field at 100 per page, one bulk
TransactionSQL search at 100 per page (or, on RT < 5.0.2, one history listing
per ticket), one GET per queue and per user the data refers to, and one TransactionSQL
search for the tickets that left the queues (`moved_out`). Pulling
again into the same snapshot asks only for tickets whose LastUpdated moved, and (one
TransactionSQL search) for those merged or deleted since.
The snapshot is written beside the old one and swapped in when complete.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from tqdm import tqdm

from review.errors import RTAuthError, RTError, SnapshotError
from review.rt.client import Page, RTAbandoned, RTClient, RTNotFound
from review.rt.history import Bulk, Histories, History, bulk, chunks, gone_away, read_transactions
from review.rt.window import SLACK, Window, parse_time
from review.settings.utc import iso_utc_text
from review.snapshot import DATA_FILES, UNSET_DATE, read_jsonl, snapshot_target, write_snapshot

log = logging.getLogger(__name__)


TICKET_FIELDS = (
    "AdminCc,Cc,Created,Creator,CustomFields,Due,EffectiveId,FinalPriority,InitialPriority,"
    "LastUpdated,LastUpdatedBy,Owner,Priority,Queue,Requestor,Resolved,SLA,Started,Starts,Status,"
    "Subject,TimeEstimated,TimeLeft,TimeWorked,Told,Type,_hyperlinks"
)
# Tickets touched this long before the previous pull started are asked for again. The
# watermark is sent as "-N seconds" (relative to RT's clock), so only latency needs a margin.
MARGIN = timedelta(seconds=5)


@dataclass
class PullReport:
    """What a pull did, for the command line and the benchmark."""

    snapshot: Path
    mode: Literal["full", "incremental", "unchanged"]
    history: Literal["bulk", "per-ticket"]
    tickets: int
    transactions: int
    changed: int
    requests: int
    warnings: list[str] = field(default_factory=list)


Followups = Callable[[RTClient, str], list[dict[str, Any]]]  # the tagged tickets of a queue
NO_MOVES = (
    "RT before 5.0.2 has no transaction search: tickets of the window that left the pulled "
    "queues for another cannot be found, and are in no number"
)
HIDDEN = (
    "RT hid some transactions of the pulled tickets from this account, most likely "
    "comments (it lacks ShowTicketComments or ShowOutgoingEmail): comment counts and "
    "response metrics will be low; grant those rights and pull again with --full"
)


def pull(
    client: RTClient,
    window: Window,
    snapshot: Path,
    *,
    history: History = "auto",
    full: bool = False,
    progress: bool | None = None,
    followup_queue: str | None = None,
    fetch_followups: Followups | None = None,
) -> PullReport:
    """Pull ``window`` from RT into ``snapshot``, incrementally when it holds the same query.

    With ``followup_queue`` and ``fetch_followups`` (its search for tagged tickets:
    review.closeout.followups.fetch_followups, given by the caller so that the RT layer
    needs nothing above it), the follow-up tickets of that queue are taken whole each time
    (one search) into the snapshot's followups.jsonl.
    """
    started = datetime.now(UTC).replace(microsecond=0)
    snapshot_target(snapshot)  # refuse a directory that is not a snapshot before asking RT
    show = sys.stderr.isatty() if progress is None else progress
    previous = None if full else _previous(snapshot, client.conn.url, window.describe())
    got, read = _select_and_read(client, window, previous, started, history, show)
    transactions = sorted(
        got.transactions + [t for t in read.fetched if int(t["ObjectId"]) in got.keep],
        key=lambda t: int(t["id"]),
    )
    tickets = [got.keep[i] for i in sorted(got.keep)]
    queues, users = _referenced(client, tickets, transactions, got.queues, got.users)
    # RT hides rows from this account: said now, and kept in the manifest until a full pull
    hidden = read.hides(client, transactions) or (previous is not None and previous.hidden)
    warnings = [HIDDEN] if hidden else []
    moved = (
        got.moved_out
        if got.mode == "unchanged"
        else moved_out(client, window, got.keep, got.queue_ids)
    )
    if moved is None:
        warnings.append(NO_MOVES)
    elif moved:
        warnings.append(moved_out_warning(moved))
    followups = None
    if followup_queue and fetch_followups is not None:
        followups = _followups(client, followup_queue, fetch_followups, warnings)
    _write(
        snapshot, tickets, transactions, queues, users, client.conn.url, window.describe(),
        {**window.coverage(moved or {}), "hidden_history": hidden}, started, followups,
    )  # fmt: skip
    return PullReport(
        snapshot, got.mode, read.how, len(tickets), len(transactions), len(read.wanted),
        client.requests, warnings,
    )  # fmt: skip


def _select_and_read(
    client: RTClient,
    window: Window,
    previous: _Previous | None,
    started: datetime,
    history: History,
    show: bool,
) -> tuple[_Selection, Histories]:
    """The tickets to take (the window's, or what changed since `previous`) and the history
    of those that changed; a full pull reads the window's history beside the ticket search."""
    with (
        tqdm(desc="pull", unit="page", disable=not show, leave=False) as bar,
        ThreadPoolExecutor(max_workers=1) as side,
    ):
        client.notify = _retry_notice(bar, show, client.conn.url)
        queue_names = {v: k for k, v in _check_queues(client, window.queues).items()}
        on_page = _advance(bar)
        early = None
        if previous is None and history != "per-ticket":
            # The window's history does not depend on the ticket search: read both at once.
            early = side.submit(bulk, client, [window.transaction_sql()], on_page)
            early.add_done_callback(lambda done: _abandon_if_failed(client, done))
        try:
            got = (
                _select_window(client, window, queue_names, on_page)
                if previous is None
                else _select_changes(client, window, previous, started, queue_names, on_page)
            )
            got.queue_ids = sorted(queue_names, key=_id_order)
            return got, _read_histories(client, got, history, on_page, early, previous is not None)
        except BaseException as exc:  # the history read beside stops too (a 401, Ctrl-C)
            client.abandon(exc)
            done = early is not None and early.done() and not early.cancelled()
            beside = early.exception() if early is not None and done else None
            if isinstance(exc, RTAbandoned) and beside is not None:
                raise beside from None  # the search stopped for it: say what it was, as it was
            raise


def _abandon_if_failed(client: RTClient, done: Future[Bulk]) -> None:
    """The history read beside the ticket search failed: the search stops too (but for RT
    without the bulk search, RTNotFound: the history is then read per ticket)."""
    if done.cancelled():
        return
    failure = done.exception()
    if failure is not None and not isinstance(failure, RTNotFound):
        client.abandon(failure)


@dataclass
class _Selection:
    """What a pull keeps before it reads histories: the tickets (`keep`, by id), those whose
    history it reads (`changed_ids`), what it keeps of the previous snapshot (transactions,
    queues, users) and how far back it asked RT for changes (`since_seconds`)."""

    keep: dict[int, dict[str, Any]]
    changed_ids: set[int]
    transactions: list[dict[str, Any]]
    queues: list[dict[str, Any]]
    users: list[dict[str, Any]]
    since_seconds: int
    mode: Literal["full", "incremental", "unchanged"]
    moved_out: dict[int, str] | None = field(default_factory=dict)  # the previous pull's
    queue_ids: list[str] = field(default_factory=list)  # of the window's queues


def _select_window(
    client: RTClient, window: Window, queue_names: dict[str, str], on_page: Callable[[Page], None]
) -> _Selection:
    """A full pull: every ticket of the window, each history to read."""
    tickets = search_tickets(client, window.ticket_sql(), on_page)
    # created outside the search's dates, a ticket matched as closed in the window
    known = {t["id"] for t in tickets if not _created_near(t, window)}
    closed = closed_ids(client, window, tickets, queue_names, on_page, known)
    keep = {t["id"]: t for t in tickets if window.holds(t, queue_names, closed)}
    return _Selection(keep, set(keep), [], [], [], 0, "full")


def _select_changes(
    client: RTClient,
    window: Window,
    previous: _Previous,
    started: datetime,
    queue_names: dict[str, str],
    on_page: Callable[[Page], None],
) -> _Selection:
    """An incremental pull: the previous snapshot's tickets, with those RT changed since (a
    margin before) its pull taken again, or dropped when they left the window."""
    since_seconds = int((started - (previous.pulled_at - MARGIN)).total_seconds())
    changed = search_tickets(client, f"LastUpdated > '-{max(since_seconds, 1)} seconds'", on_page)
    keep = {t["id"]: t for t in previous.tickets}
    changed_ids = {t["id"] for t in changed}
    closed = closed_ids(client, window, changed, queue_names, on_page)
    for ticket in changed:
        keep.pop(ticket["id"], None)
        if window.holds(ticket, queue_names, closed):
            keep[ticket["id"]] = ticket
    kept = [t for t in previous.transactions if int(t["ObjectId"]) not in changed_ids]
    mode: Literal["incremental", "unchanged"] = "incremental" if changed else "unchanged"
    return _Selection(
        keep, changed_ids, kept, previous.queues, previous.users, since_seconds, mode,
        previous.moved_out,
    )  # fmt: skip


def _followups(
    client: RTClient, queue: str, fetch: Followups, warnings: list[str]
) -> list[dict[str, Any]] | None:
    """The follow-up queue's tagged tickets, or None (and a warning) when it cannot be seen."""
    # an empty search cannot tell "no follow-ups" from "a queue this account cannot see"
    if client.status(f"queue/{quote(queue, safe='')}") == 200:
        return fetch(client, queue)
    warnings.append(
        f"the follow-up queue '{queue}' does not exist or this account may not "
        "see it (SeeQueue, ShowTicket): the snapshot holds no follow-ups "
        "([followups] queue)"
    )
    return None


def _write(
    snapshot: Path,
    tickets: list[dict[str, Any]],
    transactions: list[dict[str, Any]],
    queues: list[dict[str, Any]],
    users: list[dict[str, Any]],
    source: str,
    query: str,
    coverage: dict[str, Any],
    started: datetime,
    followups: list[dict[str, Any]] | None = None,
) -> None:
    """Swap the new snapshot in (write_snapshot also tidies an interrupted earlier pull)."""
    try:
        write_snapshot(
            snapshot,
            tickets,
            transactions,
            queues,
            users,
            source=source,
            query=query,
            pulled_at=iso_utc_text(started),
            coverage=coverage,
            followups=followups,
        )
    except OSError as exc:
        raise SnapshotError(
            f"could not write the new snapshot ({exc.strerror}); the previous one is unchanged: "
            "free space or fix permissions and pull again",
            str(snapshot),
        ) from None


@dataclass
class _Previous:
    pulled_at: datetime
    tickets: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    queues: list[dict[str, Any]]
    users: list[dict[str, Any]]
    moved_out: dict[int, str]
    hidden: bool  # RT hid rows of its tickets' histories from the account


def _previous(snapshot: Path, source: str, query: str) -> _Previous | None:
    """The existing snapshot, when it came from the same server and query."""
    manifest_file = snapshot / "manifest.json"
    if not manifest_file.is_file():
        return None
    try:
        manifest = json.loads(manifest_file.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("source") != source or manifest.get("query") != query:
        log.info("snapshot %s holds another query; pulling it in full", snapshot)
        return None
    pulled_at = parse_time(manifest.get("pulled_at"))
    if pulled_at is None:
        return None
    try:
        tickets, transactions, queues, users = (read_jsonl(snapshot / n) for n in DATA_FILES)
    except (OSError, ValueError):
        log.info("snapshot %s is unreadable; pulling it in full", snapshot)
        return None
    coverage = manifest.get("coverage") or {}
    moved = coverage.get("moved_out") or {}
    return _Previous(
        pulled_at, tickets, transactions, queues, users,
        {int(t): str(q) for t, q in moved.items()}, coverage.get("hidden_history") is True,
    )  # fmt: skip


def visible_queues(client: RTClient) -> dict[str, str]:
    """Queue name -> id of every queue RT shows this account (SeeQueue)."""
    found: dict[str, str] = {}
    for page in client.pages("queues/all", {"fields": "Name"}):
        for item in page.items:
            found[str(item.get("Name"))] = str(item["id"])
    return found


def _check_queues(client: RTClient, names: Sequence[str]) -> dict[str, str]:
    """Queue name -> id for the wanted queues, in one request; unknown names are an error."""
    found = visible_queues(client)
    missing = [n for n in names if n not in found]
    if missing:
        raise RTError(
            f"RT at {client.conn.url} has no queue {', '.join(map(repr, missing))} visible to this "
            f"account (it has {', '.join(sorted(found)) or 'none'}): fix --queue or [queues] "
            "in the config, or grant SeeQueue"
        )
    return {n: found[n] for n in names}


def moved_out(
    client: RTClient, window: Window, keep: Collection[int], queue_ids: Sequence[str]
) -> dict[int, str] | None:
    """The tickets of the window that left its queues for a queue the pull does not take
    (the window's search asks about the queue a ticket is in now, so it cannot see them):
    ticket id -> the queue it is in now (#id where RT does not show it); None where RT has
    no transaction search (before 5.0.2). One search, and one more with a GET per queue
    when some did."""
    params = {"query": window.moved_out_sql(queue_ids), "fields": "ObjectId", "orderby": "id"}
    try:
        rows = [row for page in client.pages("transactions", params) for row in page.items]
    except RTNotFound:
        return None
    left = {int(row["ObjectId"]) for row in rows} - set(keep)
    found = [
        t
        for chunk in chunks(sorted(left), 100)
        for t in search_tickets(client, " OR ".join(f"id = {i}" for i in chunk), lambda _: None)
        if int(t["id"]) not in keep and window.left(t)
    ]
    names: dict[str, str] = {}
    for queue in sorted({str(t["Queue"]["id"]) for t in found}, key=_id_order):
        try:
            names[queue] = str(client.get_object(f"queue/{queue}").get("Name") or f"#{queue}")
        except (RTNotFound, RTAuthError):
            names[queue] = f"#{queue}"
    return {int(t["id"]): names[str(t["Queue"]["id"])] for t in found}


def moved_out_warning(moved: dict[int, str]) -> str:
    """The pull's line about `moved_out`: what is missing and what to do."""
    return (
        f"{len(moved)} ticket(s) of the window left the pulled queues for a queue the pull "
        f"does not take ({_moved_text(moved)}): they are in no number; add that queue to "
        "[queues] (or --queue) and pull again"
    )


def _moved_text(moved: dict[int, str]) -> str:
    return ", ".join(f"ticket {t} is in {q}" for t, q in sorted(moved.items())[:10]) + (
        f" and {len(moved) - 10} more" if len(moved) > 10 else ""
    )


def closed_ids(
    client: RTClient,
    window: Window,
    tickets: list[dict[str, Any]],
    queue_names: dict[str, str],
    on_page: Callable[[Page], None],
    known: Collection[int] = (),
) -> set[int]:
    """The ids of `tickets` in an inactive status as RT counts it (`Window.closed_sql`).

    Only tickets whose place in the window hangs on it are asked about, 100 ids per search
    (none, usually, in a nightly pull); `known` are already known to be closed.
    """
    ask = sorted(
        t["id"] for t in tickets if t["id"] not in known and window.may_close(t, queue_names)
    )
    found = set(known)
    for chunk in chunks(ask, 100):
        query = f"({' OR '.join(f'id = {i}' for i in chunk)}) AND {window.closed_sql()}"
        for page in client.pages("tickets", {"query": query, "orderby": "id"}, on_page):
            found.update(int(item["id"]) for item in page.items)
    return found


def _created_near(ticket: dict[str, Any], window: Window) -> bool:
    """Created within the search's dates (the window widened by SLACK), or unknown."""
    created = parse_time(ticket.get("Created"))
    return created is None or window.since - SLACK <= created < window.until + SLACK


def search_tickets(
    client: RTClient, query: str, on_page: Callable[[Page], None]
) -> list[dict[str, Any]]:
    params = {"query": query, "fields": TICKET_FIELDS, "orderby": "id"}
    tickets: list[dict[str, Any]] = []
    for page in client.pages("tickets", params, on_page):
        tickets.extend(_as_single_get(t, client.conn.url) for t in page.items)
    return tickets


def _as_single_get(item: dict[str, Any], base: str) -> dict[str, Any]:
    """A ticket from a search, reshaped exactly as ``GET ticket/:id`` returns it.

    A search serialises a never-set ``Told`` (NULL in RT's database) as the unset date
    where ``GET`` leaves the key out, so it is left out here too. RT lists custom fields
    in no stable order; they are sorted by id so a ticket always serialises the same.
    """
    ticket = {k: v for k, v in item.items() if k not in ("_url", "type")}
    if ticket.get("Told") == UNSET_DATE:
        del ticket["Told"]
    ticket["id"] = int(item["id"])
    fields = ticket.get("CustomFields")
    if isinstance(fields, list):
        ticket["CustomFields"] = sorted(fields, key=lambda f: int(f.get("id", 0)))
    effective = item.get("EffectiveId")
    if not isinstance(effective, dict):
        eid = str(effective or item["id"])
        ticket["EffectiveId"] = {"_url": f"{base}ticket/{eid}", "id": eid, "type": "ticket"}
    return ticket


def _referenced(
    client: RTClient,
    tickets: list[dict[str, Any]],
    transactions: list[dict[str, Any]],
    old_queues: list[dict[str, Any]],
    old_users: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Queues and users the tickets and their history name; fetches only those not known yet."""
    queue_ids: set[str] = set()
    names: set[str] = set()
    numeric: set[str] = set()
    for ticket in tickets:
        queue_ids.add(str(ticket["Queue"]["id"]))
        for key in ("Creator", "LastUpdatedBy", "Owner"):
            names.add(str(ticket[key]["id"]))
        for key in ("Requestor", "Cc", "AdminCc"):
            names.update(str(w["id"]) for w in ticket.get(key) or [] if w.get("type") == "user")
    for t in transactions:
        names.add(str(t["Creator"]["id"]))
        if t["Type"] == "Set" and t["Field"] == "Queue":
            queue_ids.update(v for v in (t["OldValue"], t["NewValue"]) if v)
        if t["Type"] == "Set" and t["Field"] == "Owner":
            numeric.update(v for v in (t["OldValue"], t["NewValue"]) if v)
    queues = {str(q["id"]): q for q in old_queues}
    missing_queues = sorted(queue_ids - set(queues), key=_id_order)
    for q in client.map(lambda i: client.get_object(f"queue/{i}"), missing_queues):
        queues[str(q["id"])] = q
    users = {str(u["id"]): u for u in old_users}

    def known(key: str) -> bool:
        return key in users or any(
            key in (u.get("Name"), u.get("EmailAddress")) for u in users.values()
        )

    for batch in (names, numeric):
        missing = sorted(k for k in batch if not known(k))
        for u in client.map(lambda k: client.get_object(f"user/{_quote(k)}"), missing):
            users[str(_user_id(u))] = u
    return (
        [queues[k] for k in sorted(queues, key=_id_order)],
        [users[k] for k in sorted(users, key=_id_order)],
    )


def _user_id(user: dict[str, Any]) -> int:
    """A user's numeric id; without AdminUsers RT returns a summary whose id is only in its
    self link, so the id is copied in."""
    if "id" not in user:
        user["id"] = next(h["id"] for h in user["_hyperlinks"] if h.get("ref") == "self")
    return int(user["id"])


def _quote(key: str) -> str:
    return quote(key, safe="@")


def _advance(bar: Any) -> Callable[[Page], None]:
    def on_page(page: Page) -> None:
        if page.page == 1 and page.pages:  # each search adds its page count when it learns it
            bar.total = (bar.total or 0) + page.pages
            bar.refresh()
        bar.update(1)

    return on_page


def _retry_notice(bar: Any, show: bool, url: str) -> Callable[[str], None]:
    """Where a retry is told: at the start of the progress line on a terminal (without the
    address, so it fits), else one line on stderr each."""

    def notice(line: str) -> None:
        if show and not bar.disable:  # the bar is open
            bar.set_description_str(f"pull ({line.replace(f' at {url}', '')})" if line else "pull")
        elif line:
            print(f"pull: {line}", file=sys.stderr, flush=True)

    return notice


def _id_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (sys.maxsize, key)


def _read_histories(
    client: RTClient,
    got: _Selection,
    history: History,
    on_page: Callable[[Page], None],
    early: Future[Bulk] | None,
    incremental: bool,
) -> Histories:
    """The histories of the selected tickets that changed; an incremental pull also drops a
    ticket merged away or deleted since (and its kept transactions) from `got`."""
    wanted = sorted(i for i in got.changed_ids if i in got.keep)
    fetched, how, hidden, sees_all = read_transactions(client, wanted, history, on_page, early)
    if incremental:
        gone = gone_away(client, fetched, wanted, how, got.since_seconds) & set(got.keep)
        for ticket in gone:
            got.keep.pop(ticket)
        got.transactions = [t for t in got.transactions if int(t["ObjectId"]) not in gone]
        if gone:
            got.mode = "incremental"
    return Histories(fetched, how, hidden, sees_all, wanted)
