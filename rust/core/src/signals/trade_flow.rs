//! Trade flow from the feed's own aggressor information.
//!
//! An EXECUTE or TRADE event's `side` is the *resting* side (LOBSTER's
//! `direction`, Databento's fill side), so the aggressor is the other side:
//! an execution against a resting ask is buyer-initiated. Signed volume is
//! `+size` for buyer-initiated, `-size` for seller-initiated, 0 for events
//! that are not trades or whose side is unknown (lots; positive = buying
//! pressure). For prints without a side, [`TradeSign`] picks Lee–Ready or
//! the tick rule ([`super::classify`]).

use super::classify::{lee_ready, TickRule};
use super::Top;
use crate::types::{kind, Event};

/// How the aggressor of a trade is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TradeSign {
    /// The feed's resting side when it gives one, Lee–Ready when it does not.
    #[default]
    Feed,
    /// Lee–Ready for every trade, ignoring the feed's side.
    LeeReady,
    /// The tick rule for every trade.
    Tick,
}

impl TradeSign {
    /// "feed" | "lee_ready" | "tick".
    pub fn parse(s: &str) -> Option<TradeSign> {
        match s {
            "feed" => Some(TradeSign::Feed),
            "lee_ready" => Some(TradeSign::LeeReady),
            "tick" => Some(TradeSign::Tick),
            _ => None,
        }
    }
}

/// Trade signing state across events (the tick rule's memory).
#[derive(Clone, Copy, Debug, Default)]
pub struct Signer {
    /// Rule in use.
    pub rule: TradeSign,
    tick: TickRule,
}

impl Signer {
    /// A signer using `rule`.
    pub fn new(rule: TradeSign) -> Signer {
        Signer {
            rule,
            tick: TickRule::new(),
        }
    }

    /// Signed volume of `ev` (lots) given the top of the book before it.
    /// Every trade updates the tick state, whichever rule decides.
    #[inline]
    pub fn signed(&mut self, ev: &Event, before: &Top) -> i64 {
        if ev.kind != kind::EXECUTE && ev.kind != kind::TRADE {
            return 0;
        }
        let quote = |q: i64, p: i64| (q > 0).then_some(p);
        let s = match self.rule {
            TradeSign::Feed if ev.side != 0 => {
                self.tick.classify(ev.price);
                -ev.side
            }
            TradeSign::Tick => self.tick.classify(ev.price),
            _ => lee_ready(
                ev.price,
                quote(before.bid_qty, before.bid_price),
                quote(before.ask_qty, before.ask_price),
                &mut self.tick,
            ),
        };
        s as i64 * ev.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggressor_is_opposite_the_resting_side() {
        // The feed rule on visible executions and hidden prints; the mid of
        // this quote is 100, where an unsided first print stays unknown.
        let top = Top {
            bid_price: 99,
            bid_qty: 5,
            ask_price: 101,
            ask_qty: 5,
        };
        let ex = |side, k| Event::new(0, k, side, 100, 7, 1);
        let v = |e: Event| Signer::new(TradeSign::Feed).signed(&e, &top);
        assert_eq!(v(ex(-1, kind::EXECUTE)), 7); // resting ask hit: buy
        assert_eq!(v(ex(1, kind::EXECUTE)), -7);
        assert_eq!(v(ex(1, kind::TRADE)), -7);
        assert_eq!(v(ex(0, kind::TRADE)), 0);
        assert_eq!(v(ex(1, kind::ADD)), 0);
    }

    #[test]
    fn signer_uses_the_feed_then_lee_ready() {
        let top = Top {
            bid_price: 99,
            bid_qty: 5,
            ask_price: 101,
            ask_qty: 5,
        };
        let mut s = Signer::new(TradeSign::Feed);
        assert_eq!(
            s.signed(&Event::new(0, kind::TRADE, 1, 101, 7, 0), &top),
            -7
        );
        assert_eq!(s.signed(&Event::new(0, kind::TRADE, 0, 101, 7, 0), &top), 7); // above mid
        assert_eq!(s.signed(&Event::new(0, kind::TRADE, 0, 99, 2, 0), &top), -2);
        assert_eq!(s.signed(&Event::new(0, kind::TRADE, 0, 100, 3, 0), &top), 3); // mid: 99->100 uptick
        assert_eq!(s.signed(&Event::new(0, kind::ADD, 0, 100, 3, 0), &top), 0);
        let mut t = Signer::new(TradeSign::Tick);
        assert_eq!(
            t.signed(&Event::new(0, kind::EXECUTE, -1, 101, 7, 1), &top),
            0
        );
        assert_eq!(
            t.signed(&Event::new(0, kind::EXECUTE, -1, 100, 7, 1), &top),
            -7
        );
        assert_eq!(TradeSign::parse("lee_ready"), Some(TradeSign::LeeReady));
    }
}
