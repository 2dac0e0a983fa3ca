"""A Bookmap-style picture of a LOBSTER replay: resting size as a heatmap
(time on x, price on y, colour = size), executions on top (green = buyer-
initiated, red = seller-initiated), and the detectors' alerts marked.

    python examples/heatmap.py MESSAGE_FILE [--out book.png] [--levels 10]
        [--bins 600] [--tick 100]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import lobkit
from lobkit.io import read_lobster_reconciled

MARKERS = {"spoofing": ("X", "magenta"), "layering": ("P", "orange"), "iceberg": ("D", "cyan"),
           "quote_stuffing": ("*", "yellow"), "depth_collapse": ("v", "white"),
           "phantom": ("o", "pink")}


def heatmap(events, res, bins: int, price_bins: int = 200):
    """(time edges ns, price edges, size grid) from the recorded levels,
    sampled at the last event of each time bin."""
    ts = events["ts"]
    t_edges = np.linspace(ts[0], ts[-1], bins + 1)
    rows = np.clip(np.searchsorted(ts, t_edges[1:], side="right") - 1, 0, len(ts) - 1)
    px = np.concatenate([res.bid_price[rows], res.ask_price[rows]], axis=1)
    sz = np.concatenate([res.bid_size[rows], res.ask_size[rows]], axis=1)
    live = sz > 0
    lo, hi = np.percentile(px[live], [0.5, 99.5])
    p_edges = np.linspace(lo, hi, price_bins + 1)
    grid = np.zeros((price_bins, bins))
    j = np.repeat(np.arange(bins), px.shape[1]).reshape(px.shape)
    i = np.searchsorted(p_edges, px, side="right") - 1
    ok = live & (i >= 0) & (i < price_bins)
    np.add.at(grid, (i[ok], j[ok]), sz[ok])
    return t_edges, p_edges, grid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("messages")
    ap.add_argument("--out", default="book.png")
    ap.add_argument("--levels", type=int, default=10)
    ap.add_argument("--bins", type=int, default=600)
    ap.add_argument("--tick", type=int, default=100, help="book ticks per price step (LOBSTER: 100)")
    a = ap.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ev, _ = read_lobster_reconciled(a.messages)
    res = lobkit.replay(ev, depth=a.levels, unknown_id="anonymous", signals=True,
                        detect={"tick": a.tick})
    t_edges, p_edges, grid = heatmap(ev, res, a.bins)
    scale = 1e-4  # LOBSTER prices are $0.0001 ticks
    fig, ax = plt.subplots(figsize=(14, 7))
    hours = lambda ns: np.asarray(ns) / 3.6e12
    ax.pcolormesh(hours(t_edges), p_edges * scale, np.log1p(grid), cmap="viridis", shading="flat")
    tr = (ev["kind"] == lobkit.Kind.EXECUTE) | (ev["kind"] == lobkit.Kind.TRADE)
    buy = tr & (res.signed_volume > 0)
    sell = tr & (res.signed_volume < 0)
    for m, c in ((buy, "lime"), (sell, "red")):
        ax.scatter(hours(ev["ts"][m]), ev["price"][m] * scale, s=np.sqrt(ev["size"][m]) * 0.6, c=c,
                   alpha=0.5, linewidths=0)
    counts = lobkit.detect.summary(res.alerts)
    for kind, (mk, col) in MARKERS.items():
        al = res.alerts[res.alerts["kind_name"] == kind]
        if len(al):
            ax.scatter(hours(al["ts"]), al["price_ticks"] * scale, marker=mk, c=col, s=40,
                       edgecolors="black", linewidths=0.4, label=f"{kind} ({len(al)})")
    ax.set_ylim(p_edges[0] * scale, p_edges[-1] * scale)
    ax.set_xlabel("time (hours after midnight)")
    ax.set_ylabel("price ($)")
    ax.set_title(f"{a.messages.split('/')[-1][:40]}: resting size (log), trades, alerts")
    if counts:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.7)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}: {len(ev):,} events, {len(res.alerts)} alerts {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
