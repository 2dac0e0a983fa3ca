"""The option vocabularies of the public API as ``Literal`` types.

A type checker flags ``replay(on_error="skipp")`` before it runs; at run time
each function still checks its string and names the argument in its error.
Import them from here to annotate your own wrappers.
"""

from __future__ import annotations

import os
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BookType",
    "By",
    "CrossPolicy",
    "DbnTs",
    "Events",
    "F64Array",
    "FeedTs",
    "FormatName",
    "I64Array",
    "OnError",
    "PathArg",
    "TradeSign",
    "TradeSignMethod",
    "Units",
    "UnknownId",
]

#: An :data:`lobkit.EVENT_DTYPE` record array.
Events: TypeAlias = NDArray[np.void]
#: Float columns (prices, sizes, signals) and integer columns (ticks, lots, ns).
F64Array: TypeAlias = NDArray[np.float64]
I64Array: TypeAlias = NDArray[np.int64]
#: A file path.
PathArg: TypeAlias = "str | os.PathLike[str]"

#: ``replay``/``apply``/``Engine``: raise on the first invalid event, or skip it.
OnError: TypeAlias = Literal["raise", "skip"]
#: ``replay(book_type=)``.
BookType: TypeAlias = Literal["l2", "l3"]
#: A crossing update: applied as given, or refused with ``CrossedBookError``.
CrossPolicy: TypeAlias = Literal["allow", "reject"]
#: An L3 cancel/execute of an id the book never saw.
UnknownId: TypeAlias = Literal["error", "anonymous", "skip"]
#: The aggressor rule of ``signed_volume``.
TradeSign: TypeAlias = Literal["feed", "lee_ready", "tick"]
TradeSignMethod: TypeAlias = Literal["lee_ready", "tick"]
#: Output quantities: price/size units (floats) or ticks/lots (ints).
Units: TypeAlias = Literal["price", "ticks"]
#: Rolling windows: a number of events, a time span (ns) or traded volume (lots).
By: TypeAlias = Literal["events", "time", "volume"]
#: Which clock a venue file's ``ts`` column is taken from.
FeedTs: TypeAlias = Literal["local", "exchange"]
DbnTs: TypeAlias = Literal["recv", "event"]
#: ``lobkit.io.load``/``iter_events`` formats (``"auto"`` guesses).
FormatName: TypeAlias = Literal[
    "auto", "lobster", "csv", "dbn", "binance", "bybit", "kraken", "bitfinex", "tardis",
]
