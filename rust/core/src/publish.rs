//! One writer, many lock-free readers: a sequence lock over a fixed block of
//! 64-bit words holding the top of the book, the top-N levels and the signal
//! values after an event.
//!
//! The writer never waits: it bumps the sequence to odd, stores the words,
//! and bumps it to even. A reader copies the words between two reads of the
//! sequence and retries when they differ or were odd. Readers never write
//! shared memory, so any number of them cost the writer nothing but cache
//! traffic on the lines they read.
//!
//! # Memory ordering (Boehm, "Can seqlocks get along with programming
//! language memory models?", MSPC 2012, the fence-based variant)
//!
//! Every data word is an `AtomicU64` accessed with `Relaxed` loads and
//! stores, so concurrent access is never a data race (no undefined
//! behaviour, unlike a `memcpy` seqlock); the ordering comes from fences:
//!
//! ```text
//! writer                                   reader
//! s = seq (Relaxed, own value)             s1 = seq.load(Acquire)
//! seq.store(s + 1, Relaxed)                if s1 odd: retry
//! fence(Release)                           d_i = data[i].load(Relaxed) ...
//! data[i].store(v_i, Relaxed) ...          fence(Acquire)
//! seq.store(s + 2, Release)                s2 = seq.load(Relaxed)
//!                                          ok iff s1 == s2
//! ```
//!
//! - If the reader saw `s1 = s + 2` (acquire on the writer's release store),
//!   every data store of that publication happens-before its data loads, so
//!   it reads those values or later ones.
//! - If any data load read a value stored by a *later* publication (after
//!   that publication's `fence(Release)`), the release fence synchronises with
//!   the reader's `fence(Acquire)`, so the odd store `seq = s' + 1` that
//!   precedes the fence happens-before the reader's `s2` load: `s2 >= s' + 1
//!   > s1`, and the copy is discarded.
//!
//! So an accepted copy holds exactly the words of publication `s1 / 2`: never
//! half old, half new. [`SeqBlock`] applies this per slot over [`SLOTS`]
//! rotating slots, so readers are not starved by a writer that publishes
//! after every event. This is model-checked with `loom` in
//! `tests/loom_publish.rs` (`RUSTFLAGS="--cfg loom"`), and stress-tested with
//! a per-snapshot checksum in `tests/publish_stress.rs`.

#[cfg(loom)]
use loom::sync::atomic::{fence, AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{fence, AtomicU64, Ordering};

use std::sync::Arc;

use crate::types::{Price, Qty, Ts};

/// Signal values carried with each snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SignalValues {
    /// OFI e_n of the last event (lots).
    pub ofi: i64,
    /// Running OFI total (lots).
    pub ofi_total: i64,
    /// Running message-accounting OFI total (lots).
    pub ofi_msg_total: i64,
    /// Level-1 queue imbalance in [-1, 1].
    pub imbalance: f64,
    /// Size-weighted mid (ticks; NaN when a side is empty).
    pub weighted_mid: f64,
}

/// A consistent copy of one publication. Prices in ticks, sizes in lots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Publication number: 1 for the first, +1 per publication; 0 = nothing
    /// published yet.
    pub seq: u64,
    /// Timestamp of the last event applied (ns).
    pub ts: Ts,
    /// Events the writer had applied when it published.
    pub events: u64,
    /// Up to N bid levels, best first.
    pub bids: Vec<(Price, Qty)>,
    /// Up to N ask levels, best first.
    pub asks: Vec<(Price, Qty)>,
    /// Signals after the last event.
    pub signals: SignalValues,
    /// Checksum of every other field as published (see [`checksum`]).
    pub checksum: u64,
}

// Word layout: header, then bid prices/sizes, ask prices/sizes, then checksum.
const H_TS: usize = 0;
const H_EVENTS: usize = 1;
const H_NB: usize = 2;
const H_NA: usize = 3;
const H_OFI: usize = 4;
const H_OFI_TOTAL: usize = 5;
const H_MSG_TOTAL: usize = 6;
const H_IMB: usize = 7;
const H_WMID: usize = 8;
const HEADER: usize = 9;

/// The checksum the writer stores and readers can verify: a multiply-xor
/// hash over the words (a torn copy would fail it with probability ~1 - 2^-64).
pub fn checksum(words: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for &w in words {
        h = (h ^ w).wrapping_mul(0x0100_0000_01B3).rotate_left(29);
    }
    h
}

/// Slots a [`SeqBlock`] rotates through. A reader must finish its copy
/// before the writer comes back to the same slot, so with K slots it has K
/// publication intervals instead of one: a plain (one-slot) seqlock starves
/// readers when the writer publishes after every event, because copying
/// ~50 words whose cache lines the writer keeps stealing takes longer than
/// the gap between two publications.
pub const SLOTS: usize = 8;

#[derive(Debug)]
struct Slot {
    /// `2n` when the slot holds publication `n`; odd while being written.
    seq: AtomicU64,
    words: Box<[AtomicU64]>,
}

/// The sequence-locked block of words: the primitive the memory-ordering
/// argument above is about, with [`SLOTS`] rotating slots. `write` must only
/// ever be called by one thread at a time ([`Publisher`] enforces that by
/// owning the only handle that can call it); `try_read` by any number.
///
/// Publication `n` goes to slot `n % SLOTS`, whose own sequence goes odd,
/// then the words, then `2n` (the per-slot seqlock above); then `latest = n`
/// is stored with Release. A reader loads `latest` (Acquire), reads that
/// slot under its seqlock, and accepts the copy only if the slot's sequence
/// was `2n` before and after — so the copy is exactly publication `n`.
#[derive(Debug)]
pub struct SeqBlock {
    latest: AtomicU64,
    len: usize,
    slots: Box<[Slot]>,
}

impl SeqBlock {
    /// A block of `n` zero words, nothing published (publication 0 = zeros).
    pub fn new(n: usize) -> SeqBlock {
        SeqBlock::with_slots(n, SLOTS)
    }

    /// With a given number of slots (>= 1; the loom model uses 1 and 2).
    pub fn with_slots(n: usize, slots: usize) -> SeqBlock {
        SeqBlock {
            latest: AtomicU64::new(0),
            len: n,
            slots: (0..slots.max(1))
                .map(|_| Slot {
                    seq: AtomicU64::new(0),
                    words: (0..n).map(|_| AtomicU64::new(0)).collect(),
                })
                .collect(),
        }
    }

    /// Words in the block.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a block of no words.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Publications so far.
    pub fn published(&self) -> u64 {
        self.latest.load(Ordering::Acquire)
    }

    /// Writer side: publishes `v` (`v.len() == len()`). Single writer only.
    pub fn write(&self, v: &[u64]) {
        // Only the writer stores `latest`: its own last value needs no ordering.
        let n = self.latest.load(Ordering::Relaxed).wrapping_add(1);
        let slot = &self.slots[(n % self.slots.len() as u64) as usize];
        let s = slot.seq.load(Ordering::Relaxed);
        slot.seq.store(s | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        for (a, &x) in slot.words.iter().zip(v) {
            a.store(x, Ordering::Relaxed);
        }
        slot.seq.store(n.wrapping_mul(2), Ordering::Release);
        self.latest.store(n, Ordering::Release);
    }

    /// Reader side: one attempt to copy the latest publication into `buf`
    /// (same length). `Ok(publication number)` when the copy is consistent.
    pub fn try_read(&self, buf: &mut [u64]) -> Result<u64, ReadError> {
        let n = self.latest.load(Ordering::Acquire);
        if n == 0 {
            // Nothing published: the zero block.
            buf.iter_mut().for_each(|b| *b = 0);
            return Ok(0);
        }
        let slot = &self.slots[(n % self.slots.len() as u64) as usize];
        let want = n.wrapping_mul(2);
        if slot.seq.load(Ordering::Acquire) != want {
            // Being rewritten for publication n + SLOTS already.
            return Err(ReadError::Contended);
        }
        for (b, a) in buf.iter_mut().zip(slot.words.iter()) {
            *b = a.load(Ordering::Relaxed);
        }
        fence(Ordering::Acquire);
        if slot.seq.load(Ordering::Relaxed) != want {
            return Err(ReadError::Contended);
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct Shared {
    levels: usize,
    block: SeqBlock,
}

impl Shared {
    fn n_words(levels: usize) -> usize {
        HEADER + 4 * levels + 1
    }
}

/// The single writer. Not `Clone`: one publisher per block, by construction.
#[derive(Debug)]
pub struct Publisher {
    shared: Arc<Shared>,
    scratch: Vec<u64>,
}

/// A reader handle: `Clone + Send + Sync`, usable from any thread.
#[derive(Clone, Debug)]
pub struct Reader {
    shared: Arc<Shared>,
}

/// A publisher of `levels` levels per side and its first reader.
pub fn channel(levels: usize) -> (Publisher, Reader) {
    let n = Shared::n_words(levels);
    let shared = Arc::new(Shared {
        levels,
        block: SeqBlock::new(n),
    });
    (
        Publisher {
            shared: shared.clone(),
            scratch: vec![0; n],
        },
        Reader { shared },
    )
}

impl Publisher {
    /// Levels per side carried.
    pub fn levels(&self) -> usize {
        self.shared.levels
    }

    /// A new reader of this publisher.
    pub fn reader(&self) -> Reader {
        Reader {
            shared: self.shared.clone(),
        }
    }

    /// Readers alive (excluding the publisher).
    pub fn readers(&self) -> usize {
        Arc::strong_count(&self.shared) - 1
    }

    /// Publications so far.
    pub fn published(&self) -> u64 {
        self.shared.block.published()
    }

    /// Publishes a snapshot. `bids`/`asks` beyond `levels` are cut. Never
    /// blocks and never allocates.
    pub fn publish(
        &mut self,
        ts: Ts,
        events: u64,
        bids: impl Iterator<Item = (Price, Qty)>,
        asks: impl Iterator<Item = (Price, Qty)>,
        sig: &SignalValues,
    ) {
        let n = self.shared.levels;
        let w = &mut self.scratch;
        w.fill(0);
        w[H_TS] = ts as u64;
        w[H_EVENTS] = events;
        w[H_OFI] = sig.ofi as u64;
        w[H_OFI_TOTAL] = sig.ofi_total as u64;
        w[H_MSG_TOTAL] = sig.ofi_msg_total as u64;
        w[H_IMB] = sig.imbalance.to_bits();
        w[H_WMID] = sig.weighted_mid.to_bits();
        let mut nb = 0;
        for (j, (p, q)) in bids.take(n).enumerate() {
            w[HEADER + j] = p as u64;
            w[HEADER + n + j] = q as u64;
            nb = j + 1;
        }
        let mut na = 0;
        for (j, (p, q)) in asks.take(n).enumerate() {
            w[HEADER + 2 * n + j] = p as u64;
            w[HEADER + 3 * n + j] = q as u64;
            na = j + 1;
        }
        w[H_NB] = nb as u64;
        w[H_NA] = na as u64;
        let last = w.len() - 1;
        w[last] = checksum(&w[..last]);
        self.shared.block.write(w);
    }
}

/// Outcome of one read attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The writer was mid-publication or published during the copy.
    Contended,
}

impl Reader {
    /// Levels per side carried.
    pub fn levels(&self) -> usize {
        self.shared.levels
    }

    /// The publication number currently visible (0 = none yet); one load.
    pub fn seq(&self) -> u64 {
        self.shared.block.published()
    }

    /// One attempt to copy the latest snapshot into `buf` (raw words,
    /// resized once). Returns the publication number on success.
    pub fn try_read_words(&self, buf: &mut Vec<u64>) -> Result<u64, ReadError> {
        buf.resize(self.shared.block.len(), 0);
        let seq = self.shared.block.try_read(buf)?;
        if seq == 0 {
            // Nothing published yet: the empty snapshot, with its checksum
            // so that every copy a reader gets verifies.
            if let Some((last, rest)) = buf.split_last_mut() {
                *last = checksum(rest);
            }
        }
        Ok(seq)
    }

    /// Copies the latest snapshot, retrying while the writer is publishing
    /// (the writer never waits for readers; a reader may spin at most while
    /// publications keep landing mid-copy). Returns the publication number.
    pub fn read_words(&self, buf: &mut Vec<u64>) -> u64 {
        let mut spins = 0u32;
        loop {
            if let Ok(s) = self.try_read_words(buf) {
                return s;
            }
            spins += 1;
            if spins % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// The latest consistent snapshot.
    pub fn read(&self) -> Snapshot {
        let mut buf = Vec::new();
        let seq = self.read_words(&mut buf);
        decode(self.shared.levels, seq, &buf)
    }
}

/// The best `n` levels of one side of an L2 book, best first, walked with
/// `next_after` (no allocation): what a publisher publishes.
#[derive(Debug)]
pub struct LevelIter<'a> {
    l2: &'a crate::L2Book,
    side: crate::Side,
    left: usize,
    last: Option<i64>,
    started: bool,
}

impl<'a> LevelIter<'a> {
    /// The first `n` levels of `side`.
    pub fn new(l2: &'a crate::L2Book, side: crate::Side, n: usize) -> Self {
        LevelIter {
            l2,
            side,
            left: n,
            last: None,
            started: false,
        }
    }
}

impl Iterator for LevelIter<'_> {
    type Item = (Price, Qty);
    fn next(&mut self) -> Option<(Price, Qty)> {
        if self.left == 0 {
            return None;
        }
        let nx = if !self.started {
            self.started = true;
            self.l2.best(self.side)
        } else {
            self.l2.next_after(self.side, self.last?)
        };
        let (p, q) = nx?;
        self.last = Some(p);
        self.left -= 1;
        Some((p, q))
    }
}

impl Publisher {
    /// Publishes the top `levels()` of `l2` with `sig`.
    pub fn publish_book(&mut self, l2: &crate::L2Book, ts: Ts, events: u64, sig: &SignalValues) {
        let n = self.levels();
        self.publish(
            ts,
            events,
            LevelIter::new(l2, crate::Side::Bid, n),
            LevelIter::new(l2, crate::Side::Ask, n),
            sig,
        );
    }
}

/// Decodes raw words (from [`Reader::read_words`]) into a [`Snapshot`].
pub fn decode(levels: usize, seq: u64, w: &[u64]) -> Snapshot {
    let n = levels;
    let nb = (w[H_NB] as usize).min(n);
    let na = (w[H_NA] as usize).min(n);
    Snapshot {
        seq,
        ts: w[H_TS] as i64,
        events: w[H_EVENTS],
        bids: (0..nb)
            .map(|j| (w[HEADER + j] as i64, w[HEADER + n + j] as i64))
            .collect(),
        asks: (0..na)
            .map(|j| (w[HEADER + 2 * n + j] as i64, w[HEADER + 3 * n + j] as i64))
            .collect(),
        signals: SignalValues {
            ofi: w[H_OFI] as i64,
            ofi_total: w[H_OFI_TOTAL] as i64,
            ofi_msg_total: w[H_MSG_TOTAL] as i64,
            imbalance: f64::from_bits(w[H_IMB]),
            weighted_mid: f64::from_bits(w[H_WMID]),
        },
        checksum: w[w.len() - 1],
    }
}

/// True when the raw words' checksum matches (what the stress tests check).
pub fn verify(w: &[u64]) -> bool {
    match w.split_last() {
        Some((&c, rest)) => checksum(rest) == c,
        None => false,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn publish_then_read() {
        let (mut p, r) = channel(3);
        assert_eq!(r.read().seq, 0);
        let mut w0 = Vec::new();
        assert_eq!(r.read_words(&mut w0), 0);
        assert!(verify(&w0)); // the empty snapshot verifies too
        let sig = SignalValues {
            ofi: -4,
            ofi_total: 10,
            ofi_msg_total: 9,
            imbalance: 0.25,
            weighted_mid: 100.5,
        };
        p.publish(
            77,
            5,
            [(100, 2), (99, 3), (98, 1), (97, 9)].into_iter(),
            [(101, 6)].into_iter(),
            &sig,
        );
        let s = r.read();
        assert_eq!(s.seq, 1);
        assert_eq!((s.ts, s.events), (77, 5));
        assert_eq!(s.bids, vec![(100, 2), (99, 3), (98, 1)]);
        assert_eq!(s.asks, vec![(101, 6)]);
        assert_eq!(s.signals, sig);
        let mut w = Vec::new();
        assert_eq!(r.read_words(&mut w), 1);
        assert!(verify(&w));
        w[3] ^= 1;
        assert!(!verify(&w));
        assert_eq!(p.readers(), 1);
        let r2 = p.reader();
        assert_eq!((p.readers(), r2.seq(), p.published()), (2, 1, 1));
    }
}
