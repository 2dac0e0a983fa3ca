"""Engine and reader benchmarks (issue 5), printed as a table:

* writer throughput (events/s through the engine, one publication per
  event: every event is flagged as its own feed message) with 0, 1, 2 and 4
  reader threads copying snapshots back to back, and the ratio to 0 readers;
* reader copy time (ns per consistent snapshot, 10 levels);
* end-to-end latency: Python ``push_one`` -> a reader thread sees the new
  publication (p50, p99, p99.9, µs), and the same for a streaming book's
  own ``reader()``.

    python benches/engine.py [--events N] [--pings N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

import numpy as np

import lobkit
import lobkit.io
from lobkit.testing import synthetic_l2


def writer_throughput(ev, readers: int, repeat: int) -> tuple[float, int]:
    rates, reads_total = [], 0
    for _ in range(repeat):
        eng = lobkit.Engine(lobkit.L2Book(), capacity=1 << 16, levels=10, batch=256)
        rd = eng.reader()
        stop = threading.Event()
        counts = []

        def spin():
            n = 0
            while not stop.is_set():
                n += rd.check_reads(20_000)[0]
            counts.append(n)

        ts = [threading.Thread(target=spin) for _ in range(readers)]
        for t in ts:
            t.start()
        t0 = time.perf_counter()
        eng.push(ev)
        eng.flush()
        dt = time.perf_counter() - t0
        stop.set()
        for t in ts:
            t.join()
        eng.close()
        rates.append(len(ev) / dt)
        reads_total += sum(counts)
    return statistics.median(rates), reads_total


def reader_copy_ns(n: int = 200_000) -> float:
    eng = lobkit.Engine(lobkit.L2Book(), levels=10)
    eng.push(synthetic_l2(1000, seed=1))
    eng.flush()
    rd = eng.reader()
    t0 = time.perf_counter()
    rd.check_reads(n)
    dt = time.perf_counter() - t0
    eng.close()
    return dt / n * 1e9


def ping_latency(pings: int) -> dict[str, float]:
    """push_one from this thread; a reader thread waits for each new
    publication and stamps it; latency = seen - pushed."""
    eng = lobkit.Engine(lobkit.L2Book(), levels=10, batch=1)
    rd = eng.reader()
    seen = []
    ready = threading.Event()

    def follow():
        seq = rd.seq
        ready.set()
        while len(seen) < pings:
            s = rd.wait(seq, timeout=5)
            if s is None:
                break
            seen.append((s, time.perf_counter_ns()))
            seq = s

    t = threading.Thread(target=follow)
    t.start()
    ready.wait()
    sent = []
    base = rd.seq
    for i in range(pings):
        t0 = time.perf_counter_ns()
        eng.push_one(lobkit.Kind.SET_LEVEL, 1, 1000 + (i % 7), 1 + i, ts=i)
        sent.append(t0)
        # wait until it is seen so each ping is measured alone
        while len(seen) < i + 1 and t.is_alive():
            time.sleep(0)
    t.join(10)
    eng.close()
    by_seq = {s - base - 1: ns for s, ns in seen}
    lat = np.array([by_seq[i] - sent[i] for i in range(pings) if i in by_seq]) / 1e3
    return {"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
            "p99.9": float(np.percentile(lat, 99.9)), "n": len(lat)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--pings", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    ev = synthetic_l2(a.events, seed=7)
    # Every event its own feed message (F_LAST): the engine publishes after
    # each one, the most publication work a stream can ask for.
    ev["flags"] |= lobkit.io.F_LAST
    print(f"engine writer: {len(ev):,} L2 events pushed in one call, each its own message "
          f"(F_LAST: one publication per event) (median of {a.repeat})")
    base = None
    for k in (0, 1, 2, 4):
        rate, reads = writer_throughput(ev, k, a.repeat)
        base = base or rate
        print(f"  {k} reader threads: {rate / 1e6:6.2f} M events/s   {base / rate:4.2f}x the 0-reader time"
              f"   ({reads:,} snapshot copies)")
    print(f"reader: {reader_copy_ns():.0f} ns per consistent 10-level snapshot copy")
    lat = ping_latency(a.pings)
    print(f"end-to-end push_one -> reader sees it: p50 {lat['p50']:.1f} µs, p99 {lat['p99']:.1f} µs, "
          f"p99.9 {lat['p99.9']:.1f} µs ({lat['n']} pings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
