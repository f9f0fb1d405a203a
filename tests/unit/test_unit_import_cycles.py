"""No module of the library, the suite's fixtures and steps, or the rehearsal imports itself
back through others: every import is read from the source, those under TYPE_CHECKING and
inside functions too, so a cycle hidden from the interpreter still fails here, named."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.source_imports import import_statements

ROOT = Path(__file__).parents[2]
PACKAGES = ("atmo_release", "fixtures", "steps", "rehearsal")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The known modules `path` imports: `from a.b import c` names a.b.c when that is a
    module, else a.b."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in import_statements(path.read_text()):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            for alias in node.names:
                inner = f"{base}.{alias.name}"
                found |= {inner} if inner in known else {base} & known
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    paths = {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }
    known = set(paths)
    return {name: imports_of(path, name, known) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan), as a path back to its
    start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group: set[str] = set()
            while node not in group:
                group.add(stack.pop())
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_round(group, graph) for group in groups]


def _path_round(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest way from the group's first module back to itself, inside the group."""
    start = min(group)
    ways = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph[node] & group):
            if other == start:
                return [*ways[node], start]
            if other not in ways:
                ways[other] = [*ways[node], other]
                queue.append(other)
    return sorted(group)


def test_no_module_imports_itself_back() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert len(graph) > 150 and sum(map(len, graph.values())) > 300
    assert [" -> ".join(cycle) for cycle in cycles(graph)] == []


def test_a_cycle_through_a_type_checking_import_is_named(tmp_path: Path) -> None:
    package = tmp_path / "house"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "run.py").write_text("from house.rooms import kitchen\n")
    (package / "rooms.py").write_text("from . import kitchen\n")
    (package / "kitchen.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from house.run import Run\n"
    )
    (package / "garden.py").write_text("from house import kitchen\n")
    graph = import_graph(tmp_path, ("house",))
    assert cycles(graph) == [["house.kitchen", "house.run", "house.rooms", "house.kitchen"]]
