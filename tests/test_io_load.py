"""`lobkit.io.load`: one Feed for every format and source, grids inferred
exactly, and `lobkit.replay(feed)` as the whole job."""

import gzip
import io
from decimal import Decimal

import numpy as np
import pytest

import lobkit
from conftest import BUNDLED
from io_helpers import BUNDLED_BINANCE
from lobkit.io import Feed, load, read_binance

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def _state(res):
    return (res.book.bids(10, ticks=True).tolist(), res.book.asks(10, ticks=True).tolist(),
            res.best_bid_price.tolist(), res.best_ask_size.tolist())


def test_lobster_feed_carries_what_replay_needs():
    feed = load(GOOG)
    assert isinstance(feed, Feed) and len(feed) == len(feed.events) == 20_774
    assert (feed.format, feed.book_type, feed.unknown_id, feed.tick, feed.lot, feed.grid) == (
        "lobster", "l3", "anonymous", "0.0001", "1", "format")
    assert (feed.symbol, feed.date, feed.tz) == ("GOOG", "2012-06-21", "America/New_York")
    by_feed = lobkit.replay(feed, depth=10)
    by_hand = lobkit.replay(feed.events, depth=10, tick_size=0.0001, book_type="l3",
                            unknown_id="anonymous")
    assert _state(by_feed) == _state(by_hand)
    assert by_feed.book.best_bid == (575.4, 10.0)


def test_binance_grid_is_inferred_exactly():
    feed = load(BUNDLED_BINANCE)
    assert (feed.tick, feed.lot, feed.grid, feed.symbol) == ("0.1", "0.001", "inferred", "BTCUSDT")
    # The same file on the finest grid: every price is the inferred tick count
    # times (0.1 / 1e-8) exactly, every size likewise.
    fine = read_binance(BUNDLED_BINANCE, tick_size="1e-8", lot_size="1e-8")
    assert np.array_equal(fine.events["price"], feed.events["price"] * 10_000_000)
    assert np.array_equal(fine.events["size"], feed.events["size"] * 100_000)
    explicit = read_binance(BUNDLED_BINANCE, tick_size="0.1", lot_size="0.001")
    assert np.array_equal(explicit.events, feed.events)
    # bookTicker quotes move to the same grid as the events
    assert np.array_equal(explicit.tickers["bid_price"], read_binance(BUNDLED_BINANCE).tickers[
        "bid_price"])


def test_a_given_grid_wins_and_is_reported_as_given():
    feed = load(BUNDLED_BINANCE, tick_size="0.01", lot_size="0.001")
    assert (feed.tick, feed.grid) == ("0.01", "given")
    assert np.array_equal(feed.events["price"], load(BUNDLED_BINANCE).events["price"] * 10)


def test_bytes_file_objects_and_names_equal_the_path():
    # No orderbook file travels with bytes: the messages alone, no seed book.
    want = lobkit.io.read_lobster(GOOG, orderbook_path=None)
    raw = GOOG.read_bytes()
    with open(GOOG, "rb") as f:
        from_file = load(f, reconcile=False)
    for got in (load(raw, name=GOOG.name), load(io.BytesIO(raw), name=GOOG.name), from_file):
        assert np.array_equal(got.events, want) and got.symbol == "GOOG"
    # without the name, LOBSTER cannot be told from its bytes: the error says so
    with pytest.raises(ValueError, match="cannot tell the format"):
        load(raw)
    assert load(gzip.decompress(BUNDLED_BINANCE.read_bytes())).format == "binance"
    with pytest.raises(TypeError, match="binary mode"):
        load(io.StringIO("x"))
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(BUNDLED / "missing.csv")


def test_bytes_source_reconciles_only_with_an_orderbook_beside_it():
    """A LOBSTER message file given as bytes has no orderbook file next to it,
    so it is read unreconciled; from its path it is reconciled."""
    from_path, from_bytes = load(GOOG), load(GOOG.read_bytes(), name=GOOG.name)
    assert from_path.info["corrections"] > 0 and "corrections" not in from_bytes.info


def test_fsspec_urls():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for f in BUNDLED.iterdir():
        fs.pipe(f"/lobkit-test/{f.name}", f.read_bytes())
    feed = load(f"memory://lobkit-test/{GOOG.name}")
    assert feed.info["corrections"] == load(GOOG).info["corrections"]  # sibling fetched
    assert np.array_equal(feed.events, load(GOOG).events)
    assert feed.source == f"memory://lobkit-test/{GOOG.name}"


def test_replay_refuses_arguments_that_contradict_the_feed():
    feed = load(BUNDLED_BINANCE)
    with pytest.raises(ValueError, match="tick_size=0.01: the feed's events are on its own"):
        lobkit.replay(feed, tick_size=0.01)
    with pytest.raises(ValueError, match="book_type='l3'"):
        lobkit.replay(feed, book_type="l3")
    with pytest.raises(ValueError, match="book: its grid"):
        lobkit.replay(feed, book=lobkit.L2Book(tick_size=0.01, lot_size=0.001))
    # repeating the feed's own values is fine, and a book on its grid continues
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    half = Feed(feed.events[:10_000], "binance", 0.1, 0.001, "l2")
    lobkit.replay(half, book=book, depth=0, tick_size=0.1)
    rest = Feed(feed.events[10_000:], "binance", 0.1, 0.001, "l2")
    lobkit.replay(rest, book=book, depth=0)
    assert book.bids(20, ticks=True).tolist() == lobkit.replay(feed, depth=0).book.bids(
        20, ticks=True).tolist()


def test_repr_names_the_grid_and_its_origin():
    r = repr(load(BUNDLED_BINANCE))
    assert "binance BTCUSDT" in r and "tick 0.1, lot 0.001 (inferred)" in r


@pytest.mark.realdata
@pytest.mark.parametrize("rel, want", [
    ("lobster/GOOG_2012-06-21_34200000_57600000_message_10.csv.gz", ("0.0001", "1", "l3")),
    ("databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst", ("0.25", "1", "l3")),
    ("databento/dbn_format_fixtures/test_data.mbp-10.v3.dbn.zst", ("0.25", "1", "l2")),
    ("binance/usdm/btcusdt_20240808.gz", ("0.1", "0.001", "l2")),
    ("binance/spot/btcusdt_20240808.gz", ("0.01", "0.000001", "l2")),
    ("kraken/KRAKEN-c197c0.0.gz", ("1e-05", "1e-08", "l2")),
    ("bitfinex/L3_feed.json.gz", ("0.00000001", "0.00000001", "l3")),
    ("tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv", ("0.1", "1", "l2")),
    ("tardis/binance-futures_book_snapshot_25_BTCUSDT.csv", ("0.01", "0.001", "l2")),
])
def test_every_real_capture_loads_and_replays_without_options(shared_data, rel, want):
    if rel.startswith("databento"):
        pytest.importorskip("databento_dbn")
    feed = load(shared_data / rel, symbol="XBT/USD" if "KRAKEN" in rel else None)
    assert (feed.tick, feed.lot, feed.book_type) == want
    res = lobkit.replay(feed, depth=1)
    assert res.skipped == 0 and len(res) == len(feed.events)
    # the inferred grid holds the data: prices in units are the file's decimals
    assert Decimal(feed.tick) * int(feed.events["price"].max()) > 0


@pytest.mark.realdata
def test_binance_spot_sizes_need_the_sixth_decimal(shared_data):
    """The issue's failing case: a spot capture whose trades print 25.426189
    needs a 1e-6 lot; the inferred grid is that, and 1e-5 is refused."""
    p = shared_data / "binance/spot/btcusdt_20240808.gz"
    assert load(p).lot == "0.000001"
    with pytest.raises(lobkit.errors.ParseError, match="field 'qty'.*25.42618900"):
        load(p, tick_size="0.01", lot_size="0.00001")
