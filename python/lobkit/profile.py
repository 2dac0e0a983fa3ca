"""Volume profile: traded volume per price on the book's grid, with the
point of control and the value area (exported as
:func:`lobkit.signals.volume_profile`).

Traded volume is every execution of a resting order (``EXECUTE``) and every
trade print (``TRADE``: hidden or crossed volume). The aggressor of each is
the replay's ``signed_volume`` sign (``signals=True``: the feed's resting
side, or the trade-sign rule the replay was told to use); without a replay,
the opposite of the event's resting ``side``. Counting is exact: integer
lots per integer tick, converted to size / price units at the end.

Value area, the rule stated: start at the point of control (the price of
maximum volume; ties go to the lower price) and repeatedly widen the area by
the next price above or the next price below — whichever has more volume,
ties above — until the area holds at least ``value_area`` of all volume.
Prices are the grid's ticks between the lowest and highest traded price,
so a tick with no volume is a step like any other.
``rule="two_rows"`` is the Market Profile variant: compare the next *two*
ticks above with the next two below and take the larger pair (ties above).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._kinds import Kind
from .units import to_price

__all__ = ["VolumeProfile", "volume_profile"]

#: Most ticks a profile spans (one int64 per tick per column).
MAX_TICKS = 50_000_000


@dataclass
class VolumeProfile:
    """``price`` (price units, ascending, one per tick from the lowest to the
    highest traded price), ``volume``, ``buy_volume``, ``sell_volume``
    (size units; buy = buyer-initiated), ``poc`` (price of maximum volume,
    ties to the lower), ``value_area_low`` / ``value_area_high`` (price
    units, inclusive) holding ``value_area_volume`` of ``total_volume``.
    ``price_ticks`` / ``volume_lots`` are the exact integers."""

    price: NDArray[np.float64]
    volume: NDArray[np.float64]
    buy_volume: NDArray[np.float64]
    sell_volume: NDArray[np.float64]
    price_ticks: NDArray[np.int64]
    volume_lots: NDArray[np.int64]
    poc: float
    value_area_low: float
    value_area_high: float
    value_area_volume: float
    total_volume: float
    trades: int


def value_area(volume: NDArray[np.int64], share: float,
               rule: Literal["one_row", "two_rows"] = "one_row") -> tuple[int, int, int]:
    """(poc index, low index, high index) of the value area over ``volume``
    (per consecutive tick, lots), by the rule in the module docs."""
    n = len(volume)
    poc = int(np.argmax(volume))  # the first maximum: ties go to the lower price
    total = int(volume.sum())
    need = share * total
    lo = hi = poc
    have = int(volume[poc])
    step = 2 if rule == "two_rows" else 1
    while have < need and (lo > 0 or hi < n - 1):
        up = int(volume[hi + 1:hi + 1 + step].sum()) if hi < n - 1 else -1
        down = int(volume[max(lo - step, 0):lo].sum()) if lo > 0 else -1
        if up >= down:  # ties above
            k = min(step, n - 1 - hi)
            hi += k
            have += up
        else:
            k = min(step, lo)
            lo -= k
            have += down
    return poc, lo, hi


def volume_profile(events: Any, result: Any = None, *, value_area_share: float = 0.70,
                   start: int | None = None, end: int | None = None,
                   tick_size: float | None = None, lot_size: float | None = None,
                   rule: Literal["one_row", "two_rows"] = "one_row") -> VolumeProfile:
    """The volume profile of ``events`` (an ``EVENT_DTYPE`` array or a
    :class:`lobkit.io.Feed`), optionally with the replay ``result`` of the
    same events (``signals=True`` gives the aggressor rule the replay used;
    its grid is used too). ``start`` / ``end``: the session, ns in the
    events' own clock (``start <= ts < end``). ``value_area_share``: the
    share of volume the value area holds (0.70). See the module docs for
    the rules."""
    from .io.feed import Feed

    if isinstance(events, Feed):
        tick_size = tick_size if tick_size is not None else events.tick_size
        lot_size = lot_size if lot_size is not None else events.lot_size
        events = events.events
    if result is not None:
        tick_size = tick_size if tick_size is not None else result.tick_size
        lot_size = lot_size if lot_size is not None else result.lot_size
        if len(result) != len(events):
            raise ValueError(f"result: {len(result)} rows, the events have {len(events)}")
    tick = 1.0 if tick_size is None else float(tick_size)
    lot = 1.0 if lot_size is None else float(lot_size)
    if not 0 < value_area_share <= 1:
        raise ValueError(f"value_area_share={value_area_share}: expected a share in (0, 1]")
    if rule not in ("one_row", "two_rows"):
        raise ValueError(f"rule={rule!r}: expected 'one_row' or 'two_rows'")
    k = events["kind"]
    keep = ((k == Kind.EXECUTE) | (k == Kind.TRADE)) & (events["size"] > 0)
    if start is not None:
        keep &= events["ts"] >= start
    if end is not None:
        keep &= events["ts"] < end
    px = events["price"][keep].astype(np.int64)
    q = events["size"][keep].astype(np.int64)
    if result is not None and result.signed_volume is not None:
        sign = np.sign(result.signed_volume[keep])
    else:  # the aggressor is opposite the resting side
        sign = -events["side"][keep].astype(np.int64)
    if len(px) == 0:
        raise ValueError("no executions or trade prints in the window")
    p0 = int(px.min())
    span = int(px.max()) - p0 + 1
    if span > MAX_TICKS:  # bounded before allocating: one bad print must not eat memory
        raise ValueError(f"traded prices span {span:,} ticks (max {MAX_TICKS:,}); pass a "
                         f"start/end window or a coarser grid")
    idx = px - p0
    vol = np.zeros(span, np.int64)
    np.add.at(vol, idx, q)
    buy = np.zeros(span, np.int64)
    np.add.at(buy, idx[sign > 0], q[sign > 0])
    sell = np.zeros(span, np.int64)
    np.add.at(sell, idx[sign < 0], q[sign < 0])
    poc, lo, hi = value_area(vol, value_area_share, rule)
    ticks = np.arange(p0, p0 + span, dtype=np.int64)

    def units(a: NDArray[np.int64], step: float) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.asarray(to_price(a, step), dtype=np.float64)
        return out

    prices = units(ticks, tick)
    return VolumeProfile(
        price=prices, volume=units(vol, lot), buy_volume=units(buy, lot),
        sell_volume=units(sell, lot), price_ticks=ticks, volume_lots=vol,
        poc=float(prices[poc]), value_area_low=float(prices[lo]),
        value_area_high=float(prices[hi]),
        value_area_volume=float(units(vol[lo:hi + 1], lot).sum()),
        total_volume=float(units(vol, lot).sum()), trades=len(px))
