//! Layering: several large orders (L3) or phantom levels (L2) at distinct
//! prices of one side, placed and withdrawn together. The spoofing detector
//! (orders) and the phantom detector (levels) each decide what counts as a
//! large withdrawal and hand it here; grouping and scoring are one rule for
//! both feeds.
//!
//! A group is `layer_min_orders` withdrawals at distinct prices of one
//! side, each withdrawn within `layer_window_ns` of the newest and placed
//! within `layer_window_ns` of the newest's placement. The score rewards
//! more layers (saturating at twice the minimum) and a compact episode (the
//! whole group placed and pulled within the window scores highest).
//!
//! As for a lone spoof, a stack counts only if the other side traded while
//! it rested (`min_opp_volume`; any layer's life will do, the first placed
//! covers the most): layering is showing size on one side to trade on the
//! other. A stack pulled with nothing traded against it is a quote
//! withdrawn, whatever its size.

use std::collections::VecDeque;

use super::{alert_kind, Alert, DetectConfig};
use crate::types::{OrderId, Price, Qty, Side, Ts};

/// Most withdrawals kept per side: bounded even in a cancel storm.
const MAX_KEPT: usize = 256;

/// One large withdrawal handed to [`Layering::on_withdrawn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Withdrawal {
    /// When the order / level size was placed (ns).
    pub placed: Ts,
    /// When it was withdrawn (ns).
    pub withdrawn: Ts,
    /// Its price (ticks).
    pub price: Price,
    /// The order id (0 on L2).
    pub id: OrderId,
    /// Its size (lots).
    pub size: Qty,
    /// Whether the other side traded (at least `min_opp_volume` lots)
    /// while it rested, or the feed prints no trades to tell.
    pub traded_against: bool,
}

/// What the caller knows about the newest withdrawal, for the alert.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Evidence {
    /// Its size / the typical size.
    pub size_ratio: f64,
    /// Volume executed on the other side while it rested (lots; 0 on L2).
    pub opp_volume: Qty,
    /// Mid move over its life in price steps, + = in its side's favour.
    pub price_move: f64,
}

/// Recent large withdrawals per side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layering {
    recent: [VecDeque<Withdrawal>; 2],
    /// Per side, the last stack an alert named: its first and last
    /// placement and the alert's time (ns). Its layers pulled after the
    /// alert are that alert's too, not the start of another group.
    named: [Option<(Ts, Ts, Ts)>; 2],
}

fn si(s: Side) -> usize {
    match s {
        Side::Bid => 0,
        Side::Ask => 1,
    }
}

impl Layering {
    /// Withdrawals held.
    pub(crate) fn state_size(&self) -> usize {
        self.recent[0].len() + self.recent[1].len()
    }

    /// Whether an order of `side` placed at `placed`, withdrawn at `now`
    /// (ns), is a layer of the stack last named on that side: placed within
    /// `layer_window_ns` of the stack's placements, and withdrawn within
    /// `layer_window_ns` of its alert.
    pub(crate) fn of_named_stack(
        &self,
        cfg: &DetectConfig,
        side: Side,
        placed: Ts,
        now: Ts,
    ) -> bool {
        let w = cfg.layer_window_ns;
        self.named[si(side)]
            .is_some_and(|(lo, hi, at)| now - at <= w && lo - w <= placed && placed <= hi + w)
    }

    /// Whether a withdrawal kept on `side`, withdrawn at or after `since`
    /// (ns), passes `f`.
    pub(crate) fn any_withdrawn_since(
        &self,
        side: Side,
        since: Ts,
        f: impl Fn(&Withdrawal) -> bool,
    ) -> bool {
        self.recent[si(side)]
            .iter()
            .any(|w| w.withdrawn >= since && f(w))
    }

    /// Records `w` on `side`; emits a LAYERING alert (and forgets the
    /// group) when it completes one, and then returns the group's
    /// withdrawals, so the caller can drop what it holds on those orders.
    pub(crate) fn on_withdrawn(
        &mut self,
        cfg: &DetectConfig,
        side: Side,
        w: Withdrawal,
        ev: Evidence,
        out: &mut Vec<Alert>,
    ) -> Vec<Withdrawal> {
        if self.of_named_stack(cfg, side, w.placed, w.withdrawn) {
            return Vec::new();
        }
        let q = &mut self.recent[si(side)];
        while q
            .front()
            .is_some_and(|x| w.withdrawn - x.withdrawn > cfg.layer_window_ns)
        {
            q.pop_front();
        }
        q.push_back(w);
        if q.len() > MAX_KEPT {
            q.pop_front();
        }
        let in_group = |x: &Withdrawal| (x.placed - w.placed).abs() <= cfg.layer_window_ns;
        // Cheap first: stop counting distinct prices as soon as there are
        // enough (most withdrawals complete no group).
        let need = cfg.layer_min_orders;
        let mut distinct = 0usize;
        for (k, x) in q.iter().enumerate().rev() {
            if in_group(x)
                && !q
                    .iter()
                    .skip(k + 1)
                    .any(|y| in_group(y) && y.price == x.price)
            {
                distinct += 1;
                if distinct >= need {
                    break;
                }
            }
        }
        if distinct < need {
            return Vec::new();
        }
        // Layers are a stack: all of them rest at one moment. Orders placed
        // and pulled one after another — a market maker re-quoting as the
        // touch moves — are not, however close in time (on the busy
        // scenario family they were nearly every false group). The moment is
        // the latest placement of the group (intervals that overlap pairwise
        // share a point), so try each placement since `w`'s.
        let rests_at = |x: &Withdrawal, t: Ts| in_group(x) && x.placed <= t && t <= x.withdrawn;
        let mut best: (usize, Ts) = (0, w.placed);
        let mut prices: Vec<Price> = Vec::new();
        for t in q.iter().map(|x| x.placed).filter(|&t| t >= w.placed) {
            prices.clear();
            prices.extend(q.iter().filter(|x| rests_at(x, t)).map(|x| x.price));
            prices.sort_unstable();
            prices.dedup();
            if prices.len() > best.0 {
                best = (prices.len(), t);
            }
        }
        let (n, at) = best;
        if n < need {
            return Vec::new();
        }
        let in_group = |x: &Withdrawal| rests_at(x, at);
        if !q.iter().any(|x| in_group(x) && x.traded_against) {
            return Vec::new();
        }
        let size: Qty = q.iter().filter(|x| in_group(x)).map(|x| x.size).sum();
        let first = q.iter().filter(|x| in_group(x)).map(|x| x.placed).min();
        let first = first.unwrap_or(w.placed);
        let first_id = q.iter().find(|x| in_group(x)).map_or(w.id, |x| x.id);
        let span = w.withdrawn - first;
        let many = (n as f64 / (2.0 * need as f64)).min(1.0);
        let compact = (1.0 - span as f64 / (2.0 * cfg.layer_window_ns as f64)).clamp(0.0, 1.0);
        out.push(Alert {
            ts: w.withdrawn,
            kind: alert_kind::LAYERING,
            side: side as i8,
            price: w.price,
            order_id: first_id,
            score: (0.5 * many + 0.5 * compact).clamp(1e-6, 1.0),
            size,
            size_ratio: ev.size_ratio,
            lifetime_ns: span,
            fill_frac: 0.0,
            opp_volume: ev.opp_volume,
            price_move: ev.price_move,
            count: n as i64,
            event_index: 0,
        });
        let group: Vec<Withdrawal> = q.iter().filter(|x| in_group(x)).copied().collect();
        q.retain(|x| !in_group(x));
        let placed = group.iter().map(|x| x.placed);
        if let (Some(lo), Some(hi)) = (placed.clone().min(), placed.max()) {
            self.named[si(side)] = Some((lo, hi, w.withdrawn));
        }
        group
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(placed: Ts, withdrawn: Ts, price: Price) -> Withdrawal {
        Withdrawal {
            placed,
            withdrawn,
            price,
            id: price as u64,
            size: 10,
            traded_against: true,
        }
    }

    #[test]
    fn three_distinct_prices_placed_and_pulled_together_make_a_group() {
        let cfg = DetectConfig::default();
        let mut l = Layering::default();
        let mut out = Vec::new();
        let ms = 1_000_000;
        l.on_withdrawn(
            &cfg,
            Side::Ask,
            w(0, 50 * ms, 102),
            Evidence::default(),
            &mut out,
        );
        // the same price again is not a new layer
        l.on_withdrawn(
            &cfg,
            Side::Ask,
            w(ms, 51 * ms, 102),
            Evidence::default(),
            &mut out,
        );
        l.on_withdrawn(
            &cfg,
            Side::Ask,
            w(2 * ms, 52 * ms, 103),
            Evidence::default(),
            &mut out,
        );
        assert!(out.is_empty());
        // the other side never counts
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(3 * ms, 53 * ms, 98),
            Evidence::default(),
            &mut out,
        );
        assert!(out.is_empty());
        l.on_withdrawn(
            &cfg,
            Side::Ask,
            w(3 * ms, 53 * ms, 104),
            Evidence::default(),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        let a = out[0];
        assert_eq!(
            (a.kind, a.side, a.count, a.size, a.order_id),
            (2, -1, 3, 40, 102)
        );
        assert_eq!(a.lifetime_ns, 53 * ms);
        assert!(a.score > 0.5 && a.score <= 1.0);
        // the group is forgotten once reported
        assert_eq!(l.state_size(), 1);
    }

    #[test]
    fn a_stack_nothing_traded_against_is_a_quote_withdrawn() {
        let cfg = DetectConfig::default();
        let ms = 1_000_000;
        let quiet = |p: Price| Withdrawal {
            traded_against: false,
            ..w(p, 500 * ms + p, p)
        };
        let mut l = Layering::default();
        let mut out = Vec::new();
        for p in [100, 101, 102, 103] {
            l.on_withdrawn(&cfg, Side::Bid, quiet(p), Evidence::default(), &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        // One layer of the same stack rested while the other side traded:
        // the stack is named, all five layers of it.
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(104, 600 * ms, 104),
            Evidence::default(),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].count, out[0].size), (5, 50));
    }

    #[test]
    fn orders_that_never_rested_together_are_not_layers() {
        // A market maker re-quoting as the touch moves: each quote pulled
        // before the next is placed, three prices within 300 ms.
        let cfg = DetectConfig::default();
        let mut l = Layering::default();
        let mut out = Vec::new();
        let ms = 1_000_000;
        for (k, p) in [100, 101, 102].into_iter().enumerate() {
            let t = k as i64 * 100 * ms;
            l.on_withdrawn(
                &cfg,
                Side::Bid,
                w(t, t + 90 * ms, p),
                Evidence::default(),
                &mut out,
            );
        }
        assert!(out.is_empty(), "{out:?}");
        // The same three prices resting together from 300 ms on: a stack.
        for (k, p) in [100, 101, 102].into_iter().enumerate() {
            let t = 300 * ms + k as i64 * ms;
            l.on_withdrawn(
                &cfg,
                Side::Bid,
                w(t, 400 * ms + t, p),
                Evidence::default(),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].count, out[0].lifetime_ns), (3, 402 * ms));
        // The reported group is forgotten; the sequential quotes may expire.
        assert!(l.state_size() <= 3);
    }

    #[test]
    fn withdrawals_placed_far_apart_do_not_group() {
        let cfg = DetectConfig::default();
        let mut l = Layering::default();
        let mut out = Vec::new();
        let s = 1_000_000_000;
        // placed 0 s, 2.5 s, 5 s apart (the window is 2 s); pulled together
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(0, 5 * s, 100),
            Evidence::default(),
            &mut out,
        );
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(5 * s / 2, 5 * s + 1, 99),
            Evidence::default(),
            &mut out,
        );
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(5 * s, 5 * s + 2, 98),
            Evidence::default(),
            &mut out,
        );
        assert!(out.is_empty());
        // withdrawn more than a window after the others: they expired
        let mut l = Layering::default();
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(0, 10, 100),
            Evidence::default(),
            &mut out,
        );
        l.on_withdrawn(&cfg, Side::Bid, w(0, 20, 99), Evidence::default(), &mut out);
        l.on_withdrawn(
            &cfg,
            Side::Bid,
            w(0, 3 * s, 98),
            Evidence::default(),
            &mut out,
        );
        assert!(out.is_empty());
        assert_eq!(l.state_size(), 1);
    }
}
