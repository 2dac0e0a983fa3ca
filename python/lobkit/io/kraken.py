"""Kraken websocket v1 order books (``book-N``) with CRC32 checksums.

Each update's checksum is verified against the book as rebuilt (Kraken's
rule: top 10 asks then top 10 bids, price and volume strings without '.'
and leading zeros, CRC32). After every message the book is truncated to
the subscribed depth N, as Kraken requires. A mismatch emits a ``CLEAR``
flagged :data:`~lobkit.io.F_BAD_BOOK` and drops updates until the next
snapshot — never a silently wrong book.

Capture lines are ``<recv_ts_seconds>: <json>`` (cryptofeed's raw-data
format); other lines are skipped. Event times are the receive times (ns).
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
from ..errors import ParseError
from .feed import DepthFeed, Feed, checksum_error
from .files import grid, line_chunks, read_bytes, with_file
from .keeper import Keeper

log: logging.Logger = logging.getLogger(__name__)


def _printed_grid(data: bytes, pair: str) -> tuple[str, str]:
    """10^-d for the decimals Kraken prints for ``pair``'s prices and volumes."""
    m = re.search(rb'\[\s*"(\d+\.?(\d*))"\s*,\s*"(\d+\.?(\d*))"[^\]]*\]\]?\}[^\n]*"'
                  + re.escape(pair.encode()) + rb'"\]', data)
    if not m:
        raise ParseError(f"no book message for pair {pair!r}: not in the file", None, "symbol")
    dp, dq = len(m.group(2)), len(m.group(4))
    return (f"1e-{dp}" if dp else "1"), (f"1e-{dq}" if dq else "1")


def read_kraken(path: str | os.PathLike[str], *, symbol: str | None = None, tick_size: Any = None,
                lot_size: Any = None, strict: bool = False) -> DepthFeed:
    """Reads one pair's book from a Kraken capture, verifying every checksum.

    ``symbol``: the pair, e.g. 'XBT/USD' (the keyword every loader uses);
    may be left out when the file holds one pair.
    ``tick_size`` / ``lot_size``: default to the precision Kraken prints for
    the pair (e.g. 1e-5 and 1e-8 for XBT/USD), which is always exact.
    Returns a :class:`~lobkit.io.DepthFeed`; ``gaps`` holds checksum
    mismatches (``event_index``, ``line``, ``expected``, ``got``) and
    ``stats`` counts verified checksums.
    """
    data = read_bytes(path)
    if symbol is None:
        pairs = sorted(set(re.findall(rb'"book-\d+","([^"]+)"\]', data)))
        if len(pairs) != 1:
            raise ParseError(f"{path}: the file holds {len(pairs)} pairs "
                             f"({', '.join(p.decode() for p in pairs[:10])}); pass symbol=",
                             None, "symbol")
        the_pair = pairs[0].decode()
    else:
        the_pair = symbol
    if tick_size is None or lot_size is None:
        tp, tl = with_file(path, lambda: _printed_grid(data, the_pair))
        tick_size = tp if tick_size is None else tick_size
        lot_size = tl if lot_size is None else lot_size
    raw, mism, stats, pairs, in_sync = with_file(path, lambda: _core.parse_kraken(
        data, pair=the_pair, tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size")))
    if strict and len(mism["got"]):
        raise checksum_error(path, mism, 0)
    if len(mism["got"]):
        log.warning("%s: %d checksum mismatch(es), the first at line %d; the book is out of "
                    "sync from each to the next snapshot (feed.gaps lists them)", path,
                    len(mism["got"]), int(mism["line"][0]))
    if the_pair not in pairs:
        raise ParseError(f"{path}: pair {the_pair!r} not in the file (it has {', '.join(pairs)})",
                         None, "symbol")
    ev = raw.view(EVENT_DTYPE)
    return DepthFeed(ev, np.zeros(len(ev), np.uint64), mism, {}, stats, in_sync,
                     float(tick_size), float(lot_size), extra={"pair": the_pair, "pairs": pairs})


class KrakenDepth(Keeper):
    """Streaming Kraken ``book-N`` keeper for one pair (``symbol``, e.g.
    ``"XBT/USD"``): feed websocket
    messages as they arrive, get the events to apply; every checksum is
    verified. A mismatch emits a flagged ``CLEAR`` (``in_sync`` turns False
    until the next snapshot: resubscribe), or raises
    :class:`~lobkit.errors.ChecksumError` with ``strict=True``.
    ``tick_size``/``lot_size``: the printed precision of the pair (e.g.
    ``'1e-5'`` and ``'1e-8'`` for XBT/USD)."""

    _log = log
    _s: _core.KrakenSync

    def __init__(self, symbol: str, *, tick_size: Any, lot_size: Any, strict: bool = False,
                 book: Any = None):
        self._keep(_core.KrakenSync(pair=symbol, tick=grid(tick_size, "tick_size"),
                                    lot=grid(lot_size, "lot_size")),
                   tick_size, lot_size, strict, book)

    def _problem(self, new: int) -> Exception:
        m = self._s.mismatches
        return checksum_error("kraken stream", m, len(m["got"]) - new)

    def _synced_message(self) -> str:
        return "kraken stream: in sync (snapshot applied, checksums verified from here)"

    @property
    def checksum(self) -> int:
        """Kraken's CRC32 of the current book."""
        return self._s.checksum

    @property
    def mismatches(self) -> dict[str, Any]:
        return self._s.mismatches

    @property
    def stats(self) -> dict[str, Any]:
        return self._s.stats


def load(path: str | os.PathLike[str], *, tick_size: Any = None, lot_size: Any = None,
         symbol: str | None = None, strict: bool = False, **_: Any) -> Feed:
    """A Kraken capture for :func:`lobkit.io.auto.load` (``symbol`` = pair)."""
    feed = read_kraken(path, symbol=symbol, tick_size=tick_size, lot_size=lot_size, strict=strict)
    info = {"pair": feed.extra["pair"], "in_sync": feed.in_sync, **feed.stats}
    inferred = tick_size is None or lot_size is None
    return Feed(feed.events, "kraken", feed.tick_size, feed.lot_size, "l2", info=info,
                symbol=feed.extra["pair"], venue="kraken",
                grid="inferred" if inferred else "given", gaps=feed.gaps)


def iter_chunks(path: str | os.PathLike[str], *, chunk_bytes: int, tick_size: Any = None,
                lot_size: Any = None, symbol: str | None = None, strict: bool = False,
                **_: Any) -> Iterator[NDArray[Any]]:
    """A Kraken capture in line chunks (checksums verified across them);
    without the pair and both grids the file is read whole, since they come
    from its content."""
    if symbol is None or tick_size is None or lot_size is None:
        yield read_kraken(path, symbol=symbol, tick_size=tick_size, lot_size=lot_size,
                          strict=strict).events
        return
    k = _core.KrakenSync(pair=symbol, tick=grid(tick_size, "tick_size"),
                         lot=grid(lot_size, "lot_size"))
    for chunk in line_chunks(path, chunk_bytes):
        raw, new = with_file(path, partial(k.feed_lines, chunk))
        if new and strict:
            m = k.mismatches
            raise checksum_error(path, m, len(m["got"]) - new)
        yield raw.view(EVENT_DTYPE)
    if k.stats.get("messages", 0) == 0:
        # As the whole-file reader: a pair the file never books is an error,
        # not an empty stream.
        raise ParseError(f"{path}: pair {symbol!r} not in the file (it has "
                         f"{', '.join(k.pairs) or 'no book messages'})", None, "pair")
