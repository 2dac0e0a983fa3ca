//! The alert budget: each detector's candidates are ranked by score against
//! that detector's own recent candidates, and only the strongest — about
//! `alert_budget_per_hour` of them per hour of market time — become alerts.
//!
//! Why: a fixed threshold that is quiet on one market floods another. At the
//! tuned thresholds the phantom detector raised 13,231 alerts per hour on
//! Binance USD-M BTCUSDT and none on NASDAQ; nobody reviews 13,000 alerts an
//! hour. The budget makes the thresholds *relative to the instrument's own
//! flow*: a candidate is kept when fewer than the budget's worth of earlier
//! candidates (time-decayed over an hour) scored at least as high, and while
//! the alerts already kept in the last hour (time-decayed) are within the
//! budget. On a market where candidates are rare every one passes; where
//! they are common only the top of the score distribution does.
//!
//! Causal and deterministic: a decision uses only earlier events, so a bulk
//! replay, a streaming book and the engine keep the same alerts. Memory: two
//! fixed arrays per detector kind. Units: times ns, scores in (0, 1].

use super::Alert;
use crate::types::Ts;

/// Score histogram resolution: bins of 1/256 over (0, 1].
const BINS: usize = 256;
/// The decay time constant of the candidate and alert counts (ns; 1 h).
const TAU_NS: f64 = 3.6e12;
/// One hour (ns): the window of the hard bound.
const HOUR_NS: i64 = 3_600_000_000_000;
/// The shortest span the rate is estimated over (ns; 60 s): before a minute
/// of market time has passed, the first candidates are judged as if a
/// minute had (at 120 per hour: the first two pass, then only better ones).
const MIN_SPAN_NS: f64 = 6e10;

/// One detector kind's recent candidates and kept alerts.
#[derive(Clone, Debug)]
struct Ledger {
    /// Decayed candidate counts per score bin, as of `at`.
    bins: [f64; BINS],
    /// Decayed count of alerts kept, as of `at`.
    kept: f64,
    /// Time the counts were last decayed to (ns).
    at: Ts,
    /// Times of the alerts kept in the last hour (ns): the hard bound, at
    /// most `alert_budget_per_hour` entries.
    recent: std::collections::VecDeque<Ts>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            bins: [0.0; BINS],
            kept: 0.0,
            at: Ts::MIN,
            recent: std::collections::VecDeque::new(),
        }
    }
}

/// Per-kind ledgers and the clock they share.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    ledgers: Vec<Ledger>,
    /// First event time the detectors saw (ns): the start of market time.
    start: Option<Ts>,
    /// Candidates dropped by the budget, per alert kind code.
    pub dropped: [u64; super::alert_kind::COUNT],
}

/// A uniform number in [0, 1) fixed by the alert itself (time, price, order,
/// kind): the same alert gets the same draw in every replay.
fn tie_share(a: &Alert) -> f64 {
    let mut z = (a.ts as u64)
        ^ (a.price as u64).rotate_left(21)
        ^ a.order_id.rotate_left(42)
        ^ u64::from(a.kind);
    // splitmix64's finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn bin(score: f64) -> usize {
    ((score * BINS as f64) as usize).min(BINS - 1)
}

impl Budget {
    /// Starts the market clock at the first event (ns).
    #[inline]
    pub fn on_event(&mut self, ts: Ts) {
        if self.start.is_none() {
            self.start = Some(ts);
        }
    }

    /// Keeps or drops `a` under a budget of `per_hour` alerts per hour of
    /// its kind (`per_hour` > 0). Returns true when kept.
    pub fn admit(&mut self, a: &Alert, per_hour: f64) -> bool {
        let k = a.kind as usize % super::alert_kind::COUNT;
        if self.ledgers.len() <= k {
            self.ledgers
                .resize_with(super::alert_kind::COUNT, Ledger::default);
        }
        let start = *self.start.get_or_insert(a.ts);
        let l = &mut self.ledgers[k];
        if l.at != Ts::MIN && a.ts > l.at {
            let f = (-((a.ts - l.at) as f64) / TAU_NS).exp();
            for b in l.bins.iter_mut() {
                *b *= f;
            }
            l.kept *= f;
        }
        l.at = l.at.max(a.ts);
        // The decayed length of market time so far: ∫ e^{-(t-s)/τ} ds.
        let elapsed = (a.ts - start).max(0) as f64;
        let span = (TAU_NS * (1.0 - (-elapsed / TAU_NS).exp())).max(MIN_SPAN_NS);
        let allowed = per_hour * span / 3.6e12;
        let b = bin(a.score);
        // Earlier candidates that scored higher, and a deterministic share of
        // those that scored the same: ties (scores saturate at 1) are thinned
        // evenly instead of the first few taking the whole budget.
        let higher: f64 = l.bins[b + 1..].iter().sum();
        let at_least = higher + tie_share(a) * l.bins[b];
        l.bins[b] += 1.0;
        // The rank rule alone keeps about the budget from a steady flood; the
        // cap makes it a bound. A candidate scoring above everything of the
        // last hour or so may use a second share, so a strong one still
        // passes after weak ones spent the budget.
        let record = higher + l.bins[b] < 1.5;
        let cap = if record { 2.0 } else { 1.0 } * allowed.max(1.0);
        while l.recent.front().is_some_and(|&t| a.ts - t >= HOUR_NS) {
            l.recent.pop_front();
        }
        // ... and never more than the budget within any hour.
        let keep = at_least < allowed
            && l.kept + 1.0 <= cap
            && (l.recent.len() as f64) < per_hour.floor().max(1.0);
        if keep {
            l.kept += 1.0;
            l.recent.push_back(a.ts);
        } else {
            self.dropped[k] += 1;
        }
        keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(ts: Ts, score: f64) -> Alert {
        Alert {
            ts,
            kind: 3,
            score,
            ..Alert::default()
        }
    }

    #[test]
    fn a_flood_is_cut_to_the_budget_and_the_strongest_pass() {
        // 10 candidates a second for 6 minutes, scores cycling 0.01..1.0.
        let mut b = Budget::default();
        b.on_event(0);
        let (mut kept, mut late) = (0, Vec::new());
        for i in 0..3600i64 {
            let s = ((i * 37) % 100 + 1) as f64 / 100.0;
            if b.admit(&alert(i * 100_000_000, s), 120.0) {
                kept += 1;
                if i >= 600 {
                    late.push(s);
                }
            }
        }
        // 6 minutes at 120/h is 12 alerts. The first candidates pass before
        // anything better has been seen (nothing causal can know better);
        // after the first minute only the top of the distribution does.
        assert!((5..=14).contains(&kept), "{kept}");
        assert!(
            !late.is_empty() && late.iter().all(|&s| s >= 0.95),
            "{late:?}"
        );
        assert_eq!(b.dropped[3], 3600 - kept as u64);
    }

    #[test]
    fn rare_candidates_all_pass() {
        // one candidate every 2 minutes for 5 hours: 30/h, under 120/h
        let mut b = Budget::default();
        b.on_event(0);
        let n = 150;
        let kept = (0..n)
            .filter(|&i| b.admit(&alert(i * 120_000_000_000, 0.3), 120.0))
            .count();
        assert_eq!(kept as i64, n);
    }

    #[test]
    fn a_strong_candidate_passes_a_flood_of_weak_ones() {
        let mut b = Budget::default();
        b.on_event(0);
        // an hour of weak candidates, 1 per second
        for i in 0..3600i64 {
            b.admit(&alert(i * 1_000_000_000, 0.2), 120.0);
        }
        assert!(b.admit(&alert(3_601_000_000_000, 0.9), 120.0));
        assert!(!b.admit(&alert(3_602_000_000_000, 0.2), 120.0));
    }
}
