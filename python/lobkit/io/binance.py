"""Binance depth streams: REST snapshot + diff-depth, synchronised exactly.

The procedure is Binance's own ("How to manage a local order book
correctly", spot and USD-M futures): buffer diffs until a snapshot, drop the
diffs the snapshot already holds, apply the one that bridges it, then demand
an unbroken chain of update ids (spot ``U == last u + 1``, futures
``pu == last u``). A break is a **gap**: the loader emits a ``CLEAR`` flagged
:data:`F_BAD_BOOK` (the book is emptied, never silently wrong), records it in
``gaps``, and the book stays out of sync until the next snapshot. With
``strict=True`` a gap raises :class:`~lobkit.errors.SequenceGapError`.

Events: snapshots are ``CLEAR`` + ``SET_LEVEL`` flagged :data:`F_SNAPSHOT`;
each diff entry is a ``SET_LEVEL`` (absolute size; 0 removes the level,
removals first within a message); trades are ``TRADE`` on the resting side
(``m`` true: the buyer was the maker, so the resting side is the bid). The
last event of every message carries :data:`F_LAST` — read the book there.
bookTicker messages change nothing and come back as ``tickers``, the venue's
own BBO after update ``u``, for checking the replay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _core
from .._events import EVENT_DTYPE
from ..errors import SequenceGapError
from ._common import grid, read_bytes, with_file

#: ``flags`` bit of the ``CLEAR`` emitted at a sequence gap (Databento's
#: ``F_MAYBE_BAD_BOOK``): the book is empty and out of sync until a snapshot.
F_BAD_BOOK = 0x04


@dataclass
class DepthFeed:
    """A synchronised depth capture.

    ``events``: :data:`~lobkit.EVENT_DTYPE`. ``update_id``: per event, the
    update id of the message it came from (diff ``u``, snapshot
    ``lastUpdateId``, trade id). ``gaps``: arrays ``event_index``,
    ``message``, ``expected``, ``got``, ``ts``. ``tickers``: the feed's BBO
    messages (``update_id``, ``ts``, ``bid_price``/``ask_price`` ticks,
    ``bid_size``/``ask_size`` lots). ``stats``: message counts.
    ``in_sync``: whether the book was in sync at the end of the file.
    """

    events: np.ndarray
    update_id: np.ndarray
    gaps: dict[str, np.ndarray]
    tickers: dict[str, np.ndarray]
    stats: dict[str, int]
    in_sync: bool
    tick_size: float = 1.0
    lot_size: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def synced(self) -> np.ndarray:
        """Per event, True where the book (after that event) is in sync with
        the venue: after the first snapshot and not between a gap and the
        next snapshot."""
        f = self.events["flags"]
        k = self.events["kind"]
        mark = np.zeros(len(f), np.int8)
        mark[(k == 8) & ((f & 0x20) != 0)] = 1  # snapshot reset
        mark[(k == 8) & ((f & F_BAD_BOOK) != 0)] = -1  # gap
        state = np.maximum.accumulate(np.where(mark != 0, np.arange(len(f)), -1))
        return (state >= 0) & (mark[np.maximum(state, 0)] == 1)


def _gap_error(path: Any, g: dict, i: int) -> SequenceGapError:
    return SequenceGapError(
        f"{path}: sequence gap at message {int(g['message'][i])}: expected update id "
        f"{int(g['expected'][i])}, got {int(g['got'][i])} (the book is out of sync until "
        f"the next snapshot; pass strict=False to record gaps and continue)",
        int(g["event_index"][i]), "update_id", expected=int(g["expected"][i]),
        got=int(g["got"][i]))


def read_binance(
    path: str | os.PathLike,
    *,
    tick_size: Any,
    lot_size: Any,
    ts: str = "local",
    strict: bool = False,
    venue: str = "binance",
) -> DepthFeed:
    """Reads a Binance capture (spot or USD-M futures): one message per line,
    ``<receive_ts_ns> <json>`` (hftbacktest's collector format) or bare JSON,
    combined-stream (``{"stream", "data"}``) or raw payloads, gzip or plain.

    ``tick_size`` / ``lot_size``: the symbol's price and quantity grids
    (decimal strings are exact, e.g. ``'0.01'``, ``'0.00000001'``).
    ``ts``: 'local' (receive time, the file order; default) or 'exchange'
    (``E``; trades ``T``). ``strict``: raise at the first gap.
    ``venue='bybit'`` reads Bybit v5 ``orderbook.N.SYMBOL`` snapshot/delta
    and ``publicTrade`` messages instead (see :func:`read_bybit`).
    """
    data = read_bytes(path)
    raw, ids, gaps, tickers, stats, in_sync = with_file(path, lambda: _core.parse_depth(
        data, tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size"), ts=ts, venue=venue))
    if strict and len(gaps["got"]):
        raise _gap_error(path, gaps, 0)
    return DepthFeed(raw.view(EVENT_DTYPE), ids, gaps, tickers, stats, in_sync,
                     float(tick_size), float(lot_size))


class BinanceDepth:
    """Streaming synchroniser: feed messages as they arrive (REST snapshot,
    diff-depth, trades, bookTicker), get back the events to apply.

    >>> sync = BinanceDepth(tick_size="0.01", lot_size="0.00001")
    >>> events = sync.on_message(ws_message_bytes)          # doctest: +SKIP
    >>> lobkit.replay(events, book=book, depth=0)             # doctest: +SKIP

    ``in_sync`` is False until a snapshot bridges the buffered diffs and
    again after a gap until the next snapshot (fetch one then).
    """

    venue = "binance"

    def __init__(self, *, tick_size: Any, lot_size: Any, ts: str = "local", strict: bool = False):
        self._s = _core.DepthSync(tick=grid(tick_size, "tick_size"),
                                  lot=grid(lot_size, "lot_size"), ts=ts, venue=self.venue)
        self.strict = strict

    def on_message(self, message: bytes | str, recv_ts: int = 0) -> np.ndarray:
        """Events produced by one message (often none while buffering)."""
        if isinstance(message, str):
            message = message.encode()
        raw, new_gaps = self._s.on_message(message, recv_ts)
        if new_gaps and self.strict:
            g = self._s.gaps
            raise _gap_error("stream", g, len(g["got"]) - new_gaps)
        return raw.view(EVENT_DTYPE)

    @property
    def in_sync(self) -> bool:
        """True when the emitted events reproduce the venue's book."""
        return self._s.in_sync

    @property
    def last_update_id(self) -> int | None:
        """Last applied update id (or the snapshot's), None when out of sync."""
        return self._s.last_update_id

    @property
    def buffered(self) -> int:
        """Diffs waiting for a snapshot."""
        return self._s.buffered

    @property
    def gaps(self) -> dict[str, np.ndarray]:
        """Every gap so far (arrays, see :class:`DepthFeed`)."""
        return self._s.gaps

    @property
    def stats(self) -> dict[str, int]:
        return self._s.stats

    def take_tickers(self) -> dict[str, np.ndarray]:
        """bookTicker messages since the last call (the newest 10,000 are
        kept between calls, so an undrained stream stays bounded)."""
        return self._s.take_tickers()


def read_bybit(path: str | os.PathLike, *, tick_size: Any, lot_size: Any, ts: str = "local",
               strict: bool = False) -> DepthFeed:
    """Reads Bybit v5 messages (one per line, optionally ``<receive_ts_ns> ``
    first): ``orderbook.N.SYMBOL`` snapshots reset the book, deltas must
    continue the update id ``u`` by one (a delta with ``u == 1`` is a
    snapshot after a service restart), a break is a gap as for Binance
    (flagged ``CLEAR``, out of sync until the next snapshot);
    ``publicTrade.SYMBOL`` entries become ``TRADE`` events on the resting side.
    ``ts='exchange'`` uses the message ``ts`` (trades ``T``), in ms."""
    return read_binance(path, tick_size=tick_size, lot_size=lot_size, ts=ts, strict=strict,
                        venue="bybit")


class BybitDepth(BinanceDepth):
    """Streaming Bybit v5 book keeper (same interface as :class:`BinanceDepth`)."""

    venue = "bybit"
