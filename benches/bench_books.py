"""pytest-benchmark benches. In every pytest run they execute once as smoke
tests (``--benchmark-disable``) and assert their results; measure with

    python -m pytest benches --benchmark-enable --benchmark-only
"""

from pathlib import Path

import numpy as np
import pytest

import lobkit
from lobkit.io import read_lobster_reconciled
from lobkit.testing import synthetic_l2, synthetic_l3

GOOG = (Path(lobkit.__path__[0]) / "data" / "lobster"
        / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz")


@pytest.fixture
def bench(benchmark):
    """pytest-benchmark's fixture, refusing to measure a debug build."""
    if not benchmark.disabled and lobkit._core.DEBUG_BUILD:
        pytest.fail("refusing to measure a debug build: pip install . (release profile)")
    return benchmark


@pytest.fixture(scope="module")
def l2_events():
    return synthetic_l2(200_000, seed=42)


def test_stream_l2_update_and_best(bench, l2_events):
    rows = list(zip(l2_events["side"][:50_000].tolist(), l2_events["price"][:50_000].tolist(),
                    l2_events["size"][:50_000].tolist()))

    def run():
        b = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
        up = b.update_ticks
        for s, p, q in rows:
            up(s, p, q)
            b.best_bid_ticks
            b.best_ask_ticks
        return b

    b = bench(run)
    r = lobkit.replay(l2_events[:50_000], depth=0)
    assert (b.best_bid_ticks, b.best_ask_ticks) == (r.best_bid_price[-1], r.best_ask_price[-1])


@pytest.mark.parametrize("depth", [0, 10])
def test_bulk_l2_replay(bench, l2_events, depth):
    r = bench(lambda: lobkit.replay(l2_events, depth=depth))
    assert len(r) == len(l2_events) and r.book.stats["crossed"] == 0
    assert (r.best_ask_price[1:] > r.best_bid_price[1:]).all()


def test_bulk_l3_synthetic(bench):
    ev = synthetic_l3(200_000, seed=7)
    r = bench(lambda: lobkit.replay(ev, depth=0))
    assert r.book.stats["crossed"] == 0 and r.book.n_orders > 0


def test_bulk_l3_lobster(bench):
    ev, _ = read_lobster_reconciled(GOOG)
    r = bench(lambda: lobkit.replay(ev, depth=10, tick_size=1e-4, unknown_id="anonymous"))
    assert r.book.best_bid == (575.4, 10.0)
    assert np.all(r.best_ask_price[20:] > r.best_bid_price[20:])


@pytest.mark.parametrize("signals", [False, True])
def test_bulk_signals_on_vs_off(bench, l2_events, signals):
    """Issue 3's budget: all signals on within 2x of book-only replay (compare
    the two rows of this parametrisation; peers.py prints the ratio)."""
    r = bench(lambda: lobkit.replay(l2_events, depth=10, signals=signals))
    assert (r.ofi is not None) == signals
    if signals:
        assert r.book.ofi_total == r.ofi.sum() and (r.ofi_levels[:, 0] == r.ofi).all()


def test_peers_script_smoke(capsys):
    """The side-by-side script runs (peers that are not installed are reported)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("peers", Path(__file__).with_name("peers.py"))
    peers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peers)
    if lobkit._core.DEBUG_BUILD:
        pytest.skip("debug build")
    assert peers.main(["--events", "20000", "--stream-events", "2000", "--repeat", "1",
                       "--real-max", "5000"]) == 0
    out = capsys.readouterr().out
    assert "lobkit update(str)" in out and "lobkit update_ticks" in out and "ns/event" in out
    assert "BinanceDepth(book=).on_message" in out and "book.apply(1 event)" in out
    assert "bulk L3" in out
    assert "signals on" in out and "ratio" in out


def test_engine_bench_script_smoke(capsys):
    """benches/engine.py runs end to end on a small input and reports each row."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("engine_bench", Path(__file__).with_name("engine.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--events", "20000", "--pings", "200", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "4 reader threads" in out and "p99" in out and "ns per consistent" in out


def test_engine_push_and_flush(bench):
    ev = synthetic_l2(200_000, seed=8)

    def run():
        with lobkit.Engine(lobkit.L2Book()) as eng:
            eng.push(ev)
            eng.flush()
            return eng.stats()

    st = bench(run)
    assert st["applied"] == len(ev)


@pytest.mark.parametrize("detect", [False, True])
def test_bulk_l3_detectors_on_vs_off(bench, detect):
    """Issue 4's budget: all detectors on within 2x of book-only replay
    (compare the two rows; peers.py prints the ratio)."""
    ev, _ = read_lobster_reconciled(GOOG)
    r = bench(lambda: lobkit.replay(ev, depth=0, unknown_id="anonymous",
                                    detect={"tick": 100} if detect else None))
    assert (r.alerts is not None) == detect
