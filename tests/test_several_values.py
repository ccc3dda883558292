"""A field the kit reads as one value per incident (the service, the classification, the
resolution type) that holds several, as a multi-value custom field in RT does: which one
counts is not known, so what reads it is not observable for that ticket, and every command
says so. Before, the values were joined ('mail-lists, web-portal'): a service no registry
names, so the registry's rules flagged it as unknown, and a classification no configured
value equals, so an urgent incident was 'not urgent'. A real RT: tests/rt/test_realsite_rt.py.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from review.cli import main
from review.context import open_context
from review.settings.config import sample_snapshot
from tests.edited import Rows, edited

LINE = (
    "mismatch: custom fields the kit reads as one value that hold several on ticket(s) 1, 2 "
    "(ticket 1's Service holds 2 values: mail-lists, web-portal; ticket 2's Classification "
    "holds 2 values: Urgent - Outage, Urgent - Degraded): the kit reads one value per incident "
    "(the service the registry is asked about, the urgency, the resolution type), so the rules "
    "and checklist steps that read them are not observable for those tickets: make the field "
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
