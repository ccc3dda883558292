"""Planning a render: the batch's inputs, read once, and one job per page with its fingerprint.

Each output is remembered with a fingerprint of its inputs (review.snapshot.fingerprint:
the incident's rows of the snapshot, the template's cells, the config's settings, the
registry file and the package's version and source); a job whose fingerprint is unchanged
and whose outputs exist is skipped (review.pages.render.run).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis import facts
from review.analysis.incidents import incidents
from review.closeout.followups import followups_digest
from review.context import Context, derive_into, derived_dir, open_context, open_snapshot
from review.errors import ReviewError, SnapshotError
from review.pages import written
from review.pages.page import DEPENDS, Page
from review.pages.reports import PAGES
from review.pages.reports.monthly import COMPARE_MONTHS
from review.pages.signoff import content_digest, review_files_digest
from review.settings.config import Config, load_config, templates_dir, with_registry
from review.settings.months import month_of
from review.settings.utc import DAY_FORMAT
from review.snapshot import Snapshot
from review.snapshot.fingerprint import (
    config_digest,
    digest,
    file_digest,
    package_digest,
    shared_digest,
    source_digest,
    ticket_digests,
)


def template_path(name: str) -> Path:
    """One of the bundled templates (notebooks/ in a clone, the package's copy when installed)."""
    return templates_dir() / name


@dataclass(frozen=True)
class Job:
    """One notebook to render."""

    name: str  # what the user reads: "incident 1234", "monthly 2026-10", "support gaps"
    template: Path
    output: Path  # the .ipynb; the .html goes beside it
    parameters: dict[str, Any]
    fingerprint: str
    html: bool
    ticket_id: int | None = None
    written: Path | None = None  # an incident's review file (review.pages.written)
    # it links to other pages (the reviews): rendered after the batch's other jobs, so its
    # links go only to pages that exist
    links: bool = False


@dataclass
class Inputs:
    """A loaded snapshot with what every job's fingerprint shares, and its pipeline."""

    snapshot_dir: Path
    derived: Path  # the derived cache of this version of the snapshot
    config_path: Path | None
    snapshot: Snapshot  # as read, for the fingerprints
    context: Context  # the batch's pipeline, read back from `derived` (what the kernels read)
    metrics_month: pd.Series  # ticket_id -> YYYY-MM opened (local), incidents only
    tickets: pd.Series  # ticket_id -> digest
    common: str  # config, registry, package, shared frames
    by_registry: dict[Path, Context] = field(default_factory=dict)  # see context_with

    @property
    def config(self) -> Config:
        return self.context.config

    def context_with(self, registry: Path | None) -> Context:
        """The batch's context read with another service registry file (`--registry`; None:
        the batch's own), derived into a cache of its own once."""
        if registry is None:
            return self.context
        registry = registry.resolve()
        if registry not in self.by_registry:
            config = with_registry(self.config, registry)
            derived = derive_into(
                derived_dir(self.snapshot_dir, config), self.snapshot_dir, self.snapshot, config
            )
            self.by_registry[registry] = open_context(self.snapshot_dir, config, derived=derived)
        return self.by_registry[registry]


def load_inputs(snapshot_dir: Path, config_path: Path | None) -> Inputs:
    """The snapshot, read once, and the derived cache every notebook of the batch reads.

    A symlink is resolved once; the version read is checked not to have been swapped
    while it was read, and the kernels get that version's derived cache by name
    (`derived`), so a pull during the batch does not mix two snapshots.
    """
    config = load_config(config_path)
    real = Path(os.path.realpath(snapshot_dir))
    derived = derived_dir(real, config)  # names the version on disk now
    snapshot = open_snapshot(real, config)
    if derived_dir(real, config) != derived:
        raise SnapshotError(
            "was replaced while it was read (a pull swapped it in): run again", str(snapshot_dir)
        )
    found = incidents(snapshot)
    months = pd.Series(
        month_of(found["created"], config).to_numpy(), index=found["ticket_id"].to_numpy()
    )
    derive_into(derived, real, snapshot, config)
    common = digest(
        config_digest(config),
        file_digest(Path(config.gaps.registry)),
        package_digest(),
        shared_digest(snapshot),
        followups_digest(snapshot),
    )
    return Inputs(
        snapshot_dir=real,
        derived=derived,
        config_path=config_path.resolve() if config_path else None,
        snapshot=snapshot,
        context=open_context(real, config, derived=derived),
        metrics_month=months,
        tickets=ticket_digests(snapshot),
        common=common,
    )


def _linked(snapshot: Snapshot, ticket_id: int) -> list[int]:
    links = snapshot.links
    targets = links.loc[(links["ticket_id"] == ticket_id) & ~links["external"], "target"]
    return sorted(int(t) for t in targets.dropna() if str(t).isdigit())


def _parameters(inputs: Inputs, derived: Path | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "snapshot": str(inputs.snapshot_dir),
        "config": str(inputs.config_path) if inputs.config_path else None,
        "derived": str(derived or inputs.derived),
        **extra,
    }


def page_job(
    inputs: Inputs,
    page: Page,
    out: Path,
    key: int | str | None = None,
    *,
    html: bool = True,
    template: Path | None = None,
    **options: Any,
) -> Job:
    """One job of `page`: for the incident `key`, the month `key`, or the snapshot (`page.per`).

    `options` are the page's own notebook parameters (the support-gap report's since, today
    and registry); a `registry` file replaces the config's, in a derived cache of its own.
    `template` replaces the page's (a site's own incident template).
    """
    ticket = int(key) if page.per == "incident" and key is not None else None
    month = str(inputs.metrics_month[ticket]) if ticket is not None else key
    named: dict[str, dict[str, Any]] = {
        "incident": {"ticket_id": ticket},
        "month": {"month": month},
        "snapshot": {},
    }
    registry = options.get("registry")
    shown = {k: str(v.resolve()) if isinstance(v, Path) else v for k, v in options.items()}
    template = template or template_path(page.template)
    output = out / page.where(ticket, str(month))
    # a page that has HTML keeps it, current: the monthly and support-gap reports link to a
    # review's, so a render without --html must not take it away
    html = html or output.with_suffix(".html").is_file()
    fingerprint = digest(
        page.name,
        inputs.common,
        source_digest(template),
        key,
        sorted(shown.items()),
        html,
        [_DEPENDS[name](inputs, out, ticket, month, options) for name in page.depends],
    )
    account = written.review_path(out, ticket) if "written" in page.depends and ticket else None
    if account is not None:  # absolute: the kernel runs in the notebook's folder
        named["incident"]["written"] = str(account.absolute())
    if "reviews" in page.depends:  # where its incidents' review files are
        named[page.per]["reports_dir"] = str(out.absolute())
    return Job(
        name=page.job.format(ticket=ticket, month=month),
        template=template,
        output=output,
        parameters=_parameters(inputs, _derived_with(inputs, registry), **named[page.per], **shown),
        fingerprint=fingerprint,
        html=html,
        ticket_id=ticket,
        written=account,
        links=page.per != "incident",  # the monthly and snapshot pages list incidents
    )


def _incident(inputs: Inputs, out: Path, ticket: int | None, month: Any, options: Any) -> list[Any]:
    number = int(str(ticket))
    related = [inputs.tickets.get(t, "") for t in _linked(inputs.snapshot, number)]
    resolved = inputs.snapshot.tickets.set_index("ticket_id")["resolved"]
    still_open = pd.isna(resolved.get(number))
    pulled = str(inputs.snapshot.manifest.get("pulled_at", ""))
    return [inputs.tickets[number], related, pulled if still_open else ""]


def _months(inputs: Inputs, out: Path, ticket: int | None, month: Any, options: Any) -> list[Any]:
    period = pd.Period(str(month), freq="M")
    months = {str(period - n) for n in range(COMPARE_MONTHS + 1)}
    ids = sorted(int(t) for t in inputs.metrics_month.index[inputs.metrics_month.isin(months)])
    return [
        str(inputs.snapshot.coverage),  # its banner and "not covered" months
        str(inputs.snapshot.pulled_at),  # time so far of incidents still open
        [(t, inputs.tickets[t]) for t in ids],
    ]


def _today(inputs: Inputs, out: Path, ticket: int | None, month: Any, options: Any) -> str:
    return str(options.get("today") or time.strftime(DAY_FORMAT))


def _registry(inputs: Inputs, out: Path, ticket: int | None, month: Any, options: Any) -> str:
    registry = options.get("registry")
    return file_digest(Path(registry)) if registry else ""


def _reviews(inputs: Inputs, out: Path, ticket: int | None, month: Any, options: Any) -> str:
    if ticket is not None:
        about = [ticket]
    else:
        about = month_ticket_ids(inputs, str(month)) if month else list(inputs.tickets.index)
    return review_files_digest(out, about)  # each incident's review status and sign-offs


def _written(inputs: Inputs, out: Path, ticket: int | None, month: Any, options: Any) -> str:
    # what the team wrote and saved, its status and sign-offs (not its publication record)
    return content_digest(written.review_path(out, int(str(ticket))))


_DEPENDS: dict[str, Callable[[Inputs, Path, int | None, Any, Any], Any]] = {
    "incident": _incident,
    "months": _months,
    "tickets": lambda inputs, *_: sorted(inputs.tickets.items()),
    "today": _today,
    "registry": _registry,
    "written": _written,
    "reviews": _reviews,
}
assert set(_DEPENDS) == set(DEPENDS), "every name a page may depend on is computed here"


def incident_jobs(
    inputs: Inputs, ticket_ids: Iterable[int], out: Path, html: bool, template: Path | None = None
) -> list[Job]:
    """One job per incident; unknown or merged ticket ids are a ReviewError naming them."""
    wanted = list(dict.fromkeys(int(t) for t in ticket_ids))
    missing = [t for t in wanted if t not in inputs.metrics_month.index]
    if missing:
        known = inputs.tickets.index
        merged = [t for t in missing if t in known]
        absent = [t for t in missing if t not in known]
        parts = []
        if absent:
            parts.append(f"not in the snapshot: {', '.join(map(str, absent))}")
        if merged:
            into = facts.survivors(inputs.snapshot.tickets)
            parts.append(
                "merged into other tickets: "
                + ", ".join(f"{t} (into {into.get(t, '?')})" for t in merged)
            )
        raise ReviewError(f"cannot review tickets {'; '.join(parts)} ({inputs.snapshot_dir})")
    page = PAGES["incident"]
    return [page_job(inputs, page, out, t, html=html, template=template) for t in wanted]


def month_ticket_ids(inputs: Inputs, month: str) -> list[int]:
    months = inputs.metrics_month
    return sorted(int(t) for t in months.index[months == month])


def all_jobs(inputs: Inputs, out: Path) -> list[Job]:
    """Every page of PAGES for everything in the snapshot (`review demo`): each incident's,
    each month's, and the snapshot's own, in the registry's order."""
    keys: dict[str, list[Any]] = {
        "incident": sorted(int(t) for t in inputs.metrics_month.index),
        "month": sorted(set(inputs.metrics_month)),
        "snapshot": [None],
    }
    pages = sorted(PAGES.values(), key=lambda p: list(keys).index(p.per))  # incidents first
    return [page_job(inputs, page, out, key) for page in pages for key in keys[page.per]]


def _derived_with(inputs: Inputs, registry: Path | None) -> Path:
    """The derived cache of the batch's snapshot with another registry file (`--registry`)."""
    if registry is None:
        return inputs.derived
    return derived_dir(inputs.snapshot_dir, inputs.context_with(registry).config)
