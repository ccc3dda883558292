"""The bundled sample scenarios keep covering every case the metrics must be checked on.

These checks read the scenario YAML directly (no kit code), so deleting or quietly changing
an incident that stands for a required case fails here, naming the case.
"""

from __future__ import annotations

import glob
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"
OPS = {"ops-help"}
DEV = {"dev-web", "dev-identity", "dev-storage", "dev-network"}
INACTIVE = {"resolved", "rejected"}
LISTS = {"web-announce@example.edu", "helpdesk-list@example.edu", "3down@example.edu"}
SNAPSHOT_END = datetime(2026, 11, 1, tzinfo=UTC)  # everything closed by 2026-10-31


def _load(path: Path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


SITE = _load(SCENARIOS / "site.yaml")
INCIDENTS: dict[str, dict] = {}
FILE_OF: dict[str, str] = {}
for _path in sorted(glob.glob(str(SCENARIOS / "2026-*.yaml"))):
    for _incident in _load(Path(_path))["incidents"]:
        assert _incident["key"] not in INCIDENTS, f"duplicate key {_incident['key']}"
        INCIDENTS[_incident["key"]] = _incident
        FILE_OF[_incident["key"]] = Path(_path).name


def _ts(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _duration(text: str) -> timedelta:
    parts = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert parts and text, f"bad duration {text!r}"
    d, h, m, s = (int(x or 0) for x in parts.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


def timed_steps(incident: dict) -> list[tuple[datetime, dict]]:
    """Steps with absolute times (resolving `after`)."""
    now = _ts(incident["created"])
    out = []
    for step in incident.get("steps") or []:
        now = _ts(step["at"]) if "at" in step else now + _duration(step["after"])
        out.append((now, step))
    return out


def requestors(incident: dict) -> list[str]:
    req = incident["requestor"]
    return req if isinstance(req, list) else [req]


def staff_names() -> set[str]:
    return {person["name"] for person in SITE["staff"]}


def is_staff(incident: dict, name: str) -> bool:
    return name not in requestors(incident) and name != "RT_System"


def statuses(incident: dict) -> list[str]:
    out = [incident.get("status", "new")]
    out += [step["status"] for _, step in timed_steps(incident) if "status" in step]
    return out


def queues(incident: dict) -> list[str]:
    return [incident["queue"]] + [
        step["queue"] for _, step in timed_steps(incident) if "queue" in step
    ]


def handoff_times(incident: dict) -> list[datetime]:
    out, current = [], incident["queue"]
    for when, step in timed_steps(incident):
        if "queue" in step:
            if current in OPS and step["queue"] in DEV:
                out.append(when)
            current = step["queue"]
    return out


def staff_replies(incident: dict) -> list[datetime]:
    return [
        when
        for when, step in timed_steps(incident)
        if "reply" in step and is_staff(incident, step["by"])
    ]


def owners(incident: dict) -> list[str]:
    return [step["owner"] for _, step in timed_steps(incident) if "owner" in step]


def tech_lead_changes(incident: dict) -> int:
    seq = [o for o in owners(incident) if o != "Nobody"]
    return sum(1 for a, b in pairwise(seq) if a != b)


def reopens(incident: dict) -> int:
    seq = statuses(incident)
    return sum(1 for a, b in pairwise(seq) if a in INACTIVE and b not in INACTIVE)


def first_triage_kind(incident: dict) -> str | None:
    for _, step in timed_steps(incident):
        if "owner" in step and step["owner"] != "Nobody":
            return "owner"
        if "reply" in step and is_staff(incident, step["by"]):
            return "reply"
        if "status" in step and is_staff(incident, step["by"]):
            return "status"
    return None


def merged(incident: dict) -> bool:
    return any("merge_into" in step for _, step in timed_steps(incident))


def final_resolution(incident: dict) -> datetime | None:
    last = _ts(incident["created"]) if incident.get("status") in INACTIVE else None
    for when, step in timed_steps(incident):
        if "status" in step:
            last = when if step["status"] in INACTIVE else None
    return last


def longest_update_gap(incident: dict) -> timedelta:
    points = [_ts(incident["created"]), *staff_replies(incident), final_resolution(incident)]
    return max(b - a for a, b in pairwise(points))


def fields(incident: dict) -> dict:
    return incident.get("fields") or {}


def spans_day(incident: dict, day: str) -> bool:
    start = _ts(incident["created"])
    end = final_resolution(incident)
    lo = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=4)  # local midnight, EDT
    return start < lo and end > lo + timedelta(hours=24)


def has_link_to_permanent_followup(incident: dict) -> bool:
    for _, step in timed_steps(incident):
        link = step.get("link") or {}
        for kind in ("refers_to", "depends_on"):
            target = link.get(kind)
            if target in INCIDENTS:
                follow = INCIDENTS[target]
                resolution = fields(follow).get("Resolution Type")
                for _, s in timed_steps(follow):
                    resolution = (s.get("set") or {}).get("Resolution Type", resolution)
                if resolution == "Permanent" and final_resolution(follow) is not None:
                    return True
    return False


def final_fields(incident: dict) -> dict:
    out = dict(fields(incident))
    for _, step in timed_steps(incident):
        out.update(step.get("set") or {})
    return out


def announced_within_business_day(incident: dict) -> bool:
    """A staff reply within 8 working hours (here: 24 wall hours, no weekend in between) of the handoff."""
    handoffs = handoff_times(incident)
    return bool(handoffs) and any(
        timedelta(0) <= reply - handoffs[0] <= timedelta(hours=8)
        for reply in staff_replies(incident)
    )


# case -> (key, predicate on that incident)
REQUIRED = {
    "urgent outage": (
        "portal-outage-urgent-one-handoff-announced",
        lambda i: fields(i)["Classification"] == "Urgent - Outage",
    ),
    "urgent degraded": (
        "sso-degraded-urgent-triage-by-owner",
        lambda i: fields(i)["Classification"] == "Urgent - Degraded",
    ),
    "hand-off of artifacts": (
        "storage-artifacts-handoff-triage-by-status-not-announced",
        lambda i: fields(i)["Classification"] == "Hand-off",
    ),
    "triage by taking ownership": (
        "sso-degraded-urgent-triage-by-owner",
        lambda i: first_triage_kind(i) == "owner",
    ),
    "triage by staff reply": (
        "portal-outage-urgent-one-handoff-announced",
        lambda i: first_triage_kind(i) == "reply" and statuses(i)[0] == "new",
    ),
    "triage by status change (open)": (
        "storage-artifacts-handoff-triage-by-status-not-announced",
        lambda i: first_triage_kind(i) == "status" and statuses(i)[1] == "open",
    ),
    "triage by status change (stalled)": (
        "vpn-triage-by-stalled",
        lambda i: first_triage_kind(i) == "status" and statuses(i)[1] == "stalled",
    ),
    "never triaged (requestor resolves)": (
        "wiki-never-triaged-requestor-resolves",
        lambda i: (
            first_triage_kind(i) is None
            and final_resolution(i) is not None
            and all(s["by"] in requestors(i) for _, s in timed_steps(i))
        ),
    ),
    "one handoff ops -> dev": (
        "portal-outage-urgent-one-handoff-announced",
        lambda i: len(handoff_times(i)) == 1,
    ),
    "several handoffs with bounce": (
        "portal-several-handoffs-bounce-tl-via-nobody",
        lambda i: queues(i) == ["ops-help", "dev-web", "ops-help", "dev-identity"],
    ),
    "bounce back to ops-help": (
        "oct-payroll-export-bounce-back-unknown-owner",
        lambda i: queues(i)[-1] == "ops-help" and len(handoff_times(i)) == 1,
    ),
    "reopened once": ("mail-reopened-once", lambda i: reopens(i) == 1),
    "reopened twice": ("vpn-reopened-twice", lambda i: reopens(i) == 2),
    "reopened while in a developer queue": (
        "storage-reopened-in-dev-queue",
        lambda i: reopens(i) == 1 and queues(i)[-1] in DEV,
    ),
    "tech lead A -> Nobody -> B": (
        "portal-several-handoffs-bounce-tl-via-nobody",
        lambda i: "Nobody" in owners(i) and tech_lead_changes(i) >= 2,
    ),
    "tech lead A -> Nobody -> A": (
        "wiki-tl-nobody-same-owner",
        lambda i: owners(i) == ["walt", "Nobody", "walt"] and tech_lead_changes(i) == 0,
    ),
    "tech lead A -> B": ("payroll-export-unknown-owner", lambda i: owners(i) == ["kim", "lee"]),
    "multi-day outage with daily updates": (
        "storage-outage-multiday-daily-updates",
        lambda i: (
            fields(i)["Classification"] == "Urgent - Outage"
            and final_resolution(i) - _ts(i["created"]) > timedelta(days=3)
            and longest_update_gap(i) <= timedelta(hours=24)
        ),
    ),
    "multi-day outage without daily updates": (
        "sso-outage-multiday-no-daily-updates-temp-no-followup",
        lambda i: (
            fields(i)["Classification"] == "Urgent - Outage"
            and final_resolution(i) - _ts(i["created"]) > timedelta(days=3)
            and longest_update_gap(i) > timedelta(hours=24)
        ),
    ),
    "spans a weekend": (
        "wiki-weekend-span",
        lambda i: spans_day(i, "2026-08-29") and spans_day(i, "2026-08-30"),
    ),
    "spans Labor Day": ("vpn-labor-day-span", lambda i: spans_day(i, "2026-09-07")),
    "spans Columbus Day": (
        "sso-columbus-day-span-handoff-announced",
        lambda i: spans_day(i, "2026-10-12"),
    ),
    "merged ticket": (
        "storage-quota-merged-duplicate",
        lambda i: any(
            s.get("merge_into") == "storage-quota-merge-survivor" for _, s in timed_steps(i)
        ),
    ),
    "history is just its creation": (
        "mail-after-the-fact-created-resolved",
        lambda i: (
            i.get("status") == "resolved"
            and not i.get("steps")
            and requestors(i)[0] in staff_names()
        ),
    ),
    "unknown service owner": (
        "payroll-export-unknown-owner",
        lambda i: not fields(i).get("Service Owner"),
    ),
    "temporary fix with linked permanent follow-up": (
        "portal-temp-fix-with-followup",
        lambda i: (
            final_fields(i)["Resolution Type"] == "Temporary" and has_link_to_permanent_followup(i)
        ),
    ),
    "temporary fix without follow-up": (
        "sso-outage-multiday-no-daily-updates-temp-no-followup",
        lambda i: (
            final_fields(i)["Resolution Type"] == "Temporary"
            and not any("link" in s for _, s in timed_steps(i))
        ),
    ),
    "validated": (
        "portal-outage-urgent-one-handoff-announced",
        lambda i: bool(final_fields(i).get("Validated By")),
    ),
    "not validated": (
        "sso-degraded-urgent-triage-by-owner",
        lambda i: not final_fields(i).get("Validated By"),
    ),
    "handoff announced within a business day": (
        "portal-outage-urgent-one-handoff-announced",
        announced_within_business_day,
    ),
    "handoff not announced": (
        "storage-artifacts-handoff-triage-by-status-not-announced",
        lambda i: bool(handoff_times(i)) and not announced_within_business_day(i),
    ),
    "Cc lists present": (
        "storage-outage-multiday-daily-updates",
        lambda i: set(i.get("cc") or []) & LISTS,
    ),
    "Cc lists absent": ("vpn-triage-by-stalled", lambda i: not i.get("cc")),
    "ends rejected": ("oct-portal-rejected-not-a-problem", lambda i: statuses(i)[-1] == "rejected"),
    "created directly in a developer queue": (
        "portal-worker-pool-followup-permanent",
        lambda i: i["queue"] in DEV,
    ),
    "10-day incident": (
        "sep-storage-10day-slow-handoff",
        lambda i: final_resolution(i) - _ts(i["created"]) >= timedelta(days=10),
    ),
    "20-minute incident": (
        "aug-mail-list-moderation-20min",
        lambda i: final_resolution(i) - _ts(i["created"]) == timedelta(minutes=20),
    ),
    "at night": (
        "aug-sso-mfa-night",
        lambda i: (_ts(i["created"]) - timedelta(hours=4)).hour >= 22,
    ),
}


@pytest.mark.parametrize("case", sorted(REQUIRED))
def test_required_case_present(case):
    key, predicate = REQUIRED[case]
    assert key in INCIDENTS, f"case {case!r}: incident {key!r} is missing"
    assert predicate(INCIDENTS[key]), f"case {case!r}: incident {key!r} no longer shows it"


def test_site():
    assert SITE["rtname"] == "example"
    assert [q["name"] for q in SITE["queues"]] == [
        "ops-help",
        "dev-web",
        "dev-identity",
        "dev-storage",
        "dev-network",
    ]
    assert SITE["custom_fields"] == [
        "Service",
        "Service Owner",
        "Business Owner",
        "Classification",
        "Resolution Type",
        "Validated By",
        "Root Cause",
    ]
    assert 8 <= len(SITE["staff"]) <= 12
    assert 12 <= len(SITE["customers"]) <= 18


def test_incident_count_and_months():
    assert 60 <= len(INCIDENTS) <= 100
    for key, incident in INCIDENTS.items():
        month = FILE_OF[key][:7]
        assert _ts(incident["created"]).strftime("%Y-%m") == month, key
    counts = {
        m: sum(1 for f in FILE_OF.values() if f.startswith(m))
        for m in ("2026-08", "2026-09", "2026-10")
    }
    assert all(n >= 15 for n in counts.values()), counts


def test_every_incident_ends_inactive_by_end_of_october():
    for key, incident in INCIDENTS.items():
        if merged(incident):
            continue
        end = final_resolution(incident)
        assert end is not None, f"{key} does not end resolved or rejected"
        assert end < SNAPSHOT_END, key
        assert statuses(incident)[-1] in INACTIVE, key


def test_steps_are_in_time_order_and_refer_to_known_names():
    people = staff_names() | {c["name"] for c in SITE["customers"]}
    for key, incident in INCIDENTS.items():
        times = [_ts(incident["created"])] + [when for when, _ in timed_steps(incident)]
        assert times == sorted(times), key
        assert set(requestors(incident)) <= people, key
        for _, step in timed_steps(incident):
            assert step["by"] in people, (key, step)
            if "owner" in step:
                assert step["owner"] in staff_names() | {"Nobody"}, (key, step)
            if "queue" in step:
                assert step["queue"] in OPS | DEV, (key, step)
            for target in [*(step.get("link") or {}).values(), step.get("merge_into")]:
                if target is not None:
                    assert target in INCIDENTS, (key, step)
                    assert _ts(INCIDENTS[target]["created"]) <= times[-1], (
                        key,
                        "links to a later ticket",
                    )
        for address in incident.get("cc") or []:
            assert address in LISTS or address in people, (key, address)


def test_services_and_owner_gaps():
    services = {fields(i).get("Service") for i in INCIDENTS.values()}
    assert {
        "web-portal",
        "sso-login",
        "mail-lists",
        "file-storage",
        "vpn",
        "wiki",
        "payroll-export",
    } <= services
    without_owner = [k for k, i in INCIDENTS.items() if not fields(i).get("Service Owner")]
    assert len(without_owner) >= 2, without_owner


def test_hostile_text_present():
    text = "\n".join(
        [i["subject"] for i in INCIDENTS.values()]
        + [s.get("reply", "") for i in INCIDENTS.values() for _, s in timed_steps(i)]
    )
    for hostile in (
        "<script>alert(1)</script>",
        "**bold** [link](http://x)",
        "<img src=x onerror=alert(1)>",
    ):
        assert hostile in text, hostile
