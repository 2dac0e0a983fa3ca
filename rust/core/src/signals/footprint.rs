//! Footprint, streaming: per time bar and traded price, buy and sell volume,
//! all volume and the number of trades, kept as trades arrive. A bar closes
//! when the first trade of a later bar comes; closed bars wait in order until
//! drained, or, with a cap (`keep_bars`), the oldest closed bar is dropped
//! (and counted) when one more closes: a rolling footprint of the last N
//! bars whose memory stays bounded however long nobody drains it. The cells are what `lobkit.signals.footprint` computes in bulk
//! for the same trades (tests check it on real captures); deltas, diagonal
//! imbalances, CVD and bar POC are derived from them by the same code.
//!
//! Units: times in ns (bars aligned to the clock's zero, `bar_ns` long),
//! prices in ticks, sizes in lots.

use std::collections::{BTreeMap, VecDeque};

use crate::error::{Error, ErrorKind};
use crate::types::{Event, Price, Qty, Ts};

/// One (bar, price) cell (lots; `trades` a count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    /// Buyer-initiated volume.
    pub buy: Qty,
    /// Seller-initiated volume.
    pub sell: Qty,
    /// All volume, prints without an aggressor included.
    pub volume: Qty,
    /// Trades.
    pub trades: i64,
}

/// A closed cell: its bar's start (ns) and price (ticks).
pub type BarCell = (Ts, Price, Cell);

/// A footprint updated one trade at a time. Memory: one entry per traded
/// price of the open bar, plus the closed cells not yet drained (at most
/// `keep_bars` bars of them when capped).
#[derive(Clone, Debug)]
pub struct LiveFootprint {
    bar_ns: i64,
    /// Start of the open bar (ns), if a trade was counted.
    open: Option<Ts>,
    cells: BTreeMap<Price, Cell>,
    closed: VecDeque<BarCell>,
    /// Closed bars held (each with at least one cell).
    closed_bars: usize,
    /// Most closed bars held; None = until drained.
    keep_bars: Option<usize>,
    /// Closed bars dropped by the cap since the last reset.
    dropped_bars: u64,
    /// Lots counted in all (the overflow bound for every cell).
    total: Qty,
}

impl LiveFootprint {
    /// An empty footprint of bars `bar_ns` long (>= 1), closed bars held
    /// until drained.
    pub fn new(bar_ns: i64) -> Option<LiveFootprint> {
        LiveFootprint::with_cap(bar_ns, None)
    }

    /// As [`LiveFootprint::new`], holding at most `keep_bars` (>= 1) closed
    /// bars: when one more closes, the oldest is dropped and counted in
    /// [`LiveFootprint::dropped_bars`].
    pub fn with_cap(bar_ns: i64, keep_bars: Option<usize>) -> Option<LiveFootprint> {
        (bar_ns >= 1 && keep_bars != Some(0)).then(|| LiveFootprint {
            bar_ns,
            open: None,
            cells: BTreeMap::new(),
            closed: VecDeque::new(),
            closed_bars: 0,
            keep_bars,
            dropped_bars: 0,
            total: 0,
        })
    }

    /// Most closed bars held (None: until drained).
    pub fn keep_bars(&self) -> Option<usize> {
        self.keep_bars
    }

    /// Closed bars the cap dropped since the footprint was made or reset.
    pub fn dropped_bars(&self) -> u64 {
        self.dropped_bars
    }

    /// Bar length (ns).
    pub fn bar_ns(&self) -> i64 {
        self.bar_ns
    }

    /// Start (ns) of the bar trade time `ts` falls in.
    #[inline]
    fn bar_of(&self, ts: Ts) -> Ts {
        ts.saturating_sub(ts.rem_euclid(self.bar_ns))
    }

    /// Counts the executions and trade prints of `events` (the aggressor
    /// is opposite the resting `side`); all or nothing. A trade in a bar
    /// before the open one, or lots that would overflow int64, are refused
    /// with the event's index. Returns the trades counted.
    pub fn apply(&mut self, events: &[Event]) -> Result<usize, Error> {
        let (mut bar, mut total) = (self.open, self.total);
        for (i, e) in super::traded(events) {
            let b = self.bar_of(e.ts);
            if bar.is_some_and(|o| b < o) {
                let last_ts = bar.unwrap_or(b);
                return Err(Error::at(
                    i as u64,
                    ErrorKind::TimestampOrder { ts: e.ts, last_ts },
                ));
            }
            bar = Some(b);
            total = total.checked_add(e.size).ok_or_else(|| {
                let reason = "the traded volume would overflow int64 lots";
                Error::at(
                    i as u64,
                    ErrorKind::InvalidSize {
                        size: e.size,
                        reason,
                    },
                )
            })?;
        }
        let mut n = 0;
        for (_, e) in super::traded(events) {
            self.count(e.ts, e.price, e.size, e.side.saturating_neg());
            n += 1;
        }
        Ok(n)
    }

    /// Counts a trade already checked.
    fn count(&mut self, ts: Ts, price: Price, size: Qty, aggressor: i8) {
        let b = self.bar_of(ts);
        if self.open.is_some_and(|o| o != b) {
            self.close();
        }
        self.open = Some(b);
        let c = self.cells.entry(price).or_default();
        c.volume += size;
        c.trades += 1;
        match aggressor.signum() {
            1 => c.buy += size,
            -1 => c.sell += size,
            _ => {}
        }
        self.total += size;
    }

    /// Moves the open bar's cells to the closed ones, then drops the
    /// oldest closed bars beyond the cap.
    fn close(&mut self) {
        let Some(b) = self.open else {
            return;
        };
        let cells = std::mem::take(&mut self.cells);
        if cells.is_empty() {
            return;
        }
        self.closed
            .extend(cells.into_iter().map(|(p, c)| (b, p, c)));
        self.closed_bars += 1;
        while self.keep_bars.is_some_and(|k| self.closed_bars > k) {
            let Some(&(oldest, _, _)) = self.closed.front() else {
                break;
            };
            while self.closed.front().is_some_and(|c| c.0 == oldest) {
                self.closed.pop_front();
            }
            self.closed_bars -= 1;
            self.dropped_bars += 1;
        }
    }

    /// Start of the open bar (ns), if any trade was counted.
    pub fn open_bar(&self) -> Option<Ts> {
        self.open
    }

    /// The open bar's cells, by price ascending.
    pub fn open_cells(&self) -> impl Iterator<Item = (Price, &Cell)> {
        self.cells.iter().map(|(&p, c)| (p, c))
    }

    /// The closed cells not yet drained, bar then price ascending.
    pub fn closed(&self) -> impl Iterator<Item = &BarCell> {
        self.closed.iter()
    }

    /// The closed cells not yet drained, then (with `include_open`) the open
    /// bar's: bar then price ascending.
    pub fn cells(&self, include_open: bool) -> impl Iterator<Item = BarCell> + '_ {
        let open = self.open.filter(|_| include_open);
        let tail = open
            .into_iter()
            .flat_map(move |b| self.cells.iter().map(move |(&p, &c)| (b, p, c)));
        self.closed.iter().copied().chain(tail)
    }

    /// Closed bars held.
    pub fn closed_bars(&self) -> usize {
        self.closed_bars
    }

    /// Takes the closed cells (the open bar stays).
    pub fn drain_closed(&mut self) -> Vec<BarCell> {
        self.closed_bars = 0;
        std::mem::take(&mut self.closed).into()
    }

    /// Closes the open bar now (end of a session), so it can be drained.
    pub fn flush(&mut self) {
        self.close();
        self.open = None;
    }

    /// Forgets everything (the cap stays).
    pub fn reset(&mut self) {
        self.cells.clear();
        self.closed.clear();
        self.closed_bars = 0;
        self.dropped_bars = 0;
        self.open = None;
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::kind;
    use proptest::prelude::*;

    fn exec(ts: Ts, side: i8, price: Price, size: Qty) -> Event {
        Event::new(ts, kind::EXECUTE, side, price, size, 0)
    }

    proptest! {
        /// With a cap of `k` bars, the closed cells are those of the last
        /// `k` closed bars of the uncapped footprint, and the dropped count
        /// is the rest; a drain in between restarts the count of held bars.
        #[test]
        fn a_cap_keeps_the_last_bars(
            trades in proptest::collection::vec((0i64..90, -1i8..=1, 95i64..105, 1i64..9), 1..150),
            k in 1usize..6,
            drain_at in 0usize..150,
        ) {
            let mut ts = 0;
            let evs: Vec<Event> = trades.iter().map(|&(dt, s, p, q)| {
                ts += dt;
                exec(ts, s, p, q)
            }).collect();
            let (mut all, mut capped) = (
                LiveFootprint::new(60).unwrap(),
                LiveFootprint::with_cap(60, Some(k)).unwrap(),
            );
            let (mut seen, mut got_drained) = (Vec::new(), Vec::new());
            for (i, e) in evs.iter().enumerate() {
                all.apply(std::slice::from_ref(e)).unwrap();
                capped.apply(std::slice::from_ref(e)).unwrap();
                prop_assert!(capped.closed_bars() <= k);
                if i == drain_at {
                    seen.extend(all.drain_closed());
                    got_drained.extend(capped.drain_closed());
                }
            }
            all.flush();
            capped.flush();
            let rest = all.drain_closed();
            let bars = |v: &[BarCell]| {
                let mut b: Vec<Ts> = v.iter().map(|c| c.0).collect();
                b.dedup();
                b
            };
            // what the capped footprint holds: the last k bars of the rest
            let rb = bars(&rest);
            let from = rb.len().saturating_sub(k);
            let want: Vec<BarCell> = rest.iter().copied().filter(|c| rb[from..].contains(&c.0)).collect();
            let held: Vec<BarCell> = capped.closed().copied().collect();
            prop_assert_eq!(&held, &want);
            // and every bar was either drained, held, or dropped, once
            let sb = bars(&seen);
            prop_assert_eq!(
                capped.dropped_bars() as usize + bars(&got_drained).len() + bars(&held).len(),
                sb.len() + rb.len()
            );
            prop_assert!(got_drained.iter().all(|c| seen.contains(c)));
        }

        /// Streaming in any chunking == a plain count per (bar, price).
        #[test]
        fn cells_equal_a_plain_count(
            trades in proptest::collection::vec((0i64..50, -1i8..=1, 95i64..105, 1i64..9), 1..120),
            cut in 1usize..20,
        ) {
            let mut ts = 0;
            let evs: Vec<Event> = trades.iter().map(|&(dt, s, p, q)| {
                ts += dt;
                exec(ts, s, p, q)
            }).collect();
            let mut f = LiveFootprint::new(60).unwrap();
            for chunk in evs.chunks(cut) {
                f.apply(chunk).unwrap();
            }
            f.flush();
            let mut want: BTreeMap<(Ts, Price), Cell> = BTreeMap::new();
            for e in &evs {
                let c = want.entry((e.ts - e.ts % 60, e.price)).or_default();
                c.volume += e.size;
                c.trades += 1;
                if e.side < 0 { c.buy += e.size } else if e.side > 0 { c.sell += e.size }
            }
            let want: Vec<BarCell> = want.into_iter().map(|((b, p), c)| (b, p, c)).collect();
            prop_assert_eq!(f.drain_closed(), want);
        }
    }

    #[test]
    fn a_trade_in_an_earlier_bar_is_refused_and_nothing_counted() {
        let mut f = LiveFootprint::new(100).unwrap();
        assert_eq!(f.apply(&[exec(150, 1, 10, 2)]), Ok(1));
        let bad = [exec(160, -1, 11, 3), exec(99, 1, 10, 1)];
        let e = f.apply(&bad);
        assert!(
            matches!(
                e,
                Err(Error {
                    index: Some(1),
                    kind: ErrorKind::TimestampOrder { .. }
                })
            ),
            "{e:?}"
        );
        assert_eq!(f.open_cells().count(), 1);
        assert!(matches!(
            f.apply(&[exec(170, 1, 10, i64::MAX)]),
            Err(Error {
                kind: ErrorKind::InvalidSize { .. },
                ..
            })
        ));
        // a later bar closes the open one
        assert_eq!(f.apply(&[exec(230, -1, 11, 4)]), Ok(1));
        assert_eq!(f.open_bar(), Some(200));
        let want = Cell {
            buy: 0,
            sell: 2,
            volume: 2,
            trades: 1,
        };
        assert_eq!(f.drain_closed(), vec![(100, 10, want)]);
        assert_eq!(f.closed().count(), 0);
        f.reset();
        assert_eq!((f.open_bar(), f.open_cells().count()), (None, 0));
    }
}
