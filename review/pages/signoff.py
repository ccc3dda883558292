"""Review status and sign-off: draft, in review, final; who agreed, when, and with what data.

A review is ``draft`` until someone says otherwise, ``in review`` once it is out for
agreement (the first sign-off moves a draft there), and ``final`` when the team sets it
and both owners the process names (the service owner and the business owner) have signed
off. Both live in the incident's review file (review.pages.written), beside what the team
wrote; `review signoff` and `review status` write them, under the file's lock.

Each sign-off records the fingerprint of the review's data when it was given
(`data_digests`: the incident's history as pulled). When the data changes later (a new
pull brings a late reply, a reopen, a changed custom field), the pages and `review status`
say so, as they do when a written section was edited after the sign-off: the owners agreed
with something else.

`review_states` is what the monthly report, the support-gap report and the index show
per incident: review missing, draft, in review or final, how long it has waited, who
signed, and what changed since.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from review.errors import ReviewError
from review.pages import written
from review.pages.written import SignOff, WrittenReview
from review.settings.utc import now_utc
from review.snapshot import Snapshot
from review.snapshot.fingerprint import digest, file_digest, ticket_digests
from review.text import visible

# The subject of the comment `review publish` adds starts with this (review.delivery.publish).
# The kit's own comments are not part of the incident's data: publishing must not make a
# signed review look changed.
PUBLISHED_MARK = "[review-published:"
# Copies of outgoing mail RT records beside a comment or reply: not people's actions.
MAIL_COPIES = ("EmailRecord", "CommentEmailRecord")
MISSING = "missing"
NAME_MAX = 100
# the command-line spelling of each role (written.ROLES): "service owner" -> "service-owner"
ROLE_OPTIONS = {role.replace(" ", "-"): role for role in written.ROLES}
STATE_COLUMNS = ["ticket_id", "review", "review_waited_days", "review_signed", "review_note"]


def data_digests(snapshot: Snapshot, status_field: str = "") -> pd.Series:
    """ticket_id -> a digest of what a review is about: the ticket's rows as pulled.

    Left out, so that publishing a review never makes it look changed: the ticket's
    LastUpdated, the kit's own publication comments (subject starting `PUBLISHED_MARK`),
    the copies of outgoing mail RT records beside them, and the review-status custom field
    (`status_field`) with its changes.
    """
    tx = snapshot.transactions
    kit = tx["type"].isin(MAIL_COPIES) | (
        (tx["type"] == "Comment") & tx["data"].astype(str).str.startswith(PUBLISHED_MARK)
    )
    fields = snapshot.custom_fields
    if status_field:
        names = snapshot.field_names
        ids = set(names.loc[names["field"] == status_field, "field_id"].astype(str))
        kit |= (tx["type"] == "CustomField") & tx["field"].astype(str).isin(ids)
        fields = fields.loc[fields["field"] != status_field]
    tickets = snapshot.tickets.drop(columns=["last_updated"], errors="ignore")
    return ticket_digests(
        dataclasses.replace(
            snapshot, tickets=tickets, transactions=tx.loc[~kit], custom_fields=fields
        )
    )


def data_digest(snapshot: Snapshot, ticket_id: int, status_field: str = "") -> str:
    """The digest of one incident's data (`data_digests`); a ReviewError if it is not there."""
    digests = data_digests(snapshot, status_field)
    if int(ticket_id) not in digests.index:
        raise ReviewError(
            f"ticket {ticket_id} is not in the snapshot {snapshot.path}: give the --snapshot "
            "that holds it"
        )
    return str(digests[int(ticket_id)])


def role_of(option: str) -> str:
    """A role as written in the file, from its command-line spelling (or the file's own)."""
    role = ROLE_OPTIONS.get(option.strip().lower(), option.strip().lower())
    if role not in written.ROLES:
        raise ReviewError(f"--role must be one of {', '.join(ROLE_OPTIONS)}, got {option!r}")
    return role


def clean_name(name: str) -> str:
    """A signer's name as recorded: one line, control characters shown, at most 100 characters."""
    text = " ".join(visible(name).split())
    if not text:
        raise ReviewError("--name must name the person who signs off, e.g. --name 'Carol Chen'")
    if len(text) > NAME_MAX:
        raise ReviewError(f"--name is {len(text)} characters long; give at most {NAME_MAX}")
    return text


def sign(
    review: WrittenReview, role: str, who: str, data: str, at: str | None = None
) -> WrittenReview:
    """`review` signed off by `who` as `role` over `data` (their earlier sign-off replaced).

    A draft goes to "in review": it is out for agreement.
    """
    entry = SignOff(role=role_of(role), who=clean_name(who), at=at or now_utc(), data=data)
    others = tuple(s for s in review.signoffs if s.role != entry.role)
    ordered = tuple(sorted((*others, entry), key=lambda s: written.ROLES.index(s.role)))
    signed = replace(review, signoffs=ordered)
    if review.status != "draft":
        return signed
    return written.with_status(signed, "in review", entry.at)


def unsigned_roles(review: WrittenReview) -> list[str]:
    """The roles that have not signed off."""
    signed = {s.role for s in review.signoffs}
    return [role for role in written.ROLES if role not in signed]


def set_status(review: WrittenReview, status: str, at: str | None = None) -> WrittenReview:
    """`review` with `status`; final needs a sign-off from every role (a ReviewError names
    the missing ones and the command that records them)."""
    status = status.strip().lower().replace("-", " ")
    if status not in written.STATUSES:
        raise ReviewError(
            f"status must be one of {', '.join(s.replace(' ', '-') for s in written.STATUSES)}, "
            f"got {status!r}"
        )
    missing = unsigned_roles(review)
    if status == "final" and missing:
        how = "; ".join(
            f"review signoff {review.ticket_id} --role {r.replace(' ', '-')} --name NAME"
            for r in missing
        )
        raise ReviewError(
            f"review {review.ticket_id} cannot be final without the {' and the '.join(missing)}"
            f"'s sign-off: {how}"
        )
    return written.with_status(review, status, at)


def changes_since_signoff(review: WrittenReview, data: str | None) -> list[str]:
    """What changed after the sign-offs: the data (when `data`, its digest now, differs from
    what a sign-off recorded) and written sections saved after the first sign-off."""
    notes = []
    stale = [s for s in review.signoffs if data is not None and s.data and s.data != data]
    if stale:
        who = ", ".join(s.role for s in stale)
        notes.append(f"the incident's data changed since the {who}'s sign-off")
    if review.signoffs:
        first = min(s.at for s in review.signoffs)
        edited = [s.id for s in review.sections if s.updated_at and s.updated_at > first]
        if edited:
            notes.append(f"written text changed since sign-off ({', '.join(edited)})")
    return notes


def signed_text(review: WrittenReview) -> str:
    """'service owner Carol Chen 2026-12-06; business owner: not yet' (dates in UTC)."""
    by_role = {s.role: s for s in review.signoffs}
    parts = []
    for role in written.ROLES:
        entry = by_role.get(role)
        parts.append(f"{role} {entry.who} {entry.at[:10]}" if entry else f"{role}: not yet")
    return "; ".join(parts)


def describe(review: WrittenReview | None, data: str | None) -> list[str]:
    """`review status` in words: the status, the sign-offs and what changed since."""
    if review is None:
        return ["review: missing (nothing written, no status set)"]
    since = f" since {review.status_at}" if review.status_at else ""
    lines = [f"review: {review.status}{since}", f"sign-off: {signed_text(review)}"]
    lines += [f"note: {note}" for note in changes_since_signoff(review, data)]
    return lines


# --------------------------------------------------------------------------- in the reports


def review_files_digest(out: Path, ticket_ids: Iterable[int]) -> str:
    """What the pages show of these incidents' reviews changes with this (for render
    fingerprints): the bytes of each one's review file under the reports folder `out`."""
    return digest([(int(t), file_digest(written.review_path(out, int(t)))) for t in ticket_ids])


def review_states(
    incidents: pd.DataFrame, out: Path, data: pd.Series, now: pd.Timestamp | None
) -> pd.DataFrame:
    """Per incident (`incidents`: ticket_id, resolved_at) its review's state (STATE_COLUMNS).

    review: missing, draft, in review, final (or "unreadable" with the reason in the
    note); review_waited_days: days from the incident's resolution until the review
    became final, or until `now` (the snapshot's pull) while it is not (empty while the
    incident is open); review_signed: who signed off when; review_note: what changed
    since the sign-off. `out` is the reports folder (the review files are in
    OUT/reviews), `data` the incidents' `data_digests`.
    """
    rows: list[tuple[int, str, object, str, str]] = []
    for ticket_id, resolved in zip(
        incidents["ticket_id"].astype("int64"), incidents["resolved_at"], strict=True
    ):
        path = written.review_path(out, int(ticket_id))
        try:
            review = written.load(path, int(ticket_id))
        except ReviewError as exc:
            rows.append((int(ticket_id), "unreadable", pd.NA, "", str(exc)))
            continue
        status = review.status if review else MISSING
        end = now
        if review is not None and review.status == "final" and review.status_at:
            end = pd.Timestamp(review.status_at)
        waited: object = pd.NA
        notes = []
        if pd.isna(resolved):
            notes.append("incident still open")
        elif end is not None and not pd.isna(end):
            waited = max(int((end - resolved).total_seconds() // 86400), 0)
        if review is not None:
            notes += changes_since_signoff(review, data.get(int(ticket_id)))
        signed = signed_text(review) if review is not None and review.signoffs else ""
        rows.append((int(ticket_id), status, waited, signed, "; ".join(notes)))
    frame = pd.DataFrame(rows, columns=STATE_COLUMNS)
    frame["ticket_id"] = frame["ticket_id"].astype("int64")
    frame["review_waited_days"] = frame["review_waited_days"].astype("Int64")
    return frame
