//! Delta divergence: price makes a new swing high (low) while the
//! cumulative volume delta (CVD: buyer-initiated minus seller-initiated
//! lots) does not, or the reverse.
//!
//! Swings are found by a zig-zag on print prices: a leg turns when price
//! retraces `divergence_swing_frac` of the price range of the last
//! `divergence_window_ns` (at least `divergence_min_swing_steps` steps)
//! from the leg's extreme, and the extreme becomes a *pivot* (a swing high
//! or low) with the CVD and the cumulative volume at that print. The swing
//! size scales with the market's own range, so the same defaults hold on a
//! cent-tick stock and on BTCUSDT's 0.1-dollar ticks.
//!
//! Two patterns, judged against the previous pivot of the same kind while
//! it is at most `divergence_window_ns` old (`V` = volume traded since it,
//! `Δ` = CVD change since it):
//! - *price-led* (`count` 1): a leg's extreme passes the previous pivot
//!   (a higher high) while `Δ ≤ −divergence_min_frac × V` — price rose on
//!   net selling (the mirror for lows);
//! - *delta-led* (`count` 2): a new pivot high confirms below the previous
//!   one (a lower high) while `Δ ≥ divergence_min_frac × V` — buyers were
//!   absorbed (the mirror for lows).
//!
//! At most one alert per leg. Evidence: `side` the direction the
//! divergence points to (−1 at highs: the rise is not confirmed; +1 at
//! lows); `price` the print's (price-led) or the new pivot's (delta-led)
//! price; `size` V (lots); `size_ratio` |Δ| / V; `opp_volume` |Δ| (lots);
//! `lifetime_ns` from the earlier pivot; `price_move` the steps between
//! the two extremes (positive); `count` 1 price-led, 2 delta-led.
//!
//! Prints: L3 `EXECUTE` and `TRADE` events, L2 `TRADE` prints, with a
//! resting side (a print without one has no aggressor and is skipped). The
//! window range is kept with monotonic deques: O(1) amortised per print,
//! memory bounded by the prints of one window.

use super::{alert_kind, Alert, Ctx, DetectConfig, WindowMax, WindowMin};
use crate::types::{kind, Price, Qty, Ts};

/// A print's state at a swing extreme.
#[derive(Clone, Copy, Debug)]
struct Point {
    ts: Ts,
    /// The mid when it printed (half ticks).
    price: Price,
    /// CVD after the print (lots).
    cvd: i64,
    /// Cumulative volume after the print (lots).
    vol: Qty,
}

/// Delta-divergence state.
#[derive(Clone, Debug, Default)]
pub struct DivergenceDetector {
    cvd: i64,
    vol: Qty,
    /// Leg direction: 1 up, -1 down, 0 not yet known.
    leg: i8,
    /// The current leg's extreme (the first print before a leg is known).
    ext: Option<Point>,
    /// Where an undecided start began (the leg is decided by a swing from it).
    origin: Option<Point>,
    /// Last confirmed pivot high and low.
    high: Option<Point>,
    low: Option<Point>,
    /// An alert was raised in the current leg.
    alerted: bool,
    /// Window max / min of the mids at prints (half ticks).
    maxq: WindowMax,
    minq: WindowMin,
}

impl DivergenceDetector {
    /// Samples held (what bounds the memory).
    pub fn state_size(&self) -> usize {
        self.maxq.len() + self.minq.len()
    }

    // One call site (`Detectors::on_event`): inlined there whatever the
    // codegen-unit split, so the instruction gate does not move with it.
    #[inline]
    pub(crate) fn on_event(
        &mut self,
        cfg: &DetectConfig,
        l3: bool,
        cx: &Ctx<'_>,
        out: &mut Vec<Alert>,
    ) {
        let ev = cx.ev;
        let print = ev.kind == kind::TRADE || (l3 && ev.kind == kind::EXECUTE);
        if !print || ev.size <= 0 || (ev.side != 1 && ev.side != -1) {
            return;
        }
        // Swings are taken on the mid (half ticks) when the print came:
        // print prices bounce between bid and ask, and on a wide spread
        // that bounce alone made 'swings' within milliseconds.
        let (t, p) = (ev.ts, cx.mid2_before().unwrap_or(2 * ev.price));
        // The aggressor is opposite the resting side.
        self.cvd = self.cvd.saturating_add(-i64::from(ev.side) * ev.size);
        self.vol = self.vol.saturating_add(ev.size);
        let w = cfg.divergence_window_ns;
        self.maxq.push(t, w, p);
        self.minq.push(t, w, p);
        let (maxq, minq) = (&self.maxq, &self.minq);
        // The swing size (half ticks), computed only where a test needs it.
        let swing = || {
            let range = maxq.get().map_or(0, |f| f.1) - minq.get().map_or(0, |f| f.1);
            ((cfg.divergence_swing_frac * range as f64).ceil() as i64)
                .max(2 * cfg.divergence_min_swing_steps * cfg.tick)
                .max(1)
        };
        let now = Point {
            ts: t,
            price: p,
            cvd: self.cvd,
            vol: self.vol,
        };
        let Some(ext) = self.ext else {
            self.ext = Some(now);
            self.origin = Some(now);
            return;
        };
        if self.leg == 0 {
            // Undecided: the first swing from the origin sets the leg.
            let o = self.origin.unwrap_or(now);
            if (p - o.price).abs() >= swing() {
                self.leg = if p > o.price { 1 } else { -1 };
                self.ext = Some(now);
            }
            return;
        }
        let d = i64::from(self.leg);
        if (p - ext.price) * d > 0 {
            // A new extreme of the leg.
            self.ext = Some(now);
            if !self.alerted {
                let prev = if d > 0 { self.high } else { self.low };
                if let Some(a) = self.price_led(cfg, prev, now, d) {
                    self.alerted = true;
                    out.push(a);
                }
            }
        } else if (ext.price - p) * d > 0 && (ext.price - p) * d >= swing() {
            // The leg turns: its extreme is a pivot.
            let prev = if d > 0 { self.high } else { self.low };
            if !self.alerted {
                if let Some(a) = self.delta_led(cfg, prev, ext, d, t) {
                    out.push(a);
                }
            }
            if d > 0 {
                self.high = Some(ext);
            } else {
                self.low = Some(ext);
            }
            self.leg = -self.leg;
            self.ext = Some(now);
            self.alerted = false;
        }
    }

    /// A higher high (d = 1) / lower low (d = -1) made on opposing delta.
    fn price_led(
        &self,
        cfg: &DetectConfig,
        prev: Option<Point>,
        now: Point,
        d: i64,
    ) -> Option<Alert> {
        let h = prev?;
        if now.ts.saturating_sub(h.ts) > cfg.divergence_window_ns || (now.price - h.price) * d <= 0
        {
            return None;
        }
        let (v, delta) = (now.vol - h.vol, now.cvd - h.cvd);
        (v > 0 && -delta * d >= (cfg.divergence_min_frac * v as f64).ceil() as i64)
            .then(|| alert(cfg, h, now, now.ts, v, delta, d, 1))
    }

    /// A lower high (d = 1) / higher low (d = -1) confirmed on a delta that
    /// went further than at the previous pivot.
    fn delta_led(
        &self,
        cfg: &DetectConfig,
        prev: Option<Point>,
        pivot: Point,
        d: i64,
        now: Ts,
    ) -> Option<Alert> {
        let h = prev?;
        if pivot.ts.saturating_sub(h.ts) > cfg.divergence_window_ns
            || (pivot.price - h.price) * d >= 0
        {
            return None;
        }
        let (v, delta) = (pivot.vol - h.vol, pivot.cvd - h.cvd);
        (v > 0 && delta * d >= (cfg.divergence_min_frac * v as f64).ceil() as i64)
            .then(|| alert(cfg, h, pivot, now, v, delta, d, 2))
    }
}

/// The alert for a divergence between pivot `h` and point `x`, raised at
/// `now`; `d` is the leg (1 at highs).
#[allow(clippy::too_many_arguments)]
fn alert(
    cfg: &DetectConfig,
    h: Point,
    x: Point,
    now: Ts,
    v: Qty,
    delta: i64,
    d: i64,
    count: i64,
) -> Alert {
    let ratio = delta.unsigned_abs() as f64 / v as f64;
    // Points hold mids in half ticks.
    let moved = (x.price - h.price).abs() as f64 / (2 * cfg.tick.max(1)) as f64;
    // A stronger delta disagreement ranks higher; so does a bigger move
    // that it fails to confirm (a 0.2 ratio over 2 steps ~0.55, 0.5 over
    // 10 steps ~0.99).
    let score = 1.0 - (-4.0 * ratio * (1.0 + moved).ln()).exp();
    Alert {
        ts: now,
        kind: alert_kind::DELTA_DIVERGENCE,
        side: -d as i8,
        price: x.price.div_euclid(2),
        order_id: 0,
        score: score.clamp(f64::MIN_POSITIVE, 1.0),
        size: v,
        size_ratio: ratio,
        lifetime_ns: x.ts.saturating_sub(h.ts),
        fill_frac: 0.0,
        opp_volume: delta.unsigned_abs() as Qty,
        price_move: moved,
        count,
        event_index: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testkit::{only, Market, MS};
    use crate::L2Book;

    fn only_divergence() -> DetectConfig {
        only("delta_divergence")
    }

    /// Prints 100 ms apart: (price, resting side, lots). A buyer lifts the
    /// asks (resting side -1).
    fn run(cfg: DetectConfig, legs: &[(Price, i8, Qty)]) -> Vec<Alert> {
        let mut m = Market::<L2Book>::l2(cfg, 0);
        for &(p, side, q) in legs {
            m.wait(100 * MS).ev(kind::TRADE, side, p, q, 0);
        }
        m.alerts(alert_kind::DELTA_DIVERGENCE)
    }

    /// Up from 1000 to 1010 on buying, back to 1004 on selling (a pivot
    /// high at 1010), then `tail`.
    fn after_a_swing_high(tail: &[(Price, i8, Qty)]) -> Vec<(Price, i8, Qty)> {
        let mut v: Vec<(Price, i8, Qty)> = (1000..=1010).map(|p| (p, -1, 5)).collect();
        v.extend((1004..1010).rev().map(|p| (p, 1, 5)));
        v.extend_from_slice(tail);
        v
    }

    #[test]
    fn a_higher_high_on_net_selling_is_a_price_led_divergence() {
        // 1005..1012 printed mostly by sellers hitting bids: price rises
        // (the asks were pulled) while CVD falls.
        let tail: Vec<(Price, i8, Qty)> = (1005..=1012).map(|p| (p, 1, 4)).collect();
        let a = run(only_divergence(), &after_a_swing_high(&tail));
        assert_eq!(a.len(), 1, "{a:?}");
        let a = a[0];
        assert_eq!((a.side, a.price, a.count), (-1, 1011, 1));
        // From the pivot (1010) on: 6 selling prints of 5 going down, then
        // 7 of 4 up to 1011: V = 58, Δ = -58.
        assert_eq!((a.size, a.opp_volume), (58, 58));
        assert!((a.size_ratio - 1.0).abs() < 1e-12);
        assert_eq!(a.price_move, 1.0);
        assert!(a.score > 0.5 && a.score <= 1.0, "{}", a.score);
        // One alert per leg: the print at 1012 does not repeat it.
    }

    #[test]
    fn a_higher_high_on_buying_is_not_a_divergence() {
        // Buyers take it from 1005 to 1012 after the same selling pullback:
        // Δ since the pivot = 7·20 − 6·5 > 0.
        let tail: Vec<(Price, i8, Qty)> = (1005..=1012).map(|p| (p, -1, 20)).collect();
        assert!(run(only_divergence(), &after_a_swing_high(&tail)).is_empty());
        // Net selling of 2 lots in 58 (3%) at 1011 is below the 10%
        // default ...
        let tail: Vec<(Price, i8, Qty)> = (1005..=1012).map(|p| (p, -1, 4)).collect();
        let legs = after_a_swing_high(&tail);
        assert!(run(only_divergence(), &legs).is_empty());
        // ... and above a 0 threshold.
        let cfg = DetectConfig {
            divergence_min_frac: 0.0,
            ..only_divergence()
        };
        assert_eq!(run(cfg, &legs).len(), 1);
    }

    #[test]
    fn a_lower_high_on_net_buying_is_a_delta_led_divergence() {
        // From 1004 buyers lift to 1008 only (a lower high) on heavy
        // buying, then price falls back 4 steps: the 1008 pivot confirms.
        let mut tail: Vec<(Price, i8, Qty)> = (1005..=1008).map(|p| (p, -1, 30)).collect();
        tail.extend((1004..1008).rev().map(|p| (p, 1, 1)));
        let a = run(only_divergence(), &after_a_swing_high(&tail));
        assert_eq!(a.len(), 1, "{a:?}");
        let a = a[0];
        assert_eq!((a.side, a.price, a.count), (-1, 1008, 2));
        // Since the 1010 pivot up to the 1008 pivot: 6·5 sold, 4·30 bought.
        assert_eq!((a.size, a.opp_volume), (150, 90));
        assert_eq!(a.price_move, 2.0);
    }

    #[test]
    fn lows_mirror_highs_and_old_pivots_are_not_compared() {
        // Down to 990 on selling, up to 996, then lower lows on buying.
        let mut legs: Vec<(Price, i8, Qty)> = (990..=1000).rev().map(|p| (p, 1, 5)).collect();
        legs.extend((991..=996).map(|p| (p, -1, 5)));
        legs.extend((988..=995).rev().map(|p| (p, -1, 4)));
        let a = run(only_divergence(), &legs);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!((a[0].side, a[0].price, a[0].count), (1, 989, 1));
        // The same story with the pivot older than the window: nothing.
        let cfg = DetectConfig {
            divergence_window_ns: 1_000 * MS,
            ..only_divergence()
        };
        assert!(run(cfg, &legs).is_empty());
    }

    #[test]
    fn prints_without_a_side_and_book_events_are_ignored() {
        let tail: Vec<(Price, i8, Qty)> = (1005..=1012).map(|p| (p, 0, 40)).collect();
        let legs = after_a_swing_high(&tail);
        let mut m = Market::<L2Book>::l2(only_divergence(), 0);
        for &(p, side, q) in &legs {
            m.wait(100 * MS).ev(kind::TRADE, side, p, q, 0);
            m.ev(kind::SET_LEVEL, -1, p + 1, 7, 0);
        }
        assert!(m.alerts(alert_kind::DELTA_DIVERGENCE).is_empty());
    }
}
