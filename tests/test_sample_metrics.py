"""Expected metrics of every bundled sample incident, computed by hand from the scenario files.

Each row below was worked out on paper from `data/scenarios/2026-*.yaml` using the metric
definitions of issue 2 (not copied from the kit's output). Conventions used while computing:

* All scenario times are UTC. New York is on EDT (UTC-4) for the whole sample (Aug-Oct 2026),
  so a working day's business hours 09:00-17:00 local are 13:00-21:00Z.
* Non-working days in the sample: weekends, Labor Day (Mon 2026-09-07) and Columbus /
  Indigenous Peoples' Day (Mon 2026-10-12), both in `holidays` for US/MA.
* Ticket ids follow creation time across all files. Ticket 32 (storage-quota-merged-duplicate)
  is merged into ticket 31 and therefore has no row of its own.
* A ticket created already resolved (mail-after-the-fact-created-resolved) has no triage event:
  no owner change, no staff Correspond and no status change ever leaves `new`; so triaged_at is
  None, resolved_at = opened_at, and its only update gap is 0.
* A ticket created directly in a developer queue (portal-worker-pool-followup-permanent) was never
  moved from an ops queue into a developer queue: handoff_count 0, time_in_handoff None.
* Values are rounded to 2 decimals; the comparison allows 0.01.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "data" / "scenarios"

COLUMNS = (
    "ticket_id",
    "queue",
    "service",
    "classification",
    "opened_at",
    "triaged_at",
    "resolved_at",
    "time_to_triage_h",
    "time_to_triage_bh",
    "handoff_count",
    "time_in_handoff_h",
    "time_in_handoff_bh",
    "time_to_resolve_h",
    "time_to_resolve_bh",
    "tech_lead_handoffs",
    "reopen_count",
    "max_update_gap_h",
)

UO, UD, HO = "Urgent - Outage", "Urgent - Degraded", "Hand-off"

# key: (ticket_id, queue, service, classification, opened_at, triaged_at, resolved_at,
#       ttt_h, ttt_bh, handoffs, tih_h, tih_bh, ttr_h, ttr_bh, tech_lead_handoffs, reopens, max_gap_h)
# fmt: off
EXPECTED = {
    # ---------------------------------------------------------------- August 2026
    # Sat: reply 16:00 (triage), resolved 17:00; no business hours on a Saturday.
    "aug-mail-bounce-msgs-weekend": (
        1,
        "ops-help",
        "mail-lists",
        HO,
        "2026-08-01T15:00:00Z",
        "2026-08-01T16:00:00Z",
        "2026-08-01T17:00:00Z",
        1.0,
        0.0,
        0,
        None,
        None,
        2.0,
        0.0,
        0,
        0,
        1.0,
    ),
    # Mon: reply 13:20; dev-web 14:00-19:10 (5h10m); gaps .25, 1.17, 4.67 (14:30->19:10).
    "portal-outage-urgent-one-handoff-announced": (
        2,
        "dev-web",
        "web-portal",
        UO,
        "2026-08-03T13:05:00Z",
        "2026-08-03T13:20:00Z",
        "2026-08-03T19:10:00Z",
        0.25,
        0.25,
        1,
        5.17,
        5.17,
        6.08,
        6.08,
        0,
        0,
        4.67,
    ),
    "aug-vpn-cert-warning": (
        3,
        "ops-help",
        "vpn",
        HO,
        "2026-08-03T18:00:00Z",
        "2026-08-03T18:30:00Z",
        "2026-08-03T20:00:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        2.0,
        2.0,
        0,
        0,
        1.5,
    ),
    # Triage = owner set 14:10; gaps 14:00->14:40 .67, 14:40->16:45 2.08.
    "sso-degraded-urgent-triage-by-owner": (
        4,
        "ops-help",
        "sso-login",
        UD,
        "2026-08-04T14:00:00Z",
        "2026-08-04T14:10:00Z",
        "2026-08-04T16:45:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        2.75,
        2.75,
        0,
        0,
        2.08,
    ),
    # Tue 20:30 -> Wed 13:30: 17h wall, 0.5 + 0.5 bh; resolve Wed 15:30: 19h, 0.5 + 2.5 bh.
    "aug-wiki-attachment-upload": (
        5,
        "ops-help",
        "wiki",
        HO,
        "2026-08-04T20:30:00Z",
        "2026-08-05T13:30:00Z",
        "2026-08-05T15:30:00Z",
        17.0,
        1.0,
        0,
        None,
        None,
        19.0,
        3.0,
        0,
        0,
        17.0,
    ),
    # Triage = olga sets open 15:30. dev-storage Wed 16:00 -> Mon 15:05: 119h05m;
    # bh Wed 5 + Thu 8 + Fri 8 + Mon 2.08 = 23.08. Resolve: 120h05m; bh 6+8+8+2.08 = 24.08.
    # Gaps: Wed 15:00 -> Mon 14:00 = 119h (first staff reply), then 1.08.
    "storage-artifacts-handoff-triage-by-status-not-announced": (
        6,
        "dev-storage",
        "file-storage",
        HO,
        "2026-08-05T15:00:00Z",
        "2026-08-05T15:30:00Z",
        "2026-08-10T15:05:00Z",
        0.5,
        0.5,
        1,
        119.08,
        23.08,
        120.08,
        24.08,
        0,
        0,
        119.0,
    ),
    # Triage = raj sets stalled 17:45. Thu 17:00 -> Fri 14:40: 21h40m; bh 4 + 1.67.
    # Gaps: Thu 17:00 -> Fri 14:05 = 21.08, then .58.
    "vpn-triage-by-stalled": (
        7,
        "ops-help",
        "vpn",
        HO,
        "2026-08-06T17:00:00Z",
        "2026-08-06T17:45:00Z",
        "2026-08-07T14:40:00Z",
        0.75,
        0.75,
        0,
        None,
        None,
        21.67,
        5.67,
        0,
        0,
        21.08,
    ),
    # 23:10 local Thursday: all outside business hours.
    "aug-sso-mfa-night": (
        8,
        "ops-help",
        "sso-login",
        UD,
        "2026-08-07T03:10:00Z",
        "2026-08-07T03:30:00Z",
        "2026-08-07T04:30:00Z",
        0.33,
        0.0,
        0,
        None,
        None,
        1.33,
        0.0,
        0,
        0,
        1.0,
    ),
    # The requestor closes her own ticket: never triaged; Fri 22:00-23:00 local.
    "wiki-never-triaged-requestor-resolves": (
        9,
        "ops-help",
        "wiki",
        UD,
        "2026-08-08T02:00:00Z",
        None,
        "2026-08-08T03:00:00Z",
        None,
        None,
        0,
        None,
        None,
        1.0,
        0.0,
        0,
        0,
        1.0,
    ),
    # Triage = owner dave 13:40. ops->dev-web 14:00, back 16:10 (2h10m); ops->dev-identity Tue 13:40
    # until resolve 19:30 (5h50m): 8h, all in business hours. Owners dave, walt, Nobody, ivan -> 2.
    # Resolve: Mon 13:30 -> Tue 19:30 = 30h; bh 7.5 + 6.5. Gaps: .33, 2.17, 22.0 (Mon 16:00 -> Tue 14:00), 5.5.
    "portal-several-handoffs-bounce-tl-via-nobody": (
        10,
        "dev-identity",
        "web-portal",
        UD,
        "2026-08-10T13:30:00Z",
        "2026-08-10T13:40:00Z",
        "2026-08-11T19:30:00Z",
        0.17,
        0.17,
        2,
        8.0,
        8.0,
        30.0,
        14.0,
        2,
        0,
        22.0,
    ),
    "aug-storage-restore-fails": (
        11,
        "ops-help",
        "file-storage",
        HO,
        "2026-08-11T14:00:00Z",
        "2026-08-11T14:20:00Z",
        "2026-08-11T16:30:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        2.5,
        2.5,
        0,
        0,
        2.0,
    ),
    # Resolved Wed 20:00, reopened Thu 14:00, resolved Thu 17:00 (last). bh Wed 3 + Thu 4.
    # Gaps: .33, Wed 18:20 -> Thu 14:10 = 19.83, 2.83 (the first resolve is not an update point).
    "mail-reopened-once": (
        12,
        "ops-help",
        "mail-lists",
        UD,
        "2026-08-12T18:00:00Z",
        "2026-08-12T18:20:00Z",
        "2026-08-13T17:00:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        23.0,
        7.0,
        0,
        1,
        19.83,
    ),
    # Triage = dave gives it to wendy 15:20; gaps .5, .33.
    "aug-portal-slow-grades": (
        13,
        "ops-help",
        "web-portal",
        UD,
        "2026-08-13T15:00:00Z",
        "2026-08-13T15:20:00Z",
        "2026-08-13T15:50:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        0.83,
        0.83,
        0,
        0,
        0.5,
    ),
    # Fri 13:00 -> Tue 14:30 = 97.5h; bh Fri 8 + Mon 8 + Tue 1.5. Reopened Mon and Tue.
    # Gaps: 1, 72 (Fri 14:00 -> Mon 14:00), 23.5, 1.
    "vpn-reopened-twice": (
        14,
        "ops-help",
        "vpn",
        HO,
        "2026-08-14T13:00:00Z",
        "2026-08-14T13:30:00Z",
        "2026-08-18T14:30:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        97.5,
        17.5,
        0,
        2,
        72.0,
    ),
    "aug-mail-list-moderation-20min": (
        15,
        "ops-help",
        "mail-lists",
        HO,
        "2026-08-18T13:40:00Z",
        "2026-08-18T13:50:00Z",
        "2026-08-18T14:00:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        0.33,
        0.33,
        0,
        0,
        0.17,
    ),
    # Created Wed 08:00 local (before hours): triage 0 bh. Wed 12:00 -> Sun 15:10 = 99h10m;
    # bh Wed 8 + Thu 8 + Fri 8. Daily replies: gaps 7.75, 23, 23, 22, 23.17.
    "storage-outage-multiday-daily-updates": (
        16,
        "ops-help",
        "file-storage",
        UO,
        "2026-08-19T12:00:00Z",
        "2026-08-19T12:15:00Z",
        "2026-08-23T15:10:00Z",
        0.25,
        0.0,
        0,
        None,
        None,
        99.17,
        24.0,
        0,
        0,
        23.17,
    ),
    # Sat 22:00 -> Sun 01:00 triage (0 bh); -> Mon 15:00 = 41h, bh Mon 13-15. Gap Sun 01:00 -> Mon 14:30.
    "aug-vpn-weekend-drop": (
        17,
        "ops-help",
        "vpn",
        UD,
        "2026-08-22T22:00:00Z",
        "2026-08-23T01:00:00Z",
        "2026-08-24T15:00:00Z",
        3.0,
        0.0,
        0,
        None,
        None,
        41.0,
        2.0,
        0,
        0,
        37.5,
    ),
    # Mon 14:00 -> Thu 20:10 = 78h10m; bh Mon 7 + Tue 8 + Wed 8 + Thu 7.17. Gap Mon 15:00 -> Thu 15:00 = 72.
    "sso-outage-multiday-no-daily-updates-temp-no-followup": (
        18,
        "ops-help",
        "sso-login",
        UO,
        "2026-08-24T14:00:00Z",
        "2026-08-24T14:30:00Z",
        "2026-08-27T20:10:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        78.17,
        30.17,
        0,
        0,
        72.0,
    ),
    # Owners kim -> lee: 1. Tue 19:00 -> Wed 18:40; bh 2 + 5.67. Gap Tue 19:30 -> Wed 18:00 = 22.5.
    "payroll-export-unknown-owner": (
        19,
        "ops-help",
        "payroll-export",
        HO,
        "2026-08-25T19:00:00Z",
        "2026-08-25T19:30:00Z",
        "2026-08-26T18:40:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        23.67,
        7.67,
        1,
        0,
        22.5,
    ),
    # Wed 16:00 -> Thu 17:00 = 25h; bh 5 + 4. Gap Wed 16:45 -> Thu 17:00 = 24.25.
    "aug-wiki-spam-pages": (
        20,
        "ops-help",
        "wiki",
        HO,
        "2026-08-26T16:00:00Z",
        "2026-08-26T16:45:00Z",
        "2026-08-27T17:00:00Z",
        0.75,
        0.75,
        0,
        None,
        None,
        25.0,
        9.0,
        0,
        0,
        24.25,
    ),
    # Fri 20:00 -> Mon 17:30 = 69.5h; bh Fri 1 + Mon 4.5. Gap Fri 20:30 -> Mon 17:00 = 68.5.
    "wiki-weekend-span": (
        21,
        "ops-help",
        "wiki",
        HO,
        "2026-08-28T20:00:00Z",
        "2026-08-28T20:30:00Z",
        "2026-08-31T17:30:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        69.5,
        5.5,
        0,
        0,
        68.5,
    ),
    "aug-storage-mount-lab-outage": (
        22,
        "ops-help",
        "file-storage",
        UO,
        "2026-08-31T19:30:00Z",
        "2026-08-31T19:40:00Z",
        "2026-08-31T20:50:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        1.33,
        1.33,
        0,
        0,
        1.0,
    ),
    # ---------------------------------------------------------------- September 2026
    "sep-portal-tls-expiry-outage": (
        23,
        "ops-help",
        "web-portal",
        UO,
        "2026-09-01T13:00:00Z",
        "2026-09-01T13:05:00Z",
        "2026-09-01T14:10:00Z",
        0.08,
        0.08,
        0,
        None,
        None,
        1.17,
        1.17,
        0,
        0,
        0.92,
    ),
    # Triage = olga sets open. Wed 17:00 -> Thu 14:30 = 21.5h; bh 4 + 1.5. Gap Wed 17:00 -> Thu 14:00.
    "sep-mail-digest-dupes": (
        24,
        "ops-help",
        "mail-lists",
        HO,
        "2026-09-02T17:00:00Z",
        "2026-09-02T17:30:00Z",
        "2026-09-03T14:30:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        21.5,
        5.5,
        0,
        0,
        21.0,
    ),
    # Fri 19:00 -> Tue 15:10 = 92h10m; bh Fri 2 + (Sat, Sun, Labor Day: 0) + Tue 2.17.
    # Gap Fri 19:20 -> Tue 14:00 = 90h40m.
    "vpn-labor-day-span": (
        25,
        "ops-help",
        "vpn",
        UD,
        "2026-09-04T19:00:00Z",
        "2026-09-04T19:20:00Z",
        "2026-09-08T15:10:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        92.17,
        4.17,
        0,
        0,
        90.67,
    ),
    "portal-temp-fix-with-followup": (
        26,
        "ops-help",
        "web-portal",
        UO,
        "2026-09-09T13:00:00Z",
        "2026-09-09T13:10:00Z",
        "2026-09-09T14:40:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        1.67,
        1.67,
        0,
        0,
        0.83,
    ),
    # Created in dev-web by wendy for kim. Triage = owner wendy Thu 14:00: 23h35m; bh Wed 6.58 + Thu 1.
    # Resolve Mon 18:10: 123.75h; bh 6.58 + 8 + 8 + 5.17. Gap Wed 14:25 -> Mon 18:00 = 123.58.
    "portal-worker-pool-followup-permanent": (
        27,
        "dev-web",
        "web-portal",
        HO,
        "2026-09-09T14:25:00Z",
        "2026-09-10T14:00:00Z",
        "2026-09-14T18:10:00Z",
        23.58,
        7.58,
        0,
        None,
        None,
        123.75,
        27.75,
        0,
        0,
        123.58,
    ),
    # dev-storage Thu 09-10 14:40 -> Sun 09-20 14:00 = 239h20m; bh 6.33 + 6 full days (48).
    # Resolve: exactly 10 days = 240h; bh 7 + 48. Gaps 24.5, 96 (Fri 11 -> Tue 15), 72, 47.
    "sep-storage-10day-slow-handoff": (
        28,
        "dev-storage",
        "file-storage",
        HO,
        "2026-09-10T14:00:00Z",
        "2026-09-10T14:30:00Z",
        "2026-09-20T14:00:00Z",
        0.5,
        0.5,
        1,
        239.33,
        54.33,
        240.0,
        55.0,
        0,
        0,
        96.0,
    ),
    "sep-vpn-night-outage": (
        29,
        "ops-help",
        "vpn",
        UO,
        "2026-09-12T05:00:00Z",
        "2026-09-12T05:15:00Z",
        "2026-09-12T07:00:00Z",
        0.25,
        0.0,
        0,
        None,
        None,
        2.0,
        0.0,
        0,
        0,
        1.5,
    ),
    "sep-sso-password-reset-loop": (
        30,
        "ops-help",
        "sso-login",
        UD,
        "2026-09-14T13:30:00Z",
        "2026-09-14T13:45:00Z",
        "2026-09-14T16:30:00Z",
        0.25,
        0.25,
        0,
        None,
        None,
        3.0,
        3.0,
        0,
        0,
        2.5,
    ),
    # Survivor of the merge (ticket 32 merged into it at 15:30; ticket 32 has no row).
    "storage-quota-merge-survivor": (
        31,
        "ops-help",
        "file-storage",
        UD,
        "2026-09-15T14:00:00Z",
        "2026-09-15T14:20:00Z",
        "2026-09-15T17:20:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        3.33,
        3.33,
        0,
        0,
        2.67,
    ),
    # Created already resolved: no triage, zero lifetime.
    "mail-after-the-fact-created-resolved": (
        33,
        "ops-help",
        "mail-lists",
        UO,
        "2026-09-16T20:30:00Z",
        None,
        "2026-09-16T20:30:00Z",
        None,
        None,
        0,
        None,
        None,
        0.0,
        0.0,
        0,
        0,
        0.0,
    ),
    # Owners walt -> Nobody -> walt: 0. Thu 13:00 -> Fri 14:10; bh 8 + 1.17. Gap Thu 13:00 -> Fri 14:00.
    "wiki-tl-nobody-same-owner": (
        34,
        "ops-help",
        "wiki",
        HO,
        "2026-09-17T13:00:00Z",
        "2026-09-17T13:30:00Z",
        "2026-09-18T14:10:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        25.17,
        9.17,
        0,
        0,
        25.0,
    ),
    # Fri 20:00 -> Mon 16:15 = 68.25h; bh 1 + 3.25. Gap Fri 20:15 -> Mon 16:00.
    "sep-wiki-login-button": (
        35,
        "ops-help",
        "wiki",
        HO,
        "2026-09-18T20:00:00Z",
        "2026-09-18T20:15:00Z",
        "2026-09-21T16:15:00Z",
        0.25,
        0.25,
        0,
        None,
        None,
        68.25,
        4.25,
        0,
        0,
        67.75,
    ),
    # Created 08:30 local: triage at 09:00 local = 0 bh. Owner lee only: 0.
    "sep-payroll-export-late-unknown-owner": (
        36,
        "ops-help",
        "payroll-export",
        UD,
        "2026-09-22T12:30:00Z",
        "2026-09-22T13:00:00Z",
        "2026-09-22T18:20:00Z",
        0.5,
        0.0,
        0,
        None,
        None,
        5.83,
        5.33,
        0,
        0,
        5.0,
    ),
    # dev-web Wed 15:20 -> Fri 19:10 = 51h50m; bh 5.67 + 8 + 6.17. Resolve 52h10m; bh 6 + 8 + 6.17.
    # Gap Wed 15:40 -> Fri 19:00 = 51h20m.
    "sep-portal-cal-feed-handoff-announced": (
        37,
        "dev-web",
        "web-portal",
        HO,
        "2026-09-23T15:00:00Z",
        "2026-09-23T15:10:00Z",
        "2026-09-25T19:10:00Z",
        0.17,
        0.17,
        1,
        51.83,
        19.83,
        52.17,
        20.17,
        0,
        0,
        51.33,
    ),
    # Thu 17:30 local -> Fri 09:10 local: 15h40m wall, 10 min of business time.
    "sep-mail-list-archive-404": (
        38,
        "ops-help",
        "mail-lists",
        HO,
        "2026-09-24T21:30:00Z",
        "2026-09-25T13:10:00Z",
        "2026-09-25T14:10:00Z",
        15.67,
        0.17,
        0,
        None,
        None,
        16.67,
        1.17,
        0,
        0,
        15.67,
    ),
    # Sun 16:00 -> Mon 13:45 = 21.75h, bh 0.75. Gap Sun 16:30 -> Mon 13:30 = 21.
    "sep-vpn-sunday-config": (
        39,
        "ops-help",
        "vpn",
        UD,
        "2026-09-27T16:00:00Z",
        "2026-09-27T16:30:00Z",
        "2026-09-28T13:45:00Z",
        0.5,
        0.0,
        0,
        None,
        None,
        21.75,
        0.75,
        0,
        0,
        21.0,
    ),
    # Triage = owner sara 14:30. Mon 14:00 -> Tue 15:00 = 25h; bh 7 + 2. Gap Mon 14:00 -> Tue 14:00.
    "sep-storage-globus-endpoint": (
        40,
        "ops-help",
        "file-storage",
        HO,
        "2026-09-28T14:00:00Z",
        "2026-09-28T14:30:00Z",
        "2026-09-29T15:00:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        25.0,
        9.0,
        0,
        0,
        24.0,
    ),
    # Owners dave -> ivan -> Nobody -> ivan: 1. Tue 17:00 -> Wed 16:10; bh 4 + 3.17. Gap Tue 17:20 -> Wed 16:00.
    "sep-sso-tl-chain": (
        41,
        "ops-help",
        "sso-login",
        HO,
        "2026-09-29T17:00:00Z",
        "2026-09-29T17:10:00Z",
        "2026-09-30T16:10:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        23.17,
        7.17,
        1,
        0,
        22.67,
    ),
    "sep-wiki-export-pdf": (
        42,
        "ops-help",
        "wiki",
        HO,
        "2026-09-30T19:00:00Z",
        "2026-09-30T19:30:00Z",
        "2026-09-30T20:30:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        1.5,
        1.5,
        0,
        0,
        1.0,
    ),
    # ---------------------------------------------------------------- October 2026
    "oct-portal-deploy-regression": (
        43,
        "ops-help",
        "web-portal",
        UD,
        "2026-10-01T13:00:00Z",
        "2026-10-01T13:15:00Z",
        "2026-10-01T15:30:00Z",
        0.25,
        0.25,
        0,
        None,
        None,
        2.5,
        2.5,
        0,
        0,
        1.75,
    ),
    # Fri 14:00 -> Mon 14:30 = 72.5h; bh 7 + 1.5. Gap Fri 14:30 -> Mon 14:00 = 71.5.
    "oct-mail-spf-fail": (
        44,
        "ops-help",
        "mail-lists",
        HO,
        "2026-10-02T14:00:00Z",
        "2026-10-02T14:30:00Z",
        "2026-10-05T14:30:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        72.5,
        8.5,
        0,
        0,
        71.5,
    ),
    "oct-vpn-night-reset": (
        45,
        "ops-help",
        "vpn",
        UO,
        "2026-10-03T02:00:00Z",
        "2026-10-03T02:20:00Z",
        "2026-10-03T03:20:00Z",
        0.33,
        0.0,
        0,
        None,
        None,
        1.33,
        0.0,
        0,
        0,
        1.0,
    ),
    # dev-identity Tue 15:40 -> Wed 20:30 = 28h50m; bh 5.33 + 7.5. Resolve 29.5h; bh 6 + 7.5.
    # Gap Tue 15:30 -> Wed 20:00 = 28.5.
    "oct-sso-mobile-saml-handoff": (
        46,
        "dev-identity",
        "sso-login",
        HO,
        "2026-10-06T15:00:00Z",
        "2026-10-06T15:30:00Z",
        "2026-10-07T20:30:00Z",
        0.5,
        0.5,
        1,
        28.83,
        12.83,
        29.5,
        13.5,
        0,
        0,
        28.5,
    ),
    "oct-storage-permission-denied": (
        47,
        "ops-help",
        "file-storage",
        HO,
        "2026-10-07T13:20:00Z",
        "2026-10-07T13:40:00Z",
        "2026-10-07T14:00:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        0.67,
        0.67,
        0,
        0,
        0.33,
    ),
    # Triage = owner ivan 18:30. dev-identity Fri 18:40 -> Tue 15:45 = 93h05m;
    # bh Fri 2.33 + (Sat, Sun, Columbus Day: 0) + Tue 2.75. Resolve 93.75h; bh 3 + 2.75.
    # Gap Fri 19:00 -> Tue 15:00 = 92.
    "sso-columbus-day-span-handoff-announced": (
        48,
        "dev-identity",
        "sso-login",
        HO,
        "2026-10-09T18:00:00Z",
        "2026-10-09T18:30:00Z",
        "2026-10-13T15:45:00Z",
        0.5,
        0.5,
        1,
        93.08,
        5.08,
        93.75,
        5.75,
        0,
        0,
        92.0,
    ),
    # Sat -> Sun: no business hours. Gap Sat 14:30 -> Sun 18:00 = 27.5.
    "oct-wiki-weekend-outage": (
        49,
        "ops-help",
        "wiki",
        UO,
        "2026-10-10T14:00:00Z",
        "2026-10-10T14:30:00Z",
        "2026-10-11T18:30:00Z",
        0.5,
        0.0,
        0,
        None,
        None,
        28.5,
        0.0,
        0,
        0,
        27.5,
    ),
    # Ends rejected (also inactive).
    "oct-portal-rejected-not-a-problem": (
        50,
        "ops-help",
        "web-portal",
        HO,
        "2026-10-13T17:00:00Z",
        "2026-10-13T17:20:00Z",
        "2026-10-13T17:30:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        0.5,
        0.5,
        0,
        0,
        0.33,
    ),
    # dev-storage Wed 13:30-17:30 (4h), resolved until Thu 14:00 (not counted), open 14:00-16:40 (2.67).
    # Resolve: Wed 13:00 -> Thu 16:40 = 27h40m; bh 8 + 3.67. Gap Wed 13:20 -> Thu 16:00 = 26h40m.
    "storage-reopened-in-dev-queue": (
        51,
        "dev-storage",
        "file-storage",
        HO,
        "2026-10-14T13:00:00Z",
        "2026-10-14T13:20:00Z",
        "2026-10-15T16:40:00Z",
        0.33,
        0.33,
        1,
        6.67,
        6.67,
        27.67,
        11.67,
        0,
        1,
        26.67,
    ),
    "oct-mail-list-unsubscribe": (
        52,
        "ops-help",
        "mail-lists",
        HO,
        "2026-10-15T18:00:00Z",
        "2026-10-15T18:10:00Z",
        "2026-10-15T19:00:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        1.0,
        1.0,
        0,
        0,
        0.5,
    ),
    # dev-network Fri 19:40 -> Tue 15:00 = 91h20m; bh 1.33 + Mon 8 + Tue 2. Resolve 92h; bh 2 + 8 + 2.
    # Gaps: Fri 19:30 -> Mon 14:00 = 66.5; Mon 14:00 -> Tue 15:00 = 25.
    "oct-vpn-split-dns-handoff": (
        53,
        "dev-network",
        "vpn",
        HO,
        "2026-10-16T19:00:00Z",
        "2026-10-16T19:30:00Z",
        "2026-10-20T15:00:00Z",
        0.5,
        0.5,
        1,
        91.33,
        11.33,
        92.0,
        12.0,
        0,
        0,
        66.5,
    ),
    # dev-web 13:40-17:40 then bounced back to ops-help. Owners walt -> Nobody -> dave: 1.
    # Mon 13:00 -> Tue 15:00 = 26h; bh 8 + 2. Gap Mon 13:30 -> Tue 14:00 = 24.5.
    "oct-payroll-export-bounce-back-unknown-owner": (
        54,
        "ops-help",
        "payroll-export",
        HO,
        "2026-10-19T13:00:00Z",
        "2026-10-19T13:30:00Z",
        "2026-10-20T15:00:00Z",
        0.5,
        0.5,
        1,
        4.0,
        4.0,
        26.0,
        10.0,
        1,
        0,
        24.5,
    ),
    # Created 08:40 local: triage 0 bh; resolve bh 13:00-14:40 = 1.67.
    "oct-sso-outage-morning": (
        55,
        "ops-help",
        "sso-login",
        UO,
        "2026-10-21T12:40:00Z",
        "2026-10-21T12:45:00Z",
        "2026-10-21T14:40:00Z",
        0.08,
        0.0,
        0,
        None,
        None,
        2.0,
        1.67,
        0,
        0,
        1.17,
    ),
    # Thu 16:00 -> Fri 14:00 = 22h; bh 5 + 1. Gaps 1, Thu 17:00 -> Fri 13:30 = 20.5, .5.
    "oct-storage-quota-alerts": (
        56,
        "ops-help",
        "file-storage",
        UD,
        "2026-10-22T16:00:00Z",
        "2026-10-22T16:20:00Z",
        "2026-10-23T14:00:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        22.0,
        6.0,
        0,
        0,
        20.5,
    ),
    # Fri 20:00 -> Mon 14:00 = 66h; bh 1 + 1. Gap Fri 20:20 -> Mon 14:00 = 65h40m.
    "oct-wiki-macro-xss": (
        57,
        "ops-help",
        "wiki",
        HO,
        "2026-10-23T20:00:00Z",
        "2026-10-23T20:20:00Z",
        "2026-10-26T14:00:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        66.0,
        2.0,
        0,
        0,
        65.67,
    ),
    "oct-mail-night-queue": (
        58,
        "ops-help",
        "mail-lists",
        UD,
        "2026-10-25T01:30:00Z",
        "2026-10-25T01:50:00Z",
        "2026-10-25T03:30:00Z",
        0.33,
        0.0,
        0,
        None,
        None,
        2.0,
        0.0,
        0,
        0,
        1.67,
    ),
    # dev-web Mon 18:50 -> Tue 17:00 = 22h10m; bh 2.17 + 4. Resolve 22.5h; bh 2.5 + 4.
    # Gap Mon 19:30 -> Tue 17:00 = 21.5.
    "oct-portal-timeout-upload-handoff": (
        59,
        "dev-web",
        "web-portal",
        HO,
        "2026-10-26T18:30:00Z",
        "2026-10-26T18:45:00Z",
        "2026-10-27T17:00:00Z",
        0.25,
        0.25,
        1,
        22.17,
        6.17,
        22.5,
        6.5,
        0,
        0,
        21.5,
    ),
    # Triage = raj sets open 13:30. Gap 13:00 -> first reply 16:00 = 3.
    "oct-vpn-license-limit-temp-no-followup": (
        60,
        "ops-help",
        "vpn",
        UD,
        "2026-10-27T13:00:00Z",
        "2026-10-27T13:30:00Z",
        "2026-10-27T16:40:00Z",
        0.5,
        0.5,
        0,
        None,
        None,
        3.67,
        3.67,
        0,
        0,
        3.0,
    ),
    # Wed 15:00 -> Fri 19:20 = 52h20m; bh 6 + 8 + 6.33. Gap Wed 15:20 -> Fri 19:00 = 51h40m.
    "oct-sso-group-sync": (
        61,
        "ops-help",
        "sso-login",
        HO,
        "2026-10-28T15:00:00Z",
        "2026-10-28T15:20:00Z",
        "2026-10-30T19:20:00Z",
        0.33,
        0.33,
        0,
        None,
        None,
        52.33,
        20.33,
        0,
        0,
        51.67,
    ),
    # Fri 16:40 local -> Sat: 18h50m wall, 20 min of business time. Gap Fri 20:50 -> Sat 15:00 = 18h10m.
    "oct-storage-late-friday": (
        62,
        "ops-help",
        "file-storage",
        UD,
        "2026-10-30T20:40:00Z",
        "2026-10-30T20:50:00Z",
        "2026-10-31T15:30:00Z",
        0.17,
        0.17,
        0,
        None,
        None,
        18.83,
        0.33,
        0,
        0,
        18.17,
    ),
}
# fmt: on

MERGED_AWAY = {"storage-quota-merged-duplicate": 32}

TIMESTAMP_COLUMNS = ("opened_at", "triaged_at", "resolved_at")
FLOAT_COLUMNS = (
    "time_to_triage_h",
    "time_to_triage_bh",
    "time_in_handoff_h",
    "time_in_handoff_bh",
    "time_to_resolve_h",
    "time_to_resolve_bh",
    "max_update_gap_h",
)
INT_COLUMNS = ("handoff_count", "tech_lead_handoffs", "reopen_count")


def _expected_rows() -> dict[int, dict]:
    rows = {}
    for key, values in EXPECTED.items():
        row = dict(zip(COLUMNS, values, strict=True))
        row["key"] = key
        rows[row["ticket_id"]] = row
    return rows


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_utc(value):
    if _missing(value):
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC")


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    from review.analysis.metrics import compute_metrics
    from review.analysis.timeline import build_events
    from review.settings.config import load_config
    from review.snapshot.core import load_snapshot
    from scenarios.generate import generate_snapshot

    out_dir = tmp_path_factory.mktemp("sample-snapshot")
    generate_snapshot(SCENARIOS, out_dir)
    with pytest.MonkeyPatch.context() as patch:  # the documented defaults, whatever the environment
        patch.delenv("REVIEW_CONFIG", raising=False)
        config = load_config(None)
    snapshot = load_snapshot(out_dir)
    events = build_events(snapshot, config)
    table = compute_metrics(events, snapshot, config)
    if "ticket_id" not in table.columns:
        table = table.reset_index()
    table = table.assign(ticket_id=table["ticket_id"].astype(int))
    return table.set_index("ticket_id", drop=False)


def test_expected_table_is_consistent():
    """The hand-written table itself: unique ids 1..62 (minus the merged one), sane values."""
    ids = sorted(r["ticket_id"] for r in _expected_rows().values())
    assert len(ids) == len(EXPECTED) == 61
    assert sorted(ids + list(MERGED_AWAY.values())) == list(range(1, 63))
    for row in _expected_rows().values():
        opened = _as_utc(row["opened_at"])
        resolved = _as_utc(row["resolved_at"])
        assert row["time_to_resolve_h"] == pytest.approx(
            (resolved - opened).total_seconds() / 3600, abs=0.01
        ), row["key"]
        if row["triaged_at"] is not None:
            triaged = _as_utc(row["triaged_at"])
            assert row["time_to_triage_h"] == pytest.approx(
                (triaged - opened).total_seconds() / 3600, abs=0.01
            ), row["key"]
        else:
            assert row["time_to_triage_h"] is None and row["time_to_triage_bh"] is None
        for wall, business in (
            ("time_to_triage_h", "time_to_triage_bh"),
            ("time_in_handoff_h", "time_in_handoff_bh"),
            ("time_to_resolve_h", "time_to_resolve_bh"),
        ):
            if row[wall] is not None:
                assert 0 <= row[business] <= row[wall] + 0.01, (row["key"], business)
        assert (row["handoff_count"] == 0) == (row["time_in_handoff_h"] is None), row["key"]
        assert row["max_update_gap_h"] <= row["time_to_resolve_h"] + 0.01, row["key"]


def test_one_row_per_incident_and_merged_ticket_absent(metrics):
    assert sorted(metrics["ticket_id"].tolist()) == sorted(_expected_rows())
    for key, ticket_id in MERGED_AWAY.items():
        assert ticket_id not in metrics.index, key


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_sample_incident_metrics(metrics, key):
    row = dict(zip(COLUMNS, EXPECTED[key], strict=True))
    ticket_id = row["ticket_id"]
    assert ticket_id in metrics.index, f"{key}: no row for ticket {ticket_id}"
    got = metrics.loc[ticket_id]
    problems = []
    for column in ("queue", "service", "classification"):
        if got[column] != row[column]:
            problems.append(f"{column}: expected {row[column]!r}, got {got[column]!r}")
    for column in TIMESTAMP_COLUMNS:
        want, have = _as_utc(row[column]), _as_utc(got[column])
        if want != have:
            problems.append(f"{column}: expected {row[column]}, got {got[column]}")
    for column in INT_COLUMNS:
        if _missing(got[column]) or int(got[column]) != row[column]:
            problems.append(f"{column}: expected {row[column]}, got {got[column]}")
    for column in FLOAT_COLUMNS:
        want, have = row[column], got[column]
        if want is None:
            if not _missing(have):
                problems.append(f"{column}: expected None, got {have}")
        elif _missing(have) or float(have) != pytest.approx(want, abs=0.01):
            problems.append(f"{column}: expected {want}, got {have}")
    assert not problems, f"{key} (ticket {ticket_id}): " + "; ".join(problems)
