"""Key moments of an incident, read from its history: each one a transaction.

A review's timeline of what mattered, in the shape postmortem templates use
(detection, diagnosis, repair), from what RT recorded: the ticket opened; the first
staff reply (detection: someone answered); the Tech Lead taking over (the first owner
who is not Operations staff); each hand-off from an ops queue to a developer queue; a
temporary fix recorded (Resolution Type set to the temporary value); validation
(Validated By set); each close (the last is the resolution) and reopen. The Tech Lead
adds or relabels moments in the review's written account (review.pages.written), by
transaction number; `with_team_moments` puts them together.

Vectorised over every ticket in `events`: one frame per kind, concatenated.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from review.analysis import facts
from review.settings.config import Config

MOMENT_COLUMNS = ["ticket_id", "txn_id", "at", "moment", "label", "who"]
# the moments in words, by key (the `moment` column)
OPENED, DETECTED, TECH_LEAD, HANDOFF, TEMPORARY, VALIDATED, CLOSED, RESOLVED, REOPENED = (
    "opened", "detected", "tech lead", "hand-off", "temporary fix", "validated", "closed",
    "resolved", "reopened",
)  # fmt: skip
TEAM = "added by the team"
RELABELLED = "relabelled by the team"


def _rows(found: pd.DataFrame, moment: str, label: pd.Series | str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticket_id": found["ticket_id"].to_numpy(),
            "txn_id": found["txn_id"].to_numpy(),
            "at": found["at"].to_numpy(),
            "moment": moment,
            "label": label.to_numpy() if isinstance(label, pd.Series) else label,
            "who": found["creator"].astype(str).to_numpy(),
        }
    )


def key_moments(
    events: pd.DataFrame, config: Config, operations_staff: Iterable[str] = ()
) -> pd.DataFrame:
    """The key moments of every ticket in `events`, in time order (MOMENT_COLUMNS)."""
    ops = set(operations_staff)
    inactive = config.statuses.inactive
    fields, resolution = config.fields, config.resolution
    parts = []
    created = events.loc[events["kind"] == "create"].drop_duplicates("ticket_id")
    parts.append(_rows(created, OPENED, "Opened"))
    replies = events.loc[facts.staff_reply(events)].drop_duplicates("ticket_id")
    parts.append(_rows(replies, DETECTED, "First staff reply (detection)"))
    owners = events.loc[facts.owner_set(events) & ~events["new"].isin(ops)]
    owners = owners.drop_duplicates("ticket_id")
    parts.append(_rows(owners, TECH_LEAD, "Tech Lead takes over: " + owners["new"].astype(str)))
    handoffs = events.loc[events["handoff"].astype(bool)]
    parts.append(
        _rows(
            handoffs,
            HANDOFF,
            "Hand-off: " + handoffs["old"].astype(str) + " to " + handoffs["new"].astype(str),
        )
    )
    is_field = events["kind"] == "field"
    temporary = events.loc[
        is_field
        & (events["field"] == fields.resolution_type)
        & (events["new"] == resolution.temporary)
    ].drop_duplicates("ticket_id")
    parts.append(_rows(temporary, TEMPORARY, f"Temporary fix recorded ({fields.resolution_type})"))
    validated = events.loc[
        is_field
        & (events["field"] == fields.validated_by)
        & (events["new"].fillna("").astype(str).str.strip() != "")
    ].drop_duplicates("ticket_id")
    parts.append(_rows(validated, VALIDATED, "Validated by " + validated["new"].astype(str)))
    closes = events.loc[facts.closing(events, inactive)]
    last = ~closes["ticket_id"].duplicated(keep="last")
    parts.append(
        _rows(closes.loc[last], RESOLVED, "Resolved (" + closes.loc[last, "new"].astype(str) + ")")
    )
    parts.append(
        _rows(
            closes.loc[~last],
            CLOSED,
            "Closed (" + closes.loc[~last, "new"].astype(str) + "), later reopened",
        )
    )
    reopens = events.loc[facts.reopening(events, inactive)]
    parts.append(_rows(reopens, REOPENED, "Reopened (" + reopens["new"].astype(str) + ")"))
    moments = pd.concat(parts, ignore_index=True)
    moments["at"] = pd.to_datetime(moments["at"], utc=True)
    moments = moments.sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    return moments[MOMENT_COLUMNS].reset_index(drop=True)


def with_team_moments(
    moments: pd.DataFrame, events: pd.DataFrame, team: list[tuple[int, str]]
) -> pd.DataFrame:
    """One ticket's moments with the team's: (transaction, label) pairs relabel the moment
    of that transaction or add one (time and who from the history); a transaction the
    history does not have is kept, without a time (`at` empty), so nothing written is lost.
    Adds `source`: 'history', RELABELLED or TEAM."""
    shown = moments.assign(source="history")
    if not team:
        return shown
    labels = pd.Series([label for _, label in team], index=[txn for txn, _ in team], dtype="object")
    labels = labels[~labels.index.duplicated(keep="last")]
    relabel = shown["txn_id"].isin(labels.index)
    shown.loc[relabel, "label"] = shown.loc[relabel, "txn_id"].map(labels)
    shown.loc[relabel, "source"] = RELABELLED
    extra = labels.loc[~labels.index.isin(shown["txn_id"])]
    history = events.drop_duplicates("txn_id").set_index("txn_id")
    ticket = moments["ticket_id"].iloc[0] if len(moments) else events["ticket_id"].iloc[0]
    added = pd.DataFrame(
        {
            "ticket_id": ticket,
            "txn_id": extra.index.astype("int64"),
            "at": pd.to_datetime(history["at"].reindex(extra.index).to_numpy(), utc=True),
            "moment": TEAM,
            "label": extra.to_numpy(),
            "who": history["creator"].reindex(extra.index).fillna("").astype(str).to_numpy(),
            "source": TEAM,
        }
    )
    out = pd.concat([shown, added], ignore_index=True) if len(added) else shown
    return out.sort_values(["at", "txn_id"], kind="stable", na_position="last").reset_index(
        drop=True
    )
