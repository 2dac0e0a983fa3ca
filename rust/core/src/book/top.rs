//! The top `n` levels of one side of a book, kept from change records.

use crate::book::l2::{L2Book, LevelChange};
use crate::types::{Price, Qty, Side};

/// The top `n` levels of one side, kept up to date from the books' change
/// records instead of re-scanning the ladder after every event: on sparse
/// grids (LOBSTER at $0.0001, levels ~100 ticks apart) a 10-level scan walks
/// hundreds of bitmap words, and this made depth-10 replays 6x slower than
/// best-only ones. Invariant: `v` holds the first `min(n, levels)` levels,
/// best first. Only a removal inside a full top-N needs the book again (the
/// next level after the last one kept).
#[derive(Debug)]
pub struct TopN {
    /// The side these rows are of.
    pub side: Side,
    n: usize,
    /// The rows, best first (ticks, lots).
    pub v: Vec<(Price, Qty)>,
}

impl TopN {
    /// The top `n` of `side` of `l2`.
    pub fn new(side: Side, n: usize, l2: &L2Book) -> TopN {
        let mut t = TopN {
            side,
            n,
            v: Vec::with_capacity(n + 1),
        };
        t.rebuild(l2);
        t
    }

    /// Re-reads the rows from the book.
    pub fn rebuild(&mut self, l2: &L2Book) {
        self.v.clear();
        let v = &mut self.v;
        l2.for_each_level(self.side, self.n, |p, q| v.push((p, q)));
    }

    #[inline]
    fn better(&self, a: Price, b: Price) -> bool {
        match self.side {
            Side::Bid => a > b,
            Side::Ask => a < b,
        }
    }

    /// Applies one level change (of this side); returns the range of row indices whose
    /// (price, size) may differ from before (empty when the change was
    /// below the top N), so per-level signals recompute only those.
    #[inline]
    pub fn on_change(&mut self, c: &LevelChange, l2: &L2Book) -> (usize, usize) {
        match self.apply(c, l2) {
            Move::Outside => (0, 0),
            Move::Set(i) => (i, i + 1),
            Move::Insert { at, .. } | Move::Remove { at, .. } => (at, self.n),
        }
    }

    /// Applies one level change (of this side) and says what it did to the
    /// rows, for a reader of the rows that keeps them in another order
    /// (the publisher's unordered rows).
    #[inline]
    pub fn apply(&mut self, c: &LevelChange, l2: &L2Book) -> Move {
        let (p, q) = (c.price, c.new_qty);
        if self.v.len() == self.n && self.v.last().is_some_and(|&(lp, _)| self.better(lp, p)) {
            // Behind a full top N: nothing in it moves (the common case deep
            // in a book), so skip the row scan.
            return Move::Outside;
        }
        match self.v.iter().position(|e| e.0 == p) {
            Some(i) if q > 0 => {
                self.v[i].1 = q;
                Move::Set(i)
            }
            Some(i) => {
                let was_full = self.v.len() == self.n;
                self.v.remove(i);
                let mut refilled = false;
                if was_full {
                    let next = match self.v.last() {
                        Some(&(lp, _)) => l2.next_after(self.side, lp),
                        None => l2.best(self.side),
                    };
                    if let Some(x) = next {
                        self.v.push(x);
                        refilled = true;
                    }
                }
                Move::Remove { at: i, refilled }
            }
            None if q > 0 => {
                let pos = self
                    .v
                    .iter()
                    .position(|e| self.better(p, e.0))
                    .unwrap_or(self.v.len());
                if pos < self.n {
                    let evicted = self.v.len() == self.n;
                    self.v.insert(pos, (p, q));
                    self.v.truncate(self.n);
                    Move::Insert { at: pos, evicted }
                } else {
                    Move::Outside
                }
            }
            None => Move::Outside,
        }
    }
}

/// What one level change did to a [`TopN`]'s rows (indices are ranks,
/// best first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Nothing in the top N changed.
    Outside,
    /// Row `i`'s size changed.
    Set(usize),
    /// A level entered at rank `at`; the rows from `at` on moved down one,
    /// and when `evicted` the last one fell out (the count is unchanged).
    Insert {
        /// The new level's rank.
        at: usize,
        /// Whether the top N was full, so its last row left.
        evicted: bool,
    },
    /// The level at rank `at` left; the rows behind it moved up one, and
    /// when `refilled` the next level of the book became the last row (the
    /// count is unchanged).
    Remove {
        /// The removed level's rank.
        at: usize,
        /// Whether a level from behind the top N took the last row.
        refilled: bool,
    },
}
