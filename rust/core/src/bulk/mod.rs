//! Slice-in / Vec-out replay kernels: run a whole event array through a book
//! and record the top of the book after every event.

mod record;

use crate::book::Book;
use crate::error::{Error, ErrorKind, N_ERROR_CODES};
use crate::instrument::Instrument;
use crate::signals::trade_flow::TradeSign;
use crate::types::Event;
use record::Recorder;

/// What to do when an event is invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop, restore the book to its state before the call, return the error.
    #[default]
    Raise,
    /// Leave the book as it was before that event, count it, go on.
    Skip,
}

/// Replay options.
#[derive(Clone, Copy, Debug)]
pub struct ReplayConfig {
    /// The book is a price-level book chosen because the caller named no
    /// type: stop at the first order-by-order event (book restored) with
    /// [`ReplayError::NeedsL3`], so the caller can start over with an L3
    /// book. Spares every L2 replay a separate pass over the events to
    /// choose the type.
    pub stop_at_l3: bool,
    /// Levels recorded per side per event (0 = best bid/ask only).
    pub depth: usize,
    /// Error policy.
    pub on_error: OnError,
    /// Reject events whose `ts` is earlier than the previous event's.
    pub check_ts: bool,
    /// Events between progress/interrupt callbacks.
    pub chunk: usize,
    /// Also compute the per-event signal columns (imbalance, OFI, weighted mid).
    pub signals: bool,
    /// Message-accounting OFI counts hidden executions (TRADE prints).
    pub ofi_msg_hidden: bool,
    /// Aggressor rule for `signed_volume`.
    pub trade_sign: TradeSign,
    /// Which events end an output row ([`Sample`]).
    pub sample: Sample,
}

/// Which events end an output row. A row holds the book after its last
/// event and the flow columns (`ofi`, `ofi_msg`, `ofi_levels`,
/// `signed_volume`) summed over its events, so a sampled replay keeps the
/// flow exactly while its memory follows the rows, not the events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sample {
    /// Every event is a row.
    #[default]
    Event,
    /// One row per feed message: it ends at an event flagged
    /// [`crate::io::flags::LAST`] when the stream marks message ends that
    /// way, and never before an event flagged
    /// [`crate::io::flags::CONTINUES`] (a LOBSTER message and its
    /// corrections are one row, one per orderbook-file row).
    Message,
    /// One row per time bin of this many ns (bins aligned to multiples of
    /// it), for the bins that hold events.
    Every(i64),
}

impl Sample {
    /// Whether event `i` of `events` ends a row (`uses_last`: see
    /// [`uses_last`]). The last event always does.
    #[inline]
    pub fn ends(self, events: &[Event], i: usize, uses_last: bool) -> bool {
        use crate::io::flags::{CONTINUES, LAST};
        let Some(next) = events.get(i + 1) else {
            return true;
        };
        match self {
            Sample::Event => true,
            Sample::Message => {
                next.flags & CONTINUES == 0 && (!uses_last || events[i].flags & LAST != 0)
            }
            Sample::Every(ns) => events[i].ts.div_euclid(ns) != next.ts.div_euclid(ns),
        }
    }
}

/// Whether `events` mark message ends with [`crate::io::flags::LAST`]
/// (some event has it without also continuing a step: LOBSTER's
/// corrections carry that bit as their own flag, and LOBSTER messages
/// never do).
pub fn uses_last(events: &[Event]) -> bool {
    use crate::io::flags::{CONTINUES, LAST};
    events
        .iter()
        .any(|e| e.flags & LAST != 0 && e.flags & CONTINUES == 0)
}

/// Rows a replay of `events` records under `sample` (`uses_last`: see
/// [`uses_last`]).
pub fn rows(events: &[Event], sample: Sample, uses_last: bool) -> usize {
    if sample == Sample::Event {
        return events.len();
    }
    (0..events.len())
        .filter(|&i| sample.ends(events, i, uses_last))
        .count()
}

/// The detectors' alerts of one replay call.
pub type Alerts = Vec<crate::detect::Alert>;

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            depth: 10,
            on_error: OnError::Raise,
            check_ts: true,
            chunk: 1 << 20,
            signals: false,
            ofi_msg_hidden: false,
            trade_sign: TradeSign::Feed,
            stop_at_l3: false,
            sample: Sample::Event,
        }
    }
}

/// Per-event output. Row-major `(n, depth)` arrays; empty levels are price 0,
/// size 0. Prices in ticks, sizes in lots.
#[derive(Clone, Debug, Default)]
pub struct ReplayOutput {
    /// Levels per side per row.
    pub depth: usize,
    /// `(n,)` each event's timestamp (ns), copied while the event is in
    /// cache: a separate pass over the strided `ts` field of the input
    /// re-read the whole event array (~10% of a depth-0 replay).
    pub ts: Vec<i64>,
    /// `(n, depth)` bid prices.
    pub bid_price: Vec<i64>,
    /// `(n, depth)` bid sizes.
    pub bid_size: Vec<i64>,
    /// `(n, depth)` ask prices.
    pub ask_price: Vec<i64>,
    /// `(n, depth)` ask sizes.
    pub ask_size: Vec<i64>,
    /// `(n,)` best bid price (0 when the side is empty).
    pub best_bid_price: Vec<i64>,
    /// `(n,)` best bid size (0 when the side is empty).
    pub best_bid_size: Vec<i64>,
    /// `(n,)` best ask price.
    pub best_ask_price: Vec<i64>,
    /// `(n,)` best ask size.
    pub best_ask_size: Vec<i64>,
    /// `(n,)` level-1 queue imbalance (qb - qa)/(qb + qa) after each event
    /// (signals only; 0 when both sides are empty).
    pub imbalance: Vec<f64>,
    /// `(n,)` Cont–Kukanov–Stoikov OFI e_n of each event, lots (signals only).
    /// An event flagged [`crate::io::flags::CONTINUES`] carries the rest of
    /// its step: a message's rows sum to eq. 10 between message states.
    pub ofi: Vec<i64>,
    /// `(n,)` size-weighted mid after each event, ticks; NaN when a side is
    /// empty (signals only).
    pub weighted_mid: Vec<f64>,
    /// `(n,)` signed traded volume of each event, lots: positive when
    /// buyer-initiated, negative when seller-initiated, visible and hidden
    /// executions, signed by [`ReplayConfig::trade_sign`] (signals only).
    pub signed_volume: Vec<i64>,
    /// `(n,)` message-accounting OFI of each event, CKS eq. (4), lots
    /// (signals only; see [`ofi::message_ofi`]).
    pub ofi_msg: Vec<i64>,
    /// `(n, depth)` multi-level OFI: the same rule per level (signals and
    /// depth > 0 only), lots.
    pub ofi_levels: Vec<i64>,
    /// Sum of the OFI e_n over all events of the call (lots), always computed.
    pub ofi_sum: i64,
    /// Sum of the message-accounting OFI over the call (lots), always computed.
    pub ofi_msg_sum: i64,
    /// `(rows,)` the input position of each row's last event (only when
    /// [`ReplayConfig::sample`] is not [`Sample::Event`]; empty otherwise,
    /// where row k is event k).
    pub last_event: Vec<i64>,
    /// `(n,)` 1 where the event was skipped under [`OnError::Skip`]
    /// (empty under [`OnError::Raise`], where nothing is ever skipped);
    /// one entry per input event whatever the sampling.
    pub skipped_mask: Vec<u8>,
    /// Events skipped.
    pub skipped: u64,
    /// Skips per [`ErrorKind::code`].
    pub skipped_by_code: [u64; N_ERROR_CODES],
    /// First skipped error, for the message.
    pub first_skipped: Option<Error>,
    /// Alerts raised by the instrument's detectors during the call, in
    /// event order (`event_index` = position in the call's input).
    pub alerts: Alerts,
}

/// Why a replay stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// An invalid event under [`OnError::Raise`]; the book was restored.
    Event(Error),
    /// The progress callback asked to stop (Ctrl-C); the book was restored.
    Interrupted,
    /// [`ReplayConfig::stop_at_l3`] met an order-by-order event; the book
    /// was restored.
    NeedsL3,
    /// The output columns would not fit in memory (nothing was allocated
    /// or applied): `bytes` needed, `limit` the machine's physical memory.
    TooLarge {
        /// Bytes the columns need (saturated at `u64::MAX`).
        bytes: u64,
        /// Physical memory (bytes).
        limit: u64,
    },
}

/// Most levels per side a replay records (a full LOBSTER file has 50;
/// the bound keeps `depth × events` from wrapping before it is checked).
pub const MAX_DEPTH: usize = 1 << 20;

/// Bytes of output columns a replay of `n` events recording `rows` rows
/// (see [`rows`]; `n` unless sampled) with `cfg` allocates.
pub fn output_bytes(rows: usize, n: usize, cfg: &ReplayConfig) -> u64 {
    let (r, d) = (rows as u64, cfg.depth.min(MAX_DEPTH) as u64);
    // ts + best bid/ask (5) + 4 × depth level columns; signals: 5 + depth
    // more; sampled: the last-event index.
    let mut cols = 5u64.saturating_add(d.saturating_mul(4));
    if cfg.signals {
        cols = cols.saturating_add(5).saturating_add(d);
    }
    if cfg.sample != Sample::Event {
        cols = cols.saturating_add(1);
    }
    let mask = if cfg.on_error == OnError::Skip {
        n as u64
    } else {
        0
    };
    r.saturating_mul(cols)
        .saturating_mul(8)
        .saturating_add(mask)
}

/// The machine's physical memory in bytes (`u64::MAX` where unknown), read
/// once: a replay of one message checks it too, and a system call per call
/// would be work on a bot's hot path.
pub fn physical_memory() -> u64 {
    static MEMORY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MEMORY.get_or_init(read_physical_memory)
}

fn read_physical_memory() -> u64 {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    {
        // SAFETY: sysconf reads two system constants; no pointers involved.
        let (pages, size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && size > 0 {
            return (pages as u64).saturating_mul(size as u64);
        }
    }
    u64::MAX
}

/// Replays `events` through `inst`, recording the book after every event.
///
/// Every event goes through [`Instrument::step`] (so the instrument's flow
/// totals, event counter, last change and detectors move exactly as they
/// would event by event); the recorder observes the result. `cfg.check_ts`
/// and `cfg.ofi_msg_hidden` apply to this call only. Alerts raised during the
/// call land in [`ReplayOutput::alerts`] with `event_index` = the position
/// in `events`. The instrument publishes once, at the end.
///
/// `progress(done)` is called every `cfg.chunk` events and at the end; it
/// returns `false` to interrupt. On [`ReplayError`] the instrument is
/// exactly as it was before the call.
pub fn replay<B: Book>(
    inst: &mut Instrument<B>,
    events: &[Event],
    cfg: &ReplayConfig,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Result<ReplayOutput, ReplayError> {
    // Bounded before allocating: an oversized depth is a clear error, not
    // an aborted process.
    // One pass decides how a sampled stream marks message ends; it serves
    // the row count here and the row ends in the loop.
    let last = cfg.sample != Sample::Event && uses_last(events);
    let rows = rows(events, cfg.sample, last);
    let (bytes, limit) = (output_bytes(rows, events.len(), cfg), physical_memory());
    if cfg.depth > MAX_DEPTH || bytes > limit {
        return Err(ReplayError::TooLarge { bytes, limit });
    }
    let saved = (inst.check_ts(), inst.msg_ofi_hidden());
    inst.set_check_ts(cfg.check_ts);
    inst.set_msg_ofi_hidden(cfg.ofi_msg_hidden);
    // Monomorphised on the sampling so that the per-event replay pays
    // nothing for it (the instruction gate measured +12% on a best-only
    // replay when the row bookkeeping was a runtime branch).
    let r = if cfg.sample == Sample::Event {
        replay_steps::<B, false>(inst, events, rows, last, cfg, progress)
    } else {
        replay_steps::<B, true>(inst, events, rows, last, cfg, progress)
    };
    inst.set_check_ts(saved.0);
    inst.set_msg_ofi_hidden(saved.1);
    inst.publish();
    r
}

fn replay_steps<B: Book, const SAMPLED: bool>(
    inst: &mut Instrument<B>,
    events: &[Event],
    rows: usize,
    uses_last: bool,
    cfg: &ReplayConfig,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Result<ReplayOutput, ReplayError> {
    let n = events.len();
    let mut rec = Recorder::new(inst.levels(), n, rows, cfg);
    // Atomicity: the checkpoint is taken once per call, never per event. It
    // serves Raise (an invalid event) and both modes' interrupts (Ctrl-C, a
    // raising progress callback): the instrument is then exactly as before.
    let mut cp = Some(inst.checkpoint());
    let totals = (inst.flow().total, inst.flow().msg_total);
    let pending = inst.alerts().len();
    let chunk = cfg.chunk.max(1);
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        for (i, ev) in events[start..end].iter().enumerate() {
            let i = start + i;
            let applied = match inst.step(ev) {
                Ok(()) => true,
                Err(ErrorKind::InvalidKind { kind: k, .. })
                    if cfg.stop_at_l3 && crate::types::kind::is_l3(k) =>
                {
                    if let Some(cp) = cp.take() {
                        inst.restore(cp);
                    }
                    return Err(ReplayError::NeedsL3);
                }
                Err(kind) => match cfg.on_error {
                    OnError::Raise => {
                        if let Some(cp) = cp.take() {
                            inst.restore(cp);
                        }
                        return Err(ReplayError::Event(Error::at(i as u64, kind)));
                    }
                    OnError::Skip => {
                        let out = &mut rec.out;
                        out.skipped += 1;
                        out.skipped_by_code[kind.code()] += 1;
                        out.skipped_mask[i] = 1;
                        if out.first_skipped.is_none() {
                            out.first_skipped = Some(Error::at(i as u64, kind));
                        }
                        false
                    }
                },
            };
            let step = applied.then(|| inst.last_step());
            let ends = !SAMPLED || cfg.sample.ends(events, i, uses_last);
            rec.on_event::<SAMPLED>(
                i,
                ev,
                step,
                inst.levels(),
                inst.flow(),
                events.get(i + 1),
                ends,
            );
            if inst.alerts().len() > pending {
                // Rare: alerts carry the input position in a bulk call.
                let from = rec.out.alerts.len();
                inst.drain_alerts_into(pending, &mut rec.out.alerts);
                for a in &mut rec.out.alerts[from..] {
                    a.event_index = i as u64;
                }
            }
        }
        start = end;
        if !progress(end) {
            if let Some(cp) = cp.take() {
                inst.restore(cp);
            }
            return Err(ReplayError::Interrupted);
        }
    }
    if n == 0 {
        progress(0);
    }
    let mut out = rec.out;
    out.ofi_sum = inst.flow().total - totals.0;
    out.ofi_msg_sum = inst.flow().msg_total - totals.1;
    Ok(out)
}
