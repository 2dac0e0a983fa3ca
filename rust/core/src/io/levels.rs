//! Top-N snapshots (Tardis `book_snapshot_N`, Databento MBP-10) to the
//! `SET_LEVEL` events that turn one snapshot into the next.
//!
//! Emitting only the difference keeps per-event signals (OFI, detectors)
//! meaningful: a snapshot that repeats the previous one produces no events,
//! and a one-level change produces one event. Removals come first, so the
//! book never holds a stale level that crosses the new one mid-update.

use crate::types::{kind, Event, Price, Qty, Ts};

/// One side of a top-N snapshot: (price ticks, size lots), best first,
/// sizes > 0.
pub type Levels = Vec<(Price, Qty)>;

/// Both sides of a snapshot, borrowed: (bids, asks).
pub type Sides<'a> = (&'a [(Price, Qty)], &'a [(Price, Qty)]);

fn size_at(levels: &[(Price, Qty)], p: Price) -> Qty {
    levels.iter().find(|l| l.0 == p).map_or(0, |l| l.1)
}

/// Appends the events that take `prev` to `next` for both sides (bids
/// side 1, asks -1), stamped `ts` and `flags`; the last one also gets
/// `last_flag`. Returns how many were appended.
pub fn diff(
    prev: Sides<'_>,
    next: Sides<'_>,
    ts: Ts,
    flags: u8,
    last_flag: u8,
    out: &mut Vec<Event>,
) -> usize {
    let start = out.len();
    let sides = [(1i8, prev.0, next.0), (-1i8, prev.1, next.1)];
    for (side, p, n) in sides {
        for &(price, _) in p {
            if size_at(n, price) == 0 {
                out.push(ev(ts, side, price, 0, flags));
            }
        }
    }
    for (side, p, n) in sides {
        for &(price, q) in n {
            if size_at(p, price) != q {
                out.push(ev(ts, side, price, q, flags));
            }
        }
    }
    if out.len() > start {
        if let Some(e) = out.last_mut() {
            e.flags |= last_flag;
        }
    }
    out.len() - start
}

fn ev(ts: Ts, side: i8, price: Price, size: Qty, flags: u8) -> Event {
    let mut e = Event::new(ts, kind::SET_LEVEL, side, price, size, 0);
    e.flags = flags;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::l2::L2Book;
    use crate::types::Side;
    use proptest::prelude::*;

    fn side(max: usize) -> impl Strategy<Value = Vec<(Price, Qty)>> {
        proptest::collection::btree_map(0i64..40, 1i64..5, 0..max)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        /// Applying the diff to a book holding `a` leaves exactly `b`, and
        /// the book is never crossed between events when both are uncrossed.
        #[test]
        fn diff_reaches_the_next_snapshot(a in side(8), b in side(8), c in side(8), d in side(8)) {
            // Bids below 50, asks from 50 up: both snapshots uncrossed.
            let bids = |s: &Vec<(Price, Qty)>| -> Levels { let mut v: Levels = s.to_vec(); v.reverse(); v };
            let asks = |s: &Vec<(Price, Qty)>| -> Levels { s.iter().map(|&(p, q)| (p + 50, q)).collect() };
            let (pb, pa, nb, na) = (bids(&a), asks(&c), bids(&b), asks(&d));
            let mut book = L2Book::default();
            let mut out = Vec::new();
            diff((&[], &[]), (&pb, &pa), 0, 0, 0, &mut out);
            diff((&pb, &pa), (&nb, &na), 1, 0, 0x80, &mut out);
            for e in &out {
                prop_assert!(book.apply(e).is_ok());
                prop_assert_eq!(book.stats.crossed, 0);
            }
            let got_b: Levels = book.levels(Side::Bid, 100);
            let got_a: Levels = book.levels(Side::Ask, 100);
            prop_assert_eq!(&got_b, &nb);
            prop_assert_eq!(&got_a, &na);
            let again = diff((&nb, &na), (&nb, &na), 2, 0, 0x80, &mut out);
            prop_assert_eq!(again, 0);
        }
    }
}
