"""A field the kit reads as one value per incident (the service, the classification, the
resolution type) that holds several, as a multi-value custom field in RT does: which one
counts is not known, so what reads it is not observable for that ticket, and every command
says so. Before, the values were joined ('mail-lists, web-portal'): a service no registry
names, so the registry's rules flagged it as unknown, and a classification no configured
value equals, so an urgent incident was 'not urgent'. A real RT: tests/rt/test_realsite_rt.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pandas as pd
import pytest

from review.analysis.quality import lost_inputs
from review.cli import main
from review.context import open_context
from review.pages.reports import monthly_report_data
from review.pages.reports.support import support_gaps_report
from review.settings.config import load_config, sample_snapshot
from review.snapshot import load_snapshot
from tests.edited import EXAMPLE, Rows, edited

LINE = (
    "mismatch: custom fields the kit reads as one value that hold several on ticket(s) 1, 2 "
    "(ticket 1's Service holds 2 values: mail-lists, web-portal; ticket 2's Classification "
    "holds 2 values: Urgent - Outage, Urgent - Degraded): the kit reads one value per incident "
    "(the service the registry is asked about, the urgency, the resolution type), so the rules "
    "and checklist steps that read them are not observable for those tickets (the per-service "
    "tables count such an incident under each of its services): make the field "
    "single-valued in RT, or keep one value on each ticket"
)


def _several(rows: Rows) -> None:
    for ticket in rows["tickets.jsonl"]:
        for field in ticket["CustomFields"]:
            if (ticket["id"], field["name"]) == (1, "Service"):
                field["values"] = ["mail-lists", "web-portal"]
            if (ticket["id"], field["name"]) == (2, "Classification"):
                field["values"] = ["Urgent - Outage", "Urgent - Degraded"]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return edited(sample_snapshot(), tmp_path_factory.mktemp("several") / "s", _several)


def test_several_values_are_said_and_what_reads_them_is_not_observable(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["gaps", "--snapshot", str(snapshot), "--format", "csv"])
    out, err = capsys.readouterr()
    assert f"warning: {LINE}" in err.splitlines()
    rules = {r["rule"] for r in csv.DictReader(io.StringIO(out)) if r["ticket_id"] == "1"}
    # the sample's ticket 1 (mail-lists) has four findings; the three that ask the registry
    # about its service cannot say which service
    assert rules == {"not-validated"}
    checklist = open_context(snapshot).checklist
    states = checklist.loc[checklist["ticket_id"] == 2].set_index("step")["state"]
    # urgent or not is not known: neither done nor "not applicable (not urgent)"
    assert states["classify the problem"] == "not observable"
    assert states["3Down updated (urgent)"] == "not observable"
    assert states["daily updates in an extended outage"] == "not observable"
    assert states["root cause recorded"] == "done"
    with pytest.raises(SystemExit):
        main(["check", "--no-rt", "--snapshot", str(snapshot)])
    assert LINE in capsys.readouterr().out.splitlines()


def test_the_sample_has_one_value_a_field(capsys: pytest.CaptureFixture[str]) -> None:
    main(["gaps", "--format", "csv"])
    out, err = capsys.readouterr()
    assert "several" not in err
    rules = {r["rule"] for r in csv.DictReader(io.StringIO(out)) if r["ticket_id"] == "1"}
    assert rules == {"unknown-service-owner", "ad-hoc-support-team",
                     "comms-channels-undefined", "not-validated"}  # fmt: skip


def test_an_incident_of_several_services_counts_under_each(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the support-gap table had a phantom 'mail-lists, web-portal' row (1 incident)
    and mail-lists and web-portal each counted ticket 1 less. On the sample (ticket 1 under
    mail-lists alone, with 4 findings): mail-lists 9 incidents and 39 findings, web-portal 10
    and 11. Edited, ticket 1 has 1 finding (not-validated) and counts under both."""
    main(["support-gaps", "--snapshot", str(snapshot), "--format", "csv"])
    rows = {r["service"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert "mail-lists, web-portal" not in rows
    shown = {s: (rows[s]["incidents"], rows[s]["findings"], rows[s]["gap_since"])
             for s in ("mail-lists", "web-portal")}  # fmt: skip
    assert shown == {
        "mail-lists": ("9", "36", "2026-08-01"),  # 39 - ticket 1's 4 + its 1
        "web-portal": ("11", "12", "2026-08-01"),  # + ticket 1 (opened 2026-08-01) and its 1
    }
    report = support_gaps_report(open_context(snapshot))
    assert report.summary.endswith(
        " 1 incident(s) hold several services and count under each of them, with their "
        "findings (#1: mail-lists, web-portal), so the services' counts add up to more."
    )
    assert len(report.findings) == len(open_context(snapshot).findings)  # each finding once
    by_service = report.findings_by_service.sum(axis=1)
    assert (by_service["mail-lists"], by_service["web-portal"]) == (36, 12)
    assert "mail-lists, web-portal" not in by_service
    under = report.services().findings
    assert set(under.loc[under["ticket_id"] == 1, "service"]) == {"mail-lists", "web-portal"}


def test_the_monthly_report_counts_it_under_each_service(snapshot: Path) -> None:
    """August on the sample: mail-lists 3 incidents (ticket 1 among them) with 12 findings,
    web-portal 3 with 2. Edited, ticket 1 (1 finding, not-validated) counts under both:
    mail-lists 3 and 12 - 4 + 1 = 9, web-portal 4 and 3; before, a 'mail-lists, web-portal'
    row of 1 incident, mail-lists 2."""
    report = monthly_report_data(snapshot, "2026-08")
    counts = report.counts_by_service.set_index("service")["incidents"]
    assert "mail-lists, web-portal" not in counts
    assert (counts["mail-lists"], counts["web-portal"]) == (3, 4)
    found = report.findings_by_service.set_index("service").sum(axis=1, numeric_only=True)
    assert (found["mail-lists"], found["web-portal"]) == (9, 3)
    assert (len(report.findings), len(report.service_findings)) == (55, 56)  # 58 - 3; + 1


def test_a_blank_value_is_no_second_value_and_the_values_are_shown_as_held() -> None:
    # hand-built: ticket 1's Service holds a value and a blank (one value), ticket 2's two
    # values with blanks around one, named as RT holds them
    snapshot = load_snapshot(EXAMPLE)
    cf = pd.DataFrame(
        [(1, "2", "Service", "web-portal"), (1, "2", "Service", " "), (2, "2", "Service", "lists"),
         (1, "6", "Classification", "Urgent - Outage"), (2, "2", "Service", " mail ")],
        columns=["ticket_id", "field_id", "field", "value"],
    ).astype({"value": "string"})  # fmt: skip
    lost = lost_inputs(dataclasses.replace(snapshot, custom_fields=cf), load_config(None))
    assert lost.loc[lost["kind"] == "several-values"].to_dict("records") == [
        {"ticket_id": 2, "kind": "several-values", "input": "fields.service",
         "detail": "ticket 2's Service holds 2 values: lists,  mail "},
    ]  # fmt: skip
