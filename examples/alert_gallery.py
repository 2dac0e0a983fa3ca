"""The strongest alert of each detector on real data, in close-up.

    python examples/alert_gallery.py [--out alerts.png] [--bundled]

Replays the real captures (``../shared/data``: LOBSTER GOOG, AMZN and AAPL,
Binance spot and USD-M BTCUSDT, CME ES; with ``--bundled`` or without that
directory, the excerpts shipped in the package) with every detector at its
defaults, takes each detector's highest-scoring alert across them and draws
it with :func:`lobkit.plot.alert_view`: the book around it, the trades, the
order's life as a bar, the evidence in the title. Prints one line per kind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import lobkit
from lobkit.detect import DETECTORS
from lobkit.io import load
from lobkit.plot import alert_view

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BUNDLED = Path(lobkit.__path__[0]) / "data"
CAPTURES = [  # (name, path under shared/data, detector options)
    ("LOBSTER GOOG", "lobster/GOOG_2012-06-21_34200000_57600000_message_10.csv.gz", {"tick": 100}),
    ("LOBSTER AMZN", "lobster/AMZN_2012-06-21_34200000_57600000_message_5.csv.gz", {"tick": 100}),
    ("LOBSTER AAPL", "lobster/AAPL_2012-06-21_34200000_37800000_message_30.csv.gz", {"tick": 100}),
    ("Binance spot BTCUSDT", "binance/spot/btcusdt_20240808.gz", {}),
    ("Binance USD-M BTCUSDT", "binance/usdm/btcusdt_20240808.gz", {}),
    ("CME ES", "databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst", {}),
]
EXCERPTS = [
    ("LOBSTER GOOG excerpt",
     "lobster/GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz", {"tick": 100}),
    ("Binance USD-M BTCUSDT excerpt", "binance/btcusdt_usdm_20240808_head4000.gz", {}),
]


def strongest(captures: list[tuple[str, Path, dict[str, Any]]]) -> dict[str, tuple[Any, ...]]:
    """Per detector: (score, capture name, result, events, alert) of its top alert."""
    best: dict[str, tuple[Any, ...]] = {}
    for name, path, opts in captures:
        feed = load(path)
        res = lobkit.replay(feed, depth=10, signals=True, detect=opts)
        a = res.alerts
        assert a is not None
        for kind in DETECTORS:
            mine = a[a["kind_name"] == kind]
            if len(mine) and (kind not in best or mine["score"].max() > best[kind][0]):
                top = mine[int(mine["score"].argmax())]
                best[kind] = (float(top["score"]), name, res, feed.events, top)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("alerts.png"))
    ap.add_argument("--bundled", action="store_true", help="use the shipped excerpts only")
    a = ap.parse_args(argv)
    use_shared = not a.bundled and SHARED.is_dir()
    base, rows = (SHARED, CAPTURES) if use_shared else (BUNDLED, EXCERPTS)
    captures = [(n, base / p, o) for n, p, o in rows if (base / p).exists()]
    best = strongest(captures)
    for kind in DETECTORS:
        if kind in best:
            score, name, _, _, al = best[kind]
            print(f"{kind:15s} {name:30s} score {score:.3f} size {al['size']:g} "
                  f"x{al['size_ratio']:.1f} life {al['lifetime_ns'] / 1e6:.1f} ms")
        else:
            print(f"{kind:15s} no alert on these captures")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no picture", file=sys.stderr)
        return 0
    kinds = [k for k in DETECTORS if k in best]
    cols = 2
    nrows = max(1, (len(kinds) + cols - 1) // cols)
    fig = plt.figure(figsize=(9 * cols, 5.2 * nrows), layout="constrained")
    subs = fig.subfigures(nrows, cols, squeeze=False)
    for sub, kind in zip(subs.flat, kinds):
        _, name, res, events, al = best[kind]
        ax = sub.subplots()
        alert_view(res, al, events, ax=ax)
        ax.set_title(f"{name}: " + ax.get_title(), fontsize=9)
    for sub in list(subs.flat)[len(kinds):]:
        sub.set_visible(False)
    fig.savefig(a.out, dpi=80)
    plt.close(fig)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
