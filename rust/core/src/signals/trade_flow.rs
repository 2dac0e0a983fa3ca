//! Trade flow from the feed's own aggressor information.
//!
//! An EXECUTE or TRADE event's `side` is the *resting* side (LOBSTER's
//! `direction`, Databento's fill side), so the aggressor is the other side:
//! an execution against a resting ask is buyer-initiated. Signed volume is
//! `+size` for buyer-initiated, `-size` for seller-initiated, 0 for events
//! that are not trades or whose side is unknown (lots; positive = buying
//! pressure). Tick-rule / Lee–Ready classification for feeds without a side
//! is not implemented yet.

use crate::types::{kind, Event};

/// Signed traded volume of one event (lots). `include_hidden` counts TRADE
/// prints (hidden or cross executions) as well as visible EXECUTEs.
#[inline]
pub fn signed_volume(ev: &Event, include_hidden: bool) -> i64 {
    let is_trade = ev.kind == kind::EXECUTE || (include_hidden && ev.kind == kind::TRADE);
    if !is_trade {
        return 0;
    }
    match ev.side {
        -1 => ev.size,
        1 => -ev.size,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggressor_is_opposite_the_resting_side() {
        let ex = |side, k| Event::new(0, k, side, 100, 7, 1);
        assert_eq!(signed_volume(&ex(-1, kind::EXECUTE), false), 7); // resting ask hit: buy
        assert_eq!(signed_volume(&ex(1, kind::EXECUTE), false), -7);
        assert_eq!(signed_volume(&ex(1, kind::TRADE), false), 0);
        assert_eq!(signed_volume(&ex(1, kind::TRADE), true), -7);
        assert_eq!(signed_volume(&ex(0, kind::TRADE), true), 0);
        assert_eq!(signed_volume(&ex(1, kind::ADD), true), 0);
    }
}
