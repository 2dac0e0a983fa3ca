//! A background feed engine: one Rust thread owns one book per instrument,
//! drains a bounded SPSC ring of events pushed by the producer, applies them
//! through each [`Instrument`]'s one step (flow, counts, detectors), and
//! publishes a snapshot per instrument (seqlock, [`crate::publish`]) at
//! every message boundary — the last event of a feed message (`F_LAST`) or
//! of a push — so readers on other threads see whole messages only, without
//! ever blocking the engine. (A push that timed out part-way ends no message:
//! its instrument is published at the next boundary.)
//!
//! Accounting is exact: every event accepted by [`Engine::push`] is either
//! applied or rejected with an error (`pushed == applied + rejected` once the
//! ring is drained), and an event refused because the ring is full is never
//! accepted — the producer is told how many were taken. Errors are queued for
//! the producer to collect ([`Engine::take_errors`]); a panic inside the
//! engine stops it and is reported, never aborting the process.

pub mod alerts;
pub mod ring;

use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::instrument::Instrument;
use crate::publish::Reader;
use crate::types::Event;
pub use crate::AnyBook;
use ring::Ring;

/// Engine options.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Ring slots (rounded up to a power of two).
    pub capacity: usize,
    /// Levels per side in each published snapshot.
    pub levels: usize,
    /// Reject events whose `ts` is earlier than the book's last.
    pub check_ts: bool,
    /// Most events drained from the ring at a time (publications happen at
    /// message boundaries, whatever the batch).
    pub batch: usize,
    /// Run the detectors on every book, alerts to [`Engine::take_alerts`].
    pub detect: Option<crate::detect::DetectConfig>,
    /// Alert queue capacity (alerts beyond it are counted as dropped).
    pub alert_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            capacity: 1 << 16,
            levels: 10,
            check_ts: true,
            batch: 256,
            detect: None,
            alert_capacity: 1 << 14,
        }
    }
}

/// Counters (events).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Accepted into the ring.
    pub pushed: u64,
    /// Applied to a book.
    pub applied: u64,
    /// Rejected with an error (book unchanged).
    pub rejected: u64,
    /// Push calls that timed out on a full ring (their events were not accepted).
    pub full_timeouts: u64,
    /// Errors dropped from the error queue because it held `MAX_ERRORS`
    /// (they are still counted in `rejected`).
    pub errors_dropped: u64,
}

/// Errors kept for the producer to collect; beyond that only counted.
pub const MAX_ERRORS: usize = 1024;

#[derive(Debug, Default)]
struct Shared {
    applied: AtomicU64,
    rejected: AtomicU64,
    stop: AtomicBool,
    drain: AtomicBool,
    done: AtomicBool,
    parked: AtomicBool,
    errors: Mutex<VecDeque<Error>>,
    errors_dropped: AtomicU64,
    failure: Mutex<Option<String>>,
}

/// Why a push or wait did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// The ring stayed full for the whole timeout; `accepted` events of the
    /// call were taken, the rest were not.
    Full {
        /// Events of this call accepted before the timeout.
        accepted: usize,
    },
    /// The engine thread stopped on an internal error (a bug): its message.
    Failed(String),
    /// The engine was closed.
    Closed,
    /// `flush` timed out with events still queued.
    Timeout {
        /// Events still waiting.
        left: u64,
    },
    /// Instrument index out of range.
    BadInstrument {
        /// The index given.
        instrument: usize,
        /// Books in the engine.
        instruments: usize,
    },
}

/// The producer-side handle. Exactly one per engine (pushes need `&mut`).
#[derive(Debug)]
pub struct Engine {
    ring: Arc<Ring>,
    alerts: Arc<alerts::AlertQueue>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Vec<Instrument<AnyBook>>>>,
    readers: Vec<Reader>,
    pushed: u64,
    full_timeouts: u64,
    books_back: Option<Vec<Instrument<AnyBook>>>,
}

struct Worker {
    ring: Arc<Ring>,
    alerts: Arc<alerts::AlertQueue>,
    shared: Arc<Shared>,
    insts: Vec<Instrument<AnyBook>>,
    /// Instruments changed since their last publication.
    dirty: Vec<bool>,
    cfg: EngineConfig,
    consumed: u64,
}

impl Worker {
    fn run(mut self) -> Vec<Instrument<AnyBook>> {
        for i in &mut self.insts {
            i.publish();
        }
        let mut idle: u32 = 0;
        loop {
            let n = self.drain_batch();
            if n > 0 {
                idle = 0;
                continue;
            }
            if self.shared.stop.load(Ordering::Acquire)
                && (!self.shared.drain.load(Ordering::Acquire) || self.ring.is_empty())
            {
                break;
            }
            idle = idle.saturating_add(1);
            if idle < 2000 {
                std::hint::spin_loop();
            } else if idle < 2100 {
                std::thread::yield_now();
            } else {
                // Dekker with the producer: parked=true, fence, re-check the
                // ring; the producer publishes tail, fences, reads parked.
                self.shared.parked.store(true, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                if self.ring.is_empty() && !self.shared.stop.load(Ordering::Acquire) {
                    // The timeout bounds the cost of any wake-up we could miss.
                    std::thread::park_timeout(Duration::from_micros(500));
                }
                self.shared.parked.store(false, Ordering::Relaxed);
            }
        }
        self.insts
    }

    fn drain_batch(&mut self) -> usize {
        let Worker {
            ring,
            insts,
            dirty,
            cfg,
            consumed,
            alerts,
            ..
        } = self;
        let mut applied = 0u64;
        let mut errors: Vec<Error> = Vec::new();
        let n = ring.pop_with(cfg.batch, |inst, ev, end| {
            let idx = *consumed;
            *consumed += 1;
            let i = inst as usize;
            let (Some(it), Some(d)) = (insts.get_mut(i), dirty.get_mut(i)) else {
                // Push validates the instrument; this cannot happen, but an
                // out-of-range record must still be accounted, not dropped.
                errors.push(Error::at(
                    idx,
                    ErrorKind::InvalidKind {
                        kind: ev.kind,
                        book: "engine (instrument out of range)",
                    },
                ));
                return;
            };
            match it.step(ev) {
                Ok(_) => {
                    applied += 1;
                    *d = true;
                    if !it.alerts().is_empty() {
                        alerts.push(inst, it.alerts());
                        it.clear_alerts();
                    }
                }
                Err(k) => errors.push(Error::at(idx, k)),
            }
            // Publish at message boundaries only — the last event of a
            // feed message (F_LAST) or of a push — so that no reader ever
            // sees a message half applied, however the ring's batches fall.
            if (end || ev.flags & crate::io::flags::LAST != 0) && std::mem::take(d) {
                it.publish();
            }
        });
        if n == 0 {
            return 0;
        }
        let rejected = errors.len() as u64;
        if !errors.is_empty() {
            if let Ok(mut q) = self.shared.errors.lock() {
                for e in errors {
                    if q.len() < MAX_ERRORS {
                        q.push_back(e);
                    } else {
                        self.shared.errors_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // Counters last, with Release: a producer that sees them see the
        // publications and errors of these events too.
        self.shared.rejected.fetch_add(rejected, Ordering::Release);
        self.shared.applied.fetch_add(applied, Ordering::Release);
        n
    }
}

impl Engine {
    /// Starts the engine thread owning `insts` (one per instrument; their
    /// event counters and flow totals carry on). The engine sets their
    /// timestamp check, detectors and publishers from `cfg`.
    pub fn start(
        mut insts: Vec<Instrument<AnyBook>>,
        cfg: EngineConfig,
    ) -> std::io::Result<Engine> {
        let ring = Arc::new(Ring::new(cfg.capacity));
        let alert_q = Arc::new(alerts::AlertQueue::new(cfg.alert_capacity));
        let shared = Arc::new(Shared::default());
        let mut readers = Vec::with_capacity(insts.len());
        for it in &mut insts {
            it.set_check_ts(cfg.check_ts);
            if let Some(c) = cfg.detect {
                it.enable_detectors(c);
            }
            it.stop_publishing();
            let r = it
                .reader(cfg.levels)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            readers.push(r);
        }
        let worker = Worker {
            ring: ring.clone(),
            alerts: alert_q.clone(),
            shared: shared.clone(),
            dirty: vec![false; insts.len()],
            insts,
            cfg: EngineConfig {
                batch: cfg.batch.max(1),
                ..cfg
            },
            consumed: 0,
        };
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("lobkit-engine".into())
            .spawn(move || {
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run()));
                let books = match out {
                    Ok(b) => b,
                    Err(p) => {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown panic".into());
                        if let Ok(mut f) = sh.failure.lock() {
                            *f = Some(msg);
                        }
                        Vec::new()
                    }
                };
                sh.done.store(true, Ordering::Release);
                books
            })?;
        Ok(Engine {
            ring,
            alerts: alert_q,
            shared,
            thread: Some(thread),
            readers,
            pushed: 0,
            full_timeouts: 0,
            books_back: None,
        })
    }

    /// Books (instruments).
    pub fn instruments(&self) -> usize {
        self.readers.len()
    }

    /// A reader of instrument `i`'s snapshots.
    pub fn reader(&self, i: usize) -> Option<Reader> {
        self.readers.get(i).cloned()
    }

    fn check_alive(&self) -> Result<(), EngineError> {
        if self.thread.is_none() {
            return Err(EngineError::Closed);
        }
        if self.shared.done.load(Ordering::Acquire) {
            let msg = self
                .shared
                .failure
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_else(|| "engine thread stopped".into());
            return Err(EngineError::Failed(msg));
        }
        Ok(())
    }

    fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.shared.parked.load(Ordering::Relaxed) {
            if let Some(t) = &self.thread {
                t.thread().unpark();
            }
        }
    }

    /// Pushes `events` for `instrument`, waiting up to `timeout` while the
    /// ring is full (`None` = no wait). Returns the events accepted (all of
    /// them) or [`EngineError::Full`] with the count accepted before the
    /// timeout. `interrupt` is polled while waiting (Ctrl-C); returning true
    /// stops the wait like a timeout.
    pub fn push(
        &mut self,
        instrument: usize,
        events: &[Event],
        timeout: Option<Duration>,
        interrupt: &mut dyn FnMut() -> bool,
    ) -> Result<usize, EngineError> {
        self.check_alive()?;
        if instrument >= self.instruments() {
            return Err(EngineError::BadInstrument {
                instrument,
                instruments: self.instruments(),
            });
        }
        // A timeout too long to add to now (e.g. `Duration::MAX`) never expires.
        let deadline = timeout.map(|t| Instant::now().checked_add(t));
        let mut done = 0;
        let mut spins = 0u32;
        loop {
            let k = self.ring.push(instrument as u32, &events[done..]);
            done += k;
            self.pushed += k as u64;
            if k > 0 {
                self.wake();
            }
            if done == events.len() {
                return Ok(done);
            }
            let expired = match deadline {
                None => true,
                Some(None) => false,
                Some(Some(d)) => Instant::now() >= d,
            };
            if expired || (spins % 1024 == 1023 && interrupt()) {
                self.full_timeouts += 1;
                return Err(EngineError::Full { accepted: done });
            }
            self.check_alive()?;
            spins = spins.wrapping_add(1);
            if spins % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Waits until every pushed event is applied or rejected.
    pub fn flush(
        &mut self,
        timeout: Option<Duration>,
        interrupt: &mut dyn FnMut() -> bool,
    ) -> Result<(), EngineError> {
        // A timeout too long to add to now waits without limit.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut spins = 0u32;
        loop {
            let st = self.stats();
            if st.applied + st.rejected >= self.pushed {
                return Ok(());
            }
            self.check_alive()?;
            self.wake();
            if deadline.is_some_and(|d| Instant::now() >= d)
                || (spins % 1024 == 1023 && interrupt())
            {
                return Err(EngineError::Timeout {
                    left: self.pushed - st.applied - st.rejected,
                });
            }
            spins = spins.wrapping_add(1);
            // Yield briefly, then sleep: a waiting producer must not take
            // the CPU the engine thread needs (2-core machines).
            if spins < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }

    /// Errors of rejected events since the last call, oldest first (each
    /// names the event's index among all events pushed to this engine).
    pub fn take_errors(&mut self) -> Vec<Error> {
        match self.shared.errors.lock() {
            Ok(mut q) => q.drain(..).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            pushed: self.pushed,
            applied: self.shared.applied.load(Ordering::Acquire),
            rejected: self.shared.rejected.load(Ordering::Acquire),
            full_timeouts: self.full_timeouts,
            errors_dropped: self.shared.errors_dropped.load(Ordering::Relaxed),
        }
    }

    /// Alerts raised by the engine's detectors since the last call, oldest
    /// first, tagged with the instrument index (lock-free; never blocks the
    /// engine).
    pub fn take_alerts(&mut self) -> Vec<alerts::Tagged> {
        self.alerts.drain()
    }

    /// Alerts dropped because the queue was full.
    pub fn alerts_dropped(&self) -> u64 {
        self.alerts.dropped()
    }

    /// Events waiting in the ring.
    pub fn queued(&self) -> usize {
        self.ring.len()
    }

    /// Stops the engine. With `drain`, everything pushed is applied first;
    /// without, what is still queued is left (counted: `pushed - applied -
    /// rejected`). Returns the instruments (books with their event counts,
    /// flow totals and detector state) and the final counters. Idempotent.
    pub fn close(
        &mut self,
        drain: bool,
    ) -> Result<(Vec<Instrument<AnyBook>>, EngineStats), EngineError> {
        if let Some(t) = self.thread.take() {
            self.shared.drain.store(drain, Ordering::Release);
            self.shared.stop.store(true, Ordering::Release);
            t.thread().unpark();
            let books = t.join().unwrap_or_default();
            if let Some(msg) = self.shared.failure.lock().ok().and_then(|f| f.clone()) {
                return Err(EngineError::Failed(msg));
            }
            self.books_back = Some(books);
        }
        let insts = self
            .books_back
            .as_ref()
            .map(|v| v.iter().map(Instrument::copy_state).collect())
            .unwrap_or_default();
        Ok((insts, self.stats()))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Book;
    use crate::synth;
    use crate::types::{kind, Side};
    use crate::{L2Book, L3Book};

    fn never() -> impl FnMut() -> bool {
        || false
    }

    #[test]
    fn applies_everything_and_accounts_errors() {
        let evs = synth::l2_stream(50_000, 3, 1_000_000);
        let mut eng = Engine::start(
            vec![Instrument::new(AnyBook::L2(L2Book::new()))],
            EngineConfig::default(),
        )
        .unwrap_or_else(|_| unreachable!());
        let r = eng.reader(0).unwrap_or_else(|| unreachable!());
        for chunk in evs.chunks(1000) {
            let got = eng.push(0, chunk, Some(Duration::from_secs(10)), &mut never());
            assert_eq!(got, Ok(chunk.len()));
        }
        // one bad event (size < 0) in the middle of good ones
        let mut bad = evs[..3].to_vec();
        for e in bad.iter_mut() {
            e.ts = evs[evs.len() - 1].ts;
        }
        bad[1].size = -5;
        assert_eq!(eng.push(0, &bad, None, &mut never()), Ok(3));
        assert_eq!(
            eng.flush(Some(Duration::from_secs(10)), &mut never()),
            Ok(())
        );
        let st = eng.stats();
        assert_eq!(st.pushed, 50_003);
        assert_eq!(st.applied + st.rejected, st.pushed);
        assert_eq!(st.rejected, 1);
        let errs = eng.take_errors();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, Some(50_001));
        // the snapshot equals a replay of the same events
        let mut want = L2Book::new();
        for e in evs.iter().chain([bad[0], bad[2]].iter()) {
            let _ = want.apply_event(e);
        }
        let snap = r.read();
        assert_eq!(snap.events, 50_002);
        assert_eq!(snap.bids, want.levels(Side::Bid, 10));
        assert_eq!(snap.asks, want.levels(Side::Ask, 10));
        let (books, st2) = eng.close(true).unwrap_or_else(|_| unreachable!());
        assert_eq!(st2, st);
        assert_eq!(
            books[0].levels().levels(Side::Bid, 50),
            want.levels(Side::Bid, 50)
        );
        // The returned books keep their counts (they were 0 before).
        assert_eq!(books[0].events(), 50_002);
        assert_eq!(
            eng.push(0, &evs[..1], None, &mut never()),
            Err(EngineError::Closed)
        );
    }

    /// Messages of two events (the bid and the ask set to the same size k)
    /// pushed one per call, and also several per call with `F_LAST` on the
    /// ask; drained three events at a time, so batches end mid-message. A
    /// reader must only ever see bid size == ask size.
    #[test]
    fn readers_see_whole_messages_only() {
        let mut eng = Engine::start(
            vec![Instrument::new(AnyBook::L2(L2Book::new()))],
            EngineConfig {
                batch: 3,
                ..EngineConfig::default()
            },
        )
        .unwrap_or_else(|_| unreachable!());
        let r = eng.reader(0).unwrap_or_else(|| unreachable!());
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let watcher = {
            let (r, stop) = (r.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let s = r.read();
                    if let (Some(b), Some(a)) = (s.bids.first(), s.asks.first()) {
                        if b.1 != a.1 {
                            return Err(format!("half a message: {b:?} {a:?}"));
                        }
                        seen += 1;
                    }
                }
                Ok(seen)
            })
        };
        let msg = |k: i64| {
            let mut a = Event::new(k, kind::SET_LEVEL, -1, 101, k, 0);
            a.flags = crate::io::flags::LAST;
            [Event::new(k, kind::SET_LEVEL, 1, 100, k, 0), a]
        };
        for k in 1..20_000i64 {
            let got = eng.push(0, &msg(k), Some(Duration::from_secs(10)), &mut never());
            assert_eq!(got, Ok(2));
        }
        for k in (20_000..40_000i64).step_by(5) {
            let evs: Vec<Event> = (k..k + 5).flat_map(msg).collect();
            let got = eng.push(0, &evs, Some(Duration::from_secs(10)), &mut never());
            assert_eq!(got, Ok(10));
        }
        assert_eq!(
            eng.flush(Some(Duration::from_secs(10)), &mut never()),
            Ok(())
        );
        stop.store(true, Ordering::Relaxed);
        let seen = watcher
            .join()
            .unwrap_or_else(|_| Err("reader panicked".into()));
        assert!(seen.as_ref().is_ok_and(|&n| n > 0), "{seen:?}");
        let s = r.read();
        assert_eq!((s.bids[0].1, s.asks[0].1), (39_999, 39_999));
    }

    #[test]
    fn full_ring_refuses_and_counts_and_instrument_is_checked() {
        let mut eng = Engine::start(
            vec![Instrument::new(AnyBook::L3(L3Book::new()))],
            EngineConfig {
                capacity: 8,
                ..EngineConfig::default()
            },
        )
        .unwrap_or_else(|_| unreachable!());
        // 100k adds of distinct ids: the engine keeps up or the push waits;
        // with no wait allowed, some calls are refused, none silently lost.
        let evs: Vec<Event> = (0..100_000u64)
            .map(|i| Event::new(i as i64, kind::ADD, 1, 1000 - (i % 50) as i64, 1, i + 1))
            .collect();
        let mut accepted = 0usize;
        let mut refused = 0usize;
        let mut i = 0;
        while i < evs.len() {
            let end = (i + 64).min(evs.len());
            match eng.push(0, &evs[i..end], None, &mut never()) {
                Ok(k) => {
                    accepted += k;
                    i = end;
                }
                Err(EngineError::Full { accepted: k }) => {
                    accepted += k;
                    refused += 1;
                    i += k; // retry the rest
                }
                Err(e) => unreachable!("{e:?}"),
            }
        }
        assert!(refused > 0, "an 8-slot ring must fill");
        assert_eq!(
            eng.flush(Some(Duration::from_secs(10)), &mut never()),
            Ok(())
        );
        let st = eng.stats();
        assert_eq!(accepted as u64, st.pushed);
        assert_eq!(st.pushed, 100_000);
        assert_eq!((st.applied, st.rejected), (100_000, 0));
        assert_eq!(st.full_timeouts, refused as u64);
        assert!(matches!(
            eng.push(3, &evs[..1], None, &mut never()),
            Err(EngineError::BadInstrument { .. })
        ));
        let (books, _) = eng.close(true).unwrap_or_else(|_| unreachable!());
        match books[0].book() {
            AnyBook::L3(b) => assert_eq!(b.order_count(), 100_000),
            AnyBook::L2(_) => unreachable!(),
        }
    }
}
