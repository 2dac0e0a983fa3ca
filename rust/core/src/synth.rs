//! Seeded synthetic workloads for tests and benchmarks (no `rand` dependency).

use crate::book::l2::L2Book;
use crate::types::{kind, Event, Side};

/// SplitMix64: small, fast, good enough for workload generation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, n)`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }
    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Adversarial far-level streams (issue 12): workloads on which a book that
/// keeps only a window around the touch, or re-centres it eagerly, turns
/// quadratic. Both are valid L2 diffs (positive prices and sizes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FarPattern {
    /// Every event an ask far below the last: a new best 20,000 ticks
    /// beyond the window each time, never removed (resting levels grow).
    NewBestBeyondWindow,
    /// [`l2_stream`] with every 4th event turned into a best bid set
    /// 10^9 ticks above the book and the next one into its removal:
    /// a best that flickers far away and back over ~1,000 resting levels.
    Flicker,
}

/// `n` SET_LEVEL events of `pattern` around `mid` (ticks; `mid` must leave
/// room below it for `n` × 20,000 ticks with [`FarPattern::NewBestBeyondWindow`]).
pub fn l2_far_stream(n: usize, seed: u64, mid: i64, pattern: FarPattern) -> Vec<Event> {
    let ts0: i64 = 1_700_000_000_000_000_000;
    match pattern {
        FarPattern::NewBestBeyondWindow => {
            let mut out = Vec::with_capacity(n);
            out.push(Event::new(ts0, kind::SET_LEVEL, Side::Bid as i8, 1, 1, 0));
            let top = mid + 20_000 * n as i64;
            for i in 1..n {
                let p = top - 20_000 * i as i64;
                out.push(Event::new(
                    ts0 + i as i64,
                    kind::SET_LEVEL,
                    Side::Ask as i8,
                    p,
                    1 + (i % 7) as i64,
                    0,
                ));
            }
            out
        }
        FarPattern::Flicker => {
            let mut out = l2_stream(n, seed, mid);
            let far = mid + 1_000_000_000;
            for i in (3..out.len()).step_by(4) {
                let ts = out[i].ts;
                let q = if i % 8 == 3 { 5 } else { 0 };
                out[i] = Event::new(ts, kind::SET_LEVEL, Side::Bid as i8, far, q, 0);
            }
            out
        }
    }
}

/// A crypto-like L2 diff stream: `n` SET_LEVEL events, prices in ticks around
/// `mid` (ticks), updates clustered near the touch (geometric distance, mean
/// about 4 ticks, 2% up to 1,500 ticks away), about 15% removals of existing
/// levels (plus removal of the deepest level when a side exceeds 500), timestamps 1–200 µs apart. The book it describes is never locked
/// or crossed: bids are always below the best ask and asks above the best bid.
pub fn l2_stream(n: usize, seed: u64, mid: i64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut book = L2Book::new();
    let mut out = Vec::with_capacity(n);
    let mut ts: i64 = 1_700_000_000_000_000_000;
    // Start from a populated book: 40 levels a side, one tick apart.
    for i in 0..40 {
        for side in [Side::Bid, Side::Ask] {
            if out.len() < n {
                let p = if side == Side::Bid {
                    mid - 1 - i
                } else {
                    mid + 1 + i
                };
                let q = 1 + rng.below(1000) as i64;
                book.set_level_unchecked(side, p, q);
                out.push(Event::new(ts, kind::SET_LEVEL, side as i8, p, q, 0));
            }
        }
    }
    while out.len() < n {
        ts += 1_000 + rng.below(200_000) as i64;
        let side = if rng.below(2) == 0 {
            Side::Bid
        } else {
            Side::Ask
        };
        let (best_bid, _) = book.best_bid().unwrap_or((mid - 1, 0));
        let (best_ask, _) = book.best_ask().unwrap_or((mid + 1, 0));
        let remove = rng.below(100) < 15 && book.len(side) > 10;
        let ev = if book.len(side) > 500 {
            // Depth-limited feeds drop levels that fall out of their depth
            // window; keeps the book (and the stream) in a steady state.
            let Some((p, _)) = book.worst(side) else {
                continue;
            };
            Event::new(ts, kind::SET_LEVEL, side as i8, p, 0, 0)
        } else if remove {
            // Remove one of the 12 best levels (skewed to the touch).
            let k = rng.below(12).min(rng.below(12)) as usize;
            let mut p = 0;
            let mut j = 0;
            book.for_each_level(side, k + 1, |lp, _| {
                if j == k {
                    p = lp;
                }
                j += 1;
            });
            if j <= k {
                continue;
            }
            Event::new(ts, kind::SET_LEVEL, side as i8, p, 0, 0)
        } else {
            let far = rng.below(100) < 2;
            let d = if far {
                rng.below(1_500) as i64
            } else {
                // geometric with mean ~4 ticks
                (-(1.0 - rng.unit()).ln() * 4.0) as i64
            };
            // Measured from the *opposite* touch so the book never crosses;
            // small d improves the price inside the spread.
            let p = match side {
                Side::Bid => (best_ask - 1 - d).min(best_ask - 1),
                Side::Ask => (best_bid + 1 + d).max(best_bid + 1),
            };
            let q = 1 + rng.below(1000) as i64;
            Event::new(ts, kind::SET_LEVEL, side as i8, p, q, 0)
        };
        let side = Side::from_i8(ev.side).unwrap_or(Side::Bid);
        book.set_level_unchecked(side, ev.price, ev.size);
        out.push(ev);
    }
    out
}

/// An L3 stream: adds near the touch, cancels (full and partial), executions
/// at the best, size-down modifies; `n` events, about `live` resting orders in
/// steady state. Never crosses.
pub fn l3_stream(n: usize, seed: u64, mid: i64, live: usize) -> Vec<Event> {
    use crate::book::l3::L3Book;
    let mut rng = Rng::new(seed);
    let mut book = L3Book::new();
    let mut ids: Vec<u64> = Vec::with_capacity(live * 2);
    let mut next_id: u64 = 1;
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        ts += 1 + rng.below(50_000) as i64;
        let r = rng.below(100);
        let ev = if ids.len() < live / 2 || (r < 45 && ids.len() < live * 2) {
            let side = if rng.below(2) == 0 {
                Side::Bid
            } else {
                Side::Ask
            };
            let bb = book.l2().best_bid().map_or(mid - 1, |x| x.0);
            let ba = book.l2().best_ask().map_or(mid + 1, |x| x.0);
            let d = (-(1.0 - rng.unit()).ln() * 5.0) as i64;
            let p = match side {
                Side::Bid => ba - 1 - d,
                Side::Ask => bb + 1 + d,
            };
            let id = next_id;
            next_id += 1;
            ids.push(id);
            Event::new(ts, kind::ADD, side as i8, p, 1 + rng.below(500) as i64, id)
        } else {
            let i = rng.below(ids.len() as u64) as usize;
            let id = ids[i];
            let Some(o) = book.order(id) else {
                ids.swap_remove(i);
                continue;
            };
            let full = |ids: &mut Vec<u64>| {
                ids.swap_remove(i);
            };
            if r < 75 {
                full(&mut ids);
                Event::new(ts, kind::DELETE, o.side as i8, o.price, o.qty, id)
            } else if r < 85 && o.qty > 1 {
                Event::new(
                    ts,
                    kind::CANCEL,
                    o.side as i8,
                    o.price,
                    1 + rng.below(o.qty as u64 - 1) as i64,
                    id,
                )
            } else if r < 92 && o.qty > 1 {
                Event::new(
                    ts,
                    kind::MODIFY,
                    o.side as i8,
                    o.price,
                    1 + rng.below(o.qty as u64 - 1) as i64,
                    id,
                )
            } else {
                // Execute against the best order of a side: the front of the best queue.
                let side = o.side;
                let Some((bp, _)) = book.l2().best(side) else {
                    continue;
                };
                let q = book.queue(side, bp);
                let Some(&(fid, fq)) = q.first() else {
                    continue;
                };
                let take = 1 + rng.below(fq as u64) as i64;
                if take == fq {
                    if let Some(pos) = ids.iter().position(|&x| x == fid) {
                        ids.swap_remove(pos);
                    }
                }
                Event::new(ts, kind::EXECUTE, side as i8, bp, take, fid)
            }
        };
        if book.apply(&ev).is_ok() {
            out.push(ev);
        }
    }
    out
}
