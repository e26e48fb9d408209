"""Imports go one way (docs/ARCHITECTURE.md, "Layers"): the pure analysis in ``agents/`` ← the Faust agents
and the ``streams/`` plumbing ← the composition root ``streams/app.py``.

The graph is read from the source (every module's AST, imports inside functions included; imports under
``if TYPE_CHECKING:`` are left out, they never run). As in import-linter's graph, ``import a.b.c`` is an
edge to ``a.b.c`` only, not to the packages ``a`` and ``a.b``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Source folder → the package it installs as (pyproject.toml's package-dir).
PACKAGES = {"wirewatch": "wirewatch", "streams": "wirewatch.streams", "agents": "wirewatch.agents"}

#: The Faust agents of ``agents/``: the only modules there that may import Faust or the streams plumbing.
FAUST_AGENTS = {"wirewatch.agents.enrich", "wirewatch.agents.alert"}
#: What pure analysis must never reach, directly or through another module.
FORBIDDEN_FOR_ANALYSIS = ("faust", "mode", "aiokafka", "wirewatch.streams.app", "wirewatch.streams.pipeline")


def _modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            modules[".".join([package, *parts])] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports(ast.Module(body=[child], type_ignores=[])))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    # ``from pkg import sub`` imports the module pkg.sub when there is one, else a name of pkg.
    return {f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names}


def import_graph() -> dict[str, set[str]]:
    """Module → every module it imports (first-party and third-party names alike)."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set()
        for node in _imports(tree):
            graph[name] |= _targets(name, path.name == "__init__.py", node, known)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is small, recursion depth is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in graph:
                continue
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> dict[str, str]:
    """Every module ``start`` imports directly or not → the module that imports it (to show the path)."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop()
        for succ in graph.get(node, ()):
            if succ not in seen:
                seen[succ] = node
                todo.append(succ)
    return seen


def _path(parents: dict[str, str], start: str, end: str) -> str:
    chain = [end]
    while chain[-1] != start:
        chain.append(parents[chain[-1]])
    return " → ".join(reversed(chain))


GRAPH = import_graph()


def test_the_graph_sees_imports_inside_functions() -> None:
    # The composition root imports the agents; the graph must see an import wherever it is written.
    tree = ast.parse("def f():\n    from .b import c\n    import x.y\n")
    assert {t for n in _imports(tree) for t in _targets("p.a", False, n, set())} == {"p.b", "x.y"}
    assert "wirewatch.agents.enrich" in GRAPH["wirewatch.streams.app"]


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_first_party_imports_have_no_cycle() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles among first-party modules:\n" + "\n".join(" ↔ ".join(c) for c in found)


ANALYSIS = sorted(m for m in GRAPH if m.startswith("wirewatch.agents.") and m not in FAUST_AGENTS)


@pytest.mark.parametrize("module", ANALYSIS)
def test_pure_analysis_never_reaches_faust_or_the_app(module: str) -> None:
    parents = reachable(GRAPH, module)
    bad = [m for m in parents if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_FOR_ANALYSIS)]
    assert not bad, "\n".join(_path(parents, module, m) for m in bad)


def _nested_imports(tree: ast.AST, inside: bool = False) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if inside and isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _nested_imports(node, inside or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))


def _has_reason(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or above its block of imports (blank lines between are fine)."""
    if "#" in lines[lineno - 1]:
        return True
    for line in reversed(lines[: lineno - 1]):
        stripped = line.strip()
        if stripped.startswith("#"):
            return True
        if stripped and not stripped.startswith(("import ", "from ")):
            return False
    return False


def test_a_first_party_import_inside_a_function_says_why() -> None:
    modules = _modules()
    known = set(modules)
    silent = []
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in _nested_imports(ast.parse(source)):
            targets = _targets(name, path.name == "__init__.py", node, known)
            if any(t.startswith("wirewatch") for t in targets) and not _has_reason(lines, node.lineno):
                silent.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not silent, "first-party imports inside functions without a comment saying why: " + ", ".join(silent)


def test_nothing_but_the_cli_imports_the_composition_root() -> None:
    importers = sorted(m for m, targets in GRAPH.items() if "wirewatch.streams.app" in targets)
    assert all(m.startswith("wirewatch.streams.cli") for m in importers), importers
