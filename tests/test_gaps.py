"""Gap rules on hand-made incidents (tests/fixtures/gaps), each rule firing and not firing.

The incidents and what each must show are described in
tests/fixtures/gaps/scenarios/incidents.yaml; each rule's expected findings, worked out by
hand from those timings, are in tests/rules/<rule_id>.yaml (tests/test_rules.py). Here: what
holds across rules (thresholds, row order, the per-service summary, the commands).
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from review.cli import main
from review.closeout.gaps import (
    FINDING_COLUMNS,
    REVIEW_ACTION,
    SUPPORT_COLUMNS,
    support_gaps,
)
from review.closeout.registry import Registry, load_registry
from review.closeout.rules import RULES
from review.context import Context
from review.errors import ConfigError
from review.settings.config import Config, load_config, source_dir
from review.snapshot import Snapshot, load_snapshot, read_jsonl, write_snapshot
from tests.evidence import entry
from tests.rule_cases import audit, rule_cases, sample_total

FIXTURES = Path(__file__).parent / "fixtures" / "gaps"
REG = entry(FIXTURES / "services.yaml", "beta", "tests/fixtures/gaps/services.yaml")

SERVICES = {
    2: "beta", 4: "alpha", 5: "gamma", 7: "beta", 9: "alpha", 10: "alpha", 11: "alpha", 13: "alpha",
}  # fmt: skip
CLEAN = {1, 3, 6, 8, 12}  # by the book: every rule stays silent


def fixture_findings(service: str, tickets: set[int] | None = None) -> int:
    """How many findings the rules' cases (tests/rules/) give `service`'s incidents on the
    fixture (only `tickets`, when given)."""
    return sum(
        1
        for rule in RULES
        for f in rule_cases(rule).fixture
        if SERVICES[f.ticket] == service and (tickets is None or f.ticket in tickets)
    )


@pytest.fixture(scope="module")
def snapshot_dir(gap_snapshot_dir: Path) -> Path:
    return gap_snapshot_dir


def test_findings_carry_service_severity_and_the_prescribed_action(
    findings: pd.DataFrame,
) -> None:
    assert dict(zip(findings["ticket_id"], findings["service"], strict=True)) == SERVICES
    for row in findings.itertuples():
        assert row.severity == RULES[str(row.rule)].severity
        assert row.action == RULES[str(row.rule)].action
    unknown = findings.loc[findings["rule"] == "unknown-service-owner", "action"].iloc[0]
    assert unknown.startswith("Escalate to senior staff to name the service owner")


def test_every_rule_fires_somewhere_and_clean_incidents_fire_none(
    findings: pd.DataFrame,
) -> None:
    assert set(findings["rule"]) == set(RULES)
    assert not CLEAN & set(findings["ticket_id"])


def test_thresholds_come_from_the_config(
    snapshot_dir: Path, config: Config, registry: Registry
) -> None:
    # ticket 2's longest silence is 30.7 h; ticket 4 was announced after 13.0 business hours;
    # ticket 13 is silent for weeks either way
    relaxed = replace(
        config,
        gaps=replace(config.gaps, daily_update_hours=31, handoff_announce_business_hours=13.5),
    )
    found = audit(snapshot_dir, relaxed, registry)
    for rule in ("missed-daily-update", "handoff-not-announced"):
        assert list(found.loc[found["rule"] == rule, "ticket_id"]) == [13]
    assert "(limit 31 h)" in found.loc[found["rule"] == "missed-daily-update", "evidence"].iloc[0]
    strict = replace(config, gaps=replace(config.gaps, handoff_announce_business_hours=2))
    late = audit(snapshot_dir, strict, registry)
    late = late.loc[late["rule"] == "handoff-not-announced"]
    # ticket 12: Friday 20:00Z -> Monday 14:30Z is 2.5 business hours
    assert list(late["ticket_id"]) == [4, 12, 13]
    assert "2.5 business hours later (limit 2)" in late["evidence"].iloc[1]


def test_a_permanent_team_and_lists_silence_the_registry_rules(
    snapshot_dir: Path, config: Config, tmp_path: Path, findings: pd.DataFrame
) -> None:
    text = (FIXTURES / "services.yaml").read_text()
    fixed = text.replace('service_owner: ""', "service_owner: Beta Team")
    fixed = fixed.replace("support_assignment: temporary", "support_assignment: permanent")
    fixed = fixed.replace("announce_lists: []", "announce_lists: [beta-announce@example.edu]")
    fixed = fixed.replace("support_team: [ben]", "support_team: [ben, zed]")
    path = tmp_path / "services.yaml"
    path.write_text(fixed)
    found = audit(snapshot_dir, config, load_registry(path))
    assert set(found.loc[found["ticket_id"] == 7, "rule"]) == set()
    registry_rules = {"unknown-service-owner", "ad-hoc-support-team"}
    before = list(findings.loc[findings["ticket_id"] == 2, "rule"])
    assert set(before) > registry_rules | {"comms-channels-undefined"}
    # comms-channels-undefined stays: still nobody on its Cc
    assert list(found.loc[found["ticket_id"] == 2, "rule"]) == [
        r for r in before if r not in registry_rules
    ]
    assert found.loc[found["ticket_id"] == 2, "evidence"].iloc[0] == (
        "nobody on the ticket's Cc beyond the requestors (c2)"
    )


def _shuffled_copy(source: Path, target: Path, seed: int) -> Path:
    rng = random.Random(seed)
    parts = {}
    for name in ("tickets", "transactions", "queues", "users"):
        rows = read_jsonl(source / f"{name}.jsonl")
        rng.shuffle(rows)
        parts[name] = rows
    manifest = json.loads((source / "manifest.json").read_text())
    return write_snapshot(
        target,
        parts["tickets"],
        parts["transactions"],
        parts["queues"],
        parts["users"],
        source=manifest["source"],
        query=manifest["query"],
        pulled_at=manifest["pulled_at"],
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_findings_do_not_depend_on_row_order(
    snapshot_dir: Path,
    config: Config,
    registry: Registry,
    findings: pd.DataFrame,
    tmp_path: Path,
    seed: int,
) -> None:
    shuffled = _shuffled_copy(snapshot_dir, tmp_path / "shuffled", seed)
    assert (shuffled / "tickets.jsonl").read_bytes() != (
        snapshot_dir / "tickets.jsonl"
    ).read_bytes()
    pd.testing.assert_frame_equal(audit(shuffled, config, registry), findings)
    checklists = [
        Context(s, config, stages={"registry": registry}).checklist
        for s in (load_snapshot(snapshot_dir), load_snapshot(shuffled))
    ]
    pd.testing.assert_frame_equal(*checklists)


def test_a_snapshot_without_the_validated_by_field_is_not_judged(
    snapshot_dir: Path, config: Config, registry: Registry, findings: pd.DataFrame
) -> None:
    renamed = replace(config, fields=replace(config.fields, validated_by="Signed Off By"))
    found = audit(snapshot_dir, renamed, registry)
    others = findings.loc[findings["rule"] != "not-validated"].reset_index(drop=True)
    pd.testing.assert_frame_equal(found, others)


# --------------------------------------------------------------------------- support-gaps


def _summary(
    snapshot_dir: Path, config: Config, registry: Registry, since: str | None = None
) -> pd.DataFrame:
    snapshot: Snapshot = load_snapshot(snapshot_dir)
    context = Context(snapshot, config, stages={"registry": registry})
    return support_gaps(
        context.findings, context.metrics, registry, config, since=since, today="2026-10-01"
    )


def test_support_gaps_per_service_worst_first(
    snapshot_dir: Path, config: Config, registry: Registry
) -> None:
    table = _summary(snapshot_dir, config, registry)
    assert list(table.columns) == SUPPORT_COLUMNS
    assert list(table["service"]) == ["beta", "gamma", "alpha"]  # beta: more findings
    rows = table.set_index("service")
    assert rows.loc["beta", "incidents"] == 2  # ticket 2 by its field, ticket 7 by dev-storage
    assert rows.loc["beta", "findings"] == fixture_findings("beta")
    assert rows.loc["beta", "ad-hoc-support-team"] == 2
    assert rows.loc["beta", "missed-daily-update"] == 1
    assert rows.loc["beta", "worst_severity"] == "high"
    assert rows.loc["beta", "gap_since"] == "2026-09-14"
    assert rows.loc["beta", "gap_days"] == 17
    assert rows.loc["beta", "recommended_action"] == RULES["unknown-service-owner"].action
    assert rows.loc["beta", "last_reviewed"] == "2025-01-10"
    assert bool(rows.loc["beta", "review_overdue"]) is True
    assert rows.loc["gamma", "support_assignment"] == "unregistered"
    assert rows.loc["gamma", "findings"] == fixture_findings("gamma")
    assert bool(rows.loc["gamma", "review_overdue"]) is True
    assert rows.loc["alpha", "incidents"] == 10
    assert rows.loc["alpha", "findings"] == fixture_findings("alpha")
    assert rows.loc["alpha", "worst_severity"] == "high"
    assert rows.loc["alpha", "last_incident"] == "2026-09-25"
    assert rows.loc["alpha", "gap_since"] == "2026-09-14"
    assert rows.loc["alpha", "recommended_action"] == RULES["comms-channels-undefined"].action
    assert bool(rows.loc["alpha", "review_overdue"]) is False


def test_support_gaps_since_counts_only_later_incidents(
    snapshot_dir: Path, config: Config, registry: Registry
) -> None:
    rows = _summary(snapshot_dir, config, registry, since="2026-09-16").set_index("service")
    assert rows.loc["beta", "incidents"] == 1  # ticket 7 only
    assert rows.loc["beta", "findings"] == fixture_findings("beta", {7})
    assert rows.loc["beta", "gap_since"] == "2026-09-16"
    assert "gamma" not in rows.index  # known only from its incident of 2026-09-15
    assert rows.loc["alpha", "incidents"] == 7


def test_quiet_services_still_show_an_overdue_registry_review(
    snapshot_dir: Path, config: Config, registry: Registry
) -> None:
    table = _summary(snapshot_dir, config, registry, since="2026-09-26")
    assert list(table["service"]) == ["beta", "alpha"]  # overdue review first
    rows = table.set_index("service")
    assert rows.loc["beta", "incidents"] == 0
    assert rows.loc["beta", "findings"] == 0
    assert rows.loc["beta", "recommended_action"] == REVIEW_ACTION
    assert rows.loc["alpha", "recommended_action"] == ""
    assert rows.loc["alpha", "last_incident"] is None or pd.isna(rows.loc["alpha", "last_incident"])


# --------------------------------------------------------------------------- the bundled sample

# --------------------------------------------------------------------------- command line


def test_gaps_command_on_the_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    main(["gaps", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == sample_total(list(RULES))
    assert list(rows[0]) == FINDING_COLUMNS


def test_support_gaps_command(capsys: pytest.CaptureFixture[str], snapshot_dir: Path) -> None:
    main(["support-gaps", "--snapshot", str(snapshot_dir), "--registry",
          str(FIXTURES / "services.yaml"), "--since", "2026-09-16", "--today", "2026-10-01",
          "--format", "csv"])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    # the command adds each service's recurrences (review.closeout.recurrence) after its findings
    at = SUPPORT_COLUMNS.index("findings") + 1
    assert lines[0] == ",".join([*SUPPORT_COLUMNS[:at], "recurrences", *SUPPORT_COLUMNS[at:]])
    assert [line.split(",")[0] for line in lines[1:]] == ["beta", "alpha"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--registry", "/no/such/registry.yaml"], "error: /no/such/registry.yaml: service registry not found"),
        (["--snapshot", "/no/such/snapshot"], "error: /no/such/snapshot: no snapshot here"),
    ],
)  # fmt: skip
def test_gap_commands_report_user_mistakes_in_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    for command in ("gaps", "support-gaps"):
        with pytest.raises(SystemExit) as caught:
            main([command, *args])
        assert caught.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith(message)
        assert len(err.strip().splitlines()) == 1


def test_a_broken_registry_line_stops_the_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "services.yaml"
    text = (FIXTURES / "services.yaml").read_text()
    broken.write_text(text.replace("support_assignment: temporary", "support_assignment: soon"))
    with pytest.raises(SystemExit):
        main(["gaps", "--registry", str(broken)])
    assert capsys.readouterr().err == (
        f"error: {broken}:20: support_assignment must be one of permanent, temporary, "
        "unassigned, got 'soon'\n"
    )


# --------------------------------------------------------------------------- config


def test_gaps_thresholds_default_to_the_process_and_are_checked(tmp_path: Path) -> None:
    gaps = load_config(None).gaps
    assert (gaps.daily_update_hours, gaps.handoff_announce_business_hours) == (24.0, 8.0)
    assert gaps.registry_review_days == 365
    path = tmp_path / "review.toml"
    for text, message in [
        (
            "[gaps]\ndaily_update_hours = 0\n",
            "gaps.daily_update_hours must be more than 0 and at most 8784 hours, got 0",
        ),
        ("[gaps]\ndaily_updates = 12\n", "unknown key gaps.daily_updates; allowed in [gaps]: "),
        ("[gaps]\nregistry = ''\n", "gaps.registry must name the service registry file"),
        ("[gaps]\nregistry_review_days = 'yearly'\n", "gaps.registry_review_days must be a number"),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert str(caught.value).startswith(f"{path}: {message}")
    path.write_text("[gaps]\nhandoff_announce_business_hours = 16\n")
    assert load_config(path).gaps.handoff_announce_business_hours == 16.0
    assert (
        load_config(path).gaps.registry == source_dir("data") / "services.yaml"
    )  # default stays put


def test_sample_support_gaps_for_senior_staff(
    sample_findings: pd.DataFrame, config: Config
) -> None:
    snapshot = load_snapshot(source_dir("data") / "sample")
    metrics = Context(snapshot, config).metrics
    registry = load_registry(source_dir("data") / "services.yaml")
    table = support_gaps(sample_findings, metrics, registry, config, today="2026-11-27")
    rows = table.set_index("service")
    # unknown owner first (mail-lists' registry entry names none either: more findings first);
    # then ad-hoc teams (high before medium); then lists only
    assert list(table["service"]) == [
        "mail-lists", "payroll-export", "wiki", "file-storage", "web-portal", "vpn", "sso-login",
    ]  # fmt: skip
    assert rows["incidents"].to_dict() == {
        "payroll-export": 3, "mail-lists": 9, "wiki": 9, "file-storage": 11, "web-portal": 10,
        "vpn": 10, "sso-login": 9,
    }  # fmt: skip
    assert rows["findings"].sum() == sample_total(list(RULES))
    assert rows.loc["payroll-export", "gap_since"] == "2026-08-25"
    assert rows.loc["payroll-export", "gap_days"] == 94
    assert rows["review_overdue"].to_dict() == {
        "payroll-export": True, "mail-lists": True, "wiki": True, "file-storage": False,
        "web-portal": False, "vpn": True, "sso-login": False,
    }  # fmt: skip
    assert rows.loc["vpn", "recommended_action"] == RULES["comms-channels-undefined"].action


def test_an_owner_given_at_creation_counts_as_owning_the_ticket(
    snapshot_dir: Path, config: Config, registry: Registry, tmp_path: Path
) -> None:
    """RT records no Set/Owner for an owner given when the ticket is created."""
    tickets = read_jsonl(snapshot_dir / "tickets.jsonl")
    for ticket in tickets:
        if ticket["id"] == 11:  # rejected without owner changes
            ticket["Owner"] = {**ticket["Owner"], "id": "zed"}
    manifest = json.loads((snapshot_dir / "manifest.json").read_text())
    edited = write_snapshot(
        tmp_path / "edited",
        tickets,
        read_jsonl(snapshot_dir / "transactions.jsonl"),
        read_jsonl(snapshot_dir / "queues.jsonl"),
        read_jsonl(snapshot_dir / "users.jsonl"),
        source=manifest["source"],
        query=manifest["query"],
        pulled_at=manifest["pulled_at"],
    )
    found = audit(edited, config, registry)
    eleven = found.loc[found["ticket_id"] == 11].set_index("rule")["evidence"]
    assert eleven.to_dict() == {
        "ad-hoc-support-team": "zed owned it (owner at creation) but is not in the support "
        "team [ana] of "
        + entry(FIXTURES / "services.yaml", "alpha", "tests/fixtures/gaps/services.yaml"),
        "comms-channels-undefined": "nobody on the ticket's Cc beyond the requestors (c2)",
    }  # no-owner-at-close is gone: zed owned it when it was rejected
