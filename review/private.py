"""What other local users may read of what the kit writes: nothing, unless a site shares its
rendered pages.

Snapshots, caches, the derived frames and the records (mail, reminders, renders, locks)
hold ticket text, internal comments included, requestors' addresses and who was mailed;
the rendered pages show the internal comments too. So the `review` command starts with
`restrict()`: 077 is added to the process umask, and every file and folder the kit makes,
by a plain write, an atomic rename or in a worker process or kernel (they inherit the
umask), is 0600 or 0700, whatever the umask it was started with. A site that serves its
reports (`[paths] share_reports = true`) has `settle()` give the pages and their folders
the modes that umask would have given (0644 and 0755 under 022); the dot-files beside them
(records, locks, a page being written) stay private.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

UMASK_ENV = "REVIEW_STARTED_UMASK"  # the umask before restrict(), for worker processes
PRIVATE = 0o077
# What a render writes under its reports folder: the month folders (YYYY-MM) and the review
# files' folder (review.pages.written), and the pages and review files in them.
FOLDERS = re.compile(r"\d{4}-\d{2}|reviews")
PAGES = frozenset({".html", ".ipynb", ".json"})


def restrict() -> None:
    """Add 077 to the process umask (once per process tree: the first umask is kept in the
    environment, which worker processes and kernels inherit)."""
    mask = os.umask(PRIVATE)
    os.environ.setdefault(UMASK_ENV, oct(mask))
    os.umask(mask | PRIVATE)


def started_umask() -> int:
    """The umask the kit was started with (the current one when restrict() was not called)."""
    recorded = os.environ.get(UMASK_ENV, "")
    try:
        return int(recorded, 8) & 0o777
    except ValueError:
        mask = os.umask(PRIVATE)
        os.umask(mask)
        return mask


def settle(out: Path, shared: bool) -> None:
    """Give what the kit renders under the reports folder `out` what its setting asks of
    group and others: with `shared`, what the starting umask allows; else nothing. Only
    `out`, its month folders and `reviews/`, and the pages in them (PAGES); dot-files there
    (records, locks, a page being written) are private either way. The owner's own bits (a
    folder made read-only) and what the running user does not own are left as they are."""
    mask = started_umask() if shared else PRIVATE
    folders = [out, *(p for p in _listed(out) if p.is_dir() and FOLDERS.fullmatch(p.name))]
    for folder in folders:
        _chmod(folder, 0o777 & ~mask)
        for path in _listed(folder):
            if path.name.startswith("."):
                _chmod(path, 0o666 & ~PRIVATE)
            elif path.suffix in PAGES and not path.is_dir():
                _chmod(path, 0o666 & ~mask)


def _listed(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _chmod(path: Path, allowed: int) -> None:
    """Group and others get the bits `allowed` gives them; the owner's stay."""
    try:
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        wanted = mode & stat.S_IRWXU | allowed & (stat.S_IRWXG | stat.S_IRWXO)
        if info.st_uid == os.getuid() and not stat.S_ISLNK(info.st_mode) and wanted != mode:
            path.chmod(wanted)
    except OSError:  # gone meanwhile (a temp file renamed), or not ours to change
        pass
