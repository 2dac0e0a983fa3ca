"""The event record and the bulk replay API."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import detect as _detect
from . import progress as _progress
from ._kinds import Kind  # noqa: F401  (re-exported: lobkit.Kind)
from ._typing import BookType, CrossPolicy, OnError, TradeSign, UnknownId
from .errors import (
    BY_CODE,
    EventDtypeError,
    EventLayoutError,
    InvalidPriceError,
    InvalidSizeError,
    LobkitError,
)
from .result import ReplayResult
from .units import to_price

if TYPE_CHECKING:
    from ._core import L2Book, L3Book
    from .io.feed import Feed

BID = 1
ASK = -1


#: One event: 40 bytes, aligned, identical to the Rust ``Event`` struct.
#: ``ts`` int64 ns; ``order_id`` uint64 (0 = none); ``price`` int64 ticks;
#: ``size`` int64 lots; ``kind`` uint8 (:class:`Kind`); ``side`` int8
#: (1 bid, -1 ask, 0 none); ``flags`` uint8 (feed-specific, LOBSTER: message type).
EVENT_DTYPE = np.dtype(
    {
        "names": ["ts", "order_id", "price", "size", "kind", "side", "flags"],
        "formats": ["<i8", "<u8", "<i8", "<i8", "u1", "i1", "u1"],
        "offsets": [0, 8, 16, 24, 32, 33, 34],
        "itemsize": 40,
    }
)
assert EVENT_DTYPE.itemsize == _core.EVENT_SIZE


def _to_steps(values: Any, step: float, name: str, cls: type[LobkitError]) -> NDArray[Any]:
    """Float prices/sizes to integer ticks/lots, refusing off-grid values."""
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(v)
    q = np.where(bad, 0.0, v) / step  # NaN/inf are flagged, not computed with
    r = np.rint(q)
    tol = 1e-9 + 64 * np.finfo(np.float64).eps * np.abs(r)
    bad |= np.abs(q - r) > tol
    bad |= np.abs(r) > 2.0**60
    if name == "size":
        bad |= v < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise cls(
            f"event {i}: {name}={v.flat[i]!r} is not on the grid of {name == 'price' and 'tick' or 'lot'}"
            f"_size={step} (or is NaN/inf/negative/out of range)",
            i,
            name,
        )
    return r.astype(np.int64)


def make_events(
    *,
    kind: Any,
    side: Any = 0,
    price: Any = 0,
    size: Any = 0,
    order_id: Any = 0,
    ts: Any = 0,
    flags: Any = 0,
    tick_size: float | None = None,
    lot_size: float | None = None,
) -> NDArray[Any]:
    """Builds an :data:`EVENT_DTYPE` array from columns (scalars broadcast).

    With ``tick_size``/``lot_size``, ``price``/``size`` are in price/size units
    and are converted to ticks/lots; values off the grid raise
    :class:`~lobkit.errors.InvalidPriceError` / :class:`~lobkit.errors.InvalidSizeError`
    naming the event index. Without them, they must already be integers.
    """
    kind_a = np.asarray(kind)
    n = int(np.broadcast(kind_a, np.asarray(side), np.asarray(price), np.asarray(size),
                         np.asarray(order_id), np.asarray(ts)).size)
    out = np.zeros(n, dtype=EVENT_DTYPE)
    p = _to_steps(price, tick_size, "price", InvalidPriceError) if tick_size else price
    q = _to_steps(size, lot_size, "size", InvalidSizeError) if lot_size else size
    for name, col in (("ts", ts), ("kind", kind_a), ("side", side), ("price", p),
                      ("size", q), ("order_id", order_id), ("flags", flags)):
        arr = np.asarray(col)
        if arr.dtype.kind == "f" and name != "ts" and (
                not np.all(np.isfinite(arr)) or not np.all(arr == np.rint(arr))):
            cls = InvalidPriceError if name == "price" else InvalidSizeError
            bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.rint(arr)))
            i = int(bad[0]) if arr.ndim else 0
            raise cls(f"event {i}: {name} must be an integer number of ticks/lots; "
                      f"pass tick_size=/lot_size= to convert from price units", i, name)
        out[name] = arr
    return out


def _int_arg(name: str, v: Any) -> int:
    """An integer argument, or a TypeError naming it (not a comparison error
    from deep inside)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}={v!r}: expected an int")
    return int(v)


def check_events(events: Any, arg: str = "events") -> NDArray[Any]:
    """Validates an events argument: exact dtype, 1-D, C-contiguous."""
    if not isinstance(events, np.ndarray):
        raise EventDtypeError(
            f"{arg}: expected a numpy array of lobkit.EVENT_DTYPE, got {type(events).__name__}; "
            f"build one with lobkit.make_events(...)", None, arg)
    if events.dtype != EVENT_DTYPE:
        raise EventDtypeError(
            f"{arg}: dtype {events.dtype} is not lobkit.EVENT_DTYPE; build the array with "
            f"lobkit.make_events(...) or numpy.zeros(n, dtype=lobkit.EVENT_DTYPE)", None, arg)
    if events.ndim != 1:
        raise EventLayoutError(f"{arg}: expected a 1-D array, got shape {events.shape}; "
                               f"pass {arg}.ravel()", None, arg)
    if not events.flags.c_contiguous:
        raise EventLayoutError(f"{arg}: array is not C-contiguous (a strided view?); "
                               f"pass numpy.ascontiguousarray({arg})", None, arg)
    if len(events) and events.ctypes.data % 8:
        # numpy.frombuffer / memmap at an offset that is not a multiple of 8:
        # ascontiguousarray would return the same unaligned view.
        raise EventLayoutError(f"{arg}: array data is not 8-byte aligned (a view of a buffer at "
                               f"an odd offset?); pass {arg}.copy()", None, arg)
    return events


def replay(
    events: NDArray[Any] | Feed,
    *,
    depth: int = 10,
    book: L2Book | L3Book | None = None,
    book_type: BookType | None = None,
    tick_size: float | None = None,
    lot_size: float | None = None,
    on_error: OnError = "raise",
    check_ts: bool = True,
    unknown_id: UnknownId | None = None,
    cross_policy: CrossPolicy = "allow",
    progress: bool | Any = False,
    chunk: int = 1 << 20,
    signals: bool = False,
    ofi_msg_hidden: bool = False,
    trade_sign: TradeSign = "feed",
    detect: Any = None,
    sample: int | str | None = None,
) -> ReplayResult:
    """Runs ``events`` (an :data:`EVENT_DTYPE` array, or a
    :class:`lobkit.io.Feed` from :func:`lobkit.io.load`, which brings its
    own ``tick_size``, ``lot_size``, ``book_type`` and ``unknown_id``)
    through a book in Rust with the interpreter released, recording the top
    ``depth`` levels after every event. Grids default to 1 for an array.

    ``book``: an existing :class:`L2Book`/:class:`L3Book` to continue from (it
    is updated in place); otherwise a new one of ``book_type`` ('l2' or 'l3';
    default: 'l3' when the events hold any L3 kind) is made with
    ``tick_size``, ``lot_size``, ``unknown_id`` and ``cross_policy``.

    ``on_error='raise'``: the first invalid event raises its typed error
    (naming the event index and field) and the book is left exactly as it was
    before the call. ``on_error='skip'``: invalid events are skipped (the book
    stays as it was before each of them) and counted in ``result.skipped``,
    ``result.skipped_by_kind`` and ``result.skipped_mask``.

    ``signals=True`` adds per-event columns ``imbalance``, ``ofi``, ``ofi_msg``,
    ``signed_volume``, ``weighted_mid`` and (with ``depth > 0``) ``ofi_levels``,
    computed in the same pass. The book's ``ofi_total`` is updated either way.
    ``ofi_msg_hidden``: the message-accounting OFI also counts hidden
    executions (TRADE prints) as market orders. ``trade_sign``: the aggressor
    of ``signed_volume`` — 'feed' (the feed's resting side, Lee–Ready where a
    print has no side), 'lee_ready' or 'tick' (see :mod:`lobkit.signals`).

    ``detect``: True (all detectors, default thresholds), a list of detector
    names, or a dict of options (:data:`lobkit.detect.DEFAULTS`) — adds
    ``result.alerts``; the detectors' state lives on the book and carries
    over to the next call. From a feed, distances count the venue's price
    increments unless ``tick`` is given (:meth:`lobkit.io.Feed.step_ticks`:
    100 book ticks on LOBSTER).

    ``progress=True`` draws a bar on stderr when it is a terminal (tqdm if
    installed, :mod:`lobkit.progress`); a callable gets the number of events
    done. Ctrl-C interrupts between chunks (book restored).

    ``sample``: which events end an output row — None (every event),
    ``"message"`` (one row per feed message: up to an ``F_LAST`` event where
    the feed marks them, never before an ``F_CONTINUES`` one, so a LOBSTER
    message and its corrections are one row per orderbook-file row) or a
    time bin (int ns or ``"100ms"``, ``"1s"``, ``"1min"``; bins aligned to
    multiples of it, empty bins left out). A row holds the book after its
    last event and the flow columns (``ofi``, ``ofi_msg``, ``ofi_levels``,
    ``signed_volume``) summed over its events; ``result.last_event`` gives
    each row's last input position. Memory follows the rows.
    """
    from ._core import L2Book, L3Book
    from .io.feed import Feed

    if isinstance(events, Feed):
        # The feed knows its grid and policies; an argument may repeat them
        # but not contradict them (the events are ticks of the feed's grid).
        feed = events
        for arg, given, own in (("tick_size", tick_size, feed.tick_size),
                                ("lot_size", lot_size, feed.lot_size),
                                ("book_type", book_type, feed.book_type)):
            if given is not None and given != own:
                raise ValueError(f"{arg}={given!r}: the feed's events are on its own "
                                 f"{arg}={own!r}; leave {arg} out")
        if book is not None and (book.tick_size, book.lot_size) != (feed.tick_size,
                                                                   feed.lot_size):
            raise ValueError(f"book: its grid ({book.tick_size}, {book.lot_size}) is not the "
                             f"feed's ({feed.tick_size}, {feed.lot_size})")
        events, tick_size, lot_size = feed.events, feed.tick_size, feed.lot_size
        step_ticks: Any = feed.step_ticks
        clock = (feed.tz, feed.date)
        book_type = None if book is not None else feed.book_type
        unknown_id = unknown_id or feed.unknown_id
    else:
        clock = ("UTC", None)  # an array: ns since the epoch
        step_ticks = None
    tick_size = 1.0 if tick_size is None else tick_size
    lot_size = 1.0 if lot_size is None else lot_size
    unknown_id = unknown_id or "error"
    check_events(events)
    depth, chunk = _int_arg("depth", depth), _int_arg("chunk", chunk)
    if depth < 0:
        raise ValueError(f"depth={depth}: must be >= 0")
    if chunk < 1:
        raise ValueError(f"chunk={chunk}: must be >= 1")
    chunk = min(chunk, 1 << 40)  # a chunk longer than the events is the whole array
    auto = book is None and book_type is None
    if book is None:
        # No type named: an L2 book that stops at the first L3 kind (then
        # an L3 book from the start) — no separate pass over the events.
        book_type = book_type or "l2"
        if book_type == "l2":
            book = L2Book(tick_size=tick_size, lot_size=lot_size, cross_policy=cross_policy)
        elif book_type == "l3":
            book = L3Book(tick_size=tick_size, lot_size=lot_size, cross_policy=cross_policy,
                          unknown_id=unknown_id)
        else:
            raise ValueError(f"book_type={book_type!r}: expected 'l2' or 'l3'")
    cb = _progress.callback(progress, len(events))
    if not isinstance(book, (L2Book, L3Book)):
        raise TypeError(f"book: expected lobkit.L2Book or lobkit.L3Book, got {type(book).__name__}")
    # Everything read from the book is read before the call: once its events
    # are applied nothing here may fail (another thread could hold the book).
    tick, lot = book.tick_size, book.lot_size
    opts = _detect.options(detect)
    if opts is not None and "tick" not in opts and step_ticks is not None:
        # A feed knows its price increment: distances in the venue's steps.
        opts["tick"] = step_ticks()
    sample_ns = parse_sample(sample)
    t0 = time.perf_counter()
    raw = events.view(np.uint8)
    d = _core.replay(book, raw, depth=depth, on_error=on_error, check_ts=check_ts,
                     chunk=chunk, signals=signals, progress=cb, ofi_msg_hidden=ofi_msg_hidden,
                     trade_sign=trade_sign, detect=opts, stop_at_l3=auto,
                     sample_ns=sample_ns)
    if d.get("needs_l3"):
        book = L3Book(tick_size=tick_size, lot_size=lot_size, cross_policy=cross_policy,
                      unknown_id=unknown_id)
        d = _core.replay(book, raw, depth=depth, on_error=on_error, check_ts=check_ts,
                         chunk=chunk, signals=signals, progress=cb, ofi_msg_hidden=ofi_msg_hidden,
                         trade_sign=trade_sign, detect=opts, sample_ns=sample_ns)
    secs = time.perf_counter() - t0
    by_kind = {BY_CODE[i].__name__: c for i, c in enumerate(d["skipped_by_code"]) if c}
    return ReplayResult(
        bid_price=d["bid_price"], bid_size=d["bid_size"], ask_price=d["ask_price"],
        ask_size=d["ask_size"], best_bid_price=d["best_bid_price"],
        best_bid_size=d["best_bid_size"], best_ask_price=d["best_ask_price"],
        best_ask_size=d["best_ask_size"], book_=book, depth=depth, skipped=d["skipped"],
        skipped_mask=(d["skipped_mask"].view(bool) if len(d["skipped_mask"]) == len(events)
                      else np.zeros(len(events), bool)),
        skipped_by_kind=by_kind,
        first_skipped=d.get("first_skipped"), seconds=secs,
        imbalance=d.get("imbalance"), ofi=d.get("ofi"), signed_volume=d.get("signed_volume"),
        weighted_mid=(to_price(d["weighted_mid"], tick) if "weighted_mid" in d else None),
        ofi_levels=d.get("ofi_levels"), ofi_msg=d.get("ofi_msg"),
        alerts=(_detect.to_array(d["alerts"], tick, lot) if opts is not None else None),
        ts=d["ts"], tick_size=tick, lot_size=lot, tz=clock[0], date=clock[1],
        last_event=d.get("last_event"),
    )


def parse_sample(sample: int | str | None) -> int:
    """``replay(sample=)`` for the core: 0 every event, -1 per message, else
    the time bin (ns)."""
    if sample is None or sample == "event":
        return 0
    if sample == "message":
        return -1
    from .profile import bar_ns

    if isinstance(sample, bool):
        raise TypeError(f"sample={sample!r}: expected None, 'message' or a time bin")
    try:
        return bar_ns(sample)
    except ValueError:
        raise ValueError(f"sample={sample!r}: expected None, 'message', int ns >= 1 or a "
                         "duration such as '100ms', '1s', '1min'") from None
