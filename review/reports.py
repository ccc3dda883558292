"""What each report shows, assembled in one call per notebook.

The notebooks in ``notebooks/`` hold no logic: they call one of
``incident_review_data``, ``monthly_report_data`` or ``support_gaps_data`` and
display the frames it returns (plus the figures of ``review.figures``).

Ticket text (subjects, reply texts, names) is untrusted. Everything here is
returned as plain values in DataFrames; notebooks show them through pandas'
escaping HTML (``DataFrame`` display, ``safe_table``) or as plain text, never as
Markdown or hand-made HTML.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from review.checklist import CHECKLIST_COLUMNS, process_checklist
from review.config import CACHE_DIR, SAMPLE_SNAPSHOT, Config, load_config
from review.errors import ReviewError, TicketError
from review.gaps import FINDING_COLUMNS, RULES, find_gaps, support_gaps
from review.metrics import DEFINITIONS, compute_metrics, incidents
from review.registry import Registry, load_registry
from review.snapshot import Snapshot, load_snapshot
from review.timeline import NOBODY, build_events, state_segments

DURATIONS = {
    "time_to_triage": "time to triage",
    "time_in_handoff": "time in hand-off",
    "time_to_resolve": "time to resolve",
}
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------- notebook setup


def notebook_setup() -> None:
    """Display settings every template applies first: text stays text, tables stay whole.

    MathJax is kept off pandas tables so a `$` in a subject is not typeset, and
    matplotlib does not interpret `$...$` as mathtext.
    """
    import matplotlib

    pd.set_option("display.html.use_mathjax", False)
    pd.set_option("styler.html.mathjax", False)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.max_colwidth", 400)
    pd.set_option("display.width", 200)
    matplotlib.rcParams["text.usetex"] = False
    matplotlib.rcParams["text.parse_math"] = False
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100
    try:  # in a kernel: PNG figures drawn once, at their own size (the layout is constrained)
        from matplotlib_inline import backend_inline

        formats: Any = backend_inline.set_matplotlib_formats
        formats("png", bbox_inches=None)
    except Exception:  # not in IPython, or no inline backend: nothing to configure
        pass


class Note:
    """A line of plain text that shows as text in notebooks and as escaped HTML."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self.text)}</em></p>"


class Table:
    """A frame shown without its index: escaped HTML in notebooks, aligned text otherwise.

    Cheaper than a Styler (no template engine), and `to_html(escape=True)` turns every
    `<`, `>` and `&` of ticket text into entities.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __repr__(self) -> str:
        return self.frame.to_string(index=False)

    def _repr_html_(self) -> str:
        return self.frame.to_html(
            escape=True, index=False, na_rep="", classes="tex2jax_ignore mathjax_ignore"
        )

    def to_html(self) -> str:
        return self._repr_html_()


def safe_table(
    frame: pd.DataFrame,
    links: dict[str, str] | None = None,
    caption: str | None = None,
    empty: str | None = None,
) -> Any:
    """A pandas Styler that escapes every cell; `links` turns integer columns into links.

    `links` maps a column to an href template with `{}` for the (integer) value, e.g.
    ``{"ticket_id": "incident-{}.html"}``. Only integers go into the markup; all
    text, ticket text included, is HTML-escaped. An empty frame with `empty` set
    shows that sentence instead of a bare header.
    """
    if empty is not None and frame.empty:
        return Note(empty)
    if not links and caption is None:
        return Table(frame)
    styler = frame.style.format(escape="html", na_rep="", precision=2).hide(axis="index")
    for column, template in (links or {}).items():

        def link(value: Any, template: str = template) -> str:
            number = int(value)
            return f'<a href="{template.format(number)}">{number}</a>'

        styler = styler.format(link, subset=[column])
    if caption:
        styler = styler.set_caption(caption)
    return styler


# --------------------------------------------------------------------------- loading


@dataclass
class Context:
    """A loaded snapshot and everything derived from it that the reports share."""

    snapshot: Snapshot
    config: Config
    events: pd.DataFrame
    segments: pd.DataFrame
    metrics: pd.DataFrame
    registry: Registry | None = None
    findings: pd.DataFrame = field(default_factory=lambda: _empty(FINDING_COLUMNS))
    checklist: pd.DataFrame = field(default_factory=lambda: _empty(CHECKLIST_COLUMNS))


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def open_snapshot(snapshot_dir: PathLike | None) -> Snapshot:
    """The snapshot at `snapshot_dir` (None: the bundled sample), through the parquet cache."""
    path = Path(snapshot_dir) if snapshot_dir is not None else SAMPLE_SNAPSHOT
    return load_snapshot(path, cache_dir=CACHE_DIR)


def load_context(
    snapshot_dir: PathLike | None = None,
    config_path: PathLike | None = None,
    ticket_ids: set[int] | None = None,
) -> Context:
    """Events, state stretches, metrics, findings and checklist of a snapshot.

    Read from the derived cache when `prepare_derived` has filled it for these inputs
    (then, with `ticket_ids`, only those tickets' rows and their linked tickets' are
    read); computed otherwise, on the subset of the snapshot about `ticket_ids`.
    """
    config = load_config(config_path)
    path = Path(snapshot_dir) if snapshot_dir is not None else SAMPLE_SNAPSHOT
    cached = _read_derived(derived_dir(path, config), ticket_ids, config)
    if cached is not None:
        return cached
    snapshot = open_snapshot(path)
    if ticket_ids is not None:
        snapshot = snapshot.around(ticket_ids)
    return _compute(snapshot, config)


def _compute(snapshot: Snapshot, config: Config) -> Context:
    events = build_events(snapshot, config)
    segments = state_segments(events, snapshot)
    metrics = compute_metrics(events, snapshot, config, segments=segments)
    context = Context(snapshot, config, events, segments, metrics)
    context.registry, context.findings, context.checklist = close_out_sections(context)
    return context


# --------------------------------------------------------------------------- derived cache
# Each notebook runs in a fresh kernel. Rather than every one of them re-deriving the
# whole audit, the renderer derives everything once per batch (prepare_derived) and the
# kernels read their incident's rows back (parquet, filtered on ticket_id).

_DERIVED = ("events", "segments", "metrics", "findings", "checklist")
_SNAPSHOT_FRAMES = ("tickets", "watchers", "custom_fields", "links", "queues", "users")
_PER_TICKET_FRAMES = {"events", "segments", "metrics", "findings", "checklist", "tickets",
                      "watchers", "custom_fields", "links"}  # fmt: skip


def package_digest() -> str:
    """The package version and a digest of its source: any code change invalidates outputs."""
    import review

    root = Path(review.__file__).parent
    digest = hashlib.sha256(review.__version__.encode())
    for source in sorted(root.rglob("*.py")) + sorted(root.rglob("*.toml")):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def derived_dir(snapshot_dir: Path, config: Config) -> Path:
    """Where the derived frames of this snapshot, config, registry and code are cached."""
    from review.snapshot import DATA_FILES, read_manifest

    manifest = read_manifest(snapshot_dir)
    stamps = [
        (name, (snapshot_dir / name).stat().st_size, (snapshot_dir / name).stat().st_mtime_ns)
        for name in DATA_FILES
        if (snapshot_dir / name).is_file()
    ]
    registry = registry_path(config)
    material = json.dumps(
        [
            str(snapshot_dir.resolve()),
            manifest.get("sha256"),
            stamps,
            repr(config),
            hashlib.sha256(registry.read_bytes()).hexdigest() if registry.is_file() else "",
            package_digest(),
        ],
        sort_keys=True,
        default=str,
    )
    return CACHE_DIR / "derived" / hashlib.sha256(material.encode()).hexdigest()[:32]


def prepare_derived(snapshot_dir: PathLike | None, config_path: PathLike | None = None) -> Path:
    """Derive everything for the whole snapshot once and cache it (a no-op when cached)."""
    config = load_config(config_path)
    path = Path(snapshot_dir) if snapshot_dir is not None else SAMPLE_SNAPSHOT
    target = derived_dir(path, config)
    if (target / "done").is_file():
        return target
    context = _compute(open_snapshot(path), config)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        staging.mkdir(parents=True, exist_ok=True)
        for name in _DERIVED:
            _to_parquet(getattr(context, name), staging / f"{name}.parquet")
        for name in _SNAPSHOT_FRAMES:
            _to_parquet(getattr(context.snapshot, name), staging / f"{name}.parquet")
        (staging / "manifest.json").write_text(
            json.dumps({"path": str(path), "manifest": context.snapshot.manifest})
        )
        (staging / "done").write_text("")
        if target.exists():  # an incomplete leftover (a complete one returned above)
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # no cache: each notebook derives its own
        return target
    _prune_derived(target, str(path))
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
        links = pd.read_parquet(
            directory / "links.parquet", filters=[("ticket_id", "in", sorted(ticket_ids))]
        )
        linked = links.loc[~links["external"], "target"].dropna()
        keep = set(ticket_ids) | {int(t) for t in linked if str(t).isdigit()}

    def read(name: str) -> pd.DataFrame:
        filters = None
        if keep is not None and name in _PER_TICKET_FRAMES:
            filters = [("ticket_id", "in", sorted(keep))]
        return pd.read_parquet(directory / f"{name}.parquet", filters=filters)

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
    )
    return Context(
        snapshot,
        config,
        read("events"),
        read("segments"),
        read("metrics"),
        findings=read("findings"),
        checklist=read("checklist"),
    )


# --------------------------------------------------------------------------- close-out (issue 4)


def close_out_sections(context: Context) -> tuple[Registry, pd.DataFrame, pd.DataFrame]:
    """(registry, findings, checklist) for the incidents of the context."""
    registry = load_registry(context.config.gaps.registry)
    args = (context.events, context.snapshot, context.config, registry)
    findings = find_gaps(*args, metrics=context.metrics)
    checklist = process_checklist(*args, metrics=context.metrics, findings=findings)
    return registry, findings, checklist


def registry_path(config: Config) -> Path:
    """The service registry file named by the config (`gaps.registry`)."""
    return Path(config.gaps.registry)


def support_gaps_table(context: Context, since: date | None, today: date | None) -> pd.DataFrame:
    """`review support-gaps`'s per-service table."""
    if context.registry is None:
        context.registry = load_registry(context.config.gaps.registry)
    return support_gaps(
        context.findings,
        context.metrics,
        context.registry,
        context.config,
        since=since,
        today=today,
    )


def registry_frame(context: Context) -> pd.DataFrame:
    """The service registry as a table, lists joined into text, with its file and line."""
    if context.registry is None:
        context.registry = load_registry(context.config.gaps.registry)
    frame = context.registry.frame().copy()
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, list | tuple)).any():
            frame[column] = frame[column].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v
            )
    return frame


def _local(moment: Any, config: Config) -> str:
    if moment is None or pd.isna(moment):
        return ""
    stamp = pd.Timestamp(moment).tz_convert(config.calendar.timezone)
    return stamp.strftime("%Y-%m-%d %H:%M %Z")


def _hours_text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


def business_hours_text(config: Config) -> str:
    cal = config.calendar
    days = f"{cal.workdays[0]}-{cal.workdays[-1]}" if len(cal.workdays) > 1 else cal.workdays[0]
    holidays = (
        f", {cal.holidays_country}"
        f"{'-' + cal.holidays_subdivision if cal.holidays_subdivision else ''} holidays off"
        if cal.holidays_country
        else ""
    )
    return f"business hours: {days} {cal.start:%H:%M}-{cal.end:%H:%M} {cal.timezone}{holidays}"


def definitions_table(config: Config) -> pd.DataFrame:
    """Every metric with its definition: what starts and stops the clock, and in which hours."""
    rows = [
        ("opened_at", DEFINITIONS["opened_at"]),
        ("triaged_at", DEFINITIONS["triaged_at"]),
        ("resolved_at", DEFINITIONS["resolved_at"]),
        ("time to triage", DEFINITIONS["time_to_triage"]),
        ("time in hand-off", DEFINITIONS["time_in_handoff"]),
        ("time to resolve", DEFINITIONS["time_to_resolve"]),
        ("hand-offs", DEFINITIONS["handoff_count"]),
        ("tech-lead changes", DEFINITIONS["tech_lead_handoffs"]),
        ("reopens", DEFINITIONS["reopen_count"]),
        ("longest update gap", DEFINITIONS["max_update_gap_h"]),
        ("wall-clock hours (h)", DEFINITIONS["_h"]),
        ("business hours (bh)", business_hours_text(config) + "."),
    ]
    return pd.DataFrame(rows, columns=["term", "definition"])


# --------------------------------------------------------------------------- incident review


@dataclass
class IncidentReview:
    """What the incident review notebook shows, section by section."""

    ticket_id: int
    title: str
    who_what: pd.DataFrame
    metrics: pd.DataFrame
    definitions: pd.DataFrame
    events: pd.DataFrame
    segments: pd.DataFrame
    end: pd.Timestamp
    checklist: pd.DataFrame
    findings: pd.DataFrame
    communication: pd.DataFrame
    config: Config
    row: dict[str, Any]


def _people(snapshot: Snapshot, ticket_id: int, role: str) -> str:
    watchers = snapshot.watchers
    names = watchers.loc[(watchers["ticket_id"] == ticket_id) & (watchers["role"] == role), "user"]
    return ", ".join(_person(snapshot, str(n)) for n in names)


def _person(snapshot: Snapshot, name: str) -> str:
    users = snapshot.users
    match = users.loc[users["name"] == name]
    if match.empty:
        return name
    email, real = str(match["email"].iloc[0]), str(match["real_name"].iloc[0])
    label = f"{real} ({name})" if real and real != name else name
    return f"{label} <{email}>" if email and email != name else label


def _field(snapshot: Snapshot, ticket_id: int, name: str) -> str:
    cf = snapshot.custom_fields
    values = cf.loc[(cf["ticket_id"] == ticket_id) & (cf["field"] == name), "value"]
    return ", ".join(str(v) for v in values)


def incident_review_data(
    snapshot_dir: PathLike | None, ticket_id: int, config_path: PathLike | None = None
) -> IncidentReview:
    """Everything the post-incident review of one ticket shows."""
    ticket_id = int(ticket_id)
    context = load_context(snapshot_dir, config_path, ticket_ids={ticket_id})
    snapshot, config = context.snapshot, context.config
    tickets = snapshot.tickets.set_index("ticket_id")
    if ticket_id not in tickets.index:
        raise TicketError(f"not in the snapshot {snapshot.path}", ticket_id)
    if ticket_id not in set(incidents(snapshot)["ticket_id"]):
        survivor = tickets["effective_id"].to_dict().get(ticket_id)
        raise TicketError(f"was merged into ticket {survivor}; review that one", ticket_id)
    ticket = tickets.loc[ticket_id]
    metrics_row = context.metrics.set_index("ticket_id").loc[ticket_id]
    row: dict[str, Any] = {str(k): v for k, v in metrics_row.items()}
    fields = config.fields
    segments = context.segments.loc[context.segments["ticket_id"] == ticket_id]
    owners = [o for o in segments["owner"].dropna().drop_duplicates() if o != NOBODY]
    queue_names = snapshot.queues.set_index("queue_id")["name"]
    who_what = pd.DataFrame(
        [
            ("ticket", str(ticket_id)),
            ("subject", str(ticket["subject"])),
            ("status now", str(ticket["status"])),
            ("queue now", str(queue_names.to_dict().get(str(ticket["queue_id"]), ""))),
            ("owner now", _person(snapshot, str(ticket["owner"]))),
            ("owners over time", " -> ".join(owners) or "nobody"),
            ("service", _field(snapshot, ticket_id, fields.service)),
            ("service owner", _field(snapshot, ticket_id, fields.service_owner)),
            ("business owner", _field(snapshot, ticket_id, fields.business_owner)),
            ("classification", _field(snapshot, ticket_id, fields.classification)),
            ("resolution type", _field(snapshot, ticket_id, fields.resolution_type)),
            ("root cause", _field(snapshot, ticket_id, fields.root_cause)),
            ("validated by", _field(snapshot, ticket_id, fields.validated_by)),
            ("requestors", _people(snapshot, ticket_id, "Requestor")),
            ("Cc", _people(snapshot, ticket_id, "Cc")),
            ("AdminCc", _people(snapshot, ticket_id, "AdminCc")),
            ("opened", _local(row["opened_at"], config)),
            ("resolved", _local(row["resolved_at"], config) or "not resolved"),
            ("last updated in RT", _local(ticket["last_updated"], config)),
        ],
        columns=["", "value"],
    )
    events = context.events.loc[context.events["ticket_id"] == ticket_id].reset_index(drop=True)
    end = _timeline_end(row, events, snapshot)
    comms = events.loc[events["kind"].isin(["create", "reply", "comment"])]
    communication = pd.DataFrame(
        {
            "when": [_local(a, config) for a in comms["at"]],
            "what": comms["kind"]
            .map({"create": "opened", "reply": "reply (to requestors, Cc)", "comment": "comment"})
            .to_numpy(),
            "who": [_person(snapshot, str(c)) for c in comms["creator"]],
            "as": comms["actor"].to_numpy(),
            "text": comms["data"].to_numpy(),
        }
    )
    checklist = context.checklist.loc[context.checklist["ticket_id"] == ticket_id]
    findings = context.findings.loc[context.findings["ticket_id"] == ticket_id]
    return IncidentReview(
        ticket_id=ticket_id,
        title=f"Ticket {ticket_id}: {ticket['subject']}",
        who_what=who_what,
        metrics=incident_metrics_table(row, config),
        definitions=definitions_table(config),
        events=events,
        segments=segments.reset_index(drop=True),
        end=end,
        checklist=checklist.drop(columns="ticket_id").reset_index(drop=True),
        findings=findings.drop(columns="ticket_id").reset_index(drop=True),
        communication=communication,
        config=config,
        row=row,
    )


def _timeline_end(row: dict[str, Any], events: pd.DataFrame, snapshot: Snapshot) -> pd.Timestamp:
    """Where the timeline stops: resolution, else the snapshot time, else the last event."""
    candidates = [row.get("resolved_at")]
    if not events.empty:
        candidates.append(events["at"].max())
    pulled = snapshot.manifest.get("pulled_at")
    if pd.isna(row.get("resolved_at")) and pulled:
        candidates.append(pd.Timestamp(pulled))
    found = [pd.Timestamp(c) for c in candidates if c is not None and not pd.isna(c)]
    return max(found) if found else pd.Timestamp(row["opened_at"])


def incident_metrics_table(row: dict[str, Any], config: Config) -> pd.DataFrame:
    """One incident's metrics: value, wall-clock and business hours, definition."""
    bh = business_hours_text(config)
    rows: list[tuple[str, str, str, str]] = [
        ("opened at", _local(row["opened_at"], config), "", DEFINITIONS["opened_at"]),
        ("triaged at", _local(row["triaged_at"], config), "", DEFINITIONS["triaged_at"]),
        ("resolved at", _local(row["resolved_at"], config), "", DEFINITIONS["resolved_at"]),
    ]
    for key, label in DURATIONS.items():
        rows.append(
            (
                label,
                _hours_text(row[f"{key}_h"]),
                _hours_text(row[f"{key}_bh"]),
                f"{DEFINITIONS[key]} Wall-clock hours and {bh}.",
            )
        )
    rows += [
        ("hand-offs", str(row["handoff_count"]), "", DEFINITIONS["handoff_count"]),
        (
            "tech-lead changes",
            str(row["tech_lead_handoffs"]),
            "",
            DEFINITIONS["tech_lead_handoffs"],
        ),
        ("reopens", str(row["reopen_count"]), "", DEFINITIONS["reopen_count"]),
        (
            "longest update gap",
            _hours_text(row["max_update_gap_h"]),
            "",
            DEFINITIONS["max_update_gap_h"],
        ),
    ]
    return pd.DataFrame(
        rows, columns=["metric", "value (wall-clock h)", "business h", "definition"]
    )


# --------------------------------------------------------------------------- months


def month_of(stamps: pd.Series, config: Config) -> pd.Series:
    """YYYY-MM of each instant in the configured time zone."""
    local = pd.to_datetime(stamps, utc=True).dt.tz_convert(config.calendar.timezone)
    return local.dt.strftime("%Y-%m")


def resolve_month(month: str, today: date | None = None) -> str:
    """`previous` (the month before today) or a YYYY-MM string, checked."""
    if month == "previous":
        today = today or date.today()
        year, number = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return f"{year:04d}-{number:02d}"
    if not MONTH.fullmatch(month):
        raise ReviewError(f"--month must be YYYY-MM or 'previous', got {month!r}")
    return month


def previous_months(month: str, count: int) -> list[str]:
    """The `count` months before `month`, oldest first."""
    period = pd.Period(month, freq="M")
    return [str(period - n) for n in range(count, 0, -1)]


@dataclass
class MonthlyReport:
    """What the monthly report notebook shows."""

    month: str
    incidents: pd.DataFrame  # metrics of the month's incidents
    counts_by_classification: pd.DataFrame
    counts_by_service: pd.DataFrame
    statistics: pd.DataFrame
    comparison: pd.DataFrame
    history: pd.DataFrame  # metrics of this and the compared months, with a `month` column
    findings_by_rule: pd.DataFrame
    findings_by_service: pd.DataFrame
    incident_list: pd.DataFrame
    definitions: pd.DataFrame
    config: Config
    findings: pd.DataFrame
    months: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        n = len(self.incidents)
        resolved = int(self.incidents["resolved_at"].notna().sum())
        return (
            f"Monthly report {self.month}: {n} incident(s) opened in the month "
            f"({self.config.calendar.timezone}), {resolved} resolved by the snapshot; "
            f"{len(self.findings)} close-out finding(s). "
            f"Compared with {', '.join(self.months[:-1])}."
        )

    def incident_links(self) -> Any:
        """The incident list as an escaped table whose ticket ids link to the reviews."""
        return safe_table(self.incident_list, links={"ticket": "incident-{}.html"})


def duration_statistics(metrics: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Median, 90th percentile and mean of each duration, wall-clock and business hours."""
    rows = []
    for key, label in DURATIONS.items():
        for suffix, basis in (("_h", "wall-clock hours"), ("_bh", "business hours")):
            values = metrics[f"{key}{suffix}"].dropna().astype(float)
            rows.append(
                {
                    "metric": label,
                    "hours": basis,
                    "incidents": len(values),
                    "median": values.median() if len(values) else float("nan"),
                    "p90": values.quantile(0.9) if len(values) else float("nan"),
                    "mean": values.mean() if len(values) else float("nan"),
                    "definition": DEFINITIONS[key]
                    + (" " + business_hours_text(config) if suffix == "_bh" else ""),
                }
            )
    return pd.DataFrame(rows).round({"median": 2, "p90": 2, "mean": 2})


def monthly_report_data(
    snapshot_dir: PathLike | None,
    month: str,
    config_path: PathLike | None = None,
    compare: int = 3,
) -> MonthlyReport:
    """The month's incidents (opened in the month, local time) against the months before."""
    month = resolve_month(month)
    context = load_context(snapshot_dir, config_path)
    config = context.config
    metrics = context.metrics.assign(month=month_of(context.metrics["opened_at"], config))
    months = [*previous_months(month, compare), month]
    current = metrics.loc[metrics["month"] == month].reset_index(drop=True)
    history = metrics.loc[metrics["month"].isin(months)].reset_index(drop=True)
    by_class = (
        current.groupby(current["classification"].replace("", "(none)"))
        .size()
        .rename("incidents")
        .reset_index()
    )
    by_service = (
        current.groupby([current["service"].replace("", "(none)")])
        .size()
        .rename("incidents")
        .reset_index()
        .sort_values("incidents", ascending=False, kind="stable")
    )
    comparison_rows = []
    for m in months:
        part = history.loc[history["month"] == m]
        row: dict[str, Any] = {"month": m, "incidents": len(part)}
        for key, label in DURATIONS.items():
            for suffix in ("_h", "_bh"):
                values = part[f"{key}{suffix}"].dropna().astype(float)
                unit = "h" if suffix == "_h" else "bh"
                row[f"{label} median ({unit})"] = values.median() if len(values) else None
                row[f"{label} p90 ({unit})"] = values.quantile(0.9) if len(values) else None
        comparison_rows.append(row)
    comparison = pd.DataFrame(comparison_rows).round(2)
    findings = context.findings.loc[context.findings["ticket_id"].isin(current["ticket_id"])]
    findings_by_rule = findings.groupby("rule").size().rename("findings").reset_index()
    findings_by_service = (
        findings.pivot_table(index="service", columns="rule", aggfunc="size", fill_value=0)
        .reset_index()
        .rename_axis(columns=None)
        if len(findings)
        else _empty(["service"])
    )
    per_ticket = findings.groupby("ticket_id").size()
    incident_list = pd.DataFrame(
        {
            "ticket": current["ticket_id"],
            "subject": current["subject"],
            "service": current["service"],
            "classification": current["classification"],
            "opened": [_local(a, config) for a in current["opened_at"]],
            "time to resolve (h)": current["time_to_resolve_h"].round(2),
            "findings": current["ticket_id"].map(per_ticket).fillna(0).astype(int),
        }
    )
    return MonthlyReport(
        month=month,
        incidents=current,
        counts_by_classification=by_class,
        counts_by_service=by_service,
        statistics=duration_statistics(current, config),
        comparison=comparison,
        history=history,
        findings_by_rule=findings_by_rule,
        findings_by_service=findings_by_service,
        incident_list=incident_list,
        definitions=definitions_table(config),
        config=config,
        findings=findings.reset_index(drop=True),
        months=months,
    )


# --------------------------------------------------------------------------- support gaps


@dataclass
class SupportGapsReport:
    """What the support-gap report shows senior staff."""

    table: pd.DataFrame  # per service: owner, assignment, findings, gap, action, review
    rule_counts: pd.DataFrame  # per service: findings by rule
    findings: pd.DataFrame
    findings_by_service: pd.DataFrame
    registry: pd.DataFrame
    since: date | None
    config: Config
    incidents: int = 0

    @property
    def summary(self) -> str:
        window = f"incidents opened since {self.since}" if self.since else "all incidents"
        return (
            f"Support-assignment gaps over {window} of the snapshot ({self.incidents}): "
            f"{len(self.findings)} close-out finding(s) across {len(self.table)} service(s)."
        )


def support_gaps_data(
    snapshot_dir: PathLike | None,
    config_path: PathLike | None = None,
    since: str | date | None = None,
    today: str | date | None = None,
) -> SupportGapsReport:
    """`review support-gaps` as a report: the per-service table, the findings behind it."""
    since_date = _as_date(since, "since")
    today_date = _as_date(today, "today")
    context = load_context(snapshot_dir, config_path)
    findings = context.findings
    if since_date is not None and len(findings):
        opened = context.metrics.set_index("ticket_id")["opened_at"]
        when = findings["ticket_id"].map(opened)
        findings = findings.loc[when >= pd.Timestamp(since_date, tz="UTC")]
    by_service = (
        findings.pivot_table(
            index="service", columns="rule", aggfunc="size", fill_value=0
        ).rename_axis(columns=None)
        if len(findings)
        else pd.DataFrame()
    )
    table = support_gaps_table(context, since_date, today_date)
    rules = [c for c in table.columns if c in RULES]
    return SupportGapsReport(
        table=table.drop(columns=rules),
        rule_counts=table[["service", *rules]],
        findings=findings.reset_index(drop=True),
        findings_by_service=by_service,
        registry=registry_frame(context),
        since=since_date,
        config=context.config,
        incidents=int(
            (context.metrics["opened_at"] >= pd.Timestamp(since_date, tz="UTC")).sum()
            if since_date is not None
            else len(context.metrics)
        ),
    )


def _as_date(value: str | date | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReviewError(f"{name} must be a date like 2026-08-01, got {value!r}") from None
