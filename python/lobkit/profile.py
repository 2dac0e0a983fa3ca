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
Prices are the venue's price steps between the lowest and highest traded
price (``step_ticks`` book ticks apart: by default a feed's own
:meth:`~lobkit.io.Feed.step_ticks`, e.g. a cent on LOBSTER's $0.0001 grid),
so a step with no volume is a step like any other; a print between steps
(a midpoint execution) counts at the step below it. (Counted per book tick
on a grid finer than the venue's, the widening compared empty ticks, tied,
and walked upward through them: one side of the area could grow past
volume the other side had.)
``rule="two_rows"`` is the Market Profile variant: compare the next *two*
ticks above with the next two below and take the larger pair (ties above).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._kinds import Kind
from .units import to_price

__all__ = ["Footprint", "LiveFootprint", "LiveProfile", "RollingProfile", "VolumeProfile",
           "bar_ns", "footprint", "rolling_profile", "volume_profile"]

#: Most ticks a profile spans (one int64 per tick per column).
MAX_TICKS = 50_000_000


@dataclass
class VolumeProfile:
    """``price`` (price units, ascending, one per price step from the lowest
    to the highest traded price), ``volume``, ``buy_volume``, ``sell_volume``
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
    (per consecutive tick, lots), by the rule in the module docs (stated
    once, in the Rust core, for this and :class:`LiveProfile`)."""
    v = np.ascontiguousarray(volume, dtype=np.int64)
    got = _core.value_area(v, float(share), 2 if rule == "two_rows" else 1)
    if got is None:
        raise ValueError("value_area: no rows")
    return got[0], got[1], got[2]


@dataclass
class _Tape:
    """The traded volume of a source: one row per execution or trade print."""

    ts: NDArray[np.int64]
    price: NDArray[np.int64]  # ticks
    size: NDArray[np.int64]  # lots
    sign: NDArray[np.int64]  # +1 buyer-initiated, -1 seller-initiated, 0 unknown
    tick: float
    lot: float


def _tape(events: Any, result: Any, tick_size: float | None,
          lot_size: float | None) -> _Tape:
    """Executions and trade prints of ``events`` (an array or a Feed), on the
    grid of the feed / result unless given, with the aggressor from the
    replay's ``signed_volume`` (else opposite the resting side)."""
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
    k = events["kind"]
    keep = ((k == Kind.EXECUTE) | (k == Kind.TRADE)) & (events["size"] > 0)
    if result is not None and result.signed_volume is not None:
        sign = np.sign(result.signed_volume[keep]).astype(np.int64)
    else:  # the aggressor is opposite the resting side
        sign = -events["side"][keep].astype(np.int64)
    return _Tape(ts=events["ts"][keep].astype(np.int64),
                 price=events["price"][keep].astype(np.int64),
                 size=events["size"][keep].astype(np.int64), sign=sign,
                 tick=1.0 if tick_size is None else float(tick_size),
                 lot=1.0 if lot_size is None else float(lot_size))


def _units(a: NDArray[np.int64], step: float) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.asarray(to_price(a, step), dtype=np.float64)
    return out


def _scalar(x: int, step: float) -> float:
    """One integer in ticks / lots as price / size units (as the arrays are)."""
    return float(_units(np.array([x], np.int64), step)[0])


def _step_ticks(events: Any, step_ticks: int | None) -> int:
    """Book ticks per price step: the given one, else a feed's own, else 1."""
    from .io.feed import Feed

    if step_ticks is None:
        step_ticks = events.step_ticks() if isinstance(events, Feed) else 1
    if step_ticks < 1:
        raise ValueError(f"step_ticks={step_ticks}: must be >= 1")
    return int(step_ticks)


def _check_area(value_area_share: float, rule: str) -> None:
    if not 0 < value_area_share <= 1:
        raise ValueError(f"value_area_share={value_area_share}: expected a share in (0, 1]")
    if rule not in ("one_row", "two_rows"):
        raise ValueError(f"rule={rule!r}: expected 'one_row' or 'two_rows'")


def _step_rows(px: NDArray[np.int64], step: int, hint: str) -> tuple[int, int, NDArray[np.int64]]:
    """(first row's price in ticks, rows, each price's row) for prices on
    rows ``step`` ticks apart, aligned to multiples of ``step`` (a price
    between steps joins the row below). Bounded before allocating: one bad
    print must not eat memory; ``hint`` says what to do instead."""
    p0 = int(px.min())
    p0 -= p0 % step
    rows = (int(px.max()) - p0) // step + 1
    if rows > MAX_TICKS:
        raise ValueError(f"traded prices span {rows:,} price steps (max {MAX_TICKS:,}); {hint}")
    return p0, rows, (px - p0) // step


def volume_profile(events: Any, result: Any = None, *, value_area_share: float = 0.70,
                   start: int | None = None, end: int | None = None,
                   tick_size: float | None = None, lot_size: float | None = None,
                   rule: Literal["one_row", "two_rows"] = "one_row",
                   step_ticks: int | None = None) -> VolumeProfile:
    """The volume profile of ``events`` (an ``EVENT_DTYPE`` array or a
    :class:`lobkit.io.Feed`), optionally with the replay ``result`` of the
    same events (``signals=True`` gives the aggressor rule the replay used;
    its grid is used too). ``start`` / ``end``: the session, ns in the
    events' own clock (``start <= ts < end``). ``value_area_share``: the
    share of volume the value area holds (0.70). ``step_ticks``: book ticks
    per price step (default: the feed's own, 1 for an array). See the
    module docs for the rules."""
    step_ticks = _step_ticks(events, step_ticks)
    _check_area(value_area_share, rule)
    t = _tape(events, result, tick_size, lot_size)
    keep = np.ones(len(t.ts), bool)
    if start is not None:
        keep &= t.ts >= start
    if end is not None:
        keep &= t.ts < end
    px, q, sign, tick, lot = t.price[keep], t.size[keep], t.sign[keep], t.tick, t.lot
    if len(px) == 0:
        raise ValueError("no executions or trade prints in the window")
    p0, span, idx = _step_rows(px, step_ticks, "pass a start/end window or a coarser grid")
    vol = np.zeros(span, np.int64)
    np.add.at(vol, idx, q)
    buy = np.zeros(span, np.int64)
    np.add.at(buy, idx[sign > 0], q[sign > 0])
    sell = np.zeros(span, np.int64)
    np.add.at(sell, idx[sign < 0], q[sign < 0])
    return _rows_profile(p0, step_ticks, vol, buy, sell, len(px), value_area_share, rule,
                         tick, lot)


def _rows_profile(p0: int, step_ticks: int, vol: NDArray[np.int64], buy: NDArray[np.int64],
                  sell: NDArray[np.int64], trades: int, share: float,
                  rule: Literal["one_row", "two_rows"], tick: float,
                  lot: float) -> VolumeProfile:
    """A :class:`VolumeProfile` from its rows (lots per price step from
    ``p0`` ticks, ``step_ticks`` apart): the bulk and the streaming profile
    derive prices, units and the value area here."""
    poc, lo, hi = value_area(vol, share, rule)
    ticks = p0 + step_ticks * np.arange(len(vol), dtype=np.int64)
    prices = _units(ticks, tick)
    return VolumeProfile(
        price=prices, volume=_units(vol, lot), buy_volume=_units(buy, lot),
        sell_volume=_units(sell, lot), price_ticks=ticks, volume_lots=vol,
        poc=float(prices[poc]), value_area_low=float(prices[lo]),
        value_area_high=float(prices[hi]),
        value_area_volume=float(_units(vol[lo:hi + 1], lot).sum()),
        total_volume=float(_units(vol, lot).sum()), trades=trades)


class LiveProfile:
    """A volume profile kept as trades arrive, for a bot or a session chart:
    the point of control in O(1) per trade, the value area on demand
    (O(price steps)), and :meth:`profile` giving exactly what
    :func:`volume_profile` gives for the same trades.

    ``tick_size`` / ``lot_size``: the grid of the prices and sizes given
    (ticks and lots in, price and size units out; 1 when left out).
    ``step_ticks``: book ticks per price step. ``value_area_share`` and
    ``rule`` as in :func:`volume_profile`. Errors (a price that would span
    more than 50,000,000 steps, a volume that would overflow int64 lots) are
    :class:`lobkit.errors.InvalidPriceError` / ``InvalidSizeError`` naming
    the trade's index, and leave the profile as it was.

        live = LiveProfile(tick_size=feed.tick_size, lot_size=feed.lot_size,
                           step_ticks=feed.step_ticks())
        live.apply(events_of_one_message)       # or live.on_trade(ticks, lots, +1)
        live.poc, live.value_area               # price units
    """

    def __init__(self, *, tick_size: float | None = None, lot_size: float | None = None,
                 step_ticks: int = 1, value_area_share: float = 0.70,
                 rule: Literal["one_row", "two_rows"] = "one_row") -> None:
        _check_area(value_area_share, rule)
        self._core = _core.Profile(_step_ticks(None, step_ticks))
        self._tick = 1.0 if tick_size is None else float(tick_size)
        self._lot = 1.0 if lot_size is None else float(lot_size)
        self._share = float(value_area_share)
        self._rule: Literal["one_row", "two_rows"] = rule

    def on_trade(self, price_ticks: int, size_lots: int, aggressor: int) -> None:
        """One trade: price (ticks), size (lots; ignored unless > 0),
        aggressor +1 buyer-initiated, -1 seller-initiated, 0 unknown."""
        self._core.add(int(price_ticks), int(size_lots), int(aggressor))

    def apply(self, events: Any) -> int:
        """The executions and trade prints of an ``EVENT_DTYPE`` array (any
        length; the aggressor is opposite the resting side), all or nothing.
        Returns the trades counted."""
        return self._core.apply(events)

    def reset(self) -> None:
        """Forgets every trade: a new session."""
        self._core.reset()

    @property
    def trades(self) -> int:
        """Trades counted."""
        return self._core.trades

    @property
    def total_volume(self) -> float:
        """Volume traded (size units)."""
        return _scalar(self._core.total, self._lot)

    @property
    def poc(self) -> float | None:
        """Price of maximum volume (price units; ties to the lower), or None."""
        p = self._core.poc
        return None if p is None else _scalar(p, self._tick)

    @property
    def value_area(self) -> tuple[float, float] | None:
        """(low, high) of the value area (price units, inclusive), or None."""
        a = self._core.value_area(self._share, 2 if self._rule == "two_rows" else 1)
        if a is None:
            return None
        return _scalar(a[0], self._tick), _scalar(a[1], self._tick)

    def profile(self) -> VolumeProfile:
        """The profile so far, as :func:`volume_profile` returns it."""
        low = self._core.low
        if low is None:
            raise ValueError("no executions or trade prints yet")
        vol, buy, sell = self._core.rows()
        return _rows_profile(low, self._core.step_ticks, vol, buy, sell, self._core.trades,
                             self._share, self._rule, self._tick, self._lot)


_UNITS_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "min": 60_000_000_000, "h": 3_600_000_000_000}


def bar_ns(every: int | str) -> int:
    """A bar length: int ns, or ``"100ms"``, ``"1s"``, ``"1min"``, ``"5min"``, ``"1h"``."""
    if isinstance(every, (int, np.integer)):
        ns = int(every)
    else:
        text = str(every).strip()
        num = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(num):] or "ns"
        if unit not in _UNITS_NS or not num:
            raise ValueError(f"every={every!r}: expected int ns or e.g. '100ms', '1s', '1min', '1h'")
        ns = int(float(num) * _UNITS_NS[unit])
    if not 1 <= ns <= 1 << 62:  # int64 ns: the bar arithmetic must not overflow
        raise ValueError(f"every={every!r}: expected 1 ns .. 2^62 ns")
    return ns


@dataclass
class Footprint:
    """Volume at price per time bar, by aggressor.

    Cells (one row per bar and traded price, bar then price ascending):
    ``bar`` (bar start, ns in the events' clock), ``price`` (price units),
    ``price_ticks``, ``buy`` / ``sell`` (size units, buyer- / seller-
    initiated), ``delta`` (buy − sell), ``trades``, and the diagonal
    imbalance marks: ``buy_imbalance`` where buying at p is at least
    ``ratio`` × the selling one price step below (p − ``step_ticks``),
    ``sell_imbalance`` where selling at p is at least ``ratio`` × the buying
    one step above (a side with 0 there counts only if the other is > 0).
    ``step_ticks``: book ticks per price step (the venue's increment).
    Bars (one row per bar with volume): ``bar_start``, ``volume``,
    ``bar_delta``, ``cvd`` (cumulative delta over the bars), ``bar_poc``
    (price of the bar's maximum volume, ties to the lower price).
    """

    bar: NDArray[np.int64]
    price: NDArray[np.float64]
    price_ticks: NDArray[np.int64]
    buy: NDArray[np.float64]
    sell: NDArray[np.float64]
    delta: NDArray[np.float64]
    trades: NDArray[np.int64]
    buy_imbalance: NDArray[np.bool_]
    sell_imbalance: NDArray[np.bool_]
    bar_start: NDArray[np.int64]
    volume: NDArray[np.float64]
    bar_delta: NDArray[np.float64]
    cvd: NDArray[np.float64]
    bar_poc: NDArray[np.float64]
    step_ticks: int = 1

    def to_pandas(self) -> Any:
        """The cells as a pandas DataFrame (bars: :meth:`bars_pandas`)."""
        import pandas as pd

        return pd.DataFrame({k: getattr(self, k) for k in (
            "bar", "price", "buy", "sell", "delta", "trades", "buy_imbalance",
            "sell_imbalance")})

    def bars_pandas(self) -> Any:
        """One row per bar: start, volume, delta, CVD, POC."""
        import pandas as pd

        return pd.DataFrame({"bar_start": self.bar_start, "volume": self.volume,
                             "delta": self.bar_delta, "cvd": self.cvd, "poc": self.bar_poc})

    def to_polars(self) -> Any:
        """The cells as a polars DataFrame."""
        import polars as pl

        return pl.DataFrame({k: getattr(self, k) for k in (
            "bar", "price", "buy", "sell", "delta", "trades", "buy_imbalance",
            "sell_imbalance")})


def footprint(events: Any, result: Any = None, *, every: int | str = "1min",
              ratio: float = 3.0, tick_size: float | None = None,
              lot_size: float | None = None, step_ticks: int | None = None) -> Footprint:
    """The footprint of ``events`` (an ``EVENT_DTYPE`` array or a
    :class:`lobkit.io.Feed`) in bars of ``every`` (aligned to the clock's
    zero), with the aggressor from ``result`` (a replay with
    ``signals=True``) or, without it, opposite the resting side. ``ratio``:
    the diagonal imbalance threshold; ``step_ticks``: book ticks between
    diagonal neighbours (default: the feed's :meth:`~lobkit.io.Feed.step_ticks`,
    e.g. 100 on LOBSTER's $0.0001 grid with cent prices; 1 for an array).
    Exact: integer lots per tick per bar."""
    if ratio <= 0:
        raise ValueError(f"ratio={ratio}: must be positive")
    step_ticks = _step_ticks(events, step_ticks)
    width = bar_ns(every)
    t = _tape(events, result, tick_size, lot_size)
    bar = (t.ts // width) * width
    # cells: (bar, price) groups, bar then price ascending
    order = np.lexsort((t.price, bar))
    bar, px, q, sign = bar[order], t.price[order], t.size[order], t.sign[order]
    new = np.r_[True, (bar[1:] != bar[:-1]) | (px[1:] != px[:-1])] if len(px) else np.zeros(0, bool)
    cell = np.cumsum(new) - 1
    n = int(cell[-1]) + 1 if len(cell) else 0
    buy = np.zeros(n, np.int64)
    sell = np.zeros(n, np.int64)
    np.add.at(buy, cell[sign > 0], q[sign > 0])
    np.add.at(sell, cell[sign < 0], q[sign < 0])
    total = np.zeros(n, np.int64)  # all volume, prints without an aggressor included
    np.add.at(total, cell, q)
    trades = np.bincount(cell, minlength=n).astype(np.int64)
    return _cells_footprint(bar[new], px[new], buy, sell, total, trades, step_ticks, ratio,
                            t.tick, t.lot)


def _cells_footprint(cbar: NDArray[np.int64], cpx: NDArray[np.int64], buy: NDArray[np.int64],
                     sell: NDArray[np.int64], total: NDArray[np.int64],
                     trades: NDArray[np.int64], step_ticks: int, ratio: float, tick: float,
                     lot: float) -> Footprint:
    """A :class:`Footprint` from its cells (one per bar and price, bar then
    price ascending; ns, ticks, lots): the bulk and the streaming footprint
    derive deltas, diagonal imbalances, bar totals, CVD and POC here."""
    n = len(cbar)
    # Diagonals: the neighbour one tick below / above in the same bar is the
    # previous / next cell when it exists (cells are sorted by bar, price).
    has_below = np.r_[False, (cbar[1:] == cbar[:-1]) & (cpx[1:] == cpx[:-1] + step_ticks)]
    has_above = np.r_[(cbar[:-1] == cbar[1:]) & (cpx[:-1] + step_ticks == cpx[1:]), False] \
        if n else np.zeros(0, bool)
    sell_below = np.where(has_below, np.r_[0, sell[:-1]] if n else sell, 0)
    buy_above = np.where(has_above, np.r_[buy[1:], 0] if n else buy, 0)
    buy_imb = (buy > 0) & (buy >= ratio * sell_below)
    sell_imb = (sell > 0) & (sell >= ratio * buy_above)
    # bars
    bstart = np.r_[True, cbar[1:] != cbar[:-1]] if n else np.zeros(0, bool)
    bidx = np.cumsum(bstart) - 1
    nb = int(bidx[-1]) + 1 if n else 0
    bvol = np.zeros(nb, np.int64)
    np.add.at(bvol, bidx, total)
    bdelta = np.zeros(nb, np.int64)
    np.add.at(bdelta, bidx, buy - sell)
    # Bar POC: the first (lowest-price) cell of each bar holding its maximum.
    cell_max = np.zeros(nb, np.int64)
    np.maximum.at(cell_max, bidx, total)
    is_max = total == cell_max[bidx]
    first_max = np.full(nb, n, np.int64)
    np.minimum.at(first_max, bidx[is_max], np.flatnonzero(is_max))
    poc = cpx[first_max] if n else np.zeros(0, np.int64)
    return Footprint(
        bar=cbar, price=_units(cpx, tick), price_ticks=cpx, buy=_units(buy, lot),
        sell=_units(sell, lot), delta=_units(buy - sell, lot), trades=trades,
        buy_imbalance=buy_imb, sell_imbalance=sell_imb, bar_start=cbar[bstart],
        volume=_units(bvol, lot), bar_delta=_units(bdelta, lot),
        cvd=_units(np.cumsum(bdelta), lot), bar_poc=_units(poc, tick), step_ticks=int(step_ticks))


class LiveFootprint:
    """A footprint kept as trades arrive: per bar of ``every`` and traded
    price, buy / sell volume and trades, with :meth:`footprint` giving
    exactly what :func:`footprint` gives for the same trades (deltas,
    diagonal imbalances, CVD and bar POC derived by the same code). A bar
    closes when the first trade of a later bar comes (or at :meth:`flush`);
    :meth:`drain` hands over the closed bars and forgets them, so a bot's
    memory stays at one bar. ``keep_bars``: hold at most that many closed
    bars — when one more closes the oldest is dropped and counted in
    :attr:`dropped_bars` — a rolling footprint of the last N bars whose
    memory stays bounded however long nobody drains it; :meth:`footprint`
    is then :func:`footprint` of the trades of the bars held (CVD starting
    at the oldest). Trades must come in time order: a trade in a bar before
    the open one is refused (``TimestampOrderError`` naming its index) and
    nothing of that call is counted.

        live = LiveFootprint(every="1min", tick_size=feed.tick_size,
                             lot_size=feed.lot_size, step_ticks=feed.step_ticks())
        live.apply(events_of_one_message)
        done = live.drain()                  # closed bars as a Footprint

        chart = LiveFootprint(every="1min", keep_bars=30)   # the last 30 bars, always
    """

    def __init__(self, *, every: int | str = "1min", ratio: float = 3.0,
                 tick_size: float | None = None, lot_size: float | None = None,
                 step_ticks: int = 1, keep_bars: int | None = None) -> None:
        if ratio <= 0:
            raise ValueError(f"ratio={ratio}: must be positive")
        if keep_bars is not None and (isinstance(keep_bars, bool)
                                      or not isinstance(keep_bars, (int, np.integer))):
            raise TypeError(f"keep_bars={keep_bars!r}: expected an int or None")
        self._core = _core.LiveFootprint(bar_ns(every), None if keep_bars is None
                                         else int(keep_bars))
        self._ratio = float(ratio)
        self._step = _step_ticks(None, step_ticks)
        self._tick = 1.0 if tick_size is None else float(tick_size)
        self._lot = 1.0 if lot_size is None else float(lot_size)

    def apply(self, events: Any) -> int:
        """The executions and trade prints of an ``EVENT_DTYPE`` array (the
        aggressor opposite the resting side), all or nothing. Returns the
        trades counted."""
        return self._core.apply(events)

    def flush(self) -> None:
        """Closes the open bar now (end of a session)."""
        self._core.flush()

    def reset(self) -> None:
        """Forgets every bar."""
        self._core.reset()

    @property
    def open_bar(self) -> int | None:
        """Start (ns) of the bar being filled, or None."""
        return self._core.open_bar

    @property
    def keep_bars(self) -> int | None:
        """Most closed bars held (None: until drained)."""
        return self._core.keep_bars

    @property
    def dropped_bars(self) -> int:
        """Closed bars the ``keep_bars`` cap dropped since the footprint was
        made or reset."""
        return self._core.dropped_bars

    @property
    def closed_bars(self) -> int:
        """Closed bars held (not yet drained or dropped)."""
        return self._core.closed_bars

    def _of(self, cells: tuple[NDArray[np.int64], ...]) -> Footprint:
        cbar, cpx, buy, sell, total, trades = cells
        return _cells_footprint(cbar, cpx, buy, sell, total, trades, self._step, self._ratio,
                                self._tick, self._lot)

    def footprint(self, *, include_open: bool = True) -> Footprint:
        """The closed bars not yet drained and (``include_open``) the open one."""
        return self._of(self._core.cells(include_open))

    def drain(self) -> Footprint:
        """The closed bars, forgotten here (the open bar stays)."""
        return self._of(self._core.drain_closed())


@dataclass
class RollingProfile:
    """The volume profile of a trailing window, at the end of every bar:
    ``bar_end`` (ns, the events' clock; the window is ``[bar_end - window,
    bar_end)``), ``poc``, ``value_area_low`` / ``value_area_high`` (price
    units; NaN where the window holds no trade), ``volume`` (size units in
    the window) and ``trades``. Each row is exactly
    ``volume_profile(events, start=bar_end - window, end=bar_end)``."""

    bar_end: NDArray[np.int64]
    poc: NDArray[np.float64]
    value_area_low: NDArray[np.float64]
    value_area_high: NDArray[np.float64]
    volume: NDArray[np.float64]
    trades: NDArray[np.int64]

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame indexed by ``bar_end``."""
        import pandas as pd

        return pd.DataFrame({"poc": self.poc, "value_area_low": self.value_area_low,
                             "value_area_high": self.value_area_high, "volume": self.volume,
                             "trades": self.trades},
                            index=pd.Index(self.bar_end, name="bar_end"))


def rolling_profile(events: Any, result: Any = None, *, every: int | str = "1min",
                    window: int | str = "30min", value_area_share: float = 0.70,
                    tick_size: float | None = None, lot_size: float | None = None,
                    rule: Literal["one_row", "two_rows"] = "one_row",
                    step_ticks: int | None = None) -> RollingProfile:
    """:func:`volume_profile` over a trailing ``window`` at the end of every
    bar of ``every`` (bars aligned to the clock's zero, from the first
    trade's bar to the last's), kept incrementally: each bar adds the
    volume of the trades entering the window and removes that of those
    leaving it. Same rules, grid and aggressor as :func:`volume_profile`."""
    _check_area(value_area_share, rule)
    width, span_ns = bar_ns(every), bar_ns(window)
    step_ticks = _step_ticks(events, step_ticks)
    t = _tape(events, result, tick_size, lot_size)
    if len(t.ts) == 0:
        raise ValueError("no executions or trade prints")
    order = np.argsort(t.ts, kind="stable")
    ts, px, q = t.ts[order], t.price[order], t.size[order]
    p0, rows, row = _step_rows(px, step_ticks, "use a coarser grid")
    first = (int(ts[0]) // width) * width + width
    last = (int(ts[-1]) // width) * width + width
    n_bars = (last - first) // width + 1
    if n_bars > 10_000_000:
        raise ValueError(f"{n_bars:,} bars: use longer bars")
    ends = first + width * np.arange(n_bars, dtype=np.int64)
    # Trades enter the window when ts < end and leave when ts < end - window.
    enter = np.searchsorted(ts, ends, side="left")
    leave = np.searchsorted(ts, ends - span_ns, side="left")
    vol = np.zeros(rows, np.int64)
    poc = np.full(n_bars, np.nan)
    lo = np.full(n_bars, np.nan)
    hi = np.full(n_bars, np.nan)
    total = np.zeros(n_bars, np.int64)
    trades = (enter - leave).astype(np.int64)
    a = b = 0  # trades [b, a) are in the window
    for i in range(n_bars):
        e, lv = int(enter[i]), int(leave[i])
        if e > a:
            np.add.at(vol, row[a:e], q[a:e])
            a = e
        if lv > b:
            np.subtract.at(vol, row[b:lv], q[b:lv])
            b = lv
        if a == b:
            continue
        nz = np.flatnonzero(vol)
        if len(nz) == 0:
            continue
        r0, r1 = int(nz[0]), int(nz[-1])
        seg = vol[r0:r1 + 1]
        k, l_, h_ = value_area(seg, value_area_share, rule)
        poc[i], lo[i], hi[i] = r0 + k, r0 + l_, r0 + h_
        total[i] = int(seg.sum())

    def price(r: NDArray[np.float64]) -> NDArray[np.float64]:
        ok = ~np.isnan(r)
        out = np.full(len(r), np.nan)
        out[ok] = _units(p0 + step_ticks * r[ok].astype(np.int64), t.tick)
        return out

    return RollingProfile(bar_end=ends, poc=price(poc), value_area_low=price(lo),
                          value_area_high=price(hi), volume=_units(total, t.lot), trades=trades)
