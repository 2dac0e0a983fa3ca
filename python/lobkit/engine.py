"""A background feed engine and lock-free snapshot readers.

:class:`Engine` runs one Rust thread that owns one book per instrument. The
producer (your feed handler) pushes events into a bounded single-producer
ring; the engine applies them off the Python thread and, at every message
boundary — the last event of each ``push`` and each event flagged
:data:`~lobkit.io.F_LAST` — commits that book's level changes and signals to
its change log, so a reader never sees a message half applied. ``batch``
only bounds how many events the engine drains at a time. Any number of
:class:`Reader` objects, on any thread, keep their own top of the book from
the log without a lock and without ever making the engine wait (see
``rust/core/src/publish/log.rs`` for the memory-ordering argument).

Accounting is exact: ``stats()['pushed'] == applied + rejected`` once
drained (+ ``left`` after ``close(drain=False)``). A full ring blocks the
push up to ``timeout`` and then raises :class:`~lobkit.errors.BackpressureError`
saying how many events were accepted; invalid events are rejected (the book
is unchanged) and raise their typed error on the next call under
``on_error='raise'``, with ``.index`` = the event's position among all events
pushed to the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._core import Reader, Snapshot
from ._events import check_events
from ._typing import OnError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Engine", "Reader", "Snapshot"]


class Engine:
    """``Engine(books, *, capacity=65536, levels=10, check_ts=True,
    batch=256, on_error='raise', detect=None)``.

    ``books``: one :class:`~lobkit.L2Book`/:class:`~lobkit.L3Book` or a list
    (instrument ``i`` = ``books[i]``); the engine takes copies, so the
    objects passed in stay yours. ``capacity``: ring slots (events; rounded
    up to a power of two). ``levels``: levels per side in snapshots.
    ``batch``: most events applied between two publications (smaller =
    fresher snapshots, larger = higher throughput). ``detect``: run the
    detectors on every book (as in :func:`lobkit.replay`); read them with
    :meth:`alerts`. Use as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, books: Any, *, capacity: int = 65536, levels: int = 10,
                 check_ts: bool = True, batch: int = 256, on_error: OnError = "raise",
                 detect: Any = None):
        from . import detect as _detect

        self._grids = [(b.tick_size, b.lot_size) for b in (books if isinstance(books, (list, tuple)) else [books])]
        self._e = _core.Engine(books, capacity=capacity, levels=levels, check_ts=check_ts,
                               batch=batch, on_error=on_error, detect=_detect.options(detect))
        self.alerts_dropped: int = 0
        self._closed = False

    @property
    def instruments(self) -> int:
        """Books in the engine."""
        return self._e.instruments

    def reader(self, instrument: int = 0) -> Reader:
        """A lock-free reader of instrument ``instrument``'s snapshots."""
        return self._e.reader(instrument)

    def push(self, events: NDArray[Any], instrument: int = 0, timeout: float | None = None) -> int:
        """Pushes an :data:`~lobkit.EVENT_DTYPE` array (the interpreter is
        released while waiting). ``timeout``: seconds to wait while the ring
        is full (None = as long as it takes, Ctrl-C interrupts; 0 = not at
        all); then :class:`~lobkit.errors.BackpressureError` with
        ``.accepted``. Returns the number of events pushed."""
        check_events(events)
        return self._e.push(events.view(np.uint8), instrument, timeout)

    def push_one(self, kind: int, side: int, price: int, size: int, order_id: int = 0,
                 ts: int = 0, instrument: int = 0, timeout: float | None = None) -> int:
        """Pushes one event in ticks/lots (the low-latency path)."""
        return self._e.push_one(kind, side, price, size, order_id, ts, instrument, timeout)

    async def push_async(self, events: NDArray[Any], instrument: int = 0, *,
                         poll: float = 0.0005) -> int:
        """:meth:`push` for an asyncio program: never blocks the event loop.
        What fits in the ring goes in at once; while it is full the rest
        waits with ``await asyncio.sleep(poll)`` (seconds), so other tasks
        (the websocket reader, the strategy) keep running. Returns the
        number of events pushed (all of them); typed event errors raise as
        from :meth:`push`."""
        import asyncio

        from .errors import BackpressureError

        check_events(events)
        done = 0
        while done < len(events):
            try:
                done += self._e.push(events[done:].view(np.uint8), instrument, 0)
            except BackpressureError as e:
                done += e.accepted
                await asyncio.sleep(poll)
        return done

    async def alert_stream(self, interval: float = 0.05) -> AsyncIterator[NDArray[Any]]:
        """The detectors' alerts as an async stream: ``async for batch in
        engine.alert_stream(): ...`` yields each non-empty batch of
        :meth:`alerts` (polled every ``interval`` seconds, off the engine's
        thread, which never waits on it) and ends after the engine is
        closed and its last alerts are out."""
        import asyncio

        while True:
            closed = self._closed
            batch = self.alerts()
            if len(batch):
                yield batch
            if closed:
                return
            await asyncio.sleep(interval)

    async def flush_async(self, poll: float = 0.001) -> None:
        """:meth:`flush` without blocking the event loop: waits (``await
        asyncio.sleep(poll)``) until nothing is queued, then raises any
        pending event error as :meth:`flush` does."""
        import asyncio

        while self._e.stats()["queued"]:
            await asyncio.sleep(poll)
        self._e.flush(None)

    def flush(self, timeout: float | None = None) -> None:
        """Waits until every pushed event is applied or rejected."""
        self._e.flush(timeout)

    def alerts(self) -> NDArray[Any]:
        """Alerts of the engine's detectors (``detect=`` at construction)
        since the last call: :data:`lobkit.detect.ALERT_DTYPE` plus an
        ``instrument`` field. Drained from a lock-free queue the engine
        never waits on; overflow is counted in ``alerts_dropped``."""
        from . import detect as _detect

        cols = self._e.alerts()
        self.alerts_dropped = int(cols.pop("dropped"))
        inst = cols.pop("instrument")
        out = np.zeros(len(inst), np.dtype(_detect.ALERT_DTYPE.descr + [("instrument", "<i8")]))
        # Each instrument's rows through the one conversion, on its own grid.
        for i, (tick, lot) in enumerate(self._grids):
            m = inst == i
            part = _detect.to_array({k: v[m] for k, v in cols.items()}, tick, lot)
            for f in _detect.ALERT_DTYPE.names or ():
                out[f][m] = part[f]
        out["instrument"] = inst
        return out

    def stats(self) -> dict[str, int]:
        """``pushed``, ``applied``, ``rejected``, ``queued``,
        ``full_timeouts``, ``errors_dropped`` (events / calls)."""
        return self._e.stats()

    def errors(self) -> list[Exception]:
        """Rejected events' errors not yet raised (``on_error='skip'``)."""
        return self._e.errors()

    def close(self, drain: bool = True) -> tuple[list[Any], dict[str, int]]:
        """Stops the engine; returns ``(books, stats)`` with the final books
        and ``stats['left']`` = events not applied (0 with ``drain=True``)."""
        self._closed = True
        return self._e.close(drain)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._e.close(True)

    def __repr__(self) -> str:
        s = self.stats()
        return f"Engine(instruments={self.instruments}, pushed={s['pushed']}, applied={s['applied']})"
