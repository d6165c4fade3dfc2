"""The house by stage holds: no import circle among gctune's modules (function-level
imports included), no module over 500 lines, and the stage packages' ``__init__`` files
empty (every measured worker imports the package). The layers themselves are
``lint-imports``'s contract (pyproject.toml), run by ``make test``."""

from __future__ import annotations

from pathlib import Path

import grimp

import gctune

PACKAGE = Path(gctune.__file__).parent
MOST_LINES = 500


def test_no_module_imports_itself_back_through_another() -> None:
    graph = grimp.build_graph("gctune")
    circles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                circles.append(" -> ".join((module, *back)))
    assert circles == []


def test_no_module_is_over_500_lines() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > MOST_LINES} == {}


def test_stage_packages_import_nothing() -> None:
    inits = sorted(PACKAGE.glob("*/__init__.py"))
    assert len(inits) >= 6
    assert {str(p.relative_to(PACKAGE)): p.read_text() for p in inits if p.read_text()} == {}
