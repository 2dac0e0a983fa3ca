"""Loaders for real market-data formats.

:func:`load` reads any of them (path, file object, bytes or fsspec URL) into a
:class:`Feed`: the :data:`lobkit.EVENT_DTYPE` events plus the grid, book type
and policies to replay them with (``lobkit.replay(feed)``). The per-format
readers below return the events alone:

* LOBSTER message/orderbook files: :func:`read_lobster`, :func:`read_lobster_reconciled`
* Tardis.dev CSV (incremental_book_L2, trades, book_snapshot_N): :func:`read_tardis`
* Binance snapshot + diff-depth (+ trades, bookTicker), synchronised: :func:`read_binance`, :class:`BinanceDepth`
* Bybit v5 orderbook snapshot/delta + publicTrade: :func:`read_bybit`, :class:`BybitDepth`
* Databento DBN MBO / MBP-10 (needs ``databento-dbn``): :func:`read_dbn`
* Bitfinex raw order books (R0, L3): :func:`read_bitfinex`
* Kraken ``book-N`` with CRC32 checksum verification: :func:`read_kraken`, :class:`KrakenDepth`
* the plain event table (CSV/Parquet): :func:`read_events` / :func:`write_events`

Streams from several files merge with :func:`merge`; files larger than memory
stream in chunks with :func:`iter_events`.
"""

from .auto import FORMATS, iter_events, load
from .binance import BinanceDepth, BybitDepth, read_binance, read_bybit
from .bitfinex import read_bitfinex
from .combine import concat, merge
from .dbn import read_dbn, read_dbn_records
from .feed import F_BAD_BOOK, F_CONTINUES, F_LAST, F_SNAPSHOT, DepthFeed, Feed
from .files import line_chunks, read_bytes
from .kraken import KrakenDepth, read_kraken
from .lobster import (
    FLAG_RECONCILE,
    REASON_OUT_OF_WINDOW,
    REASON_UNEXPLAINED,
    REASON_UNKNOWN_ID,
    lobster_book_columns,
    message_rows,
    read_lobster,
    read_lobster_orderbook,
    read_lobster_reconciled,
)
from .table import events_from_table, events_table, events_to_arrow, read_events, write_events
from .tardis import read_tardis, tardis_schema

__all__ = [
    "FLAG_RECONCILE",
    "FORMATS",
    "F_BAD_BOOK",
    "F_CONTINUES",
    "F_LAST",
    "F_SNAPSHOT",
    "REASON_OUT_OF_WINDOW",
    "REASON_UNEXPLAINED",
    "REASON_UNKNOWN_ID",
    "BinanceDepth",
    "BybitDepth",
    "DepthFeed",
    "Feed",
    "KrakenDepth",
    "concat",
    "events_from_table",
    "events_table",
    "events_to_arrow",
    "iter_events",
    "line_chunks",
    "load",
    "lobster_book_columns",
    "merge",
    "message_rows",
    "read_binance",
    "read_bitfinex",
    "read_bybit",
    "read_bytes",
    "read_dbn",
    "read_dbn_records",
    "read_events",
    "read_kraken",
    "read_lobster",
    "read_lobster_orderbook",
    "read_lobster_reconciled",
    "read_tardis",
    "tardis_schema",
    "write_events",
]
