"""Side-by-side: lobkit and its peers on the same workloads, in one process.

    pip install order-book nautilus_trader hftbacktest   # the peers, from PyPI
    python benches/peers.py [--events 1000000] [--repeat 7] [--json out.json]

Workloads, real data first: the L2 level updates of the Binance USD-M BTCUSDT
capture (``../shared/data/binance/usdm``, 2024-08-08; the bundled 4,000-line
excerpt when the shared data is absent), then the seeded synthetic crypto-like
stream (``lobkit.testing.synthetic_l2(seed=42)``). Every implementation does
the same work on the same events and must end with the same answer (checked).

Each repetition runs every implementation once, interleaved, so machine drift
hits all alike; reported: median time, min–max, and the peer/lobkit ratio of
the medians with the range of per-repetition ratios. Sections:

1. streaming, the natural API: ``book.update("bid"/"ask", price, size)`` then
   ``book.best_bid`` / ``book.best_ask`` tuples, per event, from Python; and the
   integer form (``update_ticks`` + ``best_*_ticks``); vs nautilus_trader's pyo3
   ``OrderBook`` (update/delete + ``best_*_price``) and order-book.
2. bulk: ``lobkit.replay(events, depth=0)`` (best bid/ask after every event) vs
   hftbacktest's ``ROIVectorMarketDepthBacktest`` stepping ``wait_next_feed``
   and reading best bid/ask each step (numba), total time on equal events.
3. a feed message to a book: ``BinanceDepth(..., book=book).on_message`` per
   message of the real capture vs ``json.loads`` of the same messages alone;
   and ``book.apply`` of a one-event array.
4. L3 LOBSTER replays, signals and detectors (lobkit only: no peer keeps
   these).
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

import lobkit
from lobkit.testing import synthetic_l2

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def interleaved(fns: dict, repeat: int) -> tuple[dict, dict]:
    """Runs every fn once per repetition, in order; returns ({name: [s]}, {name: result})."""
    times = {k: [] for k in fns}
    out = {}
    for _ in range(repeat):
        for k, f in fns.items():
            t = time.perf_counter()
            out[k] = f()
            times[k].append(time.perf_counter() - t)
    return times, out


def line(name: str, ts: list, n: int, unit: str = "ns/event", base: list | None = None,
         base_name: str = "lobkit") -> str:
    med = statistics.median(ts) / n * 1e9
    s = f"    {name:<34} {med:9.1f} {unit} ({min(ts) / n * 1e9:.1f}-{max(ts) / n * 1e9:.1f})"
    if base is not None:
        r = statistics.median(ts) / statistics.median(base)
        per = [a / b for a, b in zip(ts, base)]
        s += f"   {r:5.2f}x {base_name} ({min(per):.2f}-{max(per):.2f})"
    return s


# ---- workloads ---------------------------------------------------------------

class Workload:
    def __init__(self, name: str, events: np.ndarray, tick: float, lot: float, pdec: int,
                 qdec: int):
        self.name, self.tick, self.lot, self.pdec, self.qdec = name, tick, lot, pdec, qdec
        self.events = events
        lv = events[events["kind"] == lobkit.Kind.SET_LEVEL]
        self.levels = lv
        s, p, q = lv["side"].tolist(), lv["price"].tolist(), lv["size"].tolist()
        self.rows_ticks = list(zip(s, p, q))
        self.rows_str = [("bid" if a == 1 else "ask", round(b * tick, pdec), round(c * lot, qdec))
                         for a, b, c in self.rows_ticks]
        self.rows_f = [(a, b, c) for (a, _, _), (_, b, c) in zip(self.rows_ticks, self.rows_str)]


def binance_workload(limit: int | None):
    from lobkit.io import read_binance

    p = SHARED / "binance" / "usdm" / "btcusdt_20240808.gz"
    if not p.exists():
        p = Path(lobkit.__path__[0]) / "data" / "binance" / "btcusdt_usdm_20240808_head4000.gz"
    feed = read_binance(p, tick_size="0.1", lot_size="0.001")
    return p, Workload(f"Binance USD-M BTCUSDT diffs ({p.name}, real)", feed.events[:limit], 0.1,
                       0.001, 1, 3)


# ---- 1. streaming ------------------------------------------------------------

def lobkit_natural(w: Workload):
    b = lobkit.L2Book(tick_size=w.tick, lot_size=w.lot)
    up = b.update
    bb = ba = None
    for s, p, q in w.rows_str:
        up(s, p, q)
        bb = b.best_bid
        ba = b.best_ask
    return (bb[0] if bb else None), (ba[0] if ba else None)


def lobkit_ticks(w: Workload):
    b = lobkit.L2Book(tick_size=w.tick, lot_size=w.lot)
    up = b.update_ticks
    bb = ba = None
    for s, p, q in w.rows_ticks:
        up(s, p, q)
        bb = b.best_bid_ticks
        ba = b.best_ask_ticks
    return round(bb * w.tick, w.pdec), round(ba * w.tick, w.pdec)


def nautilus_stream(w: Workload):
    from nautilus_trader.core.nautilus_pyo3 import (
        BookOrder, BookType, InstrumentId, OrderBook, OrderSide, Price, Quantity)

    book = OrderBook(InstrumentId.from_str("BTCUSDT.BINANCE"), BookType.L2_MBP)
    buy, sell = OrderSide.BUY, OrderSide.SELL
    pd, qd = w.pdec, w.qdec
    bb = ba = None
    for i, (s, p, q) in enumerate(w.rows_f):
        o = BookOrder(buy if s == 1 else sell, Price(p, pd), Quantity(q, qd), 0)
        if q == 0:
            book.delete(o, 0, i, i)
        else:
            book.update(o, 0, i, i)
        bb = book.best_bid_price()
        ba = book.best_ask_price()
    return (float(bb) if bb is not None else None), (float(ba) if ba is not None else None)


def orderbook_stream(w: Workload):
    from order_book import OrderBook

    ob = OrderBook()
    bids, asks = ob.bids, ob.asks
    bb = ba = None
    for s, p, q in w.rows_f:
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


def streaming(w: Workload, repeat: int, res: dict, key: str, order_book: bool):
    n = len(w.rows_ticks)
    print(f"\n1. streaming, {w.name}: {n:,} level updates + best bid/ask per event, "
          f"median of {repeat} (min-max)")
    fns = {"natural": lambda: lobkit_natural(w), "ticks": lambda: lobkit_ticks(w)}
    peers = [("nautilus_trader", nautilus_stream)] + \
        ([("order-book", orderbook_stream)] if order_book else [])
    for name, f in peers:
        try:
            __import__({"nautilus_trader": "nautilus_trader", "order-book": "order_book"}[name])
            fns[name] = (lambda f=f: f(w))
        except ImportError:
            print(f"    {name} not installed")
    times, out = interleaved(fns, repeat)
    def norm(v):
        return tuple(None if x is None else round(x, w.pdec) for x in v)

    want = norm(out["natural"])
    for k, v in out.items():
        assert norm(v) == want, (k, v, want)
    print(line("lobkit update(str)+best_bid/ask", times["natural"], n))
    print(line("lobkit update_ticks+best_*_ticks", times["ticks"], n))
    res[f"{key}_natural_ns"] = statistics.median(times["natural"]) / n * 1e9
    res[f"{key}_ticks_ns"] = statistics.median(times["ticks"]) / n * 1e9
    for name in [p for p, _ in peers if p in times]:
        per = [a / b for a, b in zip(times[name], times["ticks"])]
        vs_ticks = statistics.median(times[name]) / statistics.median(times["ticks"])
        print(line(name, times[name], n, base=times["natural"], base_name="natural")
              + f", {vs_ticks:5.2f}x ticks ({min(per):.2f}-{max(per):.2f})")
        res[f"{key}_{name}_ns"] = statistics.median(times[name]) / n * 1e9
        res[f"{key}_{name}_vs_natural"] = statistics.median(times[name]) / statistics.median(
            times["natural"])
        res[f"{key}_{name}_vs_ticks"] = statistics.median(times[name]) / statistics.median(
            times["ticks"])


# ---- 2. bulk -----------------------------------------------------------------

def hftbacktest_setup(w: Workload):
    from hftbacktest import BUY_EVENT, DEPTH_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT, event_dtype

    ev = w.levels
    data = np.zeros(len(ev), event_dtype)
    data["ev"] = EXCH_EVENT | LOCAL_EVENT | DEPTH_EVENT | np.where(ev["side"] == 1, BUY_EVENT,
                                                                     SELL_EVENT)
    data["exch_ts"] = ev["ts"]
    data["local_ts"] = ev["ts"]
    data["px"] = ev["price"] * w.tick
    data["qty"] = ev["size"] * w.lot
    lo, hi = (ev["price"].min() - 10) * w.tick, (ev["price"].max() + 10) * w.tick
    return data, lo, hi


_STEP = None


def hftbacktest_bulk(data, lo, hi, tick, lot):
    global _STEP
    from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

    if _STEP is None:
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

        _STEP = step
    asset = (BacktestAsset().data(data).linear_asset(1.0).constant_order_latency(0, 0)
             .risk_adverse_queue_model().no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
             .tick_size(tick).lot_size(lot).roi_lb(lo).roi_ub(hi))
    hbt = ROIVectorMarketDepthBacktest([asset])
    bid = np.zeros(len(data), np.int64)
    ask = np.zeros(len(data), np.int64)
    ts = np.zeros(len(data), np.int64)
    n = _STEP(hbt, bid, ask, ts)
    hbt.close()
    return bid[:n], ask[:n], ts[:n]


def bulk(w: Workload, repeat: int, res: dict, key: str):
    ev = w.levels
    n = len(ev)
    print(f"\n2. bulk, {w.name}: {n:,} level updates, best bid/ask after every event")
    fns = {"lobkit": lambda: lobkit.replay(ev, depth=0, book_type="l2")}
    try:
        data, lo, hi = hftbacktest_setup(w)
        hftbacktest_bulk(data[:1000], lo, hi, w.tick, w.lot)  # numba compile, outside timing
        fns["hftbacktest"] = lambda: hftbacktest_bulk(data, lo, hi, w.tick, w.lot)
    except ImportError as e:
        print(f"    hftbacktest not installed ({e.name})")
    times, out = interleaved(fns, repeat)
    print(line("lobkit replay(depth=0)", times["lobkit"], n))
    res[f"{key}_bulk_lobkit_ns"] = statistics.median(times["lobkit"]) / n * 1e9
    if "hftbacktest" in times:
        r = out["lobkit"]
        hb, ha, hts = out["hftbacktest"]
        # hftbacktest steps once per timestamp (events sharing one are applied
        # together): compare with lobkit's book after the last event of each.
        at = np.searchsorted(ev["ts"], hts, side="right") - 1
        same = np.array_equal(hb, r.best_bid_price[at]) and np.array_equal(ha, r.best_ask_price[at])
        print(line(f"hftbacktest ROIVector ({len(hts):,} steps)", times["hftbacktest"], n,
                   base=times["lobkit"]) + f"   same best bid/ask: {same}")
        res[f"{key}_bulk_hftbacktest_vs_lobkit"] = statistics.median(
            times["hftbacktest"]) / statistics.median(times["lobkit"])


# ---- 3. feed messages --------------------------------------------------------

def feed_messages(path: Path, repeat: int, res: dict, limit: int | None):
    from lobkit.io import BinanceDepth

    msgs = []
    for raw in gzip.decompress(path.read_bytes()).splitlines()[:limit]:
        ts, _, m = raw.partition(b" ")
        msgs.append((int(ts), m))
    n = len(msgs)

    def owned():
        book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
        on = BinanceDepth(tick_size="0.1", lot_size="0.001", book=book).on_message
        for ts, m in msgs:
            on(m, ts)
        return book.best_bid

    def events_then_apply():
        book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
        on = BinanceDepth(tick_size="0.1", lot_size="0.001").on_message
        for ts, m in msgs:
            ev = on(m, ts)
            if len(ev):
                book.apply(ev)
        return book.best_bid

    def loads():
        f = json.loads
        for _, m in msgs:
            f(m)

    print(f"\n3. feed messages, {path.name}: {n:,} websocket messages (depth, trades, "
          f"bookTicker) into a book")
    times, out = interleaved({"owned": owned, "apply": events_then_apply, "json": loads}, repeat)
    assert out["owned"] == out["apply"]
    print(line("BinanceDepth(book=).on_message", times["owned"], n, unit="ns/msg"))
    print(line("on_message -> events, book.apply", times["apply"], n, unit="ns/msg"))
    print(line("json.loads alone (no book)", times["json"], n, unit="ns/msg",
               base=times["owned"], base_name="on_message(book=)"))
    res["feed_owned_vs_json"] = statistics.median(times["owned"]) / statistics.median(times["json"])
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    one = lobkit.make_events(ts=1, kind=lobkit.Kind.SET_LEVEL, side=1, price=600_000, size=5)
    k = 200_000
    per = [t / k * 1e9 for t in timeit.repeat(lambda: book.apply(one), number=k, repeat=repeat)]
    rep = [t / 2_000 * 1e9 for t in timeit.repeat(
        lambda: lobkit.replay(one, book=book, depth=0), number=2_000, repeat=repeat)]
    print(f"    book.apply(1 event)                {statistics.median(per):9.1f} ns/call "
          f"({min(per):.1f}-{max(per):.1f});  replay(1 event) {statistics.median(rep):,.0f} ns")
    res["apply_one_ns"] = statistics.median(per)


# ---- 4. L3 -------------------------------------------------------------------

def median_time(fn, repeat):
    ts = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def l3_and_signals(ev, repeat: int, res: dict):
    from lobkit.io import read_lobster, read_lobster_reconciled

    p = SHARED / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    if not p.exists():
        p = Path(lobkit.__path__[0]) / "data" / "lobster" / \
            "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
    lev = read_lobster(p)
    rev, _ = read_lobster_reconciled(p)
    print(f"\n4. bulk L3: LOBSTER {p.name} ({len(lev):,} events)")
    for label, e in (("messages", lev), ("reconciled", rev)):
        t, _ = median_time(lambda: lobkit.replay(e, depth=0, unknown_id="anonymous"), repeat)
        t10, _ = median_time(lambda: lobkit.replay(e, depth=10, unknown_id="anonymous"), repeat)
        res[f"l3_{label}_Mev_s"] = len(e) / t / 1e6
        res[f"l3_{label}_depth10_Mev_s"] = len(e) / t10 / 1e6
        print(f"    {label:<10} depth 0: {len(e) / t / 1e6:6.1f} M msgs/s   depth 10: "
              f"{len(e) / t10 / 1e6:6.1f} M msgs/s")
    print("  signals: all per-event signal columns on vs book only (same run, same events)")
    for label, e, kw in (("L2 synthetic", ev, {}), ("L3 LOBSTER", rev, {"unknown_id": "anonymous"})):
        for d in (0, 10):
            t_off, _ = median_time(lambda: lobkit.replay(e, depth=d, **kw), repeat)
            t_on, _ = median_time(lambda: lobkit.replay(e, depth=d, signals=True, **kw), repeat)
            res[f"signals_ratio_{label.split()[0]}_depth{d}"] = t_on / t_off
            print(f"    {label:<12} depth {d:>2}: book only {len(e) / t_off / 1e6:6.1f} M/s, "
                  f"signals on {len(e) / t_on / 1e6:6.1f} M/s   ratio {t_on / t_off:4.2f}x")
    t_off, _ = median_time(lambda: lobkit.replay(rev, depth=0, unknown_id="anonymous"), repeat)
    t_on, r_on = median_time(lambda: lobkit.replay(rev, depth=0, unknown_id="anonymous",
                                                   detect={"tick": 100}), repeat)
    res["detect_ratio"] = t_on / t_off
    print(f"  detectors: all on vs book only (L3 LOBSTER, depth 0): book only "
          f"{len(rev) / t_off / 1e6:6.1f} M/s, detectors on {len(rev) / t_on / 1e6:6.1f} M/s   "
          f"ratio {t_on / t_off:4.2f}x ({len(r_on.alerts)} alerts)")


# ---- 5. order-flow tools -------------------------------------------------------

def order_flow(repeat: int, res: dict):
    """The order-flow tools next to the book-only replay of the same events
    (no peer computes these on an exact book): volume profile and footprint
    (the replay with signals they read included), and the consolidated book
    of two venues against replaying each venue alone."""
    from lobkit.signals import footprint, volume_profile

    usdm_p = SHARED / "binance" / "usdm" / "btcusdt_20240808.gz"
    spot_p = SHARED / "binance" / "spot" / "btcusdt_20240808.gz"
    if not (usdm_p.exists() and spot_p.exists()):
        print("\n5. order-flow tools: skipped (needs the Binance spot and USD-M captures)")
        return
    usdm, spot = lobkit.io.load(usdm_p), lobkit.io.load(spot_p)
    n = len(usdm)
    print(f"\n5. order-flow tools, Binance USD-M BTCUSDT ({n:,} events) and spot ({len(spot):,})")
    t_book, _ = median_time(lambda: lobkit.replay(usdm, depth=0), repeat)
    t_sig, r = median_time(lambda: lobkit.replay(usdm, depth=0, signals=True), repeat)
    t_vp, _ = median_time(lambda: volume_profile(usdm, r), repeat)
    t_fp, _ = median_time(lambda: footprint(usdm, r, every="1min"), repeat)
    for name, t in (("volume_profile", t_sig + t_vp), ("footprint 1min", t_sig + t_fp)):
        res[f"{name.split()[0]}_ratio"] = t / t_book
        print(f"    {name:<16} (replay with signals + tool) {t * 1e3:7.1f} ms = "
              f"{t / t_book:4.2f}x the book-only replay ({t_book * 1e3:.1f} ms)")
    # The streaming profile as a bot meets it: one apply() per feed message.
    from lobkit.signals import LiveFootprint, LiveProfile

    ev = usdm.events
    ends = (np.flatnonzero(ev["flags"] & lobkit.io.F_LAST) + 1).tolist()
    msgs = [ev[a:b] for a, b in zip([0, *ends[:-1]], ends)]

    def live():
        p = LiveProfile(tick_size=usdm.tick_size, lot_size=usdm.lot_size,
                        step_ticks=usdm.step_ticks())
        for m in msgs:
            p.apply(m)
        return p

    def live_fp():
        f = LiveFootprint(every="1min", tick_size=usdm.tick_size, lot_size=usdm.lot_size,
                          step_ticks=usdm.step_ticks())
        for m in msgs:
            f.apply(m)
        return f

    for name, fn in (("LiveProfile", live), ("LiveFootprint", live_fp)):
        t_live, got = median_time(fn, repeat)
        if name == "LiveProfile":
            assert got.poc == volume_profile(usdm).poc
        res[f"{name}_ratio"] = t_live / t_book
        print(f"    {name}.apply per message ({len(msgs):,} calls) {t_live * 1e3:7.1f} ms = "
              f"{t_live / t_book:4.2f}x the book-only replay; {t_live / len(msgs) * 1e9:.0f} ns "
              f"a message, {t_live / n * 1e9:.0f} ns an event")
    t_two, _ = median_time(lambda: (lobkit.replay(usdm, depth=0), lobkit.replay(spot, depth=0)),
                           repeat)
    t_con, c = median_time(lambda: lobkit.consolidate({"spot": spot, "usdm": usdm}), repeat)
    res["consolidate_ratio"] = t_con / t_two
    print(f"    consolidate(spot, usdm)           {t_con * 1e3:7.1f} ms = {t_con / t_two:4.2f}x "
          f"replaying each venue alone ({t_two * 1e3:.1f} ms; {len(c):,} rows, "
          f"{len(c) / t_con / 1e6:.1f} M ev/s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="synthetic bulk events")
    ap.add_argument("--stream-events", type=int, default=200_000,
                    help="synthetic streaming events")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--skip-l3", action="store_true", help="sections 1-3 only")
    ap.add_argument("--real-max", type=int, default=None,
                    help="cut the real capture to this many events/messages (smoke runs)")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args(argv)
    if lobkit._core.DEBUG_BUILD:
        sys.exit("refusing to benchmark a debug build of lobkit: pip install . (release)")
    res = {"machine": f"{platform.machine()} {platform.processor() or ''} "
                      f"{platform.python_version()}", "lobkit": lobkit.__version__}
    path, real = binance_workload(a.real_max)
    ev = synthetic_l2(a.events, seed=42)
    synth_stream = Workload("synthetic_l2(seed=42)", ev[: a.stream_events], 0.01, 0.001, 2, 3)
    synth_bulk = Workload("synthetic_l2(seed=42)", ev, 0.01, 0.001, 2, 3)
    print(f"machine: {res['machine']}; lobkit {res['lobkit']}")
    streaming(real, a.repeat, res, "real", order_book=False)
    streaming(synth_stream, a.repeat, res, "synth", order_book=True)
    bulk(real, a.repeat, res, "real")
    bulk(synth_bulk, a.repeat, res, "synth")
    feed_messages(path, a.repeat, res, a.real_max)
    if not a.skip_l3:
        l3_and_signals(ev, a.repeat, res)
        order_flow(a.repeat, res)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
