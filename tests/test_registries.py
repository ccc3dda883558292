"""review.settings.registries: the one registry shape (register, look up, iterate in order)."""

import pytest

from review.settings.registries import Registry, collect
from tests.registry_pkg import Thing


def things() -> Registry[Thing]:
    def positive(t: Thing) -> None:
        if t.size <= 0:
            raise ValueError(f"{t.name}: size must be positive")

    return Registry("thing", lambda t: t.name, positive)


def test_iterates_in_registration_order_and_looks_up_by_name():
    reg = things().register_all([Thing("b", 2), Thing("a", 1), Thing("c", 3)])
    assert list(reg) == ["b", "a", "c"]
    assert [t.size for t in reg.values()] == [2, 1, 3]
    assert reg["a"] == Thing("a", 1)
    assert len(reg) == 3 and "c" in reg and "d" not in reg


def test_register_returns_the_entry_so_it_can_back_a_decorator():
    reg = things()
    entry = Thing("x", 1)
    assert reg.register(entry) is entry


def test_a_name_registered_twice_is_refused():
    reg = things().register_all([Thing("a", 1)])
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        reg.register(Thing("a", 5))
    assert reg["a"].size == 1


def test_check_refuses_a_bad_entry_and_keeps_the_rest():
    reg = things()
    with pytest.raises(ValueError, match="size must be positive"):
        reg.register(Thing("z", 0))
    assert list(reg) == []


def test_an_unknown_name_says_which_exist():
    reg = things().register_all([Thing("a", 1), Thing("b", 2)])
    with pytest.raises(KeyError, match=r"unknown thing 'q' \(known: a, b\)"):
        reg["q"]
    assert reg.get("q") is None


def test_collect_finds_one_entry_per_module_in_name_order():
    found = collect("tests.registry_pkg", Thing)
    assert found == [("alpha", Thing("alpha", 1)), ("beta", Thing("beta", 2))]


def test_declarations_keep_their_words_under_python_oo() -> None:
    """Python -OO drops docstrings; a rule's title and meaning, a metric's label and definition
    and a step's label are read from the module's source then, the same words."""
    import subprocess
    import sys

    script = (
        "from review.closeout.rules import RULES\n"
        "from review.analysis.metrics import METRICS\n"
        "from review.closeout.steps import STEPS\n"
        "print([(r.title, r.meaning) for r in RULES.values()])\n"
        "print([(m.label, m.definition) for m in METRICS.values()])\n"
        "print(list(STEPS))\n"
    )
    runs = [
        subprocess.run([sys.executable, *flags, "-c", script], capture_output=True, text=True)
        for flags in ([], ["-OO"])
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and "Service owner unknown" in runs[0].stdout


def test_a_docstring_without_a_heading_is_refused() -> None:
    from review.settings.registries import heading

    assert heading("Never triaged: no staff owner,\n  staff reply.\n\nMore.", "r") == (
        "Never triaged",
        "no staff owner, staff reply.",
    )
    with pytest.raises(ValueError, match="rule 'x': the docstring must start 'Name: what"):
        heading("Checks things.", "rule 'x'")


def test_discover_registers_by_declared_place_and_refuses_two_at_one_place() -> None:
    found = Registry("thing", lambda t: t.name).discover(
        "tests.registry_pkg", Thing, lambda t: -t.size
    )
    assert list(found) == ["beta", "alpha"]  # by place, not by module name
    with pytest.raises(ValueError, match="things 'alpha' and 'beta' share place 0"):
        Registry("thing", lambda t: t.name).discover("tests.registry_pkg", Thing, lambda t: 0)
