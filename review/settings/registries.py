"""One registry shape for the kit's declarations: register, look up, iterate in order.

Metrics, close-out rules, checklist steps and report pages are each a Registry of their
declaration type, the way papermill registers its engines and I/O handlers. A registry
either receives its entries one by one (`register`, usable from a decorator) or collects
them from a package with one module per entry (`collect`, as sqlfluff keeps a rule per
file): a new entry is then a new file, and no shared list is edited.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, T]):
    """Entries of one kind by name, iterated in registration order.

    `kind` names the entries in errors ("rule", "metric"); `name_of` gives an entry's
    name; `check`, if given, validates an entry before it is added (raise ValueError).
    Registering a name twice is a bug, and looking up an unknown name says which names
    exist.
    """

    def __init__(
        self,
        kind: str,
        name_of: Callable[[T], str],
        check: Callable[[T], None] | None = None,
    ) -> None:
        self.kind = kind
        self._name_of = name_of
        self._check = check
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        """Add `entry` after the ones already registered, and return it."""
        name = self._name_of(entry)
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        if self._check is not None:
            self._check(entry)
        self._entries[name] = entry
        return entry

    def register_all(self, entries: Iterable[T]) -> Registry[T]:
        """Register each of `entries` in order; returns the registry."""
        for entry in entries:
            self.register(entry)
        return self

    def discover(
        self, package: str, entry_type: type[T], order_of: Callable[[T], int]
    ) -> Registry[T]:
        """Register every `entry_type` declared in the modules of `package` (see `collect`),
        sorted by `order_of` (two entries at one place are a bug); returns the registry."""
        found = [entry for _, entry in collect(package, entry_type)]
        places: dict[int, str] = {}
        for entry in found:
            place, name = order_of(entry), self._name_of(entry)
            if place in places:
                raise ValueError(f"{self.kind}s {places[place]!r} and {name!r} share place {place}")
            places[place] = name
        return self.register_all(sorted(found, key=order_of))

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise KeyError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"


def collect(package: str, entry_type: type[T]) -> list[tuple[str, T]]:
    """(module name, entry) for every module-level `entry_type` in each module of `package`.

    Modules are found with pkgutil (a new file is found without editing any list) and
    read in name order; modules whose name starts with '_' are skipped. Each module
    should hold the declarations of one entry; the caller decides the order.
    """
    found: list[tuple[str, T]] = []
    root: Any = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        found += [(info.name, v) for v in vars(module).values() if isinstance(v, entry_type)]
    return found


def docstring(doc: str | None, module: str) -> str:
    """A declaring module's docstring: `doc` (its ``__doc__``) or, when Python dropped it
    (``python -OO``), the one written in its source, so a declaration's words never go
    missing."""
    if doc is not None:
        return doc
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as source:
        return ast.get_docstring(ast.parse(source.read()), clean=False) or ""


def heading(doc: str, where: str) -> tuple[str, str]:
    """'Name: text.' from the first paragraph of a declaration's docstring, as (name, text).

    A rule's or metric's docstring is its documentation; its first paragraph is also what
    reports and tickets say about it, so the words are written once.
    """
    first = " ".join(doc.strip().split("\n\n")[0].split())
    name, sep, text = first.partition(": ")
    if not sep or not name or not text:
        raise ValueError(f"{where}: the docstring must start 'Name: what it means.'")
    return name, text
