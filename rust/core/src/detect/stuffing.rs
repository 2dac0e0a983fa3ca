//! Quote stuffing: message bursts far above a rolling baseline.
//!
//! Messages are counted in half-windows of `stuffing_bucket_ns / 2`; each
//! time one closes, the window (it and the one before) is compared with an exponentially weighted mean of the
//! earlier buckets (weight 0.05 per bucket, so roughly the last 20): it is a
//! burst when it holds at least `stuffing_min_msgs` messages, at least
//! `stuffing_rate_ratio` × the mean, and cancels outnumber trades
//! `stuffing_min_cancel_ratio` to one. Needs 20 buckets of history first.
//! O(1) per event, constant memory.

use super::{alert_kind, Alert, Ctx, DetectConfig};
use crate::types::{kind, Ts};

/// Quote-stuffing state.
#[derive(Clone, Debug, Default)]
pub struct StuffingDetector {
    bucket: Option<i64>,
    msgs: i64,
    cancels: i64,
    trades: i64,
    /// The previous half-window's counts (msgs, cancels, trades).
    prev: (i64, i64, i64),
    mean: f64,
    buckets_seen: u64,
    mid2: i64,
    fired_now: bool,
    fired_prev: bool,
    /// End of the current half-window (ns): most events compare against
    /// it instead of dividing.
    bucket_end: Ts,
}

const ALPHA: f64 = 0.05;
const WARMUP: u64 = 20;

impl StuffingDetector {
    fn close(&mut self, cfg: &DetectConfig, index_ts: Ts, out: &mut Vec<Alert>) {
        // The window = this half plus the previous one.
        let (msgs, cancels, trades) = (
            self.msgs + self.prev.0,
            self.cancels + self.prev.1,
            self.trades + self.prev.2,
        );
        let m = msgs as f64;
        if self.buckets_seen >= WARMUP {
            let ratio = m / self.mean.max(1.0);
            let ctr = cancels as f64 / (trades as f64 + 1.0);
            if msgs >= cfg.stuffing_min_msgs
                && ratio >= cfg.stuffing_rate_ratio
                && ctr >= cfg.stuffing_min_cancel_ratio
                && !self.fired_prev
            {
                out.push(Alert {
                    ts: index_ts,
                    kind: alert_kind::QUOTE_STUFFING,
                    side: 0,
                    price: self.mid2 / 2,
                    score: (ratio / (4.0 * cfg.stuffing_rate_ratio)).clamp(0.25, 1.0),
                    size: cancels,
                    size_ratio: ratio,
                    lifetime_ns: cfg.stuffing_bucket_ns,
                    fill_frac: trades as f64 / m.max(1.0),
                    // Evidence in the fields' own meanings: cancels (size),
                    // messages (count), trades/messages (fill_frac); the
                    // cancel:trade ratio is size / (fill_frac·count + 1).
                    count: msgs,
                    ..Alert::default()
                });
                self.fired_now = true;
            }
        }
        // A burst enters the baseline clipped, so one storm does not hide the next.
        let x = if self.buckets_seen >= WARMUP {
            m.min(3.0 * self.mean.max(1.0))
        } else {
            m
        };
        self.mean = if self.buckets_seen == 0 {
            x
        } else {
            self.mean + ALPHA * (x - self.mean)
        };
        self.buckets_seen += 1;
        self.prev = (self.msgs, self.cancels, self.trades);
        self.fired_prev = std::mem::take(&mut self.fired_now);
        self.msgs = 0;
        self.cancels = 0;
        self.trades = 0;
    }

    pub(crate) fn on_event(&mut self, cfg: &DetectConfig, cx: &Ctx<'_>, out: &mut Vec<Alert>) {
        let ev = cx.ev;
        let half = (cfg.stuffing_bucket_ns / 2).max(1);
        if self.bucket.is_some() && ev.ts < self.bucket_end {
            self.count(cx);
            return;
        }
        let b = ev.ts.div_euclid(half);
        self.bucket_end = (b + 1).saturating_mul(half);
        match self.bucket {
            Some(cur) if b > cur => {
                // The mid where the window closes (read only at closes).
                if let Some(m) = cx.mid2_before() {
                    self.mid2 = m;
                }
                self.close(cfg, ev.ts, out);
                // Empty half-windows in between count as quiet history: the
                // first two flush the window; the rest only decay the mean,
                // in closed form (sparse feeds have thousands of them).
                let gap = b - cur - 1;
                for _ in 0..gap.min(2) {
                    self.close(cfg, ev.ts, &mut Vec::new());
                }
                if gap > 2 {
                    let k = (gap - 2).min(1 << 20) as i32;
                    self.mean *= (1.0 - ALPHA).powi(k);
                    self.buckets_seen += k as u64;
                }
                self.bucket = Some(b);
            }
            None => self.bucket = Some(b),
            _ => {}
        }
        self.count(cx);
    }

    #[inline]
    fn count(&mut self, cx: &Ctx<'_>) {
        self.msgs += 1;
        match cx.ev.kind {
            kind::CANCEL | kind::DELETE | kind::MODIFY => self.cancels += 1,
            kind::SET_LEVEL => {
                if let Some(c) = cx.changes.first {
                    if c.new_qty < c.prev_qty {
                        self.cancels += 1;
                    }
                }
            }
            kind::EXECUTE | kind::TRADE => self.trades += 1,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Market, MS};
    use super::*;

    /// 3 s of one add/delete pair every 10 ms, then `burst` add/delete
    /// pairs within 20 ms, then quiet.
    fn run(burst: u64, with_trades: bool) -> Vec<Alert> {
        let mut m = Market::l3(DetectConfig::default(), 0);
        m.ev(kind::ADD, 1, 100, 2, 1)
            .ev(kind::ADD, -1, 101, 50_000, 2);
        for i in 0..300 {
            m.wait(10 * MS)
                .ev(kind::ADD, 1, 99, 2, 10 + i)
                .ev(kind::DELETE, 1, 99, 0, 10 + i);
        }
        for i in 0..burst {
            m.wait(20 * MS / burst.max(1) as i64)
                .ev(kind::ADD, 1, 98, 2, 10_000 + i)
                .ev(kind::DELETE, 1, 98, 0, 10_000 + i);
            if with_trades {
                m.ev(kind::EXECUTE, -1, 101, 1, 2);
            }
        }
        m.wait(500 * MS).ev(kind::ADD, 1, 97, 2, 5);
        m.alerts(alert_kind::QUOTE_STUFFING)
    }

    #[test]
    fn a_burst_of_cancels_far_above_the_baseline_is_quote_stuffing() {
        let a = run(400, false);
        assert_eq!(a.len(), 1, "{a:?}");
        let a = a[0];
        assert!(a.count >= 800 && a.size >= 400, "{a:?}");
        assert!(a.size_ratio >= 10.0 && a.fill_frac == 0.0);
        assert_eq!(a.price_move, 0.0);
    }

    #[test]
    fn normal_rates_and_trading_bursts_are_not() {
        assert!(run(5, false).is_empty());
        // as many trades as cancels: a busy market, not stuffing
        assert!(run(400, true).is_empty());
    }
}
