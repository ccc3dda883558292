"""The parquet copy of a snapshot's flattened frames, so the next read skips JSON parsing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from review.snapshot.frames import Problem, Snapshot

CACHE_LAYOUT = 3  # bump when the flattened tables change shape
FRAMES = (
    "tickets", "transactions", "watchers", "custom_fields",
    "field_names", "links", "queues", "users",
)  # fmt: skip


def write_cache(cache: Path, snapshot: Snapshot) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for name in FRAMES:
            frame: pd.DataFrame = getattr(snapshot, name)
            frame.to_parquet(cache / f"{name}.parquet", index=False)
        (cache / "problems.json").write_text(
            json.dumps([[p.file, p.line, p.message] for p in snapshot.problems])
        )
        (cache / "done").write_text("")
    except OSError:
        shutil.rmtree(cache, ignore_errors=True)  # a cache that cannot be written is only slower


def read_cache(cache: Path, path: Path) -> Snapshot:
    frames = {name: pd.read_parquet(cache / f"{name}.parquet") for name in FRAMES}
    problems = [Problem(*p) for p in json.loads((cache / "problems.json").read_text())]
    return Snapshot(path=path, manifest={}, problems=problems, **frames)
