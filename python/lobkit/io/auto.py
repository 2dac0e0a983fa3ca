"""One entry point for every format: :func:`load` (used by the CLI and the
Dask helpers) and :func:`detect_format`."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("lobster", "tardis", "binance", "bybit", "kraken", "bitfinex", "dbn", "csv")
#: What each format needs from the user (printed by ``--help`` and errors).
NEEDS = {
    "lobster": "nothing (LOBSTER prices are $0.0001 units; the orderbook file next to the "
               "message file reconciles hidden depth)",
    "tardis": "--tick-size and --lot-size (e.g. 0.5 and 10 for Deribit BTC-PERPETUAL)",
    "binance": "--tick-size and --lot-size (e.g. 0.1 and 0.001 for USD-M BTCUSDT)",
    "bybit": "--tick-size and --lot-size (e.g. 0.1 and 0.001 for linear BTCUSDT)",
    "kraken": "--symbol PAIR when the capture holds several pairs (grids default to the "
              "printed precision; every CRC32 checksum is verified)",
    "bitfinex": "nothing (R0 raw books; grids default to 1e-8, the finest Bitfinex prints)",
    "dbn": "--tick-size (e.g. 0.25 for CME ES); sizes are contracts",
    "csv": "--tick-size/--lot-size when prices/sizes are not integers (default 1)",
}


@dataclass
class Loaded:
    """Events plus what a replay of them needs."""

    events: np.ndarray
    format: str
    tick_size: float
    lot_size: float
    book_type: str
    unknown_id: str = "error"
    info: dict[str, Any] = field(default_factory=dict)

    def replay_kwargs(self) -> dict[str, Any]:
        return {"tick_size": self.tick_size, "lot_size": self.lot_size,
                "book_type": self.book_type, "unknown_id": self.unknown_id}


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as f:
        raw = f.read(n)
    if raw[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as g:
            return g.read(n)
    return raw


def detect_format(path: str | os.PathLike) -> str:
    """Guesses the format from the name and the first bytes."""
    p = Path(path)
    name = p.name.lower()
    if ".dbn" in name:
        return "dbn"
    head = _head(p)
    if head[:4] == b"PAR1":
        return "csv"
    if "_message_" in name:
        return "lobster"
    first = head.split(b"\n", 1)[0]
    if first.startswith(b"exchange,symbol,timestamp"):
        return "tardis"
    if first.replace(b" ", b"").startswith(b"ts,") and b"kind" in first:
        return "csv"
    if b'"chanId"' in head or (b'"event":"info"' in head and b'"version":2' in head):
        return "bitfinex"
    if b'"book-' in head or b"wss://ws.kraken.com" in head:
        return "kraken"
    if b'"topic"' in head and b"orderbook." in head or b"publicTrade." in head:
        return "bybit"
    if b"depthUpdate" in head or b"lastUpdateId" in head or b"@depth" in head:
        return "binance"
    raise ValueError(f"{path}: cannot tell the format; pass --format (one of {', '.join(FORMATS)})")


def load(path: str | os.PathLike, format: str = "auto", *, tick_size: Any = None,
         lot_size: Any = None, reconcile: bool = True, symbol: str | None = None,
         strict: bool = False) -> Loaded:
    """Reads ``path`` in ``format`` ('auto' guesses) into events plus the
    grids and book type to replay them with."""
    from . import (read_binance, read_bybit, read_dbn, read_events, read_lobster,
                   read_lobster_reconciled, read_tardis)
    from .lobster import _orderbook_path

    fmt = detect_format(path) if format == "auto" else format
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt!r}: expected one of {', '.join(FORMATS)} or 'auto'")

    def need(*names: str) -> None:
        missing = [n for n, v in (("tick_size", tick_size), ("lot_size", lot_size)) if n in names
                   and v is None]
        if missing:
            raise ValueError(f"{fmt} input needs {NEEDS[fmt]}")

    if fmt == "lobster":
        p = Path(path)
        if reconcile and _orderbook_path(p) is not None:
            ev, corr = read_lobster_reconciled(p)
            info = {"corrections": len(corr["row"])}
        else:
            ev, info = read_lobster(p), {}
        return Loaded(ev, fmt, 0.0001, 1.0, "l3", "anonymous", info)
    if fmt == "tardis":
        need("tick_size", "lot_size")
        ev = read_tardis(path, tick_size=tick_size, lot_size=lot_size, symbol=symbol)
        return Loaded(ev, fmt, float(tick_size), float(lot_size), "l2")
    if fmt in ("binance", "bybit"):
        need("tick_size", "lot_size")
        reader = read_binance if fmt == "binance" else read_bybit
        feed = reader(path, tick_size=tick_size, lot_size=lot_size, strict=strict)
        info = {"gaps": len(feed.gaps["got"]), "in_sync": feed.in_sync, **feed.stats}
        return Loaded(feed.events, fmt, float(tick_size), float(lot_size), "l2", info=info)
    if fmt == "kraken":
        from .kraken import read_kraken

        feed = read_kraken(path, pair=symbol, tick_size=tick_size, lot_size=lot_size)
        info = {"pair": feed.extra["pair"], "in_sync": feed.in_sync, **feed.stats}
        return Loaded(feed.events, fmt, feed.tick_size, feed.lot_size, "l2", info=info)
    if fmt == "bitfinex":
        from .bitfinex import read_bitfinex

        t, lot = tick_size or "1e-8", lot_size or "1e-8"
        ev = read_bitfinex(path, tick_size=t, lot_size=lot)
        return Loaded(ev, fmt, float(t), float(lot), "l3")
    if fmt == "dbn":
        need("tick_size")
        ev = read_dbn(path, tick_size=tick_size)
        l3 = bool(np.isin(ev["kind"], [2, 3, 4, 5]).any())
        return Loaded(ev, fmt, float(tick_size), 1.0, "l3" if l3 else "l2")
    ev = read_events(path, tick_size=tick_size or 1, lot_size=lot_size or 1)
    return Loaded(ev, fmt, float(tick_size or 1), float(lot_size or 1),
                  "l3" if np.isin(ev["kind"], [2, 3, 4, 5, 6, 9]).any() else "l2")
