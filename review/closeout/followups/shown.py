"""The follow-ups pulled with a snapshot (followups.jsonl), as the reports show them: each
finding's follow-up with its link, status, age and whether it is overdue, and the open and
overdue ones per service.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import pandas as pd

from review.closeout.followups.keys import finding_keys
from review.closeout.followups.queue import followup_frame, rt_web_url
from review.errors import SnapshotError
from review.settings.config import Config
from review.snapshot import Snapshot


def finding_followups(
    findings: pd.DataFrame,
    followups: pd.DataFrame,
    config: Config,
    now: pd.Timestamp,
    rt_web: str = "",
) -> pd.DataFrame:
    """Each finding's follow-up: followup_id, followup_url, followup_status, followup_owner,
    followup_age_days, followup_overdue (open for more than followups.overdue_days at `now`).
    Empty when none."""
    keyed = findings.assign(key=finding_keys(findings))
    latest = followups.drop_duplicates("key", keep="first").set_index("key")
    joined = latest.reindex(keyed["key"])
    # open: up to now; resolved: how long it stayed open
    age = (joined["resolved"].where(joined["resolved"].notna(), now) - joined["created"]).dt.days
    inactive = joined["status"].isin(config.statuses.inactive)
    number = joined["followup_id"].astype("Int64")
    url = rt_web + "Ticket/Display.html?id=" + number.astype(str)
    out = pd.DataFrame(
        {
            "followup_id": number.to_numpy(),
            "followup_url": url.where(number.notna(), "").to_numpy(),
            "followup_status": joined["status"].fillna("").to_numpy(),
            "followup_owner": joined["owner"].fillna("").to_numpy(),
            "followup_age_days": age.astype("Int64").to_numpy(),
            "followup_overdue": (
                joined["followup_id"].notna() & ~inactive & (age > config.followups.overdue_days)
            ).to_numpy(),
        },
        index=findings.index,
    )
    return out


def read_followups(
    snapshot_dir: Path, manifest: dict[str, Any] | None = None
) -> pd.DataFrame | None:
    """The follow-ups pulled with a snapshot (followups.jsonl), or None when the pull did not
    take them (older snapshots, the bundled sample). Checked against the manifest: the one
    given (the version the rest of the snapshot was read from), else the one on disk."""
    from review.snapshot import FOLLOWUPS, file_sha256, read_jsonl, read_manifest

    path = Path(snapshot_dir) / FOLLOWUPS
    pinned = manifest is not None
    recorded = manifest if manifest is not None else read_manifest(Path(snapshot_dir))
    checksum = (recorded.get("sha256") or {}).get(FOLLOWUPS)
    if checksum is None or (not pinned and not path.is_file()):
        return None
    if not path.is_file() or file_sha256(path) != checksum:
        if pinned:
            raise SnapshotError(
                "was replaced since the rest of the snapshot was read (a pull swapped it in): "
                "run again",
                str(path),
            )
        raise SnapshotError(
            "checksum does not match manifest.json: the file was changed after the pull; "
            "pull again instead of editing",
            str(path),
        )
    return followup_frame(read_jsonl(path))


def _now(snapshot: Snapshot) -> pd.Timestamp:
    """'Now' for ages and overdue: the snapshot's pull time (reproducible)."""
    return pd.Timestamp(str(snapshot.manifest.get("pulled_at")))


def attach_followups(findings: pd.DataFrame, snapshot: Snapshot, config: Config) -> pd.DataFrame:
    """Findings with their follow-up (followup, followup_status, followup_owner,
    followup_age_days, followup_overdue) when the snapshot's pull took the follow-up queue;
    unchanged otherwise."""
    pulled = read_followups(snapshot.path, snapshot.manifest)
    if pulled is None:
        return findings
    shown = finding_followups(findings, pulled, config, _now(snapshot))
    return findings.assign(
        followup=shown["followup_id"],
        followup_status=shown["followup_status"],
        followup_owner=shown["followup_owner"],
        followup_age_days=shown["followup_age_days"],
        followup_overdue=shown["followup_overdue"].where(shown["followup_id"].notna(), pd.NA),
    )


def followups_digest(snapshot: Snapshot) -> str:
    """What the reports show of the follow-ups changes with this: the pulled file and, since
    ages and overdue count to the pull, its time ('' without follow-ups)."""
    from review.snapshot import FOLLOWUPS

    path = snapshot.path / FOLLOWUPS
    if not path.is_file():
        return ""
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{content} {snapshot.manifest.get('pulled_at', '')}"


def followup_links(snapshot: Snapshot) -> dict[str, str]:
    """safe_table links for the `followup` column (the ticket in RT's web interface), when the
    snapshot holds follow-ups."""
    if read_followups(snapshot.path, snapshot.manifest) is None:
        return {}
    web = html.escape(rt_web_url(str(snapshot.manifest.get("source", ""))), quote=True)
    return {"followup": web + "Ticket/Display.html?id={}"} if web else {}


def followups_by_service(
    snapshot: Snapshot, services: pd.Series, config: Config
) -> pd.DataFrame | None:
    """Open and overdue follow-ups per service at the pull (None if the pull took none).

    `services` maps an incident's ticket_id to its service, for per-incident follow-ups.
    """
    pulled = read_followups(snapshot.path, snapshot.manifest)
    if pulled is None:
        return None
    open_ = pulled.loc[~pulled["status"].isin(config.statuses.inactive)]
    ticket_names = open_["name"].where(open_["scope"] == "ticket").str.split("/").str[0]
    incident = pd.to_numeric(ticket_names, errors="coerce")
    service = open_["name"].where(
        open_["scope"] == "service", incident.map(services).fillna("(unknown)")
    )
    age = (_now(snapshot) - open_["created"]).dt.days
    table = pd.DataFrame(
        {"service": service, "open": 1, "overdue": (age > config.followups.overdue_days)}
    )
    out = table.groupby("service", sort=True)[["open", "overdue"]].sum().astype("int64")
    return out.sort_values(["overdue", "open"], ascending=False, kind="stable").reset_index()
