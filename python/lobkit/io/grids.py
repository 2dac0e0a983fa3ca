"""Grids inferred from the data, for the loaders whose files print decimals
(Binance, Bybit, Tardis) or fixed-point integers (DBN).

A file is parsed once on a fine grid (1e-8, the finest step these venues
print; 1e-12 if a value is finer), then every price and every size is
divided by the coarsest grid that still holds all of them exactly:

* decimal text: the coarsest power of ten (``"58710.20"`` and ``"58710.30"``
  give 0.1) — the venue's own tick when it is a power of ten, never a grid
  off which a printed value lies;
* DBN: the greatest common divisor of the 1e-9 fixed-point prices (CME ES:
  0.25), since exchange ticks need not be powers of ten.

Exact by construction: the events are the fine-grid events divided by an
integer that divides every one of them. A later file (or a live stream) may
print a finer value than any this one holds; pass ``tick_size=`` /
``lot_size=`` to pin the instrument's grid for those.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ParseError

#: Fine grids tried in turn (decimal exponent).
FINE_EXPONENTS = (-8, -12)


def decimal(units: int, exp: int) -> str:
    """``units`` x 10^exp as a plain decimal string (``5, -1`` -> ``"0.5"``)."""
    d = Decimal(units).scaleb(exp).normalize()
    return format(d, "f")


def power_of_ten_step(values: NDArray[np.int64], exp: int) -> int:
    """The largest 10^k (k <= -exp, so the step is at most 1 unit) dividing
    every value; 1 when a value is not a multiple of 10."""
    v = np.abs(values[values != 0])
    step = 1
    for k in range(1, -exp + 1):
        if v.size and np.any(v % (10 ** k)):
            break
        step = 10 ** k
    return step


def gcd_step(values: NDArray[np.int64]) -> int:
    """The greatest common divisor of the non-zero values (1 when none)."""
    v = np.abs(values[values != 0]).astype(np.int64)
    g = int(np.gcd.reduce(v)) if v.size else 1
    return max(g, 1)


def coarsen(events: NDArray[Any], exp: int, *, price: bool = True,
            size: bool = True) -> tuple[NDArray[Any], str | None, str | None]:
    """Events on a 10^exp grid moved to the coarsest power-of-ten grid that
    holds every price (``price=True``) and every size (``size=True``).
    Returns the events (a copy) and the tick/lot strings (None where not
    inferred)."""
    out = events.copy()
    tick = lot = None
    if price:
        s = power_of_ten_step(out["price"], exp)
        out["price"] //= s
        tick = decimal(s, exp)
    if size:
        s = power_of_ten_step(out["size"], exp)
        out["size"] //= s
        lot = decimal(s, exp)
    return out, tick, lot


def parse_fine(parse: Any, tick_size: Any, lot_size: Any) -> tuple[Any, int]:
    """Runs ``parse(tick, lot)`` with the user's grids, or on the fine grids
    in turn where a grid is not given. Returns the result and the exponent
    used (0 when both grids were given)."""
    if tick_size is not None and lot_size is not None:
        return parse(tick_size, lot_size), 0
    err: ParseError | None = None
    for exp in FINE_EXPONENTS:
        fine = f"1e{exp}"
        try:
            return parse(tick_size if tick_size is not None else fine,
                         lot_size if lot_size is not None else fine), exp
        except ParseError as e:  # a value finer than this grid: try the next
            err = e
    assert err is not None
    raise err
