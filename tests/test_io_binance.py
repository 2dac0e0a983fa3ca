"""Binance snapshot + diff-depth synchronisation, against bookTicker, gaps and a naive reference of the documented procedure."""

import gzip
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lobkit
from lobkit.errors import ParseError, SequenceGapError
from lobkit.io import F_BAD_BOOK, F_LAST, F_SNAPSHOT, BinanceDepth, read_binance

from io_helpers import BUNDLED_BINANCE, book_dict, gz_lines


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


def _diff_lines(lines):
    return [i for i, l in enumerate(lines) if "@depth" in l]


@pytest.mark.realdata
@pytest.mark.parametrize("name,tick,lot", [("usdm/btcusdt", "0.1", "0.001"),
                                           ("spot/ethusdt", "0.01", "0.00000001")])
def test_binance_gap_then_resync(shared_data, tmp_path, name, tick, lot):
    lines = gz_lines(shared_data / "binance" / f"{name}_20240808.gz")
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
    for line in gz_lines(BUNDLED_BINANCE):
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


def test_streaming_keepers_stay_bounded():
    # A bot that never drains bookTickers keeps only the newest 10,000.
    s = BinanceDepth(tick_size=1, lot_size=1)
    for i in range(10_050):
        s.on_message('{"stream":"x@bookTicker","data":{"u":%d,"b":"1","B":"1","a":"2","A":"1"}}' % i)
    t = s.take_tickers()
    assert len(t["update_id"]) == 10_000 and t["update_id"][0] == 50 and t["update_id"][-1] == 10_049
    assert len(s.take_tickers()["update_id"]) == 0
