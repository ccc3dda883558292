"""Review status and sign-off: draft, in review, final; who agreed, when, and with what data.

A review is ``draft`` until someone says otherwise, ``in review`` once it is out for
agreement (the first sign-off moves a draft there), and ``final`` when the team sets it
and both owners the process names (the service owner and the business owner) have signed
off. Both live in the incident's review file (review.pages.written), beside what the team
wrote; `review signoff` and `review status` write them, under the file's lock.

Each sign-off records the fingerprint of the review's data when it was given (the
incident's history as pulled: review.snapshot.fingerprint.review_data_digests). When the
data changes later (a new pull brings a late reply, a reopen, a changed custom field), the
pages and `review status` say so, as they do when a written section was edited, added or
removed after the sign-off (each keeps a digest of the written text it was given): the owners
agreed with something else.

`review_states` is what the monthly report, the support-gap report and the index show
per incident: review missing, draft, in review or final, how long it has waited, who
signed, and what changed since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from review.errors import ReviewError
from review.pages import written
from review.pages.written import SignOff, WrittenReview
from review.settings.utc import now_utc
from review.snapshot import Snapshot
from review.snapshot.fingerprint import digest, review_data_digests
from review.text import visible

# The review file's list of what `review publish` put in RT (review.delivery.publish): a
# record of RT's state, not part of the review, so no page depends on it.
PUBLISHED_KEY = "published"
MISSING = "missing"
NAME_MAX = 100
# the command-line spelling of each role (written.ROLES): "service owner" -> "service-owner"
ROLE_OPTIONS = {role.replace(" ", "-"): role for role in written.ROLES}
STATE_COLUMNS = ["ticket_id", "review", "review_waited_days", "review_signed", "review_note"]


def data_digest(snapshot: Snapshot, ticket_id: int, status_field: str = "") -> str:
    """The digest of one incident's data (review.snapshot.fingerprint.review_data_digests);
    a ReviewError if it is not there."""
    return digest_in(review_data_digests(snapshot, status_field), ticket_id, snapshot.path)


def digest_in(digests: pd.Series, ticket_id: int, where: Path) -> str:
    """One incident's entry of `digests` (ticket_id -> data digest, as review_data_digests
    or Context.review_data give them); a ReviewError naming the snapshot if it is not there."""
    if int(ticket_id) not in digests.index:
        raise ReviewError(
            f"ticket {ticket_id} is not in the snapshot {where}: give the --snapshot that holds it"
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
    entry = SignOff(
        role=role_of(role),
        who=clean_name(who),
        at=at or now_utc(),
        data=data,
        sections=written.section_digests(review),
    )
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
    edited = text_changes(review)
    if edited:
        notes.append(f"written text changed since sign-off ({', '.join(edited)})")
    return notes


def text_changes(review: WrittenReview) -> list[str]:
    """The written sections changed since a sign-off: edited or added ('summary'), and
    removed ('impact removed'), against the text each sign-off was given; a sign-off that
    did not keep it (an older kit's) counts sections saved after it."""
    now = written.section_digests(review)
    changed: set[str] = set()
    removed: set[str] = set()
    for entry in review.signoffs:
        if entry.sections is None:
            changed |= {s.id for s in review.sections if s.updated_at and s.updated_at > entry.at}
        else:
            changed |= {i for i, text in now.items() if entry.sections.get(i) != text}
            removed |= set(entry.sections) - set(now)
    return [s.id for s in review.sections if s.id in changed] + [
        f"{i} removed" for i in sorted(removed)
    ]


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


def status_lines(review: WrittenReview | None, data: str | None) -> list[str]:
    """The review's status for the top of its page: status, sign-offs, what changed since."""
    if review is None or (review.status == "draft" and not review.signoffs):
        return ["Review status: draft, not signed off (review signoff, review status)."]
    since = f" since {review.status_at[:10]}" if review.status_at else ""
    lines = [f"Review status: {review.status}{since}. Sign-off: {signed_text(review)}."]
    changed = changes_since_signoff(review, data)
    if changed:
        lines.append("Since the sign-off: " + "; ".join(changed) + ".")
    return lines


def content_digest(path: Path) -> str:
    """A review file's digest without the record of what was published (for render
    fingerprints: publishing does not make the page another one); '' when there is none."""
    import json

    try:
        raw = path.read_bytes()
    except OSError:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return digest(raw.hex())
    if isinstance(data, dict):
        data.pop(PUBLISHED_KEY, None)
    return digest(data)


# --------------------------------------------------------------------------- in the reports


def review_files_digest(out: Path, ticket_ids: Iterable[int]) -> str:
    """What the pages show of these incidents' reviews changes with this (for render
    fingerprints): each one's review file under the reports folder `out` (`content_digest`)."""
    return digest([(int(t), content_digest(written.review_path(out, int(t)))) for t in ticket_ids])


def review_states(
    incidents: pd.DataFrame, out: Path, data: pd.Series, now: pd.Timestamp | None
) -> pd.DataFrame:
    """Per incident (`incidents`: ticket_id, resolved_at) its review's state (STATE_COLUMNS).

    review: missing, draft, in review, final (or "unreadable" with the reason in the
    note); review_waited_days: days from the incident's resolution until the review
    became final, or until `now` (the snapshot's pull) while it is not (empty while the
    incident is open); review_signed: who signed off when; review_note: what changed
    since the sign-off. `out` is the reports folder (the review files are in
    OUT/reviews), `data` the incidents' review_data_digests.
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
