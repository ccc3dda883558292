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
