"""Type stubs for the Rust extension ``lobkit._core``.

Units: prices in price units (float) or ticks (int, ``*_ticks``); sizes in size
units (float) or lots (int, ``*_lots``). Side: 1 / "bid", -1 / "ask".
"""

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeAlias, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import Self

__version__: str
EVENT_SIZE: int
DEBUG_BUILD: bool

_Side: TypeAlias = int | str

class LevelChange:
    """The last level change an event made, with named fields (ticks / lots)."""
    @property
    def side(self) -> int:
        """1 bid, -1 ask."""
    @property
    def price_ticks(self) -> int:
        """Price of the level that changed (ticks)."""
    @property
    def prev_size_lots(self) -> int:
        """Its size before the event (lots)."""
    @property
    def new_size_lots(self) -> int:
        """Its size after the event (lots; 0 = the level is gone)."""
    @property
    def prev_best_price_ticks(self) -> int:
        """That side's best price before the event (ticks; 0 when empty)."""
    @property
    def prev_best_size_lots(self) -> int:
        """That side's best size before the event (lots; 0 when empty)."""
    @property
    def new_best_price_ticks(self) -> int:
        """That side's best price after the event (ticks; 0 when empty)."""
    @property
    def new_best_size_lots(self) -> int:
        """That side's best size after the event (lots; 0 when empty)."""
    @property
    def best_changed(self) -> bool:
        """True when the side's best price or size changed."""
    def as_tuple(self) -> tuple[int, int, int, int, int, int, int, int]:
        """(side, price, prev_size, new_size, prev_best_price, prev_best_size,
        new_best_price, new_best_size) in ticks/lots.
        """

class _BookView:
    @property
    def tick_size(self) -> float:
        """Price units per tick."""
    @property
    def lot_size(self) -> float:
        """Size units per lot."""
    @property
    def events(self) -> int:
        """Events applied so far (streaming and bulk; failed and skipped
        events are not counted).
        """
    @property
    def last_ts(self) -> int:
        """Timestamp of the last applied event (ns; 0 before any)."""
    @property
    def best_bid_price(self) -> float | None:
        """Best bid price in price units, or None."""
    @property
    def best_ask_price(self) -> float | None:
        """Best ask price in price units, or None."""
    @property
    def best_bid_size(self) -> float:
        """Size at the best bid in size units (0.0 when empty)."""
    @property
    def best_ask_size(self) -> float:
        """Size at the best ask in size units (0.0 when empty)."""
    @property
    def best_bid_ticks(self) -> int | None:
        """Best bid price in ticks, or None."""
    @property
    def best_ask_ticks(self) -> int | None:
        """Best ask price in ticks, or None."""
    @property
    def best_bid_lots(self) -> int:
        """Size at the best bid in lots (0 when empty)."""
    @property
    def best_ask_lots(self) -> int:
        """Size at the best ask in lots (0 when empty)."""
    @property
    def best_bid(self) -> tuple[float, float] | None:
        """(price, size) of the best bid in price/size units, or None."""
    @property
    def best_ask(self) -> tuple[float, float] | None:
        """(price, size) of the best ask in price/size units, or None."""
    @property
    def spread_ticks(self) -> int | None:
        """Best ask minus best bid in ticks, or None when a side is empty."""
    @property
    def spread(self) -> float | None:
        """Best ask minus best bid in price units, or None."""
    @property
    def mid(self) -> float | None:
        """(best bid + best ask) / 2 in price units, or None."""
    @property
    def imbalance(self) -> float:
        """Level-1 queue imbalance (qb - qa)/(qb + qa), in [-1, 1]; 0 when
        both sides are empty. Positive = more resting buy interest.
        """
    @property
    def weighted_mid(self) -> float | None:
        """Size-weighted mid (Pb·qa + Pa·qb)/(qb + qa) in price units, or None."""
    @property
    def ofi(self) -> float:
        """Cont–Kukanov–Stoikov (2014) OFI e_n of the last event, size units
        (positive = buying pressure).
        """
    @property
    def ofi_total(self) -> float:
        """OFI summed over every event this book has applied (streaming and
        bulk), size units.
        """
    @property
    def ofi_msg(self) -> float:
        """Message-accounting OFI (CKS 2014 eq. 4) of the last event:
        arrivals minus cancels and fills at or inside the touch, in
        size units (visible book; hidden prints with `ofi_msg_hidden`).
        """
    @property
    def ofi_msg_total(self) -> float:
        """Running sum of `ofi_msg` since the book was made, size units."""
    def reader(self, levels: int = 10) -> Reader:
        """A lock-free reader of this book's snapshots (top `levels` per
        side, signals, sequence number), usable from any thread. The
        first call turns publication on: from then on every event
        (and every bulk call, at its end) publishes a snapshot, which
        never waits for readers.
        """
    def _enable_detect(self, options: dict[str, object] | None = None) -> None:
        """Turns the detectors on for this book (options as in
        `lobkit.detect.DEFAULTS`); their state then carries across
        every streaming call and bulk replay with `detect=`.
        """
    def _take_alerts(self) -> dict[str, npt.NDArray[Any]]:
        """Alerts raised since the last call (dict of columns; see
        `lobkit.detect`), and clears them.
        """
    def _flush_detect(self) -> int:
        """Raises the alerts the detectors hold for a later event (end
        of a stream); returns how many. Take them with `_take_alerts`.
        """
    @property
    def detecting(self) -> bool:
        """True when detectors are on."""
    @property
    def detect_config(self) -> dict[str, bool | int | float] | None:
        """The running detectors' options (every name of
        `lobkit.detect.OPTIONS`), or None when detectors are off.
        """
    def apply_event(
        self, kind: int, side: int, price: int, size: int, order_id: int = 0,
        ts: int | None = None,
    ) -> bool:
        """One event in ticks/lots/ns through the book's one step
        (timestamp order checked, signals, detectors, publication).
        `kind` is a `lobkit.Kind` code; `ts` defaults to the last
        event's, as for the named methods. Returns True when a best changed.
        """
    def apply(
        self, events: npt.NDArray[np.void], *, on_error: Literal["raise", "skip"] = "raise"
    ) -> int:
        """Applies an `EVENT_DTYPE` array (one feed message, a batch, a
        single event) and publishes once at its end, so readers never
        see it half applied. Validation and errors as `replay`:
        `on_error="raise"` applies all or nothing (the exception's
        `index` is the position in `events`), `"skip"` applies the
        valid events. Returns the number applied. Keeps the
        interpreter: for millions of events use `lobkit.replay`
        (per-event outputs, progress, Ctrl-C).
        """
    def depth_imbalance(self, n: int = 10) -> float:
        """Depth imbalance over the best `n` levels of each side, in [-1, 1]."""
    def weighted_imbalance(self, n: int = 10, decay: float = 0.5) -> float:
        """Imbalance with level k (0 = best) weighted exp(-decay·k), over `n` levels."""
    def band_imbalance(self, band: float) -> float:
        """Imbalance of the size within `band` price units of the mid on each side."""
    @property
    def n_bids(self) -> int:
        """Number of bid levels."""
    @property
    def n_asks(self) -> int:
        """Number of ask levels."""
    @overload
    def bids(self, n: int = 10, *, ticks: Literal[False] = False) -> npt.NDArray[np.float64]:
        """Top `n` bid levels, best first: (k, 2) array of [price, size]
        (float64 in price/size units, or int64 ticks/lots with ticks=True).
        """
    @overload
    def bids(self, n: int = 10, *, ticks: Literal[True]) -> npt.NDArray[np.int64]:
        """Top `n` bid levels, best first: (k, 2) array of [price, size]
        (float64 in price/size units, or int64 ticks/lots with ticks=True).
        """
    @overload
    def bids(self, n: int = 10, *, ticks: bool) -> npt.NDArray[np.float64] | npt.NDArray[np.int64]:
        """Top `n` bid levels, best first: (k, 2) array of [price, size]
        (float64 in price/size units, or int64 ticks/lots with ticks=True).
        """
    @overload
    def asks(self, n: int = 10, *, ticks: Literal[False] = False) -> npt.NDArray[np.float64]:
        """Top `n` ask levels, best first (see `bids`)."""
    @overload
    def asks(self, n: int = 10, *, ticks: Literal[True]) -> npt.NDArray[np.int64]:
        """Top `n` ask levels, best first (see `bids`)."""
    @overload
    def asks(self, n: int = 10, *, ticks: bool) -> npt.NDArray[np.float64] | npt.NDArray[np.int64]:
        """Top `n` ask levels, best first (see `bids`)."""
    def depth(self, side: _Side, n: int = 10) -> float:
        """Size summed over the best `n` levels of `side` (size units)."""
    def depth_within(self, side: _Side, band: float) -> float:
        """Size (size units) on `side` within `band` price units of that side's best, inclusive."""
    def size_at(self, side: _Side, price: float) -> float:
        """Size in size units at `price` on `side` (0.0 when empty)."""
    @property
    def stats(self) -> dict[str, int]:
        """Policy counters: events, crossed, anonymous_fills, unmatched_qty (lots), unknown_ids."""
    @property
    def last_change(self) -> LevelChange | None:
        """The last level change any event made (a `LevelChange` with
        named fields in ticks/lots), None before the first. A CLEAR,
        TRADE or HALT makes none and leaves it as it was.
        """
    @property
    def cross_policy(self) -> Literal["allow", "reject"]:
        """Crossing policy: 'allow' (counted in stats) or 'reject'."""

class L2Book(_BookView):
    """Price-level book. One writer: use from one thread at a time."""
    def __init__(
        self, *, tick_size: float = 1.0, lot_size: float = 1.0,
        cross_policy: Literal["allow", "reject"] = "allow",
    ) -> None: ...
    def update(self, side: _Side, price: float, size: float, *, ts: int | None = None) -> bool:
        """Sets the level at (side, price) to `size` (price/size units; 0 removes
        it). Off-grid values raise. `ts` (ns) defaults to the last event's.
        Returns True when the side's best changed.
        """
    def update_ticks(self, side: int, price: int, size: int, *, ts: int | None = None) -> bool:
        """Integer hot path: side 1/-1, price in ticks, size in lots, `ts` ns."""
    def clear(self, side: _Side | None = None, *, ts: int | None = None) -> None:
        """Removes all levels of `side` (1/-1/'bid'/'ask'), or of both sides when None."""
    def apply_snapshot(
        self, bids: list[tuple[float, float]], asks: list[tuple[float, float]], *,
        ticks: bool = False, ts: int | None = None,
    ) -> None:
        """Replaces the book with a snapshot: `bids`/`asks` are sequences of
        (price, size) in price/size units (ticks/lots with ticks=True). Fed
        as one message (a CLEAR, then one level per entry) that readers see
        whole; everything is validated first and on error the book is unchanged.
        """
    def copy(self) -> L2Book:
        """A deep copy of the book and its flow state (without detectors or readers)."""
    def __reduce__(self) -> tuple[object, tuple[int, float, float, int, bytes]]: ...

class L3Book(_BookView):
    """Order-by-order book. One writer: use from one thread at a time."""
    def __init__(
        self, *, tick_size: float = 1.0, lot_size: float = 1.0,
        cross_policy: Literal["allow", "reject"] = "allow",
        unknown_id: Literal["error", "anonymous", "skip"] = "error",
    ) -> None: ...
    @property
    def unknown_id(self) -> Literal["error", "anonymous", "skip"]:
        """Unknown-id policy: 'error', 'anonymous' or 'skip'."""
    @property
    def n_orders(self) -> int:
        """Number of named resting orders."""
    def add(
        self, order_id: int, side: _Side, price: float, size: float, *, ts: int | None = None
    ) -> bool:
        """New order at the back of its level (price/size units; `ts` ns,
        default the last event's). Returns True when a best changed.
        """
    def add_ticks(
        self, order_id: int, side: int, price: int, size: int, *, ts: int | None = None
    ) -> bool:
        """Integer hot path of `add` (side 1/-1, ticks, lots, ns)."""
    def cancel(
        self, order_id: int, size: float | None = None, *, side: _Side | None = None,
        price: float | None = None, ts: int | None = None,
    ) -> bool:
        """Removes `size` (size units) from an order, keeping its priority; the
        whole order when `size` is None. `side`/`price` locate anonymous
        liquidity for unknown ids under unknown_id='anonymous'.
        """
    def cancel_ticks(
        self, order_id: int, size: int, side: int = 0, price: int = 0, *, ts: int | None = None
    ) -> bool:
        """Integer hot path of `cancel` (lots; size 0 deletes the whole order)."""
    def delete(self, order_id: int, *, ts: int | None = None) -> bool:
        """Deletes an order whatever its remaining size."""
    def execute(
        self, order_id: int, size: float, *, side: _Side | None = None, price: float | None = None,
        ts: int | None = None,
    ) -> bool:
        """`size` (size units) of a resting order traded."""
    def execute_ticks(
        self, order_id: int, size: int, side: int = 0, price: int = 0, *, ts: int | None = None
    ) -> bool:
        """Integer hot path of `execute`."""
    def modify(self, order_id: int, price: float, size: float, *, ts: int | None = None) -> bool:
        """The order now rests at `price` with `size`. Size down at the same price
        keeps queue priority; a price change or size up loses it.
        """
    def modify_ticks(self, order_id: int, price: int, size: int, *, ts: int | None = None) -> bool:
        """Integer hot path of `modify`."""
    def seed(self, side: _Side, price: float, size: float, *, ts: int | None = None) -> bool:
        """Anonymous liquidity (no order id) at the front of (side, price): volume
        that rested before the stream began.
        """
    def clear(self, side: _Side | None = None, *, ts: int | None = None) -> None:
        """Removes all orders of `side`, or of both sides when None."""
    def order(self, order_id: int) -> tuple[int, float, float] | None:
        """(side, price, size) of a resting order in price/size units, or None."""
    def queue_position(self, order_id: int) -> float | None:
        """Size (size units) ahead of the order in its FIFO queue, or None."""
    def queue(self, side: _Side, price: float) -> list[tuple[int, int]]:
        """[(order_id, size lots), ...] at a level, front of the queue first
        (anonymous liquidity is not listed; see `anonymous_at`).
        """
    def anonymous_at(self, side: _Side, price: float) -> float:
        """Anonymous size (size units) at a level."""
    def to_l2(self) -> L2Book:
        """The aggregated price-level view as a new L2Book (same event count
        and flow state; no detectors or readers).
        """
    def copy(self) -> L3Book:
        """A deep copy of the book and its flow state (without detectors or readers)."""
    def __reduce__(self) -> tuple[object, tuple[int, float, float, int, bytes]]: ...

def replay(
    book: L2Book | L3Book, events: npt.NDArray[np.uint8], *, depth: int, on_error: str, check_ts: bool,
    chunk: int, signals: bool = False, progress: Callable[[int], object] | None = None,
    ofi_msg_hidden: bool = False, trade_sign: Literal["feed", "lee_ready", "tick"] = "feed", detect: dict[str, object] | None = None,
    stop_at_l3: bool = False, sample_ns: int = 0,
) -> dict[str, Any]:
    """Bulk replay through an `L2Book` or `L3Book` (see `lobkit.replay`)."""
def detect_options() -> list[tuple[str, str, bool | int | float, float, float]]:
    """The core's option table: a list of (name, type name, default, min, max)."""
def error_class_names() -> list[str]:
    """The class names by code, for `lobkit.errors.BY_CODE`."""
def alert_kind_names() -> list[str]:
    """Alert kind names by code (`lobkit.detect.ALERT_KINDS`)."""
def side_names() -> list[tuple[str, int]]:
    """The core's side spellings as (name, code) pairs (code 0 = no side), for
    the Python table readers.
    """
def rolling_sums(
    ts: npt.NDArray[np.int64], weight: npt.NDArray[np.int64], values: npt.NDArray[np.int64], *,
    by: str, size: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rolling window sums of the `(n, k)` int64 `values`; returns
    `(sums (n, k), counts (n,))`.
    """
def classify_trades(
    price: npt.NDArray[np.int64], bid: npt.NDArray[np.int64], ask: npt.NDArray[np.int64],
    has_quote: npt.NDArray[np.bool_], *, method: str,
) -> npt.NDArray[np.int8]:
    """Trade signs (+1 buy, -1 sell, 0 unknown). `method` 'tick' or
    'lee_ready'; for Lee–Ready, `bid`/`ask` are the prevailing quotes in ticks
    with `has_quote` false where either side was empty.
    """
def vpin(
    ts: npt.NDArray[np.int64], price: npt.NDArray[np.int64], size: npt.NDArray[np.int64], *,
    bucket_volume: int, n_buckets: int, bar_ns: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int]:
    """Bulk VPIN over trades; returns `(vpin, cdf, buckets)`."""

class Rolling:
    """Streaming rolling sums: `Rolling(by, size, width=1)`; `push(ts, values,
    weight=0)` returns the window sums after the event.
    """
    def __init__(self, by: str, size: int, width: int = 1) -> None: ...
    def push(self, ts: int, values: list[int], weight: int = 0) -> list[int]:
        """Adds one event (`values`: `width` ints) and returns the window sums."""
    def __len__(self) -> int: ...
    @property
    def sums(self) -> list[int]:
        """Window sums after the last push."""
    @property
    def weight(self) -> int:
        """Summed weight in the window (lots)."""

class Vpin:
    """Streaming VPIN (see `lobkit.signals.vpin`)."""
    def __init__(self, bucket_volume: int, n_buckets: int = 50, bar_ns: int = 60_000_000_000) -> None: ...
    def on_trade(self, ts: int, price: int, size: int) -> float:
        """One trade: `ts` ns, `price` ticks, `size` lots. Returns the VPIN."""
    def flush(self) -> float:
        """Closes the open time bar so its trades are classified (end of a
        stream or session); a partly filled bucket stays open. Returns the VPIN.
        """
    def advance(self, ts: int) -> float:
        """The clock reached `ts` (ns) without a trade: closes the open bar if
        `ts` is at or past its end. Returns the VPIN.
        """
    @property
    def bucket_fill(self) -> int:
        """Lots classified into the bucket being filled."""
    @property
    def bar_volume(self) -> int:
        """Lots traded in the open time bar, not yet classified."""
    @property
    def value(self) -> float:
        """VPIN after the last completed bucket (NaN before `n_buckets`)."""
    @property
    def cdf(self) -> float:
        """Log-normal CDF rank of the current VPIN among earlier values."""
    @property
    def buckets(self) -> int:
        """Completed buckets."""
class Profile:
    """Streaming volume profile (see `lobkit.signals.LiveProfile`, which adds
    units): prices in ticks, sizes in lots."""
    def __init__(self, step_ticks: int = 1) -> None: ...
    def add(self, price: int, size: int, aggressor: int) -> None:
        """One trade: `price` ticks, `size` lots (ignored unless > 0),
        `aggressor` +1 buy, -1 sell, 0 unknown. Nothing counted on an error."""
    def apply(self, events: npt.NDArray[Any]) -> int:
        """The EXECUTE and TRADE rows of an `EVENT_DTYPE` array (aggressor
        opposite the resting side); all or nothing. Returns the trades counted."""
    def reset(self) -> None:
        """Forgets every trade (a new session)."""
    @property
    def step_ticks(self) -> int:
        """Ticks per row."""
    @property
    def trades(self) -> int:
        """Trades counted."""
    @property
    def total(self) -> int:
        """Lots traded."""
    @property
    def low(self) -> int | None:
        """Price (ticks) of the lowest row; None before any trade."""
    @property
    def poc(self) -> int | None:
        """Price (ticks) of maximum volume (ties: the lower); None before any trade."""
    def rows(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """`(volume, buy, sell)` int64 arrays (lots), one per row from `low`."""
    def value_area(self, share: float = 0.7, rows_per_step: int = 1) -> tuple[int, int, int] | None:
        """`(low, high, volume)` of the value area holding `share` of the
        volume (ticks, ticks, lots); None before any trade."""
_Cells: TypeAlias = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64],
               npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]

class LiveFootprint:
    """Streaming footprint cells (see `lobkit.signals.LiveFootprint`, which
    derives deltas, imbalances, CVD and POC): ns, ticks, lots."""
    def __init__(self, bar_ns: int, keep_bars: int | None = None) -> None: ...
    @property
    def keep_bars(self) -> int | None:
        """Most closed bars held; None: until drained."""
    @property
    def dropped_bars(self) -> int:
        """Closed bars the cap dropped since the footprint was made or reset."""
    @property
    def closed_bars(self) -> int:
        """Closed bars held."""
    def apply(self, events: npt.NDArray[Any]) -> int:
        """The EXECUTE and TRADE rows of an `EVENT_DTYPE` array (aggressor
        opposite the resting side), in time order; all or nothing. Returns
        the trades counted."""
    def flush(self) -> None:
        """Closes the open bar now (end of a session)."""
    def reset(self) -> None:
        """Forgets everything."""
    @property
    def bar_ns(self) -> int:
        """Bar length (ns)."""
    @property
    def open_bar(self) -> int | None:
        """Start of the open bar (ns); None before any trade or after `flush`."""
    def cells(self, include_open: bool = True) -> _Cells:
        """The closed cells not yet drained, then the open bar's (`include_open`),
        as `(bar, price, buy, sell, volume, trades)` int64 arrays, bar then
        price ascending."""
    def drain_closed(self) -> _Cells:
        """Takes the closed cells (the open bar stays), as `cells`."""
def value_area(
    volume: npt.NDArray[np.int64], share: float, rows_per_step: int
) -> tuple[int, int, int, int] | None:
    """`(poc, low, high, area volume)` row indices of the value area over
    `volume` (int64 lots per consecutive row); None for no rows. The one
    statement of the rule, for the bulk profile and footprint."""
def parse_lobster_messages(
    data: bytes, *, tick: int, first_row: npt.NDArray[np.int64] | None = None
) -> tuple[npt.NDArray[np.uint8], int]:
    """Parses a LOBSTER message file's bytes into event records.

    Returns `(events_u8, n_seeded)`; `first_row` (one orderbook row, 4×L
    ints) seeds the book as it stood before the first message.
    """
def parse_lobster_orderbook(data: bytes) -> npt.NDArray[np.int64]:
    """Parses a LOBSTER orderbook file's bytes into an `(rows, 4*levels)` int64 array."""
def lobster_reconcile(
    events: npt.NDArray[np.uint8], *, n_seed: int, orderbook: npt.NDArray[np.int64], tick: int
) -> tuple[npt.NDArray[np.uint8], dict[str, npt.NDArray[Any]]]:
    """Inserts orderbook-file corrections into LOBSTER events (see
    `lobkit_core::lobster::reconcile`). Returns `(events_u8, corrections)`
    where corrections is a dict of equal-length arrays: row, side, price,
    delta, reason (0 unexplained, 1 out of window, 2 unknown id).
    """
def parse_tardis(
    data: bytes,
    *,
    tick: str,
    lot: str,
    ts: str = "local",
    symbol: str | None = None,
    liquidations: bool = False,
) -> tuple[str, int, npt.NDArray[np.uint8]]:
    """Parses a Tardis.dev CSV file (decompressed bytes). Returns
    `(schema, levels, events_u8)`: schema is 'incremental_book_L2', 'trades',
    'liquidations' or 'book_snapshot'; levels is N for snapshots, else 0.
    `liquidations`: a trades-shaped file is the `liquidations` data type.
    """
def parse_event_table(
    data: bytes, *, tick: str, lot: str, header: bytes | None = None, line0: int = 0
) -> npt.NDArray[np.uint8]:
    """Parses the plain CSV event table (see `lobkit_core::io::table`); with
    `header`, `data` is a chunk of rows after `line0` file lines.
    """
def snapshots_to_events(
    ts: npt.NDArray[np.int64],
    bid_price: npt.NDArray[np.int64],
    bid_size: npt.NDArray[np.int64],
    ask_price: npt.NDArray[np.int64],
    ask_size: npt.NDArray[np.int64],
    *,
    flags: int = 0,
    last_flag: int = 0x80,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Top-N snapshots (rows; ticks and lots; 0 size = empty) to the SET_LEVEL
    events that take each row to the next, starting from an empty book.
    Returns `(events_u8, row_of_event)`.
    """
def parse_depth(
    data: bytes, *, tick: str, lot: str, ts: str = "local", venue: str = "binance"
) -> tuple[
    npt.NDArray[np.uint8],
    npt.NDArray[np.uint64],
    dict[str, npt.NDArray[Any]],
    dict[str, npt.NDArray[Any]],
    dict[str, int],
    bool,
]:
    """Parses a capture (`<recv_ts_ns> <json>` lines) of `venue` ('binance' or
    'bybit') through its book keeper. Returns
    `(events_u8, update_ids, gaps, tickers, stats, in_sync)`.
    """
def parse_kraken(
    data: bytes, *, pair: str, tick: str, lot: str
) -> tuple[npt.NDArray[np.uint8], dict[str, npt.NDArray[Any]], dict[str, int], list[str], bool]:
    """Parses a Kraken `book-N` capture for one pair, verifying every checksum.
    Returns `(events_u8, mismatches, stats, pairs, in_sync)`.
    """
def decimal_steps(
    values: list[str], *, step: str, field: str = "value"
) -> npt.NDArray[np.int64]:
    """Decimal strings to whole grid steps, exactly (int64 array). An invalid
    or off-grid value raises `ParseError` naming its index as the line.
    """

class KrakenSync:
    """Streaming Kraken book keeper for one pair, verifying every checksum."""

    def __init__(self, *, pair: str, tick: str, lot: str) -> None: ...
    def on_message(self, message: bytes, recv_ts: int = 0) -> tuple[npt.NDArray[np.uint8], int]:
        """One websocket message (JSON bytes) received at `recv_ts` ns; returns
        `(events_u8, new_mismatches)`.
        """
    def bind_book(self, book: L2Book) -> None:
        """Makes `book` the book `on_message_into` applies to."""
    @property
    def book(self) -> L2Book | None:
        """The bound book, if any."""
    def on_message_into(self, message: bytes, recv_ts: int = 0) -> tuple[int, int]:
        """One message parsed and applied to the bound book as one message;
        returns `(events_applied, new_mismatches)`. If the book refuses the
        events it is unchanged and the keeper waits for a new snapshot.
        """
    def feed_lines(self, data: bytes) -> tuple[npt.NDArray[np.uint8], int]:
        """A chunk of a capture file: whole `<recv_ts>: <json>` lines."""
    @property
    def in_sync(self) -> bool: ...
    @property
    def checksum(self) -> int: ...
    @property
    def mismatches(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def pairs(self) -> list[str]:
        """Every pair seen in the messages so far."""

class TardisStream:
    """Streaming Tardis CSV parser: feed chunks of whole lines, then finish."""

    def __init__(
        self,
        *,
        tick: str,
        lot: str,
        ts: str = "local",
        symbol: str | None = None,
        liquidations: bool = False,
    ) -> None: ...
    def feed(self, data: bytes) -> npt.NDArray[np.uint8]:
        """Whole lines without the final newline; returns the events completed."""
    def finish(self) -> npt.NDArray[np.uint8]:
        """Ends the input; returns the last events."""

class DepthSync:
    """Streaming depth keeper: feed websocket/REST messages in arrival order,
    get the events to apply to a book.
    """

    def __init__(self, *, tick: str, lot: str, ts: str = "local", venue: str = "binance") -> None: ...
    def on_message(self, message: bytes, recv_ts: int = 0) -> tuple[npt.NDArray[np.uint8], int]:
        """One message (JSON bytes); returns `(events_u8, new_gaps)`."""
    def bind_book(self, book: L2Book) -> None:
        """Makes `book` the book `on_message_into` applies to (the caller
        checked its grid matches).
        """
    @property
    def book(self) -> L2Book | None:
        """The bound book, if any."""
    def on_message_into(self, message: bytes, recv_ts: int = 0) -> tuple[int, int]:
        """One message (JSON bytes) parsed and applied to the bound book as one
        message (all or nothing, one publication). Returns
        `(events_applied, new_gaps)`. If the book refuses the events it is
        unchanged and the keeper waits for a new snapshot.
        """
    @property
    def in_sync(self) -> bool: ...
    @property
    def last_update_id(self) -> int | None: ...
    @property
    def buffered(self) -> int: ...
    @property
    def gaps(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    def take_tickers(self) -> dict[str, npt.NDArray[Any]]:
        """bookTicker messages seen since the last call (the newest 10,000), as arrays."""
    def feed_lines(
        self, data: bytes
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64], int]:
        """A chunk of a capture file: whole `<recv_ts_ns> <json>` lines (no
        partial last line). Returns `(events_u8, update_ids, new_gaps)`.
        """

def synthetic_l2(n: int, *, seed: int = 0, mid: int = 1_000_000) -> npt.NDArray[np.uint8]:
    """Seeded synthetic L2 diff stream (see `lobkit_core::synth::l2_stream`) as event bytes."""
def synthetic_l3(
    n: int, *, seed: int = 0, mid: int = 1_000_000, live: int = 2_000
) -> npt.NDArray[np.uint8]:
    """Seeded synthetic L3 stream (see `lobkit_core::synth::l3_stream`) as event bytes."""
def panic_for_test() -> None:
    """Panics inside Rust on purpose, to test that a panic becomes
    `lobkit.errors.InternalError` instead of aborting the interpreter.
    """
def _restore(kind: int, tick: float, lot: float, seq: int, data: bytes) -> L2Book | L3Book:
    """Rebuilds a pickled book (`kind` 2 = L2Book, 3 = L3Book) that had applied
    `events` events.
    """

class Snapshot:
    """One consistent snapshot: prices/sizes in price/size units."""
    @property
    def seq(self) -> int:
        """Publication number (1 = first; 0 = nothing published yet)."""
    @property
    def ts(self) -> int:
        """Timestamp of the last event applied (ns)."""
    @property
    def events(self) -> int:
        """Events the writer had applied."""
    @property
    def bids(self) -> npt.NDArray[np.float64]:
        """Bid levels, best first: (n, 2) float64 [price, size]."""
    @property
    def asks(self) -> npt.NDArray[np.float64]:
        """Ask levels, best first: (n, 2) float64 [price, size]."""
    @property
    def bids_ticks(self) -> list[tuple[int, int]]:
        """Bid levels in (ticks, lots)."""
    @property
    def asks_ticks(self) -> list[tuple[int, int]]:
        """Ask levels in (ticks, lots)."""
    @property
    def ofi(self) -> float:
        """OFI e_n of the last event (size units)."""
    @property
    def ofi_total(self) -> float:
        """Running OFI (size units)."""
    @property
    def ofi_msg_total(self) -> float:
        """Running message-accounting OFI (size units)."""
    @property
    def imbalance(self) -> float:
        """Level-1 queue imbalance in [-1, 1]."""
    @property
    def weighted_mid(self) -> float:
        """Size-weighted mid (price units; NaN when a side is empty)."""

class Reader:
    """A lock-free reader of one book's snapshots, usable from any thread."""
    def read(self) -> Snapshot:
        """The latest consistent snapshot: the book after the last committed
        message. Each Reader keeps its own copy of the top of the book and
        catches it up from the writer's change log; never blocks the writer.
        """
    @property
    def seq(self) -> int:
        """The latest publication number (one atomic load)."""
    @property
    def levels(self) -> int:
        """Levels per side in each snapshot."""
    def wait(self, seq: int, timeout: float | None = None) -> int | None:
        """Waits (interpreter released) until a publication newer than `seq`
        is visible; returns its number, or None after `timeout` seconds.
        """
    def check_reads(self, n: int) -> tuple[int, int, int]:
        """Copies `n` snapshots back to back in Rust, checking each one's
        level ordering, positive sizes, and that publication numbers and
        event counts never go back (a stress-test helper
        that runs at native speed with the interpreter released). Returns
        (reads, distinct publications seen, failures).
        """

class ConsolidatedBook:
    """Several venues' price-level books on one common grid."""
    def __init__(
        self, venues: Sequence[tuple[str, str, str]], *, tick_size: str | None = None,
        lot_size: str | None = None,
    ) -> None: ...
    def apply(self, venue: str | int, events: npt.NDArray[Any]) -> int:
        """Applies `events` (EVENT_DTYPE, in the venue's own ticks and lots) of
        one venue (name or index), in order. Every event is checked before
        any is applied, so a refused one leaves the book as it was (the
        exception's `index` is its position in `events`). Returns the count.
        """
    def replay(
        self, events: npt.NDArray[Any], venue: npt.NDArray[np.uint16],
    ) -> dict[str, npt.NDArray[Any]]:
        """Bulk: applies `events` of the venues `venue` (one index per event,
        uint16) in order and returns per-event columns: best bid / ask price
        and size (common grid, price/size units; NaN / 0 when empty), the
        venues at each best as a bit mask (bit v = venue v), the state code
        (0 normal, 1 locked, 2 crossed, 3 one-sided), OFI (size units) and
        level-1 imbalance. Stops at the first refused event (raised; the
        events before it stay applied).
        """
    def reader(self, levels: int = 10) -> Reader:
        """A lock-free reader of the consolidated book (top `levels` a side,
        OFI and imbalance), usable from any thread; it sees the book as of
        the end of each `apply` / `replay` call.
        """
    @property
    def venues(self) -> list[str]:
        """Venue names, in index order."""
    @property
    def tick_size(self) -> str:
        """The common tick size (price units, a decimal string)."""
    @property
    def lot_size(self) -> str:
        """The common lot size (size units, a decimal string)."""
    @property
    def best_bid(self) -> tuple[float, float, list[str]] | None:
        """(price, size, [venues at that price]) of the consolidated best bid, or None."""
    @property
    def best_ask(self) -> tuple[float, float, list[str]] | None:
        """(price, size, [venues at that price]) of the consolidated best ask, or None."""
    @property
    def state(self) -> str:
        """'normal', 'locked' (best bid = best ask across venues), 'crossed'
        (bid > ask: an arbitrage) or 'one_sided'.
        """
    def levels(self, side: _Side, n: int = 10) -> npt.NDArray[np.float64]:
        """The top `n` consolidated levels of `side` ('bid'/'ask'/1/-1) as an
        (n, 2 + venues) float array: price, total size, then each venue's
        size at that price (price/size units).
        """
    @property
    def imbalance(self) -> float:
        """Level-1 queue imbalance of the consolidated book, in [-1, 1]."""
    @property
    def ofi_total(self) -> float:
        """Running OFI of the consolidated book (size units)."""
    @property
    def in_sync(self) -> list[tuple[str, bool]]:
        """Per venue: in sync (False from a sequence gap until its snapshot)."""
    @property
    def stats(self) -> dict[str, Any]:
        """Counters: events, locked/crossed events and ns, per-venue events and gaps."""

class Engine:
    """A background feed engine (see `lobkit.Engine`)."""
    def __init__(
        self, books: L2Book | L3Book | Sequence[L2Book | L3Book], *, capacity: int = 65536,
        levels: int = 10, check_ts: bool = True, batch: int = 256, on_error: Literal["raise", "skip"] = "raise",
        detect: dict[str, object] | None = None,
    ) -> None: ...
    def alerts(self) -> dict[str, Any]:
        """Alerts raised by the engine's detectors since the last call: a dict
        of columns (as `lobkit.detect`) plus `instrument`. Lock-free with
        respect to the engine thread.
        """
    @property
    def instruments(self) -> int:
        """Books (instruments) in the engine."""
    def reader(self, instrument: int = 0) -> Reader:
        """A lock-free reader of instrument `instrument`'s snapshots."""
    def push(self, events: npt.NDArray[np.uint8], instrument: int = 0, timeout: float | None = None) -> int:
        """Pushes an EVENT_DTYPE array (as bytes view) for `instrument`; see
        `lobkit.Engine.push`.
        """
    def push_one(
        self, kind: int, side: int, price: int, size: int, order_id: int = 0, ts: int = 0,
        instrument: int = 0, timeout: float | None = None,
    ) -> int:
        """Pushes one event given in ticks/lots (the low-latency path)."""
    def flush(self, timeout: float | None = None) -> None:
        """Waits until every pushed event is applied or rejected; raises the
        first pending event error under on_error='raise'.
        """
    def stats(self) -> dict[str, int]:
        """Counters: pushed, applied, rejected, queued, full_timeouts, errors_dropped."""
    def errors(self) -> list[Exception]:
        """Errors of rejected events not yet raised or collected, as exception
        objects (each with `.index` = position among all pushed events).
        """
    def close(self, drain: bool = True) -> tuple[list[L2Book | L3Book], dict[str, int]]:
        """Stops the engine thread. `drain=True` applies everything pushed
        first; `drain=False` leaves the queue (counted as `left`). Returns
        `(books, stats)`: copies of the final books as L2Book/L3Book objects
        and the counters with `left`. Idempotent.
        """
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...
