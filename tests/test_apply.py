"""`book.apply(events)` and keepers that own a book (`BinanceDepth(book=)`,
`KrakenDepth(book=)`): one message applied all or nothing, published once,
equal to the bulk replay of the same events."""

import numpy as np
import pytest

import lobkit
from lobkit.errors import (EventDtypeError, EventLayoutError, InvalidKindError, InvalidSideError,
                           InvalidSizeError,
                           TimestampOrderError, UnknownOrderError)
from lobkit.io import BinanceDepth, read_binance, read_lobster_reconciled
from lobkit.testing import synthetic_l2, synthetic_l3

from io_helpers import BUNDLED_BINANCE, book_dict, gz_lines

LOBSTER = (lobkit.__path__[0] + "/data/lobster/"
           "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz")


def snapshot(book):
    """Everything a caller can see of a book, for equality."""
    return (np.asarray(book.bids(10_000)).tolist(), np.asarray(book.asks(10_000)).tolist(),
            book.events, book.last_ts, book.ofi_total, getattr(book, "stats", None))


def chunks(n, rng):
    """Random message sizes (1..40 events) covering range(n)."""
    i = 0
    while i < n:
        k = int(rng.integers(1, 41))
        yield slice(i, min(i + k, n))
        i += k


@pytest.mark.parametrize("kind", ["l2", "l3", "lobster"])
def test_apply_in_messages_equals_replay(kind):
    if kind == "l2":
        ev, mk = synthetic_l2(20_000, seed=3), lambda: lobkit.L2Book()
    elif kind == "l3":
        ev, mk = synthetic_l3(20_000, seed=3), lambda: lobkit.L3Book()
    else:
        ev, _ = read_lobster_reconciled(LOBSTER)
        mk = lambda: lobkit.L3Book(unknown_id="anonymous")  # noqa: E731
    ref = mk()
    lobkit.replay(ev, book=ref, depth=0)
    book = mk()
    rng = np.random.default_rng(0)
    applied = sum(book.apply(ev[s]) for s in chunks(len(ev), rng))
    assert applied == len(ev) == book.events
    assert snapshot(book) == snapshot(ref)


def corrupt(ev, rng, l3):
    """A copy with one event broken at a random position (returns it and the
    position): an unknown kind, a timestamp before the book's, or (L2) a
    negative size or a bad side (L3 deletes ignore size and side)."""
    ev = ev.copy()
    j = int(rng.integers(len(ev)))
    how = int(rng.integers(2 if l3 else 4))
    if how == 0:
        ev["kind"][j] = 77
    elif how == 1:
        ev["ts"][j] = 0
    elif how == 2:
        ev["size"][j] = -5
    else:
        ev["side"][j] = 9
    return ev, j


@pytest.mark.parametrize("path", ["l2-undo", "l2-clear", "l2-detect", "l3"])
def test_apply_is_all_or_nothing(path):
    rng = np.random.default_rng(7)
    if path == "l3":
        ev, book = synthetic_l3(6_000, seed=5), lobkit.L3Book()
    else:
        ev, book = synthetic_l2(6_000, seed=5), lobkit.L2Book()
    if path == "l2-detect":
        lobkit.detect.enable(book)
    book.apply(ev[:2_000])
    failures = 0
    for s in chunks(4_000, rng):
        msg = ev[2_000:][s]
        if path == "l2-clear" and len(msg) > 2:
            msg = msg.copy()
            msg[1] = (msg["ts"][0], 0, 0, 0, lobkit.Kind.CLEAR, 1, 0)
        if len(msg) > 1 and rng.random() < 0.3:
            bad, j = corrupt(msg, rng, path == "l3")
            before = snapshot(book)
            with pytest.raises((InvalidKindError, InvalidSizeError, InvalidSideError,
                                TimestampOrderError)) as e:
                book.apply(bad)
            assert e.value.index == j
            assert snapshot(book) == before
            failures += 1
        book.apply(msg)
    assert failures > 20


def test_apply_skip_equals_the_valid_events():
    ev = synthetic_l2(5_000, seed=11)
    bad = ev.copy()
    rng = np.random.default_rng(1)
    idx = rng.choice(len(ev), 50, replace=False)
    bad["size"][idx] = -1
    a, b = lobkit.L2Book(), lobkit.L2Book()
    assert a.apply(bad, on_error="skip") == len(ev) - 50
    b.apply(np.delete(ev, idx))
    assert snapshot(a) == snapshot(b)


def test_apply_publishes_once_per_call():
    book = lobkit.L2Book(tick_size=0.01, lot_size=1)
    r = book.reader(levels=2)
    s0 = r.read().seq
    msg = lobkit.make_events(ts=[1, 1, 1], kind=lobkit.Kind.SET_LEVEL, side=[1, -1, 1],
                             price=[100, 101, 99], size=[5, 6, 7])
    assert book.apply(msg) == 3
    snap = r.read()
    assert snap.seq == s0 + 1  # one publication for the whole message
    assert [lvl[1] for lvl in snap.bids] == [5, 7] and snap.asks[0][1] == 6


def test_apply_argument_errors_are_typed():
    book = lobkit.L2Book()
    ev = synthetic_l2(10, seed=1)
    for bad, cls in [(ev.view(np.uint8), EventDtypeError), ([1, 2], EventDtypeError),
                     (np.zeros(3), EventDtypeError), (ev[::2], EventLayoutError),
                     (ev.reshape(2, 5), EventLayoutError)]:
        with pytest.raises(cls):
            book.apply(bad)
    buf = np.zeros(40 * 4 + 1, np.uint8)
    unaligned = np.frombuffer(buf.data, dtype=lobkit.EVENT_DTYPE, count=4, offset=1)
    with pytest.raises(EventLayoutError, match="aligned"):
        book.apply(unaligned)
    with pytest.raises(ValueError, match="on_error"):
        book.apply(ev, on_error="skipp")
    assert book.events == 0
    assert book.apply(ev[:0]) == 0
    # L3 events on an L3 book: an unknown id is the book's typed error at its position.
    l3 = lobkit.L3Book()
    msg = lobkit.make_events(ts=[1, 2], kind=[lobkit.Kind.ADD, lobkit.Kind.CANCEL], side=[1, 1],
                             price=[100, 100], size=[5, 1], order_id=[1, 2])
    with pytest.raises(UnknownOrderError) as e:
        l3.apply(msg)
    assert e.value.index == 1 and l3.events == 0


def test_binance_keeper_owning_a_book_equals_the_bulk_load():
    feed = read_binance(BUNDLED_BINANCE, tick_size="0.1", lot_size="0.001")
    ref = lobkit.replay(feed.events, tick_size=0.1, lot_size=0.001, depth=0, book_type="l2").book
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    r = book.reader(levels=5)
    sync = BinanceDepth(tick_size="0.1", lot_size="0.001", book=book)
    assert sync.book is book
    total = 0
    for line in gz_lines(BUNDLED_BINANCE):
        ts, msg = line.split(" ", 1)
        n = sync.on_message(msg, int(ts))
        assert isinstance(n, int)
        total += n
    assert total == len(feed.events) == book.events
    assert book_dict(book, 0.1, 0.001) == book_dict(ref, 0.1, 0.001)
    assert sync.in_sync and sync.stats == feed.stats
    assert r.read().bids[0].tolist() == np.asarray(book.bids(1))[0].tolist()


def test_keeper_book_must_match_the_grid():
    with pytest.raises(ValueError, match="grid"):
        BinanceDepth(tick_size="0.1", lot_size="0.001", book=lobkit.L2Book(tick_size=0.01))
    with pytest.raises(TypeError, match="L2Book"):
        BinanceDepth(tick_size="1", lot_size="1", book=lobkit.L3Book())
    from lobkit.io import KrakenDepth
    with pytest.raises(ValueError, match="grid"):
        KrakenDepth("XBT/USD", tick_size="0.1", lot_size="0.001", book=lobkit.L2Book())


def test_refused_message_leaves_the_book_and_resyncs_the_keeper():
    book = lobkit.L2Book(cross_policy="reject")
    sync = BinanceDepth(tick_size=1, lot_size=1, book=book)
    assert sync.on_message('{"lastUpdateId": 10, "bids": [["99", "1"]], "asks": [["101", "1"]]}') == 3
    assert sync.on_message('{"e":"depthUpdate","E":1,"U":11,"u":11,"b":[["98","2"]],"a":[]}') == 1
    before = snapshot(book)
    # A bid at 102 crosses the ask at 101: the book refuses the whole message.
    with pytest.raises(lobkit.errors.CrossedBookError) as e:
        sync.on_message('{"e":"depthUpdate","E":2,"U":12,"u":12,"b":[["97","3"],["102","1"]],"a":[]}')
    assert e.value.index == 3  # the message number
    assert snapshot(book) == before
    assert not sync.in_sync  # waits for a snapshot, which rebuilds the book
    assert sync.on_message('{"e":"depthUpdate","E":3,"U":13,"u":13,"b":[["96","1"]],"a":[]}') == 0
    assert sync.on_message('{"lastUpdateId": 13, "bids": [["95", "4"]], "asks": [["100", "2"]]}') > 0
    assert sync.in_sync
    assert np.asarray(book.bids(5)).tolist() == [[95.0, 4.0]]
    assert np.asarray(book.asks(5)).tolist() == [[100.0, 2.0]]


def test_kraken_keeper_owning_a_book():
    from lobkit.io import KrakenDepth
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.1)
    k = KrakenDepth("XBT/USD", tick_size="0.1", lot_size="0.1", book=book)
    snap = ('[1,{"as":[["101.0","1.0","1.5"]],"bs":[["99.0","2.0","1.5"]]},'
            '"book-10","XBT/USD"]')
    assert k.on_message(snap, 5) == 3 and k.in_sync
    assert book.best_bid == (99.0, 2.0) and book.best_ask == (101.0, 1.0)
    assert k.on_message('{"event":"heartbeat"}', 6) == 0
