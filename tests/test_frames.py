"""Replay results and books to pyarrow / pandas / polars / Parquet and back."""

import numpy as np
import pytest

import lobkit
import lobkit.testing
from lobkit import frames

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")


@pytest.fixture(scope="module")
def replayed():
    ev = lobkit.testing.synthetic_l3(3000, seed=11)
    return ev, lobkit.replay(ev, depth=5, tick_size=0.01, lot_size=0.5, signals=True)


def assert_same(a, b):
    for name in ("bid_price", "bid_size", "ask_price", "ask_size", "best_bid_price",
                 "best_bid_size", "best_ask_price", "best_ask_size", "ts", "imbalance", "ofi",
                 "ofi_msg", "signed_volume", "weighted_mid", "ofi_levels"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (a.depth, a.tick_size, a.lot_size) == (b.depth, b.tick_size, b.lot_size)


@pytest.mark.parametrize("units", ["ticks", "price"])
def test_round_trips_keep_values_and_dtypes(replayed, tmp_path, units):
    ev, res = replayed
    t = res.to_arrow(units=units)
    assert t.num_rows == len(ev) and t.column("ts").type == pa.timestamp("ns", tz="UTC")
    want = pa.int64() if units == "ticks" else pa.float64()
    assert t.column("bid_price_1").type == want and t.column("best_ask_size").type == want
    assert t.column("imbalance").type == pa.float64() and t.column("ofi_3").type == want
    # an empty level is null, not price 0
    empty = res.bid_size[:, 1] == 0
    assert empty.any() and t.column("bid_price_2").null_count == int(empty.sum())
    assert_same(frames.from_table(t), res)
    df = res.to_pandas(units=units)
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert str(df["ofi"].dtype) == ("Int64" if units == "ticks" else "float64")
    assert df["bid_price_2"].isna().sum() == int(empty.sum())
    assert_same(frames.from_table(df), res)
    pdf = res.to_polars(units=units)
    assert pdf.schema["ts"] == pl.Datetime("ns", "UTC") and pdf.height == len(ev)
    # polars frames carry no metadata: say what the table holds.
    assert_same(frames.from_table(pdf, tick_size=0.01, lot_size=0.5, units=units), res)
    path = tmp_path / f"r_{units}.parquet"
    res.to_parquet(path, units=units)
    assert_same(frames.from_table(path), res)
    if units == "price":
        np.testing.assert_allclose(df["best_bid_price"], np.where(
            res.best_bid_size > 0, res.best_bid_price * 0.01, np.nan))
        np.testing.assert_allclose(df["ofi"], res.ofi * 0.5)  # size units, as the sizes


def test_one_dimensional_columns_are_not_copied(replayed):
    _, res = replayed
    t = res.to_arrow(units="ticks")
    back = t.column("ofi").chunk(0).to_numpy(zero_copy_only=True)
    assert np.shares_memory(back, res.ofi)
    assert np.shares_memory(t.column("ts").chunk(0).to_numpy(zero_copy_only=True), res.ts)


def test_book_frame_from_book_and_engine_snapshot():
    book = lobkit.L2Book(tick_size=0.01, lot_size=1)
    for p, q in ((100.00, 5), (99.99, 7), (99.98, 1)):
        book.update("bid", p, q)
    book.update("ask", 100.02, 3)
    df = frames.book_frame(book, 2)
    assert list(df["side"]) == ["bid", "bid", "ask"] and list(df["level"]) == [1, 2, 1]
    assert list(df["price"]) == [100.00, 99.99, 100.02] and list(df["size"]) == [5, 7, 3]
    ticks = frames.book_frame(book, 10, units="ticks")
    assert ticks["price"].dtype == np.int64 and list(ticks["price"]) == [10000, 9999, 9998, 10002]
    snap = book.reader(10).read()
    assert frames.book_frame(snap, 10).equals(frames.book_frame(book, 10))
    with pytest.raises(ValueError, match="units"):
        frames.book_frame(book, units="cents")


def test_from_table_rejects_other_objects():
    with pytest.raises(TypeError, match="pyarrow Table"):
        frames.from_table([1, 2])


def test_events_round_trip_through_arrow_pandas_polars():
    from lobkit.io import events_from_table, events_to_arrow

    ev = lobkit.testing.synthetic_l3(2000, seed=9)
    t = events_to_arrow(ev, tick_size=0.01, lot_size=0.5)
    assert t.column("kind").type == pa.string() and t.column("ts").type == pa.int64()
    for table in (t, t.to_pandas(), pl.from_arrow(t)):
        back = events_from_table(table, tick_size=0.01, lot_size=0.5)
        assert back.dtype == lobkit.EVENT_DTYPE
        np.testing.assert_array_equal(back, ev)
    with pytest.raises(TypeError, match="pyarrow Table"):
        events_from_table({"ts": [1]})


def test_lobster_tables_carry_utc_timestamps_and_round_trip_to_session_ns():
    """LOBSTER counts ns after midnight New York time; tables say when that
    was (UTC), and from_table gives the file's own clock back."""
    from conftest import BUNDLED

    feed = lobkit.io.load(BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz")
    res = lobkit.replay(feed, depth=2, signals=True)
    assert (res.tz, res.date) == ("America/New_York", "2012-06-21")
    df = res.to_pandas()
    # 09:30:00.015105074 EDT (UTC-4) is 13:30:00.015105074 UTC
    assert df["ts"].iloc[0] == pd.Timestamp("2012-06-21 13:30:00.015105074", tz="UTC")
    back = frames.from_table(df)
    np.testing.assert_array_equal(back.ts, feed.events["ts"])
    assert (back.tz, back.date) == ("America/New_York", "2012-06-21")
    back = frames.from_table(res.to_arrow(units="ticks"))
    np.testing.assert_array_equal(back.ts, feed.events["ts"])
    np.testing.assert_array_equal(back.ofi, res.ofi)


def test_event_columns_show_what_produced_each_row(replayed):
    ev, res = replayed
    df = res.to_pandas(events=ev)
    assert list(df.columns[:6]) == ["ts", "kind", "side", "price", "size", "flags"]
    names = {k.value: k.name for k in lobkit.Kind}
    assert df["kind"].astype(str).tolist() == [names[k] for k in ev["kind"]]
    np.testing.assert_allclose(df["price"], ev["price"] * 0.01)
    np.testing.assert_allclose(df["size"], ev["size"] * 0.5)
    ticks = res.to_arrow(events=ev, units="ticks")
    np.testing.assert_array_equal(ticks.column("price").to_numpy(), ev["price"])
    assert_same(frames.from_table(ticks), res)  # the event columns do not disturb the book
