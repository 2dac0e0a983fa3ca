//! Limit order books: [`l2::L2Book`] (price levels) and [`l3::L3Book`] (order by order).

pub mod codec;
pub mod l2;
pub mod l3;
pub mod ladder;
pub mod top;

use crate::error::ErrorKind;
use crate::types::{Event, Ts};

/// A side hint (the resting side of a print, the side locating anonymous
/// liquidity): 1, -1, or 0 for none. Anything else is refused, never used
/// as a multiplier by the signals.
#[inline]
pub fn check_side_hint(side: i8) -> Result<(), ErrorKind> {
    if (-1..=1).contains(&side) {
        Ok(())
    } else {
        Err(ErrorKind::InvalidSide { value: side })
    }
}

/// A TRADE print changes no level, but the flow signals sign and sum it:
/// `side` 1/-1/0 (resting side, 0 unknown), `size` > 0 lots, `price` in range.
#[inline]
pub fn check_print(ev: &Event) -> Result<(), ErrorKind> {
    check_side_hint(ev.side)?;
    l2::check_qty(ev.size, true)?;
    l2::check_price(ev.price)
}

/// What the bulk kernels need from a book.
pub trait Book: Clone {
    /// Applies one event and returns the level changes it made; on error
    /// the book is unchanged.
    fn apply_event(&mut self, ev: &Event) -> Result<l3::Changes, ErrorKind>;
    /// The price-level view.
    fn levels(&self) -> &l2::L2Book;
    /// Timestamp of the last applied event (ns), for the ordering check.
    fn last_ts(&mut self) -> &mut Ts;
    /// True for order-by-order books (detectors then watch orders, not levels).
    fn is_l3(&self) -> bool;
    /// The policy counters (mutable: a rolled-back call puts them back).
    fn stats_mut(&mut self) -> &mut l2::BookStats;
    /// Undoes the level changes of one event (`changes` as it returned),
    /// when the book can: true for price-level books, whose state is their
    /// levels; false for order-by-order books (queue positions are not in
    /// the level records), whose callers then restore a checkpoint.
    fn revert(&mut self, changes: &l3::Changes) -> bool;
}

impl Book for l2::L2Book {
    #[inline]
    fn apply_event(&mut self, ev: &Event) -> Result<l3::Changes, ErrorKind> {
        self.apply(ev).map(|first| l3::Changes {
            first,
            second: None,
        })
    }
    #[inline]
    fn levels(&self) -> &l2::L2Book {
        self
    }
    #[inline]
    fn last_ts(&mut self) -> &mut Ts {
        &mut self.last_ts
    }
    fn is_l3(&self) -> bool {
        false
    }
    fn stats_mut(&mut self) -> &mut l2::BookStats {
        &mut self.stats
    }
    fn revert(&mut self, changes: &l3::Changes) -> bool {
        for c in [changes.second, changes.first].into_iter().flatten() {
            l2::L2Book::revert(self, &c);
        }
        true
    }
}

impl Book for l3::L3Book {
    #[inline]
    fn apply_event(&mut self, ev: &Event) -> Result<l3::Changes, ErrorKind> {
        self.apply(ev)
    }
    #[inline]
    fn levels(&self) -> &l2::L2Book {
        self.l2()
    }
    #[inline]
    fn last_ts(&mut self) -> &mut Ts {
        &mut self.l2_mut().last_ts
    }
    fn is_l3(&self) -> bool {
        true
    }
    fn stats_mut(&mut self) -> &mut l2::BookStats {
        &mut self.l2_mut().stats
    }
    fn revert(&mut self, _: &l3::Changes) -> bool {
        false
    }
}

/// Either book, chosen at run time (the engine owns a mix of them).
#[derive(Clone, Debug)]
pub enum AnyBook {
    /// Price-level book.
    L2(l2::L2Book),
    /// Order-by-order book.
    L3(l3::L3Book),
}

impl Book for AnyBook {
    #[inline]
    fn apply_event(&mut self, ev: &Event) -> Result<l3::Changes, ErrorKind> {
        match self {
            AnyBook::L2(b) => b.apply_event(ev),
            AnyBook::L3(b) => b.apply_event(ev),
        }
    }
    #[inline]
    fn levels(&self) -> &l2::L2Book {
        match self {
            AnyBook::L2(b) => b,
            AnyBook::L3(b) => b.l2(),
        }
    }
    #[inline]
    fn last_ts(&mut self) -> &mut Ts {
        match self {
            AnyBook::L2(b) => b.last_ts(),
            AnyBook::L3(b) => b.last_ts(),
        }
    }
    fn is_l3(&self) -> bool {
        matches!(self, AnyBook::L3(_))
    }
    fn stats_mut(&mut self) -> &mut l2::BookStats {
        match self {
            AnyBook::L2(b) => b.stats_mut(),
            AnyBook::L3(b) => b.stats_mut(),
        }
    }
    fn revert(&mut self, changes: &l3::Changes) -> bool {
        match self {
            AnyBook::L2(b) => Book::revert(b, changes),
            AnyBook::L3(b) => b.revert(changes),
        }
    }
}
