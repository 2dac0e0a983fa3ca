"""Python hot paths for the instruction-count gate (run by
``benches/instructions.py`` under callgrind, never on its own).

``python benches/instructions_py.py <workload> <n>`` prepares the inputs, then
runs the workload over ``n`` events. The driver runs it for two values of
``n`` and reports (I(n2) - I(n1)) / (n2 - n1): interpreter start-up, imports
and set-up cancel, leaving the cost per event of the call as the README shows
it, interpreter loop included.
"""

from __future__ import annotations

import gzip
import sys
from itertools import islice
from pathlib import Path

import numpy as np

import lobkit
from lobkit.io import BinanceDepth
from lobkit.testing import synthetic_l2

BINANCE = (Path(lobkit.__file__).parent / "data" / "binance"
           / "btcusdt_usdm_20240808_head4000.gz")
#: Inputs are built for this many events whatever `n` is, so their cost
#: cancels in the difference; `n` must not exceed it.
N_MAX = 60_000


def natural(n: int) -> None:
    ev = synthetic_l2(N_MAX, seed=42)
    side = np.where(ev["side"] == 1, "bid", "ask").tolist()
    px = (ev["price"] * 0.01).tolist()
    sz = (ev["size"] * 0.001).tolist()
    book = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    for s, p, q in islice(zip(side, px, sz), n):
        book.update(s, p, q)
        book.best_bid  # noqa: B018  (the read is the work measured)
        book.best_ask  # noqa: B018


def ticks(n: int) -> None:
    ev = synthetic_l2(N_MAX, seed=42)
    si, pt, st = ev["side"].tolist(), ev["price"].tolist(), ev["size"].tolist()
    book = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    for s, p, q in islice(zip(si, pt, st), n):
        book.update_ticks(s, p, q)
        book.best_bid_ticks  # noqa: B018
        book.best_ask_ticks  # noqa: B018


def apply_one(n: int) -> None:
    ev = synthetic_l2(N_MAX, seed=42)
    one = [ev[i:i + 1] for i in range(N_MAX)]
    book = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    for e in islice(one, n):
        book.apply(e)


def replay_depth0(n: int) -> None:
    ev = synthetic_l2(N_MAX, seed=42)
    lobkit.replay(ev[:n], book_type="l2", depth=0, tick_size=0.01, lot_size=0.001)


def binance_messages(n: int) -> None:
    """`n` messages of the bundled USD-M capture (repeated from the start
    with a fresh keeper when `n` exceeds it), each parsed and applied."""
    with gzip.open(BINANCE, "rb") as f:
        msgs = [(int(ts), m) for ts, _, m in (r.partition(b" ") for r in f.read().splitlines())]
    done = 0
    while done < n:
        feed = BinanceDepth(tick_size="0.1", lot_size="0.001",
                            book=lobkit.L2Book(tick_size=0.1, lot_size=0.001))
        for ts, m in msgs[: n - done]:
            feed.on_message(m, ts)
        done += min(len(msgs), n - done)


WORKLOADS = {
    "py_update_natural": natural,
    "py_update_ticks": ticks,
    "py_apply_1_event": apply_one,
    "py_replay_depth0": replay_depth0,
    "py_binance_on_message": binance_messages,
}

if __name__ == "__main__":
    n = int(sys.argv[2])
    if not 0 <= n <= N_MAX:
        sys.exit(f"n={n}: expected 0..{N_MAX}")
    WORKLOADS[sys.argv[1]](n)
