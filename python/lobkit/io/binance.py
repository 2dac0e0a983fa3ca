"""Binance depth streams: REST snapshot + diff-depth, synchronised exactly.

The procedure is Binance's own ("How to manage a local order book
correctly", spot and USD-M futures): buffer diffs until a snapshot, drop the
diffs the snapshot already holds, apply the one that bridges it, then demand
an unbroken chain of update ids (spot ``U == last u + 1``, futures
``pu == last u``). A break is a **gap**: the loader emits a ``CLEAR`` flagged
:data:`~lobkit.io.F_BAD_BOOK` (the book is emptied, never silently wrong), records it in
``gaps``, and the book stays out of sync until the next snapshot. With
``strict=True`` a gap raises :class:`~lobkit.errors.SequenceGapError`.

Events: snapshots are ``CLEAR`` + ``SET_LEVEL`` flagged :data:`~lobkit.io.F_SNAPSHOT`;
each diff entry is a ``SET_LEVEL`` (absolute size; 0 removes the level,
removals first within a message); trades are ``TRADE`` on the resting side
(``m`` true: the buyer was the maker, so the resting side is the bid). The
last event of every message carries :data:`~lobkit.io.F_LAST` — read the book there.
bookTicker messages change nothing and come back as ``tickers``, the venue's
own BBO after update ``u``, for checking the replay.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._events import EVENT_DTYPE
from .._typing import FeedTs
from . import grids
from .feed import DepthFeed, Feed, gap_error
from .files import grid, line_chunks, read_bytes, with_file
from .keeper import Keeper

log: logging.Logger = logging.getLogger(__name__)


def read_binance(
    path: str | os.PathLike[str],
    *,
    tick_size: Any = None,
    lot_size: Any = None,
    ts: FeedTs = "local",
    strict: bool = False,
    venue: str = "binance",
) -> DepthFeed:
    """Reads a Binance capture (spot or USD-M futures): one message per line,
    ``<receive_ts_ns> <json>`` (hftbacktest's collector format) or bare JSON,
    combined-stream (``{"stream", "data"}``) or raw payloads, gzip or plain.

    ``tick_size`` / ``lot_size``: the symbol's price and quantity grids
    (decimal strings are exact, e.g. ``'0.01'``, ``'0.00000001'``); left
    out, the coarsest power of ten holding every price / quantity of the
    file (:mod:`lobkit.io.grids`; the feed's ``extra['grid']`` says which).
    ``ts``: 'local' (receive time, the file order; default) or 'exchange'
    (``E``; trades ``T``). ``strict``: raise at the first gap.
    ``venue='bybit'`` reads Bybit v5 ``orderbook.N.SYMBOL`` snapshot/delta
    and ``publicTrade`` messages instead (see :func:`read_bybit`).
    """
    data = read_bytes(path)

    def parse(tick: Any, lot: Any) -> Any:
        return with_file(path, lambda: _core.parse_depth(
            data, tick=grid(tick, "tick_size"), lot=grid(lot, "lot_size"), ts=ts, venue=venue))

    (raw, ids, gaps, tickers, stats, in_sync), exp = grids.parse_fine(parse, tick_size, lot_size)
    if strict and len(gaps["got"]):
        raise gap_error(path, gaps, 0)
    if len(gaps["got"]):
        log.warning("%s: %d sequence gap(s), the first at message %d; the book is empty and "
                    "out of sync from each gap to the next snapshot (feed.gaps lists them)",
                    path, len(gaps["got"]), int(gaps["message"][0]))
    ev = raw.view(EVENT_DTYPE)
    tick = grid(tick_size, "tick_size") if tick_size is not None else None
    lot = grid(lot_size, "lot_size") if lot_size is not None else None
    if exp:
        # One step per quantity for the events and the bookTicker quotes alike.
        ev = ev.copy()
        tickers = dict(tickers)
        found: dict[str, str] = {}
        for field, given in (("price", tick), ("size", lot)):
            if given is not None:
                continue
            cols = (f"bid_{field}", f"ask_{field}")
            step = grids.power_of_ten_step(
                np.concatenate([ev[field], *(tickers[c] for c in cols)]), exp)
            ev[field] //= step
            for c in cols:
                tickers[c] = tickers[c] // step
            found[field] = grids.decimal(step, exp)
        tick, lot = tick or found.get("price"), lot or found.get("size")
    assert tick is not None and lot is not None
    m = re.search(rb'"s"\s*:\s*"([A-Za-z0-9_-]+)"', data[:1 << 16])
    return DepthFeed(ev, ids, gaps, tickers, stats, in_sync, float(tick), float(lot),
                     extra={"tick": tick, "lot": lot,
                            "grid": "inferred" if exp and (tick_size is None or lot_size is None)
                            else "given",
                            "symbol": m[1].decode().upper() if m else None})


class BinanceDepth(Keeper):
    """Streaming synchroniser: feed messages as they arrive (REST snapshot,
    diff-depth, trades, bookTicker).

    With ``book=`` (an :class:`~lobkit.L2Book` on the same grid) the keeper
    owns the book: each :meth:`on_message` parses the message and applies
    its events to the book as one message (all or nothing; readers of the
    book see it whole) and returns how many events it applied:

    >>> book = lobkit.L2Book(tick_size=0.01, lot_size=0.00001)
    >>> sync = BinanceDepth(tick_size="0.01", lot_size="0.00001", book=book)
    >>> sync.on_message(ws_message_bytes)                    # doctest: +SKIP
    >>> book.best_bid                                         # doctest: +SKIP

    Without a book it returns the events, for the caller to apply or store.

    ``in_sync`` is False until a snapshot bridges the buffered diffs and
    again after a gap until the next snapshot (fetch one then). If the book
    refuses a message's events (a timestamp before the book's last, a
    crossing update under ``cross_policy="reject"``) the error is raised, the
    book is as before that message, and the keeper waits for a new snapshot.
    """

    venue = "binance"
    _log = log
    _s: _core.DepthSync

    def __init__(self, *, tick_size: Any, lot_size: Any, ts: FeedTs = "local", strict: bool = False,
                 book: Any = None):
        self._keep(_core.DepthSync(tick=grid(tick_size, "tick_size"),
                                   lot=grid(lot_size, "lot_size"), ts=ts, venue=self.venue),
                   tick_size, lot_size, strict, book)

    def _problem(self, new: int) -> Exception:
        g = self._s.gaps
        return gap_error(f"{self.venue} stream", g, len(g["got"]) - new)

    def _synced_message(self) -> str:
        return f"{self.venue} stream: in sync from update id {self._s.last_update_id}"

    @property
    def last_update_id(self) -> int | None:
        """Last applied update id (or the snapshot's), None when out of sync."""
        return self._s.last_update_id

    @property
    def buffered(self) -> int:
        """Diffs waiting for a snapshot."""
        return self._s.buffered

    @property
    def gaps(self) -> dict[str, NDArray[Any]]:
        """Every gap so far (arrays, see :class:`DepthFeed`)."""
        return self._s.gaps

    @property
    def stats(self) -> dict[str, int]:
        return self._s.stats

    def take_tickers(self) -> dict[str, NDArray[Any]]:
        """bookTicker messages since the last call (the newest 10,000 are
        kept between calls, so an undrained stream stays bounded)."""
        return self._s.take_tickers()


def read_bybit(path: str | os.PathLike[str], *, tick_size: Any, lot_size: Any, ts: FeedTs = "local",
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


def load_depth(path: str | os.PathLike[str], *, venue: str, tick_size: Any = None,
               lot_size: Any = None, strict: bool = False, **_: Any) -> Feed:
    """A Binance or Bybit capture for :func:`lobkit.io.auto.load`."""
    feed = read_binance(path, tick_size=tick_size, lot_size=lot_size, strict=strict, venue=venue)
    info = {"gaps": len(feed.gaps["got"]), "in_sync": feed.in_sync, **feed.stats}
    return Feed(feed.events, venue, feed.tick_size, feed.lot_size, "l2", info=info,
                symbol=feed.extra["symbol"], venue=venue, grid=feed.extra["grid"],
                tick=feed.extra["tick"], lot=feed.extra["lot"], gaps=feed.gaps)


def iter_depth(path: str | os.PathLike[str], *, venue: str, chunk_bytes: int, tick_size: Any = None,
               lot_size: Any = None, ts: FeedTs = "local", strict: bool = False,
               **_: Any) -> Iterator[NDArray[Any]]:
    """A Binance or Bybit capture in line chunks, the sync state carried
    across them (for :func:`lobkit.io.iter_events`)."""
    s = _core.DepthSync(tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size"),
                        ts=ts, venue=venue)
    for chunk in line_chunks(path, chunk_bytes):
        raw, _ids, new_gaps = with_file(path, partial(s.feed_lines, chunk))
        if new_gaps and strict:
            raise gap_error(path, s.gaps, len(s.gaps["got"]) - new_gaps)
        yield raw.view(EVENT_DTYPE)
