"""The plain event table: CSV or Parquet, one row per lobkit event.

========== ======== ============================================================
column     required content
========== ======== ============================================================
``ts``     yes      integer ns
``kind``   yes      code 1..11 or name (``set_level``, ``add``, ``cancel``,
                    ``delete``, ``modify``, ``execute``, ``trade``, ``clear``,
                    ``seed``, ``halt``, ``liquidation``; any case)
``side``   yes      ``1``/``bid``/``b``, ``-1``/``ask``/``a``, ``0``/empty
``price``  yes      price units (a decimal on the ``tick_size`` grid)
``size``   yes      size units (a decimal on the ``lot_size`` grid)
``order_id`` no     unsigned integer; 0 or empty = none
``flags``  no       integer 0..255
========== ======== ============================================================

Columns may be in any order; others are ignored. :func:`write_events` writes
this layout, and :func:`read_events` reads it back to the identical array.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._events import EVENT_DTYPE, make_events
from .._kinds import Kind
from ..errors import LobkitError, ParseError
from ..units import to_price

if TYPE_CHECKING:
    import pyarrow as pa
from .feed import Feed
from .files import grid, line_chunks, read_bytes, with_file

_KIND_NAMES = {k.name.lower(): int(k) for k in Kind}
#: The core's side spellings (lower case) -> 1 / -1 / 0: the same table the
#: CSV parser and the books' ``side=`` arguments use.
_SIDE_NAMES = {name.lower(): code for name, code in _core.side_names()}


def _is_parquet(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def read_events(path: str | os.PathLike[str], *, tick_size: Any = 1, lot_size: Any = 1) -> NDArray[Any]:
    """Reads an event table (CSV, optionally gzip'd, or Parquet) into
    :data:`~lobkit.EVENT_DTYPE` events. Prices/sizes are converted exactly
    onto the grids; a value off the grid raises
    :class:`~lobkit.errors.ParseError` naming the file, line (CSV) or row
    (Parquet) and the column."""
    path = Path(os.fspath(path))
    if _is_parquet(path):
        return _read_parquet(path, tick_size, lot_size)
    data = read_bytes(path)
    raw = with_file(path, lambda: _core.parse_event_table(
        data, tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size")))
    return raw.view(EVENT_DTYPE)


def _read_parquet(path: Path, tick_size: Any, lot_size: Any) -> NDArray[Any]:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading Parquet needs pyarrow: pip install pyarrow") from None
    return _read_parquet_table(pq.read_table(path), path, tick_size, lot_size)


def _read_parquet_table(t: Any, path: Path, tick_size: Any, lot_size: Any) -> NDArray[Any]:
    names = set(t.column_names)
    missing = [c for c in ("ts", "kind", "side", "price", "size") if c not in names]
    if missing:
        raise ParseError(f"{path}: missing columns {missing}; the table has {sorted(names)}",
                         None, missing[0])
    col = {c: t.column(c).to_numpy(zero_copy_only=False) for c in names}
    kind = col["kind"]
    if kind.dtype.kind in "OUS":
        codes = np.array([_KIND_NAMES.get(str(k).lower(), 0) for k in kind], dtype=np.int64)
        bad = np.flatnonzero(codes == 0)
        if len(bad):
            raise ParseError(f"{path}: row {bad[0]}: unknown kind {kind[bad[0]]!r}", int(bad[0]), "kind")
        kind = codes
    side = col["side"]
    if side.dtype.kind in "OUS":
        side = np.array([_SIDE_NAMES.get(str(s).lower(), 9) for s in side], dtype=np.int64)
        bad = np.flatnonzero(side == 9)
        if len(bad):
            raise ParseError(f"{path}: row {bad[0]}: side must be bid/ask/0", int(bad[0]), "side")
    try:
        return make_events(
            ts=col["ts"], kind=kind, side=side, price=col["price"], size=col["size"],
            order_id=col.get("order_id", 0), flags=col.get("flags", 0),
            tick_size=None if _unit(tick_size) else float(tick_size),
            lot_size=None if _unit(lot_size) else float(lot_size))
    except ParseError:
        raise
    except Exception as e:  # InvalidPriceError etc.: name the file too
        if isinstance(e, LobkitError):
            raise type(e)(f"{path}: {e}", e.index, e.field) from None
        raise


def events_from_table(table: Any, *, tick_size: Any = 1, lot_size: Any = 1) -> NDArray[Any]:
    """Events from a table in the event-table layout: a ``pyarrow.Table``,
    a pandas or polars DataFrame (kinds and sides as names or codes, prices
    and sizes in units, converted exactly onto the grids)."""
    import pyarrow as pa

    mod = type(table).__module__
    if mod.startswith("pandas"):
        table = pa.Table.from_pandas(table, preserve_index=False)
    elif mod.startswith("polars"):
        table = table.to_arrow()
    elif not mod.startswith("pyarrow"):
        raise TypeError(f"expected a pyarrow Table or a pandas/polars DataFrame, got "
                        f"{type(table).__name__}")
    return _read_parquet_table(table, Path("<table>"), tick_size, lot_size)


def events_to_arrow(events: NDArray[Any], *, tick_size: float = 1.0,
                    lot_size: float = 1.0) -> pa.Table:
    """Events as a ``pyarrow.Table`` in the event-table layout (price and
    size in units; the integer columns are not copied)."""
    import pyarrow as pa

    return pa.table({k: pa.array(v) for k, v in
                     events_table(events, tick_size=tick_size, lot_size=lot_size).items()})


def _unit(x: Any) -> bool:
    return str(x) in ("1", "1.0")


def events_table(events: NDArray[Any], *, tick_size: float = 1.0, lot_size: float = 1.0) -> dict[str, Any]:
    """Events as columns of the table layout: price/size in units (float64
    when the grid is fractional, int64 otherwise), kind as names."""
    price = (events["price"] if _unit(tick_size) else to_price(events["price"], tick_size))
    size = (events["size"] if _unit(lot_size) else to_price(events["size"], lot_size))
    names = np.array([k.name.lower() for k in Kind])
    return {
        "ts": np.ascontiguousarray(events["ts"]), "kind": names[np.clip(events["kind"].astype(np.int64) - 1, 0, len(names) - 1)],
        "side": events["side"].astype(np.int8), "price": price, "size": size,
        "order_id": events["order_id"], "flags": events["flags"],
    }


def write_events(events: NDArray[Any], path: str | os.PathLike[str], *, tick_size: float = 1.0,
                 lot_size: float = 1.0) -> None:
    """Writes events as an event table: Parquet when ``path`` ends in
    ``.parquet`` (needs pyarrow), CSV otherwise (``.gz`` compresses).
    Prices/sizes are written in units with ``repr`` precision, so
    :func:`read_events` with the same grids gives back the same array."""
    cols = events_table(events, tick_size=tick_size, lot_size=lot_size)
    path = str(path)
    if path.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({k: pa.array(v) for k, v in cols.items()}), path)
        return
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wt", newline="") as f:
        f.write("ts,kind,side,price,size,order_id,flags\n")
        for row in zip(*(cols[k].tolist() for k in cols)):
            f.write(",".join(repr(v) if isinstance(v, float) else str(v) for v in row) + "\n")


def _book_type(ev: NDArray[Any]) -> Literal["l2", "l3"]:
    # Any order-level kind (ADD, CANCEL, DELETE, MODIFY, EXECUTE, SEED) needs an L3 book.
    return "l3" if np.isin(ev["kind"], [2, 3, 4, 5, 6, 9]).any() else "l2"


def load(path: str | os.PathLike[str], *, tick_size: Any = None, lot_size: Any = None,
         **_: Any) -> Feed:
    """An event table for :func:`lobkit.io.auto.load` (grids default to 1)."""
    ev = read_events(path, tick_size=tick_size or 1, lot_size=lot_size or 1)
    given = tick_size is not None or lot_size is not None
    return Feed(ev, "csv", float(tick_size or 1), float(lot_size or 1), _book_type(ev),
                grid="given" if given else "format")


def iter_chunks(path: str | os.PathLike[str], *, chunk_bytes: int, tick_size: Any = None,
                lot_size: Any = None, **_: Any) -> Iterator[NDArray[Any]]:
    """An event table in chunks: CSV by line chunk (header kept, exact line
    numbers), Parquet by record batch."""
    p = Path(os.fspath(path))
    tick, lot = tick_size or 1, lot_size or 1
    if _is_parquet(p):
        import pyarrow as pa
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(p).iter_batches(batch_size=max(chunk_bytes // 64, 1)):
            yield _read_parquet_table(pa.Table.from_batches([batch]), p, tick, lot)
        return
    gt, gl = grid(tick, "tick_size"), grid(lot, "lot_size")
    header: bytes | None = None
    line0 = 0
    for chunk in line_chunks(path, chunk_bytes):
        if header is None:
            header, _sep, chunk = chunk.partition(b"\n")
            line0 = 1
        raw = with_file(path, partial(_core.parse_event_table, chunk, tick=gt, lot=gl,
                                      header=header, line0=line0))
        line0 += chunk.count(b"\n") + 1
        yield raw.view(EVENT_DTYPE)
