//! proptest: the books against a deliberately naive reference (BTreeMaps and
//! Vec queues), comparing the full book after every step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lobkit_core::{kind, Event, L2Book, L3Book, Side, UnknownIdPolicy};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Naive L2: two ordered maps.
#[derive(Default, Clone)]
struct RefL2 {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl RefL2 {
    fn set(&mut self, side: Side, p: i64, q: i64) {
        let m = if side == Side::Bid {
            &mut self.bids
        } else {
            &mut self.asks
        };
        if q == 0 {
            m.remove(&p);
        } else {
            m.insert(p, q);
        }
    }
    fn levels(&self, side: Side, n: usize) -> Vec<(i64, i64)> {
        match side {
            Side::Bid => self
                .bids
                .iter()
                .rev()
                .take(n)
                .map(|(a, b)| (*a, *b))
                .collect(),
            Side::Ask => self.asks.iter().take(n).map(|(a, b)| (*a, *b)).collect(),
        }
    }
}

fn side_of(b: bool) -> Side {
    if b {
        Side::Bid
    } else {
        Side::Ask
    }
}

#[derive(Debug, Clone)]
enum L2Op {
    Set(bool, i64, i64),
    Clear,
}

fn l2_op() -> impl Strategy<Value = L2Op> {
    prop_oneof![
        // clustered near a centre
        40 => (any::<bool>(), -60i64..60, 0i64..5).prop_map(|(s, p, q)| L2Op::Set(s, 100_000 + p, q)),
        // sparse, several windows apart (exercises the far map and re-centring)
        20 => (any::<bool>(), -40i64..40, 0i64..5).prop_map(|(s, p, q)| L2Op::Set(s, 100_000 + p * 997, q)),
        // anywhere in range
        5 => (any::<bool>(), -(1i64 << 40)..(1i64 << 40), 0i64..3).prop_map(|(s, p, q)| L2Op::Set(s, p, q)),
        1 => Just(L2Op::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn l2_matches_reference(ops in prop::collection::vec(l2_op(), 1..400)) {
        let mut b = L2Book::new();
        let mut r = RefL2::default();
        for op in ops {
            match op {
                L2Op::Set(s, p, q) => {
                    let side = side_of(s);
                    let c = b.set_level(side, p, q);
                    let prev = r.levels(side, 1).first().copied();
                    let prev_q = if side == Side::Bid { r.bids.get(&p) } else { r.asks.get(&p) }.copied().unwrap_or(0);
                    r.set(side, p, q);
                    let c = c.unwrap();
                    prop_assert_eq!(c.prev_qty, prev_q);
                    prop_assert_eq!((c.prev_best_price, c.prev_best_qty), prev.unwrap_or((0, 0)));
                    prop_assert_eq!((c.new_best_price, c.new_best_qty), r.levels(side, 1).first().copied().unwrap_or((0, 0)));
                }
                L2Op::Clear => {
                    b.clear(None);
                    r = RefL2::default();
                }
            }
            for side in [Side::Bid, Side::Ask] {
                prop_assert_eq!(b.levels(side, usize::MAX), r.levels(side, usize::MAX));
                prop_assert_eq!(b.len(side), r.levels(side, usize::MAX).len());
                let best = r.levels(side, 1).first().copied();
                prop_assert_eq!(b.best(side), best);
                if let Some((bp, _)) = best {
                    let band = 150;
                    let want: i64 = r.levels(side, usize::MAX).iter()
                        .filter(|(p, _)| (p - bp).abs() <= band).map(|(_, q)| q).sum();
                    prop_assert_eq!(b.depth_within(side, band), want);
                }
            }
        }
    }
}

/// Naive L3: a Vec queue per level.
#[derive(Default, Clone)]
struct RefL3 {
    orders: BTreeMap<u64, (Side, i64, i64)>,
    queues: BTreeMap<(i8, i64), Vec<u64>>,
    anon: BTreeMap<(i8, i64), i64>,
}

impl RefL3 {
    fn level_total(&self, side: Side, p: i64) -> i64 {
        let k = (side as i8, p);
        self.anon.get(&k).copied().unwrap_or(0)
            + self
                .queues
                .get(&k)
                .map_or(0, |q| q.iter().map(|id| self.orders[id].2).sum())
    }
    fn l2(&self) -> RefL2 {
        let mut r = RefL2::default();
        let mut keys: Vec<(i8, i64)> = self.queues.keys().copied().collect();
        keys.extend(self.anon.keys().copied());
        for (s, p) in keys {
            let side = if s == 1 { Side::Bid } else { Side::Ask };
            let t = self.level_total(side, p);
            if t > 0 {
                r.set(side, p, t);
            }
        }
        r
    }
    fn remove(&mut self, id: u64) {
        if let Some((s, p, _)) = self.orders.remove(&id) {
            if let Some(q) = self.queues.get_mut(&(s as i8, p)) {
                q.retain(|x| *x != id);
            }
        }
    }
    fn apply(&mut self, ev: &Event, policy: UnknownIdPolicy) -> bool {
        let side = Side::from_i8(ev.side);
        match ev.kind {
            kind::ADD => {
                let Some(side) = side else { return false };
                if ev.size <= 0 || self.orders.contains_key(&ev.order_id) {
                    return false;
                }
                self.orders.insert(ev.order_id, (side, ev.price, ev.size));
                self.queues
                    .entry((side as i8, ev.price))
                    .or_default()
                    .push(ev.order_id);
                true
            }
            kind::CANCEL | kind::EXECUTE | kind::DELETE => {
                if ev.kind != kind::DELETE && ev.size <= 0 {
                    return false;
                }
                match self.orders.get(&ev.order_id).copied() {
                    Some((s, p, q)) => {
                        // An execution names the resting order's side.
                        if ev.kind == kind::EXECUTE && ev.side != 0 && ev.side != s as i8 {
                            return false;
                        }
                        let take = if ev.kind == kind::DELETE { q } else { ev.size };
                        if take > q {
                            return false;
                        }
                        if take == q {
                            self.remove(ev.order_id);
                        } else {
                            self.orders.insert(ev.order_id, (s, p, q - take));
                        }
                        true
                    }
                    None => match policy {
                        UnknownIdPolicy::Error => false,
                        UnknownIdPolicy::Skip => true,
                        UnknownIdPolicy::Anonymous => {
                            let Some(side) = side else { return false };
                            let a = self.anon.entry((side as i8, ev.price)).or_default();
                            *a -= (*a).min(ev.size);
                            true
                        }
                    },
                }
            }
            kind::MODIFY => {
                let Some((s, p, q)) = self.orders.get(&ev.order_id).copied() else {
                    return policy != UnknownIdPolicy::Error;
                };
                if ev.size < 0 {
                    return false;
                }
                if ev.size == 0 {
                    self.remove(ev.order_id);
                } else if ev.price == p && ev.size <= q {
                    self.orders.insert(ev.order_id, (s, p, ev.size));
                } else {
                    self.remove(ev.order_id);
                    self.orders.insert(ev.order_id, (s, ev.price, ev.size));
                    self.queues
                        .entry((s as i8, ev.price))
                        .or_default()
                        .push(ev.order_id);
                }
                true
            }
            kind::SEED => {
                let Some(side) = side else { return false };
                if ev.size <= 0 {
                    return false;
                }
                *self.anon.entry((side as i8, ev.price)).or_default() += ev.size;
                true
            }
            _ => true,
        }
    }
}

fn l3_event() -> impl Strategy<Value = Event> {
    let id = 1u64..40;
    let side = prop_oneof![Just(1i8), Just(-1i8)];
    let price = prop_oneof![3 => 990i64..1010, 1 => (-20i64..20).prop_map(|k| 1000 + k * 5000)];
    prop_oneof![
        4 => (id.clone(), side.clone(), price.clone(), 1i64..10).prop_map(|(i, s, p, q)| Event::new(0, kind::ADD, s, p, q, i)),
        2 => (id.clone(), side.clone(), price.clone(), 1i64..6).prop_map(|(i, s, p, q)| Event::new(0, kind::CANCEL, s, p, q, i)),
        1 => (id.clone(), side.clone(), price.clone(), 1i64..6).prop_map(|(i, s, p, q)| Event::new(0, kind::DELETE, s, p, q, i)),
        2 => (id.clone(), side.clone(), price.clone(), 1i64..6).prop_map(|(i, s, p, q)| Event::new(0, kind::EXECUTE, s, p, q, i)),
        2 => (id, side.clone(), price.clone(), 0i64..12).prop_map(|(i, s, p, q)| Event::new(0, kind::MODIFY, s, p, q, i)),
        1 => (side, price, 1i64..20).prop_map(|(s, p, q)| Event::new(0, kind::SEED, s, p, q, 0)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn l3_matches_reference(
        evs in prop::collection::vec(l3_event(), 1..300),
        pol in prop_oneof![Just(UnknownIdPolicy::Error), Just(UnknownIdPolicy::Anonymous), Just(UnknownIdPolicy::Skip)],
    ) {
        let mut b = L3Book::new();
        b.unknown_id = pol;
        let mut r = RefL3::default();
        for ev in &evs {
            let before = b.clone();
            let ok_book = b.apply(ev).is_ok();
            let mut r2 = r.clone();
            let ok_ref = r2.apply(ev, pol);
            prop_assert_eq!(ok_book, ok_ref, "event {:?}", ev);
            if ok_ref { r = r2; } else {
                // A rejected event leaves the book exactly as it was.
                for side in [Side::Bid, Side::Ask] {
                    prop_assert_eq!(b.l2().levels(side, usize::MAX), before.l2().levels(side, usize::MAX));
                }
            }
            let want = r.l2();
            for side in [Side::Bid, Side::Ask] {
                prop_assert_eq!(b.l2().levels(side, usize::MAX), want.levels(side, usize::MAX));
            }
            prop_assert_eq!(b.order_count(), r.orders.len());
            for (id, (s, p, q)) in &r.orders {
                let o = b.order(*id);
                prop_assert_eq!(o.map(|o| (o.side, o.price, o.qty)), Some((*s, *p, *q)));
                // exact FIFO position: anonymous first, then named orders ahead
                let k = (*s as i8, *p);
                let queue = &r.queues[&k];
                let pos = queue.iter().position(|x| x == id).unwrap_or(0);
                let ahead: i64 = r.anon.get(&k).copied().unwrap_or(0)
                    + queue[..pos].iter().map(|x| r.orders[x].2).sum::<i64>();
                prop_assert_eq!(b.queue_position(*id), Some(ahead));
            }
        }
    }
}

/// CKS (2014) eq. 10 written out with explicit cases; empty side = price
/// -inf (bids) / +inf (asks) with size 0.
fn naive_ofi(p: lobkit_core::signals::Top, c: lobkit_core::signals::Top) -> i64 {
    let bid = |t: &lobkit_core::signals::Top| {
        if t.bid_qty > 0 {
            t.bid_price as f64
        } else {
            f64::NEG_INFINITY
        }
    };
    let ask = |t: &lobkit_core::signals::Top| {
        if t.ask_qty > 0 {
            t.ask_price as f64
        } else {
            f64::INFINITY
        }
    };
    let mut e = 0;
    if bid(&c) >= bid(&p) {
        e += c.bid_qty;
    }
    if bid(&c) <= bid(&p) {
        e -= p.bid_qty;
    }
    if ask(&c) <= ask(&p) {
        e -= c.ask_qty;
    }
    if ask(&c) >= ask(&p) {
        e += p.ask_qty;
    }
    e
}

fn check_rows<B: lobkit_core::Book>(
    book: &mut B,
    evs: &[Event],
    depth: usize,
) -> Result<(), TestCaseError> {
    use lobkit_core::bulk::{replay, OnError, ReplayConfig};
    let cfg = ReplayConfig {
        depth,
        on_error: OnError::Skip,
        check_ts: false,
        chunk: 7,
        signals: true,
        ..Default::default()
    };
    let mut stepper = book.clone();
    let mut inst = lobkit_core::Instrument::new(book.clone());
    let out = replay(&mut inst, evs, &cfg, &mut |_| true);
    *book = inst.book().clone();
    prop_assert!(out.is_ok());
    let out = out.unwrap();
    for (i, ev) in evs.iter().enumerate() {
        let before = lobkit_core::signals::Top::of(stepper.levels());
        let prev_levels = [
            stepper.levels().levels(Side::Bid, depth),
            stepper.levels().levels(Side::Ask, depth),
        ];
        // The replay skipped exactly the events the plain book refuses.
        let ch = match stepper.apply_event(ev) {
            Ok(ch) => {
                prop_assert_eq!(out.skipped_mask[i], 0);
                ch
            }
            Err(_) => {
                prop_assert_eq!(out.skipped_mask[i], 1);
                lobkit_core::Changes::default()
            }
        };
        // Signals against a from-scratch recomputation with the naive rule.
        let after = lobkit_core::signals::Top::of(stepper.levels());
        prop_assert_eq!(out.ofi[i], naive_ofi(before, after));
        // Message accounting (eq. 4): size changes at or inside the touch.
        let mut msg = 0;
        for c in [ch.first, ch.second].into_iter().flatten() {
            let at_touch = if c.side == 1 {
                before.bid_qty == 0 || c.price >= before.bid_price
            } else {
                before.ask_qty == 0 || c.price <= before.ask_price
            };
            if at_touch {
                msg += c.side as i64 * (c.new_qty - c.prev_qty);
            }
        }
        prop_assert_eq!(out.ofi_msg[i], msg, "event {} {:?}", i, ev);
        // Where CKS say the two coincide: every event that changes one level
        // (all but price-changing modifies) and is order flow (not a reset).
        if ch.second.is_none() && ev.kind != kind::CLEAR {
            prop_assert_eq!(out.ofi_msg[i], out.ofi[i], "event {} {:?}", i, ev);
        }
        for m in 0..depth {
            let lv = |v: &Vec<(i64, i64)>| v.get(m).copied().unwrap_or((0, 0));
            let cur_b = lv(&stepper.levels().levels(Side::Bid, depth));
            let cur_a = lv(&stepper.levels().levels(Side::Ask, depth));
            let want = naive_ofi(
                lobkit_core::signals::Top {
                    bid_price: lv(&prev_levels[0]).0,
                    bid_qty: lv(&prev_levels[0]).1,
                    ask_price: lv(&prev_levels[1]).0,
                    ask_qty: lv(&prev_levels[1]).1,
                },
                lobkit_core::signals::Top {
                    bid_price: cur_b.0,
                    bid_qty: cur_b.1,
                    ask_price: cur_a.0,
                    ask_qty: cur_a.1,
                },
            );
            prop_assert_eq!(out.ofi_levels[i * depth + m], want, "level {}", m);
        }
        let (bq, aq) = (after.bid_qty as f64, after.ask_qty as f64);
        let imb = if bq + aq == 0.0 {
            0.0
        } else {
            (bq - aq) / (bq + aq)
        };
        prop_assert!((out.imbalance[i] - imb).abs() < 1e-12);
        for (side, price, size) in [
            (Side::Bid, &out.bid_price, &out.bid_size),
            (Side::Ask, &out.ask_price, &out.ask_size),
        ] {
            let mut want = stepper.levels().levels(side, depth);
            want.resize(depth, (0, 0));
            let got: Vec<(i64, i64)> = (0..depth)
                .map(|j| (price[i * depth + j], size[i * depth + j]))
                .collect();
            prop_assert_eq!(got, want, "event {} {:?}", i, ev);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The incrementally maintained top-N rows equal a fresh scan after every event.
    #[test]
    fn replay_rows_equal_fresh_scan_l2(ops in prop::collection::vec(l2_op(), 1..300), depth in 1usize..6) {
        let evs: Vec<Event> = ops.iter().map(|op| match op {
            L2Op::Set(s, p, q) => Event::new(0, kind::SET_LEVEL, if *s { 1 } else { -1 }, *p, *q, 0),
            L2Op::Clear => Event::new(0, kind::CLEAR, 0, 0, 0, 0),
        }).collect();
        check_rows(&mut L2Book::new(), &evs, depth)?;
    }

    #[test]
    fn replay_rows_equal_fresh_scan_l3(evs in prop::collection::vec(l3_event(), 1..300), depth in 1usize..6) {
        let mut b = L3Book::new();
        b.unknown_id = UnknownIdPolicy::Anonymous;
        check_rows(&mut b, &evs, depth)?;
    }
}
