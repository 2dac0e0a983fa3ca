"""Message-accounting OFI, rolling windows, trade classification, VPIN,
Kyle's lambda, integrated OFI and Stoikov's micro-price, each against a naive
pure-Python reference or a hand-computed answer; the stylised-book check of
Cont, Kukanov and Stoikov (2014)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lobkit
from lobkit import ASK, BID, Kind, signals as S
from lobkit.io import read_lobster_reconciled
from lobkit.testing import synthetic_l3
from conftest import BUNDLED
from test_bulk import stream_apply

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


# ---------------------------------------------------------------- message OFI

def naive_message_ofi(ev, r):
    """eq. 4 message by message: each message's size at or inside the touch
    before it, with orders tracked in a dict (their price for cancels)."""
    orders = {}
    out = []
    for i, e in enumerate(ev.tolist()):
        ts, oid, p, q, k, s = e[0], e[1], e[2], e[3], e[4], e[5]
        if i == 0:
            bb, bq, ba, aq = 0, 0, 0, 0
        else:
            bb, bq = r.best_bid_price[i - 1], r.best_bid_size[i - 1]
            ba, aq = r.best_ask_price[i - 1], r.best_ask_size[i - 1]

        def touch(side, price):
            return (bq == 0 or price >= bb) if side == BID else (aq == 0 or price <= ba)

        flows = []  # (side, price, signed size change)
        if k == Kind.ADD:
            orders[oid] = [s, p, q]
            flows.append((s, p, q))
        elif k in (Kind.CANCEL, Kind.EXECUTE, Kind.DELETE):
            o = orders[oid]
            d = o[2] if k == Kind.DELETE else q
            o[2] -= d
            flows.append((o[0], o[1], -d))
            if o[2] == 0:
                del orders[oid]
        elif k == Kind.MODIFY:
            o = orders[oid]
            flows.append((o[0], o[1], -o[2]))
            flows.append((o[0], p, q))
            o[1], o[2] = p, q
        e_n = 0
        for side, price, d in flows:
            if touch(side, price):
                e_n += d if side == BID else -d
        out.append(e_n)
    return np.array(out, dtype=np.int64)


def random_l3(n, seed):
    """Valid L3 messages near the touch (bids 95..100, asks 101..106, never
    crossed), with cancels, fills, deletes and price-changing modifies."""
    rng = np.random.default_rng(seed)
    live = {}
    rows = []
    nid = 1
    for _ in range(n):
        u = rng.random()
        if u < 0.4 or len(live) < 5:
            side = BID if rng.random() < 0.5 else ASK
            p = int(rng.integers(95, 101)) if side == BID else int(rng.integers(101, 107))
            q = int(rng.integers(1, 30))
            live[nid] = [side, p, q]
            rows.append((Kind.ADD, side, p, q, nid))
            nid += 1
            continue
        oid = list(live)[int(rng.integers(len(live)))]
        side, p, q = live[oid]
        if u < 0.6:
            d = int(rng.integers(1, q + 1))
            rows.append((Kind.CANCEL if u < 0.5 else Kind.EXECUTE, side, p, d, oid))
            live[oid][2] -= d
        elif u < 0.75:
            rows.append((Kind.DELETE, side, p, q, oid))
            live[oid][2] = 0
        else:
            np_ = int(rng.integers(95, 101)) if side == BID else int(rng.integers(101, 107))
            nq = int(rng.integers(1, 30))
            rows.append((Kind.MODIFY, side, np_, nq, oid))
            live[oid][1:] = [np_, nq]
        if live[oid][2] == 0:
            del live[oid]
    k, sd, pr, sz, oi = map(list, zip(*rows))
    return lobkit.make_events(kind=k, side=sd, price=pr, size=sz, order_id=oi)


@pytest.mark.parametrize("make", [lambda: random_l3(20_000, 1), lambda: random_l3(20_000, 2),
                                  lambda: synthetic_l3(20_000, seed=3, live=200)])
def test_message_ofi_equals_naive_and_snapshot_rule_off_modifies(make):
    ev = make()
    r = lobkit.replay(ev, depth=0, signals=True)
    np.testing.assert_array_equal(r.ofi_msg, naive_message_ofi(ev, r))
    # CKS: the two coincide for every message that changes one level only;
    # price-changing modifies (cancel + arrival) are where they may differ.
    moved = np.zeros(len(ev), bool)
    last_price = {}
    for i, e in enumerate(ev.tolist()):
        oid, p, k = e[1], e[2], e[4]
        if k == Kind.MODIFY and last_price.get(oid) != p:
            moved[i] = True
        if k in (Kind.ADD, Kind.MODIFY):
            last_price[oid] = p
    np.testing.assert_array_equal(r.ofi_msg[~moved], r.ofi[~moved])
    # streaming books keep the same message OFI
    book = lobkit.L3Book()
    for n, e in enumerate(ev[:3000]):
        stream_apply(book, e)
        assert book.ofi_msg == r.ofi_msg[n], n
    assert book.ofi_msg_total == r.ofi_msg[:3000].sum()


def test_message_ofi_differs_where_a_modify_improves_the_touch():
    b = lobkit.L3Book()
    b.add_ticks(1, BID, 100, 10)
    b.add_ticks(2, BID, 100, 4)
    b.add_ticks(3, ASK, 103, 5)
    b.modify_ticks(1, 101, 10)  # the best bid's order moves one tick up
    assert b.ofi == 10  # eq. 10: the bid improved, + the new queue
    assert b.ofi_msg == 0  # eq. 4: cancel 10 at the touch, arrive 10 inside it


def test_message_ofi_on_lobster_and_the_hidden_option():
    ev, _ = read_lobster_reconciled(GOOG)
    r = lobkit.replay(ev, signals=True, unknown_id="anonymous")
    h = lobkit.replay(ev, signals=True, unknown_id="anonymous", ofi_msg_hidden=True)
    # LOBSTER has no price-changing modifies: eq. 4 == eq. 10 on every message
    np.testing.assert_array_equal(r.ofi_msg, r.ofi)
    hidden = ev["kind"] == Kind.TRADE
    assert hidden.sum() > 100
    np.testing.assert_array_equal(h.ofi_msg - r.ofi_msg, np.where(hidden, r.signed_volume, 0))
    assert h.book.ofi_msg_total == h.ofi_msg.sum()


# ---------------------------------------------------------------- windows

def naive_window(vals, ts, w, by, size):
    out, cnt = [], []
    for i in range(len(vals)):
        if by == "events":
            lo = max(0, i - size + 1)
        elif by == "time":
            lo = min(j for j in range(i + 1) if ts[j] > ts[i] - size)
        else:  # the shortest suffix with weight >= size (all if below)
            lo, tot = i, w[i]
            while lo > 0 and tot < size:
                lo -= 1
                tot += w[lo]
        out.append(sum(vals[lo:i + 1]))
        cnt.append(i + 1 - lo)
    return out, cnt


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-10**12, 10**12), st.integers(0, 20)),
                min_size=1, max_size=80),
       st.sampled_from(["time", "events", "volume"]), st.integers(1, 30))
def test_rolling_equals_naive_and_streaming(rows, by, size):
    ts = np.cumsum([r[0] for r in rows]).astype(np.int64)
    vals = np.array([r[1] for r in rows], np.int64)
    w = np.array([r[2] for r in rows], np.int64)
    got, cnt = S.rolling(vals, ts, by=by, size=size, weight=w)
    want, wcnt = naive_window(vals.tolist(), ts.tolist(), w.tolist(), by, size)
    assert got.tolist() == want and cnt.tolist() == wcnt
    roll = S.Rolling(by, size)
    for i in range(len(vals)):
        assert roll.push(int(ts[i]), [int(vals[i])], int(w[i])) == [want[i]]
        assert len(roll) == wcnt[i]


def test_rolling_refuses_floats_unsorted_time_and_bad_windows():
    with pytest.raises(TypeError, match="integers"):
        S.rolling(np.array([0.5, 1.0]), size=2)
    with pytest.raises(ValueError, match="event 2 is earlier"):
        S.rolling(np.array([1, 2, 3]), np.array([0, 5, 4]), by="time", size=3)
    with pytest.raises(ValueError, match="size >= 1"):
        S.rolling(np.array([1, 2]), size=0)
    with pytest.raises(ValueError, match="by='volume' needs weight"):
        S.rolling(np.array([1, 2]), by="volume", size=3)


def test_trade_flow_imbalance_and_cvd():
    sv = np.array([5, -3, 0, 2, -10], np.int64)
    tf = S.trade_flow(sv, by="events", size=2)
    assert tf.buy.tolist() == [5, 5, 0, 2, 2] and tf.sell.tolist() == [0, 3, 3, 0, 10]
    np.testing.assert_allclose(tf.imbalance, [1, 2 / 8, -1, 1, -8 / 12])
    assert tf.cvd.tolist() == [5, 2, 2, 4, -6]
    # volume clock: the last >= 10 lots traded
    tv = S.trade_flow(sv, by="volume", size=10)
    assert tv.buy.tolist()[-1] == 0 and tv.sell.tolist()[-1] == 10


# ---------------------------------------------------------------- trade signs

def naive_lee_ready(price, bid, ask, has):
    out, last, sign = [], None, 0
    for p, b, a, h in zip(price, bid, ask, has):
        if last is not None and p != last:
            sign = 1 if p > last else -1
        last = p
        if h and 2 * p > b + a:
            out.append(1)
        elif h and 2 * p < b + a:
            out.append(-1)
        else:
            out.append(sign)
    return out


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(95, 105), st.integers(0, 4), st.integers(1, 4), st.booleans()),
                max_size=60))
def test_lee_ready_and_tick_rule_equal_naive(rows):
    p = np.array([r[0] for r in rows], np.int64)
    bid = np.array([100 - r[1] for r in rows], np.int64)
    ask = np.array([100 + r[2] for r in rows], np.int64)
    has = np.array([r[3] for r in rows], bool)
    got = S.classify_trades(p, bid, ask, has_quote=has)
    assert got.tolist() == naive_lee_ready(p.tolist(), bid.tolist(), ask.tolist(), has.tolist())
    tick = S.classify_trades(p, method="tick")
    assert tick.tolist() == naive_lee_ready(p.tolist(), bid.tolist(), ask.tolist(), [False] * len(p))


def test_lee_ready_in_replay_against_lobster_directions():
    """LOBSTER says who the aggressor was; Lee–Ready from the book before
    each execution must agree on nearly all of them (executions happen at
    the touch, never at the mid)."""
    ev, _ = read_lobster_reconciled(GOOG)
    feed = lobkit.replay(ev, signals=True, unknown_id="anonymous", depth=0)
    lr = lobkit.replay(ev, signals=True, unknown_id="anonymous", depth=0, trade_sign="lee_ready")
    vis = ev["kind"] == Kind.EXECUTE
    agree = (np.sign(feed.signed_volume[vis]) == np.sign(lr.signed_volume[vis])).mean()
    assert agree > 0.99, agree
    tick = lobkit.replay(ev, signals=True, unknown_id="anonymous", depth=0, trade_sign="tick")
    tick_agree = (np.sign(feed.signed_volume[vis]) == np.sign(tick.signed_volume[vis])).mean()
    assert 0.5 < tick_agree < agree  # the tick rule is the weaker classifier
    with pytest.raises(ValueError, match="trade_sign"):
        lobkit.replay(ev[:10], signals=True, unknown_id="anonymous", trade_sign="bulk")


# ---------------------------------------------------------------- VPIN

def naive_vpin(ts, price, size, V, n, bar_ns):
    """Easley–López de Prado–O'Hara with BVC on bars, σ from earlier bars."""
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    bars = []  # (volume, last price) closed, in order
    cur = None
    res = []
    dps, prev_last = [], None
    fill, buy, imbs = 0, 0.0, []
    value = math.nan

    def close(bar):
        nonlocal prev_last, fill, buy, value
        vol, last = bar
        if prev_last is None:
            f = 0.5
        else:
            dp = last - prev_last
            if len(dps) >= 2:
                m = sum(dps) / len(dps)
                sd = math.sqrt(sum((d - m) ** 2 for d in dps) / (len(dps) - 1))
                f = phi(dp / sd) if sd > 0 else 0.5
            else:
                f = 0.5
            dps.append(dp)
        prev_last = last
        left = vol
        while left > 0:
            take = min(left, V - fill)
            fill += take
            buy += take * f
            left -= take
            if fill == V:
                imbs.append(abs(V - 2 * buy))
                fill, buy = 0, 0.0
                if len(imbs) >= n:
                    value = sum(imbs[-n:]) / (n * V)

    for t, p, q in zip(ts, price, size):
        if cur is not None and t >= cur[2]:
            close(cur[:2])
            cur = None
        if cur is None:
            cur = [0, p, t if bar_ns == 0 else (t // bar_ns + 1) * bar_ns]
        cur[0] += q
        cur[1] = p
        if bar_ns == 0:
            close(cur[:2])
            cur = None
        res.append(value)
    return res


@pytest.mark.parametrize("bar_ns", [0, 7])
def test_vpin_equals_naive_reference_and_streaming(bar_ns):
    rng = np.random.default_rng(5)
    n = 3000
    ts = np.cumsum(rng.integers(0, 3, n)).astype(np.int64)
    price = (1000 + np.cumsum(rng.integers(-2, 3, n))).astype(np.int64)
    size = rng.integers(1, 40, n).astype(np.int64)
    got = S.vpin(ts, price, size, bucket_volume=150, n_buckets=8, bar_ns=bar_ns)
    want = naive_vpin(ts.tolist(), price.tolist(), size.tolist(), 150, 8, bar_ns)
    np.testing.assert_allclose(got.vpin, want, rtol=1e-6, atol=1e-6)  # erfc approx 1.2e-7
    assert np.isfinite(got.vpin[-1]) and 0 < got.vpin[-1] < 1
    assert got.buckets == int(size[: len(size)].sum() // 150) or bar_ns  # all poured when per trade
    fin = np.isfinite(got.cdf)
    assert fin.sum() > 50 and ((got.cdf[fin] > 0) & (got.cdf[fin] < 1)).all()
    v = S.Vpin(150, 8, bar_ns)
    stream = [v.on_trade(int(a), int(b), int(c)) for a, b, c in zip(ts, price, size)]
    np.testing.assert_array_equal(np.array(stream), got.vpin)
    # every lot is in a closed bucket, the filling one or the open bar ...
    assert v.buckets * 150 + v.bucket_fill + v.bar_volume == size.sum()
    assert (v.bar_volume > 0) == (bar_ns > 0)  # a time bar is still open at the end
    # ... and flush classifies the open bar: only the partial bucket is left
    v.flush()
    assert v.bar_volume == 0 and v.buckets * 150 + v.bucket_fill == size.sum()
    assert v.buckets == size.sum() // 150
    with pytest.raises(ValueError, match="bucket_volume"):
        S.vpin(ts, price, size, bucket_volume=0)


def test_vpin_one_sided_flow_is_toxic():
    """Prices only rise: after the first bars every bucket is nearly all
    buys, so VPIN approaches 1; a flat price keeps it at 0."""
    n = 400
    ts = np.arange(n, dtype=np.int64)
    up = np.r_[1000, 1001, 1003, 1004, 1006 + np.arange(n - 4) * 3].astype(np.int64)[:n]
    size = np.full(n, 10, np.int64)
    r = S.vpin(ts, up, size, bucket_volume=100, n_buckets=5, bar_ns=0)
    assert r.vpin[-1] > 0.6
    flat = S.vpin(ts, np.full(n, 1000, np.int64), size, bucket_volume=100, n_buckets=5, bar_ns=0)
    assert flat.vpin[-1] == 0.0


# ---------------------------------------------------------------- Kyle's lambda

def impact_events(qs, noise):
    """A trade of q lots (resting side opposite its sign) followed by both
    quotes moving q + noise ticks: old levels removed first, so never crossed."""
    bid, ask = 10_000, 10_002
    rows = [(Kind.SET_LEVEL, BID, bid, 5), (Kind.SET_LEVEL, ASK, ask, 5)]
    for q, e in zip(qs, noise):
        rows.append((Kind.TRADE, -1 if q > 0 else 1, ask if q > 0 else bid, abs(q)))
        rows += [(Kind.SET_LEVEL, BID, bid, 0), (Kind.SET_LEVEL, ASK, ask, 0)]
        bid, ask = bid + q + e, ask + q + e
        rows += [(Kind.SET_LEVEL, BID, bid, 5), (Kind.SET_LEVEL, ASK, ask, 5)]
    k, s, p, z = map(list, zip(*rows))
    return lobkit.make_events(kind=k, side=s, price=p, size=z, ts=np.arange(len(rows)))


def test_kyle_lambda_recovers_the_impact_and_does_not_look_ahead():
    rng = np.random.default_rng(1)
    n = 400
    qs = rng.integers(1, 6, n) * rng.choice([-1, 1], n)
    noise = rng.integers(-1, 2, n)
    ev = impact_events(qs.tolist(), noise.tolist())
    r = lobkit.replay(ev, signals=True, depth=0)
    assert (r.signed_volume[ev["kind"] == Kind.TRADE] == qs).all()
    lam = S.kyle_lambda(ev, r, by="events", size=100)
    assert np.isnan(lam[:2]).all() and np.isfinite(lam[3:]).all()
    # the OLS slope of (q + noise) on q over the last 100 pairs, by hand
    j = 300
    x, y = qs[j - 100:j].astype(float), (qs + noise)[j - 100:j].astype(float)
    assert lam[j] == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-12)
    assert abs(lam[-1] - 1.0) < 0.1
    # no look-ahead: rewriting trades from 150 on leaves lambda up to 150 as it was
    qs2 = qs.copy()
    qs2[150:] = -qs2[150:] * 2
    ev2 = impact_events(qs2.tolist(), noise.tolist())
    lam2 = S.kyle_lambda(ev2, lobkit.replay(ev2, signals=True, depth=0), by="events", size=100)
    np.testing.assert_array_equal(lam[:151], lam2[:151])
    assert not np.allclose(lam[152:], lam2[152:])


# ---------------------------------------------------------------- integrated OFI

def test_integrated_ofi_weights_and_walk_forward_has_no_look_ahead():
    rng = np.random.default_rng(3)
    f = rng.normal(size=400)
    load = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
    X = f[:, None] * load + 0.05 * rng.normal(size=(400, 5))
    m = S.IntegratedOFI().fit(X[:200])
    np.testing.assert_allclose(m.weights_, load / load.sum(), atol=0.02)
    assert m.explained_ > 0.95 and np.abs(m.weights_).sum() == pytest.approx(1.0)
    w = S.integrated_ofi(X, train=100, refit=10)
    assert np.isnan(w[:100]).all() and np.isfinite(w[100:]).all()
    X2 = X.copy()
    X2[250:] = rng.normal(size=(150, 5)) * 100  # rewrite the future
    w2 = S.integrated_ofi(X2, train=100, refit=10)
    np.testing.assert_array_equal(w[:250], w2[:250])
    with pytest.raises(ValueError, match="fit"):
        S.IntegratedOFI().transform(X)


def test_ofi_bars_on_lobster_sum_and_normalise():
    ev, _ = read_lobster_reconciled(GOOG)
    r = lobkit.replay(ev, signals=True, unknown_id="anonymous", depth=10)
    whole = S.ofi_bars(ev, r, bar_ns=10_000_000_000, include_seed=True)
    assert whole.ofi.shape[1] == 10 and whole.events.sum() == len(ev)
    assert whole.ofi[:, 0].sum() == r.ofi.sum()
    mid = r.mid[np.isfinite(r.mid)] / r.book.tick_size
    assert np.isfinite(whole.mid_change).all()
    assert whole.mid_change.sum() == pytest.approx(mid[-1] - mid[0])
    # by default the opening book (20 SEED events, 10 levels a side) is not flow
    bars = S.ofi_bars(ev, r, bar_ns=10_000_000_000)
    n_seed = 20
    assert (ev["kind"][:n_seed] == lobkit.Kind.SEED).all() and ev["kind"][n_seed] != lobkit.Kind.SEED
    assert bars.events.sum() == len(ev) - n_seed
    assert (bars.ofi.sum(0) == r.ofi_levels[n_seed:].sum(0)).all()
    assert bars.ofi[0, 0] == whole.ofi[0, 0] - r.ofi[:n_seed].sum() != whole.ofi[0, 0]
    seeded_mid = (r.best_bid_price[n_seed - 1] + r.best_ask_price[n_seed - 1]) / 2
    assert bars.mid_change.sum() == pytest.approx(mid[-1] - seeded_mid)
    assert (bars.ofi[1:] == whole.ofi[1:]).all()
    with pytest.raises(ValueError, match="rows"):
        S.ofi_bars(ev[1:], r, bar_ns=10)
    b = 3
    i0 = bars.events[:b].sum() + n_seed
    rows = slice(i0, i0 + bars.events[b])
    want_q = ((r.bid_size[rows].sum(1) + r.ask_size[rows].sum(1)) / 20).mean()
    assert bars.depth[b] == pytest.approx(want_q)
    np.testing.assert_allclose(bars.normalized[b], bars.ofi[b] / want_q)


# ---------------------------------------------------------------- micro-price

def test_micro_price_hand_computed_two_state_chain():
    """Two imbalance buckets, spread 1: pairs (lo->hi, dM=0), (hi->lo, dM=+1)
    plus their mirrors give Q = R2 = [[0,.5],[.5,0]], R1K = (-.5, .5), so
    G1 = (-1/3, 1/3), B G1 = -G1/3 and G* = G1 / (1 + 1/3) = (-1/4, 1/4)."""
    mp = S.MicroPrice.fit([100, 100, 101], [101, 101, 102], [1, 3, 1], [3, 1, 3],
                          n_imbalance=2, n_spread=1)
    np.testing.assert_allclose(mp.table_, [[-0.25, 0.25]], atol=1e-12)
    assert mp.adjustment(0.9, 1) == pytest.approx(0.25)
    assert math.isnan(mp.adjustment(0.9, 2))


def test_micro_price_is_antisymmetric_and_streaming_equals_bulk():
    ev = lobkit.testing.synthetic_l2(60_000, seed=4)
    r = lobkit.replay(ev, signals=True, depth=0)
    mp = S.MicroPrice.fit(r.best_bid_price, r.best_ask_price, r.best_bid_size, r.best_ask_size,
                          n_imbalance=6, n_spread=3)
    t = mp.table_
    np.testing.assert_allclose(t, -t[:, ::-1], atol=1e-9)
    assert np.abs(t).max() > 0
    # more bids than asks -> the micro-price is above the mid
    assert (t[:, -1] >= t[:, 0]).all()
    bulk = mp.apply(r)
    book = lobkit.L2Book()
    checked = 0
    for n, e in enumerate(ev[:4000]):
        stream_apply(book, e)
        p = mp.price(book)
        if p is None:
            continue
        if math.isnan(p):
            assert math.isnan(bulk[n])
        else:
            assert p == pytest.approx(bulk[n]), n
            checked += 1
    assert checked > 500


# ---------------------------------------------------------------- stylised book

def stylised_events(n, D, seed):
    """CKS section 2.2: depth D at every level beyond the touch, events only at
    the touch. Arrivals fill the best queue up to D and then open a new level
    one tick inside the spread; cancels/market orders deplete it, after which
    the next level (size D) is the best. Every event's size is its OFI, and
    the bid moves one tick per D lots of net bid flow (ask likewise)."""
    rng = np.random.default_rng(seed)
    b, a, qb, qa = 1000, 1010, D, D
    known = {BID: {b - i for i in range(1, 3)}, ASK: {a + i for i in range(1, 3)}}
    out = [(BID, b, D), (ASK, a, D)] + [(BID, p, D) for p in known[BID]] + [(ASK, p, D) for p in known[ASK]]
    sides = rng.integers(0, 2, n)
    ups = rng.random(n) < 0.5
    sizes = rng.integers(1, D // 2, n)
    for side, up, s in zip(sides.tolist(), ups.tolist(), sizes.tolist()):
        if side == 0:  # bid
            if b - 1 not in known[BID]:
                out.append((BID, b - 1, D)); known[BID].add(b - 1)
            if up:
                if qb < D:
                    qb = min(D, qb + s); out.append((BID, b, qb))
                elif a - b > 1:
                    b, qb = b + 1, s; known[BID].add(b); out.append((BID, b, qb))
            elif s < qb:
                qb -= s; out.append((BID, b, qb))
            else:
                out.append((BID, b, 0)); known[BID].discard(b); b, qb = b - 1, D
        else:  # ask: "up" = more selling interest
            if a + 1 not in known[ASK]:
                out.append((ASK, a + 1, D)); known[ASK].add(a + 1)
            if up:
                if qa < D:
                    qa = min(D, qa + s); out.append((ASK, a, qa))
                elif a - b > 1:
                    a, qa = a - 1, s; known[ASK].add(a); out.append((ASK, a, qa))
            elif s < qa:
                qa -= s; out.append((ASK, a, qa))
            else:
                out.append((ASK, a, 0)); known[ASK].discard(a); a, qa = a + 1, D
    side, price, size = map(list, zip(*out))
    return lobkit.make_events(kind=Kind.SET_LEVEL, side=side, price=price, size=size,
                              ts=np.arange(len(out)))


def test_stylised_book_slope_is_one_over_2D():
    D = 100
    ev = stylised_events(600_000, D, seed=7)
    r = lobkit.replay(ev, signals=True, depth=0)
    mid2 = r.best_bid_price + r.best_ask_price  # 2 x mid, ticks
    w, first = 3000, 6  # windows of 3000 events after the initial book
    k = (len(ev) - first - 1) // w
    edges = first + w * np.arange(k + 1)
    dm = np.diff(mid2[edges]) / 2.0  # mid after event edges[j] to after edges[j+1]
    ofi = np.add.reduceat(r.ofi, edges + 1)[:k]  # events edges[j]+1 .. edges[j+1]
    slope = np.polyfit(ofi, dm, 1)[0]
    assert slope == pytest.approx(1 / (2 * D), rel=0.01), slope * 2 * D


# ---------------------------------------------------------------- imbalance columns

def test_imbalance_columns_equal_the_streaming_book():
    ev = lobkit.testing.synthetic_l2(5000, seed=9)
    r = lobkit.replay(ev, depth=10, signals=True)
    di = S.depth_imbalance(r, 3)
    wi = S.weighted_imbalance(r, 5, 0.7)
    bi = S.band_imbalance(r, 4)
    book = lobkit.L2Book()
    for n, e in enumerate(ev[:2000]):
        stream_apply(book, e)
        assert di[n] == pytest.approx(book.depth_imbalance(3), abs=1e-12), n
        assert wi[n] == pytest.approx(book.weighted_imbalance(5, 0.7), abs=1e-12), n
        assert bi[n] == pytest.approx(book.band_imbalance(4.0), abs=1e-12), n
    np.testing.assert_allclose(S.depth_imbalance(r, 1), r.imbalance)
    with pytest.raises(ValueError, match="within 1..10"):
        S.depth_imbalance(r, 11)
