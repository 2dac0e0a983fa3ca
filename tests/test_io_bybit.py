"""Bybit v5 orderbook snapshot/delta and publicTrade."""

import json

import numpy as np
import pytest

import lobkit
from lobkit.errors import SequenceGapError

from io_helpers import book_dict


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
