"""The README's examples run as written, and its commands are the ones CI runs."""

import re
import subprocess
import sys

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_has_streaming_and_bulk_examples():
    assert len(BLOCKS) >= 2
    assert "L2Book(" in BLOCKS[0] and "lobkit.replay(" in BLOCKS[1]


#: What a README example needs beyond numpy (an installed wheel tested with the
#: minimal test group skips those examples instead of failing on an import).
OPTIONAL = {"to_pandas": "pandas", "bars_pandas": "pandas", "import pandas": "pandas",
            "to_polars": "polars",
            "parquet": "pyarrow", "to_arrow": "pyarrow", "plot": "matplotlib",
            "dask": "dask", "read_dbn": "databento_dbn"}


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_example_runs(i, capsys):
    for word, module in OPTIONAL.items():
        if word in BLOCKS[i]:
            pytest.importorskip(module)
    exec(compile(BLOCKS[i], f"README.md[python block {i}]", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out  # the examples print what they show


def test_ci_runs_the_readme_commands():
    cmds = re.findall(r"```bash\n(.*?)\n```", README, re.S)[:2]
    assert cmds == ['pip install . && python -m lobkit demo',
                    'pip install --group test && python -m pytest']
    if not (ROOT / ".ci").is_dir():
        pytest.skip("not a checkout (an sdist carries no CI script)")
    ci = (ROOT / ".ci" / "run").read_text()
    for c in cmds:
        assert c in ci


def test_demo_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "lobkit", "demo"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "book == LOBSTER orderbook file (all 10 levels) on 20,000/20,000 rows" in out.stdout
    assert "unexplained 0" in out.stdout
    assert "\r" not in out.stderr  # no progress bar into a pipe or a log
    assert re.search(r"bid size\s+bid \| ask", out.stdout)


def test_replay_command(tmp_path):
    from conftest import BUNDLED
    src = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
    npz = tmp_path / "out.npz"
    out = subprocess.run([sys.executable, "-m", "lobkit", "replay", str(src), "--reconcile",
                          "--depth", "5", "--out", str(npz), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    import numpy as np
    with np.load(npz) as z:
        assert z["bid_price"].shape[1] == 5 and len(z["ts"]) == len(z["bid_price"]) > 20_000
    assert "L3Book(bid=575.4x10, ask=575.93x21" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "lobkit", "replay", str(src), "--format", "itch"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice: 'itch'" in bad.stderr
