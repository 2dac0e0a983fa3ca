"""What the venue feed keepers share: the ``flags`` bits they write, the
result of a synchronised capture (:class:`DepthFeed`), the errors a broken
sequence or checksum raises under ``strict=True``, and :class:`Feed`, what
:func:`lobkit.io.load` returns for every format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..errors import ChecksumError, SequenceGapError

#: ``flags`` bits written by the Tardis, Binance, Bybit, Kraken, DBN and table
#: loaders (Databento's convention; LOBSTER keeps its message type instead).
F_LAST = 0x80  #: last event of one feed message: the book is consistent after it
F_SNAPSHOT = 0x20  #: part of a snapshot (a reset and its levels)
F_CONTINUES = 0x40  #: continues the step of the event before it (LOBSTER corrections): one message for the flow signals
#: On the ``CLEAR`` emitted at a sequence gap or checksum mismatch
#: (Databento's ``F_MAYBE_BAD_BOOK``): the book is empty and out of sync
#: until a snapshot.
F_BAD_BOOK = 0x04


@dataclass
class DepthFeed:
    """A synchronised depth capture.

    ``events``: :data:`~lobkit.EVENT_DTYPE`. ``update_id``: per event, the
    update id of the message it came from (diff ``u``, snapshot
    ``lastUpdateId``, trade id). ``gaps``: arrays ``event_index``,
    ``message``, ``expected``, ``got``, ``ts``. ``tickers``: the feed's BBO
    messages (``update_id``, ``ts``, ``bid_price``/``ask_price`` ticks,
    ``bid_size``/``ask_size`` lots). ``stats``: message counts.
    ``in_sync``: whether the book was in sync at the end of the file.
    """

    events: NDArray[Any]
    update_id: NDArray[Any]
    gaps: dict[str, NDArray[Any]]
    tickers: dict[str, NDArray[Any]]
    stats: dict[str, int]
    in_sync: bool
    tick_size: float = 1.0
    lot_size: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def synced(self) -> NDArray[Any]:
        """Per event, True where the book (after that event) is in sync with
        the venue: after the first snapshot and not between a gap and the
        next snapshot."""
        f = self.events["flags"]
        k = self.events["kind"]
        mark = np.zeros(len(f), np.int8)
        mark[(k == 8) & ((f & F_SNAPSHOT) != 0)] = 1  # snapshot reset
        mark[(k == 8) & ((f & F_BAD_BOOK) != 0)] = -1  # gap
        state = np.maximum.accumulate(np.where(mark != 0, np.arange(len(f)), -1))
        ok: NDArray[np.bool_] = (state >= 0) & (mark[np.maximum(state, 0)] == 1)
        return ok


def gap_error(path: Any, g: dict[str, Any], i: int) -> SequenceGapError:
    """The :class:`~lobkit.errors.SequenceGapError` for gap ``i`` of ``g``."""
    return SequenceGapError(
        f"{path}: sequence gap at message {int(g['message'][i])}: expected update id "
        f"{int(g['expected'][i])}, got {int(g['got'][i])} (the book is out of sync until "
        f"the next snapshot; pass strict=False to record gaps and continue)",
        int(g["event_index"][i]), "update_id", expected=int(g["expected"][i]),
        got=int(g["got"][i]))


def checksum_error(where: Any, m: dict[str, Any], i: int) -> ChecksumError:
    """The :class:`~lobkit.errors.ChecksumError` for mismatch ``i`` of ``m``."""
    return ChecksumError(
        f"{where}: checksum mismatch at line {int(m['line'][i])}: the message says "
        f"{int(m['expected'][i])}, the rebuilt book gives {int(m['got'][i])} (out of sync until "
        f"the next snapshot; resubscribe)", int(m["event_index"][i]), "checksum",
        expected=int(m["expected"][i]), got=int(m["got"][i]))


@dataclass
class Feed:
    """What :func:`lobkit.io.load` returns for every format: the events and
    everything a replay of them needs, so ``lobkit.replay(feed)`` is the
    whole job.

    ``events``: :data:`~lobkit.EVENT_DTYPE` (ticks, lots, ns). ``tick_size``
    / ``lot_size``: the grid the events are on (price / size units per
    tick / lot); ``tick`` / ``lot`` the same as exact decimal strings.
    ``grid``: where the grid came from — ``"given"`` (your ``tick_size=`` /
    ``lot_size=``), ``"format"`` (fixed by the format, e.g. LOBSTER's
    $0.0001) or ``"inferred"`` (the coarsest grid holding every value of the
    file exactly, see :mod:`lobkit.io.grids`). ``book_type``: ``"l2"`` or
    ``"l3"``; ``unknown_id``: the L3 policy the format needs (LOBSTER:
    orders resting before the file starts are ``"anonymous"`` liquidity).
    ``symbol`` / ``venue`` when the file names them; ``tz``: the zone of
    the clock ``ts`` counts in (``"UTC"`` for ns since the epoch;
    LOBSTER counts ns after midnight New York time of ``date``).
    ``gaps``: sequence gaps / checksum mismatches the loader recorded
    (arrays, format-specific columns); ``info``: loader statistics.
    """

    events: NDArray[Any]
    format: str
    tick_size: float
    lot_size: float
    book_type: Literal["l2", "l3"]
    unknown_id: Literal["error", "anonymous", "skip"] = "error"
    info: dict[str, Any] = field(default_factory=dict)
    symbol: str | None = None
    venue: str | None = None
    source: str | None = None
    tz: str = "UTC"
    date: str | None = None
    grid: Literal["given", "format", "inferred"] = "given"
    tick: str | None = None
    lot: str | None = None
    gaps: dict[str, NDArray[Any]] = field(default_factory=dict)
    #: The venue's price increment in price units when the format states it
    #: (LOBSTER: NASDAQ's $0.01 on prices kept in $0.0001 ticks); else
    #: :meth:`step_ticks` finds it in the data.
    price_step: float | None = None

    def step_ticks(self) -> int:
        """Book ticks per price increment of the venue: ``price_step`` when
        the format states it, else the greatest common divisor of the
        distances between the prices orders and levels rest at (trades may
        print between increments: midpoint executions). Binance prints
        BTCUSDT with two decimals on a $0.10 increment: 10. The detectors
        count distances in these steps (their ``tick`` option)."""
        if self.price_step is not None:
            return max(1, round(self.price_step / self.tick_size))
        ev = self.events
        resting = np.isin(ev["kind"], [1, 2, 5, 9])  # SET_LEVEL, ADD, MODIFY, SEED
        p = np.unique(ev["price"][resting])
        if len(p) < 2:
            return 1
        return max(1, int(np.gcd.reduce(np.diff(p))))

    def __post_init__(self) -> None:
        self.tick = self.tick or repr(float(self.tick_size))
        self.lot = self.lot or repr(float(self.lot_size))

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        where = f" from {self.source!r}" if self.source else ""
        sym = f" {self.symbol}" if self.symbol else ""
        return (f"Feed({self.format}{sym}{where}: {len(self.events):,} events, {self.book_type}, "
                f"tick {self.tick}, lot {self.lot} ({self.grid}), unknown_id={self.unknown_id!r})")

    def replay_kwargs(self) -> dict[str, Any]:
        """The keyword arguments :func:`lobkit.replay` takes from a feed."""
        return {"tick_size": self.tick_size, "lot_size": self.lot_size,
                "book_type": self.book_type, "unknown_id": self.unknown_id}


#: The name the loaders used before :class:`Feed` (kept for imports).
Loaded = Feed


def check_book(book: Any, tick_size: Any, lot_size: Any) -> Any:
    """The ``book=`` of a streaming keeper: an :class:`~lobkit.L2Book` whose
    grid is the keeper's (the keeper emits ticks and lots of its own grid;
    another grid would silently rescale every price)."""
    from .._core import L2Book

    if not isinstance(book, L2Book):
        raise TypeError(f"book: expected a lobkit.L2Book (venue feeds are price levels), "
                        f"got {type(book).__name__}")
    if book.tick_size != float(tick_size) or book.lot_size != float(lot_size):
        raise ValueError(
            f"book: its grid (tick_size={book.tick_size}, lot_size={book.lot_size}) differs "
            f"from the keeper's (tick_size={tick_size}, lot_size={lot_size}); create it as "
            f"lobkit.L2Book(tick_size={float(tick_size)}, lot_size={float(lot_size)})")
    return book
