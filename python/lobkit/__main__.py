"""Command line: ``python -m lobkit demo`` and ``python -m lobkit replay``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "lobster"
DEMO_MESSAGES = DATA / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def _fmt_time(ns: int) -> str:
    s, frac = divmod(int(ns), 1_000_000_000)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{frac // 1000:06d}"


def print_book(book, n: int = 5, out=sys.stdout) -> None:
    """Prints the top `n` levels side by side."""
    bids, asks = book.bids(n), book.asks(n)
    out.write(f"{'bid size':>10} {'bid':>10} | {'ask':<10} {'ask size':<10}\n")
    for i in range(n):
        b = f"{bids[i, 1]:>10g} {bids[i, 0]:>10.2f}" if i < len(bids) else " " * 21
        a = f"{asks[i, 0]:<10.2f} {asks[i, 1]:<10g}" if i < len(asks) else ""
        out.write(f"{b} | {a}\n")


def demo(args: argparse.Namespace) -> int:
    import lobkit
    from lobkit.io import lobster_book_columns, message_rows, read_lobster_orderbook
    from lobkit.io import read_lobster_reconciled

    path = Path(args.messages) if args.messages else DEMO_MESSAGES
    print(f"lobkit {lobkit.__version__}: LOBSTER L3 replay of {path.name}")
    events, corr = read_lobster_reconciled(path)
    ob = read_lobster_orderbook(str(path).replace("message", "orderbook"))
    msgs = message_rows(events)
    n_seed = int(((events["kind"] == lobkit.Kind.SEED) & (events["flags"] == 0)).sum())
    print(f"  {len(msgs):,} messages, {n_seed} seed levels (book before the first message), "
          f"{len(corr['row']):,} corrections from the orderbook file "
          f"(out of window {int((corr['reason'] == 1).sum()):,}, replaced ids "
          f"{int((corr['reason'] == 2).sum()):,}, unexplained {int((corr['reason'] == 0).sum()):,})")
    res = lobkit.replay(events, depth=10, tick_size=0.0001, unknown_id="anonymous",
                        progress=True, chunk=max(len(events) // 50, 1))
    # The book after message k (and its corrections) vs orderbook row k.
    at = np.r_[msgs[1:] - 1, len(events) - 1]
    want = lobster_book_columns(ob)
    ok = np.ones(len(at), bool)
    for k, v in want.items():
        ok &= (getattr(res, k)[at] == v).all(axis=1)
    print(f"  book == LOBSTER orderbook file (all 10 levels) on {ok.sum():,}/{len(ok):,} rows; "
          f"replay took {res.seconds * 1e3:.1f} ms ({len(events) / max(res.seconds, 1e-9) / 1e6:.1f} M events/s)")
    book = res.book
    print(f"\nBook at {_fmt_time(events['ts'][-1])} (last of {book.events:,} events):")
    print_book(book, 5)
    bq, aq = res.best_bid_size.astype(float), res.best_ask_size.astype(float)
    imb = (bq - aq) / np.maximum(bq + aq, 1)
    m = msgs
    ex = events[m][events["kind"][m] == lobkit.Kind.EXECUTE]
    hid = events[m][events["kind"][m] == lobkit.Kind.TRADE]
    # An execution of a resting sell (side -1) is buyer-initiated.
    buy = int(ex["size"][ex["side"] == -1].sum())
    sell = int(ex["size"][ex["side"] == 1].sum())
    micro = (book.best_bid_price * book.best_ask_size + book.best_ask_price * book.best_bid_size) / (
        book.best_bid_size + book.best_ask_size)
    print("\nSignals:")
    print(f"  mid {book.mid:.4f}  spread {book.spread:.2f}  micro-price (size-weighted mid) {micro:.4f}")
    print(f"  level-1 queue imbalance now {imb[-1]:+.3f}, mean over replay {imb.mean():+.3f}")
    print(f"  mean spread {res.spread_ticks[at].mean() / 100:.2f} cents")
    print(f"  visible executions {len(ex):,} ({int(ex['size'].sum()):,} shares: buyer-initiated {buy:,}, "
          f"seller-initiated {sell:,}); hidden executions {len(hid):,} ({int(hid['size'].sum()):,} shares)")
    return 0 if ok.all() else 1


def replay_cmd(args: argparse.Namespace) -> int:
    import lobkit
    from lobkit.io import read_lobster, read_lobster_reconciled

    if args.format != "lobster":
        print(f"unsupported --format {args.format!r} (supported: lobster)", file=sys.stderr)
        return 2
    if args.reconcile:
        events, _ = read_lobster_reconciled(args.path)
    else:
        events = read_lobster(args.path)
    res = lobkit.replay(events, depth=args.depth, tick_size=0.0001, unknown_id="anonymous",
                        on_error=args.on_error, progress=not args.quiet)
    if args.out:
        np.savez_compressed(args.out, ts=events["ts"], bid_price=res.bid_price, bid_size=res.bid_size,
                            ask_price=res.ask_price, ask_size=res.ask_size)
        print(f"wrote {args.out}")
    print(res.book)
    print_book(res.book, min(args.depth, 10) or 5)
    if res.skipped:
        print(f"skipped {res.skipped} events: {res.skipped_by_kind}")
    return 0


def detect_cmd(args: argparse.Namespace) -> int:
    """Runs every detector over a file; one JSON object per alert, then a summary."""
    import json

    import lobkit

    from lobkit.io import read_lobster, read_lobster_reconciled

    if args.format != "lobster":
        print(f"unsupported --format {args.format!r} (supported: lobster)", file=sys.stderr)
        return 2
    events = (read_lobster_reconciled(args.path)[0] if args.reconcile else read_lobster(args.path))
    opts = {"tick": args.tick}
    for kv in args.option or []:
        k, _, v = kv.partition("=")
        opts[k] = type(lobkit.detect.DEFAULTS.get(k, 0.0))(float(v)) if v not in ("true", "false") else v == "true"
    only = args.only.split(",") if args.only else None
    if only:
        for name in lobkit.detect.DETECTORS:
            opts[name] = name in only
    res = lobkit.replay(events, depth=0, tick_size=0.0001, unknown_id="anonymous",
                        on_error="skip", detect=opts, progress=not args.quiet)
    fields = [f for f in lobkit.detect.ALERT_DTYPE.names if f != "kind"]
    for a in res.alerts:
        row = {f: a[f].item() for f in fields}
        row["kind"] = row.pop("kind_name")
        print(json.dumps(row))
    summary = {"summary": {"events": len(events), "alerts": len(res.alerts),
                           "by_kind": lobkit.detect.summary(res.alerts), "skipped": res.skipped}}
    print(json.dumps(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lobkit",
                                description="Exact limit order book replays with a Rust core.")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="replay the bundled LOBSTER GOOG excerpt, check it against "
                       "LOBSTER's own book, print the book and a few signals")
    d.add_argument("messages", nargs="?", help="a LOBSTER message file (its orderbook file must "
                   "sit next to it); default: the bundled excerpt")
    d.set_defaults(fn=demo)
    r = sub.add_parser("replay", help="replay a file and print the final book")
    r.add_argument("path", help="input file (LOBSTER message file, .csv or .csv.gz)")
    r.add_argument("--format", default="lobster", help="input format (lobster)")
    r.add_argument("--depth", type=int, default=10, help="levels recorded per side (default 10)")
    r.add_argument("--reconcile", action="store_true",
                   help="LOBSTER: correct hidden-depth changes from the orderbook file next to it")
    r.add_argument("--on-error", default="raise", choices=["raise", "skip"],
                   help="invalid events: stop with an error (default) or skip and count them")
    r.add_argument("--out", help="write the per-event book to this .npz file")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.set_defaults(fn=replay_cmd)
    t = sub.add_parser("detect", help="run the spoofing / layering / iceberg / quote-stuffing / "
                       "depth-collapse detectors over a file; prints one JSON object per alert "
                       "and a summary line")
    t.add_argument("path", help="input file (LOBSTER message file, .csv or .csv.gz)")
    t.add_argument("--format", default="lobster", help="input format (lobster)")
    t.add_argument("--tick", type=int, default=100,
                   help="book ticks per price step for distances (LOBSTER $0.0001 units on a "
                        "$0.01 grid: 100, the default)")
    t.add_argument("--only", help="comma-separated detectors, e.g. spoofing,layering")
    t.add_argument("-o", "--option", action="append", metavar="NAME=VALUE",
                   help="override a threshold, e.g. -o spoof_min_ratio=8 (see lobkit.detect.DEFAULTS)")
    t.add_argument("--reconcile", action="store_true",
                   help="insert the corrections that make the book match LOBSTER's orderbook file")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(fn=detect_cmd)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
