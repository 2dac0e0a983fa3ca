"""Files larger than memory: :func:`iter_events` reads a file in chunks
(decompressing as it goes) and yields event arrays whose concatenation is
exactly what the whole-file loader returns.

Tardis, Binance, Bybit and the CSV event table have streaming parsers that
carry their state (snapshot runs, the held-back end-of-message flag, the
Binance sync state) across chunks; Parquet event tables stream by record
batch; DBN MBO/MBP-10 by record batch; Kraken by line chunk when the pair
and grids are given. LOBSTER (its reconciliation needs the orderbook file)
and Bitfinex (one JSON document) are read whole and yielded as one array.

    book = lobkit.L2Book(tick_size=0.5, lot_size=10)
    for ev in iter_events("deribit_incremental_book_L2_2020-04-01.csv.gz", "tardis",
                          tick_size=0.5, lot_size=10):
        lobkit.replay(ev, book=book, depth=0)
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np

from .. import _core
from .._events import EVENT_DTYPE
from ._common import grid, with_file
from .binance import _gap_error


def _open(path: Path) -> BinaryIO:
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic == b"\x28\xb5\x2f\xfd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def line_chunks(path: str | os.PathLike, chunk_bytes: int = 1 << 26) -> Iterator[bytes]:
    """The decompressed file in chunks of whole lines, each without its
    final newline (so the parsers count lines exactly)."""
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes={chunk_bytes}: must be positive")
    rest = b""
    with _open(Path(os.fspath(path))) as f:
        while True:
            block = f.read(chunk_bytes)
            if not block:
                break
            data = rest + block
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1:]
            yield data[:cut]
    if rest:
        yield rest


def iter_events(path: str | os.PathLike, format: str = "auto", *, chunk_bytes: int = 1 << 26,
                tick_size: Any = None, lot_size: Any = None, symbol: str | None = None,
                ts: str = "local", strict: bool = False) -> Iterator[np.ndarray]:
    """Yields :data:`~lobkit.EVENT_DTYPE` arrays, about ``chunk_bytes`` of
    input each (some may be empty). Arguments as for :func:`lobkit.io.auto.load`.
    For Binance/Bybit, ``strict=True`` raises
    :class:`~lobkit.errors.SequenceGapError` at a gap."""
    from .auto import detect_format, load

    fmt = detect_format(path) if format == "auto" else format
    if fmt == "tardis":
        if tick_size is None or lot_size is None:
            raise ValueError("tardis input needs tick_size and lot_size")
        p = _core.TardisStream(tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size"),
                               ts=ts, symbol=symbol)
        for chunk in line_chunks(path, chunk_bytes):
            yield with_file(path, lambda c=chunk: p.feed(c)).view(EVENT_DTYPE)
        yield with_file(path, p.finish).view(EVENT_DTYPE)
        return
    if fmt in ("binance", "bybit"):
        if tick_size is None or lot_size is None:
            raise ValueError(f"{fmt} input needs tick_size and lot_size")
        s = _core.DepthSync(tick=grid(tick_size, "tick_size"), lot=grid(lot_size, "lot_size"),
                            ts=ts, venue=fmt)
        for chunk in line_chunks(path, chunk_bytes):
            raw, _ids, new_gaps = with_file(path, lambda c=chunk: s.feed_lines(c))
            if new_gaps and strict:
                raise _gap_error(path, s.gaps, len(s.gaps["got"]) - new_gaps)
            yield raw.view(EVENT_DTYPE)
        return
    if fmt == "csv":
        p = Path(os.fspath(path))
        with open(p, "rb") as f:
            parquet = f.read(4) == b"PAR1"
        tick, lot = grid(tick_size or 1, "tick_size"), grid(lot_size or 1, "lot_size")
        if parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            from .table import _read_parquet_table

            for batch in pq.ParquetFile(p).iter_batches(batch_size=max(chunk_bytes // 64, 1)):
                yield _read_parquet_table(pa.Table.from_batches([batch]), p, tick_size or 1,
                                          lot_size or 1)
            return
        header = None
        line0 = 0
        for chunk in line_chunks(path, chunk_bytes):
            if header is None:
                header, _, chunk = chunk.partition(b"\n")
                line0 = 1
            raw = with_file(path, lambda c=chunk, n=line0: _core.parse_event_table(
                c, tick=tick, lot=lot, header=header, line0=n))
            line0 += chunk.count(b"\n") + 1
            yield raw.view(EVENT_DTYPE)
        return
    if fmt == "kraken":
        from .kraken import _checksum_error, read_kraken

        if symbol is None or tick_size is None or lot_size is None:
            # Pair and printed precision come from the file: read it whole.
            yield read_kraken(path, pair=symbol, tick_size=tick_size, lot_size=lot_size,
                              strict=strict).events
            return
        k = _core.KrakenSync(pair=symbol, tick=grid(tick_size, "tick_size"),
                             lot=grid(lot_size, "lot_size"))
        for chunk in line_chunks(path, chunk_bytes):
            raw, new = with_file(path, lambda c=chunk: k.feed_lines(c))
            if new and strict:
                m = k.mismatches
                raise _checksum_error(path, m, len(m["got"]) - new)
            yield raw.view(EVENT_DTYPE)
        return
    if fmt == "dbn":
        from .dbn import iter_dbn

        if tick_size is None:
            raise ValueError("dbn input needs tick_size")
        yield from iter_dbn(path, tick_size=tick_size, chunk_records=max(chunk_bytes // 56, 1))
        return
    yield load(path, fmt, tick_size=tick_size, lot_size=lot_size, symbol=symbol,
               strict=strict).events
