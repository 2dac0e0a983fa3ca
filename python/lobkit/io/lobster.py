"""LOBSTER (lobsterdata.com) message/orderbook files.

Message file columns: time (s after midnight, up to 9 decimals, parsed
exactly to ns), type, order id, size (shares), price (dollars × 10000),
direction (1 = bid, -1 = ask; the side of the *resting* order).

Mapping to lobkit events (``flags`` keeps the LOBSTER type):

==== ======================== =================================================
type LOBSTER                  lobkit event
==== ======================== =================================================
1    new limit order          ``ADD``
2    partial cancel           ``CANCEL`` (size removed)
3    full delete              ``DELETE``
4    visible execution        ``EXECUTE`` (side = resting side)
5    hidden execution (id 0)  ``TRADE`` (book unchanged; real volume for trade flow)
6    cross trade              ``TRADE``
7    trading halt             ``HALT`` (price column holds -1/0/1, not a price)
==== ======================== =================================================

Orders that rest from before the file starts: with an orderbook file (or an
explicit ``initial`` snapshot), the book as it stood *before* the first
message (orderbook row 0 with message 0 undone) is emitted as ``SEED`` events
of anonymous liquidity. Replay with ``unknown_id='anonymous'`` so that
cancels/executions of ids never added consume that seeded volume.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._events import EVENT_DTYPE
from ..errors import ParseError
from .feed import Feed
from .files import first_line, read_bytes, with_file

#: Empty-level marker in orderbook files (ask; bids use the negative).
EMPTY_PRICE = 9_999_999_999


def find_orderbook(message_path: Path) -> Path | None:
    name = message_path.name
    if "message" not in name:
        return None
    cand = message_path.with_name(name.replace("message", "orderbook"))
    return cand if cand.exists() else None


def read_lobster_orderbook(path: str | os.PathLike[str]) -> NDArray[Any]:
    """An orderbook file as an int64 array (rows, 4 × levels) in LOBSTER units
    (price = dollars × 10000), columns ask_p, ask_s, bid_p, bid_s per level."""
    data = read_bytes(path)
    return with_file(path, lambda: _core.parse_lobster_orderbook(data))


def read_lobster(
    message_path: str | os.PathLike[str],
    orderbook_path: str | os.PathLike[str] | None = "auto",
    *,
    tick: int = 1,
    initial: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """Reads a LOBSTER message file into an :data:`~lobkit.EVENT_DTYPE` array.

    ``tick``: the tick in LOBSTER price units (dollars × 10000). The default 1
    keeps LOBSTER's own integer prices, so nothing is ever rounded: hidden
    executions (type 5) of midpoint orders print at half-cent prices
    (GOOG 2012-06-21 has 50 such rows). ``tick=100`` ($0.01, NASDAQ's visible
    tick) gives cent ticks, and any off-grid price then raises
    :class:`~lobkit.errors.ParseError` naming the line. Replay with
    ``tick_size=tick / 10000`` to get dollar prices back.

    ``orderbook_path``: 'auto' finds the matching ``*_orderbook_*`` file next
    to the message file; its first row seeds the book (see the module docs).
    ``initial``: an explicit seed instead, one orderbook row (4 × L ints in
    LOBSTER units). ``None`` for both: no seed (unknown ids then need
    ``unknown_id='skip'`` or fail).

    Timestamps are ns after midnight, exact.
    """
    message_path = Path(message_path)
    first_row: NDArray[np.int64] | None = None
    if initial is not None:
        first_row = np.ascontiguousarray(initial, dtype=np.int64).ravel()
    elif orderbook_path is not None:
        ob_path = find_orderbook(message_path) if orderbook_path == "auto" else Path(orderbook_path)
        if ob_path is not None:
            first_row = _first_row(ob_path)
    data = read_bytes(message_path)
    raw, _n_seed = with_file(
        message_path, lambda: _core.parse_lobster_messages(data, tick=tick, first_row=first_row))
    return raw.view(EVENT_DTYPE)


#: ``flags`` bit of events synthesised from the orderbook file by reconciliation.
FLAG_RECONCILE = 0x80
#: Correction reasons (see :func:`read_lobster_reconciled`).
REASON_UNEXPLAINED, REASON_OUT_OF_WINDOW, REASON_UNKNOWN_ID = 0, 1, 2


def read_lobster_reconciled(
    message_path: str | os.PathLike[str],
    orderbook_path: str | os.PathLike[str] | None = "auto",
    *,
    tick: int = 1,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]]]:
    """Reads a message file and makes its replay reproduce the orderbook file
    row by row.

    LOBSTER reports only events inside the requested top-L price window, so
    liquidity that changed outside it (orders added while deeper than level
    L, or a deep level that surfaces after the levels above it empty) appears
    in the orderbook file with no message. After each message whose book
    differs from its orderbook row, correction events flagged
    :data:`FLAG_RECONCILE` are inserted: ``SEED`` to add anonymous lots,
    ``CANCEL`` with ``order_id`` 0 to remove anonymous lots (or a real id, newest
    first, when no anonymous lots are left).

    Returns ``(events, corrections)``; ``corrections`` holds equal-length
    arrays ``row``, ``side``, ``price`` (ticks), ``delta`` (shares) and
    ``reason``, why the message file could not have shown the change:

    * 1 (:data:`REASON_OUT_OF_WINDOW`): the level was outside the previous
      row's visible window (worse than its L-th level);
    * 2 (:data:`REASON_UNKNOWN_ID`): the row's message removed volume at that
      level under an id the file never added while the level was visible —
      NASDAQ replaced the order (new id, same price and size), which changes
      nothing visible, so LOBSTER wrote no message for it;
    * 0 (:data:`REASON_UNEXPLAINED`): none of these — a replay bug or a data
      defect. None occurs in the shipped samples (tested).

    Replay with ``unknown_id='anonymous'``.
    """
    message_path = Path(message_path)
    ob_path = find_orderbook(message_path) if orderbook_path == "auto" else orderbook_path
    if ob_path is None:
        raise FileNotFoundError(f"no orderbook file found next to {message_path}; pass orderbook_path=")
    ob = np.ascontiguousarray(read_lobster_orderbook(ob_path))
    data = read_bytes(message_path)
    raw, n_seed = with_file(
        message_path, lambda: _core.parse_lobster_messages(data, tick=tick, first_row=ob[0].copy()))
    out, corr = with_file(message_path, lambda: _core.lobster_reconcile(
        raw, n_seed=n_seed, orderbook=ob, tick=tick))
    return out.view(EVENT_DTYPE), corr


def message_rows(events: NDArray[Any]) -> NDArray[Any]:
    """Indices of the events that are LOBSTER messages (not seeds or corrections),
    i.e. the event after which orderbook row k holds is ``message_rows(ev)[k]``."""
    f = events["flags"]
    return np.flatnonzero((f >= 1) & (f <= 7))


def _first_row(path: Path) -> NDArray[np.int64]:
    line = first_line(path)
    rows = with_file(path, lambda: _core.parse_lobster_orderbook(line))
    if len(rows) == 0:
        raise ParseError(f"{path}: the orderbook file is empty (it needs one row per message)",
                         None, "orderbook")
    row: NDArray[np.int64] = np.ascontiguousarray(rows[0], dtype=np.int64)
    return row


def lobster_book_columns(orderbook: NDArray[Any], tick: int = 1) -> dict[str, NDArray[Any]]:
    """Splits an orderbook array into ``ask_price``, ``ask_size``, ``bid_price``,
    ``bid_size`` arrays of shape (rows, levels), prices in ticks, with empty
    levels as price 0 / size 0 — the layout of :class:`lobkit.ReplayResult`."""
    ap, asz, bp, bsz = (orderbook[:, i::4] for i in range(4))
    empty_a = (asz == 0) | (ap == EMPTY_PRICE)
    empty_b = (bsz == 0) | (bp == -EMPTY_PRICE)
    return {
        "ask_price": np.where(empty_a, 0, ap // tick),
        "ask_size": np.where(empty_a, 0, asz),
        "bid_price": np.where(empty_b, 0, bp // tick),
        "bid_size": np.where(empty_b, 0, bsz),
    }


def load(path: str | os.PathLike[str], *, reconcile: bool = True, **_: Any) -> Feed:
    """A LOBSTER message file for :func:`lobkit.io.auto.load`: reconciled
    with the orderbook file beside it when there is one. LOBSTER prices are
    $0.0001 units; unknown ids (orders resting before the file starts) are
    anonymous liquidity."""
    p = Path(path)
    if reconcile and find_orderbook(p) is not None:
        ev, corr = read_lobster_reconciled(p)
        info = {"corrections": len(corr["row"])}
    else:
        ev, info = read_lobster(p), {}
    # TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv: ts counts ns after
    # midnight New York time of that date.
    m = re.match(r"([A-Za-z0-9.]+)_(\d{4}-\d{2}-\d{2})_\d+_\d+_message_", p.name)
    return Feed(ev, "lobster", 0.0001, 1.0, "l3", "anonymous", info,
                symbol=m[1] if m else None, venue="NASDAQ", tz="America/New_York",
                date=m[2] if m else None, grid="format", tick="0.0001", lot="1",
                price_step=0.01)
