//! Trade-sign classification for feeds that do not say who the aggressor
//! was: the tick rule and Lee and Ready (1991).
//!
//! Results: `+1` buyer-initiated, `-1` seller-initiated, `0` unclassifiable
//! (the first trades of a stream at one price, with no quote).
//!
//! Choices, documented because the literature varies:
//! - Tick rule: up-tick `+1`, down-tick `-1`, zero-tick repeats the sign of
//!   the last non-zero tick ("zero-uptick" = buy).
//! - Lee–Ready: compare the trade price with the midpoint of the quote
//!   prevailing *just before* the trade (the book before the event), with no
//!   5-second lag — that lag corrected 1980s reporting delays, and feeds with
//!   exchange timestamps need none (Bessembinder 2003). Above the mid: buy,
//!   below: sell, at the mid or with a side empty: the tick rule.
//! - Prices are integer ticks, and the mid is compared as `2p` vs `bid + ask`,
//!   so no rounding can flip a sign.

use crate::types::Price;

/// Tick-rule state: the last trade price and the last non-zero tick's sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickRule {
    last_price: Option<Price>,
    last_sign: i8,
}

impl TickRule {
    /// A rule that has seen no trade.
    pub fn new() -> TickRule {
        TickRule::default()
    }

    /// Sign of a trade at `price` (ticks) by the tick rule; updates the state.
    #[inline]
    pub fn classify(&mut self, price: Price) -> i8 {
        if let Some(lp) = self.last_price {
            if price > lp {
                self.last_sign = 1;
            } else if price < lp {
                self.last_sign = -1;
            }
        }
        self.last_price = Some(price);
        self.last_sign
    }
}

/// Lee–Ready sign of a trade at `price` given the prevailing best bid/ask
/// (ticks; `None` when that side is empty). The tick state is updated by
/// every trade, whichever rule decided, so the tick rule always sees the
/// full price sequence.
#[inline]
pub fn lee_ready(price: Price, bid: Option<Price>, ask: Option<Price>, tick: &mut TickRule) -> i8 {
    let by_tick = tick.classify(price);
    match (bid, ask) {
        (Some(b), Some(a)) => {
            let (p2, m2) = (2 * price as i128, b as i128 + a as i128);
            if p2 > m2 {
                1
            } else if p2 < m2 {
                -1
            } else {
                by_tick
            }
        }
        _ => by_tick,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_rule_cases() {
        let mut t = TickRule::new();
        let signs: Vec<i8> = [100, 100, 101, 101, 100, 100, 102]
            .iter()
            .map(|&p| t.classify(p))
            .collect();
        assert_eq!(signs, vec![0, 0, 1, 1, -1, -1, 1]);
    }

    #[test]
    fn lee_ready_quote_rule_then_tick_rule_at_the_mid() {
        let mut t = TickRule::new();
        assert_eq!(lee_ready(101, Some(100), Some(102), &mut t), 0); // at mid, no tick yet
        assert_eq!(lee_ready(102, Some(100), Some(102), &mut t), 1); // above mid
        assert_eq!(lee_ready(100, Some(100), Some(102), &mut t), -1); // below mid
        assert_eq!(lee_ready(101, Some(100), Some(102), &mut t), 1); // at mid, up-tick
        assert_eq!(lee_ready(100, Some(100), Some(101), &mut t), -1); // 2p=200 < 201
        assert_eq!(lee_ready(100, None, Some(101), &mut t), -1); // one side: tick rule (zero tick)
    }
}
