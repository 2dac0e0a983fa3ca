"""Hostile and careless input, first batch (issue 13): every event kind is
validated on every path, sums cannot wrap, size arguments are bounded before
anything is allocated, timeouts accept inf, and concatenation goes by field
name. Each case checks the exception class, its index/field, and that the
state is exactly as it was."""

import numpy as np
import pytest

import lobkit
from lobkit import errors
from lobkit.io import concat
from lobkit.signals import Rolling, Vpin
from lobkit.testing import synthetic_l2, synthetic_l3

K = lobkit.Kind


def _state(book):
    return (book.events, book.last_ts, book.ofi_total, book.ofi_msg_total,
            book.bids(50, ticks=True).tolist(), book.asks(50, ticks=True).tolist())


def _book(cls=lobkit.L3Book):
    b = cls()
    if cls is lobkit.L3Book:
        b.add_ticks(1, 1, 100, 5, ts=1)
        b.add_ticks(2, -1, 101, 5, ts=2)
    else:
        b.update_ticks(1, 100, 5, ts=1)
        b.update_ticks(-1, 101, 5, ts=2)
    return b


@pytest.mark.parametrize("cls", [lobkit.L2Book, lobkit.L3Book])
@pytest.mark.parametrize("side,size,price,exc,field", [
    (100, 4, 101, errors.InvalidSideError, "side"),
    (-128, 4, 101, errors.InvalidSideError, "side"),
    (-1, -4, 101, errors.InvalidSizeError, "size"),
    (-1, 0, 101, errors.InvalidSizeError, "size"),
    (0, 4, 2**62, errors.InvalidPriceError, "price"),
])
def test_trade_prints_are_validated_on_every_path(cls, side, size, price, exc, field):
    b = _book(cls)
    before = _state(b)
    with pytest.raises(exc) as e:
        b.apply_event(K.TRADE, side, price, size, 0, 3)
    assert (e.value.index, e.value.field) == (2, field)
    assert _state(b) == before
    ev = lobkit.make_events(ts=[3, 4], kind=[K.TRADE, K.TRADE], side=[-1, side],
                            price=[101, price], size=[1, size])
    with pytest.raises(exc) as e:
        lobkit.replay(ev, book=b, depth=0, signals=True)
    assert e.value.index == 1 and _state(b) == before
    res = lobkit.replay(ev, book=b, depth=0, signals=True, on_error="skip")
    assert res.skipped == 1 and res.signed_volume.tolist() == [1, 0]
    assert b.events == before[0] + 1


def test_execute_must_name_the_resting_side():
    b = _book()
    before = _state(b)
    for side in (-1, -128, 2):
        with pytest.raises(errors.InvalidSideError) as e:
            b.execute_ticks(1, 4, side, 100)
        assert e.value.field == "side" and _state(b) == before
    assert "rests on the bid" in str(pytest.raises(errors.InvalidSideError,
                                                    b.execute_ticks, 1, 4, -1, 100).value)
    b.execute_ticks(1, 4, 1, 100)  # the right side, or 0, is fine
    b.execute_ticks(1, 1, 0, 100)
    assert b.order(1) is None


def test_level_totals_cannot_wrap():
    b = lobkit.L3Book()
    big = 2**52
    b.add_ticks(1, 1, 100, big)
    with pytest.raises(errors.InvalidSizeError, match="2\\^52"):
        b.add_ticks(2, 1, 100, 1)
    with pytest.raises(errors.InvalidSizeError):
        b.seed(1, 100.0, 1.0)
    assert b.best_bid_lots == big and b.n_orders == 1
    b.add_ticks(3, 1, 99, 7)
    with pytest.raises(errors.InvalidSizeError):
        b.modify_ticks(3, 100, 7)  # moving onto the full level
    assert b.bids(2, ticks=True).tolist() == [[100, big], [99, 7]]
    # An L2 side of 4,096 full levels: depth saturates instead of wrapping.
    l2 = lobkit.L2Book()
    for p in range(4096):
        l2.update_ticks(1, 10_000 - p, big)
    assert l2.depth("bid", 5000) == float(2**63 - 1)
    assert l2.depth_imbalance(5000) == 1.0


def test_sizes_below_one_lot_are_not_zero():
    b = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    b.update("bid", 99.0, 1.0)
    before = _state(b)
    with pytest.raises(errors.InvalidSizeError, match="smaller than one"):
        b.update("bid", 99.0, 1e-20)
    assert _state(b) == before
    b.update("bid", 99.0, 0.0)  # an exact zero still removes the level
    assert b.n_bids == 0


def test_oversized_replay_depth_is_a_memory_error_not_an_abort():
    b = lobkit.L2Book()
    ev = synthetic_l2(1000, seed=1)
    with pytest.raises(MemoryError, match="depth=1000000000"):
        lobkit.replay(ev, book=b, depth=10**9)
    assert b.events == 0 and b.n_bids == 0
    res = lobkit.replay(ev, book=b, depth=5)
    assert res.bid_price.shape == (1000, 5)


@pytest.mark.parametrize("call", [
    lambda: lobkit.Engine(lobkit.L2Book(), capacity=2**40),
    lambda: lobkit.Engine(lobkit.L2Book(), capacity=2**63),
    lambda: lobkit.Engine(lobkit.L2Book(), batch=0),
    lambda: Rolling("events", 10, width=10**13),
    lambda: Vpin(100, n_buckets=10**13),
    lambda: synthetic_l2(10**13),
    lambda: synthetic_l3(10, live=0),
])
def test_size_arguments_are_bounded_before_allocating(call):
    with pytest.raises(ValueError, match="must be within"):
        call()


def test_timeouts_accept_inf_and_refuse_nan():
    ev = synthetic_l2(2000, seed=2)
    with lobkit.Engine(lobkit.L2Book()) as eng:
        r = eng.reader()
        assert eng.push(ev, timeout=float("inf")) == len(ev)
        eng.flush(timeout=float("inf"))
        eng.flush(timeout=1e300)
        assert r.wait(0, timeout=float("inf")) >= 1
        assert r.wait(10**12, timeout=0.0) is None
        with pytest.raises(ValueError, match="timeout=NaN"):
            eng.push(ev[:1], timeout=float("nan"))
        with pytest.raises(ValueError, match="timeout=NaN"):
            r.wait(0, timeout=float("nan"))
        books, stats = eng.close()
    assert stats["applied"] == len(ev) and books[0].events == len(ev)


def test_concat_copies_by_field_name_and_refuses_other_arrays():
    ev = synthetic_l3(100, seed=3)
    names = list(lobkit.EVENT_DTYPE.names)[::-1]
    other = np.zeros(len(ev), np.dtype([(n, lobkit.EVENT_DTYPE[n]) for n in names]))
    for n in names:
        other[n] = ev[n]
    np.testing.assert_array_equal(concat([other]), ev)
    np.testing.assert_array_equal(concat([ev[:10], other[10:]]), ev)
    for bad in (np.zeros(5), np.zeros((2, 3), lobkit.EVENT_DTYPE),
                np.zeros(3, [("ts", "<f8"), ("kind", "u1")])):
        with pytest.raises(errors.EventDtypeError):
            concat([ev, bad])


def test_corrupt_compressed_files_are_parse_errors(tmp_path):
    import gzip

    from lobkit.io import read_binance, read_events

    ev = synthetic_l3(200, seed=5)
    lobkit.io.write_events(ev, tmp_path / "e.csv", tick_size=0.01)
    raw = gzip.compress((tmp_path / "e.csv").read_bytes())
    (tmp_path / "cut.csv.gz").write_bytes(raw[: len(raw) // 2])       # truncated
    (tmp_path / "bad.csv.gz").write_bytes(raw[:10] + b"\x00" * 50)     # corrupt
    zst = pytest.importorskip("zstandard")
    (tmp_path / "bad.zst").write_bytes(zst.ZstdCompressor().compress(b"x" * 1000)[:12] + b"junk")
    for name in ("cut.csv.gz", "bad.csv.gz", "bad.zst"):
        with pytest.raises(errors.ParseError, match=name) as e:
            read_events(tmp_path / name, tick_size=0.01)
        assert e.value.field == "file"
    with pytest.raises(errors.ParseError, match="cut.csv.gz"):
        list(lobkit.io.iter_events(tmp_path / "cut.csv.gz", "csv", chunk_bytes=100,
                                   tick_size=0.01))
    with pytest.raises(errors.ParseError):
        read_binance(tmp_path / "cut.csv.gz", tick_size=1, lot_size=1)


def test_cr_only_line_ends_are_lines(tmp_path):
    from lobkit.io import read_events

    text = "ts,kind,side,price,size\n1,set_level,bid,100,1\n2,set_level,ask,101,2\n"
    (tmp_path / "lf.csv").write_text(text)
    (tmp_path / "cr.csv").write_bytes(text.replace("\n", "\r").encode())
    (tmp_path / "crlf.csv").write_bytes(text.replace("\n", "\r\n").encode())
    want = read_events(tmp_path / "lf.csv")
    assert len(want) == 2
    for name in ("cr.csv", "crlf.csv"):
        np.testing.assert_array_equal(read_events(tmp_path / name), want)


def test_unaligned_event_views_get_a_fix_that_works():
    ev = synthetic_l2(100, seed=6)
    buf = bytearray(len(ev) * 40 + 1)
    view = np.frombuffer(buf, dtype=np.uint8)[1:].view(lobkit.EVENT_DTYPE)
    view[:] = ev
    with pytest.raises(errors.EventLayoutError, match=r"\.copy\(\)"):
        lobkit.replay(view, depth=0)
    res = lobkit.replay(view.copy(), depth=0)  # the suggested fix works
    assert len(res) == 100


def test_kraken_garbage_and_unknown_pairs_raise(tmp_path):
    from lobkit.io import KrakenDepth, iter_events

    k = KrakenDepth("XBT/USD", tick_size="0.1", lot_size="0.00000001")
    for bad in (b"garbage", b"{not json", b"[1, {]"):
        with pytest.raises(errors.ParseError):
            k.on_message(bad)
    assert len(k.on_message(b'{"event":"heartbeat"}')) == 0  # valid, skipped
    f = tmp_path / "k.txt"
    f.write_text('1.0: [1,{"as":[["5.0","1.00000000","1.0"]],"bs":[["4.9","2.00000000","1.0"]]},'
                 '"book-10","XBT/USD"]\n')
    with pytest.raises(errors.ParseError, match="'XBT/EUR' not in the file"):
        list(iter_events(f, "kraken", symbol="XBT/EUR", tick_size="0.1",
                         lot_size="0.00000001"))


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_an_interrupted_replay_restores_the_book_in_both_modes(on_error):
    b = lobkit.L2Book()
    lobkit.replay(synthetic_l2(500, seed=7), book=b, depth=0)
    before = _state(b)
    ev = synthetic_l2(5000, seed=8)
    ev["ts"] += 10**12  # after the first batch

    def stop(done):
        if done >= 2000:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        lobkit.replay(ev, book=b, depth=0, chunk=1000, progress=stop, on_error=on_error)
    assert _state(b) == before


def test_close_raises_a_rejection_not_yet_raised():
    eng = lobkit.Engine(lobkit.L2Book(), on_error="raise")
    bad = lobkit.make_events(ts=[1], kind=[K.SET_LEVEL], side=[3], price=[100], size=[1])
    # Rejections raise on the next call; the push itself is that call when
    # the worker has already drained it (a race), else close must raise it.
    try:
        eng.push(bad)
    except errors.InvalidSideError as e:
        raised = e
    else:
        with pytest.raises(errors.InvalidSideError) as e:
            eng.close()
        raised = e.value
    assert raised.index == 0
    books, stats = eng.close()  # idempotent: the books are still there
    assert stats["rejected"] == 1 and books[0].events == 0


def test_venue_books_refuse_negative_prices_and_sizes():
    from lobkit.io import BinanceDepth, KrakenDepth

    s = BinanceDepth(tick_size="0.1", lot_size="0.001")
    with pytest.raises(errors.ParseError, match="not positive"):
        s.on_message('{"lastUpdateId":10,"bids":[["-99.0","1.000"]],"asks":[["101.0","1.000"]]}')
    with pytest.raises(errors.ParseError, match="negative"):
        s.on_message('{"lastUpdateId":10,"bids":[["99.0","-1.000"]],"asks":[["101.0","1.000"]]}')
    k = KrakenDepth("XBT/USD", tick_size="0.1", lot_size="0.00000001")
    with pytest.raises(errors.ParseError, match="negative"):
        k.on_message('[1,{"as":[["5.0","-1.00000000","1.0"]],"bs":[]},"book-10","XBT/USD"]')


def test_bitfinex_zero_prices_and_bytes(tmp_path):
    from lobkit.io import read_bitfinex

    msgs = ['[1,[[11,"100.5","2.0"],[12,"101.5","-1.0"]]]']
    for zero in ("0", "0.00", "0e0", "-0", "0.0"):
        msgs.append(f'[1,[11,"{zero}","1"]]')
        msgs.append('[1,[11,"100.5","2.0"]]')
    f = tmp_path / "b.txt"
    f.write_text("\n".join(msgs) + "\n")
    ev = read_bitfinex(f)
    deletes = ev[ev["kind"] == K.DELETE]
    assert len(deletes) == 5 and (deletes["price"] == 0).all()
    res = lobkit.replay(ev, depth=0, book_type="l3")
    assert res.book.n_orders == 2 and res.book.best_bid_ticks == 10_050_000_000
    (tmp_path / "x.txt").write_bytes(b'[1,[11,"1\xff","1"]]\n')
    with pytest.raises(errors.ParseError, match="not UTF-8"):
        read_bitfinex(tmp_path / "x.txt")


def test_empty_lobster_orderbook_and_newline_free_chunks(tmp_path):
    import time

    from lobkit.io import line_chunks, read_lobster

    m = tmp_path / "X_2012-06-21_0_1_message_1.csv"
    m.write_text("34200.0,1,1,100,1000000,1\n")
    (tmp_path / "X_2012-06-21_0_1_orderbook_1.csv").write_text("")
    with pytest.raises(errors.ParseError, match="orderbook file is empty"):
        read_lobster(m)
    big = tmp_path / "one_line.txt"
    big.write_bytes(b"x" * (40 << 20))
    t = time.perf_counter()
    parts = list(line_chunks(big, 1 << 16))
    assert parts == [b"x" * (40 << 20)] and time.perf_counter() - t < 5


@pytest.mark.realdata
def test_damaged_dbn_files_are_parse_errors(tmp_path, shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io import iter_events, read_dbn

    src = next((shared_data / "databento").rglob("*.mbo.dbn.zst"))
    from lobkit.io import read_bytes

    raw = read_bytes(src)
    rng = np.random.default_rng(0)
    tried = errors_seen = 0
    for k in range(40):
        data = bytearray(raw[: 8 + 4000 + 56 * 50])
        if k % 2:
            data = data[: int(rng.integers(0, len(data)))]       # truncated
        else:
            for i in rng.integers(0, 400, 8):                    # flips in the header
                data[i] ^= 0xFF
        f = tmp_path / f"d{k}.dbn"
        f.write_bytes(bytes(data))
        for call in (lambda: read_dbn(f, tick_size=0.25),
                     lambda: list(iter_events(f, "dbn", tick_size=0.25, chunk_bytes=56 * 7))):
            tried += 1
            try:
                call()
            except errors.LobkitError:
                errors_seen += 1
    assert tried == 80 and errors_seen > 0


@pytest.mark.parametrize("call,cls,field", [
    (lambda b: b.update_ticks(1, 2**70, 5), "InvalidPriceError", "price"),
    (lambda b: b.update_ticks(1, -2**70, 5), "InvalidPriceError", "price"),
    (lambda b: b.update_ticks(1, 100, 2**70), "InvalidSizeError", "size"),
    (lambda b: b.update_ticks(1, 100, -2**70), "InvalidSizeError", "size"),
    (lambda b: b.update_ticks(2**70, 100, 5), "InvalidSideError", "side"),
    (lambda b: b.update_ticks(1, 100, 5, ts=2**70), "TimestampOrderError", "ts"),
    (lambda b: b.update_ticks(1, 100, 5, ts=-2**70), "TimestampOrderError", "ts"),
    (lambda b: b.apply_event(2**70, 1, 100, 5), "InvalidKindError", "kind"),
    (lambda b: b.apply_event(1, 1, 2**100, 5), "InvalidPriceError", "price"),
    (lambda b: b.update("bid", 1.0, 1.0, ts=2**64), "TimestampOrderError", "ts"),
])
def test_ints_beyond_64_bits_are_typed_errors_on_l2(call, cls, field):
    """A Python int outside int64 is the book's typed error (index, field),
    not a bare OverflowError, and changes nothing."""
    b = lobkit.L2Book()
    b.update_ticks(1, 100, 5, ts=10)
    before = (b.events, b.bids(10, ticks=True).tolist(), b.last_ts)
    with pytest.raises(getattr(lobkit.errors, cls)) as e:
        call(b)
    assert (e.value.index, e.value.field) == (1, field)
    assert (b.events, b.bids(10, ticks=True).tolist(), b.last_ts) == before


@pytest.mark.parametrize("call,cls,field", [
    (lambda b: b.add_ticks(2, 1, 2**65, 5), "InvalidPriceError", "price"),
    (lambda b: b.add_ticks(2, 1, 100, 2**65), "InvalidSizeError", "size"),
    (lambda b: b.cancel_ticks(1, -2**65), "InvalidSizeError", "size"),
    (lambda b: b.execute_ticks(1, 2**65), "InvalidSizeError", "size"),
    (lambda b: b.modify_ticks(1, 2**65, 1), "InvalidPriceError", "price"),
    (lambda b: b.delete(1, ts=2**65), "TimestampOrderError", "ts"),
])
def test_ints_beyond_64_bits_are_typed_errors_on_l3(call, cls, field):
    b = lobkit.L3Book()
    b.add_ticks(1, 1, 100, 5, ts=10)
    before = (b.events, b.bids(10, ticks=True).tolist(), b.order(1))
    with pytest.raises(getattr(lobkit.errors, cls)) as e:
        call(b)
    assert (e.value.index, e.value.field) == (1, field)
    assert (b.events, b.bids(10, ticks=True).tolist(), b.order(1)) == before


def test_lobster_time_beyond_int64_ns_is_a_parse_error(tmp_path):
    """Found by the `lobster` cargo-fuzz target: seconds × 1e9 overflowed
    (a release build would have wrapped it into another timestamp)."""
    from lobkit.io import read_lobster
    p = tmp_path / "X_2012-06-21_34200000_57600000_message_1.csv"
    p.write_text("34200.1,1,1,100,5800000,1\n99999999999999999.5,1,2,100,5800000,1\n")
    with pytest.raises(errors.ParseError) as e:
        read_lobster(p)
    assert e.value.field == "time" and "line 2" in str(e.value)
