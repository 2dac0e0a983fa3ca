"""Reading files for every loader: one way to open a file decompressing it
when its magic bytes say so (gzip, zstd), the whole bytes, the first bytes,
line-aligned chunks for files larger than memory, exact grid strings, and
file names in parse errors."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np

from ..errors import ParseError

T = TypeVar("T")

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


def open_decompressed(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading bytes, gunzipped or un-zstd'd as it is
    read when the magic bytes say so (zstd needs the ``zstandard`` package).
    The one opener of every loader."""
    p = Path(os.fspath(path))
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic[:2] == _GZIP:
        return gzip.open(p, "rb")  # type: ignore[return-value]
    if magic == _ZSTD:
        return io.BufferedReader(_ZstdFrames(open(p, "rb")))
    return open(p, "rb")


class _ZstdFrames(io.RawIOBase):
    """Zstandard frames decoded as they are read, ending with an error when
    the data stops inside a frame. (``zstandard``'s own stream reader
    returns what it has and no error for a truncated or corrupt stream, so a
    damaged file would load silently short.)"""

    def __init__(self, raw: BinaryIO):
        try:
            import zstandard
        except ImportError:  # pragma: no cover - depends on the environment
            raw.close()
            raise ImportError("zstd-compressed input needs: pip install zstandard") from None
        self._zstd = zstandard
        self._raw = raw
        self._dec = zstandard.ZstdDecompressor().decompressobj()
        self._out = b""
        self._pos = 0  # read position in _out (no copying per read)
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while self._pos == len(self._out) and not self._done:
            block = self._raw.read(1 << 20)
            if not block:
                if not self._dec.eof:
                    raise EOFError("the zstd stream ends inside a frame")
                self._done = True
                break
            parts = []
            while block:
                if self._dec.eof:  # the next frame of a multi-frame file
                    self._dec = self._zstd.ZstdDecompressor().decompressobj()
                parts.append(self._dec.decompress(block))
                block = self._dec.unused_data if self._dec.eof else b""
            self._out, self._pos = b"".join(parts), 0
        n = min(len(b), len(self._out) - self._pos)
        b[:n] = memoryview(self._out)[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _corrupt_errors() -> tuple[type[BaseException], ...]:
    errs: list[type[BaseException]] = [EOFError, gzip.BadGzipFile, zlib.error]
    try:
        import zstandard

        errs.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - depends on the environment
        pass
    return tuple(errs)


@contextlib.contextmanager
def decompressing(path: Any) -> Iterator[None]:
    """Turns a truncated or corrupt gzip/zstd stream into a
    :class:`~lobkit.errors.ParseError` naming the file (instead of
    ``EOFError``, ``BadGzipFile`` or ``ZstdError`` from the codec)."""
    try:
        yield
    except _corrupt_errors() as e:
        why = str(e) or type(e).__name__
        raise ParseError(f"{path}: the compressed data is truncated or corrupt ({why})", None,
                         "file") from e


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's (decompressed) bytes."""
    with decompressing(path), open_decompressed(path) as f:
        return f.read()


def head(path: str | os.PathLike[str], n: int = 4096) -> bytes:
    """The first ``n`` decompressed bytes (format detection)."""
    with decompressing(path), open_decompressed(path) as f:
        return f.read(n)


def first_line(path: str | os.PathLike[str], n: int = 1) -> bytes:
    """The first ``n`` decompressed lines, with their newlines."""
    with decompressing(path), open_decompressed(path) as f:
        return b"".join(f.readline() for _ in range(n))


def line_chunks(path: str | os.PathLike[str], chunk_bytes: int = 1 << 26) -> Iterator[bytes]:
    """The decompressed file in chunks of whole lines, each without its
    final newline (so the parsers count lines exactly)."""
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes={chunk_bytes}: must be positive")
    # Pieces of a line not yet ended, joined once its newline arrives: a
    # file without newlines stays linear (re-concatenating the partial line
    # at every block was quadratic: 200 MB took 15 s).
    parts: list[bytes] = []
    with decompressing(path), open_decompressed(path) as f:
        while True:
            block = f.read(chunk_bytes)
            if not block:
                break
            cut = block.rfind(b"\n")
            if cut < 0:
                parts.append(block)
                continue
            parts.append(block[:cut])
            yield b"".join(parts)
            parts = [block[cut + 1:]]
    rest = b"".join(parts)
    if rest:
        yield rest


def with_file(path: Any, fn: Callable[[], T]) -> T:
    """Runs a parser, prefixing its :class:`ParseError` messages with the path."""
    try:
        return fn()
    except ParseError as e:
        raise type(e)(f"{path}: {e.message}", e.index, e.field) from None


def grid(value: Any, name: str) -> str:
    """A tick/lot size as the exact decimal string the Rust parsers take.
    Floats go through ``repr`` (the shortest string that reads back as the
    same float: 0.01 -> '0.01'), so the grid is the decimal the user typed."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}={value!r}: expected a positive number such as 0.01")
    if isinstance(value, (int, np.integer)):
        s = str(int(value))
    elif isinstance(value, (float, np.floating)):
        s = repr(float(value))
    elif isinstance(value, (str, Decimal)):
        s = str(value)
    else:
        raise TypeError(f"{name}: expected a number or decimal string, got {type(value).__name__}")
    try:
        ok = Decimal(s) > 0
    except (ArithmeticError, ValueError, TypeError):  # decimal.InvalidOperation is Arithmetic
        ok = False
    if not ok:
        raise ValueError(f"{name}={value!r}: expected a positive number such as 0.01")
    return s
