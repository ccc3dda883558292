"""A package of one declaration per module, for tests/test_registries.py."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Thing:
    name: str
    size: int
