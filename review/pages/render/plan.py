"""Planning a render: the batch's inputs, read once, and one job per page with its fingerprint.

Each output is remembered with a fingerprint of its inputs (review.snapshot.fingerprint:
the incident's rows of the snapshot, the template's cells, the config's settings, the
registry file and the package's version and source); a job whose fingerprint is unchanged
and whose outputs exist is skipped (review.pages.render.run).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from review.analysis.incidents import incidents
from review.closeout.followups import followups_digest
from review.context import derive_into, derived_dir, open_snapshot, registry_path
from review.errors import ReviewError, SnapshotError
from review.pages import written
from review.pages.signoff import content_digest, review_files_digest
from review.settings.config import Config, load_config, templates_dir, with_registry
from review.settings.months import month_of
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

INCIDENT_TEMPLATE = "incident_review.ipynb"


MONTHLY_TEMPLATE = "monthly_report.ipynb"


SUPPORT_TEMPLATE = "support_gaps.ipynb"


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


@dataclass
class Inputs:
    """A loaded snapshot with what every job's fingerprint shares."""

    snapshot_dir: Path
    derived: Path  # the derived cache of this version of the snapshot
    config_path: Path | None
    config: Config
    snapshot: Snapshot
    metrics_month: pd.Series  # ticket_id -> YYYY-MM opened (local), incidents only
    tickets: pd.Series  # ticket_id -> digest
    common: str  # config, registry, package, shared frames


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
        file_digest(registry_path(config)),
        package_digest(),
        shared_digest(snapshot),
        followups_digest(snapshot),
    )
    return Inputs(
        snapshot_dir=real,
        derived=derived,
        config_path=config_path.resolve() if config_path else None,
        config=config,
        snapshot=snapshot,
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


def incident_jobs(
    inputs: Inputs, ticket_ids: Iterable[int], out: Path, html: bool, template: Path | None = None
) -> list[Job]:
    """One job per incident; unknown or merged ticket ids are a ReviewError naming them."""
    template = template or template_path(INCIDENT_TEMPLATE)
    template_digest = source_digest(template)
    pulled = str(inputs.snapshot.manifest.get("pulled_at", ""))
    resolved = inputs.snapshot.tickets.set_index("ticket_id")["resolved"]
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
            parts.append(f"merged into other tickets: {', '.join(map(str, merged))}")
        raise ReviewError(f"cannot review tickets {'; '.join(parts)} ({inputs.snapshot_dir})")
    jobs = []
    for ticket_id in wanted:
        related = [inputs.tickets.get(t, "") for t in _linked(inputs.snapshot, ticket_id)]
        still_open = pd.isna(resolved.get(ticket_id))
        account = written.review_path(out, ticket_id)
        fingerprint = digest(
            "incident",
            inputs.common,
            template_digest,
            inputs.tickets[ticket_id],
            related,
            pulled if still_open else "",
            html,
            content_digest(account),  # what the team wrote and saved, status, sign-offs
        )
        month = inputs.metrics_month[ticket_id]
        jobs.append(
            Job(
                name=f"incident {ticket_id}",
                template=template,
                output=out / month / f"incident-{ticket_id}.ipynb",
                parameters=_parameters(inputs, ticket_id=ticket_id, written=str(account)),
                fingerprint=fingerprint,
                html=html,
                ticket_id=ticket_id,
                written=account,
            )
        )
    return jobs


def month_ticket_ids(inputs: Inputs, month: str) -> list[int]:
    months = inputs.metrics_month
    return sorted(int(t) for t in months.index[months == month])


def monthly_job(inputs: Inputs, month: str, out: Path, compare: int = 3) -> Job:
    """The monthly report: depends on every incident of the month and the months compared."""
    period = pd.Period(month, freq="M")
    months = {str(period - n) for n in range(compare + 1)}
    ids = sorted(int(t) for t in inputs.metrics_month.index[inputs.metrics_month.isin(months)])
    fingerprint = digest(
        "monthly",
        inputs.common,
        source_digest(template_path(MONTHLY_TEMPLATE)),
        month,
        str(inputs.snapshot.coverage),  # its banner and "not covered" months
        str(inputs.snapshot.pulled_at),  # time so far of incidents still open
        [(t, inputs.tickets[t]) for t in ids],
        review_files_digest(out, month_ticket_ids(inputs, month)),  # its incidents' reviews
    )
    return Job(
        name=f"monthly report {month}",
        template=template_path(MONTHLY_TEMPLATE),
        output=out / month / "monthly.ipynb",
        parameters=_parameters(inputs, month=month, reports_dir=str(out.absolute())),
        fingerprint=fingerprint,
        html=True,
    )


def support_job(
    inputs: Inputs,
    out: Path,
    since: str | None = None,
    today: str | None = None,
    registry: Path | None = None,
) -> Job:
    """The support-gap report: depends on the whole snapshot and the registry (and the date).

    `today` (default: the real date) is the day gap ages count to; `registry` replaces the
    config's registry file."""
    fingerprint = digest(
        "support",
        inputs.common,
        source_digest(template_path(SUPPORT_TEMPLATE)),
        since,
        sorted(inputs.tickets.items()),
        today or time.strftime("%Y-%m-%d"),  # "how long the gap has stood" counts to today
        file_digest(registry) if registry else "",
        review_files_digest(out, inputs.tickets.index),  # each incident's review status
    )
    return Job(
        name="support-gap report",
        template=template_path(SUPPORT_TEMPLATE),
        output=out / "support-gaps.ipynb",
        parameters=_parameters(
            inputs,
            _derived_with(inputs, registry),
            since=since,
            today=today,
            registry=str(registry.resolve()) if registry else None,
            reports_dir=str(out.absolute()),
        ),
        fingerprint=fingerprint,
        html=True,
    )


def _derived_with(inputs: Inputs, registry: Path | None) -> Path:
    """The derived cache of the batch's snapshot with another registry file (`--registry`)."""
    if registry is None:
        return inputs.derived
    config = with_registry(inputs.config, registry.resolve())
    return derive_into(
        derived_dir(inputs.snapshot_dir, config), inputs.snapshot_dir, inputs.snapshot, config
    )
