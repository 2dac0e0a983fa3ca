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

from ._kinds import Kind
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
    #: each event, int64 lots (positive = buying pressure). Events flagged
    #: ``F_CONTINUES`` (LOBSTER corrections) carry the rest of their
    #: message's step, so a message's rows sum to eq. 10 between message states.
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
    #: The clock of ``ts``: ns since the epoch (UTC) unless ``date`` is set,
    #: then ns after midnight of ``date`` in ``tz`` (LOBSTER: New York);
    #: tables carry ``ts`` as UTC timestamps either way.
    tz: str = "UTC"
    date: str | None = None
    #: With ``replay(sample=...)``: the input position of each row's last
    #: event (int64); None when every event is a row.
    last_event: NDArray[Any] | None = None

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

    def to_arrow(self, *, units: Units = "price",
                 events: NDArray[Any] | None = None) -> pa.Table:
        """A ``pyarrow.Table``, one row per event (see :mod:`lobkit.frames`)."""
        return to_arrow(self, units=units, events=events)

    def to_pandas(self, *, units: Units = "price",
                 events: NDArray[Any] | None = None) -> pd.DataFrame:
        """A ``pandas.DataFrame``, one row per event (see :mod:`lobkit.frames`)."""
        return to_pandas(self, units=units, events=events)

    def to_polars(self, *, units: Units = "price",
                 events: NDArray[Any] | None = None) -> pl.DataFrame:
        """A ``polars.DataFrame``, one row per event (see :mod:`lobkit.frames`)."""
        return to_polars(self, units=units, events=events)

    def to_parquet(self, path: Any, *, units: Units = "price",
                   events: NDArray[Any] | None = None) -> None:
        """Writes the table to Parquet; :func:`lobkit.frames.from_table` reads it back."""
        to_parquet(self, path, units=units, events=events)

    def __repr__(self) -> str:
        return (f"ReplayResult(n_events={len(self)}, depth={self.depth}, skipped={self.skipped}, "
                f"book={self.book_!r})")


_BEST = ("best_bid_price", "best_bid_size", "best_ask_price", "best_ask_size")
_LEVELS = ("bid_price", "bid_size", "ask_price", "ask_size")
_SIGNALS = ("imbalance", "ofi", "ofi_msg", "signed_volume", "weighted_mid")
_META = b"lobkit"


_COUNTED = ("ofi", "ofi_msg", "signed_volume")  # int64 lots; size units with units='price'
_EVENT_COLS = ("kind", "side", "price", "size", "flags")


def time_origin_ns(res: ReplayResult) -> int:
    """ns since the epoch (UTC) of the result's ``ts == 0``: 0 for epoch
    clocks; midnight of ``res.date`` in ``res.tz`` for session clocks
    (LOBSTER counts ns after midnight New York time)."""
    if res.date is None:
        return 0
    import datetime as dt
    from zoneinfo import ZoneInfo

    d = dt.date.fromisoformat(res.date)
    midnight = dt.datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(res.tz))
    return int(midnight.timestamp()) * 1_000_000_000


def _book_columns(res: ReplayResult, units: str) -> tuple[dict[str, NDArray[Any]],
                                                          dict[str, NDArray[np.bool_]]]:
    """Best and level columns, with the mask of empty levels (null in tables)."""
    cols: dict[str, NDArray[Any]] = {}
    empty: dict[str, NDArray[np.bool_]] = {}

    def put(name: str, a: NDArray[Any], gone: NDArray[np.bool_]) -> None:
        if units == "price":
            step = res.tick_size if "price" in name else res.lot_size
            a = to_price(a, step)
        cols[name] = a
        empty[name] = gone

    for side in ("bid", "ask"):
        gone = getattr(res, f"best_{side}_size") == 0
        put(f"best_{side}_price", getattr(res, f"best_{side}_price"), gone)
        put(f"best_{side}_size", getattr(res, f"best_{side}_size"), gone)
    for i in range(res.depth):
        for side in ("bid", "ask"):
            gone = getattr(res, f"{side}_size")[:, i] == 0
            put(f"{side}_price_{i + 1}", getattr(res, f"{side}_price")[:, i], gone)
            put(f"{side}_size_{i + 1}", getattr(res, f"{side}_size")[:, i], gone)
    # the documented column order: best, then bid_price_i, bid_size_i, ask_price_i, ...
    order = [*_BEST] + [f"{n}_{i + 1}" for i in range(res.depth) for n in _LEVELS]
    return {k: cols[k] for k in order}, {k: empty[k] for k in order}


def result_columns(res: ReplayResult, *, events: NDArray[Any] | None = None,
                   units: Units = "price") -> dict[str, NDArray[Any]]:
    """The replay table's columns as a dict of 1-D numpy arrays (empty
    levels are 0 here; the table functions make them null). ``ts`` is int64
    ns since the epoch, UTC."""
    return _columns(res, events, units)[0]


def _columns(res: ReplayResult, events: NDArray[Any] | None,
             units: str) -> tuple[dict[str, NDArray[Any]], dict[str, NDArray[np.bool_]]]:
    """The columns and, for the book columns, the mask of empty levels."""
    if units not in ("ticks", "price"):
        raise ValueError(f"units={units!r}: expected 'ticks' or 'price'")
    cols: dict[str, NDArray[Any]] = {}
    if events is not None and res.last_event is not None and len(events) != len(res):
        # A sampled replay: the replayed events, one per row — its last one.
        if len(events) <= int(res.last_event[-1]):
            raise ValueError(f"events: {len(events)} rows, but the sampled result's last row "
                             f"ends at event {int(res.last_event[-1])}: pass the replayed events")
        events = events[res.last_event]
    ts = res.ts if events is None else np.ascontiguousarray(events["ts"])
    if ts is not None:
        if len(ts) != len(res):
            raise ValueError(f"events: {len(ts)} rows, the result has {len(res)}")
        origin = time_origin_ns(res)
        cols["ts"] = ts + origin if origin else ts
    if events is not None:
        names = np.array([k.name for k in Kind] + ["UNKNOWN"], dtype=object)
        codes = np.array([int(k) for k in Kind])
        idx = np.searchsorted(codes, events["kind"])
        ok = (idx < len(codes)) & (codes[np.minimum(idx, len(codes) - 1)] == events["kind"])
        cols["kind"] = names[np.where(ok, idx, len(codes))]
        cols["side"] = np.ascontiguousarray(events["side"])
        cols["price"] = (to_price(events["price"], res.tick_size) if units == "price"
                         else np.ascontiguousarray(events["price"]))
        cols["size"] = (to_price(events["size"], res.lot_size) if units == "price"
                        else np.ascontiguousarray(events["size"]))
        cols["flags"] = np.ascontiguousarray(events["flags"])
    if res.last_event is not None:
        cols["last_event"] = np.ascontiguousarray(res.last_event, dtype=np.int64)
    book, empty = _book_columns(res, units)
    cols.update(book)
    for name in _SIGNALS:
        v = getattr(res, name)
        if v is not None:
            cols[name] = to_price(v, res.lot_size) if units == "price" and name in _COUNTED else v
    if res.ofi_levels is not None:
        for i in range(res.depth):
            v = res.ofi_levels[:, i]
            cols[f"ofi_{i + 1}"] = to_price(v, res.lot_size) if units == "price" else v
    return cols, empty


def _meta(res: ReplayResult, units: str) -> dict[bytes, bytes]:
    return {_META: json.dumps({"tick_size": res.tick_size, "lot_size": res.lot_size,
                               "depth": res.depth, "units": units,
                               "signals": res.ofi is not None, "tz": res.tz, "date": res.date,
                               "origin_ns": time_origin_ns(res)}).encode()}


def to_arrow(res: ReplayResult, *, events: NDArray[Any] | None = None,
             units: Units = "price") -> pa.Table:
    """A ``pyarrow.Table`` of the replay, one row per event (see the module
    docs for the layout): ``ts`` is ``timestamp[ns, UTC]``, empty levels are
    null, prices and sizes (and OFI / signed volume) are in price / size
    units with ``units='price'`` (default) or int64 ticks / lots with
    ``units='ticks'``."""
    import pyarrow as pa

    cols, empty = _columns(res, events, units)
    arrays = {}
    for k, v in cols.items():
        if k == "ts":
            arrays[k] = pa.array(v).cast(pa.timestamp("ns", tz="UTC"))
        elif k == "kind":
            arrays[k] = pa.array(v, type=pa.string()).dictionary_encode()
        elif k in empty:
            arrays[k] = pa.array(v, mask=empty[k])
        else:
            arrays[k] = pa.array(v)
    t = pa.table(arrays)
    return t.replace_schema_metadata(_meta(res, units))


def to_pandas(res: ReplayResult, *, events: NDArray[Any] | None = None,
              units: Units = "price") -> pd.DataFrame:
    """A ``pandas.DataFrame`` of the replay (layout of :func:`to_arrow`):
    ``ts`` is ``datetime64[ns, UTC]``, empty levels are NaN (``units='price'``)
    or ``<NA>`` in nullable ``Int64`` columns (``units='ticks'``);
    ``df.attrs['lobkit']`` holds the grid, depth, units and clock."""
    import pandas as pd
    import pyarrow as pa

    t = to_arrow(res, events=events, units=units)
    def nullable(t: pa.DataType) -> Any:  # ticks/lots stay integers, with <NA>
        return pd.Int64Dtype() if units == "ticks" and t == pa.int64() else None

    df: pd.DataFrame = t.to_pandas(types_mapper=nullable)
    df.attrs["lobkit"] = json.loads(_meta(res, units)[_META])
    return df


def to_polars(res: ReplayResult, *, events: NDArray[Any] | None = None,
              units: Units = "price") -> pl.DataFrame:
    """A ``polars.DataFrame`` of the replay (layout of :func:`to_arrow`)."""
    import polars as pl

    df = pl.from_arrow(to_arrow(res, events=events, units=units))
    if not isinstance(df, pl.DataFrame):  # from_arrow gives a Series for an array
        raise TypeError("to_polars: expected a table")
    return df


def to_parquet(res: ReplayResult, path: str | os.PathLike[str], *, events: NDArray[Any] | None = None,
               units: Units = "price",
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
        import pyarrow as pa
        import pyarrow.compute as pc

        raw = (table.schema.metadata or {}).get(_META)
        meta = json.loads(raw) if raw else {}
        cols = {}
        for n in table.column_names:
            c = table.column(n)
            if pa.types.is_timestamp(c.type):
                c = c.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
            elif pa.types.is_dictionary(c.type):
                c = c.cast(pa.string())
            if c.null_count and (pa.types.is_integer(c.type) or pa.types.is_floating(c.type)):
                # an empty level is price 0, size 0; a missing signal value NaN
                book_col = n.startswith(("best_", "bid_", "ask_"))
                c = pc.fill_null(c, 0 if book_col else float("nan"))
            cols[n] = c.to_numpy()
    elif mod.startswith("polars"):
        return from_table(table.to_arrow(), tick_size=tick_size, lot_size=lot_size, units=units)
    elif mod.startswith("pandas"):
        import pyarrow as pa

        meta = dict(table.attrs.get("lobkit", {}))
        rebuilt = from_table(pa.Table.from_pandas(table, preserve_index=False),
                          tick_size=tick_size if tick_size is not None else meta.get("tick_size"),
                          lot_size=lot_size if lot_size is not None else meta.get("lot_size"),
                          units=units or meta.get("units"))
        if meta:
            rebuilt.tz, rebuilt.date = meta.get("tz", "UTC"), meta.get("date")
            if rebuilt.ts is not None:
                rebuilt.ts = rebuilt.ts - int(meta.get("origin_ns", 0))
        return rebuilt
    else:
        raise TypeError(f"expected a pyarrow Table, pandas/polars DataFrame or a path, got "
                        f"{type(table).__name__}")
    tick = tick_size if tick_size is not None else meta.get("tick_size", 1.0)
    lot = lot_size if lot_size is not None else meta.get("lot_size", 1.0)
    units = units or meta.get("units", "price")
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

    def lots(name: str) -> NDArray[Any] | None:
        """A counted signal back to int64 lots (tables in price units carry size units)."""
        v = cols.get(name)
        if v is None or units == "ticks":
            return v
        return np.rint(np.asarray(v, dtype=np.float64) / lot).astype(np.int64)

    ofi_levels = (np.stack([lots(f"ofi_{i + 1}") for i in range(depth)], axis=1)  # type: ignore[misc]
                  if depth and "ofi_1" in cols else None)
    ts = cols.get("ts")
    if ts is not None:
        ts = np.ascontiguousarray(ts, dtype=np.int64) - int(meta.get("origin_ns", 0))
    return ReplayResult(
        bid_price=levels("bid_price"), bid_size=levels("bid_size"),
        ask_price=levels("ask_price"), ask_size=levels("ask_size"),
        best_bid_price=back("best_bid_price", cols["best_bid_price"]),
        best_bid_size=back("best_bid_size", cols["best_bid_size"]),
        best_ask_price=back("best_ask_price", cols["best_ask_price"]),
        best_ask_size=back("best_ask_size", cols["best_ask_size"]),
        book_=None, depth=depth, tick_size=tick, lot_size=lot, ts=ts,
        imbalance=cols.get("imbalance"), ofi=lots("ofi"), ofi_msg=lots("ofi_msg"),
        signed_volume=lots("signed_volume"), weighted_mid=cols.get("weighted_mid"),
        ofi_levels=ofi_levels, tz=meta.get("tz", "UTC"), date=meta.get("date"),
        last_event=(np.ascontiguousarray(cols["last_event"], dtype=np.int64)
                    if "last_event" in cols else None))
