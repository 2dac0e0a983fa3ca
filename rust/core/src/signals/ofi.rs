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

#[inline]
fn bid_term(prev_p: i64, prev_q: i64, p: i64, q: i64) -> i64 {
    // Empty side = price -inf.
    let (pp, np) = (
        if prev_q > 0 {
            prev_p as i128
        } else {
            i128::MIN
        },
        if q > 0 { p as i128 } else { i128::MIN },
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
fn ask_term(prev_p: i64, prev_q: i64, p: i64, q: i64) -> i64 {
    -bid_term(-prev_p, prev_q, -p, q)
}

/// e_n for one event, from the top of the book before and after it (lots).
#[inline]
pub fn ofi(prev: &Top, cur: &Top) -> i64 {
    bid_term(prev.bid_price, prev.bid_qty, cur.bid_price, cur.bid_qty)
        + ask_term(prev.ask_price, prev.ask_qty, cur.ask_price, cur.ask_qty)
}

/// The same rule applied to level `m` of each side (multi-level OFI, Xu,
/// Gould and Howison 2019; Cont, Cucuringu and Zhang 2023): `prev_*`/`cur_*`
/// are (price ticks, size lots) of level m, size 0 when the level is absent.
#[inline]
pub fn ofi_level(
    prev_bid: (i64, i64),
    prev_ask: (i64, i64),
    cur_bid: (i64, i64),
    cur_ask: (i64, i64),
) -> i64 {
    bid_term(prev_bid.0, prev_bid.1, cur_bid.0, cur_bid.1)
        + ask_term(prev_ask.0, prev_ask.1, cur_ask.0, cur_ask.1)
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
}
