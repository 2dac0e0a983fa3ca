//! Order-flow and order-book imbalance signals, updated in O(1) (or O(levels))
//! per event from the books' best prices and change records.
//!
//! Sign convention everywhere: positive means buying pressure.

pub mod classify;
pub mod flow;
pub mod footprint;
pub mod imbalance;
pub mod ofi;
pub mod profile;
pub mod trade_flow;
pub mod vpin;
pub mod window;

/// True for an execution or trade print with a positive size: traded
/// volume, as the volume profile, the footprint and the absorption detector
/// count it (the aggressor is opposite the resting `side`).
#[inline]
pub fn is_traded(e: &crate::types::Event) -> bool {
    use crate::types::kind;
    (e.kind == kind::EXECUTE || e.kind == kind::TRADE) && e.size > 0
}

/// The events of `events` that [`is_traded`], with their index in `events`.
pub fn traded(
    events: &[crate::types::Event],
) -> impl Iterator<Item = (usize, &crate::types::Event)> + Clone {
    events.iter().enumerate().filter(|(_, e)| is_traded(e))
}

/// Best bid/ask state used by the per-event signals: prices in ticks, sizes
/// in lots, `*_qty == 0` meaning the side is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Top {
    /// Best bid price (ticks).
    pub bid_price: i64,
    /// Size at the best bid (lots; 0 = no bids).
    pub bid_qty: i64,
    /// Best ask price (ticks).
    pub ask_price: i64,
    /// Size at the best ask (lots; 0 = no asks).
    pub ask_qty: i64,
}

impl Top {
    /// The top of an L2 book.
    #[inline]
    pub fn of(l2: &crate::L2Book) -> Top {
        let (bid_price, bid_qty) = l2.best_bid().unwrap_or((0, 0));
        let (ask_price, ask_qty) = l2.best_ask().unwrap_or((0, 0));
        Top {
            bid_price,
            bid_qty,
            ask_price,
            ask_qty,
        }
    }
}
