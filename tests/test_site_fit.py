"""A site unlike the defaults (tests/other_site.py): the survey of its data, what the default
config gets wrong there, and that the site's own config fits and gives the sample's numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review.analysis.survey import (
    FieldSurvey,
    Survey,
    add_field_tallies,
    add_tallies,
    field_tally,
    survey,
    tally,
    tally_parts,
)
from review.closeout.registry import load_registry
from review.context import data_problems, open_context, open_snapshot
from review.settings.config import load_config
from review.snapshot import Snapshot
from tests.other_site import CONFIG, other_site, rename, write_site_config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return other_site(tmp_path_factory.mktemp("other") / "snapshot")


@pytest.fixture(scope="module")
def site_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_site_config(tmp_path_factory.mktemp("other-config"))


@pytest.fixture(scope="module")
def snapshot(site: Path) -> Snapshot:
    return open_snapshot(site, load_config())


@pytest.fixture(scope="module")
def surveyed(snapshot: Snapshot) -> Survey:
    return survey(snapshot)


def test_the_survey_lists_queues_with_their_lifecycle_and_use(surveyed: Survey) -> None:
    rows = {
        (q.name, q.lifecycle, q.created, q.now, q.moved_in, q.moved_out) for q in surveyed.queues
    }
    # the sample's queues: 60 incidents created in ops-help, one in dev-web; 12 moves out of
    # ops-help (5 into dev-web, 3 dev-identity, 3 dev-storage, 1 dev-network), 2 back into it
    assert rows == {
        ("frontline", "incident-flow", 60, 50, 2, 12),
        ("web-team", "incident-flow", 1, 4, 5, 2),
        ("iam-team", "incident-flow", 0, 3, 3, 0),
        ("storage-team", "incident-flow", 0, 3, 3, 0),
        ("net-team", "incident-flow", 0, 1, 1, 0),
    }


def test_the_survey_lists_every_field_with_fill_counts_and_values(surveyed: Survey) -> None:
    filled = {f.name: f.filled for f in surveyed.fields}
    assert filled == {
        "Affected System": 61, "Incident Kind": 61, "Sponsor": 61, "Fix Kind": 58,
        "System Steward": 58, "Underlying Cause": 58, "Signed Off By": 6,
    }  # fmt: skip
    kind = surveyed.field("Incident Kind")
    assert kind is not None
    assert kind.values == (("Planned fix", 33), ("P2 degraded", 17), ("P1 outage", 11))
    assert surveyed.field("Fix Kind").values == (("Durable", 51), ("Workaround", 7))  # type: ignore[union-attr]
    assert surveyed.sla_levels == (("standard", 33), ("urgent", 28))


def test_the_survey_reads_each_status_role_from_rts_own_dates(surveyed: Survey) -> None:
    found = {s.name: (s.now, s.ever, s.at_creation, s.role) for s in surveyed.statuses}
    assert found == {
        # 60 created in 'new' and never started then: initial
        "received": (0, 60, 60, "initial"),
        # RT set Resolved as tickets entered them: inactive (one ticket created already closed)
        "finished": (60, 60, 1, "inactive"),
        "withdrawn": (1, 1, 0, "inactive"),
        # every ticket left them before its last close: RT's dates cannot tell
        "working": (0, 59, 0, ""),
        "on-hold": (0, 1, 0, ""),
    }


def test_with_the_default_config_every_mismatch_is_named(snapshot: Snapshot) -> None:
    problems = data_problems(snapshot, load_config(), load_registry())
    mismatches = [p.text for p in problems if p.mismatch]
    fields = (
        "fields on these tickets: Affected System (61), Incident Kind (61), Sponsor (61), "
        "Fix Kind (58), System Steward (58), Underlying Cause (58), Signed Off By (6)"
    )
    assert mismatches[:7] == [
        "[fields] service = 'Service' is on none of the 61 tickets, so the metrics column "
        f"service is not observable; {fields}",
        f"[fields] service_owner = 'Service Owner' is on none of the 61 tickets; {fields}",
        f"[fields] business_owner = 'Business Owner' is on none of the 61 tickets; {fields}",
        "[fields] classification = 'Classification' is on none of the 61 tickets, so the "
        "metrics column classification, rule missed-daily-update, checklist step 'classify the "
        "problem', checklist step '3Down updated (urgent)' and checklist step 'daily updates in "
        f"an extended outage' are not observable; {fields}",
        "[fields] resolution_type = 'Resolution Type' is on none of the 61 tickets, so rule "
        "temporary-fix-no-followup and checklist step 'temporary vs permanent resolution' are "
        f"not observable; {fields}",
        "[fields] validated_by = 'Validated By' is on none of the 61 tickets, so rule "
        "not-validated and checklist step 'validated by service and business owners' are not "
        f"observable; {fields}",
        "[fields] root_cause = 'Root Cause' is on none of the 61 tickets, so checklist step "
        f"'root cause recorded' and recurrences are not observable; {fields}",
    ]
    assert (
        "status 'finished' (now on 60 tickets, held by 60) is not in [statuses]; RT's dates say "
        "it is inactive (RT set Resolved as 60 tickets entered it): add it to statuses.inactive"
    ) in mismatches
    assert (
        "status 'received' (now on 0 tickets, held by 60) is not in [statuses]; RT's dates say it "
        "is initial (60 tickets created in it were not started, as RT does only in an initial "
        "status): add it to statuses.initial"
    ) in mismatches
    assert (
        "[statuses] inactive = resolved, rejected, deleted: no ticket is or was in any of them, so "
        "resolved_at, time_in_handoff, time_to_resolve, reopen_count and max_update_gap_h cannot "
        "be computed (every incident reads as still open); statuses now: finished (60), "
        "withdrawn (1); RT's dates say these are inactive: finished, withdrawn"
    ) in mismatches
    assert (
        "[statuses] initial = 'new' is on no ticket, so triaged_at and time_to_triage cannot "
        "count a staff move out of it; tickets were created in: received (60), finished (1)"
    ) in mismatches
    assert (
        "[queues] ops 'ops-help' holds no ticket (none created in it, moved through it or in it "
        "now), so metrics handoff_count and time_in_handoff miss the hand-offs from it; tickets "
        "were created in: frontline (60), web-team (1)"
    ) in mismatches
    kinds = [p.kind for p in problems if p.mismatch]
    assert kinds.count("status-unknown") == 5  # received, working, on-hold, finished, withdrawn
    assert {"inactive-unseen", "initial-unseen", "queue-unseen"} <= set(kinds)


def test_classification_values_never_seen_are_named_with_the_values_there(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    fields_only = tmp_path / "fields.toml"
    fields_only.write_text(CONFIG.split("[classification]")[0])
    problems = data_problems(snapshot, load_config(fields_only))
    assert [p.line() for p in problems] == [
        "mismatch: [classification] urgent_outage = 'Urgent - Outage' is never a value of "
        "Incident Kind; its values: Planned fix (33), P2 degraded (17), P1 outage (11)",
        "mismatch: [classification] urgent_degraded = 'Urgent - Degraded' is never a value of "
        "Incident Kind; its values: Planned fix (33), P2 degraded (17), P1 outage (11)",
        "mismatch: [classification] handoff = 'Hand-off' is never a value of Incident Kind; its "
        "values: Planned fix (33), P2 degraded (17), P1 outage (11)",
        "mismatch: [resolution] permanent = 'Permanent' is never a value of Fix Kind; its values: "
        "Durable (51), Workaround (7)",
        "mismatch: [resolution] temporary = 'Temporary' is never a value of Fix Kind; its "
        "values: Durable (51), Workaround (7)",
    ]
    # and the registry the config names (the sample's) is another site's
    problems = data_problems(snapshot, load_config(fields_only), load_registry())
    assert problems[-1].line() == (
        "mismatch: the registry data/services.yaml names none of the Affected System values: "
        "File Shares (11), Remote Access (10), Student Portal (10), Campus Login (9), Mailing "
        "Lists (9), Team Wiki (9), Payroll Feed (3); its services: web-portal, wiki, sso-login, "
        "vpn, file-storage, mail-lists (`review init` drafts entries for this site's services)"
    )


def test_a_value_the_config_does_not_name_is_a_mismatch(snapshot: Snapshot, tmp_path: Path) -> None:
    # P2 degraded is left out: those 17 incidents would silently read as not urgent
    config = tmp_path / "one.toml"
    config.write_text(CONFIG.replace('urgent_degraded = "P2 degraded"', 'urgent_degraded = ""'))
    assert [p.line() for p in data_problems(snapshot, load_config(config))] == [
        "mismatch: values of Incident Kind that [classification] does not name: P2 degraded "
        "(17); they are read as neither urgent nor a hand-off"
    ]


def test_the_sites_own_config_fits(snapshot: Snapshot, site_config: Path) -> None:
    config = load_config(site_config)
    problems = data_problems(snapshot, config, load_registry(config.gaps.registry))
    assert [p.line() for p in problems] == [
        f"note: Affected System values not in the registry {config.gaps.registry}: Payroll Feed "
        "(3) (rule unknown-service-owner flags their incidents)"
    ]


def test_the_sample_fits_the_defaults() -> None:
    problems = data_problems(open_snapshot(None, load_config()), load_config(), load_registry())
    assert [p.line() for p in problems] == [
        "note: Service values not in the registry data/services.yaml: payroll-export (3) (rule "
        "unknown-service-owner flags their incidents)"
    ]


def test_rules_whose_field_is_absent_are_not_observable_never_zero(site: Path) -> None:
    context = open_context(site, None)
    assert context.unobservable == {
        "temporary-fix-no-followup": "not observable (field 'Resolution Type' not on any ticket)",
        "not-validated": "not observable (field 'Validated By' not on any ticket)",
        "missed-daily-update": "not observable (field 'Classification' not on any ticket)",
    }
    assert not set(context.findings["rule"]) & set(context.unobservable)
    steps = context.checklist.set_index(["ticket_id", "step"])
    assert steps.loc[(1, "validated by service and business owners"), "state"] == "not observable"
    assert (
        steps.loc[(1, "validated by service and business owners"), "evidence"]
        == "field 'Validated By' not on any ticket"
    )


def test_with_the_sites_config_metrics_and_findings_are_the_samples(
    site: Path, site_config: Path
) -> None:
    sample = open_context(None, None)
    other = open_context(site, site_config)
    assert other.unobservable == {}
    expected = sample.metrics.assign(
        **{c: sample.metrics[c].map(rename) for c in ("queue", "service", "classification")}
    )
    pd.testing.assert_frame_equal(other.metrics, expected)
    # hand-computed on the sample (tests/test_sample_metrics.py): ticket 1 triaged after 1 h,
    # resolved 2 h after it opened; the 60 finished incidents are resolved, the withdrawn one too
    first = other.metrics.set_index("ticket_id").loc[1]
    assert (first["time_to_triage_h"], first["time_to_resolve_h"]) == (1.0, 2.0)
    assert other.metrics["resolved_at"].notna().sum() == 61
    registry = str(load_config(site_config).gaps.registry)
    found = other.findings.assign(
        evidence=other.findings["evidence"].str.replace(registry, "data/services.yaml")
    )
    expected_findings = sample.findings.assign(
        service=sample.findings["service"].map(rename),
        evidence=sample.findings["evidence"].map(rename),
    )
    pd.testing.assert_frame_equal(found, expected_findings)
    assert (
        other.findings["rule"].value_counts().to_dict()
        == sample.findings["rule"].value_counts().to_dict()
    )


def test_the_survey_adds_up_from_tallies_of_tickets_apart(snapshot: Snapshot) -> None:
    """review.derive keeps a tally per month's part and adds them up: the same survey, roles
    and queue moves included, as one pass over the whole history."""
    ids = snapshot.tickets["ticket_id"]
    tallies, fields = [], []
    for kept in (ids.iloc[::3], ids.drop(ids.index[::3])):  # a ticket lives in one part
        apart = dataclasses.replace(
            snapshot,
            tickets=snapshot.tickets.loc[ids.isin(kept)],
            transactions=snapshot.transactions.loc[snapshot.transactions["ticket_id"].isin(kept)],
        )
        tallies.append(tally(apart))
        custom = snapshot.custom_fields
        fields.append(field_tally(custom.loc[custom["ticket_id"].isin(kept)]))
    no_history = dataclasses.replace(
        snapshot,
        transactions=snapshot.transactions.iloc[0:0],
        custom_fields=snapshot.custom_fields.iloc[0:0],  # the field tallies stand for them
    )
    added = survey(no_history, tallied=add_tallies(tallies), fields=add_field_tallies(fields))
    assert added == survey(snapshot)
    found = {s.name: (s.now, s.ever, s.at_creation, s.role) for s in added.statuses}
    assert found["finished"] == (60, 60, 1, "inactive")
    assert found["received"] == (0, 60, 60, "initial")
    frontline = added.queue("frontline")
    assert frontline is not None
    assert (frontline.created, frontline.now, frontline.moved_in, frontline.moved_out) == (
        60, 50, 2, 12,
    )  # fmt: skip
    # the tallies of a batch's parts, counted in one pass: each the same as its part's alone
    part_of = pd.Series(np.arange(len(ids)) % 3 != 0, index=ids.to_numpy()).astype("int64")
    by_part = tally_parts(snapshot, part_of)
    assert sorted(by_part) == [0, 1]
    for number, alone in enumerate(tallies):
        pd.testing.assert_frame_equal(_sorted(by_part[number]), _sorted(alone))
    frontline_rows = [t.loc[t["name"] == "frontline", ["created", "moved_in"]] for t in tallies]
    # every third of 61 tickets is 21, each created in frontline; of the other 40, 39 were (60
    # in all); ticket 10 (in the first part) and 54 (in the second) moved back into it
    assert [r.values.tolist() for r in frontline_rows] == [[[21, 1]], [[39, 1]]]


def _sorted(tallied: pd.DataFrame) -> pd.DataFrame:
    return tallied.sort_values(["kind", "name"], ignore_index=True)


def test_field_tallies_count_tickets_so_two_parts_add_up_to_the_whole() -> None:
    """review.derive keeps each part's field tally: per field, the tickets that fill it (value
    "") and the tickets holding each value, so parts without a ticket in common add up."""
    rows = [
        (1, "Kind", "P1"), (1, "Kind", " P1 "), (1, "Team", "net"),  # P1 twice: one ticket
        (2, "Kind", "P2"), (2, "Team", ""),  # an empty value fills nothing
        (3, "Kind", "P1"), (3, "Kind", "P2"),  # two values of one field
    ]  # fmt: skip
    fields = pd.DataFrame(rows, columns=["ticket_id", "field", "value"])
    first, second = fields.loc[fields["ticket_id"] < 3], fields.loc[fields["ticket_id"] == 3]
    assert sorted(field_tally(first).itertuples(index=False, name=None)) == [
        ("Kind", "", 2), ("Kind", "P1", 1), ("Kind", "P2", 1), ("Team", "", 1), ("Team", "net", 1),
    ]  # fmt: skip
    assert sorted(field_tally(second).itertuples(index=False, name=None)) == [
        ("Kind", "", 1), ("Kind", "P1", 1), ("Kind", "P2", 1),
    ]  # fmt: skip
    added = add_field_tallies([field_tally(first), field_tally(second)])
    assert added.values.tolist() == [
        ["Kind", "", 3], ["Kind", "P1", 2], ["Kind", "P2", 2], ["Team", "", 1], ["Team", "net", 1],
    ]  # fmt: skip
    whole = field_tally(fields).sort_values(["field", "value"], ignore_index=True)
    pd.testing.assert_frame_equal(added, whole)
    no_fields = Snapshot(
        path=Path("x"), manifest={}, tickets=pd.DataFrame({"ticket_id": [1, 2, 3], "sla": ""}),
        transactions=pd.DataFrame(), watchers=pd.DataFrame(), custom_fields=fields.iloc[0:0],
        field_names=pd.DataFrame({"field": []}), links=pd.DataFrame(),
        queues=pd.DataFrame({"queue_id": [], "name": [], "lifecycle": []}),
        users=pd.DataFrame(),
    )  # fmt: skip
    found = survey(no_fields, tallied=add_tallies([]), fields=added).fields
    assert found == (
        FieldSurvey("Kind", 3, (("P1", 2), ("P2", 2))), FieldSurvey("Team", 1, (("net", 1),)),
    )  # fmt: skip
