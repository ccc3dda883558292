"""The snapshot layer: RT's REST2 JSON as pulled, written atomically, read into tidy frames.

The modules, by job: layout (file names), store (atomic write, swap, lock, recovery),
manifest (manifest and coverage), load (parse, validate, flatten), frames (the
Snapshot), cache (its parquet copy), fingerprint (every cache key). Callers import
the public names from here.
"""

from review.snapshot.frames import Problem, Snapshot, join_per_key
from review.snapshot.layout import (
    DATA_FILES,
    FOLLOWUPS,
    MANIFEST,
    QUEUES,
    TICKETS,
    TRANSACTIONS,
    UNSET_DATE,
    USERS,
)
from review.snapshot.load import load_snapshot
from review.snapshot.manifest import Coverage, coverage_of, covers, read_manifest
from review.snapshot.store import (
    file_sha256,
    read_jsonl,
    recover_snapshot,
    snapshot_target,
    write_snapshot,
)

__all__ = [
    "DATA_FILES",
    "FOLLOWUPS",
    "MANIFEST",
    "QUEUES",
    "TICKETS",
    "TRANSACTIONS",
    "UNSET_DATE",
    "USERS",
    "Coverage",
    "Problem",
    "Snapshot",
    "coverage_of",
    "covers",
    "file_sha256",
    "join_per_key",
    "load_snapshot",
    "read_jsonl",
    "read_manifest",
    "recover_snapshot",
    "snapshot_target",
    "write_snapshot",
]
