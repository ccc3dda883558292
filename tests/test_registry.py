"""The service registry: the shipped file is valid and matches the sample; each mistake is
one error naming the file, the line and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from review.closeout.registry import FRAME_COLUMNS, load_registry, parse_registry
from review.errors import RegistryError
from review.settings.config import load_config, source_dir
from review.snapshot import load_snapshot

GOOD = """\
operations_staff: [otto]
helpdesk_list: helpdesk@example.edu
services:
  - service: alpha
    rt_names: [Alpha, alpha-web]
    service_owner: Alpha Team
    support_team: [ana]
    support_assignment: permanent
    announce_lists: [alpha-announce@example.edu]
    queues: [dev-web]
    last_reviewed: 2026-06-01
  - service: beta
    support_assignment: unassigned
    queues: [dev-storage]
    last_reviewed: 2025-01-10
"""


def test_a_good_registry_loads_with_defaults_filled_in() -> None:
    registry = parse_registry(GOOD, "reg.yaml")
    frame = registry.frame()
    assert list(frame.columns) == FRAME_COLUMNS
    assert list(frame["service"]) == ["alpha", "beta"]
    alpha, beta = frame.to_dict("records")
    assert alpha["rt_names"] == ["alpha", "Alpha", "alpha-web"]
    assert alpha["support_team"] == ["ana"]
    assert alpha["helpdesk_list"] == "helpdesk@example.edu"  # the top-level default
    assert alpha["last_reviewed"] == date(2026, 6, 1)
    assert alpha["line"] == 4
    assert beta["service_owner"] == ""
    assert beta["support_lists"] == []
    assert beta["line"] == 12
    assert registry.operations_staff == ("otto",)
    assert registry.threedown_list == ""


def test_names_and_queues_resolve_to_services() -> None:
    registry = parse_registry(GOOD, "reg.yaml")
    names = pd.Series([" ALPHA-web ", "alpha", "gamma", None])
    assert list(registry.service_of_name(names)) == ["alpha", "alpha", "", ""]
    assert list(registry.service_of_queue(pd.Series(["dev-storage", "ops-help"]))) == ["beta", ""]


def _error(text: str) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "reg.yaml")
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        # unknown keys, at the top and in an entry
        ("operations_staff:", "operation_staff:", 1, "unknown key 'operation_staff' in the registry's top level; allowed: operations_staff, helpdesk_list, threedown_list, services"),
        ("    service_owner: Alpha Team", "    owner: Alpha Team", 6, "unknown key 'owner' in a service entry; allowed: service, rt_names,"),
        # wrong types
        ("    service_owner: Alpha Team", "    service_owner: [Alpha Team]", 6, "service_owner must be text, got 'a list or mapping'; put it in quotes"),
        ("    service_owner: Alpha Team", "    service_owner: 42", 6, "service_owner must be text, got '42'; put it in quotes"),
        ("    support_team: [ana]", "    support_team: ana", 7, "support_team must be a list like [a, b] (or [] for none)"),
        ("    support_team: [ana]", "    support_team: [ana, '']", 7, "support_team has an empty entry; remove it"),
        ("    last_reviewed: 2026-06-01", "    last_reviewed: last June", 11, "last_reviewed must be a date like 2026-06-30, got 'last June'"),
        ("    support_assignment: unassigned", "    support_assignment: interim", 13, "support_assignment must be one of permanent, temporary, unassigned, got 'interim'"),
        ("    announce_lists: [alpha-announce@example.edu]", "    announce_lists: [alpha-announce]", 9, "announce_lists value 'alpha-announce' is not an email address"),
        # missing what cannot be guessed
        ("    support_assignment: unassigned\n", "", 12, "service entry has no support_assignment; add support_assignment: <one of permanent, temporary, unassigned>"),
        ("    last_reviewed: 2025-01-10\n", "", 12, "service entry has no last_reviewed; add last_reviewed:"),
        ("  - service: beta\n    support", "  - rt_names: [beta]\n    support", 12, "service entry has no service; add service:"),
        # contradictions and duplicates
        ("    support_team: [ana]\n", "", 7, "support_assignment is permanent but support_team is empty; list the team members, or set support_assignment: unassigned"),
        ("    queues: [dev-web]", "    queues: [dev-web]\n    queues: [dev-web2]", 11, "key 'queues' appears twice in a service entry (also line 10); keep one"),
        ("  - service: beta", "  - service: alpha", 12, "service name 'alpha' is already used by 'alpha' (line 4); keep one entry per service and merge the two"),
        ("  - service: beta", "  - service: Alpha-Web", 12, "service name 'Alpha-Web' is already used by 'alpha' (line 4)"),
        ("    queues: [dev-storage]", "    queues: [dev-web]", 12, "queue 'dev-web' of 'beta' is already claimed by 'alpha' (line 4); a queue belongs to one service, remove it from one of the two"),
        # not YAML at all
        ("    rt_names: [Alpha, alpha-web]", "    rt_names: [Alpha, alpha-web", 6, "not valid YAML:"),
    ],
)  # fmt: skip
def test_each_mistake_names_file_line_and_fix(old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    error = _error(GOOD.replace(old, new, 1))
    assert error.file == "reg.yaml"
    assert error.line == line
    assert str(error).startswith(f"reg.yaml:{line}: ")
    assert message in str(error)


def test_empty_and_missing_services() -> None:
    assert "the registry is empty" in str(_error(""))
    error = _error("operations_staff: [otto]\n")
    assert error.line == 1
    assert "has no `services:` list; add one entry per service" in str(error)
    for text in ("services: alpha\n", "services: []\n"):
        error = _error(text)
        assert error.line == 1
        assert "services must be a list of entries, each starting with '- '" in str(error)


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="service registry not found; create it"):
        load_registry(tmp_path / "nope.yaml")
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe services")
    with pytest.raises(
        RegistryError, match=r"bad.yaml:1: not UTF-8 text \(byte 0xff\); save the file"
    ):
        load_registry(path)
    path.write_bytes("services:\n  - service: café\n".encode("latin-1"))
    with pytest.raises(RegistryError, match=r"bad.yaml:2: not UTF-8 text \(byte 0xe9\)"):
        load_registry(path)


def test_the_default_path_comes_from_the_config(tmp_path: Path) -> None:
    assert load_config(None).gaps.registry == source_dir("data") / "services.yaml"
    assert load_registry().path == source_dir("data") / "services.yaml"
    (tmp_path / "reg.yaml").write_text(GOOD)
    config_file = tmp_path / "review.toml"
    config_file.write_text('[gaps]\nregistry = "reg.yaml"\n')
    config = load_config(config_file)
    assert config.gaps.registry == tmp_path / "reg.yaml"  # relative to the config file
    assert [s.service for s in load_registry(config.gaps.registry).services] == ["alpha", "beta"]


def test_the_shipped_registry_covers_the_sample_but_payroll_export() -> None:
    """The bundled registry matches the sample: every service but the deliberately
    unregistered payroll-export, every developer queue claimed once, gaps on purpose."""
    registry = load_registry(source_dir("data") / "services.yaml")
    frame = registry.frame().set_index("service")
    snapshot = load_snapshot(source_dir("data") / "sample")
    in_sample = set(snapshot.field_values(load_config(None).fields.service)) - {""}
    assert in_sample - set(frame.index) == {"payroll-export"}
    assert set(frame.index) - in_sample == set()
    assert sorted(q for qs in frame["queues"] for q in qs) == [
        "dev-identity", "dev-network", "dev-storage", "dev-web",
    ]  # fmt: skip
    assert frame["support_assignment"].to_dict() == {
        "web-portal": "permanent", "wiki": "temporary", "sso-login": "permanent",
        "vpn": "permanent", "file-storage": "temporary", "mail-lists": "unassigned",
    }  # fmt: skip
    assert frame.loc["mail-lists", "service_owner"] == ""
    assert registry.operations_staff == ("dave", "olga", "raj")
    assert (registry.helpdesk_list, registry.threedown_list) == (
        "helpdesk-list@example.edu",
        "3down@example.edu",
    )


def test_a_registry_that_claims_no_queue_and_names_no_spelling_maps_to_nothing() -> None:
    """Lookups with nothing to look up are empty text, not a crash (support-gaps fell over)."""
    registry = parse_registry(
        "services:\n  - service: gamma\n    support_assignment: unassigned\n"
        "    last_reviewed: 2026-01-05\n",
        "reg.yaml",
    )
    queues = pd.Series(["dev-web", None], dtype="string")
    assert list(registry.service_of_queue(queues)) == ["", ""]
    assert list(registry.service_of_name(pd.Series(["Gamma ", "delta"]))) == ["gamma", ""]
