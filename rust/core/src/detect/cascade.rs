//! Liquidation cascades: a run of same-direction sweeps with growing volume
//! while the depth they hit collapses.
//!
//! Input: the sweeps the [`sweep`](super::sweep) detector closes (before
//! the alert budget, so a budget on sweeps never hides a cascade) and, when
//! the feed carries them, the venue's `LIQUIDATION` notices.
//!
//! A cascade of aggressor direction `d` is reported when a sweep of
//! direction `d` closes and, over the last `cascade_window_ns`:
//! - at least `cascade_min_sweeps` sweeps of direction `d` closed, each of
//!   at least `cascade_min_ratio` × the typical print (the everyday
//!   three-level taker of a thin book is not a liquidation), and the other
//!   direction's such sweeps took less than half their volume (a two-way
//!   market is not a cascade);
//! - the run's swept volume over the window is at least
//!   `cascade_min_excess` × the market's usual swept volume per window
//!   (both directions, decayed over [`BASELINE_WINDOWS`] windows);
//! - the run accelerates: the swept volume per second of its later half
//!   (sweeps after the middle one, over the time since it) is at least
//!   `cascade_min_accel` × that of its earlier half — forced orders come
//!   bigger, or faster, or both;
//! - price went `d`'s way: the last sweep ended beyond where the first
//!   began;
//! - the depth on the side being hit, within `collapse_band_steps` of its
//!   best, fell at least `cascade_depth_drop` below its maximum over the
//!   window (sampled every [`SAMPLE_NS`]);
//! - once a feed has shown a liquidation notice, one of direction `d`
//!   within the window (a feed without the stream is judged without it).
//!
//! One alert per cascade: the direction re-arms when a whole window passes
//! without one of its sweeps. Evidence: `side` the aggressor (1 buyers,
//! −1 sellers: shorts liquidated / longs liquidated); `price` the last
//! sweep's last price; `size` the run's swept volume (lots); `size_ratio`
//! the acceleration; `fill_frac` the depth drop (fraction); `opp_volume`
//! the liquidated volume in the window (lots); `lifetime_ns` first sweep's
//! start to the last's end; `price_move` steps from the first sweep's first
//! price to the last's last; `count` sweeps. O(1) amortised per event.

use std::collections::VecDeque;

use super::sweep::Closed;
use super::{alert_kind, Alert, Ctx, DetectConfig, WindowMax};
use crate::types::{kind, Qty, Side, Ts};

/// Depth is sampled at most once per this (ns; 50 ms): often enough to
/// see a book thin within the seconds a cascade takes.
pub const SAMPLE_NS: i64 = 50_000_000;

/// Per aggressor direction.
#[derive(Clone, Debug, Default)]
struct Dir {
    sweeps: VecDeque<Closed>,
    /// (time, lots) of liquidation notices of this direction.
    liqs: VecDeque<(Ts, Qty)>,
    liq_volume: Qty,
    /// Reported, and not yet re-armed.
    fired: bool,
}

/// Liquidation-cascade state.
#[derive(Clone, Debug)]
pub struct CascadeDetector {
    /// [buyers, sellers].
    dirs: [Dir; 2],
    /// Window maximum of each side's band depth [bid, ask]: (ts, lots).
    depth_max: [WindowMax; 2],
    next_sample: Ts,
    /// A liquidation notice has been seen on this feed.
    liquidations_seen: bool,
    /// Volume of the sweeps (both directions, of `cascade_min_ratio`) that
    /// have left the window, exponentially decayed with time constant
    /// [`BASELINE_WINDOWS`] windows (lots), as of `swept_ts`; `first_ts`:
    /// the feed's first event.
    swept: f64,
    swept_ts: Ts,
    first_ts: Option<Ts>,
    /// Time of the oldest notice or sweep held (`Ts::MAX`: none).
    expire_from: Ts,
    /// The next time an expiry or a depth sample is due.
    next_due: Ts,
}

/// The baseline of swept volume looks back this many cascade windows.
pub const BASELINE_WINDOWS: f64 = 20.0;

impl Default for CascadeDetector {
    fn default() -> Self {
        CascadeDetector {
            dirs: Default::default(),
            depth_max: Default::default(),
            next_sample: Ts::MIN,
            liquidations_seen: false,
            swept: 0.0,
            swept_ts: 0,
            first_ts: None,
            expire_from: Ts::MAX,
            next_due: Ts::MIN,
        }
    }
}

fn di(d: i8) -> usize {
    usize::from(d < 0)
}

impl CascadeDetector {
    /// Entries held.
    pub fn state_size(&self) -> usize {
        self.dirs
            .iter()
            .map(|d| d.sweeps.len() + d.liqs.len())
            .sum::<usize>()
            + self.depth_max[0].len()
            + self.depth_max[1].len()
    }

    /// Every event: liquidation notices, expiry and depth samples.
    // One call site (`Detectors::on_event`): inlined there whatever the
    // codegen-unit split, so the instruction gate does not move with it.
    #[inline]
    pub(crate) fn on_event(&mut self, cfg: &DetectConfig, cx: &Ctx<'_>) {
        let ev = cx.ev;
        let now = ev.ts;
        let w = cfg.cascade_window_ns;
        if ev.kind == kind::LIQUIDATION {
            if (ev.side == 1 || ev.side == -1) && ev.size > 0 {
                self.liquidations_seen = true;
                let d = &mut self.dirs[di(-ev.side)];
                d.liqs.push_back((now, ev.size));
                d.liq_volume = d.liq_volume.saturating_add(ev.size);
                self.held(now, w);
            }
        } else if ev.kind == kind::CLEAR {
            self.depth_max = Default::default();
        }
        // Expiry and sampling only when one is due: the common event pays
        // one compare.
        if now < self.next_due {
            return;
        }
        self.first_ts.get_or_insert(now);
        if now.saturating_sub(w) > self.expire_from {
            self.expire(now, w);
        }
        if now >= self.next_sample {
            self.next_sample = now.saturating_add(SAMPLE_NS);
            let band = cfg.collapse_band_steps * cfg.tick;
            for (k, side) in [Side::Bid, Side::Ask].into_iter().enumerate() {
                self.depth_max[k].push(now, w, cx.l2.depth_within(side, band));
            }
        }
        self.next_due = self
            .next_sample
            .min(self.expire_from.saturating_add(w).saturating_add(1));
    }

    /// An entry of time `t` is held: its expiry is due after `t + w`.
    fn held(&mut self, t: Ts, w: i64) {
        self.expire_from = self.expire_from.min(t);
        self.next_due = self.next_due.min(t.saturating_add(w).saturating_add(1));
    }

    /// Drops the notices and sweeps older than the window `w` (sweeps join
    /// the baseline) and notes when the next one is due.
    fn expire(&mut self, now: Ts, w: i64) {
        let tau = BASELINE_WINDOWS * w as f64;
        let mut oldest = Ts::MAX;
        for d in &mut self.dirs {
            while d
                .liqs
                .front()
                .is_some_and(|&(t, _)| now.saturating_sub(t) > w)
            {
                if let Some((_, q)) = d.liqs.pop_front() {
                    d.liq_volume -= q;
                }
            }
            while let Some(s) = d
                .sweeps
                .front()
                .filter(|s| now.saturating_sub(s.last_ts) > w)
                .copied()
            {
                d.sweeps.pop_front();
                // Leaving the window, the sweep joins the baseline.
                let dt = s.last_ts.saturating_sub(self.swept_ts).max(0) as f64;
                self.swept = self.swept * (-dt / tau).exp() + s.volume as f64;
                self.swept_ts = self.swept_ts.max(s.last_ts);
            }
            if d.sweeps.is_empty() {
                d.fired = false;
            }
            oldest = oldest
                .min(d.liqs.front().map_or(Ts::MAX, |x| x.0))
                .min(d.sweeps.front().map_or(Ts::MAX, |x| x.last_ts));
        }
        self.expire_from = oldest;
    }

    /// A sweep closed (`s`), seen at the event `cx`.
    pub(crate) fn on_sweep(
        &mut self,
        cfg: &DetectConfig,
        s: Closed,
        cx: &Ctx<'_>,
        out: &mut Vec<Alert>,
    ) {
        // Only sweeps large for this market take part: the everyday 3-level
        // taker of a thin book is not a liquidation.
        if s.typical <= 0.0 || (s.volume as f64) < cfg.cascade_min_ratio * s.typical {
            return;
        }
        // The market's usual swept volume per window: the sweeps that left
        // the window, decayed to its start, over the history before it
        // (bias-corrected while that is shorter than the baseline). With
        // less than a window of history there is no usual yet.
        let w = cfg.cascade_window_ns;
        let tau = BASELINE_WINDOWS * w as f64;
        let start = s.last_ts.saturating_sub(w);
        let history = start.saturating_sub(self.first_ts.unwrap_or(start)).max(0) as f64;
        let usual = if history >= w as f64 {
            let decayed =
                self.swept * (-(start.saturating_sub(self.swept_ts).max(0) as f64) / tau).exp();
            decayed / (tau * (1.0 - (-history / tau).exp())) * w as f64
        } else {
            0.0
        };
        let liquidations_seen = self.liquidations_seen;
        let opposing: Qty = self.dirs[di(-s.dir)].sweeps.iter().map(|x| x.volume).sum();
        self.held(s.last_ts, cfg.cascade_window_ns);
        let d = &mut self.dirs[di(s.dir)];
        d.sweeps.push_back(s);
        let n = d.sweeps.len();
        if d.fired || (n as i64) < cfg.cascade_min_sweeps {
            return;
        }
        if liquidations_seen && d.liqs.is_empty() {
            return;
        }
        let (first, last) = (d.sweeps[0], s);
        let dir = i64::from(s.dir);
        if (last.last_price - first.first_price) * dir <= 0 {
            return;
        }
        let total: Qty = d.sweeps.iter().map(|x| x.volume).sum();
        // A two-way market is not a cascade: the other direction swept less
        // than half as much over the window.
        if 2 * opposing >= total {
            return;
        }
        // Far more sweeping than this market's usual (a thin book is swept
        // all day; a cascade is what stands out of that).
        let excess = total as f64 / usual.max(1.0);
        if excess < cfg.cascade_min_excess {
            return;
        }
        // The swept volume *rate*: sweeps 1..=h arriving over the time from
        // sweep 0 to sweep h, against sweeps h+1.. over the time from h on
        // — forced orders come bigger, or faster, or both (a book too thin
        // to give bigger fills still shows the pace).
        let h = (n - 1) / 2;
        let at = |k: usize| d.sweeps[k].last_ts;
        let vol =
            |r: std::ops::Range<usize>| -> f64 { d.sweeps.range(r).map(|x| x.volume as f64).sum() };
        let early = vol(1..h + 1) / (at(h).saturating_sub(at(0)).max(1) as f64);
        let late = vol(h + 1..n) / (at(n - 1).saturating_sub(at(h)).max(1) as f64);
        let accel = late / early.max(f64::MIN_POSITIVE);
        if accel < cfg.cascade_min_accel {
            return;
        }
        // The side being hit: sellers hit bids.
        let hit = if s.dir > 0 { Side::Ask } else { Side::Bid };
        let k = if hit == Side::Bid { 0 } else { 1 };
        let peak = self.depth_max[k].get().map_or(0, |x| x.1);
        let depth = cx.l2.depth_within(hit, cfg.collapse_band_steps * cfg.tick);
        if peak <= 0 {
            return;
        }
        let drop = 1.0 - depth as f64 / peak as f64;
        if drop < cfg.cascade_depth_drop {
            return;
        }
        d.fired = true;
        let volume: Qty = total;
        let liq = d.liq_volume;
        let liq_frac = (liq as f64 / volume.max(1) as f64).min(1.0);
        // More sweeps, faster growth, deeper collapse and liquidations in it
        // rank higher (3 sweeps, 1.5x, 60% drop ~0.55).
        let x = (n as f64 - 1.0) * (1.0 + accel).ln() * drop * (1.0 + liq_frac);
        let score = 1.0 - (-x).exp();
        out.push(Alert {
            ts: cx.ev.ts,
            kind: alert_kind::LIQUIDATION_CASCADE,
            side: s.dir,
            price: last.last_price,
            order_id: 0,
            score: score.clamp(f64::MIN_POSITIVE, 1.0),
            size: volume,
            size_ratio: accel,
            lifetime_ns: last.last_ts.saturating_sub(first.first_ts),
            fill_frac: drop,
            opp_volume: liq,
            price_move: ((last.last_price - first.first_price).abs() / cfg.tick.max(1)) as f64,
            count: n as i64,
            event_index: 0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testkit::{only, Market, MS};
    use crate::types::Price;
    use crate::L2Book;

    fn only_cascade() -> DetectConfig {
        only("liquidation_cascade")
    }

    /// Bids 980..=999 and asks 1001..=1020, 10 lots each; 200 one-lot
    /// prints at the touch 10 ms apart (typical print 1 lot).
    fn market(cfg: DetectConfig) -> Market<L2Book> {
        let mut m = Market::<L2Book>::l2(cfg, 0);
        for p in 980..=999 {
            m.ev(kind::SET_LEVEL, 1, p, 10, 0)
                .ev(kind::SET_LEVEL, -1, p + 21, 10, 0);
        }
        for i in 0..200 {
            let (side, p) = if i % 2 == 0 { (1, 999) } else { (-1, 1001) };
            m.wait(10 * MS).ev(kind::TRADE, side, p, 1, 0);
        }
        m
    }

    /// A sell sweep 2 s after the last event: every listed bid level traded
    /// out and removed, at one timestamp.
    fn sell_sweep(m: &mut Market<L2Book>, levels: &[Price]) {
        m.wait(2_000 * MS);
        for &p in levels {
            m.ev(kind::TRADE, 1, p, 10, 0)
                .ev(kind::SET_LEVEL, 1, p, 0, 0);
        }
    }

    /// Bids behind the sweeps pulled to 1 lot (the book thins).
    fn thin(m: &mut Market<L2Book>, levels: std::ops::RangeInclusive<Price>) {
        m.wait(MS);
        for p in levels {
            m.ev(kind::SET_LEVEL, 1, p, 1, 0);
        }
    }

    fn close(m: &mut Market<L2Book>) -> Vec<Alert> {
        m.wait(1_000 * MS).ev(kind::TRADE, -1, 1001, 1, 0);
        m.alerts(alert_kind::LIQUIDATION_CASCADE)
    }

    #[test]
    fn growing_sell_sweeps_into_a_thinning_bid_are_a_cascade() {
        let mut m = market(only_cascade());
        sell_sweep(&mut m, &[999, 998, 997]);
        thin(&mut m, 980..=986);
        sell_sweep(&mut m, &[996, 995, 994, 993]);
        sell_sweep(&mut m, &[992, 991, 990, 989, 988]);
        let a = close(&mut m);
        assert_eq!(a.len(), 1, "{a:?}");
        let a = a[0];
        assert_eq!((a.side, a.price, a.count, a.size), (-1, 988, 3, 120));
        // Swept per second after the middle sweep (50 lots in 2 s) / up to
        // it (40 lots in 2.001 s).
        let accel = (50.0 / 2_000.0) / (40.0 / 2_001.0);
        assert!((a.size_ratio - accel).abs() < 1e-12, "{}", a.size_ratio);
        // Peak band depth 110 lots (989..=999); now 980..=987: 7·1 + 10.
        assert!(
            (a.fill_frac - (1.0 - 17.0 / 110.0)).abs() < 1e-12,
            "{}",
            a.fill_frac
        );
        assert_eq!((a.price_move, a.opp_volume), (11.0, 0));
        assert_eq!(a.lifetime_ns, 4_001 * MS);
        assert!(a.score > 0.5 && a.score <= 1.0, "{}", a.score);
    }

    #[test]
    fn what_is_not_a_cascade() {
        // Slowing sweeps (50, 40, 30 lots).
        let mut m = market(only_cascade());
        thin(&mut m, 980..=984);
        sell_sweep(&mut m, &[999, 998, 997, 996, 995]);
        sell_sweep(&mut m, &[994, 993, 992, 991]);
        sell_sweep(&mut m, &[990, 989, 988]);
        assert!(close(&mut m).is_empty());
        // Depth refilled behind each sweep: no collapse.
        let mut m = market(only_cascade());
        for lv in [
            &[999, 998, 997][..],
            &[996, 995, 994, 993],
            &[992, 991, 990, 989, 988],
        ] {
            sell_sweep(&mut m, lv);
            for &p in lv {
                m.ev(kind::SET_LEVEL, 1, p - 20, 10, 0);
            }
        }
        assert!(close(&mut m).is_empty());
        // A buy sweep in between: a two-way market.
        let mut m = market(only_cascade());
        sell_sweep(&mut m, &[999, 998, 997]);
        thin(&mut m, 980..=986);
        sell_sweep(&mut m, &[996, 995, 994, 993]);
        m.wait(2_000 * MS);
        for p in 1001..=1006 {
            m.ev(kind::TRADE, -1, p, 10, 0)
                .ev(kind::SET_LEVEL, -1, p, 0, 0);
        }
        sell_sweep(&mut m, &[992, 991, 990, 989, 988]);
        assert!(close(&mut m).is_empty());
        // A market swept like this all day: ten minutes of 30-lot sweeps
        // both ways every second (the levels re-posted), a quiet window, then
        // the story of the first test — 120 lots in 4 s, a seventh of the
        // usual 900 per window.
        let all_day = |cfg: DetectConfig| {
            let mut m = market(cfg);
            for i in 0..600 {
                m.wait(1_000 * MS);
                let (side, ps) = if i % 2 == 0 {
                    (1, [999, 998, 997])
                } else {
                    (-1, [1001, 1002, 1003])
                };
                for p in ps {
                    m.ev(kind::TRADE, side, p, 10, 0)
                        .ev(kind::SET_LEVEL, side, p, 0, 0);
                }
                for p in ps {
                    m.ev(kind::SET_LEVEL, side, p, 10, 0);
                }
            }
            m.wait(35_000 * MS);
            sell_sweep(&mut m, &[999, 998, 997]);
            thin(&mut m, 980..=986);
            sell_sweep(&mut m, &[996, 995, 994, 993]);
            sell_sweep(&mut m, &[992, 991, 990, 989, 988]);
            close(&mut m)
        };
        assert!(all_day(only_cascade()).is_empty());
        let no_baseline = DetectConfig {
            cascade_min_excess: 0.0,
            ..only_cascade()
        };
        assert_eq!(all_day(no_baseline).len(), 1);
        // Sweeps more than the window apart.
        let cfg = DetectConfig {
            cascade_window_ns: 3_000 * MS,
            ..only_cascade()
        };
        let mut m = market(cfg);
        sell_sweep(&mut m, &[999, 998, 997]);
        thin(&mut m, 980..=986);
        m.wait(2_000 * MS);
        sell_sweep(&mut m, &[996, 995, 994, 993]);
        sell_sweep(&mut m, &[992, 991, 990, 989, 988]);
        assert!(close(&mut m).is_empty());
    }

    #[test]
    fn liquidation_notices_are_required_once_the_feed_has_them() {
        let story = |m: &mut Market<L2Book>, notice: Option<i8>| {
            sell_sweep(m, &[999, 998, 997]);
            thin(m, 980..=986);
            if let Some(side) = notice {
                m.ev(kind::LIQUIDATION, side, 990, 25, 0);
            }
            sell_sweep(m, &[996, 995, 994, 993]);
            sell_sweep(m, &[992, 991, 990, 989, 988]);
            close(m)
        };
        // A feed that has shown a notice (a short liquidated, long ago) ...
        let mut m = market(only_cascade());
        m.wait(MS).ev(kind::LIQUIDATION, -1, 1005, 3, 0);
        m.wait(60_000 * MS);
        // ... needs one of the cascade's direction (longs: the bid side).
        assert!(story(&mut m, Some(-1)).is_empty());
        let mut m = market(only_cascade());
        m.wait(MS).ev(kind::LIQUIDATION, -1, 1005, 3, 0);
        m.wait(60_000 * MS);
        let a = story(&mut m, Some(1));
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].opp_volume, 25);
        // Notices are not volume: the sweep volume is the same as without.
        assert_eq!(a[0].size, 120);
    }
}
