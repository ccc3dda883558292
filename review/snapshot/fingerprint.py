"""Every cache key and render fingerprint, built in one place.

Three caches depend on them, and a key built two ways is a silent cache miss:
- the snapshot cache (parquet of the flattened frames): `snapshot_key`
- the derived cache (events, metrics, findings ... of a snapshot): `derived_key`, and of
  each of its month parts: `part_key`
- the render state (skip a notebook whose inputs are unchanged): `digest` of the
  parts below (`config_digest`, `file_digest`, `source_digest`, `package_digest`,
  `ticket_digests`, `shared_digest`)
and the fingerprint of what a review is about, which sign-offs and publications keep
(`review_data_digests`).

Nothing here depends on how a path was given: a config named relatively or absolutely,
from the command line or in a kernel, gives the same keys.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from review.errors import ReviewError
from review.snapshot.cache import CACHE_LAYOUT
from review.snapshot.layout import DATA_FILES
from review.snapshot.manifest import read_manifest
from review.snapshot.parse import seconds_text

if TYPE_CHECKING:
    from review.settings.config import Config
    from review.snapshot.frames import Snapshot

# The subject of the comment `review publish` adds starts with this (review.delivery.publish).
PUBLISHED_MARK = "[review-published:"
# Copies of outgoing mail RT records beside a comment or reply: not people's actions.
MAIL_COPIES = ("EmailRecord", "CommentEmailRecord")
# the per-ticket frames of a snapshot and those every incident shares
_PER_TICKET = ("tickets", "transactions", "watchers", "custom_fields", "links")
_SHARED = ("queues", "users", "field_names")


def digest(*parts: Any) -> str:
    """sha256 of the parts as canonical JSON."""
    material = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(material).hexdigest()


def file_digest(path: Path | None) -> str:
    """sha256 of a file's bytes ('' for none or a missing file)."""
    if path is None or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def config_digest(config: Config) -> str:
    """The settings, not where they were read from (`source` is the path as given)."""
    return digest(repr(dataclasses.replace(config, source="")))


def source_digest(template: Path) -> str:
    """A digest of a template's cells (type and source) only: running it in JupyterLab adds
    outputs, execution counts and metadata, and must not make every report look changed."""
    try:
        node = json.loads(template.read_bytes())
        cells = [(c.get("cell_type"), "".join(c.get("source", ""))) for c in node.get("cells", [])]
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise ReviewError(
            f"{template}: not a readable notebook ({exc}); fix the template"
        ) from None
    return digest(cells)


def package_digest() -> str:
    """The package version and a digest of its source: any code change invalidates outputs."""
    import review

    root = Path(review.__file__).parent
    sha = hashlib.sha256(review.__version__.encode())
    for source in sorted(root.rglob("*.py")) + sorted(root.rglob("*.toml")):
        sha.update(source.relative_to(root).as_posix().encode())
        sha.update(source.read_bytes())
    return sha.hexdigest()


@functools.cache
def parse_version() -> str:
    """What a parse in the snapshot cache depends on besides the data: its layout, the
    version and the source of review.snapshot, so that a cache parsed by other code (a
    developer's checkout between versions) is parsed again rather than read as current."""
    from review import __version__

    root = Path(__file__).parent
    sha = hashlib.sha256(f"{CACHE_LAYOUT}:{__version__}".encode())
    for source in sorted(root.glob("*.py")):
        sha.update(source.name.encode())
        sha.update(source.read_bytes())
    return sha.hexdigest()[:16]


def file_stamps(directory: Path, names: Iterable[str]) -> list[tuple[str, int, int]]:
    """(name, size, mtime) of the files present: an edit after the pull changes them."""
    stamps = []
    for name in names:
        path = directory / name
        if path.is_file():
            stat = path.stat()
            stamps.append((name, stat.st_size, stat.st_mtime_ns))
    return stamps


def snapshot_key(directory: Path, manifest: dict[str, Any]) -> str:
    """The snapshot cache's key: the parse's version, the checksums, the stamps."""
    stamps = file_stamps(directory, DATA_FILES)
    return digest(parse_version(), manifest.get("sha256"), stamps)[:32]


def derived_key(snapshot_dir: Path, config: Config) -> str:
    """The derived cache's key: this snapshot (where, which version), config, registry, code."""
    real = snapshot_dir.resolve()
    return digest(
        str(real),
        read_manifest(real),  # all of it: coverage and pulled_at reach the reports from here
        file_stamps(real, DATA_FILES),
        config_digest(config),
        file_digest(Path(config.gaps.registry)),
        package_digest(),
    )[:32]


def derive_digest(config: Config) -> str:
    """What every derived frame depends on besides the data: config, registry and code."""
    return digest(config_digest(config), file_digest(Path(config.gaps.registry)), package_digest())


def part_key(part: str, common: str, lookups: str, linked: str, now: str | None) -> str:
    """The key of one month's derived frames (review.derive): that part's parse, the users,
    queues and field names it reads, the tickets it links to, `derive_digest`; `now` only for
    the tickets still open, whose figures run to the pull's time."""
    return digest(part, common, lookups, linked, now)[:32]


def frame_digest(frame: pd.DataFrame) -> str:
    """The rows of a frame, in order (its length too: an empty frame differs from none)."""
    hashes = pd.util.hash_pandas_object(frame.astype("string"), index=False)
    return digest(
        len(frame), list(frame.columns), hashlib.sha256(hashes.to_numpy().tobytes()).hexdigest()
    )


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame.astype("string")`, with UTC times of whole seconds written by Arrow (pandas
    writes each one in Python: most of a digest's time)."""
    times = {}
    for name, column in frame.items():
        seconds = seconds_text(column)
        if seconds is None:
            continue
        values = column.to_numpy(dtype="datetime64[us]")
        stamped = values[~np.isnat(values)].astype("int64")
        if not (stamped % 1_000_000).any():  # whole seconds: pandas writes no fraction
            text = pc.binary_join_element_wise(seconds, "+00:00", "")
            times[name] = pd.Series(
                pd.arrays.ArrowStringArray(pa.chunked_array([text])), index=frame.index
            )
    rest = frame.drop(columns=list(times)).astype("string")
    return pd.concat([rest, pd.DataFrame(times, index=frame.index)], axis=1)[frame.columns]


def ticket_digests(snapshot: Snapshot, texts: pd.Series | None = None) -> pd.Series:
    """A digest of each ticket's rows in every per-ticket frame, independent of row order;
    a transaction's text (`texts`: by txn_id; the snapshot's messages when not given) is
    hashed with it, a slice of the history at a time (HASHED_AT_ONCE)."""
    ids = snapshot.tickets["ticket_id"]
    total = pd.Series(0, index=pd.Index(ids, name="ticket_id"), dtype="uint64")
    for number, name in enumerate(_PER_TICKET, start=1):
        frame: pd.DataFrame = getattr(snapshot, name)
        if frame.empty:
            continue
        if name == "transactions":  # a reply's text is the incident's data too
            if texts is None:
                texts = message_texts(snapshot.messages(set(frame["ticket_id"])))
            hashes = _history_hashes(frame, texts)
        else:
            hashes = pd.util.hash_pandas_object(as_text(frame), index=False)
        hashes = hashes * pd.Series(number * 2 + 1, index=hashes.index, dtype="uint64")
        per_ticket = hashes.groupby(frame["ticket_id"].to_numpy()).sum()
        counts = frame.groupby("ticket_id").size().astype("uint64")
        total = total + per_ticket.reindex(total.index, fill_value=0).astype("uint64")
        total = total + counts.reindex(total.index, fill_value=0) * pd.Series(
            1_000_003 * number, index=total.index, dtype="uint64"
        )
    hexes = np.frombuffer(total.to_numpy().astype(">u8").tobytes().hex().encode(), dtype="S16")
    return pd.Series(hexes.astype(str), index=total.index, dtype="str")


# transactions hashed with their text at once: text made ready for hashing takes several
# times its size, so a batch of long mails hashed whole took 4.3 GB for 0.5 GB of bodies
HASHED_AT_ONCE = 50_000


def message_texts(messages: pd.DataFrame) -> pd.Series:
    """Each transaction's text by txn_id (the first, if one is there twice), kept in Arrow."""
    first = ~messages["txn_id"].duplicated()
    kept = messages if first.all() else messages.loc[first]
    return pd.Series(kept["data"].array, index=pd.Index(kept["txn_id"].to_numpy()))


def _history_hashes(history: pd.DataFrame, texts: pd.Series) -> pd.Series:
    """Each transaction's row hash, its text ("" when none) as a last column: a slice of
    HASHED_AT_ONCE rows at a time (a row's hash does not depend on the others)."""
    found = []
    for start in range(0, len(history), HASHED_AT_ONCE):
        rows = history.iloc[start : start + HASHED_AT_ONCE]
        data = texts.reindex(rows["txn_id"].to_numpy()).astype("string").fillna("")
        rows = rows.assign(data=data.set_axis(rows.index))
        found.append(pd.util.hash_pandas_object(as_text(rows), index=False))
    return pd.concat(found)


def shared_digest(snapshot: Snapshot) -> str:
    """Digest of the frames every incident uses: queue, user and field names."""
    parts = []
    for name in _SHARED:
        frame: pd.DataFrame = getattr(snapshot, name)
        hashes = pd.util.hash_pandas_object(frame.astype("string"), index=False)
        parts.append(f"{len(frame)}:{int(hashes.sum()):x}")
    return digest(parts)


def review_data_digests(snapshot: Snapshot, status_field: str = "") -> pd.Series:
    """ticket_id -> a digest of what a review is about: the ticket's rows as pulled.

    Left out, so that publishing a review never makes it look changed: the ticket's
    LastUpdated, the kit's own publication comments (subject starting `PUBLISHED_MARK`),
    the copies of outgoing mail RT records beside them, and the review-status custom field
    (`status_field`) with its changes.
    """
    tx = snapshot.transactions
    messages = snapshot.messages(set(tx["ticket_id"]))
    # (in Arrow: the mails of a batch made Python text took GBs)
    marked = messages["data"].str.startswith(PUBLISHED_MARK).fillna(False).to_numpy(dtype=bool)
    published = messages.loc[marked, "txn_id"]
    kit = tx["type"].isin(MAIL_COPIES) | ((tx["type"] == "Comment") & tx["txn_id"].isin(published))
    fields = snapshot.custom_fields
    if status_field:
        names = snapshot.field_names
        ids = set(names.loc[names["field"] == status_field, "field_id"].astype(str))
        kit |= (tx["type"] == "CustomField") & tx["field"].astype(str).isin(ids)
        fields = fields.loc[fields["field"] != status_field]
    tickets = snapshot.tickets.drop(columns=["last_updated"], errors="ignore")
    texts, left = message_texts(messages), tx.loc[kit, "txn_id"]
    if tx.loc[~kit, "txn_id"].isin(left).any():  # an id twice, once left out: not its text
        texts = texts.loc[~texts.index.isin(left)]
    kept = dataclasses.replace(
        snapshot, tickets=tickets, transactions=tx.loc[~kit], custom_fields=fields
    )
    return ticket_digests(kept, texts)
