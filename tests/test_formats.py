"""Feed loaders: Tardis CSV, Binance depth sync, the plain event table.

Each is checked against what the data itself says: Tardis snapshots against
the replayed top N; Binance against its own bookTicker BBO keyed by update
id; gaps by deleting real messages."""

import gzip
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lobkit
import lobkit.testing
from lobkit.errors import ParseError, SequenceGapError
from lobkit.io import (
    F_BAD_BOOK,
    F_LAST,
    F_SNAPSHOT,
    BinanceDepth,
    merge,
    read_binance,
    read_events,
    read_tardis,
    tardis_schema,
    write_events,
)

from conftest import ROOT

BUNDLED_BINANCE = ROOT / "python" / "lobkit" / "data" / "binance" / "btcusdt_usdm_20240808_head4000.gz"
TARDIS_L2 = """exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
deribit,BTC-PERPETUAL,1000,1100,true,ask,6421.5,18640
deribit,BTC-PERPETUAL,1000,1100,true,bid,6421,10
deribit,BTC-PERPETUAL,1000,1100,true,bid,6420.5,30
deribit,BTC-PERPETUAL,2000,2100,false,bid,6421,0
deribit,BTC-PERPETUAL,2000,2100,false,ask,6422,5
deribit,BTC-PERPETUAL,3000,3100,true,ask,6430,1
deribit,BTC-PERPETUAL,3000,3100,true,bid,6429.5,2
"""


def naive_l2(rows):
    """Reference: dict book from (is_snapshot, side, price, amount) rows."""
    book = {1: {}, -1: {}}
    prev_snap = False
    for snap, side, price, amount in rows:
        if snap and not prev_snap:
            book = {1: {}, -1: {}}
        prev_snap = snap
        if amount == 0:
            book[side].pop(price, None)
        else:
            book[side][price] = amount
    return book


def book_dict(book, tick, lot):
    return {1: {round(p / tick): round(q / lot) for p, q in book.bids(10_000)},
            -1: {round(p / tick): round(q / lot) for p, q in book.asks(10_000)}}


# ---------------------------------------------------------------- Tardis


def test_tardis_incremental_resets_and_matches_reference(tmp_path):
    f = tmp_path / "x.csv.gz"
    f.write_bytes(gzip.compress(TARDIS_L2.encode()))
    ev = read_tardis(f, tick_size=0.5, lot_size=1)
    assert tardis_schema(f) == "incremental_book_L2"
    assert list(ev["kind"]) == [8, 1, 1, 1, 1, 1, 8, 1, 1]
    assert (ev["flags"][:4] & F_SNAPSHOT).all() and not (ev["flags"][4:6] & F_SNAPSHOT).any()
    # F_LAST closes each message (rows sharing local_timestamp).
    assert list(np.flatnonzero(ev["flags"] & F_LAST)) == [3, 5, 8]
    assert ev["ts"][0] == 1_100_000  # µs -> ns, local clock by default
    assert read_tardis(f, tick_size=0.5, lot_size=1, ts="exchange")["ts"][0] == 1_000_000
    res = lobkit.replay(ev, tick_size=0.5, lot_size=1)
    rows = [(r[4] == "true", 1 if r[5] == "bid" else -1, round(float(r[6]) * 2), int(r[7]))
            for r in (line.split(",") for line in TARDIS_L2.splitlines()[1:])]
    assert book_dict(res.book, 0.5, 1) == naive_l2(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([1, -1]), st.integers(0, 30),
                          st.integers(0, 5)), min_size=1, max_size=60))
def test_tardis_incremental_property(tmp_path_factory, rows):
    # Bids below 100, asks from 100: the reference never crosses.
    rows = [(s, side, (p if side == 1 else 100 + p), a) for s, side, p, a in rows]
    lines = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
    for i, (s, side, p, a) in enumerate(rows):
        lines.append(f"x,S,{i},{i},{str(s).lower()},{'bid' if side == 1 else 'ask'},"
                     f"{p / 4},{a / 100}")
    f = tmp_path_factory.mktemp("t") / "p.csv"
    f.write_text("\n".join(lines) + "\n")
    ev = read_tardis(f, tick_size=0.25, lot_size=0.01)
    res = lobkit.replay(ev, tick_size=0.25, lot_size=0.01, depth=0)
    want = naive_l2(rows)
    got = book_dict(res.book, 0.25, 0.01)
    assert got == {k: {p: q for p, q in v.items()} for k, v in want.items()}


def test_tardis_errors_name_file_line_and_field(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(TARDIS_L2.replace("6422,5", "6422.3,5"))
    with pytest.raises(ParseError, match=r"bad.csv: line 6, field 'price': \"6422.3\" is not a whole "
                                         r"number of grid steps") as e:
        read_tardis(f, tick_size=0.5, lot_size=1)
    assert e.value.field == "price"
    f.write_text(TARDIS_L2.replace("false,ask", "false,middle"))
    with pytest.raises(ParseError, match="line 6, field 'side'"):
        read_tardis(f, tick_size=0.5, lot_size=1)
    f.write_text(TARDIS_L2 + "deribit,ETH-PERPETUAL,4000,4100,false,bid,1,1\n")
    with pytest.raises(ParseError, match="more than one symbol"):
        read_tardis(f, tick_size=0.5, lot_size=1)
    assert len(read_tardis(f, tick_size=0.5, lot_size=1, symbol="ETH-PERPETUAL")) == 1
    f.write_text("a,b\n1,2\n")
    with pytest.raises(ParseError, match="not a Tardis"):
        read_tardis(f, tick_size=0.5, lot_size=1)
    with pytest.raises(ValueError, match="tick_size"):
        read_tardis(f, tick_size=0, lot_size=1)


@pytest.mark.realdata
def test_tardis_fixtures(shared_data):
    d = shared_data / "tardis"
    ev = read_tardis(d / "deribit_incremental_book_L2_BTC-PERPETUAL.csv", tick_size=0.5,
                     lot_size=10)
    assert ev["kind"][0] == lobkit.Kind.CLEAR and len(ev) == 16
    # book_snapshot_25: after each row, the replayed top 25 is exactly the row.
    for name, n in (("binance-futures_book_snapshot_25_BTCUSDT.csv", 25),
                    ("binance-futures_book_snapshot_5_BTCUSDT.csv", 5)):
        path = d / name
        assert tardis_schema(path) == f"book_snapshot_{n}"
        ev = read_tardis(path, tick_size=0.01, lot_size=0.001)
        res = lobkit.replay(ev, tick_size=0.01, lot_size=0.001, depth=n)
        last = np.flatnonzero(ev["flags"] & F_LAST)
        rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
        # An unchanged row adds no events; each changed row ends in F_LAST.
        changed = [i for i, r in enumerate(rows) if i == 0 or r[4:] != rows[i - 1][4:]]
        assert len(last) == len(changed)
        for k, i in zip(last, changed):
            r = rows[i]
            ap = [round(float(r[4 + 4 * j]) * 100) for j in range(n)]
            bp = [round(float(r[6 + 4 * j]) * 100) for j in range(n)]
            bq = [round(float(r[7 + 4 * j]) * 1000) for j in range(n)]
            assert list(res.ask_price[k]) == ap and list(res.bid_price[k]) == bp
            assert list(res.bid_size[k]) == bq
        assert res.book.stats["crossed"] == 0
    tr = read_tardis(d / "bitmex_trades_XBTUSD.csv", tick_size=0.5, lot_size=1)
    assert (tr["kind"] == lobkit.Kind.TRADE).all()
    assert list(tr["side"][:2]) == [1, 1]  # taker sold: the resting side is the bid
    merged = merge(ev, tr)
    assert len(merged) == len(ev) + len(tr) and (np.diff(merged["ts"]) >= 0).all()
    assert merged.dtype == lobkit.EVENT_DTYPE


# ---------------------------------------------------------------- Binance

SPECS = [("spot/btcusdt", "0.01", "0.00000001", 564), ("spot/ethusdt", "0.01", "0.00000001", 577),
         ("usdm/btcusdt", "0.1", "0.001", 629), ("usdm/ethusdt", "0.01", "0.001", 551)]


def ticker_check(feed, res):
    """Every bookTicker whose update id closes a depth diff must equal the
    replayed BBO there. Returns (compared, mismatches)."""
    ev = feed.events
    last = np.flatnonzero((ev["flags"] & F_LAST) != 0)
    last = last[(ev["kind"][last] == 1) & ((ev["flags"][last] & F_SNAPSHOT) == 0)]
    at = dict(zip(feed.update_id[last].tolist(), last.tolist()))
    t = feed.tickers
    n = bad = 0
    for j, u in enumerate(t["update_id"].tolist()):
        i = at.get(u)
        if i is None:
            continue
        n += 1
        got = (res.best_bid_price[i], res.best_bid_size[i], res.best_ask_price[i],
               res.best_ask_size[i])
        want = (t["bid_price"][j], t["bid_size"][j], t["ask_price"][j], t["ask_size"][j])
        bad += got != want
    return n, bad


def uncrossed_at_message_ends(feed, res):
    ev = feed.events
    last = np.flatnonzero(((ev["flags"] & F_LAST) != 0) & feed.synced())
    both = (res.best_bid_size[last] > 0) & (res.best_ask_size[last] > 0)
    return bool((res.best_bid_price[last][both] < res.best_ask_price[last][both]).all())


@pytest.mark.realdata
@pytest.mark.parametrize("name,tick,lot,n_tickers", SPECS)
def test_binance_replay_matches_book_ticker(shared_data, name, tick, lot, n_tickers):
    feed = read_binance(shared_data / "binance" / f"{name}_20240808.gz", tick_size=tick, lot_size=lot)
    assert feed.in_sync and len(feed.gaps["got"]) == 0
    assert feed.stats["snapshots"] == 1 and feed.stats["stale"] > 0  # the snapshot came late
    res = lobkit.replay(feed.events, tick_size=float(tick), lot_size=float(lot), depth=1,
                        book_type="l2")
    assert ticker_check(feed, res) == (n_tickers, 0)
    assert uncrossed_at_message_ends(feed, res)


def _lines(path):
    with gzip.open(path, "rt") as f:
        return f.read().splitlines()


def _diff_lines(lines):
    return [i for i, l in enumerate(lines) if "@depth" in l]


@pytest.mark.realdata
@pytest.mark.parametrize("name,tick,lot", [("usdm/btcusdt", "0.1", "0.001"),
                                           ("spot/ethusdt", "0.01", "0.00000001")])
def test_binance_gap_then_resync(shared_data, tmp_path, name, tick, lot):
    lines = _lines(shared_data / "binance" / f"{name}_20240808.gz")
    snap = next(i for i, l in enumerate(lines) if "lastUpdateId" in l)
    diffs = [i for i in _diff_lines(lines) if i > snap + 200]
    drop = diffs[100]
    # A new snapshot later: rebuild one from the full (gap-free) replay.
    full = read_binance(shared_data / "binance" / f"{name}_20240808.gz", tick_size=tick, lot_size=lot)
    res_full = lobkit.replay(full.events, tick_size=float(tick), lot_size=float(lot), depth=0,
                             book_type="l2")
    resync_at = diffs[400]
    u_at = json.loads(lines[resync_at].split(" ", 1)[1])["data"]["u"]
    # The book after update u_at, from the gap-free replay, as a REST snapshot.
    ev = full.events
    k = int(np.flatnonzero((full.update_id == u_at) & ((ev["flags"] & F_LAST) != 0))[0])
    part = lobkit.replay(ev[: k + 1], tick_size=float(tick), lot_size=float(lot), depth=0,
                         book_type="l2").book
    snapshot = {"lastUpdateId": u_at,
                "bids": [[repr(float(p)), repr(float(q))] for p, q in part.bids(5000)],
                "asks": [[repr(float(p)), repr(float(q))] for p, q in part.asks(5000)]}
    ts0 = lines[resync_at].split(" ", 1)[0]
    cut = lines[:drop] + lines[drop + 1:resync_at + 1] + [f"{ts0} {json.dumps(snapshot)}"] \
        + lines[resync_at + 1:]
    f = tmp_path / "gap.gz"
    f.write_bytes(gzip.compress(("\n".join(cut) + "\n").encode()))
    feed = read_binance(f, tick_size=tick, lot_size=lot)
    assert len(feed.gaps["got"]) == 1 and feed.in_sync
    g = feed.gaps
    removed = json.loads(lines[drop].split(" ", 1)[1])["data"]
    assert g["expected"][0] == (removed["pu"] if "pu" in removed else removed["U"])
    # At the gap the book is emptied and flagged, then out of sync until the snapshot.
    gi = int(g["event_index"][0])
    assert feed.events["kind"][gi] == lobkit.Kind.CLEAR and feed.events["flags"][gi] & F_BAD_BOOK
    sync = feed.synced()
    assert sync[gi - 1] and not sync[gi] and sync[-1]
    assert not sync[gi:gi + 50].any()
    res = lobkit.replay(feed.events, tick_size=float(tick), lot_size=float(lot), depth=1,
                        book_type="l2")
    # Between gap and snapshot the book is empty, never wrong.
    out = ~sync
    assert (res.best_bid_size[out] == 0).all() and (res.best_ask_size[out] == 0).all()
    # After the resync the replay is exact again: same final book, tickers all agree.
    assert book_dict(res.book, float(tick), float(lot)) == \
        book_dict(res_full.book, float(tick), float(lot))
    n, bad = ticker_check(feed, res)
    assert bad == 0 and n > 0
    with pytest.raises(SequenceGapError, match="sequence gap") as e:
        read_binance(f, tick_size=tick, lot_size=lot, strict=True)
    assert e.value.expected == g["expected"][0] and e.value.got == g["got"][0]
    from lobkit.io import iter_events

    with pytest.raises(SequenceGapError) as e2:
        list(iter_events(f, "binance", chunk_bytes=50_000, tick_size=tick, lot_size=lot,
                         strict=True))
    assert (e2.value.expected, e2.value.got) == (e.value.expected, e.value.got)


def test_binance_bundled_excerpt_streaming_equals_bulk():
    feed = read_binance(BUNDLED_BINANCE, tick_size="0.1", lot_size="0.001")
    assert feed.in_sync and feed.stats["snapshots"] == 1
    res = lobkit.replay(feed.events, tick_size=0.1, lot_size=0.001, depth=1, book_type="l2")
    n, bad = ticker_check(feed, res)
    assert n > 10 and bad == 0
    assert uncrossed_at_message_ends(feed, res)
    # Streaming: one message at a time into a book; same final book.
    sync = BinanceDepth(tick_size="0.1", lot_size="0.001")
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    seen_out_of_sync = False
    for line in _lines(BUNDLED_BINANCE):
        ts, msg = line.split(" ", 1)
        ev = sync.on_message(msg, int(ts))
        seen_out_of_sync |= not sync.in_sync
        if len(ev):
            lobkit.replay(ev, book=book, depth=0)
    assert seen_out_of_sync and sync.in_sync and sync.buffered == 0
    assert book_dict(book, 0.1, 0.001) == book_dict(res.book, 0.1, 0.001)
    assert sync.stats == feed.stats


def test_binance_streaming_gap_strict():
    sync = BinanceDepth(tick_size=1, lot_size=1, strict=True)
    sync.on_message('{"lastUpdateId": 10, "bids": [["99", "1"]], "asks": [["101", "1"]]}')
    ev = sync.on_message('{"e":"depthUpdate","E":1,"U":11,"u":11,"b":[["99","2"]],"a":[]}')
    assert sync.in_sync and len(ev) == 1
    with pytest.raises(SequenceGapError) as e:
        sync.on_message('{"e":"depthUpdate","E":2,"U":13,"u":14,"b":[],"a":[]}')
    assert (e.value.expected, e.value.got) == (12, 13)
    assert not sync.in_sync and sync.last_update_id is None
    with pytest.raises(ParseError, match="invalid JSON"):
        sync.on_message("{not json")


# ---------------------------------------------------------------- event table


def test_event_table_round_trip_csv_and_parquet(tmp_path):
    ev = lobkit.testing.synthetic_l3(2000, seed=3)
    for name in ("ev.csv", "ev.csv.gz", "ev.parquet"):
        if name.endswith("parquet"):
            pytest.importorskip("pyarrow")
        f = tmp_path / name
        write_events(ev, f, tick_size=0.01, lot_size=0.5)
        back = read_events(f, tick_size=0.01, lot_size=0.5)
        assert back.dtype == lobkit.EVENT_DTYPE
        np.testing.assert_array_equal(back, ev)


def test_event_table_errors(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("ts,kind,side,price,size\n1,add,bid,1.005,1\n")
    with pytest.raises(ParseError, match=r"e.csv: line 2, field 'price'"):
        read_events(f, tick_size=0.01)
    f.write_text("ts,kind,side,size\n1,add,bid,1\n")
    with pytest.raises(ParseError, match="missing column \"price\""):
        read_events(f)
    f.write_text("ts,kind,side,price,size,order_id\n1,ADD,b,100,1,7\n2,cancel,B,100,1,7\n")
    ev = read_events(f)
    assert list(ev["kind"]) == [2, 3] and list(ev["side"]) == [1, 1]


def _bybit_messages(rng, n=300):
    """A Bybit v5 orderbook.50 stream from a random reference book: a
    snapshot, then deltas with consecutive u, and trades."""
    book = {1: {100 - i: int(rng.integers(1, 9)) for i in range(1, 6)},
            -1: {100 + i: int(rng.integers(1, 9)) for i in range(1, 6)}}
    fmt = lambda lv: [[f"{p / 10:.1f}", f"{q / 1000:.3f}"] for p, q in lv]  # noqa: E731
    msgs = [{"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": 1,
             "data": {"s": "BTCUSDT", "b": fmt(book[1].items()), "a": fmt(book[-1].items()),
                      "u": 100, "seq": 1}}]
    u = 100
    for k in range(n):
        if k % 7 == 3:
            msgs.append({"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": k,
                         "data": [{"T": k, "s": "BTCUSDT", "S": "Buy", "v": "0.001",
                                   "p": "10.1", "i": str(k), "BT": False}]})
            continue
        u += 1
        delta = {1: [], -1: []}
        for _ in range(int(rng.integers(1, 4))):
            side = int(rng.choice([1, -1]))
            p = int(100 - side * rng.integers(1, 8))
            q = int(rng.integers(0, 9))
            if q == 0:
                book[side].pop(p, None)
            else:
                book[side][p] = q
            delta[side].append((p, q))
        msgs.append({"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": k,
                     "data": {"s": "BTCUSDT", "b": fmt(delta[1]), "a": fmt(delta[-1]), "u": u,
                              "seq": k}})
    return msgs, book


def test_bybit_snapshot_delta_streaming_equals_bulk_and_reference(tmp_path):
    from lobkit.io import BybitDepth, read_bybit

    msgs, ref = _bybit_messages(np.random.default_rng(5))
    f = tmp_path / "bybit.jsonl"
    f.write_text("".join(f"{i} {json.dumps(m)}\n" for i, m in enumerate(msgs)))
    feed = read_bybit(f, tick_size="0.1", lot_size="0.001")
    assert feed.in_sync and len(feed.gaps["got"]) == 0 and feed.stats["trades"] > 0
    res = lobkit.replay(feed.events, tick_size=0.1, lot_size=0.001, depth=0, book_type="l2")
    assert book_dict(res.book, 0.1, 0.001) == ref
    sync = BybitDepth(tick_size="0.1", lot_size="0.001")
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    for i, m in enumerate(msgs):
        ev = sync.on_message(json.dumps(m), i)
        if len(ev):
            lobkit.replay(ev, book=book, depth=0)
    assert book_dict(book, 0.1, 0.001) == ref
    # Drop one delta: a gap, an emptied book, deltas ignored until a snapshot.
    drop = next(i for i, m in enumerate(msgs) if i > 50 and m["type"] == "delta")
    cut = msgs[:drop] + msgs[drop + 1:]
    f.write_text("".join(f"{i} {json.dumps(m)}\n" for i, m in enumerate(cut)))
    feed = read_bybit(f, tick_size="0.1", lot_size="0.001")
    assert len(feed.gaps["got"]) == 1 and not feed.in_sync
    assert feed.gaps["expected"][0] == msgs[drop]["data"]["u"]
    res = lobkit.replay(feed.events, tick_size=0.1, lot_size=0.001, depth=0, book_type="l2")
    assert res.book.n_bids == 0 and res.book.n_asks == 0
    with pytest.raises(SequenceGapError):
        read_bybit(f, tick_size="0.1", lot_size="0.001", strict=True)


# ---------------------------------------------------------------- Databento DBN


def _dbn_objects(path):
    import databento_dbn

    from lobkit.io import read_bytes

    dec = databento_dbn.DBNDecoder()
    dec.write(read_bytes(path))
    return dec.decode()[1:]


@pytest.mark.realdata
def test_dbn_record_view_equals_databento_decoder(shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io.dbn import read_dbn_records

    d = shared_data / "databento"
    for path in (d / "orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst",
                 d / "dbn_format_fixtures" / "test_data.mbo.v3.dbn.zst",
                 d / "dbn_format_fixtures" / "test_data.mbp-10.v3.dbn.zst"):
        f = read_dbn_records(path)
        objs = _dbn_objects(path)
        assert len(objs) == len(f.records)
        for r, o in zip(f.records, objs):
            for name in ("ts_recv", "ts_event", "price", "size", "flags", "sequence",
                         "instrument_id"):
                assert int(r[name]) == int(getattr(o, name)), name
            assert r["action"].decode() == str(o.action) and r["side"].decode() == str(o.side)
            if f.schema == "mbo":
                assert int(r["order_id"]) == o.order_id
            else:
                for i, lv in enumerate(o.levels):
                    assert (int(r["levels"][i]["bid_px"]), int(r["levels"][i]["ask_sz"])) == \
                        (lv.bid_px, lv.ask_sz)


@pytest.mark.realdata
def test_dbn_mbo_es_day_checks(shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io import read_dbn

    d = shared_data / "databento"
    ev = read_dbn(d / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", tick_size=0.25)
    # T records are prints, F records nothing; unknown ids would raise (unknown_id='error').
    assert (ev["kind"] == lobkit.Kind.TRADE).sum() == 2973
    res = lobkit.replay(ev, tick_size=0.25, depth=1, book_type="l3")
    last = np.flatnonzero(ev["flags"] & F_LAST)
    assert len(last) == 47_022
    both = (res.best_bid_size[last] > 0) & (res.best_ask_size[last] > 0)
    crossed = last[both & (res.best_bid_price[last] >= res.best_ask_price[last])]
    # Crossed only in the Christmas pre-open auction, 22:39:55 to the 23:00 UTC open.
    assert len(crossed) == 891
    t0, t1 = 1703543995 * 10**9, 1703545200 * 10**9 + 100_000
    assert ev["ts"][crossed].min() >= t0 and ev["ts"][crossed].max() <= t1
    b = res.book
    assert (b.best_bid_price, b.best_bid_size, b.best_ask_price, b.best_ask_size) == \
        (4810.0, 22, 4810.25, 28)
    ev = read_dbn(d / "orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst", tick_size=0.25)
    assert ev["kind"][0] == lobkit.Kind.CLEAR  # the R record
    res = lobkit.replay(ev, tick_size=0.25, depth=1, book_type="l3")
    last = np.flatnonzero(ev["flags"] & F_LAST)
    assert len(last) == 185
    assert (res.best_bid_price[last] < res.best_ask_price[last]).all()
    with pytest.raises(ParseError, match="not on the tick grid"):
        read_dbn(d / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", tick_size=0.5)


@pytest.mark.realdata
def test_dbn_mbp10_book_is_the_record_top10(shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io import read_dbn

    path = shared_data / "databento" / "dbn_format_fixtures" / "test_data.mbp-10.v3.dbn.zst"
    ev = read_dbn(path, tick_size=0.25)
    res = lobkit.replay(ev, tick_size=0.25, depth=10, book_type="l2")
    last = np.flatnonzero(ev["flags"] & F_LAST)
    objs = _dbn_objects(path)
    assert len(last) == len(objs)
    for k, o in zip(last, objs):
        assert list(res.bid_price[k]) == [lv.bid_px // 250_000_000 for lv in o.levels]
        assert list(res.ask_size[k]) == [lv.ask_sz for lv in o.levels]


# ---------------------------------------------------------------- Kraken

KRAKEN_PAIRS = ["XBT/USD", "DASH/EUR", "FIL/XBT", "ALGO/XBT", "ICX/USD", "LSK/USD", "KAVA/USD",
                "WAVES/ETH", "AUD/USD", "USDC/GBP"]


@pytest.mark.realdata
def test_kraken_every_checksum_verifies(shared_data):
    from lobkit.io import read_kraken

    path = shared_data / "kraken" / "KRAKEN-c197c0.0.gz"
    with pytest.raises(ParseError, match="holds 10 pairs"):
        read_kraken(path)
    ok = 0
    for pair in KRAKEN_PAIRS:
        feed = read_kraken(path, pair=pair)
        assert feed.in_sync and feed.stats["checksum_mismatches"] == 0
        ok += feed.stats["checksums_ok"]
        res = lobkit.replay(feed.events, tick_size=feed.tick_size, lot_size=feed.lot_size,
                            depth=1, book_type="l2")
        last = np.flatnonzero(feed.events["flags"] & F_LAST)
        assert (res.best_bid_price[last] < res.best_ask_price[last]).all()
        # Truncated to the subscribed depth after every message.
        assert res.book.n_bids <= 1000 and res.book.n_asks <= 1000
    assert ok == 14_496


@pytest.mark.realdata
def test_kraken_lost_message_is_caught_by_the_next_checksum(shared_data, tmp_path):
    from lobkit.io import read_kraken

    lines = _lines(shared_data / "kraken" / "KRAKEN-c197c0.0.gz")
    updates = [k for k, l in enumerate(lines) if '"c":' in l and "XBT/USD" in l]
    f = tmp_path / "k.gz"
    # Drop one update; deeper-than-top-10 changes do not move the checksum,
    # so try updates until one that did is dropped.
    for i in updates[500:540]:
        f.write_bytes(gzip.compress(("\n".join(lines[:i] + lines[i + 1:]) + "\n").encode()))
        feed = read_kraken(f, pair="XBT/USD")
        if feed.stats["checksum_mismatches"]:
            break
    else:
        pytest.fail("no dropped update changed the top 10")
    assert feed.stats["checksum_mismatches"] == 1 and not feed.in_sync
    # Caught at the next XBT/USD update, whose line moved up by one.
    nxt = next(k for k in updates if k > i)
    assert feed.gaps["line"][0] == nxt  # 1-based line of the next update in the cut file
    k = int(feed.gaps["event_index"][0])
    assert feed.events["kind"][k] == lobkit.Kind.CLEAR and feed.events["flags"][k] & F_BAD_BOOK
    assert k == len(feed.events) - 1  # nothing is applied after it (no later snapshot)
    assert feed.stats["checksums_ok"] == updates.index(nxt) - 1


# ---------------------------------------------------------------- chunked streaming


@pytest.mark.parametrize("chunk", [7, 100, 4096, 1 << 20])
def test_iter_events_equals_the_whole_file(tmp_path, chunk):
    from lobkit.io import concat, iter_events

    # Tardis incremental with snapshot runs spanning chunks.
    rows = TARDIS_L2.splitlines()
    body = "\n".join([rows[0]] + rows[1:] * 20) + "\n"
    f = tmp_path / "t.csv.gz"
    f.write_bytes(gzip.compress(body.encode()))
    whole = read_tardis(f, tick_size=0.5, lot_size=1)
    parts = list(iter_events(f, "tardis", chunk_bytes=chunk, tick_size=0.5, lot_size=1))
    np.testing.assert_array_equal(concat(parts), whole)
    # The event table, CSV.
    ev = lobkit.testing.synthetic_l3(500, seed=4)
    write_events(ev, tmp_path / "e.csv", tick_size=0.01)
    got = concat(iter_events(tmp_path / "e.csv", chunk_bytes=chunk, tick_size=0.01))
    np.testing.assert_array_equal(got, ev)
    # Binance: the sync state carries across chunks.
    if chunk >= 4096:
        feed = read_binance(BUNDLED_BINANCE, tick_size="0.1", lot_size="0.001")
        got = concat(iter_events(BUNDLED_BINANCE, chunk_bytes=chunk, tick_size="0.1",
                                 lot_size="0.001"))
        np.testing.assert_array_equal(got, feed.events)


def test_iter_events_errors_name_the_file_line(tmp_path):
    from lobkit.io import iter_events

    ev = lobkit.testing.synthetic_l3(300, seed=4)
    f = tmp_path / "e.csv"
    write_events(ev, f, tick_size=0.01)
    lines = f.read_text().splitlines()
    lines[250] = lines[250].replace(",add,", ",jump,").replace(",cancel,", ",jump,") \
        .replace(",delete,", ",jump,").replace(",modify,", ",jump,").replace(",execute,", ",jump,")
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError, match=r"e.csv: line 251, field 'kind'"):
        list(iter_events(f, chunk_bytes=300, tick_size=0.01))
    g = tmp_path / "t.csv"
    g.write_text(TARDIS_L2 * 1 + TARDIS_L2.splitlines()[1].replace("6421.5", "6421.3") + "\n")
    with pytest.raises(ParseError, match=r"t.csv: line 9, field 'price'"):
        list(iter_events(g, "tardis", chunk_bytes=64, tick_size=0.5, lot_size=1))


def test_iter_events_parquet_batches(tmp_path):
    pytest.importorskip("pyarrow")
    from lobkit.io import concat, iter_events

    ev = lobkit.testing.synthetic_l3(5000, seed=6)
    write_events(ev, tmp_path / "e.parquet", tick_size=0.01, lot_size=0.5)
    parts = list(iter_events(tmp_path / "e.parquet", chunk_bytes=64 * 700, tick_size=0.01,
                             lot_size=0.5))
    assert len(parts) > 1
    np.testing.assert_array_equal(concat(parts), ev)


# ---------------------------------------------------------------- Bitfinex


@pytest.mark.realdata
def test_bitfinex_raw_book_self_consistency(shared_data):
    from lobkit.io import read_bitfinex

    ev = read_bitfinex(shared_data / "bitfinex" / "L3_feed.json.gz")
    k = ev["kind"]
    assert (k == lobkit.Kind.DELETE).sum() == 37_021
    assert ((k == lobkit.Kind.ADD) | (k == lobkit.Kind.MODIFY)).sum() == 62_977 + 50
    res = lobkit.replay(ev, book_type="l3", tick_size=1e-8, lot_size=1e-8, depth=1,
                        unknown_id="error")
    assert res.skipped == 0  # every delete and replace names a resting order
    assert res.book.n_orders == 38
    last = np.flatnonzero(ev["flags"] & F_LAST)
    both = (res.best_bid_size[last] > 0) & (res.best_ask_size[last] > 0)
    crossed = (res.best_bid_price[last] >= res.best_ask_price[last]) & both
    assert crossed.sum() == 21  # a marketable order shows before the deletes it caused
    # Prices keep their exact text: 60923.032129 is 6092303212900 ticks of 1e-8.
    assert 6_092_303_212_900 in set(ev["price"].tolist())


def test_bitfinex_messages_per_line(tmp_path):
    from lobkit.io import read_bitfinex

    f = tmp_path / "b.jsonl"
    f.write_text('{"event":"info","version":2}\n[1,[[10,100.5,1.5],[11,101,-2]]]\n[1,"hb"]\n'
                 '[1,[10,100.25,1.5]]\n[1,[11,0,-1]]\n[1,[12,99,0.1]]\n')
    ev = read_bitfinex(f, tick_size="0.25", lot_size="0.1")
    assert list(ev["kind"]) == [8, 2, 2, 5, 4, 2]
    assert list(ev["side"]) == [0, 1, -1, 1, -1, 1]
    assert list(ev["price"]) == [0, 402, 404, 401, 0, 396]
    assert list(ev["size"]) == [0, 15, 20, 15, 0, 1]
    res = lobkit.replay(ev, book_type="l3", tick_size=0.25, lot_size=0.1, depth=2)
    assert res.book.best_bid == (100.25, 1.5) and res.book.n_asks == 0
    f.write_text("[1,[[10,100.3,1]]]\n")
    with pytest.raises(ParseError, match="100.3"):
        read_bitfinex(f, tick_size="0.25", lot_size="0.1")


@pytest.mark.realdata
@pytest.mark.parametrize("chunk", [56 * 7, 56 * 1000, 1 << 24])
def test_iter_dbn_equals_read_dbn(shared_data, chunk):
    pytest.importorskip("databento_dbn")
    from lobkit.io import concat, iter_events, read_dbn

    d = shared_data / "databento"
    for path in (d / "esh4-glbx-mdp3-20231225.mbo.dbn.zst",
                 d / "dbn_format_fixtures" / "test_data.mbp-10.v3.dbn.zst"):
        whole = read_dbn(path, tick_size=0.25)
        got = concat(iter_events(path, chunk_bytes=chunk if "mbo" in path.name else 368,
                                 tick_size=0.25))
        np.testing.assert_array_equal(got, whole)


# ---------------------------------------------------------------- Binance sync vs a naive reference


def naive_binance(messages, futures):
    """Binance's documented procedure, written plainly: returns the final
    book ({1: {p: q}, -1: {p: q}}), in_sync and the gaps [(expected, got)]."""
    book = {1: {}, -1: {}}
    buffer, state, last, gaps = [], "buffering", None, []

    def apply(d):
        nonlocal state, last
        for side, key in ((1, "b"), (-1, "a")):
            for p, q in d[key]:
                if q == 0:
                    book[side].pop(p, None)
                else:
                    book[side][p] = q
        state, last = "synced", d["u"]

    def gap(expected, got, d):
        nonlocal state, buffer
        book[1].clear()
        book[-1].clear()
        gaps.append((expected, got))
        state, buffer = "buffering", [d]

    def bridge_or_continue(d):
        if state == "bridging":
            stale = d["u"] < last if futures else d["u"] <= last
            if stale:
                return
            ok = d["U"] <= last <= d["u"] if futures else d["U"] <= last + 1 <= d["u"]
            if ok:
                apply(d)
            else:
                gap(last if futures else last + 1, d["U"], d)
        else:
            if futures:
                (apply(d) if d["pu"] == last else gap(last, d["pu"], d))
            else:
                (apply(d) if d["U"] == last + 1 else gap(last + 1, d["U"], d))

    for m in messages:
        if "lastUpdateId" in m:
            if state != "buffering":
                continue
            book = {1: {p: q for p, q in m["bids"] if q}, -1: {p: q for p, q in m["asks"] if q}}
            state, last = "bridging", m["lastUpdateId"]
            pending, buffer = buffer, []
            for d in pending:
                if state == "buffering":
                    buffer.append(d)
                else:
                    bridge_or_continue(d)
        elif state == "buffering":
            buffer.append(m)
        else:
            bridge_or_continue(m)
    return book, state != "buffering", gaps


@st.composite
def binance_streams(draw):
    futures = draw(st.booleans())
    n = draw(st.integers(5, 40))
    msgs, u = [], 100
    diffs = []
    for _ in range(n):
        span = draw(st.integers(1, 4))
        d = {"e": "depthUpdate", "E": 1, "U": u + 1, "u": u + span,
             "b": [(draw(st.integers(1, 9)), draw(st.integers(0, 3)))
                   for _ in range(draw(st.integers(0, 3)))],
             "a": [(draw(st.integers(11, 19)), draw(st.integers(0, 3)))
                   for _ in range(draw(st.integers(0, 3)))]}
        if futures:
            d["pu"] = u
        diffs.append(d)
        u += span
    keep = [d for d in diffs if draw(st.integers(0, 9)) > 0]  # ~10% lost
    msgs = list(keep)
    for _ in range(draw(st.integers(1, 3))):  # snapshots at random places and ids
        at = draw(st.integers(0, len(msgs)))
        last = draw(st.integers(95, u + 2))
        msgs.insert(at, {"lastUpdateId": last,
                         "bids": [(p, draw(st.integers(0, 3))) for p in range(1, 10, 2)],
                         "asks": [(p, draw(st.integers(0, 3))) for p in range(11, 20, 2)]})
    return futures, msgs


@settings(max_examples=300, deadline=None)
@given(binance_streams())
def test_binance_sync_equals_naive_reference(tmp_path_factory, stream):
    futures, msgs = stream

    def js(m):
        m = dict(m)
        for k in ("b", "a", "bids", "asks"):
            if k in m:
                m[k] = [[str(p), str(q)] for p, q in m[k]]
        return json.dumps(m)

    f = tmp_path_factory.mktemp("b") / "s.txt"
    f.write_text("".join(f"{i + 1} {js(m)}\n" for i, m in enumerate(msgs)))
    feed = read_binance(f, tick_size=1, lot_size=1)
    book, in_sync, gaps = naive_binance(msgs, futures)
    assert feed.in_sync == in_sync
    assert list(zip(feed.gaps["expected"].tolist(), feed.gaps["got"].tolist())) == gaps
    res = lobkit.replay(feed.events, tick_size=1, lot_size=1, depth=0, book_type="l2")
    assert book_dict(res.book, 1, 1) == book


@pytest.mark.realdata
def test_kraken_streaming_equals_bulk_and_strict_raises(shared_data, tmp_path):
    from lobkit.errors import ChecksumError
    from lobkit.io import KrakenDepth, concat, iter_events, read_kraken

    path = shared_data / "kraken" / "KRAKEN-c197c0.0.gz"
    bulk = read_kraken(path, pair="DASH/EUR")
    k = KrakenDepth("DASH/EUR", tick_size=bulk.tick_size, lot_size=bulk.lot_size, strict=True)
    parts = []
    for line in _lines(path):
        head, sep, msg = line.partition(": ")
        if sep and head[:1].isdigit():
            parts.append(k.on_message(msg, int(round(float(head) * 1e9))))
    got = concat(parts)
    np.testing.assert_array_equal(got["price"], bulk.events["price"])
    np.testing.assert_array_equal(got["size"], bulk.events["size"])
    assert k.in_sync and k.stats == bulk.stats
    chunks = concat(iter_events(path, "kraken", chunk_bytes=5000, symbol="DASH/EUR",
                                tick_size=bulk.tick_size, lot_size=bulk.lot_size))
    np.testing.assert_array_equal(chunks, bulk.events)
    with pytest.raises(ChecksumError, match="checksum mismatch") as e:
        k.on_message('[1,{"b":[["1.0","1.0","1"]],"c":"1"},"book-1000","DASH/EUR"]')
    assert e.value.expected == 1 and not k.in_sync


def test_streaming_keepers_stay_bounded():
    # A bot that never drains bookTickers keeps only the newest 10,000.
    s = BinanceDepth(tick_size=1, lot_size=1)
    for i in range(10_050):
        s.on_message('{"stream":"x@bookTicker","data":{"u":%d,"b":"1","B":"1","a":"2","A":"1"}}' % i)
    t = s.take_tickers()
    assert len(t["update_id"]) == 10_000 and t["update_id"][0] == 50 and t["update_id"][-1] == 10_049
    assert len(s.take_tickers()["update_id"]) == 0
