"""The package's layers: every import points down, never up, and never across the middle floor.

    cli/                      the command line
    checks/  show/  models/   side by side: checks, pictures and text, the slides' models
    engine/                   the op table, Value and backward, errors, input checks, the tape

A module may import its own folder (modules there keep their own order) and any floor below; the
three middle folders never import each other. Read from the source with ``ast``, so a lazy import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import autograd_gates

PACKAGE = Path(autograd_gates.__file__).parent
FLOORS = {"engine": 0, "checks": 1, "show": 1, "models": 1, "cli": 2}
# Kept so that `import autograd_gates.nn` and friends keep working: each only points at its module.
SHIMS = {"nn", "optim", "training", "datasets", "activations", "losses", "strategies", "stepper", "parser"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """The package folders a module imports from, with line numbers."""
    folder = path.parent.relative_to(PACKAGE).parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's folder
                base = list(folder[: len(folder) - (node.level - 1)]) if node.level > 1 else list(folder)
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [] if node.module else [a.name for a in node.names]
            elif node.module and node.module.startswith("autograd_gates"):
                target, names = node.module.split(".")[1:], []
            else:
                continue
            heads = [target[0]] if target else names
            found += [(node.lineno, head) for head in heads]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("autograd_gates."):
                    found.append((node.lineno, alias.name.split(".")[1]))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.parent != PACKAGE], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_every_import_points_down(path: Path) -> None:
    home = path.parent.relative_to(PACKAGE).parts[0]
    for line, target in _imports(path):
        if target not in FLOORS or target == home:
            continue
        assert FLOORS[target] < FLOORS[home], (
            f"{path.relative_to(PACKAGE)}:{line} imports {target}/, which is not below {home}/"
        )


def test_the_floors_are_the_folders() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(FLOORS)
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert top == SHIMS, "the top level holds only the package, its entry point and the kept module paths"


@pytest.mark.parametrize("name", sorted(SHIMS))
def test_the_module_paths_users_import_still_work(name: str) -> None:
    import importlib

    module = importlib.import_module(f"autograd_gates.{name}")
    assert module.__name__.startswith("autograd_gates.")


# Inside the engine each module imports only modules before it in this order (the tape, when it
# exists, sits beside Value at the end). A type-only import (under TYPE_CHECKING) is not an arrow.
ENGINE_ORDER = ["arguments", "errors", "collector", "table", "formula", "gates", "value", "circuit", "tape"]


def _engine_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for n in ast.walk(block)
    }
    return [
        (node.lineno, node.module.split(".")[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module and id(node) not in type_only
    ]


@pytest.mark.parametrize("path", sorted((PACKAGE / "engine").glob("*.py")), ids=lambda p: p.stem)
def test_the_engine_modules_import_in_order(path: Path) -> None:
    if path.stem == "__init__" or path.parent.name != "engine":
        return
    assert path.stem in ENGINE_ORDER or path.stem.startswith("tape"), f"place {path.stem} in ENGINE_ORDER"
    rank = ENGINE_ORDER.index("tape") if path.stem.startswith("tape") else ENGINE_ORDER.index(path.stem)
    for line, target in _engine_imports(path):
        if target.startswith("tape"):
            continue
        assert ENGINE_ORDER.index(target) < rank, (
            f"engine/{path.name}:{line} imports {target}, which comes after it"
        )
