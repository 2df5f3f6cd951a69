"""The package layering of docs/architecture.md, checked on the source: no module is part of an
import circle, and each package imports only the packages below it. Function-level (lazy) imports
count too: they are how a layer would slip in a dependency without paying its start-up cost."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "seqtool"

# What each part of seqtool may import besides itself (docs/architecture.md, "Who may import whom").
ALLOWED = {
    "core": set(),
    "training": {"core"},
    "layers": {"core"},
    "ngram": {"core"},
    "vectors": {"core"},
    "summarize": {"core", "vectors"},
    "lm": {"core", "training", "layers", "vectors", "ngram"},
    "classify": {"core", "training", "layers", "vectors"},
    "cli": {"core", "training", "layers", "ngram", "vectors", "summarize", "lm", "classify"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:  # `from pkg import module` names the module
                    targets.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_checker_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_seqtool_is_part_of_an_import_circle():
    assert circles(import_graph()) == []


def test_each_package_imports_only_the_layers_below_it():
    wrong = []
    for module, targets in import_graph().items():
        here = part_of(module)
        if here not in ALLOWED:  # the top-level modules (seqtool/__init__, __main__) may import anything
            continue
        for target in targets:
            there = part_of(target)
            if there != here and there not in ALLOWED[here]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_every_package_is_placed_in_the_layering():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED), f"add {sorted(packages - set(ALLOWED))} to ALLOWED and docs/architecture.md"
