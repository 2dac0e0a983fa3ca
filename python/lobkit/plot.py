"""A Bookmap-style picture of a replay: resting size as a heatmap (time on
x, price on y, colour = log size), trades on top (green = buyer-initiated,
red = seller-initiated), and the detectors' alerts marked. Needs
matplotlib (``pip install lobkit[plot]``)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._kinds import Kind
from .result import ReplayResult

MARKERS = {"spoofing": ("X", "magenta"), "layering": ("P", "orange"), "iceberg": ("D", "cyan"),
           "quote_stuffing": ("*", "yellow"), "depth_collapse": ("v", "white"),
           "phantom": ("o", "pink")}


def heatmap_grid(events: NDArray[Any], res: ReplayResult, bins: int = 600, price_bins: int = 200,
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(time edges ns, price edges ticks, size grid (price_bins, bins)) from
    the recorded levels, sampled at the last event of each time bin."""
    if res.depth == 0:
        raise ValueError("the replay recorded no levels; replay with depth > 0")
    ts = events["ts"]
    t_edges = np.linspace(ts[0], max(ts[-1], ts[0] + 1), bins + 1)
    rows = np.clip(np.searchsorted(ts, t_edges[1:], side="right") - 1, 0, len(ts) - 1)
    px = np.concatenate([res.bid_price[rows], res.ask_price[rows]], axis=1)
    sz = np.concatenate([res.bid_size[rows], res.ask_size[rows]], axis=1)
    live = sz > 0
    if not live.any():
        raise ValueError("the book is empty in every time bin")
    lo, hi = np.percentile(px[live], [0.5, 99.5])
    hi = max(hi, lo + 1)
    p_edges = np.linspace(lo, hi, price_bins + 1)
    grid = np.zeros((price_bins, bins))
    j = np.repeat(np.arange(bins), px.shape[1]).reshape(px.shape)
    i = np.searchsorted(p_edges, px, side="right") - 1
    ok = live & (i >= 0) & (i < price_bins)
    np.add.at(grid, (i[ok], j[ok]), sz[ok])
    return t_edges, p_edges, grid


def plot_book(events: NDArray[Any], res: ReplayResult, out: str | os.PathLike[str], *,
              title: str = "", bins: int = 600, dpi: int = 110) -> dict[str, Any]:
    """Renders the heatmap to ``out`` (PNG, SVG or PDF by extension).
    ``res`` needs ``depth > 0`` and ``signals=True`` (for the trade sides);
    alerts are drawn when the replay ran detectors. Returns counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if res.signed_volume is None:
        raise ValueError("replay with signals=True to colour trades by aggressor")
    tick = res.tick_size
    t_edges, p_edges, grid = heatmap_grid(events, res, bins)
    t0 = events["ts"][0]

    def secs(ns: Any) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (np.asarray(ns, dtype=np.float64) - t0) / 1e9
        return out

    fig, ax = plt.subplots(figsize=(14, 7))
    ax.pcolormesh(secs(t_edges), p_edges * tick, np.log1p(grid), cmap="viridis", shading="flat")
    tr = (events["kind"] == Kind.EXECUTE) | (events["kind"] == Kind.TRADE)
    for m, c in ((tr & (res.signed_volume > 0), "lime"), (tr & (res.signed_volume < 0), "red")):
        size = events["size"][m] * res.lot_size
        ax.scatter(secs(events["ts"][m]), events["price"][m] * tick,
                   s=np.sqrt(size / max(np.median(size), 1e-12)) * 6 if len(size) else 1,
                   c=c, alpha=0.5, linewidths=0)
    counts: dict[str, int] = {}
    if res.alerts is not None:
        for kind, (mk, col) in MARKERS.items():
            al = res.alerts[res.alerts["kind_name"] == kind]
            if len(al):
                counts[kind] = len(al)
                ax.scatter(secs(al["ts"]), al["price_ticks"] * tick, marker=mk, c=col, s=40,
                           edgecolors="black", linewidths=0.4, label=f"{kind} ({len(al)})")
    ax.set_ylim(p_edges[0] * tick, p_edges[-1] * tick)
    ax.set_xlabel("seconds from the first event")
    ax.set_ylabel("price")
    ax.set_title(title or "resting size (log), trades, alerts")
    if counts:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.7)
    fig.tight_layout()
    fig.savefig(os.fspath(out), dpi=dpi)
    plt.close(fig)
    return {"events": len(events), "trades": int(tr.sum()), "alerts": counts}
