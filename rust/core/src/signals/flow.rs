//! Streaming signal state kept next to a book: the top of the book after the
//! last event, that event's OFI (eq. 10) and message-accounting OFI (eq. 4,
//! visible book, plus hidden prints when asked), and their running totals
//! (lots). Kept by [`crate::instrument::Instrument`], so every path (streaming,
//! bulk, engine) computes them the same way.

use super::ofi::{message_ofi, ofi};
use super::Top;
use crate::book::l3::Changes;
use crate::publish::{FlowTotals, SignalValues};
use crate::types::Event;
use crate::L2Book;

/// Per-book flow state (lots).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flow {
    /// Top of the book after the last event.
    pub top: Top,
    /// OFI e_n of the last event.
    pub last: i64,
    /// Running OFI.
    pub total: i64,
    /// Message-accounting OFI of the last event.
    pub msg_last: i64,
    /// Running message-accounting OFI.
    pub msg_total: i64,
    /// The open multi-event step (see [`crate::io::flags::CONTINUES`]).
    pub step: StepStart,
}

/// Where the current multi-event step began: the top before its first event
/// and the eq. 10 OFI its events have reported so far (lots). Opened by the
/// first continuing event, so an ordinary event costs nothing for it.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepStart {
    /// Event index (the instrument's counter) of the step's latest event;
    /// `u64::MAX` = no step open.
    pub last: u64,
    /// Top before the step's first event.
    pub top: Top,
    /// Eq. 10 OFI reported by the step's events so far (lots).
    pub ofi: i64,
}

impl Flow {
    /// Fresh state for a book as it stands (totals 0).
    pub fn of(l2: &L2Book) -> Flow {
        Flow {
            top: Top::of(l2),
            step: StepStart {
                last: u64::MAX,
                ..StepStart::default()
            },
            ..Flow::default()
        }
    }

    /// After an event flagged [`crate::io::flags::CONTINUES`] (`index`: its
    /// position in the instrument's counter; `prev_before`: the top before
    /// the event ahead of it). Eq. 10 is taken between the top before the
    /// step and now, less what the step's earlier events reported, so the
    /// step's rows sum to one eq. 10 term; eq. 4 counts this event's level
    /// changes at or inside the touch as it stood before the step. A
    /// continuing event with nothing ahead of it in the instrument opens a
    /// step of its own. Cold: corrections are a few per cent of a LOBSTER
    /// replay and absent elsewhere.
    #[cold]
    #[inline(never)]
    pub fn step_continued(
        &mut self,
        l2: &L2Book,
        ev: &Event,
        ch: &Changes,
        hidden: bool,
        index: u64,
        prev_before: &Top,
    ) {
        if index == 0 || self.step.last != index - 1 {
            // The event ahead opened the step: it began before that event
            // (the very first event has none ahead: it opens its own).
            let (top, ofi) = if index == 0 {
                (self.top, 0)
            } else {
                (*prev_before, self.last)
            };
            self.step = StepStart {
                last: index,
                top,
                ofi,
            };
        }
        let cur = Top::of(l2);
        let whole = ofi(&self.step.top, &cur);
        let e = whole - self.step.ofi;
        self.step.ofi = whole;
        self.step.last = index;
        let m = message_ofi(ev, ch, &self.step.top, hidden);
        self.account(e, m, cur);
    }

    /// Records one event's OFI `e` and message-accounting OFI `m` (lots)
    /// and the top after it.
    #[inline(always)]
    fn account(&mut self, e: i64, m: i64, cur: Top) {
        self.last = e;
        self.total = self.total.saturating_add(e);
        self.msg_last = m;
        self.msg_total = self.msg_total.saturating_add(m);
        self.top = cur;
    }

    /// After event `ev` with level changes `ch`: OFI against the previous
    /// top and message-accounting OFI (`hidden`: TRADE prints count as
    /// market orders).
    #[inline(always)]
    pub fn step(&mut self, l2: &L2Book, ev: &Event, ch: &Changes, hidden: bool) {
        if ch.first.is_some() && !ch.best_changed() {
            // Level changes behind the touch only (most events of a deep
            // book): the top is as it was, so eq. 10 gives 0, and eq. 4
            // counts no flow away from the touch. The general path below
            // gives the same (tests/test_signals*.py and the proptests).
            self.last = 0;
            self.msg_last = 0;
            return;
        }
        let cur = Top::of(l2);
        let e = ofi(&self.top, &cur);
        let m = message_ofi(ev, ch, &self.top, hidden);
        self.account(e, m, cur);
    }

    /// The integers a snapshot publishes (its reader derives imbalance and
    /// weighted mid from the published best levels).
    #[inline]
    pub fn totals(&self) -> FlowTotals {
        FlowTotals {
            ofi: self.last,
            ofi_total: self.total,
            ofi_msg_total: self.msg_total,
        }
    }

    /// The signal values after the last step (lots; imbalance in [-1, 1];
    /// weighted mid in ticks, NaN when a side is empty).
    pub fn values(&self) -> SignalValues {
        SignalValues::of(self.totals(), &self.top)
    }
}
