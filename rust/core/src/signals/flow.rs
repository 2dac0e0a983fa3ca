//! Streaming signal state kept next to a book: the top of the book after the
//! last event, that event's OFI (eq. 10) and message-accounting OFI (eq. 4,
//! visible book, plus hidden prints when asked), and their running totals
//! (lots). Kept by [`crate::instrument::Instrument`], so every path (streaming,
//! bulk, engine) computes them the same way.

use super::imbalance::{queue_imbalance, weighted_mid};
use super::ofi::{message_ofi, ofi};
use super::Top;
use crate::book::l3::Changes;
use crate::publish::SignalValues;
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
}

impl Flow {
    /// Fresh state for a book as it stands (totals 0).
    pub fn of(l2: &L2Book) -> Flow {
        Flow {
            top: Top::of(l2),
            ..Flow::default()
        }
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
        self.last = ofi(&self.top, &cur);
        self.total = self.total.saturating_add(self.last);
        self.msg_last = message_ofi(ev, ch, &self.top, hidden);
        self.msg_total = self.msg_total.saturating_add(self.msg_last);
        self.top = cur;
    }

    /// The values a snapshot publishes.
    pub fn values(&self) -> SignalValues {
        SignalValues {
            ofi: self.last,
            ofi_total: self.total,
            ofi_msg_total: self.msg_total,
            imbalance: queue_imbalance(self.top.bid_qty, self.top.ask_qty),
            weighted_mid: weighted_mid(&self.top).unwrap_or(f64::NAN),
        }
    }
}
