"""Books survive pickling (versioned byte state), and per-event calls do not leak."""

import copy
import pickle
import sys

import pytest

import lobkit
from lobkit import errors
from lobkit.io import read_lobster_reconciled
from lobkit.testing import synthetic_l2
from conftest import BUNDLED

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def test_l3_pickle_round_trip_then_continue():
    ev, _ = read_lobster_reconciled(GOOG)
    half = len(ev) // 2
    a = lobkit.replay(ev[:half], depth=0, tick_size=1e-4, unknown_id="anonymous").book
    b = pickle.loads(pickle.dumps(a))
    assert type(b) is lobkit.L3Book and repr(b) == repr(a)
    assert b.unknown_id == "anonymous" and b.stats == a.stats and b.n_orders == a.n_orders
    some = [i for i in ev["order_id"][half - 2000:half] if a.order(int(i))]
    for i in some[:50]:
        assert b.order(int(i)) == a.order(int(i))
        assert b.queue_position(int(i)) == a.queue_position(int(i))
    # Continuing from the restored book gives the same result as from the original.
    ra = lobkit.replay(ev[half:], depth=10, book=a)
    rb = lobkit.replay(ev[half:], depth=10, book=b)
    assert (ra.bid_price == rb.bid_price).all() and (ra.ask_size == rb.ask_size).all()


def test_l2_pickle_and_deepcopy():
    a = lobkit.replay(synthetic_l2(5000, seed=9), tick_size=0.01, lot_size=0.001).book
    for b in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a), a.copy()):
        assert (b.bids(10**6, ticks=True) == a.bids(10**6, ticks=True)).all()
        assert (b.asks(10**6, ticks=True) == a.asks(10**6, ticks=True)).all()
        assert (b.tick_size, b.lot_size, b.events) == (0.01, 0.001, 5000)
    b.update_ticks(1, 1, 1)
    assert a.n_bids + 1 == b.n_bids  # an independent copy


def test_corrupt_state_is_a_typed_error():
    fn, args = lobkit.L2Book().__reduce__()
    kind, tick, lot, seq, data = args
    with pytest.raises(errors.ParseError, match="truncated"):
        fn(kind, tick, lot, seq, data[:-3])
    with pytest.raises(errors.ParseError, match="not L3"):
        fn(3, tick, lot, seq, data)


def test_streaming_calls_do_not_leak():
    b = lobkit.L2Book()
    ev = synthetic_l2(20_000, seed=5)
    rows = list(zip(ev["side"].tolist(), ev["price"].tolist(), ev["size"].tolist()))
    for s, p, q in rows:  # warm up: interned ints, caches
        b.update_ticks(s, p, q)
    before = sys.getallocatedblocks()
    for _ in range(3):
        for s, p, q in rows:
            b.update_ticks(s, p, q)
            b.best_bid_ticks
            b.best_ask_lots
    assert sys.getallocatedblocks() - before < 50
