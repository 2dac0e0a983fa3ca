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
        let (p, q) = (c.price, c.new_qty);
        if self.v.len() == self.n && self.v.last().is_some_and(|&(lp, _)| self.better(lp, p)) {
            // Behind a full top N: nothing in it moves (the common case deep
            // in a book), so skip the row scan.
            return (0, 0);
        }
        match self.v.iter().position(|e| e.0 == p) {
            Some(i) if q > 0 => {
                self.v[i].1 = q;
                (i, i + 1)
            }
            Some(i) => {
                let was_full = self.v.len() == self.n;
                self.v.remove(i);
                if was_full {
                    let next = match self.v.last() {
                        Some(&(lp, _)) => l2.next_after(self.side, lp),
                        None => l2.best(self.side),
                    };
                    if let Some(x) = next {
                        self.v.push(x);
                    }
                }
                (i, self.n)
            }
            None if q > 0 => {
                let pos = self
                    .v
                    .iter()
                    .position(|e| self.better(p, e.0))
                    .unwrap_or(self.v.len());
                if pos < self.n {
                    self.v.insert(pos, (p, q));
                    self.v.truncate(self.n);
                    (pos, self.n)
                } else {
                    (0, 0)
                }
            }
            None => (0, 0),
        }
    }
}
