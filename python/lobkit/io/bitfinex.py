"""Bitfinex websocket v2 raw order books (``prec: R0``, order by order).

Messages: a snapshot ``[chan, [[order_id, price, amount], ...]]``, then
updates ``[chan, [order_id, price, amount]]``: ``amount > 0`` is a bid,
``< 0`` an ask; ``price == 0`` deletes the order (``amount`` is then ±1, a
side flag); otherwise the order is added, or replaced when it rests already
(``MODIFY``: a price change or a size increase loses queue priority).
Heartbeats (``"hb"``) and event objects are skipped. Prices and amounts are
JSON numbers whose exact text is kept (read as decimals, never floats).

Bitfinex sends no timestamps unless the subscription asks for them, so an
event's ``ts`` is its message number (ns units, for ordering only) unless
the messages carry a trailing ms timestamp (``TIMESTAMP`` flag), which is
then used.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._events import EVENT_DTYPE
from .._kinds import Kind
from ..errors import ParseError
from . import grids
from .feed import F_LAST, F_SNAPSHOT, Feed
from .files import grid, read_bytes, with_file


def _is_zero(price: str, path: Any, n: int) -> bool:
    """Bitfinex deletes an order by price 0, however it is spelled ("0",
    "0.00", "0e0", "-0")."""
    try:
        return Decimal(price) == 0
    except InvalidOperation:
        raise ParseError(f"{path}: message {n}: price {price!r} is not a number", n,
                         "price") from None


def _messages(data: bytes, path: Any) -> list[Any]:
    try:
        text = data.decode()
    except UnicodeDecodeError as e:
        raise ParseError(f"{path}: byte {e.start} is not UTF-8 text ({e.reason})", None,
                         "file") from None
    try:
        try:
            whole = json.loads(text, parse_float=str, parse_int=str)
        except json.JSONDecodeError:
            whole = None  # one message per line
        # One JSON array of messages (nautilus's capture) vs a single message.
        if isinstance(whole, list) and (not whole or isinstance(whole[0], (dict, list))):
            return whole
        return [json.loads(l, parse_float=str, parse_int=str) for l in text.splitlines() if l.strip()]
    except json.JSONDecodeError as e:
        raise ParseError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}",
                         None, "json") from None


def read_bitfinex(path: str | os.PathLike[str], *, tick_size: Any = "1e-8",
                  lot_size: Any = "1e-8") -> NDArray[Any]:
    """Reads a Bitfinex R0 capture (one JSON array of messages, or one
    message per line) into L3 :data:`~lobkit.EVENT_DTYPE` events. Replay
    with ``book_type='l3'`` and ``unknown_id='skip'`` if the capture started
    after orders it later deletes."""
    msgs = _messages(read_bytes(path), path)
    live: dict[str, int] = {}
    ids: list[str] = []
    prices: list[str] = []
    amounts: list[str] = []
    kinds: list[int] = []
    sides: list[int] = []
    nums: list[int] = []
    flags: list[int] = []
    stamps: list[int] = []
    for n, m in enumerate(msgs):
        if not isinstance(m, list) or len(m) < 2 or not isinstance(m[1], list):
            continue  # info/subscribed events, heartbeats
        body = m[1]
        ts = int(m[3]) * 1_000_000 if len(m) > 3 else n
        snapshot = bool(body) and isinstance(body[0], list)
        entries = body if snapshot else [body]
        if snapshot:
            kinds.append(Kind.CLEAR)
            ids.append("0")
            prices.append("0")
            amounts.append("0")
            sides.append(0)
            nums.append(n)
            flags.append(F_SNAPSHOT)
            stamps.append(ts)
            live.clear()
        for e in entries:
            if len(e) != 3:
                raise ParseError(f"{path}: message {n}: expected [order_id, price, amount], got "
                                 f"{e!r}", n, "order")
            oid, price, amount = (str(x) for x in e)
            neg = amount.startswith("-")
            side = -1 if neg else 1
            if _is_zero(price, path, n):
                kind = Kind.DELETE
                live.pop(oid, None)
                amount = "0"
            else:
                kind = Kind.MODIFY if oid in live else Kind.ADD
                live[oid] = side
                amount = amount[1:] if neg else amount
            kinds.append(kind)
            ids.append(oid)
            prices.append(price if kind != Kind.DELETE else "0")
            amounts.append(amount)
            sides.append(side)
            nums.append(n)
            flags.append(F_SNAPSHOT if snapshot else 0)
            stamps.append(ts)
        flags[-1] |= F_LAST
    tick, lot = grid(tick_size, "tick_size"), grid(lot_size, "lot_size")
    p = with_file(path, lambda: _core.decimal_steps(prices, step=tick, field="price"))
    q = with_file(path, lambda: _core.decimal_steps(amounts, step=lot, field="size"))
    out = np.zeros(len(kinds), EVENT_DTYPE)
    out["ts"] = stamps
    out["order_id"] = np.array(ids, dtype=np.uint64)
    out["price"] = p
    out["size"] = q
    out["kind"] = kinds
    out["side"] = sides
    out["flags"] = flags
    return out


def load(path: str | os.PathLike[str], *, tick_size: Any = None, lot_size: Any = None,
         **_: Any) -> Feed:
    """A Bitfinex R0 capture for :func:`lobkit.io.auto.load` (grids default
    to 1e-8, the finest Bitfinex prints)."""
    ev = read_bitfinex(path, tick_size=tick_size or "1e-8", lot_size=lot_size or "1e-8")
    tick = grid(tick_size, "tick_size") if tick_size is not None else None
    lot = grid(lot_size, "lot_size") if lot_size is not None else None
    if tick is None or lot is None:
        ev, t2, q2 = grids.coarsen(ev, -8, price=tick is None, size=lot is None)
        tick, lot = tick or t2, lot or q2
    assert tick is not None and lot is not None
    return Feed(ev, "bitfinex", float(tick), float(lot), "l3", venue="bitfinex",
                grid="given" if tick_size is not None and lot_size is not None else "inferred",
                tick=tick, lot=lot)
