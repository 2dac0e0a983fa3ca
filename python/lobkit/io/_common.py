"""Shared loader plumbing: transparent decompression, exact grid strings,
file names in parse errors, and merging event streams."""

from __future__ import annotations

import gzip
import os
from decimal import Decimal
from typing import Any, Callable, TypeVar

import numpy as np

from .._events import EVENT_DTYPE
from ..errors import ParseError

T = TypeVar("T")

#: ``flags`` bits written by the Tardis, Binance, Bybit, DBN and table
#: loaders (Databento's convention; LOBSTER keeps its message type instead).
F_LAST = 0x80  #: last event of one feed message: the book is consistent after it
F_SNAPSHOT = 0x20  #: part of a snapshot (a reset and its levels)


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, gunzipped or un-zstd'd when the magic bytes say so
    (zstd needs the ``zstandard`` package)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(f"{path}: zstd-compressed; pip install zstandard") from None
        return zstandard.ZstdDecompressor().stream_reader(data).read()
    return data


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
    except Exception:
        ok = False
    if not ok:
        raise ValueError(f"{name}={value!r}: expected a positive number such as 0.01")
    return s


def merge(*streams: np.ndarray) -> np.ndarray:
    """Merges event arrays (e.g. a book feed and its trades) by ``ts``.
    Stable: events with equal ``ts`` keep their array order, earlier
    arguments first."""
    ev = concat(streams)
    order = np.argsort(ev["ts"], kind="stable")
    return np.ascontiguousarray(ev[order])


def concat(streams: Any) -> np.ndarray:
    """Concatenates event arrays keeping :data:`EVENT_DTYPE` exactly
    (``numpy.concatenate`` drops the padding and so changes the dtype)."""
    streams = list(streams)
    out = np.zeros(sum(len(s) for s in streams), EVENT_DTYPE)
    i = 0
    for s in streams:
        out[i:i + len(s)] = s
        i += len(s)
    return out

