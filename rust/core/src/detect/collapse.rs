//! Depth collapse / liquidity void: the size resting within
//! `collapse_band_steps` of each side's best, summed over both sides, falls
//! to at most `1 - collapse_drop` of its maximum over the last
//! `collapse_window_ns`. Depth is sampled at most once per
//! `collapse_sample_ns` (a band sum walks the levels in the band) and the
//! window maximum is kept with a monotonic deque: O(1) amortised per event,
//! memory bounded by window / sample samples. After an alert the detector
//! re-arms once depth recovers to half the drop.

use super::{alert_kind, Alert, Ctx, DetectConfig, WindowMax};
use crate::types::{Qty, Side, Ts};

/// Depth-collapse state.
#[derive(Clone, Debug, Default)]
pub struct CollapseDetector {
    next_sample: Ts,
    maxq: WindowMax,
    armed: bool,
    started: bool,
    /// Per side [bid, ask]: the best price the band is anchored to and the
    /// size within the band, kept incrementally from the change records
    /// (a full band sum only when that side's best moves).
    side: [(Option<i64>, Qty); 2],
    /// Sides to re-sum (and re-anchor) from the book at the next sample.
    side_stale: [bool; 2],
}

impl CollapseDetector {
    /// Samples held.
    pub fn state_size(&self) -> usize {
        self.maxq.len()
    }

    // One call site (`Detectors::on_event`): inlined there whatever the
    // codegen-unit split, so the instruction gate does not move with it.
    #[inline]
    pub(crate) fn on_event(
        &mut self,
        cfg: &DetectConfig,
        typ: f64,
        cx: &Ctx<'_>,
        out: &mut Vec<Alert>,
    ) {
        let now = cx.ev.ts;
        if !self.started || cx.ev.kind == crate::types::kind::CLEAR {
            self.side_stale = [true; 2];
        }
        if !self.started {
            self.started = true;
            self.armed = true;
            self.next_sample = now;
        }
        let band = cfg.collapse_band_steps * cfg.tick;
        // A side whose best moved is re-summed at the next sample (and takes
        // no deltas until then: the re-sum includes them).
        for c in cx.changes.iter() {
            let k = if c.side == 1 { 0 } else { 1 };
            let best = (c.new_best_qty > 0).then_some(c.new_best_price);
            if self.side_stale[k] {
                continue;
            }
            if best != self.side[k].0 {
                self.side_stale[k] = true;
            } else if let Some(b) = best {
                if (c.price - b).abs() <= band {
                    self.side[k].1 += c.new_qty - c.prev_qty;
                }
            }
        }
        if now < self.next_sample {
            return;
        }
        self.next_sample = now + cfg.collapse_sample_ns.max(1);
        for (k, sd) in [Side::Bid, Side::Ask].into_iter().enumerate() {
            if std::mem::take(&mut self.side_stale[k]) {
                self.side[k] = (cx.l2.best(sd).map(|b| b.0), cx.l2.depth_within(sd, band));
            }
        }
        let d = self.side[0].1 + self.side[1].1;
        self.maxq.push(now, cfg.collapse_window_ns, d);
        let (t_max, peak) = self.maxq.get().unwrap_or((now, d));
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
                // Depth lost (lots) and the fraction lost; the window's
                // peak depth is size / size_ratio.
                size: peak - d,
                size_ratio: frac,
                lifetime_ns: now - t_max,
                ..Alert::default()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Book;
    use crate::detect::Ctx;
    use crate::signals::Top;
    use crate::{synth, L3Book};

    #[test]
    fn incremental_band_depth_equals_a_fresh_sum() {
        let evs = synth::l3_stream(30_000, 9, 1_000_000, 300);
        let cfg = DetectConfig {
            collapse_band_steps: 3,
            collapse_sample_ns: 1, // every event samples: the sums are checked each time
            ..DetectConfig::default()
        };
        let mut book = L3Book::new();
        let mut det = CollapseDetector::default();
        let mut out = Vec::new();
        let band = cfg.collapse_band_steps * cfg.tick;
        for (i, ev) in evs.iter().enumerate() {
            let before = Top::of(book.l2());
            let Ok(ch) = book.apply_event(ev) else {
                continue;
            };
            let cx = Ctx {
                ev,
                index: i as u64,
                changes: &ch,
                before: &before,
                l2: book.l2(),
            };
            det.on_event(&cfg, 100.0, &cx, &mut out);
            let want = [
                book.l2().depth_within(Side::Bid, band),
                book.l2().depth_within(Side::Ask, band),
            ];
            assert_eq!([det.side[0].1, det.side[1].1], want, "event {i}");
        }
    }
}
