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
         "data": "sha256 of the review's data when signed ('' when unknown)",
         "sections": {"summary": "a digest of its text"}}   # the written text it was given
      ]                                 # (absent when signed by an older kit)
    }

Times are UTC, written as above (``2026-12-05T14:03:11Z``), and an id is a notebook cell's
(1 to 64 letters, digits, ``-`` or ``_``): a file edited by hand with another form is
refused in one line naming it, never a traceback in the pages that subtract the times.

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
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from review.errors import FileLineError, ReviewError, not_utf8
from review.settings.utc import ISO_UTC, now_utc

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
    sections: dict[str, str] | None = None  # id -> text digest it was given (None: not kept)


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
                {"role": s.role, "who": s.who, "at": s.at, "data": s.data}
                | ({} if s.sections is None else {"sections": s.sections})
                for s in self.signoffs
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


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")  # ISO_UTC, as the kit writes it
_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # what nbformat 4.5 allows as a cell's id


def _time(value: Any, path: Path, what: str, empty: bool = False) -> str:
    """A time as the kit writes it (ISO_UTC): pages subtract and compare them, so one edited
    by hand ('2026-12-08 09:30', no zone) is refused here, not a traceback in every render."""
    text = _text(value, path, what)
    if empty and not text:
        return text
    try:
        if _TIME.fullmatch(text) is None:
            raise ValueError(text)
        datetime.strptime(text, ISO_UTC)
    except ValueError:
        raise _problem(
            path, f"{what} must be a UTC time written like 2026-12-05T14:03:11Z, got {text!r}"
        ) from None
    return text


def _cell_id(value: Any, path: Path, what: str) -> str:
    """A section's id, which is its notebook cell's id: one nbformat refuses (a blank, a dot)
    would make every render of the review fail on the notebook, far from this file."""
    text = _text(value, path, what, empty=False)
    if _CELL_ID.fullmatch(text) is None:
        raise _problem(
            path, f"{what} must be 1 to 64 letters, digits, '-' or '_' (a notebook cell's id), "
            f"got {text!r}"
        )  # fmt: skip
    return text


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
    found = _sections(data.get("sections", []), path)
    status = data.get("status", "draft")
    if status not in STATUSES:
        raise _problem(path, f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    status_at = data.get("status_at")
    return WrittenReview(
        ticket_id=number,
        sections=found,
        status=str(status),
        status_at=None if status_at is None else _time(status_at, path, "status_at"),
        signoffs=_signoffs(data.get("signoffs", []), path),
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def _sections(sections: Any, path: Path) -> tuple[Section, ...]:
    """A review file's sections, checked: objects with a unique id."""
    if not isinstance(sections, list):
        raise _problem(path, "sections must be a list")
    found: list[Section] = []
    for n, item in enumerate(sections, start=1):
        if not isinstance(item, dict):
            raise _problem(path, f"section {n} must be an object")
        after = item.get("after")
        found.append(
            Section(
                id=_cell_id(item.get("id"), path, f"section {n}'s id"),
                text=_text(item.get("text"), path, f"section {n}'s text"),
                after=None if after is None else _text(after, path, f"section {n}'s after"),
                updated_at=_time(
                    item.get("updated_at", ""), path, f"section {n}'s updated_at", True
                ),
                updated_by=_text(item.get("updated_by", ""), path, f"section {n}'s updated_by"),
            )
        )
    ids = [s.id for s in found]
    if len(set(ids)) != len(ids):
        raise _problem(path, f"section ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return tuple(found)


def _signoffs(signoffs: Any, path: Path) -> tuple[SignOff, ...]:
    """A review file's sign-offs, checked: a known role, who and when."""
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
                at=_time(item.get("at"), path, f"sign-off {n}'s at"),
                data=_text(item.get("data", ""), path, f"sign-off {n}'s data"),
                sections=_digests(item.get("sections"), path, f"sign-off {n}'s sections"),
            )
        )
    return tuple(signed)


def _digests(value: Any, path: Path, what: str) -> dict[str, str] | None:
    """A sign-off's record of the written text it was given: section id -> text digest."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _problem(path, f"{what} must be an object of section ids and text digests")
    return {str(k): v for k, v in value.items()}


def section_digests(review: WrittenReview) -> dict[str, str]:
    """Each written section's id and a digest of its text: what a sign-off was given."""
    return {s.id: _digest(s.text) for s in review.sections}


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
    except UnicodeDecodeError as exc:  # its line: a hand edit in another encoding, one byte
        line, what = not_utf8(raw, exc)
        raise FileLineError(f"{what}, or move it aside", str(path), line) from None
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
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # 0600: as a page
    try:
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
def locked(path: Path) -> Iterator[None]:
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
    with locked(path):
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


# --------------------------------------------------------------------------- in the notebook

TAG = "written"  # the cell tag of a written section
META = "review_written"  # notebook metadata: what the save hook needs (see `merge`)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _tags(cell: dict[str, Any]) -> list[str]:
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    return tags if isinstance(tags, list) else []


MOMENTS = "moments"  # the section where the Tech Lead adds or relabels key moments
_MOMENT_LINE = re.compile(r"^\s*(?:[-*+]\s+)?#?(\d+)\s*[:\u2013\u2014-]\s*(\S.*?)\s*$")


def team_moments(review: WrittenReview | None) -> list[tuple[int, str]]:
    """The key moments the team wrote: each line of the `MOMENTS` section that starts with a
    transaction number and a colon (`- 1234: Diagnosis: ...`), as (number, label)."""
    section = review.section(MOMENTS) if review else None
    if section is None:
        return []
    found = (_MOMENT_LINE.match(line) for line in section.text.splitlines())
    return [(int(m[1]), m[2]) for m in found if m]


def merge(
    notebook: dict[str, Any],
    template: dict[str, Any],
    review: WrittenReview | None,
    ticket_id: int,
    file: str,
    place: str = "",
) -> dict[str, Any]:
    """Put the written sections into a notebook made from `template` (in place; returned).

    A section whose cell the notebook has replaces that cell's text; any other section
    (a cell the team added, or one the template no longer has) is inserted after the
    cell it followed when it was saved, else at the end. The notebook's metadata
    (`META`) records what the save hook needs: the review file (`file`, relative to the
    notebook's folder), where the notebook is (`place`, relative to the review file's
    folder: a notebook moved elsewhere would find `file` somewhere else), the ticket, a
    digest of every template cell (a template cell saved unchanged is not written text),
    the sections this notebook was given (a section missing from a later save was
    deleted by the team; one not given is kept) and a digest of each one's text
    (`unsaved`).
    """
    import uuid

    cells: list[dict[str, Any]] = notebook["cells"]
    sections = review.sections if review else ()
    for section in sections:
        ids = [c.get("id") for c in cells]
        if section.id in ids:
            cell = cells[ids.index(section.id)]
            cell["source"] = section.text
        else:
            cell = {
                "cell_type": "markdown",
                "id": section.id,
                "metadata": {},
                "source": section.text,
            }
            where = ids.index(section.after) + 1 if section.after in ids else len(cells)
            cells.insert(where, cell)
        if cell.get("cell_type") == "markdown" and TAG not in _tags(cell):
            _tags(cell).append(TAG)
    for cell in cells:  # nbformat 4.5 wants an id on every cell
        cell.setdefault("id", uuid.uuid4().hex[:12])
    notebook.setdefault("metadata", {})[META] = {
        "file": file,
        "notebook": place,
        "ticket_id": int(ticket_id),
        "template": {str(c.get("id")): _digest(_source(c)) for c in template.get("cells", [])},
        "given": [s.id for s in sections],
        "texts": {s.id: _digest(s.text) for s in sections},
    }
    return notebook


def remerge(
    notebook: dict[str, Any], template: dict[str, Any], review: WrittenReview | None
) -> dict[str, Any]:
    """A notebook `merge` prepared, with `review`'s sections in place of those it was given
    (in place; returned): each given template cell gets the template's text back, each
    given cell the template lacks goes, then `merge` as the first time."""
    meta = notebook["metadata"][META]
    given = {str(i) for i in meta.get("given", [])}
    sources = {str(c.get("id")): c.get("source", "") for c in template.get("cells", [])}
    notebook["cells"] = [
        c for c in notebook["cells"] if c.get("id") not in given or c.get("id") in sources
    ]
    for cell in notebook["cells"]:
        if cell.get("id") in given:
            cell["source"] = sources[str(cell["id"])]
    place = str(meta.get("notebook", ""))
    return merge(notebook, template, review, int(meta["ticket_id"]), str(meta["file"]), place)


def sections_of(notebook: dict[str, Any], user: str, at: str) -> list[Section]:
    """The written sections of a saved notebook, in its order.

    Written: every markdown cell whose text differs from the template's: a `written` cell
    filled in, any other template cell the team wrote in (the Lessons heading, a
    section's explanation), a cell the team added. Each gets the tag, so the team sees it
    is kept. A cell with the tag is written whatever its type: JupyterLab's Y (or R) turns
    a markdown cell into code (raw) keeping its id and tags, and its text must not go with
    the next render (which puts it back as Markdown). A cell without an id gets one.
    """
    import uuid

    meta = notebook.get("metadata", {}).get(META, {})
    template: dict[str, str] = meta.get("template", {})
    found: list[Section] = []
    previous: str | None = None
    for cell in notebook.get("cells", []):
        cell_id = cell.get("id") or uuid.uuid4().hex[:12]
        cell["id"] = cell_id
        tags = cell.get("metadata", {}).get("tags")
        if cell.get("cell_type") == "markdown" or (isinstance(tags, list) and TAG in tags):
            text = _source(cell)
            if template.get(cell_id) != _digest(text):
                if TAG not in _tags(cell):
                    _tags(cell).append(TAG)
                found.append(Section(cell_id, text, previous, at, user))
        previous = cell_id
    return found


_HALF = re.compile("[\ud800-\udfff]")  # a surrogate JSON left unpaired: not a character


def _check_text(section: Section) -> None:
    """A section's text can be stored (UTF-8), or one line saying where it cannot: half of
    a character (an emoji cut in two by a copy) fails every save, the notebook's too."""
    half = _HALF.search(section.text)
    if half is not None:
        line = section.text.count("\n", 0, half.start()) + 1
        raise ReviewError(
            f"cell {section.id}, line {line}, holds half of a character "
            f"(\\u{ord(half.group()):04x}, often half of an emoji cut in two): delete it and "
            "save again"
        )


def keep_sections(review: WrittenReview, saved: list[Section], given: list[str]) -> WrittenReview:
    """The review after a notebook save: its written sections as saved.

    A section the notebook was given and no longer has was deleted (or set back to the
    template's text) by the team: it goes. A section the notebook was not given (saved
    from another copy since) stays. A section whose text did not change keeps its time.
    """
    before = {s.id: s for s in review.sections}
    kept = []
    for section in saved:
        old = before.get(section.id)
        if old is not None and old.text == section.text:
            section = replace(section, updated_at=old.updated_at, updated_by=old.updated_by)
        kept.append(section)
    saved_ids = {s.id for s in saved}
    others = [s for s in review.sections if s.id not in saved_ids and s.id not in set(given)]
    return replace(review, sections=(*kept, *others))


def save_from_notebook(notebook: dict[str, Any], notebook_path: Path, user: str) -> Path | None:
    """The save hook's work: the written cells of `notebook` (about to be saved at
    `notebook_path`) into its review file; returns that file (None: not a review notebook).

    Only a notebook `merge` prepared, saved under its own name (incident-N.ipynb), counts:
    a copy saved under another name is just a notebook. The notebook's record of the
    sections it holds is brought up to date, so its next save is judged right.
    """
    meta = notebook.get("metadata", {}).get(META)
    if not isinstance(meta, dict) or "file" not in meta or "ticket_id" not in meta:
        return None
    ticket_id = int(meta["ticket_id"])
    if notebook_path.name != f"incident-{ticket_id}.ipynb":
        return None
    path = Path(os.path.normpath(notebook_path.parent / str(meta["file"])))
    _in_place(notebook_path, path, meta.get("notebook"))
    saved = sections_of(notebook, user, now_utc())
    for section in saved:
        _check_text(section)
    given = [str(i) for i in meta.get("given", [])]
    update(path, ticket_id, lambda review: keep_sections(review, saved, given))
    meta["given"] = [s.id for s in saved]
    meta["texts"] = {s.id: _digest(s.text) for s in saved}
    return path


def _in_place(notebook_path: Path, path: Path, place: Any) -> None:
    """A review notebook is where the render put it, or a ReviewError saying where that is.

    Moved to another folder (a drag in JupyterLab's file browser), its relative `file`
    named another review file, even one outside the reports: the text went there, and
    the pages kept showing the old."""
    if not isinstance(place, str) or not place:  # prepared by an older kit: no record
        return
    if Path(os.path.normpath(path.parent / place)) != Path(os.path.normpath(notebook_path)):
        home = os.path.normpath(os.path.join(REVIEWS_DIR, place))  # in the reports folder
        raise ReviewError(
            f"{notebook_path.name} was moved from {home} in the reports folder, where the render "
            f"put it: its written sections are kept in {REVIEWS_DIR}/{path.name} only from "
            "there; move it back and save again, or save a copy under another name"
        )


def unsaved(notebook: dict[str, Any], review: WrittenReview | None) -> list[str]:
    """The written cells of a rendered notebook whose text is nowhere else: neither in its
    review file (`review`) nor the text the render or the last save gave it. Such text was
    written without the save hook (an editor or a Jupyter that does not run it), so a
    render must not replace that notebook. A notebook `merge` did not prepare has none."""
    import copy

    if not isinstance(notebook.get("metadata", {}).get(META), dict):
        return []
    meta = notebook["metadata"][META]
    texts = meta.get("texts") if isinstance(meta.get("texts"), dict) else {}
    kept = {s.id: s.text for s in review.sections} if review else {}
    found = sections_of(copy.deepcopy(notebook), "", "")
    return [s.id for s in found if kept.get(s.id) != s.text and texts.get(s.id) != _digest(s.text)]


# --------------------------------------------------------------------------- on the page

_SAFE_SCHEMES = ("http", "https", "mailto")
_ALLOWED_TAGS = frozenset(
    ["a", "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
     "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "div"]
)  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "ol": ["start"],
    "code": ["class"],
    "li": ["class"],
    "ul": ["class"],
    "div": ["class"],
}


def safe_url(url: str) -> str | None:
    """`url` when it is safe to link (http, https, mailto, or a path or anchor in the
    reports), else None: javascript:, data:, vbscript: and any other scheme, however
    written (entities, blanks or control characters inside), never become a link."""
    import html
    import re

    plain = re.sub(r"[\x00-\x20\x7f-\x9f]", "", html.unescape(url)).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.\-]*):", plain)
    if scheme is None:
        return None if plain.startswith("//") or ":" in plain.split("/")[0] else url
    return url if scheme.group(1) in _SAFE_SCHEMES else None


def safe_html(markdown: str) -> str:
    """Written Markdown as HTML that can do nothing: raw HTML shown as text, links only to
    http(s), mailto and the reports (any other address shown as text beside its words),
    images as links (a page loads nothing from outside),
    control characters shown escaped; then every tag and attribute checked against an
    allow-list. Entities (``&amp;``, ``&lt;``) show the character they name, as in
    JupyterLab, and stay text. One line (a single HTML block, so Markdown never reads it
    again)."""
    import html as html_module

    import bleach
    import mistune
    from mistune.renderers.html import HTMLRenderer

    from review.text import visible

    class Renderer(HTMLRenderer):
        def text(self, text: str) -> str:  # entities read as CommonMark (and JupyterLab) do
            return str(mistune.escape(visible(html_module.unescape(text))))

        def link(self, text: str, url: str, title: str | None = None) -> str:
            href = safe_url(url)
            if href is None:  # shown as text, so every written word stays on the page
                return f"{text} ({mistune.escape(url)})"
            return f'<a href="{self.escape_attribute(href)}" rel="noopener noreferrer">{text}</a>'

        def image(self, text: str, url: str, title: str | None = None) -> str:
            label = f"image: {text}" if text else "image"
            return self.link(mistune.escape(label), url, title)

    render = mistune.create_markdown(
        escape=True, renderer=Renderer(escape=True), plugins=["strikethrough", "table", "url"]
    )
    html = str(render(visible(markdown)))
    clean: str = bleach.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        protocols=list(_SAFE_SCHEMES),
        strip=False,
    )
    return '<div class="review-written">' + clean.replace("\n", "&#10;") + "</div>"


def sanitize_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """A copy of `notebook` whose written cells hold `safe_html` (for the HTML export)."""
    import copy

    safe = copy.deepcopy(notebook)
    for cell in safe.get("cells", []):
        if cell.get("cell_type") == "markdown" and TAG in cell.get("metadata", {}).get("tags", []):
            cell["source"] = safe_html(_source(cell))
            cell.pop("attachments", None)
    return safe
