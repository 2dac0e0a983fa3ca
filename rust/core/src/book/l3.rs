//! Order-by-order (L3) book: FIFO queues per price level, O(1) cancel by id,
//! level totals kept incrementally in an embedded [`L2Book`] (the L2 view).
//!
//! Orders live in a slab (`Vec<Order>` plus a free list) and each level's
//! queue is an intrusive doubly-linked list through the slab, so cancel,
//! execute and delete are O(1) after one hash lookup, and a freed slot is
//! reused by the next add: no heap allocation per event in steady state.
//!
//! Liquidity without an order id ("anonymous": volume resting before the
//! stream began, e.g. LOBSTER's pre-09:30 orders) sits at the *front* of its
//! level's queue, because it arrived before anything the stream shows.

use super::l2::{check_price, check_qty, CrossPolicy, L2Book, LevelChange, MAX_QTY};
use super::{check_print, check_side_hint};
use crate::error::ErrorKind;
use crate::types::{kind, Event, OrderId, Price, Qty, Side};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Order {
    id: OrderId,
    price: Price,
    qty: Qty,
    side: Side,
    prev: u32,
    next: u32,
}

#[derive(Clone, Copy, Debug)]
struct Queue {
    head: u32,
    tail: u32,
    /// Anonymous lots at the front of the queue.
    anon: Qty,
    /// Named orders in the queue.
    count: u32,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            head: NIL,
            tail: NIL,
            anon: 0,
            count: 0,
        }
    }
}

/// What to do with a cancel/delete/execute whose order id is not resting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnknownIdPolicy {
    /// Fail with [`ErrorKind::UnknownOrder`] (book unchanged).
    #[default]
    Error,
    /// Take the size from anonymous liquidity at the event's (side, price),
    /// as far as there is any; lots not found are added to
    /// `stats.unmatched_qty`. For feeds whose stream starts mid-day (LOBSTER).
    Anonymous,
    /// Ignore the event and count it in `stats.unknown_ids`.
    Skip,
}

/// Up to two level changes caused by one L3 event (a modify that moves an
/// order touches two levels).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// First level changed, if any.
    pub first: Option<LevelChange>,
    /// Second level changed (price-changing modify only).
    pub second: Option<LevelChange>,
}

impl Changes {
    /// The level changes, first then second, by reference (no copy of the
    /// records: this runs on every event of every path).
    #[inline(always)]
    pub fn iter(&self) -> impl Iterator<Item = &LevelChange> {
        self.first.iter().chain(self.second.iter())
    }

    /// True when a change moved a side's best price or its size.
    #[inline]
    pub fn best_changed(&self) -> bool {
        self.first.is_some_and(|c| c.best_changed())
            || self.second.is_some_and(|c| c.best_changed())
    }

    fn one(c: LevelChange) -> Changes {
        Changes {
            first: Some(c),
            second: None,
        }
    }
}

/// Resting order as seen from outside (ticks, lots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderInfo {
    /// Side.
    pub side: Side,
    /// Price (ticks).
    pub price: Price,
    /// Remaining size (lots).
    pub qty: Qty,
}

/// Order-by-order book.
#[derive(Clone, Debug, Default)]
pub struct L3Book {
    l2: L2Book,
    index: FxHashMap<OrderId, u32>,
    slab: Vec<Order>,
    free: Vec<u32>,
    queues: FxHashMap<i64, Queue>,
    /// Policy for unknown order ids.
    pub unknown_id: UnknownIdPolicy,
}

#[inline]
fn level_key(side: Side, price: Price) -> i64 {
    // Prices are bounded by ±2^60, so the shift cannot overflow.
    (price << 1) | (side == Side::Bid) as i64
}

impl L3Book {
    /// An empty book.
    pub fn new() -> L3Book {
        L3Book::default()
    }

    /// The aggregated price-level view (level totals include anonymous lots).
    #[inline]
    pub fn l2(&self) -> &L2Book {
        &self.l2
    }

    /// Mutable access to the L2 view's policy and counters.
    pub fn l2_mut(&mut self) -> &mut L2Book {
        &mut self.l2
    }

    /// Sets the crossing policy.
    pub fn set_cross_policy(&mut self, p: CrossPolicy) {
        self.l2.cross_policy = p;
    }

    /// Number of named resting orders.
    pub fn order_count(&self) -> usize {
        self.index.len()
    }

    /// A resting order by id.
    pub fn order(&self, id: OrderId) -> Option<OrderInfo> {
        let &s = self.index.get(&id)?;
        let o = &self.slab[s as usize];
        Some(OrderInfo {
            side: o.side,
            price: o.price,
            qty: o.qty,
        })
    }

    /// Lots ahead of order `id` in its level's FIFO queue (anonymous lots
    /// included). O(position).
    pub fn queue_position(&self, id: OrderId) -> Option<Qty> {
        let &s = self.index.get(&id)?;
        let o = &self.slab[s as usize];
        let q = self.queues.get(&level_key(o.side, o.price))?;
        let mut ahead = q.anon;
        let mut cur = q.head;
        while cur != s && cur != NIL {
            ahead += self.slab[cur as usize].qty;
            cur = self.slab[cur as usize].next;
        }
        Some(ahead)
    }

    /// Order ids at a level in queue order (front first).
    pub fn queue(&self, side: Side, price: Price) -> Vec<(OrderId, Qty)> {
        let mut v = Vec::new();
        if let Some(q) = self.queues.get(&level_key(side, price)) {
            let mut cur = q.head;
            while cur != NIL {
                let o = &self.slab[cur as usize];
                v.push((o.id, o.qty));
                cur = o.next;
            }
        }
        v
    }

    /// Anonymous lots at a level.
    pub fn anonymous_at(&self, side: Side, price: Price) -> Qty {
        self.queues
            .get(&level_key(side, price))
            .map_or(0, |q| q.anon)
    }

    /// Refuses `qty` more lots at (side, price) when the level's total would
    /// pass [`MAX_QTY`]: totals stay far from i64 overflow however many
    /// orders join a level (2,048 orders of 2^52 lots once wrapped to < 0).
    #[inline]
    fn check_room(&self, side: Side, price: Price, qty: Qty) -> Result<(), ErrorKind> {
        if self.l2.qty_at(side, price) > MAX_QTY - qty {
            return Err(ErrorKind::InvalidSize {
                size: qty,
                reason: "the level's total would pass 2^52 lots",
            });
        }
        Ok(())
    }

    #[inline]
    fn level_delta(&mut self, side: Side, price: Price, delta: Qty) -> LevelChange {
        let cur = self.l2.qty_at(side, price);
        self.l2.set_level_unchecked(side, price, cur + delta)
    }

    /// Appends order `slot` at the back of its level's queue.
    #[inline]
    fn link_back(&mut self, slot: u32) {
        let (side, price) = {
            let o = &self.slab[slot as usize];
            (o.side, o.price)
        };
        let q = self.queues.entry(level_key(side, price)).or_default();
        let tail = q.tail;
        q.tail = slot;
        if tail == NIL {
            q.head = slot;
        }
        q.count += 1;
        let o = &mut self.slab[slot as usize];
        o.prev = tail;
        o.next = NIL;
        if tail != NIL {
            self.slab[tail as usize].next = slot;
        }
    }

    /// Removes order `slot` from its level's queue (the slot stays allocated).
    #[inline]
    fn unlink(&mut self, slot: u32) {
        let (side, price, prev, next) = {
            let o = &self.slab[slot as usize];
            (o.side, o.price, o.prev, o.next)
        };
        if prev != NIL {
            self.slab[prev as usize].next = next;
        }
        if next != NIL {
            self.slab[next as usize].prev = prev;
        }
        if let Entry::Occupied(mut e) = self.queues.entry(level_key(side, price)) {
            let q = e.get_mut();
            if q.head == slot {
                q.head = next;
            }
            if q.tail == slot {
                q.tail = prev;
            }
            q.count -= 1;
            if q.count == 0 && q.anon == 0 {
                e.remove();
            }
        }
    }

    /// Adds order `id` (side, price ticks, qty lots) at the back of its queue.
    pub fn add(
        &mut self,
        id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<Changes, ErrorKind> {
        check_price(price)?;
        check_qty(qty, true)?;
        self.l2.check_cross(side, price, qty)?;
        self.check_room(side, price, qty)?;
        let Entry::Vacant(vacant) = self.index.entry(id) else {
            return Err(ErrorKind::DuplicateOrder { order_id: id });
        };
        let order = Order {
            id,
            price,
            qty,
            side,
            prev: NIL,
            next: NIL,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = order;
                s
            }
            None => {
                self.slab.push(order);
                (self.slab.len() - 1) as u32
            }
        };
        vacant.insert(slot);
        self.link_back(slot);
        Ok(Changes::one(self.level_delta(side, price, qty)))
    }

    /// Takes `qty` lots off order `slot` (deleting it when none remain).
    #[inline]
    fn reduce(&mut self, slot: u32, qty: Qty) -> LevelChange {
        let (side, price, left, id) = {
            let o = &mut self.slab[slot as usize];
            o.qty -= qty;
            (o.side, o.price, o.qty, o.id)
        };
        if left == 0 {
            self.index.remove(&id);
            self.release(slot);
        }
        self.level_delta(side, price, -qty)
    }

    /// Unlinks and frees a slot whose index entry is already gone.
    #[inline]
    fn release(&mut self, slot: u32) {
        self.unlink(slot);
        self.free.push(slot);
    }

    /// Serves an unknown id under the policy; `side`/`price` come from the event.
    fn unknown(
        &mut self,
        id: OrderId,
        side: i8,
        price: Price,
        qty: Qty,
    ) -> Result<Changes, ErrorKind> {
        match self.unknown_id {
            UnknownIdPolicy::Error => Err(ErrorKind::UnknownOrder { order_id: id }),
            UnknownIdPolicy::Skip => {
                self.l2.stats.unknown_ids += 1;
                Ok(Changes::default())
            }
            UnknownIdPolicy::Anonymous => {
                let side = Side::parse(side)?;
                check_price(price)?;
                check_qty(qty, false)?;
                let k = level_key(side, price);
                let take = self.queues.get(&k).map_or(0, |q| q.anon.min(qty));
                if take < qty {
                    self.l2.stats.unmatched_qty += qty - take;
                }
                if take == 0 {
                    self.l2.stats.unknown_ids += 1;
                    return Ok(Changes::default());
                }
                self.l2.stats.anonymous_fills += 1;
                let mut drop_level = false;
                if let Some(q) = self.queues.get_mut(&k) {
                    q.anon -= take;
                    drop_level = q.anon == 0 && q.count == 0;
                }
                if drop_level {
                    self.queues.remove(&k);
                }
                Ok(Changes::one(self.level_delta(side, price, -take)))
            }
        }
    }

    /// Removes `qty` lots from order `id`, keeping its priority; deletes it
    /// when nothing is left. `side`/`price` are used only for unknown ids
    /// under [`UnknownIdPolicy::Anonymous`].
    pub fn cancel(
        &mut self,
        id: OrderId,
        qty: Qty,
        side: i8,
        price: Price,
    ) -> Result<Changes, ErrorKind> {
        check_qty(qty, true)?;
        let Some(&slot) = self.index.get(&id) else {
            return self.unknown(id, side, price, qty);
        };
        let resting = self.slab[slot as usize].qty;
        if qty > resting {
            return Err(ErrorKind::Overfill {
                order_id: id,
                size: qty,
                resting,
            });
        }
        Ok(Changes::one(self.reduce(slot, qty)))
    }

    /// Executes `qty` lots of resting order `id` (same book effect as a
    /// cancel; kept separate so trade-driven signals can tell them apart).
    #[inline]
    pub fn execute(
        &mut self,
        id: OrderId,
        qty: Qty,
        side: i8,
        price: Price,
    ) -> Result<Changes, ErrorKind> {
        self.cancel(id, qty, side, price)
    }

    /// Deletes order `id` whatever its size. For unknown ids under the
    /// anonymous policy, `qty` lots are taken from anonymous liquidity.
    pub fn delete(
        &mut self,
        id: OrderId,
        qty: Qty,
        side: i8,
        price: Price,
    ) -> Result<Changes, ErrorKind> {
        let Some(&slot) = self.index.get(&id) else {
            return self.unknown(id, side, price, qty);
        };
        let resting = self.slab[slot as usize].qty;
        Ok(Changes::one(self.reduce(slot, resting)))
    }

    /// Order `id` now rests at `price` with `qty` lots. Size down at the same
    /// price keeps queue priority; a price change or a size increase sends it
    /// to the back of the new level. `qty == 0` deletes it.
    pub fn modify(&mut self, id: OrderId, price: Price, qty: Qty) -> Result<Changes, ErrorKind> {
        check_price(price)?;
        check_qty(qty, false)?;
        let Some(&slot) = self.index.get(&id) else {
            if self.unknown_id == UnknownIdPolicy::Error {
                return Err(ErrorKind::UnknownOrder { order_id: id });
            }
            self.l2.stats.unknown_ids += 1;
            return Ok(Changes::default());
        };
        let (side, old_price, old_qty) = {
            let o = &self.slab[slot as usize];
            (o.side, o.price, o.qty)
        };
        if qty == 0 {
            return Ok(Changes::one(self.reduce(slot, old_qty)));
        }
        if price == old_price && qty <= old_qty {
            if qty == old_qty {
                return Ok(Changes::default());
            }
            return Ok(Changes::one(self.reduce(slot, old_qty - qty)));
        }
        if price != old_price {
            self.l2.check_cross(side, price, qty)?;
            self.check_room(side, price, qty)?;
        } else {
            self.check_room(side, price, qty - old_qty)?;
        }
        self.unlink(slot);
        let first = self.level_delta(side, old_price, -old_qty);
        {
            let o = &mut self.slab[slot as usize];
            o.price = price;
            o.qty = qty;
        }
        self.link_back(slot);
        let second = self.level_delta(side, price, qty);
        Ok(Changes {
            first: Some(first),
            second: Some(second),
        })
    }

    /// Adds `qty` anonymous lots at the front of (side, price).
    pub fn seed(&mut self, side: Side, price: Price, qty: Qty) -> Result<Changes, ErrorKind> {
        check_price(price)?;
        check_qty(qty, true)?;
        self.l2.check_cross(side, price, qty)?;
        self.check_room(side, price, qty)?;
        self.queues.entry(level_key(side, price)).or_default().anon += qty;
        Ok(Changes::one(self.level_delta(side, price, qty)))
    }

    /// Removes every order of one side, or of both when `side` is `None`.
    pub fn clear(&mut self, side: Option<Side>) {
        match side {
            None => {
                self.index.clear();
                self.slab.clear();
                self.free.clear();
                self.queues.clear();
            }
            Some(s) => {
                let ids: Vec<OrderId> = self
                    .index
                    .iter()
                    .filter(|(_, &slot)| self.slab[slot as usize].side == s)
                    .map(|(&id, _)| id)
                    .collect();
                for id in ids {
                    if let Some(slot) = self.index.remove(&id) {
                        self.free.push(slot);
                    }
                }
                let bid = (s == Side::Bid) as i64;
                self.queues.retain(|k, _| (k & 1) != bid);
            }
        }
        self.l2.clear(side);
    }

    /// Applies one bulk event (all L3 kinds, CLEAR, TRADE, HALT, LIQUIDATION).
    #[inline]
    pub fn apply(&mut self, ev: &Event) -> Result<Changes, ErrorKind> {
        match ev.kind {
            kind::ADD => {
                let side = Side::parse(ev.side)?;
                self.add(ev.order_id, side, ev.price, ev.size)
            }
            kind::CANCEL => {
                check_side_hint(ev.side)?;
                self.cancel(ev.order_id, ev.size, ev.side, ev.price)
            }
            kind::EXECUTE => {
                check_side_hint(ev.side)?;
                if let Some(o) = self.order(ev.order_id) {
                    if ev.side != 0 && ev.side != o.side as i8 {
                        return Err(ErrorKind::SideMismatch {
                            order_id: ev.order_id,
                            side: ev.side,
                            resting: o.side,
                        });
                    }
                }
                self.execute(ev.order_id, ev.size, ev.side, ev.price)
            }
            kind::DELETE => {
                check_side_hint(ev.side)?;
                self.delete(ev.order_id, ev.size, ev.side, ev.price)
            }
            kind::MODIFY => self.modify(ev.order_id, ev.price, ev.size),
            kind::SEED => {
                let side = Side::parse(ev.side)?;
                self.seed(side, ev.price, ev.size)
            }
            kind::CLEAR => {
                let side = Side::parse_optional(ev.side)?;
                self.clear(side);
                Ok(Changes::default())
            }
            kind::TRADE | kind::LIQUIDATION => check_print(ev).map(|_| Changes::default()),
            kind::HALT => Ok(Changes::default()),
            k => Err(ErrorKind::InvalidKind {
                kind: k,
                book: "L3",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_priority_and_modify_rules() {
        let mut b = L3Book::new();
        assert!(b.add(1, Side::Bid, 100, 5).is_ok());
        assert!(b.add(2, Side::Bid, 100, 3).is_ok());
        assert!(b.add(3, Side::Bid, 100, 4).is_ok());
        assert_eq!(b.queue_position(3), Some(8));
        // size down keeps priority
        assert!(b.modify(1, 100, 2).is_ok());
        assert_eq!(b.queue_position(2), Some(2));
        // size up loses it
        assert!(b.modify(1, 100, 6).is_ok());
        assert_eq!(b.queue(Side::Bid, 100), vec![(2, 3), (3, 4), (1, 6)]);
        assert_eq!(b.l2().best_bid(), Some((100, 13)));
        // O(1) cancel from the middle
        assert!(b.cancel(3, 4, 1, 100).is_ok());
        assert_eq!(b.queue(Side::Bid, 100), vec![(2, 3), (1, 6)]);
        // price change moves it
        assert!(b.modify(2, 101, 3).is_ok());
        assert_eq!(b.l2().levels(Side::Bid, 5), vec![(101, 3), (100, 6)]);
        assert_eq!(
            b.execute(1, 7, 1, 100),
            Err(ErrorKind::Overfill {
                order_id: 1,
                size: 7,
                resting: 6
            })
        );
        assert!(b.execute(1, 6, 1, 100).is_ok());
        assert_eq!(b.order_count(), 1);
        assert_eq!(
            b.add(2, Side::Ask, 105, 1),
            Err(ErrorKind::DuplicateOrder { order_id: 2 })
        );
    }

    #[test]
    fn anonymous_liquidity_is_consumed_first_and_counted() {
        let mut b = L3Book::new();
        b.unknown_id = UnknownIdPolicy::Anonymous;
        assert!(b.seed(Side::Ask, 200, 10).is_ok());
        assert!(b.add(7, Side::Ask, 200, 5).is_ok());
        assert_eq!(b.queue_position(7), Some(10));
        assert!(b.execute(99, 4, -1, 200).is_ok());
        assert_eq!(b.anonymous_at(Side::Ask, 200), 6);
        assert!(b.delete(98, 8, -1, 200).is_ok()); // only 6 anonymous lots left
        assert_eq!(b.l2().stats.unmatched_qty, 2);
        assert_eq!(b.l2().best_ask(), Some((200, 5)));
    }
}
