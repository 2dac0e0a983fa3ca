"""Per-event signals: hand-computed cases of the OFI rule (Cont, Kukanov and
Stoikov 2014, eq. 10), imbalance on small books, a naive reference on real
and synthetic data, and streaming == bulk."""

import math

import numpy as np
import pytest

import lobkit
from lobkit import ASK, BID
from lobkit.io import read_lobster_reconciled
from lobkit.testing import synthetic_l2, synthetic_l3
from conftest import BUNDLED

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def naive_ofi(bb, bq, ba, aq):
    """eq. 10 written out over per-event best arrays; empty side = -inf/+inf."""
    inf = math.inf
    out = []
    pb, pq, pa, paq = -inf, 0, inf, 0
    for b, q, a, r in zip(bb.tolist(), bq.tolist(), ba.tolist(), aq.tolist()):
        b = b if q > 0 else -inf
        a = a if r > 0 else inf
        e = (q if b >= pb else 0) - (pq if b <= pb else 0) - (r if a <= pa else 0) + (paq if a >= pa else 0)
        out.append(e)
        pb, pq, pa, paq = b, q, a, r
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("steps,want", [
    # (side, price, size) updates after a book of bid 100x10 / ask 101x20
    ([(BID, 100, 15)], 5),            # same bid price, size up: +5
    ([(BID, 100, 4)], -6),            # same bid price, size down: -6
    ([(ASK, 101, 25)], -5),           # same ask price, size up: -5
    ([(BID, 100, 0)], -10),           # best bid removed, no bids left: -10
    ([(BID, 100.5, 7)], 7),           # bid improves: +new queue
    ([(ASK, 100.5, 3)], -3),          # ask improves: -new queue
    ([(ASK, 101, 0)], 20),            # best ask removed: +old queue
])
def test_ofi_cases_by_hand(steps, want):
    b = lobkit.L2Book(tick_size=0.5)
    b.update(BID, 100, 10)
    b.update(BID, 99, 30)
    b.update(ASK, 101, 20)
    for s, p, q in steps:
        b.update(s, p, q)
    if want == -10:
        # 99 x 30 becomes the best bid: price fell, so only -old queue counts
        assert b.best_bid == (99.0, 30.0)
    assert b.ofi == want


def test_ofi_both_sides_in_one_event_and_totals():
    b = lobkit.L3Book()
    b.add_ticks(1, BID, 100, 10)
    b.add_ticks(2, ASK, 101, 20)
    assert b.ofi_total == 10 - 20
    b.modify_ticks(1, 102, 10)  # bid jumps through the ask: crossed, counted
    assert b.stats["crossed"] == 1
    assert b.ofi == 10  # bid price improved: + the new bid queue only


def test_imbalance_on_small_books():
    b = lobkit.L2Book()
    assert b.imbalance == 0.0 and b.weighted_mid is None
    b.update_ticks(BID, 100, 30)
    b.update_ticks(BID, 99, 10)
    b.update_ticks(ASK, 101, 10)
    b.update_ticks(ASK, 104, 50)
    assert b.imbalance == pytest.approx((30 - 10) / 40)
    assert b.weighted_mid == pytest.approx((100 * 10 + 101 * 30) / 40)
    assert b.depth_imbalance(2) == pytest.approx((40 - 60) / 100)
    w = math.exp(-1.0)
    assert b.weighted_imbalance(2, 1.0) == pytest.approx(((30 + 10 * w) - (10 + 50 * w)) / (40 + 60 * w))
    # mid 100.5: band 1.5 reaches bids >= 99 and asks <= 102
    assert b.band_imbalance(1.0) == pytest.approx((30 - 10) / 40)
    assert b.band_imbalance(2.0) == pytest.approx((40 - 10) / 50)
    assert b.band_imbalance(0.0) == 0.0  # nothing within 0 of a 100.5 mid


@pytest.mark.parametrize("make", [
    lambda: (synthetic_l2(20_000, seed=8), {}),
    lambda: (synthetic_l3(20_000, seed=8, live=300), {}),
    lambda: (read_lobster_reconciled(GOOG)[0], {"unknown_id": "anonymous"}),
])
def test_bulk_signals_equal_naive_reference_and_streaming(make):
    ev, kw = make()
    r = lobkit.replay(ev, depth=5, signals=True, **kw)
    np.testing.assert_array_equal(
        r.ofi, naive_ofi(r.best_bid_price, r.best_bid_size, r.best_ask_price, r.best_ask_size))
    bq, aq = r.best_bid_size.astype(float), r.best_ask_size.astype(float)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(r.imbalance, np.where(bq + aq > 0, (bq - aq) / (bq + aq), 0))
        wm = (r.best_bid_price * aq + r.best_ask_price * bq) / (bq + aq)
    np.testing.assert_allclose(r.weighted_mid, np.where((bq > 0) & (aq > 0), wm, np.nan))
    # level 1 of multi-level OFI is the OFI itself
    np.testing.assert_array_equal(r.ofi_levels[:, 0], r.ofi)
    assert r.book.ofi_total == r.ofi.sum()
    # streaming: the same events one by one, through the split-call paths
    from test_bulk import stream_apply
    book = lobkit.L3Book(**kw) if "unknown_id" in kw or ev["kind"].max() > 1 else lobkit.L2Book()
    for n, e in enumerate(ev[:3000]):
        stream_apply(book, e)
        if e["kind"] in (lobkit.Kind.TRADE, lobkit.Kind.HALT):
            assert r.ofi[n] == 0  # prints: no streaming call, no book change
            continue
        assert book.ofi == r.ofi[n], n
        assert book.imbalance == pytest.approx(r.imbalance[n])
    assert book.ofi_total == r.ofi[:3000].sum()


def test_ofi_total_is_kept_across_bulk_and_streaming():
    ev = synthetic_l2(5000, seed=2)
    book = lobkit.L2Book()
    lobkit.replay(ev[:2500], book=book)  # signals off: the total still moves
    full = lobkit.replay(ev, signals=True)
    lobkit.replay(ev[2500:], book=book, signals=True)
    assert book.ofi_total == full.ofi.sum() and book.ofi == full.ofi[-1]


def test_signed_volume_from_lobster_directions():
    ev, _ = read_lobster_reconciled(GOOG)
    r = lobkit.replay(ev, signals=True, unknown_id="anonymous")
    vis = ev["kind"] == lobkit.Kind.EXECUTE
    hid = ev["kind"] == lobkit.Kind.TRADE
    # LOBSTER direction is the resting side: an executed sell order is a buy
    want = np.where(vis | hid, np.where(ev["side"] == -1, ev["size"], -ev["size"]), 0)
    np.testing.assert_array_equal(r.signed_volume, want)
    assert r.signed_volume[vis].sum() == 17_595 - 26_945  # matches the demo's split
    assert (r.signed_volume[~(vis | hid)] == 0).all()
