"""The layers hold: who may import whom is checked by CI, not remembered.

Every ``import`` and ``from ... import`` in ``src/chatgrid`` counts, wherever
it is written: at the top, inside a function, or under ``TYPE_CHECKING``
(a type-only import is still a dependency a reader has to follow). The rules
are drawn in ``docs/architecture.md`` ("Layers"):

* ``gateway`` (the hot path) imports nothing from ``admin``, ``web`` or ``cli``;
* ``store`` imports nothing from ``admin``, ``web``, ``gateway`` or ``cli``;
* no two top-level parts of ``chatgrid`` import each other, nor do three or
  more in a circle (``store`` → ``documents`` → ``gateway`` → ``store``);
* no modules import each other in a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chatgrid"

#: part → parts it must not import.
FORBIDDEN = {
    "gateway": {"admin", "web", "cli"},
    "store": {"admin", "web", "gateway", "cli"},
}

Graph = dict[str, set[str]]


def modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Every module under ``root`` by dotted name, with whether it is a package."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _known(name: str, known: Iterable[str]) -> str | None:
    """The longest known module that ``name`` is or lies in (None: not ours)."""
    names = set(known)
    while name and name not in names:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(source: str, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The modules of ours that ``module``'s source imports, anywhere in the file."""
    known = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # ``from pkg import mod`` imports the module ``pkg.mod``; else a name in ``pkg``.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            resolved = _known(target, known)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


def module_graph(root: Path = PACKAGE) -> Graph:
    found = modules(root)
    return {
        name: imports_of(path.read_text(), name, is_package, found)
        for name, (path, is_package) in found.items()
    }


def part(module: str) -> str:
    """The top-level part: ``chatgrid.gateway.app`` → ``gateway``; ``chatgrid`` → ``chatgrid``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def arrows_between_parts(graph: Graph) -> dict[tuple[str, str], list[str]]:
    """(part, part) → the module arrows that make one import the other."""
    found: dict[tuple[str, str], list[str]] = {}
    for source, targets in graph.items():
        for target in sorted(targets):
            if part(source) != part(target):
                found.setdefault((part(source), part(target)), []).append(f"{source} → {target}")
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def forbidden_arrows(graph: Graph) -> list[str]:
    between = arrows_between_parts(graph)
    return [
        arrow
        for (source, target), arrows in sorted(between.items())
        if target in FORBIDDEN.get(source, set())
        for arrow in arrows
    ]


def mutual_parts(graph: Graph) -> list[str]:
    between = arrows_between_parts(graph)
    found = []
    for (a, b), arrows in sorted(between.items()):
        if a < b and (b, a) in between:
            found.append(f"{a} ↔ {b}: " + "; ".join(arrows + between[(b, a)]))
    return found


def part_graph(graph: Graph) -> Graph:
    parts: Graph = {}
    for source, targets in graph.items():
        parts.setdefault(part(source), set())
        for target in targets:
            if part(source) != part(target):
                parts[part(source)].add(part(target))
    return parts


def part_cycles(graph: Graph) -> list[str]:
    between = arrows_between_parts(graph)
    parts = part_graph(graph)
    found = []
    for component in cycles(parts):
        inside = set(component)
        arrows = [
            f"{s} → {t} ({between[(s, t)][0]})"
            for s in component
            for t in sorted(parts[s] & inside)
        ]
        found.append(", ".join(component) + ": " + "; ".join(arrows))
    return found


def module_cycles(graph: Graph) -> list[str]:
    found = []
    for component in cycles(graph):
        inside = set(component)
        arrows = [f"{s} → {t}" for s in component for t in sorted(graph[s] & inside)]
        found.append(", ".join(component) + ": " + "; ".join(arrows))
    return found


def test_the_gateway_and_the_store_import_no_layer_above_them() -> None:
    bad = forbidden_arrows(module_graph())
    assert not bad, "arrows against the layers:\n" + "\n".join(bad)


def test_no_two_parts_import_each_other() -> None:
    bad = mutual_parts(module_graph())
    assert not bad, "parts that import each other:\n" + "\n".join(bad)


def test_no_parts_import_each_other_in_a_circle() -> None:
    """A longer circle is as bad as a pair: storage returns chat's and documents'
    values, so those parts reach storage and the gateway only through the
    shapes in their ``ports.py``, joined in ``chatgrid/app.py``."""
    bad = part_cycles(module_graph())
    assert not bad, "parts that import each other in a circle:\n" + "\n".join(bad)


def test_no_modules_import_each_other_in_a_circle() -> None:
    bad = module_cycles(module_graph())
    assert not bad, "import cycles between modules:\n" + "\n".join(bad)


def test_the_walk_sees_imports_in_functions_type_checking_and_relative_forms() -> None:
    """The checks above are only as good as the walk: hidden imports must count too."""
    known = {
        "chatgrid.gateway",
        "chatgrid.gateway.app",
        "chatgrid.gateway.relay",
        "chatgrid.admin",
        "chatgrid.admin.operator",
        "chatgrid.web",
        "chatgrid.web.deps",
        "chatgrid.cli",
        "chatgrid.errors",
    }
    source = """
from typing import TYPE_CHECKING
from . import relay
from ..errors import NotFound
import chatgrid.web.deps
if TYPE_CHECKING:
    from chatgrid.admin.operator import Tenant
def later():
    from chatgrid.cli import app
"""
    found = imports_of(source, "chatgrid.gateway.app", False, known)
    assert found == {
        "chatgrid.gateway.relay",
        "chatgrid.errors",
        "chatgrid.web.deps",
        "chatgrid.admin.operator",
        "chatgrid.cli",
    }
    graph = {"chatgrid.gateway.app": found, "chatgrid.admin.operator": {"chatgrid.gateway.app"}}
    assert forbidden_arrows(graph) == [
        "chatgrid.gateway.app → chatgrid.admin.operator",
        "chatgrid.gateway.app → chatgrid.cli",
        "chatgrid.gateway.app → chatgrid.web.deps",
    ]
    assert mutual_parts(graph) == [
        "admin ↔ gateway: chatgrid.admin.operator → chatgrid.gateway.app; "
        "chatgrid.gateway.app → chatgrid.admin.operator"
    ]
    assert cycles(graph) == [["chatgrid.admin.operator", "chatgrid.gateway.app"]]


def test_a_circle_of_three_parts_is_seen() -> None:
    graph: Graph = {
        "chatgrid.store.documents": {"chatgrid.documents.models"},
        "chatgrid.documents.models": set(),
        "chatgrid.documents.ingest": {"chatgrid.gateway.workspace"},
        "chatgrid.gateway.workspace": {"chatgrid.store.documents"},
    }
    assert not mutual_parts(graph)
    (found,) = part_cycles(graph)
    assert found.startswith("documents, gateway, store:")
