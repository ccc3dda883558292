"""A snapshot's manifest: read and checked, and the coverage it records (what a pull copied)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from review.errors import SnapshotError
from review.settings.utc import MINUTE_FORMAT
from review.snapshot.layout import DATA_FILES, FOLLOWUPS, FORMAT, MANIFEST, PARTED
from review.snapshot.store import recover_snapshot

NOT_UTF8 = "not UTF-8 text (RT writes UTF-8): the file was altered; pull the snapshot again"


@dataclass(frozen=True)
class Coverage:
    """What a pull copied, from manifest.json's "coverage" (see CONTRACTS: written by the pull).

    Every ticket of `queues` that reached an inactive status in [since, until) is in the
    snapshot when `closed_in_window`, and every ticket created then when `opened_in_window`.
    """

    since: pd.Timestamp  # UTC, inclusive
    until: pd.Timestamp  # UTC, exclusive
    queues: tuple[str, ...]
    closed_in_window: bool
    opened_in_window: bool
    pulled_at: pd.Timestamp | None = None  # nothing after the pull can be in the snapshot
    # tickets of the window not held: they left `queues` for another (id -> the queue now)
    moved_out: tuple[tuple[int, str], ...] = ()
    # RT hid rows of the tickets' histories from the pull's account (comments, mail copies)
    hidden_history: bool = False

    @property
    def end(self) -> pd.Timestamp:
        """Where what the snapshot holds ends: `until`, or the pull's time if that is earlier."""
        return min(self.until, self.pulled_at) if self.pulled_at is not None else self.until

    def __str__(self) -> str:
        return f"{self.since:{MINUTE_FORMAT}} to {self.end:{MINUTE_FORMAT}} UTC"


def covers(coverage: Coverage | None, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether every ticket opened in [start, end) is in the snapshot (None covers nothing)."""
    return (
        coverage is not None
        and coverage.opened_in_window
        and coverage.since <= start
        and end <= coverage.end
    )


def coverage_of(manifest: Mapping[str, Any], path: Path) -> Coverage | None:
    """The parsed "coverage" of a manifest; None for pulls that did not record one."""
    raw = manifest.get("coverage")
    if raw is None:
        return None

    def bad(what: str) -> SnapshotError:
        return SnapshotError(
            f"coverage.{what}; the manifest was altered: pull the snapshot again", str(path)
        )

    if not isinstance(raw, dict):
        raise bad("is not a table")
    stamps = {}
    for key in ("since", "until"):
        try:
            stamps[key] = pd.Timestamp(datetime.fromisoformat(raw[key])).tz_convert("UTC")
        except (KeyError, TypeError, ValueError):
            raise bad(f"{key} must be a UTC time like 2026-08-01T00:00:00Z") from None
    queues = raw.get("queues")
    if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
        raise bad("queues must be a list of queue names")
    flags = {key: raw.get(key) for key in ("closed_in_window", "opened_in_window")}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise bad(f"{key} must be true or false")
    if stamps["until"] <= stamps["since"]:
        raise bad("until must be later than since")
    moved = raw.get("moved_out") or {}
    if not isinstance(moved, dict) or not all(
        str(k).isdigit() and isinstance(v, str) for k, v in moved.items()
    ):
        raise bad("moved_out must map ticket ids to queue names")
    if not isinstance(raw.get("hidden_history", False), bool):
        raise bad("hidden_history must be true or false")
    return Coverage(
        since=stamps["since"],
        until=stamps["until"],
        queues=tuple(queues),
        closed_in_window=bool(flags["closed_in_window"]),
        opened_in_window=bool(flags["opened_in_window"]),
        pulled_at=utc(manifest.get("pulled_at")),
        moved_out=tuple(sorted((int(k), v) for k, v in moved.items())),
        hidden_history=bool(raw.get("hidden_history", False)),
    )


def utc(value: Any) -> pd.Timestamp | None:
    """An ISO 8601 time with a zone as a UTC timestamp; None if it is not one."""
    stamp = pd.to_datetime(str(value), utc=True, errors="coerce")
    return None if pd.isna(stamp) else stamp


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a snapshot directory, with a clear error if the snapshot is not there."""
    recover_snapshot(directory)  # a pull killed mid-swap must not make the snapshot vanish
    if not directory.is_dir():
        raise SnapshotError(
            "no snapshot here; give --snapshot a directory made by `review pull` "
            "(or omit it to use the bundled sample)",
            str(directory),
        )
    path = directory / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SnapshotError(
            "missing manifest.json: this directory is not a complete snapshot; pull it again",
            str(path),
        ) from None
    except UnicodeDecodeError:
        raise SnapshotError(NOT_UTF8, str(path)) from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"bad JSON ({exc.msg})", str(path), exc.lineno) from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise SnapshotError(
            f"unsupported snapshot format {found!r}"
            f" (this kit reads format {FORMAT}); pull it again with this version",
            str(path),
        )
    sums = manifest.get("sha256", {})
    files = (*DATA_FILES, FOLLOWUPS)
    if not isinstance(sums, dict) or not all(
        name in files and isinstance(value, str) for name, value in sums.items()
    ):
        raise SnapshotError(
            f"sha256 must be a table from file name ({', '.join(files)}) to checksum; "
            "the manifest was altered: pull the snapshot again",
            str(path),
        )
    coverage_of(manifest, path)  # a malformed coverage is reported now, not mid-report
    parts_of(manifest, path)
    return manifest


@dataclass(frozen=True)
class RawPart:
    """One month's lines of a data file: `length` bytes from `offset`, and their checksum."""

    month: str
    offset: int
    length: int
    rows: int
    sha256: str


def parts_of(manifest: Mapping[str, Any], path: Path) -> dict[str, list[RawPart]] | None:
    """The manifest's "parts" (tickets and transactions by month, see review.snapshot.layout);
    None for snapshots written before parts, which are read whole."""
    raw = manifest.get("parts")
    if raw is None:
        return None
    bad = SnapshotError(
        "parts must list each month's offset, length, rows and sha256 for "
        f"{' and '.join(PARTED)}, in the same months; the manifest was altered: "
        "pull the snapshot again",
        str(path),
    )
    if not isinstance(raw, dict) or set(raw) != set(PARTED):
        raise bad
    found: dict[str, list[RawPart]] = {}
    for name in PARTED:
        entries, at = raw[name], 0
        if not isinstance(entries, list):
            raise bad
        found[name] = []
        for entry in entries:
            try:
                part = RawPart(**entry)
            except TypeError:
                raise bad from None
            numbers = (part.offset, part.length, part.rows)
            if not (
                isinstance(part.month, str)
                and isinstance(part.sha256, str)
                and all(isinstance(n, int) and n >= 0 for n in numbers)
                and part.offset == at
            ):
                raise bad
            at += part.length
            found[name].append(part)
    if [p.month for p in found[PARTED[0]]] != [p.month for p in found[PARTED[1]]]:
        raise bad
    return found
