//! Several venues' price-level books as one: the consolidated book.
//!
//! Each venue keeps its own [`L2Book`] on its own grid. The consolidated
//! book lives on a common grid — by default the coarsest that represents
//! every venue's prices and sizes exactly (the greatest common divisor of
//! the venues' ticks, and of their lots), or a given one that must divide
//! each venue's — so a venue price is `price × price_mult` common ticks and
//! a venue size `size × size_mult` common lots, exactly. A consolidated
//! level holds the sum of the venues' sizes at that price; every venue
//! level change becomes one `SET_LEVEL` of the consolidated book, stepped
//! through an [`Instrument`], so OFI, imbalance and the other flow signals
//! are those of the consolidated book, and a reader can be attached.
//!
//! Across venues the book may lock (best bid = best ask) or cross (bid >
//! ask): an arbitrage signal, reported by [`Consolidated::state`] and
//! counted (events and nanoseconds in each state), never hidden. A venue's
//! sequence gap (the keepers' `CLEAR` flagged [`BAD_BOOK`]) empties that
//! venue — its levels leave the consolidated book — and marks it out of
//! sync until its next snapshot event.
//!
//! Every call validates before it changes anything: a refused event leaves
//! every venue and the consolidated book as they were.

use crate::error::ErrorKind;
use crate::instrument::Instrument;
use crate::io::decimal::Grid;
use crate::io::flags::{BAD_BOOK, SNAPSHOT};
use crate::types::{kind, Event, Price, Qty, Side, Ts};
use crate::L2Book;

/// Most venues one consolidated book takes (the venues at a price are a
/// 64-bit mask).
pub const MAX_VENUES: usize = 64;

/// A venue's grid relative to the common one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    /// Common ticks per venue tick.
    pub price_mult: i64,
    /// Common lots per venue lot.
    pub size_mult: i64,
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// The common step of `steps` (decimal strings: "0.01", "1e-8"), or the
/// given `common` checked against them, and each step's multiple of it.
/// Returns the common step as a decimal string and the multiples.
pub fn common_step(steps: &[&str], common: Option<&str>) -> Result<(String, Vec<i64>), String> {
    let grids = steps
        .iter()
        .map(|s| Grid::parse(s).map_err(|e| format!("step {s:?}: {}", e.describe())))
        .collect::<Result<Vec<_>, _>>()?;
    let given = common
        .map(|s| Grid::parse(s).map_err(|e| format!("common step {s:?}: {}", e.describe())))
        .transpose()?;
    let emin = grids
        .iter()
        .chain(given.iter())
        .map(|g| g.parts().1)
        .min()
        .ok_or("no venues")?;
    let aligned = |g: &Grid| -> Option<i128> {
        let (m, e) = g.parts();
        10i128.checked_pow((e - emin) as u32)?.checked_mul(m)
    };
    let values = grids
        .iter()
        .map(|g| aligned(g).ok_or("steps too far apart to share a grid"))
        .collect::<Result<Vec<_>, _>>()?;
    let base = match &given {
        Some(g) => aligned(g).ok_or("steps too far apart to share a grid")?,
        None => values.iter().fold(0, |a, &v| gcd(a, v)),
    };
    let mut mults = Vec::with_capacity(values.len());
    for (s, v) in steps.iter().zip(&values) {
        if base <= 0 || v % base != 0 {
            return Err(format!(
                "step {s:?} is not a whole multiple of the common step: prices would need rounding"
            ));
        }
        mults.push(i64::try_from(v / base).map_err(|_| format!("step {s:?}: multiple too large"))?);
    }
    // base × 10^emin as a plain decimal string.
    let text = if emin >= 0 {
        format!("{}{}", base, "0".repeat(emin as usize))
    } else {
        let digits = base.to_string();
        let k = (-emin) as usize;
        if digits.len() > k {
            format!(
                "{}.{}",
                &digits[..digits.len() - k],
                &digits[digits.len() - k..]
            )
        } else {
            format!("0.{}{}", "0".repeat(k - digits.len()), digits)
        }
    };
    Ok((text, mults))
}

/// Where the consolidated top stands across venues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Both sides present, best bid < best ask.
    Normal,
    /// Best bid = best ask (on different venues).
    Locked,
    /// Best bid > best ask: an arbitrage across venues.
    Crossed,
    /// One side or both empty.
    OneSided,
}

impl State {
    /// The state's name.
    pub fn name(self) -> &'static str {
        match self {
            State::Normal => "normal",
            State::Locked => "locked",
            State::Crossed => "crossed",
            State::OneSided => "one_sided",
        }
    }
}

#[derive(Clone, Debug)]
struct Venue {
    scale: Scale,
    book: L2Book,
    in_sync: bool,
    gaps: u64,
    events: u64,
}

/// Counters of the consolidated book (events and ns by state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Venue events applied.
    pub events: u64,
    /// Events after which the book was locked / crossed.
    pub locked_events: u64,
    /// See `locked_events`.
    pub crossed_events: u64,
    /// Time spent locked / crossed (ns, from one event to the next).
    pub locked_ns: i64,
    /// See `locked_ns`.
    pub crossed_ns: i64,
}

/// The consolidated book of several venues.
#[derive(Debug)]
pub struct Consolidated {
    venues: Vec<Venue>,
    inst: Instrument<L2Book>,
    stats: Stats,
    state: State,
    last_ts: Option<Ts>,
}

impl Consolidated {
    /// A book of `scales.len()` venues (1..=[`MAX_VENUES`]).
    pub fn new(scales: &[Scale]) -> Result<Consolidated, String> {
        if scales.is_empty() || scales.len() > MAX_VENUES {
            return Err(format!(
                "{} venues: must be within 1..={MAX_VENUES}",
                scales.len()
            ));
        }
        if scales.iter().any(|s| s.price_mult < 1 || s.size_mult < 1) {
            return Err("every venue's multiples must be >= 1".into());
        }
        let mut inst = Instrument::new(L2Book::new());
        // Venues' clocks differ (each its own receive or exchange time); the
        // consolidated book takes events in the order given.
        inst.set_check_ts(false);
        Ok(Consolidated {
            venues: scales
                .iter()
                .map(|&scale| Venue {
                    scale,
                    book: L2Book::new(),
                    in_sync: true,
                    gaps: 0,
                    events: 0,
                })
                .collect(),
            inst,
            stats: Stats::default(),
            state: State::OneSided,
            last_ts: None,
        })
    }

    /// Venues.
    pub fn venues(&self) -> usize {
        self.venues.len()
    }

    /// The consolidated instrument (book, flow signals, publisher).
    pub fn instrument(&self) -> &Instrument<L2Book> {
        &self.inst
    }

    /// A lock-free reader of the consolidated book's top `levels` a side
    /// (see [`crate::publish`]); it sees the book as of the end of each
    /// [`Self::publish`] (the bindings publish at the end of every call).
    pub fn reader(&mut self, levels: usize) -> Result<crate::publish::Reader, String> {
        self.inst.reader(levels)
    }

    /// Publishes the consolidated book to its readers (a no-op without any).
    pub fn publish(&mut self) {
        self.inst.publish();
    }

    /// The consolidated levels (common ticks, lots).
    pub fn book(&self) -> &L2Book {
        self.inst.levels()
    }

    /// Venue `v`'s own book (its ticks and lots).
    pub fn venue_book(&self, v: usize) -> Option<&L2Book> {
        self.venues.get(v).map(|x| &x.book)
    }

    /// Venue `v`'s grid multiples.
    pub fn scale(&self, v: usize) -> Option<Scale> {
        self.venues.get(v).map(|x| x.scale)
    }

    /// False from a venue's sequence gap until its next snapshot.
    pub fn in_sync(&self, v: usize) -> bool {
        self.venues.get(v).is_some_and(|x| x.in_sync)
    }

    /// Sequence gaps seen per venue, and events applied per venue.
    pub fn venue_counts(&self, v: usize) -> (u64, u64) {
        self.venues.get(v).map_or((0, 0), |x| (x.gaps, x.events))
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The state after the last event.
    pub fn state(&self) -> State {
        self.state
    }

    /// Lots of venue `v` at the common price `price` of `side`.
    pub fn venue_qty_at(&self, v: usize, side: Side, price: Price) -> Qty {
        let Some(x) = self.venues.get(v) else {
            return 0;
        };
        if price % x.scale.price_mult != 0 {
            return 0;
        }
        x.book.qty_at(side, price / x.scale.price_mult) * x.scale.size_mult
    }

    /// The venues (bit `v`) with size at the common price `price` of `side`.
    pub fn venues_at(&self, side: Side, price: Price) -> u64 {
        (0..self.venues.len())
            .filter(|&v| self.venue_qty_at(v, side, price) > 0)
            .fold(0u64, |m, v| m | (1 << v))
    }

    /// The venues (bit `v`) at the consolidated best of `side` (0 when the
    /// side is empty). A venue with size at the consolidated best has its
    /// own best there (nothing of that side is better), so this compares
    /// each venue's O(1) best instead of looking its levels up.
    pub fn venues_at_best(&self, side: Side) -> u64 {
        let Some((p, _)) = self.inst.levels().best(side) else {
            return 0;
        };
        self.venues
            .iter()
            .enumerate()
            .filter(|(_, x)| {
                x.book
                    .best(side)
                    .is_some_and(|(q, _)| q.saturating_mul(x.scale.price_mult) == p)
            })
            .fold(0u64, |m, (v, _)| m | (1 << v))
    }

    /// Checks one event of venue `v` and returns it on the common grid;
    /// changes nothing. (The consolidated level's size bound is checked
    /// against the current book.)
    pub fn check_event(&self, v: usize, ev: &Event) -> Result<Event, ErrorKind> {
        let Some(x) = self.venues.get(v) else {
            return Err(ErrorKind::InvalidPrice {
                price: v as Price,
                reason: "no such venue",
            });
        };
        match ev.kind {
            kind::SET_LEVEL => {
                Side::parse(ev.side)?;
                crate::book::l2::check_price(ev.price)?;
                crate::book::l2::check_qty(ev.size, false)?;
            }
            kind::CLEAR => {
                Side::parse_optional(ev.side)?;
            }
            kind::TRADE | kind::LIQUIDATION => crate::book::check_print(ev)?,
            kind::HALT => {}
            k => {
                return Err(ErrorKind::InvalidKind {
                    kind: k,
                    book: "L2",
                })
            }
        }
        let price = ev
            .price
            .checked_mul(x.scale.price_mult)
            .ok_or(ErrorKind::InvalidPrice {
                price: ev.price,
                reason: "beyond the common grid's range",
            })?;
        let size = ev
            .size
            .checked_mul(x.scale.size_mult)
            .ok_or(ErrorKind::InvalidSize {
                size: ev.size,
                reason: "beyond the common grid's range",
            })?;
        if ev.kind == kind::SET_LEVEL {
            // The consolidated level after it must be a valid size too.
            let side = Side::parse(ev.side)?;
            let prev = x.book.qty_at(side, ev.price) * x.scale.size_mult;
            let total = self.inst.levels().qty_at(side, price) - prev + size;
            crate::book::l2::check_qty(total, false)?;
            crate::book::l2::check_price(price)?;
        }
        Ok(Event { price, size, ..*ev })
    }

    /// Sets the consolidated level at (side, price) to `qty`.
    fn set(&mut self, ts: Ts, flags: u8, side: Side, price: Price, qty: Qty) {
        let e = Event {
            ts,
            order_id: 0,
            price,
            size: qty,
            kind: kind::SET_LEVEL,
            side: side as i8,
            flags,
            pad: [0; 5],
        };
        // Validated by `check`: a consolidated L2 step cannot fail here
        // (cross policy allow, timestamps unchecked).
        let _ = self.inst.step(&e);
    }

    /// Applies one event of venue `v` (its own ticks and lots). On error
    /// nothing changed.
    pub fn apply(&mut self, v: usize, ev: &Event) -> Result<(), ErrorKind> {
        let common = self.check_event(v, ev)?;
        let scale = self.venues[v].scale;
        match ev.kind {
            kind::SET_LEVEL => {
                let side = Side::parse(ev.side)?;
                let prev = self.venues[v].book.qty_at(side, ev.price);
                // Checked by `check_event` (a venue book allows crosses).
                self.venues[v]
                    .book
                    .set_level_unchecked(side, ev.price, ev.size);
                let total = self.inst.levels().qty_at(side, common.price)
                    + (ev.size - prev) * scale.size_mult;
                self.set(ev.ts, ev.flags, side, common.price, total);
                if ev.flags & SNAPSHOT != 0 {
                    self.venues[v].in_sync = true;
                }
            }
            kind::CLEAR => {
                let sides: &[Side] = match Side::parse_optional(ev.side)? {
                    Some(Side::Bid) => &[Side::Bid],
                    Some(Side::Ask) => &[Side::Ask],
                    None => &[Side::Bid, Side::Ask],
                };
                for &side in sides {
                    let levels = self.venues[v].book.levels(side, usize::MAX);
                    for (p, q) in levels {
                        let cp = p * scale.price_mult;
                        let total = self.inst.levels().qty_at(side, cp) - q * scale.size_mult;
                        self.set(ev.ts, ev.flags, side, cp, total);
                    }
                    self.venues[v].book.clear(Some(side));
                }
                if ev.flags & BAD_BOOK != 0 {
                    self.venues[v].in_sync = false;
                    self.venues[v].gaps += 1;
                } else if ev.flags & SNAPSHOT != 0 {
                    self.venues[v].in_sync = true;
                }
            }
            _ => {
                // Prints and halts: stepped on the common grid (flow signals
                // see the consolidated trades).
                let _ = self.inst.step(&common);
            }
        }
        self.venues[v].events += 1;
        self.account(ev.ts);
        Ok(())
    }

    /// Updates the state and its counters after an event at `ts`.
    fn account(&mut self, ts: Ts) {
        if let Some(last) = self.last_ts {
            let dt = ts.saturating_sub(last).max(0);
            match self.state {
                State::Locked => self.stats.locked_ns += dt,
                State::Crossed => self.stats.crossed_ns += dt,
                _ => {}
            }
        }
        self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
        let b = self.inst.levels();
        self.state = match (b.best_bid(), b.best_ask()) {
            (Some((bp, _)), Some((ap, _))) if bp > ap => State::Crossed,
            (Some((bp, _)), Some((ap, _))) if bp == ap => State::Locked,
            (Some(_), Some(_)) => State::Normal,
            _ => State::OneSided,
        };
        self.stats.events += 1;
        match self.state {
            State::Locked => self.stats.locked_events += 1,
            State::Crossed => self.stats.crossed_events += 1,
            _ => {}
        }
    }

    /// Applies `events` of the venues `venue[i]` in order (a bulk run of
    /// merged feeds), calling `row(i, self)` after each; stops at the first
    /// refused event and returns its index with the error (the events
    /// before it stay applied).
    pub fn replay(
        &mut self,
        events: &[Event],
        venue: &[u16],
        mut row: impl FnMut(usize, &Consolidated),
    ) -> Result<(), (usize, ErrorKind)> {
        if venue.len() != events.len() {
            return Err((
                events.len().min(venue.len()),
                ErrorKind::InvalidPrice {
                    price: venue.len() as Price,
                    reason: "one venue index per event is needed",
                },
            ));
        }
        for (i, (e, &v)) in events.iter().zip(venue).enumerate() {
            if let Err(k) = self.apply(v as usize, e) {
                self.publish();
                return Err((i, k));
            }
            row(i, self);
        }
        self.publish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::flags::LAST;
    use proptest::prelude::*;

    fn set(ts: Ts, side: i8, price: Price, size: Qty) -> Event {
        Event::new(ts, kind::SET_LEVEL, side, price, size, 0)
    }

    #[test]
    fn common_step_is_the_coarsest_exact_grid() {
        let (s, m) = common_step(&["0.1", "0.01", "0.5"], None).unwrap();
        assert_eq!((s.as_str(), m), ("0.01", vec![10, 1, 50]));
        let (s, m) = common_step(&["0.001", "0.00001", "1e-8"], None).unwrap();
        assert_eq!((s.as_str(), m), ("0.00000001", vec![100_000, 1000, 1]));
        let (s, m) = common_step(&["25", "10"], None).unwrap();
        assert_eq!((s.as_str(), m), ("5", vec![5, 2]));
        let (s, m) = common_step(&["0.1", "0.5"], Some("0.05")).unwrap();
        assert_eq!((s.as_str(), m), ("0.05", vec![2, 10]));
        let e = common_step(&["0.1", "0.01"], Some("0.05")).unwrap_err();
        assert!(e.contains("\"0.01\""), "{e}");
        assert!(common_step(&["0.1", "zero"], None).is_err());
    }

    /// Two venues: A on a 0.1 grid (mult 10), B on 0.01 (mult 1).
    fn two() -> Consolidated {
        Consolidated::new(&[
            Scale {
                price_mult: 10,
                size_mult: 1,
            },
            Scale {
                price_mult: 1,
                size_mult: 100,
            },
        ])
        .unwrap()
    }

    #[test]
    fn levels_sum_across_venues_and_the_state_is_reported() {
        let mut c = two();
        c.apply(0, &set(1, 1, 1000, 5)).unwrap(); // A bid 100.0 x5
        c.apply(1, &set(2, 1, 10_000, 2)).unwrap(); // B bid 100.00 x2 (200 common lots)
        c.apply(0, &set(3, -1, 1001, 7)).unwrap(); // A ask 100.1
        assert_eq!(c.book().best_bid(), Some((10_000, 205)));
        assert_eq!(c.venues_at(Side::Bid, 10_000), 0b11);
        assert_eq!(c.venue_qty_at(1, Side::Bid, 10_000), 200);
        assert_eq!(c.state(), State::Normal);
        // B bids 100.10 = A's ask: locked; then 100.11: crossed.
        c.apply(1, &set(10, 1, 10_010, 1)).unwrap();
        assert_eq!(c.state(), State::Locked);
        c.apply(1, &set(14, 1, 10_011, 1)).unwrap();
        assert_eq!(c.state(), State::Crossed);
        c.apply(1, &set(20, 1, 10_011, 0)).unwrap(); // back to locked
        let s = c.stats();
        assert_eq!((s.locked_events, s.crossed_events), (2, 1));
        assert_eq!((s.locked_ns, s.crossed_ns), (4, 6));
        assert_eq!(c.state(), State::Locked);
        // A refused event changes nothing.
        let before = (c.book().levels(Side::Bid, 10), c.stats());
        assert!(c.apply(0, &set(21, 3, 1000, 1)).is_err());
        assert!(c.apply(0, &set(21, 1, 1000, -1)).is_err());
        assert!(c.apply(5, &set(21, 1, 1000, 1)).is_err());
        assert!(c.apply(0, &set(21, 1, i64::MAX / 2, 1)).is_err());
        assert_eq!((c.book().levels(Side::Bid, 10), c.stats()), before);
    }

    #[test]
    fn a_gap_takes_the_venue_out_until_its_snapshot() {
        let mut c = two();
        c.apply(0, &set(1, 1, 1000, 5)).unwrap();
        c.apply(1, &set(1, 1, 10_000, 2)).unwrap();
        c.apply(1, &set(1, -1, 10_020, 3)).unwrap();
        let mut gap = Event::new(2, kind::CLEAR, 0, 0, 0, 0);
        gap.flags = BAD_BOOK | LAST;
        c.apply(1, &gap).unwrap();
        assert!(!c.in_sync(1) && c.in_sync(0));
        assert_eq!(c.book().best_bid(), Some((10_000, 5)));
        assert_eq!(c.book().best_ask(), None);
        assert_eq!(c.venue_counts(1).0, 1);
        let mut snap = set(3, -1, 10_030, 1);
        snap.flags = SNAPSHOT;
        c.apply(1, &snap).unwrap();
        assert!(c.in_sync(1));
        assert_eq!(c.book().best_ask(), Some((10_030, 100)));
    }

    proptest! {
        /// The consolidated book is the sum of the venue books, price by
        /// price, after every event (a naive reference: every venue's
        /// levels re-read and added up).
        #[test]
        fn consolidated_levels_are_the_sum_of_the_venues(
            ops in proptest::collection::vec((0usize..3, 0u8..12, 0i64..12, 0i64..4), 1..200)
        ) {
            let scales = [
                Scale { price_mult: 2, size_mult: 3 },
                Scale { price_mult: 1, size_mult: 1 },
                Scale { price_mult: 4, size_mult: 5 },
            ];
            let mut c = Consolidated::new(&scales).unwrap();
            for (i, &(v, k, p, q)) in ops.iter().enumerate() {
                let side = if k % 2 == 0 { 1 } else { -1 };
                let ev = if k == 11 {
                    Event::new(i as Ts, kind::CLEAR, if p % 3 == 0 { 0 } else { side }, 0, 0, 0)
                } else {
                    set(i as Ts, side, 100 + p, q)
                };
                c.apply(v, &ev).unwrap();
                for s in [Side::Bid, Side::Ask] {
                    let best = c.book().best(s).map_or(0, |(p, _)| c.venues_at(s, p));
                    prop_assert_eq!(c.venues_at_best(s), best);
                    let mut want = std::collections::BTreeMap::new();
                    for (vi, sc) in scales.iter().enumerate() {
                        for (pp, qq) in c.venue_book(vi).unwrap().levels(s, usize::MAX) {
                            *want.entry(pp * sc.price_mult).or_insert(0) += qq * sc.size_mult;
                        }
                    }
                    let mut got: Vec<(Price, Qty)> = c.book().levels(s, usize::MAX);
                    got.sort();
                    let want: Vec<(Price, Qty)> = want.into_iter().collect();
                    prop_assert_eq!(got, want);
                }
            }
        }
    }
}
