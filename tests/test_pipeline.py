"""One per-event step for every path: the named streaming methods,
``apply_event``, bulk ``replay`` and the engine give the same books, flow
totals, last changes and alerts. Each test here would have caught one of the
drifts the five hand-kept copies of that step had."""

import pickle

import numpy as np
import pytest

import lobkit
from lobkit import detect
from lobkit.scenarios import scenario
from lobkit.signals import MicroPrice

SEED = 3


def _events(seconds=60.0):
    ev, _labels = scenario(SEED, seconds=seconds, episodes=4)
    return ev


def _feed_named(book, ev):
    """Every event through the named ticks methods (with ts=), as a bot would."""
    K = lobkit.Kind
    for e in ev:
        k, s, p, q, i, t = (int(e["kind"]), int(e["side"]), int(e["price"]), int(e["size"]),
                            int(e["order_id"]), int(e["ts"]))
        if k == K.ADD:
            book.add_ticks(i, s, p, q, ts=t)
        elif k == K.CANCEL:
            book.cancel_ticks(i, q, s, p, ts=t)
        elif k == K.DELETE:
            book.cancel_ticks(i, 0, s, p, ts=t)
        elif k == K.EXECUTE:
            book.execute_ticks(i, q, s, p, ts=t)
        elif k == K.MODIFY:
            book.modify_ticks(i, p, q, ts=t)
        elif k == K.SEED:
            book.seed(s, float(p), float(q), ts=t)
        elif k == K.CLEAR:
            book.clear(s or None, ts=t)
        else:  # TRADE, HALT: no named method; the event form
            book.apply_event(k, s, p, q, i, t)


def _feed_events(book, ev):
    for e in ev:
        book.apply_event(int(e["kind"]), int(e["side"]), int(e["price"]), int(e["size"]),
                         int(e["order_id"]), int(e["ts"]))


def _state(book):
    return (book.events, book.last_ts, book.ofi_total, book.ofi_msg_total, book.ofi,
            book.last_change.as_tuple(), book.bids(20, ticks=True).tolist(),
            book.asks(20, ticks=True).tolist())


def test_named_methods_apply_event_and_replay_are_one_step():
    ev = _events()
    assert len(ev) > 5_000
    named, evented, bulk = (lobkit.L3Book(unknown_id="anonymous") for _ in range(3))
    for b in (named, evented, bulk):
        detect.enable(b)
    _feed_named(named, ev)
    _feed_events(evented, ev)
    res = lobkit.replay(ev, book=bulk, depth=0, detect=True)
    assert _state(named) == _state(evented) == _state(bulk)
    a_named, a_evented = detect.alerts(named), detect.alerts(evented)
    assert len(a_named) > 0, "the scenario's episodes must raise alerts"
    # Streaming alerts index the book's counter, bulk ones the input row:
    # here both count from 0 over the same events, so they agree exactly.
    np.testing.assert_array_equal(a_named, a_evented)
    np.testing.assert_array_equal(a_named, res.alerts)


def test_detectors_run_from_the_named_methods():
    # Before: only apply_event ran the detectors; update/add/cancel did not.
    ev = _events()
    book = detect.enable(lobkit.L3Book(unknown_id="anonymous"))
    _feed_named(book, ev)
    kinds = detect.summary(detect.alerts(book))
    assert kinds.get("spoofing", 0) + kinds.get("layering", 0) > 0, kinds

    l2 = detect.enable(lobkit.L2Book(), phantom_min_ratio=3.0)
    t = 0
    for _ in range(300):  # a quiet book with a typical 2-lot increment
        t += 1_000_000
        l2.update_ticks(1, 99, 2, ts=t)
        l2.update_ticks(1, 99, 0, ts=t + 1)
    l2.update_ticks(1, 100, 2, ts=t + 2)
    l2.update_ticks(-1, 101, 2, ts=t + 3)
    l2.update_ticks(1, 100, 60, ts=t + 4)       # a large size appears at the touch
    l2.update_ticks(1, 100, 2, ts=t + 5_000_000)  # ... and vanishes without trading
    assert "phantom" in detect.summary(detect.alerts(l2))


def test_last_change_after_apply_event():
    # Before: apply_event left last_change stale (only update/add set it).
    b = lobkit.L2Book()
    assert b.last_change is None
    b.apply_event(lobkit.Kind.SET_LEVEL, 1, 100, 5, 0, 1)
    c = b.last_change
    assert (c.side, c.price_ticks, c.prev_size_lots, c.new_size_lots) == (1, 100, 0, 5)
    assert c.best_changed and c.new_best_price_ticks == 100
    b.apply_event(lobkit.Kind.TRADE, -1, 100, 1, 0, 2)  # changes no level
    assert b.last_change == c
    b.update_ticks(1, 99, 3)
    assert b.last_change.as_tuple() == (1, 99, 0, 3, 100, 5, 100, 5)
    assert not b.last_change.best_changed


def test_ts_keyword_orders_streaming_calls():
    b = lobkit.L3Book()
    b.add(1, "bid", 100.0, 5.0, ts=1_000)
    assert b.last_ts == 1_000
    b.add(2, "bid", 99.0, 5.0)  # no ts: the last one, never out of order
    assert b.last_ts == 1_000
    with pytest.raises(lobkit.errors.TimestampOrderError) as e:
        b.cancel(1, ts=999)
    assert e.value.index == 2 and e.value.field == "ts"
    assert b.events == 2 and b.order(1) is not None
    b.cancel(1, ts=2_000)
    assert b.order(1) is None and b.events == 3


def test_failed_calls_change_nothing_and_name_the_count():
    b = lobkit.L3Book()
    b.add_ticks(1, 1, 100, 5, ts=1)
    before = _state(b)
    for call in (lambda: b.add_ticks(1, 1, 101, 5),          # duplicate id
                 lambda: b.add_ticks(2, 3, 101, 5),          # bad side
                 lambda: b.execute_ticks(1, 6),              # overfill
                 lambda: b.modify(9, 100.0, 1.0),            # unknown id
                 lambda: b.add(3, "bid", 100.5, 1.0)):       # off the grid
        with pytest.raises(lobkit.errors.LobkitError) as e:
            call()
        assert e.value.index == 1
        assert _state(b) == before


def test_snapshot_is_one_message_for_readers():
    b = lobkit.L2Book(tick_size=0.5)
    r = b.reader(levels=5)
    b.update("bid", 99.0, 1.0)
    seq = r.seq
    b.apply_snapshot([(100.0, 2.0), (99.5, 1.0)], [(101.0, 3.0)])
    assert r.seq == seq + 1  # published once, whole
    snap = r.read()
    assert snap.bids.tolist() == [[100.0, 2.0], [99.5, 1.0]] and snap.asks.tolist() == [[101.0, 3.0]]
    assert snap.events == b.events == 5  # the update, then CLEAR + 3 levels
    with pytest.raises(lobkit.errors.InvalidSizeError):
        b.apply_snapshot([(100.0, 2.0)], [(101.0, -1.0)])
    assert r.seq == seq + 1 and b.best_bid == (100.0, 2.0) and b.events == 5


def test_engine_books_keep_their_counts_and_flow():
    # Before: Engine.close() returned books whose event count was 0.
    ev = _events(20.0)
    want = lobkit.L3Book(unknown_id="anonymous")
    _feed_events(want, ev)
    start = lobkit.L3Book(unknown_id="anonymous")
    _feed_events(start, ev[:100])  # the engine carries on from a used book
    with lobkit.Engine(start) as eng:
        eng.push(ev[100:])
        eng.flush(timeout=30)
        books, stats = eng.close()
    assert stats["applied"] == len(ev) - 100
    got = books[0]
    assert isinstance(got, lobkit.L3Book)
    assert _state(got) == _state(want)


def test_every_core_detector_option_is_settable_and_listed():
    # Before: layer_min_lifetime_ns existed in the core but not in Python.
    names = [o[0] for o in detect.OPTIONS]
    assert "layer_min_lifetime_ns" in names and len(names) == len(set(names)) == 59
    for name, typ, default, lo, hi in detect.OPTIONS:
        value = (not default) if typ == "bool" else (int(hi) if typ == "int" else hi)
        b = detect.enable(lobkit.L3Book(), **{name: value})
        cfg = b.detect_config
        assert cfg[name] == value, name
        assert {k: v for k, v in cfg.items() if k != name} == \
            {k: v for k, v in detect.DEFAULTS.items() if k != name}
    with pytest.raises(ValueError, match="layer_min_lifetime_ns=-1"):
        detect.enable(lobkit.L2Book(), layer_min_lifetime_ns=-1)
    with pytest.raises(ValueError, match="expected True or False"):
        detect.enable(lobkit.L2Book(), spoofing=1)
    assert lobkit.L2Book().detect_config is None


def test_layer_min_lifetime_changes_what_is_flagged():
    # Three 5x layers posted and pulled within 5 ms: a quote refresh under
    # the default 20 ms minimum, layering when the minimum is 1 ms.
    def run(**kw):
        b = detect.enable(lobkit.L3Book(), **kw)
        t, oid = 0, 100
        for _ in range(400):
            t += 1_000_000
            oid += 1
            b.add_ticks(oid, 1, 90, 2, ts=t)
            b.cancel_ticks(oid, 0, ts=t + 1)
        b.add_ticks(1, 1, 100, 2, ts=t + 10)
        b.add_ticks(2, -1, 101, 2, ts=t + 11)
        # (1 ms after the quotes: not halves of a two-sided quote)
        for k in range(3):
            b.add_ticks(10 + k, -1, 102 + k, 10, ts=t + 1_000_000 + k)
        b.execute_ticks(1, 1, ts=t + 2_000_000)  # the bid trades (side and price from the book)
        for k in range(3):
            b.cancel_ticks(10 + k, 0, ts=t + 6_000_000 + k)
        # a later event releases what waits to be judged against depth
        # collapses (1.4 s after the pull)
        b.add_ticks(50, 1, 80, 1, ts=t + 1_500_000_000)
        return detect.summary(detect.alerts(b)).get("layering", 0)

    assert run() == 0
    assert run(layer_min_lifetime_ns=1_000_000) > 0


def test_docstrings_belong_to_their_methods():
    # Before: reader's text sat on _enable_detect and reader had none.
    for cls in (lobkit.L2Book, lobkit.L3Book):
        assert "reader" in cls.reader.__doc__.lower()
        assert "detectors" in cls._enable_detect.__doc__.lower()
        assert "reader" not in cls._enable_detect.__doc__.lower()


def test_micro_price_applies_to_rebuilt_results():
    pytest.importorskip("pyarrow")
    from lobkit.frames import from_table

    from lobkit.testing import synthetic_l2

    ev = synthetic_l2(20_000, seed=5)
    res = lobkit.replay(ev, book=lobkit.L2Book(tick_size=0.01, lot_size=0.001), depth=0)
    mp = MicroPrice.fit(res.best_bid_price, res.best_ask_price, res.best_bid_size,
                        res.best_ask_size)
    back = from_table(res.to_arrow())
    np.testing.assert_array_equal(mp.apply(back), mp.apply(res))


def test_pickle_and_copy_keep_the_count():
    b = lobkit.L3Book()
    b.add_ticks(1, 1, 100, 5, ts=7)
    b.add_ticks(2, -1, 101, 5, ts=8)
    for c in (pickle.loads(pickle.dumps(b)), b.copy()):
        assert c.events == 2 and c.last_ts == 8 and c.best_bid_ticks == 100
        with pytest.raises(lobkit.errors.TimestampOrderError):
            c.add_ticks(3, 1, 99, 1, ts=7)
    l2 = b.to_l2()
    assert l2.events == 2 and l2.ofi_total == b.ofi_total


def test_error_classes_come_from_the_core_list():
    from lobkit import _core, errors

    assert [c.__name__ for c in errors.BY_CODE] == _core.error_class_names()
    b = lobkit.L2Book()
    with pytest.raises(errors.BY_CODE[0]):  # InvalidSideError
        b.update("up", 1.0, 1.0)


def test_side_names_are_one_table(tmp_path):
    from lobkit.io import events_from_table, read_events

    b = lobkit.L2Book()
    for i, s in enumerate(("bid", "BID", "b", "buy", "Bids", 1)):
        b.update(s, 100.0 - i, 1.0)
    for i, s in enumerate(("ask", "A", "sell", "offer", "asks", -1)):
        b.update(s, 200.0 + i, 1.0)
    assert b.n_bids == 6 and b.n_asks == 6
    for bad in ("none", "", 0, 2, "bidd", None):
        with pytest.raises(lobkit.errors.InvalidSideError):
            b.update(bad, 100.0, 1.0)
    # The CSV parser (Rust) and the DataFrame/Parquet path (Python) read the
    # same spellings, from the same core table.
    csv = tmp_path / "e.csv"
    csv.write_text("ts,kind,side,price,size\n1,set_level,Buy,100,1\n2,set_level,OFFER,101,1\n"
                   "3,trade,none,100,1\n")
    from_csv = read_events(csv)
    assert from_csv["side"].tolist() == [1, -1, 0]
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"ts": [1, 2, 3], "kind": ["set_level", "set_level", "trade"],
                       "side": ["Buy", "OFFER", "none"], "price": [100, 101, 100],
                       "size": [1, 1, 1]})
    np.testing.assert_array_equal(events_from_table(df), from_csv)
