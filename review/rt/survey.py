"""Ask a live RT what a site has (`review init`) and whether the config fits it (`review check`).

RT keeps a lifecycle's statuses in its site config, not in REST2. What REST2 does say:
each queue's Lifecycle and the ticket custom fields applied to it (a Select field with the
values it offers), whether a ticket's status is inactive in its own queue's lifecycle
(TicketSQL `__Inactive__`, RT 5.0.3), and which moves a ticket's lifecycle offers from
where it is (a ticket's `lifecycle` links). `scan` reads that for the tickets of a window
into a snapshot of the shape a pull writes (the tickets, their status changes and queue
moves, the queues), so review.analysis.survey reads it as it reads any snapshot, and RT's
word on each status is added to what its dates say. `rt_problems` holds a config against
RT itself: the queues and fields it names, its statuses, and the account's rights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from review.errors import RTError
from review.rt.client import Page, RTClient, RTNotFound
from review.rt.history import TRANSACTION_FIELDS, chunks
from review.rt.pull import search_tickets, visible_queues
from review.rt.window import INACTIVE, sql_any, sql_quote, sql_time
from review.settings.config import Config
from review.settings.utc import now_utc
from review.snapshot import Snapshot, write_snapshot

ACTIVE = "__Active__"  # TicketSQL: an initial or active status of the ticket's own lifecycle
# RT's word on a status that no role of its queue's lifecycle has now (a status renamed or
# dropped since tickets took it): neither __Inactive__ nor __Active__ finds them
OUTSIDE = "outside"
HISTORY = "(Type = 'Status' OR (Type = 'Set' AND Field = 'Queue'))"


@dataclass
class Scan:
    """What RT told `scan`: the snapshot it wrote, and what only RT knows."""

    snapshot: Path
    # status -> 'inactive' or 'active' (initial or active) as RT counts it in the lifecycle of
    # the queues whose tickets hold it ('' when queues with different lifecycles disagree,
    # OUTSIDE when their lifecycles no longer have it)
    roles: dict[str, str] = field(default_factory=dict)
    # custom field name -> the values RT offers for it (a Select field), in RT's order
    offered_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # statuses the tickets' lifecycles offer moves to or from (the `lifecycle` links)
    offered_statuses: tuple[str, ...] = ()


def scan(
    client: RTClient,
    since: datetime,
    directory: Path,
    queues: Sequence[str] = (),
    on_page: Callable[[Page], None] | None = None,
) -> Scan:
    """Read the tickets of `queues` (default: every queue RT shows) created or resolved since
    `since`, with their status changes and queue moves, into a snapshot in `directory`."""
    tick = on_page or (lambda _page: None)
    shown = visible_queues(client)
    unknown = [q for q in queues if q not in shown]
    if unknown:
        raise RTError(
            f"RT at {client.conn.url} shows this account no queue "
            f"{', '.join(map(repr, unknown))} (it shows {', '.join(sorted(shown)) or 'none'}): "
            "fix --queue, or grant SeeQueue"
        )
    names = list(queues) or sorted(shown)
    queue_json = client.map(lambda q: client.get_object(f"queue/{shown[q]}"), names)
    when = sql_time(since)
    tickets = (
        search_tickets(
            client,
            f"{sql_any('Queue', names)} AND (Created >= '{when}' OR Resolved >= '{when}')",
            tick,
        )
        if names
        else []
    )
    transactions = _history(client, [int(t["id"]) for t in tickets], tick)
    write_snapshot(
        directory, tickets, transactions, queue_json, [],
        source=client.conn.url, query=f"review init: tickets created or resolved since {when}",
        pulled_at=now_utc(),
    )  # fmt: skip
    return Scan(
        snapshot=directory,
        roles=_roles(client, tickets, {int(q["id"]): q["Name"] for q in queue_json}, tick),
        offered_values=_offered_values(client, queue_json),
        offered_statuses=_offered_statuses(tickets),
    )


def _history(
    client: RTClient, ids: list[int], tick: Callable[[Page], None]
) -> list[dict[str, Any]]:
    """The status changes and queue moves of these tickets (none on RT < 5.0.2)."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(sorted(ids), 100):
        query = (
            f"ObjectType = 'RT::Ticket' AND ({' OR '.join(f'ObjectId = {i}' for i in chunk)})"
            f" AND {HISTORY}"
        )
        params = {"query": query, "fields": TRANSACTION_FIELDS, "orderby": "id"}
        try:
            rows += [r for page in client.pages("transactions", params, tick) for r in page.items]
        except RTNotFound:
            return []  # no bulk transactions search: statuses from the tickets alone
    return rows


def _roles(
    client: RTClient,
    tickets: list[dict[str, Any]],
    queue_names: dict[int, str],
    tick: Callable[[Page], None],
) -> dict[str, str]:
    """Each status tickets hold: inactive or active in its queue's lifecycle, as RT says."""
    pairs = sorted(
        {
            (queue_names.get(int((t.get("Queue") or {}).get("id", 0)), ""), t["Status"])
            for t in tickets
        }
    )
    said: dict[str, set[str]] = {}
    for queue, status in pairs:
        if not queue:
            continue
        verdict = OUTSIDE
        for marker, role in ((INACTIVE, "inactive"), (ACTIVE, "active")):
            query = (
                f"Queue = '{sql_quote(queue)}' AND Status = '{sql_quote(status)}' "
                f"AND Status = '{marker}'"
            )
            page = client.page("tickets", {"query": query})
            tick(page)
            if page.items:
                verdict = role
                break
        said.setdefault(status, set()).add(verdict)
    return {status: _one_role(roles) for status, roles in said.items()}


def _one_role(roles: set[str]) -> str:
    """RT's word on a status over the queues whose tickets hold it: theirs where they agree,
    OUTSIDE where no lifecycle has it now, '' where queues with different lifecycles
    disagree (a lifecycle without it does not disagree)."""
    known = roles - {OUTSIDE} or roles
    return known.pop() if len(known) == 1 else ""


def _offered_values(client: RTClient, queues: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    ids = sorted(
        {str(cf["id"]) for q in queues for cf in q.get("TicketCustomFields") or []}, key=int
    )
    fields = client.map(lambda i: client.get_object(f"customfield/{i}"), ids)
    return {
        str(cf["Name"]): tuple(str(v) for v in cf.get("Values") or [])
        for cf in fields
        if cf.get("Values")
    }


def _offered_statuses(tickets: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    found = {
        str(link[end])
        for t in tickets
        for link in t.get("_hyperlinks") or []
        if link.get("ref") == "lifecycle"
        for end in ("from", "to")
        if link.get(end) and link[end] != "*"  # '*': an action offered from any status
    }
    return tuple(sorted(found))


# --------------------------------------------------------------------------- review check


@dataclass(frozen=True)
class Misfit:
    """One way the config does not fit RT (a data problem for review.analysis.problems)."""

    kind: str
    text: str
    mismatch: bool = True


def rt_problems(client: RTClient, config: Config, snapshot: Snapshot | None) -> list[Misfit]:
    """The config held against RT: its queues, fields and values, statuses, and rights."""
    shown = visible_queues(client)
    wanted = [*config.queues.ops, *config.queues.developer]
    found = [
        Misfit(
            "rt-queue",
            f"[queues] names '{q}', which RT at {client.conn.url} does not show this account "
            f"(no such queue, or no SeeQueue); it shows: {', '.join(sorted(shown)) or 'none'}",
        )
        for q in wanted
        if q not in shown
    ]
    queues = {q: client.get_object(f"queue/{shown[q]}") for q in wanted if q in shown}
    if not queues:
        return found
    found += _rt_fields(client, config, queues)
    found += _rt_statuses(client, config, list(queues))
    found += _rt_rights(client, config, queues, shown, snapshot)
    return found


def _rt_fields(client: RTClient, config: Config, queues: dict[str, dict[str, Any]]) -> list[Misfit]:
    applied = {
        str(cf["name"]): str(cf["id"])
        for q in queues.values()
        for cf in q.get("TicketCustomFields") or []
    }
    found = []
    for key, name in vars(config.fields).items():
        if name and name not in applied:
            found.append(
                Misfit(
                    "rt-field",
                    f"[fields] {key} = '{name}' is not a ticket custom field of the configured "
                    f"queues in RT (or the account lacks SeeCustomField); their fields: "
                    f"{', '.join(sorted(applied)) or 'none'}",
                )
            )
    for section, field_name in (
        ("classification", config.fields.classification),
        ("resolution", config.fields.resolution_type),
    ):
        if field_name not in applied:
            continue
        try:
            offered = client.get_object(f"customfield/{applied[field_name]}").get("Values") or []
        except RTError:  # the field's definition is hidden (SeeCustomField on the field itself)
            continue
        if not offered:
            continue  # a free-form field offers no list to hold the values against
        for key, value in vars(getattr(config, section)).items():
            if value and value not in offered:
                found.append(
                    Misfit(
                        "rt-value",
                        f"[{section}] {key} = '{value}' is not a value RT offers for "
                        f"{field_name}: {', '.join(map(str, offered))}",
                    )
                )
    return found


def _rt_statuses(client: RTClient, config: Config, queues: list[str]) -> list[Misfit]:
    s = config.statuses
    found = []
    for role, names, other, wrong in (
        ("inactive", s.inactive, ACTIVE, "active"),
        ("active", (s.initial, *s.active), INACTIVE, "inactive"),
    ):
        known = " AND ".join(f"Status != '{sql_quote(n)}'" for n in names)
        marker = INACTIVE if role == "inactive" else ACTIVE
        unnamed = _statuses_of(
            client, f"{sql_any('Queue', queues)} AND Status = '{marker}' AND {known}"
        )
        found += [
            Misfit(
                "rt-status",
                f"RT counts status '{status}' {role} in the lifecycle of "
                f"{', '.join(queues)} ({count} ticket(s) now) and [statuses] does not name "
                f"it {role}: add it to statuses.{role if role == 'inactive' else 'active'}",
            )
            for status, count in unnamed
        ]
        crossed = _statuses_of(
            client,
            f"{sql_any('Queue', queues)} AND {sql_any('Status', names)} AND Status = '{other}'",
        )
        found += [
            Misfit(
                "rt-status",
                f"[statuses] names '{status}' {role}, but RT counts it {wrong} in the "
                f"lifecycle of {', '.join(queues)} ({count} ticket(s) now)",
            )
            for status, count in crossed
        ]
    return found


def _statuses_of(client: RTClient, query: str) -> list[tuple[str, str]]:
    """(status, how many tickets) in a search's first page of 100, most first ('100+' when
    the page is full: enough to name the statuses, not to count them)."""
    page = client.page("tickets", {"query": query, "fields": "Status"})
    counts: dict[str, int] = {}
    for item in page.items:
        counts[str(item.get("Status"))] = counts.get(str(item.get("Status")), 0) + 1
    full = len(page.items) >= page.per_page
    return [
        (status, f"{n}+" if full else str(n))
        for status, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _rt_rights(
    client: RTClient,
    config: Config,
    queues: dict[str, dict[str, Any]],
    shown: dict[str, str],
    snapshot: Snapshot | None,
) -> list[Misfit]:
    """What the account may do, tried on real objects: see the tickets of each queue
    (ShowTicket) and their comments and mail (ShowTicketComments, ShowOutgoingEmail), and
    file follow-ups (CreateTicket on [followups] queue)."""
    found = []
    for name in queues:
        ticket = _a_ticket(client, name, snapshot)
        if ticket is None:
            continue
        code = client.status(f"ticket/{ticket}")
        if code in (401, 403):
            found.append(
                Misfit(
                    "rt-right",
                    f"the account may not see ticket {ticket} of queue '{name}' (it needs "
                    "ShowTicket): a pull would leave such tickets out",
                )
            )
            continue
        hidden = _hidden_history(client, ticket)
        if hidden:
            found.append(
                Misfit(
                    "rt-right",
                    f"RT hides {hidden} transaction(s) of ticket {ticket} (queue '{name}') from "
                    "the account: it needs ShowTicketComments and ShowOutgoingEmail, or comment "
                    "counts and response times come out low",
                )
            )
    queue = config.followups.queue
    if queue not in shown:
        found.append(
            Misfit(
                "rt-right",
                f"[followups] queue '{queue}' is not a queue RT shows the account: `review "
                "follow-ups` needs it (with CreateTicket, ModifyTicket, ShowTicket and "
                "ShowTicketComments there)",
                False,
            )
        )
    else:
        links = client.get_object(f"queue/{quote(queue, safe='')}").get("_hyperlinks") or []
        if not any(link.get("ref") == "create" for link in links):
            found.append(
                Misfit(
                    "rt-right",
                    f"the account may not create tickets in [followups] queue '{queue}' "
                    "(CreateTicket): `review follow-ups --apply` would file nothing",
                    False,
                )
            )
    return found


def _a_ticket(client: RTClient, queue: str, snapshot: Snapshot | None) -> int | None:
    """A ticket of the queue to try rights on: the snapshot's newest, else RT's newest."""
    if snapshot is not None:
        ids = snapshot.queues.loc[snapshot.queues["name"] == queue, "queue_id"]
        mine = snapshot.tickets.loc[snapshot.tickets["queue_id"].isin(ids), "ticket_id"]
        if len(mine):
            return int(mine.max())
    page = client.page(
        "tickets",
        {
            "query": f"Queue = '{sql_quote(queue)}'",
            "orderby": "id",
            "order": "DESC",
            "per_page": 1,
        },
    )
    return int(page.items[0]["id"]) if page.items else None


def _hidden_history(client: RTClient, ticket: int) -> int:
    """How many transaction ids inside a ticket's visible history RT refuses to show (403)."""
    pages = client.pages(f"ticket/{ticket}/history", {})
    ids = sorted(int(item["id"]) for page in pages for item in page.items)
    if len(ids) < 2:
        return 0
    gaps = [i for i in range(ids[0] + 1, ids[-1]) if i not in set(ids)][:20]
    return sum(client.status(f"transaction/{i}") == 403 for i in gaps)
