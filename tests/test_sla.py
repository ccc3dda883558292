"""review.analysis.sla: deadlines worked out by hand for the scenarios in tests/fixtures/sla.

Calendar: the defaults, Mon-Fri 09:00-17:00 America/New_York (EST, UTC-5, in November 2026:
business hours are 14:00-22:00Z), US/MA holidays (Wednesday 11 November is Veterans Day).
Levels (tests/fixtures/sla/config.toml): standard = Response 120 business minutes, Resolve
960 business minutes (both ignore `stalled` and exclude its time), KeepInLoop 1440 real
minutes; urgent (queue default of dev-web) = Response 30 and Resolve 240 real minutes.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from review.analysis.attainment import attainment, exact_interval
from review.analysis.sla import (
    SLA_COLUMNS,
    compare_due,
    due_history,
    rt_due_history,
)
from review.analysis.timeline import build_events
from review.cli import main
from review.context import Context
from review.errors import ConfigError
from review.settings.calendar import BusinessClock, add_business_seconds
from review.settings.config import load_config
from review.snapshot import Snapshot, load_snapshot
from scenarios.generate import generate_snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "sla"
CONFIG = FIXTURES / "config.toml"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return load_snapshot(generate_snapshot(FIXTURES, tmp_path_factory.mktemp("sla") / "snap"))


@pytest.fixture(scope="module")
def table(snapshot: Snapshot) -> pd.DataFrame:
    return Context(snapshot, load_config(CONFIG)).sla.set_index("ticket_id")


def test_columns_are_the_stable_interface(table: pd.DataFrame) -> None:
    assert ["ticket_id", *table.columns] == SLA_COLUMNS
    assert list(table.index) == [1, 2, 3, 4, 5, 6, 7]
    assert list(table["sla"]) == ["urgent"] + ["standard"] * 4 + ["pausable"] * 2


def test_real_minutes(table: pd.DataFrame) -> None:
    row = table.loc[1]  # created Mon 14:00Z in dev-web: the urgent level
    assert row["response_due_at"] == utc("2026-11-09 14:30")  # +30 min
    assert row["responded_at"] == utc("2026-11-09 14:20")
    assert not row["response_breached"]
    assert row["resolve_due_at"] == utc("2026-11-09 18:00")  # +240 min
    assert row["resolved_at"] == utc("2026-11-09 19:00")
    assert row["resolve_breached"]
    assert row["keep_in_loop_breaches"] == 0  # urgent has no KeepInLoop


def test_created_and_answered_out_of_hours(table: pd.DataFrame) -> None:
    row = table.loc[2]  # created Mon 18:30 local: the clock starts Tue 09:00 local
    assert row["response_due_at"] == utc("2026-11-10 16:00")  # Tue 11:00 local
    assert row["responded_at"] == utc("2026-11-10 03:00")  # Mon 22:00 local, still in time
    assert not row["response_breached"]
    # 16 business hours from Tue 09:00: Tue 8 h, Wed a holiday, Thu 8 h ends at Thu 17:00,
    # which Business::Hours gives as the next opening, Fri 09:00 local
    assert row["resolve_due_at"] == utc("2026-11-13 14:00")
    assert not row["resolve_breached"]


def test_deadline_at_closing_time_moves_past_the_holiday(table: pd.DataFrame) -> None:
    row = table.loc[3]  # created Tue 15:00 local; 2 h later is closing time
    assert row["response_due_at"] == utc("2026-11-12 14:00")  # Thu 09:00 (Wed is a holiday)
    assert row["responded_at"] == utc("2026-11-12 15:00")
    assert row["response_breached"]
    # Tue 2 h + Thu 8 h + Fri 6 h = 16 h: Fri 15:00 local
    assert row["resolve_due_at"] == utc("2026-11-13 20:00")
    assert not row["resolve_breached"]
    # staff replied Thu 15:00Z; nobody updated by Fri 15:00Z, resolved Fri 19:00Z
    assert row["keep_in_loop_breaches"] == 1
    # moved to dev-storage Thu 10:10 local, first developer action Fri 11:00 local: 8 h 50 min
    assert row["handoff_ola_breached"]


def test_requestor_reply_resets_the_response_deadline(table: pd.DataFrame) -> None:
    row = table.loc[4]
    assert row["response_due_at"] == utc("2026-11-12 16:00")  # first answer at 14:20Z: met
    assert not row["response_breached"]
    # the requestor wrote again Thu 19:00Z (14:00 local): due 16:00 local = 21:00Z; a second
    # requestor reply at 20:30Z does not move it; staff answered Fri 14:30Z: one breach
    assert row["response_breaches"] == 1
    assert not row["handoff_ola_breached"]  # moved 14:25Z, developer comment 15:00Z


def test_response_deadline_history_after_requestor_replies(snapshot: Snapshot) -> None:
    config = load_config(CONFIG)
    history = _due_history(Context(snapshot, config))
    t4 = history.loc[history["ticket_id"] == 4].set_index("at")
    assert t4.loc[utc("2026-11-12 19:00"), "response_due"] == utc("2026-11-12 21:00")
    assert t4.loc[utc("2026-11-12 20:30"), "response_due"] == utc("2026-11-12 21:00")
    # after the staff reply KeepInLoop runs: 1440 real minutes
    after = t4.loc[utc("2026-11-13 14:30"), "response_due"]
    assert (after.iloc[0] if isinstance(after, pd.Series) else after) == utc("2026-11-14 14:30")


def test_pause_in_stalled(snapshot: Snapshot, table: pd.DataFrame) -> None:
    row = table.loc[5]
    assert row["paused_h"] == 24.0  # stalled Mon 15:00Z to Tue 15:00Z
    # stalled Mon 10:00 to Tue 10:00 local is 8 business hours; Business::Hours counts the
    # seconds of the closed span [start, end], so RT adds 8 h + 1 s. Resolve = 16 h + 8 h + 1 s
    # of business time from Mon 09:00 local: Mon, Tue, Wed, then the first second of Thu.
    assert row["resolve_due_at"] == utc("2026-11-19 14:00:01")
    assert not row["resolve_breached"]
    config = load_config(CONFIG)
    history = _due_history(Context(snapshot, config))
    t5 = history.loc[history["ticket_id"] == 5].set_index("at")
    # while stalled the Resolve clock sets nothing; before the pause it was Wed 09:00 local
    assert pd.isna(t5.loc[utc("2026-11-16 15:00"), "resolve_due"])
    assert t5.loc[utc("2026-11-16 14:00"), "resolve_due"] == utc("2026-11-18 14:00")
    # KeepInLoop: reply Mon 14:30Z, next Tue 15:05Z (late), then none before Wed 20:00Z
    assert row["keep_in_loop_breaches"] == 2


def test_pauses_move_resolve_and_response(table: pd.DataFrame) -> None:
    six = table.loc[6]  # pausable level (no KeepInLoop), created Mon 09:10 local
    # 16 h from Mon 09:10 is Wed 09:10; stalled Mon 10:00-Tue 10:00 adds 8 h + 1 s
    assert six["resolve_due_at"] == utc("2026-11-19 14:10:01")
    assert not six["resolve_breached"]  # resolved Thu 14:05Z: in time only thanks to the pause
    seven = table.loc[7]  # created Tue 09:00 local, stalled 09:30-11:00 before any answer
    assert seven["response_due_at"] == utc("2026-11-17 17:30:01")  # 11:00 + 1.5 h + 1 s
    assert seven["responded_at"] == utc("2026-11-17 17:00")
    assert not seven["response_breached"]
    assert seven["paused_h"] == 1.5


def test_add_business_seconds_matches_business_hours_rules() -> None:
    clock = BusinessClock(load_config(None).calendar)
    start = pd.Series([utc("2026-11-10 20:00"), utc("2026-11-10 23:00"), utc("2026-11-14 12:00")])
    due = add_business_seconds(clock, start, np.array([7200.0, 0.0, 60.0]))
    assert list(due) == [
        utc("2026-11-12 14:00"),  # exactly closing time on Tue -> Thu opening (Wed holiday)
        utc("2026-11-12 14:00"),  # 0 minutes: RT's first_after, the next opening
        utc("2026-11-16 14:01"),  # Saturday -> Monday 09:01 local
    ]


def _due_history(context: Context) -> pd.DataFrame:
    """The Due RT's scrip would set after each trigger, on the context's stages."""
    snapshot, config = context.snapshot, context.config
    return due_history(context.events, snapshot, config, context.clock, context.segments)


def _with_rt_due(snapshot: Snapshot, config, dues: dict[int, list[str]]) -> pd.DataFrame:
    """Events with `Set Due` rows as RT writes them, one right after each trigger."""
    events = build_events(snapshot, config)
    events["txn_id"] = events["txn_id"] * 10
    history = _due_history(Context(snapshot, config, stages={"events": events}))
    rows = []
    for ticket, values in dues.items():
        triggers = history.loc[history["ticket_id"] == ticket]
        for (_, trigger), value in zip(triggers.iterrows(), values, strict=False):
            rows.append(
                {"ticket_id": ticket, "txn_id": trigger["txn_id"] + 1, "at": trigger["at"],
                 "kind": "other", "type": "Set", "field": "Due", "old": "", "new": value,
                 "creator": "RT_System", "actor": "system", "handoff": False, "data": ""}
            )  # fmt: skip
    extra = pd.DataFrame(rows).astype({"kind": "string", "actor": "string"})
    both = pd.concat([events, extra], ignore_index=True)
    return both.sort_values(["ticket_id", "at", "txn_id"]).reset_index(drop=True)


def test_rt_due_history_agreeing_and_disagreeing(snapshot: Snapshot) -> None:
    config = load_config(CONFIG)
    events = _with_rt_due(
        snapshot,
        config,
        {
            1: ["2026-11-09 14:30:00", "2026-11-09 18:00:00"],
            2: ["2026-11-10 16:00:00", "2026-11-10 17:00:00"],  # the second is wrong
        },
    )
    recorded = rt_due_history(events)
    assert list(recorded["due"])[:2] == [utc("2026-11-09 14:30"), utc("2026-11-09 18:00")]
    context = Context(snapshot, config, stages={"events": events})
    table = context.sla.set_index("ticket_id")
    assert table.loc[1, "source"] == "config+rt"
    assert table.loc[1, "rt_due_agrees"]
    assert not table.loc[2, "rt_due_agrees"]
    assert table.loc[2, "rt_due_note"] == (
        "after txn 1120 (2026-11-10T03:00:00Z): RT Due 2026-11-10T17:00:00Z, "
        "levels give 2026-11-11T03:00:00Z"
    )
    assert pd.isna(table.loc[3, "rt_due_agrees"])  # no Due from RT: nothing to compare
    check = compare_due(_due_history(context), recorded)
    assert check.loc[check["ticket_id"] == 1, "agrees"].all()


def test_rt_due_alone_gives_the_deadlines_rt_showed(snapshot: Snapshot) -> None:
    config = load_config(None)  # no levels: only what RT recorded
    events = _with_rt_due(snapshot, load_config(CONFIG), {2: ["2026-11-10 01:00:00"]})
    table = Context(snapshot, config, stages={"events": events}).sla
    assert list(table["ticket_id"]) == [2]
    row = table.iloc[0]
    assert row["source"] == "rt"
    assert row["response_due_at"] == utc("2026-11-10 01:00")  # the Due when staff replied
    assert row["responded_at"] == utc("2026-11-10 03:00")
    assert row["response_breached"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sla]\ndefault = 'gold'\n", "sla.default names level 'gold'; defined: none"),
        (
            "[sla.levels.x]\nresponse = { minutes = 5 }\n",
            "unknown key sla.levels.x.response.minutes",
        ),
        ("[sla.levels.x]\nresolve = {}\n", "sla.levels.x.resolve needs business_minutes"),
        ("[sla]\nhandoff_ola_hours = 0\n", "sla.handoff_ola_hours must be above 0"),
    ],
)
def test_bad_sla_config_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_config(path)


def test_review_sla_command(
    snapshot: Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sla.csv"
    main(["sla", "--snapshot", str(snapshot.path), "--config", str(CONFIG), "--format", "csv",
          "--output", str(out)])  # fmt: skip
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(SLA_COLUMNS)
    assert lines[3].startswith(
        "3,standard,2026-11-12T14:00:00Z,2026-11-12T15:00:00Z,True,2026-11-13T20:00:00Z,"
    )


def test_exact_interval_hand_computed() -> None:
    # Clopper-Pearson: k of n met gives [B(0.025; k, n-k+1), B(0.975; k+1, n-k)]. 8 of 10:
    # P(Bin(10, p) >= 8) = 0.025 at p = 0.443905, P(Bin(10, p) <= 8) = 0.025 at p = 0.974789
    low, high = exact_interval(np.array([8, 0, 3, 0]), np.array([10, 0, 3, 10]))
    assert low[0] == pytest.approx(0.443905, abs=1e-6)
    assert high[0] == pytest.approx(0.974789, abs=1e-6)
    assert np.isnan(low[1]) and np.isnan(high[1])  # nothing decided: no interval
    # 3 of 3: p^3 = 0.025, p = 0.292402; 0 of 10: 1 - 0.025^(1/10) = 0.308497
    assert (low[2], high[2]) == (pytest.approx(0.025 ** (1 / 3), abs=1e-12), 1.0)
    assert (low[3], high[3]) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-12))


def test_attainment_intervals_cover_95_percent_for_any_share_and_few_deadlines() -> None:
    """Exact coverage, P(low <= p <= high) summed over the binomial, for n = 1..30 and shares
    across (0, 1): at least 95% everywhere. The Wilson interval used before fell to 83.6%
    at 10 deadlines and a share of 98.2% met (and 79.4% at one deadline)."""
    from review.analysis.stats import binomial_pmf

    shares = np.concatenate([np.linspace(0.001, 0.999, 999), [0.0177, 0.9823, 0.2063]])
    for n in range(1, 31):
        met = np.arange(n + 1)
        low, high = exact_interval(met, np.full(n + 1, n))
        for p in shares:
            covered = binomial_pmf(n, p)[(low <= p) & (p <= high)].sum()
            assert covered >= 0.95 - 1e-9, (n, p, covered)


def test_attainment_per_level(table: pd.DataFrame) -> None:
    got = attainment(table.reset_index()).set_index(["sla", "target"])
    assert got.loc[("standard", "response"), ["n", "met"]].tolist() == [4, 3]  # ticket 3 late
    assert got.loc[("standard", "resolve"), ["n", "met"]].tolist() == [4, 4]
    assert got.loc[("urgent", "resolve"), ["n", "met"]].tolist() == [1, 0]
    assert got.loc[("hand-off OLA", "handoff"), ["n", "met"]].tolist() == [2, 1]
    low, high = got.loc[("standard", "response"), ["ci_low", "ci_high"]]
    # 3 of 4: P(Bin(4, p) >= 3) = 0.025 at 0.194120; 0.975^(1/4) = 0.993691
    assert (low, high) == (pytest.approx(0.194120, abs=1e-6), pytest.approx(0.993691, abs=1e-6))
    assert list(got.index.get_level_values("sla"))[-1] == "hand-off OLA"


def test_incident_review_and_monthly_report_show_the_levels(snapshot: Snapshot) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from review.pages import figures
    from review.pages.reports import incident_review_data, monthly_report_data

    review = incident_review_data(snapshot.path, 3, CONFIG)
    assert review.deadlines == {
        "response due": utc("2026-11-12 14:00"),
        "resolve due": utc("2026-11-13 20:00"),
    }
    fig = figures.review_timeline(review)
    labels = [t.get_text().strip() for t in fig.axes[0].texts]
    assert "response due" in labels and "resolve due" in labels
    report = monthly_report_data(snapshot.path, "2026-11", CONFIG, compare=0)
    assert report.sla_attainment["n"].sum() == 7 + 7 + 2
    assert incident_review_data(snapshot.path, 3).deadlines == {}  # no levels, no RT Due


def test_a_level_changed_while_a_deadline_runs_judges_it_by_the_new_level(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    """RT computes every Due with the level of its moment: a `Set SLA` while the response
    deadline runs moves it (from the same base), and the ticket is judged by what RT showed
    when the answer came. Ticket 3 (standard: response Thu 14:00Z, answered Thu 15:00Z,
    late) is moved to `relaxed` (response 7 days, resolve 14 days, real time) on Wed 12:00Z."""
    from tests.edited import edited

    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.read_text() + "\n[sla.levels.relaxed]\nresponse = { real_minutes = 10080 }\n"
        "resolve = { real_minutes = 20160 }\n"
    )

    relax = _set_sla(3, "117", "standard", "relaxed", "2026-11-11T12:00:00Z")
    changed = load_snapshot(edited(snapshot.path, tmp_path / "relaxed", relax))
    context = Context(changed, load_config(config))
    row = context.sla.set_index("ticket_id").loc[3]
    assert row["sla"] == "relaxed"
    # created Tue 2026-11-10 20:00Z: + 7 days and + 14 days of real time
    assert row["response_due_at"] == utc("2026-11-17 20:00")  # was standard's Thu 14:00Z
    assert not row["response_breached"]  # answered Thu 15:00Z (was: breached)
    assert row["resolve_due_at"] == utc("2026-11-24 20:00")
    assert not row["resolve_breached"]
    # the same Due the replay of RT's scrip gives after the change
    history = _due_history(context)
    after = history.loc[(history["ticket_id"] == 3) & (history["at"] == utc("2026-11-11 12:00"))]
    assert list(after["response_due"]) == [utc("2026-11-17 20:00")]


def _set_sla(ticket: int, create: str, old: str, new: str, at: str):  # type: ignore[no-untyped-def]
    """An edit of the snapshot's rows: a `Set SLA` from `old` to `new` on `ticket` at `at`,
    as RT writes it (`create`: the ticket's Create transaction, whose fields it copies)."""

    def edit(rows: dict[str, list[dict[str, object]]]) -> None:
        txn = next(t for t in rows["transactions.jsonl"] if t["id"] == create)
        assert (str(txn["ObjectId"]), txn["Type"]) == (str(ticket), "Create")
        rows["transactions.jsonl"].append(
            {**txn, "id": str(9000 + ticket), "Type": "Set", "Field": "SLA", "OldValue": old,
             "NewValue": new, "Created": at}
        )  # fmt: skip
        next(t for t in rows["tickets.jsonl"] if t["id"] == ticket)["SLA"] = new

    return edit


def test_time_paused_under_an_earlier_level_stays_paused(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    """Ticket 5 (standard, which ignores `stalled`) was stalled Mon 15:00Z to Tue 15:00Z,
    then moved to `urgent` (ignores nothing) on Wed 12:00Z: its clock was paused those 24 h
    (was 0: the last level was asked about the whole history)."""
    from tests.edited import edited

    urgent = _set_sla(5, "143", "standard", "urgent", "2026-11-18T12:00:00Z")
    changed = load_snapshot(edited(snapshot.path, tmp_path / "urgent", urgent))
    row = Context(changed, load_config(CONFIG)).sla.set_index("ticket_id").loc[5]
    assert row["sla"] == "urgent"
    assert row["paused_h"] == 24.0
    # resolved under urgent: 240 real minutes from its creation Mon 14:00Z
    assert row["resolve_due_at"] == utc("2026-11-16 18:00")
    assert row["resolve_breached"]


def _sla_of(tmp_path: Path, incidents: str, **generate: Any) -> pd.DataFrame:
    """The SLA table of these scripted incidents at the fixtures' site."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "site.yaml").write_text((FIXTURES / "site.yaml").read_text())
    (scenarios / "incidents.yaml").write_text(incidents)
    snapshot = load_snapshot(generate_snapshot(scenarios, tmp_path / "snap", **generate))
    table: pd.DataFrame = Context(snapshot, load_config(CONFIG)).sla
    return table


REOPENED = """
incidents:
  - key: reopened-after-ten-days
    subject: Mail relay queue stuck (resolved, reopened ten days later)
    created: 2026-11-23T14:00:00Z      # Monday 09:00 local, ops-help: level standard
    queue: ops-help
    requestor: ann
    steps:
      - {at: 2026-11-23T14:30:00Z, by: dave, reply: "Flushed the queue."}
      - {at: 2026-11-23T15:00:00Z, by: dave, status: resolved}
      - {at: 2026-12-03T15:00:00Z, by: ann, reply: "It is stuck again."}   # reopens it
      - {at: 2026-12-03T15:30:00Z, by: dave, reply: "Flushed again; disk was full."}
      - {at: 2026-12-03T16:00:00Z, by: dave, status: resolved}
"""


def test_a_reopened_ticket_owes_no_update_while_it_was_resolved(tmp_path: Path) -> None:
    """RT unsets Due when a ticket closes: the ten days a ticket stayed resolved are not a
    KeepInLoop breach (standard: 1440 real minutes), the reopening reply starts a new
    Response deadline, and Resolve runs from creation to the last resolution."""
    row = _sla_of(tmp_path, REOPENED).iloc[0]
    # KeepInLoop from the reply Mon 14:30Z ends at the close Mon 15:00Z (was: at the
    # requestor's reply ten days later, one breach); from Thu 15:30Z to the close at 16:00Z
    assert row["keep_in_loop_breaches"] == 0
    # Response: Mon 09:00 local + 2 business h = 16:00Z, met at 14:30Z; the requestor's
    # reply Thu 2026-12-03 10:00 local + 2 h = 17:00Z, met at 15:30Z
    assert row["response_due_at"] == utc("2026-11-23 16:00")
    assert row["response_breaches"] == 0
    # Resolve: 16 business hours from Mon 09:00 local end Tue 17:00, the next opening Wed
    # 09:00 local (14:00Z); the last resolution is Thu 2026-12-03: late
    assert row["resolve_due_at"] == utc("2026-11-25 14:00")
    assert row["resolve_breached"]


HANDED_BACK = """
incidents:
  - key: handed-off-and-back-then-resolved
    subject: Portal banner wrong (moved to the web developers and back, resolved in ops)
    created: 2026-11-23T14:00:00Z      # Monday 09:00 local
    queue: ops-help
    requestor: ann
    steps:
      - {at: 2026-11-23T14:10:00Z, by: dave, reply: "Looking."}
      - {at: 2026-11-23T14:20:00Z, by: dave, queue: dev-web}
      - {at: 2026-11-23T14:30:00Z, by: dave, queue: ops-help}
      - {at: 2026-11-23T15:00:00Z, by: dave, status: resolved}
  - key: handed-off-just-before-the-pull
    subject: Wiki edits lost (handed off, no developer yet at the pull)
    created: 2026-12-30T14:00:00Z      # Wednesday 09:00 local
    queue: ops-help
    requestor: ben
    steps:
      - {at: 2026-12-30T14:05:00Z, by: dave, reply: "Passing to the web developers."}
      - {at: 2026-12-30T14:10:00Z, by: dave, queue: dev-web}
"""


def test_the_handoff_ola_ends_at_a_close_and_is_undecided_while_running(tmp_path: Path) -> None:
    """Handed off Mon 09:20 local and back, resolved in ops at 10:00 with no developer act:
    0.67 business hours, met (it ran to the pull five weeks later: breached). Handed off Wed
    2026-12-30 09:10 local, nobody acted by the pull at 19:00 local: 7.83 of 8 business hours,
    still running, so undecided (it counted as met)."""
    table = _sla_of(tmp_path, HANDED_BACK, pulled_at="2026-12-31T00:00:00Z")
    table = table.set_index("ticket_id")
    back, waiting = table["handoff_ola_breached"]
    assert back is not pd.NA and not back
    assert waiting is pd.NA


ANSWERED_AS_CLOSED = """
incidents:
  - key: reopened-in-the-second-it-was-resolved
    subject: Mail relay stuck (the requestor answers in the second it is resolved)
    created: 2026-11-23T14:00:00Z      # Monday 09:00 local, ops-help: level standard
    queue: ops-help
    requestor: ann
    steps:
      - {at: 2026-11-23T14:30:00Z, by: dave, reply: "Flushed the queue."}
      - {at: 2026-11-23T15:00:00Z, by: dave, status: resolved}
      - {at: 2026-11-23T15:00:00Z, by: ann, reply: "Still stuck."}   # reopens it
      - {at: 2026-11-25T15:00:00Z, by: dave, reply: "Fixed now."}
      - {at: 2026-11-25T16:00:00Z, by: dave, status: resolved}
"""


def test_a_reply_that_reopens_in_the_second_of_the_close_starts_a_response_deadline(
    tmp_path: Path,
) -> None:
    """Resolved Mon 15:00:00Z and reopened by ann's reply in the same second (txn order:
    close, reply, RT_System's reopen): her Response runs from Mon 10:00 local, due 12:00
    local (17:00Z), answered Wed 15:00Z: a breach. The close of that second was taken as
    ending it (a close at or after the reply by time), so it counted none; one second later
    it counted one."""
    row = _sla_of(tmp_path, ANSWERED_AS_CLOSED).iloc[0]
    assert row["response_due_at"] == utc("2026-11-23 16:00")  # the first: met at 14:30Z
    assert not row["response_breached"]
    assert row["response_breaches"] == 1
    assert row["keep_in_loop_breaches"] == 0  # dave's replies: each closed within the day
