"""Bookmap-style pictures of a replay, following matplotlib's conventions:
:func:`heatmap` draws into an ``Axes`` (yours, or a new figure's) and
returns the ``Figure``; nothing here picks a backend. Needs matplotlib
(``pip install lobkit[plot]``).

The picture: resting size per price and time bin as two heatmaps, bids in
blue and asks in orange, each with its log-scale colorbar (size units); the
best bid and ask as step lines; trades as dots sized by volume, green where
the buyer was the aggressor and red where the seller was; the strongest
detector alerts (by score, capped) as labelled markers; a UTC date axis.

Time window: ``start``/``end`` (datetime, ISO string or int ns since the
epoch) or, by default, the shortest span holding 98% of the distinct event
times — so a
trading hour after a quiet pre-open fills the picture instead of 5% of it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._kinds import Kind
from .result import ReplayResult, time_origin_ns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The narrowest window drawn (ns): matplotlib's float dates resolve ~1 µs.
MIN_WINDOW_NS = 1_000_000
#: Most time bins / price rows (a picture is a few thousand pixels wide).
MAX_BINS = 20_000
#: Alert kind -> (marker, colour).
MARKERS = {"spoofing": ("X", "magenta"), "layering": ("P", "gold"), "iceberg": ("D", "cyan"),
           "quote_stuffing": ("*", "white"), "depth_collapse": ("v", "black"),
           "phantom": ("o", "pink"), "sweep": (">", "lime"),
           "delta_divergence": ("d", "orange"), "liquidation_cascade": ("s", "red"),
           "absorption": ("h", "deepskyblue")}


def _ns(t: Any) -> int:
    """A time bound as int ns since the epoch, UTC: an int (ns), a
    ``pandas.Timestamp``, a ``numpy.datetime64``, a ``datetime`` (naive =
    UTC) or an ISO string (UTC)."""
    import datetime as dt

    if isinstance(t, (int, np.integer)):
        return int(t)
    value = getattr(t, "value", None)  # pandas.Timestamp: ns since the epoch, UTC
    if isinstance(value, int):
        return value
    if isinstance(t, dt.datetime):
        aware = t if t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (aware - epoch) // dt.timedelta(microseconds=1) * 1000
    if isinstance(t, str):
        t = t.rstrip("Z")
    return int(np.datetime64(t, "ns").astype(np.int64))


def dense_window(ts: NDArray[np.int64], frac: float = 0.98) -> tuple[int, int]:
    """The shortest [t0, t1] holding ``frac`` of the distinct timestamps
    (distinct: a snapshot of thousands of levels at one instant is one
    moment of the day, not thousands)."""
    ts = np.unique(ts)
    n = len(ts)
    if n < 2:
        return (int(ts[0]), int(ts[0]) + 1) if n else (0, 1)
    k = max(int(np.ceil(frac * n)) - 1, 1)
    spans = ts[k:] - ts[: n - k]
    i = int(np.argmin(spans))
    return int(ts[i]), int(max(ts[i + k], ts[i] + 1))


def heatmap(result: ReplayResult, events: NDArray[Any] | None = None, *,
            ax: Axes | None = None, start: Any = None, end: Any = None, bins: int = 600,
            price_bins: int = 200, max_alerts: int = 30, title: str | None = None) -> Figure:
    """Draws ``result`` (a replay with ``depth > 0``; ``signals=True`` gives
    the trades' aggressor) and returns the Figure. ``events``: the replayed
    events, for the trades; ``ax``: draw there instead of a new figure;
    ``start``/``end``: the time window (see the module docs); ``bins``:
    time bins; ``price_bins``: price rows; ``max_alerts``: the strongest
    alerts drawn (of ``result.alerts``)."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.figure import SubFigure

    res = result
    if res.depth == 0:
        raise ValueError("the replay recorded no levels; replay with depth > 0")
    if res.ts is None or len(res) == 0:
        raise ValueError("the result has no events to draw")
    for name, v in (("bins", bins), ("price_bins", price_bins)):
        if not 1 <= v <= MAX_BINS:  # bounded before allocating the (price_bins, bins) grid
            raise ValueError(f"{name}={v}: expected 1..{MAX_BINS:,}")
    origin = time_origin_ns(res)
    ts = np.asarray(res.ts, dtype=np.int64) + origin  # ns since the epoch, UTC
    t0, t1 = dense_window(ts)
    t0 = _ns(start) if start is not None else t0
    t1 = _ns(end) if end is not None else t1
    if t1 <= t0:
        raise ValueError(f"start/end: the window is empty ({t0} .. {t1} ns)")
    if t1 - t0 < MIN_WINDOW_NS:  # e.g. one snapshot: a visible band, not a 1 ns sliver
        t1 = t0 + MIN_WINDOW_NS
    lo_i, hi_i = np.searchsorted(ts, [t0, t1], side="left")
    if hi_i <= lo_i:
        raise ValueError("start/end: no event falls inside the window")
    t_edges = np.linspace(t0, t1, bins + 1).astype(np.int64)
    # The book at the end of each time bin: the last event at or before it.
    rows = np.clip(np.searchsorted(ts, t_edges[1:], side="right") - 1, 0, len(ts) - 1)
    tick, lot = res.tick_size, res.lot_size
    bp, bq = res.bid_price[rows], res.bid_size[rows]
    ap, aq = res.ask_price[rows], res.ask_size[rows]
    live = np.concatenate([bp[bq > 0], ap[aq > 0]])
    if live.size == 0:
        raise ValueError("the book is empty throughout the window")
    lo, hi = np.percentile(live, [1, 99])
    # At least 20 ticks tall, so a thin book is a band, not a blank canvas.
    mid = (lo + hi) / 2
    lo, hi = min(lo, mid - 10), max(hi, mid + 10)
    p_edges = np.linspace(lo - 0.5, hi + 0.5, price_bins + 1)

    def grid(px: NDArray[np.int64], qty: NDArray[np.int64]) -> NDArray[np.float64]:
        g = np.zeros((price_bins, bins))
        j = np.repeat(np.arange(bins), px.shape[1]).reshape(px.shape)
        i = np.searchsorted(p_edges, px, side="right") - 1
        ok = (qty > 0) & (i >= 0) & (i < price_bins)
        np.add.at(g, (i[ok], j[ok]), qty[ok] * lot)
        return g

    gb, ga = grid(bp, bq), grid(ap, aq)
    x = mdates.date2num(t_edges.astype("datetime64[ns]"))
    y = p_edges * tick
    if ax is None:
        _, ax = plt.subplots(figsize=(14, 7), layout="constrained")
    owner = ax.figure
    fig: Figure = owner.figure if isinstance(owner, SubFigure) else owner  # the root figure
    positive = np.concatenate([gb[gb > 0], ga[ga > 0]])
    vmin, vmax = (positive.min(), positive.max()) if positive.size else (1.0, 10.0)
    norm = LogNorm(vmin=vmin, vmax=max(vmax, vmin * 10))
    mb = ax.pcolormesh(x, y, np.ma.masked_less_equal(gb, 0), cmap="Blues", norm=norm,
                       shading="flat")
    ma = ax.pcolormesh(x, y, np.ma.masked_less_equal(ga, 0), cmap="Oranges", norm=norm,
                       shading="flat")
    owner.colorbar(mb, ax=ax, pad=0.01, fraction=0.04, label="bid size (resting, log)")
    owner.colorbar(ma, ax=ax, pad=0.01, fraction=0.04, label="ask size (resting, log)")
    # Best bid / ask as step lines at the bin ends (drawn where the side is not empty).
    xb = x[1:]
    for price, size, colour, name in ((res.best_bid_price[rows], res.best_bid_size[rows],
                                       "navy", "best bid"),
                                      (res.best_ask_price[rows], res.best_ask_size[rows],
                                       "darkred", "best ask")):
        line = np.where(size > 0, price * tick, np.nan)
        ax.step(xb, line, where="post", color=colour, linewidth=1.0, label=name)
    if events is not None:
        _trades(ax, res, events, ts, lo_i, hi_i)
    if res.alerts is not None and len(res.alerts) and max_alerts > 0:
        _alerts(ax, res, origin, t0, t1, max_alerts)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("price")
    ax.set_title(title or "resting size, best bid/ask, trades, alerts")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8, ncols=2)
    return fig


def _trades(ax: Axes, res: ReplayResult, events: NDArray[Any], ts: NDArray[np.int64],
            lo_i: int, hi_i: int) -> None:
    import matplotlib.dates as mdates

    if len(events) != len(res):
        raise ValueError(f"events: {len(events)} rows, the result has {len(res)}")
    ev = events[lo_i:hi_i]
    t = ts[lo_i:hi_i]
    tr = (ev["kind"] == Kind.EXECUTE) | (ev["kind"] == Kind.TRADE)
    if res.signed_volume is not None:
        sign = np.sign(res.signed_volume[lo_i:hi_i])
    else:  # the aggressor is opposite the resting side
        sign = -ev["side"].astype(np.int64)
    size = ev["size"] * res.lot_size
    big = np.median(size[tr]) if tr.any() else 1.0
    # Dots shrink as trades crowd the window, so the book stays visible.
    dot = float(np.clip(60 / np.sqrt(max(int(tr.sum()), 1) / 100), 2, 12))
    for m, colour, label in ((tr & (sign > 0), "limegreen", "buyer-initiated trade"),
                             (tr & (sign < 0), "red", "seller-initiated trade")):
        if m.any():
            ax.scatter(mdates.date2num(t[m].astype("datetime64[ns]")),
                       ev["price"][m] * res.tick_size,
                       s=np.clip(np.sqrt(size[m] / max(big, 1e-12)) * dot, 2, 150),
                       c=colour, alpha=0.55, linewidths=0.2, edgecolors="black", label=label)


def _alerts(ax: Axes, res: ReplayResult, origin: int, t0: int, t1: int, cap: int) -> None:
    import matplotlib.dates as mdates

    al = res.alerts
    assert al is not None
    t = al["ts"] + origin
    inside = al[(t >= t0) & (t <= t1)]
    top = inside[np.argsort(-inside["score"], kind="stable")[:cap]]
    for kind, (mk, colour) in MARKERS.items():
        a = top[top["kind_name"] == kind]
        if len(a):
            n_all = int((inside["kind_name"] == kind).sum())
            ax.scatter(mdates.date2num((a["ts"] + origin).astype("datetime64[ns]")),
                       a["price_ticks"] * res.tick_size, marker=mk, c=colour, s=70,
                       edgecolors="black", linewidths=0.6,
                       label=f"{kind}: {len(a)} strongest of {n_all}")


#: Evidence shown under each alert kind's title (ALERT_DTYPE fields).
_EVIDENCE = {
    "spoofing": "{size:g} at {price:g}, {size_ratio:.0f}x typical, pulled after {life}, "
                "{fill_frac:.0%} filled, {opp_volume:g} traded opposite",
    "layering": "{count} layers, {size:g} in all, placed and pulled within {life}",
    "phantom": "{size:g} shown at {price:g} ({size_ratio:.0f}x typical), gone after {life}",
    "iceberg": "{size:g} refilled or hidden at {price:g}, {count} refills or prints in {life}",
    "quote_stuffing": "{count} messages in {life}, {size_ratio:.0f}x the rolling rate",
    "depth_collapse": "{size_ratio:.0%} of near depth ({size:g}) gone within {life}",
    "sweep": "{size:g} taken at {count} prices in {life} ({size_ratio:.0f}x the typical print), "
             "to {price:g}",
    "delta_divergence": "price to {price:g} ({price_move:g} steps past the earlier swing in {life}) "
                        "while delta went {opp_volume:g} the other way ({size_ratio:.0%} of {size:g})",
    "liquidation_cascade": "{count} sweeps, {size:g} taken in {life}, {size_ratio:.1f}x faster, "
                           "{fill_frac:.0%} of the hit side's depth gone, {opp_volume:g} liquidated",
    "absorption": "{size:g} traded at {price:g} in {count} prints over {life}, {size_ratio:.0f}x the "
                  "most it showed ({opp_volume:g}), {price_move:.1f}x the market's pace; it held",
}


def _duration(ns: int) -> str:
    return f"{ns / 1e9:.2f} s" if ns >= 1_000_000_000 else f"{ns / 1e6:.1f} ms"


def alert_view(result: ReplayResult, alert: Any, events: NDArray[Any] | None = None, *,
               ax: Axes | None = None, pad_ns: int | None = None, bins: int = 300,
               price_bins: int = 120) -> Figure:
    """One alert in close-up: :func:`heatmap` over the alert's own span
    (``lifetime_ns`` before its time) with ``pad_ns`` either side (default:
    the span itself, at least 100 ms), the alert marked, the order's or
    level's life drawn as a bar at its price, and the evidence in the title.
    ``alert``: one row of ``result.alerts``. Returns the Figure."""
    import dataclasses

    if result.alerts is None:
        raise ValueError("the result has no alerts: replay with detect=")
    a = np.asarray(alert)
    if a.dtype != result.alerts.dtype or a.ndim != 0:
        raise ValueError("alert: one row of result.alerts (ALERT_DTYPE)")
    life = max(int(a["lifetime_ns"]), 0)
    pad = max(life, 100_000_000) if pad_ns is None else int(pad_ns)
    if pad < 0:
        raise ValueError(f"pad_ns={pad_ns}: must be >= 0")
    origin = time_origin_ns(result)
    end = int(a["ts"]) + origin
    start = end - life
    one = dataclasses.replace(result, alerts=a.reshape(1))
    kind = str(a["kind_name"])
    evidence = _EVIDENCE.get(kind, "").format(
        size=float(a["size"]), price=float(a["price"]), size_ratio=float(a["size_ratio"]),
        life=_duration(life), fill_frac=float(a["fill_frac"]),
        opp_volume=float(a["opp_volume"]), count=int(a["count"]),
        price_move=float(a["price_move"]))
    fig = heatmap(one, events, ax=ax, start=start - pad, end=end + pad, bins=bins,
                  price_bins=price_bins, max_alerts=1,
                  title=f"{kind}, score {float(a['score']):.2f}: {evidence}")
    import matplotlib.dates as mdates

    target = ax if ax is not None else fig.axes[0]
    colour = MARKERS.get(kind, ("o", "black"))[1]
    span = mdates.date2num(np.array([start, end], dtype="datetime64[ns]"))
    if int(a["side"]) != 0:  # an order or a level: its life as a bar at its price
        target.hlines(float(a["price"]), span[0], span[1], colors=colour, linewidth=4,
                      alpha=0.8)
    else:  # book-wide: the span shaded
        target.axvspan(span[0], span[1], color=colour, alpha=0.15)
    return fig


def plot_book(events: NDArray[Any], res: ReplayResult, out: str | os.PathLike[str], *,
              title: str = "", bins: int = 600, dpi: int = 110, start: Any = None,
              end: Any = None) -> dict[str, Any]:
    """Draws :func:`heatmap` into a new figure and saves it to ``out`` (PNG,
    SVG or PDF by extension). Returns counts (events, trades, alerts)."""
    import matplotlib.pyplot as plt

    fig = heatmap(res, events, start=start, end=end, bins=bins, title=title or None)
    fig.savefig(os.fspath(out), dpi=dpi)
    plt.close(fig)
    tr = (events["kind"] == Kind.EXECUTE) | (events["kind"] == Kind.TRADE)
    counts: dict[str, int] = {}
    if res.alerts is not None:
        for kind in MARKERS:
            c = int((res.alerts["kind_name"] == kind).sum())
            if c:
                counts[kind] = c
    return {"events": len(events), "trades": int(tr.sum()), "alerts": counts}


#: Most price rows and bars a footprint picture writes numbers into; beyond
#: either, cells are drawn as colour only (text would overlap).
FOOTPRINT_TEXT_ROWS = 60
FOOTPRINT_TEXT_BARS = 30


def footprint(fp: Any, *, ax: Axes | None = None, bars: int = 24,
              row_steps: int | None = None, max_rows: int = 400,
              title: str | None = None) -> Figure:
    """Draws a :class:`lobkit.signals.Footprint` the way footprint charts
    are read: one column per bar (the last ``bars`` bars with volume), one
    row per ``row_steps`` price steps (default: the fewest that fit the
    bars' price span in :data:`FOOTPRINT_TEXT_ROWS` rows, as charting tools
    do with "ticks per row"; the title says the price per row). Each cell is
    shaded by its delta (green where buyers dominated, red where sellers
    did, intensity ∝ |delta|, saturating at the 98th percentile of |delta|
    drawn) and, when there are at most :data:`FOOTPRINT_TEXT_ROWS` rows and
    :data:`FOOTPRINT_TEXT_BARS` bars, labelled ``sell x buy`` (size units),
    in bold where the row holds a diagonal imbalance (green: buying ≥ ratio ×
    the selling a step below; red: selling ≥ ratio × the buying a step
    above); each bar's point of control is boxed. Without ``ax`` the figure
    also gets a panel of per-bar delta (bars) and CVD (line) below. Returns
    the Figure.

    ``max_rows``: the most rows drawn; a wider span raises ``ValueError``
    (draw fewer bars or more steps per row) instead of allocating a picture
    nobody can read."""
    if bars < 1:
        raise ValueError(f"bars={bars}: must be >= 1")
    if max_rows < 1:
        raise ValueError(f"max_rows={max_rows}: must be >= 1")
    if row_steps is not None and row_steps < 1:
        raise ValueError(f"row_steps={row_steps}: must be >= 1")
    if len(fp.bar_start) == 0:
        raise ValueError("the footprint has no trades: nothing to draw")
    keep_bars = fp.bar_start[-bars:]
    nbars = len(keep_bars)
    sel = np.isin(fp.bar, keep_bars)
    col = np.searchsorted(keep_bars, fp.bar[sel])
    ticks = fp.price_ticks[sel]
    step = max(int(fp.step_ticks), 1)
    span = (int(ticks.max()) - int(ticks.min())) // step + 1  # in price steps
    k = row_steps if row_steps is not None else _nice(-(-span // FOOTPRINT_TEXT_ROWS))
    per_row = step * k  # book ticks per row
    lo = int(ticks.min())
    lo -= lo % per_row  # rows on the venue's price steps
    rows = (int(ticks.max()) - lo) // per_row + 1
    if rows > max_rows:
        raise ValueError(f"the {nbars} bars span {rows} rows of {k} price step(s) (max_rows="
                         f"{max_rows}): draw fewer bars or more steps per row")
    # A print between steps (a midpoint execution) joins the row below it.
    row = (ticks - lo) // per_row
    nz = fp.price_ticks != 0
    tick = float(fp.price[nz][0] / fp.price_ticks[nz][0]) if nz.any() else 1.0
    cells = (row, col)
    shape = (rows, nbars)
    buy, sell = np.zeros(shape), np.zeros(shape)
    np.add.at(buy, cells, fp.buy[sel])
    np.add.at(sell, cells, fp.sell[sel])
    flag_buy, flag_sell, filled = (np.zeros(shape, bool) for _ in range(3))
    flag_buy[cells] |= fp.buy_imbalance[sel]
    flag_sell[cells] |= fp.sell_imbalance[sel]
    filled[cells] = True
    grid = np.where(filled, buy - sell, np.nan)
    # The colour saturates at the 98th percentile of |delta|, so one huge
    # cell does not wash out the rest.
    scale = float(np.nanpercentile(np.abs(grid), 98)) or 1.0
    unit = tick * per_row  # price per row

    import matplotlib.pyplot as plt
    from matplotlib.figure import SubFigure
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter

    lower: Axes | None = None
    if ax is None:
        _, (main, lower) = plt.subplots(2, 1, figsize=(12, 8), sharex=True,
                                        gridspec_kw={"height_ratios": [4, 1]})
    else:
        main = ax
    owner = main.figure
    fig: Figure = owner.figure if isinstance(owner, SubFigure) else owner  # the root figure
    main.imshow(grid, cmap="RdYlGn", vmin=-scale, vmax=scale, origin="lower", aspect="auto",
              interpolation="nearest", extent=(-0.5, nbars - 0.5, -0.5, rows - 0.5))
    if rows <= FOOTPRINT_TEXT_ROWS and nbars <= FOOTPRINT_TEXT_BARS:
        for r, c in zip(*np.nonzero(filled)):
            main.text(c, r, f"{sell[r, c]:.4g} x {buy[r, c]:.4g}", ha="center", va="center",
                    fontsize=7, fontweight="bold" if flag_buy[r, c] or flag_sell[r, c] else "normal",
                    color="darkgreen" if flag_buy[r, c] else "darkred" if flag_sell[r, c]
                    else "black")
    # Each bar's POC, boxed.
    poc_rows = (np.rint(fp.bar_poc[-nbars:] / tick).astype(np.int64) - lo) // per_row
    for c, r in enumerate(poc_rows):
        main.add_patch(Rectangle((c - 0.5, r - 0.5), 1.0, 1.0, fill=False, edgecolor="black",
                               linewidth=1.5))
    first_price = lo * tick
    main.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{first_price + v * unit:.{_decimals(unit)}f}"))
    main.set_ylabel("price")
    labels = [np.datetime64(int(b), "ns").astype("datetime64[s]").astype(str)[11:]
              for b in keep_bars]
    every = max(1, nbars // 12)
    main.set_xticks(range(0, nbars, every), labels[::every])
    main.set_title(title or f"footprint: {nbars} bars, sell x buy, "
                          f"{unit:.{_decimals(unit)}f} per row")
    if lower is not None:
        first = len(fp.bar_start) - nbars
        bd = fp.bar_delta[first:]
        lower.bar(range(nbars), bd, color=np.where(bd >= 0, "seagreen", "firebrick"))
        lower.set_ylabel("bar delta")
        twin = lower.twinx()
        twin.plot(range(nbars), fp.cvd[first:], color="black", linewidth=1.2)
        twin.set_ylabel("CVD")
        lower.set_xticks(range(0, nbars, every), labels[::every])
        fig.tight_layout()
    return fig


def _nice(k: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, ... >= k
    (steps per row a reader can add up)."""
    scale = 1
    while True:
        for m in (1, 2, 2.5, 5):
            v = int(m * scale)
            if v >= k and m * scale == v:
                return v
        scale *= 10


def _decimals(tick: float) -> int:
    """Decimals that show a price on a grid of ``tick`` exactly."""
    for d in range(10):
        if abs(round(tick * 10**d) - tick * 10**d) < 1e-9:
            return d
    return 10
