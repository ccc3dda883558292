"""Which tickets a pull wants: the window (closed or opened in it, in the queues), as RT's
TicketSQL and TransactionSQL ask for it and as the exact test in UTC applies it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from review.settings.utc import SECOND_FORMAT, iso_utc_text

# The account's timezone shapes how RT reads dates in a query, so the server-side
# window is widened by a day and the exact window applied here, in UTC.
SLACK = timedelta(days=1)

# TicketSQL for "an inactive status of the ticket's own queue lifecycle" (RT 5.0.3 and later)
INACTIVE = "__Inactive__"


@dataclass(frozen=True)
class Window:
    """Which tickets a pull wants, in these queues: those that reached an inactive status in
    [since, until) and those created in [since, until) whatever their status (still open too).

    Inactive is what RT says of the ticket's own queue lifecycle (TicketSQL `__Inactive__`,
    which RT 5.0.3 answers per lifecycle), or one of the configured `inactive` statuses: a
    site whose lifecycle closes tickets as 'done' is pulled whole before its config knows it.
    """

    since: datetime
    until: datetime
    queues: tuple[str, ...]
    inactive: tuple[str, ...]

    def describe(self) -> str:
        """The query recorded in the manifest; equal descriptions allow an incremental pull."""
        return self._sql("", iso_utc_text(self.since), iso_utc_text(self.until))

    def ticket_sql(self) -> str:
        return self._sql("", sql_time(self.since - SLACK), sql_time(self.until + SLACK))

    def transaction_sql(self) -> str:
        since, until = sql_time(self.since - SLACK), sql_time(self.until + SLACK)
        return f"ObjectType = 'RT::Ticket' AND {self._sql('Ticket', since, until)}"

    def moved_out_sql(self, queue_ids: Iterable[str]) -> str:
        """TransactionSQL for the moves out of the queues (`queue_ids`) of tickets now in
        another queue, opened or resolved near the window: tickets the window's own search,
        which asks about the queue a ticket is in now, cannot see."""
        since, until = sql_time(self.since - SLACK), sql_time(self.until + SLACK)
        away = " AND ".join(f"TicketQueue != '{sql_quote(q)}'" for q in self.queues)
        near = " OR ".join(
            f"(Ticket{date} >= '{since}' AND Ticket{date} < '{until}')"
            for date in ("Created", "Resolved")
        )
        return (
            f"ObjectType = 'RT::Ticket' AND Type = 'Set' AND Field = 'Queue' AND "
            f"{sql_any('OldValue', queue_ids)} AND {away} AND ({near})"
        )

    def left(self, ticket: dict[str, Any]) -> bool:
        """Opened or resolved in the window (exactly, in UTC), whatever its queue and status:
        a ticket that left the queues and would otherwise belong to the window."""
        resolved = parse_time(ticket.get("Resolved"))
        return self.opened(ticket) or (resolved is not None and self.since <= resolved < self.until)

    def closed_sql(self, prefix: str = "") -> str:
        """Tickets in an inactive status: RT's, of their queue's lifecycle, or the config's."""
        return sql_any(prefix + "Status", (INACTIVE, *self.inactive))

    def _sql(self, prefix: str, since: str, until: str) -> str:
        return (
            f"{sql_any(prefix + 'Queue', self.queues)} AND (({self.closed_sql(prefix)}"
            f" AND {prefix}Resolved >= '{since}' AND {prefix}Resolved < '{until}')"
            f" OR ({prefix}Created >= '{since}' AND {prefix}Created < '{until}'))"
        )

    def opened(self, ticket: dict[str, Any]) -> bool:
        """Created in the window (exactly, in UTC)."""
        created = parse_time(ticket.get("Created"))
        return created is not None and self.since <= created < self.until

    def may_close(self, ticket: dict[str, Any], queue_names: dict[str, str]) -> bool:
        """In the queues, not opened in the window, and resolved in it: whether it belongs
        hangs on RT's word that its status is inactive (`closed_ids`)."""
        resolved = parse_time(ticket.get("Resolved"))
        return (
            _queue_of(ticket, queue_names) in self.queues
            and not self.opened(ticket)
            and resolved is not None
            and self.since <= resolved < self.until
        )

    def holds(
        self, ticket: dict[str, Any], queue_names: dict[str, str], closed: Collection[int]
    ) -> bool:
        """The exact test, in UTC, on a ticket as RT returned it; `closed` holds the ids RT
        counts as in an inactive status (see `closed_ids`)."""
        if _queue_of(ticket, queue_names) not in self.queues:
            return False
        return self.opened(ticket) or (
            int(ticket["id"]) in closed and self.may_close(ticket, queue_names)
        )

    def coverage(self, moved_out: Mapping[int, str] | None = None) -> dict[str, Any]:
        """What a snapshot of this window holds all of (manifest "coverage", see CONTRACTS),
        and the tickets it does not hold that left its queues for another (`moved_out`:
        ticket id -> the queue it is in now)."""
        return {
            "since": iso_utc_text(self.since),
            "until": iso_utc_text(self.until),
            "queues": list(self.queues),
            "closed_in_window": True,
            "opened_in_window": True,
            "moved_out": {str(t): q for t, q in sorted((moved_out or {}).items())},
        }


def _queue_of(ticket: dict[str, Any], queue_names: dict[str, str]) -> str:
    return queue_names.get(str((ticket.get("Queue") or {}).get("id")), "")


def sql_any(column: str, values: Iterable[str]) -> str:
    return "(" + " OR ".join(f"{column} = '{sql_quote(v)}'" for v in values) + ")"


def sql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def sql_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SECOND_FORMAT)


def parse_time(value: Any) -> datetime | None:
    """An RT date string as an aware UTC datetime; RT's unset date (1970-01-01) is None."""
    if not value or not isinstance(value, str) or value.startswith("1970-01-01"):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
