"""Every CLI subcommand on the bundled excerpts, checked against the API."""

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

import lobkit
from lobkit.io import read_binance

from conftest import BUNDLED, ROOT

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
BINANCE = ROOT / "python" / "lobkit" / "data" / "binance" / "btcusdt_usdm_20240808_head4000.gz"


def run(*args, ok=True):
    out = subprocess.run([sys.executable, "-m", "lobkit", *map(str, args)], capture_output=True,
                         text=True, timeout=300)
    if ok:
        assert out.returncode == 0, out.stderr
    return out


def test_replay_lobster_to_parquet_equals_the_api(tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "signals.parquet"
    r = run("replay", GOOG, "--out", out, "--depth", "5", "--units", "ticks", "-q")
    assert "wrote" in r.stdout and "20,774 rows" in r.stdout
    t = pa.read_table(out)
    from lobkit.frames import from_table
    from lobkit.io import read_lobster_reconciled

    ev, _ = read_lobster_reconciled(GOOG)
    want = lobkit.replay(ev, depth=5, tick_size=0.0001, unknown_id="anonymous", signals=True)
    got = from_table(t)
    np.testing.assert_array_equal(got.bid_price, want.bid_price)
    np.testing.assert_array_equal(got.ofi, want.ofi)
    np.testing.assert_array_equal(got.ts, ev["ts"])
    assert got.tick_size == 0.0001


def test_replay_sampled_per_message_equals_the_api(tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "msg.parquet"
    r = run("replay", GOOG, "--out", out, "--depth", "3", "--units", "ticks", "-q",
            "--sample", "message")
    assert "into 20,020 rows (message)" in r.stdout
    from lobkit.frames import from_table

    want = lobkit.replay(lobkit.io.load(GOOG), depth=3, signals=True, sample="message")
    got = from_table(pa.read_table(out))
    np.testing.assert_array_equal(got.last_event, want.last_event)
    np.testing.assert_array_equal(got.ofi_levels, want.ofi_levels)
    bad = run("replay", GOOG, "--sample", "soon", ok=False)
    assert bad.returncode == 2 and "sample='soon'" in bad.stderr


def test_replay_binance_with_progress_and_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    out = tmp_path / "b.csv"
    r = run("replay", BINANCE, "--tick-size", "0.1", "--lot-size", "0.001", "--depth", "3",
            "--out", out)
    assert "read " in r.stderr and "as binance" in r.stderr and "in_sync True" in r.stderr
    assert "\r" not in r.stderr  # stderr is not a terminal: no progress bar
    df = pd.read_csv(out)
    feed = read_binance(BINANCE, tick_size="0.1", lot_size="0.001")
    res = lobkit.replay(feed.events, tick_size=0.1, lot_size=0.001, depth=3, book_type="l2")
    assert len(df) == len(feed.events)
    # empty levels are empty cells (NaN), not price 0
    np.testing.assert_allclose(df["best_bid_price"], np.where(res.best_bid_size > 0,
                                                              res.best_bid_price * 0.1, np.nan))
    np.testing.assert_allclose(df["ask_size_3"], np.where(res.ask_size[:, 2] > 0,
                                                          res.ask_size[:, 2] * 0.001, np.nan))


def test_replay_tardis_and_event_table(tmp_path):
    f = tmp_path / "t.csv.gz"
    f.write_bytes(gzip.compress(b"exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
                                b"x,S,1,2,true,bid,10.5,3\nx,S,1,2,true,ask,11,4\n"))
    r = run("replay", f, "--tick-size", "0.5", "--lot-size", "1", "-q")
    assert "10.50" in r.stdout and "11.00" in r.stdout
    from lobkit.io import write_events

    ev = lobkit.make_events(kind=[2, 2], side=[1, -1], price=[100, 101], size=[1, 2],
                            order_id=[1, 2], ts=[1, 2])
    write_events(ev, tmp_path / "e.csv")
    r = run("replay", tmp_path / "e.csv", "-q")
    assert "replayed 2 events" in r.stdout


def test_plot_renders_a_real_picture(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "book.png"
    r = run("plot", GOOG, "--out", png, "--bins", "200", "-q")
    assert "wrote" in r.stdout and "20,774 events" in r.stdout and "alerts" in r.stdout
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] > 400 and img.shape[1] > 800
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # a heatmap with markers, not a blank canvas
    png2 = tmp_path / "binance.png"
    run("plot", BINANCE, "--tick-size", "0.1", "--lot-size", "0.001", "--out", png2, "-q",
        "--no-alerts")
    assert png2.stat().st_size > 20_000


def test_detect_on_binance_prints_json():
    r = run("detect", BINANCE, "--tick-size", "0.1", "--lot-size", "0.001", "-q")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[-1]["summary"]["events"] > 20_000
    assert lines[-1]["summary"]["alerts"] == len(lines) - 1


def test_errors_are_one_clear_line():
    # No grid given: inferred from the capture (0.1 / 0.001), no error.
    r = run("replay", BINANCE, "-q")
    assert r.returncode == 0 and "tick_size=0.1, lot_size=0.001" in r.stdout
    r = run("replay", BINANCE, "--format", "kraken", "-q", ok=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run("replay", BINANCE, "--tick-size", "0.2", "--lot-size", "0.001", "-q", ok=False)
    assert r.returncode == 2 and "not a whole number of grid steps" in r.stderr
    r = run("detect", GOOG, "--only", "spoofng", "-q", ok=False)
    assert r.returncode != 0 and "spoofng" in r.stderr


@pytest.mark.parametrize("cmd", ["replay", "plot", "detect"])
def test_help_texts(cmd):
    r = run(cmd, "--help")
    assert "--format" in r.stdout and "--tick-size" in r.stdout and "example" in r.stdout


@pytest.mark.realdata
def test_detect_into_a_closed_pipe_exits_cleanly(shared_data):
    # The full GOOG day prints ~1,100 alerts (>64 KiB, more than a pipe holds).
    day = shared_data / "lobster" / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    cmd = f"{sys.executable} -m lobkit detect {day} | head -1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr


def test_oversized_depth_is_one_line_exit_2():
    r = subprocess.run([sys.executable, "-m", "lobkit", "replay", str(GOOG), "--depth",
                        str(10**9)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("python -m lobkit replay: error:") and "depth=1000000000" in last


@pytest.mark.parametrize("args", [
    ["replay", "{f}", "--out", "x.xyz"], ["replay", "{f}", "--depth", "-1"],
    ["detect", "{f}", "--only", "nope"], ["detect", "{f}", "-o", "nope=1"],
    ["detect", "{f}", "-o", "spoof_min_ratio=x"], ["plot", "{f}", "--bins", "0"],
    ["plot", "{f}", "--levels", "0"],
])
def test_bad_arguments_are_refused_before_any_work(args):
    r = subprocess.run([sys.executable, "-m", "lobkit"] + [a.format(f=GOOG) for a in args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "events from" not in r.stderr and "events/s" not in r.stderr  # nothing was loaded
    assert r.stderr.strip().splitlines()[-1].startswith(f"python -m lobkit {args[0]}: error:")


def test_progress_bar_on_a_terminal_only():
    """On a terminal the replay draws its bar; in a pipe (above) it does not."""
    import os
    import pty

    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "lobkit", "replay", str(GOOG), "--depth", "1"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                           timeout=300)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert r.returncode == 0
    assert b"replay" in seen and b"\r" in seen  # tqdm or the built-in bar


def test_version_and_missing_optional_packages_are_one_line():
    r = run("--version")
    assert r.stdout.strip() == f"lobkit {lobkit.__version__}"
    from lobkit.__main__ import _require

    with pytest.raises(ImportError, match=r"--out x.parquet needs no_such_pkg: pip install 'lobkit\[arrow\]'"):
        _require("no_such_pkg", "arrow", "--out x.parquet")


def test_detect_writes_alerts_to_files(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import json

    lines = run("detect", GOOG, "-q").stdout.splitlines()
    want = [json.loads(x) for x in lines[:-1]]  # the last line is the summary
    assert want, "the GOOG excerpt raises alerts"
    jl = tmp_path / "a.jsonl"
    run("detect", GOOG, "-q", "--out", jl)
    assert [json.loads(x) for x in jl.read_text().splitlines()] == want
    pqf = tmp_path / "a.parquet"
    run("detect", GOOG, "-q", "--out", pqf)
    t = pq.read_table(pqf)
    assert t.num_rows == len(want) and t.column("kind").to_pylist() == [a["kind"] for a in want]
    csv = tmp_path / "a.csv.gz"
    run("detect", GOOG, "-q", "--out", csv)
    import gzip

    assert len(gzip.decompress(csv.read_bytes()).decode().splitlines()) == len(want) + 1
    r = run("detect", GOOG, "--out", tmp_path / "a.txt", ok=False)
    assert r.returncode == 2 and ".jsonl" in r.stderr


def test_liquidations_flag(tmp_path):
    """``--liquidations`` reads a Tardis trades-shaped file as liquidation
    notices (whose average price may be off the tick grid, unlike a trade's);
    formats without such files refuse it in one line."""
    f = tmp_path / "trades.csv"
    f.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                 "binance-futures,BTCUSDT,1000,1100,,sell,61650.37,0.25\n")
    grid = ("--tick-size", "0.1", "--lot-size", "0.001")
    r = run("replay", f, *grid, "-q", ok=False)
    assert r.returncode != 0 and "price" in r.stderr
    r = run("replay", f, *grid, "--liquidations", "-q")
    assert "replayed 1 events" in r.stdout
    r = run("replay", GOOG, "--liquidations", "-q", ok=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].endswith(
        "lobster input has no liquidations file type (only tardis; Binance and Bybit captures "
        "parse forceOrder / liquidation messages by themselves)")
