"""Exact conversions between the core's integers and price/size units.

The books keep prices in ticks and sizes in lots; these helpers turn arrays
of them into floats with the same rounding the books' own getters use, so a
price read from a replay column equals the one read from the book.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def to_price(ticks: NDArray[Any], step: float) -> NDArray[Any]:
    """``ticks * step`` as float64, correctly rounded on decimal grids.

    When ``1/step`` is an integer (0.01, 0.0001, ...) dividing by it gives the
    correctly rounded float (575.93, not the 575.9300000000001 that
    multiplying by 0.0001 gives) — the same rule as ``L2Book.best_bid_price``.
    """
    inv = 1.0 / step
    r = round(inv)
    if r >= 1 and abs(inv - r) <= 1e-9 * r:
        return np.asarray(ticks, dtype=np.float64) / r
    return np.asarray(ticks, dtype=np.float64) * step
