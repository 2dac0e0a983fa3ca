//! A bounded single-producer / single-consumer ring of (instrument, event)
//! records, built from atomics only (no `unsafe`).
//!
//! Each slot is 6 words: the instrument index (bit 63: the last event of a
//! push, a message boundary) and the 40-byte [`Event`].
//! `tail` (written by the producer) and `head` (written by the consumer) are
//! monotonically increasing counters; slot `i` lives at `i % capacity`.
//!
//! Ordering: the producer stores the slot words (Relaxed), then publishes
//! them with `tail.store(Release)`; the consumer's `tail.load(Acquire)`
//! therefore sees the words. Symmetrically the consumer releases slots with
//! `head.store(Release)` after reading them, and the producer's
//! `head.load(Acquire)` orders its later overwrites after those reads. Each
//! counter has exactly one writer, so no compare-and-swap is needed.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::types::Event;

const WORDS: usize = 6;
/// Marks the last record of a push in the instrument word.
const END: u64 = 1 << 63;

/// The shared ring.
#[derive(Debug)]
pub struct Ring {
    cap: u64,
    mask: u64,
    head: AtomicU64,
    tail: AtomicU64,
    slots: Box<[AtomicU64]>,
}

impl Ring {
    /// A ring of at least `capacity` slots (rounded up to a power of two, >= 2).
    pub fn new(capacity: usize) -> Ring {
        let cap = capacity.max(2).next_power_of_two() as u64;
        Ring {
            cap,
            mask: cap - 1,
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            slots: (0..cap as usize * WORDS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    /// Slots.
    pub fn capacity(&self) -> usize {
        self.cap as usize
    }

    /// Records pushed and not yet consumed (a snapshot; may be stale).
    pub fn len(&self) -> usize {
        let t = self.tail.load(Ordering::Acquire);
        let h = self.head.load(Ordering::Acquire);
        t.saturating_sub(h) as usize
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Producer: pushes as many of `events` as fit, all for `instrument`;
    /// returns how many. When all of them fit, the last is marked as the end
    /// of a push (see [`Ring::pop_with`]). Never blocks. Single producer only.
    pub fn push(&self, instrument: u32, events: &[Event]) -> usize {
        let t = self.tail.load(Ordering::Relaxed);
        let h = self.head.load(Ordering::Acquire);
        let free = (self.cap - (t - h)) as usize;
        let n = free.min(events.len());
        for (k, ev) in events[..n].iter().enumerate() {
            let base = ((t + k as u64) & self.mask) as usize * WORDS;
            let w: &[u64; 5] = bytemuck::cast_ref(ev);
            let end = if k + 1 == events.len() { END } else { 0 };
            self.slots[base].store(instrument as u64 | end, Ordering::Relaxed);
            for (slot, &x) in self.slots[base + 1..base + WORDS].iter().zip(w) {
                slot.store(x, Ordering::Relaxed);
            }
        }
        if n > 0 {
            self.tail.store(t + n as u64, Ordering::Release);
        }
        n
    }

    /// Consumer: calls `f(instrument, event, end)` for up to `max` waiting
    /// records in order and frees their slots; returns how many. `end` is
    /// true for the last event of a push. Single consumer only.
    pub fn pop_with(&self, max: usize, mut f: impl FnMut(u32, &Event, bool)) -> usize {
        let h = self.head.load(Ordering::Relaxed);
        let t = self.tail.load(Ordering::Acquire);
        let n = ((t - h) as usize).min(max);
        for k in 0..n {
            let base = ((h + k as u64) & self.mask) as usize * WORDS;
            let head = self.slots[base].load(Ordering::Relaxed);
            let inst = head as u32;
            let mut w = [0u64; 5];
            for (j, x) in w.iter_mut().enumerate() {
                *x = self.slots[base + 1 + j].load(Ordering::Relaxed);
            }
            let ev: Event = bytemuck::cast(w);
            f(inst, &ev, head & END != 0);
        }
        if n > 0 {
            self.head.store(h + n as u64, Ordering::Release);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::kind;

    #[test]
    fn fifo_wraps_and_refuses_when_full() {
        let r = Ring::new(3);
        assert_eq!(r.capacity(), 4);
        let evs: Vec<Event> = (0..6)
            .map(|i| Event::new(i, kind::SET_LEVEL, 1, 100 + i, 1, 0))
            .collect();
        assert_eq!(r.push(7, &evs), 4);
        assert_eq!(r.push(7, &evs[4..]), 0);
        let mut got = Vec::new();
        assert_eq!(r.pop_with(3, |i, e, _| got.push((i, e.ts))), 3);
        assert_eq!(r.push(9, &evs[4..]), 2);
        assert_eq!(r.pop_with(10, |i, e, _| got.push((i, e.ts))), 3);
        assert_eq!(got, vec![(7, 0), (7, 1), (7, 2), (7, 3), (9, 4), (9, 5)]);
        assert!(r.is_empty());
    }

    #[test]
    fn two_threads_lose_nothing() {
        let r = std::sync::Arc::new(Ring::new(64));
        let n = 200_000i64;
        let prod = {
            let r = r.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while i < n {
                    let batch: Vec<Event> = (i..(i + 37).min(n))
                        .map(|k| Event::new(k, kind::ADD, 1, k, 1, k as u64))
                        .collect();
                    let mut done = 0;
                    while done < batch.len() {
                        done += r.push(1, &batch[done..]);
                        std::hint::spin_loop();
                    }
                    i += batch.len() as i64;
                }
            })
        };
        let mut next = 0i64;
        while next < n {
            r.pop_with(usize::MAX, |_, e, _| {
                assert_eq!(e.ts, next);
                assert_eq!(e.order_id, next as u64);
                next += 1;
            });
        }
        assert!(prod.join().is_ok());
    }
}
