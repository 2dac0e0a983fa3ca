"""The package's shape: no import cycles between modules (lazy imports
included) and no private name imported from another module — the two
signs of a rule living in two places."""

import ast
from pathlib import Path

from conftest import ROOT

PKG = ROOT / "python" / "lobkit"


def _modules():
    mods = {}
    for p in PKG.rglob("*.py"):
        name = ".".join(("lobkit",) + p.relative_to(PKG).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    return mods


def _imports(mods):
    """(module, imported module, imported names) for every import statement."""
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg
                for _ in range(max(node.level - 1, 0)):
                    base = base.rsplit(".", 1)[0]
                if node.level:
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                yield m, target, [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                for a in node.names:
                    yield m, a.name, []


def test_no_import_cycles():
    mods = _modules()
    packages = {m for m, p in mods.items() if p.name == "__init__.py"}
    graph = {m: set() for m in mods}
    for m, target, names in _imports(mods):
        for t in [target] + [f"{target}.{n}" for n in names]:
            # A package's __init__ re-exporting its submodules is not a cycle.
            if t in mods and t != m and t not in packages:
                graph[m].add(t)
    seen, cycles = {}, []

    def visit(n, path):
        seen[n] = 1
        for nx in sorted(graph[n]):
            if seen.get(nx) == 1:
                cycles.append(path[path.index(nx):] + [nx])
            elif nx not in seen:
                visit(nx, path + [nx])
        seen[n] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m, [m])
    assert cycles == []


def test_no_private_names_imported_across_modules():
    mods = _modules()
    bad = [(m, target, n) for m, target, names in _imports(mods) for n in names
           if target.startswith("lobkit") and n.startswith("_") and n != "_core"
           and not n.startswith("__")]
    assert bad == []
