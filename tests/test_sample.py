"""``replay(sample=...)``: one row per feed message or per time bin, the
book after the row's last event and the flow summed over its events —
checked against the full per-event replay on LOBSTER (corrections), a
Binance capture (F_LAST messages) and synthetic L2."""

import numpy as np
import pytest

import lobkit
from conftest import TESTDATA
from io_helpers import BUNDLED_BINANCE
from lobkit.io import load, message_rows
from lobkit.testing import synthetic_l2

GOOG_L1 = TESTDATA / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_1_head5000.csv.gz"
STATE = ("ts", "bid_price", "bid_size", "ask_price", "ask_size", "best_bid_price",
         "best_bid_size", "best_ask_price", "best_ask_size", "imbalance")
FLOW = ("ofi", "ofi_msg", "signed_volume", "ofi_levels")


def check_rows(full, sampled):
    """Sampled rows == the full replay at each row's last event (state) and
    summed over the row's events (flow)."""
    last = sampled.last_event
    assert last is not None and len(last) == len(sampled)
    assert (np.diff(last) > 0).all() and last[-1] == len(full) - 1
    for c in STATE:
        np.testing.assert_array_equal(getattr(sampled, c), getattr(full, c)[last], err_msg=c)
    np.testing.assert_array_equal(sampled.weighted_mid, full.weighted_mid[last])
    starts = np.r_[0, last[:-1] + 1]
    for c in FLOW:
        np.testing.assert_array_equal(getattr(sampled, c),
                                      np.add.reduceat(getattr(full, c), starts, axis=0),
                                      err_msg=c)


def test_one_row_per_lobster_message_is_one_row_per_orderbook_row():
    feed = load(GOOG_L1)
    full = lobkit.replay(feed, depth=3, signals=True)
    msg = lobkit.replay(feed, depth=3, signals=True, sample="message")
    check_rows(full, msg)
    rows = message_rows(feed.events)
    n_seed = rows[0]
    # each seed event is a row of its own, then one row per message with its corrections
    assert len(msg) == n_seed + len(rows)
    np.testing.assert_array_equal(msg.last_event[n_seed:], np.r_[rows[1:] - 1, len(full) - 1])
    assert msg.ofi.sum() == full.ofi.sum() == msg.book.ofi_total


def test_one_row_per_binance_message_ends_at_f_last():
    feed = load(BUNDLED_BINANCE)
    full = lobkit.replay(feed, depth=5, signals=True)
    msg = lobkit.replay(feed, depth=5, signals=True, sample="message")
    check_rows(full, msg)
    last_flag = (feed.events["flags"] & lobkit.io.F_LAST) != 0
    np.testing.assert_array_equal(msg.last_event[:-1], np.flatnonzero(last_flag)[:len(msg) - 1])
    assert len(msg) < len(full) / 2  # diffs carry several levels per message


@pytest.mark.parametrize("every", ["100ms", 1_000_000_000, "1min"])
def test_time_bins(every):
    ev = synthetic_l2(50_000, seed=4)
    full = lobkit.replay(ev, depth=4, signals=True)
    binned = lobkit.replay(ev, depth=4, signals=True, sample=every)
    check_rows(full, binned)
    ns = {"100ms": 100_000_000, "1min": 60_000_000_000}.get(every, every)
    bins = ev["ts"] // ns
    assert len(binned) == len(np.unique(bins))
    assert (np.diff(bins[binned.last_event]) > 0).all()


def test_skipped_events_fold_into_their_row_and_the_mask_stays_per_event():
    ev = synthetic_l2(5_000, seed=5)
    ev[100]["size"] = -1
    full = lobkit.replay(ev, depth=2, signals=True, on_error="skip")
    binned = lobkit.replay(ev, depth=2, signals=True, on_error="skip", sample="10ms")
    check_rows(full, binned)
    assert binned.skipped == 1 and len(binned.skipped_mask) == len(ev) and binned.skipped_mask[100]


def test_memory_follows_the_rows_and_bad_samples_are_refused():
    ev = synthetic_l2(200_000, seed=6)
    binned = lobkit.replay(ev, depth=10, signals=True, sample="1s")
    assert len(binned) < len(ev) / 100
    assert binned.bid_price.nbytes == len(binned) * 10 * 8
    assert lobkit.replay(ev[:10], depth=1).last_event is None
    for bad in ("soon", 0, -5, "0ms"):
        with pytest.raises(ValueError, match="sample="):
            lobkit.replay(ev[:10], depth=1, sample=bad)
    with pytest.raises(TypeError, match="sample="):
        lobkit.replay(ev[:10], depth=1, sample=True)


def test_sampled_tables_carry_the_rows_last_event_and_round_trip(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    from lobkit.frames import from_table

    feed = load(GOOG_L1)
    msg = lobkit.replay(feed, depth=2, signals=True, sample="message")
    t = msg.to_arrow(events=feed.events)
    assert t.num_rows == len(msg)
    np.testing.assert_array_equal(t.column("last_event").to_numpy(), msg.last_event)
    np.testing.assert_array_equal(t.column("flags").to_numpy(),
                                  feed.events["flags"][msg.last_event])
    path = tmp_path / "m.parquet"
    msg.to_parquet(path)
    back = from_table(pq.read_table(path))
    np.testing.assert_array_equal(back.last_event, msg.last_event)
    np.testing.assert_array_equal(back.ofi, msg.ofi)
    with pytest.raises(ValueError, match="sampled"):
        msg.to_arrow(events=feed.events[:100])
