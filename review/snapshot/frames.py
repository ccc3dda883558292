"""A snapshot flattened into tidy frames, one fact per row, and the problems met reading it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from review.snapshot.layout import MANIFEST
from review.snapshot.manifest import Coverage, coverage_of, utc


@dataclass(frozen=True)
class Problem:
    """Something wrong in one line of a snapshot file; the row was left out."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.message}"
            if self.line
            else f"{self.file}: {self.message}"
        )


@dataclass
class Snapshot:
    """A snapshot flattened into frames, one fact per row.

    tickets: ticket_id, subject, status, queue, owner, creator, effective_id,
             created, started, resolved, last_updated (UTC timestamps; unset dates are NaT)
    transactions: txn_id, ticket_id, type, field, old, new, created, creator, data
    watchers: ticket_id, role (Requestor|Cc|AdminCc), user   (the watchers now, not at the time)
    custom_fields: ticket_id, field_id, field, value          (one row per value)
    field_names: field_id, field                              (every custom field seen on a ticket)
    links: ticket_id, ref (refers-to, depends-on, ...), target (ticket id or URL), external
    queues: queue_id (str), name, lifecycle (RT's, '' if not recorded)
    users: user_id (str), name, email, real_name, privileged
    """

    path: Path
    manifest: dict[str, Any]
    tickets: pd.DataFrame
    transactions: pd.DataFrame
    watchers: pd.DataFrame
    custom_fields: pd.DataFrame
    field_names: pd.DataFrame
    links: pd.DataFrame
    queues: pd.DataFrame
    users: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def coverage(self) -> Coverage | None:
        """The window, queues and kinds of ticket the pull copied; None if not recorded."""
        return coverage_of(self.manifest, self.path / MANIFEST)

    @property
    def pulled_at(self) -> pd.Timestamp | None:
        """When the pull ran: "now" for incidents still open (reproducible, not the wall clock)."""
        return utc(self.manifest.get("pulled_at"))

    def around(self, ticket_ids: Iterable[int]) -> Snapshot:
        """The part about these tickets and the tickets they link to (one incident's review)."""
        wanted = set(ticket_ids)
        links = self.links
        linked = links.loc[links["ticket_id"].isin(wanted) & ~links["external"], "target"]
        keep = wanted | set(pd.to_numeric(linked, errors="coerce").dropna().astype("int64"))
        per_ticket = ("tickets", "transactions", "watchers", "custom_fields", "links")
        return dataclasses.replace(
            self,
            **{
                name: getattr(self, name)
                .loc[lambda f: f["ticket_id"].isin(keep)]
                .reset_index(drop=True)
                for name in per_ticket
            },
        )

    def field_values(self, name: str) -> pd.Series:
        """One custom field's current value per ticket (values joined by ', '), '' if unset."""
        cf = self.custom_fields
        values = cf.loc[cf["field"] == name].groupby("ticket_id")["value"].agg(", ".join)
        return values.reindex(self.tickets["ticket_id"], fill_value="").rename(name)
