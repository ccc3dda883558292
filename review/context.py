"""The pipeline of one snapshot under one config: every stage, each computed once, on first use.

A `Context` is opened one way, `open_context(snapshot, config)`, by the commands, the
renderer and the notebooks alike. Its stages follow the flow of the data:

    snapshot -> lost (what the data cannot back: review.analysis.quality)
             -> events -> segments (state stretches) -> metrics (with the business clock)
             -> audit -> findings -> checklist;  recurrences, sla, problems, unobservable,
             review_data

Each is a property computed from the ones before it the first time it is read, and kept:
no function downstream recomputes a stage it could have been given.

Each notebook runs in a fresh kernel: rather than every one of them re-deriving the whole
audit, the renderer derives every stage once per batch (`derive_into`, a month's part at a
time: review.derive) into the derived cache (parquet), and a kernel opens its context from
there, reading only its incident's rows. A context read back from the cache holds what a
computed one does, the custom-field names and the rows left out of the snapshot included;
only the transactions stay behind (their events and texts are there), and asking for them
is an error that says so, never an empty frame (`CachedSnapshot`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from review.analysis import problems as data
from review.analysis import quality
from review.analysis.fit import config_problems
from review.analysis.metrics import compute_metrics
from review.analysis.problems import DataProblem
from review.analysis.sla import sla_table
from review.analysis.survey import Survey, survey
from review.analysis.timeline import build_events, state_segments
from review.closeout.audit import Audit
from review.closeout.checklist import audit_checklist
from review.closeout.fit import registry_problems, uses
from review.closeout.gaps import audit_findings, unobservable_rules
from review.closeout.recurrence import recurrences
from review.closeout.registry import Registry, load_registry
from review.derive import derive_parts
from review.derive import prune as prune_parts
from review.errors import RegistryError, ReviewError, SnapshotError
from review.settings.calendar import BusinessClock
from review.settings.config import Config, cache_dir, load_config, sample_snapshot
from review.snapshot import Snapshot, load_snapshot
from review.snapshot.cache import (
    STAGING,
    UNWRITABLE,
    clear_leftovers,
    file_of,
    how_to_write,
    publish,
    staging_for,
)
from review.snapshot.fingerprint import derived_key, review_data_digests
from review.snapshot.frames import Problem
from review.snapshot.load import open_catalog

PathLike = str | os.PathLike[str]


class Context:
    """A snapshot read under a config, and every stage derived from it (see the module).

    `whole` is the context of the whole snapshot when this one is a part of it
    (`around`): its clock and registry are the whole's, and so are its recurrences and
    data problems, since an earlier incident outside the part would hide a recurrence.
    `stages` are stages already known (read back from the derived cache); the others are
    computed when first read.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        config: Config,
        *,
        whole: Context | None = None,
        stages: Mapping[str, object] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.config = config
        self._whole = whole
        unknown = set(stages or {}) - set(STAGES)
        if unknown:
            raise ValueError(f"not stages of a Context: {', '.join(sorted(unknown))}")
        vars(self).update(stages or {})  # where cached_property keeps what it computed

    def around(self, ticket_ids: Iterable[int]) -> Context:
        """The part of this context about these tickets and the tickets they link to."""
        return Context(self.snapshot.around(ticket_ids), self.config, whole=self)

    @cached_property
    def clock(self) -> BusinessClock:
        """Business hours of the config's calendar."""
        if self._whole is not None:
            return self._whole.clock
        return BusinessClock(self.config.calendar)

    @cached_property
    def lost(self) -> pd.DataFrame:
        """Per ticket, what the data cannot back (review.analysis.quality): impossible times,
        unknown queues and users, merges into tickets the whole snapshot does not hold."""
        if self._whole is not None:
            whole = self._whole.lost
            return whole.loc[whole["ticket_id"].isin(self.snapshot.tickets["ticket_id"])]
        return quality.lost_inputs(self.snapshot, self.config)

    @cached_property
    def events(self) -> pd.DataFrame:
        """Who did what, when (review.analysis.timeline)."""
        return build_events(self.snapshot, self.config)

    @cached_property
    def segments(self) -> pd.DataFrame:
        """The stretches of each ticket's queue, status and owner."""
        return state_segments(self.events, self.snapshot)

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """One row per incident (review.analysis.metrics)."""
        return compute_metrics(
            self.events, self.snapshot, self.config, self.clock, self.segments, self.lost
        )

    @cached_property
    def registry(self) -> Registry:
        """The service registry the config names (gaps.registry)."""
        if self._whole is not None:
            return self._whole.registry
        return load_registry(self.config.gaps.registry)

    @cached_property
    def audit(self) -> Audit:
        """What every close-out rule and checklist step reads, computed once for all."""
        return Audit(
            self.events,
            self.snapshot,
            self.config,
            self.registry,
            self.metrics,
            self.segments,
            self.lost,
        )

    @cached_property
    def findings(self) -> pd.DataFrame:
        """Close-out findings: one row per incident and rule that fires."""
        return audit_findings(self.audit)

    @cached_property
    def checklist(self) -> pd.DataFrame:
        """The process checklist, on the same audit and findings (so they never disagree)."""
        return audit_checklist(self.audit, self.findings)

    @cached_property
    def sla(self) -> pd.DataFrame:
        """Service levels after the fact, one row per incident with a level."""
        found = sla_table(
            self.snapshot, self.config, self.events, self.metrics, self.clock, self.segments
        )
        return quality.unbacked_sla(found, self.lost)

    @cached_property
    def recurrences(self) -> pd.DataFrame:
        """review.closeout.recurrence over the whole snapshot."""
        if self._whole is not None:
            return self._whole.recurrences
        return recurrences(self.snapshot, self.config, self.registry)

    @cached_property
    def problems(self) -> list[DataProblem]:
        """Where the whole snapshot cannot back the numbers (review.analysis.problems),
        mismatches first: what every command prints on stderr and every page shows."""
        if self._whole is not None:
            return self._whole.problems
        try:
            registry: Registry | None = self.registry
        except RegistryError:
            registry = None  # the commands that need it say what is wrong with it
        return data_problems(self.snapshot, self.config, registry, self.lost, self.survey)

    @cached_property
    def survey(self) -> Survey:
        """What the whole snapshot holds, whatever the config says (review.analysis.survey)."""
        if self._whole is not None:
            return self._whole.survey
        return survey(self.snapshot)

    @cached_property
    def review_data(self) -> pd.DataFrame:
        """ticket_id, data: what each review is about (fingerprint.review_data_digests), so a
        sign-off can say whether the data changed since."""
        if self._whole is not None:
            return self._whole.review_data
        digests = review_data_digests(self.snapshot, self.config.publish.status_field)
        return pd.DataFrame(
            {"ticket_id": digests.index.astype("int64"), "data": digests.to_numpy()}
        )

    @cached_property
    def unobservable(self) -> dict[str, str]:
        """Rule id -> 'not observable (field X not on any ticket)': reports say it, not 0."""
        if self._whole is not None:
            return self._whole.unobservable
        return unobservable_rules(self.snapshot, self.config)


STAGES = tuple(n for n, v in vars(Context).items() if isinstance(v, cached_property))


def data_problems(
    snapshot: Snapshot,
    config: Config,
    registry: Registry | None = None,
    lost: pd.DataFrame | None = None,
    found: Survey | None = None,
) -> list[DataProblem]:
    """Every data problem of a snapshot read with `config` (and `registry`), mismatches first
    (`Context.problems`; `review check` without a registry): where the config does not fit
    the data, and what the data cannot back (`lost`: review.analysis.quality.lost_inputs of
    the snapshot, and `found`, its survey: each found here when not given)."""
    if found is None:
        found = survey(snapshot)
    problems = config_problems(found, config, uses())
    if registry is not None:
        problems += registry_problems(found, config, registry)
    if lost is None:
        lost = quality.lost_inputs(snapshot, config)
    return data.ordered(problems + quality.data_problems(lost) + quality.pulled_short(snapshot))


def open_snapshot(snapshot_dir: PathLike | None, config: Config) -> Snapshot:
    """The snapshot at `snapshot_dir` (None: the bundled sample), through the parquet cache.

    Rows it leaves out are in `snapshot.problems`: the commands print them
    (review.cli.common.open_context), the pages may show them."""
    path = Path(snapshot_dir) if snapshot_dir is not None else sample_snapshot()
    return load_snapshot(path, cache_dir=cache_dir(config))


def open_context(
    snapshot_dir: PathLike | None = None,
    config: Config | PathLike | None = None,
    *,
    tickets: set[int] | None = None,
    derived: PathLike | None = None,
) -> Context:
    """The pipeline of the snapshot at `snapshot_dir` (None: the bundled sample) under
    `config` (a Config, or the path of one; None: $REVIEW_CONFIG, else the defaults).

    Read from the derived cache when `derive_into` has filled it for these inputs (then,
    with `tickets`, only those tickets' rows and their linked tickets' are read);
    computed otherwise, on the part of the snapshot about `tickets`. `derived` is the cache
    `review render` made for its batch: every notebook of a batch reads that one version
    of the snapshot, even if a pull swaps the directory meanwhile.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    path = Path(snapshot_dir) if snapshot_dir is not None else sample_snapshot()
    directory = Path(derived) if derived is not None else derived_dir(path, config)
    if (directory / "done").is_file():
        return _read_derived(directory, tickets, config)
    if derived is not None:
        if derived_dir(path, config) != directory:
            raise SnapshotError(
                "changed since this render began (a pull swapped it in): render again",
                str(path),
            )
        print(f"derived cache {directory} is missing: deriving from the snapshot", file=sys.stderr)
    context = Context(open_snapshot(path, config), config)
    return context if tickets is None else context.around(tickets)


# --------------------------------------------------------------------------- derived cache

# Stages kept in the derived cache, a month's part at a time (review.derive); the data
# problems and the rules that cannot see are the whole snapshot's (JSON and parquet beside
# them). The clock, the registry and the audit are rebuilt from these when asked.
_DERIVED = (
    "events", "segments", "metrics", "findings", "checklist", "recurrences", "sla", "review_data",
    "lost",
)  # fmt: skip
_SNAPSHOT_FRAMES = ("tickets", "watchers", "custom_fields", "links", "queues", "users")
_PER_TICKET_FRAMES = {*_DERIVED, "tickets", "watchers", "custom_fields", "links"}
_ABOUT = "manifest.json"  # the snapshot's path and manifest, its rows left out, unobservable


class CachedSnapshot(Snapshot):
    """A snapshot read back from the derived cache: every frame but the transactions (the
    cache holds the events made of them, and their texts as `messages`). Asking for them is
    an error naming what to do, never an empty frame that reads as "nothing happened"."""

    @property
    def transactions(self) -> pd.DataFrame:
        raise ReviewError(
            f"the derived cache of {self.path} holds its events, not its transactions: "
            "read them from the snapshot itself (review.context.open_snapshot)"
        )

    @transactions.setter
    def transactions(self, value: pd.DataFrame) -> None:
        """Set by the dataclass' __init__ (an empty frame): not kept."""


def _compute(snapshot: Snapshot, config: Config, found: pd.DataFrame) -> Context:
    """A part's context for review.derive, with the recurrences found once over all (and no
    merges followed: a part may lack a survivor the snapshot holds; derive_into adds them)."""
    lost = quality.lost_inputs(snapshot, config, merges=False)
    return Context(snapshot, config, stages={"recurrences": found, "lost": lost})


def derived_dir(snapshot_dir: Path, config: Config) -> Path:
    """Where the derived frames of this snapshot, config, registry and code are cached."""
    return cache_dir(config) / "derived" / derived_key(snapshot_dir, config)


def derive_into(target: Path, path: Path, snapshot: Snapshot | None, config: Config) -> Path:
    """Derive every stage of the snapshot at `path` into the cache `target`, a month's part at
    a time (review.derive); `snapshot`, when given, is the version already read, which must
    still be the one there. A no-op when the cache is complete."""
    if (target / "done").is_file():
        return target
    catalog = open_catalog(path, cache_dir(config))
    if snapshot is not None and catalog.manifest != snapshot.manifest:
        raise SnapshotError(
            "was replaced while it was read (a pull swapped it in): run again", str(path)
        )
    store = cache_dir(config) / "derived-parts"
    staging: Path | None = None
    try:
        staging = staging_for(target)
        light, tallied = derive_parts(catalog, config, staging, store, _compute, _DERIVED)
        # what the data holds as a whole: the survey's counts of the history and the custom
        # fields, each part's added up; what it cannot back, from every part, and the merges
        # the whole snapshot can follow
        lost = quality.with_merges(_read(file_of(staging, "lost")), light)
        _remove(file_of(staging, "lost"))  # a part's links: kept whole, as one pass finds it
        _to_parquet(lost, file_of(staging, "lost"))
        surveyed = survey(light, tallied=tallied.history, fields=tallied.fields)
        whole = Context(light, config, stages={"lost": lost, "survey": surveyed})
        _to_parquet(data.to_frame(whole.problems), file_of(staging, "problems"))
        _to_parquet(light.field_names, file_of(staging, "field_names"))
        about = {
            "path": str(path),
            "manifest": catalog.manifest,
            "left_out": [[p.file, p.line, p.message] for p in light.problems],
            "unobservable": whole.unobservable,
        }
        (staging / _ABOUT).write_text(json.dumps(about))
        # a complete cache another run put there meanwhile stays (its readers read it); before,
        # it was removed under them: two runs started at once, and one died with a traceback
        publish(staging, target)
    except BaseException as exc:  # a full disk, or Ctrl-C: no half-written cache is left
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not isinstance(exc, OSError) or exc.errno not in UNWRITABLE:
            raise  # not the disk or its permissions: a fault of the kit, with its traceback
        raise ReviewError(
            f"cannot write the derived cache {target.parent} ({exc.strerror}): " + how_to_write(exc)
        ) from None
    _prune_derived(target, str(path))
    prune_parts(store, target.parent)
    return target


def _remove(path: Path) -> None:
    """A derived frame: a file, or a directory of a file per part."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def _prune_derived(keep: Path, snapshot_path: str) -> None:
    """Drop older derived caches of the same snapshot directory (other inputs, older code),
    and what a killed derive left half written."""
    clear_leftovers(keep.parent)
    for other in keep.parent.iterdir():
        if other == keep or STAGING in other.name or not (other / "done").is_file():
            continue  # a staging directory is another derive's, about to be renamed in
        try:
            about = json.loads((other / _ABOUT).read_text())
        except (OSError, ValueError):
            continue
        if about.get("path") == snapshot_path:
            shutil.rmtree(other, ignore_errors=True)


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.reset_index(drop=True).to_parquet(path, index=False)


def _read_derived(directory: Path, tickets: set[int] | None, config: Config) -> Context:
    """The context the cache holds; with `tickets`, only their rows and their linked
    tickets' (the whole snapshot's data problems and unobservable rules)."""
    keep: list[int] | None = None
    if tickets is not None:
        links = _read(file_of(directory, "links"), sorted(tickets))
        linked = links.loc[~links["external"], "target"].dropna()
        keep = sorted(set(tickets) | {int(t) for t in linked if str(t).isdigit()})

    def read(name: str) -> pd.DataFrame:
        return _read(file_of(directory, name), keep if name in _PER_TICKET_FRAMES else None)

    def messages(ids: Iterable[int] | None = None) -> pd.DataFrame:
        return _read(file_of(directory, "messages"), None if ids is None else sorted(set(ids)))

    about = json.loads((directory / _ABOUT).read_text())
    snapshot = CachedSnapshot(
        path=Path(about["path"]),
        manifest=about["manifest"],
        transactions=pd.DataFrame(),  # not kept: see CachedSnapshot
        field_names=read("field_names"),
        problems=[Problem(*p) for p in about["left_out"]],
        messages=messages,
        **{name: read(name) for name in _SNAPSHOT_FRAMES},
    )
    stages: dict[str, Any] = {name: read(name) for name in _DERIVED}
    stages["problems"] = data.from_frame(pd.read_parquet(file_of(directory, "problems")))
    stages["unobservable"] = about["unobservable"]
    return Context(snapshot, config, stages=stages)


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
