"""A site's first hour on the command line: `review init` drafts a config from its data,
`review check` says what does not fit, every command warns (or, strict, refuses), and the
draft completed by hand fits and gives the sample's numbers (tests/other_site.py)."""

from __future__ import annotations

import html
import json
import re
import tomllib
from pathlib import Path

import pytest

from review.cli import main
from review.closeout.rules import RULES
from review.settings.config import load_config
from tests.edited import Rows, edited
from tests.other_site import other_site, registry, rename
from tests.rule_cases import sample_total


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return other_site(tmp_path_factory.mktemp("other") / "snapshot")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one `review` command."""
    try:
        main(args)
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def complete(draft: str) -> str:
    """What a person does with the draft: take each suggestion under a CHOOSE line."""
    return re.sub(r"(# CHOOSE [^\n]*\n)# ", r"\1", draft)


def test_init_drafts_a_commented_config_and_registry_from_a_snapshot(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["init", "--snapshot", str(site), "--output", str(tmp_path / "r.toml")], capsys
    )
    assert code == 0, err
    text = (tmp_path / "r.toml").read_text()
    # what the evidence makes clear is filled in
    assert 'ops = ["frontline"]  # 60 of 61 tickets were created in it' in text
    assert 'developer = ["web-team", "iam-team", "storage-team", "net-team"]' in text
    assert 'initial = "received"  # tickets start in it' in text
    assert 'inactive = ["finished", "withdrawn"]  # RT counts them inactive' in text
    assert 'rejected = ["withdrawn"]' in text
    # every field is listed with its fill count and values; unclear keys stay open
    assert (
        "#   Incident Kind: filled on 61 tickets; 3 values: Planned fix (33), P2 degraded (17), P1 outage (11)"
        in text
    )
    assert "# CHOOSE service: candidates by name: Affected System, System Steward" in text
    assert '\n# service = "Affected System"\n' in text
    assert '\n# urgent_outage = "P1 outage"\n' in text
    assert "# CHOOSE active: RT's records do not say whether on-hold, working are" in text
    assert (
        "#   finished: 60 now, 60 held it; inactive: RT set Resolved as 60 tickets entered it"
        in text
    )
    assert "SLA levels on the tickets: standard (33), urgent (28)" in text
    tomllib.loads(text)  # valid TOML as drafted
    services = (tmp_path / "services.yaml").read_text()
    assert '  - service: "File Shares"  # 11 ticket(s)' in services
    assert services.count("  - service: ") == 7
    assert "wrote" in err and "19 key(s) left open" in err
    # a draft as written loads: the open keys keep the kit's defaults
    assert load_config(tmp_path / "r.toml").queues.ops == ("frontline",)


def test_init_leaves_the_calendar_open_since_no_data_tells_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RT's records are UTC times: a draft must not call itself complete while the team's
    business hours are the kit's New York ones. Completed for a team in Kathmandu (UTC+5:45,
    no holidays), the real RT example's ticket 1 (opened Tue 2026-09-08 13:05Z = 18:50 local,
    closed Thu 2026-09-10 12:00Z = 17:45 local) took Wed and Thu 09:00-17:00: 16 business
    hours, where New York's calendar gives 15.92."""
    example = Path(__file__).parent / "fixtures" / "rt-example"
    config = tmp_path / "review.toml"
    code, _, err = run(["init", "--snapshot", str(example), "--output", str(config)], capsys)
    assert code == 0, err
    assert "every key filled" not in err
    assert "calendar.timezone, calendar.workdays, calendar.start, calendar.end, " in err
    assert "calendar.holidays_country, calendar.holidays_subdivision" in err
    text = config.read_text()
    assert "# CHOOSE timezone: the IANA zone of the team's hours (RT's $Timezone)" in text
    assert "until set, the kit's default applies, America/New_York 09:00-17:00" in text
    completed = complete(text).replace('"America/New_York"', '"Asia/Kathmandu"')
    config.write_text(
        completed.replace('holidays_country = "US"', 'holidays_country = ""').replace(
            'holidays_subdivision = "MA"', 'holidays_subdivision = ""'
        )
    )
    code, out, err = run(
        ["metrics", "--snapshot", str(example), "--config", str(config), "--format", "json"],
        capsys,
    )
    assert code == 0, err
    first = json.loads(out)[0]
    assert (first["ticket_id"], first["time_to_resolve_bh"]) == (1, 16.0)


def test_init_takes_no_empty_field_for_the_kits_because_of_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site whose services are in 'Affected Service' and whose old 'Service' field is still
    on the tickets, never filled: the kit's name is no evidence then. Drafted as 'the kit's
    name for it', every incident had no service: on the sample so edited, with its registry,
    50 unknown-service-owner findings, not 12, and `review check` only noted the field was
    empty."""

    def moved(rows: Rows) -> None:
        for ticket in rows["tickets.jsonl"]:
            for found in ticket["CustomFields"]:
                if found["name"] == "Service":
                    found["name"] = "Affected Service"
            ticket["CustomFields"].append({"id": "12", "name": "Service", "values": []})

    example = Path(__file__).parent / "fixtures" / "rt-example"
    snapshot = edited(example, tmp_path / "snapshot", moved)
    config = tmp_path / "review.toml"
    code, _, err = run(["init", "--snapshot", str(snapshot), "--output", str(config)], capsys)
    assert code == 0, err
    assert "left open (fields.service, " in err
    text = config.read_text()
    assert (
        "# CHOOSE service: Service is on the tickets but never filled, Affected Service is; "
        "candidates by name: Affected Service, Service" in text
    )
    assert '\n# service = "Affected Service"\n' in text
    assert 'service_owner = "Service Owner"  # the kit\'s name for it' in text
    assert '  - service: "web-portal"  # 1 ticket(s)' in (tmp_path / "services.yaml").read_text()


def test_init_never_overwrites_without_force(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "review.toml"
    (tmp_path / "services.yaml").write_text("mine\n")
    code, _, err = run(["init", "--snapshot", str(site), "--output", str(config)], capsys)
    assert code == 1
    assert err == (
        f"error: {tmp_path / 'services.yaml'} exists; nothing was written: pass --force to "
        f"replace {tmp_path / 'services.yaml'}, or --output a file in another folder\n"
    )
    assert not config.exists() and (tmp_path / "services.yaml").read_text() == "mine\n"
    code, _, _ = run(["init", "--snapshot", str(site), "--output", str(config), "--force"], capsys)
    assert code == 0 and config.is_file()
    assert (tmp_path / "services.yaml").read_text() != "mine\n"


def test_check_names_each_mismatch_of_the_default_config(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["check", "--snapshot", str(site), "--no-rt"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert sum(line.startswith("mismatch: ") for line in lines) == 16
    assert lines[0].startswith(
        "mismatch: [fields] service = 'Service' is on none of the 61 tickets"
    )
    assert (
        "mismatch: status 'withdrawn' (now on 1 ticket, held by 1) is not in [statuses]; RT's "
        "dates say it is inactive (RT set Resolved as 1 ticket entered it): add it to "
        "statuses.inactive"
    ) in lines
    assert err == (
        "error: the config does not fit the data: 16 mismatch(es) above (`review init` drafts "
        "a config from the data)\n"
    )


def test_every_command_warns_and_strict_refuses(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["metrics"], ["gaps"], ["support-gaps"], ["sla"]):
        code, _, err = run([*command, "--snapshot", str(site)], capsys)
        assert code == 0, command
        warnings = err.splitlines()
        assert warnings[0].startswith(
            "warning: mismatch: [fields] service = 'Service' is on none of the 61 tickets"
        ), command
        assert warnings[10] == "warning: ... and 6 more mismatches: `review check` lists them"
    code, out, err = run(["metrics", "--snapshot", str(site), "--strict"], capsys)
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == (
        "error: 16 mismatch(es) between the config and the data (listed above; `review check` "
        "shows them all): fix the config, or run without --strict ([check] strict) to compute "
        "anyway"
    )
    strict = tmp_path / "strict.toml"
    strict.write_text("[check]\nstrict = true\n")
    code, out, _ = run(["gaps", "--snapshot", str(site), "--config", str(strict)], capsys)
    assert (code, out) == (1, "")
    # the sample fits the defaults: no warning at all, and --strict computes
    code, out, err = run(["metrics", "--strict", "--format", "csv"], capsys)
    assert code == 0 and err == "" and out.startswith("ticket_id,")


def test_a_rule_that_cannot_see_is_not_observable_never_zero(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["support-gaps", "--snapshot", str(site), "--format", "json"], capsys)
    rows = json.loads(out)
    for rule in ("temporary-fix-no-followup", "not-validated", "missed-daily-update"):
        assert {row[rule] for row in rows} == {"not observable"}, rule
    assert {row["never-triaged"] for row in rows} == {2, 0}  # a rule that can see counts


def test_the_draft_completed_by_hand_fits_and_gives_the_samples_numbers(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "review.toml"
    run(["init", "--snapshot", str(site), "--output", str(config)], capsys)
    config.write_text(complete(config.read_text()))
    (tmp_path / "services.yaml").write_text(registry())  # Operations fills in the entries
    code, out, err = run(
        ["check", "--snapshot", str(site), "--config", str(config), "--no-rt"], capsys
    )
    assert code == 0, out
    assert out == (
        f"note: Affected System values not in the registry {tmp_path / 'services.yaml'}: "
        "Payroll Feed (3) (rule unknown-service-owner flags their incidents)\n"
    )
    assert err == "the config fits the data (1 note(s) above)\n"
    code, site_metrics, err = run(
        [
            "metrics",
            "--snapshot",
            str(site),
            "--config",
            str(config),
            "--format",
            "json",
            "--strict",
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    _, sample_metrics, _ = run(["metrics", "--format", "json"], capsys)
    expected = json.loads(sample_metrics)
    for row in expected:
        for column in ("queue", "service", "classification"):
            row[column] = rename(row[column])
    assert json.loads(site_metrics) == expected
    _, site_gaps, _ = run(
        ["gaps", "--snapshot", str(site), "--config", str(config), "--format", "json"], capsys
    )
    _, sample_gaps, _ = run(["gaps", "--format", "json"], capsys)
    where = str(tmp_path / "services.yaml")
    found = [{**row, "evidence": row["evidence"].replace(where, "data/services.yaml")}
             for row in json.loads(site_gaps)]  # fmt: skip
    assert found == [
        {**row, "service": rename(row["service"]), "evidence": rename(row["evidence"])}
        for row in json.loads(sample_gaps)
    ]
    assert len(found) == sample_total(list(RULES))  # each rule's hand-written cases (tests/rules)


def test_site_text_in_a_draft_stays_in_its_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value with a line break (RT takes it) must not become a config line."""
    import tests.other_site as other

    hostile = "Planned fix\n[queues]\nops = ['pwned']"
    values = {
        **other.VALUES,
        "Classification": {**other.VALUES["Classification"], "Hand-off": hostile},
    }
    original = other.VALUES
    other.VALUES = values
    try:
        snapshot = other.other_site(tmp_path / "hostile")
    finally:
        other.VALUES = original
    code, _, _ = run(
        ["init", "--snapshot", str(snapshot), "--output", str(tmp_path / "r.toml")], capsys
    )
    assert code == 0
    text = (tmp_path / "r.toml").read_text()
    assert "pwned" not in tomllib.loads(complete(text)).get("queues", {}).get("ops", [])
    assert "Planned fix\\n[queues]\\nops = ['pwned']" in text


def test_every_page_shows_the_data_quality_note(site: Path) -> None:
    from review.pages.reports import incident_review_data, monthly_report_data, support_gaps_data

    pages = {
        "incident": incident_review_data(site, 10),
        "monthly": monthly_report_data(site, "2026-08"),
        "support": support_gaps_data(site, today="2026-11-30"),
    }
    for name, page in pages.items():
        note = page.data_quality()
        shown = repr(note)
        assert shown.startswith(
            "Data quality: the config does not fit this data in 16 way(s), so numbers below may "
            "be wrong or missing"
        ), name
        assert "- status 'finished' (now on 60 tickets, held by 60) is not in [statuses]" in shown
        assert (
            "- rule not-validated: not observable (field 'Validated By' not on any ticket)" in shown
        )
        html = note._repr_html_()
        assert html.startswith('<div role="alert"') and "status &#x27;finished&#x27;" in html
    monthly = pages["monthly"]
    assert monthly.summary.startswith(  # type: ignore[attr-defined]
        "The config does not fit the data in 16 way(s): see the data-quality note."
    )
    by_rule = monthly.findings_by_rule.set_index("rule")["findings"]  # type: ignore[attr-defined]
    assert by_rule["not-validated"] == "not observable (field 'Validated By' not on any ticket)"
    counts = pages["support"].rule_counts  # type: ignore[attr-defined]
    assert set(counts["temporary-fix-no-followup"]) == {"not observable"}
    # the sample fits: one line says so
    fits = incident_review_data(None, 10).data_quality()
    assert repr(fits).startswith("Data quality: the config fits the data (`review check`).")


def test_the_readme_configuration_section_begins_with_init_and_check() -> None:
    from review.settings.config import checkout

    root = checkout()
    assert root is not None
    section = (root / "README.md").read_text().split("## Configuration\n", 1)[1]
    first = section.strip().split("\n\n", 1)[0]
    assert "`review init`" in first and "`review check`" in first


@pytest.mark.slow
def test_a_rendered_review_carries_the_note(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["render", "10", "--snapshot", str(site), "--html", "--out", str(tmp_path), "--jobs", "1"],
        capsys,
    )
    assert code == 0, err
    assert err.startswith("warning: mismatch: [fields] service = 'Service'")  # once, on stderr
    page = html.unescape((tmp_path / "2026-08" / "incident-10.html").read_text())
    assert "Data quality: the config does not fit this data in 16 way(s)" in page
    assert "rule not-validated: not observable (field 'Validated By' not on any ticket)" in page


def test_check_lists_a_missing_registry_and_a_quiet_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from review.snapshot import write_snapshot

    config = tmp_path / "review.toml"
    config.write_text('[gaps]\nregistry = "nothere.yaml"\n')
    code, out, _ = run(["check", "--config", str(config), "--no-rt"], capsys)
    assert code == 1
    assert out.startswith(
        f"mismatch: {tmp_path / 'nothere.yaml'}: service registry not found; create it"
    )
    quiet = write_snapshot(tmp_path / "quiet", [], [], [], [], source="test", query="",
                           pulled_at="2026-11-01T00:00:00Z")  # fmt: skip
    code, out, err = run(["check", "--snapshot", str(quiet), "--no-rt"], capsys)
    assert err == "the config fits the data (1 note(s) above)\n"
    assert code == 0
    assert (
        out == f"note: the snapshot {quiet} holds no tickets: nothing to hold the config against\n"
    )


def test_a_developer_queue_renamed_in_rt_is_a_mismatch_not_lost_hand_offs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample with dev-web renamed web-dev in RT since the config was written. Its 12
    hand-offs from ops-help went 5 to dev-web, 3 to dev-identity, 3 to dev-storage and 1 to
    dev-network: with the config as it was, the 5 into web-dev are no hand-offs (7 in all),
    and before, `review check` called that fitting, with notes only."""
    from review.settings.config import sample_snapshot

    def renamed(rows: Rows) -> None:
        for queue in rows["queues.jsonl"]:
            if queue["Name"] == "dev-web":
                queue["Name"] = "web-dev"

    snapshot = str(edited(sample_snapshot(), tmp_path / "snapshot", renamed))
    code, out, _ = run(["check", "--no-rt", "--snapshot", snapshot], capsys)
    assert code != 0
    assert (
        "mismatch: queue 'web-dev' (4 ticket(s) now, 5 moved in) is neither in [queues] ops "
        "nor developer: moves into it are not hand-offs, while [queues] developer 'dev-web' "
        "holds no ticket: if 'web-dev' is a developers' queue (renamed in RT since the config "
        "named it, say), add it to [queues] developer, or metrics handoff_count and "
        "time_in_handoff miss its hand-offs\n"
    ) in out
    code, _, err = run(["metrics", "--snapshot", snapshot, "--strict"], capsys)
    assert code != 0 and "web-dev" in err
    code, out, err = run(["metrics", "--snapshot", snapshot, "--format", "json"], capsys)
    assert code == 0 and "warning: mismatch: queue 'web-dev'" in err
    assert sum(row["handoff_count"] for row in json.loads(out)) == 7
    config = tmp_path / "review.toml"
    config.write_text(
        '[queues]\ndeveloper = ["web-dev", "dev-identity", "dev-storage", "dev-network"]\n'
    )
    code, out, err = run(
        ["metrics", "--snapshot", snapshot, "--config", str(config), "--format", "json"], capsys
    )
    assert (code, err) == (0, "")
    assert sum(row["handoff_count"] for row in json.loads(out)) == 12
