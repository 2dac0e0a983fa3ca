"""Databento DBN files: MBO (L3) and MBP-10 (top 10 levels).

Decoding uses the ``databento-dbn`` package (an optional dependency:
``pip install databento-dbn zstandard``) for the metadata — schema, symbols,
version — and then views the fixed-size records as a numpy structured array
(the MBO and MBP-10 layouts, the same in DBN versions 1 to 3), so a file converts without a Python loop.
The tests check this view field by field against ``databento_dbn``'s own
record objects.

MBO action semantics (Databento's documentation):

====== ================================= ==================================
action meaning                           lobkit event
====== ================================= ==================================
``A``  add                               ``ADD``
``C``  cancel (``size`` = amount removed) ``CANCEL`` (0 left deletes)
``M``  modify (new price and/or size)    ``MODIFY`` (priority kept only on
                                         a size decrease at the same price)
``R``  clear the book                    ``CLEAR``
``T``  trade (``side`` = aggressor)      ``TRADE`` on the *resting* side;
                                         **the book does not change** (the
                                         matching C/M records change it)
``F``  fill of a resting order           nothing (the T record already
                                         counts the trade; the book changes
                                         through the following C/M)
``N``  none                              nothing
====== ================================= ==================================

``flags`` are passed through: ``F_LAST`` (0x80) marks the end of an event
— read the book there —, ``F_SNAPSHOT`` (0x20) the start-of-session
snapshot, ``F_BAD_TS_RECV`` / ``F_MAYBE_BAD_BOOK`` as Databento sets them.
``F_TOB`` (0x40, top-of-book records of schemas lobkit does not read) is
cleared: lobkit uses that bit for :data:`lobkit.io.feed.F_CONTINUES`.
Prices are 1e-9 fixed point and convert exactly onto ``tick_size``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._events import EVENT_DTYPE
from .._kinds import Kind
from .._typing import DbnTs
from ..errors import ParseError
from . import grids
from .combine import concat
from .feed import F_CONTINUES, F_LAST, Feed
from .files import decompressing, grid, open_decompressed, read_bytes

#: Databento's "no price" marker (i64::MAX).
UNDEF_PRICE = (1 << 63) - 1
_HDR = [("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"), ("instrument_id", "<u4"),
        ("ts_event", "<u8")]
#: DBN MBO record (rtype 0xA0), 56 bytes.
MBO_DTYPE = np.dtype(_HDR + [
    ("order_id", "<u8"), ("price", "<i8"), ("size", "<u4"), ("flags", "u1"),
    ("channel_id", "u1"), ("action", "S1"), ("side", "S1"), ("ts_recv", "<u8"),
    ("ts_in_delta", "<i4"), ("sequence", "<u4")])
_LEVEL = [("bid_px", "<i8"), ("ask_px", "<i8"), ("bid_sz", "<u4"), ("ask_sz", "<u4"),
          ("bid_ct", "<u4"), ("ask_ct", "<u4")]
#: DBN MBP-10 record (rtype 0x0A), 368 bytes.
MBP10_DTYPE = np.dtype(_HDR + [
    ("price", "<i8"), ("size", "<u4"), ("action", "S1"), ("side", "S1"), ("flags", "u1"),
    ("depth", "u1"), ("ts_recv", "<u8"), ("ts_in_delta", "<i4"), ("sequence", "<u4"),
    ("levels", np.dtype(_LEVEL), (10,))])
assert MBO_DTYPE.itemsize == 56 and MBP10_DTYPE.itemsize == 368
_RTYPE = {"mbo": (0xA0, MBO_DTYPE), "mbp-10": (0x0A, MBP10_DTYPE)}


@dataclass
class DbnFile:
    """Decoded DBN records as a structured array, with the metadata."""

    schema: str
    records: NDArray[Any]
    metadata: Any
    symbols: list[str]


def _metadata(data: bytes, path: Any, databento_dbn: Any) -> tuple[Any, int]:
    """The DBN metadata block, decoded; a damaged one is a ParseError naming
    the file (the decoder's own errors name neither file nor field)."""
    if len(data) < 8:
        raise ParseError(f"{path}: the file ends inside the DBN header", None, "header")
    (meta_len,) = struct.unpack_from("<I", data, 4)
    if 8 + meta_len > len(data):
        raise ParseError(f"{path}: the metadata block ({meta_len} bytes) runs past the end of "
                         f"the file ({len(data)} bytes)", None, "metadata")
    try:
        dec = databento_dbn.DBNDecoder()
        dec.write(data[: 8 + meta_len])
        decoded = dec.decode()
        meta = decoded[0]
        str(meta.schema)
    except Exception as e:  # DBNError, IndexError, ValueError from the decoder
        raise ParseError(f"{path}: unreadable DBN metadata ({type(e).__name__}: {e})", None,
                         "metadata") from e
    return meta, meta_len


def read_dbn_records(path: str | os.PathLike[str]) -> DbnFile:
    """A DBN (or ``.dbn.zst``) MBO or MBP-10 file as a numpy record array."""
    try:
        import databento_dbn
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading DBN needs databento-dbn: pip install databento-dbn zstandard") from None
    data = read_bytes(path)
    if data[:3] != b"DBN":
        raise ParseError(f"{path}: not a DBN file (no 'DBN' magic)", None, "header")
    version = data[3]
    if version not in (1, 2, 3):
        raise ParseError(f"{path}: DBN version {version} (lobkit reads versions 1 to 3)", None,
                         "version")
    meta, meta_len = _metadata(data, path, databento_dbn)
    schema = str(meta.schema).lower().replace("schema.", "").replace("_", "-")
    if schema not in _RTYPE:
        raise ParseError(f"{path}: schema {meta.schema} is not mbo or mbp-10", None, "schema")
    rtype, dtype = _RTYPE[schema]
    body = data[8 + meta_len:]
    if len(body) % dtype.itemsize:
        raise ParseError(f"{path}: {len(body)} record bytes is not a whole number of "
                         f"{dtype.itemsize}-byte {schema} records", None, "records")
    rec = np.frombuffer(body, dtype=dtype)
    bad = np.flatnonzero((rec["rtype"] != rtype) | (rec["length"].astype(int) * 4 != dtype.itemsize))
    if len(bad):
        i = int(bad[0])
        raise ParseError(f"{path}: record {i} has rtype {rec['rtype'][i]:#x} / length "
                         f"{rec['length'][i] * 4}, expected {rtype:#x} / {dtype.itemsize} "
                         f"(mixed-schema files are not supported)", i, "rtype")
    return DbnFile(schema, rec, meta, list(meta.symbols))


def _fixed(tick_size: Any) -> int:
    t = Decimal(grid(tick_size, "tick_size")) * 1_000_000_000
    if t != t.to_integral_value():
        raise ValueError(f"tick_size={tick_size!r} is finer than DBN's 1e-9 price unit")
    return int(t)


def _ticks(px: NDArray[Any], fixed: int, path: Any, what: NDArray[Any] | None = None) -> NDArray[Any]:
    off = px % fixed != 0
    if what is not None:
        off &= what
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise ParseError(f"{path}: record {i}: price {px[i]} (1e-9 units) is not on the tick grid "
                         f"of {fixed} units", i, "price")
    return px // fixed


def _one_instrument(rec: NDArray[Any], instrument_id: int | None, path: Any) -> NDArray[Any]:
    ids = np.unique(rec["instrument_id"])
    if instrument_id is not None:
        out: NDArray[Any] = rec[rec["instrument_id"] == instrument_id]
        return out
    if len(ids) > 1:
        raise ParseError(f"{path}: the file holds {len(ids)} instruments ({ids[:5].tolist()}...); "
                         f"pass instrument_id=", None, "instrument_id")
    return rec


def read_dbn(
    path: str | os.PathLike[str],
    *,
    tick_size: Any,
    ts: DbnTs = "recv",
    instrument_id: int | None = None,
) -> NDArray[Any]:
    """Reads a DBN MBO or MBP-10 file into :data:`~lobkit.EVENT_DTYPE`
    events for one instrument (``instrument_id=`` picks one from a
    multi-instrument file).

    MBO gives L3 events (replay with ``book_type='l3'``); MBP-10 gives the
    ``SET_LEVEL`` events that turn each record's top 10 into the next (the
    book then *is* the top 10) plus ``TRADE`` events for its trade records.
    ``tick_size``: e.g. 0.25 for CME ES. ``ts``: 'recv' (``ts_recv``, the
    file order; default) or 'event' (``ts_event``). Sizes are contracts
    (``lot_size`` 1).
    """
    f = read_dbn_records(path)
    rec = _one_instrument(f.records, instrument_id, path)
    out, _ = _to_events(f.schema, rec, _fixed(tick_size), _ts_col(ts), path)
    return out


def _ts_col(ts: str) -> str:
    tcol = {"recv": "ts_recv", "event": "ts_event"}.get(ts)
    if tcol is None:
        raise ValueError(f"ts={ts!r}: expected 'recv' or 'event'")
    return tcol


def _to_events(schema: str, rec: NDArray[Any], fixed: int, tcol: str, path: Any,
               prev: NDArray[Any] | None = None) -> tuple[NDArray[Any], bool]:
    """Records to events. Returns the events and, for MBO, whether a dropped
    F/N record before the first kept one carried ``F_LAST`` (it belongs to
    the event before this batch). ``prev``: MBP-10's previous record, so a
    batch continues the level diffs."""
    t = rec[tcol].astype(np.int64)
    act = rec["action"]
    side = np.select([rec["side"] == b"B", rec["side"] == b"A"], [1, -1], 0).astype(np.int8)
    if schema == "mbo":
        kind = np.select([act == b"A", act == b"C", act == b"M", act == b"R", act == b"T"],
                         [Kind.ADD, Kind.CANCEL, Kind.MODIFY, Kind.CLEAR, Kind.TRADE], 0)
        keep = kind != 0
        priced = keep & (kind != Kind.CLEAR) & (rec["price"] != UNDEF_PRICE)
        ticks = _ticks(np.where(priced, rec["price"], 0), fixed, path, priced)
        # A trade's side is the aggressor's; lobkit's TRADE side is the resting one.
        side = np.where(kind == Kind.TRADE, -side, side)
        side = np.where(kind == Kind.CLEAR, 0, side)
        out = np.zeros(int(keep.sum()), EVENT_DTYPE)
        out["ts"] = t[keep]
        out["kind"] = kind[keep]
        out["side"] = side[keep]
        out["price"] = ticks[keep]
        out["size"] = rec["size"][keep]
        out["order_id"] = np.where(kind == Kind.TRADE, 0, rec["order_id"])[keep]
        # F_TOB (0x40) marks top-of-book records of other schemas; lobkit
        # reads that bit as F_CONTINUES, so it is cleared here.
        out["flags"] = rec["flags"][keep] & np.uint8(0xFF ^ F_CONTINUES)
        # Skipped F/N records may have carried F_LAST: move it to the last kept event before.
        last_dropped = (~keep) & ((rec["flags"] & F_LAST) != 0)
        lead = False
        if last_dropped.any():
            j = (np.cumsum(keep) - 1)[last_dropped]
            out["flags"][j[j >= 0]] |= F_LAST
            lead = bool((j < 0).any())
        return out, lead
    # MBP-10: level diffs + trades.
    first = 0
    if prev is not None and len(prev):
        rec = concat_records([prev[-1:], rec])
        t = np.r_[prev[-1:][tcol].astype(np.int64), t]
        first = 1
    lv = rec["levels"]
    bp, ap = lv["bid_px"], lv["ask_px"]
    bq, aq = lv["bid_sz"].astype(np.int64), lv["ask_sz"].astype(np.int64)
    bq = np.where(bp == UNDEF_PRICE, 0, bq)
    aq = np.where(ap == UNDEF_PRICE, 0, aq)
    bt = _ticks(np.where(bq > 0, bp, 0), fixed, path)
    at = _ticks(np.where(aq > 0, ap, 0), fixed, path)
    raw, row = _core.snapshots_to_events(np.ascontiguousarray(t), np.ascontiguousarray(bt),
                                         np.ascontiguousarray(bq), np.ascontiguousarray(at),
                                         np.ascontiguousarray(aq), flags=0, last_flag=F_LAST)
    book_ev = raw.view(EVENT_DTYPE)[row >= first]
    row = row[row >= first]
    trade = act == b"T"
    tr = np.zeros(int(trade.sum()), EVENT_DTYPE)
    tr["ts"] = rec[tcol][first:][trade].astype(np.int64)
    tr["kind"] = Kind.TRADE
    tr["side"] = -side[trade]
    tr["price"] = _ticks(rec["price"][first:][trade], fixed, path)
    tr["size"] = rec["size"][first:][trade]
    tr["flags"] = F_LAST
    # Interleave by record: a record's trade precedes its book change.
    keys = np.concatenate([np.flatnonzero(trade) * 2, (row - first) * 2 + 1])
    ev = concat([tr, book_ev])
    return np.ascontiguousarray(ev[np.argsort(keys, kind="stable")]), False


def concat_records(parts: list[NDArray[Any]]) -> NDArray[Any]:
    out = np.zeros(sum(len(p) for p in parts), parts[0].dtype)
    i = 0
    for p in parts:
        out[i:i + len(p)] = p
        i += len(p)
    return out


def iter_dbn(path: str | os.PathLike[str], *, tick_size: Any, ts: DbnTs = "recv",
             instrument_id: int | None = None, chunk_records: int = 1 << 20) -> Any:
    """:func:`read_dbn` in batches of ``chunk_records`` records, decompressing
    as it goes; the concatenated batches equal :func:`read_dbn`. A
    multi-instrument file needs ``instrument_id``."""
    import databento_dbn

    fixed, tcol = _fixed(tick_size), _ts_col(ts)
    with decompressing(path), open_decompressed(path) as f:
        head = f.read(8)
        if head[:3] != b"DBN":
            raise ParseError(f"{path}: not a DBN file (no 'DBN' magic)", None, "header")
        meta_len = struct.unpack_from("<I", head, 4)[0] if len(head) == 8 else 0
        meta, _ = _metadata(head + f.read(meta_len), path, databento_dbn)
        schema = str(meta.schema).lower().replace("schema.", "").replace("_", "-")
        if schema not in _RTYPE:
            raise ParseError(f"{path}: schema {meta.schema} is not mbo or mbp-10", None, "schema")
        rtype, dtype = _RTYPE[schema]
        carry: NDArray[Any] | None = None  # MBO: the last event, held for a late F_LAST
        prev: NDArray[Any] | None = None  # MBP-10: the previous record
        seen: set[int] = set()
        done = 0
        while True:
            block = f.read(dtype.itemsize * chunk_records)
            if not block:
                break
            if len(block) % dtype.itemsize:
                more = f.read(dtype.itemsize - len(block) % dtype.itemsize)
                block += more
                if len(block) % dtype.itemsize:
                    raise ParseError(f"{path}: the file ends inside a record", done, "records")
            rec = np.frombuffer(block, dtype=dtype)
            bad = np.flatnonzero((rec["rtype"] != rtype) | (rec["length"].astype(int) * 4 != dtype.itemsize))
            if len(bad):
                raise ParseError(f"{path}: record {done + int(bad[0])} is not a {schema} record",
                                 done + int(bad[0]), "rtype")
            done += len(rec)
            if instrument_id is not None:
                rec = rec[rec["instrument_id"] == instrument_id]
            else:
                seen.update(np.unique(rec["instrument_id"]).tolist())
                if len(seen) > 1:
                    raise ParseError(f"{path}: the file holds several instruments "
                                     f"({sorted(seen)[:5]}); pass instrument_id=", None,
                                     "instrument_id")
            if not len(rec):
                continue
            out, lead = _to_events(schema, rec, fixed, tcol, path, prev)
            if schema == "mbp-10":
                prev = rec[-1:].copy()
                yield out
                continue
            if carry is not None:
                if lead:
                    carry["flags"] |= F_LAST
                out = concat([carry, out])
            carry = out[-1:].copy() if len(out) else carry
            yield out[:-1] if len(out) else out
        if carry is not None:
            yield carry


def load(path: str | os.PathLike[str], *, tick_size: Any = None, symbol: str | None = None,
         **_: Any) -> Feed:
    """A DBN MBO or MBP-10 file for :func:`lobkit.io.load`. Without
    ``tick_size``, the tick is the greatest common divisor of the file's
    fixed-point (1e-9) prices — CME ES gives 0.25 (:mod:`lobkit.io.grids`).
    Sizes are contracts (lot 1)."""
    f = read_dbn_records(path)
    rec = _one_instrument(f.records, None, path)
    if tick_size is None:
        parts = [rec["price"].astype(np.int64)]
        if "levels" in (rec.dtype.names or ()):
            parts += [rec["levels"]["bid_px"].ravel(), rec["levels"]["ask_px"].ravel()]
        px = np.concatenate(parts)
        px = px[px != UNDEF_PRICE]
        tick = grids.decimal(grids.gcd_step(px), -9)
    else:
        tick = grid(tick_size, "tick_size")
    ev, _last = _to_events(f.schema, rec, _fixed(tick), _ts_col("recv"), path)
    l3 = bool(np.isin(ev["kind"], [2, 3, 4, 5]).any())
    return Feed(ev, "dbn", float(tick), 1.0, "l3" if l3 else "l2",
                symbol=symbol or (f.symbols[0] if len(f.symbols) == 1 else None),
                grid="given" if tick_size is not None else "inferred", tick=tick, lot="1")


def iter_chunks(path: str | os.PathLike[str], *, chunk_bytes: int, tick_size: Any = None,
                **_: Any) -> Iterator[NDArray[Any]]:
    """A DBN file by record batch (for :func:`lobkit.io.iter_events`)."""
    yield from iter_dbn(path, tick_size=tick_size, chunk_records=max(chunk_bytes // 56, 1))
