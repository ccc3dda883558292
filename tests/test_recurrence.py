"""Recurrences: same service and root cause within the window, in the reviews and reports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from review.cli import main
from review.closeout.recurrence import find_recurrences, recurrence_text, recurrences_by_service
from review.context import open_context
from review.pages import reports
from review.settings.config import load_config

DAY0 = pd.Timestamp("2026-01-01T12:00:00Z")


def _incidents() -> pd.DataFrame:
    rows = [  # ticket, service, root cause, day opened
        (1, "A", "Disk full", 0),
        (2, "A", " disk  FULL ", 30),  # same cause, other case and spacing: recurs 1
        (3, "A", "disk full", 130),  # 100 days after 2: outside 90
        (4, "B", "disk full", 31),  # another service
        (5, "A", "", 40),  # no root cause: cannot recur
        (6, "A", "disk full", 200),  # 70 days after 3: recurs 3 (the latest earlier one)
        (7, "C", "x", 0),
        (8, "C", "x", 90),  # exactly 90 days: within the window
    ]
    return pd.DataFrame(
        [(t, s, r, DAY0 + pd.Timedelta(days=d)) for t, s, r, d in rows],
        columns=["ticket_id", "service", "root_cause", "opened_at"],
    )


def test_a_recurrence_is_the_same_service_and_cause_within_the_window() -> None:
    found = find_recurrences(_incidents(), 90).set_index("ticket_id")
    recurs = {k: (None if pd.isna(v) else v) for k, v in found["recurrence_of"].items()}
    assert recurs == {1: None, 2: 1, 3: None, 4: None, 5: None, 6: 3, 7: None, 8: 7}
    later = {k: v for k, v in found["recurred_as"].items() if pd.notna(v)}
    assert later == {1: 2, 3: 6, 7: 8}


def test_a_shorter_window_finds_fewer() -> None:
    found = find_recurrences(_incidents(), 30)
    assert found.dropna(subset=["recurrence_of"])["ticket_id"].tolist() == [2]


def test_per_service_counts_most_recurrences_first() -> None:
    table = recurrences_by_service(find_recurrences(_incidents(), 90))
    assert table.to_dict("records") == [
        {"service": "A", "incidents": 5, "recurrences": 2, "root causes": "Disk full"},
        {"service": "C", "incidents": 2, "recurrences": 1, "root causes": "x"},
    ]


def test_no_recurrence_is_said_in_words() -> None:
    found = find_recurrences(_incidents(), 90)
    config = load_config()
    assert recurrence_text(found, 2, config) == (
        "a recurrence of ticket 1 (same service and root cause, opened 30 days earlier)"
    )
    assert recurrence_text(found, 5, config) == "cannot tell: no root cause recorded"
    assert recurrence_text(found, 4, config) == (
        "none: no incident of this service and root cause within 90 days"
    )


def _id(subject: str) -> int:
    metrics = open_context(None).metrics
    return int(metrics.loc[metrics["subject"] == subject, "ticket_id"].iloc[0])


def test_the_sample_reports_show_its_two_recurrences() -> None:
    # scenarios: the October quota warnings repeat September's quota report cause (37 days),
    # the October night mail queue repeats August's delayed list mail (74 days)
    quota, quota_before = (
        _id("Spurious quota warning emails"),
        _id("Quota report wrong for several groups"),
    )
    mail, mail_before = (
        _id("List mail stuck in the queue (Saturday night)"),
        _id("Mail to lists delayed by half an hour"),
    )
    review = reports.incident_review_data(None, quota)
    said = dict(zip(review.who_what[""], review.who_what["value"], strict=True))
    assert said["recurrence"] == (
        f"a recurrence of ticket {quota_before} (same service and root cause, "
        "opened 37 days earlier)"
    )
    before = reports.incident_review_data(None, mail_before)
    said = dict(zip(before.who_what[""], before.who_what["value"], strict=True))
    assert said["recurrence"] == f"came back as ticket {mail}"
    october = reports.monthly_report_data(None, "2026-10")
    assert october.recurrences[["service", "recurrences"]].to_dict("records") == [
        {"service": "file-storage", "recurrences": 1},
        {"service": "mail-lists", "recurrences": 1},
    ]
    assert reports.monthly_report_data(None, "2026-09").recurrences.empty
    gaps = reports.support_gaps_data(None, today="2026-11-30")
    assert gaps.table.set_index("service")["recurrences"].to_dict() == {
        "payroll-export": 0, "mail-lists": 1, "wiki": 0, "file-storage": 1,
        "web-portal": 0, "vpn": 0, "sso-login": 0,
    }  # fmt: skip
    assert gaps.recurring["service"].tolist() == ["file-storage", "mail-lists"]


def test_the_window_comes_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "review.toml"
    config.write_text("[gaps]\nrecurrence_days = 30\n")
    october = reports.monthly_report_data(None, "2026-10", config)
    assert october.recurrences.empty  # 37 and 74 days apart: neither within 30


def test_review_support_gaps_counts_them_per_service_too(tmp_path: Path) -> None:
    out = tmp_path / "support.csv"
    main(["support-gaps", "--today", "2026-11-30", "--format", "csv", "--output", str(out)])
    table = pd.read_csv(out)
    columns = list(table.columns)
    assert columns[columns.index("findings") + 1] == "recurrences"
    assert table.set_index("service")["recurrences"].to_dict() == {
        "payroll-export": 0, "mail-lists": 1, "wiki": 0, "file-storage": 1,
        "web-portal": 0, "vpn": 0, "sso-login": 0,
    }  # fmt: skip
    main(["support-gaps", "--since", "2026-10-23", "--format", "csv", "--output", str(out)])
    # only the mail queue recurrence (opened 25 October) is on or after 23 October
    since = pd.read_csv(out).set_index("service")["recurrences"]
    assert since[since > 0].to_dict() == {"mail-lists": 1}


def test_without_a_root_cause_field_recurrences_are_not_observable_never_0(
    tmp_path: Path,
) -> None:
    """A site that does not record root causes ([fields] root_cause = "") or whose field
    is named otherwise: no incident can recur, and the tables said 0 recurrences for every
    service (the sample's October has 2) as if the data had cleared them."""
    for text, why in (
        ('[fields]\nroot_cause = ""\n', "not observable ([fields] root_cause is not set)"),
        ('[fields]\nroot_cause = "Cause"\n', "not observable (field 'Cause' not on any ticket)"),
    ):
        config = tmp_path / "review.toml"
        config.write_text(text)
        gaps = reports.support_gaps_data(None, config, today="2026-11-30")
        assert set(gaps.table["recurrences"]) == {"not observable"}
        assert gaps.summary.endswith(f"; recurring incidents {why}.")
        assert gaps.recurring_table().text == f"Recurring incidents are {why}."
        october = reports.monthly_report_data(None, "2026-10", config)
        assert f"; recurrences {why}. " in october.summary
        assert october.recurrence_table().text == f"Recurrences are {why}."
        out = tmp_path / "support.csv"
        main(["support-gaps", "--config", str(config), "--format", "csv", "--output", str(out)])
        assert set(pd.read_csv(out)["recurrences"]) == {"not observable"}
    october = reports.monthly_report_data(None, "2026-10")
    assert "; 2 recurrence(s) of an earlier incident. " in october.summary


def test_an_incident_of_two_services_recurs_in_each_ones_chain() -> None:
    """An incident whose service field holds two services (a multi-value field) has a row
    for each (recurrence.opened): it recurs an earlier incident of either service and is
    recurred by a later one of either. Before, its services were one joined name that no
    other incident had: neither recurrence was found, and a later incident that recurred it
    in each of two chains crashed the `recurred_as` lookup."""
    rows = [  # ticket, service, root cause, day opened
        (1, "A", "Disk full", 0),
        (2, "B", "disk full", 5),
        (3, "A", "disk full", 10),  # ticket 3 holds A and B
        (3, "B", "disk full", 10),
        (4, "A", "disk full", 20),
        (5, "B", "disk full", 25),
    ]
    incidents = pd.DataFrame(
        [(t, s, r, DAY0 + pd.Timedelta(days=d)) for t, s, r, d in rows],
        columns=["ticket_id", "service", "root_cause", "opened_at"],
    )
    found = find_recurrences(incidents, 90)
    pairs = found.set_index(["ticket_id", "service"])
    assert pairs["recurrence_of"].fillna(0).to_dict() == {
        (1, "A"): 0, (2, "B"): 0, (3, "A"): 1, (3, "B"): 2, (4, "A"): 3, (5, "B"): 3,
    }  # fmt: skip
    assert pairs["recurred_as"].fillna(0).to_dict() == {
        (1, "A"): 3, (2, "B"): 3, (3, "A"): 4, (3, "B"): 5, (4, "A"): 0, (5, "B"): 0,
    }  # fmt: skip
    assert recurrence_text(found, 3, load_config()) == (
        "A: a recurrence of ticket 1 (same service and root cause, opened 10 days earlier); "
        "came back as ticket 4; B: a recurrence of ticket 2 (same service and root cause, "
        "opened 5 days earlier); came back as ticket 5"
    )
    table = recurrences_by_service(found)
    assert table[["service", "incidents", "recurrences"]].to_dict("records") == [
        {"service": "A", "incidents": 3, "recurrences": 2},
        {"service": "B", "incidents": 3, "recurrences": 2},
    ]


def test_the_recurrences_hold_an_incident_of_two_services_under_each(tmp_path: Path) -> None:
    """The sample's ticket 1 given two services (a multi-value Service field): the
    recurrences read it under each, not under 'mail-lists, web-portal'."""
    from review.settings.config import sample_snapshot
    from tests.edited import Rows, edited

    def two(rows: Rows) -> None:
        for ticket in rows["tickets.jsonl"]:
            for field in ticket["CustomFields"]:
                if (ticket["id"], field["name"]) == (1, "Service"):
                    field["values"] = ["mail-lists", "web-portal"]

    found = open_context(edited(sample_snapshot(), tmp_path / "s", two)).recurrences
    assert sorted(found.loc[found["ticket_id"] == 1, "service"]) == ["mail-lists", "web-portal"]
    assert found["ticket_id"].value_counts().max() == 2
    assert "," not in "".join(found["service"].astype(str))
