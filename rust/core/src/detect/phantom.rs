//! L2 phantom liquidity and L2 layering, for feeds without order ids.
//!
//! A level increase of at least `phantom_min_ratio` × the typical increment,
//! within `near_steps` of its side's best, is tracked with the size the level
//! had before it and the volume traded at that price since. If within
//! `max_lifetime_ns` the level falls back to (almost) where it was — at least
//! 80% of the increase gone, and that much in the one update that completes
//! it, as one order's cancel shows — while at most `max_fill` of the increase
//! traded there, the size was **phantom**: shown and withdrawn — when the
//! other side traded meanwhile (on a feed that prints trades) and it was not
//! half of a two-sided quote, the rules the L3 spoof detector has. Phantom
//! levels that rested at least `layer_min_lifetime_ns` are candidate layers
//! of their side ([`super::layering`], the one grouping rule for L3 and L2).

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::layering::{Evidence, Layering, Withdrawal};
use super::side_index as si;
use super::{alert_kind, side_of, steps_behind, Alert, Ctx, DetectConfig, QuotePairs};
use crate::types::{kind, Price, Qty, Side, Ts};

#[derive(Clone, Copy, Debug)]
struct Rise {
    ts: Ts,
    base: Qty,
    added: Qty,
    traded: Qty,
    ratio: f64,
    /// Volume traded against the other side when the size appeared (lots).
    opp_exec_at_rise: Qty,
    /// Shown with a rise on the other side within `quote_pair_ns`: one half
    /// of a two-sided quote.
    paired: bool,
}

/// Whether `part` is at least 80% of `added` (lots): the fall that takes a
/// shown size back, in all and in the update that completes it.
#[inline]
fn most_of(part: Qty, added: Qty) -> bool {
    part * 5 >= added * 4
}

/// Phantom-level state.
#[derive(Clone, Debug, Default)]
pub struct PhantomDetector {
    live: FxHashMap<(i8, Price), Rise>,
    expiry: VecDeque<(Ts, (i8, Price))>,
    layering: Layering,
    /// Volume traded against resting bids [0] and asks [1] (lots).
    exec: [Qty; 2],
    /// Whether the feed has printed a trade: until it does, a feed of
    /// levels alone, the other side's trading cannot be asked for.
    trades_seen: bool,
    /// The last tracked rise per side, for two-sided quotes (by price).
    quotes: QuotePairs<Price>,
}

impl PhantomDetector {
    /// Records held.
    pub fn state_size(&self) -> usize {
        self.live.len() + self.expiry.len() + self.layering.state_size()
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
        super::compact(&mut self.expiry, live.len(), |t0, key| {
            live.get(&key).is_some_and(|r| r.ts == t0)
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
            if ev.side != 0 {
                self.exec[si(ev.side)] += ev.size;
            }
            self.trades_seen = true;
        }
        if ev.kind == kind::CLEAR {
            self.live.clear();
            self.expiry.clear();
            return;
        }
        for c in cx.changes.iter() {
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
                    // Two-sided quoting (as on L3), fed the tracked rises.
                    let other = self.quotes.on_add(cfg, side, now, c.price);
                    if let Some(op) = other {
                        if let Some(o) = self.live.get_mut(&(-c.side, op)) {
                            o.paired = true;
                        }
                    }
                    let paired = other.is_some();
                    self.live.insert(
                        key,
                        Rise {
                            ts: now,
                            base: c.prev_qty,
                            added,
                            traded: 0,
                            ratio,
                            opp_exec_at_rise: self.exec[1 - si(c.side)],
                            paired,
                        },
                    );
                    self.expiry.push_back((now, key));
                }
            } else if let Some(r) = self.live.get(&key).copied() {
                let gone = r.base + r.added - c.new_qty;
                if most_of(gone, r.added) {
                    self.live.remove(&key);
                    // One update takes it back, as one order's cancel does;
                    // a level drained piecemeal (many small cancels and
                    // fills) is not a withdrawal of the size shown.
                    let at_once = most_of(c.prev_qty - c.new_qty, r.added);
                    let fill = r.traded as f64 / r.added as f64;
                    if at_once && fill <= cfg.max_fill {
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
        if r.paired {
            return;
        }
        // Score: size alone, r / (r + 4 x the minimum ratio): monotone and
        // unsaturated, so the budget can rank a 69x level above a 25x one (a
        // busy crypto book shows many; a score that saturates ties them). On the tuning
        // scenario families (L2 form) spoofs rested longer than the
        // background's large flickers (median 768 ms against 432 ms), so
        // ranking quick pulls higher, as the L3 spoof score does, kept the
        // wrong ones under the budget (phantom + layering recall 0.52 with
        // it, 0.62 without; precision 0.45 and 0.49).
        let big = r.ratio / (r.ratio + 4.0 * cfg.phantom_min_ratio).max(1e-9);
        let opp_volume = self.exec[1 - si(side as i8)] - r.opp_exec_at_rise;
        // As a spoof on L3: shown while the other side traded (when the feed
        // prints trades at all).
        let traded_against = !self.trades_seen || opp_volume >= cfg.min_opp_volume;
        if cfg.phantom && traded_against {
            out.push(Alert {
                ts: now,
                kind: alert_kind::PHANTOM,
                side: side as i8,
                price,
                score: big.clamp(1e-6, 1.0),
                size: r.added,
                size_ratio: r.ratio,
                lifetime_ns: life,
                fill_frac: fill,
                opp_volume,
                count: 1,
                ..Alert::default()
            });
        }
        if cfg.layering && life >= cfg.layer_min_lifetime_ns {
            let w = Withdrawal {
                placed: r.ts,
                withdrawn: now,
                price,
                id: 0,
                size: r.added,
                traded_against,
            };
            let ev = Evidence {
                size_ratio: r.ratio,
                opp_volume,
                ..Evidence::default()
            };
            self.layering.on_withdrawn(cfg, side, w, ev, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Market, MS};
    use super::*;

    /// The touch at 100 / 101; 60 lots appear at the 100 bid and go back
    /// after `life` ns, `traded` lots printing there meanwhile.
    fn episode(life: Ts, traded: Qty) -> Vec<Alert> {
        let mut m = Market::l2(DetectConfig::default(), 400);
        m.wait(MS)
            .ev(kind::SET_LEVEL, 1, 100, 2, 0)
            .ev(kind::SET_LEVEL, -1, 101, 2, 0);
        m.wait(MS).ev(kind::SET_LEVEL, 1, 100, 62, 0);
        if traded > 0 {
            m.wait(1).ev(kind::TRADE, 1, 100, traded, 0);
        }
        m.wait(life).ev(kind::SET_LEVEL, 1, 100, 2, 0);
        m.alerts(alert_kind::PHANTOM)
    }

    #[test]
    fn size_shown_and_withdrawn_untraded_is_phantom() {
        let a = episode(30 * MS, 0);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].side, a[0].price, a[0].size, a[0].count),
            (1, 100, 60, 1)
        );
        assert!(a[0].size_ratio > 20.0 && a[0].lifetime_ns == 30 * MS);
    }

    /// The same 60 lots drained in six updates of 10 (many small cancels
    /// at a busy level) is not a withdrawal of the size shown; taken back
    /// in one update it is.
    #[test]
    fn size_drained_piecemeal_is_not_phantom() {
        let run = |steps: &[Qty]| {
            let mut m = Market::l2(DetectConfig::default(), 400);
            m.wait(MS)
                .ev(kind::SET_LEVEL, 1, 100, 2, 0)
                .ev(kind::SET_LEVEL, -1, 101, 2, 0);
            m.wait(MS).ev(kind::SET_LEVEL, 1, 100, 62, 0);
            for &q in steps {
                m.wait(5 * MS).ev(kind::SET_LEVEL, 1, 100, q, 0);
            }
            m.alerts(alert_kind::PHANTOM).len()
        };
        assert_eq!(run(&[52, 42, 32, 22, 12, 2]), 0);
        assert_eq!(run(&[52, 2]), 1); // 50 of the 60 in the last update
        assert_eq!(run(&[2]), 1);
    }

    #[test]
    fn controls_do_not_alert() {
        assert!(episode(3_000 * MS, 0).is_empty()); // rested past max_lifetime_ns
        assert!(episode(30 * MS, 20).is_empty()); // a third of it traded
    }

    #[test]
    fn phantom_levels_at_three_prices_are_layering() {
        let mut m = Market::l2(DetectConfig::default(), 400);
        m.wait(MS)
            .ev(kind::SET_LEVEL, 1, 100, 2, 0)
            .ev(kind::SET_LEVEL, -1, 101, 2, 0);
        for p in [102, 103, 104] {
            m.wait(MS).ev(kind::SET_LEVEL, -1, p, 30, 0);
        }
        m.wait(50 * MS);
        for p in [102, 103, 104] {
            m.wait(MS).ev(kind::SET_LEVEL, -1, p, 0, 0);
        }
        assert_eq!(m.alerts(alert_kind::PHANTOM).len(), 3);
        let a = m.alerts(alert_kind::LAYERING);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!((a[0].side, a[0].count, a[0].size), (-1, 3, 90));
    }

    /// On a feed that prints trades, size shown and pulled while nothing
    /// traded on the other side is not phantom (nothing was gained by
    /// showing it); one more lot traded against the asks makes it so. Size
    /// shown on both sides within 100 µs is a two-sided quote.
    #[test]
    fn phantom_needs_the_other_side_to_trade_and_is_not_half_a_quote() {
        let run = |opp: Qty, ask_rise: bool| {
            let mut m = Market::l2(DetectConfig::default(), 400);
            m.wait(MS)
                .ev(kind::SET_LEVEL, 1, 100, 2, 0)
                .ev(kind::SET_LEVEL, -1, 101, 20, 0);
            m.wait(MS).ev(kind::TRADE, 1, 100, 1, 0); // the feed prints trades
            m.wait(MS).ev(kind::SET_LEVEL, 1, 99, 62, 0);
            if ask_rise {
                m.wait(50_000).ev(kind::SET_LEVEL, -1, 102, 60, 0);
            }
            if opp > 0 {
                m.wait(MS).ev(kind::TRADE, -1, 101, opp, 0);
            }
            m.wait(30 * MS).ev(kind::SET_LEVEL, 1, 99, 0, 0);
            m.alerts(alert_kind::PHANTOM)
        };
        assert!(run(0, false).is_empty());
        let a = run(1, false);
        assert_eq!((a.len(), a[0].price, a[0].opp_volume), (1, 99, 1), "{a:?}");
        assert!(run(1, true).is_empty());
    }
}
