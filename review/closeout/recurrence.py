"""Recurrences: incidents of one service with the same root cause, close together in time.

An incident is a recurrence when an earlier incident of the same service, with the same
root cause (the root-cause custom field, compared ignoring case and runs of spaces), was
opened at most `gaps.recurrence_days` before it. Each recurrence points at the most recent
such incident, so a chain A, B, C reads C -> B -> A. Incidents without a service or a root
cause cannot recur: the data cannot say.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from review.analysis.facts import field_values, queue_now
from review.analysis.incidents import incidents
from review.analysis.quality import values_held
from review.closeout.audit import service_rows
from review.closeout.registry import Registry
from review.settings.config import Config
from review.snapshot import Snapshot

COLUMNS = [
    "ticket_id", "service", "root_cause", "opened_at", "recurrence_of", "previous_opened_at",
    "recurred_as",
]  # fmt: skip


def unobservable(snapshot: Snapshot, config: Config) -> str:
    """Why recurrences cannot be found ('' when they can): they are matched on the service
    and the root cause, so without either field no incident can recur, and a count of 0
    would be a clean bill the data cannot give."""
    fields = set(snapshot.field_names["field"])
    for key in ("root_cause", "service"):
        name = getattr(config.fields, key)
        if not name:
            return f"not observable ([fields] {key} is not set)"
        if name not in fields:
            return f"not observable (field '{name}' not on any ticket)"
    return ""


def root_cause_key(text: pd.Series) -> pd.Series:
    """The form root causes are compared in: case folded, spaces collapsed, trimmed.

    Each distinct text is folded once (a history repeats a few hundred root causes: folding
    every row one by one was a third of a monthly run's recurrence step at 1,000,000 tickets).
    """
    codes, distinct = pd.factorize(text.fillna(""))
    folded = pd.Series(distinct, dtype=text.dtype).str.casefold().str.split().str.join(" ")
    key: pd.Series = folded.take(codes).set_axis(text.index)
    return key


def find_recurrences(incidents: pd.DataFrame, window_days: float) -> pd.DataFrame:
    """Every incident (ticket_id, service, root_cause, opened_at) with `recurrence_of`: the
    ticket id of the latest earlier incident of its service and root cause opened within
    `window_days`, else missing; `recurred_as`: the incident that is, in turn, a recurrence
    of this one. Rows come back ordered by opened_at."""
    frame = incidents[["ticket_id", "service", "root_cause", "opened_at"]].copy()
    frame["key"] = root_cause_key(frame["root_cause"])
    frame = frame.sort_values(["opened_at", "ticket_id"], kind="stable")
    known = (frame["key"] != "") & (frame["service"].fillna("") != "")
    earlier = frame.loc[known].groupby(["service", "key"], sort=False)[["ticket_id", "opened_at"]]
    previous = earlier.shift()
    close = (frame.loc[known, "opened_at"] - previous["opened_at"]) <= pd.Timedelta(
        days=window_days
    )
    frame["recurrence_of"] = previous["ticket_id"].where(close).astype("Int64")
    frame["previous_opened_at"] = previous["opened_at"].where(close)
    # by ticket and service: an incident of several services recurs in each one's own chain
    again = frame.dropna(subset=["recurrence_of"])
    later = pd.Series(
        again["ticket_id"].to_numpy(),
        index=pd.MultiIndex.from_arrays([again["recurrence_of"].astype("int64"), again["service"]]),
    )
    own = pd.MultiIndex.from_arrays([frame["ticket_id"], frame["service"]])
    frame["recurred_as"] = pd.array(later.reindex(own).to_numpy(), dtype="Int64")
    return frame[COLUMNS].reset_index(drop=True)


def recurrences(snapshot: Snapshot, config: Config, registry: Registry) -> pd.DataFrame:
    """`find_recurrences` of the snapshot's incidents (`opened`). Needs the whole snapshot: an
    earlier incident left out would hide a recurrence."""
    return find_recurrences(opened(snapshot, config, registry), config.gaps.recurrence_days)


def opened(snapshot: Snapshot, config: Config, registry: Registry) -> pd.DataFrame:
    """What `find_recurrences` reads of each incident: opened when created in RT (as the
    metrics' opened_at), the service as the close-out audit names it (the registry's name for
    RT's spelling, or for the queue), the root cause from its custom field. An incident whose
    service field holds several services has a row for each (`audit.service_rows`: it can
    recur in each). Each row is of one ticket's own data: review.derive keeps a month's
    part's with it."""
    tickets = incidents(snapshot)
    ids = pd.Index(tickets["ticket_id"])
    named = pd.DataFrame(  # kept typed: service_rows reads them as text, missing as ""
        {
            "ticket_id": ids,
            "service": field_values(snapshot, config.fields.service, ids).array,
            "queue": queue_now(snapshot, tickets).array,
        }
    )
    several = values_held(snapshot, config.fields.service)
    rows = service_rows(named, registry, several).drop_duplicates(["ticket_id", "service"])
    cause = field_values(snapshot, config.fields.root_cause, ids).set_axis(ids)
    created = pd.Series(tickets["created"].array, index=ids)
    return pd.DataFrame(
        {
            "ticket_id": rows["ticket_id"].to_numpy(),
            "service": rows["service"].to_numpy(),
            "root_cause": cause.reindex(rows["ticket_id"]).to_numpy(),
            "opened_at": created.reindex(rows["ticket_id"]).array,  # not a Timestamp per row
        }
    )


def opened_since(found: pd.DataFrame, day: date | None) -> pd.DataFrame:
    """The recurrences among incidents opened on or after `day` (all for None)."""
    if day is None:
        return found
    return found.loc[found["opened_at"] >= pd.Timestamp(day, tz="UTC")]


def with_recurrence_counts(
    table: pd.DataFrame, found: pd.DataFrame, blind: str = ""
) -> pd.DataFrame:
    """A per-service table (the support-gap table) with `recurrences` after `findings`: the
    count, or 'not observable' where they cannot be found (`blind`: `unobservable`'s why)."""
    counts = found.loc[found["recurrence_of"].notna()].groupby("service").size()
    out = table.copy()
    column = out["service"].map(counts).fillna(0).astype(int)
    out.insert(
        list(out.columns).index("findings") + 1,
        "recurrences",
        pd.Series("not observable", index=out.index, dtype=object) if blind else column,
    )
    return out


def recurrences_by_service(found: pd.DataFrame) -> pd.DataFrame:
    """Per service with any recurrence: incidents, recurrences, and the root causes that came
    back (as the first incident wrote them), most recurrences first."""
    again = found.loc[found["recurrence_of"].notna()]
    if again.empty:
        return pd.DataFrame(columns=["service", "incidents", "recurrences", "root causes"])
    counts = found.groupby("service").size().rename("incidents")
    keys = root_cause_key(found["root_cause"])
    first = found.assign(key=keys).groupby(["service", "key"])["root_cause"].first()
    written = (
        pd.Series(
            first.reindex(
                pd.MultiIndex.from_arrays([again["service"], keys[again.index]])
            ).to_numpy(),
            index=again.index,
        )
        .str.split()
        .str.join(" ")
    )
    table = (
        again.assign(cause=written)
        .groupby("service")
        .agg(
            recurrences=("ticket_id", "size"),
            causes=("cause", lambda c: "; ".join(dict.fromkeys(c))),
        )
    )
    table = table.join(counts).rename(columns={"causes": "root causes"}).reset_index()
    table = table.sort_values(["recurrences", "service"], ascending=[False, True], kind="stable")
    return table[["service", "incidents", "recurrences", "root causes"]].reset_index(drop=True)


def recurrence_text(found: pd.DataFrame, ticket_id: int, config: Config) -> str:
    """In words, for an incident's review: what it recurs, what recurred it, or why neither."""
    rows = found.loc[found["ticket_id"] == ticket_id]
    window = f"{config.gaps.recurrence_days:g} days"
    if rows.empty or not str(rows["root_cause"].iloc[0]).strip():
        return "cannot tell: no root cause recorded"
    if len(rows) == 1:
        return _in_words(rows.iloc[0], window)
    return "; ".join(  # an incident of several services: each one's own chain
        f"{row['service']}: {_in_words(row, window)}" for _, row in rows.iterrows()
    )


def _in_words(row: pd.Series, window: str) -> str:
    parts = []
    if pd.notna(row["recurrence_of"]):
        days = (row["opened_at"] - row["previous_opened_at"]).days
        parts.append(
            f"a recurrence of ticket {row['recurrence_of']} (same service and root cause, "
            f"opened {days} days earlier)"
        )
    if pd.notna(row["recurred_as"]):
        parts.append(f"came back as ticket {row['recurred_as']}")
    return "; ".join(parts) or f"none: no incident of this service and root cause within {window}"
