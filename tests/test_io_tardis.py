"""Tardis CSV: incremental_book_L2 (snapshot resets), trades, book_snapshot_N."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lobkit
from lobkit.errors import ParseError
from lobkit.io import F_LAST, F_SNAPSHOT, merge, read_tardis, tardis_schema

from io_helpers import TARDIS_L2, naive_l2, book_dict


def test_tardis_incremental_resets_and_matches_reference(tmp_path):
    f = tmp_path / "x.csv.gz"
    f.write_bytes(gzip.compress(TARDIS_L2.encode()))
    ev = read_tardis(f, tick_size=0.5, lot_size=1)
    assert tardis_schema(f) == "incremental_book_L2"
    assert list(ev["kind"]) == [8, 1, 1, 1, 1, 1, 8, 1, 1]
    assert (ev["flags"][:4] & F_SNAPSHOT).all() and not (ev["flags"][4:6] & F_SNAPSHOT).any()
    # F_LAST closes each message (rows sharing local_timestamp).
    assert list(np.flatnonzero(ev["flags"] & F_LAST)) == [3, 5, 8]
    assert ev["ts"][0] == 1_100_000  # µs -> ns, local clock by default
    assert read_tardis(f, tick_size=0.5, lot_size=1, ts="exchange")["ts"][0] == 1_000_000
    res = lobkit.replay(ev, tick_size=0.5, lot_size=1)
    rows = [(r[4] == "true", 1 if r[5] == "bid" else -1, round(float(r[6]) * 2), int(r[7]))
            for r in (line.split(",") for line in TARDIS_L2.splitlines()[1:])]
    assert book_dict(res.book, 0.5, 1) == naive_l2(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([1, -1]), st.integers(0, 30),
                          st.integers(0, 5)), min_size=1, max_size=60))
def test_tardis_incremental_property(tmp_path_factory, rows):
    # Bids below 100, asks from 100: the reference never crosses.
    rows = [(s, side, (p if side == 1 else 100 + p), a) for s, side, p, a in rows]
    lines = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
    for i, (s, side, p, a) in enumerate(rows):
        lines.append(f"x,S,{i},{i},{str(s).lower()},{'bid' if side == 1 else 'ask'},"
                     f"{p / 4},{a / 100}")
    f = tmp_path_factory.mktemp("t") / "p.csv"
    f.write_text("\n".join(lines) + "\n")
    ev = read_tardis(f, tick_size=0.25, lot_size=0.01)
    res = lobkit.replay(ev, tick_size=0.25, lot_size=0.01, depth=0)
    want = naive_l2(rows)
    got = book_dict(res.book, 0.25, 0.01)
    assert got == {k: {p: q for p, q in v.items()} for k, v in want.items()}


def test_tardis_errors_name_file_line_and_field(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(TARDIS_L2.replace("6422,5", "6422.3,5"))
    with pytest.raises(ParseError, match=r"bad.csv: line 6, field 'price': \"6422.3\" is not a whole "
                                         r"number of grid steps") as e:
        read_tardis(f, tick_size=0.5, lot_size=1)
    assert e.value.field == "price"
    f.write_text(TARDIS_L2.replace("false,ask", "false,middle"))
    with pytest.raises(ParseError, match="line 6, field 'side'"):
        read_tardis(f, tick_size=0.5, lot_size=1)
    f.write_text(TARDIS_L2 + "deribit,ETH-PERPETUAL,4000,4100,false,bid,1,1\n")
    with pytest.raises(ParseError, match="more than one symbol"):
        read_tardis(f, tick_size=0.5, lot_size=1)
    assert len(read_tardis(f, tick_size=0.5, lot_size=1, symbol="ETH-PERPETUAL")) == 1
    f.write_text("a,b\n1,2\n")
    with pytest.raises(ParseError, match="not a Tardis"):
        read_tardis(f, tick_size=0.5, lot_size=1)
    with pytest.raises(ValueError, match="tick_size"):
        read_tardis(f, tick_size=0, lot_size=1)


@pytest.mark.realdata
def test_tardis_fixtures(shared_data):
    d = shared_data / "tardis"
    ev = read_tardis(d / "deribit_incremental_book_L2_BTC-PERPETUAL.csv", tick_size=0.5,
                     lot_size=10)
    assert ev["kind"][0] == lobkit.Kind.CLEAR and len(ev) == 16
    # book_snapshot_25: after each row, the replayed top 25 is exactly the row.
    for name, n in (("binance-futures_book_snapshot_25_BTCUSDT.csv", 25),
                    ("binance-futures_book_snapshot_5_BTCUSDT.csv", 5)):
        path = d / name
        assert tardis_schema(path) == f"book_snapshot_{n}"
        ev = read_tardis(path, tick_size=0.01, lot_size=0.001)
        res = lobkit.replay(ev, tick_size=0.01, lot_size=0.001, depth=n)
        last = np.flatnonzero(ev["flags"] & F_LAST)
        rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
        # An unchanged row adds no events; each changed row ends in F_LAST.
        changed = [i for i, r in enumerate(rows) if i == 0 or r[4:] != rows[i - 1][4:]]
        assert len(last) == len(changed)
        for k, i in zip(last, changed):
            r = rows[i]
            ap = [round(float(r[4 + 4 * j]) * 100) for j in range(n)]
            bp = [round(float(r[6 + 4 * j]) * 100) for j in range(n)]
            bq = [round(float(r[7 + 4 * j]) * 1000) for j in range(n)]
            assert list(res.ask_price[k]) == ap and list(res.bid_price[k]) == bp
            assert list(res.bid_size[k]) == bq
        assert res.book.stats["crossed"] == 0
    tr = read_tardis(d / "bitmex_trades_XBTUSD.csv", tick_size=0.5, lot_size=1)
    assert (tr["kind"] == lobkit.Kind.TRADE).all()
    assert list(tr["side"][:2]) == [1, 1]  # taker sold: the resting side is the bid
    merged = merge(ev, tr)
    assert len(merged) == len(ev) + len(tr) and (np.diff(merged["ts"]) >= 0).all()
    assert merged.dtype == lobkit.EVENT_DTYPE
