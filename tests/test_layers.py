"""The package layers, checked by walking every import (module level and inside functions).

``ma_data.core`` is the base layer; the dataset builder (the rest of ``ma_data``) sits on it; ``benchmark``
and ``models`` sit on ``ma_data`` and not on each other; ``tools`` may use everything. No import cycles
between modules, and no module imports another module's private (underscore) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ma_data", "benchmark", "models", "tools", "manifests")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if "__pycache__" not in p.parts
    }


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (``a.b.c`` may be a module or a name inside ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every project import in ``path``."""
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    out.append((target, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    out.append((full, None, node.lineno))
                else:
                    target = _resolve(base)
                    if target:
                        out.append((target, alias.name, node.lineno))
    return out


EDGES = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(module: str) -> str:
    if module.startswith("ma_data.core"):
        return "core"
    return module.split(".")[0]


# Which layers each layer may import.
ALLOWED = {
    "core": {"core"},
    "ma_data": {"core", "ma_data", "manifests"},
    "benchmark": {"core", "ma_data", "benchmark", "manifests"},
    "models": {"core", "ma_data", "models", "manifests"},
    "tools": {"core", "ma_data", "benchmark", "models", "tools", "manifests"},
    "manifests": {"manifests"},
}


def test_no_upward_or_sideways_imports():
    bad = [
        f"{MODULES[m].relative_to(ROOT)}:{line}: {m} ({_layer(m)}) imports {t} ({_layer(t)})"
        for m, edges in EDGES.items()
        for t, _, line in edges
        if _layer(t) not in ALLOWED[_layer(m)]
    ]
    assert not bad, "\n".join(bad)


def test_no_private_names_across_modules():
    bad = [
        f"{MODULES[m].relative_to(ROOT)}:{line}: imports {name} from {t}"
        for m, edges in EDGES.items()
        for t, name, line in edges
        if name and name.startswith("_") and t != m
    ]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    """Tarjan's strongly connected components over module -> module edges (a package's ``__init__``
    importing its own submodules is not a cycle unless a submodule imports the package back)."""
    graph = {m: sorted({t for t, _, _ in edges if t != m}) for m, edges in EDGES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
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
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_walk_sees_the_project():
    assert "ma_data.core.errors" in MODULES and "benchmark.cli" in MODULES
    assert any(t == "ma_data.core.errors" for t, _, _ in EDGES["benchmark.cli"]) or any(
        t.startswith("ma_data.core") for t, _, _ in EDGES["benchmark.cli"]
    )
