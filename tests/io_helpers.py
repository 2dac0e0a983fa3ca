"""Shared pieces of the loader tests: the bundled excerpts, a small Tardis
file, and naive dict books to compare loaders with."""

import gzip

from conftest import ROOT

BUNDLED_BINANCE = ROOT / "python" / "lobkit" / "data" / "binance" / "btcusdt_usdm_20240808_head4000.gz"
TARDIS_L2 = """exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
deribit,BTC-PERPETUAL,1000,1100,true,ask,6421.5,18640
deribit,BTC-PERPETUAL,1000,1100,true,bid,6421,10
deribit,BTC-PERPETUAL,1000,1100,true,bid,6420.5,30
deribit,BTC-PERPETUAL,2000,2100,false,bid,6421,0
deribit,BTC-PERPETUAL,2000,2100,false,ask,6422,5
deribit,BTC-PERPETUAL,3000,3100,true,ask,6430,1
deribit,BTC-PERPETUAL,3000,3100,true,bid,6429.5,2
"""


def naive_l2(rows):
    """Reference: dict book from (is_snapshot, side, price, amount) rows."""
    book = {1: {}, -1: {}}
    prev_snap = False
    for snap, side, price, amount in rows:
        if snap and not prev_snap:
            book = {1: {}, -1: {}}
        prev_snap = snap
        if amount == 0:
            book[side].pop(price, None)
        else:
            book[side][price] = amount
    return book


def book_dict(book, tick, lot):
    return {1: {round(p / tick): round(q / lot) for p, q in book.bids(10_000)},
            -1: {round(p / tick): round(q / lot) for p, q in book.asks(10_000)}}


# ---------------------------------------------------------------- Tardis


def gz_lines(path):
    """The lines of a gzip'd text file."""
    with gzip.open(path, "rt") as f:
        return f.read().splitlines()
