"""Gaps, resyncs and checksum failures go to `logging.getLogger("lobkit")`:
a warning per gap or mismatch, one info line per return to sync, nothing
per message in steady state."""

import gzip
import logging

import lobkit
from io_helpers import BUNDLED_BINANCE
from lobkit.io import BinanceDepth


def _messages():
    for line in gzip.decompress(BUNDLED_BINANCE.read_bytes()).splitlines():
        ts, _, msg = line.partition(b" ")
        yield int(ts), msg


def test_a_keeper_logs_sync_once_and_each_gap(caplog):
    caplog.set_level(logging.INFO, logger="lobkit")
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    keeper = BinanceDepth(tick_size="0.1", lot_size="0.001", book=book)
    msgs = list(_messages())
    synced_at = None
    dropped = False
    for i, (ts, m) in enumerate(msgs):
        if keeper.in_sync and synced_at is None:
            synced_at = i
        if synced_at is not None and not dropped and i > synced_at + 50 and b"depthUpdate" in m:
            dropped = True  # lose one diff: the next one cannot continue it
            continue
        keeper.on_message(m, ts)
    records = [r for r in caplog.records if r.name.startswith("lobkit")]
    infos = [r for r in records if r.levelno == logging.INFO]
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert dropped and len(warnings) == 1 and "sequence gap" in warnings[0].getMessage()
    assert "binance stream" in warnings[0].getMessage()
    # in sync at the first snapshot; the gap leaves it out of sync until the next one
    assert len(infos) == 1 + (1 if keeper.in_sync else 0)
    assert all("in sync from update id" in r.getMessage() for r in infos)


def test_whole_file_loaders_summarise_gaps(caplog, tmp_path):
    caplog.set_level(logging.WARNING, logger="lobkit")
    lines = gzip.decompress(BUNDLED_BINANCE.read_bytes()).splitlines()
    diffs = [i for i, x in enumerate(lines) if b"depthUpdate" in x]
    del lines[diffs[len(diffs) // 2]]
    p = tmp_path / "gap.txt"
    p.write_bytes(b"\n".join(lines) + b"\n")
    feed = lobkit.io.read_binance(p)
    assert len(feed.gaps["got"]) >= 1
    (rec,) = [r for r in caplog.records if r.name.startswith("lobkit")]
    assert "sequence gap(s)" in rec.getMessage() and str(p) in rec.getMessage()


def test_a_clean_capture_logs_nothing(caplog):
    caplog.set_level(logging.INFO, logger="lobkit")
    lobkit.io.read_binance(BUNDLED_BINANCE)
    assert not [r for r in caplog.records if r.name.startswith("lobkit")]


def test_the_library_installs_no_handler_but_a_null_one():
    handlers = logging.getLogger("lobkit").handlers
    assert len(handlers) == 1 and isinstance(handlers[0], logging.NullHandler)
