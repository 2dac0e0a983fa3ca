"""L3 book: FIFO priority rules, policies, and hypothesis state machines
against the naive reference for every unknown-id policy."""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import lobkit
from lobkit import errors
from reference import ASK, BID, RefL3


def test_priority_rules_and_queue_position():
    b = lobkit.L3Book(tick_size=0.01)
    b.add(1, "bid", 10.00, 5)
    b.add(2, "bid", 10.00, 3)
    b.add(3, "bid", 10.00, 4)
    assert b.queue_position(3) == 8
    b.modify(1, 10.00, 2)  # size down keeps priority
    assert b.queue("bid", 10.00) == [(1, 2), (2, 3), (3, 4)]
    b.modify(1, 10.00, 6)  # size up loses it
    assert b.queue("bid", 10.00) == [(2, 3), (3, 4), (1, 6)]
    b.cancel(3, 1)  # partial cancel keeps priority
    assert b.queue("bid", 10.00) == [(2, 3), (3, 3), (1, 6)]
    b.modify(2, 10.01, 3)  # price change moves it to the new level
    assert b.bids(ticks=True).tolist() == [[1001, 3], [1000, 9]]
    b.execute(2, 3)
    assert b.order(2) is None and b.best_bid == (10.0, 9.0)
    b.cancel(1)  # no size: delete
    assert b.n_orders == 1 and b.order(3) == (1, 10.0, 3.0)
    l2 = b.to_l2()
    assert isinstance(l2, lobkit.L2Book) and l2.bids(ticks=True).tolist() == [[1000, 3]]


def test_defined_errors_leave_book_intact():
    b = lobkit.L3Book()
    b.add_ticks(7, ASK, 100, 5)
    cases = [
        (lambda: b.add_ticks(7, ASK, 101, 1), errors.DuplicateOrderError, "order_id"),
        (lambda: b.cancel_ticks(8, 1), errors.UnknownOrderError, "order_id"),
        (lambda: b.execute_ticks(7, 6), errors.OverfillError, "size"),
        (lambda: b.cancel_ticks(7, -1), errors.InvalidSizeError, "size"),
        (lambda: b.add_ticks(9, 2, 100, 1), errors.InvalidSideError, "side"),
        (lambda: b.add_ticks(9, BID, 100, 0), errors.InvalidSizeError, "size"),
        (lambda: b.modify_ticks(8, 100, 1), errors.UnknownOrderError, "order_id"),
        (lambda: b.add(9, BID, float("nan"), 1), errors.InvalidPriceError, "price"),
    ]
    for fn, cls, field in cases:
        with pytest.raises(cls) as e:
            fn()
        assert e.value.field == field and e.value.index == 1
        assert b.asks(ticks=True).tolist() == [[100, 5]] and b.n_orders == 1
    # KeyError subclasses still print a readable message
    with pytest.raises(KeyError, match="order_id=8 is not resting"):
        b.cancel_ticks(8, 1)


def test_anonymous_and_skip_policies_are_counted():
    b = lobkit.L3Book(unknown_id="anonymous")
    b.seed(ASK, 100, 10)
    b.add(1, ASK, 100, 5)
    assert b.queue_position(1) == 10  # seeded liquidity rests ahead
    b.execute(99, 4, side=ASK, price=100)
    assert b.anonymous_at(ASK, 100) == 6 and b.stats["anonymous_fills"] == 1
    b.cancel(98, 8, side=ASK, price=100)  # only 6 anonymous lots left
    assert b.stats["unmatched_qty"] == 2 and b.best_ask == (100.0, 5.0)
    s = lobkit.L3Book(unknown_id="skip")
    s.cancel(5, 1)
    assert s.stats["unknown_ids"] == 1
    with pytest.raises(ValueError, match="unknown_id"):
        lobkit.L3Book(unknown_id="maybe")


def test_crossing_add_rejected_under_policy():
    b = lobkit.L3Book(cross_policy="reject")
    b.add_ticks(1, ASK, 100, 1)
    with pytest.raises(errors.CrossedBookError):
        b.add_ticks(2, BID, 100, 1)
    assert b.n_orders == 1


ids = st.integers(1, 30)
sides = st.sampled_from([BID, ASK])
prices = st.one_of(st.integers(995, 1005), st.integers(-20, 20).map(lambda k: 1000 + 5000 * k))
sizes = st.integers(1, 9)


class L3Machine(RuleBasedStateMachine):
    policy = "error"

    def __init__(self):
        super().__init__()
        self.book = lobkit.L3Book(unknown_id=self.policy)
        self.ref = RefL3(unknown_id=self.policy)

    def both(self, book_fn, ref_fn):
        try:
            ref_fn()
            want = None
        except errors.LobkitError as e:
            want = type(e)
        if want is None:
            book_fn()
        else:
            with pytest.raises(want):
                book_fn()

    @rule(i=ids, s=sides, p=prices, q=sizes)
    def add(self, i, s, p, q):
        self.both(lambda: self.book.add_ticks(i, s, p, q), lambda: self.ref.add(i, s, p, q))

    @rule(i=ids, s=sides, p=prices, q=sizes)
    def cancel(self, i, s, p, q):
        self.both(lambda: self.book.cancel_ticks(i, q, s, p), lambda: self.ref.cancel(i, q, s, p))

    @rule(i=ids, s=sides, p=prices, q=sizes)
    def execute(self, i, s, p, q):
        self.both(lambda: self.book.execute_ticks(i, q, s, p), lambda: self.ref.execute(i, q, s, p))

    @rule(i=ids, s=sides, p=prices)
    def delete(self, i, s, p):
        self.both(lambda: self.book.cancel_ticks(i, 0, s, p), lambda: self.ref.delete(i, 0, s, p))

    @rule(i=ids, p=prices, q=st.integers(0, 12))
    def modify(self, i, p, q):
        self.both(lambda: self.book.modify_ticks(i, p, q), lambda: self.ref.modify(i, p, q))

    @rule(s=sides, p=prices, q=sizes)
    def seed(self, s, p, q):
        self.both(lambda: self.book.seed(s, float(p), float(q)), lambda: self.ref.seed(s, p, q))

    @invariant()
    def same_book(self):
        want = self.ref.l2()
        assert [tuple(x) for x in self.book.bids(10**6, ticks=True).tolist()] == want.levels(BID)
        assert [tuple(x) for x in self.book.asks(10**6, ticks=True).tolist()] == want.levels(ASK)
        assert self.book.n_orders == len(self.ref.orders)
        for oid, (s, p, q) in self.ref.orders.items():
            assert self.book.order(oid) == (s, float(p), float(q))
            assert self.book.queue_position(oid) == self.ref.queue_position(oid)
        assert self.book.stats["unmatched_qty"] == self.ref.unmatched


class L3AnonymousMachine(L3Machine):
    policy = "anonymous"


class L3SkipMachine(L3Machine):
    policy = "skip"


_s = settings(max_examples=80, stateful_step_count=60, deadline=None)
TestL3Error = L3Machine.TestCase
TestL3Error.settings = _s
TestL3Anonymous = L3AnonymousMachine.TestCase
TestL3Anonymous.settings = _s
TestL3Skip = L3SkipMachine.TestCase
TestL3Skip.settings = _s
