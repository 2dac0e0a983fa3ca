"""What a type checker sees of the public API: `.ci/run` runs mypy --strict and
basedpyright on this file. Nothing here runs under pytest (the file name is
not `test_*`); it is checked, not executed.

Every `# type: ignore[...]` marks a call that must be an error: both checkers
are configured to report an unused ignore, so if a typo stops being an error
(an option widened back to `str`), the check fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray
from typing_extensions import assert_type

import lobkit
from lobkit import errors
from lobkit._typing import OnError, Units
from lobkit.io import BinanceDepth


def books() -> None:
    book = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    assert_type(book.update("bid", 100.01, 1.5), bool)
    assert_type(book.best_bid, "tuple[float, float] | None")
    assert_type(book.best_bid_ticks, "int | None")
    assert_type(book.bids(5), NDArray[np.float64])
    assert_type(book.bids(5, ticks=True), NDArray[np.int64])
    assert_type(book.asks(5, ticks=False), NDArray[np.float64])
    flag: bool = book.events > 0
    assert_type(book.bids(5, ticks=flag), "NDArray[np.float64] | NDArray[np.int64]")
    assert_type(lobkit.detect.enable(book, spoofing=True), lobkit.L2Book)
    l3 = lobkit.L3Book(tick_size=0.01, unknown_id="anonymous")
    assert_type(lobkit.detect.enable(l3), lobkit.L3Book)
    lobkit.L3Book(unknown_id="anonymus")  # type: ignore[arg-type]
    lobkit.L2Book(cross_policy="rejct")  # type: ignore[arg-type]


def bulk(events: NDArray[np.void]) -> None:
    res = lobkit.replay(events, depth=5, tick_size=0.01, signals=True)
    assert_type(res, lobkit.ReplayResult)
    assert_type(res.book, "lobkit.L2Book | lobkit.L3Book")
    assert_type(res.bid_price, NDArray[np.int64])
    assert_type(res.mid, NDArray[Any])
    assert_type(res.to_pandas(), pd.DataFrame)
    assert_type(res.to_polars(units="price"), pl.DataFrame)
    assert_type(res.to_arrow(), pa.Table)
    lobkit.replay(events, on_error="skipp")  # type: ignore[arg-type]
    lobkit.replay(events, book_type="L2")  # type: ignore[arg-type]
    lobkit.replay(events, trade_sign="leeready")  # type: ignore[arg-type]
    res.to_pandas(units="tick")  # type: ignore[arg-type]
    policy: OnError = "skip"
    units: Units = "price"
    lobkit.replay(events, on_error=policy).to_pandas(units=units)


def engine_and_feeds(events: NDArray[np.void]) -> None:
    with lobkit.Engine([lobkit.L2Book()], on_error="skip") as eng:
        assert_type(eng, lobkit.Engine)
        assert_type(eng.push(events), int)
        assert_type(eng.reader().read(), lobkit.Snapshot)
    lobkit.Engine(lobkit.L2Book(), on_error="ignore")  # type: ignore[arg-type]
    feed = BinanceDepth(tick_size="0.1", lot_size="0.001", book=lobkit.L2Book())
    assert_type(feed.on_message(b"{}"), "NDArray[np.void] | int")
    loaded = lobkit.io.load("x.csv.gz")
    assert_type(loaded, lobkit.io.Feed)
    assert_type(lobkit.replay(loaded), lobkit.ReplayResult)
    lobkit.io.load("x.csv", "parquet")  # type: ignore[arg-type]


def errors_are_typed() -> None:
    try:
        lobkit.L2Book().update("bid", 1.0, 1.0)
    except errors.InvalidPriceError as e:
        assert_type(e.index, "int | None")
        assert_type(e.field, "str | None")
