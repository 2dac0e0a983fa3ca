"""Loader throughput per format, side by side with the usual Python way of
reading the same bytes, in one process.

    python benches/loaders.py [--repeat 5] [--rows 1000000]

Each row: decompressed MB/s and events/s of the lobkit loader (parse +
exact decimal conversion to ticks/lots, file already in memory
decompressed), and the baseline on the same bytes:

* CSV formats (LOBSTER, Tardis, event table): ``pandas.read_csv`` (parsing
  only: floats, no grid check, no events);
* Binance JSON lines: ``json.loads`` per line (parsing only, no sync);
* DBN: ``databento_dbn.DBNDecoder`` producing its record objects.

The ratio is baseline time / lobkit time (> 1: lobkit faster). Medians of
``--repeat`` runs; timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

import lobkit
import lobkit.testing

sys.path.insert(0, str(Path(__file__).parent))
from peers import median_time  # noqa: E402  (one timing helper for both benches)
from lobkit import _core
from lobkit.io import read_bytes

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
BUNDLED = Path(lobkit.__path__[0]) / "data"


def tardis_bytes(rows: int) -> bytes:
    """A Tardis incremental_book_L2 file from the synthetic L2 stream."""
    ev = lobkit.testing.synthetic_l2(rows, seed=1)
    buf = io.StringIO()
    buf.write("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n")
    side = np.where(ev["side"] == 1, "bid", "ask")
    px = ev["price"] / 100
    q = ev["size"] / 1000
    us = ev["ts"] // 1000
    for s, p, a, t in zip(side.tolist(), px.tolist(), q.tolist(), us.tolist()):
        buf.write(f"binance-futures,BTCUSDT,{t},{t + 50},false,{s},{p:.2f},{a:.3f}\n")
    return buf.getvalue().encode()


def table_bytes(rows: int, tmp: Path) -> bytes:
    from lobkit.io import write_events

    ev = lobkit.testing.synthetic_l3(rows, seed=2)
    f = tmp / "events.csv"
    write_events(ev, f, tick_size=0.01, lot_size=1)
    return f.read_bytes()


def cases(rows: int, tmp: Path):
    import pandas as pd

    lob = SHARED / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    if not lob.exists():
        lob = BUNDLED / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
    data = read_bytes(lob)
    yield ("lobster (GOOG messages)", data,
           lambda: _core.parse_lobster_messages(data, tick=1)[0],
           "pandas.read_csv", lambda: pd.read_csv(io.BytesIO(data), header=None))
    data_t = tardis_bytes(rows)
    yield (f"tardis incremental_book_L2 ({rows:,} synthetic rows)", data_t,
           lambda: _core.parse_tardis(data_t, tick="0.01", lot="0.001")[2],
           "pandas.read_csv", lambda: pd.read_csv(io.BytesIO(data_t)))
    data_e = table_bytes(rows, tmp)
    yield (f"event table CSV ({rows:,} synthetic rows)", data_e,
           lambda: _core.parse_event_table(data_e, tick="0.01", lot="1"),
           "pandas.read_csv", lambda: pd.read_csv(io.BytesIO(data_e)))
    bn = SHARED / "binance" / "usdm" / "btcusdt_20240808.gz"
    if not bn.exists():
        bn = BUNDLED / "binance" / "btcusdt_usdm_20240808_head4000.gz"
    data_b = read_bytes(bn)
    lines = data_b.splitlines()
    yield ("binance USD-M BTCUSDT capture (sync + trades)", data_b,
           lambda: _core.parse_depth(data_b, tick="0.1", lot="0.001")[0],
           "json.loads per line", lambda: [json.loads(l.split(b" ", 1)[1]) for l in lines])
    dbn = SHARED / "databento" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    try:
        import databento_dbn
    except ImportError:
        databento_dbn = None
    if dbn.exists() and databento_dbn is not None:
        from lobkit.io import read_dbn

        raw = read_bytes(dbn)

        def decode():
            d = databento_dbn.DBNDecoder()
            d.write(raw)
            return [(r.price, r.size, r.order_id) for r in d.decode()[1:]]

        yield ("dbn MBO ESH4 (incl. zstd)", raw, lambda: read_dbn(dbn, tick_size=0.25),
               "DBNDecoder objects", decode)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000)
    a = ap.parse_args(argv)
    import tempfile

    print(f"{'format':<50} {'MB':>6} {'events':>10} {'lobkit MB/s':>12} {'M ev/s':>7} "
          f"{'baseline':<22} {'MB/s':>7} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data, fn, bname, bfn in cases(a.rows, Path(tmp)):
            t, out = median_time(fn, a.repeat)
            tb, _ = median_time(bfn, max(1, a.repeat // 2))
            n = len(out) // (40 if out.dtype == np.uint8 else 1)
            mb = len(data) / 1e6
            print(f"{name:<50} {mb:>6.1f} {n:>10,} {mb / t:>12.0f} {n / t / 1e6:>7.1f} "
                  f"{bname:<22} {mb / tb:>7.0f} {tb / t:>5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
