"""The result of a :func:`lobkit.replay` and its table forms (pyarrow,
pandas, polars, Parquet), in one module so the result and its tables
depend on nothing but numpy (the table libraries are imported when used).
:mod:`lobkit.frames` documents the table layout and re-exports these.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._typing import Units
from .errors import LobkitError
from .units import to_price

if TYPE_CHECKING:  # the table libraries are optional and imported when used
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from ._core import L2Book, L3Book


@dataclass
class ReplayResult:
    """The book after every event of a :func:`replay`.

    ``bid_price``/``bid_size``/``ask_price``/``ask_size`` are int64 arrays of
    shape (n_events, depth), ticks and lots, best level first; empty levels
    are 0 price and 0 size. ``best_*`` are (n_events,) int64. ``book`` is the
    book after the last event (pass it to the next :func:`replay` to continue).
    """

    bid_price: NDArray[np.int64]
    bid_size: NDArray[np.int64]
    ask_price: NDArray[np.int64]
    ask_size: NDArray[np.int64]
    best_bid_price: NDArray[np.int64]
    best_bid_size: NDArray[np.int64]
    best_ask_price: NDArray[np.int64]
    best_ask_size: NDArray[np.int64]
    #: The book after the last event; ``None`` only for a result rebuilt from
    #: a table (:func:`lobkit.frames.from_table`), where :attr:`book` raises.
    book_: L2Book | L3Book | None
    depth: int
    skipped: int = 0
    skipped_mask: NDArray[Any] | None = None
    skipped_by_kind: dict[str, int] = field(default_factory=dict)
    first_skipped: LobkitError | None = None
    seconds: float = 0.0
    #: With ``signals=True``: level-1 queue imbalance (qb - qa)/(qb + qa) after
    #: each event, float64 in [-1, 1] (positive = buying pressure).
    imbalance: NDArray[Any] | None = None
    #: With ``signals=True``: Cont–Kukanov–Stoikov (2014, eq. 10) OFI e_n of
    #: each event, int64 lots (positive = buying pressure).
    ofi: NDArray[Any] | None = None
    #: With ``signals=True``: size-weighted mid (Pb·qa + Pa·qb)/(qb + qa) after
    #: each event, float64 in price units (NaN when a side is empty).
    weighted_mid: NDArray[Any] | None = None
    #: With ``signals=True``: signed traded volume of each event, int64 lots:
    #: + buyer-initiated, - seller-initiated (aggressor = opposite of the
    #: resting ``side`` of EXECUTE and TRADE events); ``.cumsum()`` is the
    #: cumulative volume delta.
    signed_volume: NDArray[Any] | None = None
    #: With ``signals=True``: message-accounting OFI of each event (CKS 2014,
    #: eq. 4), int64 lots: limit arrivals minus cancels minus market orders at
    #: the touch; hidden prints only with ``ofi_msg_hidden=True``.
    ofi_msg: NDArray[Any] | None = None
    #: With ``detect=``: the detectors' alerts, :data:`lobkit.detect.ALERT_DTYPE`.
    alerts: NDArray[Any] | None = None
    #: With ``signals=True`` and ``depth > 0``: multi-level OFI, the same rule
    #: applied to each of the ``depth`` levels, int64 lots, shape (n, depth).
    ofi_levels: NDArray[Any] | None = None
    #: Event times (int64 ns), one per row.
    ts: NDArray[Any] | None = None
    #: The book's tick and lot sizes (price/size units per tick/lot).
    tick_size: float = 1.0
    lot_size: float = 1.0

    def __len__(self) -> int:
        return len(self.best_bid_price)

    @property
    def book(self) -> L2Book | L3Book:
        """The book after the last event (continue with ``replay(..., book=res.book)``)."""
        if self.book_ is None:
            raise AttributeError("this result was rebuilt from a table (from_table): it has no "
                                 "book; replay the events to get one")
        return self.book_

    @property
    def mid(self) -> NDArray[Any]:
        """(best bid + best ask) / 2 in price units; NaN where a side is empty."""
        ok = (self.best_bid_size > 0) & (self.best_ask_size > 0)
        m = to_price(self.best_bid_price + self.best_ask_price, self.tick_size) * 0.5
        return np.where(ok, m, np.nan)

    @property
    def spread_ticks(self) -> NDArray[Any]:
        """Best ask minus best bid in ticks; 0 where a side is empty."""
        ok = (self.best_bid_size > 0) & (self.best_ask_size > 0)
        return np.where(ok, self.best_ask_price - self.best_bid_price, 0)

    def to_arrow(self, *, units: Units = "ticks") -> pa.Table:
        """A ``pyarrow.Table``, one row per event (see :mod:`lobkit.frames`)."""
        return to_arrow(self, units=units)

    def to_pandas(self, *, units: Units = "ticks") -> pd.DataFrame:
        """A ``pandas.DataFrame``, one row per event (see :mod:`lobkit.frames`)."""
        return to_pandas(self, units=units)

    def to_polars(self, *, units: Units = "ticks") -> pl.DataFrame:
        """A ``polars.DataFrame``, one row per event (see :mod:`lobkit.frames`)."""
        return to_polars(self, units=units)

    def to_parquet(self, path: Any, *, units: Units = "ticks") -> None:
        """Writes the table to Parquet; :func:`lobkit.frames.from_table` reads it back."""
        to_parquet(self, path, units=units)

    def __repr__(self) -> str:
        return (f"ReplayResult(n_events={len(self)}, depth={self.depth}, skipped={self.skipped}, "
                f"book={self.book_!r})")


_BEST = ("best_bid_price", "best_bid_size", "best_ask_price", "best_ask_size")
_LEVELS = ("bid_price", "bid_size", "ask_price", "ask_size")
_SIGNALS = ("imbalance", "ofi", "ofi_msg", "signed_volume", "weighted_mid")
_META = b"lobkit"


def _conv(name: str, a: NDArray[Any], res: ReplayResult, units: str) -> NDArray[Any]:
    if units == "ticks":
        return a
    step = res.tick_size if "price" in name else res.lot_size
    return to_price(a, step)


def result_columns(res: ReplayResult, *, events: NDArray[Any] | None = None,
                   units: Units = "ticks") -> dict[str, NDArray[Any]]:
    """The replay table's columns as a dict of 1-D numpy arrays."""
    if units not in ("ticks", "price"):
        raise ValueError(f"units={units!r}: expected 'ticks' or 'price'")
    cols: dict[str, NDArray[Any]] = {}
    ts = res.ts if events is None else np.ascontiguousarray(events["ts"])
    if ts is not None:
        if len(ts) != len(res):
            raise ValueError(f"events: {len(ts)} rows, the result has {len(res)}")
        cols["ts"] = ts
    for name in _BEST:
        cols[name] = _conv(name, getattr(res, name), res, units)
    for i in range(res.depth):
        for name in _LEVELS:
            cols[f"{name}_{i + 1}"] = _conv(name, getattr(res, name)[:, i], res, units)
    for name in _SIGNALS:
        v = getattr(res, name)
        if v is not None:
            cols[name] = v
    if res.ofi_levels is not None:
        for i in range(res.depth):
            cols[f"ofi_{i + 1}"] = res.ofi_levels[:, i]
    return cols


def _meta(res: ReplayResult, units: str) -> dict[bytes, bytes]:
    return {_META: json.dumps({"tick_size": res.tick_size, "lot_size": res.lot_size,
                               "depth": res.depth, "units": units,
                               "signals": res.ofi is not None}).encode()}


def to_arrow(res: ReplayResult, *, events: NDArray[Any] | None = None,
             units: Units = "ticks") -> pa.Table:
    """A ``pyarrow.Table`` of the replay (see the module docs for the layout)."""
    import pyarrow as pa

    cols = result_columns(res, events=events, units=units)
    t = pa.table({k: pa.array(v) for k, v in cols.items()})
    return t.replace_schema_metadata(_meta(res, units))


def to_pandas(res: ReplayResult, *, events: NDArray[Any] | None = None,
              units: Units = "ticks") -> pd.DataFrame:
    """A ``pandas.DataFrame`` of the replay; ``df.attrs['lobkit']`` holds the
    tick/lot sizes and depth."""
    import pandas as pd

    df: pd.DataFrame = pd.DataFrame(result_columns(res, events=events, units=units), copy=False)
    df.attrs["lobkit"] = json.loads(_meta(res, units)[_META])
    return df


def to_polars(res: ReplayResult, *, events: NDArray[Any] | None = None,
              units: Units = "ticks") -> pl.DataFrame:
    """A ``polars.DataFrame`` of the replay."""
    import polars as pl

    df = pl.from_arrow(to_arrow(res, events=events, units=units))
    if not isinstance(df, pl.DataFrame):  # from_arrow gives a Series for an array
        raise TypeError("to_polars: expected a table")
    return df


def to_parquet(res: ReplayResult, path: str | os.PathLike[str], *, events: NDArray[Any] | None = None,
               units: Units = "ticks",
               compression: Literal["zstd", "snappy", "gzip", "lz4", "brotli", "none"] = "zstd",
               ) -> None:
    """Writes the replay table to Parquet (metadata included)."""
    import pyarrow.parquet as pq

    pq.write_table(to_arrow(res, events=events, units=units), os.fspath(path),
                   compression=compression)


def from_table(table: Any, *, tick_size: float | None = None, lot_size: float | None = None,
               units: Units | None = None) -> ReplayResult:
    """Rebuilds a :class:`~lobkit.ReplayResult` (without its book) from a
    table written by :func:`to_arrow` / :func:`to_pandas` / :func:`to_polars`
    / :func:`to_parquet`: a ``pyarrow.Table``, a pandas or polars DataFrame,
    or a Parquet path. Dtypes come back as they were. polars frames carry no
    metadata: pass ``tick_size``, ``lot_size`` and ``units`` for them."""
    meta: dict[str, Any] = {}
    if isinstance(table, (str, os.PathLike)):
        import pyarrow.parquet as pq

        table = pq.read_table(os.fspath(table))
    mod = type(table).__module__
    if mod.startswith("pyarrow"):
        raw = (table.schema.metadata or {}).get(_META)
        meta = json.loads(raw) if raw else {}
        cols = {n: table.column(n).to_numpy() for n in table.column_names}
    elif mod.startswith("polars"):
        return from_table(table.to_arrow(), tick_size=tick_size, lot_size=lot_size, units=units)
    elif mod.startswith("pandas"):
        meta = dict(table.attrs.get("lobkit", {}))
        cols = {n: table[n].to_numpy() for n in table.columns}
    else:
        raise TypeError(f"expected a pyarrow Table, pandas/polars DataFrame or a path, got "
                        f"{type(table).__name__}")
    tick = tick_size if tick_size is not None else meta.get("tick_size", 1.0)
    lot = lot_size if lot_size is not None else meta.get("lot_size", 1.0)
    units = units or meta.get("units", "ticks")
    depth = 0
    while f"bid_price_{depth + 1}" in cols:
        depth += 1
    n = len(cols["best_bid_price"])

    def back(name: str, a: NDArray[Any]) -> NDArray[np.int64]:
        if units == "ticks":
            return np.ascontiguousarray(a, dtype=np.int64)
        step = tick if "price" in name else lot
        return np.rint(np.asarray(a) / step).astype(np.int64)

    def levels(name: str) -> NDArray[np.int64]:
        if not depth:
            return np.zeros((n, 0), np.int64)
        return np.stack([back(name, cols[f"{name}_{i + 1}"]) for i in range(depth)], axis=1)

    ofi_levels = (np.stack([cols[f"ofi_{i + 1}"] for i in range(depth)], axis=1)
                  if depth and "ofi_1" in cols else None)
    return ReplayResult(
        bid_price=levels("bid_price"), bid_size=levels("bid_size"),
        ask_price=levels("ask_price"), ask_size=levels("ask_size"),
        best_bid_price=back("best_bid_price", cols["best_bid_price"]),
        best_bid_size=back("best_bid_size", cols["best_bid_size"]),
        best_ask_price=back("best_ask_price", cols["best_ask_price"]),
        best_ask_size=back("best_ask_size", cols["best_ask_size"]),
        book_=None, depth=depth, tick_size=tick, lot_size=lot, ts=cols.get("ts"),
        imbalance=cols.get("imbalance"), ofi=cols.get("ofi"), ofi_msg=cols.get("ofi_msg"),
        signed_volume=cols.get("signed_volume"), weighted_mid=cols.get("weighted_mid"),
        ofi_levels=ofi_levels)
