"""Replay results and books as the tables of the Python data ecosystem:
pyarrow, pandas, polars and Parquet. Each library is imported only when
used (``pip install lobkit[arrow]``, ``[pandas]``, ``[polars]``).

Layout of a replay table, one row per event:

* ``ts``: ``timestamp[ns, UTC]`` (pandas ``datetime64[ns, UTC]``, polars
  ``Datetime("ns", "UTC")``); a LOBSTER replay from :func:`lobkit.io.load`
  counts ns after midnight New York time, and the table says when that was;
* with ``events=``: the event that produced the row, ``kind`` (name),
  ``side``, ``price``, ``size``, ``flags`` — so rows mid-way through a feed
  message (``flags`` without ``F_LAST``) can be told from consistent states
  (a sampled replay, ``replay(sample=...)``: the row's last event, and a
  ``last_event`` column with its input position);
* ``best_bid_price``, ``best_bid_size``, ``best_ask_price``,
  ``best_ask_size``;
* per level i = 1..depth: ``bid_price_i``, ``bid_size_i``, ``ask_price_i``,
  ``ask_size_i``; an empty level is null (NaN in pandas float columns,
  ``<NA>`` in its nullable ``Int64`` ones), never price 0;
* with ``signals=True``: ``imbalance``, ``ofi``, ``ofi_msg``,
  ``signed_volume``, ``weighted_mid``, and ``ofi_i`` per level.

``units='price'`` (default) gives float64 price and size units, with OFI
and signed volume in size units like the sizes beside them;
``units='ticks'`` keeps int64 ticks and lots, exactly. The tick and lot
sizes, depth, units and clock travel in the Arrow schema metadata (pandas:
``df.attrs['lobkit']``), so :func:`from_table` rebuilds the
:class:`~lobkit.ReplayResult` arrays with the same dtypes and the file's
own ``ts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import Units
from .result import (
    ReplayResult,
    from_table,
    result_columns,
    to_arrow,
    to_pandas,
    to_parquet,
    to_polars,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ReplayResult", "book_frame", "from_table", "result_columns", "to_arrow", "to_pandas",
           "to_parquet", "to_polars"]


def book_frame(book: Any, levels: int = 10, *, units: Units = "price") -> pd.DataFrame:
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
        dtype: type[np.int64 | np.float64] = np.int64
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
    df: pd.DataFrame = pd.DataFrame({
        "side": pd.Categorical(["bid"] * len(bids) + ["ask"] * len(asks), categories=["bid", "ask"]),
        "level": np.r_[np.arange(1, len(bids) + 1), np.arange(1, len(asks) + 1)].astype(np.int64),
        "price": np.r_[bids[:, 0], asks[:, 0]].astype(dtype),
        "size": np.r_[bids[:, 1], asks[:, 1]].astype(dtype),
    })
    return df
