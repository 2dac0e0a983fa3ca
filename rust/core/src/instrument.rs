//! One instrument's live state and the one per-event step every path uses.
//!
//! [`Instrument`] owns a book and everything that must move with it on each
//! event: the order-flow state ([`Flow`]: top of book, OFI eq. 10 and the
//! message-accounting OFI eq. 4, their totals), the event counter and last
//! timestamp, the last level change, optional detectors with the alerts they
//! raised and not yet handed out, and an optional snapshot publisher.
//!
//! [`Instrument::step`] is *the* step — check the timestamp, apply the
//! event, update flow, count it, remember the change, run the detectors —
//! and bulk replay ([`crate::bulk`]), the feed engine's worker
//! ([`crate::engine`]) and every streaming method of the Python books call
//! it. Before it existed the step lived in five places that had drifted
//! apart (stale `last_change` after some calls, detectors that ran on one
//! streaming method and not the others, engine books that forgot their event
//! counts). What a replay records per event is an observer that reads the
//! instrument after the step; it never re-implements any of it.
//!
//! Publication is separate from the step because its granularity is the
//! caller's: a streaming book publishes after each call ([`Instrument::apply`]),
//! a bulk replay once at its end, the engine once per drained batch.

use crate::book::l2::{L2Book, LevelChange};
use crate::book::l3::Changes;
use crate::book::Book;
use crate::detect::{Alert, Ctx, DetectConfig, Detectors};
use crate::error::{Error, ErrorKind};
use crate::io::flags::CONTINUES;
use crate::publish::{channel, Publisher, Reader};
use crate::signals::flow::Flow;
use crate::signals::Top;
use crate::types::{kind, Event, Ts};

/// Most alerts an instrument keeps for a caller who never collects them;
/// beyond it the oldest are dropped and counted ([`Instrument::alerts_dropped`]).
/// Bounds memory for a bot that turned detectors on and forgot to poll.
pub const MAX_PENDING_ALERTS: usize = 1 << 16;

/// What one applied event did (returned by [`Instrument::step`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// The level changes it made (none for TRADE/HALT/CLEAR).
    pub changes: Changes,
    /// Top of the book before it.
    pub before: Top,
    /// Its position in the instrument's event counter (0-based).
    pub index: u64,
}

impl Step {
    /// True when the event moved a side's best price or its size.
    #[inline]
    pub fn best_changed(&self) -> bool {
        self.changes.best_changed()
    }
}

/// One instrument: a book and the state that moves with it. See the module doc.
#[derive(Debug)]
pub struct Instrument<B> {
    book: B,
    flow: Flow,
    /// What the last applied event did (kept here, not returned by value:
    /// the change records are 144 bytes, and copying them out of every step
    /// cost a depth-0 bulk replay ~15% more instructions).
    last: Step,
    events: u64,
    /// The last level change of an event before the last one; what
    /// [`Self::last_change`] returns when the last event made none.
    last_change: Option<LevelChange>,
    check_ts: bool,
    msg_hidden: bool,
    detectors: Option<Box<Detectors>>,
    alerts: Vec<Alert>,
    alerts_dropped: u64,
    publisher: Option<Box<Publisher>>,
    /// Undo log of [`Instrument::apply_events`] (reused, so a warm
    /// instrument applies a message without allocating).
    undo: Vec<Changes>,
}

/// What [`Instrument::apply_events`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events applied.
    pub applied: u64,
    /// Events refused and skipped (only when skipping).
    pub skipped: u64,
    /// The first skipped event's error; its index is the position in the
    /// call's slice.
    pub first_skipped: Option<Error>,
    /// Whether any applied event moved a side's best price or size.
    pub best_changed: bool,
}

/// Everything [`Instrument::restore`] needs to undo a failed call: the
/// state that events change (the publisher is not state: it only mirrors).
#[derive(Clone, Debug)]
pub struct Checkpoint<B> {
    book: B,
    flow: Flow,
    last: Step,
    events: u64,
    last_change: Option<LevelChange>,
    detectors: Option<Box<Detectors>>,
    alerts: usize,
}

impl<B: Book> Instrument<B> {
    /// A fresh instrument around `book` (events 0, flow totals 0,
    /// timestamps checked, no detectors, no publisher).
    pub fn new(book: B) -> Self {
        Self::resume(book, 0)
    }

    /// An instrument around a book that has already seen `events` events
    /// (unpickling, copies): the counter goes on from there; flow totals
    /// start at 0 from the book as it stands.
    pub fn resume(book: B, events: u64) -> Self {
        Instrument {
            flow: Flow::of(book.levels()),
            book,
            last: Step::default(),
            events,
            last_change: None,
            check_ts: true,
            msg_hidden: false,
            detectors: None,
            alerts: Vec::new(),
            alerts_dropped: 0,
            publisher: None,
            undo: Vec::new(),
        }
    }

    /// The book.
    #[inline]
    pub fn book(&self) -> &B {
        &self.book
    }

    /// The price levels.
    #[inline]
    pub fn levels(&self) -> &L2Book {
        self.book.levels()
    }

    /// Order-flow state after the last event (lots).
    #[inline]
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// Events applied so far (failed events are not counted).
    #[inline]
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Timestamp of the last applied event (ns; 0 before any).
    #[inline]
    pub fn last_ts(&self) -> Ts {
        self.book.levels().last_ts
    }

    /// The last level change any event made (a CLEAR or TRADE makes none
    /// and leaves it as it was).
    #[inline]
    pub fn last_change(&self) -> Option<LevelChange> {
        let c = &self.last.changes;
        c.second.or(c.first).or(self.last_change)
    }

    /// Reject events whose `ts` is earlier than the last one's (default on).
    pub fn set_check_ts(&mut self, on: bool) {
        self.check_ts = on;
    }

    /// Whether timestamps are checked.
    pub fn check_ts(&self) -> bool {
        self.check_ts
    }

    /// Count hidden executions (TRADE prints with a resting side) in the
    /// message-accounting OFI (CKS eq. 4 treats them as market orders).
    pub fn set_msg_ofi_hidden(&mut self, on: bool) {
        self.msg_hidden = on;
    }

    /// Whether hidden executions count in the message-accounting OFI.
    pub fn msg_ofi_hidden(&self) -> bool {
        self.msg_hidden
    }

    /// Turns the detectors on with `cfg` (replacing any running ones and
    /// their state).
    pub fn enable_detectors(&mut self, cfg: DetectConfig) {
        self.detectors = Some(Box::new(Detectors::new(cfg, self.book.is_l3())));
    }

    /// The running detectors, if any.
    pub fn detectors(&self) -> Option<&Detectors> {
        self.detectors.as_deref()
    }

    /// Alerts raised and not yet taken, oldest first.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Raises the alerts the detectors hold for a later event (see
    /// [`crate::detect::Detectors::flush`]): the end of a stream. Returns how
    /// many were added to the pending alerts.
    pub fn flush_detectors(&mut self) -> usize {
        let Some(d) = self.detectors.as_deref_mut() else {
            return 0;
        };
        let mut out = Vec::new();
        d.flush(self.events.saturating_sub(1), &mut out);
        let n = out.len();
        self.keep_alerts(out);
        n
    }

    /// Takes the pending alerts, oldest first.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }

    /// Puts alerts back at the end of the pending queue (a bulk call whose
    /// caller did not ask for its alerts leaves them for the streaming
    /// reader). Bounded like every other pending alert.
    pub fn keep_alerts(&mut self, a: impl IntoIterator<Item = Alert>) {
        self.alerts.extend(a);
        if self.alerts.len() > MAX_PENDING_ALERTS {
            let extra = self.alerts.len() - MAX_PENDING_ALERTS;
            self.alerts.drain(..extra);
            self.alerts_dropped += extra as u64;
        }
    }

    /// Forgets the pending alerts (keeps their buffer).
    pub fn clear_alerts(&mut self) {
        self.alerts.clear();
    }

    /// Moves the pending alerts raised from position `from` on into `out`.
    pub fn drain_alerts_into(&mut self, from: usize, out: &mut Vec<Alert>) {
        let from = from.min(self.alerts.len());
        out.extend(self.alerts.drain(from..));
    }

    /// Alerts dropped because more than [`MAX_PENDING_ALERTS`] were pending.
    pub fn alerts_dropped(&self) -> u64 {
        self.alerts_dropped
    }

    /// Turns publication on (top `levels` per side) and returns a reader;
    /// later calls return more readers of the same publisher. Publishes the
    /// current state at once so a reader never sees an empty placeholder.
    /// Fails when publication is already on with another `levels`, or
    /// `levels` is outside 1..=[`crate::publish::MAX_LEVELS`].
    pub fn reader(&mut self, levels: usize) -> Result<Reader, String> {
        if let Some(p) = &self.publisher {
            if p.levels() != levels {
                return Err(format!(
                    "levels={levels}: this book already publishes {} levels",
                    p.levels()
                ));
            }
            let r = p.reader();
            // Publication pauses while nobody reads: bring the new reader
            // up to date now.
            self.publish();
            return Ok(r);
        }
        if levels == 0 || levels > crate::publish::MAX_LEVELS {
            return Err(format!(
                "levels={levels}: must be within 1..{}",
                crate::publish::MAX_LEVELS
            ));
        }
        let Some((p, r)) = channel(levels) else {
            return Err(format!("levels={levels}: no publisher"));
        };
        self.publisher = Some(Box::new(p));
        self.publish();
        Ok(r)
    }

    /// Drops the publisher (readers keep the last snapshot).
    pub fn stop_publishing(&mut self) {
        self.publisher = None;
    }

    /// Publishes the current state to the readers. With no reader alive
    /// it does nothing and pauses the publisher's row tracking (a reader can
    /// only be made through [`Self::reader`], which publishes at once), so a
    /// book whose readers are gone costs what a book without a publisher does.
    #[inline]
    pub fn publish(&mut self) {
        if let Some(p) = self.publisher.as_deref_mut() {
            if p.readers() == 0 {
                p.invalidate();
                return;
            }
            let l2 = self.book.levels();
            p.publish_book(l2, l2.last_ts, self.events, &self.flow.totals());
        }
    }

    /// The step: check the timestamp, apply `ev`, update the flow state,
    /// count the event, remember its last level change, run the detectors.
    /// What it did is then [`Self::last_step`]. Does not publish. On error
    /// nothing changed.
    #[inline]
    pub fn step(&mut self, ev: &Event) -> Result<(), ErrorKind> {
        if self.check_ts {
            let last = *self.book.last_ts();
            if ev.ts < last {
                return Err(ErrorKind::TimestampOrder {
                    ts: ev.ts,
                    last_ts: last,
                });
            }
        }
        let changes = self.book.apply_event(ev)?;
        if changes.first.is_none() {
            // No level change (TRADE, HALT, CLEAR): the last change stays
            // what it was, which may live in the previous step's records —
            // keep it before they are overwritten. (Copying the change on
            // every step instead cost ~10% of a depth-0 replay.)
            if let Some(c) = self.last.changes.second.or(self.last.changes.first) {
                self.last_change = Some(c);
            }
        }
        self.last.changes = changes;
        *self.book.last_ts() = ev.ts;
        // A continuing event (a correction) needs the top before the event
        // ahead of it, which the line below overwrites.
        let prev_before = (ev.flags & CONTINUES != 0).then_some(self.last.before);
        self.last.before = self.flow.top;
        self.last.index = self.events;
        self.events += 1;
        let changes = &self.last.changes;
        match prev_before {
            None => self
                .flow
                .step(self.book.levels(), ev, changes, self.msg_hidden),
            Some(pb) => self.flow.step_continued(
                self.book.levels(),
                ev,
                changes,
                self.msg_hidden,
                self.last.index,
                &pb,
            ),
        }
        if let Some(p) = self.publisher.as_deref_mut() {
            // The published rows follow the change records; a CLEAR has
            // none, so the next publication re-reads the book.
            if p.tracking() {
                if ev.kind == kind::CLEAR {
                    p.invalidate();
                }
                // (Two plain tests: the chained iterator cost more here.)
                if let Some(c) = &changes.first {
                    p.on_change(c);
                }
                if let Some(c) = &changes.second {
                    p.on_change(c);
                }
            }
        }
        if let Some(d) = self.detectors.as_deref_mut() {
            // An execution or cancel by order id that names no side (the
            // bare `execute_ticks(id, size)`): the book knows the order's
            // side and price — its level change — and the detectors take
            // them from the event (with side 0 an execution counted as a
            // trade on neither side). The flow signals read level changes.
            let resolved;
            let ev = if ev.side == 0 {
                resolved = with_side_of(ev, changes.first.as_ref());
                &resolved
            } else {
                ev
            };
            let cx = Ctx {
                ev,
                index: self.last.index,
                changes,
                before: &self.last.before,
                l2: self.book.levels(),
            };
            d.on_event(&cx, &mut self.alerts);
            if self.alerts.len() > MAX_PENDING_ALERTS {
                self.keep_alerts(None);
            }
        }
        Ok(())
    }

    /// What the last applied event did.
    #[inline(always)]
    pub fn last_step(&self) -> &Step {
        &self.last
    }

    /// [`Self::step`], then publish: one streaming event.
    #[inline]
    pub fn apply(&mut self, ev: &Event) -> Result<&Step, ErrorKind> {
        self.step(ev)?;
        self.publish();
        Ok(&self.last)
    }

    /// Applies `events` (one feed message, or any batch) and publishes once
    /// at the end, so readers never see a message half applied.
    ///
    /// With `skip` false the call is all or nothing: on an invalid event the
    /// instrument is exactly as before and the error names the event's
    /// position in `events`. The rollback costs what the call did, not the
    /// size of the book: a price-level book without detectors and without
    /// CLEAR events undoes the level changes it logged (a warm instrument
    /// allocates nothing); otherwise a checkpoint is taken first (a copy of
    /// the book, as [`crate::bulk::replay`] does). A single event needs
    /// neither: [`Self::step`] changes nothing when it fails.
    ///
    /// With `skip` true invalid events are skipped and counted, and the
    /// valid ones applied, as `replay(on_error="skip")` does.
    pub fn apply_events(&mut self, events: &[Event], skip: bool) -> Result<Applied, Error> {
        let mut out = Applied::default();
        if skip || events.len() <= 1 {
            for (i, ev) in events.iter().enumerate() {
                match self.step(ev) {
                    Ok(()) => {
                        out.applied += 1;
                        out.best_changed |= self.last.best_changed();
                    }
                    Err(k) if skip => {
                        out.skipped += 1;
                        if out.first_skipped.is_none() {
                            out.first_skipped = Some(Error::at(i as u64, k));
                        }
                    }
                    // One event: nothing was applied.
                    Err(k) => return Err(Error::at(i as u64, k)),
                }
            }
        } else if self.detectors.is_none()
            && !self.book.is_l3()
            && events.iter().all(|e| e.kind != kind::CLEAR)
        {
            self.apply_undoable(events, &mut out)?;
        } else {
            let cp = self.checkpoint();
            for (i, ev) in events.iter().enumerate() {
                if let Err(k) = self.step(ev) {
                    self.restore(cp);
                    return Err(Error::at(i as u64, k));
                }
                out.applied += 1;
                out.best_changed |= self.last.best_changed();
            }
        }
        self.publish();
        Ok(out)
    }

    /// The all-or-nothing loop of [`Self::apply_events`] for a price-level
    /// book: log each event's level changes, and on error undo them newest
    /// first and put back the few scalars a step moves.
    fn apply_undoable(&mut self, events: &[Event], out: &mut Applied) -> Result<(), Error> {
        let mark = (
            self.flow,
            self.last,
            self.events,
            self.last_change,
            *self.book.last_ts(),
            *self.book.stats_mut(),
        );
        self.undo.clear();
        for (i, ev) in events.iter().enumerate() {
            match self.step(ev) {
                Ok(()) => {
                    self.undo.push(self.last.changes);
                    out.applied += 1;
                    out.best_changed |= self.last.best_changed();
                }
                Err(k) => {
                    for c in self.undo.iter().rev() {
                        self.book.revert(c);
                    }
                    if let Some(p) = self.publisher.as_deref_mut() {
                        p.invalidate();
                    }
                    (self.flow, self.last, self.events, self.last_change) =
                        (mark.0, mark.1, mark.2, mark.3);
                    *self.book.last_ts() = mark.4;
                    *self.book.stats_mut() = mark.5;
                    return Err(Error::at(i as u64, k));
                }
            }
        }
        Ok(())
    }

    /// The state a failed call restores (costs a copy of the book: taken
    /// once per bulk call, never per event).
    pub fn checkpoint(&self) -> Checkpoint<B> {
        Checkpoint {
            book: self.book.clone(),
            flow: self.flow,
            last: self.last,
            events: self.events,
            last_change: self.last_change,
            detectors: self.detectors.clone(),
            alerts: self.alerts.len(),
        }
    }

    /// Puts back the state of `cp` (alerts raised since are discarded).
    pub fn restore(&mut self, cp: Checkpoint<B>) {
        if let Some(p) = self.publisher.as_deref_mut() {
            p.invalidate();
        }
        self.book = cp.book;
        self.flow = cp.flow;
        self.last = cp.last;
        self.events = cp.events;
        self.last_change = cp.last_change;
        self.detectors = cp.detectors;
        self.alerts.truncate(cp.alerts);
    }

    /// The same state around another book type (the engine hands back its
    /// [`crate::book::AnyBook`]s as the concrete books they hold). The
    /// publisher is dropped: the new owner turns publication on itself.
    pub fn map_book<C: Book>(self, f: impl FnOnce(B) -> C) -> Instrument<C> {
        Instrument {
            book: f(self.book),
            flow: self.flow,
            last: self.last,
            events: self.events,
            last_change: self.last_change,
            check_ts: self.check_ts,
            msg_hidden: self.msg_hidden,
            detectors: self.detectors,
            alerts: self.alerts,
            alerts_dropped: self.alerts_dropped,
            publisher: None,
            undo: Vec::new(),
        }
    }

    /// A copy of the state without detectors, alerts or publisher (what a
    /// user's `book.copy()` means: the book and its flow, not its watchers).
    pub fn copy_state(&self) -> Self {
        let mut c = Self::resume(self.book.clone(), self.events);
        c.flow = self.flow;
        c.last = self.last;
        c.last_change = self.last_change;
        c.check_ts = self.check_ts;
        c.msg_hidden = self.msg_hidden;
        c
    }
}

/// An [`Instrument`] of either concrete book type.
#[derive(Debug)]
pub enum Concrete {
    /// A price-level book's instrument.
    L2(Instrument<crate::L2Book>),
    /// An order-by-order book's instrument.
    L3(Instrument<crate::L3Book>),
}

impl Instrument<crate::AnyBook> {
    /// The instrument around the concrete book its [`crate::AnyBook`] holds
    /// (state kept, publisher dropped as in [`Instrument::map_book`]).
    pub fn into_concrete(self) -> Concrete {
        let Instrument {
            book,
            flow,
            last,
            events,
            last_change,
            check_ts,
            msg_hidden,
            detectors,
            alerts,
            alerts_dropped,
            publisher: _,
            undo: _,
        } = self;
        macro_rules! rebuild {
            ($b:expr) => {
                Instrument {
                    book: $b,
                    flow,
                    last,
                    events,
                    last_change,
                    check_ts,
                    msg_hidden,
                    detectors,
                    alerts,
                    alerts_dropped,
                    publisher: None,
                    undo: Vec::new(),
                }
            };
        }
        match book {
            crate::AnyBook::L2(b) => Concrete::L2(rebuild!(b)),
            crate::AnyBook::L3(b) => Concrete::L3(rebuild!(b)),
        }
    }
}

/// `ev` with the side (and, when it names none, the price) of the level it
/// changed, for an execution or cancel by order id that names no side;
/// otherwise `ev` as it is. Out of line: feeds name their sides.
#[cold]
#[inline(never)]
fn with_side_of(ev: &Event, change: Option<&LevelChange>) -> Event {
    match change {
        Some(c) if matches!(ev.kind, kind::EXECUTE | kind::CANCEL | kind::DELETE) => Event {
            side: c.side,
            price: if ev.price == 0 { c.price } else { ev.price },
            ..*ev
        },
        _ => *ev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::kind;
    use crate::{L2Book, L3Book};

    fn ev(ts: i64, k: u8, side: i8, price: i64, size: i64, id: u64) -> Event {
        Event::new(ts, k, side, price, size, id)
    }

    #[test]
    fn step_counts_remembers_the_change_and_runs_flow() {
        let mut i = Instrument::new(L2Book::new());
        assert!(i.step(&ev(1, kind::SET_LEVEL, 1, 100, 5, 0)).is_ok());
        let s = i.last_step();
        assert!(s.best_changed() && s.index == 0 && s.before == Top::default());
        assert_eq!(i.events(), 1);
        assert_eq!(i.flow().last, 5);
        assert_eq!(
            i.last_change().map(|c| (c.price, c.new_qty)),
            Some((100, 5))
        );
        // A TRADE changes nothing: the last change stays, the count moves.
        assert!(i.step(&ev(2, kind::TRADE, -1, 100, 1, 0)).is_ok());
        assert_eq!(i.events(), 2);
        assert_eq!(i.last_change().map(|c| c.price), Some(100));
        assert_eq!(i.last_ts(), 2);
    }

    #[test]
    fn a_message_and_its_continuing_events_are_one_flow_step() {
        use crate::io::flags::CONTINUES;
        use crate::signals::ofi::ofi;
        let cont = |mut e: Event| {
            e.flags = CONTINUES;
            e
        };
        let mut i = Instrument::new(L2Book::new());
        for e in [
            ev(1, kind::SET_LEVEL, 1, 100, 5, 0),
            ev(1, kind::SET_LEVEL, 1, 99, 7, 0),
            ev(1, kind::SET_LEVEL, -1, 102, 4, 0),
        ] {
            assert!(i.step(&e).is_ok());
        }
        let start = i.flow().top;
        let total0 = i.flow().total;
        // The message empties the best bid (eq. 10 alone: -5); its corrections
        // bring 100 back with 6 lots and add 2 lots at 99: between the states
        // the file shows, the bid went from 100x5 to 100x6: +1.
        let msg = ev(2, kind::SET_LEVEL, 1, 100, 0, 0);
        let steps = [
            msg,
            cont(ev(2, kind::SET_LEVEL, 1, 100, 6, 0)),
            cont(ev(2, kind::SET_LEVEL, 1, 99, 9, 0)),
        ];
        let mut rows = Vec::new();
        let mut msg_rows = Vec::new();
        for e in &steps {
            assert!(i.step(e).is_ok());
            rows.push(i.flow().last);
            msg_rows.push(i.flow().msg_last);
        }
        assert_eq!(rows, vec![-5, 6, 0]);
        assert_eq!(rows.iter().sum::<i64>(), ofi(&start, &i.flow().top));
        assert_eq!(i.flow().total - total0, 1);
        // eq. 4 against the touch before the step: the cancel at 100 (-5),
        // the lots back at 100 (+6); 99 is behind the step's touch: 0.
        assert_eq!(msg_rows, vec![-5, 6, 0]);
        // The next message opens a step of its own.
        assert!(i.step(&ev(3, kind::SET_LEVEL, 1, 101, 1, 0)).is_ok());
        assert_eq!(i.flow().last, 1);
        let c = cont(ev(3, kind::SET_LEVEL, 1, 101, 0, 0));
        assert!(i.step(&c).is_ok());
        assert_eq!(i.flow().last, -1); // back to 100x6: the step's net is 0
    }

    /// Everything a caller can observe of an instrument, for equality.
    fn state<B: Book>(i: &Instrument<B>) -> String {
        let l2 = i.levels();
        format!(
            "{:?} {:?} {:?} {} {:?} {} {:?} {:?}",
            l2.levels(crate::Side::Bid, usize::MAX),
            l2.levels(crate::Side::Ask, usize::MAX),
            i.flow(),
            i.events(),
            i.last_change(),
            i.last_ts(),
            l2.stats,
            i.last_step(),
        )
    }

    /// `apply_events` is all or nothing on every path (the L2 undo log, the
    /// checkpoint for CLEAR / L3 / detectors), and skipping equals applying
    /// only the valid events: checked on 600 seeded batches with corrupted
    /// events (negative sizes, bad sides, timestamps going back) at random
    /// positions, against a fresh replay of the same events.
    #[test]
    fn apply_events_is_all_or_nothing_and_skip_equals_the_valid_ones() {
        let base = crate::synth::l2_stream(4_000, 9, 1_000_000);
        let mut rng = crate::synth::Rng::new(5);
        let mut inst = Instrument::new(L2Book::new());
        let mut reference = Instrument::new(L2Book::new());
        let mut at = 0;
        let (mut rolled_back, mut skipped) = (0, 0);
        for round in 0..600 {
            let n = 1 + rng.below(12) as usize;
            let mut batch: Vec<Event> = base[at..at + n].to_vec();
            at = (at + n) % (base.len() - 20);
            if rng.below(3) == 0 {
                let j = rng.below(n as u64) as usize;
                match rng.below(4) {
                    0 => batch[j].size = -3,
                    1 => batch[j].side = 7,
                    2 => batch[j].ts = 0,
                    _ => batch[j] = ev(batch[j].ts, kind::CLEAR, 1, 0, 0, 0),
                }
            }
            if round % 50 == 7 {
                inst.enable_detectors(DetectConfig::default());
                reference.enable_detectors(DetectConfig::default());
            } else if round % 50 == 20 {
                inst.detectors = None;
                reference.detectors = None;
            }
            let skip = rng.below(2) == 0;
            let before = state(&inst);
            match inst.apply_events(&batch, skip) {
                Ok(a) => {
                    let mut applied = 0;
                    for e in &batch {
                        if reference.step(e).is_ok() {
                            applied += 1;
                        }
                    }
                    assert_eq!(a.applied, applied, "round {round}");
                    assert_eq!(a.skipped as usize, batch.len() - applied as usize);
                    skipped += a.skipped;
                    assert_eq!(state(&inst), state(&reference), "round {round}");
                }
                Err(e) => {
                    assert!(!skip);
                    assert_eq!(state(&inst), before, "round {round}: not rolled back");
                    let j = e.index.unwrap_or(u64::MAX) as usize;
                    assert!(j < batch.len());
                    rolled_back += 1;
                }
            }
        }
        assert!(rolled_back > 30 && skipped > 30, "{rolled_back} {skipped}");
    }

    /// What a reader must see after each publication: the book's top rows
    /// by a fresh walk, its event count, timestamp and flow values.
    fn expect_snapshot<B: Book>(i: &Instrument<B>, r: &Reader, levels: usize) {
        let s = r.read();
        let l2 = i.levels();
        assert_eq!(
            s.bids,
            l2.levels(crate::Side::Bid, levels),
            "bids at {}",
            i.events()
        );
        assert_eq!(
            s.asks,
            l2.levels(crate::Side::Ask, levels),
            "asks at {}",
            i.events()
        );
        assert_eq!((s.events, s.ts), (i.events(), i.last_ts()));
        let (v, g) = (i.flow().values(), s.signals);
        assert_eq!(
            (g.ofi, g.ofi_total, g.ofi_msg_total),
            (v.ofi, v.ofi_total, v.ofi_msg_total)
        );
        // Derived by the reader from the published best levels, bit for bit
        // what the writer's flow state holds.
        assert_eq!(g.imbalance.to_bits(), v.imbalance.to_bits());
        assert_eq!(g.weighted_mid.to_bits(), v.weighted_mid.to_bits());
    }

    /// The publisher's rows are kept from change records and only changed
    /// words are stored: after every streaming event, message, CLEAR,
    /// rolled-back message and reader drop/re-creation, a reader sees
    /// exactly the fresh walk of the book.
    #[test]
    fn published_rows_track_the_book_exactly() {
        let evs = crate::synth::l2_stream(6_000, 21, 1_000_000);
        let mut i = Instrument::new(L2Book::new());
        let mut r = i.reader(4).ok();
        for (k, e) in evs.iter().enumerate() {
            if k % 997 == 500 {
                // A CLEAR has no level records: the rows must be re-read.
                assert!(i.apply(&ev(e.ts, kind::CLEAR, 0, 0, 0, 0)).is_ok());
            }
            if k % 1500 == 700 {
                // Readers gone: publication pauses; a new reader catches up.
                r = None;
            }
            if k % 1500 == 900 {
                r = i.reader(4).ok();
            }
            if k % 13 == 0 && k + 6 < evs.len() {
                let mut msg = evs[k..k + 6].to_vec();
                msg[4].size = -1; // refused: rolled back, rows unchanged
                assert!(i.apply_events(&msg, false).is_err());
            }
            assert!(i.apply(e).is_ok());
            if let Some(r) = &r {
                expect_snapshot(&i, r, 4);
            }
        }
        let l3 = crate::synth::l3_stream(6_000, 4, 1_000_000, 300);
        let mut i = Instrument::new(L3Book::new());
        let r = i.reader(6).ok();
        for chunk in l3.chunks(7) {
            assert!(i.apply_events(chunk, false).is_ok());
            if let Some(r) = &r {
                expect_snapshot(&i, r, 6);
            }
        }
    }

    #[test]
    fn apply_events_rolls_back_an_l3_book() {
        let mut i = Instrument::new(L3Book::new());
        let ok = [
            ev(1, kind::ADD, 1, 100, 5, 1),
            ev(2, kind::ADD, 1, 100, 3, 2),
            ev(3, kind::ADD, -1, 101, 4, 3),
        ];
        assert_eq!(i.apply_events(&ok, false).map(|a| a.applied), Ok(3));
        let before = state(&i);
        let bad = [
            ev(4, kind::DELETE, 1, 100, 0, 1),
            ev(5, kind::ADD, 1, 100, 9, 4),
            ev(6, kind::CANCEL, 1, 100, 1, 77), // unknown id
        ];
        let e = i.apply_events(&bad, false);
        assert_eq!(e.map_err(|e| e.index), Err(Some(2)));
        assert_eq!(state(&i), before);
        // Queue order survived the rollback: order 1 is still first.
        assert_eq!(
            i.book().queue(crate::Side::Bid, 100).first().map(|o| o.0),
            Some(1)
        );
    }

    #[test]
    fn a_failed_step_changes_nothing() {
        let mut i = Instrument::new(L2Book::new());
        assert!(i.step(&ev(5, kind::SET_LEVEL, 1, 100, 5, 0)).is_ok());
        let e = i.step(&ev(4, kind::SET_LEVEL, 1, 101, 5, 0));
        assert!(matches!(
            e,
            Err(ErrorKind::TimestampOrder { ts: 4, last_ts: 5 })
        ));
        let e = i.step(&ev(6, kind::SET_LEVEL, 3, 101, 5, 0));
        assert!(matches!(e, Err(ErrorKind::InvalidSide { value: 3 })));
        assert_eq!(i.events(), 1);
        assert_eq!(i.last_ts(), 5);
        assert_eq!(i.levels().best_bid(), Some((100, 5)));
        i.set_check_ts(false);
        assert!(i.step(&ev(4, kind::SET_LEVEL, 1, 101, 5, 0)).is_ok());
    }

    #[test]
    fn a_message_is_all_or_nothing_and_names_the_position() {
        let mut i = Instrument::new(L3Book::new());
        let good = ev(1, kind::ADD, 1, 100, 5, 1);
        assert!(i.apply(&good).is_ok());
        let msg = [
            ev(2, kind::ADD, 1, 101, 5, 2),
            ev(2, kind::ADD, -1, 105, 5, 3),
            ev(2, kind::ADD, -1, 106, 5, 2), // duplicate id
        ];
        let e = i.apply_events(&msg, false);
        assert_eq!(e.map_err(|e| e.index), Err(Some(2)));
        assert_eq!(i.events(), 1);
        assert_eq!(i.book().order_count(), 1);
        assert_eq!(i.last_change().map(|c| c.price), Some(100));
        assert_eq!(
            i.apply_events(&msg[..2], false).map(|a| a.best_changed),
            Ok(true)
        );
        assert_eq!(i.events(), 3);
    }

    #[test]
    fn detectors_run_on_every_step_and_restore_undoes_their_alerts() {
        // A 50-lot bid at the touch pulled after 1 ms while the ask traded:
        // the spoofing pattern, on the L3 book's own step.
        let mut i = Instrument::new(L3Book::new());
        i.enable_detectors(DetectConfig::default());
        let mut t = 0;
        let mut id = 10;
        for _ in 0..200 {
            t += 1_000_000;
            id += 1;
            assert!(i.step(&ev(t, kind::ADD, 1, 99, 2, id)).is_ok());
            assert!(i.step(&ev(t + 1, kind::DELETE, 1, 99, 2, id)).is_ok());
        }
        assert!(i.step(&ev(t + 2, kind::ADD, 1, 100, 2, 1)).is_ok());
        assert!(i.step(&ev(t + 3, kind::ADD, -1, 101, 10, 2)).is_ok());
        let cp = i.checkpoint();
        // (0.5 ms after the ask: not half of a two-sided quote)
        assert!(i.step(&ev(t + 500_000, kind::ADD, 1, 100, 50, 3)).is_ok());
        assert!(i
            .step(&ev(t + 500_001, kind::EXECUTE, -1, 101, 4, 2))
            .is_ok());
        assert!(i
            .step(&ev(t + 1_000_000, kind::DELETE, 1, 100, 50, 3))
            .is_ok());
        // a spoofing alert waits to be judged against depth collapses
        // (the collapse window + 0.4 s: 1.4 s)
        assert!(i
            .step(&ev(t + 1_500_000_000, kind::ADD, 1, 1, 1, 4))
            .is_ok());
        assert!(
            i.alerts().iter().any(|a| a.order_id == 3),
            "{:?}",
            i.alerts()
        );
        i.restore(cp);
        assert!(i.alerts().is_empty());
        assert_eq!(i.book().order(3), None);
    }

    #[test]
    fn publication_follows_apply_not_step() {
        let mut i = Instrument::new(L2Book::new());
        let r = i.reader(5).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(i.reader(6).is_err());
        assert!(i.step(&ev(1, kind::SET_LEVEL, 1, 100, 5, 0)).is_ok());
        assert_eq!(r.read().events, 0);
        assert!(i.apply(&ev(2, kind::SET_LEVEL, -1, 101, 5, 0)).is_ok());
        let s = r.read();
        assert_eq!(
            (s.events, s.bids.clone(), s.asks.clone()),
            (2, vec![(100, 5)], vec![(101, 5)])
        );
    }
}
