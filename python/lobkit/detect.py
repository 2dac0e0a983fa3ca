"""Spoofing, layering, phantom liquidity, iceberg, quote-stuffing,
depth-collapse, sweep, delta-divergence, liquidation-cascade and absorption
detection (Rust state machines, ``rust/core/src/detect/``).

Bulk: ``lobkit.replay(events, detect=True)`` (or a list of detector names, or
a dict of options) returns ``result.alerts``, a structured array of
:data:`ALERT_DTYPE`. Streaming: :func:`enable` on a book, feed it with
``book.apply_event(...)`` (or bulk replays), and :func:`alerts` returns the
alerts raised since the last call. Options and defaults: :data:`DEFAULTS`
(thresholds documented with their reasoning in ``rust/core/src/detect/mod.rs``);
distances are in price steps of ``tick`` book ticks (LOBSTER: ``tick=100``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import _core

if TYPE_CHECKING:
    from ._core import L2Book, L3Book

#: A streaming book type (``enable`` returns the book it was given).
BookT = TypeVar("BookT", "L2Book", "L3Book")
from .units import to_price

#: Alert kind names by code (``ALERT_KINDS[alert["kind"]]``).
ALERT_KINDS: tuple[str, ...] = tuple(_core.alert_kind_names())
DETECTORS = ALERT_KINDS[1:]
#: Width of ``kind_name`` (the longest name).
_NAME = f"U{max(map(len, ALERT_KINDS))}"

#: Every option as ``(name, type, default, min, max)``: the core's one
#: option table (``rust/core/src/detect/options.rs``), read here so the
#: Python names, defaults and ranges cannot drift from what the core accepts.
OPTIONS: tuple[tuple[str, str, Any, float, float], ...] = tuple(_core.detect_options())

#: Every option with its default value.
DEFAULTS: dict[str, Any] = {o[0]: o[2] for o in OPTIONS}

#: One alert: ``ts`` ns; ``kind`` code and ``kind_name``; ``side`` 1/-1/0
#: (a sweep or a liquidation cascade: the aggressor, 1 buyer / -1 seller;
#: a delta divergence: the way it points, -1 at highs, +1 at lows; an
#: absorption: the absorbing, resting side);
#: ``price`` (price units) and ``price_ticks``; ``order_id`` (0 when not an
#: order); ``score`` in (0, 1]; evidence: ``size`` (size units: the order,
#: the layers, the phantom increase, the hidden/refilled volume, the cancels
#: of a quote-stuffing burst, the depth lost in a collapse), ``size_ratio``
#: (× typical size; quote stuffing: message rate / its rolling mean; depth
#: collapse: fraction of the window's peak lost, so the peak is
#: ``size / size_ratio``), ``lifetime_ns``, ``fill_frac`` (quote stuffing:
#: trades / messages), ``opp_volume`` (size units executed on the other side
#: meanwhile), ``price_move`` (mid move in price steps, + = in the suspicious
#: side's favour; 0 where not measured), ``count`` (orders / levels /
#: messages / refills; 0 for depth collapse), ``event_index`` (the completing
#: event: the input row in a bulk replay, the book's event counter when
#: streaming).
ALERT_DTYPE = np.dtype([
    ("ts", "<i8"), ("kind", "u1"), ("kind_name", _NAME), ("side", "i1"), ("price", "<f8"),
    ("price_ticks", "<i8"), ("order_id", "<u8"), ("score", "<f8"), ("size", "<f8"),
    ("size_ratio", "<f8"), ("lifetime_ns", "<i8"), ("fill_frac", "<f8"), ("opp_volume", "<f8"),
    ("price_move", "<f8"), ("count", "<i8"), ("event_index", "<i8"),
])


def options(detect: Any) -> dict[str, Any] | None:
    """Normalises a ``detect=`` argument: None/False = off, True = all with
    defaults, a list of names = only those, a dict = option overrides."""
    if detect is None or detect is False:
        return None
    if detect is True:
        return {}
    if isinstance(detect, dict):
        unknown = set(detect) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown detector option(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        return dict(detect)
    names = [detect] if isinstance(detect, str) else list(detect)
    bad = [n for n in names if n not in DETECTORS]
    if bad:
        raise ValueError(f"unknown detector(s) {bad}; known: {list(DETECTORS)}")
    return {n: (n in names) for n in DETECTORS}


def to_array(cols: dict[str, NDArray[Any]], tick_size: float, lot_size: float) -> NDArray[Any]:
    """Alert columns from the core (ticks/lots) to :data:`ALERT_DTYPE`."""
    n = len(cols["ts"])
    out = np.zeros(n, ALERT_DTYPE)
    for f in ("ts", "kind", "side", "price_ticks", "order_id", "score", "size_ratio",
              "lifetime_ns", "fill_frac", "price_move", "count", "event_index"):
        out[f] = cols[f]
    out["price"] = to_price(cols["price_ticks"], tick_size)
    out["size"] = cols["size_lots"] * lot_size
    out["opp_volume"] = cols["opp_volume_lots"] * lot_size
    out["kind_name"] = np.asarray(ALERT_KINDS, dtype=_NAME)[cols["kind"]]
    return out


def enable(book: BookT, detect: Any = True, **kw: Any) -> BookT:
    """Turns detectors on for a streaming book (``detect`` as in
    :func:`options`, plus keyword overrides). Returns the book."""
    opts = options(detect) or {}
    opts.update(kw)
    options(opts)  # validates names
    book._enable_detect(opts)
    return book


def alerts(book: L2Book | L3Book) -> NDArray[np.void]:
    """Alerts the book raised since the last call (streaming), as
    :data:`ALERT_DTYPE`."""
    return to_array(book._take_alerts(), book.tick_size, book.lot_size)


def flush(book: L2Book | L3Book) -> NDArray[np.void]:
    """The end of a stream: raises the alerts the detectors hold for a later
    event — every L3 spoofing and layering alert for ``collapse_window_ns``
    + 0.4 s (1.4 s) after its pull (an order pulled during a depth collapse,
    from just before its peak depth to just after its alert, is part of it,
    not a spoof), a spoofing alert up to ``layer_window_ns`` while a stack's
    layering alert may still name it, an L2 sweep whose ``sweep_gap_ns`` has
    not passed — and
    returns every pending alert, as :func:`alerts` does. After a bulk replay:
    ``lobkit.detect.flush(res.book)``."""
    book._flush_detect()
    return alerts(book)


def summary(a: NDArray[Any]) -> dict[str, int]:
    """Alert counts by kind name."""
    names, counts = np.unique(a["kind_name"], return_counts=True)
    return {str(k): int(c) for k, c in zip(names, counts)}
