//! Book imbalance measures. All return values in [-1, 1] (0 when both
//! sides are empty); positive = more resting buy interest.

use crate::book::l2::L2Book;
use crate::types::Side;

/// Top-of-book queue imbalance (qb - qa) / (qb + qa), sizes in lots
/// (Cartea, Jaimungal and Penalva 2015; Gould and Bonart 2016).
#[inline]
pub fn queue_imbalance(bid_qty: i64, ask_qty: i64) -> f64 {
    let s = bid_qty + ask_qty;
    if s == 0 {
        0.0
    } else {
        (bid_qty - ask_qty) as f64 / s as f64
    }
}

/// Depth imbalance over the best `n` levels of each side.
pub fn depth_imbalance(l2: &L2Book, n: usize) -> f64 {
    queue_imbalance(l2.depth(Side::Bid, n), l2.depth(Side::Ask, n))
}

/// Distance-weighted imbalance: level k (0 = best) weighs `exp(-decay * k)`.
pub fn weighted_imbalance(l2: &L2Book, n: usize, decay: f64) -> f64 {
    let f = (-decay).exp();
    let side_sum = |side| {
        let (mut s, mut w) = (0.0, 1.0);
        l2.for_each_level(side, n, |_, q| {
            s += w * q as f64;
            w *= f;
        });
        s
    };
    let (b, a) = (side_sum(Side::Bid), side_sum(Side::Ask));
    if b + a == 0.0 {
        0.0
    } else {
        (b - a) / (b + a)
    }
}

/// Imbalance of the size resting within `band` ticks of the mid on each side
/// (bids at or above mid - band, asks at or below mid + band). 0 when a side
/// is empty (no mid).
pub fn band_imbalance(l2: &L2Book, band: i64) -> f64 {
    let (Some((bp, _)), Some((ap, _))) = (l2.best_bid(), l2.best_ask()) else {
        return 0.0;
    };
    // Bids p >= mid - band  <=>  bp - p <= (2·band - spread) / 2, in whole
    // ticks from the best (twice the mid keeps it exact); asks alike.
    let reach = (2 * band - (ap - bp)).div_euclid(2);
    if reach < 0 {
        return 0.0;
    }
    queue_imbalance(
        l2.depth_within(Side::Bid, reach),
        l2.depth_within(Side::Ask, reach),
    )
}

/// Size-weighted mid ("micro-price" in its simple form):
/// (Pb·qa + Pa·qb) / (qb + qa), in ticks. `None` when a side is empty.
#[inline]
pub fn weighted_mid(top: &super::Top) -> Option<f64> {
    if top.bid_qty == 0 || top.ask_qty == 0 {
        return None;
    }
    let (bq, aq) = (top.bid_qty as f64, top.ask_qty as f64);
    Some((top.bid_price as f64 * aq + top.ask_price as f64 * bq) / (bq + aq))
}
