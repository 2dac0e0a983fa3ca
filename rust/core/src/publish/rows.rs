//! The published level rows of one side, stored unordered so that a change
//! rewrites one row instead of shifting the rows behind it.
//!
//! Why: a publication costs the writer the words it stores, and every
//! publication slot must catch up with the rows changed since it was last
//! written. Kept best first, a level entering at the touch moves all N
//! rows, so nearly every publication rewrote the whole side. Here each
//! level keeps the row position it got when it entered the top N; a new
//! level takes the position of the one it pushed out (or the one that left),
//! so every level change writes exactly one row. Readers sort the rows they
//! copy by price ([`super::decode`]); the row count is published, and the
//! rows `0..count` are always exactly the side's top N levels.

use crate::book::l2::{L2Book, LevelChange};
use crate::book::top::{Move, TopN};
use crate::types::{Price, Qty, Side};

/// A set of row positions: bit `i` is position `i` for `i < 63`; bit 63
/// stands for every position from 63 on (sides deeper than 63 levels store
/// that whole tail when any of it changed).
pub(super) type Dirty = u64;

/// Every position.
pub(super) const ALL: Dirty = u64::MAX;

/// The bit of row position `i`.
#[inline]
fn bit(i: u32) -> Dirty {
    1 << i.min(63)
}

/// Calls `row(i, row)` for each single position `i` in `dirty` below
/// `rows.len()`, then `tail(63, rows[63..])` when the tail bit is set and
/// there are rows from 63 on: the rows to store.
#[inline]
pub(super) fn for_each_dirty(
    dirty: Dirty,
    rows: &[(Price, Qty)],
    mut row: impl FnMut(usize, (Price, Qty)),
    tail: impl FnOnce(usize, &[(Price, Qty)]),
) {
    // Single positions first (the common case, kept tight: a few
    // instructions a row), then the tail bit.
    let mut m = dirty & !(1 << 63);
    while m != 0 {
        let b = m.trailing_zeros() as usize;
        m &= m - 1;
        if let Some(&r) = rows.get(b) {
            row(b, r);
        }
    }
    if dirty >> 63 != 0 {
        if let Some(r) = rows.get(63..).filter(|r| !r.is_empty()) {
            tail(63, r);
        }
    }
}

/// One side's top N, best first, and the same levels by row position.
#[derive(Debug)]
pub(super) struct SideRows {
    top: TopN,
    /// `at[rank]`: the row position of the level at `rank` of `top`.
    at: Vec<u32>,
    /// The rows by position (ticks, lots); as long as `top.v`.
    pub(super) rows: Vec<(Price, Qty)>,
}

impl SideRows {
    /// The top `n` of `side` of `l2`, stored best first.
    pub(super) fn new(side: Side, n: usize, l2: &L2Book) -> SideRows {
        let top = TopN::new(side, n, l2);
        let rows = top.v.clone();
        let at = (0..rows.len() as u32).collect();
        SideRows { top, at, rows }
    }

    /// Applies one level change of this side; returns the positions whose
    /// row it changed (none, or one). Out of line: inlined, it made the
    /// step every replay runs (publisher or not) 2% dearer.
    #[inline(never)]
    pub(super) fn apply(&mut self, c: &LevelChange, l2: &L2Book) -> Dirty {
        match self.top.apply(c, l2) {
            Move::Outside => 0,
            Move::Set(i) => self.set(i),
            Move::Insert { at, evicted } => {
                // The level pushed out leaves its position to the new one;
                // else the new one takes the next free position.
                let f = if evicted {
                    self.at.pop()
                } else {
                    self.rows.push((0, 0));
                    Some(self.at.len() as u32)
                };
                let Some(f) = f else { return 0 };
                self.at.insert(at.min(self.at.len()), f);
                self.set(at)
            }
            Move::Remove { at, refilled } => {
                if at >= self.at.len() {
                    return 0;
                }
                let f = self.at.remove(at);
                if refilled {
                    // The level that moved into the top N takes the position.
                    self.at.push(f);
                    return self.set(self.at.len() - 1);
                }
                // One row fewer: the row at the last position moves into
                // the freed one, so positions stay 0..count.
                let last = self.at.len() as u32;
                if f != last {
                    if let Some(k) = self.at.iter().position(|&x| x == last) {
                        self.at[k] = f;
                        if let Some(&r) = self.rows.get(last as usize) {
                            self.rows[f as usize] = r;
                        }
                    }
                }
                self.rows.truncate(self.at.len());
                bit(f)
            }
        }
    }

    /// Copies the level at `rank` into its row; its position's bit.
    #[inline]
    fn set(&mut self, rank: usize) -> Dirty {
        match (self.at.get(rank), self.top.v.get(rank)) {
            (Some(&f), Some(&r)) => {
                if let Some(row) = self.rows.get_mut(f as usize) {
                    *row = r;
                }
                bit(f)
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::l2::L2Book;

    /// The rows sorted best first equal a fresh top N of the book after
    /// every change, and each change dirties at most the positions whose
    /// rows differ from before (a stored row is never missed).
    #[test]
    fn unordered_rows_follow_the_book() {
        let n = 4;
        let mut l2 = L2Book::new();
        let mut bids = SideRows::new(Side::Bid, n, &l2);
        let mut asks = SideRows::new(Side::Ask, n, &l2);
        // Seeded LCG: prices near the touch, sizes 0..4 (0 = remove).
        let mut x: u64 = 7;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        for step in 0..20_000 {
            let bid = next(2) == 0;
            let price = if bid {
                100 - next(9) as i64
            } else {
                101 + next(9) as i64
            };
            let qty = next(4) as i64;
            let side = if bid { Side::Bid } else { Side::Ask };
            let Ok(c) = l2.set_level(side, price, qty) else {
                continue;
            };
            let t = if bid { &mut bids } else { &mut asks };
            let before = t.rows.clone();
            let dirty = t.apply(&c, &l2);
            let mut sorted = t.rows.clone();
            if bid {
                sorted.sort_by_key(|r| std::cmp::Reverse(r.0));
            } else {
                sorted.sort_by_key(|r| r.0);
            }
            let fresh = TopN::new(side, n, &l2);
            assert_eq!(sorted, fresh.v, "step {step}");
            for (i, r) in t.rows.iter().enumerate() {
                if before.get(i) != Some(r) {
                    assert!(
                        dirty & bit(i as u32) != 0,
                        "step {step}: row {i} changed unmarked"
                    );
                }
            }
            assert!(dirty.count_ones() <= 1, "step {step}: one change, one row");
        }
    }

    #[test]
    fn dirty_runs_skip_dead_rows_and_take_the_tail() {
        let rows: Vec<(Price, Qty)> = (0..70).map(|i| (i, 1)).collect();
        let runs = |dirty: Dirty, rows: &[(Price, Qty)]| {
            let got = std::cell::RefCell::new(Vec::new());
            for_each_dirty(
                dirty,
                rows,
                |at, r| got.borrow_mut().push((at, 1, r.0)),
                |at, r| got.borrow_mut().push((at, r.len(), r[0].0)),
            );
            got.into_inner()
        };
        assert_eq!(
            runs(bit(2) | bit(5) | bit(64), &rows),
            vec![(2, 1, 2), (5, 1, 5), (63, 7, 63)]
        );
        assert_eq!(runs(bit(2) | bit(5), &rows[..3]), vec![(2, 1, 2)]);
        assert_eq!(runs(bit(70), &rows[..63]), vec![]);
    }
}
