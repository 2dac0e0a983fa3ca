"""`lobkit.signals.volume_profile`: exact volume per tick, the point of
control and the value area by the stated rule, against a naive reference,
hypothesis, and the data's own totals."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lobkit
from conftest import BUNDLED
from io_helpers import BUNDLED_BINANCE
from lobkit.profile import value_area
from lobkit.signals import volume_profile

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def naive_value_area(volume, share, two_rows=False):
    """The rule as written, one comparison at a time, on a list."""
    vol = list(volume)
    poc = max(range(len(vol)), key=lambda i: (vol[i], -i))  # max volume, ties to the lower
    lo = hi = poc
    have = vol[poc]
    total = sum(vol)
    step = 2 if two_rows else 1
    while have < share * total and (lo > 0 or hi < len(vol) - 1):
        up = sum(vol[hi + 1:hi + 1 + step]) if hi < len(vol) - 1 else -1
        down = sum(vol[max(lo - step, 0):lo]) if lo > 0 else -1
        if up >= down:
            n = min(step, len(vol) - 1 - hi)
            hi, have = hi + n, have + up
        else:
            n = min(step, lo)
            lo, have = lo - n, have + down
    return poc, lo, hi


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=40).filter(lambda v: sum(v) > 0),
       st.sampled_from([0.5, 0.7, 0.9, 1.0]), st.booleans())
def test_value_area_follows_the_stated_rule(volume, share, two):
    got = value_area(np.array(volume, np.int64), share, "two_rows" if two else "one_row")
    assert got == naive_value_area(volume, share, two)
    poc, lo, hi = got
    assert lo <= poc <= hi and sum(volume[lo:hi + 1]) >= share * sum(volume)


def test_ties_go_to_the_lower_poc_and_widen_upwards():
    assert value_area(np.array([5, 9, 9, 1]), 0.01) == (1, 1, 1)  # POC tie: the lower price
    # from the POC at index 2: above (4) == below (4), so above first
    assert value_area(np.array([0, 4, 10, 4, 0]), 0.75)[1:] == (2, 3)


def test_profile_of_a_small_tape_by_hand():
    ev = lobkit.make_events(
        kind=[lobkit.Kind.EXECUTE, lobkit.Kind.EXECUTE, lobkit.Kind.TRADE, lobkit.Kind.SET_LEVEL],
        side=[-1, 1, -1, 1], price=[101, 100, 103, 99], size=[5, 3, 2, 7], ts=[1, 2, 3, 4])
    vp = volume_profile(ev, tick_size=0.5, lot_size=0.1)
    assert vp.price_ticks.tolist() == [100, 101, 102, 103]  # the grid, empty ticks included
    assert vp.volume_lots.tolist() == [3, 5, 0, 2] and vp.trades == 3
    # an execution of a resting ask (side -1) was bought
    np.testing.assert_allclose(vp.buy_volume, [0, 0.5, 0, 0.2])
    np.testing.assert_allclose(vp.sell_volume, [0.3, 0, 0, 0])
    assert vp.poc == 50.5 and vp.total_volume == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no executions"):
        volume_profile(ev, start=4)


def test_goog_profile_totals_are_the_files_executions():
    feed = lobkit.io.load(GOOG)
    res = lobkit.replay(feed, depth=0, signals=True)
    vp = volume_profile(feed, res)
    raw = lobkit.io.read_lobster(GOOG, orderbook_path=None)
    # LOBSTER message types 4 (visible) and 5 (hidden) executions; flags keep the type
    want = int(raw["size"][np.isin(raw["flags"], [4, 5])].sum())
    assert int(vp.volume_lots.sum()) == want and vp.total_volume == want
    assert np.all(vp.buy_volume + vp.sell_volume <= vp.volume + 1e-9)
    assert vp.value_area_low <= vp.poc <= vp.value_area_high
    assert vp.value_area_volume >= 0.7 * vp.total_volume
    session = volume_profile(feed, res, start=int(feed.events["ts"][5_000]),
                             end=int(feed.events["ts"][10_000]))
    assert 0 < session.total_volume < vp.total_volume


def naive_footprint(ev, every):
    """Dicts and loops: (bar, price) -> [buy, sell, trades]."""
    cells = {}
    for e in ev:
        if e["kind"] not in (lobkit.Kind.EXECUTE, lobkit.Kind.TRADE) or e["size"] <= 0:
            continue
        key = (int(e["ts"]) // every * every, int(e["price"]))
        c = cells.setdefault(key, [0, 0, 0])
        if -e["side"] > 0:
            c[0] += int(e["size"])
        elif -e["side"] < 0:
            c[1] += int(e["size"])
        c[2] += 1
    return dict(sorted(cells.items()))


def test_footprint_equals_a_naive_reference_and_the_profile():
    from lobkit.signals import footprint

    feed = lobkit.io.load(GOOG)
    fp = footprint(feed, every="30s")
    want = naive_footprint(feed.events, 30_000_000_000)
    got = {(int(b), int(p)): [round(x), round(y), int(t)] for b, p, x, y, t in zip(
        fp.bar, fp.price_ticks, fp.buy, fp.sell, fp.trades)}
    assert got == want
    vp = volume_profile(feed)
    assert fp.volume.sum() == vp.total_volume
    np.testing.assert_array_equal(fp.cvd, np.cumsum(fp.bar_delta))
    assert len(fp.bar_start) == len(set(b for b, _ in want))


def test_footprint_diagonal_imbalance_and_bar_poc_by_hand():
    from lobkit.signals import footprint

    K = lobkit.Kind
    # one bar: sells at 100 (10 lots, resting bids hit), buys at 101 (40), buys at 102 (5)
    ev = lobkit.make_events(kind=[K.EXECUTE] * 4, side=[1, -1, -1, 1],
                            price=[100, 101, 102, 101], size=[10, 40, 5, 2], ts=[1, 2, 3, 4])
    fp = footprint(ev, every=1_000)
    assert fp.price_ticks.tolist() == [100, 101, 102]
    assert fp.buy.tolist() == [0, 40, 5] and fp.sell.tolist() == [10, 2, 0]
    # buy 40 at 101 vs sell 10 at 100: 4x >= 3 -> buy imbalance; buy 5 at 102 vs sell 2 at 101
    assert fp.buy_imbalance.tolist() == [False, True, False]
    # sell 10 at 100 vs buy 40 at 101: no; sell 2 at 101 vs buy 5 at 102: no
    assert fp.sell_imbalance.tolist() == [False, False, False]
    assert fp.bar_poc.tolist() == [101.0] and fp.bar_delta.tolist() == [33.0]
    for bad in ("1fortnight", "0s", "1e30s", -5):
        with pytest.raises(ValueError, match="every="):
            footprint(ev, every=bad)


def test_footprint_diagonals_are_one_venue_step_apart():
    from lobkit.signals import footprint

    K = lobkit.Kind
    # The same tape as above on a grid 100 times finer (LOBSTER-like): the
    # diagonal neighbour of 10100 is 10000, not the empty 10099.
    ev = lobkit.make_events(kind=[K.EXECUTE] * 4, side=[1, -1, -1, 1],
                            price=[10000, 10100, 10200, 10100], size=[10, 40, 5, 2],
                            ts=[1, 2, 3, 4])
    assert footprint(ev, every=1_000, step_ticks=100).buy_imbalance.tolist() == [
        False, True, False]
    # One book tick apart there is never a neighbour: every buy counts against 0.
    assert footprint(ev, every=1_000).buy_imbalance.tolist() == [False, True, True]
    with pytest.raises(ValueError, match="step_ticks"):
        footprint(ev, step_ticks=0)
    # A Feed gives its own step: LOBSTER's cent on its $0.0001 grid.
    feed = lobkit.io.load(GOOG)
    assert footprint(feed, every="1min").step_ticks == feed.step_ticks() == 100


def test_value_area_widens_by_venue_steps_not_empty_book_ticks():
    K = lobkit.Kind
    # Cent prices on a $0.0001-like grid (steps of 100 ticks): 40 lots at
    # 10000, the POC (50) at 10100, 10 at 10200. By the rule the area widens
    # to the larger neighbour, 10000 (40 > 10), and stops (90 of 100 >= 70).
    ev = lobkit.make_events(kind=[K.EXECUTE] * 3, side=[1, 1, 1], price=[10000, 10100, 10200],
                            size=[40, 50, 10], ts=[1, 2, 3])
    vp = volume_profile(ev, step_ticks=100)
    assert (vp.poc, vp.value_area_low, vp.value_area_high) == (10100, 10000, 10100)
    assert vp.price_ticks.tolist() == [10000, 10100, 10200]
    # Per book tick, the empty ticks tie and the area walks upward first.
    vp1 = volume_profile(ev)
    assert (vp1.value_area_low, vp1.value_area_high) == (10000, 10200)
    # A midpoint print counts at the step below it.
    mid = lobkit.make_events(kind=[K.TRADE], side=[1], price=[10150], size=[5], ts=[4])
    both = np.concatenate([ev, mid]).astype(lobkit.EVENT_DTYPE)
    assert volume_profile(both, step_ticks=100).volume_lots.tolist() == [40, 55, 10]
    with pytest.raises(ValueError, match="step_ticks"):
        volume_profile(ev, step_ticks=0)
    feed = lobkit.io.load(GOOG)
    assert np.all(np.diff(volume_profile(feed).price_ticks) == 100)


def test_rolling_profile_is_the_session_profile_of_each_trailing_window():
    from lobkit.signals import rolling_profile

    feed = lobkit.io.load(GOOG)
    res = lobkit.replay(feed, depth=0, signals=True)
    rp = rolling_profile(feed, res, every="1min", window="5min")
    assert len(rp.bar_end) >= 20 and np.all(np.diff(rp.bar_end) == 60 * 10**9)
    checked = 0
    for i in range(0, len(rp.bar_end), 3):
        end = int(rp.bar_end[i])
        try:
            vp = volume_profile(feed, res, start=end - 300 * 10**9, end=end)
        except ValueError:  # no trades in that window
            assert np.isnan(rp.poc[i]) and rp.trades[i] == 0
            continue
        assert (rp.poc[i], rp.value_area_low[i], rp.value_area_high[i]) == \
            (vp.poc, vp.value_area_low, vp.value_area_high)
        assert rp.volume[i] == pytest.approx(vp.total_volume) and rp.trades[i] == vp.trades
        checked += 1
    assert checked >= 5
    with pytest.raises(ValueError, match="every="):
        rolling_profile(feed, every="0s")
    with pytest.raises(ValueError, match="no executions"):
        rolling_profile(feed.events[:0])


def _same_profile(a, b):
    for f in ("price_ticks", "volume_lots", "price", "volume", "buy_volume", "sell_volume"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    for f in ("poc", "value_area_low", "value_area_high", "value_area_volume", "total_volume",
              "trades"):
        assert getattr(a, f) == getattr(b, f), f


@pytest.mark.parametrize("source", ["binance", "goog"])
def test_live_profile_equals_the_bulk_profile_message_by_message(source):
    from lobkit.signals import LiveProfile

    path = (GOOG if source == "goog"
            else BUNDLED_BINANCE)
    feed = lobkit.io.load(path)
    ev = feed.events
    live = LiveProfile(tick_size=feed.tick_size, lot_size=feed.lot_size,
                       step_ticks=feed.step_ticks())
    cuts = np.arange(0, len(ev), 997)
    for k, (a, b) in enumerate(zip(cuts, [*cuts[1:], len(ev)])):
        live.apply(ev[a:b])
        if k % 5 == 0 and live.trades:  # the POC and value area as the session stands
            part = volume_profile(feed.events[:b], tick_size=feed.tick_size,
                                  lot_size=feed.lot_size, step_ticks=feed.step_ticks())
            assert live.poc == part.poc
            assert live.value_area == (part.value_area_low, part.value_area_high)
    _same_profile(live.profile(), volume_profile(feed))
    # one trade at a time, the aggressor given: the same rows
    one = LiveProfile(tick_size=feed.tick_size, lot_size=feed.lot_size,
                      step_ticks=feed.step_ticks(), rule="two_rows")
    t = ev[np.isin(ev["kind"], [lobkit.Kind.EXECUTE, lobkit.Kind.TRADE]) & (ev["size"] > 0)]
    for p, s, side in zip(t["price"].tolist(), t["size"].tolist(), t["side"].tolist()):
        one.on_trade(p, s, -side)
    _same_profile(one.profile(), volume_profile(feed, rule="two_rows"))
    one.reset()
    assert (one.trades, one.poc, one.value_area) == (0, None, None)
    with pytest.raises(ValueError, match="no executions"):
        one.profile()


def test_live_profile_refuses_a_far_print_and_keeps_what_it_had():
    from lobkit.signals import LiveProfile

    live = LiveProfile(tick_size=0.01)
    live.on_trade(10_000, 5, 1)
    ev = lobkit.make_events(kind=[lobkit.Kind.EXECUTE] * 3, side=[1, -1, 1],
                            price=[10_001, 9_999, 10_000 + 60_000_000], size=[1, 2, 3],
                            ts=[1, 2, 3])
    with pytest.raises(lobkit.errors.InvalidPriceError, match="50,000,000 price steps") as e:
        live.apply(ev)
    assert str(e.value).startswith("event 2: price=60010000 ticks")
    assert (e.value.index, e.value.field) == (2, "price")
    assert (live.trades, live.poc, live.total_volume) == (1, 100.0, 5.0)
    assert live.apply(ev[:2]) == 2 and live.trades == 3
    with pytest.raises(lobkit.errors.InvalidSizeError):
        live.on_trade(10_000, 2**63 - 1, 1)
    assert live.trades == 3
    with pytest.raises(ValueError, match="step_ticks"):
        LiveProfile(step_ticks=0)
    with pytest.raises(ValueError, match="value_area_share"):
        LiveProfile(value_area_share=0)


def _same_footprint(a, b):
    for f in ("bar", "price", "price_ticks", "buy", "sell", "delta", "trades", "buy_imbalance",
              "sell_imbalance", "bar_start", "volume", "bar_delta", "cvd", "bar_poc"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


@pytest.mark.parametrize("source", ["binance", "goog"])
def test_live_footprint_equals_the_bulk_footprint_message_by_message(source):
    from lobkit.signals import LiveFootprint, footprint

    feed = lobkit.io.load(GOOG if source == "goog" else BUNDLED_BINANCE)
    ev = feed.events
    kw = {"tick_size": feed.tick_size, "lot_size": feed.lot_size,
          "step_ticks": feed.step_ticks()}
    every = "1min" if source == "goog" else "1s"
    live = LiveFootprint(every=every, ratio=2.5, **kw)
    drained = []
    for a in range(0, len(ev), 613):
        live.apply(ev[a:a + 613])
        if a % 3 == 0:
            drained.append(live.drain())
    bulk = footprint(feed, every=every, ratio=2.5, **kw)
    assert len(bulk.bar_start) > 3
    # everything counted so far, closed and open, is the bulk footprint
    rest = live.footprint()
    cells = np.concatenate([d.price_ticks for d in drained] + [rest.price_ticks])
    assert np.array_equal(cells, bulk.price_ticks)
    assert np.array_equal(np.concatenate([d.bar for d in drained] + [rest.bar]), bulk.bar)
    assert np.array_equal(np.concatenate([d.buy for d in drained] + [rest.buy]), bulk.buy)
    # not drained: the whole footprint, derived columns included
    whole = LiveFootprint(every=every, ratio=2.5, **kw)
    for a in range(0, len(ev), 997):
        whole.apply(ev[a:a + 997])
    _same_footprint(whole.footprint(), bulk)
    open_bar = whole.open_bar
    assert open_bar == int(bulk.bar_start[-1])
    closed = whole.footprint(include_open=False)
    assert closed.bar_start.tolist() == bulk.bar_start[:-1].tolist()
    whole.flush()
    assert whole.open_bar is None
    _same_footprint(whole.drain(), bulk)
    assert len(whole.footprint().bar) == 0


def test_live_footprint_refuses_a_trade_in_an_earlier_bar():
    from lobkit.signals import LiveFootprint

    live = LiveFootprint(every=100)
    ev = lobkit.make_events(kind=[lobkit.Kind.EXECUTE] * 3, side=[1, -1, 1],
                            price=[10, 11, 10], size=[2, 3, 1], ts=[150, 160, 99])
    assert live.apply(ev[:1]) == 1
    with pytest.raises(lobkit.errors.TimestampOrderError) as e:
        live.apply(ev[1:])
    assert e.value.index == 1
    fp = live.footprint()
    assert fp.price_ticks.tolist() == [10] and fp.sell.tolist() == [2.0]
    with pytest.raises(ValueError, match="ratio"):
        LiveFootprint(ratio=0)


@pytest.mark.parametrize("source", ["binance", "goog"])
def test_live_footprint_keep_bars_is_the_bulk_footprint_of_the_last_bars(source):
    """A capped footprint holds the last ``keep_bars`` closed bars (plus the
    open one): exactly the bulk footprint of those bars' trades, CVD from the
    oldest held; the bars it let go are counted."""
    from lobkit.signals import LiveFootprint, footprint

    feed = lobkit.io.load(GOOG if source == "goog" else BUNDLED_BINANCE)
    ev = feed.events
    kw = {"tick_size": feed.tick_size, "lot_size": feed.lot_size,
          "step_ticks": feed.step_ticks()}
    every = "1min" if source == "goog" else "1s"
    bulk = footprint(feed, every=every, ratio=2.5, **kw)
    bars = np.unique(bulk.bar_start)
    k = 3
    assert len(bars) > k + 2
    live = LiveFootprint(every=every, ratio=2.5, keep_bars=k, **kw)
    for a in range(0, len(ev), 701):
        live.apply(ev[a:a + 701])
        assert live.closed_bars <= k
    assert live.keep_bars == k
    # held: the last k closed bars and the open one
    held = bars[-(k + 1):]
    assert live.dropped_bars == len(bars) - (k + 1)
    traded = np.isin(ev["kind"], [lobkit.Kind.EXECUTE, lobkit.Kind.TRADE])
    bar_ns = int(bars[1] - bars[0]) if source == "goog" else 1_000_000_000
    keep = ~traded | (ev["ts"] - ev["ts"] % bar_ns >= held[0])
    _same_footprint(live.footprint(), footprint(ev[keep], every=every, ratio=2.5, **kw))
    # a drain hands over the held bars; the count of dropped ones stays
    got = live.drain()
    assert np.unique(got.bar_start).tolist() == held[:-1].tolist()
    assert live.closed_bars == 0 and live.dropped_bars == len(bars) - (k + 1)
    live.reset()
    assert live.dropped_bars == 0 and live.keep_bars == k
    for bad, err in ((0, ValueError), (-2, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(err, match="keep_bars"):
            LiveFootprint(keep_bars=bad)
