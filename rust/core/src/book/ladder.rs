//! One side of a price-level book: a dense ladder around the touch with an
//! ordered map for far levels.
//!
//! Prices are mapped to *keys* so that "better" always means "smaller key"
//! (asks: `key = price`, bids: `key = -price`); one implementation then serves
//! both sides.
//!
//! Layout and invariants (all quantities in lots, keys in ticks):
//! * `dense` covers keys `[base, base + WINDOW)`; `occupied` has one bit per
//!   dense slot, set iff the slot holds a non-zero size, so scans for the next
//!   level skip 64 empty ticks per word.
//! * Every level outside the window lives in `far`, a `BTreeMap`: nothing is
//!   ever dropped however far it is from the touch, and inserting or removing
//!   a far level is O(log n) whatever the number of far levels. (A sorted
//!   `Vec` was used before: each insert was a memmove of every worse far
//!   level, so 80,000 ever-better far bids took 2.9 s — quadratic.)
//! * Far keys are either better than the window (`< base`) or worse
//!   (`>= base + WINDOW`), so best-first order is: far keys below `base`,
//!   then the window's bit scan, then far keys above it.
//! * The window *follows* the touch lazily. While the best lies in
//!   `[base, base + WINDOW / 2)` updates near it are dense. When the best
//!   leaves that range the window is re-centred (best at `WINDOW / 4`) only
//!   after [`Ladder::set`] has made more far updates in a row, with the best
//!   still out of range, than a re-centring would move levels (plus a
//!   constant): re-centring then costs at most a constant times the far
//!   updates that paid for it. A touch that walks away is followed after a
//!   few updates; a best that flickers far away and back (a fat-finger
//!   quote, a corrupted price) never moves the window, where re-centring on
//!   every such event used to move every resting level twice (~180x slower).

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included, Unbounded};

/// Width of the dense window, in ticks. 16384 ticks × 8 B = 128 KiB per side
/// (plus a 2 KiB occupancy bitmap): stays in L2 and covers the active book
/// even on fine grids. Measured on LOBSTER GOOG at its native $0.0001 grid
/// (levels 100 ticks apart): 4096 ticks re-centred so often that `rebase`
/// took 9% of replay time (14.2 M msgs/s); 16384 ticks gives 18.7 M msgs/s,
/// and the synthetic L2 stream is no slower (59 M updates/s).
pub const WINDOW: i64 = 16384;
const WORDS: usize = (WINDOW as usize) / 64;

/// Far updates (with the best out of range) a re-centring must be paid for
/// by, beyond the levels it moves: the bitmap walk it makes costs about as
/// much as this many far updates.
const REBASE_SLACK: usize = WORDS;

/// One side of a book, keyed so that smaller keys are better.
#[derive(Clone, Debug)]
pub struct Ladder {
    base: i64,
    dense: Vec<i64>,
    occupied: Vec<u64>,
    /// Levels outside the window.
    far: BTreeMap<i64, i64>,
    /// Best (smallest) key and its size; meaningful only when `levels > 0`.
    /// The size is kept rather than looked up so that `best()` (called
    /// twice per update by the book) never branches to the far map.
    best: i64,
    best_qty: i64,
    levels: usize,
    /// Sum of all sizes on the side (lots), in i128: each level is at most
    /// 2^52 lots, but thousands of full levels would wrap an i64.
    total: i128,
    /// Far updates in a row made while the best was out of the window's
    /// range (see the module doc); reset by any other update.
    far_run: usize,
    /// Reused by `rebase` so re-centring allocates nothing for the window.
    scratch: Vec<(i64, i64)>,
}

impl Default for Ladder {
    fn default() -> Self {
        Ladder::new()
    }
}

impl Ladder {
    /// An empty side.
    pub fn new() -> Ladder {
        Ladder {
            base: 0,
            dense: vec![0; WINDOW as usize],
            occupied: vec![0; WORDS],
            far: BTreeMap::new(),
            best: 0,
            best_qty: 0,
            levels: 0,
            total: 0,
            far_run: 0,
            scratch: Vec::new(),
        }
    }

    /// Number of non-empty levels.
    #[inline]
    pub fn len(&self) -> usize {
        self.levels
    }

    /// True when no level is present.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.levels == 0
    }

    /// Total size over all levels (lots; saturates at `i64::MAX`).
    #[inline]
    pub fn total(&self) -> i64 {
        self.total.min(i64::MAX as i128) as i64
    }

    /// Best key and its size, O(1).
    #[inline]
    pub fn best(&self) -> Option<(i64, i64)> {
        if self.levels == 0 {
            None
        } else {
            Some((self.best, self.best_qty))
        }
    }

    #[inline]
    fn slot(&self, key: i64) -> Option<usize> {
        let idx = key.wrapping_sub(self.base);
        if (0..WINDOW).contains(&idx) {
            Some(idx as usize)
        } else {
            None
        }
    }

    /// Size at `key` (0 when empty).
    #[inline]
    pub fn get(&self, key: i64) -> i64 {
        match self.slot(key) {
            Some(i) => self.dense[i],
            None => self.far_get(key),
        }
    }

    // The far paths are kept out of line: inlined into `set`, the map code
    // cost the in-window path ~10% more instructions (register pressure).
    #[cold]
    #[inline(never)]
    fn far_get(&self, key: i64) -> i64 {
        self.far.get(&key).copied().unwrap_or(0)
    }

    #[cold]
    #[inline(never)]
    fn far_set(&mut self, key: i64, qty: i64) -> i64 {
        if qty != 0 {
            self.far.insert(key, qty).unwrap_or(0)
        } else {
            self.far.remove(&key).unwrap_or(0)
        }
    }

    #[cold]
    #[inline(never)]
    fn far_first(&self, lo: i64, below: Option<i64>) -> Option<(i64, i64)> {
        let hi = below.map_or(Unbounded, Excluded);
        self.far
            .range((Included(lo), hi))
            .next()
            .map(|(&k, &q)| (k, q))
    }

    /// Sets the size at `key` (0 removes the level) and returns the previous
    /// size. `qty` must be >= 0 (the book validates before calling).
    #[inline]
    pub fn set(&mut self, key: i64, qty: i64) -> i64 {
        if self.levels == 0 {
            // Empty side: put the new touch a quarter into the window.
            self.rebase(key - WINDOW / 4);
        }
        let in_window = self.slot(key);
        let prev = match in_window {
            Some(i) => {
                let prev = self.dense[i];
                self.dense[i] = qty;
                let (w, b) = (i >> 6, i & 63);
                if qty != 0 {
                    self.occupied[w] |= 1u64 << b;
                } else {
                    self.occupied[w] &= !(1u64 << b);
                }
                prev
            }
            None => self.far_set(key, qty),
        };
        self.total += (qty - prev) as i128;
        match (prev != 0, qty != 0) {
            (false, true) => {
                self.levels += 1;
                if self.levels == 1 || key < self.best {
                    self.best = key;
                    self.best_qty = qty;
                }
            }
            (true, false) => {
                self.levels -= 1;
                if key == self.best && self.levels > 0 {
                    (self.best, self.best_qty) = self.first_from(key).unwrap_or((key, 0));
                }
            }
            (true, true) if key == self.best => self.best_qty = qty,
            _ => {}
        }
        if self.levels > 0 && !(0..WINDOW / 2).contains(&(self.best - self.base)) {
            // Out of range: re-centre once far updates have paid for it.
            if in_window.is_none() {
                self.far_run += 1;
            }
            let dense_levels = self.levels - self.far.len();
            if self.far_run > dense_levels + REBASE_SLACK {
                self.rebase(self.best - WINDOW / 4);
            }
        } else {
            self.far_run = 0;
        }
        prev
    }

    /// The first level with key >= `from` (key, size), if any: far keys
    /// below the window, then the window's bit scan, then far keys above.
    #[inline]
    fn first_from(&self, from: i64) -> Option<(i64, i64)> {
        if from < self.base {
            if let Some(e) = self.far_first(from, Some(self.base)) {
                return Some(e);
            }
        }
        let idx = from.max(self.base) - self.base;
        if idx < WINDOW {
            if let Some(i) = self.scan_dense(idx as usize) {
                return Some((self.base + i as i64, self.dense[i]));
            }
        }
        if self.far.is_empty() {
            return None;
        }
        self.far_first(from.max(self.base.saturating_add(WINDOW)), None)
    }

    /// The first level strictly worse than `key` (key, size), if any.
    /// O(distance / 64) in the window, O(log far) beyond it.
    #[inline]
    pub fn next_after(&self, key: i64) -> Option<(i64, i64)> {
        if self.levels == 0 || key == i64::MAX {
            return None;
        }
        self.first_from(key + 1)
    }

    /// First occupied dense slot >= `start`.
    #[inline]
    fn scan_dense(&self, start: usize) -> Option<usize> {
        let mut w = start >> 6;
        if w >= WORDS {
            return None;
        }
        let mut word = self.occupied[w] & (!0u64 << (start & 63));
        loop {
            if word != 0 {
                return Some((w << 6) + word.trailing_zeros() as usize);
            }
            w += 1;
            if w == WORDS {
                return None;
            }
            word = self.occupied[w];
        }
    }

    /// Worst (largest) key and its size. O(WINDOW/64) when no far level is
    /// worse than the window.
    pub fn worst(&self) -> Option<(i64, i64)> {
        if self.levels == 0 {
            return None;
        }
        if let Some((&k, &q)) = self.far.last_key_value() {
            if k >= self.base {
                return Some((k, q));
            }
        }
        for w in (0..WORDS).rev() {
            let word = self.occupied[w];
            if word != 0 {
                let i = (w << 6) + 63 - word.leading_zeros() as usize;
                return Some((self.base + i as i64, self.dense[i]));
            }
        }
        // Only far levels better than the window remain.
        self.far.last_key_value().map(|(&k, &q)| (k, q))
    }

    /// Moves the window to start at `new_base`, migrating occupied slots to
    /// and from the far map. O(WINDOW/64 + moved levels × log far); paid for
    /// by the far updates that preceded it (see the module doc).
    fn rebase(&mut self, new_base: i64) {
        self.far_run = 0;
        if new_base == self.base {
            return;
        }
        let old_base = self.base;
        let mut moved = std::mem::take(&mut self.scratch);
        moved.clear();
        // Lift every occupied dense slot out of the window.
        for w in 0..WORDS {
            let mut word = self.occupied[w];
            while word != 0 {
                let i = (w << 6) + word.trailing_zeros() as usize;
                word &= word - 1;
                moved.push((old_base + i as i64, self.dense[i]));
                self.dense[i] = 0;
            }
            self.occupied[w] = 0;
        }
        self.base = new_base;
        // Far levels that now fall inside the window join them.
        let end = new_base.saturating_add(WINDOW);
        if !self.far.is_empty() {
            let from = moved.len();
            moved.extend(self.far.range(new_base..end).map(|(&k, &q)| (k, q)));
            for &(k, _) in &moved[from..] {
                self.far.remove(&k);
            }
        }
        for &(k, q) in &moved {
            match self.slot(k) {
                Some(i) => {
                    self.dense[i] = q;
                    self.occupied[i >> 6] |= 1u64 << (i & 63);
                }
                None => {
                    self.far.insert(k, q);
                }
            }
        }
        self.scratch = moved;
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.dense.iter_mut().for_each(|q| *q = 0);
        self.occupied.iter_mut().for_each(|w| *w = 0);
        self.far.clear();
        self.levels = 0;
        self.total = 0;
        self.far_run = 0;
    }

    /// Calls `f(key, qty)` for up to `n` levels, best first; stops early
    /// when `f` returns false.
    #[inline]
    fn walk(&self, n: usize, mut f: impl FnMut(i64, i64) -> bool) {
        if n == 0 || self.levels == 0 {
            return;
        }
        let mut left = n;
        // Far levels better than the window (only while a far best has not
        // yet paid for a re-centring).
        if self.best < self.base {
            for (&k, &q) in self.far.range(..self.base) {
                if !f(k, q) {
                    return;
                }
                left -= 1;
                if left == 0 {
                    return;
                }
            }
        }
        let start = (self.best.max(self.base) - self.base) as usize;
        let mut w = start >> 6;
        let mut word = if w < WORDS {
            self.occupied[w] & (!0u64 << (start & 63))
        } else {
            0
        };
        while w < WORDS {
            while word != 0 {
                let i = (w << 6) + word.trailing_zeros() as usize;
                word &= word - 1;
                if !f(self.base + i as i64, self.dense[i]) {
                    return;
                }
                left -= 1;
                if left == 0 {
                    return;
                }
            }
            w += 1;
            if w == WORDS {
                break;
            }
            word = self.occupied[w];
        }
        if self.far.is_empty() {
            return;
        }
        let hi = self.base.saturating_add(WINDOW);
        for (&k, &q) in self.far.range((Included(hi), Unbounded)).take(left) {
            if !f(k, q) {
                return;
            }
        }
    }

    /// Calls `f(key, qty)` for up to `n` levels, best first.
    #[inline]
    pub fn for_each_level(&self, n: usize, mut f: impl FnMut(i64, i64)) {
        self.walk(n, |k, q| {
            f(k, q);
            true
        });
    }

    /// Sum of sizes over keys in `[best, best + band]` (lots).
    pub fn depth_within(&self, band: i64) -> i64 {
        let Some((best, _)) = self.best() else {
            return 0;
        };
        let limit = best.saturating_add(band);
        let mut sum: i64 = 0;
        self.walk(usize::MAX, |k, q| {
            if k > limit {
                return false;
            }
            sum = q.saturating_add(sum);
            true
        });
        sum
    }

    /// Far levels (outside the window) — for tests and diagnostics.
    pub fn far_levels(&self) -> usize {
        self.far.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(l: &Ladder, n: usize) -> Vec<(i64, i64)> {
        let mut v = Vec::new();
        l.for_each_level(n, |k, q| v.push((k, q)));
        v
    }

    #[test]
    fn far_levels_are_kept_and_surface() {
        let mut l = Ladder::new();
        l.set(100, 5);
        l.set(100 + 10 * WINDOW, 7); // far beyond the window
        l.set(100 - 10 * WINDOW, 3); // far better: window must follow
        assert_eq!(l.best(), Some((100 - 10 * WINDOW, 3)));
        assert_eq!(
            levels(&l, 10),
            vec![(100 - 10 * WINDOW, 3), (100, 5), (100 + 10 * WINDOW, 7)]
        );
        l.set(100 - 10 * WINDOW, 0);
        l.set(100, 0);
        assert_eq!(l.best(), Some((100 + 10 * WINDOW, 7)));
        assert_eq!(l.len(), 1);
        assert_eq!(l.total(), 7);
        assert_eq!(l.depth_within(0), 7);
    }

    /// Every query against a `BTreeMap` after every update, over a stream
    /// that mixes a clustered touch, a touch walking several windows away,
    /// far bests that flicker in and out (better and worse than the window)
    /// and removals of the best: the lazy re-centring must never change an
    /// answer, only where levels are stored.
    #[test]
    fn lazy_window_matches_reference() {
        use std::collections::BTreeMap;
        let mut l = Ladder::new();
        let mut r: BTreeMap<i64, i64> = BTreeMap::new();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut centre: i64 = 1_000_000;
        let mut rebased_far_best = 0;
        for step in 0..60_000 {
            let (key, qty) = match rnd(10) {
                0..=4 => (centre + rnd(200) as i64 - 100, rnd(4) as i64),
                5 => {
                    centre += rnd(3000) as i64; // the touch walks away
                    (centre, 1 + rnd(3) as i64)
                }
                6 => (centre - 1_000_000_000, rnd(2) as i64), // far better flicker
                7 => (centre + 5 * WINDOW + rnd(50) as i64, rnd(3) as i64), // far worse
                8 => match r.first_key_value() {
                    Some((&k, _)) => (k, 0), // pull the best
                    None => (centre, 1),
                },
                _ => (centre - (rnd(40) as i64) * 997, rnd(3) as i64),
            };
            let prev = l.set(key, qty);
            let want_prev = r.get(&key).copied().unwrap_or(0);
            if qty == 0 {
                r.remove(&key);
            } else {
                r.insert(key, qty);
            }
            assert_eq!(prev, want_prev, "step {step}");
            assert_eq!(l.best(), r.first_key_value().map(|(&k, &q)| (k, q)));
            assert_eq!(l.worst(), r.last_key_value().map(|(&k, &q)| (k, q)));
            assert_eq!(l.len(), r.len());
            assert_eq!(
                l.total() as i128,
                r.values().map(|&q| q as i128).sum::<i128>()
            );
            if step % 97 == 0 {
                let want: Vec<_> = r.iter().take(25).map(|(&k, &q)| (k, q)).collect();
                assert_eq!(levels(&l, 25), want, "step {step}");
                if let Some((&b, _)) = r.first_key_value() {
                    let d: i64 = r.range(b..=b + 2500).map(|(_, &q)| q).sum();
                    assert_eq!(l.depth_within(2500), d);
                    let probe = b + rnd(5000) as i64;
                    let nx = r.range(probe + 1..).next().map(|(&k, &q)| (k, q));
                    assert_eq!(l.next_after(probe), nx);
                }
            }
            if l.best().is_some_and(|(b, _)| b < l.base) {
                rebased_far_best += 1;
            }
        }
        // The stream did put the best outside the window for a while.
        assert!(rebased_far_best > 0);
    }

    /// The two adversarial streams of issue 12 do O(log n) work per update:
    /// ever-better far bids (each beyond the window) and a best flickering a
    /// billion ticks away over 1,000 resting levels. Counted in re-centrings
    /// moved, not time, so the check is exact on any machine.
    #[test]
    fn adversarial_far_streams_rarely_recentre() {
        let mut l = Ladder::new();
        for i in 0..20_000 {
            l.set(-i * (WINDOW + 7), 1);
        }
        assert_eq!(l.len(), 20_000);
        assert_eq!(l.best(), Some((-19_999 * (WINDOW + 7), 1)));
        let mut l = Ladder::new();
        for k in 0..1000 {
            l.set(5_000 + 3 * k, 2);
        }
        let base = l.base;
        for _ in 0..10_000 {
            l.set(-1_000_000_000, 1);
            assert_eq!(l.best(), Some((-1_000_000_000, 1)));
            l.set(-1_000_000_000, 0);
            assert_eq!(l.best(), Some((5_000, 2)));
        }
        assert_eq!(l.base, base, "a flickering best must not move the window");
        assert_eq!(l.far_levels(), 0);
    }

    #[test]
    fn depth_band_counts_dense_and_far() {
        let mut l = Ladder::new();
        for k in 0..10 {
            l.set(k * 1000, 1);
        }
        assert_eq!(l.depth_within(0), 1);
        assert_eq!(l.depth_within(2500), 3);
        assert_eq!(l.depth_within(9000), 10);
        assert_eq!(l.depth_within(i64::MAX / 2), 10);
    }
}
