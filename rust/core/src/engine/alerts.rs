//! The engine's alert queue: a bounded single-producer (engine thread) /
//! single-consumer (the handle's owner) ring of alerts, atomics only, with
//! the same Release/Acquire protocol as [`super::ring`]. The engine never
//! waits on it: when it is full, new alerts are counted as dropped.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::detect::Alert;

const W: usize = 15;

/// An alert and the instrument it came from.
pub type Tagged = (u32, Alert);

fn encode(inst: u32, a: &Alert) -> [u64; W] {
    [
        inst as u64,
        a.ts as u64,
        a.kind as u64,
        a.side as i64 as u64,
        a.price as u64,
        a.order_id,
        a.score.to_bits(),
        a.size as u64,
        a.size_ratio.to_bits(),
        a.lifetime_ns as u64,
        a.fill_frac.to_bits(),
        a.opp_volume as u64,
        a.price_move.to_bits(),
        a.count as u64,
        a.event_index,
    ]
}

fn decode(w: &[u64; W]) -> Tagged {
    (
        w[0] as u32,
        Alert {
            ts: w[1] as i64,
            kind: w[2] as u8,
            side: w[3] as i64 as i8,
            price: w[4] as i64,
            order_id: w[5],
            score: f64::from_bits(w[6]),
            size: w[7] as i64,
            size_ratio: f64::from_bits(w[8]),
            lifetime_ns: w[9] as i64,
            fill_frac: f64::from_bits(w[10]),
            opp_volume: w[11] as i64,
            price_move: f64::from_bits(w[12]),
            count: w[13] as i64,
            event_index: w[14],
        },
    )
}

/// The queue.
#[derive(Debug)]
pub struct AlertQueue {
    mask: u64,
    head: AtomicU64,
    tail: AtomicU64,
    dropped: AtomicU64,
    slots: Box<[AtomicU64]>,
}

impl AlertQueue {
    /// At least `capacity` alerts (power of two).
    pub fn new(capacity: usize) -> AlertQueue {
        let cap = capacity.max(2).next_power_of_two();
        AlertQueue {
            mask: cap as u64 - 1,
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            slots: (0..cap * W).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Producer: enqueues what fits, counts the rest as dropped.
    pub fn push(&self, inst: u32, alerts: &[Alert]) {
        let t = self.tail.load(Ordering::Relaxed);
        let h = self.head.load(Ordering::Acquire);
        let free = (self.mask + 1 - (t - h)) as usize;
        let n = free.min(alerts.len());
        for (k, a) in alerts[..n].iter().enumerate() {
            let base = ((t + k as u64) & self.mask) as usize * W;
            for (slot, x) in self.slots[base..base + W].iter().zip(encode(inst, a)) {
                slot.store(x, Ordering::Relaxed);
            }
        }
        if n > 0 {
            self.tail.store(t + n as u64, Ordering::Release);
        }
        if n < alerts.len() {
            self.dropped
                .fetch_add((alerts.len() - n) as u64, Ordering::Relaxed);
        }
    }

    /// Consumer: everything queued, oldest first.
    pub fn drain(&self) -> Vec<Tagged> {
        let h = self.head.load(Ordering::Relaxed);
        let t = self.tail.load(Ordering::Acquire);
        let mut out = Vec::with_capacity((t - h) as usize);
        for i in h..t {
            let base = (i & self.mask) as usize * W;
            let mut w = [0u64; W];
            for (x, slot) in w.iter_mut().zip(&self.slots[base..base + W]) {
                *x = slot.load(Ordering::Relaxed);
            }
            out.push(decode(&w));
        }
        self.head.store(t, Ordering::Release);
        out
    }

    /// Alerts dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_order_and_overflow_count() {
        let q = AlertQueue::new(4);
        let a = |i: i64| Alert {
            ts: i,
            kind: 1,
            side: -1,
            price: 100 + i,
            order_id: 7,
            score: 0.5,
            price_move: -1.5,
            ..Alert::default()
        };
        q.push(3, &[a(1), a(2), a(3)]);
        q.push(4, &[a(4), a(5)]);
        assert_eq!(q.dropped(), 1);
        let got = q.drain();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], (3, a(1)));
        assert_eq!(got[3], (4, a(4)));
        assert!(q.drain().is_empty());
    }
}
