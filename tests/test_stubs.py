"""`_core.pyi` names exactly what the extension exports (a small stubtest)."""

import ast

import lobkit._core as core
from conftest import ROOT

TREE = ast.parse((ROOT / "python" / "lobkit" / "_core.pyi").read_text())


def _defs(body):
    return {n.name for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def test_module_level_names_match():
    stub = _defs(TREE.body) | {n.target.id for n in TREE.body if isinstance(n, ast.AnnAssign)}
    runtime = {n for n in dir(core) if not n.startswith("__") or n == "__version__"}
    assert runtime - stub == set()
    # stub-only: the base class of the shared getters and two type aliases
    assert stub - runtime == {"_BookView", "_Side", "_Cells"}


def test_class_members_match():
    classes = {n.name: n for n in TREE.body if isinstance(n, ast.ClassDef)}
    shared = _defs(classes["_BookView"].body)
    for name in ("L2Book", "L3Book"):
        stub = {m for m in _defs(classes[name].body) | shared if not m.startswith("_")}
        runtime = {m for m in dir(getattr(core, name)) if not m.startswith("_")}
        assert stub == runtime, name
    for name in ("Engine", "Reader", "Snapshot", "Rolling", "Vpin", "DepthSync", "TardisStream", "KrakenSync",
                 "Profile", "LiveFootprint"):
        stub = {m for m in _defs(classes[name].body) if not m.startswith("_")}
        runtime = {m for m in dir(getattr(core, name)) if not m.startswith("_")}
        assert stub == runtime, name


def _stub_params(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg != "self"]


def test_book_method_parameters_match():
    """Parameter names (and so the ``ts=`` keywords) as the extension has them."""
    import inspect

    classes = {n.name: n for n in TREE.body if isinstance(n, ast.ClassDef)}
    shared = {f.name: f for f in classes["_BookView"].body if isinstance(f, ast.FunctionDef)}
    checked = 0
    for name in ("L2Book", "L3Book"):
        own = {f.name: f for f in classes[name].body if isinstance(f, ast.FunctionDef)}
        for meth, fn in {**shared, **own}.items():
            if meth.startswith("__") or any(isinstance(d, ast.Name) and d.id == "property"
                                            for d in fn.decorator_list):
                continue
            runtime = inspect.signature(getattr(getattr(core, name), meth))
            got = [p for p in runtime.parameters if p != "self"]
            assert got == _stub_params(fn), f"{name}.{meth}"
            checked += 1
    assert checked > 40


def test_stub_docstrings_are_the_extensions():
    """`_core.pyi` carries the Rust doc comments (IDEs show the stub, not the
    extension); `python tools/stub_docs.py` regenerates them after a change."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("stub_docs", ROOT / "tools" / "stub_docs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    _, problems = mod.rewrite(mod.STUB.read_text())
    assert problems == []
    # and the check can fail: a stub without its docstrings is reported
    stripped = mod.STUB.read_text().replace('"""Price units per tick."""', "...")
    assert any("tick_size" in p for p in mod.rewrite(stripped)[1])
