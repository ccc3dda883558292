"""A site unlike the defaults: the bundled sample's incidents as another RT shop records them.

Every name the kit's defaults assume is another here: the queues, the ticket custom fields,
the lifecycle (its own initial, active and closed statuses, and a 'withdrawn' for "not a
problem"), the classification and resolution values and the services. The snapshot is the
sample's JSON with each name replaced one for one (transactions, tickets, queues and the
manifest), so with the config a site would write (`CONFIG`, `registry`) every metric and
finding must equal the sample's under the default config, with the names replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from review.settings.config import bundled
from review.snapshot import DATA_FILES, read_jsonl, write_snapshot

LIFECYCLE = "incident-flow"
QUEUES = {
    "ops-help": "frontline",
    "dev-web": "web-team",
    "dev-identity": "iam-team",
    "dev-storage": "storage-team",
    "dev-network": "net-team",
}
FIELDS = {
    "Service": "Affected System",
    "Service Owner": "System Steward",
    "Business Owner": "Sponsor",
    "Classification": "Incident Kind",
    "Resolution Type": "Fix Kind",
    "Validated By": "Signed Off By",
    "Root Cause": "Underlying Cause",
}
STATUSES = {
    "new": "received",
    "open": "working",
    "stalled": "on-hold",
    "resolved": "finished",
    "rejected": "withdrawn",
}
VALUES = {
    "Classification": {
        "Urgent - Outage": "P1 outage",
        "Urgent - Degraded": "P2 degraded",
        "Hand-off": "Planned fix",
    },
    "Resolution Type": {"Permanent": "Durable", "Temporary": "Workaround"},
    "Service": {
        "web-portal": "Student Portal",
        "wiki": "Team Wiki",
        "sso-login": "Campus Login",
        "file-storage": "File Shares",
        "vpn": "Remote Access",
        "mail-lists": "Mailing Lists",
        "payroll-export": "Payroll Feed",
    },
}
# What the site's own config says: the draft of `review init`, completed by hand.
CONFIG = """\
[queues]
ops = ["frontline"]
developer = ["web-team", "iam-team", "storage-team", "net-team"]

[statuses]
initial = "received"
active = ["working", "on-hold"]
inactive = ["finished", "withdrawn"]
rejected = ["withdrawn"]

[fields]
service = "Affected System"
service_owner = "System Steward"
business_owner = "Sponsor"
classification = "Incident Kind"
resolution_type = "Fix Kind"
validated_by = "Signed Off By"
root_cause = "Underlying Cause"

[classification]
urgent_outage = "P1 outage"
urgent_degraded = "P2 degraded"
handoff = "Planned fix"

[resolution]
permanent = "Durable"
temporary = "Workaround"

[gaps]
registry = "services.yaml"
"""


def rename(text: str) -> str:
    """Any text of the sample (evidence, a registry) with the other site's names."""
    pairs = [
        *((f"'{a}'", f"'{b}'") for a, b in FIELDS.items()),
        *((f"'{a}'", f"'{b}'") for a, b in STATUSES.items()),
        *((f"({a})", f"({b})") for a, b in STATUSES.items()),
        *((f"already {a} ", f"already {b} ") for a, b in STATUSES.items()),
        *((f" {a} ", f" {b} ") for a, b in QUEUES.items()),
        *(pair for values in VALUES.values() for pair in values.items()),
        *QUEUES.items(),
    ]
    for old, new in sorted(pairs, key=lambda p: -len(p[0])):
        text = text.replace(old, new)
    return text


def registry() -> str:
    """The sample's registry (data/services.yaml) for the other site's services and queues."""
    text = bundled("data/services.yaml").read_text("utf-8")
    for old, new in [*VALUES["Service"].items(), *QUEUES.items()]:
        text = text.replace(f"service: {old}\n", f"service: {new}\n")
        text = text.replace(f"[{old}]", f"[{new}]")
    return text


def _field_value(field: str, value: str) -> str:
    return VALUES.get(field, {}).get(value, value)


def _ticket(ticket: dict[str, Any]) -> dict[str, Any]:
    ticket = json.loads(json.dumps(ticket))
    ticket["Status"] = STATUSES[ticket["Status"]]
    for entry in ticket["CustomFields"]:
        entry["values"] = [_field_value(entry["name"], v) for v in entry["values"]]
        entry["name"] = FIELDS[entry["name"]]
    for link in ticket["_hyperlinks"]:
        if link.get("ref") == "customfield":
            link["name"] = FIELDS[link["name"]]
        if link.get("ref") == "lifecycle":
            link["from"], link["to"] = STATUSES[link["from"]], STATUSES[link["to"]]
    return ticket


def _transaction(txn: dict[str, Any], field_names: dict[str, str]) -> dict[str, Any]:
    txn = dict(txn)
    if txn["Type"] == "Status" or (txn["Type"] == "Set" and txn["Field"] == "Status"):
        txn["OldValue"], txn["NewValue"] = STATUSES[txn["OldValue"]], STATUSES[txn["NewValue"]]
    if txn["Type"] == "CustomField":
        name = field_names[txn["Field"]]
        txn["OldValue"] = _field_value(name, txn["OldValue"] or "")
        txn["NewValue"] = _field_value(name, txn["NewValue"] or "")
    return txn


def _queue(queue: dict[str, Any]) -> dict[str, Any]:
    queue = json.loads(json.dumps(queue))
    queue["Name"] = QUEUES[queue["Name"]]
    queue["Lifecycle"] = LIFECYCLE
    for entry in queue["TicketCustomFields"]:
        entry["name"] = FIELDS[entry["name"]]
    return queue


def other_site(directory: Path) -> Path:
    """Write the other site's snapshot into `directory` (the sample's incidents, renamed)."""
    sample = bundled("data/sample")
    tickets, transactions, queues, users = (read_jsonl(sample / name) for name in DATA_FILES)
    field_names = {
        entry["id"]: entry["name"] for ticket in tickets for entry in ticket["CustomFields"]
    }
    manifest = json.loads((sample / "manifest.json").read_text("utf-8"))
    coverage = dict(
        manifest["coverage"], queues=[QUEUES[q] for q in manifest["coverage"]["queues"]]
    )
    return write_snapshot(
        directory,
        [_ticket(t) for t in tickets],
        [_transaction(t, field_names) for t in transactions],
        [_queue(q) for q in queues],
        users,
        source="another site",
        query=manifest["query"],
        pulled_at=manifest["pulled_at"],
        coverage=coverage,
    )


def write_site_config(directory: Path) -> Path:
    """The other site's config and registry in `directory`; returns the config file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "services.yaml").write_text(registry(), "utf-8")
    config = directory / "review.toml"
    config.write_text(CONFIG, "utf-8")
    return config
