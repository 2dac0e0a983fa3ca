"""The instruction-count gate itself (`benches/instructions.py`; `.ci/run` runs
it under callgrind): its comparison fails on a regression, and its baseline
covers every workload."""

import importlib.util
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _gate():
    spec = importlib.util.spec_from_file_location("instructions", HERE / "instructions.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ENV = {"rustc": "rustc 1.95.0", "python": "CPython 3.11.7"}
BASE = {"env": ENV, "rows": {"rust/l2_step": 200.0, "python/py_update_ticks": 1000.0}}


def test_a_regression_beyond_the_threshold_fails_the_gate():
    g = _gate()
    report, failed = g.compare({"rust/l2_step": 211.0, "python/py_update_ticks": 1040.0}, BASE, ENV)
    assert failed == ["rust/l2_step"] and "REGRESSION" in report  # +5.5% fails, +4% passes
    _, failed = g.compare({"rust/l2_step": 180.0, "python/py_update_ticks": 1000.0}, BASE, ENV)
    assert failed == []


def test_counts_from_another_toolchain_are_shown_but_not_gated():
    g = _gate()
    other = dict(ENV, rustc="rustc 1.96.0")
    report, failed = g.compare({"rust/l2_step": 300.0, "python/py_update_ticks": 1200.0}, BASE,
                               other)
    assert failed == ["python/py_update_ticks"]
    assert "not gated" in report and "rustc 1.96.0" in report


def test_the_baseline_covers_every_workload():
    base = json.loads((HERE / "instructions.json").read_text())
    rust_src = (HERE.parent / "rust" / "core" / "benches" / "instructions.rs").read_text()
    listed = re.search(r"const WORKLOADS: &\[&str\] = &\[(.*?)\];", rust_src, re.DOTALL)
    assert listed is not None
    rust = {f"rust/{n}" for n in re.findall(r'"(\w+)"', listed[1])}
    python = {f"python/{n}" for n in _gate().PY_WORKLOADS}
    assert set(base["rows"]) == rust | python
    assert all(v > 0 for v in base["rows"].values())
