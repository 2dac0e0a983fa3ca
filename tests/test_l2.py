"""L2 book: units, queries, and a hypothesis state machine against the reference."""

import math

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import lobkit
from lobkit import errors
from reference import ASK, BID, RefL2


def test_float_edge_is_exact_and_rejects_off_grid():
    b = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    assert b.update("bid", 585.33, 1.5)
    assert b.best_bid_ticks == 58533 and b.best_bid_lots == 1500
    assert b.update(ASK, 60000.3 - 59414.9, 2)  # float noise still lands on the grid
    assert b.best_ask_ticks == 58540
    for bad in (585.335, math.nan, math.inf, -math.inf):
        with pytest.raises(errors.InvalidPriceError) as e:
            b.update(BID, bad, 1)
        assert e.value.field == "price" and e.value.index == 2
    for bad in (-1.0, 0.0005, math.nan):
        with pytest.raises(errors.InvalidSizeError) as e:
            b.update(BID, 585.30, bad)
        assert e.value.field == "size"
    with pytest.raises(errors.InvalidSideError):
        b.update(0, 585.30, 1)
    with pytest.raises(errors.InvalidSideError):
        b.update("middle", 585.30, 1)
    # nothing above changed the book
    assert b.bids(ticks=True).tolist() == [[58533, 1500]]
    assert b.asks(ticks=True).tolist() == [[58540, 2000]]
    assert b.events == 2


def test_queries():
    b = lobkit.L2Book(tick_size=0.5)
    for p, q in [(100, 1), (99.5, 2), (98, 3), (50, 4)]:
        b.update(BID, p, q)
    for p, q in [(101, 5), (101.5, 6), (300, 7)]:
        b.update(ASK, p, q)
    assert b.best_bid == (100.0, 1.0) and b.best_ask == (101.0, 5.0)
    assert b.spread == 1.0 and b.spread_ticks == 2 and b.mid == 100.5
    assert b.depth(BID, 2) == 3 and b.depth("ask", 10) == 18
    assert b.depth_within(BID, 2.0) == 6  # 100, 99.5, 98
    assert b.size_at(ASK, 300) == 7
    np.testing.assert_array_equal(b.bids(3), [[100, 1], [99.5, 2], [98, 3]])
    assert b.bids(3).dtype == np.float64 and b.bids(3, ticks=True).dtype == np.int64
    assert b.asks(0).shape == (0, 2)
    assert b.n_bids == 4 and b.n_asks == 3
    assert repr(b).startswith("L2Book(bid=100x1, ask=101x5, levels=4/3, events=7")
    b.update(BID, 100, 0)
    c = b.last_change
    assert c.as_tuple() == (BID, 200, 1, 0, 200, 1, 199, 2)
    assert (c.side, c.price_ticks, c.prev_size_lots, c.new_size_lots) == (BID, 200, 1, 0)
    assert (c.new_best_price_ticks, c.new_best_size_lots, c.best_changed) == (199, 2, True)
    b.clear("bid")
    assert b.best_bid is None and b.best_bid_size == 0.0 and b.mid is None
    b.apply_snapshot([(10, 1), (9, 2)], [(11, 3)])
    assert b.bids(ticks=True).tolist() == [[20, 1], [18, 2]] and b.n_asks == 1
    with pytest.raises(errors.InvalidPriceError):
        b.apply_snapshot([(10.1, 1)], [])
    assert b.n_bids == 2  # failed snapshot left the book as it was


def test_far_levels_are_never_dropped():
    b = lobkit.L2Book()
    b.update_ticks(BID, 1_000_000, 1)
    b.update_ticks(BID, 1_000_000 - 10_000_000, 2)  # 10 million ticks away
    b.update_ticks(BID, 1_000_000 + 5_000, 3)
    assert b.bids(10, ticks=True).tolist() == [[1_005_000, 3], [1_000_000, 1], [-9_000_000, 2]]
    b.update_ticks(BID, 1_005_000, 0)
    b.update_ticks(BID, 1_000_000, 0)
    assert b.best_bid_ticks == -9_000_000


def test_cross_policy():
    b = lobkit.L2Book(cross_policy="reject")
    b.update_ticks(ASK, 100, 1)
    with pytest.raises(errors.CrossedBookError) as e:
        b.update_ticks(BID, 100, 1)
    assert e.value.field == "price"
    assert b.best_bid_ticks is None
    a = lobkit.L2Book()
    a.update_ticks(ASK, 100, 1)
    a.update_ticks(BID, 101, 1)
    assert a.stats["crossed"] == 1
    with pytest.raises(ValueError, match="cross_policy"):
        lobkit.L2Book(cross_policy="sometimes")


prices = st.one_of(
    st.integers(990, 1010),  # near the touch
    st.integers(-40, 40).map(lambda k: 1000 + k * 997),  # several dense windows apart
    st.integers(-(2**50), 2**50),  # anywhere
)


class L2Machine(RuleBasedStateMachine):
    """Random level updates, clears and snapshots; full book compared every step."""

    def __init__(self):
        super().__init__()
        self.book = lobkit.L2Book()
        self.ref = RefL2()

    @rule(side=st.sampled_from([BID, ASK]), price=prices, size=st.integers(0, 50))
    def set_level(self, side, price, size):
        changed = self.book.update_ticks(side, price, size)
        want = self.ref.set(side, price, size)
        assert self.book.last_change.as_tuple() == want
        assert changed == (want[4:6] != want[6:8])

    @rule(side=st.sampled_from([BID, ASK]), price=prices, size=st.integers(-(2**60), -1))
    def bad_size(self, side, price, size):
        with pytest.raises(errors.InvalidSizeError):
            self.book.update_ticks(side, price, size)

    @rule(side=st.sampled_from([None, BID, ASK]))
    def clear(self, side):
        self.book.clear(side)
        self.ref.clear(side)

    @rule(bids=st.lists(st.tuples(prices, st.integers(1, 9)), max_size=20),
          asks=st.lists(st.tuples(prices, st.integers(1, 9)), max_size=20))
    def snapshot(self, bids, asks):
        self.book.apply_snapshot(bids, asks, ticks=True)
        self.ref.clear()
        for p, q in bids:
            self.ref.side[BID][p] = q
        for p, q in asks:
            self.ref.side[ASK][p] = q

    @precondition(lambda self: self.ref.side[BID])
    @rule(band=st.integers(0, 3000))
    def band_depth(self, band):
        assert self.book.depth_within(BID, float(band)) == self.ref.depth_within(BID, band)

    @invariant()
    def same_book(self):
        for s, get in ((BID, self.book.bids), (ASK, self.book.asks)):
            assert [tuple(x) for x in get(10**6, ticks=True).tolist()] == self.ref.levels(s)
        rb, ra = self.ref.best(BID), self.ref.best(ASK)
        assert self.book.best_bid_ticks == (rb[0] if rb else None)
        assert self.book.best_ask_lots == (ra[1] if ra else 0)


TestL2Machine = L2Machine.TestCase
TestL2Machine.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)


def test_best_ticks_getters_reuse_the_int_while_the_best_stands():
    """`best_*_ticks` hand back the same int object while the best price is
    unchanged (a streaming loop reads them after every update) and a new one
    as soon as it moves, on both sides and both books; pickling, clearing and
    copying never carry a stale value."""
    import copy
    import pickle

    b = lobkit.L2Book()
    b.update_ticks(1, 100_000, 5)
    b.update_ticks(-1, 100_010, 5)
    first = b.best_bid_ticks
    b.update_ticks(1, 99_990, 7)          # behind the touch: best unchanged
    assert b.best_bid_ticks is first and b.best_ask_ticks == 100_010
    b.update_ticks(1, 100_001, 1)
    assert b.best_bid_ticks == 100_001 and b.best_ask_ticks == 100_010
    b.update_ticks(1, 100_001, 0)
    assert b.best_bid_ticks == 100_000
    for c in (pickle.loads(pickle.dumps(b)), copy.copy(b)):
        assert (c.best_bid_ticks, c.best_ask_ticks) == (100_000, 100_010)
    b.clear("bid")
    assert b.best_bid_ticks is None and b.best_ask_ticks == 100_010
    l3 = lobkit.L3Book()
    l3.add_ticks(1, -1, 2_000, 3)
    assert l3.best_ask_ticks == 2_000
    l3.delete(1)
    assert l3.best_ask_ticks is None
