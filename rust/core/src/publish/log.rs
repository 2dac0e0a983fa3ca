//! Publication as a change log: the writer appends each level change of the
//! book and, at each message boundary, a commit record; every reader keeps
//! its own copy of the top of the book from the latest snapshot and the log
//! after it.
//!
//! Why: publishing the state (the sorted top N, [`super::StatePublisher`])
//! costs the writer the top-N upkeep and a slot's worth of stores after
//! every message: ~360 instructions per one-event message against a
//! ~195-instruction book step (callgrind, `l2_step_publishing`), 0.33x the
//! bare book's throughput. Appending a change is two stores, and a commit
//! six and the head (~125 instructions per one-event message in all); the
//! sorting moves to the readers, which only sort the few levels near the
//! touch they mirror.
//!
//! # What a reader mirrors
//!
//! A snapshot holds the best `depth` levels of each side (`depth` = 2N, at
//! least 8) and the price of the deepest, the side's *bound* (kept as a key,
//! [`Range`]); a side with fewer levels is *complete* (no bound). From then on the reader applies
//! every logged change at or better than the bound (all of them on a
//! complete side) and ignores the rest, so its mirror holds exactly the
//! book's levels in that price range. Its first N levels are the book's top
//! N as long as the range holds at least N levels, or the side is complete.
//! The writer counts the levels in range from the same changes and takes a
//! new snapshot at the message boundary where that could fail (fewer than N
//! levels in range, or more than 4 × `depth`, which bounds a reader's work),
//! and after every [`SNAP_EVERY_WORDS`] words of log, so that a reader that
//! fell behind catches up from a recent snapshot rather than the whole log.
//!
//! # The ring (one writer, any number of readers)
//!
//! Entries are two words: (price, qty | side bit) for a level change, and a
//! commit record of three entries (ts, commit bit | snapshot bit; events,
//! OFI e_n; OFI total, message OFI total). Each message starts on a new
//! cache line. `head` is the number of words written up to the last commit
//! (stored with Release after the record, as the first word of the
//! `latest` line below). Before the writer overwrites word `w` (which held
//! word `w - CAP`) it raises `tail` past `w - CAP`:
//!
//! ```text
//! writer                                   reader
//! tail.store(t', Relaxed)                  h = head.load(Acquire)
//! fence(Release)                           d_i = ring[i].load(Relaxed), pos <= i < h
//! ring[w].store(v, Relaxed) ...            fence(Acquire)
//! head.store(h', Release)                  t = tail.load(Relaxed)
//!                                          ok iff t <= pos
//! ```
//!
//! The fence argument of the seqlock ([`super`]): if a load read a word
//! stored after a `fence(Release)`, the `tail` store before that fence is
//! visible to the load after the reader's `fence(Acquire)`, so `t` is past
//! the overwritten position and the copy is discarded. The reader applies
//! the words to its mirror as it loads them (no buffer): when the check
//! fails it rebuilds the mirror from a snapshot, which discards whatever a
//! torn copy applied. `tail` is raised a chunk at a time
//! ([`TAIL_CHUNK_WORDS`]), so it costs the writer one store per chunk.
//! Model-checked in `tests/loom_log.rs` (without the `tail` check the model
//! finds a read mixing two laps).
//!
//! # The latest line
//!
//! A reader one message behind (the streaming case) would take two lines
//! from the writer's core: `head`, then the message's ring line. So the
//! writer also copies each *simple* message (at most one logged change, no
//! snapshot) into a fixed line, `latest`, under a sequence lock of its own.
//! That line's first word *is* `head` (with a busy bit while rewritten, and
//! a bit saying the message is not simple). A reader standing at `head` − 8
//! applies the message from that one line (a simple message fills exactly
//! one ring line); anything else — further behind, a bigger message, a
//! snapshot commit — goes through the log up to `head` as above. So a
//! reader polls one line, and the writer's ring stores stay on lines
//! nobody else holds; the publication number (`commits`) is on a line of
//! its own that only `seq()` loads. The copy costs the writer ~27
//! instructions a message (`l2_step_publishing` 319.9 → 346.9) and saves
//! a reader ~70 of ~409 (`l2_read_each_event` 409.3 → 337.8, with the
//! lock below). The model in `tests/loom_log.rs` fails without the busy
//! bit or without the reader's second look at the head word. (It does not
//! fail when the busy store is Relaxed; the argument needs it Release: a
//! reader that sees a busy head reads the log up to the line before it.)
//!
//! A thread owning its handle reads with `read_into(&mut self)`, without
//! locking the handle's mirror: the lock's two locked instructions cost a
//! reader polling a one-event-a-message stream ~1.6x in copies a second
//! (`benches/publish.rs`, same run).
//!
//! Tried and not kept: a commit stamp in each message's first line instead
//! of `head`, so that a reader never polls a line the writer stores on every
//! message. The writer then ran ~1.7x faster with a reader, but the reader,
//! taking one line from the other core per one-event message, applied
//! messages no faster than the writer made them and fell behind (README,
//! "Publication").

use super::{fence, AtomicU64, FlowTotals, Ordering, SeqBlock, SignalValues, Snapshot};
use crate::book::l2::{L2Book, LevelChange};
use crate::signals::Top;
use crate::types::{Price, Qty, Side, Ts};
use std::sync::{Arc, Mutex};

/// Ring size in words (2 per level change, a line per one-change message;
/// 16,384 words, 128 KiB per published book: an engine publishes every
/// instrument it holds). The loom model (`tests/loom_log.rs`) uses a ring
/// of 8 words, so that its few messages lap it.
#[cfg(not(loom))]
pub const CAP_WORDS: u64 = 1 << 14;
#[cfg(loom)]
pub const CAP_WORDS: u64 = 8;
const CAP: usize = CAP_WORDS as usize;

/// A snapshot is taken at least this often (words of log): a reader behind
/// by more starts from the latest snapshot instead.
#[cfg(not(loom))]
pub const SNAP_EVERY_WORDS: u64 = 1 << 12;
#[cfg(loom)]
pub const SNAP_EVERY_WORDS: u64 = 16;

/// `tail` is raised this many words ahead at a time.
#[cfg(not(loom))]
const TAIL_CHUNK_WORDS: u64 = 1 << 9;
#[cfg(loom)]
const TAIL_CHUNK_WORDS: u64 = 2;

/// Bit 63 of a level entry's second word: the ask side.
const ASK_BIT: u64 = 1 << 63;
/// Bit 62 of an entry's second word: the first entry of a commit record.
const COMMIT_BIT: u64 = 1 << 62;
/// Bit 61 of a commit record's second word: a snapshot stands right after
/// it, with new ranges: a reader reaching it continues from that snapshot
/// (or a later one), since the writer logs the new ranges' changes from
/// there on.
const SNAP_BIT: u64 = 1 << 61;
/// Words of a commit record.
const COMMIT_WORDS: u64 = 6;

// Snapshot words: the log position it stands at, the commit it follows,
// the header, then per side its row count and range bound; rows
// follow (bid rows, then ask rows, `depth` each).
const S_POS: usize = 0;
const S_N: usize = 1;
const S_TS: usize = 2;
const S_EVENTS: usize = 3;
const S_OFI: usize = 4;
const S_OFI_TOTAL: usize = 5;
const S_MSG_TOTAL: usize = 6;
const S_COUNT: usize = 7; // + side
const S_BOUND: usize = 9; // + side (a key bound, see [`Range`])
const S_ROWS: usize = 11;

/// Rows a snapshot keeps per side for `levels` published levels.
fn snapshot_depth(levels: usize) -> usize {
    (2 * levels).max(if cfg!(loom) { 2 } else { 8 })
}

/// The most levels a side's range may hold without a snapshot, for a
/// snapshot of `depth` rows: the writer takes one when a range grows past
/// it (it bounds a reader's work per change), and a reader whose mirror
/// would pass it has a torn copy. One rule for both, so they cannot drift.
fn most_rows(depth: usize) -> usize {
    4 * depth
}

#[derive(Debug)]
struct Shared {
    levels: usize,
    depth: usize,
    /// Cache lines of 8 words, a fixed-size array so that indexing by
    /// `pos` needs no bounds check.
    ring: Box<[Line; LINES]>,
    /// The commit count (the publication number), stored at every commit
    /// on a line of its own: only `seq()` loads it, so readers reading
    /// never take it from the writer.
    last: Line2,
    /// `head` and, when the latest message is *simple*, the whole message
    /// (see [`Latest`]): the one line a reader polls.
    latest: Line,
    /// Words below this may have been overwritten (raised a chunk at a
    /// time: rarely stored, on its own line).
    tail: Padded,
    snap: SeqBlock,
}

/// One cache line of the ring.
#[derive(Debug)]
#[repr(align(64))]
struct Line([AtomicU64; 8]);

/// `commits` (commits so far: the publication number), alone on a cache
/// line.
#[derive(Debug)]
#[repr(align(64))]
struct Line2 {
    commits: AtomicU64,
}

/// Words of the `latest` line. `HEAD` holds `head` (log words up to the
/// last commit), with [`BUSY`] while the writer rewrites the line (a
/// sequence lock of its own) or [`RING`] when the message is not simple;
/// for a simple message the other words are the message: its one level
/// change (if [`HAS_CHANGE`]) and its commit record.
///
/// A message is *simple* when it logged at most one level change and
/// starts no snapshot. It then fills exactly one ring line (the change in
/// words 0–1, the record in 2–7, or the record alone), so it is the next
/// message of a reader standing at `head` − 8, and a reader one message
/// behind takes one line from the writer's core instead of two (`head`,
/// then the message's ring line). `head` strictly grows (each message
/// takes at least a line), so the position names the commit.
struct Latest;
impl Latest {
    const HEAD: usize = 0;
    const PRICE: usize = 1;
    const QTY: usize = 2;
    const TS: usize = 3;
    const EVENTS: usize = 4;
    const OFI: usize = 5;
    const OFI_TOTAL: usize = 6;
    const MSG_TOTAL: usize = 7;
}
/// `HEAD` bit: the writer is rewriting the line for the commit ending here.
const BUSY: u64 = 1 << 63;
/// `HEAD` bit: the message is not simple: read it from the ring.
const RING: u64 = 1 << 62;
/// `QTY` bit of the latest line: the message logged one level change.
const HAS_CHANGE: u64 = 1 << 62;

/// The position a `latest` line's `HEAD` word names.
#[inline]
fn head_of(w: u64) -> u64 {
    w & !(BUSY | RING)
}

/// One word alone on a cache line.
#[derive(Debug)]
#[repr(align(64))]
struct Padded(AtomicU64);

/// Ring lines.
const LINES: usize = CAP / 8;

impl Shared {
    /// The line of word `pos`, and the word's offset in it.
    #[inline]
    fn line(&self, pos: u64) -> (&[AtomicU64; 8], usize) {
        (
            &self.ring[(pos >> 3) as usize & (LINES - 1)].0,
            (pos & 7) as usize,
        )
    }

    #[inline]
    fn word(&self, pos: u64) -> &AtomicU64 {
        // LINES is a power of two and the ring that long: never out of
        // bounds.
        &self.ring[(pos >> 3) as usize & (LINES - 1)].0[(pos & 7) as usize]
    }
}

/// One side's mirrored range, as a bound on the side's *key*: the price for
/// asks, minus the price for bids, so that "at or better than the bound"
/// is `key <= bound` on both sides (one comparison, no branch on the side).
#[derive(Clone, Copy, Debug)]
struct Range {
    /// The deepest key mirrored; `i64::MAX` for a complete side (every
    /// level of it is mirrored).
    bound: i64,
    /// Levels of the book in range.
    count: usize,
}

impl Default for Range {
    fn default() -> Self {
        Range {
            bound: i64::MAX,
            count: 0,
        }
    }
}

impl Range {
    /// No level is in range (not tracking).
    const NONE: Range = Range {
        bound: i64::MIN,
        count: 0,
    };

    #[inline]
    fn complete(&self) -> bool {
        self.bound == i64::MAX
    }

    /// Whether a reader's top N could miss a level: fewer than `n` levels
    /// in range on a side that has more, or more than `most` (a reader's
    /// work per change grows with it).
    #[inline]
    fn short(&self, n: usize, most: usize) -> bool {
        (self.count < n && !self.complete()) || self.count > most
    }
}

/// The key of `price` on side `s` (0 bid, 1 ask): see [`Range`].
#[inline]
fn key(s: usize, price: Price) -> i64 {
    if s == 0 {
        price.wrapping_neg()
    } else {
        price
    }
}

/// Stores a commit record's `words` at log position `at`; returns the line
/// it starts in (all of it, for a simple message).
#[inline]
fn store_record(sh: &Shared, at: u64, words: [u64; COMMIT_WORDS as usize]) -> &[AtomicU64; 8] {
    // Within one line when it fits (the common one-change message: the
    // change in words 0-1, the record in 2-7): one bounds check.
    let (line, o) = sh.line(at);
    match line.get(o..o + COMMIT_WORDS as usize) {
        Some(dst) => {
            for (d, v) in dst.iter().zip(words) {
                d.store(v, Ordering::Relaxed);
            }
        }
        None => {
            for (i, v) in words.into_iter().enumerate() {
                sh.word(at + i as u64).store(v, Ordering::Relaxed);
            }
        }
    }
    line
}

/// The single writer of a change log.
#[derive(Debug)]
pub struct LogPublisher {
    shared: Arc<Shared>,
    /// Next word to write.
    pos: u64,
    /// `tail` as last stored + `CAP_WORDS`: words below it may be written.
    room: u64,
    /// The commit at or after which the next snapshot is due: the latest
    /// snapshot's position + [`SNAP_EVERY_WORDS`]; 0 when one is due now
    /// (nothing tracked yet, a range ran short, or invalidated).
    snap_due: u64,
    /// The mirrored ranges (bid, ask); while not tracking, both are
    /// [`Range::NONE`], so every change falls outside (no flag to test).
    ranges: [Range; 2],
    /// Commits so far (the writer's own count; `LogReader::seq` loads the
    /// copy in `Shared::last`).
    commits: u64,
    /// Where the message being logged started (the head).
    start: u64,
    /// Levels published per side, and the most levels a range may hold.
    levels: usize,
    most: usize,
    /// The snapshot's words (kept: a snapshot allocates nothing).
    snap_words: Vec<u64>,
}

/// A reader: `Clone + Send + Sync`; each clone keeps its own mirror.
/// `read(&self)` serves a handle shared between threads; `read_into(&mut
/// self)`, the fast form, a thread owning its handle.
#[derive(Debug)]
pub struct LogReader {
    shared: Arc<Shared>,
    mirror: Mutex<Mirror>,
}

/// The mirror of a handle borrowed mutably: no lock needed (a poisoned
/// mutex only means a reader panicked mid-read; the next read's checks
/// stand as they are, and a torn mirror is rebuilt from a snapshot).
fn own(m: &mut Mutex<Mirror>) -> &mut Mirror {
    match m.get_mut() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    }
}

/// Reads the latest commit into `out` through mirror `m`, retrying while
/// the writer is mid-way.
fn read_mirror(m: &mut Mirror, sh: &Shared, out: &mut Snapshot) {
    let mut spins = 0u32;
    loop {
        match m.attempt(sh, out) {
            Attempt::Done => return,
            Attempt::Empty => {
                *out = Snapshot::default(); // nothing published yet
                return;
            }
            Attempt::Resynced => {}
            Attempt::Wait => super::backoff(&mut spins),
        }
    }
}

impl Clone for LogReader {
    fn clone(&self) -> Self {
        let m = self.mirror.lock().map(|m| m.clone()).unwrap_or_default();
        LogReader {
            shared: self.shared.clone(),
            mirror: Mutex::new(m),
        }
    }
}

/// A zeroed ring, built on the heap (128 KiB would overflow a small thread
/// stack if built there first). (`None` cannot happen: the slice is LINES
/// long by construction.)
fn ring() -> Option<Box<[Line; LINES]>> {
    let v: Box<[Line]> = (0..LINES)
        .map(|_| Line(std::array::from_fn(|_| AtomicU64::new(0))))
        .collect();
    v.try_into().ok()
}

/// A publisher of `levels` levels per side (1..=[`super::MAX_LEVELS`]) and
/// its first reader; `None` outside that range.
pub fn log_channel(levels: usize) -> Option<(LogPublisher, LogReader)> {
    if levels == 0 || levels > super::MAX_LEVELS {
        return None;
    }
    let depth = snapshot_depth(levels);
    let shared = Arc::new(Shared {
        levels,
        depth,
        ring: ring()?,
        last: Line2 {
            commits: AtomicU64::new(0),
        },
        latest: Line(std::array::from_fn(|_| AtomicU64::new(0))),
        tail: Padded(AtomicU64::new(0)),
        snap: SeqBlock::new(S_ROWS + 4 * depth),
    });
    let p = LogPublisher {
        shared: shared.clone(),
        pos: 0,
        room: CAP_WORDS,
        snap_due: 0,
        ranges: [Range::NONE; 2],
        commits: 0,
        start: 0,
        levels,
        most: most_rows(depth),
        snap_words: Vec::new(),
    };
    let r = p.reader();
    Some((p, r))
}

impl LogPublisher {
    /// Levels per side carried.
    pub fn levels(&self) -> usize {
        self.shared.levels
    }

    /// A new reader (its mirror starts at the latest snapshot).
    pub fn reader(&self) -> LogReader {
        LogReader {
            shared: self.shared.clone(),
            mirror: Mutex::new(Mirror::default()),
        }
    }

    /// Readers alive (excluding the publisher).
    pub fn readers(&self) -> usize {
        Arc::strong_count(&self.shared) - 1
    }

    /// Publications so far.
    pub fn published(&self) -> u64 {
        self.commits
    }

    /// True while changes are logged (a snapshot is current).
    #[inline]
    pub fn tracking(&self) -> bool {
        self.ranges[0].bound != Range::NONE.bound
    }

    /// Stops logging until the next publication, which takes a snapshot:
    /// after a change that has no level records (a CLEAR, a restored
    /// checkpoint), or while nobody reads.
    #[inline]
    pub fn invalidate(&mut self) {
        self.ranges = [Range::NONE; 2];
        self.snap_due = 0;
        // What was logged since the last commit is void (a rolled-back
        // call's changes): the next commit starts from the head.
        self.pos = self.start;
    }

    /// Makes words `pos..pos + k` writable: raises `tail` (a chunk ahead)
    /// before they overwrite what readers may still copy.
    #[inline]
    fn reserve(&mut self, k: u64) {
        if self.pos + k > self.room {
            self.raise_tail(k);
        }
    }

    #[cold]
    #[inline(never)]
    fn raise_tail(&mut self, k: u64) {
        self.room = self.pos + k + TAIL_CHUNK_WORDS;
        let tail = self.room.saturating_sub(CAP_WORDS);
        self.shared.tail.0.store(tail, Ordering::Relaxed);
        fence(Ordering::Release);
    }

    /// Logs one level change of the book being published (called after each
    /// change the book applies; a no-op while not tracking).
    #[inline]
    pub fn on_change(&mut self, c: &LevelChange) {
        let s = usize::from(c.side < 0);
        let r = &mut self.ranges[s];
        if key(s, c.price) > r.bound {
            return; // no reader mirrors it
        }
        let (was, is) = (c.prev_qty > 0, c.new_qty > 0);
        if was != is {
            r.count = if is {
                r.count + 1
            } else {
                r.count.saturating_sub(1)
            };
            if r.short(self.levels, self.most) {
                self.snap_due = 0;
            }
        }
        self.reserve(2);
        let side = if s == 1 { ASK_BIT } else { 0 };
        // An entry starts at an even word: never across two lines.
        let (line, o) = self.shared.line(self.pos);
        if let Some([p, q]) = line.get(o..o + 2) {
            p.store(c.price as u64, Ordering::Relaxed);
            q.store(c.new_qty as u64 | side, Ordering::Relaxed);
        }
        self.pos += 2;
    }

    /// Ends a message: commits what was logged with `ts`, `events` and
    /// `flow`, taking a new snapshot of `l2` first when a reader's mirror
    /// could otherwise miss a top-N level (see the module doc).
    #[inline]
    pub fn publish_book(&mut self, l2: &L2Book, ts: Ts, events: u64, flow: &FlowTotals) {
        let stale = self.pos >= self.snap_due;
        self.reserve(COMMIT_WORDS);
        let at = self.pos;
        let logged = at - self.start;
        let snap = if stale { SNAP_BIT } else { 0 };
        let words = [
            ts as u64,
            COMMIT_BIT | snap,
            events,
            flow.ofi as u64,
            flow.ofi_total as u64,
            flow.ofi_msg_total as u64,
        ];
        // The next message starts on a new line: with one change a message
        // fills exactly one line (2 + 6 words), so the writer never stores
        // into a line a reader is copying a finished message from.
        self.pos = (at + COMMIT_WORDS + 7) & !7;
        self.start = self.pos;
        self.commits += 1;
        if stale || logged > 2 {
            // Not simple: readers take it from the log.
            store_record(&self.shared, at, words);
            if stale {
                self.snapshot(l2, ts, events, flow);
            }
            let sh = &self.shared;
            sh.latest.0[Latest::HEAD].store(self.pos | RING, Ordering::Release);
            sh.last.commits.store(self.commits, Ordering::Release);
            return;
        }
        let sh = &self.shared;
        let line = store_record(sh, at, words);
        // The change, if any, is words 0-1 of the record's line (the
        // message started on a new line).
        let (price, qty) = if logged == 2 {
            (
                line[0].load(Ordering::Relaxed),
                line[1].load(Ordering::Relaxed) | HAS_CHANGE,
            )
        } else {
            (0, 0)
        };
        // The latest line under a sequence lock of its own (see [`Latest`]).
        let l = &sh.latest.0;
        // Release: a reader that sees this word sees the log before it
        // (it then reads the log up to the line before).
        l[Latest::HEAD].store(self.pos | BUSY, Ordering::Release);
        fence(Ordering::Release);
        l[Latest::PRICE].store(price, Ordering::Relaxed);
        l[Latest::QTY].store(qty, Ordering::Relaxed);
        l[Latest::TS].store(words[0], Ordering::Relaxed);
        l[Latest::EVENTS].store(words[2], Ordering::Relaxed);
        l[Latest::OFI].store(words[3], Ordering::Relaxed);
        l[Latest::OFI_TOTAL].store(words[4], Ordering::Relaxed);
        l[Latest::MSG_TOTAL].store(words[5], Ordering::Relaxed);
        l[Latest::HEAD].store(self.pos, Ordering::Release);
        sh.last.commits.store(self.commits, Ordering::Release);
    }

    /// Publishes a snapshot of `l2` standing at log position `pos` (the
    /// commit just written, number `commits`, header words `w`).
    #[cold]
    #[inline(never)]
    fn snapshot(&mut self, l2: &L2Book, ts: Ts, events: u64, flow: &FlowTotals) {
        let d = self.shared.depth;
        let mut words = std::mem::take(&mut self.snap_words);
        words.clear();
        words.resize(S_ROWS + 4 * d, 0);
        words[S_POS] = self.pos;
        words[S_N] = self.commits;
        words[S_TS] = ts as u64;
        words[S_EVENTS] = events;
        words[S_OFI] = flow.ofi as u64;
        words[S_OFI_TOTAL] = flow.ofi_total as u64;
        words[S_MSG_TOTAL] = flow.ofi_msg_total as u64;
        for (s, side) in [Side::Bid, Side::Ask].into_iter().enumerate() {
            let base = S_ROWS + 2 * d * s;
            let mut k = 0;
            l2.for_each_level(side, d, |p, q| {
                words[base + 2 * k] = p as u64;
                words[base + 2 * k + 1] = q as u64;
                k += 1;
            });
            // The deepest level taken bounds the range, unless that was
            // the whole side.
            let bound = match k.checked_sub(1) {
                Some(last) if k == d => key(s, words[base + 2 * last] as Price),
                _ => i64::MAX,
            };
            self.ranges[s] = Range { bound, count: k };
            words[S_COUNT + s] = k as u64;
            words[S_BOUND + s] = bound as u64;
        }
        self.shared.snap.write(&words);
        self.snap_words = words;
        self.snap_due = self.pos + SNAP_EVERY_WORDS;
    }
}

/// A reader's copy of the top of the book.
#[derive(Clone, Debug, Default)]
struct Mirror {
    /// Log position it stands at (a commit boundary); meaningful when `live`.
    pos: u64,
    live: bool,
    /// Commits applied (the publication number).
    n: u64,
    /// The snapshot block's publication the mirror started from.
    snap_seen: u64,
    ts: Ts,
    events: u64,
    flow: FlowTotals,
    /// Levels in range per side, best first.
    sides: [Vec<(Price, Qty)>; 2],
    range: [Range; 2],
    snap: Vec<u64>,
}

/// Outcome of one read attempt ([`Mirror::attempt`]).
enum Attempt {
    /// `out` holds the latest commit.
    Done,
    /// Nothing published yet.
    Empty,
    /// The mirror must start again from the latest snapshot: at once.
    Resynced,
    /// The writer is mid-way (a snapshot being written, or its head not
    /// yet stored): after a pause.
    Wait,
}

/// Outcome of one catch-up attempt.
enum Catch {
    Done,
    /// The log words needed are gone or the snapshot moved on: start from
    /// the latest snapshot.
    Resync,
    /// The head is behind the snapshot just read: try again.
    Retry,
}

impl Mirror {
    /// One attempt: start from the latest snapshot if the mirror is not
    /// live, catch up with the log, and on success write the top `levels`
    /// into `out` (untouched otherwise).
    fn attempt(&mut self, sh: &Shared, out: &mut Snapshot) -> Attempt {
        if !self.live {
            if head_of(sh.latest.0[Latest::HEAD].load(Ordering::Acquire)) == 0 {
                return Attempt::Empty;
            }
            self.live = self.load_snapshot(sh);
            if !self.live {
                return Attempt::Wait;
            }
        }
        match self.catch_up(sh) {
            Catch::Done => {
                self.snapshot_into(sh.levels, out);
                Attempt::Done
            }
            Catch::Resync => {
                self.live = false;
                Attempt::Resynced
            }
            Catch::Retry => Attempt::Wait,
        }
    }

    /// Starts from the latest snapshot (false while it is being written or
    /// none exists yet).
    fn load_snapshot(&mut self, sh: &Shared) -> bool {
        self.snap.resize(sh.snap.len(), 0);
        match sh.snap.try_read(&mut self.snap) {
            Ok(k) => self.snap_seen = k,
            Err(_) => return false,
        }
        let w = &self.snap;
        if w[S_N] == 0 {
            return false; // nothing published yet
        }
        let d = sh.depth;
        self.pos = w[S_POS];
        self.n = w[S_N];
        self.ts = w[S_TS] as Ts;
        self.events = w[S_EVENTS];
        self.flow = FlowTotals {
            ofi: w[S_OFI] as i64,
            ofi_total: w[S_OFI_TOTAL] as i64,
            ofi_msg_total: w[S_MSG_TOTAL] as i64,
        };
        for s in 0..2 {
            let k = (w[S_COUNT + s] as usize).min(d);
            let base = S_ROWS + 2 * d * s;
            let rows = &mut self.sides[s];
            rows.clear();
            rows.extend((0..k).map(|j| (w[base + 2 * j] as Price, w[base + 2 * j + 1] as Qty)));
            self.range[s] = Range {
                bound: w[S_BOUND + s] as i64,
                count: k,
            };
        }
        true
    }

    /// Brings the mirror to the latest commit: from the `latest` line when
    /// that is the next commit and simple, else from the log.
    #[inline]
    fn catch_up(&mut self, sh: &Shared) -> Catch {
        let l = &sh.latest.0;
        let w0 = l[Latest::HEAD].load(Ordering::Acquire);
        let head = head_of(w0);
        // While the line is rewritten, the commit before it ends a line
        // earlier (only a simple message is copied there).
        let done = if w0 & BUSY != 0 { head - 8 } else { head };
        if done == self.pos {
            return Catch::Done; // nothing new
        }
        if w0 == self.pos + 8 {
            // The next message, simple, not being rewritten: copy it, then
            // check that the writer did not start rewriting meanwhile.
            let w = [
                l[Latest::PRICE].load(Ordering::Relaxed),
                l[Latest::QTY].load(Ordering::Relaxed),
                l[Latest::TS].load(Ordering::Relaxed),
                l[Latest::EVENTS].load(Ordering::Relaxed),
                l[Latest::OFI].load(Ordering::Relaxed),
                l[Latest::OFI_TOTAL].load(Ordering::Relaxed),
                l[Latest::MSG_TOTAL].load(Ordering::Relaxed),
            ];
            fence(Ordering::Acquire);
            if l[Latest::HEAD].load(Ordering::Relaxed) == w0 {
                if w[1] & HAS_CHANGE != 0 {
                    let s = usize::from(w[1] & ASK_BIT != 0);
                    let qty = (w[1] & !(ASK_BIT | HAS_CHANGE)) as Qty;
                    if self.apply(s, w[0] as Price, qty, most_rows(sh.depth)) {
                        return Catch::Resync;
                    }
                }
                self.n += 1;
                self.pos = head;
                self.set_header([w[2], w[3], w[4], w[5], w[6]]);
                return Catch::Done;
            }
        }
        self.catch_up_log(sh, done)
    }

    /// Copies the log from `pos` to `head` (a commit boundary) and applies
    /// it.
    fn catch_up_log(&mut self, sh: &Shared, head: u64) -> Catch {
        if head < self.pos {
            // a snapshot read before the head that follows it was stored
            return Catch::Retry;
        }
        if head - self.pos > SNAP_EVERY_WORDS + COMMIT_WORDS && sh.snap.published() > self.snap_seen
        {
            // A newer snapshot at most ~SNAP_EVERY_WORDS old: cheaper.
            return Catch::Resync;
        }
        // Applied as read, validated after: a copy the writer overwrote
        // meanwhile fails the `tail` check below, and the mirror is then
        // rebuilt from a snapshot, so whatever a torn read applied is
        // discarded. A side growing past `most` rows is torn too, or in a
        // message whose commit starts a snapshot: a resync either way.
        let most = most_rows(sh.depth);
        let mut p = self.pos;
        let mut commit = None;
        let mut torn = false;
        while p + 1 < head {
            let (a, b) = (
                sh.word(p).load(Ordering::Relaxed),
                sh.word(p + 1).load(Ordering::Relaxed),
            );
            if b & COMMIT_BIT != 0 {
                commit = Some([
                    a,
                    sh.word(p + 2).load(Ordering::Relaxed),
                    sh.word(p + 3).load(Ordering::Relaxed),
                    sh.word(p + 4).load(Ordering::Relaxed),
                    sh.word(p + 5).load(Ordering::Relaxed),
                ]);
                self.n += 1;
                if b & SNAP_BIT != 0 {
                    // new ranges from here: continue from the snapshot
                    return Catch::Resync;
                }
                // the writer starts each message on a new line
                p = (p + COMMIT_WORDS + 7) & !7;
            } else {
                let s = usize::from(b & ASK_BIT != 0);
                if self.apply(s, a as Price, (b & !ASK_BIT) as Qty, most) {
                    torn = true;
                    break;
                }
                p += 2;
            }
        }
        fence(Ordering::Acquire);
        if torn || sh.tail.0.load(Ordering::Relaxed) > self.pos {
            return Catch::Resync; // overwritten: too far behind
        }
        if let Some(r) = commit {
            self.set_header(r);
        }
        self.pos = head;
        Catch::Done
    }

    /// A commit record's header words: ts (ns), events, OFI e_n, OFI
    /// total, message OFI total (lots).
    #[inline]
    fn set_header(&mut self, r: [u64; 5]) {
        self.ts = r[0] as Ts;
        self.events = r[1];
        self.flow = FlowTotals {
            ofi: r[2] as i64,
            ofi_total: r[3] as i64,
            ofi_msg_total: r[4] as i64,
        };
    }

    /// One logged change of side `s` (0 bid, 1 ask): level `price` now
    /// holds `qty` lots.
    ///
    /// True, and nothing applied, when the side would pass `most` rows.
    #[inline]
    fn apply(&mut self, s: usize, price: Price, qty: Qty, most: usize) -> bool {
        if key(s, price) > self.range[s].bound {
            return false;
        }
        let rows = &mut self.sides[s];
        // Best first: bids descending, asks ascending. A scan from the
        // touch rather than a binary search: most changes are a few levels
        // from it, and the scan's branches predict.
        let j = if s == 0 {
            rows.iter().position(|r| r.0 <= price)
        } else {
            rows.iter().position(|r| r.0 >= price)
        }
        .unwrap_or(rows.len());
        let found = rows.get(j).is_some_and(|r| r.0 == price);
        match (found, qty > 0) {
            (true, true) => rows[j].1 = qty,
            (true, false) => {
                rows.remove(j);
            }
            (false, true) => {
                if rows.len() >= most {
                    return true;
                }
                rows.insert(j, (price, qty));
            }
            (false, false) => {}
        }
        false
    }

    /// Writes the mirror's top `levels` and header into `out` (reusing its
    /// vectors).
    fn snapshot_into(&self, levels: usize, out: &mut Snapshot) {
        let [b, a] = &self.sides;
        out.bids.clear();
        out.bids.extend_from_slice(&b[..b.len().min(levels)]);
        out.asks.clear();
        out.asks.extend_from_slice(&a[..a.len().min(levels)]);
        let (bid_price, bid_qty) = out.bids.first().copied().unwrap_or((0, 0));
        let (ask_price, ask_qty) = out.asks.first().copied().unwrap_or((0, 0));
        let top = Top {
            bid_price,
            bid_qty,
            ask_price,
            ask_qty,
        };
        out.seq = self.n;
        out.ts = self.ts;
        out.events = self.events;
        out.signals = SignalValues::of(self.flow, &top);
    }
}

impl LogReader {
    /// Levels per side carried.
    pub fn levels(&self) -> usize {
        self.shared.levels
    }

    /// The publication number currently visible (0 = none yet); one load.
    pub fn seq(&self) -> u64 {
        self.shared.last.commits.load(Ordering::Acquire)
    }

    /// The latest consistent snapshot: the book after the last committed
    /// message. Never blocks the writer; retries while a copy it makes is
    /// overwritten (a reader more than a ring behind starts again from the
    /// latest snapshot). For a handle shared between threads: it locks the
    /// handle's mirror (uncontended, two atomic read-modify-writes); a
    /// thread owning its handle reads with [`Self::read_into`].
    pub fn read(&self) -> Snapshot {
        let mut s = Snapshot::default();
        read_mirror(&mut self.mirror(), &self.shared, &mut s);
        s
    }

    /// One attempt of [`Self::read_into`]: false (and `out` untouched) when
    /// the copy was overwritten or a snapshot was being written, or nothing
    /// is published yet.
    pub fn try_read_into(&mut self, out: &mut Snapshot) -> bool {
        let sh = &self.shared;
        matches!(own(&mut self.mirror).attempt(sh, out), Attempt::Done)
    }

    /// [`Self::read`] into `out`, reusing its vectors (no allocation once
    /// they have grown to `levels()`), by the thread that owns this handle
    /// (each reader thread its own clone): no lock. Locking the mirror
    /// (as `read` does) cost a reader polling a one-event-a-message stream
    /// ~1.6x in copies a second (`benches/publish.rs`): its two locked
    /// instructions are full barriers on x86.
    pub fn read_into(&mut self, out: &mut Snapshot) {
        let sh = &self.shared;
        read_mirror(own(&mut self.mirror), sh, out);
    }

    /// This handle's mirror (only this handle's clones' threads contend).
    fn mirror(&self) -> std::sync::MutexGuard<'_, Mirror> {
        match self.mirror.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Seeded LCG.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, m: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % m
        }
    }

    type Rows = Vec<(Price, Qty)>;

    fn top(l2: &L2Book, n: usize) -> (Rows, Rows) {
        (l2.levels(Side::Bid, n), l2.levels(Side::Ask, n))
    }

    /// Applies `msgs` random messages of 1..`per_msg` level changes (prices
    /// within `spread` ticks of the touch, some far away; sizes 0..4, 0 =
    /// remove) and calls `after(l2, messages so far)` after each commit.
    fn drive(
        p: &mut LogPublisher,
        seed: u64,
        msgs: usize,
        per_msg: u64,
        spread: u64,
        mut after: impl FnMut(&L2Book, u64),
    ) {
        let mut l2 = L2Book::new();
        let mut r = Lcg(seed);
        let flow = FlowTotals::default();
        for m in 0..msgs as u64 {
            for _ in 0..1 + r.next(per_msg) {
                let bid = r.next(2) == 0;
                let off = if r.next(50) == 0 {
                    r.next(5_000) as i64 // a far level now and then
                } else {
                    r.next(spread) as i64
                };
                let price = if bid { 10_000 - off } else { 10_001 + off };
                let side = if bid { Side::Bid } else { Side::Ask };
                if let Ok(c) = l2.set_level(side, price, r.next(4) as i64) {
                    p.on_change(&c);
                }
            }
            let flow = FlowTotals {
                ofi: m as i64,
                ..flow
            };
            p.publish_book(&l2, m as i64, m + 1, &flow);
            after(&l2, m + 1);
        }
    }

    /// After every message, a reader that reads every message sees exactly
    /// the book's top N, with the commit's header.
    #[test]
    fn a_reader_sees_the_books_top_n_after_every_message() {
        for (seed, per_msg, spread) in [(1, 3, 12), (2, 40, 30), (3, 2, 4)] {
            let n = 5;
            let Some((mut p, r)) = log_channel(n) else {
                unreachable!("no channel")
            };
            drive(&mut p, seed, 20_000, per_msg, spread, |l2, m| {
                let s = r.read();
                let (b, a) = top(l2, n);
                assert_eq!((s.bids, s.asks), (b, a), "seed {seed} message {m}");
                assert_eq!((s.seq, s.events, s.signals.ofi), (m, m, m as i64 - 1));
            });
        }
    }

    /// A thread's own handle (`read_into`, no lock) one message behind
    /// takes simple messages from the `latest` line and the rest from the
    /// log; skipping a message now and then sends it to the log, and its
    /// position must then agree with the writer's (one ring line per
    /// simple message). Messages of 0, 1 or 2 logged changes.
    #[test]
    fn the_latest_line_and_the_log_agree() {
        for (seed, per_msg, spread) in [(4, 1, 6), (5, 2, 3), (6, 1, 40)] {
            let n = 5;
            let Some((mut p, mut r)) = log_channel(n) else {
                unreachable!("no channel")
            };
            let mut s = Snapshot::default();
            drive(&mut p, seed, 20_000, per_msg, spread, |l2, m| {
                if m % 5 == 0 || m % 11 == 0 {
                    return; // two or more behind at the next read
                }
                r.read_into(&mut s);
                let (b, a) = top(l2, n);
                assert_eq!((&s.bids, &s.asks), (&b, &a), "seed {seed} message {m}");
                assert_eq!(
                    (s.seq, s.events, s.ts, s.signals.ofi),
                    (m, m, m as i64 - 1, m as i64 - 1)
                );
            });
        }
    }

    /// Readers that read every k-th message, one made late, and one that
    /// never reads until the end (lapped many times over) all agree with
    /// the book; so does a clone taken midway.
    #[test]
    fn slow_and_late_readers_catch_up_from_snapshots() {
        let n = 10;
        let Some((mut p, r1)) = log_channel(n) else {
            unreachable!("no channel")
        };
        let slow = p.reader();
        let idle = p.reader();
        let mut late: Option<LogReader> = None;
        let mut clone: Option<LogReader> = None;
        let mut last = (Vec::new(), Vec::new());
        drive(&mut p, 9, 30_000, 20, 40, |l2, m| {
            let want = top(l2, n);
            if m % 7 == 0 {
                let s = slow.read();
                assert_eq!((s.bids, s.asks), want.clone(), "slow, message {m}");
            }
            if m == 10_000 {
                late = Some(r1.clone());
                clone = Some(slow.clone());
            }
            if let Some(l) = &late {
                if m % 1_000 == 0 {
                    let s = l.read();
                    assert_eq!((s.bids, s.asks), want.clone(), "late, message {m}");
                }
            }
            if let Some(c) = &clone {
                if m % 3 == 0 {
                    let s = c.read();
                    assert_eq!((s.bids, s.asks), want.clone(), "clone, message {m}");
                }
            }
            last = want;
        });
        let s = idle.read();
        assert_eq!((s.bids, s.asks), last);
        assert_eq!(s.seq, 30_000);
    }

    /// Snapshots are rare: on a stream near the touch the writer takes one
    /// per SNAP_EVERY_WORDS of log, or when a side's range runs short.
    #[test]
    fn snapshots_are_rare() {
        let Some((mut p, _r)) = log_channel(10) else {
            unreachable!("no channel")
        };
        drive(&mut p, 4, 50_000, 3, 12, |_, _| {});
        let snaps = p.shared.snap.published();
        let words = p.pos;
        assert!(snaps >= words / SNAP_EVERY_WORDS, "{snaps} snapshots");
        assert!(snaps < 50_000 / 20, "{snaps} snapshots for 50,000 messages");
    }

    /// A CLEAR (no level records): the publisher is invalidated and the
    /// next publication's snapshot carries the new book.
    #[test]
    fn an_invalidated_log_publishes_a_snapshot() {
        let Some((mut p, r)) = log_channel(3) else {
            unreachable!("no channel")
        };
        let mut l2 = L2Book::new();
        for k in 0..5 {
            if let Ok(c) = l2.set_level(Side::Bid, 100 - k, 1 + k) {
                p.on_change(&c);
            }
        }
        p.publish_book(&l2, 1, 5, &FlowTotals::default());
        assert_eq!(r.read().bids, vec![(100, 1), (99, 2), (98, 3)]);
        // the book is rebuilt behind the publisher's back, then invalidated
        let mut l2 = L2Book::new();
        let _ = l2.set_level(Side::Ask, 105, 7);
        p.invalidate();
        p.publish_book(&l2, 2, 6, &FlowTotals::default());
        let s = r.read();
        assert_eq!((s.bids, s.asks, s.seq), (vec![], vec![(105, 7)], 2));
    }

    /// One message longer than the ring (40,000 new levels on a side the
    /// snapshot held whole, all in range): a reader that read before it
    /// cannot catch up from the log, and starts again from the snapshot
    /// taken at its end.
    #[test]
    fn a_message_longer_than_the_ring_ends_with_a_snapshot() {
        let Some((mut p, r)) = log_channel(4) else {
            unreachable!("no channel")
        };
        let mut l2 = L2Book::new();
        if let Ok(c) = l2.set_level(Side::Bid, 1_000_000, 1) {
            p.on_change(&c);
        }
        p.publish_book(&l2, 1, 1, &FlowTotals::default());
        assert_eq!(r.read().bids, vec![(1_000_000, 1)]);
        let n = 40_000;
        assert!(2 * n as u64 > CAP_WORDS);
        for k in 1..=n {
            if let Ok(c) = l2.set_level(Side::Bid, 1_000_000 + k, 2) {
                p.on_change(&c);
            }
        }
        p.publish_book(&l2, 2, 2, &FlowTotals::default());
        let s = r.read();
        assert_eq!(s.bids.first(), Some(&(1_040_000, 2)));
        assert_eq!((s.bids, s.seq), (l2.levels(Side::Bid, 4), 2));
    }

    #[test]
    fn nothing_published_reads_empty() {
        let Some((_p, r)) = log_channel(3) else {
            unreachable!("no channel")
        };
        assert_eq!(r.read(), Snapshot::default());
        assert_eq!(r.seq(), 0);
    }
}
