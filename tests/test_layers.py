"""The README's flow picture is the package: every top-level module and subpackage of `review`
is in it, and each imports only what the picture lists before it (imports inside functions
count too), but for the one exception the README names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "review"
EXCEPTIONS = {("review.rt.pull", "closeout")}  # the README: the follow-up search at pull time


def picture() -> list[str]:
    """The layers in the README's tree, bottom first: 'errors', 'settings', 'context', ..."""
    text = (ROOT / "README.md").read_text()
    tree = text[text.index("\n    review/\n") : text.index("\n    scenarios/")]
    layers = []
    for line in tree.splitlines()[2:]:
        names = re.match(r" {6}((?:[\w.]+/?(?:, )?)+)\s", line)
        if names:
            layers += [n.removesuffix(".py").rstrip("/") for n in names.group(1).split(", ")]
    return layers


def imports(path: Path) -> set[str]:
    """The layers of `review` a file imports (`from review import __version__` is none)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("review"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            found |= {
                n.split(".")[1] for n in (names if node.module == "review" else [node.module])
            }
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("review.")}
    return found - {"__version__"}


def test_the_readme_picture_lists_every_part_of_the_package() -> None:
    parts = {p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()}
    parts -= {"__init__", "__main__", "__pycache__", "py"}
    assert picture() and sorted(set(picture())) == sorted(parts - {"py.typed"})


def test_each_part_imports_only_what_the_picture_lists_before_it() -> None:
    order = {name: n for n, name in enumerate(picture())}
    upward = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE and path.stem in ("__init__", "__main__"):
            continue  # the package's own door: `review` and `python -m review`
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        here = module.split(".")[1]
        upward += [
            f"{module} imports review.{there}"
            for there in sorted(imports(path))
            if order[there] > order[here] and (module, there) not in EXCEPTIONS
        ]
    assert upward == []
