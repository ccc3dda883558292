"""The written account of one incident's review: the file the kit never overwrites.

What the team writes in the review notebook's ``written`` cells (summary, impact,
contributing factors, lessons, key moments, and any markdown cell they add) is kept in
one durable file per incident, beside the reports, and read back by every render. The
same file holds the review's status and sign-offs. The render's outputs (notebooks,
HTML) are rebuilt from the data whenever it changes; this file is input, written only
by people (through JupyterLab's save) and by the commands that record a status.

Where: ``OUT/reviews/incident-N.json`` (``OUT`` is the reports folder, default
``reports/``; `review_path`). Format (JSON, UTF-8, one object; written atomically under a
lock, so a crash or two saves at once never leave half a file)::

    {
      "format": 1,                      # this layout; a newer number is refused in one line
      "ticket_id": 10,                  # the incident (RT ticket id)
      "sections": [                     # the written cells, in the notebook's order
        {
          "id": "summary",              # the notebook cell's id (the template's, or the one
                                        # JupyterLab gave a cell the team added)
          "text": "## Summary\\n...",   # the cell's Markdown source, exactly as written
          "after": "moments-table",     # id of the cell it followed when saved (null: first)
          "updated_at": "2026-12-05T14:03:11Z",   # when this text was last saved (UTC)
          "updated_by": "alice"         # who saved it (the account running JupyterLab)
        }
      ],
      "status": "draft",                # "draft", "in review" or "final"
      "status_at": "2026-12-05T14:03:11Z",      # when the status was last set (null: never)
      "signoffs": [                     # who agreed with the review, and when
        {"role": "service owner", "who": "carol", "at": "2026-12-06T09:00:00Z",
         "data": "sha256 of the review's data when signed ('' when unknown)"}
      ]
    }

A template section the team has not touched is not in ``sections`` (the template's
placeholder shows). A section whose cell the template no longer has is kept and shown
(after the cell it followed, else at the end). Keys this module does not know are kept
as they are on every rewrite, so another command can add its own (e.g. what was
published) without this module knowing them. Text is untrusted: pages show it as safe
Markdown (``review.pages.written`` sanitizes it for HTML), never as live HTML.

Importable without JupyterLab (standard library only): the save hook, the render and
the status commands all read and write through `load`, `save` and `update`.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from review.errors import FileLineError
from review.settings.utc import now_utc

FORMAT = 1
REVIEWS_DIR = "reviews"
STATUSES = ("draft", "in review", "final")
ROLES = ("service owner", "business owner")
_KNOWN = ("format", "ticket_id", "sections", "status", "status_at", "signoffs")


def review_path(out: Path, ticket_id: int) -> Path:
    """The written account of `ticket_id` for the reports under `out`."""
    return out / REVIEWS_DIR / f"incident-{int(ticket_id)}.json"


@dataclass(frozen=True)
class Section:
    """One written cell: its id, its Markdown source, where it sat, who saved it when."""

    id: str
    text: str
    after: str | None = None
    updated_at: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class SignOff:
    """An owner's agreement with the review: role, who, when, and the data it was given."""

    role: str
    who: str
    at: str
    data: str = ""


@dataclass(frozen=True)
class WrittenReview:
    """The content of one incident's review file (see the module docstring)."""

    ticket_id: int
    sections: tuple[Section, ...] = ()
    status: str = "draft"
    status_at: str | None = None
    signoffs: tuple[SignOff, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # keys kept as found

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "ticket_id": self.ticket_id,
            "sections": [
                {
                    "id": s.id,
                    "text": s.text,
                    "after": s.after,
                    "updated_at": s.updated_at,
                    "updated_by": s.updated_by,
                }
                for s in self.sections
            ],
            "status": self.status,
            "status_at": self.status_at,
            "signoffs": [
                {"role": s.role, "who": s.who, "at": s.at, "data": s.data} for s in self.signoffs
            ],
            **self.extra,
        }


def _problem(path: Path, message: str) -> FileLineError:
    return FileLineError(
        f"{message}; fix the file or move it aside (the notebook still holds the text)", str(path)
    )


def _text(value: Any, path: Path, what: str, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise _problem(path, f"{what} must be {'text' if empty else 'non-empty text'}")
    return value


def parse(data: dict[str, Any], path: Path, ticket_id: int | None = None) -> WrittenReview:
    """A review file's JSON object, checked: one line naming the file and the problem."""
    if not isinstance(data, dict):
        raise _problem(path, "not a JSON object")
    if data.get("format") != FORMAT:
        raise _problem(
            path,
            f"format {data.get('format')!r} is not {FORMAT} (written by another version of the "
            "kit?)",
        )
    number = data.get("ticket_id")
    if not isinstance(number, int) or isinstance(number, bool):
        raise _problem(path, "ticket_id must be a ticket number")
    if ticket_id is not None and number != int(ticket_id):
        raise _problem(path, f"holds the review of ticket {number}, not {ticket_id}")
    sections = data.get("sections", [])
    if not isinstance(sections, list):
        raise _problem(path, "sections must be a list")
    found: list[Section] = []
    for n, item in enumerate(sections, start=1):
        if not isinstance(item, dict):
            raise _problem(path, f"section {n} must be an object")
        after = item.get("after")
        found.append(
            Section(
                id=_text(item.get("id"), path, f"section {n}'s id", empty=False),
                text=_text(item.get("text"), path, f"section {n}'s text"),
                after=None if after is None else _text(after, path, f"section {n}'s after"),
                updated_at=_text(item.get("updated_at", ""), path, f"section {n}'s updated_at"),
                updated_by=_text(item.get("updated_by", ""), path, f"section {n}'s updated_by"),
            )
        )
    ids = [s.id for s in found]
    if len(set(ids)) != len(ids):
        raise _problem(path, f"section ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    status = data.get("status", "draft")
    if status not in STATUSES:
        raise _problem(path, f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    status_at = data.get("status_at")
    signoffs = data.get("signoffs", [])
    if not isinstance(signoffs, list):
        raise _problem(path, "signoffs must be a list")
    signed: list[SignOff] = []
    for n, item in enumerate(signoffs, start=1):
        if not isinstance(item, dict):
            raise _problem(path, f"sign-off {n} must be an object")
        role = item.get("role")
        if role not in ROLES:
            raise _problem(path, f"sign-off {n}'s role must be one of {', '.join(ROLES)}")
        signed.append(
            SignOff(
                role=str(role),
                who=_text(item.get("who"), path, f"sign-off {n}'s who", empty=False),
                at=_text(item.get("at"), path, f"sign-off {n}'s at", empty=False),
                data=_text(item.get("data", ""), path, f"sign-off {n}'s data"),
            )
        )
    return WrittenReview(
        ticket_id=number,
        sections=tuple(found),
        status=str(status),
        status_at=None if status_at is None else _text(status_at, path, "status_at"),
        signoffs=tuple(signed),
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def load(path: Path, ticket_id: int | None = None) -> WrittenReview | None:
    """The review file at `path`, checked; None when there is none yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _problem(path, f"cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _problem(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise FileLineError(
            f"not valid JSON ({exc.msg}); fix the file or move it aside (the notebook still "
            "holds the text)",
            str(path),
            exc.lineno,
        ) from None
    return parse(data, path, ticket_id)


def dumps(review: WrittenReview) -> bytes:
    """The file's bytes: indented JSON (diffable, readable), text as written (UTF-8)."""
    return (json.dumps(review.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def save(path: Path, review: WrittenReview) -> None:
    """Write `review` to `path` atomically: a temp file beside it, synced, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(handle, 0o666 & ~mask)  # as the reports: shared by the team
        with os.fdopen(handle, "wb") as stream:
            stream.write(dumps(review))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time per review file (two JupyterLab saves, a save and a sign-off)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update(
    path: Path, ticket_id: int, change: Callable[[WrittenReview], WrittenReview]
) -> WrittenReview:
    """Read, change and write the review file under its lock; returns what was written.

    `change` gets the current content (an empty review when there is no file yet). When
    it returns the content unchanged, nothing is written.
    """
    with _locked(path):
        current = load(path, ticket_id)
        base = current or WrittenReview(ticket_id=int(ticket_id))
        changed = change(base)
        if current is None or dumps(changed) != dumps(current):
            save(path, changed)
        return changed


def with_status(review: WrittenReview, status: str, at: str | None = None) -> WrittenReview:
    """`review` with a new status (one of STATUSES), stamped with when it was set."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    if status == review.status:
        return review
    return replace(review, status=status, status_at=at or now_utc())
