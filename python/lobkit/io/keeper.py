"""The streaming keepers' shared part (:class:`Keeper`): the websocket
message path, the owned book, and what a gap or checksum mismatch does.
The venue parts are in :mod:`lobkit.io.binance` and :mod:`lobkit.io.kraken`."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._events import EVENT_DTYPE
from .feed import check_book

__all__ = ["Keeper"]


class Keeper:
    """What the streaming keepers (:class:`~lobkit.io.BinanceDepth`,
    :class:`~lobkit.io.BybitDepth`, :class:`~lobkit.io.KrakenDepth`) share:
    an optional owned book, one :meth:`on_message` per websocket message,
    and what happens at a gap or checksum mismatch — raised under
    ``strict``, else logged as a warning to ``logging.getLogger("lobkit")``
    with the first message back in sync logged once."""

    #: The venue's Rust keeper (parses, synchronises, applies to a bound book).
    _s: Any
    #: Where this keeper's venue logs (a child of ``lobkit``).
    _log: logging.Logger

    def _keep(self, sync: Any, tick_size: Any, lot_size: Any, strict: bool,
              book: Any) -> None:
        self._s = sync
        self.strict = strict
        self._synced = False  # as last logged: a change of state is logged once
        # Read per message: kept here rather than asked of the Rust side.
        self._owns_book = book is not None
        if book is not None:
            sync.bind_book(check_book(book, tick_size, lot_size))

    @property
    def book(self) -> Any:
        """The book this keeper applies to (``book=``), or None."""
        return self._s.book

    @property
    def in_sync(self) -> bool:
        """True when the keeper's book reproduces the venue's: after a
        snapshot, and not since a gap or checksum mismatch."""
        return bool(self._s.in_sync)

    def on_message(self, message: bytes | str, recv_ts: int = 0) -> NDArray[np.void] | int:
        """One message (``recv_ts``: receive time, ns): with a bound book the
        number of events applied to it; otherwise the events it produced
        (often none while buffering, or for other channels)."""
        if isinstance(message, str):
            message = message.encode()
        if self._owns_book:
            out: NDArray[np.void] | int
            out, new = self._s.on_message_into(message, recv_ts)
        else:
            raw, new = self._s.on_message(message, recv_ts)
            out = raw.view(EVENT_DTYPE)
        if new or not self._synced:  # steady state: two attribute tests, no call
            self._after_message(new)
        return out

    def _after_message(self, new: int) -> None:
        """``new`` gaps / mismatches this message: raise or warn; else log
        the return to sync once (``in_sync`` asked only while out of sync)."""
        if new:
            err = self._problem(new)
            if self.strict:
                raise err
            self._log.warning("%s", err)
            self._synced = False
        elif not self._synced and self._s.in_sync:
            self._synced = True
            self._log.info("%s", self._synced_message())

    def _problem(self, new: int) -> Exception:
        """The typed error for the first of the ``new`` problems just recorded."""
        raise NotImplementedError

    def _synced_message(self) -> str:
        raise NotImplementedError
