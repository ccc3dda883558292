"""Metrics on the snapshot dumped from a real RT 5.0.3, worked out by hand from its history
(the values: tests/metrics/<key>.yaml, under rt-example)."""

from pathlib import Path

import pandas as pd

from review.analysis.metrics import METRIC_COLUMNS, format_metrics
from review.analysis.timeline import build_events, state_segments
from review.context import Context
from review.settings.config import load_config
from review.snapshot import load_snapshot

EXAMPLE = Path(__file__).parent / "fixtures" / "rt-example"

# Ticket 1: created Tue 2026-09-08 13:05Z (09:05 EDT); dave replies 13:20Z (triage); moved
# ops-help -> dev-web 15:00Z (11:00 EDT); resolved Wed 10:10Z, reopened Thu 09:00Z, resolved Thu 12:00Z.
#   in dev-web while open: 15:00Z Tue -> 10:10Z Wed (19h10m) + 09:00Z -> 12:00Z Thu (3h) = 22.17 h;
#   business: Tue 11:00-17:00 EDT = 6 h; Wed/Thu stretches end before 09:00 EDT = 0 h.
#   resolve: 46h55m = 46.92 h; business Tue 09:05-17:00 (7.92) + Wed 8 + Thu before 09:00 (0) = 15.92.
#   owners dave -> bob: 1 change. Staff replies 13:20Z Tue, 10:05Z Wed: longest gap 13:20Z Tue ->
#   10:05Z Wed (20.75 h; Wed 10:10Z -> Thu 09:00Z it was resolved, no silence).
# Ticket 2: created by alice for cust2/cust3 Mon 2026-09-14 14:00Z; alice takes it 15:00Z (triage, 1 h);
#   alice -> Nobody -> dave: 1 change; rejected Wed 11:00Z (07:00 EDT): 45 h; business
#   Mon 10:00-17:00 EDT (7) + Tue (8) + Wed before opening (0) = 15 h. No staff reply: gap 45 h.
# Each metric's values for these two tickets, worked out above: tests/metrics/<key>.yaml.
IDENTITY = {
    1: {"queue": "dev-web", "service": "web-portal", "classification": "Urgent - Outage"},
    2: {"queue": "ops-help", "service": "lists", "classification": ""},
}


def test_metrics_of_the_real_rt_example_have_every_column_and_who_it_concerns() -> None:
    table = format_metrics(Context(load_snapshot(EXAMPLE), load_config()).metrics)
    assert list(table.columns) == METRIC_COLUMNS
    rows = table.set_index("ticket_id")
    assert rows[["queue", "service", "classification"]].to_dict("index") == IDENTITY
    assert rows.loc[1, "opened_at"] == "2026-09-08T13:05:00Z"  # format_metrics: ISO 8601 UTC


def test_events_drop_mail_copies_and_owner_twins_and_name_things() -> None:
    snapshot = load_snapshot(EXAMPLE)
    events = build_events(snapshot, load_config())
    assert not events["type"].isin(["EmailRecord", "SetWatcher"]).any()
    owner = events.loc[(events["ticket_id"] == 1) & (events["kind"] == "owner")]
    assert list(zip(owner["old"], owner["new"], strict=True)) == [
        ("Nobody", "dave"),
        ("dave", "bob"),
    ]
    queue = events.loc[events["kind"] == "queue"]
    assert list(zip(queue["old"], queue["new"], strict=True)) == [("ops-help", "dev-web")]
    fields = events.loc[events["kind"] == "field", "field"]
    assert list(fields) == ["Resolution Type", "Root Cause"]
    actors = events.loc[events["ticket_id"] == 1].set_index("txn_id")["actor"]
    assert (actors[57], actors[60], actors[62]) == ("requestor", "staff", "system")


def test_state_segments_follow_queue_status_and_owner() -> None:
    snapshot = load_snapshot(EXAMPLE)
    segments = state_segments(build_events(snapshot, load_config()), snapshot)
    one = segments.loc[segments["ticket_id"] == 1]
    # created; new->open; owner dave | moved; owner bob; resolved; reopened; resolved
    assert list(one["queue"]) == ["ops-help"] * 3 + ["dev-web"] * 5
    assert list(one["status"])[:3] == ["new", "open", "open"]
    assert one["status"].iloc[-1] == "resolved" and pd.isna(one["end"].iloc[-1])
    assert one["owner"].iloc[0] == "Nobody" and one["owner"].iloc[-1] == "bob"


def test_definitions_follow_the_configured_queues_statuses_and_calendar(tmp_path: Path) -> None:
    from review.analysis.metrics import definitions

    path = tmp_path / "site.toml"
    path.write_text(
        '[queues]\nops = ["triage", "noc"]\n'
        '[statuses]\ninactive = ["done"]\ninitial = "fresh"\n'
        '[calendar]\ntimezone = "Europe/London"\nworkdays = ["Mon", "Tue", "Wed", "Thu"]\n'
        'start = "08:00"\nend = "16:00"\nholidays_country = "GB"\nholidays_subdivision = ""\n'
    )
    default, site = definitions(load_config()), definitions(load_config(path))
    assert default["handoff_count"] == "moves from an ops queue (ops-help) into a developer queue."
    assert site["handoff_count"] == "moves from an ops queue (triage, noc) into a developer queue."
    assert "out of 'fresh'" in site["triaged_at"] and "'new'" not in site["triaged_at"]
    assert site["resolved_at"].startswith("the last move into an inactive status (done, deleted);")
    assert default["_bh"].endswith("(Mon-Fri 09:00-17:00 America/New_York, US-MA holidays off).")
    assert site["_bh"].endswith("(Mon-Thu 08:00-16:00 Europe/London, GB holidays off).")
    assert "ops-help" not in " ".join(site.values())
    assert "New_York" not in " ".join(site.values())


STILL_OPEN = """
incidents:
  - key: silent-since-monday
    subject: VPN down for a building (answered once, open at the pull)
    created: 2026-11-23T14:00:00Z
    queue: ops-help
    requestor: ann
    steps:
      - {at: 2026-11-23T14:30:00Z, by: dave, reply: "Looking into it."}
  - key: reopened-and-open
    subject: Printer queue stuck (resolved, reopened, open at the pull)
    created: 2026-11-23T14:00:00Z
    queue: ops-help
    requestor: ben
    steps:
      - {at: 2026-11-23T14:30:00Z, by: dave, reply: "Restarted the spooler."}
      - {at: 2026-11-23T15:00:00Z, by: dave, status: resolved}
      - {at: 2026-11-25T14:00:00Z, by: ben, reply: "Stuck again."}
"""


def test_the_longest_update_gap_of_an_open_incident_runs_to_the_pull(tmp_path: Path) -> None:
    """Pulled Thu 2026-11-26 14:30Z. Answered Mon 14:30Z and silent since: 72 h (it was the
    0.5 h before the answer). Resolved Mon 15:00Z, reopened by the requestor Wed 14:00Z and
    silent since: 24.5 h (the two days resolved are no silence)."""
    from scenarios.generate import generate_snapshot

    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    site = Path(__file__).parent.parent / "data" / "scenarios" / "site.yaml"
    (scenarios / "site.yaml").write_text(site.read_text())
    (scenarios / "open.yaml").write_text(STILL_OPEN)
    snap = generate_snapshot(scenarios, tmp_path / "snap", pulled_at="2026-11-26T14:30:00Z")
    metrics = Context(load_snapshot(snap), load_config(None)).metrics
    assert metrics["resolved_at"].isna().all()
    assert metrics["max_update_gap_h"].tolist() == [72.0, 24.5]


def test_every_transaction_type_gets_its_kind_and_a_set_without_a_field_is_other() -> None:
    """kinds() looks each type (and a Set's field) up once: the same kinds the event
    definitions name, `other` for the rest and for a missing type or field (a Set whose field
    is missing was a queue move when each kind was a mask over every row)."""
    from review.analysis.timeline import kinds

    rows = [
        ("Create", ""), ("Correspond", ""), ("Comment", ""), ("Status", "Status"),
        ("Set", "Status"), ("Set", "Owner"), ("Set", "Queue"), ("Set", "Subject"),
        ("Take", ""), ("Give", ""), ("Steal", ""), ("Untake", ""), ("Force", ""),
        ("CustomField", "4"), ("AddLink", ""), ("DeleteLink", ""), ("AddWatcher", ""),
        ("DelWatcher", ""), ("Told", ""), ("Set", None), (None, "Queue"),
    ]  # fmt: skip
    tx = pd.DataFrame(rows, columns=["type", "field"], dtype="string", index=range(10, 31))
    found = kinds(tx)
    assert found.dtype == "string" and list(found.index) == list(range(10, 31))
    assert found.tolist() == [
        "create", "reply", "comment", "status", "status", "owner", "queue", "other",
        "owner", "owner", "owner", "owner", "owner", "field", "link", "link", "watcher",
        "watcher", "other", "other", "other",
    ]  # fmt: skip
    assert kinds(tx.iloc[:0]).tolist() == []


def test_a_stable_sort_by_numbers_and_times_is_pandas_own() -> None:
    """frames.sort_stable orders by numpy where every key is a number, a time or a boolean,
    and leaves a key with a missing value or text to pandas (missing last): ties keep their
    order either way."""
    from review.snapshot.frames import sort_stable

    at = pd.to_datetime(
        ["2026-01-02", "2026-01-01", "2026-01-01", "2026-01-02", "2026-01-01"], utc=True
    )
    frame = pd.DataFrame(
        {"ticket": [2, 1, 2, 1, 2], "at": at, "closing": [False, True, True, False, False],
         "tag": list("abcde")}, index=[7, 8, 9, 10, 11],
    )  # fmt: skip
    assert sort_stable(frame, ["ticket", "at"])["tag"].tolist() == ["b", "d", "c", "e", "a"]
    assert sort_stable(frame, ["at", "closing"])["tag"].tolist() == ["e", "b", "c", "a", "d"]
    assert list(sort_stable(frame, ["ticket"]).index) == [0, 1, 2, 3, 4]
    with_nat = frame.assign(at=frame["at"].where(frame["tag"] != "b"))
    assert sort_stable(with_nat, ["at"])["tag"].tolist() == ["c", "e", "a", "d", "b"]
    assert sort_stable(frame, ["tag"])["tag"].tolist() == list("abcde")
    in_time = frame.sort_values("at", kind="stable")  # one sort by ticket is the whole order
    assert sort_stable(in_time, ["ticket", "at"])["tag"].tolist() == ["b", "d", "c", "e", "a"]
    for rows in (frame, in_time):
        for by in (["ticket", "at"], ["at", "closing"], ["closing"], ["ticket", "at", "closing"]):
            expected = rows.sort_values(by, kind="stable", ignore_index=True)
            pd.testing.assert_frame_equal(sort_stable(rows, by), expected)
