"""A snapshot flattened into tidy frames, one fact per row, and the problems met reading it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from review.snapshot.layout import MANIFEST
from review.snapshot.manifest import Coverage, coverage_of, utc

MESSAGE_COLUMNS = ["ticket_id", "txn_id", "data"]


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
    transactions: txn_id, ticket_id, type, field, old, new, created, creator
    watchers: ticket_id, role (Requestor|Cc|AdminCc), user   (the watchers now, not at the time)
    custom_fields: ticket_id, field_id, field, value          (one row per value)
    field_names: field_id, field                              (every custom field seen on a ticket)
    links: ticket_id, ref (refers-to, depends-on, ...), target (ticket id or URL), external
    queues: queue_id (str), name, lifecycle (RT's, '' if not recorded)
    users: user_id (str), name, email, real_name, privileged
    messages(ticket_ids): ticket_id, txn_id, data: RT's Data of each transaction (the text of
             a reply or comment), read only when asked for, since it is most of a snapshot
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
    messages: Callable[[Iterable[int] | None], pd.DataFrame] = field(
        default=lambda ticket_ids=None: pd.DataFrame(columns=MESSAGE_COLUMNS), repr=False
    )

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
        """One custom field's current value per ticket (values joined by ', '), '' if unset.
        Where no ticket holds two values (most fields), there is nothing to join: the values
        are taken as join_per_key would give them (as text, in their type)."""
        cf = self.custom_fields
        chosen = cf["field"].eq(name).to_numpy(dtype=bool, na_value=False)
        keys, values = cf["ticket_id"][chosen], cf["value"][chosen]
        if keys.is_unique and isinstance(values.dtype, pd.StringDtype):
            text = values.astype("string").astype(values.dtype)
            joined = pd.Series(text.array, index=pd.Index(keys, name=keys.name), name=values.name)
        else:
            joined = join_per_key(keys, values, ", ")
        return joined.reindex(self.tickets["ticket_id"], fill_value="").rename(name)


def join_per_key(keys: pd.Series, values: pd.Series, sep: str) -> pd.Series:
    """Each key's values joined by `sep` in their order, by sorted key: what
    ``groupby(keys).agg(sep.join)`` gives, with one string operation per value a key has
    at most rather than a Python call per key."""
    frame = pd.DataFrame({"key": keys.to_numpy(), "value": values.astype("string").to_numpy()})
    frame = frame.sort_values("key", kind="stable", ignore_index=True)
    nth = frame.groupby("key", sort=False).cumcount().to_numpy()
    joined = frame.loc[nth == 0].set_index("key")["value"]
    for n in range(1, int(nth.max(initial=0)) + 1):
        more = frame.loc[nth == n].set_index("key")["value"]
        joined.loc[more.index] = joined.loc[more.index] + sep + more
    joined.index.name = keys.name
    found: pd.Series = joined.rename(values.name).astype(values.dtype)  # as groupby gives it
    return found


def sort_stable(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``frame.sort_values(by, kind="stable", ignore_index=True)``, cheaper when every key is
    whole numbers, times or booleans without a missing value (`stable_order`)."""
    order = stable_order([frame[column] for column in by])
    if order is None:
        return frame.sort_values(by, kind="stable", ignore_index=True)
    return frame.take(order).reset_index(drop=True)


def stable_order(keys: list[pd.Series]) -> np.ndarray | None:
    """The positions that sort rows by `keys` (the first first), ties in their order: numpy's
    lexsort (pandas first numbers each key's distinct values: most of a sort of events); None
    when a key is text or has a missing value (pandas puts those last)."""
    found = [_sort_key(key) for key in keys]
    known = [key for key in found if key is not None]
    if len(known) < len(found):
        return None
    order = np.argsort(known[0], kind="stable")
    return order if _in_order(known, order) else np.lexsort(known[::-1])


def _in_order(keys: list[np.ndarray], order: np.ndarray) -> bool:
    """Whether `order` (sorting by the first key) sorts by the others too within each first
    key's rows (rows in time order within a ticket, as RT writes them: one sort, not three)."""
    if len(keys) == 1 or len(order) < 2:
        return True
    same = keys[0][order[1:]] == keys[0][order[:-1]]
    before, equal = np.zeros(len(order) - 1, dtype=bool), np.ones(len(order) - 1, dtype=bool)
    for key in keys[1:]:
        now, then = key[order[1:]], key[order[:-1]]
        before |= equal & (then < now)
        equal &= then == now
    return bool((before | equal | ~same).all())


def _sort_key(values: pd.Series) -> np.ndarray | None:
    """The numbers a column sorts by, or None when numpy cannot stand in for pandas (text; a
    missing value, which pandas puts last)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.array
        return None if stamps.isna().any() else np.asarray(stamps.asi8)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
        return values.to_numpy()
    return None
