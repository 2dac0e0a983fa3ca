//! L2 phantom liquidity and L2 layering, for feeds without order ids.
//!
//! A level increase of at least `phantom_min_ratio` × the typical increment,
//! within `near_steps` of its side's best, is tracked with the size the level
//! had before it and the volume traded at that price since. If within
//! `max_lifetime_ns` the level falls back to (almost) where it was — at least
//! 80% of the increase gone — while at most `max_fill` of the increase
//! traded there, the size was **phantom**: shown and withdrawn. Three or more
//! phantom levels at distinct prices of one side within `layer_window_ns`
//! are reported as **layering** too.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::{alert_kind, side_of, steps_behind, Alert, Ctx, DetectConfig};
use crate::types::{kind, Price, Qty, Side, Ts};

#[derive(Clone, Copy, Debug)]
struct Rise {
    ts: Ts,
    base: Qty,
    added: Qty,
    traded: Qty,
    ratio: f64,
}

/// Phantom-level state.
#[derive(Clone, Debug, Default)]
pub struct PhantomDetector {
    live: FxHashMap<(i8, Price), Rise>,
    expiry: VecDeque<(Ts, (i8, Price))>,
    recent: [VecDeque<(Ts, Price, Qty)>; 2],
}

impl PhantomDetector {
    /// Records held.
    pub fn state_size(&self) -> usize {
        self.live.len() + self.recent[0].len() + self.recent[1].len()
    }

    pub(crate) fn on_event(
        &mut self,
        cfg: &DetectConfig,
        typ: f64,
        cx: &Ctx<'_>,
        out: &mut Vec<Alert>,
    ) {
        let ev = cx.ev;
        let now = ev.ts;
        let live = &mut self.live;
        super::expire(&mut self.expiry, now, cfg.max_lifetime_ns, |t0, key| {
            if live.get(&key).is_some_and(|r| r.ts == t0) {
                live.remove(&key);
            }
        });
        if ev.kind == kind::TRADE || ev.kind == kind::EXECUTE {
            // A print's side is the resting side when the feed gives it;
            // otherwise it may have hit either side at that price.
            let sides: &[i8] = if ev.side == 0 {
                &[1, -1]
            } else {
                std::slice::from_ref(&ev.side)
            };
            for &s in sides {
                if let Some(r) = self.live.get_mut(&(s, ev.price)) {
                    r.traded += ev.size;
                }
            }
        }
        if ev.kind == kind::CLEAR {
            self.live.clear();
            self.expiry.clear();
            return;
        }
        for c in [cx.changes.first, cx.changes.second].iter().flatten() {
            let Some(side) = side_of(c.side) else {
                continue;
            };
            let key = (c.side, c.price);
            if c.new_qty > c.prev_qty {
                let added = c.new_qty - c.prev_qty;
                if typ <= 0.0 {
                    continue;
                }
                let ratio = added as f64 / typ;
                let best = if c.prev_best_qty > 0 {
                    c.prev_best_price
                } else {
                    c.price
                };
                if ratio >= cfg.phantom_min_ratio
                    && steps_behind(side, c.price, best, cfg.tick) <= cfg.near_steps
                    && !self.live.contains_key(&key)
                {
                    self.live.insert(
                        key,
                        Rise {
                            ts: now,
                            base: c.prev_qty,
                            added,
                            traded: 0,
                            ratio,
                        },
                    );
                    self.expiry.push_back((now, key));
                }
            } else if let Some(r) = self.live.get(&key).copied() {
                let gone = r.base + r.added - c.new_qty;
                if gone * 5 >= r.added * 4 {
                    self.live.remove(&key);
                    let fill = r.traded as f64 / r.added as f64;
                    if fill <= cfg.max_fill {
                        self.emit(cfg, cx, side, c.price, &r, fill, out);
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        cfg: &DetectConfig,
        cx: &Ctx<'_>,
        side: Side,
        price: Price,
        r: &Rise,
        fill: f64,
        out: &mut Vec<Alert>,
    ) {
        let now = cx.ev.ts;
        let life = now - r.ts;
        let quick = 1.0 - life as f64 / cfg.max_lifetime_ns as f64;
        let big = (r.ratio / (2.0 * cfg.phantom_min_ratio)).min(1.0);
        if cfg.phantom {
            out.push(Alert {
                ts: now,
                kind: alert_kind::PHANTOM,
                side: side as i8,
                price,
                score: (0.5 * (quick + big)).clamp(1e-6, 1.0),
                size: r.added,
                size_ratio: r.ratio,
                lifetime_ns: life,
                fill_frac: fill,
                count: 1,
                ..Alert::default()
            });
        }
        if !cfg.layering || life < cfg.layer_min_lifetime_ns {
            return;
        }
        let q = &mut self.recent[if side == Side::Bid { 0 } else { 1 }];
        while q
            .front()
            .is_some_and(|&(t, _, _)| now - t > cfg.layer_window_ns)
        {
            q.pop_front();
        }
        q.push_back((now, price, r.added));
        let mut prices: Vec<Price> = q.iter().map(|e| e.1).collect();
        prices.sort_unstable();
        prices.dedup();
        if prices.len() >= cfg.layer_min_orders {
            let size = q.iter().map(|e| e.2).sum();
            let first = q.front().map_or(now, |e| e.0);
            out.push(Alert {
                ts: now,
                kind: alert_kind::LAYERING,
                side: side as i8,
                price,
                score: (prices.len() as f64 / (2.0 * cfg.layer_min_orders as f64)).clamp(0.5, 1.0),
                size,
                size_ratio: r.ratio,
                lifetime_ns: now - first,
                count: prices.len() as i64,
                ..Alert::default()
            });
            q.clear();
        }
    }
}
