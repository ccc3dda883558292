"""What every report derives from a snapshot, computed once and cached.

`load_context` gives the events, state stretches, metrics, close-out findings and
checklist of a snapshot (or of a few tickets). Each notebook runs in a fresh kernel:
rather than every one of them re-deriving the whole audit, the renderer derives
everything once per batch (`prepare_derived`) and the kernels read their incident's
rows back (parquet, filtered on ticket_id).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from review.analysis import problems as data
from review.analysis.fit import config_problems
from review.analysis.metrics import compute_metrics
from review.analysis.problems import DataProblem
from review.analysis.survey import survey
from review.analysis.timeline import build_events, state_segments
from review.closeout.audit import Audit
from review.closeout.checklist import CHECKLIST_COLUMNS, audit_checklist
from review.closeout.fit import registry_problems, uses
from review.closeout.gaps import FINDING_COLUMNS, audit_findings, unobservable_rules
from review.closeout.recurrence import COLUMNS as RECURRENCE_COLUMNS
from review.closeout.recurrence import recurrences
from review.closeout.registry import Registry, load_registry
from review.derive import derive_parts
from review.derive import prune as prune_parts
from review.errors import ReviewError, SnapshotError
from review.settings.config import (
    CACHE_ENV,
    Config,
    cache_dir,
    load_config,
    sample_snapshot,
    with_registry,
)
from review.snapshot import Snapshot, load_snapshot
from review.snapshot.fingerprint import derived_key, review_data_digests
from review.snapshot.load import open_catalog

PathLike = str | os.PathLike[str]


@dataclass
class Context:
    """A loaded snapshot and everything derived from it that the reports share."""

    snapshot: Snapshot
    config: Config
    events: pd.DataFrame
    segments: pd.DataFrame
    metrics: pd.DataFrame
    registry: Registry | None = None
    findings: pd.DataFrame = field(default_factory=lambda: empty_frame(FINDING_COLUMNS))
    checklist: pd.DataFrame = field(default_factory=lambda: empty_frame(CHECKLIST_COLUMNS))
    # review.closeout.recurrence over the whole snapshot: a review's own row says what it recurs
    recurrences: pd.DataFrame = field(default_factory=lambda: empty_frame(RECURRENCE_COLUMNS))
    # where the data cannot back the numbers (review.analysis.problems), over the whole snapshot
    problems: list[DataProblem] = field(default_factory=list)
    # rule id -> 'not observable (field X not on any ticket)': reports show it instead of 0
    unobservable: dict[str, str] = field(default_factory=dict)
    # ticket_id, data: what each review is about (fingerprint.review_data_digests), for sign-off
    review_data: pd.DataFrame = field(default_factory=lambda: empty_frame(["ticket_id", "data"]))


def data_problems(
    snapshot: Snapshot, config: Config, registry: Registry | None = None
) -> list[DataProblem]:
    """Every data problem of a snapshot read with `config` (and `registry`), mismatches first:
    what every command prints on stderr and every page shows."""
    found = survey(snapshot)
    problems = config_problems(found, config, uses())
    if registry is not None:
        problems += registry_problems(found, config, registry)
    return data.ordered(problems)


def empty_frame(columns: list[str]) -> pd.DataFrame:
    """An empty frame with these (object) columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def open_snapshot(snapshot_dir: PathLike | None, config: Config | None = None) -> Snapshot:
    """The snapshot at `snapshot_dir` (None: the bundled sample), through the parquet cache."""
    path = Path(snapshot_dir) if snapshot_dir is not None else sample_snapshot()
    return load_snapshot(path, cache_dir=cache_dir(config))


def load_context(
    snapshot_dir: PathLike | None = None,
    config_path: PathLike | None = None,
    ticket_ids: set[int] | None = None,
    registry: PathLike | None = None,
    derived: PathLike | None = None,
) -> Context:
    """Events, state stretches, metrics, findings and checklist of a snapshot.

    Read from the derived cache when `prepare_derived` has filled it for these inputs
    (then, with `ticket_ids`, only those tickets' rows and their linked tickets' are
    read); computed otherwise, on the subset of the snapshot about `ticket_ids`.
    `registry` replaces the config's service registry (`--registry`). `derived` is the
    cache `review render` made for its batch: every notebook of a batch reads that one
    version of the snapshot, even if a pull swaps the directory meanwhile.
    """
    config = with_registry(load_config(config_path), Path(registry) if registry else None)
    path = Path(snapshot_dir) if snapshot_dir is not None else sample_snapshot()
    directory = Path(derived) if derived is not None else derived_dir(path, config)
    cached = _read_derived(directory, ticket_ids, config)
    if cached is not None:
        return cached
    if derived is not None:
        if derived_dir(path, config) != directory:
            raise SnapshotError(
                "changed since this render began (a pull swapped it in): render again",
                str(path),
            )
        print(f"derived cache {directory} is missing: deriving from the snapshot", file=sys.stderr)
    snapshot = open_snapshot(path, config)
    if ticket_ids is None:
        return _compute(snapshot, config)
    # earlier incidents, and what the data holds as a whole, are outside the subset
    registry_ = load_registry(config.gaps.registry)
    context = _compute(
        snapshot.around(ticket_ids), config, recurrences(snapshot, config, registry_)
    )
    context.problems = data_problems(snapshot, config, registry_)
    context.unobservable = unobservable_rules(snapshot, config)
    digests = review_data_digests(snapshot, config.publish.status_field)
    context.review_data = pd.DataFrame(
        {"ticket_id": digests.index.astype("int64"), "data": digests.to_numpy()}
    )
    return context


def _compute(snapshot: Snapshot, config: Config, found: pd.DataFrame | None = None) -> Context:
    events = build_events(snapshot, config)
    segments = state_segments(events, snapshot)
    metrics = compute_metrics(events, snapshot, config, segments=segments)
    context = Context(snapshot, config, events, segments, metrics)
    context.registry, context.findings, context.checklist = close_out_sections(context)
    if found is None:
        found = recurrences(snapshot, config, context.registry)
    context.recurrences = found
    context.problems = data_problems(snapshot, config, context.registry)
    context.unobservable = unobservable_rules(snapshot, config)
    digests = review_data_digests(snapshot, config.publish.status_field)
    context.review_data = pd.DataFrame(
        {"ticket_id": digests.index.astype("int64"), "data": digests.to_numpy()}
    )
    return context


# --------------------------------------------------------------------------- derived cache

_DERIVED = ("events", "segments", "metrics", "findings", "checklist", "recurrences", "review_data")
_SNAPSHOT_FRAMES = ("tickets", "watchers", "custom_fields", "links", "queues", "users")
_PER_TICKET_FRAMES = {"events", "segments", "metrics", "findings", "checklist", "tickets",
                      "watchers", "custom_fields", "links", "recurrences",
                      "review_data"}  # fmt: skip


def derived_dir(snapshot_dir: Path, config: Config) -> Path:
    """Where the derived frames of this snapshot, config, registry and code are cached."""
    return cache_dir(config) / "derived" / derived_key(snapshot_dir, config)


def prepare_derived(snapshot_dir: PathLike | None, config_path: PathLike | None = None) -> Path:
    """Derive everything for the whole snapshot once and cache it (a no-op when cached)."""
    config = load_config(config_path)
    path = Path(snapshot_dir) if snapshot_dir is not None else sample_snapshot()
    target = derived_dir(path, config)
    if (target / "done").is_file():
        return target
    return derive_into(target, path, None, config)


def derive_into(target: Path, path: Path, snapshot: Snapshot | None, config: Config) -> Path:
    """Derive everything of the snapshot at `path` into the cache `target`, a month's part at
    a time (review.derive); `snapshot`, when given, is the version already read, which must
    still be the one there."""
    if (target / "done").is_file():
        return target
    catalog = open_catalog(path, cache_dir(config))
    if snapshot is not None and catalog.manifest != snapshot.manifest:
        raise SnapshotError(
            "was replaced while it was read (a pull swapped it in): run again", str(path)
        )
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    store = cache_dir(config) / "derived-parts"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        light = derive_parts(catalog, config, staging, store, _compute, _DERIVED)
        # what the data holds as a whole: the survey reads status and queue moves only
        whole = dataclasses.replace(light, transactions=catalog.surveyed())
        registry = load_registry(config.gaps.registry)
        _to_parquet(
            data.to_frame(data_problems(whole, config, registry)), staging / "problems.parquet"
        )
        (staging / "unobservable.json").write_text(json.dumps(unobservable_rules(light, config)))
        (staging / "manifest.json").write_text(
            json.dumps({"path": str(path), "manifest": catalog.manifest})
        )
        (staging / "done").write_text("")
        if target.exists():  # an incomplete leftover (a complete one returned above)
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except BaseException as exc:  # a full disk, or Ctrl-C: no half-written cache is left
        shutil.rmtree(staging, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        raise ReviewError(
            f"cannot write the derived cache {target.parent} ({exc.strerror}): give "
            f"{CACHE_ENV} or [paths] cache a directory you may write"
        ) from None
    _prune_derived(target, str(path))
    prune_parts(store, target.parent)
    return target


def _prune_derived(keep: Path, snapshot_path: str) -> None:
    """Drop older derived caches of the same snapshot directory (other inputs, older code)."""
    for other in keep.parent.iterdir():
        if other == keep or not (other / "done").is_file():
            continue
        try:
            about = json.loads((other / "manifest.json").read_text())
        except (OSError, ValueError):
            continue
        if about.get("path") == snapshot_path:
            shutil.rmtree(other, ignore_errors=True)


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.reset_index(drop=True).to_parquet(path, index=False)


def _read_derived(directory: Path, ticket_ids: set[int] | None, config: Config) -> Context | None:
    if not (directory / "done").is_file():
        return None
    keep: set[int] | None = None
    if ticket_ids is not None:
        links = _read(directory / "links.parquet", sorted(ticket_ids))
        linked = links.loc[~links["external"], "target"].dropna()
        keep = set(ticket_ids) | {int(t) for t in linked if str(t).isdigit()}

    def read(name: str) -> pd.DataFrame:
        wanted = sorted(keep) if keep is not None and name in _PER_TICKET_FRAMES else None
        return _read(directory / f"{name}.parquet", wanted)

    def messages(ids: Iterable[int] | None = None) -> pd.DataFrame:
        return _read(directory / "messages.parquet", None if ids is None else sorted(set(ids)))

    about = json.loads((directory / "manifest.json").read_text())
    frames = {name: read(name) for name in _SNAPSHOT_FRAMES}
    snapshot = Snapshot(
        path=Path(about["path"]),
        manifest=about["manifest"],
        tickets=frames["tickets"],
        transactions=pd.DataFrame(),  # events hold what the reports need of them
        watchers=frames["watchers"],
        custom_fields=frames["custom_fields"],
        field_names=pd.DataFrame(columns=["field_id", "field"]),
        links=frames["links"],
        queues=frames["queues"],
        users=frames["users"],
        messages=messages,
    )
    return Context(
        snapshot,
        config,
        read("events"),
        read("segments"),
        read("metrics"),
        findings=read("findings"),
        checklist=read("checklist"),
        recurrences=read("recurrences"),
        problems=data.from_frame(pd.read_parquet(directory / "problems.parquet")),
        unobservable=json.loads((directory / "unobservable.json").read_text()),
        review_data=read("review_data"),
    )


def _read(path: Path, ticket_ids: list[int] | None = None) -> pd.DataFrame:
    """A derived frame: one file, or a directory of a file per part (read as one table, in
    ticket order as one derive of the whole snapshot gives it)."""
    filters = None if ticket_ids is None else [("ticket_id", "in", ticket_ids)]
    if not path.is_dir():
        single: pd.DataFrame = pd.read_parquet(path, filters=filters)
        return single
    files = sorted(path.iterdir())
    schema = pa.unify_schemas(
        [pq.read_schema(f) for f in files], promote_options="permissive"
    ).with_metadata(pq.read_schema(files[0]).metadata)
    table = ds.dataset(files, schema=schema, format="parquet").to_table(
        filter=None if ticket_ids is None else ds.field("ticket_id").isin(ticket_ids)
    )
    frame: pd.DataFrame = table.to_pandas()
    if len(files) > 1:
        frame = frame.sort_values("ticket_id", kind="stable", ignore_index=True)
    return frame


def close_out_sections(context: Context) -> tuple[Registry, pd.DataFrame, pd.DataFrame]:
    """(registry, findings, checklist) for the incidents of the context: one audit, on the
    context's state stretches, serves both."""
    registry = load_registry(context.config.gaps.registry)
    audit = Audit(
        context.events,
        context.snapshot,
        context.config,
        registry,
        context.metrics,
        context.segments,
    )
    findings = audit_findings(audit)
    return registry, findings, audit_checklist(audit, findings)


def registry_path(config: Config) -> Path:
    """The service registry file named by the config (`gaps.registry`)."""
    return Path(config.gaps.registry)
