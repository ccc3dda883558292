"""What the data cannot back, per ticket, and what that takes away from the numbers.

Five kinds of bad data change a number without a word unless they are caught here:

- a time that cannot be true (review.snapshot.plausible: before RT existed, before its
  ticket was created, after the pull): build_events leaves the transaction out, so what
  is computed from that kind of event is unknown for the ticket;
- a time that runs backwards (plausible.backwards: earlier than a transaction of the same
  ticket with a smaller id, beyond a minute): RT wrote it later, so one of the two times is
  wrong and the order of the ticket's events is not known; the ids cannot say which, and
  the kit takes away what the later transaction's kind of event feeds (as for a time that
  cannot be true; the events keep it, in time order);
- a reference to a queue, user or custom field that the snapshot does not list (deleted
  in RT, or hidden from the pull's account): its name is unknown, so is whether a queue
  move is a hand-off or an owner change takes the ticket from Nobody;
- a ticket merged into one the snapshot does not hold: it is no incident of its own and
  its survivor is not there to count it;
- a ticket without its history (no Create transaction, which RT writes for every ticket):
  the pull did not bring it whole, and a ticket with no status change would seem resolved
  the moment it was opened.

`lost_inputs` lists them per ticket (`input`: what is lost, an event kind whose times
are lost, TRIAGE or one of the *_NAMES). A metric, close-out rule or checklist step
declares the data it reads (its `inputs`); where one is lost it is empty or "not
observable" with the evidence as its reason (`unmeasured`), never a clean 0.
`data_problems` says it once per kind, naming the tickets, as review.analysis.problems
lines (commands print them, pages show them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from review.analysis import facts
from review.analysis.problems import DataProblem
from review.analysis.timeline import IGNORED_TYPES, build_events, kinds, time_problems
from review.settings.config import Config
from review.snapshot import Snapshot, plausible
from review.snapshot.layout import QUEUES, USERS

QUEUE_NAMES, USER_NAMES, FIELD_NAMES = "queue names", "user names", "field names"
TRIAGE = "triage"  # the time of an event that triages the ticket (facts.triage), whatever its kind
LOST_COLUMNS = ["ticket_id", "kind", "input", "detail"]
UNMEASURED_COLUMNS = ["ticket_id", "item", "reason"]
# kind -> (what is wrong, per affected ticket; what the kit does about it)
KINDS: dict[str, tuple[str, str]] = {
    f"time-{key}": (
        "transactions without a time"
        if key == plausible.MISSING
        else f"transaction times {words.replace('its ticket', 'their ticket')}",
        "left out; what depends on them is not measured for those tickets (their reviews say "
        "which)",
    )
    for key, words in plausible.REASONS.items()
}
KINDS |= {
    "time-backwards": (
        "transaction times earlier than those of transactions RT wrote before them on their "
        "ticket (a smaller id) by more than "
        f"{plausible.ORDER_TOLERANCE.total_seconds():g} s",
        "the order of those tickets' events is not known: what depends on the later "
        "transactions' kind of event is not measured for those tickets (their reviews say "
        "which)",
    ),
    "unknown-queue": (
        f"queues that {QUEUES} does not list",
        "hand-offs and queue checks are not observable for those tickets",
    ),
    "unknown-user": (
        f"owners that {USERS} does not list",
        "triage, Tech Lead and owner checks are not observable for those tickets",
    ),
    "unknown-field": (
        "custom fields that no ticket of the snapshot names",
        "their changes are shown by id",
    ),
    "no-history": (
        "tickets without their history (no Create transaction)",
        "what depends on their history is not measured for them: pull them again",
    ),
    "merged-away": (
        "tickets merged into a ticket the snapshot does not hold",
        "left out of metrics and findings: pull the survivors' queues or window to count them",
    ),
    "several-values": (
        "custom fields the kit reads as one value that hold several",
        "the kit reads one value per incident (the service the registry is asked about, the "
        "urgency, the resolution type), so the rules and checklist steps that read them are "
        "not observable for those tickets (the per-service tables count such an incident under "
        "each of its services): make the field single-valued in RT, or keep one value on each "
        "ticket",
    ),
    "hidden-history": (
        "RT hid rows of the pulled tickets' histories from the pull's account (most likely "
        "comments: it lacks ShowTicketComments or ShowOutgoingEmail)",
        "what reads comments (the hand-off OLA, the reviews' communication logs and key "
        "moments) is short of them: grant those rights and pull again with --full",
    ),
    "moved-out": (
        "tickets of the pull's window that left its queues for a queue the pull did not take",
        "they are in no number: add that queue to [queues] (or review pull --queue) and pull again",
    ),
}


def _lost(ticket_id: pd.Series, kind: str | pd.Series, lost: str | pd.Series,
          detail: pd.Series | pd.Index) -> pd.DataFrame:  # fmt: skip
    def column(value: str | pd.Series | pd.Index) -> object:
        return value if isinstance(value, str) else value.to_numpy()

    return pd.DataFrame(
        {"ticket_id": ticket_id.astype("int64").to_numpy(), "kind": column(kind),
         "input": column(lost), "detail": column(detail)},
        index=range(len(ticket_id)),
    )  # fmt: skip


def _none() -> pd.DataFrame:
    """No row (LOST_COLUMNS), for a check with nothing to say: its text is not made."""
    return _lost(pd.Series(dtype="int64"), "", "", pd.Series(dtype="str"))


def _txn(events: pd.DataFrame) -> pd.Series:
    return "txn " + events["txn_id"].astype("int64").astype(str)


def _implausible_times(snapshot: Snapshot, config: Config, why: np.ndarray) -> pd.DataFrame:
    """The events whose time cannot be true (`why`: timeline.time_problems): their kind (and
    triage, if they triage) is lost for the ticket. build_events(implausible=True) is asked
    about their rows and tickets only (a handful): on the whole snapshot it made every event."""
    if not why.any():
        return _none()
    bad = build_events(_about(snapshot, why != 0), config, implausible=True)
    stamped = " at " + facts.iso_utc(bad["at"]) + " is "
    detail = (
        _txn(bad) + " (" + bad["kind"].astype(str) + ")"
        + stamped.where(bad["at"].notna(), " has a Created that is ")
        + plausible.describe(bad["reason"])
    )  # fmt: skip
    kind = "time-" + bad["reason"]
    triage = facts.triage(bad, config.statuses.initial).to_numpy(dtype=bool)
    return pd.concat(
        [
            _lost(bad["ticket_id"], kind, bad["kind"].astype(str), detail),
            _lost(bad["ticket_id"][triage], kind[triage], TRIAGE, detail[triage]),
        ],
        ignore_index=True,
    )


def _about(snapshot: Snapshot, rows: np.ndarray) -> Snapshot:
    """The snapshot cut to these transactions and the rows of their tickets: what
    build_events makes of each transaction is its own row's and its ticket's."""
    tx = snapshot.transactions.loc[rows]
    cut = {
        name: frame.loc[frame["ticket_id"].isin(tx["ticket_id"])]
        for name in ("tickets", "watchers", "custom_fields", "links")
        for frame in [getattr(snapshot, name)]
    }
    return dataclasses.replace(snapshot, transactions=tx, **cut)


TRIAGE_KINDS = ("reply", "owner", "status")  # the kinds of event facts.triage may pick


def _backwards_times(snapshot: Snapshot, why: np.ndarray) -> pd.DataFrame:
    """The transactions whose time runs backwards against their ids (plausible.backwards),
    among those that are events and whose time can be true (`why`: timeline.time_problems,
    0): their kind (and triage, if they triage) is lost for the ticket, the evidence names
    both transactions. Only the rows of tickets whose times ever go down are looked at
    (plausible.out_of_order, in numbers): nearly none, and the same transactions are found."""
    tx = snapshot.transactions
    rows = np.flatnonzero(plausible.out_of_order(tx["ticket_id"], tx["txn_id"], tx["created"]))
    if not len(rows):  # (a take of none from Arrow text still costs a pass over it)
        return _none()
    event = ~tx["type"].iloc[rows].isin(IGNORED_TYPES).to_numpy(dtype=bool)
    rows = rows[(why[rows] == 0) & event]
    found = plausible.backwards(
        tx["ticket_id"].iloc[rows], tx["txn_id"].iloc[rows], tx["created"].iloc[rows]
    )
    late = tx.loc[found.index]
    late = late.assign(kind=kinds(late), at=late["created"])
    earlier = (found["after_at"] - late["at"]).dt.total_seconds() / 3600
    detail = (
        _txn(late) + " (" + late["kind"].astype(str) + ") at " + facts.iso_utc(late["at"])
        + " is " + earlier.round(2).astype(str) + " h before txn "
        + found["after"].astype(str) + " at " + facts.iso_utc(found["after_at"])
        + ", which RT wrote before it"
    )  # fmt: skip
    kind = "time-backwards"
    # a kind that can triage (facts.triage) takes triage with it: who acted is not asked here
    triage = late["kind"].isin(TRIAGE_KINDS).to_numpy(dtype=bool)
    return pd.concat(
        [
            _lost(late["ticket_id"], kind, late["kind"].astype(str), detail),
            _lost(late["ticket_id"][triage], kind, TRIAGE, detail[triage]),
        ],
        ignore_index=True,
    )


# [fields] keys the kit reads as one value per incident (a registry entry, a configured value)
ONE_VALUE = ("service", "classification", "resolution_type")


def field_input(key: str) -> str:
    """The input a rule or checklist step that reads [fields] `key` declares (review check
    and the rules' `reads` name the key itself)."""
    return f"fields.{key}"


def _several_values(snapshot: Snapshot, config: Config) -> pd.DataFrame:
    """Tickets whose one-value field (ONE_VALUE: the registry's service, the urgency, the
    resolution type) holds several values, as a multi-value field in RT does: which one
    counts is not known, so nothing that reads it is observed (LOST_COLUMNS)."""
    keys = {getattr(config.fields, k): k for k in ONE_VALUE if getattr(config.fields, k)}
    cf = snapshot.custom_fields
    codes, names = pd.factorize(cf["field"])  # a missing name: -1, the last of `read`
    read = np.append(names.isin(list(keys)), False)[codes]
    pair = cf["ticket_id"].to_numpy(dtype="int64") * (len(names) + 1) + codes  # ticket, field
    # a ticket's field with one row holds one value or none: the text is read of the rest only
    held_twice = read & pd.Series(pair).duplicated(keep=False).to_numpy(dtype=bool)
    if not held_twice.any():
        return _none()
    cf = cf.loc[held_twice, ["ticket_id", "field", "value"]]
    cf = cf.loc[cf["value"].astype(str).str.strip() != ""]
    cf = cf.astype({"value": str})
    held = cf.groupby(["ticket_id", "field"], sort=True)["value"].transform("size")
    # values joined in Python only where there are several: a join for every ticket's field
    # was 3.6 s of a 25,000-ticket month
    grouped = cf.loc[held.to_numpy() > 1].groupby(["ticket_id", "field"], sort=True)["value"]
    several = pd.DataFrame({"n": grouped.size(), "values": grouped.agg(", ".join)}).reset_index()
    detail = (
        "ticket " + several["ticket_id"].astype("int64").astype(str) + "'s "
        + several["field"].astype(str) + " holds " + several["n"].astype(str) + " values: "
        + several["values"]
    )  # fmt: skip
    tags = several["field"].map(lambda name: field_input(keys[name]))
    return _lost(several["ticket_id"], "several-values", tags, detail)


def values_held(snapshot: Snapshot, name: str) -> pd.DataFrame:
    """(ticket_id, value): each value of custom field `name` on the tickets where it holds
    several, counted as `_several_values` counts them (blanks around a value dropped, empty
    values not counted), in ticket and value order ('' `name`: none)."""
    cf = snapshot.custom_fields
    cf = cf.loc[(cf["field"] == name) & (name != ""), ["ticket_id", "value"]]
    cf = cf.assign(value=cf["value"].astype(str).str.strip())
    cf = cf.loc[cf["value"] != ""]
    held = cf.groupby("ticket_id")["value"].transform("size").to_numpy()
    found: pd.DataFrame = cf.loc[held > 1].sort_values(["ticket_id", "value"], kind="stable")
    return found.reset_index(drop=True)


def _unknown_references(snapshot: Snapshot) -> pd.DataFrame:
    """The queues, users and custom fields that transactions or tickets name and the snapshot
    does not list (LOST_COLUMNS). The rows that may name one are taken out of the batch once,
    with the columns read, and the rows that do out of them where there are any: each take of
    Arrow text costs a pass over the text taken from (pandas' .loc takes)."""
    tx = snapshot.transactions
    is_set = _is(tx["type"], "Set")
    named = is_set | _is(tx["type"], "CustomField")  # the only ones that name these
    tx = tx.loc[named, ["ticket_id", "txn_id", "type", "field", "old", "new"]]
    kind, is_set = kinds(tx), is_set[named]
    queues = set(snapshot.queues["queue_id"])
    users = set(snapshot.users["user_id"]) | set(snapshot.users["name"])
    fields = set(snapshot.field_names["field_id"])
    parts = []
    for event_kind, known, what, names, listed, change in (
        ("queue", queues, "queue", QUEUE_NAMES, QUEUES, "moves the ticket"),
        ("owner", users, "user", USER_NAMES, USERS, "changes the owner"),
    ):
        rows = _is(kind, event_kind) & is_set
        for column, verb in (("old", "from"), ("new", "to")):
            value = tx[column]
            unknown = _rows(tx, rows & _true((value != "") & ~value.isin(known)))
            detail = (
                _txn(unknown) + f" {change} {verb} {what} #" + unknown[column]
                + f", which {listed} does not list"
            )  # fmt: skip
            parts.append(_lost(unknown["ticket_id"], f"unknown-{what}", names, detail))
    field_rows = _rows(
        tx, _is(kind, "field") & _true((tx["field"] != "") & ~tx["field"].isin(fields))
    )
    parts.append(
        _lost(
            field_rows["ticket_id"], "unknown-field", FIELD_NAMES,
            _txn(field_rows) + " changes custom field #" + field_rows["field"]
            + ", which no ticket of the snapshot names",
        )
    )  # fmt: skip
    tickets = snapshot.tickets
    strays = tickets.loc[tickets["queue_id"].notna() & ~tickets["queue_id"].isin(queues)]
    parts.append(
        _lost(
            strays["ticket_id"], "unknown-queue", QUEUE_NAMES,
            "its queue now is #" + strays["queue_id"].astype(str)
            + f", which {QUEUES} does not list",
        )
    )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _is(values: pd.Series, value: str) -> np.ndarray:
    """Where `values` is `value`, in numpy (a missing value is not)."""
    return _true(values == value)


def _rows(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """frame.loc[mask], without a take when no row is (a take of Arrow text costs a pass
    over it)."""
    return frame.loc[mask] if mask.any() else frame.iloc[:0]


def _true(mask: pd.Series) -> np.ndarray:
    """A mask in numpy, a missing value False (as .loc takes it)."""
    return mask.to_numpy(dtype=bool, na_value=False)


# every input a ticket's history gives: the kinds of its events (timeline.kinds) and triage
HISTORY = ("create", "reply", "comment", "status", "owner", "queue", "field", "link", "watcher",
           TRIAGE)  # fmt: skip


def without_history(snapshot: Snapshot) -> pd.DataFrame:
    """The tickets of their own (not merged into another) that have no Create transaction
    (LOST_COLUMNS): every input of their history is lost."""
    tickets, tx = snapshot.tickets, snapshot.transactions
    own = tickets["effective_id"].isna() | (tickets["effective_id"] == tickets["ticket_id"])
    created = tx.loc[tx["type"] == "Create", "ticket_id"]
    bare = tickets.loc[own.fillna(True).to_numpy(dtype=bool), "ticket_id"]
    bare = bare.loc[~bare.isin(created)]
    if bare.empty:  # (ten frames of no row are no cheaper than of a few)
        return _none()
    detail = "ticket " + bare.astype("int64").astype(str) + " has no Create transaction"
    return pd.concat([_lost(bare, "no-history", tag, detail) for tag in HISTORY], ignore_index=True)


def merged_away(snapshot: Snapshot) -> pd.DataFrame:
    """The tickets merged into a ticket the snapshot does not hold (LOST_COLUMNS); only the
    whole snapshot can say (a month's part may lack a survivor the snapshot has)."""
    found = facts.survivors(snapshot.tickets)
    ids = snapshot.tickets["ticket_id"]
    held = ids.loc[~ids.isin(found.index)]  # not merged themselves (a set of a million ids
    away = found.loc[~found.isin(held)]  # was a tenth of a second of every month added)
    detail = (
        "ticket " + away.index.astype(str) + " was merged into ticket " + away.astype(str)
        + ", which is not in the snapshot"
    )  # fmt: skip
    return _lost(away.index.to_series(), "merged-away", "", detail)


def lost_inputs(snapshot: Snapshot, config: Config, merges: bool = True) -> pd.DataFrame:
    """Per ticket, each input the data cannot back (LOST_COLUMNS), in ticket order; with
    `merges` off, without `merged_away` (for a part of a snapshot: see `with_merges`)."""
    why = time_problems(snapshot)
    parts = [
        _implausible_times(snapshot, config, why), _backwards_times(snapshot, why),
        _unknown_references(snapshot), without_history(snapshot),
        _several_values(snapshot, config),
    ]  # fmt: skip
    if merges:
        parts.append(merged_away(snapshot))
    return _in_order(pd.concat(parts, ignore_index=True))


def with_merges(parts: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """The lost inputs of a snapshot's parts (found with `merges` off) and the merges only the
    whole `snapshot` (its tickets) can follow: its `lost_inputs`, as one pass finds them."""
    return _in_order(pd.concat([parts, merged_away(snapshot)], ignore_index=True))


def on_pull_time(lost: pd.DataFrame) -> set[int]:
    """The tickets whose lost inputs depend on the pull's time (a time after it, which a
    later pull of the same rows may find true): review.derive keys them by that time."""
    after = lost.loc[lost["kind"] == f"time-{plausible.AFTER_PULL}", "ticket_id"]
    return {int(t) for t in after}


def _in_order(lost: pd.DataFrame) -> pd.DataFrame:
    """Sorted and typed one way (text as text when empty too: the derived cache keeps it)."""
    lost = lost.drop_duplicates(ignore_index=True).astype(
        {"ticket_id": "int64", "kind": "str", "input": "str", "detail": "str"}
    )
    return lost.sort_values(["ticket_id", "kind"], kind="stable").reset_index(drop=True)


def unmeasured(lost: pd.DataFrame, inputs: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Per ticket, each item (a metric key, a rule id, a checklist step: `inputs` maps it to
    the data it reads) that the data cannot back, with the evidence: UNMEASURED_COLUMNS."""
    wanted = pd.DataFrame(
        [(item, tag) for item, tags in inputs.items() for tag in tags], columns=["item", "input"]
    )
    keys = ["ticket_id", "item"]
    hit = lost.merge(wanted, on="input").drop_duplicates([*keys, "detail"])
    alone = ~hit.duplicated(keys, keep=False)  # most have one reason: joined only where not
    joined = hit.loc[~alone].groupby(keys, sort=False)["detail"].agg("; ".join)
    reason = pd.concat([hit.loc[alone].set_index(keys)["detail"], joined]).sort_index()
    found: pd.DataFrame = reason.rename("reason").reset_index()[UNMEASURED_COLUMNS]
    return found


# review.analysis.sla's verdicts, and the inputs its clocks read (the events it orders: replies,
# comments, owner and status changes, the level's field, and what triages): where one is lost,
# whether a deadline was met is not known
SLA_VERDICTS = ("responded_at", "response_breached", "response_breaches", "resolve_breached",
                "keep_in_loop_breaches", "handoff_ola_breached")  # fmt: skip
SLA_INPUTS = ("reply", "comment", "owner", "status", "field", TRIAGE)


def unbacked_sla(table: pd.DataFrame, lost: pd.DataFrame) -> pd.DataFrame:
    """review.analysis.sla's table with its verdicts empty where the data cannot back them
    (never "met" on a history that lacks the reply): every verdict of an incident that lost
    an input of SLA_INPUTS, the hand-off OLA of one moved through a queue the snapshot does
    not list. The breach count is a nullable integer, as the others are."""
    blind = table["ticket_id"].isin(lost.loc[lost["input"].isin(SLA_INPUTS), "ticket_id"])
    moved = table["ticket_id"].isin(lost.loc[lost["input"] == QUEUE_NAMES, "ticket_id"])
    out = table.astype({"response_breaches": "Int64"})
    for column in SLA_VERDICTS:
        out[column] = out[column].mask(blind | (moved & (column == "handoff_ola_breached")))
    return out


def mismatch_words(problems: Iterable[DataProblem]) -> str:
    """The mismatches among `problems` in words a summary starts with: how many ways the
    config does not fit the data, and how many the data itself cannot back ('' for none)."""
    wrong = [p for p in problems if p.mismatch]
    unbacked = sum(p.kind in KINDS for p in wrong)
    misfits = len(wrong) - unbacked
    return ", and ".join(
        [f"the config does not fit the data in {misfits} way(s)"] * bool(misfits)
        + [f"the data cannot back some numbers in {unbacked} way(s)"] * bool(unbacked)
    )


def data_problems(lost: pd.DataFrame) -> list[DataProblem]:
    """One problem line per kind: what is wrong, on which tickets, and what the kit does."""
    found = []
    order = {kind: number for number, kind in enumerate(KINDS)}
    for kind, rows in sorted(lost.groupby("kind"), key=lambda group: order[str(group[0])]):
        what, consequence = KINDS[str(kind)]
        # in Arrow and numpy: a synthetic decade has a problem on each of its 1,000,000 tickets
        tickets = tuple(np.unique(rows["ticket_id"].to_numpy(dtype="int64")).tolist())
        details = rows["detail"].drop_duplicates().tolist()
        shown = "; ".join(details[:3])
        more = f"; and {len(details) - 3} more" if len(details) > 3 else ""
        found.append(
            DataProblem(
                str(kind),
                f"{what} on {_tickets_text(tickets)} ({shown}{more}): {consequence}",
                tickets,
            )
        )
    return found


# kinds about tickets the snapshot does not hold: no month of theirs to show them under
NOT_HELD = ("moved-out",)


def pulled_short(snapshot: Snapshot) -> list[DataProblem]:
    """What the pull recorded it could not take (manifest coverage): tickets that left the
    window's queues (`moved_out`), history RT hid from its account."""
    coverage = snapshot.coverage
    hidden = coverage is not None and coverage.hidden_history
    what, consequence = KINDS["hidden-history"]
    said = DataProblem("hidden-history", f"{what}: {consequence}")
    return moved_out(snapshot) + [said] * hidden


def moved_out(snapshot: Snapshot) -> list[DataProblem]:
    """The tickets the pull found opened or resolved in its window in its queues, but now in
    a queue it did not take (manifest coverage.moved_out): the snapshot lacks them, so every
    count and distribution of the window does too."""
    coverage = snapshot.coverage
    if coverage is None or not coverage.moved_out:
        return []
    what, consequence = KINDS["moved-out"]
    tickets = tuple(t for t, _ in coverage.moved_out)
    shown = "; ".join(f"ticket {t} is in {q}" for t, q in coverage.moved_out[:3])
    more = f"; and {len(tickets) - 3} more" if len(tickets) > 3 else ""
    text = f"{what} on {_tickets_text(tickets)} ({shown}{more}): {consequence}"
    return [DataProblem("moved-out", text, tickets)]


def _tickets_text(tickets: tuple[int, ...], shown: int = 10) -> str:
    """'ticket(s) 1, 2' or, past `shown` of them, the first few and how many more: a line
    stays a line at a million tickets (each incident's own page names its problem)."""
    if len(tickets) <= shown:
        return f"ticket(s) {', '.join(map(str, tickets))}"
    first = ", ".join(map(str, tickets[:shown]))
    return f"{len(tickets)} tickets: {first} and {len(tickets) - shown} more"
