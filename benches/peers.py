"""Side-by-side: lobkit and its peers on the same workloads, in one process.

    pip install order-book nautilus_trader hftbacktest   # the peers, from PyPI
    python benches/peers.py [--events 1000000] [--repeat 5]

Workloads: the seeded synthetic crypto-like L2 diff stream
(``lobkit.testing.synthetic_l2``; tick 0.01, lot 0.001) and the real LOBSTER
messages (``../shared/data`` or the bundled excerpt). Timings are medians of
``--repeat`` runs; ratios are peer time / lobkit time from the same run.
Missing peers are reported as such, not skipped silently.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import lobkit
from lobkit.testing import synthetic_l2

TICK, LOT = 0.01, 0.001


def median_time(fn, repeat):
    ts = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


# ---- streaming: update + best bid/ask read, from a Python loop ----

def lobkit_stream_ticks(rows):
    b = lobkit.L2Book(tick_size=TICK, lot_size=LOT)
    up = b.update_ticks
    bb = ba = None
    for s, p, q in rows:
        up(s, p, q)
        bb = b.best_bid_ticks
        ba = b.best_ask_ticks
    return bb * TICK, ba * TICK


def lobkit_stream_float(rows_f):
    b = lobkit.L2Book(tick_size=TICK, lot_size=LOT)
    up = b.update
    bb = ba = None
    for s, p, q in rows_f:
        up(s, p, q)
        bb = b.best_bid_price
        ba = b.best_ask_price
    return bb, ba


def orderbook_stream(rows_f):
    from order_book import OrderBook

    ob = OrderBook()
    bids, asks = ob.bids, ob.asks
    bb = ba = None
    for s, p, q in rows_f:
        side = bids if s == 1 else asks
        if q == 0:
            try:
                del side[p]
            except KeyError:
                pass
        else:
            side[p] = q
        bb = bids.index(0)[0] if len(bids) else None
        ba = asks.index(0)[0] if len(asks) else None
    return bb, ba


def nautilus_stream(rows_f):
    from nautilus_trader.core.nautilus_pyo3 import (
        BookOrder, BookType, InstrumentId, OrderBook, OrderSide, Price, Quantity)

    book = OrderBook(InstrumentId.from_str("BTCUSDT.BINANCE"), BookType.L2_MBP)
    buy, sell = OrderSide.BUY, OrderSide.SELL
    bb = ba = None
    for i, (s, p, q) in enumerate(rows_f):
        o = BookOrder(buy if s == 1 else sell, Price(p, 2), Quantity(q, 3), 0)
        if q == 0:
            book.delete(o, 0, i, i)
        else:
            book.update(o, 0, i, i)
        bb = book.best_bid_price()
        ba = book.best_ask_price()
    return (float(bb) if bb is not None else None), (float(ba) if ba is not None else None)


# ---- bulk: per-event best bid/ask over the whole array ----

def lobkit_bulk(ev):
    r = lobkit.replay(ev, depth=0)
    return r.best_bid_price, r.best_ask_price


def hftbacktest_setup(ev):
    from hftbacktest import (BUY_EVENT, DEPTH_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT,
                             BacktestAsset, event_dtype)

    data = np.zeros(len(ev), event_dtype)
    data["ev"] = EXCH_EVENT | LOCAL_EVENT | DEPTH_EVENT | np.where(ev["side"] == 1, BUY_EVENT,
                                                                     SELL_EVENT)
    data["exch_ts"] = ev["ts"]
    data["local_ts"] = ev["ts"]
    data["px"] = ev["price"] * TICK
    data["qty"] = ev["size"] * LOT
    lo, hi = (ev["price"].min() - 10) * TICK, (ev["price"].max() + 10) * TICK
    return data, lo, hi


def hftbacktest_bulk(data, lo, hi):
    from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest
    from numba import njit

    @njit
    def step(hbt, bid, ask, ts):
        i = 0
        # 2 = a market feed event arrived; 1 = end of data (documented codes)
        while hbt.wait_next_feed(False, 1 << 62) == 2 and i < len(bid):
            d = hbt.depth(0)
            bid[i] = d.best_bid_tick
            ask[i] = d.best_ask_tick
            ts[i] = hbt.current_timestamp
            i += 1
        return i

    asset = (BacktestAsset().data(data).linear_asset(1.0).constant_order_latency(0, 0)
             .risk_adverse_queue_model().no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
             .tick_size(TICK).lot_size(LOT).roi_lb(lo).roi_ub(hi))
    hbt = ROIVectorMarketDepthBacktest([asset])
    bid = np.zeros(len(data), np.int64)
    ask = np.zeros(len(data), np.int64)
    ts = np.zeros(len(data), np.int64)
    n = step(hbt, bid, ask, ts)
    hbt.close()
    return bid[:n], ask[:n], ts[:n]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--stream-events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args(argv)
    if lobkit._core.DEBUG_BUILD:
        sys.exit("refusing to benchmark a debug build of lobkit: pip install . (release)")
    res = {"machine": f"{platform.machine()} {platform.processor() or ''} {platform.python_version()}",
           "lobkit": lobkit.__version__}
    ev = synthetic_l2(a.events, seed=42)
    sev = ev[: a.stream_events]
    rows = list(zip(sev["side"].tolist(), sev["price"].tolist(), sev["size"].tolist()))
    rows_f = [(s, round(p * TICK, 2), round(q * LOT, 3)) for s, p, q in rows]
    n = len(rows)
    print(f"streaming: {n:,} L2 updates + best bid/ask read per event (median of {a.repeat})")
    t_lk, want = median_time(lambda: lobkit_stream_ticks(rows), a.repeat)
    t_lkf, got = median_time(lambda: lobkit_stream_float(rows_f), a.repeat)
    assert got == want, (got, want)
    res["stream_lobkit_ns"] = t_lk / n * 1e9
    res["stream_lobkit_float_ns"] = t_lkf / n * 1e9
    print(f"  lobkit update_ticks   {t_lk / n * 1e9:8.1f} ns/event")
    print(f"  lobkit update (float) {t_lkf / n * 1e9:8.1f} ns/event")
    for name, fn in (("order-book", orderbook_stream), ("nautilus_trader", nautilus_stream)):
        try:
            t, got = median_time(lambda: fn(rows_f), a.repeat)
        except ImportError as e:
            print(f"  {name:<21} not installed ({e.name})")
            continue
        assert got == want, (name, got, want)
        res[f"stream_{name}_ns"] = t / n * 1e9
        print(f"  {name:<21} {t / n * 1e9:8.1f} ns/event   {t / t_lk:5.1f}x lobkit ticks, "
              f"{t / t_lkf:5.1f}x lobkit float")

    print(f"\nbulk: {len(ev):,} L2 updates, best bid/ask after every event")
    t_b, (bb, ba) = median_time(lambda: lobkit_bulk(ev), a.repeat)
    res["bulk_lobkit_Mev_s"] = len(ev) / t_b / 1e6
    print(f"  lobkit replay         {len(ev) / t_b / 1e6:8.1f} M events/s")
    try:
        data, lo, hi = hftbacktest_setup(ev)
        hftbacktest_bulk(data[:1000], lo, hi)  # numba compile outside the timing
        t_h, (hb, ha, hts) = median_time(lambda: hftbacktest_bulk(data, lo, hi), a.repeat)
        nh = len(hts)
        # hftbacktest steps once per timestamp (events sharing one are applied
        # together): compare with lobkit's book after the last event of each.
        at = np.searchsorted(ev["ts"], hts, side="right") - 1
        same = np.array_equal(hb, bb[at]) and np.array_equal(ha, ba[at])
        res["bulk_hftbacktest_Mev_s"] = nh / t_h / 1e6
        print(f"  hftbacktest ROIVector {nh / t_h / 1e6:8.1f} M events/s ({nh:,} feed steps; same "
              f"best bid/ask: {same})   lobkit {t_h / t_b * len(ev) / nh:5.1f}x faster")
    except ImportError as e:
        print(f"  hftbacktest not installed ({e.name})")

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "lobster"
    from lobkit.io import read_lobster, read_lobster_reconciled
    p = shared / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    if not p.exists():
        p = Path(lobkit.__path__[0]) / "data" / "lobster" / \
            "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
    lev = read_lobster(p)
    rev, _ = read_lobster_reconciled(p)
    print(f"\nbulk L3: LOBSTER {p.name} ({len(lev):,} events)")
    for label, e in (("messages", lev), ("reconciled", rev)):
        t, _ = median_time(lambda: lobkit.replay(e, depth=0, unknown_id="anonymous"), a.repeat)
        t10, _ = median_time(lambda: lobkit.replay(e, depth=10, unknown_id="anonymous"), a.repeat)
        res[f"l3_{label}_Mev_s"] = len(e) / t / 1e6
        res[f"l3_{label}_depth10_Mev_s"] = len(e) / t10 / 1e6
        print(f"  {label:<10} depth 0: {len(e) / t / 1e6:6.1f} M msgs/s   depth 10: "
              f"{len(e) / t10 / 1e6:6.1f} M msgs/s")
    print("\nsignals: all per-event signal columns on vs book only (same run, same events)")
    for label, e, kw in (("L2 synthetic", ev, {}), ("L3 LOBSTER", rev, {"unknown_id": "anonymous"})):
        for d in (0, 10):
            t_off, _ = median_time(lambda: lobkit.replay(e, depth=d, **kw), a.repeat)
            t_on, _ = median_time(lambda: lobkit.replay(e, depth=d, signals=True, **kw), a.repeat)
            res[f"signals_ratio_{label.split()[0]}_depth{d}"] = t_on / t_off
            print(f"  {label:<12} depth {d:>2}: book only {len(e) / t_off / 1e6:6.1f} M/s, "
                  f"signals on {len(e) / t_on / 1e6:6.1f} M/s   ratio {t_on / t_off:4.2f}x")
    print("\ndetectors: all six on vs book only (L3 LOBSTER, depth 0, same run)")
    t_off, _ = median_time(lambda: lobkit.replay(rev, depth=0, unknown_id="anonymous"), a.repeat)
    t_on, r_on = median_time(lambda: lobkit.replay(rev, depth=0, unknown_id="anonymous",
                                                   detect={"tick": 100}), a.repeat)
    res["detect_ratio"] = t_on / t_off
    print(f"  book only {len(rev) / t_off / 1e6:6.1f} M/s, detectors on {len(rev) / t_on / 1e6:6.1f} M/s"
          f"   ratio {t_on / t_off:4.2f}x   ({len(r_on.alerts)} alerts)")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
