"""One entry point for every format: :func:`load` (used by the CLI and the
Dask helpers), :func:`iter_events` (files larger than memory) and
:func:`detect_format`. Both dispatch through one registry, :data:`REGISTRY`:
each format module owns its whole-file loader and, where the format allows,
its chunked reader."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from .._typing import FeedTs, FormatName
from . import binance, bitfinex, dbn, kraken, lobster, table, tardis
from .feed import Feed, Loaded
from .files import head
from .sources import Source, local_path

__all__ = ["FORMATS", "LIQUIDATION_FILES", "NEEDS", "REGISTRY", "Format", "Loaded",
           "detect_format", "iter_events", "load"]


@dataclass(frozen=True)
class Format:
    """One input format: what it needs from the user, its whole-file loader
    and its chunked reader (None: read whole, e.g. LOBSTER, whose
    reconciliation needs the orderbook file, and Bitfinex, one JSON document)."""

    name: str
    needs: str
    load: Callable[..., Feed]
    iter_chunks: Callable[..., Iterator[NDArray[Any]]] | None = None
    #: Keyword arguments the chunked reader cannot do without (a whole-file
    #: load infers them; a stream cut in chunks must be told).
    requires: tuple[str, ...] = ()

    def check(self, **given: Any) -> None:
        """Raises the format's 'needs' message when a required argument is missing."""
        if any(given.get(r) is None for r in self.requires):
            raise ValueError(f"{self.name} input needs {self.needs}")


GRIDS = ("tick_size", "lot_size")

REGISTRY: dict[str, Format] = {f.name: f for f in (
    Format("lobster", "nothing (LOBSTER prices are $0.0001 units; the orderbook file next to the "
           "message file reconciles hidden depth)", lobster.load),
    Format("tardis", "grids inferred from the file, or --tick-size/--lot-size (e.g. 0.5 and 10 for Deribit BTC-PERPETUAL; chunked reads need them)",
           tardis.load, tardis.iter_chunks, GRIDS),
    Format("binance", "grids inferred from the file, or --tick-size/--lot-size (e.g. 0.1 and 0.001 for USD-M BTCUSDT; chunked reads need them)",
           partial(binance.load_depth, venue="binance"),
           partial(binance.iter_depth, venue="binance"), GRIDS),
    Format("bybit", "grids inferred from the file, or --tick-size/--lot-size (e.g. 0.1 and 0.001 for linear BTCUSDT; chunked reads need them)",
           partial(binance.load_depth, venue="bybit"), partial(binance.iter_depth, venue="bybit"),
           GRIDS),
    Format("kraken", "--symbol PAIR when the capture holds several pairs (grids default to the "
           "printed precision; every CRC32 checksum is verified)", kraken.load, kraken.iter_chunks),
    Format("bitfinex", "nothing (R0 raw books; grids inferred from the printed decimals)",
           bitfinex.load),
    Format("dbn", "the tick inferred from the prices (or --tick-size, e.g. 0.25 for CME ES; chunked reads need it); sizes are contracts", dbn.load,
           dbn.iter_chunks, ("tick_size",)),
    Format("csv", "--tick-size/--lot-size when prices/sizes are not integers (default 1)",
           table.load, table.iter_chunks),
)}

#: Format names, in the order the CLI lists them.
FORMATS = tuple(REGISTRY)
#: What each format needs from the user (printed by ``--help`` and errors).
NEEDS = {name: f.needs for name, f in REGISTRY.items()}


def detect_format(path: str | os.PathLike[str]) -> str:
    """Guesses the format from the name and the first bytes."""
    p = Path(path)
    name = p.name.lower()
    if ".dbn" in name:
        return "dbn"
    h = head(p)
    if h[:4] == b"PAR1":
        return "csv"
    if "_message_" in name:
        return "lobster"
    first = h.split(b"\n", 1)[0]
    if first.startswith(b"exchange,symbol,timestamp"):
        return "tardis"
    if first.replace(b" ", b"").startswith(b"ts,") and b"kind" in first:
        return "csv"
    if b'"chanId"' in h or (b'"event":"info"' in h and b'"version":2' in h):
        return "bitfinex"
    if b'"book-' in h or b"wss://ws.kraken.com" in h:
        return "kraken"
    if b'"topic"' in h and b"orderbook." in h or b"publicTrade." in h:
        return "bybit"
    if b"depthUpdate" in h or b"lastUpdateId" in h or b"@depth" in h:
        return "binance"
    raise ValueError(f"{path}: cannot tell the format; pass --format (one of {', '.join(FORMATS)})")


def _format(path: str | os.PathLike[str], format: str) -> Format:
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in REGISTRY:
        raise ValueError(f"format={fmt!r}: expected one of {', '.join(FORMATS)} or 'auto'")
    return REGISTRY[fmt]


#: Formats whose trades-shaped files may be a liquidations stream (the
#: ``liquidations=`` argument); Binance and Bybit captures carry
#: ``forceOrder`` / ``liquidation`` messages beside the book and need no flag.
LIQUIDATION_FILES = ("tardis",)


def _liquidation_kw(fmt: Format, liquidations: bool | None) -> dict[str, Any]:
    """``liquidations=`` for the loaders that take it; a clear error for the
    formats that have no liquidations file type (rather than ignoring it)."""
    if liquidations is None:
        return {}
    if fmt.name not in LIQUIDATION_FILES:
        raise ValueError(
            f"liquidations={liquidations!r}: {fmt.name} input has no liquidations file type "
            f"(only {', '.join(LIQUIDATION_FILES)}; Binance and Bybit captures parse "
            "forceOrder / liquidation messages by themselves)")
    return {"liquidations": bool(liquidations)}


def load(source: Source, format: FormatName | None = None, *, tick_size: Any = None,
         lot_size: Any = None, symbol: str | None = None, reconcile: bool = True,
         strict: bool = False, name: str | None = None,
         liquidations: bool | None = None) -> Feed:
    """Reads any supported format into a :class:`~lobkit.io.Feed`: the
    events plus the grid, book type and policies a replay needs, so that
    ``lobkit.replay(feed)`` is the whole job.

    ``source``: a path, a binary file object, bytes, or a URL fsspec can
    open (``s3://bucket/key``, ``https://...``; needs ``fsspec``). ``name``
    names bytes / file objects when their format must be told from the name
    (e.g. a LOBSTER ``..._message_10.csv``). ``format``: one of
    :data:`FORMATS`, or None to tell it from the name and first bytes.
    ``tick_size`` / ``lot_size``: the grids; left out, the format's own
    (LOBSTER $0.0001 / 1 share, Kraken's printed precision) or the coarsest
    grid holding every value in the file exactly (Binance, Bybit, Tardis,
    DBN, Bitfinex; see :mod:`lobkit.io.grids`). ``symbol``: the instrument
    to keep from a file holding several (Kraken pair, Tardis symbol).
    ``reconcile``: LOBSTER — reconcile with the orderbook file beside the
    message file. ``strict``: raise at the first sequence gap / checksum
    mismatch instead of recording it in ``feed.gaps``. ``liquidations``:
    Tardis — the file is a ``liquidations`` stream (each row a
    ``LIQUIDATION`` notice) or not; None tells it from the file name.

        feed = lobkit.io.load("GOOG_2012-06-21_34200000_57600000_message_10.csv.gz")
        res = lobkit.replay(feed, depth=10)
    """
    with local_path(source, name=name) as path:
        f = _format(path, format or "auto")
        feed = f.load(path, tick_size=tick_size, lot_size=lot_size, reconcile=reconcile,
                      symbol=symbol, strict=strict, **_liquidation_kw(f, liquidations))
    feed.source = source if isinstance(source, str) else (
        os.fspath(source) if isinstance(source, os.PathLike) else None)
    return feed


def iter_events(path: str | os.PathLike[str], format: FormatName = "auto", *, chunk_bytes: int = 1 << 26,
                tick_size: Any = None, lot_size: Any = None, symbol: str | None = None,
                ts: FeedTs = "local", strict: bool = False,
                liquidations: bool | None = None) -> Iterator[NDArray[Any]]:
    """Yields :data:`~lobkit.EVENT_DTYPE` arrays, about ``chunk_bytes`` of
    input each (some may be empty), whose concatenation is exactly what the
    whole-file loader returns. Arguments as for :func:`load`. Formats read
    whole (LOBSTER, Bitfinex) come as one array. For Binance/Bybit,
    ``strict=True`` raises :class:`~lobkit.errors.SequenceGapError` at a gap.

        book = lobkit.L2Book(tick_size=0.5, lot_size=10)
        for ev in iter_events("deribit_incremental_book_L2_2020-04-01.csv.gz", "tardis",
                              tick_size=0.5, lot_size=10):
            lobkit.replay(ev, book=book, depth=0)
    """
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes={chunk_bytes}: must be positive")
    f = _format(path, format)
    liq = _liquidation_kw(f, liquidations)
    f.check(tick_size=tick_size, lot_size=lot_size)
    if f.iter_chunks is None:
        yield f.load(path, tick_size=tick_size, lot_size=lot_size, symbol=symbol,
                     strict=strict, **liq).events
        return
    yield from f.iter_chunks(path, chunk_bytes=chunk_bytes, tick_size=tick_size,
                             lot_size=lot_size, symbol=symbol, ts=ts, strict=strict, **liq)
