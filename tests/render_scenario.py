"""A small scenario set for the rendering tests: a 2-hour incident with hostile text,
a 10-day hand-off, and one incident the month before (for the comparison).

Expected numbers, worked out by hand (times UTC; New York is UTC-4 in Sep-Oct 2026).
Ticket ids follow creation order:
- ticket 1: opened 2026-09-15, resolved one hour later.
- ticket 2: opened Mon 2026-10-05 10:00 EDT, staff reply 10:15, resolved 12:00.
  time to triage 0.25 h (0.25 bh), time to resolve 2.00 h (2.00 bh).
- ticket 3: opened Tue 2026-10-13 09:00 EDT, resolved Fri 2026-10-23 09:00 EDT.
  time to triage 0.50 h, time to resolve 240.00 h; business: 8 working days x 8 h = 64.00 bh
  (Oct 13-16 and 19-22); hand-off at 11:00 EDT Oct 13: time in hand-off 238.00 h, in
  business hours 6 + 7 x 8 = 62.00 bh.
October: 2 incidents; median time to resolve (2 + 240) / 2 = 121.00 h; p90 2 + 0.9 x 238 = 216.20 h.
"""

from __future__ import annotations

import re
from pathlib import Path

HOSTILE_SUBJECT = (
    "Restore fails: <script>alert(1)</script> costs $5 and $x^2$ "
    "**bold** [click](http://evil.example) \x1b[37;47mwhite on white\x1b[0m\x07\x08\x00"
)
HOSTILE_TICKET, LONG_TICKET, SEPTEMBER_TICKET = 2, 3, 1
HOSTILE_REPLY = "<img src=x onerror=alert(2)> still looking \x1b[8mconcealed\x1b[0m"
HOSTILE_NAME = "<img src=y onerror=alert(3)>"

SITE = """
rtname: example
queues:
  - {name: ops-help, description: "Operations help"}
  - {name: dev-web, description: "Web developers"}
  - {name: dev-storage, description: "Storage developers"}
custom_fields:
  - Service
  - Service Owner
  - Business Owner
  - Classification
  - Resolution Type
  - Validated By
  - Root Cause
staff:
  - {name: dave, email: dave@example.edu, real_name: Dave Ops}
  - {name: olga, email: olga@example.edu, real_name: Olga Ops}
  - {name: sara, email: sara@example.edu, real_name: Sara Storage}
customers:
  - {name: ann, email: ann@example.org}
  - {name: mallory, email: mallory@example.org, real_name: "HOSTILE_NAME"}
"""

INCIDENTS = """
incidents:
  - key: hostile-two-hours
    subject: "HOSTILE_SUBJECT"
    created: 2026-10-05T14:00:00Z
    queue: ops-help
    requestor: mallory
    cc: [helpdesk-list@example.edu]
    fields:
      Service: web-portal
      Service Owner: Web Services
      Business Owner: Registrar
      Classification: Urgent - Outage
    steps:
      - {at: 2026-10-05T14:15:00Z, by: dave, reply: "HOSTILE_REPLY"}
      - {at: 2026-10-05T14:20:00Z, by: dave, owner: dave}
      - {at: 2026-10-05T14:40:00Z, by: dave, comment: "restarted httpd; $HOME was full"}
      - at: 2026-10-05T15:30:00Z
        by: dave
        set: {Resolution Type: Permanent, Root Cause: full disk, Validated By: mallory}
      - {at: 2026-10-05T16:00:00Z, by: dave, status: resolved}

  - key: ten-day-handoff
    subject: Home directories slow for large listings
    created: 2026-10-13T13:00:00Z
    queue: ops-help
    requestor: ann
    fields:
      Service: file-storage
      Service Owner: Storage Team
      Business Owner: Research Computing
      Classification: Hand-off
    steps:
      - {at: 2026-10-13T13:30:00Z, by: olga, reply: "Reproduced; passing to storage."}
      - {at: 2026-10-13T13:40:00Z, by: olga, owner: olga}
      - {at: 2026-10-13T15:00:00Z, by: olga, queue: dev-storage}
      - {at: 2026-10-13T15:05:00Z, by: olga, owner: sara}
      - {at: 2026-10-14T14:00:00Z, by: ann, reply: "Still slow today."}
      - {at: 2026-10-16T18:00:00Z, by: sara, comment: "profiling the metadata server"}
      - {at: 2026-10-19T14:00:00Z, by: sara, reply: "Patch in test."}
      - at: 2026-10-23T13:00:00Z
        by: sara
        set: {Resolution Type: Permanent, Root Cause: lock contention}
      - {at: 2026-10-23T13:00:00Z, by: sara, status: resolved}

  - key: september-vpn
    subject: VPN drops every few minutes
    created: 2026-09-15T14:00:00Z
    queue: ops-help
    requestor: ann
    fields: {Service: vpn, Classification: Urgent - Degraded}
    steps:
      - {at: 2026-09-15T14:10:00Z, by: dave, reply: "Restarting the concentrator."}
      - {at: 2026-09-15T15:00:00Z, by: dave, status: resolved}
"""


def _quoted(text: str) -> str:
    """`text` inside a YAML double-quoted scalar (control characters as YAML escapes)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"[\x00-\x1f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def write_scenarios(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(SITE.replace("HOSTILE_NAME", _quoted(HOSTILE_NAME)))
    (directory / "incidents.yaml").write_text(
        INCIDENTS.replace("HOSTILE_SUBJECT", _quoted(HOSTILE_SUBJECT)).replace(
            "HOSTILE_REPLY", _quoted(HOSTILE_REPLY)
        )
    )
    return directory


def make_snapshot(root: Path) -> Path:
    """Generate the snapshot of the scenarios above under `root`."""
    from scenarios.generate import generate_snapshot

    scenarios = write_scenarios(root / "scenarios")
    return generate_snapshot(scenarios, root / "snapshot")
