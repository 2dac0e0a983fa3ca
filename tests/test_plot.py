"""`lobkit.plot.heatmap`: matplotlib conventions, and pictures that are
pictures — pixel statistics that fail on a blank canvas or a squeezed time
range, on the bundled samples and on every real capture."""

import datetime as dt

import numpy as np
import pytest

import lobkit

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # the tests pick the backend; the library never does
import matplotlib.pyplot as plt  # noqa: E402

from conftest import BUNDLED  # noqa: E402
from io_helpers import BUNDLED_BINANCE  # noqa: E402
from lobkit.plot import alert_view, dense_window, heatmap  # noqa: E402

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def ink(fig) -> float:
    """Fraction of the main axes' pixels that are not the white background."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    ax = fig.axes[0]
    x0, y0, x1, y1 = (int(v) for v in ax.get_window_extent().extents)
    h = rgba.shape[0]
    inner = rgba[h - y1 + 2:h - y0 - 2, x0 + 2:x1 - 2, :3]
    return float((inner.min(axis=2) < 245).mean())


def replayed(path, **kw):
    feed = lobkit.io.load(path, **kw)
    return feed, lobkit.replay(feed, depth=10, signals=True)


def test_heatmap_returns_the_figure_and_draws_into_a_given_axes():
    feed, res = replayed(GOOG)
    backend = matplotlib.get_backend()
    fig = heatmap(res, feed.events)
    assert fig is plt.gcf() or fig.axes  # a Figure with our axes and two colorbars
    labels = [a.get_ylabel() for a in fig.axes]
    assert "bid size (resting, log)" in labels and "ask size (resting, log)" in labels
    assert ink(fig) > 0.08
    plt.close(fig)
    fig2, (a1, a2) = plt.subplots(1, 2)
    got = heatmap(res, feed.events, ax=a2)
    assert got is fig2 and a2.get_title() and not a1.has_data()
    assert matplotlib.get_backend() == backend  # no backend forced
    plt.close(fig2)


def test_legend_names_best_quotes_trades_and_alerts():
    feed = lobkit.io.load(GOOG)
    res = lobkit.replay(feed, depth=10, signals=True, detect={"tick": 100})
    fig = heatmap(res, feed.events, max_alerts=5)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "best bid" in texts and "best ask" in texts
    assert "buyer-initiated trade" in texts and "seller-initiated trade" in texts
    drawn = sum(int(t.split(":")[1].split()[0]) for t in texts if "strongest of" in t)
    assert 0 < drawn <= 5  # the strongest alerts only, capped
    plt.close(fig)


def test_a_quiet_stretch_does_not_squeeze_the_picture():
    """A snapshot at midnight, then an hour of trading at 23:00: the default
    window is the busy hour (the issue's CME ES Christmas picture)."""
    from lobkit.testing import synthetic_l2

    ev = synthetic_l2(20_000, seed=3)
    hour = 3_600_000_000_000
    ts = np.empty(len(ev), np.int64)
    ts[:2_000] = 0  # the snapshot: one instant
    ts[2_000:] = 23 * hour + np.linspace(0, hour, len(ev) - 2_000).astype(np.int64)
    ev["ts"] = ts
    res = lobkit.replay(ev, depth=10, book_type="l2", tick_size=0.01, lot_size=0.001)
    t0, t1 = dense_window(res.ts)
    assert t0 >= 23 * hour and t1 - t0 <= hour
    fig = heatmap(res)
    lo, hi = fig.axes[0].get_xlim()
    assert (hi - lo) * 24 < 1.01  # days -> at most the hour
    assert ink(fig) > 0.08
    plt.close(fig)


@pytest.mark.parametrize("start", [
    "2012-06-21T13:40:00", dt.datetime(2012, 6, 21, 13, 40, tzinfo=dt.timezone.utc),
    dt.datetime(2012, 6, 21, 9, 40),  # naive = UTC: before the session, clipped by `end`
])
def test_start_end_take_strings_datetimes_and_ns(start):
    feed, res = replayed(GOOG)
    end = np.datetime64("2012-06-21T13:45:00", "ns").astype(np.int64)
    if isinstance(start, dt.datetime) and start.tzinfo is None:
        with pytest.raises(ValueError, match="no event falls inside"):
            heatmap(res, feed.events, start=start, end=int(end) - 4 * 3_600_000_000_000)
        return
    fig = heatmap(res, feed.events, start=start, end=int(end))
    lo, hi = fig.axes[0].get_xlim()
    assert abs((hi - lo) * 24 * 60 - 5) < 0.01  # five minutes wide
    plt.close(fig)


def test_one_instant_is_a_visible_band():
    """A capture that is one snapshot at one instant (the Tardis Deribit
    sample drew a blank canvas) fills a minimal window instead."""
    feed = lobkit.io.load(BUNDLED_BINANCE)
    ev = feed.events[:300].copy()
    ev["ts"] = ev["ts"][0]
    res = lobkit.replay(ev, depth=10, book_type="l2", tick_size=0.1, lot_size=0.001)
    fig = heatmap(res)
    assert ink(fig) > 0.03
    plt.close(fig)


def test_the_ink_measure_fails_on_a_blank_canvas():
    fig, ax = plt.subplots(figsize=(14, 7))
    ax.plot([0, 1], [0, 1], linewidth=0)
    assert ink(fig) < 0.005
    plt.close(fig)


def test_refuses_what_it_cannot_draw():
    feed = lobkit.io.load(GOOG)
    with pytest.raises(ValueError, match="depth > 0"):
        heatmap(lobkit.replay(feed, depth=0))
    res = lobkit.replay(feed, depth=5)
    with pytest.raises(ValueError, match="events: 10 rows"):
        heatmap(res, feed.events[:10])


@pytest.mark.realdata
@pytest.mark.parametrize("rel", [
    "lobster/AMZN_2012-06-21_34200000_57600000_message_5.csv.gz",
    "databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst",
    "binance/usdm/btcusdt_20240808.gz",
    "binance/spot/ethusdt_20240808.gz",
    "kraken/KRAKEN-c197c0.0.gz",
    "bitfinex/L3_feed.json.gz",
    "tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv",
    "tardis/binance-futures_book_snapshot_25_BTCUSDT.csv",
])
def test_every_real_capture_draws_a_picture(shared_data, rel):
    if rel.startswith("databento"):
        pytest.importorskip("databento_dbn")
    feed, res = replayed(shared_data / rel, symbol="XBT/USD" if "KRAKEN" in rel else None)
    fig = heatmap(res, feed.events)
    assert ink(fig) > 0.03, rel
    lo, hi = fig.axes[0].get_xlim()
    if "esh4" in rel:  # the trading hour, not the whole Christmas day
        assert (hi - lo) * 24 < 1.5
    plt.close(fig)


def test_sizes_are_bounded_before_allocating():
    feed, res = replayed(GOOG)
    for kw in ({"bins": 10**9}, {"price_bins": 0}, {"bins": -1}):
        with pytest.raises(ValueError, match="bins"):
            heatmap(res, feed.events, **kw)


def test_alert_view_draws_one_alert_with_its_evidence():
    feed = lobkit.io.load(GOOG)
    # the fixed-ratio rule alone (`spoof_min_z` 0): GOOG's orders spread so
    # widely in size that the defaults raise no spoofing alert there
    res = lobkit.replay(feed, depth=10, signals=True, detect={"tick": 100, "spoof_min_z": 0})
    sp = res.alerts[res.alerts["kind_name"] == "spoofing"]
    top = sp[int(sp["score"].argmax())]
    fig = alert_view(res, top, feed.events)
    ax = fig.axes[0]
    title = ax.get_title()
    assert title.startswith("spoofing, score") and f"{top['size']:g}" in title and "ms" in title
    # the window is the order's life with padding either side, in UTC
    x0, x1 = ax.get_xlim()
    span_days = (top["lifetime_ns"] + 2 * max(top["lifetime_ns"], 100_000_000)) / 86_400e9
    assert x1 - x0 == pytest.approx(span_days, rel=0.02)
    # the alert marker and its life bar are drawn, and the book is not blank
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("spoofing: 1 strongest of 1") for t in labels)
    assert len(ax.collections) >= 3 and ink(fig) > 0.05
    plt.close(fig)
    with pytest.raises(ValueError, match="one row"):
        alert_view(res, sp[:2], feed.events)
    plain = lobkit.replay(feed, depth=10)
    with pytest.raises(ValueError, match="no alerts"):
        alert_view(plain, top, feed.events)
