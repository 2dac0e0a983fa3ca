"""One writer, many lock-free readers (issue 5): book readers, the feed
engine, backpressure and exact accounting, errors across the thread, and a
stress test on real data with reader threads checking every snapshot."""

import threading
import time

import numpy as np
import pytest

import lobkit
from lobkit import ASK, BID, Kind
from lobkit.errors import (BackpressureError, EngineClosedError, InvalidSizeError,
                           UnknownOrderError)
from lobkit.io import read_lobster_reconciled
from lobkit.testing import synthetic_l2, synthetic_l3
from conftest import BUNDLED

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def snapshot_equals_book(s, book, levels):
    assert s.bids_ticks == [tuple(x) for x in book.bids(levels, ticks=True).tolist()]
    assert s.asks_ticks == [tuple(x) for x in book.asks(levels, ticks=True).tolist()]
    assert s.ofi_total == book.ofi_total and s.ofi_msg_total == book.ofi_msg_total
    assert s.imbalance == pytest.approx(book.imbalance)


def test_book_reader_sees_every_streaming_event_and_bulk_call():
    book = lobkit.L2Book(tick_size=0.5)
    r = book.reader(levels=3)
    assert r.seq == 1 and r.read().bids_ticks == []  # publishes on creation
    book.update(BID, 100, 2)
    book.update(ASK, 101, 5)
    s = r.read()
    assert (s.seq, s.events) == (3, 2)
    assert s.bids.tolist() == [[100.0, 2.0]] and s.asks.tolist() == [[101.0, 5.0]]
    assert s.weighted_mid == pytest.approx((100 * 5 + 101 * 2) / 7)
    ev = synthetic_l2(5000, seed=3)
    lobkit.replay(ev, book=book, check_ts=False)
    s = r.read()
    assert s.seq == 4 and s.events == 5002  # one publication per bulk call
    snapshot_equals_book(s, book, 3)
    with pytest.raises(ValueError, match="already publishes 3"):
        book.reader(levels=5)
    assert book.reader(levels=3).seq == r.seq
    assert "Snapshot(seq=4" in repr(s)


def test_reader_in_another_thread_waits_for_new_snapshots():
    book = lobkit.L3Book()
    r = book.reader()
    seen = []

    def follow():
        seq = r.seq
        for _ in range(3):
            seq = r.wait(seq, timeout=10)
            seen.append(r.read().events)

    t = threading.Thread(target=follow)
    t.start()
    for i in range(3):
        time.sleep(0.01)
        book.add_ticks(i + 1, BID, 100 - i, 10)
    t.join(10)
    assert seen and seen[-1] == 3 and seen == sorted(seen)
    assert r.wait(r.seq, timeout=0.01) is None


def test_engine_applies_like_replay_and_accounts_exactly():
    ev, _ = read_lobster_reconciled(GOOG)
    with lobkit.Engine(lobkit.L3Book(tick_size=1e-4, unknown_id="anonymous"), levels=10) as eng:
        r = eng.reader()
        for chunk in np.array_split(ev, 37):
            assert eng.push(chunk) == len(chunk)
        eng.flush(timeout=60)
        st = eng.stats()
        assert st["pushed"] == len(ev) == st["applied"] + st["rejected"] and st["rejected"] == 0
        s = r.read()
    want = lobkit.replay(ev, tick_size=1e-4, unknown_id="anonymous", depth=10, signals=True)
    snapshot_equals_book(s, want.book, 10)
    assert s.events == len(ev) and s.ts == int(ev["ts"][-1])
    books, st = eng.close()
    assert st["left"] == 0 and books[0].bids(10, ticks=True).tolist() == want.book.bids(10, ticks=True).tolist()
    with pytest.raises(EngineClosedError):
        eng.push(ev[:1])


def test_backpressure_raises_counts_and_loses_nothing():
    ev = synthetic_l3(100_000, seed=5, live=500)
    eng = lobkit.Engine(lobkit.L3Book(), capacity=16, batch=4)
    pushed = refused = 0
    i = 0
    while i < len(ev):
        try:
            pushed += eng.push(ev[i:i + 64], timeout=0)
            i += 64
        except BackpressureError as e:
            refused += 1
            pushed += e.accepted
            i += e.accepted  # the rest were not taken: retry them
    eng.flush(timeout=60)
    st = eng.stats()
    assert refused > 0 and st["full_timeouts"] == refused
    assert pushed == st["pushed"] == len(ev) == st["applied"] + st["rejected"]
    books, _ = eng.close()
    want = lobkit.replay(ev, depth=0)
    assert books[0].bids(50, ticks=True).tolist() == want.book.bids(50, ticks=True).tolist()
    # a blocking push with a timeout waits for room instead of raising
    eng2 = lobkit.Engine(lobkit.L3Book(), capacity=8)
    assert eng2.push(ev[:20_000], timeout=30) == 20_000
    eng2.flush()
    assert eng2.stats()["applied"] == 20_000
    eng2.close()


def test_engine_errors_reach_python_typed_with_the_global_index():
    ev = lobkit.make_events(kind=[Kind.ADD, Kind.ADD, Kind.CANCEL, Kind.ADD],
                            side=[BID, ASK, BID, BID], price=[100, 101, 100, 99],
                            size=[5, 5, 1, -3], order_id=[1, 2, 77, 4])
    eng = lobkit.Engine(lobkit.L3Book())
    # Rejections raise on the next call: the push itself when the worker has
    # already drained it, else the flush.
    with pytest.raises(UnknownOrderError) as ei:
        eng.push(ev)
        eng.flush(timeout=10)
    assert ei.value.index == 2 and ei.value.field == "order_id"
    # The second rejection is either noted on the first error or, if the
    # worker had not reached it yet, raised by the next flush.
    if not any("1 more event" in n for n in getattr(ei.value, "__notes__", [])):
        with pytest.raises(lobkit.errors.InvalidSizeError) as e2:
            eng.flush(timeout=10)
        assert e2.value.index == 3
    st = eng.stats()
    assert (st["applied"], st["rejected"]) == (2, 2)
    eng.flush()  # drained: nothing pending any more
    books, _ = eng.close()
    assert books[0].order(1) is not None and books[0].order(4) is None
    skip = lobkit.Engine(lobkit.L3Book(), on_error="skip")
    skip.push(ev)
    skip.flush(timeout=10)  # no raise
    errs = skip.errors()
    assert [type(e) for e in errs] == [UnknownOrderError, InvalidSizeError]
    assert [e.index for e in errs] == [2, 3]
    skip.close()
    with pytest.raises(ValueError, match="instrument=3"):
        lobkit.Engine([lobkit.L2Book()]).push(ev[:1], instrument=3)


def test_close_without_drain_reports_what_is_left():
    ev = synthetic_l2(300_000, seed=1)
    eng = lobkit.Engine(lobkit.L2Book(), capacity=1 << 20)
    eng.push(ev)
    books, st = eng.close(drain=False)
    assert st["pushed"] == len(ev) == st["applied"] + st["rejected"] + st["left"]
    books2, st2 = eng.close()  # idempotent
    assert st2 == st


def _stress(ev, book, readers, reads_each):
    eng = lobkit.Engine(book, capacity=1 << 14, levels=10, batch=64)
    rd = eng.reader()
    results = []

    def reader():
        results.append(rd.check_reads(reads_each))  # Rust loop, interpreter released

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    for chunk in np.array_split(ev, 50):
        eng.push(chunk)
    eng.flush(timeout=120)
    for t in threads:
        t.join(300)
    books, st = eng.close()
    return results, st


@pytest.mark.realdata
def test_stress_real_data_no_torn_reads(shared_data):
    """The full GOOG day replayed through the engine at full speed while three
    reader threads copy snapshots back to back: every snapshot is checked
    (sorted levels, positive sizes, publication numbers and event counts that
    never go back; exact equality with the writer is the Rust stress tests' job)."""
    p = shared_data / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    ev, _ = read_lobster_reconciled(p)
    results, st = _stress(ev, lobkit.L3Book(unknown_id="anonymous"), 3, 1_200_000)
    assert st["applied"] == len(ev) and st["rejected"] == 0
    assert sum(r[0] for r in results) >= 3_600_000
    assert sum(r[2] for r in results) == 0, results  # zero torn or inconsistent reads
    assert max(r[1] for r in results) > 10  # readers saw the book move


def test_stress_bundled_no_torn_reads():
    ev, _ = read_lobster_reconciled(GOOG)
    results, st = _stress(ev, lobkit.L3Book(unknown_id="anonymous"), 2, 300_000)
    assert st["applied"] == len(ev) and sum(r[2] for r in results) == 0


def test_engine_detectors_alerts_equal_bulk_replay():
    from lobkit.scenarios import scenario

    ev, _ = scenario(4, seconds=60, episodes=2)
    want = lobkit.replay(ev, depth=0, detect=True).alerts
    with lobkit.Engine([lobkit.L2Book(), lobkit.L3Book(tick_size=0.01)], detect=True) as eng:
        for chunk in np.array_split(ev, 13):
            eng.push(chunk, instrument=1)
        eng.flush(timeout=60)
        got = eng.alerts()
        assert len(eng.alerts()) == 0  # drained
    assert len(want) > 0 and eng.alerts_dropped == 0
    assert (got["instrument"] == 1).all()
    for f in ("ts", "kind", "side", "price_ticks", "order_id", "score", "event_index"):
        np.testing.assert_array_equal(got[f], want[f])
    np.testing.assert_allclose(got["price"], want["price_ticks"] * 0.01)


def test_asyncio_push_and_alert_stream_never_block_the_loop():
    """A 1,024-slot ring takes ~54,000 events from push_async while another
    task keeps running; alert_stream yields exactly the alerts a bulk replay
    of the same events raises, and ends when the engine closes."""
    import asyncio

    from lobkit.scenarios import scenario

    ev, _ = scenario(3, seconds=240, episodes=3)  # ~54,000 events with every kind of episode
    want = lobkit.replay(ev, book_type="l3", depth=0, detect=True).alerts

    async def main():
        eng = lobkit.Engine(lobkit.L3Book(), capacity=1024, detect=True)
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.0005)

        async def collect():
            return [b async for b in eng.alert_stream(0.005)]

        tk, stream = asyncio.create_task(ticker()), asyncio.create_task(collect())
        pushed = await eng.push_async(ev)
        await eng.flush_async()
        eng.close()
        batches = await stream
        tk.cancel()
        return pushed, batches, ticks, eng.stats()

    pushed, batches, ticks, stats = asyncio.run(main())
    got = np.concatenate(batches) if batches else np.zeros(0)
    assert pushed == len(ev) == stats["applied"]
    assert ticks > 5  # the loop kept running while the ring was full
    assert len(got) == len(want) > 0
    np.testing.assert_array_equal(got["ts"], want["ts"])
    assert got["kind_name"].tolist() == want["kind_name"].tolist()
