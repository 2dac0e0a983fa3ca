//! Spoofing and layering from L3 order lifecycles.
//!
//! Every ADD that is large (>= the smaller of the spoofing and layering
//! ratios × the typical order size) and near its side's best at entry starts
//! a lifecycle record: entry time, size, fills, the opposite side's
//! cumulative executed volume and the mid at entry. EXECUTEs add to its
//! fills; a CANCEL/DELETE that removes what is left ends it:
//!
//! - **spoofing** when it was large (>= `spoof_min_ratio`), lived at most
//!   `max_lifetime_ns`, filled at most `max_fill`, and at least
//!   `min_opp_volume` lots executed against the *other* side meanwhile;
//! - it also joins its side's list of recent withdrawals, and **layering**
//!   fires when that list holds `layer_min_orders` orders at distinct prices,
//!   all placed and all withdrawn within `layer_window_ns`.
//!
//! Records of orders still resting after `max_lifetime_ns` are dropped (they
//! can no longer qualify), so memory is bounded by the order rate × lifetime.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::{alert_kind, side_of, steps_behind, Alert, Ctx, DetectConfig};
use crate::types::{kind, OrderId, Price, Qty, Side, Ts};

#[derive(Clone, Copy, Debug)]
struct Track {
    ts: Ts,
    side: Side,
    price: Price,
    size: Qty,
    left: Qty,
    filled: Qty,
    ratio: f64,
    opp_exec_at_add: Qty,
    mid2_at_add: Option<i64>,
}

#[derive(Clone, Copy, Debug)]
struct Withdrawn {
    ts_add: Ts,
    ts_cancel: Ts,
    price: Price,
    id: OrderId,
    size: Qty,
}

/// Spoofing + L3 layering state.
#[derive(Clone, Debug, Default)]
pub struct SpoofDetector {
    live: FxHashMap<OrderId, Track>,
    expiry: VecDeque<(Ts, OrderId)>,
    /// Cumulative executed volume against resting bids [0] and asks [1].
    exec: [Qty; 2],
    withdrawn: [VecDeque<Withdrawn>; 2],
}

fn si(s: Side) -> usize {
    match s {
        Side::Bid => 0,
        Side::Ask => 1,
    }
}

impl SpoofDetector {
    /// Records held.
    pub fn state_size(&self) -> usize {
        self.live.len() + self.withdrawn[0].len() + self.withdrawn[1].len()
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
        // Expire records that can no longer qualify.
        let live = &mut self.live;
        super::expire(&mut self.expiry, now, cfg.max_lifetime_ns, |t0, id| {
            if live.get(&id).is_some_and(|t| t.ts == t0) {
                live.remove(&id);
            }
        });
        match ev.kind {
            kind::ADD => self.on_add(cfg, typ, cx),
            kind::EXECUTE | kind::TRADE => {
                if let Some(s) = side_of(ev.side) {
                    self.exec[si(s)] += ev.size;
                }
                if ev.kind == kind::EXECUTE {
                    if let Some(t) = self.live.get_mut(&ev.order_id) {
                        t.filled += ev.size;
                        t.left -= ev.size;
                        if t.left <= 0 {
                            self.live.remove(&ev.order_id);
                        }
                    }
                }
            }
            kind::CANCEL | kind::DELETE => {
                let done = match self.live.get_mut(&ev.order_id) {
                    Some(t) => {
                        t.left = if ev.kind == kind::DELETE {
                            0
                        } else {
                            t.left - ev.size
                        };
                        t.left <= 0
                    }
                    None => false,
                };
                if done {
                    if let Some(t) = self.live.remove(&ev.order_id) {
                        self.on_withdrawn(cfg, cx, ev.order_id, &t, out);
                    }
                }
            }
            kind::MODIFY => {
                // A price change or size-up loses the lifecycle (a new order
                // for priority purposes); a size-down is a partial cancel.
                if let Some(t) = self.live.get_mut(&ev.order_id) {
                    if ev.price != t.price || ev.size > t.left {
                        self.live.remove(&ev.order_id);
                    } else {
                        t.left = ev.size;
                    }
                }
            }
            kind::CLEAR => {
                self.live.clear();
                self.expiry.clear();
            }
            _ => {}
        }
    }

    fn on_add(&mut self, cfg: &DetectConfig, typ: f64, cx: &Ctx<'_>) {
        let ev = cx.ev;
        let Some(side) = side_of(ev.side) else { return };
        if typ <= 0.0 {
            return;
        }
        let ratio = ev.size as f64 / typ;
        if ratio < cfg.spoof_min_ratio.min(cfg.layer_min_ratio) {
            return;
        }
        let best = match side {
            Side::Bid => (cx.before.bid_qty > 0).then_some(cx.before.bid_price),
            Side::Ask => (cx.before.ask_qty > 0).then_some(cx.before.ask_price),
        };
        if let Some(b) = best {
            if steps_behind(side, ev.price, b, cfg.tick) > cfg.near_steps {
                return;
            }
        }
        let opp = match side {
            Side::Bid => 1,
            Side::Ask => 0,
        };
        self.live.insert(
            ev.order_id,
            Track {
                ts: ev.ts,
                side,
                price: ev.price,
                size: ev.size,
                left: ev.size,
                filled: 0,
                ratio,
                opp_exec_at_add: self.exec[opp],
                mid2_at_add: cx.mid2_before(),
            },
        );
        self.expiry.push_back((ev.ts, ev.order_id));
    }

    fn on_withdrawn(
        &mut self,
        cfg: &DetectConfig,
        cx: &Ctx<'_>,
        id: OrderId,
        t: &Track,
        out: &mut Vec<Alert>,
    ) {
        let now = cx.ev.ts;
        let life = now - t.ts;
        let fill = t.filled as f64 / t.size as f64;
        if life > cfg.max_lifetime_ns || fill > cfg.max_fill {
            return;
        }
        let opp = match t.side {
            Side::Bid => 1,
            Side::Ask => 0,
        };
        let opp_volume = self.exec[opp] - t.opp_exec_at_add;
        let dir = t.side as i64; // +1 bid: a bid spoof profits from a rise
        let price_move = match (t.mid2_at_add, cx.mid2_after()) {
            (Some(a), Some(b)) => (b - a) as f64 * dir as f64 / (2.0 * cfg.tick as f64),
            _ => 0.0,
        };
        if cfg.spoofing && t.ratio >= cfg.spoof_min_ratio && opp_volume >= cfg.min_opp_volume {
            let quick = 1.0 - life as f64 / cfg.max_lifetime_ns as f64;
            let big = (t.ratio / (2.0 * cfg.spoof_min_ratio)).min(1.0);
            let unfilled = 1.0 - fill / cfg.max_fill.max(1e-9);
            let traded = (opp_volume as f64 / t.size as f64).min(1.0);
            let score = (0.25 * (quick + big + unfilled.clamp(0.0, 1.0) + traded)).clamp(1e-6, 1.0);
            out.push(Alert {
                ts: now,
                kind: alert_kind::SPOOFING,
                side: t.side as i8,
                price: t.price,
                order_id: id,
                score,
                size: t.size,
                size_ratio: t.ratio,
                lifetime_ns: life,
                fill_frac: fill,
                opp_volume,
                price_move,
                count: 1,
                event_index: 0,
            });
        }
        if !cfg.layering || t.ratio < cfg.layer_min_ratio || life < cfg.layer_min_lifetime_ns {
            return;
        }
        let q = &mut self.withdrawn[si(t.side)];
        while q
            .front()
            .is_some_and(|w| now - w.ts_cancel > cfg.layer_window_ns)
        {
            q.pop_front();
        }
        q.push_back(Withdrawn {
            ts_add: t.ts,
            ts_cancel: now,
            price: t.price,
            id,
            size: t.size,
        });
        if q.len() > 256 {
            q.pop_front(); // bounded even in a cancel storm
        }
        // Distinct prices among withdrawals placed within one window of this
        // order's placement: a scan from the newest that stops as soon as
        // enough distinct prices are found, with no allocation.
        let mut seen = [0 as Price; 16];
        let mut n_seen = 0usize;
        let need = cfg.layer_min_orders.min(16);
        for w in q.iter().rev() {
            if (w.ts_add - t.ts).abs() > cfg.layer_window_ns {
                continue;
            }
            if !seen[..n_seen].contains(&w.price) {
                seen[n_seen] = w.price;
                n_seen += 1;
                if n_seen >= need {
                    break;
                }
            }
        }
        if n_seen < need {
            return;
        }
        let newest_add = t.ts;
        let mut prices: Vec<Price> = q
            .iter()
            .filter(|w| (w.ts_add - newest_add).abs() <= cfg.layer_window_ns)
            .map(|w| w.price)
            .collect();
        prices.sort_unstable();
        prices.dedup();
        if prices.len() >= cfg.layer_min_orders {
            let group: Vec<Withdrawn> = q
                .iter()
                .filter(|w| (w.ts_add - newest_add).abs() <= cfg.layer_window_ns)
                .copied()
                .collect();
            let size: Qty = group.iter().map(|w| w.size).sum();
            let first_add = group.iter().map(|w| w.ts_add).min().unwrap_or(now);
            let n = prices.len();
            let score = ((n as f64 / (2.0 * cfg.layer_min_orders as f64)).min(1.0) * 0.5
                + 0.5
                    * (1.0 - (now - first_add) as f64 / (2.0 * cfg.layer_window_ns as f64))
                        .clamp(0.0, 1.0))
            .clamp(1e-6, 1.0);
            out.push(Alert {
                ts: now,
                kind: alert_kind::LAYERING,
                side: t.side as i8,
                price: t.price,
                order_id: group.first().map_or(0, |w| w.id),
                score,
                size,
                size_ratio: t.ratio,
                lifetime_ns: now - first_add,
                fill_frac: 0.0,
                opp_volume: self.exec[opp] - t.opp_exec_at_add,
                price_move,
                count: n as i64,
                event_index: 0,
            });
            q.clear();
        }
    }
}
