"""The example scripts run on the bundled data and print what they claim."""

import re
import subprocess
import sys

import pytest

import lobkit

from conftest import BUNDLED, ROOT

GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"


def test_ofi_regression_example(tmp_path):
    png = tmp_path / "ofi.png"
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ofi_regression.py"), str(GOOG), "--out", str(png),
         "--window", "600"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    m = re.search(r"mean R2 \(OFI\) ([\d.]+); windows with a significant OFI slope (\d+)%; "
                  r"mean R2 \(trade imbalance\) ([\d.]+)", out.stdout)
    assert m, out.stdout
    r2_ofi, share, r2_ti = float(m[1]), int(m[2]), float(m[3])
    # 40 minutes of GOOG: OFI explains a real share of mid moves, slopes significant
    assert 0.1 < r2_ofi <= 1 and share >= 50 and 0 <= r2_ti <= 1
    pytest.importorskip("matplotlib")
    assert png.stat().st_size > 20_000  # a rendered scatter, not an empty canvas


def test_cli_detect_prints_json_alerts_and_a_summary():
    import json

    out = subprocess.run([sys.executable, "-m", "lobkit", "detect", str(GOOG), "--reconcile", "-q"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    summary = lines[-1]["summary"]
    alerts = lines[:-1]
    assert summary["events"] == 20_774 and summary["alerts"] == len(alerts) > 0
    assert sum(summary["by_kind"].values()) == len(alerts)
    for a in alerts:
        assert {"ts", "kind", "side", "price", "order_id", "score"} <= set(a)
        assert a["kind"] in ("spoofing", "layering", "iceberg", "quote_stuffing", "depth_collapse",
                             "sweep", "delta_divergence", "liquidation_cascade", "absorption")
        assert 0 < a["score"] <= 1
    only = subprocess.run([sys.executable, "-m", "lobkit", "detect", str(GOOG), "-q", "--only",
                           "spoofing", "-o", "spoof_min_ratio=3"],
                          capture_output=True, text=True, timeout=300)
    kinds = {json.loads(x).get("kind") for x in only.stdout.splitlines()[:-1]}
    assert only.returncode == 0 and kinds <= {"spoofing"}


def test_binance_live_example_runs_offline_on_the_capture():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "binance_live.py")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "4,000 messages, in sync True" in out.stdout
    import lobkit

    feed = lobkit.io.load(ROOT / "python" / "lobkit" / "data" / "binance" /
                          "btcusdt_usdm_20240808_head4000.gz")
    book = lobkit.replay(feed, depth=0).book
    assert f"best bid {book.best_bid}, best ask {book.best_ask}" in out.stdout
    assert "INFO lobkit.io.binance: binance stream: in sync from update id" in out.stderr


def test_alert_gallery_example_on_the_bundled_excerpts(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "alerts.png"
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "alert_gallery.py"), "--bundled", "--out", str(png)],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = {ln.split()[0]: ln for ln in out.stdout.splitlines() if ln and not ln.startswith("wrote")}
    assert set(lines) == set(lobkit.detect.DETECTORS)
    # every kind the excerpts raise gets a panel with its score and evidence
    shown = [k for k, ln in lines.items() if "score" in ln]
    assert {"layering", "phantom", "depth_collapse", "absorption"} <= set(shown)
    assert "spoofing" in lines and "no alert" in lines["spoofing"]  # said, not skipped
    for k in shown:
        assert float(re.search(r"score ([\d.]+)", lines[k])[1]) > 0
    assert png.stat().st_size > 50_000 * len(shown) // 3  # rendered panels, not blank
