"""Keep a Binance USD-M book from the websocket diff stream plus a REST
snapshot, in asyncio, and read it from another task.

    python examples/binance_live.py                 # offline: the bundled capture
    python examples/binance_live.py --live BTCUSDT  # the exchange (needs `websockets`)

Offline, the bundled capture (hftbacktest's collector format: receive time in
ns, then the message) is played through the same code path as the live
socket, messages in their recorded order. Gaps, resyncs and refused messages
are logged through `logging.getLogger("lobkit")`.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import lobkit
from lobkit.io import BinanceDepth

CAPTURE = Path(lobkit.__file__).parent / "data" / "binance" / "btcusdt_usdm_20240808_head4000.gz"
WS = "wss://fstream.binance.com/stream?streams={s}@depth@0ms/{s}@trade"
REST = "https://fapi.binance.com/fapi/v1/depth?symbol={S}&limit=1000"


async def recorded(path: Path) -> AsyncIterator[tuple[int, bytes]]:
    """The capture's messages, yielding to the event loop between them."""
    for line in gzip.decompress(path.read_bytes()).splitlines():
        ts, _, msg = line.partition(b" ")
        yield int(ts), msg
        await asyncio.sleep(0)


async def live(symbol: str) -> AsyncIterator[tuple[int, bytes]]:
    """Diffs from the websocket, and the REST snapshot once the first diff is
    buffered (the keeper bridges them by update id, as Binance documents)."""
    import urllib.request

    import websockets  # pip install websockets

    async with websockets.connect(WS.format(s=symbol.lower())) as ws:
        first = await ws.recv()
        yield time.time_ns(), first if isinstance(first, bytes) else first.encode()
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(REST.format(S=symbol.upper()), timeout=10).read())
        yield time.time_ns(), json.dumps(json.loads(body)).encode()
        async for msg in ws:
            yield time.time_ns(), msg if isinstance(msg, bytes) else msg.encode()


async def keep(source: AsyncIterator[tuple[int, bytes]], book: lobkit.L2Book,
               keeper: BinanceDepth, done: asyncio.Event) -> int:
    n = 0
    async for ts, msg in source:
        try:
            keeper.on_message(msg, ts)  # parses and applies one message, all or nothing
        except lobkit.errors.LobkitError as e:  # refused: logged; the keeper resyncs
            logging.getLogger("lobkit").warning("message %d refused: %s", n, e)
        n += 1
    done.set()
    return n


async def watch(book: lobkit.L2Book, done: asyncio.Event, every: float) -> int:
    """Another task reading the book: between two awaits nothing can change it."""
    looks = 0
    while not done.is_set():
        if book.best_bid and book.best_ask:
            looks += 1
        await asyncio.sleep(every)
    return looks


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--live", metavar="SYMBOL", help="connect to Binance USD-M (e.g. BTCUSDT)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    book = lobkit.L2Book(tick_size=0.1, lot_size=0.001)
    keeper = BinanceDepth(tick_size="0.1", lot_size="0.001", book=book)
    done = asyncio.Event()
    source = live(a.live) if a.live else recorded(CAPTURE)
    n, looks = await asyncio.gather(keep(source, book, keeper, done), watch(book, done, 0.0001))
    print(f"{n:,} messages, in sync {keeper.in_sync}, {looks:,} reads by another task")
    print(f"best bid {book.best_bid}, best ask {book.best_ask}, spread {book.spread_ticks} ticks")


if __name__ == "__main__":
    asyncio.run(main())
