"""The import contract: hmin's layers and the absence of circles, read from the source (an AST walk,
no import executed).

Layers, lowest first; a module may import modules of its own layer or a lower one, never a higher
one (function-local imports count too: they hide a dependency, they do not remove it):

    base  <-  theory  <-  core  <-  lab  <-  app

- base:   hmin._compat (the deprecation shims of the old import paths; imports nothing of hmin)
- theory: the statements and their symbolic sides (``hmin.theory``; sympy and NumPy, never JAX or sims)
- core:   what every check and tool stands on: errors, verdict, registry, float64 scoping, logging,
          atomic files
- lab:    the measuring instruments: geometry, selection, models, GD, kernels, data, diagnostics, ...
- app:    what composes them: verify, report, the command line, experiments, train, the checks

A circle is a cycle in the import graph, function-local imports included (the two circles this
test was written against, distributed <-> select and checks <-> registry, both closed through a
function-local import); the test names the cycle it finds. Adding a module is adding it to `LAYERS` (a module of hmin.sims that
is in no layer fails the test, so the map cannot go stale).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: package -> its folder (pyproject's package-dir)
FOLDERS = {"hmin": ROOT / "hmin", "hmin.sims": ROOT / "sims", "hmin.theory": ROOT / "theory"}

ORDER = ("base", "theory", "core", "lab", "app")
#: layer -> module name prefixes (the longest matching prefix decides)
LAYERS = {
    "base": ("hmin._compat",),
    "theory": ("hmin.theory",),
    "core": ("hmin.sims.errors", "hmin.sims.verdict", "hmin.sims.registry", "hmin.sims.precision",
             "hmin.sims.progress", "hmin.sims.store", "hmin.sims.surface", "hmin.sims.caches", "hmin.sims.phases",
             "hmin.sims"),
    "lab": ("hmin.sims.geometry", "hmin.sims.select", "hmin.sims.models", "hmin.sims.gd", "hmin.sims.kernels", "hmin.sims.spectra", "hmin.sims.regime",
            "hmin.sims.data", "hmin.sims.diagnostics", "hmin.sims.rates", "hmin.sims.uniformity",
            "hmin.sims.sharding", "hmin.sims.distributed", "hmin.sims.adapters", "hmin.sims.plotting"),
    "app": ("hmin.sims.verify", "hmin.sims.report", "hmin.sims.commands", "hmin.sims.cli", "hmin.sims.experiments",
            "hmin.sims.train", "hmin.sims.checks", "hmin.sims.reference", "hmin.sims.apidoc", "hmin.__main__",
            "hmin.sims.attack", "hmin.sims.exercises", "hmin.sims.train_run", "hmin.sims.train_plot",
            "hmin.sims.train_report", "hmin.sims.contract", "hmin.sims.zoo",
            "hmin"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in FOLDERS.items():
        for f in sorted(folder.rglob("*.py")):
            if "__pycache__" in f.parts:
                continue
            rel = f.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([pkg, *parts])] = f
    return out


MODULES = _modules()


def layer(mod: str) -> str | None:
    best, found = -1, None
    for name, prefixes in LAYERS.items():
        for p in prefixes:
            if (mod == p or mod.startswith(p + ".")) and len(p) > best:
                best, found = len(p), name
    return found


def _resolve(name: str) -> str | None:
    """The hmin module an import names (``hmin.sims.select.greedy_maxmin`` -> ``hmin.sims.select``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(mod: str) -> list[tuple[str, int, bool]]:
    """(imported hmin module, line, at module level) for every import statement of ``mod``."""
    path = MODULES[mod]
    tree = ast.parse(path.read_text(), str(path))
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    # statements under a module-level `if`/`try` still run at import
    for n in tree.body:
        if isinstance(n, (ast.If, ast.Try)):
            top |= {id(c) for c in ast.walk(n) if isinstance(c, (ast.Import, ast.ImportFrom))}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            # `from A import x`: the module A.x if there is one, else A (`_resolve` falls back)
            names = [f"{base}.{a.name}" for a in node.names] if base else []
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for c in ast.walk(node):
                if isinstance(c, (ast.Import, ast.ImportFrom)):
                    top.discard(id(c))
        for n in names:
            target = _resolve(n)
            if target and target != mod:
                out.append((target, node.lineno, id(node) in top))
    return out


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer(m) is None] == []


def test_layers_import_only_downwards():
    bad = []
    for mod in MODULES:
        here = ORDER.index(layer(mod))
        for target, line, _ in imports(mod):
            if ORDER.index(layer(target)) > here and not (mod.startswith("hmin.sims") and target == "hmin.sims"):
                bad.append(f"{MODULES[mod].relative_to(ROOT)}:{line}: {layer(mod)} module {mod} imports {layer(target)} "
                           f"module {target}")
    assert bad == [], "\n".join(bad)


def test_theory_never_imports_sims_or_jax():
    bad = []
    for mod, path in MODULES.items():
        if layer(mod) != "theory":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{mod}: {n}" for n in names if n.split(".")[0] == "jax" or n.startswith("hmin.sims")]
    assert bad == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def _package_parents(mod: str) -> set[str]:
    """Importing ``a.b.c`` runs ``a`` and ``a.b`` first: those edges are implied, not written."""
    parts = mod.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_circles():
    graph = {m: {t for t, _, _ in imports(m) if t not in _package_parents(m)} for m in MODULES}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_walk_sees_a_planted_circle_and_a_planted_upward_import():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
    # the real registry reads as core and a check module as app, so a check imported by the registry
    # would be an upward import
    assert layer("hmin.sims.registry") == "core" and layer("hmin.sims.checks.t01_hmin_lower") == "app"
    assert ("hmin.sims.registry", True) in {(t, top) for t, _, top in imports("hmin.sims.checks.t01_hmin_lower")}


@pytest.mark.parametrize("mod", ["hmin.sims.select", "hmin.sims.distributed", "hmin.sims.checks"])
def test_the_two_old_circles_stay_gone(mod):
    """distributed <-> select (greedy_maxmin_processes now lives in select) and checks <-> registry
    (checks/__init__ re-exported the registry, which discovers the checks by name)."""
    other = {"hmin.sims.select": "hmin.sims.distributed", "hmin.sims.distributed": "hmin.sims.select",
             "hmin.sims.checks": "hmin.sims.registry"}[mod]
    back = {"hmin.sims.select": "hmin.sims.select", "hmin.sims.distributed": "hmin.sims.distributed",
            "hmin.sims.checks": "hmin.sims.checks"}[mod]
    there = {t for t, _, _ in imports(mod)}
    assert not (other in there and back in {t for t, _, _ in imports(other)})
