//! What every venue's book keeper shares: the clock choice, the record of
//! a sequence gap, the message counters, the message-at-a-time [`Feed`]
//! trait and the capture-file driver, and the removals-first ordering of a
//! message's level updates. Binance, Bybit and Kraken keepers use these;
//! none of them owns them.

use super::text;
use crate::book::Book;
use crate::error::Error;
use crate::instrument::{Applied, Instrument};
use crate::types::{Event, Price, Qty, Ts};

/// Which clock becomes `Event::ts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsSource {
    /// The receive time recorded with each message (ns): the file's order
    /// (capture receive time; Tardis `local_timestamp`).
    Local,
    /// The exchange's event time (Binance `E`, trades `T`; Bybit `ts`;
    /// Tardis `timestamp`), ms or µs as ns; not always monotone.
    Exchange,
}

/// A sequence break in the diff stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// Index of the `CLEAR` event emitted for it.
    pub event_index: u64,
    /// Message number (0-based) that revealed it.
    pub message: u64,
    /// Update id that should have come next (spot: `U`, futures: `pu`
    /// compared with the last `u`).
    pub expected: u64,
    /// What came instead.
    pub got: u64,
    /// Receive time (ns) of that message.
    pub ts: Ts,
}

/// Counters for the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Depth diffs seen.
    pub diffs: u64,
    /// Diffs applied to the book.
    pub applied: u64,
    /// Buffered diffs the snapshot already contained.
    pub stale: u64,
    /// Diffs dropped while out of sync (buffer overflow).
    pub overflow: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Snapshots ignored because the book was already in sync.
    pub snapshots_ignored: u64,
    /// Trades.
    pub trades: u64,
    /// Liquidation notices (`LIQUIDATION` events).
    pub liquidations: u64,
    /// Messages that are neither depth, trade, bookTicker nor snapshot.
    pub other: u64,
}

impl Stats {
    /// Every counter with its name (the bindings' dict keys).
    pub fn fields(&self) -> [(&'static str, u64); 9] {
        [
            ("diffs", self.diffs),
            ("applied", self.applied),
            ("stale", self.stale),
            ("overflow", self.overflow),
            ("snapshots", self.snapshots),
            ("snapshots_ignored", self.snapshots_ignored),
            ("trades", self.trades),
            ("liquidations", self.liquidations),
            ("other", self.other),
        ]
    }
}

/// A message-at-a-time book keeper (Binance and Bybit).
pub trait Feed {
    /// One JSON message received at `recv_ts` ns, from `line` (1-based);
    /// appends the events it produces.
    fn on_message(
        &mut self,
        json: &[u8],
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error>;

    /// Forgets the sync state: the keeper buffers until the next snapshot,
    /// whose events rebuild the book from scratch. Called when the book
    /// refused what the keeper emitted, so the two never disagree.
    fn resync(&mut self);
}

/// Parses one message with `feed` and applies the events it produced to
/// `inst` as one message: all or nothing, published once (see
/// [`Instrument::apply_events`]). `scratch` is a reused buffer.
///
/// If the book refuses the events (a timestamp earlier than the book's
/// last, a crossing update under `cross_policy="reject"`), the book is as
/// before the message and the keeper drops to [`Feed::resync`]: it waits for
/// the next snapshot, which rebuilds the book. The error is at `line`, the
/// message's number, since that is what the caller can find again.
pub fn apply_message<F: Feed + ?Sized, B: Book>(
    feed: &mut F,
    inst: &mut Instrument<B>,
    json: &[u8],
    recv_ts: Ts,
    line: u64,
    scratch: &mut Vec<Event>,
) -> Result<Applied, Error> {
    scratch.clear();
    feed.on_message(json, recv_ts, line, scratch)?;
    inst.apply_events(scratch, false).map_err(|e| {
        feed.resync();
        Error::at(line, e.kind)
    })
}

/// Parses a capture file of `<recv_ts_ns> <json>` lines (hftbacktest's
/// collector format; a line of bare JSON gets receive time 0). `line0` is
/// the number of lines before `data` (non-zero when a file is fed in
/// chunks), for error messages.
pub fn parse_capture<F: Feed + ?Sized>(
    data: &[u8],
    sync: &mut F,
    line0: u64,
) -> Result<Vec<Event>, Error> {
    let mut out = Vec::with_capacity(data.len() / 40);
    for (line, raw) in text::lines(data) {
        let line = line + line0;
        let raw = text::trim(raw);
        let (ts, json) = match raw.iter().position(|&c| c == b' ') {
            Some(p) if raw[0].is_ascii_digit() => {
                (text::parse_int(&raw[..p], line, "recv_ts")?, &raw[p + 1..])
            }
            _ => (0, raw),
        };
        sync.on_message(json, ts, line, &mut out)?;
    }
    Ok(out)
}

/// Orders one message's level updates removals first, so the book is
/// crossed between its events only if it is crossed after the whole
/// message. A price given twice keeps its last size (as applying the
/// message in order would).
pub(crate) fn removals_first(levels: &mut Vec<(i8, Price, Qty)>) {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut keep: Vec<(i8, Price, Qty)> = Vec::with_capacity(levels.len());
    for &l in levels.iter().rev() {
        if seen.insert((l.0, l.1)) {
            keep.push(l);
        }
    }
    keep.reverse();
    keep.sort_by_key(|l| l.2 != 0);
    *levels = keep;
}
