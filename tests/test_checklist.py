"""The process checklist on the hand-made incidents of tests/fixtures/gaps (see their comments)."""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

import review.closeout.steps as steps_package
from review.analysis.timeline import build_events
from review.closeout.checklist import CHECKLIST_COLUMNS, audit_checklist
from review.closeout.registry import Registry, parse_registry
from review.closeout.step import STATES, Step
from review.closeout.steps import STEPS
from review.context import Context
from review.settings.config import Config
from review.snapshot import Snapshot, load_snapshot
from tests.evidence import entry, unpin_frame

FIXTURES = Path(__file__).parent / "fixtures" / "gaps"
ALPHA = entry(FIXTURES / "services.yaml", "alpha", "tests/fixtures/gaps/services.yaml")
BETA = entry(FIXTURES / "services.yaml", "beta", "tests/fixtures/gaps/services.yaml")


@pytest.fixture(scope="module")
def snapshot(gap_snapshot_dir: Path) -> Snapshot:
    return load_snapshot(gap_snapshot_dir)


def run(snapshot: Snapshot, config: Config, registry: Registry) -> pd.DataFrame:
    return Context(snapshot, config, stages={"registry": registry}).checklist


@pytest.fixture(scope="module")
def table(snapshot: Snapshot, config: Config, registry: Registry) -> pd.DataFrame:
    """The checklist, its transaction ids checked against the events and left out."""
    return unpin_frame(run(snapshot, config, registry), build_events(snapshot, config))


def rows(table: pd.DataFrame, ticket: int) -> dict[str, tuple[str, str]]:
    one = table.loc[table["ticket_id"] == ticket]
    return {r.step: (r.state, r.evidence) for r in one.itertuples()}


def test_one_row_per_incident_and_step_in_process_order(table: pd.DataFrame) -> None:
    assert list(table.columns) == CHECKLIST_COLUMNS
    assert len(table) == 13 * len(STEPS)
    for _, one in table.groupby("ticket_id"):
        assert list(one["step"]) == list(STEPS)
    assert set(table["state"]) <= set(STATES)
    assert (table["how_to_observe"] != "").all()


def test_every_step_is_one_documented_module_in_process_order() -> None:
    modules = sorted(p.stem for p in Path(steps_package.__file__).parent.glob("[!_]*.py"))
    found = {}
    for name in modules:
        module = importlib.import_module(f"review.closeout.steps.{name}")
        declared = [v for v in vars(module).values() if isinstance(v, Step)]
        assert len(declared) == 1, f"{module.__name__} declares one step"
        assert declared[0].doc == module.__doc__ and declared[0].doc.split("\n\n")[1].strip()
        found[declared[0].label] = declared[0]
    assert found == dict(STEPS)
    orders = [s.order for s in STEPS.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


# ticket 1, by the book: what each step shows (a step added later must be done or n/a too)
CLEAN_OUTAGE = {
    "classify the problem": ("done", "custom field 'Classification' is 'Urgent - Outage' (set at creation)"),
    "identify the service owner": ("done", "custom field 'Service Owner' is 'Alpha Team'"),
    "ops-help informed": ("done", "created in ops-help by txn"),
    "Tech Lead assigned": ("done", "owner set to ana by txn at 2026-09-14T13:20:00Z"),
    "Recipient List and Help Desk in the loop": ("done", "Cc: 3down@example.edu, alpha-announce@example.edu, helpdesk@example.edu; Help Desk list helpdesk@example.edu is a watcher"),
    "3Down updated (urgent)": ("done", "3down@example.edu is a watcher, so staff replies reach 3Down"),
    "daily updates in an extended outage": ("not applicable", "open 6.2 h, not more than 24 h"),
    "root cause recorded": ("done", "custom field 'Root Cause' is 'disk full' (set by txn at 2026-09-14T19:00:00Z)"),
    "validated by service and business owners": ("done", "custom field 'Validated By' is 'c1' (set by txn at 2026-09-14T19:00:00Z)"),
    "temporary vs permanent resolution": ("done", "custom field 'Resolution Type' is 'Permanent' (set by txn at 2026-09-14T19:00:00Z)"),
    "hand-off announced with estimates": ("done", "moved ops-help -> dev-web by txn at 2026-09-14T13:30:00Z; first staff reply after it is txn at 2026-09-14T14:00:00Z, 0.5 business hours later (limit 8)"),
    "close-out records": ("done", f"{ALPHA} records an owner, a permanent support team and its lists"),
}  # fmt: skip


def test_the_clean_outage_is_done_throughout(table: pd.DataFrame) -> None:
    steps = rows(table, 1)
    assert {state for state, _ in steps.values()} <= {"done", "not applicable"}
    assert {k: steps[k] for k in CLEAN_OUTAGE} == CLEAN_OUTAGE


def test_missing_steps_carry_the_evidence(table: pd.DataFrame) -> None:
    beta = rows(table, 2)
    assert beta["identify the service owner"] == (
        "missing",
        f"custom field 'Service Owner' is empty and {BETA} has no service_owner",
    )
    assert beta["daily updates in an extended outage"] == (
        "missing",
        "no staff update for 30.7 h (limit 24 h) between txn at 2026-09-14T13:20:00Z "
        "and txn at 2026-09-15T20:00:00Z",
    )
    assert beta["3Down updated (urgent)"] == (
        "missing",
        "3down@example.edu is not a watcher of this urgent ticket",
    )
    assert beta["Recipient List and Help Desk in the loop"] == (
        "missing",
        "nobody on the ticket's Cc beyond the requestors; "
        "Help Desk list helpdesk@example.edu is not a watcher",
    )
    assert beta["close-out records"][0] == "missing"
    assert beta["close-out records"][1].startswith("unknown-service-owner: custom field")
    assert " | ad-hoc-support-team: support_assignment is temporary" in beta["close-out records"][1]
    late = rows(table, 4)
    assert late["Tech Lead assigned"] == ("missing", "the owner was Nobody throughout")
    assert late["hand-off announced with estimates"][0] == "missing"
    assert "13.0 business hours later (limit 8)" in late["hand-off announced with estimates"][1]
    dead = rows(table, 9)
    assert dead["temporary vs permanent resolution"] == (
        "missing",
        "custom field 'Resolution Type' is Temporary (set by txn at 2026-09-17T13:30:00Z); "
        "follow-up #10 (depends-on) is closed with Resolution Type '', not Permanent",
    )
    assert rows(table, 10)["temporary vs permanent resolution"] == (
        "missing",
        "custom field 'Resolution Type' is empty",
    )


def test_steps_that_do_not_apply(table: pd.DataFrame) -> None:
    rejected = rows(table, 11)
    for step in (
        "root cause recorded",
        "validated by service and business owners",
        "temporary vs permanent resolution",
    ):
        assert rejected[step] == ("not applicable", "rejected: not a problem")
    open_followup = rows(table, 8)
    assert open_followup["validated by service and business owners"] == (
        "not applicable",
        "still open",
    )
    assert open_followup["root cause recorded"] == ("not applicable", "still open")
    assert open_followup["ops-help informed"] == (
        "missing",
        "created in dev-web by txn, never in an ops queue (ops-help)",
    )
    assert rows(table, 12)["3Down updated (urgent)"] == (
        "not applicable",
        "classified Hand-off, not urgent",
    )
    temp_ok = rows(table, 6)["temporary vs permanent resolution"]
    assert temp_ok == (
        "done",
        "custom field 'Resolution Type' is 'Temporary' (set by txn at 2026-09-16T14:00:00Z); "
        "follow-up linked: refers-to 8",
    )
    assert rows(table, 3)["daily updates in an extended outage"] == (
        "done",
        "no gap of more than 24 h between staff replies",
    )


def test_without_a_3down_or_helpdesk_address_those_steps_are_not_observable(
    snapshot: Snapshot, config: Config
) -> None:
    text = (FIXTURES / "services.yaml").read_text()
    text = text.replace("helpdesk_list: helpdesk@example.edu\n", "")
    text = text.replace("threedown_list: 3down@example.edu\n", "")
    table = run(snapshot, config, parse_registry(text, "services.yaml"))
    clean = table.loc[table["ticket_id"] == 1].set_index("step")
    assert clean.loc["3Down updated (urgent)", "state"] == "not observable"
    assert (
        "set threedown_list in the registry"
        in clean.loc["3Down updated (urgent)", "how_to_observe"]
    )
    recipients = clean.loc["Recipient List and Help Desk in the loop"]
    assert recipients["state"] == "not observable"
    assert recipients["evidence"].endswith("; the Help Desk list is not in the registry")
    assert "set helpdesk_list in the registry" in recipients["how_to_observe"]
    handoff = table.loc[table["ticket_id"] == 4].set_index("step")
    assert handoff.loc["3Down updated (urgent)", "state"] == "not applicable"


def test_a_field_rt_does_not_have_is_not_observable(
    snapshot: Snapshot, config: Config, registry: Registry
) -> None:
    renamed = replace(config, fields=replace(config.fields, root_cause="Cause Analysis"))
    table = run(snapshot, renamed, registry)
    step = table.loc[table["step"] == "root cause recorded"]
    assert set(step["state"]) == {"not observable"}
    assert set(step["evidence"]) == {"field 'Cause Analysis' not on any ticket"}
    assert set(step["how_to_observe"]) == {
        "set [fields] root_cause to the site's field (`review init` lists them), or add a "
        "ticket custom field 'Cause Analysis' to the ops and developer queues"
    }


def test_urgent_steps_are_not_observable_without_the_classification_field(
    snapshot: Snapshot, config: Config, registry: Registry
) -> None:
    unset = replace(config, fields=replace(config.fields, classification=""))
    table = run(snapshot, unset, registry)
    for step in (
        "classify the problem",
        "3Down updated (urgent)",
        "daily updates in an extended outage",
    ):
        rows = table.loc[table["step"] == step]
        assert set(rows["state"]) == {"not observable"}, step
        assert set(rows["evidence"]) == {"[fields] classification is not set"}, step


def test_checklist_for_one_ticket(
    snapshot: Snapshot, config: Config, registry: Registry, table: pd.DataFrame
) -> None:
    """A review's checklist is computed on its part of the snapshot (Context.around)."""
    whole = Context(snapshot, config, stages={"registry": registry})
    for ticket in (4, 9, 13):  # 9 links to 10, whose state decides its resolution step
        part = whole.around({ticket})
        found = part.checklist.loc[part.checklist["ticket_id"] == ticket].reset_index(drop=True)
        one = unpin_frame(found, whole.events)
        expected = table.loc[table["ticket_id"] == ticket].reset_index(drop=True)
        pd.testing.assert_frame_equal(one, expected)


def test_an_incident_still_open_at_the_snapshot(table: pd.DataFrame) -> None:
    silent = rows(table, 13)
    assert silent["daily updates in an extended outage"] == (
        "missing",
        "no staff update for 881.0 h (limit 24 h) between txn at 2026-09-25T13:00:00Z "
        "and the snapshot at 2026-11-01T06:00:00Z (still open)",
    )
    assert silent["hand-off announced with estimates"] == (
        "missing",
        "moved ops-help -> dev-web by txn at 2026-09-25T13:30:00Z; no staff reply after it",
    )
    assert silent["Tech Lead assigned"] == ("missing", "the owner was Nobody throughout")
    for step in ("validated by service and business owners", "temporary vs permanent resolution"):
        assert silent[step] == ("not applicable", "still open")


def test_given_findings_give_the_same_checklist(
    snapshot: Snapshot, config: Config, registry: Registry
) -> None:
    context = Context(snapshot, config, stages={"registry": registry})
    full = context.checklist
    pd.testing.assert_frame_equal(audit_checklist(context.audit, context.findings), full)
    none_found = audit_checklist(context.audit, context.findings.iloc[:0])
    assert (none_found["state"] == "missing").sum() < (
        full["state"] == "missing"
    ).sum()  # they are used
