//! Order Flow Imbalance of Cont, Kukanov and Stoikov (2014), "The Price
//! Impact of Order Book Events", J. Financial Econometrics 12(1), eq. (10):
//!
//! ```text
//! e_n = 1{Pb_n >= Pb_{n-1}} qb_n - 1{Pb_n <= Pb_{n-1}} qb_{n-1}
//!     - 1{Pa_n <= Pa_{n-1}} qa_n + 1{Pa_n >= Pa_{n-1}} qa_{n-1}
//! ```
//!
//! with the paper's non-strict inequalities, so an unchanged best price
//! contributes the size change, an improved bid contributes the whole new
//! queue, and a removed best bid subtracts the whole old queue. Units: lots;
//! positive = buying pressure.
//!
//! An empty side is treated as a bid at -inf (ask at +inf) with size 0, so a
//! side appearing contributes its new queue and a side vanishing subtracts its
//! old one — the limit of the formula, and what keeps OFI additive across
//! books that start empty.

use super::Top;
use crate::book::l3::Changes;
use crate::types::{kind, Event};

/// The bid half of eq. (10) for one level: (previous price, size) to
/// (current price, size), size 0 = absent (lots). Applied to level m of each
/// side it is multi-level OFI (Xu, Gould and Howison 2019; Cont, Cucuringu
/// and Zhang 2023), which is how the bulk replay uses it.
#[inline]
pub fn bid_term(prev_p: i64, prev_q: i64, p: i64, q: i64) -> i64 {
    // Empty side = price -inf: i64::MIN serves, since book prices (and their
    // negations, see `ask_term`) lie within ±2^60.
    let (pp, np) = (
        if prev_q > 0 { prev_p } else { i64::MIN },
        if q > 0 { p } else { i64::MIN },
    );
    let mut e = 0;
    if np >= pp {
        e += q;
    }
    if np <= pp {
        e -= prev_q;
    }
    e
}

/// The ask side is the bid rule mirrored: with prices negated an improving
/// (lower) ask is an improving bid, an empty ask (+inf) an empty bid (-inf),
/// and the sign of the contribution flips. Prices are within ±2^60, so the
/// negation cannot overflow.
#[inline]
pub fn ask_term(prev_p: i64, prev_q: i64, p: i64, q: i64) -> i64 {
    -bid_term(-prev_p, prev_q, -p, q)
}

/// e_n for one event, from the top of the book before and after it (lots).
#[inline]
pub fn ofi(prev: &Top, cur: &Top) -> i64 {
    bid_term(prev.bid_price, prev.bid_qty, cur.bid_price, cur.bid_qty)
        + ask_term(prev.ask_price, prev.ask_qty, cur.ask_price, cur.ask_qty)
}

/// Message-accounting OFI of one event, CKS (2014) eq. (4):
/// `L^b - C^b - M^s - L^s + C^s + M^b`, counting only order flow *at the
/// touch*: limit arrivals (`L`), cancels (`C`) and market orders (`M`) at or
/// inside the best quote of their side as it stood before the event.
///
/// It is computed from the event's level change records, which is the same
/// accounting message by message: an ADD at the touch is `+size` on the bid
/// (`-size` on the ask), a CANCEL/DELETE or an EXECUTE of a resting order at
/// the touch is `-size` on the bid (`+size` on the ask: a buy market order
/// `M^b` eats the ask), a MODIFY is the cancel of the old order plus the
/// arrival of the new one. Flow deeper than the best quote counts 0, and so
/// does CLEAR (a reset, not order flow).
///
/// `include_hidden`: TRADE prints (LOBSTER type 5 hidden executions and other
/// prints that leave the visible book unchanged) count as market orders
/// against their resting `side` at whatever price they happened, because a
/// hidden order can rest inside the spread.
///
/// When every event changes one level only — any L3 stream without
/// price-changing modifies, hidden prints excluded — this equals the
/// snapshot rule [`ofi`] event by event: an arrival that improves the bid is
/// `+q_n` in both, the cancel or fill that empties the best bid is `-q_{n-1}`
/// in both (property-tested). A modify that moves the best bid to a better
/// price is where they differ: eq. (10) sees only `+q_n`, eq. (4) also the
/// cancel at the old price. Units: lots; positive = buying pressure.
#[inline]
pub fn message_ofi(ev: &Event, ch: &Changes, prev: &Top, include_hidden: bool) -> i64 {
    let mut e = message_ofi_visible(ch, prev);
    if include_hidden && ev.kind == kind::TRADE {
        e += match ev.side {
            1 => -ev.size,
            -1 => ev.size,
            _ => 0,
        };
    }
    e
}

/// The visible-book part of [`message_ofi`]: the level changes at or inside
/// the touch as it stood before the event (lots).
#[inline(always)]
pub fn message_ofi_visible(ch: &Changes, prev: &Top) -> i64 {
    let mut e = 0;
    for c in ch.iter() {
        let d = c.new_qty - c.prev_qty;
        if c.side > 0 {
            if prev.bid_qty == 0 || c.price >= prev.bid_price {
                e += d;
            }
        } else if prev.ask_qty == 0 || c.price <= prev.ask_price {
            e -= d;
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bp: i64, bq: i64, ap: i64, aq: i64) -> Top {
        Top {
            bid_price: bp,
            bid_qty: bq,
            ask_price: ap,
            ask_qty: aq,
        }
    }

    #[test]
    fn every_case_of_eq_10() {
        let base = t(100, 10, 101, 20);
        // same prices, sizes change: the size changes
        assert_eq!(ofi(&base, &t(100, 15, 101, 20)), 5);
        assert_eq!(ofi(&base, &t(100, 4, 101, 20)), -6);
        assert_eq!(ofi(&base, &t(100, 10, 101, 25)), -5);
        assert_eq!(ofi(&base, &t(100, 10, 101, 12)), 8);
        // bid improves: + the new queue; bid level removed: - the old queue
        assert_eq!(ofi(&base, &t(100, 10, 101, 20)), 0);
        let improved = t(100, 10, 101, 20);
        assert_eq!(ofi(&t(99, 7, 101, 20), &improved), 10);
        assert_eq!(ofi(&base, &t(99, 30, 101, 20)), -10);
        // ask improves (lower): - the new queue; ask removed: + the old queue
        assert_eq!(ofi(&t(100, 10, 102, 9), &base), -20);
        assert_eq!(ofi(&base, &t(100, 10, 102, 50)), 20);
        // both sides in one event
        assert_eq!(ofi(&base, &t(99, 3, 102, 4)), -10 + 20);
        assert_eq!(ofi(&base, &t(100, 12, 101, 18)), 2 + 2);
        // empty sides
        assert_eq!(ofi(&t(0, 0, 0, 0), &t(100, 5, 0, 0)), 5);
        assert_eq!(ofi(&t(100, 5, 0, 0), &t(0, 0, 0, 0)), -5);
        assert_eq!(ofi(&t(0, 0, 0, 0), &t(0, 0, 101, 7)), -7);
        assert_eq!(ofi(&t(0, 0, 101, 7), &t(0, 0, 0, 0)), 7);
    }

    /// Applies `ev` to `b`; returns (snapshot OFI, message OFI, with hidden).
    fn both(b: &mut crate::L3Book, ev: Event) -> (i64, i64, i64) {
        use crate::book::Book;
        let prev = Top::of(b.l2());
        let ch = b.apply_event(&ev).unwrap();
        let cur = Top::of(b.l2());
        (
            ofi(&prev, &cur),
            message_ofi(&ev, &ch, &prev, false),
            message_ofi(&ev, &ch, &prev, true),
        )
    }

    #[test]
    fn eq_4_message_accounting_by_hand() {
        let mut b = crate::L3Book::new();
        let ev = |k, side, p, q, id| Event::new(0, k, side, p, q, id);
        assert_eq!(both(&mut b, ev(kind::ADD, 1, 100, 10, 1)), (10, 10, 10)); // L^b, empty side
        assert_eq!(both(&mut b, ev(kind::ADD, -1, 102, 20, 2)), (-20, -20, -20)); // L^s
        assert_eq!(both(&mut b, ev(kind::ADD, 1, 100, 5, 3)), (5, 5, 5)); // joins the bid
        assert_eq!(both(&mut b, ev(kind::ADD, 1, 99, 50, 4)), (0, 0, 0)); // deeper: 0
        assert_eq!(both(&mut b, ev(kind::ADD, -1, 101, 7, 5)), (-7, -7, -7)); // ask improves
        assert_eq!(both(&mut b, ev(kind::EXECUTE, -1, 101, 3, 5)), (3, 3, 3)); // M^b
        assert_eq!(both(&mut b, ev(kind::CANCEL, 1, 100, 2, 1)), (-2, -2, -2)); // C^b
        assert_eq!(both(&mut b, ev(kind::DELETE, 1, 99, 50, 4)), (0, 0, 0)); // deep cancel
                                                                             // hidden print against a resting bid: a market sell only with hidden on
        assert_eq!(both(&mut b, ev(kind::TRADE, 1, 100, 9, 0)), (0, 0, -9));
        // the best bid emptied by fills: -q_{n-1} in both
        assert_eq!(both(&mut b, ev(kind::EXECUTE, 1, 100, 8, 1)), (-8, -8, -8));
        assert_eq!(both(&mut b, ev(kind::EXECUTE, 1, 100, 5, 3)), (-5, -5, -5));
        // a modify moving the new best bid (id 6) up: eq. 10 sees +q_n only,
        // eq. 4 the cancel at the old touch as well
        assert_eq!(both(&mut b, ev(kind::ADD, 1, 98, 4, 6)), (4, 4, 4));
        assert_eq!(both(&mut b, ev(kind::MODIFY, 1, 100, 4, 6)), (4, 0, 0));
    }
}
