"""Detectors (issue 4): hand-made cases with their evidence, negative
controls, labelled scenarios with precision/recall floors (seeds we tuned
on), streaming == bulk, option validation, and a run over real data."""

import numpy as np
import pytest

import lobkit
from lobkit import ASK, BID, Kind, detect
from lobkit.scenarios import evaluate, scenario
from lobkit.io import read_lobster_reconciled

MS = 1_000_000


def base_market(n=2000):
    """A quiet book: typical order 100 lots, bids 95..99, asks 101..105."""
    rows, oid, t = [], 1, 0
    rng = np.random.default_rng(0)
    for i in range(n):
        side = BID if i % 2 else ASK
        p = (99 - i % 5) if side == BID else (101 + i % 5)
        rows.append((t, Kind.ADD, side, p, int(rng.integers(80, 125)), oid))
        oid += 1
        t += MS
    return rows, oid, t


def settled(rows):
    """``rows`` and a 1-lot bid far from the touch 1.5 s after the last:
    what releases alerts that wait for a later look (spoofing and layering
    wait to be judged against depth collapses, 1.4 s after the pull)."""
    t = max(r[0] for r in rows)
    oid = max(r[5] for r in rows) + 1
    return rows + [(t + 1500 * MS, Kind.ADD, BID, 50, 1, oid)]


def run(rows, **opts):
    ts, k, s, p, q, i = map(list, zip(*rows))
    ev = lobkit.make_events(kind=k, side=s, price=p, size=q, order_id=i, ts=ts)
    return lobkit.replay(ev, depth=0, detect=opts or True)


def test_spoof_by_hand_with_its_evidence():
    rows, oid, t = base_market()
    rows.append((t, Kind.ADD, BID, 99, 1500, oid))                # 15x typical, at the best bid
    rows.append((t + 100 * MS, Kind.EXECUTE, ASK, 101, 40, 1))    # a buyer lifts the other side
    rows.append((t + 300 * MS, Kind.DELETE, BID, 99, 1500, oid))  # pulled after 300 ms, unfilled
    # The alert waits to be judged against depth collapses (1.4 s after the
    # pull): a stream that ends at the pull holds it until `detect.flush`.
    held = run(rows)
    assert not (held.alerts["kind_name"] == "spoofing").any()
    assert (lobkit.detect.flush(held.book)["kind_name"] == "spoofing").sum() == 1
    rows = settled(rows)  # a later event releases it
    r = run(rows)
    a = r.alerts[r.alerts["kind_name"] == "spoofing"]
    assert len(a) == 1
    x = a[0]
    assert (x["order_id"], x["side"], x["price_ticks"]) == (oid, BID, 99)
    assert x["ts"] == t + 300 * MS  # the time of the pull
    assert x["lifetime_ns"] == 300 * MS and x["fill_frac"] == 0.0 and x["opp_volume"] == 40
    assert 12 < x["size_ratio"] < 18 and 0 < x["score"] <= 1
    assert x["event_index"] == len(rows) - 1  # raised by the event that released it


@pytest.mark.parametrize("case", ["filled", "resting", "far", "small", "no_opposite_trade"])
def test_negative_controls_do_not_alert(case):
    rows, oid, t = base_market()
    size, price, life = 1500, 99, 300 * MS
    if case == "small":
        size = 150
    if case == "far":
        price = 86  # 13 ticks behind the best bid (99): past near_steps (12)
    if case == "resting":
        life = 10_000 * MS
    rows.append((t, Kind.ADD, BID, price, size, oid))
    if case != "no_opposite_trade":
        rows.append((t + 100 * MS, Kind.EXECUTE, ASK, 101, 40, 1))
    if case == "filled":
        rows.append((t + 150 * MS, Kind.EXECUTE, BID, price, 900, oid))  # 60% filled
        size -= 900
    rows.append((t + life, Kind.DELETE, BID, price, size, oid))
    r = run(settled(rows))
    assert (r.alerts["kind_name"] == "spoofing").sum() == 0


def test_layering_by_hand():
    rows, oid, t = base_market()
    for j in range(4):  # four 4x orders one tick apart, 1..4 ticks behind the best ask
        rows.append((t + j * 20 * MS, Kind.ADD, ASK, 102 + j, 400, oid + j))
    rows.append((t + 150 * MS, Kind.EXECUTE, BID, 98, 30, 2))
    for j in range(4):
        rows.append((t + (300 + 10 * j) * MS, Kind.DELETE, ASK, 102 + j, 400, oid + j))
    r = run(settled(rows))
    a = r.alerts[r.alerts["kind_name"] == "layering"]
    assert len(a) == 1 and a[0]["side"] == ASK and a[0]["count"] >= 3 and a[0]["size"] >= 1200


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scenarios_precision_and_recall(seed):
    """Floors on the seeds we tuned on (the closing note reports all numbers),
    for the fixed thresholds: these scenarios pack six episodes of every kind
    into five minutes (72 an hour), which is the alert budget's own order, so
    the budget is off here; the next test runs the defaults at a density a
    market sees."""
    ev, labels = scenario(seed)
    r = lobkit.replay(ev, depth=0, detect={"alert_budget_per_hour": 0})
    res = evaluate(r.alerts, labels)
    floors = {"spoofing": (0.7, 0.8), "layering": (0.4, 0.8), "iceberg": (0.5, 0.8),
              "quote_stuffing": (0.9, 0.8), "depth_collapse": (0.8, 0.8)}
    for kind, (p, rc) in floors.items():
        assert res[kind]["precision"] >= p, (kind, res[kind])
        assert res[kind]["recall"] >= rc, (kind, res[kind])
    assert res["controls"]["spoof_or_layering_alerts"] <= 2


def test_defaults_keep_every_episode_at_a_realistic_density():
    """30 minutes, six episodes of each kind (12 an hour): the alert budget
    at its default (120 an hour) drops no labelled episode."""
    ev, labels = scenario(2, seconds=1800, episodes=6)
    on = evaluate(lobkit.replay(ev, depth=0, detect=True).alerts, labels)
    off = evaluate(lobkit.replay(ev, depth=0, detect={"alert_budget_per_hour": 0}).alerts, labels)
    for kind in ("spoofing", "layering", "iceberg", "quote_stuffing", "depth_collapse"):
        assert on[kind]["recall"] == off[kind]["recall"], kind
        assert on[kind]["alerts"] <= 60, (kind, on[kind])  # 120 an hour over 30 minutes


def _per_hour(alerts, ts):
    """Alerts per kind per hour of market time, and the most in any clock hour."""
    hours = max((ts.max() - ts.min()) / 3.6e12, 1e-9)
    out = {}
    for k in set(alerts["kind_name"]):
        t = alerts["ts"][alerts["kind_name"] == k]
        busiest = np.bincount((t - ts.min()) // 3_600_000_000_000).max()
        out[k] = (len(t) / hours, int(busiest))
    return out


def test_the_alert_budget_bounds_a_flood_on_the_bundled_binance_capture():
    feed = lobkit.io.load(lobkit.__path__[0] + "/data/binance/btcusdt_usdm_20240808_head4000.gz")
    on = lobkit.replay(feed, depth=0, detect=True)
    off = lobkit.replay(feed, depth=0, detect={"alert_budget_per_hour": 0})
    ts = feed.events["ts"]
    minutes = (ts.max() - ts.min()) / 6e10
    rate_on, rate_off = _per_hour(on.alerts, ts), _per_hour(off.alerts, ts)
    assert max(r for r, _ in rate_off.values()) > 1000  # the flood the budget is for
    for k, (r, _) in rate_on.items():
        # 16 s of market: the budget's share is 2 (its one-minute floor), and
        # a candidate above everything seen before may use a second share
        assert minutes < 1 and (on.alerts["kind_name"] == k).sum() <= 2 * 2, (k, r)
    # what is kept is the top of what came before it (the rule is causal):
    # fewer than the budget's share (2) of the earlier candidates of its kind
    # scored at least as high. (A median of kept against found, tested here
    # before, is not the rule: the first candidates pass with nothing to rank.)
    for k in rate_on:
        found = off.alerts[off.alerts["kind_name"] == k]
        for x in on.alerts[on.alerts["kind_name"] == k]:
            i = int(np.nonzero((found["ts"] == x["ts"]) & (found["price_ticks"] == x["price_ticks"]))[0][0])
            assert (found["score"][:i] >= x["score"]).sum() < 2, (k, i)
    assert len(off.alerts) > 2 * len(on.alerts)
    # the budget only drops: every kept alert is one the thresholds raised
    key = lambda a: set(zip(a["ts"].tolist(), a["kind"].tolist(), a["price_ticks"].tolist()))
    assert key(on.alerts) <= key(off.alerts)


REAL_CAPTURES = [
    ("lobster/GOOG_2012-06-21_34200000_57600000_message_10.csv.gz", {"tick": 100}),
    ("lobster/AMZN_2012-06-21_34200000_57600000_message_5.csv.gz", {"tick": 100}),
    ("lobster/AAPL_2012-06-21_34200000_57600000_message_1.csv.gz", {"tick": 100}),
    ("binance/spot/btcusdt_20240808.gz", {}),
    ("binance/usdm/btcusdt_20240808.gz", {}),
    ("binance/usdm/ethusdt_20240808.gz", {}),
    ("databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst", {}),
]


@pytest.mark.realdata
@pytest.mark.parametrize("name,opts", REAL_CAPTURES)
def test_alert_rates_stay_within_the_budget_on_every_real_capture(shared_data, name, opts):
    if name.endswith(".dbn.zst"):
        pytest.importorskip("databento_dbn")
        pytest.importorskip("zstandard")
    feed = lobkit.io.load(shared_data / name)
    a = lobkit.replay(feed, depth=0, detect=opts).alerts
    for k, (rate, busiest) in _per_hour(a, feed.events["ts"]).items():
        assert rate <= 120 and busiest <= 120, (name, k, rate, busiest)


def test_streaming_equals_bulk_and_state_carries_over():
    ev, _ = scenario(4, seconds=60, episodes=2)
    bulk = lobkit.replay(ev, depth=0, detect=True)
    book = detect.enable(lobkit.L3Book())
    got = []
    for e in ev.tolist():
        book.apply_event(e[4], e[5], e[2], e[3], e[1], e[0])
        a = detect.alerts(book)
        got += [(int(x["ts"]), int(x["kind"]), int(x["order_id"])) for x in a]
    want = [(int(x["ts"]), int(x["kind"]), int(x["order_id"])) for x in bulk.alerts]
    assert got == want and len(want) > 0
    # two bulk calls on one book == one call
    half = len(ev) // 2
    b2 = lobkit.L3Book()
    r1 = lobkit.replay(ev[:half], book=b2, depth=0, detect=True)
    r2 = lobkit.replay(ev[half:], book=b2, depth=0, detect=True)
    both = np.concatenate([r1.alerts, r2.alerts])
    assert [(int(x["ts"]), int(x["kind"])) for x in both] == [(t, k) for t, k, _ in want]


def test_options_are_validated_and_selectable():
    ev, _ = scenario(5, seconds=30, episodes=1)
    r = lobkit.replay(ev, depth=0, detect=["spoofing"])
    assert set(r.alerts["kind_name"]) <= {"spoofing"}
    with pytest.raises(ValueError, match="unknown detector"):
        lobkit.replay(ev, detect=["spoofs"])
    with pytest.raises(ValueError, match="unknown detector option"):
        lobkit.replay(ev, detect={"spoof_ratio": 3})
    assert detect.DEFAULTS["spoof_min_ratio"] == 5.0 and detect.DEFAULTS["tick"] == 1
    assert lobkit.replay(ev, depth=0).alerts is None


@pytest.mark.realdata
def test_real_lobster_alerts_are_well_formed(shared_data):
    # AMZN: GOOG raises no spoofing alert since `spoof_min_z` (its order sizes
    # spread so widely that 6-17x the median add is not unusual there)
    p = shared_data / "lobster" / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
    ev, _ = read_lobster_reconciled(p)
    r = lobkit.replay(ev, depth=0, unknown_id="anonymous", tick_size=1e-4, detect={"tick": 100})
    a = r.alerts
    s = detect.summary(a)
    assert s.get("spoofing", 0) > 0 and s.get("iceberg", 0) > 0
    assert ((a["score"] > 0) & (a["score"] <= 1)).all()
    assert (np.diff(a["event_index"]) >= 0).all()
    sp = a[a["kind_name"] == "spoofing"]
    assert (sp["order_id"] > 0).all() and (sp["fill_frac"] <= 0.1).all()
    assert (sp["lifetime_ns"] <= 2_000_000_000).all() and (sp["size_ratio"] >= 5).all()
    assert (sp["ts"] <= ev["ts"][sp["event_index"]]).all()  # raised at or after the pull


def test_l2_phantom_liquidity_and_l2_layering_by_hand():
    rng = np.random.default_rng(3)
    rows, t = [], 0
    size = {p: 0 for p in range(90, 111)}
    for i in range(3000):  # ordinary level updates of ~100 lots
        p = int(rng.integers(95, 100)) if i % 2 else int(rng.integers(101, 106))
        size[p] = max(0, size[p] + int(rng.integers(-60, 120)))
        rows.append((t, Kind.SET_LEVEL, BID if p < 100 else ASK, p, size[p]))
        t += MS
    base = {p: size[p] for p in (103, 104, 105)}
    for j, p in enumerate((103, 104, 105)):  # three asks jump by 1,500 lots...
        rows.append((t + j * 30 * MS, Kind.SET_LEVEL, ASK, p, base[p] + 1500))
    rows.append((t + 200 * MS, Kind.TRADE, BID, 99, 20))
    for j, p in enumerate((103, 104, 105)):  # ...and vanish 300 ms later, untraded
        rows.append((t + (300 + 10 * j) * MS, Kind.SET_LEVEL, ASK, p, base[p]))
    ts, k, s, p, q = map(list, zip(*rows))
    ev = lobkit.make_events(kind=k, side=s, price=p, size=q, ts=ts)
    # the rule alone: three equal phantoms within a minute are more than the
    # budget's one-minute share (tested on its own above)
    r = lobkit.replay(ev, depth=0, detect={"alert_budget_per_hour": 0})
    ph = r.alerts[r.alerts["kind_name"] == "phantom"]
    assert sorted(ph["price_ticks"].tolist()) == [103, 104, 105]
    assert (ph["side"] == ASK).all() and (ph["fill_frac"] == 0).all() and (ph["size"] == 1500).all()
    lay = r.alerts[r.alerts["kind_name"] == "layering"]
    assert len(lay) == 1 and lay[0]["count"] == 3
    # the same rise that trades away is not phantom
    rows2 = rows[:3000] + [(t, Kind.SET_LEVEL, ASK, 103, base[103] + 1500),
                           (t + 100 * MS, Kind.TRADE, ASK, 103, 1500),
                           (t + 101 * MS, Kind.SET_LEVEL, ASK, 103, base[103])]
    ts, k, s, p, q = map(list, zip(*rows2))
    r2 = lobkit.replay(lobkit.make_events(kind=k, side=s, price=p, size=q, ts=ts), depth=0, detect=True)
    assert (r2.alerts["kind_name"] == "phantom").sum() == 0


def test_a_feed_counts_distances_in_its_own_price_increments():
    from conftest import BUNDLED

    feed = lobkit.io.load(BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz")
    assert feed.step_ticks() == 100  # $0.0001 ticks, NASDAQ's $0.01 increment
    auto = lobkit.replay(feed, depth=0, detect=True).alerts
    given = lobkit.replay(feed, depth=0, detect={"tick": 100}).alerts
    ticks = lobkit.replay(feed, depth=0, detect={"tick": 1}).alerts
    assert len(auto) and (auto == given).all()
    assert len(ticks) != len(auto) or (ticks != auto).any()
    # an array has no increment: tick 1 unless given
    arr = lobkit.replay(feed.events, depth=0, tick_size=feed.tick_size, unknown_id="anonymous",
                        detect=True).alerts
    assert len(arr) == len(ticks) and (arr == ticks).all()
    # inferred from the resting prices where the format does not state it
    ev = lobkit.make_events(kind=[lobkit.Kind.SET_LEVEL] * 4, side=[1, 1, -1, -1],
                            price=[1000, 990, 1010, 1030], size=[1, 1, 1, 1], ts=[0, 1, 2, 3])
    f = lobkit.io.Feed(ev, "table", 0.01, 1.0, "l2")
    assert f.step_ticks() == 10


def test_a_spoof_held_for_a_stack_at_the_end_of_a_stream_is_raised_by_flush():
    """A 15x offer pulled while the bid trades, beside another large offer
    that stays: it may be one layer of a stack, so its alert waits (up to
    layer_window_ns) for a layering alert. The stream ends 100 ms later:
    the replay has not raised it; ``detect.flush`` does, with its pull time,
    and the streaming book agrees."""
    rows, oid, t = base_market()
    rows.append((t, Kind.ADD, ASK, 102, 1200, oid))          # large, stays
    rows.append((t + 10 * MS, Kind.ADD, ASK, 103, 1500, oid + 1))
    rows.append((t + 100 * MS, Kind.EXECUTE, BID, 99, 40, 2))
    rows.append((t + 300 * MS, Kind.DELETE, ASK, 103, 1500, oid + 1))
    rows.append((t + 400 * MS, Kind.ADD, BID, 95, 100, oid + 2))
    res = run(rows, alert_budget_per_hour=0)
    assert (res.alerts["kind_name"] == "spoofing").sum() == 0
    late = detect.flush(res.book)
    spoof = late[late["kind_name"] == "spoofing"]
    assert spoof["order_id"].tolist() == [oid + 1] and spoof["ts"].tolist() == [t + 300 * MS]
    assert spoof["event_index"].tolist() == [len(rows) - 1]
    assert len(detect.flush(res.book)) == 0  # raised once
    book = detect.enable(lobkit.L3Book(), {"alert_budget_per_hour": 0})
    for ts, k, s, p, q, i in rows:
        book.apply_event(k, s, p, q, i, ts)
    assert (detect.alerts(book)["kind_name"] == "spoofing").sum() == 0
    assert detect.flush(book)["order_id"].tolist() == [oid + 1]
