//! One writer, many lock-free readers of the top of a book.
//!
//! What books and engines publish goes through [`log`] (re-exported here as
//! [`Publisher`], [`Reader`] and [`channel`]): the writer appends its level
//! changes to a ring and commits them per message; each reader keeps its own
//! top N from a snapshot and the log. Its snapshots use [`SeqBlock`], the
//! primitive below. [`StatePublisher`] — the sorted top N stored into the
//! block after every message — is the design before it, kept for
//! `benches/publish.rs` to compare.
//!
//! # The sequence lock
//!
//! A sequence lock over a fixed block of 64-bit words (for
//! [`StatePublisher`]: the top of the book, the top-N levels and the signal
//! values after an event).
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
//! readers comparing every copy with the writer's own record of each
//! publication in `tests/publish_stress.rs`.

#[cfg(loom)]
use loom::sync::atomic::{fence, AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{fence, AtomicU64, Ordering};

use std::sync::Arc;

pub mod log;
mod rows;

pub use log::{log_channel as channel, LogPublisher as Publisher, LogReader as Reader};

use rows::{Dirty, SideRows, ALL};

use crate::book::l2::{L2Book, LevelChange};
use crate::signals::imbalance::{queue_imbalance, weighted_mid};
use crate::signals::Top;
use crate::types::{Price, Qty, Side, Ts};

/// Signal values carried with each snapshot. The writer publishes the
/// integers; the reader derives `imbalance` and `weighted_mid` from the
/// published best levels with the same functions the writer's flow state
/// uses (so they are bit-identical, and the writer does no float work).
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

impl SignalValues {
    /// The flow `totals` and the level-1 signals of `top`: the one place
    /// both the writer's flow state and a reader decoding a snapshot get
    /// their values from, so they agree bit for bit.
    pub fn of(totals: FlowTotals, top: &Top) -> SignalValues {
        SignalValues {
            ofi: totals.ofi,
            ofi_total: totals.ofi_total,
            ofi_msg_total: totals.ofi_msg_total,
            imbalance: queue_imbalance(top.bid_qty, top.ask_qty),
            weighted_mid: weighted_mid(top).unwrap_or(f64::NAN),
        }
    }
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
}

/// The flow figures a publication carries (lots).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowTotals {
    /// OFI e_n of the last event.
    pub ofi: i64,
    /// Running OFI total.
    pub ofi_total: i64,
    /// Running message-accounting OFI total.
    pub ofi_msg_total: i64,
}

// Data word layout (the slot's word 0 is its sequence, so data word `i` is
// slot word `i + 1`): the seven header words, which change on nearly every
// publication, share the slot's first cache line with the sequence; level
// rows follow. Only the rows that changed are stored (see [`StatePublisher`]).
const H_TS: usize = 0;
const H_EVENTS: usize = 1;
const H_OFI: usize = 2;
const H_OFI_TOTAL: usize = 3;
const H_MSG_TOTAL: usize = 4;
const H_NB: usize = 5;
const H_NA: usize = 6;
/// Data words before the level rows. Bid row `j` is (price, size) at
/// `HEADER + 2j`, ask row `j` at `HEADER + 2N + 2j`; rows `0..count` of a
/// side hold its top levels in no particular order ([`rows`]).
const HEADER: usize = 7;

/// Rows per side whose cache lines a publisher asks for ahead of the next
/// publication ([`SeqBlock::prepare_next`]).
const HOT_ROWS: usize = 8;

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

#[derive(Debug)]
struct Slot {
    /// Over-allocated by up to a cache line, so that the slot's words can
    /// start on a line boundary: a publication that changes few words
    /// dirties few lines (each one the readers hold costs the writer a
    /// cross-core transfer).
    words: Box<[AtomicU64]>,
    /// Index in `words` of the slot's word 0.
    off: usize,
    /// Word 0: `2n` when the slot holds publication `n`, odd while being
    /// written; words 1..len: the data.
    len: usize,
}

impl Slot {
    fn new(data_words: usize) -> Slot {
        let len = data_words + 1;
        // Aligned only where a word is 8 bytes (not under loom's atomics).
        let eight = std::mem::size_of::<AtomicU64>() == 8;
        // Whole lines, plus one to align them: no line of the slot is
        // shared with another allocation (false sharing with whatever the
        // allocator puts next would cost the writer cross-core transfers).
        let total = if eight { len.div_ceil(8) * 8 + 8 } else { len };
        let words: Box<[AtomicU64]> = (0..total).map(|_| AtomicU64::new(0)).collect();
        let addr = words.as_ptr() as usize;
        let off = if eight { (64 - addr % 64) % 64 / 8 } else { 0 };
        Slot { words, off, len }
    }

    /// The slot's words: the sequence, then the data.
    #[inline]
    fn all(&self) -> &[AtomicU64] {
        &self.words[self.off..self.off + self.len]
    }

    #[inline]
    fn seq(&self) -> &AtomicU64 {
        &self.all()[0]
    }
}

/// The writer's handle on the slot being written (see [`SeqBlock::write_with`]).
#[derive(Debug)]
pub struct SlotWriter<'a> {
    /// The slot's data words.
    data: &'a [AtomicU64],
}

impl SlotWriter<'_> {
    /// Stores data word `i` (ignored unless `i < len`) of the publication
    /// being written.
    #[inline]
    pub fn store(&self, i: usize, v: u64) {
        if let Some(a) = self.data.get(i) {
            a.store(v, Ordering::Relaxed);
        }
    }

    /// Stores `words` from data word `at` (all or nothing: ignored unless
    /// they fit; one bounds check for the run).
    #[inline]
    pub fn store_words<const K: usize>(&self, at: usize, words: [u64; K]) {
        if let Some(dst) = self.data.get(at..at + K) {
            for (d, v) in dst.iter().zip(words) {
                d.store(v, Ordering::Relaxed);
            }
        }
    }

    /// Stores `rows` as (price, size) word pairs from data word `at` (all
    /// or nothing: ignored unless they fit).
    #[inline]
    pub fn store_rows(&self, at: usize, rows: &[(Price, Qty)]) {
        if let Some(dst) = self.data.get(at..at + 2 * rows.len()) {
            for (d, &(p, q)) in dst.chunks_exact(2).zip(rows) {
                d[0].store(p as u64, Ordering::Relaxed);
                d[1].store(q as u64, Ordering::Relaxed);
            }
        }
    }
}

/// The sequence-locked block of words: the primitive the memory-ordering
/// argument above is about, with [`SLOTS`] rotating slots. `write`/`write_with`
/// must only ever be called by one thread at a time ([`StatePublisher`] enforces
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
    /// Slots − 1 (a power of two minus one).
    mask: u64,
    slots: Box<[Slot]>,
}

impl SeqBlock {
    /// A block of `n` zero words, nothing published (publication 0 = zeros).
    pub fn new(n: usize) -> SeqBlock {
        SeqBlock::with_slots(n, SLOTS)
    }

    /// With a given number of slots (>= 1, rounded up to a power of two so
    /// that finding a publication's slot is a mask, not a division; the
    /// loom model uses 1 and 2).
    pub fn with_slots(n: usize, slots: usize) -> SeqBlock {
        let k = slots.max(1).next_power_of_two();
        SeqBlock {
            latest: AtomicU64::new(0),
            len: n,
            mask: k as u64 - 1,
            slots: (0..k).map(|_| Slot::new(n)).collect(),
        }
    }

    /// The slot publication `n` goes to.
    #[inline]
    fn slot(&self, n: u64) -> &Slot {
        &self.slots[(n & self.mask) as usize]
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
        let words = self.slot(n).all();
        let Some((seq, data)) = words.split_first() else {
            return;
        };
        let s = seq.load(Ordering::Relaxed);
        seq.store(s | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        f(n, &SlotWriter { data });
        seq.store(n.wrapping_mul(2), Ordering::Release);
        self.latest.store(n, Ordering::Release);
    }

    /// Writer side, between publications: asks for the cache lines of the
    /// next publication's slot that hold its sequence and data words
    /// `words` (clamped to the block), so that the stores of that
    /// publication find them owned instead of each waiting for a line a
    /// reader copied (see [`crate::prefetch`]). No reader reads that slot
    /// until it is published. Only a hint: no value or ordering changes.
    /// Call only where [`crate::prefetch::supported`] is true.
    #[inline]
    pub fn prepare_next(&self, words: std::ops::Range<usize>) {
        let n = self.latest.load(Ordering::Relaxed).wrapping_add(1);
        let all = self.slot(n).all();
        // Slot word `i + 1` is data word `i`; slots start on a line, so
        // line `k` of the slot begins at slot word `8k`.
        let (lo, hi) = (words.start, (words.end + 1).min(all.len()));
        let mut line = lo / 8;
        while line * 8 < hi {
            if let Some(a) = all.get(line * 8) {
                crate::prefetch::for_write(a);
            }
            line += 1;
        }
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
        let slot = self.slot(n);
        let want = n.wrapping_mul(2);
        if slot.seq().load(Ordering::Acquire) != want {
            // Being rewritten for publication n + SLOTS already.
            return Err(ReadError::Contended);
        }
        for (b, a) in buf.iter_mut().zip(&slot.all()[1..]) {
            *b = a.load(Ordering::Relaxed);
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
/// What a publication costs the writer is what it stores: the seven header
/// words (one cache line, with the slot's sequence) and the level rows that
/// differ from what the target slot holds. With a book
/// ([`StatePublisher::publish_book`]) the top-N rows are kept from the book's
/// change records ([`StatePublisher::on_change`]) in row positions that do not
/// move ([`rows`]: one row per level change, readers sort); the slot being
/// written last held publication `n - SLOTS`, so the rows to store are
/// those changed by the last `SLOTS` publications. Rows at or past a side's
/// row count are never read (the count is published), so they are not
/// stored. No per-word comparison, no checksum: a torn copy is excluded by
/// the seqlock (model-checked), and the stress tests compare every copy a
/// reader gets with what the writer published.
#[derive(Debug)]
pub struct StatePublisher {
    shared: Arc<Shared>,
    /// Book rows (bid, ask) kept from change records; `None` until the next
    /// `publish_book` rebuilds them (first use, a CLEAR, a restore, tracking
    /// paused while nobody reads, or a [`StatePublisher::publish`] of given rows).
    sides: Option<[SideRows; 2]>,
    /// Row positions of each side (bid, ask) changed since the last
    /// publication.
    dirty: [Dirty; 2],
    /// Per slot position `n % SLOTS`: the positions publication `n` changed
    /// (an array, so the union over the slots is a few unrolled ORs).
    hist: [[Dirty; 2]; SLOTS],
    /// Whether to ask for the next slot's lines after each publication
    /// ([`crate::prefetch::supported`], asked once per publisher).
    prefetch: bool,
}

/// A reader handle: `Clone + Send + Sync`, usable from any thread.
#[derive(Clone, Debug)]
pub struct StateReader {
    shared: Arc<Shared>,
}

/// A publisher of `levels` levels per side and its first reader.
pub fn state_channel(levels: usize) -> (StatePublisher, StateReader) {
    let shared = Arc::new(Shared {
        levels,
        block: SeqBlock::new(Shared::n_words(levels)),
    });
    let p = StatePublisher {
        shared: shared.clone(),
        sides: None,
        dirty: [0; 2],
        hist: [[0; 2]; SLOTS],
        prefetch: crate::prefetch::supported(),
    };
    (p, StateReader { shared })
}

impl StatePublisher {
    /// Levels per side carried.
    pub fn levels(&self) -> usize {
        self.shared.levels
    }

    /// A new reader of this publisher.
    pub fn reader(&self) -> StateReader {
        StateReader {
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

    /// Records that the next publication changes the row positions `dirty`,
    /// and returns those its slot must be given: every row while the slot
    /// is fresh (its first use), else those changed by the last `SLOTS`
    /// publications.
    #[inline]
    fn rows_to_store(&mut self, dirty: [Dirty; 2]) -> [Dirty; 2] {
        // One entry per slot: `channel` builds the block with
        // `SeqBlock::new`, SLOTS slots (already a power of two, so it is not
        // rounded), so publication `n` goes to slot `n % SLOTS`.
        const _: () = assert!(SLOTS.is_power_of_two());
        // The number the next publication gets (only this writer publishes).
        let n = self.published() + 1;
        self.hist[(n % SLOTS as u64) as usize] = dirty;
        if n <= SLOTS as u64 {
            return [ALL; 2];
        }
        self.hist
            .iter()
            .fold([0; 2], |a, h| [a[0] | h[0], a[1] | h[1]])
    }

    /// Publishes a snapshot of the given rows (ticks, lots; best first).
    /// `bids`/`asks` beyond `levels` are cut. Never blocks and never
    /// allocates; stores every row given.
    pub fn publish(
        &mut self,
        ts: Ts,
        events: u64,
        bids: impl Iterator<Item = (Price, Qty)>,
        asks: impl Iterator<Item = (Price, Qty)>,
        flow: &FlowTotals,
    ) {
        let n = self.shared.levels;
        self.sides = None;
        // Every row is stored now; the slots still to be written must get
        // every row too (they are rebuilt from a book only on the next
        // `publish_book`).
        self.rows_to_store([ALL; 2]);
        self.shared.block.write_with(|_, w| {
            let mut count = [0usize; 2];
            for (s, side) in [
                &mut bids.take(n) as &mut dyn Iterator<Item = (Price, Qty)>,
                &mut asks.take(n),
            ]
            .into_iter()
            .enumerate()
            {
                for (j, r) in side.enumerate() {
                    w.store_rows(HEADER + 2 * n * s + 2 * j, &[r]);
                    count[s] = j + 1;
                }
            }
            store_header(w, ts, events, flow, count);
        });
        self.prepare_next();
    }

    /// Asks for the lines the next publication will most likely store:
    /// the sequence and header line and the first [`HOT_ROWS`] row
    /// positions of each side (asking for all of a 4,096-level slot would
    /// cost more than it saves).
    #[inline]
    fn prepare_next(&self) {
        if !self.prefetch {
            return;
        }
        let (n, b) = (self.shared.levels, &self.shared.block);
        let hot = n.min(HOT_ROWS);
        b.prepare_next(0..HEADER + 2 * hot);
        b.prepare_next(HEADER + 2 * n..HEADER + 2 * n + 2 * hot);
    }

    /// Tracks one level change of the book being published (called after
    /// each change the book applies; a no-op while not tracking).
    #[inline]
    pub fn on_change(&mut self, c: &LevelChange, l2: &L2Book) {
        if let Some(sides) = self.sides.as_mut() {
            let s = usize::from(c.side <= 0);
            self.dirty[s] |= sides[s].apply(c, l2);
        }
    }

    /// Stops tracking until the next [`Self::publish_book`], which then
    /// re-reads the rows from the book: after a change that has no level
    /// records (a CLEAR, a restored checkpoint), or while nobody reads.
    #[inline]
    pub fn invalidate(&mut self) {
        self.sides = None;
    }

    /// True while the rows are kept from change records.
    #[inline]
    pub fn tracking(&self) -> bool {
        self.sides.is_some()
    }

    /// Publishes the top `levels()` of `l2` with `flow`.
    pub fn publish_book(&mut self, l2: &L2Book, ts: Ts, events: u64, flow: &FlowTotals) {
        let n = self.shared.levels;
        if self.sides.is_none() {
            self.sides = Some([
                SideRows::new(Side::Bid, n, l2),
                SideRows::new(Side::Ask, n, l2),
            ]);
            self.dirty = [ALL; 2];
        }
        let changed = std::mem::take(&mut self.dirty);
        let store = self.rows_to_store(changed);
        let Some(sides) = self.sides.as_ref() else {
            return;
        };
        self.shared.block.write_with(|_, w| {
            for (s, side) in sides.iter().enumerate() {
                let base = HEADER + 2 * n * s;
                // Rows past the side's count are not read: not stored.
                rows::for_each_dirty(
                    store[s],
                    &side.rows,
                    |at, (p, q)| w.store_words(base + 2 * at, [p as u64, q as u64]),
                    |at, r| w.store_rows(base + 2 * at, r),
                );
            }
            store_header(
                w,
                ts,
                events,
                flow,
                [sides[0].rows.len(), sides[1].rows.len()],
            );
        });
        self.prepare_next();
    }
}

#[inline]
fn store_header(w: &SlotWriter<'_>, ts: Ts, events: u64, f: &FlowTotals, rows: [usize; 2]) {
    // One run in the `H_*` order (a single bounds check).
    const _: () = assert!(
        H_TS == 0
            && H_EVENTS == 1
            && H_OFI == 2
            && H_OFI_TOTAL == 3
            && H_MSG_TOTAL == 4
            && H_NB == 5
            && H_NA == 6
            && HEADER == 7
    );
    w.store_words(
        H_TS,
        [
            ts as u64,
            events,
            f.ofi as u64,
            f.ofi_total as u64,
            f.ofi_msg_total as u64,
            rows[0] as u64,
            rows[1] as u64,
        ],
    );
}

/// Outcome of one read attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The writer was mid-publication or published during the copy.
    Contended,
}

impl StateReader {
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
        self.shared.block.try_read(buf)
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
            backoff(&mut spins);
        }
    }

    /// The latest consistent snapshot.
    pub fn read(&self) -> Snapshot {
        let mut buf = Vec::new();
        let seq = self.read_words(&mut buf);
        decode(self.shared.levels, seq, &buf)
    }
}

/// A reader's wait between two attempts that found the writer mid-way:
/// a spin hint, and every 64th time a yield (a reader descheduled on a
/// busy core must let the writer run).
#[inline]
fn backoff(spins: &mut u32) {
    *spins = spins.wrapping_add(1);
    if *spins % 64 == 0 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// Decodes raw words (from [`StateReader::read_words`]) into a [`Snapshot`]:
/// the rows the writer published (`w` as a reader copied it; rows past a
/// side's count are not part of the snapshot), and the imbalance and
/// weighted mid of its best levels.
pub fn decode(levels: usize, seq: u64, w: &[u64]) -> Snapshot {
    let n = levels;
    let word = |i: usize| w.get(i).copied().unwrap_or(0);
    let nb = (word(H_NB) as usize).min(n);
    let na = (word(H_NA) as usize).min(n);
    let row = |at: usize| (word(at) as i64, word(at + 1) as i64);
    // Rows are stored unordered ([`rows`]): best first is the reader's sort.
    let mut bids: Vec<(Price, Qty)> = (0..nb).map(|j| row(HEADER + 2 * j)).collect();
    let mut asks: Vec<(Price, Qty)> = (0..na).map(|j| row(HEADER + 2 * n + 2 * j)).collect();
    bids.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
    asks.sort_unstable_by_key(|r| r.0);
    let (bid_price, bid_qty) = bids.first().copied().unwrap_or((0, 0));
    let (ask_price, ask_qty) = asks.first().copied().unwrap_or((0, 0));
    let top = Top {
        bid_price,
        bid_qty,
        ask_price,
        ask_qty,
    };
    let totals = FlowTotals {
        ofi: word(H_OFI) as i64,
        ofi_total: word(H_OFI_TOTAL) as i64,
        ofi_msg_total: word(H_MSG_TOTAL) as i64,
    };
    Snapshot {
        seq,
        ts: word(H_TS) as i64,
        events: word(H_EVENTS),
        signals: SignalValues::of(totals, &top),
        bids,
        asks,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn publish_then_read() {
        let (mut p, r) = state_channel(3);
        let s0 = r.read();
        assert_eq!((s0.seq, s0.bids.len(), s0.asks.len()), (0, 0, 0));
        assert!(s0.signals.weighted_mid.is_nan());
        let flow = FlowTotals {
            ofi: -4,
            ofi_total: 10,
            ofi_msg_total: 9,
        };
        p.publish(
            77,
            5,
            [(100, 2), (99, 3), (98, 1), (97, 9)].into_iter(),
            [(101, 6)].into_iter(),
            &flow,
        );
        let s = r.read();
        assert_eq!(s.seq, 1);
        assert_eq!((s.ts, s.events), (77, 5));
        assert_eq!(s.bids, vec![(100, 2), (99, 3), (98, 1)]);
        assert_eq!(s.asks, vec![(101, 6)]);
        let sig = s.signals;
        assert_eq!((sig.ofi, sig.ofi_total, sig.ofi_msg_total), (-4, 10, 9));
        // Derived from the best levels: (2 - 6) / 8, (100 * 6 + 101 * 2) / 8.
        assert_eq!(sig.imbalance, -0.5);
        assert_eq!(sig.weighted_mid, 100.25);
        // Fewer rows later: the stale rows behind the count are not read.
        p.publish(78, 6, [(100, 1)].into_iter(), std::iter::empty(), &flow);
        let s = r.read();
        assert_eq!(
            (s.seq, s.bids.clone(), s.asks.len()),
            (2, vec![(100, 1)], 0)
        );
        assert_eq!(s.signals.imbalance, 1.0);
        assert!(s.signals.weighted_mid.is_nan());
        assert_eq!(p.readers(), 1);
        let r2 = p.reader();
        assert_eq!((p.readers(), r2.seq(), p.published()), (2, 2, 2));
    }
}
