//! Integer units used everywhere in the core.
//!
//! Prices are in **ticks** (i64), sizes in **lots** (i64), timestamps in
//! **nanoseconds** since an epoch the caller chooses (i64). Conversion from
//! exchange decimals happens once, at the edge, with an explicit tick/lot size.

use bytemuck::{Pod, Zeroable};

/// Price in ticks.
pub type Price = i64;
/// Size in lots.
pub type Qty = i64;
/// Timestamp in nanoseconds.
pub type Ts = i64;
/// Exchange order id. `0` means "no order" (LOBSTER hidden executions use it).
pub type OrderId = u64;

/// Largest |price| in ticks the books accept. Bids are stored under the key
/// `-price`, so the bound keeps every key and every `key ± window` far from
/// overflow.
pub const MAX_ABS_PRICE: Price = 1 << 60;

/// Book side. The numeric values follow LOBSTER's `direction` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i8)]
pub enum Side {
    /// Resting buy orders.
    Bid = 1,
    /// Resting sell orders.
    Ask = -1,
}

impl Side {
    /// Parses the event-record encoding (1 = bid, -1 = ask).
    #[inline]
    pub fn from_i8(v: i8) -> Option<Side> {
        match v {
            1 => Some(Side::Bid),
            -1 => Some(Side::Ask),
            _ => None,
        }
    }

    /// Parses an event's `side`, failing with [`crate::ErrorKind::InvalidSide`].
    #[inline]
    pub fn parse(v: i8) -> Result<Side, crate::ErrorKind> {
        Side::from_i8(v).ok_or(crate::ErrorKind::InvalidSide { value: v })
    }

    /// Parses the `side` of a CLEAR event: 0 = both sides (`None`).
    #[inline]
    pub fn parse_optional(v: i8) -> Result<Option<Side>, crate::ErrorKind> {
        if v == 0 {
            Ok(None)
        } else {
            Side::parse(v).map(Some)
        }
    }

    /// The other side.
    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }

    /// Parses a side *name* (ASCII case-insensitive, see [`SIDE_NAMES`]):
    /// `Some(1)` bid, `Some(-1)` ask, `Some(0)` no side, `None` unknown. The
    /// one spelling table for the books' `side=` arguments and the event
    /// tables (CSV, Parquet, Arrow, DataFrames).
    pub fn code_of_name(name: &[u8]) -> Option<i8> {
        SIDE_NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(_, c)| c)
    }

    /// Lower-case name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Side::Bid => "bid",
            Side::Ask => "ask",
        }
    }
}

/// Every accepted side spelling (matched ignoring ASCII case) and its
/// event code: 1 bid, -1 ask, 0 none (event tables only: a book's `side=`
/// must name a side).
pub const SIDE_NAMES: [(&str, i8); 16] = [
    ("bid", 1),
    ("b", 1),
    ("buy", 1),
    ("bids", 1),
    ("1", 1),
    ("+1", 1),
    ("ask", -1),
    ("a", -1),
    ("sell", -1),
    ("asks", -1),
    ("offer", -1),
    ("-1", -1),
    ("0", 0),
    ("", 0),
    ("none", 0),
    ("n", 0),
];

/// Event kind codes stored in [`Event::kind`]. Stable: they are part of the
/// documented `lobkit.EVENT_DTYPE` record.
pub mod kind {
    /// L2: set the level at (`side`, `price`) to `size` lots; 0 removes it.
    pub const SET_LEVEL: u8 = 1;
    /// L3: new order `order_id` rests at (`side`, `price`) with `size` lots.
    pub const ADD: u8 = 2;
    /// L3: remove `size` lots from order `order_id` (partial cancel; the
    /// order is deleted when nothing is left). Keeps queue priority.
    pub const CANCEL: u8 = 3;
    /// L3: delete order `order_id` entirely (`size` is informational, used
    /// only to consume anonymous liquidity for unknown ids).
    pub const DELETE: u8 = 4;
    /// L3: order `order_id` now rests at `price` with `size` lots. Size down
    /// at the same price keeps priority; a price change or size up loses it.
    pub const MODIFY: u8 = 5;
    /// L3: `size` lots of resting order `order_id` traded. `side` is the
    /// resting side.
    pub const EXECUTE: u8 = 6;
    /// A trade print that does not change the visible book (hidden or cross
    /// trade). `side` is the resting side when known, 0 otherwise.
    pub const TRADE: u8 = 7;
    /// Clear the book (`side` 0) or one side (`side` ±1).
    pub const CLEAR: u8 = 8;
    /// L3: anonymous resting liquidity (no order id) at (`side`, `price`):
    /// volume that existed before the stream started. Sits ahead of every
    /// named order at that level.
    pub const SEED: u8 = 9;
    /// Trading-state message (LOBSTER type 7); no book change.
    pub const HALT: u8 = 10;
    /// A venue's liquidation notice (Binance futures `forceOrder`, Bybit
    /// `liquidation` / `allLiquidation`): a position was closed by a forced
    /// order of `size` lots at `price` ticks. `side` is the resting side its
    /// fills hit, as for a print (1: a long was liquidated by a sell order
    /// hitting the bids; -1: a short, by a buy lifting the asks). No book
    /// change, and not volume: the venue prints the fills themselves on its
    /// trade stream, so the trade-flow signals skip it; the
    /// liquidation-cascade detector reads it.
    pub const LIQUIDATION: u8 = 11;
    /// Largest valid code.
    pub const MAX: u8 = 11;

    /// True for the order-by-order kinds (an L2 book refuses them).
    #[inline]
    pub fn is_l3(kind: u8) -> bool {
        matches!(kind, ADD | CANCEL | DELETE | MODIFY | EXECUTE | SEED)
    }

    /// Name of a kind code, for messages and the Python side.
    pub fn name(k: u8) -> &'static str {
        match k {
            SET_LEVEL => "SET_LEVEL",
            ADD => "ADD",
            CANCEL => "CANCEL",
            DELETE => "DELETE",
            MODIFY => "MODIFY",
            EXECUTE => "EXECUTE",
            TRADE => "TRADE",
            CLEAR => "CLEAR",
            SEED => "SEED",
            HALT => "HALT",
            LIQUIDATION => "LIQUIDATION",
            _ => "UNKNOWN",
        }
    }
}

/// One event record, 40 bytes, layout identical to `lobkit.EVENT_DTYPE`
/// (`numpy.dtype([...], align=True)`): fields at offsets 0, 8, 16, 24, 32, 33, 34.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Event {
    /// Event time in ns.
    pub ts: Ts,
    /// Order id for L3 kinds, 0 otherwise.
    pub order_id: OrderId,
    /// Price in ticks.
    pub price: Price,
    /// Size in lots (meaning depends on `kind`).
    pub size: Qty,
    /// One of [`kind`].
    pub kind: u8,
    /// 1 bid, -1 ask, 0 none.
    pub side: i8,
    /// Free for feed-specific flags (LOBSTER: original message type).
    pub flags: u8,
    /// Padding to 40 bytes; ignored.
    pub pad: [u8; 5],
}

impl Event {
    /// Builds an event with zero flags.
    pub fn new(ts: Ts, kind: u8, side: i8, price: Price, size: Qty, order_id: OrderId) -> Event {
        Event {
            ts,
            order_id,
            price,
            size,
            kind,
            side,
            flags: 0,
            pad: [0; 5],
        }
    }
}
