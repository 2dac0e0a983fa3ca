"""Bulk replay: equals streaming, continues from a book, atomic on error,
counted skips, and typed errors for every kind of bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lobkit
from lobkit import EVENT_DTYPE, Kind, errors
from lobkit.io import read_lobster_reconciled
from lobkit.testing import synthetic_l2, synthetic_l3
from conftest import BUNDLED

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def stream_apply(book, e):
    """One event through the streaming API, as a bot would call it."""
    k, s, p, q, i = int(e["kind"]), int(e["side"]), int(e["price"]), int(e["size"]), int(e["order_id"])
    if k == Kind.SET_LEVEL:
        book.update_ticks(s, p, q)
    elif k == Kind.ADD:
        book.add_ticks(i, s, p, q)
    elif k in (Kind.CANCEL, Kind.EXECUTE):
        (book.cancel_ticks if k == Kind.CANCEL else book.execute_ticks)(i, q, s, p)
    elif k == Kind.DELETE:
        if book.order(i) is None:
            book.cancel_ticks(i, q, s, p)  # unknown id: the event's size is consumed
        else:
            book.cancel_ticks(i, 0, s, p)
    elif k == Kind.MODIFY:
        book.modify_ticks(i, p, q)
    elif k == Kind.SEED:
        book.seed(s, p * book.tick_size, q * book.lot_size)
    elif k == Kind.CLEAR:
        book.clear(None if s == 0 else s)


def assert_stream_equals_bulk(events, make_book, depth=5):
    res = lobkit.replay(events, depth=depth, book=make_book())
    book = make_book()
    for n, e in enumerate(events):
        stream_apply(book, e)
        b = book.bids(depth, ticks=True)
        a = book.asks(depth, ticks=True)
        assert res.bid_price[n, : len(b)].tolist() == b[:, 0].tolist(), n
        assert res.bid_size[n, : len(b)].tolist() == b[:, 1].tolist(), n
        assert (res.bid_size[n, len(b):] == 0).all() and (res.bid_price[n, len(b):] == 0).all()
        assert res.ask_price[n, : len(a)].tolist() == a[:, 0].tolist(), n
        assert res.ask_size[n, : len(a)].tolist() == a[:, 1].tolist(), n
        assert res.best_bid_price[n] == (book.best_bid_ticks or 0)
        assert res.best_ask_size[n] == book.best_ask_lots
    assert res.book.stats == {**book.stats, "events": res.book.events}
    return res


def test_stream_equals_bulk_synthetic_l2():
    ev = synthetic_l2(20_000, seed=3)
    res = assert_stream_equals_bulk(ev, lambda: lobkit.L2Book(), depth=8)
    assert res.book.stats["crossed"] == 0  # the generator never crosses
    assert (res.spread_ticks[1:] > 0).all()  # event 0 has only a bid


def test_stream_equals_bulk_synthetic_l3():
    ev = synthetic_l3(20_000, seed=4, live=300)
    assert_stream_equals_bulk(ev, lambda: lobkit.L3Book(), depth=6)


def test_stream_equals_bulk_real_lobster():
    ev, _ = read_lobster_reconciled(GOOG)
    assert_stream_equals_bulk(ev[:8000], lambda: lobkit.L3Book(unknown_id="anonymous"), depth=10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(90, 110), st.integers(0, 5)),
                min_size=1, max_size=200),
       st.integers(1, 7))
def test_split_replay_equals_whole(rows, cut):
    side, price, size = map(np.array, zip(*rows))
    ev = lobkit.make_events(kind=Kind.SET_LEVEL, side=side, price=price, size=size)
    whole = lobkit.replay(ev, depth=4)
    cut = min(cut, len(ev))
    first = lobkit.replay(ev[:cut], depth=4)
    second = lobkit.replay(ev[cut:], depth=4, book=first.book)  # continue from a book
    assert second.book is first.book
    for name in ("bid_price", "bid_size", "ask_price", "ask_size", "best_bid_price"):
        np.testing.assert_array_equal(
            getattr(whole, name), np.concatenate([getattr(first, name), getattr(second, name)]))
    assert first.book.events == len(ev)


def test_depth_zero_and_shapes():
    ev = synthetic_l2(1000, seed=1)
    r = lobkit.replay(ev, depth=0)
    assert r.bid_price.shape == (1000, 0) and r.best_bid_price.shape == (1000,)
    assert r.best_bid_price.dtype == np.int64 and len(r) == 1000
    r10 = lobkit.replay(ev, depth=10)
    assert r10.bid_price.shape == (1000, 10)
    np.testing.assert_array_equal(r10.bid_price[:, 0], r.best_bid_price)
    np.testing.assert_array_equal(r10.ask_size[:, 0], r.best_ask_size)
    assert np.isnan(r.mid[0]) and np.isfinite(r.mid[1:]).all()  # event 0: no ask yet


def _bad_batch():
    ev = lobkit.make_events(kind=Kind.ADD, side=[1, -1, 1, 1], price=[99, 101, 98, 97],
                            size=[5, 5, 5, 5], order_id=[1, 2, 3, 4], ts=[1, 2, 3, 4])
    ev[2]["order_id"] = 1  # duplicate id at index 2
    return ev


def test_raise_leaves_book_as_before_the_call():
    book = lobkit.L3Book()
    book.add_ticks(50, -1, 120, 7)
    with pytest.raises(errors.DuplicateOrderError) as e:
        lobkit.replay(_bad_batch(), book=book)
    assert e.value.index == 2 and e.value.field == "order_id"
    assert "event 2" in str(e.value)
    assert book.n_orders == 1 and book.asks(ticks=True).tolist() == [[120, 7]]
    assert book.events == 1


def test_skip_policy_counts_and_keeps_going():
    r = lobkit.replay(_bad_batch(), on_error="skip")
    assert r.skipped == 1 and r.skipped_by_kind == {"DuplicateOrderError": 1}
    assert r.skipped_mask.tolist() == [False, False, True, False]
    assert isinstance(r.first_skipped, errors.DuplicateOrderError) and r.first_skipped.index == 2
    assert r.book.n_orders == 3 and r.best_bid_price.tolist() == [99, 99, 99, 99]


def test_timestamps_must_not_go_back():
    ev = lobkit.make_events(kind=Kind.SET_LEVEL, side=1, price=[1, 2, 3], size=1, ts=[5, 4, 6])
    with pytest.raises(errors.TimestampOrderError) as e:
        lobkit.replay(ev)
    assert (e.value.index, e.value.field) == (1, "ts")
    assert lobkit.replay(ev, check_ts=False).book.n_bids == 3
    r = lobkit.replay(ev, on_error="skip")
    assert r.skipped_by_kind == {"TimestampOrderError": 1} and r.book.n_bids == 2


@pytest.mark.parametrize("field,value,cls", [
    ("price", 2**62, errors.InvalidPriceError),
    ("size", -3, errors.InvalidSizeError),
    ("side", 3, errors.InvalidSideError),
    ("kind", 99, errors.InvalidKindError),
])
def test_bad_event_fields_raise_typed_errors(field, value, cls):
    ev = lobkit.make_events(kind=Kind.SET_LEVEL, side=1, price=[1, 2, 3], size=1)
    ev[1][field] = value
    book = lobkit.L2Book()
    book.update_ticks(-1, 50, 1)
    with pytest.raises(cls) as e:
        lobkit.replay(ev, book=book)
    assert (e.value.index, e.value.field) == (1, field)
    assert book.bids().shape == (0, 2) and book.n_asks == 1


def test_l3_kinds_on_l2_book_are_refused():
    ev = lobkit.make_events(kind=Kind.ADD, side=1, price=1, size=1, order_id=1)
    with pytest.raises(errors.InvalidKindError, match="L2 book"):
        lobkit.replay(ev, book=lobkit.L2Book())


def test_wrong_arrays_name_the_argument_and_the_fix():
    ev = synthetic_l2(10)
    with pytest.raises(errors.EventDtypeError, match="events: dtype"):
        lobkit.replay(np.zeros(10, dtype=np.int64))
    with pytest.raises(TypeError, match="make_events"):
        lobkit.replay([1, 2, 3])
    with pytest.raises(errors.EventLayoutError, match="ascontiguousarray"):
        lobkit.replay(ev[::2])
    with pytest.raises(errors.EventLayoutError, match="1-D"):
        lobkit.replay(ev.reshape(2, 5))
    with pytest.raises(ValueError, match="on_error"):
        lobkit.replay(ev, on_error="ignore")
    packed = np.zeros(3, dtype=[("ts", "<i8"), ("kind", "u1")])
    with pytest.raises(errors.EventDtypeError):
        lobkit.replay(packed)


def test_make_events_converts_on_the_grid_only():
    ev = lobkit.make_events(kind=Kind.SET_LEVEL, side=[1, -1], price=[100.25, 100.5],
                            size=[0.003, 1.5], tick_size=0.25, lot_size=0.001)
    assert ev["price"].tolist() == [401, 402] and ev["size"].tolist() == [3, 1500]
    with pytest.raises(errors.InvalidPriceError) as e:
        lobkit.make_events(kind=1, side=1, price=[100.0, 100.1], size=1, tick_size=0.25)
    assert e.value.index == 1
    for bad in (np.nan, np.inf, -1.0):
        with pytest.raises(errors.InvalidSizeError):
            lobkit.make_events(kind=1, side=1, price=1.0, size=[1.0, bad], tick_size=1, lot_size=1)
    with pytest.raises(errors.InvalidPriceError, match="tick_size"):
        lobkit.make_events(kind=1, side=1, price=[1.5], size=1)


def test_empty_input():
    r = lobkit.replay(np.zeros(0, dtype=EVENT_DTYPE), depth=3)
    assert r.bid_price.shape == (0, 3) and r.book.events == 0


def test_progress_callback_and_chunks():
    seen = []
    ev = synthetic_l2(2500)
    lobkit.replay(ev, chunk=1000, progress=seen.append)
    assert seen == [1000, 2000, 2500]


def test_progress_callback_error_interrupts_and_restores():
    ev = synthetic_l2(2500)
    book = lobkit.L2Book()

    def boom(done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lobkit.replay(ev, chunk=1000, progress=boom, book=book)
    assert book.n_bids == 0 and book.events == 0


def test_rust_panic_becomes_an_exception():
    with pytest.raises(errors.InternalError, match="internal error"):
        lobkit._core.panic_for_test()


def test_auto_book_type_without_a_scan_matches_the_named_type():
    """No book_type: an L2 book that restarts as L3 at the first L3 kind —
    the same result as naming the type, in both error modes, and ts copied
    in the same pass."""
    import numpy as np
    from lobkit.testing import synthetic_l2, synthetic_l3

    l3 = synthetic_l3(5_000, seed=2)
    # L2-compatible events first (a print, a clear), the first L3 kind later.
    head = lobkit.make_events(ts=[l3["ts"][0]] * 2, kind=[lobkit.Kind.TRADE, lobkit.Kind.CLEAR],
                              side=[1, 0], price=[l3["price"][0], 0], size=[1, 0])
    from lobkit.io import concat

    ev = concat([head, l3])
    for on_error in ("raise", "skip"):
        auto = lobkit.replay(ev, depth=3, on_error=on_error)
        named = lobkit.replay(ev, depth=3, on_error=on_error, book_type="l3")
        assert isinstance(auto.book, lobkit.L3Book) and auto.skipped == named.skipped == 0
        np.testing.assert_array_equal(auto.bid_price, named.bid_price)
        np.testing.assert_array_equal(auto.ask_size, named.ask_size)
        np.testing.assert_array_equal(auto.ts, ev["ts"])
    l2 = synthetic_l2(5_000, seed=2)
    r = lobkit.replay(l2, depth=0)
    assert isinstance(r.book, lobkit.L2Book)
    np.testing.assert_array_equal(r.ts, l2["ts"])
    assert r.ts.flags.c_contiguous and not np.shares_memory(r.ts, l2)
