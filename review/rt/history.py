"""Reading the pulled tickets' histories: one bulk TransactionSQL search (or one listing per
ticket on RT < 5.0.2), the tickets merged away since the last pull, and whether RT hid rows
from the account."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal

from review.errors import RTError
from review.rt.client import Page, RTClient, RTNotFound
from review.rt.window import sql_quote

log = logging.getLogger(__name__)
History = Literal["auto", "bulk", "per-ticket"]


TRANSACTION_FIELDS = "ObjectType,ObjectId,Type,Field,OldValue,NewValue,Created,Creator,Data"

GAP_PROBES = 8

Bulk = tuple[list[dict[str, Any]], bool, bool]


def bulk(client: RTClient, queries: list[str], on_page: Callable[[Page], None]) -> Bulk:
    """Rows of TransactionSQL searches, whether RT visibly dropped rows, and whether it
    stated full row counts (it does so only for an account that sees every row)."""
    rows: list[dict[str, Any]] = []
    hidden, sees_all = False, True
    for query in queries:
        params = {"query": query, "fields": TRANSACTION_FIELDS, "orderby": "id"}
        got, dropped, counted = _collect(client.pages("transactions", params, on_page))
        rows += got
        hidden, sees_all = hidden or dropped, sees_all and counted
    return rows, hidden, sees_all


def read_transactions(
    client: RTClient,
    ticket_ids: list[int],
    history: History,
    on_page: Callable[[Page], None],
    early: Future[Bulk] | None = None,
) -> tuple[list[dict[str, Any]], Literal["bulk", "per-ticket"], bool, bool]:
    """History of the tickets, how it was read, whether rows were hidden, whether RT counted.

    ``early`` is a bulk search of the whole window started alongside the ticket search;
    without it the tickets' ids are asked for, 100 per search.
    """
    if not ticket_ids:
        if early is not None:
            early.cancel()
        return [], "bulk" if history != "per-ticket" else "per-ticket", False, True
    if history != "per-ticket":
        queries = [
            f"ObjectType = 'RT::Ticket' AND ({' OR '.join(f'ObjectId = {i}' for i in chunk)})"
            for chunk in chunks(ticket_ids, 100)
        ]
        try:
            rows, hidden, sees_all = early.result() if early else bulk(client, queries, on_page)
            return rows, "bulk", hidden, sees_all
        except RTNotFound:
            if history == "bulk":
                raise RTError(
                    f"RT at {client.conn.url} has no bulk transactions search (RT < 5.0.2): "
                    "pull with --history auto or per-ticket"
                ) from None
            log.info("RT has no bulk transactions search; reading history per ticket")

    def one(ticket_id: int) -> tuple[list[dict[str, Any]], bool, bool]:
        params = {"fields": TRANSACTION_FIELDS}
        return _collect(client.pages(f"ticket/{ticket_id}/history", params, on_page))

    results = client.map(one, ticket_ids)
    rows = [row for got, _, _ in results for row in got]
    hidden = any(dropped for _, dropped, _ in results)
    return rows, "per-ticket", hidden, all(counted for _, _, counted in results)


def gone_away(
    client: RTClient,
    fetched: list[dict[str, Any]],
    wanted: list[int],
    how: str,
    since_seconds: int,
) -> set[int]:
    """Tickets merged into another or deleted since the last pull: they must leave the snapshot.

    A survivor's per-ticket history lists the merged ticket's rows under its own id; in
    bulk, the search finds the MergedInto rows RT writes on the merged ticket itself. RT's
    ticket searches never return a deleted ticket (not even its LastUpdated moving), so one
    search for the Status rows to 'deleted' finds them; RT before 5.0.2 has none to ask.
    """
    merged = {int(t["ObjectId"]) for t in fetched} - set(wanted) if how == "per-ticket" else set()
    kinds = ["(Type = 'Status' AND NewValue = 'deleted')"]
    if how != "per-ticket":
        kinds.append("(Type = 'AddLink' AND Field = 'MergedInto')")
    query = (
        f"ObjectType = 'RT::Ticket' AND ({' OR '.join(kinds)})"
        f" AND Created > '-{max(since_seconds, 1)} seconds'"
    )
    try:
        rows, _, _ = _collect(
            client.pages("transactions", {"query": query, "fields": "ObjectId,Type,NewValue"})
        )
    except RTNotFound:
        return merged
    return merged | {
        int(t["ObjectId"])
        for t in rows
        if t.get("Type") == "Status"
        or not str(t.get("NewValue", "")).endswith(f"/ticket/{t['ObjectId']}")
    }


def marked_comments(
    client: RTClient, ticket_id: int, mark: str, fields: str = "Type,Data"
) -> list[dict[str, Any]]:
    """The rows of a ticket's comments whose text holds `mark` (a marker the kit writes in its
    own comments' subjects, so a re-run finds what an earlier run posted): one TransactionSQL
    search (RT >= 5.0.2; older RTs: the ticket's history, paged). RT shows comments only to an
    account with ShowTicketComments: without it, none."""
    number = int(ticket_id)
    # `mark` without its "[": RT 5.0.3 reads any query holding one as JSON, not TransactionSQL
    query = (
        f"ObjectType = 'RT::Ticket' AND ObjectId = {number} AND Type = 'Comment' "
        f"AND Data LIKE '{sql_quote(mark)}'"
    )
    try:
        params = {"query": query, "fields": fields, "orderby": "id"}
        rows = [i for p in client.pages("transactions", params) for i in p.items]
    except RTNotFound:
        history = client.pages(f"ticket/{number}/history", {"fields": fields})
        rows = [i for p in history for i in p.items]
    return [row for row in rows if row.get("Type") == "Comment"]


def _collect(pages: Iterable[Page]) -> tuple[list[dict[str, Any]], bool, bool]:
    """Rows of all pages, whether a page before the last came back short (rows hidden),
    and whether RT stated the total."""
    seen: list[Page] = list(pages)
    rows = [row for page in seen for row in page.items]
    nonempty = [p for p in seen if p.items]
    dropped = any(p.short for p in nonempty[:-1])
    return rows, dropped, seen[0].total is not None


def _gaps_hidden(
    client: RTClient, transactions: list[dict[str, Any]], ticket_ids: list[int]
) -> bool:
    """Probe a few transaction ids missing inside the pulled tickets' histories.

    Only an account that may not see every row (RT then hides ``total``) needs
    this: RT answers 403 for a transaction that exists but is hidden from it.
    """
    if not ticket_ids:
        return False
    have = {int(t["id"]) for t in transactions}
    wanted = set(ticket_ids)
    by_ticket: dict[int, list[int]] = {}
    for t in transactions:
        if int(t["ObjectId"]) in wanted:
            by_ticket.setdefault(int(t["ObjectId"]), []).append(int(t["id"]))
    probes: list[int] = []
    for ids in by_ticket.values():
        ids.sort()
        for low, high in itertools.pairwise(ids):
            probes += [i for i in range(low + 1, high) if i not in have][:2]
    return any(client.status(f"transaction/{i}") == 403 for i in sorted(set(probes))[:GAP_PROBES])


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass
class Histories:
    """The histories a pull read: of the tickets `wanted`, how (bulk or per ticket), and
    whether RT hid some of them from the account."""

    fetched: list[dict[str, Any]]
    how: Literal["bulk", "per-ticket"]
    hidden: bool
    sees_all: bool
    wanted: list[int]

    def hides(self, client: RTClient, transactions: list[dict[str, Any]]) -> bool:
        """Whether RT kept transactions of the pulled tickets from this account."""
        return self.hidden or (
            not self.sees_all and _gaps_hidden(client, transactions, self.wanted)
        )
