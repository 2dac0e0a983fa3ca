"""`lobkit.ConsolidatedBook` / `lobkit.consolidate`: the consolidated levels
are the venues' own books summed price by price (each venue replayed on its
own as the reference), streaming equals bulk, locked and crossed states are
reported, a venue's gap takes it out until its snapshot, and bad input is
refused with the book untouched."""

from decimal import Decimal

import numpy as np
import pytest

import lobkit
from lobkit.consolidated import STATES
from lobkit.errors import LobkitError
from lobkit.io import F_BAD_BOOK, F_SNAPSHOT

K = lobkit.Kind


def ev(rows):
    """Events from (ts, kind, side, price, size[, flags]) rows."""
    out = np.zeros(len(rows), dtype=lobkit.EVENT_DTYPE)
    for i, r in enumerate(rows):
        ts, kind, side, price, size = r[:5]
        out[i] = (ts, 0, price, size, kind, side, r[5] if len(r) > 5 else 0)
    return out


def two():
    # A: $0.10 ticks, 0.001 lots; B: $0.01 ticks, 0.00001 lots
    return lobkit.ConsolidatedBook([("a", "0.1", "0.001"), ("b", "0.01", "0.00001")])


def test_common_grid_levels_by_venue_and_states():
    c = two()
    assert (c.tick_size, c.lot_size, c.venues) == ("0.01", "0.00001", ["a", "b"])
    c.apply("a", ev([(1, K.SET_LEVEL, 1, 1000, 5), (1, K.SET_LEVEL, -1, 1002, 7)]))  # 100.0, 100.2
    c.apply(1, ev([(2, K.SET_LEVEL, 1, 10000, 200)]))  # b bids 100.00 x 0.002
    assert c.best_bid == (100.0, pytest.approx(0.007), ["a", "b"])
    assert c.best_ask == (100.2, pytest.approx(0.007), ["a"])
    lv = c.levels("bid", 5)
    np.testing.assert_allclose(lv, [[100.0, 0.007, 0.005, 0.002]])
    assert c.state == "normal"
    c.apply("b", ev([(3, K.SET_LEVEL, 1, 10020, 100)]))  # b bids 100.20 = a's ask
    assert c.state == "locked" and c.best_bid[2] == ["b"]
    c.apply("b", ev([(5, K.SET_LEVEL, 1, 10030, 100)]))  # bids above the ask
    assert c.state == "crossed"
    s = c.stats
    assert (s["locked_events"], s["crossed_events"], s["locked_ns"]) == (1, 1, 2)
    assert s["venue_events_gaps"] == {"a": (2, 0), "b": (3, 0)}


def test_a_gap_takes_the_venue_out_until_its_snapshot():
    c = two()
    c.apply("a", ev([(1, K.SET_LEVEL, 1, 1000, 5)]))
    c.apply("b", ev([(1, K.SET_LEVEL, 1, 10010, 100), (1, K.SET_LEVEL, -1, 10050, 100)]))
    assert c.best_bid[2] == ["b"]
    c.apply("b", ev([(2, K.CLEAR, 0, 0, 0, F_BAD_BOOK)]))
    assert dict(c.in_sync) == {"a": True, "b": False}
    assert c.best_bid == (100.0, pytest.approx(0.005), ["a"]) and c.best_ask is None
    assert c.stats["venue_events_gaps"]["b"] == (3, 1)
    c.apply("b", ev([(3, K.CLEAR, 0, 0, 0, F_SNAPSHOT), (3, K.SET_LEVEL, -1, 10040, 50, F_SNAPSHOT)]))
    assert dict(c.in_sync)["b"] and c.best_ask == (100.4, pytest.approx(0.0005), ["b"])


def test_bad_input_is_refused_and_changes_nothing():
    c = two()
    c.apply("a", ev([(1, K.SET_LEVEL, 1, 1000, 5)]))
    before = (c.levels("bid"), c.stats["events"])
    with pytest.raises(LobkitError) as e:
        c.apply("a", ev([(2, K.SET_LEVEL, 1, 1001, 5), (2, K.SET_LEVEL, 3, 1002, 1)]))
    assert e.value.index == 1 and e.value.field == "side"
    with pytest.raises(LobkitError):
        c.apply("a", ev([(2, K.ADD, 1, 1001, 5)]))  # an L3 kind
    with pytest.raises(LobkitError):
        c.apply("a", ev([(2, K.SET_LEVEL, 1, 2**62, 5)]))  # beyond the common grid
    with pytest.raises(ValueError, match="venue="):
        c.apply("z", ev([(2, K.SET_LEVEL, 1, 1001, 5)]))
    np.testing.assert_array_equal(c.levels("bid"), before[0])
    assert c.stats["events"] == before[1]
    with pytest.raises(ValueError, match="not a whole multiple"):
        lobkit.ConsolidatedBook([("a", "0.1", "1"), ("b", "0.01", "1")], tick_size="0.05")
    with pytest.raises(ValueError, match="twice"):
        lobkit.ConsolidatedBook([("a", "0.1", "1"), ("a", "0.01", "1")])
    with pytest.raises(ValueError, match="venues"):
        lobkit.ConsolidatedBook([(f"v{i}", "1", "1") for i in range(65)])


def _summed_books(feeds):
    """Each venue's own final book (a plain replay), summed by exact
    decimal price: {side: {price: size}}."""
    want: dict[int, dict[Decimal, Decimal]] = {1: {}, -1: {}}
    for f in feeds.values():
        book = lobkit.replay(f, depth=0).book
        for side, levels in ((1, book.bids(100_000, ticks=True)), (-1, book.asks(100_000, ticks=True))):
            for p, q in levels:
                key = Decimal(int(p)) * Decimal(f.tick)
                want[side][key] = want[side].get(key, Decimal(0)) + Decimal(int(q)) * Decimal(f.lot)
    return want


def _check_summed(r, feeds):
    """The consolidated book holds exactly the venues' own books summed."""
    want = _summed_books(feeds)
    for side, name in ((1, "bid"), (-1, "ask")):
        got = r.book.levels(name, 100_000)
        assert len(got) == len(want[side])
        tick, lot = Decimal(r.book.tick_size), Decimal(r.book.lot_size)
        for row in got:
            p = (Decimal(str(float(row[0]))) / tick).to_integral_value() * tick
            assert abs(Decimal(str(float(row[1]))) - want[side][p]) <= max(lot, Decimal("1e-9")) * 2, \
                (name, p)
            assert row[1] == pytest.approx(sum(row[2:]))


@pytest.mark.realdata
def test_binance_spot_and_usdm_consolidated_equal_their_own_books(shared_data):
    spot = lobkit.io.load(shared_data / "binance" / "spot" / "btcusdt_20240808.gz")
    usdm = lobkit.io.load(shared_data / "binance" / "usdm" / "btcusdt_20240808.gz")
    feeds = {"spot": spot, "usdm": usdm}
    r = lobkit.consolidate(feeds)
    assert len(r) == len(spot) + len(usdm)
    assert r.book.tick_size == "0.01" and r.book.lot_size == "0.000001"
    _check_summed(r, feeds)
    # Bulk rows: the last row is the final book; venue masks name the venues at the best.
    assert r.bid_price[-1] == r.book.best_bid[0]
    names = r.book.best_bid[2]
    assert [r.venues[v] for v in range(2) if r.bid_venues[-1] >> v & 1] == names
    # Perpetual vs spot: the futures basis shows as a crossed book most of the time.
    assert r.share("crossed") + r.share("locked") + r.share("normal") + r.share("one_sided") == \
        pytest.approx(1.0)
    assert set(np.unique(r.state)) <= set(range(len(STATES)))


@pytest.mark.realdata
def test_kraken_xbtusd_with_the_binance_books_on_one_grid(shared_data):
    """The three captures the issue names: Binance spot and USD-M BTCUSDT
    (tick 0.01 / 0.1, lots 1e-6 / 1e-3) and Kraken XBT/USD (its printed
    precision, every CRC32 verified). Kraken's capture is from 2021, so its
    events all come first in time order; the common grid must still hold
    every venue's prices and sizes exactly, and the final book equal the
    three books summed price by price."""
    spot = lobkit.io.load(shared_data / "binance" / "spot" / "btcusdt_20240808.gz")
    usdm = lobkit.io.load(shared_data / "binance" / "usdm" / "btcusdt_20240808.gz")
    kraken = lobkit.io.load(shared_data / "kraken" / "KRAKEN-c197c0.0.gz", symbol="XBT/USD")
    feeds = {"spot": spot, "usdm": usdm, "kraken": kraken}
    r = lobkit.consolidate(feeds)
    assert len(r) == len(spot) + len(usdm) + len(kraken)
    # powers of ten: the coarsest common grid is the finest venue grid
    assert Decimal(r.book.tick_size) == min(Decimal(f.tick) for f in feeds.values())
    assert Decimal(r.book.lot_size) == min(Decimal(f.lot) for f in feeds.values())
    _check_summed(r, feeds)
    assert set(r.venues) == set(feeds)
    # the Kraken rows come first and, until Binance starts, only Kraken is at the best
    n_k = len(kraken)
    k = r.venues.index("kraken")
    assert all(m == 1 << k for m in r.bid_venues[: n_k][r.bid_venues[: n_k] != 0][-10:])


def test_streaming_equals_bulk_on_the_bundled_sample():
    from io_helpers import BUNDLED_BINANCE

    feed = lobkit.io.load(BUNDLED_BINANCE)
    # Two "venues" from one feed: the events split alternately, on two grids
    # (the second with ten times finer ticks and lots: the same prices).
    a = feed.events[::2]
    b = feed.events[1::2].copy()
    b_fine = b.copy()
    b_fine["price"] *= 10
    b_fine["size"] *= 10
    tick_b = str(Decimal(feed.tick) / 10)
    lot_b = str(Decimal(feed.lot) / 10)
    bulk = lobkit.ConsolidatedBook([("a", feed.tick, feed.lot), ("b", tick_b, lot_b)])
    events = np.empty(len(a) + len(b), dtype=lobkit.EVENT_DTYPE)
    events[0::2][: len(a)] = a
    events[1::2][: len(b)] = b_fine
    venue = np.zeros(len(events), np.uint16)
    venue[1::2] = 1
    cols = bulk.replay(events, venue)
    stream = lobkit.ConsolidatedBook([("a", feed.tick, feed.lot), ("b", tick_b, lot_b)])
    for i in range(len(events)):
        stream.apply(int(venue[i]), events[i:i + 1])
        if i % 997 == 0 or i == len(events) - 1:
            bb = stream.best_bid
            assert (bb[0] if bb else np.nan) == pytest.approx(cols["bid_price"][i], nan_ok=True)
    np.testing.assert_array_equal(stream.levels("ask", 50), bulk.levels("ask", 50))
    # One venue alone on the same events: the consolidated book is that book.
    single = lobkit.ConsolidatedBook([("x", feed.tick, feed.lot)])
    single.replay(feed.events, np.zeros(len(feed.events), np.uint16))
    own = lobkit.replay(feed, depth=0).book
    np.testing.assert_allclose(single.levels("bid", 200)[:, :2], own.bids(200))
    np.testing.assert_allclose(single.levels("ask", 200)[:, :2], own.asks(200))


def test_a_reader_sees_the_consolidated_book_after_each_call():
    c = two()
    r = c.reader(levels=3)
    c.apply("a", ev([(1, K.SET_LEVEL, 1, 1000, 5), (1, K.SET_LEVEL, -1, 1002, 7)]))
    c.apply("b", ev([(2, K.SET_LEVEL, 1, 10010, 100)]))
    snap = r.read()
    np.testing.assert_allclose(snap.bids, [[100.1, 0.001], [100.0, 0.005]])
    np.testing.assert_allclose(snap.asks, [[100.2, 0.007]])
    assert snap.events == c.stats["events"] == 3
    seq = r.seq
    with pytest.raises(LobkitError):
        c.apply("b", ev([(3, K.SET_LEVEL, 5, 10010, 1)]))
    assert r.seq == seq  # a refused call applies and publishes nothing
    with pytest.raises(ValueError, match="levels"):
        c.reader(levels=0)
