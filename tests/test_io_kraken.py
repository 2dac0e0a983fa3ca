"""Kraken book-N with CRC32 checksums."""

import gzip

import numpy as np
import pytest

import lobkit
import lobkit.testing
from lobkit.errors import ParseError
from lobkit.io import F_BAD_BOOK, F_LAST

from io_helpers import gz_lines


KRAKEN_PAIRS = ["XBT/USD", "DASH/EUR", "FIL/XBT", "ALGO/XBT", "ICX/USD", "LSK/USD", "KAVA/USD",
                "WAVES/ETH", "AUD/USD", "USDC/GBP"]


@pytest.mark.realdata
def test_kraken_every_checksum_verifies(shared_data):
    from lobkit.io import read_kraken

    path = shared_data / "kraken" / "KRAKEN-c197c0.0.gz"
    with pytest.raises(ParseError, match="holds 10 pairs"):
        read_kraken(path)
    ok = 0
    for pair in KRAKEN_PAIRS:
        feed = read_kraken(path, symbol=pair)
        assert feed.in_sync and feed.stats["checksum_mismatches"] == 0
        ok += feed.stats["checksums_ok"]
        res = lobkit.replay(feed.events, tick_size=feed.tick_size, lot_size=feed.lot_size,
                            depth=1, book_type="l2")
        last = np.flatnonzero(feed.events["flags"] & F_LAST)
        assert (res.best_bid_price[last] < res.best_ask_price[last]).all()
        # Truncated to the subscribed depth after every message.
        assert res.book.n_bids <= 1000 and res.book.n_asks <= 1000
    assert ok == 14_496


@pytest.mark.realdata
def test_kraken_one_pair_file_needs_no_symbol(shared_data, tmp_path):
    from lobkit.io import read_kraken

    lines = gz_lines(shared_data / "kraken" / "KRAKEN-c197c0.0.gz")
    one = [ln for ln in lines if "DASH/EUR" in ln]
    f = tmp_path / "dash.gz"
    f.write_bytes(gzip.compress(("\n".join(one) + "\n").encode()))
    feed = read_kraken(f)  # was: refused, though the file holds one pair
    want = read_kraken(shared_data / "kraken" / "KRAKEN-c197c0.0.gz", symbol="DASH/EUR")
    assert feed.extra["pair"] == "DASH/EUR" and (feed.events == want.events).all()
    with pytest.raises(ParseError, match="not in the file") as e:
        read_kraken(f, symbol="XBT/USD")
    assert e.value.field == "symbol"


@pytest.mark.realdata
def test_kraken_lost_message_is_caught_by_the_next_checksum(shared_data, tmp_path):
    from lobkit.io import read_kraken

    lines = gz_lines(shared_data / "kraken" / "KRAKEN-c197c0.0.gz")
    updates = [k for k, l in enumerate(lines) if '"c":' in l and "XBT/USD" in l]
    f = tmp_path / "k.gz"
    # Drop one update; deeper-than-top-10 changes do not move the checksum,
    # so try updates until one that did is dropped.
    for i in updates[500:540]:
        f.write_bytes(gzip.compress(("\n".join(lines[:i] + lines[i + 1:]) + "\n").encode()))
        feed = read_kraken(f, symbol="XBT/USD")
        if feed.stats["checksum_mismatches"]:
            break
    else:
        pytest.fail("no dropped update changed the top 10")
    assert feed.stats["checksum_mismatches"] == 1 and not feed.in_sync
    # Caught at the next XBT/USD update, whose line moved up by one.
    nxt = next(k for k in updates if k > i)
    assert feed.gaps["line"][0] == nxt  # 1-based line of the next update in the cut file
    k = int(feed.gaps["event_index"][0])
    assert feed.events["kind"][k] == lobkit.Kind.CLEAR and feed.events["flags"][k] & F_BAD_BOOK
    assert k == len(feed.events) - 1  # nothing is applied after it (no later snapshot)
    assert feed.stats["checksums_ok"] == updates.index(nxt) - 1




@pytest.mark.realdata
def test_kraken_streaming_equals_bulk_and_strict_raises(shared_data, tmp_path):
    from lobkit.errors import ChecksumError
    from lobkit.io import KrakenDepth, concat, iter_events, read_kraken

    path = shared_data / "kraken" / "KRAKEN-c197c0.0.gz"
    bulk = read_kraken(path, symbol="DASH/EUR")
    k = KrakenDepth("DASH/EUR", tick_size=bulk.tick_size, lot_size=bulk.lot_size, strict=True)
    parts = []
    for line in gz_lines(path):
        head, sep, msg = line.partition(": ")
        if sep and head[:1].isdigit():
            parts.append(k.on_message(msg, int(round(float(head) * 1e9))))
    got = concat(parts)
    np.testing.assert_array_equal(got["price"], bulk.events["price"])
    np.testing.assert_array_equal(got["size"], bulk.events["size"])
    assert k.in_sync and k.stats == bulk.stats
    chunks = concat(iter_events(path, "kraken", chunk_bytes=5000, symbol="DASH/EUR",
                                tick_size=bulk.tick_size, lot_size=bulk.lot_size))
    np.testing.assert_array_equal(chunks, bulk.events)
    with pytest.raises(ChecksumError, match="checksum mismatch") as e:
        k.on_message('[1,{"b":[["1.0","1.0","1"]],"c":"1"},"book-1000","DASH/EUR"]')
    assert e.value.expected == 1 and not k.in_sync
