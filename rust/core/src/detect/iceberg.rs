//! Iceberg / hidden liquidity.
//!
//! Two kinds of evidence, per (side, price), counted over
//! `iceberg_window_ns` and reported once per window:
//! - **hidden executions**: TRADE prints (LOBSTER type 5 hidden executions,
//!   or prints larger than the size displayed at their price) whose volume
//!   at one price reaches `hidden_min_ratio` × the typical order size;
//! - **refills**: a level that gains size within `refill_ns` after a fill at
//!   that price *emptied* it, `iceberg_min_refills` times in a row with the
//!   same size — the signature of an order that shows a fixed clip (its
//!   display quantity) and replenishes it. Same size since 2026-12-04: on
//!   the tuning scenario families a busy touch re-created by chance within
//!   100 ms made two thirds of the refill alerts (precision 0.31 / recall
//!   0.81 before, 1.00 / 0.83 after). An iceberg whose clip size is
//!   randomised is left to the hidden-execution evidence.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::{alert_kind, Alert, Ctx, DetectConfig};
use crate::types::{kind, Price, Qty, Ts};

#[derive(Clone, Copy, Debug, Default)]
struct LevelEvidence {
    since: Ts,
    last_fill: Option<Ts>,
    /// Refills in the current run of one clip size, their volume (lots),
    /// and that clip size (lots).
    refills: i64,
    refill_vol: Qty,
    clip: Qty,
    hidden: Qty,
    hidden_prints: i64,
    reported: bool,
}

/// Iceberg state.
#[derive(Clone, Debug, Default)]
pub struct IcebergDetector {
    levels: FxHashMap<(i8, Price), LevelEvidence>,
    expiry: VecDeque<(Ts, (i8, Price))>,
}

impl IcebergDetector {
    /// Records held.
    pub fn state_size(&self) -> usize {
        self.levels.len() + self.expiry.len()
    }

    fn entry(&mut self, now: Ts, side: i8, price: Price) -> &mut LevelEvidence {
        let exp = &mut self.expiry;
        self.levels.entry((side, price)).or_insert_with(|| {
            exp.push_back((now, (side, price)));
            LevelEvidence {
                since: now,
                ..LevelEvidence::default()
            }
        })
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
        let levels = &mut self.levels;
        super::expire(&mut self.expiry, now, cfg.iceberg_window_ns, |t0, key| {
            if levels.get(&key).is_some_and(|e| e.since == t0) {
                levels.remove(&key);
            }
        });
        super::compact(&mut self.expiry, levels.len(), |t0, key| {
            levels.get(&key).is_some_and(|e| e.since == t0)
        });
        if ev.side == 0 {
            return;
        }
        match ev.kind {
            kind::TRADE => {
                let side = match ev.side {
                    1 => crate::Side::Bid,
                    _ => crate::Side::Ask,
                };
                let shown = cx.l2.qty_at(side, ev.price);
                // LOBSTER marks hidden executions (type 5) in flags; other
                // feeds' prints count when they exceed what was displayed.
                let hidden = if ev.flags == 5 {
                    ev.size
                } else {
                    (ev.size - shown).max(0)
                };
                if hidden > 0 {
                    let e = self.entry(now, ev.side, ev.price);
                    e.hidden += hidden;
                    e.hidden_prints += 1;
                    e.last_fill = Some(now);
                    let (h, n, since, rep) = (e.hidden, e.hidden_prints, e.since, e.reported);
                    if !rep && typ > 0.0 && h as f64 >= cfg.hidden_min_ratio * typ {
                        e.reported = true;
                        out.push(Alert {
                            ts: now,
                            kind: alert_kind::ICEBERG,
                            side: ev.side,
                            price: ev.price,
                            score: (h as f64 / (4.0 * cfg.hidden_min_ratio * typ)).clamp(0.25, 1.0),
                            size: h,
                            size_ratio: h as f64 / typ,
                            lifetime_ns: now - since,
                            fill_frac: 1.0,
                            count: n,
                            ..Alert::default()
                        });
                    }
                } else if ev.size >= shown {
                    // A print that takes the whole displayed level.
                    self.entry(now, ev.side, ev.price).last_fill = Some(now);
                }
            }
            kind::EXECUTE => {
                // Only a fill that empties the level can be followed by a
                // refill: partial fills followed by new orders at the touch
                // are ordinary trading.
                let side = if ev.side == 1 {
                    crate::Side::Bid
                } else {
                    crate::Side::Ask
                };
                if cx.l2.qty_at(side, ev.price) == 0 {
                    self.entry(now, ev.side, ev.price).last_fill = Some(now);
                }
            }
            _ => {}
        }
        // Refills: a size increase at a level shortly after a fill there.
        for c in cx.changes.iter() {
            // Fills are only remembered when they emptied the level, so a
            // refill re-creates it: anything else needs no lookup.
            if c.prev_qty != 0 || c.new_qty == 0 || self.levels.is_empty() {
                continue;
            }
            let Some(e) = self.levels.get_mut(&(c.side, c.price)) else {
                continue;
            };
            let Some(t) = e.last_fill else { continue };
            if now - t > cfg.refill_ns {
                continue;
            }
            e.last_fill = None;
            let q = c.new_qty - c.prev_qty;
            if e.refills > 0 && q != e.clip {
                // A new clip size starts a new run: an exchange iceberg
                // shows the same display quantity each time, while orders
                // that happen to re-create a busy touch come in any size.
                e.refills = 0;
                e.refill_vol = 0;
            }
            e.clip = q;
            e.refills += 1;
            e.refill_vol += q;
            if e.refills >= cfg.iceberg_min_refills && !e.reported {
                e.reported = true;
                out.push(Alert {
                    ts: now,
                    kind: alert_kind::ICEBERG,
                    side: c.side,
                    price: c.price,
                    score: (e.refills as f64 / (2.0 * cfg.iceberg_min_refills as f64))
                        .clamp(0.5, 1.0),
                    size: e.refill_vol,
                    size_ratio: if typ > 0.0 {
                        e.refill_vol as f64 / typ
                    } else {
                        0.0
                    },
                    lifetime_ns: now - e.since,
                    fill_frac: 1.0,
                    count: e.refills,
                    ..Alert::default()
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Market, MS};
    use super::*;

    #[test]
    fn a_level_refilled_after_each_fill_is_an_iceberg() {
        let mut m = Market::l3(DetectConfig::default(), 400);
        m.wait(MS).ev(kind::ADD, 1, 100, 2, 1);
        // A 2-lot ask clip at 101, filled and shown again within 100 ms, 3x.
        let mut id = 10;
        m.wait(MS).ev(kind::ADD, -1, 101, 2, id);
        for _ in 0..3 {
            m.wait(MS).ev(kind::EXECUTE, -1, 101, 2, id);
            id += 1;
            m.wait(5 * MS).ev(kind::ADD, -1, 101, 2, id);
        }
        let a = m.alerts(alert_kind::ICEBERG);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].side, a[0].price, a[0].count, a[0].size),
            (-1, 101, 3, 6)
        );
    }

    #[test]
    fn slow_refills_and_partial_fills_are_ordinary_trading() {
        let mut m = Market::l3(DetectConfig::default(), 400);
        m.wait(MS).ev(kind::ADD, 1, 100, 2, 1);
        let mut id = 10;
        m.wait(MS).ev(kind::ADD, -1, 101, 2, id);
        for _ in 0..3 {
            m.wait(MS).ev(kind::EXECUTE, -1, 101, 2, id);
            id += 1;
            m.wait(500 * MS).ev(kind::ADD, -1, 101, 2, id); // > refill_ns
        }
        m.wait(MS).ev(kind::ADD, -1, 101, 4, 99);
        for _ in 0..3 {
            m.wait(MS).ev(kind::EXECUTE, -1, 101, 1, 99); // never empties the level
            m.wait(MS).ev(kind::ADD, -1, 101, 1, {
                id += 1;
                id
            });
        }
        assert!(m.alerts(alert_kind::ICEBERG).is_empty());
    }

    /// The same quick refills in sizes 2, 3, 2, 5 — orders of anyone
    /// re-creating a busy touch — are no iceberg; a run of three refills of
    /// one size after them is.
    #[test]
    fn refills_of_varying_size_are_not_one_clip() {
        let run = |sizes: &[Qty]| {
            let mut m = Market::l3(DetectConfig::default(), 400);
            m.wait(MS).ev(kind::ADD, 1, 100, 2, 1);
            let mut id = 10;
            m.wait(MS).ev(kind::ADD, -1, 101, 2, id);
            let mut shown = 2;
            for &q in sizes {
                m.wait(MS).ev(kind::EXECUTE, -1, 101, shown, id);
                id += 1;
                m.wait(5 * MS).ev(kind::ADD, -1, 101, q, id);
                shown = q;
            }
            m.alerts(alert_kind::ICEBERG)
        };
        assert!(run(&[2, 3, 2, 5]).is_empty());
        let a = run(&[2, 3, 2, 5, 4, 4, 4]);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!((a[0].count, a[0].size), (3, 12));
    }

    #[test]
    fn hidden_prints_beyond_the_shown_size_are_an_iceberg() {
        let mut m = Market::l3(DetectConfig::default(), 400);
        m.wait(MS)
            .ev(kind::ADD, 1, 100, 2, 1)
            .ev(kind::ADD, -1, 101, 2, 2);
        // 3 prints of 4 lots at the 101 ask that shows 2: 2 hidden lots
        // each; the third makes 6 hidden lots = 3x typical (2 lots).
        for size in [4, 4, 4] {
            m.wait(MS).ev(kind::TRADE, -1, 101, size, 0);
        }
        let a = m.alerts(alert_kind::ICEBERG);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!((a[0].price, a[0].size, a[0].count), (101, 6, 3));
    }
}
