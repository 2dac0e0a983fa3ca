"""Several venues' books as one: :class:`ConsolidatedBook` (streaming, the
Rust core's ``consolidated`` module) and :func:`consolidate` (bulk, over
loaded feeds).

The common grid is the coarsest that represents every venue's prices and
sizes exactly (the greatest common divisor of the venues' ticks, and of
their lots), or the ``tick_size`` / ``lot_size`` given, which must divide
every venue's (a venue price is never rounded). A consolidated level is the
sum of the venues' sizes at that price; OFI and imbalance are those of the
consolidated book. A locked (bid = ask) or crossed (bid > ask) book across
venues — an arbitrage signal — is reported per event and counted, never
hidden. A venue's sequence gap (the keepers' ``CLEAR`` flagged
:data:`~lobkit.io.F_BAD_BOOK`) takes its levels out until its next snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._core import ConsolidatedBook

__all__ = ["STATES", "ConsolidatedBook", "ConsolidatedResult", "consolidate"]

#: State names by code (``result.state``).
STATES = ("normal", "locked", "crossed", "one_sided")


@dataclass
class ConsolidatedResult:
    """One row per venue event, in the merged order: ``ts`` (ns),
    ``venue`` (index into ``venues``), the consolidated best bid / ask
    (price and size units on the common grid; price NaN and size 0 when a
    side is empty), ``bid_venues`` / ``ask_venues`` (bit ``v`` set when
    venue ``v`` is at that best), ``state`` (code into :data:`STATES`),
    ``ofi`` (size units) and ``imbalance``; ``book`` is the
    :class:`ConsolidatedBook` after the last event."""

    ts: NDArray[np.int64]
    venue: NDArray[np.uint16]
    bid_price: NDArray[np.float64]
    bid_size: NDArray[np.float64]
    ask_price: NDArray[np.float64]
    ask_size: NDArray[np.float64]
    bid_venues: NDArray[np.uint64]
    ask_venues: NDArray[np.uint64]
    state: NDArray[np.int8]
    ofi: NDArray[np.float64]
    imbalance: NDArray[np.float64]
    venues: list[str]
    book: ConsolidatedBook

    def __len__(self) -> int:
        return len(self.ts)

    def share(self, state: str) -> float:
        """Fraction of rows in ``state`` (``"locked"``, ``"crossed"``, ...)."""
        code = STATES.index(state)
        return float((self.state == code).mean()) if len(self) else 0.0

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (``ts`` as UTC datetimes, ``venue``
        and ``state`` as names)."""
        import pandas as pd

        return pd.DataFrame({
            "ts": pd.to_datetime(self.ts, unit="ns", utc=True),
            "venue": np.asarray(self.venues, dtype=object)[self.venue],
            "bid_price": self.bid_price, "bid_size": self.bid_size,
            "ask_price": self.ask_price, "ask_size": self.ask_size,
            "bid_venues": self.bid_venues, "ask_venues": self.ask_venues,
            "state": np.asarray(STATES, dtype=object)[self.state],
            "ofi": self.ofi, "imbalance": self.imbalance,
        })


def consolidate(feeds: Mapping[str, Any] | Sequence[Any], *, tick_size: str | float | None = None,
                lot_size: str | float | None = None) -> ConsolidatedResult:
    """Merges the L2 ``feeds`` (:class:`lobkit.io.Feed`, keyed by venue name,
    or a sequence named by each feed's ``venue`` / ``symbol``) by timestamp
    (ties keep the feeds' order) and replays them through one
    :class:`ConsolidatedBook`. ``tick_size`` / ``lot_size``: the common grid
    (default: the coarsest exact one)."""
    from .io.feed import Feed

    if isinstance(feeds, Mapping):
        named = [(str(k), v) for k, v in feeds.items()]
    else:
        named = []
        for i, f in enumerate(feeds):
            base = getattr(f, "venue", None) or getattr(f, "symbol", None) or f"venue{i}"
            name = str(base)
            while name in {n for n, _ in named}:
                name = f"{name}#{i}"
            named.append((name, f))
    if not named:
        raise ValueError("feeds: give at least one feed")
    if len(named) > 64:
        raise ValueError(f"{len(named)} feeds: at most 64 venues")
    for name, f in named:
        if not isinstance(f, Feed):
            raise TypeError(f"feeds[{name!r}]: expected a lobkit.io.Feed, got {type(f).__name__}")
    book = ConsolidatedBook([(n, f.tick, f.lot) for n, f in named],
                            tick_size=None if tick_size is None else str(tick_size),
                            lot_size=None if lot_size is None else str(lot_size))
    from ._events import EVENT_DTYPE

    merged: NDArray[Any] = np.empty(sum(len(f.events) for _, f in named), dtype=EVENT_DTYPE)
    at = 0
    for _, f in named:
        merged[at:at + len(f.events)] = f.events
        at += len(f.events)
    venue = np.concatenate([np.full(len(f.events), i, np.uint16) for i, (_, f) in enumerate(named)])
    order = np.argsort(merged["ts"], kind="stable")
    events: NDArray[Any] = merged[order]
    venue = venue[order]
    cols = book.replay(events, venue)
    return ConsolidatedResult(ts=events["ts"].astype(np.int64), venue=venue, venues=book.venues,
                              book=book, **cols)
