"""The bad-input matrix beyond the streaming methods (issue 13): bulk replay
arguments, the engine, readers, signal constructors, synthetic generators
and loader keywords × bad values. Each case asserts the exception class and
that its message names the argument; where a book was passed in, that the
book is unchanged. No case may abort the process or raise anything outside
the documented classes (bare ``OverflowError`` from an integer conversion is
exactly what this guards against)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

import lobkit
import lobkit.io
import lobkit.io.auto
import lobkit.signals
import lobkit.testing
from lobkit import errors as E
from lobkit.testing import synthetic_l2

EV = synthetic_l2(200, seed=3)
HUGE, NEG_HUGE = 2**70, -(2**70)


def _replay(**kw):
    return lambda: lobkit.replay(EV, **kw)


def _engine(**kw):
    def run():
        lobkit.Engine([lobkit.L2Book()], **kw).close()
    return run


def _engine_call(method, *args, **kw):
    def run():
        eng = lobkit.Engine([lobkit.L2Book()])
        try:
            getattr(eng, method)(*args, **kw)
        finally:
            eng.close()
    return run


def _reader(levels):
    return lambda: lobkit.L2Book().reader(levels)


def _cases():
    c = []
    # --- lobkit.replay
    for v, cls in [(-1, ValueError), (HUGE, MemoryError), ("x", TypeError), (1.5, TypeError),
                   (None, TypeError), (True, TypeError)]:
        c.append(("replay depth", _replay(depth=v), cls, "depth"))
    for v, cls in [(0, ValueError), (-1, ValueError), ("a", TypeError), (2.0, TypeError)]:
        c.append(("replay chunk", _replay(chunk=v), cls, "chunk"))
    for v in ("skipp", "RAISE", ""):
        c.append(("replay on_error", _replay(on_error=v), ValueError, "on_error"))
    for v in ("l4", "L2"):
        c.append(("replay book_type", _replay(book_type=v), ValueError, "book_type"))
    for v in (0.0, -1.0, math.nan, math.inf):
        c.append(("replay tick_size", _replay(tick_size=v), ValueError, "tick_size"))
        c.append(("replay lot_size", _replay(lot_size=v), ValueError, "lot_size"))
    for v in ("x", "lee-ready"):
        c.append(("replay trade_sign", _replay(trade_sign=v), ValueError, "trade_sign"))
    for v, cls, word in [({"nope": 1}, ValueError, "nope"), ({"tick": "x"}, ValueError, "tick"),
                         ({"tick": -5}, ValueError, "tick"), (["spoofx"], ValueError, "spoofx")]:
        c.append(("replay detect", _replay(detect=v), cls, word))
    for v in (object(), "book", 3):
        c.append(("replay book", _replay(book=v), TypeError, "book"))
    for v in ("skipp",):
        c.append(("replay unknown_id", lambda v=v: lobkit.replay(EV, book_type="l3", unknown_id=v),
                  ValueError, "unknown_id"))
        c.append(("replay cross_policy", _replay(cross_policy=v), ValueError, "cross_policy"))
    # --- lobkit.Engine
    for name, lo_hi in [("capacity", (1, 2**40)), ("batch", (0, 2**40)), ("levels", (0, 5000))]:
        for v in (*lo_hi, -1, HUGE, NEG_HUGE):
            c.append((f"Engine {name}", _engine(**{name: v}), ValueError, name))
    for v in (5, -1, HUGE):
        c.append(("Engine.push instrument", _engine_call("push", EV, v), ValueError, "instrument"))
        c.append(("Engine.reader instrument", _engine_call("reader", v), ValueError, "instrument"))
    for v in (math.nan,):
        c.append(("Engine.push timeout", _engine_call("push", EV, timeout=v), ValueError, "timeout"))
        c.append(("Engine.flush timeout", _engine_call("flush", timeout=v), ValueError, "timeout"))
    for v in ([1, 2], np.zeros(3), EV.view(np.uint8)):
        c.append(("Engine.push events", _engine_call("push", v), E.EventDtypeError, "events"))
    c.append(("Engine.push strided", _engine_call("push", EV[::2]), E.EventLayoutError, "events"))
    # --- book.reader / Reader.wait
    for v in (0, -1, 5000, HUGE):
        c.append(("book.reader levels", _reader(v), ValueError, "levels"))
    c.append(("Reader.wait timeout", lambda: lobkit.L2Book().reader().wait(0, timeout=math.nan),
              ValueError, "timeout"))
    # --- signal constructors and generators
    for v in (0, -1, 2**17, HUGE):
        c.append(("signals.Rolling width", lambda v=v: lobkit.signals.Rolling("events", 10, width=v),
                  ValueError, "width"))
    for v in (0, -1, 2**21, HUGE):
        c.append(("signals.Vpin n_buckets", lambda v=v: lobkit.signals.Vpin(100, n_buckets=v),
                  ValueError, "n_buckets"))
    for v in (-1, 2**27, HUGE):
        c.append(("testing.synthetic_l2 n", lambda v=v: lobkit.testing.synthetic_l2(v), ValueError,
                  "n"))
        c.append(("testing.synthetic_l3 n", lambda v=v: lobkit.testing.synthetic_l3(v), ValueError,
                  "n"))
    for v in (0, -1, HUGE):
        c.append(("testing.synthetic_l3 live", lambda v=v: lobkit.testing.synthetic_l3(10, live=v),
                  ValueError, "live"))
    # --- loader keywords
    from lobkit.io import BinanceDepth, KrakenDepth, read_binance
    binance = lobkit.__path__[0] + "/data/binance/btcusdt_usdm_20240808_head4000.gz"
    for v in ("abc", "0", "-1", "1e400"):
        c.append(("read_binance tick_size", lambda v=v: read_binance(binance, tick_size=v,
                                                                     lot_size="0.001"),
                  ValueError, "tick_size"))
        c.append(("BinanceDepth lot_size", lambda v=v: BinanceDepth(tick_size="0.1", lot_size=v),
                  ValueError, "lot_size"))
    c.append(("BinanceDepth ts", lambda: BinanceDepth(tick_size="0.1", lot_size="1", ts="utc"),
              ValueError, "ts"))
    c.append(("KrakenDepth book", lambda: KrakenDepth("XBT/USD", tick_size="0.1", lot_size="1",
                                                      book=lobkit.L3Book()), TypeError, "book"))
    c.append(("io.load format", lambda: lobkit.io.auto.load(binance, format="nope"), ValueError,
              "nope"))
    return c


CASES = _cases()


@pytest.mark.parametrize("name,call,cls,word", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_entry_point_refuses_bad_argument(name, call, cls, word):
    with pytest.raises(cls) as e:
        call()
    assert not isinstance(e.value, OverflowError) or cls is OverflowError
    assert word in str(e.value), (name, str(e.value))


def test_replay_argument_errors_leave_the_book_unchanged():
    """Every replay argument error is raised before anything is applied."""
    book = lobkit.L2Book()
    lobkit.replay(EV[:50], book=book, depth=0)
    before = (book.events, book.bids(100, ticks=True).tolist(), book.ofi_total)
    for kw in ({"depth": -1}, {"depth": "x"}, {"chunk": 0}, {"on_error": "x"},
               {"trade_sign": "x"}, {"detect": {"nope": 1}}, {"depth": HUGE}):
        with pytest.raises((ValueError, TypeError, MemoryError)):
            lobkit.replay(EV[50:], book=book, **kw)
        assert (book.events, book.bids(100, ticks=True).tolist(), book.ofi_total) == before


def test_matrix_covers_every_entry_point():
    """The case count per entry point (reported in the issue notes)."""
    counts = Counter(name.split(" ")[0] for name, *_ in CASES)
    assert counts["replay"] >= 30 and counts["Engine"] >= 6
    assert sum(counts.values()) == len(CASES) >= 90


def test_engine_push_one_wide_ints_are_typed_not_overflow():
    """`Engine.push_one` takes its integers like the books' `*_ticks`
    methods: out-of-range codes and sizes are the engine's typed rejections,
    a timestamp beyond int64 a ValueError naming it."""
    eng = lobkit.Engine([lobkit.L2Book()])
    try:
        with pytest.raises(ValueError, match="ts"):
            eng.push_one(1, 1, 100, 5, ts=HUGE)
        for kind, side, price, size, cls in [(300, 1, 100, 5, E.InvalidKindError),
                                             (1, 300, 100, 5, E.InvalidSideError),
                                             (1, 1, HUGE, 5, E.InvalidPriceError),
                                             (1, 1, 100, NEG_HUGE, E.InvalidSizeError)]:
            # The rejection is raised on the next call, which is the push
            # itself when the worker has already applied it: either may raise.
            with pytest.raises(cls):
                eng.push_one(kind, side, price, size, ts=1)
                eng.flush()
        assert eng.stats()["applied"] == 0
    finally:
        eng.close()
