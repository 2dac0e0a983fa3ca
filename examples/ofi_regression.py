"""Replicates the OFI price-impact regression of Cont, Kukanov and Stoikov
(2014) on LOBSTER data: 10-second mid-price changes (in ticks of $0.01)
regressed on 10-second OFI, separately in each half-hour window, and the same
with trade imbalance (buyer- minus seller-initiated visible executions).

    python examples/ofi_regression.py [MESSAGE_FILE] [--out ofi.png]

Prints the mean R², the share of windows whose slope is significant at 5%
(|t| > 1.96), and writes a scatter of mid change against OFI with each
window's fitted line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import lobkit
from lobkit.io import message_rows, read_lobster_reconciled

NS = 1_000_000_000
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "lobster"
DEFAULT = SHARED / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
BUNDLED = (Path(lobkit.__path__[0]) / "data" / "lobster"
           / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz")


def ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, R² and the slope's t statistic of y = a + b x."""
    n = len(x)
    xm, ym = x - x.mean(), y - y.mean()
    sxx = float(xm @ xm)
    if n < 3 or sxx == 0:
        return float("nan"), float("nan"), float("nan")
    b = float(xm @ ym) / sxx
    resid = ym - b * xm
    sst = float(ym @ ym)
    r2 = 1 - float(resid @ resid) / sst if sst > 0 else float("nan")
    se = np.sqrt(float(resid @ resid) / (n - 2) / sxx)
    return b, r2, (b / se if se > 0 else float("inf"))


def intervals(path: Path, interval_s: float, window_s: float):
    """Per interval: window id, OFI (shares), trade imbalance (shares), Δmid (cents)."""
    ev, _ = read_lobster_reconciled(path)
    res = lobkit.replay(ev, depth=0, signals=True, unknown_id="anonymous")
    ts = ev["ts"]
    first = message_rows(ev)[0]  # events before it seed the book as of 09:30
    start = ts[first]
    k = (ts - start) // int(interval_s * NS)
    n_int = int(k.max()) + 1
    flow = res.ofi.copy()
    flow[:first] = 0  # the seed is the opening book, not order flow
    ofi = np.bincount(k, weights=flow, minlength=n_int)
    # Visible executions: a resting sell (side -1) executed = buyer-initiated.
    ex = ev["kind"] == lobkit.Kind.EXECUTE
    signed = np.where(ev["side"] == -1, 1, -1) * ev["size"] * ex
    ti = np.bincount(k, weights=signed, minlength=n_int)
    # Mid (in cents: LOBSTER prices are $0.0001) at the end of each interval;
    # undefined while a side is empty (AAPL's level-1 file opens with no bid),
    # and an interval that starts or ends one-sided is left out.
    two_sided = (res.best_bid_size > 0) & (res.best_ask_size > 0)
    mid = np.where(two_sided, (res.best_bid_price + res.best_ask_price) / 2 / 100, np.nan)
    last = np.full(n_int, -1)
    np.maximum.at(last, k, np.arange(len(ev)))
    filled = np.maximum.accumulate(last)  # intervals without events keep the last mid
    end_mid = np.where(filled >= 0, mid[np.maximum(filled, 0)], np.nan)
    # the seed (the book as of 09:30) opens the first interval
    dmid = np.diff(np.r_[mid[first - 1] if first else np.nan, end_mid])
    ok = np.isfinite(dmid)
    window = (np.arange(n_int) * interval_s // window_s).astype(int)
    return window[ok], ofi[ok], ti[ok], dmid[ok]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("messages", nargs="?", type=Path,
                    default=DEFAULT if DEFAULT.exists() else BUNDLED)
    ap.add_argument("--interval", type=float, default=10.0, help="seconds (default 10)")
    ap.add_argument("--window", type=float, default=1800.0, help="seconds (default 1800)")
    ap.add_argument("--out", type=Path, default=Path("ofi_regression.png"))
    a = ap.parse_args(argv)
    w, ofi, ti, dmid = intervals(a.messages, a.interval, a.window)
    rows = []
    for wid in np.unique(w):
        m = w == wid
        b, r2, t = ols(ofi[m], dmid[m])
        _, r2t, _ = ols(ti[m], dmid[m])
        rows.append((wid, m.sum(), b, r2, t, r2t))
    rows = np.array(rows, dtype=float)
    good = np.isfinite(rows[:, 3])
    print(f"{a.messages.name}: {len(dmid):,} intervals of {a.interval:g}s in {int(good.sum())} "
          f"windows of {a.window / 60:g} min")
    print(f"{'window':>6} {'n':>5} {'beta (cents/share)':>19} {'R2 OFI':>7} {'t':>7} {'R2 TI':>7}")
    for wid, n, b, r2, t, r2t in rows:
        print(f"{int(wid):>6} {int(n):>5} {b:>19.3e} {r2:>7.3f} {t:>7.1f} {r2t:>7.3f}")
    mean_r2 = float(np.nanmean(rows[:, 3]))
    mean_r2t = float(np.nanmean(rows[:, 5]))
    share_sig = float(np.mean(np.abs(rows[good, 4]) > 1.96))
    print(f"mean R2 (OFI) {mean_r2:.3f}; windows with a significant OFI slope {share_sig:.0%}; "
          f"mean R2 (trade imbalance) {mean_r2t:.3f}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return 0
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    sc = ax.scatter(ofi, dmid, c=w, s=6, cmap="viridis", alpha=0.6)
    for wid, _, b, _, _, _ in rows:
        m = w == wid
        # each window's fit over the OFI range it saw (5th-95th percentile)
        xs = np.linspace(*np.percentile(ofi[m], [5, 95]), 20)
        if np.isfinite(b):
            ax.plot(xs, dmid[m].mean() + b * (xs - ofi[m].mean()), lw=0.8,
                    color=plt.cm.viridis(wid / max(rows[:, 0].max(), 1)))
    ax.set_xlabel(f"OFI over {a.interval:g} s (shares)")
    ax.set_ylabel(f"mid-price change over {a.interval:g} s (cents)")
    ax.set_title(f"{a.messages.name.split('_')[0]}: mean R² OFI {mean_r2:.2f}, "
                 f"trade imbalance {mean_r2t:.2f}")
    fig.colorbar(sc, ax=ax, label="half-hour window")
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
