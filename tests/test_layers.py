"""The package's structure is a contract: layers in data-flow order, no cycles, imports on top.

Layers, lowest first: errors, scenario, engine, results, runs, views, the explorer (app), then
the command layer (api, cli). A module may import its own layer and the layers below it, never
above; presentation (views, app) is imported only by the layers above it. Imports of negsim's
own modules sit at the top of the file everywhere but in the command layer, so what a module
depends on is visible at a glance.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "sim"
LAYERS = [
    "sim.errors",
    "sim.scenario",
    "sim.engine",
    "sim.results",
    "sim.runs",
    "sim.views",
    "sim.app",
    "sim.api",
    "sim.cli",
]
COMMAND_LAYER = {"sim.api", "sim.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int | None:
    for i, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return i
    return None  # sim itself and sim.__main__ sit above everything


def resolve(node: ast.ImportFrom | ast.Import, here: str) -> list[str]:
    """The negsim modules an import statement loads (``from sim.engine import rules`` is sim.engine.rules)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = here.split(".")[: -node.level] if MODULES[here].name != "__init__.py" else here.split(".")
            base = ".".join([*package, base] if base else package)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            names.append(full if full in MODULES else base)
    return [n for n in names if n == "sim" or n.startswith("sim.")]


def imports(module: str, source: str | None = None) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every negsim import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8") if source is None else source)
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            top.add(id(node))
        elif isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks count as the top of the file
            top.update(id(n) for n in node.body if isinstance(n, ast.Import | ast.ImportFrom))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            out += [(name, node.lineno, id(node) in top) for name in resolve(node, module)]
    return out


GRAPH = {m: sorted({name for name, _, _ in imports(m) if name in MODULES and name != m}) for m in MODULES}


def test_every_module_belongs_to_a_layer() -> None:
    """Every module but the package's front door has a layer."""
    assert {m for m in MODULES if layer(m) is None} == {"sim", "sim.__main__"}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_against_the_layer_order(module: str) -> None:
    """A module imports its own layer or lower ones only."""
    own = layer(module)
    if own is None:
        return
    bad = [f"{name} (line {line})" for name, line, _ in imports(module) if (layer(name) or 0) > own]
    assert not bad, f"{module} imports a higher layer: {', '.join(bad)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in COMMAND_LAYER))
def test_own_imports_sit_at_the_top(module: str) -> None:
    """Outside the command layer, negsim's own modules are imported at the top of the file."""
    inner = [f"{name} (line {line})" for name, line, at_top in imports(module) if not at_top]
    assert not inner, f"{module} imports inside a function: {', '.join(inner)}"


def test_imports_inside_functions_are_seen() -> None:
    """The check above can fail: an import inside a function is told from one at the top."""
    source = "from sim.engine import rules\n\ndef f():\n    from sim.results import stats\n"
    assert imports("sim.engine.state", source) == [("sim.engine.rules", 1, True), ("sim.results.stats", 4, False)]


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    """No two modules depend on each other, however indirectly, counting every import."""
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above can fail: a planted cycle is found."""
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def test_data_never_imports_presentation() -> None:
    """Nothing below the command layer imports matplotlib or the views."""
    for module, path in MODULES.items():
        if (layer(module) or 0) >= LAYERS.index("sim.views") or layer(module) is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        loaded = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        loaded |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(name.split(".")[0] == "matplotlib" for name in loaded), module
        assert not any(name.startswith("sim.views") for name, _, _ in imports(module)), module


def test_the_package_exports_what_the_api_exports_and_every_name_resolves() -> None:
    """``sim.__all__`` is the public surface (as httpx guards its own): every name in it resolves,
    nothing public is missing from it, and it holds everything ``sim.api`` exports."""
    import sim
    import sim.api

    assert set(sim.api.__all__) <= set(sim.__all__)
    assert sim.__all__ == sorted(sim.__all__) and len(set(sim.__all__)) == len(sim.__all__)
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    assert sim.compare is sim.api.compare and sim.score is sim.api.score
    public = {n for n in dir(sim) if not n.startswith("_") and not isinstance(getattr(sim, n), types.ModuleType)} - {
        "annotations",
        "import_module",
        "TYPE_CHECKING",
        "Any",
    }
    assert public - set(sim.__all__) == set()
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018
