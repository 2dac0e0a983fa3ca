"""Instruction-count benchmarks: the regression gate of `.ci/run`.

Counts instructions per event with callgrind, which repeats to the
instruction whatever else the machine is doing (wall-clock time on the shared
CI machines moves +-20%, so a timing gate would be noise):

* Rust workloads (`rust/core/benches/instructions.rs`: the streaming step L2
  and L3, the step while a reader is subscribed, bulk replays at depth 0/10
  with and without signals and detectors, a rolling window, VPIN), counted
  inside their `measured_*` function only;
* Python hot paths as the README shows them (`benches/instructions_py.py`:
  `update("bid", ...)` + `best_*`, `update_ticks`, a 1-event `apply`,
  `replay(depth=0)`, `BinanceDepth(book=).on_message`), each run for two
  event counts so that start-up and set-up cancel: (I(n2) - I(n1)) / (n2 - n1).

    python benches/instructions.py            # print the table, compare
    python benches/instructions.py --check    # ... and exit 1 on a > 5% regression
    python benches/instructions.py --update   # rewrite the baseline

The baseline (`benches/instructions.json`) records the toolchain it was
measured with; rows measured with another rustc (Rust rows) or another Python
(Python rows) are printed but not gated, since their counts are not
comparable. The Python rows need the extension as `.ci/run` builds it
(`pip install .`, release profile), not an editable development build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benches" / "instructions.json"
PY_SCRIPT = ROOT / "benches" / "instructions_py.py"
PY_WORKLOADS = ["py_update_natural", "py_update_ticks", "py_apply_1_event",
                "py_replay_depth0", "py_binance_on_message"]
N1, N2 = 20_000, 60_000
THRESHOLD = 0.05


def sh(cmd: list[str], **kw: object) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout  # type: ignore[call-overload, no-any-return]


def fingerprint() -> dict[str, str]:
    import numpy

    return {
        "rustc": sh(["rustc", "--version"]).strip(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "numpy": numpy.__version__,
        "valgrind": sh(["valgrind", "--version"]).strip(),
        "machine": platform.machine(),
    }


def harness() -> str:
    """Builds the Rust workloads (profile `ci`, as `cargo test` in the gate)."""
    out = sh(["cargo", "build", "-p", "lobkit-core", "--profile", "ci", "--bench", "instructions",
              "--locked", "--message-format=json"], cwd=ROOT)
    for line in out.splitlines():
        msg = json.loads(line)
        if (msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "instructions"
                and msg.get("executable")):
            return str(msg["executable"])
    raise SystemExit("cargo did not report the instructions bench executable")


def callgrind(cmd: list[str], toggle: str | None = None) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        if toggle:
            vg.append(f"--toggle-collect={toggle}")
        # Fixed string hashing, and no OpenBLAS thread pool: its idle threads
        # spin, which alone moved a Python run's count by +-3%.
        env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        res = subprocess.run(vg + cmd, capture_output=True, text=True, env=env, check=False)
        if res.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed under callgrind:\n{res.stderr[-2000:]}")
        m = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
        if not m:
            raise SystemExit(f"no callgrind summary for {' '.join(cmd)}")
        return int(m[1]), res.stdout


def rust_rows(exe: str, only: set[str] | None) -> dict[str, float]:
    rows = {}
    for name in sh([exe, "--list"]).split():
        if only and name not in only:
            continue
        instr, out = callgrind([exe, name], toggle="*measured_*")
        n = int(re.search(r"events=(\d+)", out)[1])  # type: ignore[index]
        rows[name] = instr / n
        print(f"  {name:32} {rows[name]:10.1f}", file=sys.stderr)
    return rows


def python_rows(only: set[str] | None) -> dict[str, float]:
    import lobkit

    if lobkit._core.DEBUG_BUILD or Path(lobkit.__file__).resolve().is_relative_to(ROOT / "python"):
        raise SystemExit("the Python rows need lobkit installed as .ci/run does (`pip install .`,"
                         " a release build), not the checkout's editable build")
    rows = {}
    for name in PY_WORKLOADS:
        if only and name not in only:
            continue
        counts = [callgrind([sys.executable, str(PY_SCRIPT), name, str(n)])[0] for n in (N1, N2)]
        rows[name] = (counts[1] - counts[0]) / (N2 - N1)
        print(f"  {name:32} {rows[name]:10.1f}", file=sys.stderr)
    return rows


def compare(rows: dict[str, float], base: dict[str, Any],
            env: dict[str, str]) -> tuple[str, list[str]]:
    """The table, and the gated rows more than THRESHOLD above the baseline."""
    comparable = {
        "rust": base["env"].get("rustc") == env["rustc"],
        "python": base["env"].get("python") == env["python"],
    }
    failed = []
    out = [f"\n{'workload':42} {'instr/event':>12} {'baseline':>12} {'change':>8}"]
    for name, v in rows.items():
        b = base["rows"].get(name)
        if b is None:
            out.append(f"{name:42} {v:12.1f} {'(new)':>12}")
            continue
        change = v / b - 1
        gated = comparable[name.split("/")[0]]
        flag = ""
        if change > THRESHOLD:
            flag = "  REGRESSION" if gated else "  (not gated: other toolchain)"
            if gated:
                failed.append(name)
        elif change < -THRESHOLD:
            flag = "  faster: --update the baseline"
        out.append(f"{name:42} {v:12.1f} {b:12.1f} {change:+8.1%}{flag}")
    for part, ok in comparable.items():
        key = "rustc" if part == "rust" else "python"
        if not ok and any(k.startswith(part) for k in rows):
            out.append(f"note: {part} rows not gated: baseline measured with "
                       f"{base['env'].get(key)}, this run with {env[key]}")
    return "\n".join(out), failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 on a regression > 5%%")
    ap.add_argument("--update", action="store_true", help="rewrite benches/instructions.json")
    ap.add_argument("--only", nargs="*", help="workload names")
    ap.add_argument("--rust-only", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the rows for github-action-benchmark "
                                              "(customSmallerIsBetter)")
    a = ap.parse_args()
    only = set(a.only) if a.only else None
    env = fingerprint()
    print("measuring (instructions per event)...", file=sys.stderr)
    rows = {f"rust/{k}": v for k, v in rust_rows(harness(), only).items()}
    if not a.rust_only:
        rows.update({f"python/{k}": v for k, v in python_rows(only).items()})

    base = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"env": {}, "rows": {}}
    report, failed = compare(rows, base, env)
    print(report)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps([{"name": k, "unit": "instructions/event", "value": round(v, 1)}
                                      for k, v in rows.items()], indent=1) + "\n")
    if a.update:
        merged = dict(base["rows"]) if only or a.rust_only else {}
        merged.update({k: round(v, 1) for k, v in rows.items()})
        BASELINE.write_text(json.dumps({"env": env, "threshold": THRESHOLD,
                                        "rows": dict(sorted(merged.items()))}, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    if failed and a.check:
        print(f"FAILED: {len(failed)} workload(s) regressed by more than {THRESHOLD:.0%}: "
              f"{', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
