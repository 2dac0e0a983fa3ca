"""Tardis.dev downloadable CSV files (https://docs.tardis.dev/downloadable-csv-files).

Data types and their events (``flags``: :data:`F_LAST` on the last event of
each feed message, :data:`F_SNAPSHOT` on snapshot rows):

========================= ===================================================
Tardis data type          lobkit events
========================= ===================================================
``incremental_book_L2``   one ``SET_LEVEL`` per row (``amount`` is the new
                          absolute size; 0 removes the level). A run of
                          ``is_snapshot=true`` rows after update rows is a
                          fresh snapshot: a ``CLEAR`` comes first.
``trades``                one ``TRADE`` per row; ``side`` is the *resting*
                          side (taker ``buy`` -> -1 ask, ``sell`` -> 1 bid,
                          ``unknown`` -> 0).
``liquidations``          one ``LIQUIDATION`` notice per row; ``side`` the
                          resting side the forced order hits (``buy``: a
                          short liquidated -> -1, ``sell`` -> 1); the price
                          rounded to the nearest tick. Same columns as
                          ``trades``: told by the file name (Tardis names
                          it ``..._liquidations_...``) or ``liquidations=``.
``book_snapshot_25``/``_5`` the ``SET_LEVEL`` events that turn the previous
                          row's top N into this row's (removals first, so
                          the book is never crossed mid-row; an unchanged row
                          adds nothing).
========================= ===================================================

Prices and amounts are read as exact decimals onto ``tick_size`` /
``lot_size``; a value off the grid raises :class:`~lobkit.errors.ParseError`
naming the file, line and column. gzip files (Tardis's ``.csv.gz``) are
read transparently. Timestamps are µs in the file and ns in the events.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from typing import Any

from numpy.typing import NDArray

from .. import _core
from .._events import EVENT_DTYPE
from .._typing import FeedTs
from . import grids
from .feed import Feed
from .files import first_line, grid, line_chunks, read_bytes, with_file


def _liquidations(path: str | os.PathLike[str], liquidations: bool | None) -> bool:
    """A trades-shaped file is ``liquidations`` when told so, or when its
    name says so (Tardis: ``binance-futures_liquidations_2024-08-08_BTCUSDT.csv.gz``)."""
    if liquidations is not None:
        return bool(liquidations)
    return "liquidations" in os.path.basename(os.fspath(path)).lower()


def read_tardis(
    path: str | os.PathLike[str],
    *,
    tick_size: Any,
    lot_size: Any,
    ts: FeedTs = "local",
    symbol: str | None = None,
    liquidations: bool | None = None,
) -> NDArray[Any]:
    """Reads a Tardis CSV (``incremental_book_L2``, ``trades`` or
    ``book_snapshot_N``, told apart by the header) into
    :data:`~lobkit.EVENT_DTYPE` events.

    ``tick_size`` / ``lot_size``: the price and amount grids (e.g. 0.5 and 1
    for Deribit BTC-PERPETUAL, 0.01 and 0.001 for Binance futures BTCUSDT).
    ``ts``: 'local' (Tardis's receive time, the file order; default) or
    'exchange' (the venue's clock, not always monotone). ``symbol``: keep
    only this symbol's rows; without it, a file holding several symbols is
    an error. ``liquidations``: the file is the ``liquidations`` data type
    (default: when its name contains "liquidations"). Replay with the same
    ``tick_size``/``lot_size``; merge book, trades and liquidations files with
    :func:`lobkit.io.merge`.
    """
    data = read_bytes(path)
    liq = _liquidations(path, liquidations)
    _schema, _n, raw = with_file(path, lambda: _core.parse_tardis(
        data, tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size"), ts=ts,
        symbol=symbol, liquidations=liq))
    return raw.view(EVENT_DTYPE)


def tardis_schema(path: str | os.PathLike[str]) -> str:
    """'incremental_book_L2', 'trades', 'liquidations' or 'book_snapshot_N'
    from the file's header (and name)."""
    head = first_line(path)
    liq = _liquidations(path, None)
    schema, n, _ = with_file(path, lambda: _core.parse_tardis(head, tick="1", lot="1",
                                                               liquidations=liq))
    return f"book_snapshot_{n}" if schema == "book_snapshot" else schema


def load(path: str | os.PathLike[str], *, tick_size: Any = None, lot_size: Any = None,
         symbol: str | None = None, liquidations: bool | None = None, **_: Any) -> Feed:
    """A Tardis CSV for :func:`lobkit.io.load`; grids left out are inferred
    (:mod:`lobkit.io.grids`)."""
    ev, exp = grids.parse_fine(
        lambda t, q: read_tardis(path, tick_size=t, lot_size=q, symbol=symbol,
                                 liquidations=liquidations),
        tick_size, lot_size)
    tick = grid(tick_size, "tick_size") if tick_size is not None else None
    lot = grid(lot_size, "lot_size") if lot_size is not None else None
    if exp:
        ev, t2, q2 = grids.coarsen(ev, exp, price=tick is None, size=lot is None)
        tick, lot = tick or t2, lot or q2
    assert tick is not None and lot is not None
    row = first_line(path, 2).split(b"\n")[1:2]
    cols = row[0].split(b",") if row else []
    venue = cols[0].decode() if len(cols) > 1 else None
    sym = symbol or (cols[1].decode() if len(cols) > 1 else None)
    return Feed(ev, "tardis", float(tick), float(lot), "l2", symbol=sym, venue=venue,
                grid="inferred" if exp else "given", tick=tick, lot=lot)


def iter_chunks(path: str | os.PathLike[str], *, chunk_bytes: int, tick_size: Any = None,
                lot_size: Any = None, symbol: str | None = None, ts: FeedTs = "local",
                liquidations: bool | None = None, **_: Any) -> Iterator[NDArray[Any]]:
    """A Tardis CSV in line chunks; the parser carries snapshot runs and the
    held-back end-of-message flag across them."""
    p = _core.TardisStream(tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size"),
                           ts=ts, symbol=symbol,
                           liquidations=_liquidations(path, liquidations))
    for chunk in line_chunks(path, chunk_bytes):
        yield with_file(path, partial(p.feed, chunk)).view(EVENT_DTYPE)
    yield with_file(path, p.finish).view(EVENT_DTYPE)
