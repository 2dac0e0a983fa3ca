//! Sweeps: one aggressive order taking liquidity at several price levels
//! within moments.
//!
//! A *run* is a sequence of prints of one aggressor direction (L3 books:
//! `EXECUTE` events, the visible fills; L2 feeds: `TRADE` prints with a
//! resting side), each at the same price as the previous one or further in
//! the aggressor's direction (a buyer lifts the asks upward, a seller hits
//! the bids downward), and at the same time: on L3 books exactly (an order
//! feed stamps one order's fills with one time — LOBSTER's nanosecond,
//! the CME match event's), on L2 feeds at most `sweep_gap_ns` after the
//! previous print (Binance prints one taker order's fills with one
//! millisecond trade time; two takers within it cannot be told apart from
//! prints alone, and count as one run).
//!
//! A run closes at the first event that breaks it — a print of the other
//! direction, a print back behind the run's last price, or any event more
//! than `sweep_gap_ns` after its last print — and is reported then, with
//! its whole evidence, when it traded at `sweep_min_levels` distinct prices
//! and its volume reached `sweep_min_ratio` × the typical print. A run
//! still open when the input ends is not reported (nothing closed it).
//!
//! The yardstick is the running median print size (learning at most one
//! size per 5 ms, like the other detectors' typical order) as it stood
//! before the run's first print: a sweep is large relative to what trades,
//! whatever the market, and never sets its own bar.
//!
//! Evidence: `side` the aggressor (1 buyer, -1 seller); `price` the last
//! (furthest) price; `size` the volume (lots); `size_ratio` volume /
//! typical print; `count` distinct prices; `lifetime_ns` first to last
//! print; `price_move` steps from the first price to the last (positive).
//! O(1) per event and O(1) memory.

use super::{alert_kind, Alert, Ctx, DetectConfig, Typical};
use crate::types::{kind, Price, Qty, Ts};

/// A run of prints; once closed and qualified, a sweep (what the
/// liquidation-cascade detector reads). Prices ticks, times ns, sizes lots.
#[derive(Clone, Copy, Debug)]
pub struct Closed {
    /// Aggressor direction: 1 buyer, -1 seller.
    pub dir: i8,
    /// First and last print times.
    pub first_ts: Ts,
    /// Last print time.
    pub last_ts: Ts,
    /// First print price.
    pub first_price: Price,
    /// Last (furthest) print price.
    pub last_price: Price,
    /// Distinct prices traded (the run's prices are monotone, so a new
    /// price is a new level).
    pub levels: i64,
    /// Volume.
    pub volume: Qty,
    /// The typical print before the run's first print (lots): the run is
    /// judged against it, so its own prints never set its bar.
    pub typical: f64,
}

type Run = Closed;

/// Sweep state.
#[derive(Clone, Debug)]
pub struct SweepDetector {
    run: Option<Run>,
    /// Typical print size (lots).
    prints: Typical,
}

impl Default for SweepDetector {
    fn default() -> Self {
        SweepDetector {
            run: None,
            prints: Typical::new(0.001),
        }
    }
}

impl SweepDetector {
    /// Processes one event; returns the sweep it closed, if any (a sweep
    /// alert is pushed only when `cfg.sweep`).
    // One call site (`Detectors::on_event`): inlined there whatever the
    // codegen-unit split, so the instruction gate does not move with it.
    #[inline]
    pub(crate) fn on_event(
        &mut self,
        cfg: &DetectConfig,
        l3: bool,
        cx: &Ctx<'_>,
        out: &mut Vec<Alert>,
    ) -> Option<Closed> {
        let ev = cx.ev;
        let gap = if l3 { 0 } else { cfg.sweep_gap_ns };
        let mut closed = None;
        if self
            .run
            .is_some_and(|r| ev.ts.saturating_sub(r.last_ts) > gap)
        {
            closed = self.close(cfg, out);
        }
        let print = if l3 { kind::EXECUTE } else { kind::TRADE };
        if ev.kind != print || ev.size <= 0 || (ev.side != 1 && ev.side != -1) {
            return closed;
        }
        // The aggressor is opposite the resting side.
        let dir = -ev.side;
        match self.run.as_mut() {
            Some(r) if r.dir == dir && (ev.price - r.last_price) * i64::from(dir) >= 0 => {
                if ev.price != r.last_price {
                    r.levels += 1;
                    r.last_price = ev.price;
                }
                r.last_ts = ev.ts;
                r.volume = r.volume.saturating_add(ev.size);
            }
            _ => {
                closed = closed.or(self.close(cfg, out));
                self.run = Some(Run {
                    dir,
                    first_ts: ev.ts,
                    last_ts: ev.ts,
                    first_price: ev.price,
                    last_price: ev.price,
                    levels: 1,
                    volume: ev.size,
                    typical: self.prints.get(),
                });
            }
        }
        self.prints.add(ev.size, ev.ts);
        closed
    }

    /// Ends the open run now (end of a stream), reporting it when it is a
    /// sweep and `cfg.sweep`.
    pub(crate) fn flush(&mut self, cfg: &DetectConfig, out: &mut Vec<Alert>) {
        self.close(cfg, out);
    }

    /// Ends the open run; returns it if it qualifies as a sweep, reporting
    /// it when `cfg.sweep`.
    fn close(&mut self, cfg: &DetectConfig, out: &mut Vec<Alert>) -> Option<Closed> {
        let r = self.run.take()?;
        let typ = r.typical;
        if r.levels < cfg.sweep_min_levels || typ <= 0.0 {
            return None;
        }
        let ratio = r.volume as f64 / typ;
        if ratio < cfg.sweep_min_ratio {
            return None;
        }
        if !cfg.sweep {
            return Some(r);
        }
        // More levels and more volume rank higher; a 3-level, 2x sweep
        // scores ~0.31, a 6-level, 20x one ~0.92.
        let score = 1.0 - (-((r.levels - 1) as f64) * (1.0 + ratio).ln() / 6.0).exp();
        out.push(Alert {
            ts: r.last_ts,
            kind: alert_kind::SWEEP,
            side: r.dir,
            price: r.last_price,
            order_id: 0,
            score: score.clamp(f64::MIN_POSITIVE, 1.0),
            size: r.volume,
            size_ratio: ratio,
            lifetime_ns: r.last_ts - r.first_ts,
            fill_frac: 0.0,
            opp_volume: 0,
            price_move: ((r.last_price - r.first_price).abs() / cfg.tick.max(1)) as f64,
            count: r.levels,
            event_index: 0,
        });
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testkit::{only, Market, MS};
    use crate::{L2Book, L3Book};

    fn only_sweep() -> DetectConfig {
        only("sweep")
    }

    /// An L2 market whose typical print is 1 lot: 200 one-lot prints 10 ms
    /// apart, alternating direction; then `tail` as (ns after the last
    /// background print, resting side, price, size) prints; then a print
    /// 1 s later that closes any run.
    fn l2_run(cfg: DetectConfig, tail: &[(Ts, i8, Price, Qty)]) -> Vec<Alert> {
        let mut m = Market::<L2Book>::l2(cfg, 0);
        for i in 0..200 {
            m.wait(10 * MS)
                .ev(kind::TRADE, if i % 2 == 0 { 1 } else { -1 }, 1000, 1, 0);
        }
        let t0 = m.now;
        for &(dt, side, price, size) in tail {
            m.now = t0 + dt;
            m.ev(kind::TRADE, side, price, size, 0);
        }
        m.wait(1_000 * MS).ev(kind::TRADE, 1, 1000, 1, 0);
        m.alerts(alert_kind::SWEEP)
    }

    #[test]
    fn a_buy_sweep_through_four_asks_is_reported_with_its_evidence() {
        let a = l2_run(
            only_sweep(),
            &[
                (5 * MS, -1, 1001, 2),
                (5 * MS, -1, 1001, 1),
                (5 * MS + 10, -1, 1002, 3),
                (5 * MS + 20, -1, 1003, 2),
                (5 * MS + 30, -1, 1004, 4),
            ],
        );
        assert_eq!(a.len(), 1, "{a:?}");
        let a = a[0];
        assert_eq!((a.side, a.price, a.size, a.count), (1, 1004, 12, 4));
        assert_eq!((a.lifetime_ns, a.price_move), (30, 3.0));
        assert!((a.size_ratio - 12.0).abs() < 1e-9, "{}", a.size_ratio);
        assert!(a.score > 0.5 && a.score <= 1.0);
        // Reported by the event that closed the run (1 s later).
        assert_eq!(a.event_index, 205);
    }

    #[test]
    fn what_is_not_a_sweep() {
        let cases: [&[(Ts, i8, Price, Qty)]; 4] = [
            // two levels only
            &[(5 * MS, -1, 1001, 5), (5 * MS, -1, 1002, 5)],
            // a print back behind the run's last price starts a new run
            &[
                (5 * MS, -1, 1001, 5),
                (5 * MS, -1, 1002, 5),
                (5 * MS, -1, 1001, 5),
                (5 * MS, -1, 1002, 5),
            ],
            // 2 ms between prints: three runs of one level
            &[
                (5 * MS, -1, 1001, 5),
                (7 * MS, -1, 1002, 5),
                (9 * MS, -1, 1003, 5),
            ],
            // a print with no resting side is not part of any run
            &[
                (5 * MS, -1, 1001, 5),
                (5 * MS, 0, 1002, 5),
                (5 * MS, -1, 1001, 5),
            ],
        ];
        for (k, tail) in cases.iter().enumerate() {
            assert!(l2_run(only_sweep(), tail).is_empty(), "case {k}");
        }
        // Three levels, 3 lots: below 5x the typical print.
        let small: &[(Ts, i8, Price, Qty)] = &[
            (5 * MS, -1, 1001, 1),
            (5 * MS, -1, 1002, 1),
            (5 * MS, -1, 1003, 1),
        ];
        assert_eq!(l2_run(only_sweep(), small).len(), 1);
        let cfg = DetectConfig {
            sweep_min_ratio: 5.0,
            ..only_sweep()
        };
        assert!(l2_run(cfg, small).is_empty());
        // The gapped run is one with a 3 ms gap allowed.
        let cfg = DetectConfig {
            sweep_gap_ns: 3 * MS,
            ..only_sweep()
        };
        assert_eq!(l2_run(cfg, cases[2]).len(), 1);
        // A sell sweep: resting bids hit downward.
        let a = l2_run(
            only_sweep(),
            &[
                (5 * MS, 1, 999, 2),
                (5 * MS, 1, 998, 2),
                (5 * MS, 1, 996, 2),
            ],
        );
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].side, a[0].price, a[0].count, a[0].price_move),
            (-1, 996, 3, 3.0)
        );
    }

    #[test]
    fn l3_fills_across_three_price_levels_are_a_sweep() {
        let mut m = Market::<L3Book>::l3(only_sweep(), 0);
        // Asks at 101, 102, 103 (3, 3, 4 lots); one-lot fills of other
        // orders teach the typical print (1 lot).
        m.wait(MS);
        for (id, p, q) in [(1, 101, 3), (2, 102, 3), (3, 103, 4)] {
            m.ev(kind::ADD, -1, p, q, id);
        }
        for i in 0..100 {
            m.wait(10 * MS)
                .ev(kind::ADD, 1, 90, 1, 100 + i)
                .ev(kind::EXECUTE, 1, 90, 1, 100 + i);
        }
        m.wait(10 * MS)
            .ev(kind::EXECUTE, -1, 101, 3, 1)
            .ev(kind::EXECUTE, -1, 102, 3, 2)
            .ev(kind::EXECUTE, -1, 103, 2, 3);
        m.wait(1_000 * MS).ev(kind::ADD, 1, 90, 1, 999);
        let a = m.alerts(alert_kind::SWEEP);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].side, a[0].price, a[0].size, a[0].count),
            (1, 103, 8, 3)
        );
        // On L3, fills 1 ns apart are two orders' (whatever sweep_gap_ns says).
        let mut m = Market::<L3Book>::l3(only_sweep(), 0);
        for (id, p) in [(1, 101), (2, 102), (3, 103)] {
            m.ev(kind::ADD, -1, p, 5, id);
        }
        m.wait(MS)
            .ev(kind::EXECUTE, -1, 101, 5, 1)
            .ev(kind::EXECUTE, -1, 102, 5, 2);
        m.wait(1).ev(kind::EXECUTE, -1, 103, 5, 3);
        m.wait(1_000 * MS).ev(kind::ADD, 1, 90, 1, 999);
        assert!(m.alerts(alert_kind::SWEEP).is_empty());
        // TRADE prints (LOBSTER hidden executions) are not levels on L3.
        let mut m = Market::<L3Book>::l3(only_sweep(), 0);
        for p in [101, 102, 103] {
            m.ev(kind::TRADE, -1, p, 5, 0);
        }
        m.wait(1_000 * MS).ev(kind::ADD, 1, 90, 1, 999);
        assert!(m.alerts(alert_kind::SWEEP).is_empty());
    }
}
