//! Price-level (L2) book: one size per (side, price).
//!
//! Every update returns a [`LevelChange`] saying what it changed, so signals
//! (OFI, imbalance) can update in O(1) without re-reading the book.

use super::ladder::Ladder;
use crate::error::ErrorKind;
use crate::types::{kind, Event, Price, Qty, Side, Ts, MAX_ABS_PRICE};

/// Largest size (lots) accepted for one level or order; keeps sums far from
/// overflow when a side holds many levels.
pub const MAX_QTY: Qty = 1 << 52;

/// What a single-level update changed. Prices in ticks, sizes in lots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelChange {
    /// Side of the level (1 bid, -1 ask).
    pub side: i8,
    /// Level price (ticks).
    pub price: Price,
    /// Size before the update (lots; 0 = level was absent).
    pub prev_qty: Qty,
    /// Size after the update (lots; 0 = level removed).
    pub new_qty: Qty,
    /// Best price of that side before the update (ticks; 0 when `prev_best_qty` is 0).
    pub prev_best_price: Price,
    /// Size at the best before the update (lots; 0 = side was empty).
    pub prev_best_qty: Qty,
    /// Best price of that side after the update (ticks).
    pub new_best_price: Price,
    /// Size at the best after the update (lots; 0 = side is empty).
    pub new_best_qty: Qty,
}

impl LevelChange {
    /// True when the best price or the size at the best changed.
    #[inline]
    pub fn best_changed(&self) -> bool {
        self.prev_best_price != self.new_best_price || self.prev_best_qty != self.new_best_qty
    }
}

/// What to do with an update that would lock or cross the book
/// (bid >= best ask, or ask <= best bid).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CrossPolicy {
    /// Apply it and count it in [`BookStats::crossed`]. Real L2 feeds apply a
    /// diff level by level and cross transiently (Binance, Bitfinex R0), and
    /// exchange pre-open auctions cross for real (CME), so this is the default.
    #[default]
    Allow,
    /// Refuse it with [`ErrorKind::CrossedBook`]; the book is unchanged.
    Reject,
}

/// Counters kept by the books for the documented skip/allow policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookStats {
    /// Updates applied that left the book locked or crossed.
    pub crossed: u64,
    /// L3: cancels/executions of unknown ids served from anonymous liquidity.
    pub anonymous_fills: u64,
    /// L3: lots of unknown-id cancels/executions that found no anonymous
    /// liquidity at their price (the book had no record of that volume).
    pub unmatched_qty: Qty,
    /// L3: events with unknown ids skipped under `unknown_id=skip` or unmatched.
    pub unknown_ids: u64,
}

/// Price-level book. Integer ticks and lots; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct L2Book {
    bids: Ladder,
    asks: Ladder,
    /// Policy for crossing updates.
    pub cross_policy: CrossPolicy,
    /// Timestamp of the last bulk event applied (ns).
    pub last_ts: Ts,
    /// Policy counters.
    pub stats: BookStats,
}

#[inline]
fn key(side: Side, price: Price) -> i64 {
    match side {
        Side::Bid => -price,
        Side::Ask => price,
    }
}

#[inline]
fn unkey(side: Side, key: i64) -> Price {
    match side {
        Side::Bid => -key,
        Side::Ask => key,
    }
}

/// Checks a price is inside the accepted range.
#[inline]
pub fn check_price(price: Price) -> Result<(), ErrorKind> {
    if (-MAX_ABS_PRICE..=MAX_ABS_PRICE).contains(&price) {
        Ok(())
    } else {
        Err(ErrorKind::InvalidPrice {
            price,
            reason: "outside ±2^60 ticks",
        })
    }
}

/// Checks a size is in `[0, MAX_QTY]` (or `(0, MAX_QTY]` when `positive`).
#[inline]
pub fn check_qty(size: Qty, positive: bool) -> Result<(), ErrorKind> {
    if size < 0 {
        return Err(ErrorKind::InvalidSize {
            size,
            reason: "negative",
        });
    }
    if positive && size == 0 {
        return Err(ErrorKind::InvalidSize {
            size,
            reason: "must be positive",
        });
    }
    if size > MAX_QTY {
        return Err(ErrorKind::InvalidSize {
            size,
            reason: "above 2^52 lots",
        });
    }
    Ok(())
}

impl L2Book {
    /// An empty book.
    pub fn new() -> L2Book {
        L2Book::default()
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    /// Best price (ticks) and size (lots) of a side, O(1).
    #[inline]
    pub fn best(&self, side: Side) -> Option<(Price, Qty)> {
        self.ladder(side).best().map(|(k, q)| (unkey(side, k), q))
    }

    /// Worst (deepest) price (ticks) and size (lots) of a side.
    pub fn worst(&self, side: Side) -> Option<(Price, Qty)> {
        self.ladder(side).worst().map(|(k, q)| (unkey(side, k), q))
    }

    /// The first level of `side` strictly worse than `price` (ticks, lots).
    #[inline]
    pub fn next_after(&self, side: Side, price: Price) -> Option<(Price, Qty)> {
        self.ladder(side)
            .next_after(key(side, price))
            .map(|(k, q)| (unkey(side, k), q))
    }

    /// Best bid (ticks, lots).
    #[inline]
    pub fn best_bid(&self) -> Option<(Price, Qty)> {
        self.best(Side::Bid)
    }

    /// Best ask (ticks, lots).
    #[inline]
    pub fn best_ask(&self) -> Option<(Price, Qty)> {
        self.best(Side::Ask)
    }

    /// Size at a price (lots, 0 when empty).
    #[inline]
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        self.ladder(side).get(key(side, price))
    }

    /// Number of non-empty levels on a side.
    pub fn len(&self, side: Side) -> usize {
        self.ladder(side).len()
    }

    /// True when both sides are empty.
    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }

    /// Whether a new level at (side, price) would lock or cross the book.
    #[inline]
    fn crosses(&self, side: Side, price: Price) -> Option<Price> {
        let (p, _) = self.best(side.opposite())?;
        let crossed = match side {
            Side::Bid => price >= p,
            Side::Ask => price <= p,
        };
        crossed.then_some(p)
    }

    /// Validates an update without applying it (used by L3 before mutating).
    #[inline]
    pub(crate) fn check_cross(&self, side: Side, price: Price, qty: Qty) -> Result<(), ErrorKind> {
        if qty > 0 && self.cross_policy == CrossPolicy::Reject {
            if let Some(opposite_best) = self.crosses(side, price) {
                return Err(ErrorKind::CrossedBook {
                    side,
                    price,
                    opposite_best,
                });
            }
        }
        Ok(())
    }

    /// Sets the level at (side, price) to `qty` lots (0 removes it). Validates
    /// first: on error the book is unchanged.
    #[inline]
    pub fn set_level(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<LevelChange, ErrorKind> {
        check_price(price)?;
        check_qty(qty, false)?;
        self.check_cross(side, price, qty)?;
        Ok(self.set_level_unchecked(side, price, qty))
    }

    /// [`L2Book::set_level`] for pre-validated input.
    #[inline]
    pub(crate) fn set_level_unchecked(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> LevelChange {
        if qty > 0 && self.crosses(side, price).is_some() {
            self.stats.crossed += 1;
        }
        let ladder = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        let (pb, pq) = ladder.best().unwrap_or((0, 0));
        let prev = ladder.set(key(side, price), qty);
        let (nb, nq) = ladder.best().unwrap_or((0, 0));
        LevelChange {
            side: side as i8,
            price,
            prev_qty: prev,
            new_qty: qty,
            prev_best_price: if pq == 0 { 0 } else { unkey(side, pb) },
            prev_best_qty: pq,
            new_best_price: if nq == 0 { 0 } else { unkey(side, nb) },
            new_best_qty: nq,
        }
    }

    /// Puts back the level state before `c` (the record of a change this
    /// book made; undo newest first). A price-level book is exactly its
    /// levels, so this restores it; the policy counters are the caller's.
    pub fn revert(&mut self, c: &LevelChange) {
        if let Ok(side) = Side::parse(c.side) {
            self.set_level_unchecked(side, c.price, c.prev_qty);
        }
    }

    /// Removes every level of one side, or both when `side` is `None`.
    pub fn clear(&mut self, side: Option<Side>) {
        match side {
            Some(Side::Bid) => self.bids.clear(),
            Some(Side::Ask) => self.asks.clear(),
            None => {
                self.bids.clear();
                self.asks.clear();
            }
        }
    }

    /// Replaces the whole book with a snapshot. Levels are (price ticks, size
    /// lots); zero sizes are ignored. Validates everything first: on error the
    /// book is unchanged.
    pub fn apply_snapshot(
        &mut self,
        bids: &[(Price, Qty)],
        asks: &[(Price, Qty)],
    ) -> Result<(), ErrorKind> {
        for &(p, q) in bids.iter().chain(asks.iter()) {
            check_price(p)?;
            check_qty(q, false)?;
        }
        self.clear(None);
        for &(p, q) in bids {
            if q > 0 {
                self.set_level_unchecked(Side::Bid, p, q);
            }
        }
        for &(p, q) in asks {
            if q > 0 {
                self.set_level_unchecked(Side::Ask, p, q);
            }
        }
        Ok(())
    }

    /// Calls `f(price, qty)` for up to `n` levels of a side, best first.
    #[inline]
    pub fn for_each_level(&self, side: Side, n: usize, mut f: impl FnMut(Price, Qty)) {
        self.ladder(side)
            .for_each_level(n, |k, q| f(unkey(side, k), q));
    }

    /// Up to `n` levels of a side, best first (ticks, lots).
    pub fn levels(&self, side: Side, n: usize) -> Vec<(Price, Qty)> {
        let mut v = Vec::with_capacity(n.min(self.len(side)));
        self.for_each_level(side, n, |p, q| v.push((p, q)));
        v
    }

    /// Size summed over the best `n` levels of a side (lots; saturates at
    /// `i64::MAX` rather than wrapping).
    pub fn depth(&self, side: Side, n: usize) -> Qty {
        let mut s: Qty = 0;
        self.for_each_level(side, n, |_, q| s = s.saturating_add(q));
        s
    }

    /// Size summed over the levels within `band` ticks of the side's best
    /// price, inclusive (lots).
    pub fn depth_within(&self, side: Side, band: Price) -> Qty {
        self.ladder(side).depth_within(band.max(0))
    }

    /// Total size of a side (lots).
    pub fn total(&self, side: Side) -> Qty {
        self.ladder(side).total()
    }

    /// Applies one bulk event. L2 books accept SET_LEVEL, CLEAR, TRADE, HALT,
    /// LIQUIDATION.
    #[inline]
    pub fn apply(&mut self, ev: &Event) -> Result<Option<LevelChange>, ErrorKind> {
        match ev.kind {
            kind::SET_LEVEL => {
                let side = Side::parse(ev.side)?;
                self.set_level(side, ev.price, ev.size).map(Some)
            }
            kind::CLEAR => {
                let side = Side::parse_optional(ev.side)?;
                self.clear(side);
                Ok(None)
            }
            kind::TRADE | kind::LIQUIDATION => super::check_print(ev).map(|_| None),
            kind::HALT => Ok(None),
            k => Err(ErrorKind::InvalidKind {
                kind: k,
                book: "L2",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_record_reports_best_moves() {
        let mut b = L2Book::new();
        let c = b.set_level(Side::Bid, 100, 5).unwrap();
        assert_eq!(
            (c.prev_best_qty, c.new_best_price, c.new_best_qty),
            (0, 100, 5)
        );
        let c = b.set_level(Side::Bid, 101, 2).unwrap();
        assert_eq!((c.prev_best_price, c.new_best_price), (100, 101));
        let c = b.set_level(Side::Bid, 99, 2).unwrap();
        assert!(!c.best_changed());
        let c = b.set_level(Side::Bid, 101, 0).unwrap();
        assert_eq!((c.prev_qty, c.new_best_price, c.new_best_qty), (2, 100, 5));
        assert_eq!(b.levels(Side::Bid, 5), vec![(100, 5), (99, 2)]);
    }

    #[test]
    fn reject_policy_leaves_book_unchanged() {
        let mut b = L2Book::new();
        b.cross_policy = CrossPolicy::Reject;
        assert!(b.set_level(Side::Ask, 100, 1).is_ok());
        let e = b.set_level(Side::Bid, 100, 1);
        assert!(matches!(e, Err(ErrorKind::CrossedBook { .. })));
        assert_eq!(b.best_bid(), None);
        assert!(b.set_level(Side::Bid, 99, 1).is_ok());
    }
}
