"""Command line: ``python -m lobkit {demo,replay,plot,detect}``; ``--help`` on each."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from lobkit.io.feed import Feed

DATA = Path(__file__).parent / "data" / "lobster"
DEMO_MESSAGES = DATA / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def _fmt_time(ns: int) -> str:
    s, frac = divmod(int(ns), 1_000_000_000)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{frac // 1000:06d}"


def print_book(book: Any, n: int = 5, out: TextIO = sys.stdout) -> None:
    """Prints the top `n` levels side by side."""
    bids, asks = book.bids(n), book.asks(n)
    out.write(f"{'bid size':>10} {'bid':>10} | {'ask':<10} {'ask size':<10}\n")
    for i in range(n):
        b = f"{bids[i, 1]:>10g} {bids[i, 0]:>10.2f}" if i < len(bids) else " " * 21
        a = f"{asks[i, 0]:<10.2f} {asks[i, 1]:<10g}" if i < len(asks) else ""
        out.write(f"{b} | {a}\n")


def demo(args: argparse.Namespace) -> int:
    import lobkit
    from lobkit.io import (
        lobster_book_columns,
        message_rows,
        read_lobster_orderbook,
        read_lobster_reconciled,
    )

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
                        progress=sys.stderr.isatty(), chunk=max(len(events) // 50, 1))
    # The book after message k (and its corrections) vs orderbook row k.
    at = np.r_[msgs[1:] - 1, len(events) - 1]
    want = lobster_book_columns(ob)
    ok = np.ones(len(at), bool)
    for k, v in want.items():
        ok &= (getattr(res, k)[at] == v).all(axis=1)
    print(f"  book == LOBSTER orderbook file (all 10 levels) on {ok.sum():,}/{len(ok):,} rows; "
          f"replay took {res.seconds * 1e3:.1f} ms ({len(events) / max(res.seconds, 1e-9) / 1e6:.1f} M events/s)")
    book = res.book
    if not isinstance(book, lobkit.L3Book):
        raise TypeError("the demo replays an L3 book")
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
    (bp, bs), (ap, as_) = book.best_bid or (np.nan, 0.0), book.best_ask or (np.nan, 0.0)
    micro = (bp * as_ + ap * bs) / (bs + as_) if bs + as_ > 0 else float("nan")
    print("\nSignals:")
    print(f"  mid {book.mid:.4f}  spread {book.spread:.2f}  micro-price (size-weighted mid) {micro:.4f}")
    print(f"  level-1 queue imbalance now {imb[-1]:+.3f}, mean over replay {imb.mean():+.3f}")
    print(f"  mean spread {res.spread_ticks[at].mean() / 100:.2f} cents")
    print(f"  visible executions {len(ex):,} ({int(ex['size'].sum()):,} shares: buyer-initiated {buy:,}, "
          f"seller-initiated {sell:,}); hidden executions {len(hid):,} ({int(hid['size'].sum()):,} shares)")
    return 0 if ok.all() else 1


def _load(args: argparse.Namespace) -> Feed:
    from lobkit.io.auto import load
    from lobkit.progress import stage

    t0 = time.perf_counter()
    with stage(f"load {Path(args.path).name}") if not args.quiet else nullcontext():
        loaded = load(args.path, args.format, tick_size=args.tick_size, lot_size=args.lot_size,
                      reconcile=not getattr(args, "no_reconcile", False), symbol=args.symbol,
                      strict=args.strict, liquidations=getattr(args, "liquidations", None))
    mb = Path(args.path).stat().st_size / 1e6
    secs = time.perf_counter() - t0
    if not args.quiet:
        print(f"read {args.path} as {loaded.format}: {len(loaded.events):,} events from "
              f"{mb:.1f} MB in {secs:.2f} s"
              + (f" ({', '.join(f'{k} {v}' for k, v in loaded.info.items())})" if loaded.info
                 else ""), file=sys.stderr)
    return loaded


def _count(lo: int) -> Callable[[str], int]:
    """An argparse type: an integer >= lo (checked before any work is done)."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"{v}: must be >= {lo}")
        return v
    return parse


def _detector_names(text: str) -> list[str]:
    import lobkit

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(lobkit.detect.DETECTORS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown detector(s) {unknown}; choose from "
                                         f"{', '.join(lobkit.detect.DETECTORS)}")
    return names


def _detector_option(text: str) -> tuple[str, object]:
    import lobkit

    k, sep, v = text.partition("=")
    if not sep or k not in lobkit.detect.DEFAULTS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE with NAME one of "
                                         f"lobkit.detect.OPTIONS")
    default = lobkit.detect.DEFAULTS[k]
    try:
        if isinstance(default, bool):
            if v not in ("true", "false"):
                raise ValueError
            return k, v == "true"
        return k, (int(v) if isinstance(default, int) else float(v))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: {k} takes {type(default).__name__} values") from None


_OUT_KINDS = (".parquet", ".csv", ".csv.gz", ".npz")
_ALERT_OUT_KINDS = (".jsonl", ".json", ".csv", ".csv.gz", ".parquet")


def _require(module: str, extra: str, why: str) -> None:
    """Checks an optional package before any work is done (not after a
    replay of the whole file), with the command that installs it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{why} needs {module}: pip install 'lobkit[{extra}]'")


def _progress(args: argparse.Namespace) -> bool:
    """A bar only on a terminal: in a log or a pipe it would be carriage returns."""
    return not args.quiet and sys.stderr.isatty()


def _write_csv(table: Any, out: str) -> None:
    """CSV through pyarrow (one pass in C++; .csv.gz compressed on the fly)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if out.endswith(".gz"):
        with pa.CompressedOutputStream(out, "gzip") as f:
            pacsv.write_csv(table, f)
    else:
        pacsv.write_csv(table, out)


def _check_outputs(args: argparse.Namespace) -> None:
    out = str(getattr(args, "out", None) or "")
    if args.cmd == "plot":
        _require("matplotlib", "plot", "plot")
    elif out.endswith((".parquet", ".csv", ".csv.gz")):
        _require("pyarrow", "arrow", f"--out {out}")
    if args.format == "dbn" or ".dbn" in str(getattr(args, "path", "")):
        _require("databento_dbn", "dbn", "reading DBN")


def _alert_out_path(text: str) -> str:
    if not text.endswith(_ALERT_OUT_KINDS):
        raise argparse.ArgumentTypeError(f"{text!r}: use {', '.join(_ALERT_OUT_KINDS)}")
    return text


def _out_path(text: str) -> str:
    if not text.endswith(_OUT_KINDS):
        raise argparse.ArgumentTypeError(f"{text!r}: use {', '.join(_OUT_KINDS)}")
    return text


def _detect_opts(args: argparse.Namespace, loaded: Feed) -> dict[str, Any]:
    import lobkit

    # Distances in book ticks per price step; by default the feed's own
    # (LOBSTER: $0.0001 ticks on NASDAQ's $0.01 increment), see Feed.step_ticks.
    opts: dict[str, Any] = {"tick": args.tick} if args.tick else {}
    opts.update(dict(args.option or []))
    if args.only:
        for name in lobkit.detect.DETECTORS:
            opts[name] = name in args.only
    return opts


def _sample_arg(text: str) -> str:
    """``--sample``: checked at parse time (a typo fails before the load)."""
    from lobkit._events import parse_sample

    try:
        parse_sample(text)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _write_table(res: Any, out: str, units: str) -> bool:
    """``replay --out``: the table in the format its name asks for."""
    if out.endswith(".parquet"):
        res.to_parquet(out, units=units)
    elif out.endswith(".npz"):
        # numpy users get the ReplayResult layout: (n, depth) level arrays.
        arrays: dict[str, NDArray[Any]] = {k: getattr(res, k) for k in ("bid_price", "bid_size", "ask_price",
                                               "ask_size", "best_bid_price", "best_bid_size",
                                               "best_ask_price", "best_ask_size", "imbalance",
                                               "ofi", "ofi_msg", "signed_volume",
                                               "weighted_mid", "ofi_levels")
                  if getattr(res, k) is not None}
        if units == "price":
            from lobkit.units import to_price

            arrays = {k: (to_price(v, res.tick_size if "price" in k else res.lot_size)
                          if k.endswith(("_price", "_size")) else v)
                      for k, v in arrays.items()}
        arrays["ts"] = np.asarray(res.ts)
        if res.last_event is not None:
            arrays["last_event"] = res.last_event
        # A name-to-array mapping (typed savez_compressed would read it as options).
        save: Callable[..., None] = np.savez_compressed
        save(out, **arrays)
    elif out.endswith((".csv", ".csv.gz")):
        _write_csv(res.to_arrow(units=units), out)
    else:
        print(f"--out {out}: use .parquet, .csv, .csv.gz or .npz", file=sys.stderr)
        return False
    return True


def replay_cmd(args: argparse.Namespace) -> int:
    import lobkit

    loaded = _load(args)
    ev = loaded.events
    res = lobkit.replay(loaded, depth=args.depth, on_error=args.on_error,
                        signals=not args.no_signals, progress=_progress(args),
                        chunk=max(len(ev) // 100, 1 << 16), check_ts=not args.no_check_ts,
                        sample=args.sample)
    rows = f" into {len(res):,} rows ({args.sample})" if args.sample else ""
    print(f"replayed {len(ev):,} events{rows} in {res.seconds:.3f} s "
          f"({len(ev) / max(res.seconds, 1e-9) / 1e6:.1f} M events/s); final book:")
    print(res.book)
    print_book(res.book, min(args.depth, 10) or 5)
    if res.skipped:
        print(f"skipped {res.skipped} events: {res.skipped_by_kind}")
    if args.out:
        from lobkit.progress import stage

        out = str(args.out)
        with stage(f"write {Path(out).name}") if not args.quiet else nullcontext():
            if not _write_table(res, out, args.units):
                return 2
        print(f"wrote {out}: {len(res):,} rows (units: {args.units})")
    return 0


def plot_cmd(args: argparse.Namespace) -> int:
    import lobkit
    from lobkit.plot import plot_book

    loaded = _load(args)
    ev = loaded.events
    detect = None if args.no_alerts else _detect_opts(args, loaded)
    res = lobkit.replay(loaded, depth=args.levels, signals=True, detect=detect, on_error="skip",
                        progress=_progress(args), check_ts=not args.no_check_ts)
    import matplotlib

    matplotlib.use("Agg")  # the CLI writes a file; the library never picks a backend
    info = plot_book(ev, res, args.out, title=f"{Path(args.path).name}: resting size, "
                     f"best bid/ask, trades, alerts", bins=args.bins, start=args.start,
                     end=args.end)
    print(f"wrote {args.out}: {info['events']:,} events, {info['trades']:,} trades, "
          f"{sum(info['alerts'].values())} alerts {info['alerts']}")
    return 0


def detect_cmd(args: argparse.Namespace) -> int:
    """Runs every detector over a file; one JSON object per alert, then a summary."""
    import json

    import lobkit

    loaded = _load(args)
    events = loaded.events
    res = lobkit.replay(loaded, depth=0, on_error="skip", detect=_detect_opts(args, loaded),
                        progress=_progress(args), check_ts=not args.no_check_ts)
    fields = [f for f in lobkit.detect.ALERT_DTYPE.names or () if f != "kind"]
    alerts = res.alerts if res.alerts is not None else np.zeros(0, lobkit.detect.ALERT_DTYPE)
    rows = []
    for a in alerts:
        row = {f: a[f].item() for f in fields}
        row["kind"] = row.pop("kind_name")
        rows.append(row)
    out = str(args.out or "")
    if out.endswith((".jsonl", ".json")):
        with open(out, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    elif out:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {f: [r[f] for r in rows] for f in ["kind", *[f for f in fields if f != "kind_name"]]}
        table = pa.table(cols) if rows else pa.table({f: pa.array([], pa.string()) for f in cols})
        if out.endswith(".parquet"):
            pq.write_table(table, out)
        else:
            _write_csv(table, out)
    else:
        for row in rows:
            print(json.dumps(row))
    if out:
        print(f"wrote {out}: {len(rows):,} alerts", file=sys.stderr)
    summary = {"summary": {"events": len(events), "alerts": len(alerts),
                           "by_kind": lobkit.detect.summary(alerts), "skipped": res.skipped}}
    print(json.dumps(summary))
    return 0


def _input_args(p: argparse.ArgumentParser) -> None:
    from lobkit.io.auto import FORMATS, NEEDS

    p.add_argument("path", help="input file (plain, .gz, or .zst for DBN)")
    p.add_argument("--format", default="auto", choices=("auto",) + FORMATS,
                   help="input format; 'auto' (default) guesses from the name and first bytes. "
                        "Each format needs: " + "; ".join(f"{k}: {v}" for k, v in NEEDS.items()))
    p.add_argument("--tick-size", help="price units per tick, as a decimal (e.g. 0.01)")
    p.add_argument("--lot-size", help="size units per lot, as a decimal (e.g. 0.001)")
    p.add_argument("--symbol", help="tardis: keep this symbol of a multi-symbol file; kraken: the "
                                    "pair (e.g. XBT/USD)")
    p.add_argument("--strict", action="store_true",
                   help="binance/bybit: stop at the first sequence gap instead of recording it "
                        "and resynchronising at the next snapshot")
    p.add_argument("--no-reconcile", action="store_true",
                   help="lobster: do not correct hidden depth from the orderbook file")
    p.add_argument("--liquidations", action=argparse.BooleanOptionalAction, default=None,
                   help="tardis: the file is (or, with --no-liquidations, is not) a liquidations "
                        "stream; default: when its name says 'liquidations'")
    # Reconciling is the default now; the old flag is accepted and does nothing.
    p.add_argument("--reconcile", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-check-ts", action="store_true",
                   help="accept timestamps that go backwards")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or load summary")


def _detect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--step-ticks", "--tick", dest="tick", type=int, default=0,
                   help="book ticks per price increment for the detectors' distances (default: "
                        "the feed's own: 100 for LOBSTER's $0.0001 ticks on a $0.01 increment, "
                        "the common step of the resting prices otherwise)")
    p.add_argument("--only", type=_detector_names,
                   help="comma-separated detectors, e.g. spoofing,layering")
    p.add_argument("-o", "--option", action="append", metavar="NAME=VALUE", type=_detector_option,
                   help="override a threshold, e.g. -o spoof_min_ratio=8 (see lobkit.detect.DEFAULTS)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lobkit",
                                description="Exact limit order book replays with a Rust core.")
    from lobkit import __version__

    p.add_argument("--version", action="version", version=f"lobkit {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="replay the bundled LOBSTER GOOG excerpt, check it against "
                       "LOBSTER's own book, print the book and a few signals")
    d.add_argument("messages", nargs="?", help="a LOBSTER message file (its orderbook file must "
                   "sit next to it); default: the bundled excerpt")
    d.set_defaults(fn=demo)
    r = sub.add_parser(
        "replay", help="replay a file through a book and write the book and signals per event",
        description="Replays PATH through an exact book (L3 for LOBSTER/DBN MBO, L2 otherwise) "
                    "and writes one row per event: best bid/ask, the top --depth levels and the "
                    "signals (imbalance, OFI, message OFI, signed volume, weighted mid).",
        epilog="examples:\n  python -m lobkit replay GOOG_..._message_10.csv.gz --out signals.parquet\n"
               "  python -m lobkit replay btcusdt.gz --format binance --tick-size 0.1 "
               "--lot-size 0.001 --out s.parquet\n"
               "  python -m lobkit replay es.mbo.dbn.zst --tick-size 0.25 --out es.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _input_args(r)
    r.add_argument("--depth", type=_count(0), default=10, help="levels recorded per side (default 10)")
    r.add_argument("--no-signals", action="store_true", help="book columns only")
    r.add_argument("--units", default="price", choices=("price", "ticks"),
                   help="price/size columns as floats in price units (default) or exact int64 "
                        "ticks/lots")
    r.add_argument("--on-error", default="raise", choices=["raise", "skip"],
                   help="invalid events: stop with an error (default) or skip and count them")
    r.add_argument("--sample", type=_sample_arg, default=None,
                   help="one row per feed message ('message') or per time bin ('100ms', '1s', "
                        "'1min'): the book after the row's last event, flow summed over it "
                        "(default: a row per event)")
    r.add_argument("--out", type=_out_path,
                   help="write the table: .parquet, .csv, .csv.gz or .npz")
    r.set_defaults(fn=replay_cmd)
    pl = sub.add_parser(
        "plot", help="draw the book as a liquidity heatmap with trades and alerts (PNG)",
        description="Replays PATH and draws resting size over time and price (log colour), "
                    "buyer- (green) and seller-initiated (red) trades, and detector alerts.",
        epilog="example:\n  python -m lobkit plot GOOG_..._message_10.csv.gz --out book.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _input_args(pl)
    _detect_args(pl)
    pl.add_argument("--out", default="book.png", help="image file (.png, .svg, .pdf; default book.png)")
    pl.add_argument("--levels", type=_count(1), default=10, help="levels per side drawn (default 10)")
    pl.add_argument("--bins", type=_count(1), default=600, help="time bins (default 600)")
    pl.add_argument("--start", help="window start, UTC (e.g. 2023-12-25T14:00); default: the "
                                    "shortest span holding 98%% of the events")
    pl.add_argument("--end", help="window end, UTC")
    pl.add_argument("--no-alerts", action="store_true", help="do not run the detectors")
    pl.set_defaults(fn=plot_cmd)
    t = sub.add_parser(
        "detect", help="run the spoofing / layering / iceberg / quote-stuffing / depth-collapse "
                       "detectors; prints one JSON object per alert and a summary line",
        epilog="example:\n  python -m lobkit detect GOOG_..._message_10.csv.gz --only spoofing",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _input_args(t)
    _detect_args(t)
    t.add_argument("--out", type=_alert_out_path,
                   help="write the alerts to a file instead of stdout: .jsonl (one JSON object a "
                        "line), .csv, .csv.gz or .parquet")
    t.set_defaults(fn=detect_cmd)
    args = p.parse_args(argv)
    from lobkit.errors import LobkitError

    try:
        if args.cmd != "demo":
            _check_outputs(args)
        code: int = args.fn(args)
        return code
    except BrokenPipeError:
        # `python -m lobkit detect ... | head`: the reader left. Point stdout
        # at /dev/null so the interpreter's final flush cannot raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError as e:
        print(f"python -m lobkit {args.cmd}: error: {e}", file=sys.stderr)
        return 2
    except (LobkitError, ValueError, OSError, ImportError) as e:
        # Bad input or a missing optional package: one clear line, no traceback.
        print(f"python -m lobkit {args.cmd}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
