//! Depth collapse / liquidity void: the size resting within
//! `collapse_band_steps` of each side's best, summed over both sides, falls
//! to at most `1 - collapse_drop` of its maximum over the last
//! `collapse_window_ns`. Depth is sampled at most once per
//! `collapse_sample_ns` (a band sum walks the levels in the band) and the
//! window maximum is kept with a monotonic deque: O(1) amortised per event,
//! memory bounded by window / sample samples. After an alert the detector
//! re-arms once depth recovers to half the drop.

use std::collections::VecDeque;

use super::{alert_kind, Alert, Ctx, DetectConfig};
use crate::types::{Qty, Side, Ts};

/// Depth-collapse state.
#[derive(Clone, Debug, Default)]
pub struct CollapseDetector {
    next_sample: Ts,
    maxq: VecDeque<(Ts, Qty)>,
    armed: bool,
    started: bool,
}

impl CollapseDetector {
    /// Samples held.
    pub fn state_size(&self) -> usize {
        self.maxq.len()
    }

    pub(crate) fn on_event(
        &mut self,
        cfg: &DetectConfig,
        typ: f64,
        cx: &Ctx<'_>,
        out: &mut Vec<Alert>,
    ) {
        let now = cx.ev.ts;
        if !self.started {
            self.started = true;
            self.armed = true;
            self.next_sample = now;
        }
        if now < self.next_sample {
            return;
        }
        self.next_sample = now + cfg.collapse_sample_ns.max(1);
        let band = cfg.collapse_band_steps * cfg.tick;
        let d = cx.l2.depth_within(Side::Bid, band) + cx.l2.depth_within(Side::Ask, band);
        while self
            .maxq
            .front()
            .is_some_and(|&(t, _)| now - t > cfg.collapse_window_ns)
        {
            self.maxq.pop_front();
        }
        while self.maxq.back().is_some_and(|&(_, q)| q <= d) {
            self.maxq.pop_back();
        }
        self.maxq.push_back((now, d));
        let (t_max, peak) = self.maxq.front().copied().unwrap_or((now, d));
        if peak <= 0 {
            return;
        }
        let frac = 1.0 - d as f64 / peak as f64;
        if !self.armed {
            if frac <= cfg.collapse_drop / 2.0 {
                self.armed = true;
            }
            return;
        }
        if frac >= cfg.collapse_drop
            && typ > 0.0
            && peak as f64 >= cfg.collapse_min_depth_ratio * typ
        {
            self.armed = false;
            out.push(Alert {
                ts: now,
                kind: alert_kind::DEPTH_COLLAPSE,
                side: 0,
                price: cx.mid2_after().map_or(0, |m| m / 2),
                score: frac.clamp(1e-6, 1.0),
                size: peak - d,
                size_ratio: frac,
                lifetime_ns: now - t_max,
                count: peak,
                ..Alert::default()
            });
        }
    }
}
