//! Volume profile, streaming: traded volume per price step, split by
//! aggressor, with the point of control kept as trades arrive and the value
//! area on demand. The bulk `lobkit.signals.volume_profile` and this give the
//! same integers for the same trades (tests check it on real captures), and
//! both take the value area from [`value_area`], the one statement of the
//! rule.
//!
//! Units: prices in book ticks, sizes in lots, `step` in ticks. Rows are
//! price steps `step` ticks apart, aligned to multiples of `step`; a print
//! between steps counts at the step below it. The rows run from the lowest
//! to the highest traded step, so a step with no volume is a row like any
//! other (what the value-area widening walks through).

use std::collections::VecDeque;

use crate::error::{Error, ErrorKind};
use crate::types::{Event, Price, Qty};

/// Most rows a profile spans (as the bulk profile's bound): one bad print a
/// million dollars away must not allocate gigabytes.
pub const MAX_ROWS: i64 = 50_000_000;

/// One price step's traded volume (lots).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Row {
    /// All volume, including prints of unknown aggressor.
    pub volume: Qty,
    /// Buyer-initiated volume.
    pub buy: Qty,
    /// Seller-initiated volume.
    pub sell: Qty,
}

/// The point of control and value area of a profile: row indices (0 = the
/// lowest row) and the area's volume (lots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    /// Row of maximum volume (ties: the lower price).
    pub poc: usize,
    /// Lowest row of the value area (inclusive).
    pub low: usize,
    /// Highest row of the value area (inclusive).
    pub high: usize,
    /// Volume inside the area (lots).
    pub volume: Qty,
}

/// The value area over `volume` (lots per consecutive row): start at the
/// point of control (the first maximum: ties to the lower price) and widen
/// by the next `rows_per_step` rows above or below, whichever holds more
/// volume (ties above), until the area holds at least `share` of the total.
/// `rows_per_step` 1 is the rule most charting tools use; 2 is Market
/// Profile's "two rows at a time". `None` for no rows.
pub fn value_area(volume: &[Qty], share: f64, rows_per_step: usize) -> Option<Area> {
    let n = volume.len();
    let mut poc = 0;
    for (i, &v) in volume.iter().enumerate() {
        if v > volume[poc] {
            poc = i;
        }
    }
    let first = *volume.get(poc)?;
    let total: i128 = volume.iter().map(|&v| i128::from(v)).sum();
    // `have < share * total`, exactly: for an integer h and a real x,
    // h < x iff h < ceil(x) (the float product is what the bulk form uses).
    let need = (share * total as f64).ceil() as i128;
    let step = rows_per_step.max(1);
    let (mut lo, mut hi, mut have) = (poc, poc, i128::from(first));
    let sum = |r: std::ops::Range<usize>| volume[r].iter().map(|&v| i128::from(v)).sum::<i128>();
    while have < need && (lo > 0 || hi + 1 < n) {
        let up = if hi + 1 < n {
            sum(hi + 1..(hi + 1 + step).min(n))
        } else {
            -1
        };
        let down = if lo > 0 {
            sum(lo.saturating_sub(step)..lo)
        } else {
            -1
        };
        if up >= down {
            hi = (hi + step).min(n - 1);
            have += up;
        } else {
            lo = lo.saturating_sub(step);
            have += down;
        }
    }
    Some(Area {
        poc,
        low: lo,
        high: hi,
        volume: Qty::try_from(have).unwrap_or(Qty::MAX),
    })
}

/// A volume profile updated one trade at a time. Memory: one [`Row`] per
/// price step between the lowest and highest traded step.
#[derive(Clone, Debug)]
pub struct Profile {
    step: i64,
    /// Price (ticks) of `rows[0]`; meaningless while `rows` is empty.
    base: Price,
    rows: VecDeque<Row>,
    total: Qty,
    trades: u64,
    /// (price ticks, volume) of the point of control.
    poc: Option<(Price, Qty)>,
}

impl Profile {
    /// An empty profile on rows `step` ticks apart (`step >= 1`).
    pub fn new(step: i64) -> Option<Profile> {
        (step >= 1).then(|| Profile {
            step,
            base: 0,
            rows: VecDeque::new(),
            total: 0,
            trades: 0,
            poc: None,
        })
    }

    /// Ticks per row.
    pub fn step(&self) -> i64 {
        self.step
    }

    /// The price (ticks) of the row holding `price`.
    #[inline]
    fn row_price(&self, price: Price) -> Price {
        price.saturating_sub(price.rem_euclid(self.step))
    }

    /// The row prices (lowest, highest) spanned with `price` traded too.
    fn span_with(&self, lo: Price, hi: Price, price: Price) -> (Price, Price) {
        let p = self.row_price(price);
        (lo.min(p), hi.max(p))
    }

    fn bounds(&self) -> (Price, Price) {
        let top = self.base + (self.rows.len() as i64 - 1).max(0) * self.step;
        (self.base, top)
    }

    /// Counts one trade: `price` ticks, `size` lots (ignored unless > 0),
    /// `aggressor` +1 buyer-initiated, -1 seller-initiated, 0 unknown. On an
    /// error (a price that would span more than [`MAX_ROWS`] rows, a size
    /// that would overflow the total) nothing is counted.
    pub fn add(&mut self, price: Price, size: Qty, aggressor: i8) -> Result<(), Error> {
        self.check(std::iter::once((0, price, size)))?;
        self.count(price, size, aggressor);
        Ok(())
    }

    /// Counts the executions and trade prints of `events` (the aggressor is
    /// opposite the resting `side`); all or nothing, the error naming the
    /// event's index in `events`. Returns the trades counted.
    pub fn apply(&mut self, events: &[Event]) -> Result<usize, Error> {
        self.check(super::traded(events).map(|(i, e)| (i, e.price, e.size)))?;
        let mut n = 0;
        for (_, e) in super::traded(events) {
            self.count(e.price, e.size, e.side.saturating_neg());
            n += 1;
        }
        Ok(n)
    }

    /// Whether `trades` (index, price, size) fit: the span bound and no
    /// overflow of the running total (which bounds every row's count too).
    fn check(&self, trades: impl Iterator<Item = (usize, Price, Qty)>) -> Result<(), Error> {
        let (mut lo, mut hi) = self.bounds();
        let mut empty = self.rows.is_empty();
        let mut total = self.total;
        for (index, price, size) in trades {
            if size <= 0 {
                continue;
            }
            (lo, hi) = if empty {
                let p = self.row_price(price);
                (p, p)
            } else {
                self.span_with(lo, hi, price)
            };
            empty = false;
            let rows = (i128::from(hi) - i128::from(lo)) / i128::from(self.step) + 1;
            if rows > i128::from(MAX_ROWS) {
                let reason = "the traded prices would span more than 50,000,000 price steps; \
                              reset the profile per session or use a coarser step";
                return Err(Error::at(
                    index as u64,
                    ErrorKind::InvalidPrice { price, reason },
                ));
            }
            total = total.checked_add(size).ok_or_else(|| {
                let reason = "the traded volume would overflow int64 lots";
                Error::at(index as u64, ErrorKind::InvalidSize { size, reason })
            })?;
        }
        Ok(())
    }

    /// Counts a trade already checked.
    fn count(&mut self, price: Price, size: Qty, aggressor: i8) {
        if size <= 0 {
            return;
        }
        let p = self.row_price(price);
        if self.rows.is_empty() {
            self.base = p;
            self.rows.push_back(Row::default());
        }
        while p < self.base {
            self.rows.push_front(Row::default());
            self.base -= self.step;
        }
        let i = ((p - self.base) / self.step) as usize;
        if i >= self.rows.len() {
            self.rows.resize(i + 1, Row::default());
        }
        let r = &mut self.rows[i];
        r.volume += size;
        match aggressor.signum() {
            1 => r.buy += size,
            -1 => r.sell += size,
            _ => {}
        }
        let v = r.volume;
        self.total += size;
        self.trades += 1;
        // Ties go to the lower price, as in the bulk profile.
        let better = match self.poc {
            None => true,
            Some((pp, pv)) => v > pv || (v == pv && p < pp),
        };
        if better {
            self.poc = Some((p, v));
        }
    }

    /// Forgets every trade (a new session).
    pub fn reset(&mut self) {
        self.rows.clear();
        self.total = 0;
        self.trades = 0;
        self.poc = None;
    }

    /// Trades counted.
    pub fn trades(&self) -> u64 {
        self.trades
    }

    /// Lots traded.
    pub fn total(&self) -> Qty {
        self.total
    }

    /// Price (ticks) of the lowest row, if any trade was counted.
    pub fn low(&self) -> Option<Price> {
        (!self.rows.is_empty()).then_some(self.base)
    }

    /// The rows, lowest price first.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &Row> {
        self.rows.iter()
    }

    /// Price (ticks) of maximum volume (ties: the lower), in O(1).
    pub fn poc(&self) -> Option<Price> {
        self.poc.map(|(p, _)| p)
    }

    /// The value area (see [`value_area`]) in prices: (low, high) ticks and
    /// its volume (lots). O(rows).
    pub fn value_area(&self, share: f64, rows_per_step: usize) -> Option<(Price, Price, Qty)> {
        let vol: Vec<Qty> = self.rows.iter().map(|r| r.volume).collect();
        let a = value_area(&vol, share, rows_per_step)?;
        let at = |i: usize| self.base + i as i64 * self.step;
        Some((at(a.low), at(a.high), a.volume))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::kind;
    use proptest::prelude::*;

    /// The rule written the plain way: area as a set of rows, grown one
    /// candidate block at a time.
    fn naive(volume: &[i64], share: f64, step: usize) -> (usize, usize, usize) {
        let n = volume.len();
        let max = *volume.iter().max().unwrap_or(&0);
        let poc = volume.iter().position(|&v| v == max).unwrap_or(0);
        let total: i64 = volume.iter().sum();
        let (mut lo, mut hi) = (poc, poc);
        let mut have = volume[poc];
        while (have as f64) < share * total as f64 && (lo > 0 || hi < n - 1) {
            let up_rows: Vec<usize> = (hi + 1..n).take(step).collect();
            let down_rows: Vec<usize> = (0..lo).rev().take(step).collect();
            let up: i64 = if up_rows.is_empty() {
                -1
            } else {
                up_rows.iter().map(|&i| volume[i]).sum()
            };
            let down: i64 = if down_rows.is_empty() {
                -1
            } else {
                down_rows.iter().map(|&i| volume[i]).sum()
            };
            if up >= down {
                hi = *up_rows.last().unwrap_or(&hi);
                have += up;
            } else {
                lo = *down_rows.last().unwrap_or(&lo);
                have += down;
            }
        }
        (poc, lo, hi)
    }

    proptest! {
        #[test]
        fn value_area_matches_the_plain_rule(
            vol in proptest::collection::vec(0i64..50, 1..60),
            share in 0.05f64..1.0,
            step in 1usize..3,
        ) {
            let a = value_area(&vol, share, step).unwrap();
            prop_assert_eq!((a.poc, a.low, a.high), naive(&vol, share, step));
            prop_assert_eq!(a.volume, vol[a.low..=a.high].iter().sum::<i64>());
            let total: i64 = vol.iter().sum();
            prop_assert!(a.volume as f64 >= share * total as f64 || (a.low == 0 && a.high == vol.len() - 1));
        }

        /// Streaming one trade at a time == counting them all at once.
        #[test]
        fn streaming_rows_equal_a_plain_count(
            trades in proptest::collection::vec((-40i64..40, 1i64..9, -1i8..=1), 1..80),
            step in 1i64..4,
        ) {
            let mut p = Profile::new(step).unwrap();
            for &(price, size, a) in &trades {
                p.add(price, size, a).unwrap();
            }
            let row = |x: i64| x - x.rem_euclid(step);
            let lo = trades.iter().map(|t| row(t.0)).min().unwrap();
            let hi = trades.iter().map(|t| row(t.0)).max().unwrap();
            let mut want = vec![Row::default(); ((hi - lo) / step + 1) as usize];
            for &(price, size, a) in &trades {
                let r = &mut want[((row(price) - lo) / step) as usize];
                r.volume += size;
                if a > 0 { r.buy += size } else if a < 0 { r.sell += size }
            }
            prop_assert_eq!(p.low(), Some(lo));
            prop_assert_eq!(p.rows().copied().collect::<Vec<_>>(), want.clone());
            let vol: Vec<i64> = want.iter().map(|r| r.volume).collect();
            let a = value_area(&vol, 1.0, 1).unwrap();
            prop_assert_eq!(p.poc(), Some(lo + a.poc as i64 * step));
            prop_assert_eq!(p.total(), vol.iter().sum::<i64>());
        }
    }

    #[test]
    fn a_far_print_is_refused_and_changes_nothing() {
        let mut p = Profile::new(1).unwrap();
        assert!(p.add(100, 5, 1).is_ok());
        let before = (p.low(), p.total(), p.trades());
        let e = p.add(100 + MAX_ROWS, 1, 1);
        assert!(
            matches!(
                e,
                Err(Error {
                    index: Some(0),
                    kind: ErrorKind::InvalidPrice { .. }
                })
            ),
            "{e:?}"
        );
        assert!(matches!(
            p.add(101, i64::MAX, 1),
            Err(Error {
                kind: ErrorKind::InvalidSize { .. },
                ..
            })
        ));
        // a batch is all or nothing: its third trade is refused
        let evs = [
            Event::new(1, kind::EXECUTE, 1, 99, 2, 7),
            Event::new(2, kind::TRADE, -1, 98, 2, 0),
            Event::new(3, kind::EXECUTE, 1, -MAX_ROWS, 2, 8),
        ];
        assert!(matches!(
            p.apply(&evs),
            Err(Error {
                index: Some(2),
                kind: ErrorKind::InvalidPrice { .. }
            })
        ));
        assert_eq!((p.low(), p.total(), p.trades()), before);
        // ... also when the profile is empty and the batch alone is too wide
        // (found by the random-array test: the check once restarted the span
        // at every trade of a batch while the profile was empty)
        let mut q = Profile::new(3).unwrap();
        let wide = [
            Event::new(1, kind::EXECUTE, 1, 1, 5, 0),
            Event::new(1, kind::EXECUTE, 1, 1 << 62, 5, 0),
        ];
        assert!(matches!(
            q.apply(&wide),
            Err(Error {
                index: Some(1),
                kind: ErrorKind::InvalidPrice { .. }
            })
        ));
        assert_eq!((q.low(), q.trades()), (None, 0));
        assert_eq!(p.apply(&evs[..2]), Ok(2));
        // executions of resting bids are sells; a print on the ask a buy
        assert_eq!(p.low(), Some(98));
        let rows: Vec<Row> = p.rows().copied().collect();
        assert_eq!(
            rows,
            vec![
                Row {
                    volume: 2,
                    buy: 2,
                    sell: 0
                },
                Row {
                    volume: 2,
                    buy: 0,
                    sell: 2
                },
                Row {
                    volume: 5,
                    buy: 5,
                    sell: 0
                },
            ]
        );
        assert_eq!(p.poc(), Some(100));
        assert_eq!(p.value_area(0.7, 1), Some((99, 100, 7)));
        p.reset();
        assert_eq!((p.low(), p.poc(), p.trades()), (None, None, 0));
    }
}
