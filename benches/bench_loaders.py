"""Loader benches (smoke tests in every pytest run): bundled excerpts, each
checked for its event count. ``python benches/loaders.py`` prints the
side-by-side table with pandas."""

from pathlib import Path

import pytest

import lobkit
from lobkit.io import read_binance, read_lobster

DATA = Path(lobkit.__path__[0]) / "data"
GOOG = DATA / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
BINANCE = DATA / "binance" / "btcusdt_usdm_20240808_head4000.gz"


@pytest.fixture
def bench(benchmark):
    if not benchmark.disabled and lobkit._core.DEBUG_BUILD:
        pytest.fail("refusing to measure a debug build: pip install . (release profile)")
    return benchmark


def test_load_lobster(bench):
    ev = bench(read_lobster, GOOG)
    assert len(ev) == 20_000 + 20  # messages + the 20 seed levels before the first one


def test_load_binance(bench):
    feed = bench(read_binance, BINANCE, tick_size="0.1", lot_size="0.001")
    assert feed.in_sync and len(feed.events) == 20_893


def test_loaders_script_smoke():
    import subprocess
    import sys

    pytest.importorskip("pandas")  # the script times pandas.read_csv beside the loaders

    out = subprocess.run([sys.executable, str(Path(__file__).parent / "loaders.py"), "--repeat",
                          "1", "--rows", "2000"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [l for l in out.stdout.splitlines()[1:] if l.strip()]
    assert len(rows) >= 4 and all(l.rstrip().endswith("x") for l in rows)
