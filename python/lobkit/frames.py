"""Replay results and books as the tables of the Python data ecosystem:
pyarrow, pandas, polars and Parquet. Each library is imported only when
used (``pip install lobkit[arrow]``, ``[pandas]``, ``[polars]``).

Layout of a replay table, one row per event:

* ``ts`` (int64 ns, when the events were given);
* ``best_bid_price``, ``best_bid_size``, ``best_ask_price``,
  ``best_ask_size``;
* per level i = 1..depth: ``bid_price_i``, ``bid_size_i``, ``ask_price_i``,
  ``ask_size_i`` (empty levels are 0);
* with ``signals=True``: ``imbalance``, ``ofi``, ``ofi_msg``,
  ``signed_volume``, ``weighted_mid``, and ``ofi_i`` per level.

``units='ticks'`` (default) keeps prices and sizes as int64 ticks and lots,
exactly; ``units='price'`` gives float64 price and size units. The tick and
lot sizes, depth and units travel in the Arrow schema metadata, so
:func:`from_table` rebuilds the :class:`~lobkit.ReplayResult` arrays with the
same dtypes. The 1-D int64/float64 columns are handed to Arrow without a
copy; the per-level columns are strided slices of (n, depth) arrays and are
copied.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ._events import ReplayResult
from .units import to_price

_BEST = ("best_bid_price", "best_bid_size", "best_ask_price", "best_ask_size")
_LEVELS = ("bid_price", "bid_size", "ask_price", "ask_size")
_SIGNALS = ("imbalance", "ofi", "ofi_msg", "signed_volume", "weighted_mid")
_META = b"lobkit"


def _conv(name: str, a: np.ndarray, res: ReplayResult, units: str) -> np.ndarray:
    if units == "ticks":
        return a
    step = res.tick_size if "price" in name else res.lot_size
    return to_price(a, step)


def result_columns(res: ReplayResult, *, events: np.ndarray | None = None,
                   units: str = "ticks") -> dict[str, np.ndarray]:
    """The replay table's columns as a dict of 1-D numpy arrays."""
    if units not in ("ticks", "price"):
        raise ValueError(f"units={units!r}: expected 'ticks' or 'price'")
    cols: dict[str, np.ndarray] = {}
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


def to_arrow(res: ReplayResult, *, events: np.ndarray | None = None, units: str = "ticks"):
    """A ``pyarrow.Table`` of the replay (see the module docs for the layout)."""
    import pyarrow as pa

    cols = result_columns(res, events=events, units=units)
    t = pa.table({k: pa.array(v) for k, v in cols.items()})
    return t.replace_schema_metadata(_meta(res, units))


def to_pandas(res: ReplayResult, *, events: np.ndarray | None = None, units: str = "ticks"):
    """A ``pandas.DataFrame`` of the replay; ``df.attrs['lobkit']`` holds the
    tick/lot sizes and depth."""
    import pandas as pd

    df = pd.DataFrame(result_columns(res, events=events, units=units), copy=False)
    df.attrs["lobkit"] = json.loads(_meta(res, units)[_META])
    return df


def to_polars(res: ReplayResult, *, events: np.ndarray | None = None, units: str = "ticks"):
    """A ``polars.DataFrame`` of the replay."""
    import polars as pl

    return pl.from_arrow(to_arrow(res, events=events, units=units))


def to_parquet(res: ReplayResult, path: str | os.PathLike, *, events: np.ndarray | None = None,
               units: str = "ticks", compression: str = "zstd") -> None:
    """Writes the replay table to Parquet (metadata included)."""
    import pyarrow.parquet as pq

    pq.write_table(to_arrow(res, events=events, units=units), os.fspath(path),
                   compression=compression)


def from_table(table: Any, *, tick_size: float | None = None, lot_size: float | None = None,
               units: str | None = None) -> ReplayResult:
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

    def back(name: str, a: np.ndarray) -> np.ndarray:
        if units == "ticks":
            return np.ascontiguousarray(a)
        step = tick if "price" in name else lot
        return np.rint(np.asarray(a) / step).astype(np.int64)

    lv = {name: (np.stack([back(name, cols[f"{name}_{i + 1}"]) for i in range(depth)], axis=1)
                 if depth else np.zeros((n, 0), np.int64)) for name in _LEVELS}
    ofi_levels = (np.stack([cols[f"ofi_{i + 1}"] for i in range(depth)], axis=1)
                  if depth and "ofi_1" in cols else None)
    return ReplayResult(
        **lv, **{name: back(name, cols[name]) for name in _BEST}, book=None, depth=depth,
        tick_size=tick, lot_size=lot, ts=cols.get("ts"),
        **{name: cols.get(name) for name in _SIGNALS}, ofi_levels=ofi_levels)


def book_frame(book: Any, levels: int = 10, *, units: str = "price"):
    """A book (``L2Book``, ``L3Book`` or an engine ``Snapshot``) as a pandas
    DataFrame, one row per level: ``side`` ('bid'/'ask'), ``level``
    (1 = best), ``price``, ``size`` — float64 price/size units, or int64
    ticks/lots with ``units='ticks'``."""
    import pandas as pd

    if units == "ticks":
        if hasattr(book, "bids_ticks"):
            bids, asks = np.asarray(book.bids_ticks), np.asarray(book.asks_ticks)
        else:
            bids = np.rint(np.asarray(book.bids(levels)) / [book.tick_size, book.lot_size])
            asks = np.rint(np.asarray(book.asks(levels)) / [book.tick_size, book.lot_size])
        dtype = np.int64
    elif units == "price":
        if callable(getattr(book, "bids", None)):
            bids, asks = book.bids(levels), book.asks(levels)
        else:
            bids, asks = book.bids, book.asks
        dtype = np.float64
    else:
        raise ValueError(f"units={units!r}: expected 'ticks' or 'price'")
    bids = np.asarray(bids).reshape(-1, 2)[:levels]
    asks = np.asarray(asks).reshape(-1, 2)[:levels]
    return pd.DataFrame({
        "side": pd.Categorical(["bid"] * len(bids) + ["ask"] * len(asks), categories=["bid", "ask"]),
        "level": np.r_[np.arange(1, len(bids) + 1), np.arange(1, len(asks) + 1)].astype(np.int64),
        "price": np.r_[bids[:, 0], asks[:, 0]].astype(dtype),
        "size": np.r_[bids[:, 1], asks[:, 1]].astype(dtype),
    })
