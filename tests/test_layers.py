"""The layers point one way: pages → components → states → realtime →
services → models → db. No import cycle anywhere in ``kyoso/``; the domain
imports no Reflex, no state and no realtime; an import inside a function
says why it is there.

Imports are read from the source (``ast``), inside functions too: a cycle
hidden behind a function-level import is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kyoso"

# What each layer must never import (prefixes of module names).
FORBIDDEN = {
    "kyoso.services": ("reflex", "kyoso.states", "kyoso.realtime", "kyoso.pages", "kyoso.components",
                       "kyoso.kyoso", "kyoso.tasks"),
    "kyoso.models": ("reflex", "kyoso.services", "kyoso.states", "kyoso.realtime"),
    "kyoso.db": ("reflex", "kyoso.services", "kyoso.states", "kyoso.realtime"),
    "kyoso.realtime": ("kyoso.states", "kyoso.pages", "kyoso.components", "kyoso.kyoso"),
    "kyoso.states": ("kyoso.pages", "kyoso.components", "kyoso.kyoso"),
    "kyoso.components": ("kyoso.pages", "kyoso.kyoso"),
    "kyoso.ops": ("kyoso.states", "kyoso.pages", "kyoso.components", "kyoso.realtime"),
}
# A module that says, near its top, why its functions import late.
LATE_MARKER = "# Late imports:"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p): p for p in sorted(root.rglob("*.py"))}


class Import:
    def __init__(self, target: str, line: int, nested: bool) -> None:
        self.target, self.line, self.nested = target, line, nested


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every import in a module, resolved to the modules it loads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, nested) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.append(Import(sub if sub in known else base, child.lineno, nested))
            visit(child, inner)

    visit(tree, False)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        for imp in imports_of(name, path, known):
            target = imp.target
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("kyoso"):
                edges.setdefault(name, set()).add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            strong(v)
    return found


def test_no_import_cycle_in_kyoso() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    mods = modules()
    known = set(mods)
    wrong = [
        f"{name}:{imp.line} imports {imp.target}"
        for name, path in mods.items() if name == layer or name.startswith(layer + ".")
        for imp in imports_of(name, path, known)
        if any(imp.target == f or imp.target.startswith(f + ".") for f in FORBIDDEN[layer])
    ]
    assert wrong == []


def test_an_import_inside_a_function_says_why() -> None:
    """On the line before or on the same line, or once for the module with
    ``# Late imports: <why>`` (a command-line tool that starts fast)."""
    mods = modules()
    known = set(mods)
    unexplained = []
    for name, path in mods.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if any(line.startswith(LATE_MARKER) for line in lines):
            continue
        for imp in imports_of(name, path, known):
            if imp.nested and not explained(lines, imp.line - 1):
                unexplained.append(f"{name}:{imp.line} {imp.target}")
    assert unexplained == []


def explained(lines: list[str], i: int) -> bool:
    """A comment on the import's line, or just above its run of imports."""
    if "#" in lines[i]:
        return True
    while i > 0 and lines[i - 1].strip().startswith(("import ", "from ")):
        i -= 1
    return i > 0 and lines[i - 1].strip().startswith("#")


def test_the_checks_see_a_cycle_and_a_late_import(tmp_path: Path) -> None:
    """The checks themselves: a cycle behind a function-level import is found."""
    pkg = tmp_path / "kyoso"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from kyoso import b\n")
    (pkg / "b.py").write_text("def f():\n    from kyoso import a\n    return a\n")
    mods = {module_name_in(tmp_path, p): p for p in pkg.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        for imp in imports_of(name, path, set(mods)):
            if imp.target in mods and imp.target != name:
                edges.setdefault(name, set()).add(imp.target)
    assert cycles(edges) == [["kyoso.a", "kyoso.b"]]
    assert [i.nested for i in imports_of("kyoso.b", pkg / "b.py", set(mods))] == [True]


def module_name_in(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
