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

use crate::book::l2::{L2Book, LevelChange};
use crate::book::top::TopN;
use crate::types::{Price, Qty, Side, Ts};

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

// Data word layout (the slot's word 0 is its sequence, so data word `i` is
// slot word `i + 1`): the words that change on nearly every publication sit
// with the sequence in the slot's first cache line, so a typical publication
// dirties that line plus the lines of the rows that changed.
const H_TS: usize = 0;
const H_EVENTS: usize = 1;
const H_OFI: usize = 2;
const H_OFI_TOTAL: usize = 3;
const H_IMB: usize = 4;
const H_WMID: usize = 5;
const H_CHECKSUM: usize = 6;
const H_MSG_TOTAL: usize = 7;
const H_NB: usize = 8;
const H_NA: usize = 9;
/// Data words before the level rows. Bid level `j` is (price, size) at
/// `HEADER + 2j`, ask level `j` at `HEADER + 2N + 2j`.
const HEADER: usize = 10;

/// One word's share of the checksum: position-keyed and mixed by one
/// xor-shift-multiply round (non-linear, so a mix of words from two
/// publications does not cancel out the way a plain sum of differences
/// could), summed over the words — the writer keeps that sum incrementally
/// as words change. A torn copy fails it with probability ~1 − 2^-64.
#[inline]
fn mix(i: usize, w: u64) -> u64 {
    let z = w ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^ (z >> 29)
}

/// The checksum the writer stores and readers can verify: the wrapping sum
/// of [`mix`] over every data word but the checksum itself.
pub fn checksum(words: &[u64]) -> u64 {
    words
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != H_CHECKSUM)
        .fold(0u64, |h, (i, &w)| h.wrapping_add(mix(i, w)))
}

/// Slots a [`SeqBlock`] rotates through. A reader must finish its copy
/// before the writer comes back to the same slot, so with K slots it has K
/// publication intervals instead of one: a plain (one-slot) seqlock starves
/// readers when the writer publishes after every event, because copying
/// ~50 words whose cache lines the writer keeps stealing takes longer than
/// the gap between two publications.
pub const SLOTS: usize = 4;

/// Most levels per side a publisher carries (4 words a level pair: 128 KiB
/// a slot at most).
pub const MAX_LEVELS: usize = 4096;

/// One cache line of words: slots start on a line, so a publication that
/// changes few words dirties few lines (each one the readers hold costs the
/// writer a cross-core transfer).
#[derive(Debug)]
#[repr(align(64))]
struct Line([AtomicU64; 8]);

#[derive(Debug)]
struct Slot {
    /// Word 0: `2n` when the slot holds publication `n`, odd while being
    /// written; words 1..: the data.
    lines: Box<[Line]>,
}

impl Slot {
    fn new(data_words: usize) -> Slot {
        Slot {
            lines: (0..(data_words + 1).div_ceil(8))
                .map(|_| Line(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
        }
    }

    #[inline]
    fn word(&self, i: usize) -> &AtomicU64 {
        &self.lines[i >> 3].0[i & 7]
    }

    #[inline]
    fn seq(&self) -> &AtomicU64 {
        self.word(0)
    }
}

/// The writer's handle on the slot being written (see [`SeqBlock::write_with`]).
#[derive(Debug)]
pub struct SlotWriter<'a> {
    slot: &'a Slot,
    len: usize,
}

impl SlotWriter<'_> {
    /// Stores data word `i` (`i < len`) of the publication being written.
    #[inline]
    pub fn store(&self, i: usize, v: u64) {
        if i < self.len {
            self.slot.word(i + 1).store(v, Ordering::Relaxed);
        }
    }
}

/// The cache line holding data word `i` (slot word `i + 1`).
#[inline]
fn line_of(i: usize) -> usize {
    (i + 1) >> 3
}

impl SlotWriter<'_> {
    /// Stores every data word of slot line `l` from `cur` (the current data
    /// words), without a bounds check per word.
    #[inline]
    fn store_line(&self, l: usize, cur: &[u64]) {
        let Some(line) = self.slot.lines.get(l) else {
            return;
        };
        // Slot word 8l + j is data word 8l + j - 1 (slot word 0 is the seq).
        let first = (8 * l).wrapping_sub(1);
        if let Some(full) = cur.get(first..first.wrapping_add(8)) {
            if l > 0 {
                // A whole line: eight stores, no per-word checks.
                for (a, &v) in line.0.iter().zip(full) {
                    a.store(v, Ordering::Relaxed);
                }
                return;
            }
        }
        let (skip, first) = if l == 0 { (1, 0) } else { (0, first) };
        let src = cur.get(first..).unwrap_or(&[]);
        for (a, &v) in line.0[skip..].iter().zip(src) {
            a.store(v, Ordering::Relaxed);
        }
    }
}

/// The sequence-locked block of words: the primitive the memory-ordering
/// argument above is about, with [`SLOTS`] rotating slots. `write`/`write_with`
/// must only ever be called by one thread at a time ([`Publisher`] enforces
/// that by owning the only handle that can call them); `try_read` by any
/// number.
///
/// Publication `n` goes to slot `n % SLOTS`, whose own sequence goes odd,
/// then the words, then `2n` (the per-slot seqlock above); then `latest = n`
/// is stored with Release. A reader loads `latest` (Acquire), reads that
/// slot under its seqlock, and accepts the copy only if the slot's sequence
/// was `2n` before and after — so the copy is exactly what the slot held
/// as publication `n`. A writer may store only the words that differ from
/// the slot's previous publication (`write_with`): the protocol is the same,
/// and the untouched words already hold publication `n`'s values.
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
            slots: (0..slots.max(1)).map(|_| Slot::new(n)).collect(),
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

    /// Slots the publications rotate through.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Publications so far.
    pub fn published(&self) -> u64 {
        self.latest.load(Ordering::Acquire)
    }

    /// Writer side: publication `n = published() + 1`, whose words `f`
    /// stores through the [`SlotWriter`] (it is given `n`). The slot last
    /// held publication `n - slots()` (or zeros when `n <= slots()`); `f`
    /// must store every word that differs from that. Single writer only.
    pub fn write_with(&self, f: impl FnOnce(u64, &SlotWriter<'_>)) {
        // Only the writer stores `latest`: its own last value needs no ordering.
        let n = self.latest.load(Ordering::Relaxed).wrapping_add(1);
        let slot = &self.slots[(n % self.slots.len() as u64) as usize];
        let s = slot.seq().load(Ordering::Relaxed);
        slot.seq().store(s | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        f(
            n,
            &SlotWriter {
                slot,
                len: self.len,
            },
        );
        slot.seq().store(n.wrapping_mul(2), Ordering::Release);
        self.latest.store(n, Ordering::Release);
    }

    /// Writer side: publishes `v` (`v.len() == len()`), every word.
    pub fn write(&self, v: &[u64]) {
        self.write_with(|_, w| {
            for (i, &x) in v.iter().enumerate() {
                w.store(i, x);
            }
        });
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
        if slot.seq().load(Ordering::Acquire) != want {
            // Being rewritten for publication n + SLOTS already.
            return Err(ReadError::Contended);
        }
        for (i, b) in buf.iter_mut().enumerate().take(self.len) {
            *b = slot.word(i + 1).load(Ordering::Relaxed);
        }
        fence(Ordering::Acquire);
        if slot.seq().load(Ordering::Relaxed) != want {
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
        HEADER + 4 * levels
    }
}

/// The single writer. Not `Clone`: one publisher per block, by construction.
///
/// It keeps the words of the current state privately and, per publication,
/// stores into the slot only the words that changed since that slot's last
/// publication; the checksum is kept incrementally. With a book
/// ([`Publisher::publish_book`]) the top-N rows are kept from the book's
/// change records ([`Publisher::on_change`], the replay's [`TopN`]) instead
/// of walking the ladder per publication.
#[derive(Debug)]
pub struct Publisher {
    shared: Arc<Shared>,
    /// The current state's data words (the checksum word included).
    cur: Vec<u64>,
    /// Per cache line of a slot: the publication that last changed a word
    /// in it. A slot is written a line at a time (all its words, changed or
    /// not: a line the writer must own anyway costs nothing more per word,
    /// and a per-word test mispredicted often enough to double the cost).
    gen: Vec<u64>,
    /// Per slot position `n % slots`: the range of lines publication `n`
    /// changed (the union over all slots covers the changes since the slot
    /// about to be written was last written).
    hist: Vec<(usize, usize)>,
    /// Range of lines changed since the last publication.
    pending: (usize, usize),
    /// Checksum of `cur` (all words but the checksum word).
    sum: u64,
    /// Book rows kept from change records; `None` until the next
    /// `publish_book` rebuilds them (first use, a CLEAR, a restore, or
    /// tracking paused while nobody reads).
    tops: Option<(TopN, TopN)>,
    /// Rows of each side (bid, ask) changed since the last publication.
    rows: [(usize, usize); 2],
    /// The number the next publication will get.
    next: u64,
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
    let slots = shared.block.slots();
    let mut p = Publisher {
        shared: shared.clone(),
        cur: vec![0; n],
        gen: vec![0; line_of(n) + 1],
        hist: vec![(0, 0); slots],
        pending: (usize::MAX, 0),
        sum: 0,
        tops: None,
        rows: [(0, 0); 2],
        next: 1,
    };
    p.sum = checksum(&p.cur);
    p.cur[H_CHECKSUM] = p.sum;
    (p, Reader { shared })
}

const EMPTY: (usize, usize) = (usize::MAX, 0);

#[inline]
fn union(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    (a.0.min(b.0), a.1.max(b.1))
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

    /// Sets data word `i` of the next publication, tracking what changed.
    #[inline]
    fn set(&mut self, i: usize, v: u64) {
        let old = self.cur[i];
        if old != v {
            self.cur[i] = v;
            self.sum = self.sum.wrapping_sub(mix(i, old)).wrapping_add(mix(i, v));
            let l = line_of(i);
            self.gen[l] = self.next;
            self.pending = union(self.pending, (l, l + 1));
        }
    }

    #[inline]
    fn set_header(&mut self, ts: Ts, events: u64, sig: &SignalValues) {
        self.set(H_TS, ts as u64);
        self.set(H_EVENTS, events);
        self.set(H_OFI, sig.ofi as u64);
        self.set(H_OFI_TOTAL, sig.ofi_total as u64);
        self.set(H_MSG_TOTAL, sig.ofi_msg_total as u64);
        self.set(H_IMB, sig.imbalance.to_bits());
        self.set(H_WMID, sig.weighted_mid.to_bits());
    }

    #[inline]
    fn set_row(&mut self, side: usize, j: usize, (p, q): (Price, Qty)) {
        let at = HEADER + 2 * self.shared.levels * side + 2 * j;
        self.set(at, p as u64);
        self.set(at + 1, q as u64);
    }

    /// Stores the words that changed since the target slot's last
    /// publication, with the checksum; never blocks, never allocates.
    fn commit(&mut self) {
        let sum = self.sum;
        // The checksum word is outside the sum; set it directly.
        if self.cur[H_CHECKSUM] != sum {
            self.cur[H_CHECKSUM] = sum;
            let l = line_of(H_CHECKSUM);
            self.gen[l] = self.next;
            self.pending = union(self.pending, (l, l + 1));
        }
        let k = self.hist.len() as u64;
        let n = self.next;
        self.next += 1;
        self.hist[(n % k) as usize] = std::mem::replace(&mut self.pending, EMPTY);
        let (cur, gen, hist) = (&self.cur, &self.gen, &self.hist);
        self.shared.block.write_with(|n, w| {
            if n <= k {
                // The slot still holds the zeros it was created with.
                for (i, &v) in cur.iter().enumerate() {
                    if v != 0 {
                        w.store(i, v);
                    }
                }
                return;
            }
            let (lo, hi) = hist.iter().fold(EMPTY, |a, &r| union(a, r));
            let since = n - k;
            let hi = hi.min(gen.len());
            if let Some(g) = gen.get(lo..hi) {
                for (k, &g) in g.iter().enumerate() {
                    if g > since {
                        w.store_line(lo + k, cur);
                    }
                }
            }
        });
    }

    /// Publishes a snapshot of the given rows. `bids`/`asks` beyond
    /// `levels` are cut. Never blocks and never allocates.
    pub fn publish(
        &mut self,
        ts: Ts,
        events: u64,
        bids: impl Iterator<Item = (Price, Qty)>,
        asks: impl Iterator<Item = (Price, Qty)>,
        sig: &SignalValues,
    ) {
        self.tops = None;
        self.set_header(ts, events, sig);
        self.set_side(0, bids);
        self.set_side(1, asks);
        self.commit();
    }

    /// All rows of one side (0 bid, 1 ask) from `rows`, padded with empty
    /// rows; cut at `levels()`.
    fn set_side(&mut self, side: usize, rows: impl Iterator<Item = (Price, Qty)>) {
        let n = self.shared.levels;
        let mut j = 0;
        for r in rows.take(n) {
            self.set_row(side, j, r);
            j += 1;
        }
        self.set(if side == 0 { H_NB } else { H_NA }, j as u64);
        for k in j..n {
            self.set_row(side, k, (0, 0));
        }
    }

    /// Tracks one level change of the book being published (called after
    /// each change the book applies; a no-op while not tracking).
    #[inline]
    pub fn on_change(&mut self, c: &LevelChange, l2: &L2Book) {
        if let Some((b, a)) = self.tops.as_mut() {
            let (s, t) = if c.side > 0 { (0, b) } else { (1, a) };
            let r = t.on_change(c, l2);
            if r.0 < r.1 {
                self.rows[s] = union(self.rows[s], r);
            }
        }
    }

    /// Stops tracking until the next [`Self::publish_book`], which then
    /// re-reads the rows from the book: after a change that has no level
    /// records (a CLEAR, a restored checkpoint), or while nobody reads.
    #[inline]
    pub fn invalidate(&mut self) {
        self.tops = None;
    }

    /// True while the rows are kept from change records.
    #[inline]
    pub fn tracking(&self) -> bool {
        self.tops.is_some()
    }

    #[inline]
    fn tracked(&self, side: usize) -> Option<&TopN> {
        self.tops
            .as_ref()
            .map(|(b, a)| if side == 0 { b } else { a })
    }

    /// Publishes the top `levels()` of `l2` with `sig`.
    pub fn publish_book(&mut self, l2: &L2Book, ts: Ts, events: u64, sig: &SignalValues) {
        let n = self.shared.levels;
        if self.tops.is_none() {
            self.tops = Some((TopN::new(Side::Bid, n, l2), TopN::new(Side::Ask, n, l2)));
            self.rows = [(0, n); 2];
        }
        self.set_header(ts, events, sig);
        let rows = std::mem::replace(&mut self.rows, [EMPTY; 2]);
        for (s, (lo, hi)) in rows.into_iter().enumerate() {
            for j in lo..hi.min(n) {
                let r = self.tracked(s).and_then(|t| t.v.get(j).copied());
                self.set_row(s, j, r.unwrap_or((0, 0)));
            }
            let len = self.tracked(s).map_or(0, |t| t.v.len());
            self.set(if s == 0 { H_NB } else { H_NA }, len as u64);
        }
        self.commit();
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
            buf[H_CHECKSUM] = checksum(buf);
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

/// Decodes raw words (from [`Reader::read_words`]) into a [`Snapshot`].
pub fn decode(levels: usize, seq: u64, w: &[u64]) -> Snapshot {
    let n = levels;
    let nb = (w[H_NB] as usize).min(n);
    let na = (w[H_NA] as usize).min(n);
    let row = |at: usize| (w[at] as i64, w[at + 1] as i64);
    Snapshot {
        seq,
        ts: w[H_TS] as i64,
        events: w[H_EVENTS],
        bids: (0..nb).map(|j| row(HEADER + 2 * j)).collect(),
        asks: (0..na).map(|j| row(HEADER + 2 * n + 2 * j)).collect(),
        signals: SignalValues {
            ofi: w[H_OFI] as i64,
            ofi_total: w[H_OFI_TOTAL] as i64,
            ofi_msg_total: w[H_MSG_TOTAL] as i64,
            imbalance: f64::from_bits(w[H_IMB]),
            weighted_mid: f64::from_bits(w[H_WMID]),
        },
        checksum: w[H_CHECKSUM],
    }
}

/// True when the raw words' checksum matches (what the stress tests check).
pub fn verify(w: &[u64]) -> bool {
    w.len() > H_CHECKSUM && checksum(w) == w[H_CHECKSUM]
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
