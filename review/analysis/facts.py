"""The facts every report reads, each defined once, from events, stretches and watchers.

What counts as a staff reply, a close or a reopen, when the owner was taken, who is on a
ticket's Cc beyond its requestors, what a custom field holds: metrics, close-out rules,
the checklist and the figures read these rather than re-deriving them, so they cannot
drift apart. Pure functions, frames in, frames out, vectorised.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow.compute as pc

from review.analysis.timeline import AT_CREATION as AT_CREATION  # re-exported: read it from here
from review.analysis.timeline import NOBODY, REQUESTOR, STAFF, queue_names
from review.settings.utc import ISO_UTC
from review.snapshot import Snapshot
from review.snapshot.parse import seconds_text


def iso_utc(at: pd.Series, missing: str | None = "") -> pd.Series:
    """UTC times as '2026-08-03T14:00:00Z' text; `missing` (None: NaN) where there is none."""
    seconds = seconds_text(at)
    if seconds is None:
        text: pd.Series = at.dt.strftime(ISO_UTC)
    else:
        iso = pc.replace_substring(seconds, " ", "T", max_replacements=1)
        iso = pc.binary_join_element_wise(iso, "Z", "")
        text = pd.Series(iso.to_pandas().array, index=at.index, name=at.name)
    return text if missing is None else text.fillna(missing)


def times_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for people and files: every UTC time column as ISO_UTC text (NaN where none)."""
    times = [c for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.DatetimeTZDtype)]
    return frame.assign(**{str(c): iso_utc(frame[c], missing=None) for c in times})


# --------------------------------------------------------------------------- events


def staff_reply(events: pd.DataFrame) -> pd.Series:
    """Replies (Correspond) by staff: not a requestor of the ticket, not a user RT records as
    unprivileged who did no staff work on the ticket (a Cc'd customer replying to all), not
    RT_System."""
    mask: pd.Series = (events["kind"] == "reply") & (events["actor"] == STAFF)
    return mask


def requestor_reply(events: pd.DataFrame) -> pd.Series:
    """Replies (Correspond) by a requestor of the ticket."""
    mask: pd.Series = (events["kind"] == "reply") & (events["actor"] == REQUESTOR)
    return mask


def staff_left_status(events: pd.DataFrame, status: str) -> pd.Series:
    """Status changes by staff out of `status` (the configured initial status: triage)."""
    mask: pd.Series = (
        (events["kind"] == "status") & (events["old"] == status) & (events["actor"] == STAFF)
    )
    return mask


def closing(events: pd.DataFrame, inactive: Iterable[str]) -> pd.Series:
    """Moves from an active status into an inactive one."""
    inactive = list(inactive)
    mask: pd.Series = (
        (events["kind"] == "status") & events["new"].isin(inactive) & ~events["old"].isin(inactive)
    )
    return mask


def reopening(events: pd.DataFrame, inactive: Iterable[str]) -> pd.Series:
    """Moves from an inactive status back to an active one."""
    inactive = list(inactive)
    mask: pd.Series = (
        (events["kind"] == "status") & events["old"].isin(inactive) & ~events["new"].isin(inactive)
    )
    return mask


def owner_set(events: pd.DataFrame) -> pd.Series:
    """Owner changes that make a person (not Nobody) the owner."""
    mask: pd.Series = (events["kind"] == "owner") & (events["new"] != NOBODY)
    return mask


def owner_taken(events: pd.DataFrame) -> pd.Series:
    """Owner changes from Nobody to a person (a triage step)."""
    mask: pd.Series = owner_set(events) & (events["old"] == NOBODY)
    return mask


def triage(events: pd.DataFrame, initial: str) -> pd.Series:
    """What triages a ticket: the owner taken from Nobody, a staff reply, or staff moving
    the status out of `initial` (metrics' triaged_at is the first of them)."""
    mask: pd.Series = owner_taken(events) | staff_reply(events) | staff_left_status(events, initial)
    return mask


def last_close(events: pd.DataFrame, inactive: Iterable[str]) -> pd.DataFrame:
    """The last close per ticket: index ticket_id; txn_id, at, new (the inactive status)."""
    closes = events.loc[closing(events, inactive)]
    last: pd.DataFrame = closes.groupby("ticket_id")[["txn_id", "at", "new"]].last()
    return last


def creations(events: pd.DataFrame) -> pd.DataFrame:
    """The Create transaction per ticket: index ticket_id; txn_id, at."""
    creates = events.loc[events["kind"] == "create"].groupby("ticket_id")[["txn_id", "at"]]
    first: pd.DataFrame = creates.first()
    return first


# --------------------------------------------------------------------------- stretches


def at_creation(segments: pd.DataFrame) -> pd.DataFrame:
    """Each ticket's state at creation (queue, status, owner; start = created), by ticket_id."""
    first: pd.DataFrame = segments.loc[segments["txn_id"] == AT_CREATION].set_index("ticket_id")
    return first


# --------------------------------------------------------------------------- watchers


def requestors(watchers: pd.DataFrame) -> pd.DataFrame:
    """The requestors of each ticket: ticket_id, user."""
    found: pd.DataFrame = watchers.loc[watchers["role"] == "Requestor", ["ticket_id", "user"]]
    return found


def extra_cc(watchers: pd.DataFrame) -> pd.DataFrame:
    """Cc watchers who are not requestors of the same ticket: ticket_id, user, sorted."""
    cc = watchers.loc[watchers["role"] == "Cc", ["ticket_id", "user"]]
    cc = cc.merge(requestors(watchers), how="left", indicator=True)
    found: pd.DataFrame = cc.loc[cc["_merge"] == "left_only", ["ticket_id", "user"]]
    return found.sort_values(["ticket_id", "user"]).reset_index(drop=True)


# --------------------------------------------------------------------------- tickets


def survivors(tickets: pd.DataFrame) -> pd.Series:
    """For each ticket merged into another (EffectiveId not its own id), the ticket it lives
    on as: RT's EffectiveId followed through the snapshot's own rows, so a chain left by
    merges on merged tickets (A into B, then B into C) ends at C. Index ticket_id."""
    effective = tickets.set_index("ticket_id")["effective_id"].dropna().astype("int64")
    merged = effective.loc[effective != effective.index]
    found = merged.copy()
    for _ in range(len(merged)):  # one step per link of the longest chain, all tickets at once
        step = found.map(merged).fillna(found).astype("int64")
        if step.equals(found) or (step == step.index).any():  # done, or a loop: stop where it is
            break
        found = step
    return found


# --------------------------------------------------------------------------- custom fields


def queue_now(snapshot: Snapshot, tickets: pd.DataFrame) -> pd.Series:
    """Each ticket's current queue by name (its id when RT's queue list lacks it)."""
    return queue_names(snapshot, tickets["queue_id"])


def field_values(snapshot: Snapshot, name: str, ids: pd.Index | pd.Series) -> pd.Series:
    """Custom field `name` now for the tickets `ids`: values joined by ', ', surrounding
    blanks dropped, '' when unset."""
    values: pd.Series = snapshot.field_values(name).reindex(ids).fillna("").str.strip()
    return values


def has_field(snapshot: Snapshot, name: str) -> bool:
    """Does RT define a custom field `name` at all (else the fact is not observable)?"""
    return name in set(snapshot.field_names["field"])
