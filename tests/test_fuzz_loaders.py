"""Mutation fuzzing of every loader, time-boxed and seeded (issue 13).

Each seed file (small real samples and generated ones) is damaged the ways
files and feeds get damaged — bit flips, truncation, dropped, duplicated and
swapped lines, bytes from another file — and loaded through the registry.
The promise checked: a typed ``LobkitError`` (or the loaded events replay
without any other exception: nothing untyped, nothing aborts)."""

import gzip
import json

import numpy as np
import pytest

import lobkit
import lobkit.testing
from lobkit import errors
from lobkit.io.auto import load

from conftest import BUNDLED, ROOT
from io_helpers import BUNDLED_BINANCE, TARDIS_L2

CASES_PER_SEED = 400


def _seeds(tmp_path):
    """(name, bytes, format, load kwargs) for every format."""
    ev = lobkit.testing.synthetic_l3(300, seed=11)
    lobkit.io.write_events(ev, tmp_path / "seed.csv", tick_size=0.01)
    binance = gzip.decompress(BUNDLED_BINANCE.read_bytes()).splitlines(keepends=True)[:400]
    lob = gzip.decompress((BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000"
                           ".csv.gz").read_bytes()).splitlines(keepends=True)[:300]
    kraken = [b'1.0: [1,{"as":[["5.00000","1.00000000","1.0"],["5.10000","2.00000000","1.0"]],'
              b'"bs":[["4.90000","2.00000000","1.0"]]},"book-10","XBT/USD"]\n',
              b'2.0: [1,{"a":[["5.00000","0.50000000","2.0"]],"c":"0"},"book-10","XBT/USD"]\n']
    bitfinex = [json.dumps([1, [[11, "100.5", "2.0"], [12, "101.5", "-1.0"]]]).encode() + b"\n"]
    bitfinex += [json.dumps([1, [11 + k % 3, str(100 + k % 7), "1.5"]]).encode() + b"\n"
                 for k in range(40)]
    # Liquidation notices among the depth messages (Binance forceOrder, Bybit
    # allLiquidation / liquidation) and a Tardis liquidations file.
    force = [json.dumps({"stream": "btcusdt@forceOrder", "data": {
        "e": "forceOrder", "E": 1723161256299 + k, "o": {
            "s": "BTCUSDT", "S": "SELL" if k % 2 else "BUY", "o": "LIMIT", "f": "IOC",
            "q": "0.250", "p": "61650.37", "ap": "61650.40", "X": "FILLED", "l": "0.250",
            "z": "0.250", "T": 1723161256299 + k}}}) for k in range(10)]
    for k, msg in enumerate(force):
        binance.insert(40 * k + 20, binance[40 * k + 20].split(b" ", 1)[0] + b" "
                       + msg.encode() + b"\n")
    bybit = [{"topic": "orderbook.50.X", "type": "snapshot", "ts": 1, "data": {
        "s": "X", "b": [["0.04490", "10"], ["0.04480", "4"]],
        "a": [["0.04500", "10"], ["0.04510", "3"]], "u": 1}}]
    for k in range(30):
        bybit.append({"topic": "orderbook.50.X", "type": "delta", "ts": 2 + 2 * k, "data": {
            "s": "X", "b": [["0.04490", str(10 + k % 4)]], "a": [["0.04500", str(9 + k % 3)]],
            "u": 2 + k}})
        bybit.append({"topic": "allLiquidation.X", "type": "snapshot", "ts": 3 + 2 * k,
                      "data": [{"T": 3 + 2 * k, "s": "X", "S": "Buy" if k % 2 else "Sell",
                                "v": str(1 + k), "p": "0.044985"}]})
    bybit.append({"topic": "liquidation.X", "type": "snapshot", "ts": 99, "data": {
        "price": "0.0448", "side": "Sell", "size": "5", "symbol": "X", "updatedTime": 99}})
    bybit_lines = [f"{i} {json.dumps(m)}\n".encode() for i, m in enumerate(bybit)]
    liq = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n" + "".join(
        f"binance-futures,BTCUSDT,{1000 * k},{1000 * k + 100},,{'sell' if k % 3 else 'buy'},"
        f"{61650 + k * 0.37:.2f},{0.001 * (k + 1):.3f}\n" for k in range(1, 60))
    return [
        ("table", (tmp_path / "seed.csv").read_bytes(), "csv", {"tick_size": 0.01}),
        ("bybit", b"".join(bybit_lines), "bybit", {"tick_size": "0.00001", "lot_size": "1"}),
        # told from trades by the file name, which holds the seed's name
        ("tardis_liquidations", liq.encode(), "tardis", {"tick_size": "0.1", "lot_size": "0.001"}),
        ("tardis", (TARDIS_L2 + "".join(TARDIS_L2.splitlines(keepends=True)[1:]) * 2).encode(),
         "tardis", {"tick_size": 0.5, "lot_size": 1}),
        ("binance", b"".join(binance), "binance", {"tick_size": "0.1", "lot_size": "0.001"}),
        ("lobster", b"".join(lob), "lobster", {"reconcile": False}),
        ("kraken", b"".join(kraken) * 5, "kraken", {"symbol": "XBT/USD"}),
        ("bitfinex", b"".join(bitfinex), "bitfinex", {}),
    ]


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    lines = data.splitlines(keepends=True)
    op = rng.integers(0, 7)
    if op == 0 and data:  # bit flips
        b = bytearray(data)
        for i in rng.integers(0, len(b), int(rng.integers(1, 6))):
            b[i] ^= 1 << int(rng.integers(0, 8))
        return bytes(b)
    if op == 1:  # truncation
        return data[: int(rng.integers(0, len(data) + 1))]
    if op == 2 and lines:  # drop lines
        keep = rng.random(len(lines)) > 0.1
        return b"".join(l for l, k in zip(lines, keep) if k)
    if op == 3 and lines:  # duplicate a line
        i = int(rng.integers(0, len(lines)))
        return b"".join(lines[: i + 1] + lines[i:])
    if op == 4 and len(lines) > 2:  # swap two lines
        i, j = rng.integers(0, len(lines), 2)
        lines[i], lines[j] = lines[j], lines[i]
        return b"".join(lines)
    if op == 5 and data:  # a field replaced by another type
        b = bytearray(data)
        i = int(rng.integers(0, len(b)))
        junk = [b"nan", b"-1", b"1e400", b"", b'"x"', b"9" * 30][int(rng.integers(0, 6))]
        return bytes(b[:i]) + junk + bytes(b[i + 3:])
    return data + bytes(rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8))


def test_every_loader_raises_typed_errors_on_damaged_input(tmp_path):
    rng = np.random.default_rng(20261202)
    counts = {}
    for name, data, fmt, kw in _seeds(tmp_path):
        # The undamaged seed loads: a fuzz run that only ever errors proves nothing.
        (tmp_path / f"ok_{name}_message_1.txt").write_bytes(data)
        ok = load(tmp_path / f"ok_{name}_message_1.txt", fmt, **kw).events
        assert len(ok) > 0, name
        if name in ("binance", "bybit", "tardis_liquidations"):  # the notices are parsed
            assert (ok["kind"] == lobkit.Kind.LIQUIDATION).sum() >= 10, name
        typed = loaded = 0
        for k in range(CASES_PER_SEED):
            f = tmp_path / f"{name}_{k}_message_1.txt"
            f.write_bytes(_mutate(data, rng))
            try:
                got = load(f, fmt, **kw)
                lobkit.replay(got.events, depth=2, on_error="skip", check_ts=False,
                              **got.replay_kwargs())
                loaded += 1
            except errors.LobkitError:
                typed += 1
        counts[name] = (typed, loaded)
    assert all(t + l == CASES_PER_SEED for t, l in counts.values()), counts
    # Both outcomes occur: the damage is neither always fatal nor always harmless.
    assert sum(t for t, _ in counts.values()) > 50 and sum(l for _, l in counts.values()) > 50
    print(counts)


def _book_ok(book):
    bids, asks = book.bids(10**6, ticks=True), book.asks(10**6, ticks=True)
    return ((np.diff(bids[:, 0]) < 0).all() and (np.diff(asks[:, 0]) > 0).all()
            and (bids[:, 1] > 0).all() and (asks[:, 1] > 0).all())


@pytest.mark.parametrize("book_type", ["l2", "l3"])
def test_random_event_arrays_give_typed_errors_and_sound_books(book_type):
    """Type confusion on the event array: any kind, side, price, size and id."""
    rng = np.random.default_rng(7)
    typed = applied = 0
    for trial in range(200):
        n = int(rng.integers(1, 200))
        ev = np.zeros(n, lobkit.EVENT_DTYPE)
        ev["ts"] = np.sort(rng.integers(-5, 10**6, n)) if trial % 3 else rng.integers(-5, 50, n)
        ev["kind"] = rng.integers(0, 13, n)
        ev["side"] = rng.choice([-128, -2, -1, -1, 0, 1, 1, 2, 127], n)
        ev["price"] = rng.choice([0, 1, 99, 100, 101, 2**61, -(2**61), 2**63 - 1], n)
        ev["size"] = rng.choice([0, 1, 2, 5, -1, 2**52, 2**53, 2**63 - 1], n)
        ev["order_id"] = rng.integers(0, 20, n)
        book = lobkit.L3Book(unknown_id="anonymous") if book_type == "l3" else lobkit.L2Book()
        for on_error in ("raise", "skip"):
            before = (book.events, book.bids(50, ticks=True).tolist())
            try:
                res = lobkit.replay(ev, book=book, depth=3, signals=True, on_error=on_error)
                applied += len(ev) - res.skipped
            except errors.LobkitError:
                typed += 1
                assert (book.events, book.bids(50, ticks=True).tolist()) == before
            assert _book_ok(book)
            assert abs(book.ofi_total) < 2**63 and book.depth("bid", 10**6) >= 0
    assert typed > 20 and applied > 1000


def test_random_event_arrays_give_typed_errors_to_the_live_profile_and_footprint():
    """Any kind, side, price, size and time: a typed error that counts nothing, or counted."""
    from lobkit.signals import LiveFootprint, LiveProfile

    rng = np.random.default_rng(17)
    typed = counted = 0
    prof, fp = LiveProfile(step_ticks=3), LiveFootprint(every=1000)
    for trial in range(300):
        n = int(rng.integers(1, 60))
        ev = np.zeros(n, lobkit.EVENT_DTYPE)
        ev["ts"] = (np.sort(rng.integers(-5, 10**6, n)) + trial * 10**6 if trial % 4
                    else rng.integers(-(2**62), 2**62, n))
        ev["kind"] = rng.integers(0, 13, n)
        ev["side"] = rng.choice([-128, -1, 0, 1, 127], n)
        ev["price"] = rng.choice([0, 1, 99, 100, -(2**62), 2**62, 2**63 - 1, -(2**63)], n)
        ev["size"] = rng.choice([0, 1, 5, -1, 2**62, 2**63 - 1], n)
        for live in (prof, fp):
            before = (live.footprint().price_ticks.tolist() if live is fp
                      else (live.trades, live.poc))
            try:
                counted += live.apply(ev)
            except errors.LobkitError:
                typed += 1
                after = (live.footprint().price_ticks.tolist() if live is fp
                         else (live.trades, live.poc))
                assert after == before
        if trial % 50 == 49:
            prof.reset()
            fp.reset()
    assert typed > 20 and counted > 50, (typed, counted)  # both outcomes occur
