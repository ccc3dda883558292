"""The bundled sample carries service levels as an RT with SLA on records them.

Expected deadlines are worked by hand from data/scenarios/site.yaml's levels and the default
[calendar] (Mon-Fri 09:00-17:00 America/New_York, EDT = UTC-4 in August).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from review.analysis.attainment import attainment
from review.context import Context
from review.errors import ScenarioError
from review.settings.config import load_config, sample_snapshot, source_dir
from review.snapshot import load_snapshot, read_jsonl
from scenarios.model import load_scenarios

UNSET = "1970-01-01 00:00:00"


@pytest.fixture(scope="module")
def ids() -> dict[str, int]:
    return {i.key: i.ticket_id for i in load_scenarios(source_dir("data/scenarios")).incidents}


def sla_rows(ticket_id: int) -> list[tuple[str, str, str, str]]:
    rows = read_jsonl(sample_snapshot() / "transactions.jsonl")
    return [
        (t["Created"], t["Field"], t["OldValue"], t["NewValue"])
        for t in sorted(rows, key=lambda t: int(t["id"]))
        if t["ObjectId"] == str(ticket_id) and t["Type"] == "Set"
        and t["Field"] in ("Starts", "Due") and t["Creator"]["id"] == "RT_System"
    ]  # fmt: skip


def test_weekend_ticket_starts_monday_and_resolve_at_closing_moves_to_next_opening(
    ids: dict[str, int],
) -> None:
    # standard level. Created Sat 1 Aug 15:00Z: Starts and the clocks at Mon 3 Aug 09:00 EDT
    # (13:00Z); Response 240 business minutes -> 13:00 EDT = 17:00Z. After the staff reply,
    # Resolve 2400 minutes = 5 business days from Mon 09:00 ends exactly at Fri 17:00, closing
    # time, so it is the next opening: Mon 10 Aug 09:00 EDT = 13:00Z.
    assert sla_rows(ids["aug-mail-bounce-msgs-weekend"]) == [
        ("2026-08-01T15:00:00Z", "Starts", UNSET, "2026-08-03 13:00:00"),
        ("2026-08-01T15:00:00Z", "Due", UNSET, "2026-08-03 17:00:00"),
        ("2026-08-01T16:00:00Z", "Due", "2026-08-03 17:00:00", "2026-08-10 13:00:00"),
    ]


def test_urgent_level_comes_from_the_classification(ids: dict[str, int]) -> None:
    # Urgent - Outage at creation Mon 3 Aug 13:05Z (09:05 EDT): Response 60 -> 14:05Z; after
    # the reply Resolve 480 business minutes = one business day -> Tue 09:05 EDT = 13:05Z.
    ticket = ids["portal-outage-urgent-one-handoff-announced"]
    assert sla_rows(ticket) == [
        ("2026-08-03T13:05:00Z", "Starts", UNSET, "2026-08-03 13:05:00"),
        ("2026-08-03T13:05:00Z", "Due", UNSET, "2026-08-03 14:05:00"),
        ("2026-08-03T13:20:00Z", "Due", "2026-08-03 14:05:00", "2026-08-04 13:05:00"),
    ]
    row = next(t for t in read_jsonl(sample_snapshot() / "tickets.jsonl") if t["id"] == ticket)
    assert (row["SLA"], row["Starts"], row["Due"]) == (
        "urgent", "2026-08-03T13:05:00Z", "2026-08-04T13:05:00Z"
    )  # fmt: skip


def test_stalled_unsets_due_and_the_pause_is_added_back(ids: dict[str, int]) -> None:
    # Created Thu 6 Aug 13:00 EDT; Response 240 ends at 17:00 closing -> Fri 09:00 EDT (13:00Z).
    # Stalled Thu 13:45 EDT: both types ignore stalled, Due unset. Open Fri 10:00 EDT: paused
    # 3h15m Thursday + 1h Friday + 1 s (the change's own second) = 4h15m1s of business time;
    # Response: Thu 13:00 + 8h15m1s business = Fri 13:15:01 EDT (17:15:01Z). After the reply,
    # Resolve: 40h + 4h15m1s from Thu 13:00 = Fri 14 Aug 09:15:01 EDT (13:15:01Z).
    assert sla_rows(ids["vpn-triage-by-stalled"]) == [
        ("2026-08-06T17:00:00Z", "Starts", UNSET, "2026-08-06 17:00:00"),
        ("2026-08-06T17:00:00Z", "Due", UNSET, "2026-08-07 13:00:00"),
        ("2026-08-06T17:45:00Z", "Due", "2026-08-07 13:00:00", UNSET),
        ("2026-08-07T14:00:00Z", "Due", UNSET, "2026-08-07 17:15:01"),
        ("2026-08-07T14:05:00Z", "Due", "2026-08-07 17:15:01", "2026-08-14 13:15:01"),
    ]


def test_review_sla_with_the_default_config_reads_rts_levels() -> None:
    """No levels in the default config: the SLA field and RT's Due history alone."""
    config = load_config()
    assert config.sla.levels == ()
    table = Context(load_snapshot(sample_snapshot()), config).sla
    assert set(table["source"]) == {"rt"}
    # 33 Hand-off incidents get the default; 11 Urgent - Outage + 18 Urgent - Degraded = 29
    # urgent, less the urgent duplicate merged away (storage-quota-merged-duplicate): 28.
    assert table["sla"].value_counts().to_dict() == {"standard": 33, "urgent": 28}
    shares = attainment(table).set_index(["sla", "target"])
    assert set(shares.index) == {
        ("standard", "response"), ("standard", "resolve"), ("urgent", "response"),
        ("urgent", "resolve"), ("hand-off OLA", "handoff"),
    }  # fmt: skip
    assert (shares["met"] <= shares["n"]).all() and (shares["met"] < shares["n"]).any()


def test_stalled_ticket_deadlines_in_review_sla(ids: dict[str, int]) -> None:
    table = Context(load_snapshot(sample_snapshot()), load_config()).sla.set_index("ticket_id")
    row = table.loc[ids["vpn-triage-by-stalled"]]
    # the Due RT showed when the first staff reply came (Fri 14:05Z) and at the resolution
    assert row["response_due_at"] == pd.Timestamp("2026-08-07 17:15:01", tz="UTC")
    assert row["resolve_due_at"] == pd.Timestamp("2026-08-14 13:15:01", tz="UTC")
    assert not row["response_breached"]


def test_site_sla_naming_an_undefined_level_is_one_line(tmp_path: Path) -> None:
    site = (source_dir("data/scenarios") / "site.yaml").read_text("utf-8")
    (tmp_path / "site.yaml").write_text(site.replace("urgent, \"Urgent - Degraded\"", "gold, "
                                                     "\"Urgent - Degraded\""), "utf-8")  # fmt: skip
    with pytest.raises(ScenarioError, match="undefined level 'gold'"):
        load_scenarios(tmp_path)
