//! Slice-in / Vec-out replay kernels: run a whole event array through a book
//! and record the top of the book after every event.

use crate::book::l2::{L2Book, LevelChange};
use crate::book::l3::Changes;
use crate::book::Book;
use crate::error::{Error, ErrorKind, N_ERROR_CODES};
use crate::signals::imbalance::{queue_imbalance, weighted_mid};
use crate::signals::trade_flow::{Signer, TradeSign};
use crate::signals::{ofi, Top};
use crate::types::{kind, Event, Price, Qty, Side};

/// A zeroed output column of `n` i64. On Linux, columns of 4 MiB and more
/// ask for transparent huge pages: a replay writes every page of its output
/// once, and with 4 KiB pages the kernel's page-fault-and-zero work cost as
/// much as the book updates themselves (measured: 24 vs 52 M events/s for a
/// best-only L2 replay with pre-faulted buffers).
fn column<T: Clone + Default>(n: usize) -> Vec<T> {
    let v = vec![T::default(); n];
    #[cfg(target_os = "linux")]
    advise_huge(&v);
    v
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge<T>(v: &[T]) {
    const HUGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(v);
    if bytes < 2 * HUGE {
        return;
    }
    let start = v.as_ptr() as usize;
    let aligned = (start + HUGE - 1) & !(HUGE - 1);
    let end = (start + bytes) & !(HUGE - 1);
    if end > aligned {
        // SAFETY: [aligned, end) lies inside the live allocation `v`;
        // MADV_HUGEPAGE is advice only: it never changes the contents or
        // validity of the mapping, and failure (e.g. THP disabled) is ignored.
        unsafe {
            libc::madvise(
                aligned as *mut libc::c_void,
                end - aligned,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

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
        }
    }
}

/// Per-event output. Row-major `(n, depth)` arrays; empty levels are price 0,
/// size 0. Prices in ticks, sizes in lots.
#[derive(Clone, Debug, Default)]
pub struct ReplayOutput {
    /// Levels per side per row.
    pub depth: usize,
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
    /// OFI e_n of the last event (lots).
    pub ofi_last: i64,
    /// Sum of the message-accounting OFI over the call (lots), always computed.
    pub ofi_msg_sum: i64,
    /// Message-accounting OFI of the last event (lots).
    pub ofi_msg_last: i64,
    /// `(n,)` 1 where the event was skipped under [`OnError::Skip`]
    /// (empty under [`OnError::Raise`], where nothing is ever skipped).
    pub skipped_mask: Vec<u8>,
    /// Events skipped.
    pub skipped: u64,
    /// Skips per [`ErrorKind::code`].
    pub skipped_by_code: [u64; N_ERROR_CODES],
    /// First skipped error, for the message.
    pub first_skipped: Option<Error>,
    /// Alerts raised by the detectors during the call (with
    /// [`replay_detect`] only), in event order.
    pub alerts: Alerts,
}

/// Why a replay stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// An invalid event under [`OnError::Raise`]; the book was restored.
    Event(Error),
    /// The progress callback asked to stop (Ctrl-C); the book was restored.
    Interrupted,
}

/// Applies one event, refusing it first when `check_ts` and its `ts` is
/// earlier than the book's last: the one way every path (bulk replay, the
/// engine, the streaming `apply_event`) applies an event.
#[inline]
pub fn check_and_apply<B: Book>(
    book: &mut B,
    ev: &Event,
    check_ts: bool,
) -> Result<Changes, ErrorKind> {
    if check_ts {
        let last = *book.last_ts();
        if ev.ts < last {
            return Err(ErrorKind::TimestampOrder {
                ts: ev.ts,
                last_ts: last,
            });
        }
    }
    let c = book.apply_event(ev)?;
    *book.last_ts() = ev.ts;
    Ok(c)
}

/// The top `n` levels of one side, kept up to date from the books' change
/// records instead of re-scanning the ladder after every event: on sparse
/// grids (LOBSTER at $0.0001, levels ~100 ticks apart) a 10-level scan walks
/// hundreds of bitmap words, and this made depth-10 replays 6x slower than
/// best-only ones. Invariant: `v` holds the first `min(n, levels)` levels,
/// best first. Only a removal inside a full top-N needs the book again (the
/// next level after the last one kept).
#[derive(Debug)]
struct TopN {
    side: Side,
    n: usize,
    v: Vec<(Price, Qty)>,
}

impl TopN {
    fn new(side: Side, n: usize, l2: &L2Book) -> TopN {
        let mut t = TopN {
            side,
            n,
            v: Vec::with_capacity(n + 1),
        };
        t.rebuild(l2);
        t
    }

    fn rebuild(&mut self, l2: &L2Book) {
        self.v.clear();
        let v = &mut self.v;
        l2.for_each_level(self.side, self.n, |p, q| v.push((p, q)));
    }

    #[inline]
    fn better(&self, a: Price, b: Price) -> bool {
        match self.side {
            Side::Bid => a > b,
            Side::Ask => a < b,
        }
    }

    /// Applies one level change; returns the range of row indices whose
    /// (price, size) may differ from before (empty when the change was
    /// below the top N), so per-level signals recompute only those.
    #[inline]
    fn on_change(&mut self, c: &LevelChange, l2: &L2Book) -> (usize, usize) {
        let (p, q) = (c.price, c.new_qty);
        match self.v.iter().position(|e| e.0 == p) {
            Some(i) if q > 0 => {
                self.v[i].1 = q;
                (i, i + 1)
            }
            Some(i) => {
                let was_full = self.v.len() == self.n;
                self.v.remove(i);
                if was_full {
                    let next = match self.v.last() {
                        Some(&(lp, _)) => l2.next_after(self.side, lp),
                        None => l2.best(self.side),
                    };
                    if let Some(x) = next {
                        self.v.push(x);
                    }
                }
                (i, self.n)
            }
            None if q > 0 => {
                let pos = self
                    .v
                    .iter()
                    .position(|e| self.better(p, e.0))
                    .unwrap_or(self.v.len());
                if pos < self.n {
                    self.v.insert(pos, (p, q));
                    self.v.truncate(self.n);
                    (pos, self.n)
                } else {
                    (0, 0)
                }
            }
            None => (0, 0),
        }
    }

    #[inline]
    fn write(&self, row: usize, price: &mut [i64], size: &mut [i64]) {
        for (j, &(p, q)) in self.v.iter().enumerate() {
            price[row + j] = p;
            size[row + j] = q;
        }
    }
}

/// Bid and ask top-N rows into `v`, padded with (0, 0): `[bids..., asks...]`.
/// Reuses `v`'s buffer: no allocation per event.
fn fill_rows(v: &mut Vec<(Price, Qty)>, b: &TopN, a: &TopN, d: usize) {
    v.clear();
    v.resize(2 * d, (0, 0));
    v[..b.v.len()].copy_from_slice(&b.v);
    v[d..d + a.v.len()].copy_from_slice(&a.v);
}

/// Multi-level OFI of one event, for the rows `range` of one side that may
/// have changed: adds that side's term to `out[m]` and brings `prev` (that
/// side's rows before the event) up to date. Rows outside the range are
/// unchanged, so their term is 0 — which is what makes this O(changed rows)
/// instead of O(depth) per event.
#[inline]
fn level_ofi_side(prev: &mut [(Price, Qty)], t: &TopN, range: (usize, usize), out: &mut [i64]) {
    let hi = range.1.min(prev.len());
    for m in range.0..hi {
        let (pp, pq) = prev[m];
        let (cp, cq) = t.v.get(m).copied().unwrap_or((0, 0));
        out[m] += match t.side {
            Side::Bid => ofi::bid_term(pp, pq, cp, cq),
            Side::Ask => ofi::ask_term(pp, pq, cp, cq),
        };
        prev[m] = (cp, cq);
    }
}

#[inline]
fn record<B: Book>(book: &B, i: usize, tops: &Option<(TopN, TopN)>, out: &mut ReplayOutput) -> Top {
    let top = Top::of(book.levels());
    out.best_bid_price[i] = top.bid_price;
    out.best_bid_size[i] = top.bid_qty;
    out.best_ask_price[i] = top.ask_price;
    out.best_ask_size[i] = top.ask_qty;
    if let Some((bids, asks)) = tops {
        let row = i * out.depth;
        bids.write(row, &mut out.bid_price, &mut out.bid_size);
        asks.write(row, &mut out.ask_price, &mut out.ask_size);
    }
    top
}

/// Replays `events` through `book`, recording the book after every event.
///
/// `progress(done)` is called every `cfg.chunk` events and at the end; it
/// returns `false` to interrupt. On [`ReplayError`] the book is exactly as it
/// was before the call.
pub fn replay<B: Book>(
    book: &mut B,
    events: &[Event],
    cfg: &ReplayConfig,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Result<ReplayOutput, ReplayError> {
    replay_detect(book, events, cfg, progress, None)
}

/// [`replay`] with detectors: every applied event also runs through `det`
/// (whose state carries over between calls); alerts land in
/// [`ReplayOutput::alerts`]. On [`ReplayError`] the detectors are restored
/// with the book.
pub fn replay_detect<B: Book>(
    book: &mut B,
    events: &[Event],
    cfg: &ReplayConfig,
    progress: &mut dyn FnMut(usize) -> bool,
    mut det: Option<&mut crate::detect::Detectors>,
) -> Result<ReplayOutput, ReplayError> {
    let n = events.len();
    let d = cfg.depth;
    // Zeroed buffers come from calloc: empty levels cost nothing to write.
    let mut out = ReplayOutput {
        depth: d,
        bid_price: column(n * d),
        bid_size: column(n * d),
        ask_price: column(n * d),
        ask_size: column(n * d),
        best_bid_price: column(n),
        best_bid_size: column(n),
        best_ask_price: column(n),
        best_ask_size: column(n),
        skipped_mask: vec![0; if cfg.on_error == OnError::Skip { n } else { 0 }],
        ..Default::default()
    };
    if cfg.signals {
        out.imbalance = column(n);
        out.ofi = column(n);
        out.weighted_mid = column(n);
        out.signed_volume = column(n);
        out.ofi_msg = column(n);
        out.ofi_levels = column(n * d);
    }
    // Atomicity for Raise: the backup is taken once per call, never per event.
    let backup = (cfg.on_error == OnError::Raise).then(|| book.clone());
    let det_backup = match (&det, cfg.on_error) {
        (Some(d), OnError::Raise) => Some((**d).clone()),
        _ => None,
    };
    let chunk = cfg.chunk.max(1);
    let mut tops = (d > 0).then(|| {
        let l2 = book.levels();
        (TopN::new(Side::Bid, d, l2), TopN::new(Side::Ask, d, l2))
    });
    // Signal state: the top of the book (and its top-N rows) before each event.
    let mut prev_top = Top::of(book.levels());
    // Locals, not `out` fields: keeps them in registers in the hot loop.
    let (mut ofi_sum, mut ofi_last) = (0i64, 0i64);
    let (mut msg_sum, mut msg_last) = (0i64, 0i64);
    let mut prev_rows: Vec<(Price, Qty)> = Vec::new();
    let mut signer = Signer::new(cfg.trade_sign);
    if cfg.signals {
        if let Some((b, a)) = &tops {
            fill_rows(&mut prev_rows, b, a, d);
        }
    }
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        for (i, ev) in events[start..end].iter().enumerate() {
            let i = start + i;
            let mut changes = Changes::default();
            let mut applied = true;
            // Top-N rows touched by this event, per side: [bid, ask] (lo, hi).
            let mut dirty = [(0usize, 0usize); 2];
            match check_and_apply(book, ev, cfg.check_ts) {
                Ok(c) => {
                    changes = c;
                    if let Some((bids, asks)) = tops.as_mut() {
                        let l2 = book.levels();
                        if ev.kind == kind::CLEAR {
                            bids.rebuild(l2);
                            asks.rebuild(l2);
                            dirty = [(0, d), (0, d)];
                        }
                        for ch in [c.first, c.second].iter().flatten() {
                            let (t, k) = if ch.side == Side::Bid as i8 {
                                (&mut *bids, 0)
                            } else {
                                (&mut *asks, 1)
                            };
                            let (lo, hi) = t.on_change(ch, l2);
                            if lo < hi {
                                let r = &mut dirty[k];
                                *r = if r.0 < r.1 {
                                    (r.0.min(lo), r.1.max(hi))
                                } else {
                                    (lo, hi)
                                };
                            }
                        }
                    }
                }
                Err(kind) => match cfg.on_error {
                    OnError::Raise => {
                        if let Some(b) = backup {
                            *book = b;
                        }
                        if let (Some(d), Some(b)) = (det.as_deref_mut(), det_backup) {
                            *d = b;
                        }
                        return Err(ReplayError::Event(Error::at(i as u64, kind)));
                    }
                    OnError::Skip => {
                        applied = false;
                        out.skipped += 1;
                        out.skipped_by_code[kind.code()] += 1;
                        out.skipped_mask[i] = 1;
                        if out.first_skipped.is_none() {
                            out.first_skipped = Some(Error::at(i as u64, kind));
                        }
                    }
                },
            }
            let top = record(book, i, &tops, &mut out);
            if applied {
                if let Some(d) = det.as_deref_mut() {
                    let cx = crate::detect::Ctx {
                        ev,
                        index: i as u64,
                        changes: &changes,
                        before: &prev_top,
                        l2: book.levels(),
                    };
                    d.on_event(&cx, &mut out.alerts);
                }
            }
            // OFI is summed always (a few adds): a book's running total stays
            // right whether or not the per-event columns were asked for.
            let e = ofi::ofi(&prev_top, &top);
            ofi_sum += e;
            ofi_last = e;
            let m = if applied && (changes != Changes::default() || ev.kind == kind::TRADE) {
                ofi::message_ofi(ev, &changes, &prev_top, cfg.ofi_msg_hidden)
            } else {
                0
            };
            msg_sum += m;
            msg_last = m;
            if cfg.signals {
                out.imbalance[i] = queue_imbalance(top.bid_qty, top.ask_qty);
                out.ofi[i] = e;
                out.ofi_msg[i] = m;
                out.weighted_mid[i] = weighted_mid(&top).unwrap_or(f64::NAN);
                if applied {
                    out.signed_volume[i] = signer.signed(ev, &prev_top);
                }
                if let Some((b, a)) = &tops {
                    let row = &mut out.ofi_levels[i * d..(i + 1) * d];
                    let (pb, pa) = prev_rows.split_at_mut(d);
                    level_ofi_side(pb, b, dirty[0], row);
                    level_ofi_side(pa, a, dirty[1], row);
                }
            }
            prev_top = top;
        }
        start = end;
        if !progress(end) {
            if let Some(b) = backup {
                *book = b;
            }
            if let (Some(d), Some(b)) = (det.as_deref_mut(), det_backup) {
                *d = b;
            }
            return Err(ReplayError::Interrupted);
        }
    }
    if n == 0 {
        progress(0);
    }
    out.ofi_sum = ofi_sum;
    out.ofi_last = ofi_last;
    out.ofi_msg_sum = msg_sum;
    out.ofi_msg_last = msg_last;
    Ok(out)
}

/// Replays without recording anything; returns events applied or the first
/// error (book restored). For throughput measurements of the book alone.
pub fn apply_all<B: Book>(book: &mut B, events: &[Event], check_ts: bool) -> Result<usize, Error> {
    let backup = book.clone();
    for (i, ev) in events.iter().enumerate() {
        if let Err(kind) = check_and_apply(book, ev, check_ts).map(|_| ()) {
            *book = backup;
            return Err(Error::at(i as u64, kind));
        }
    }
    Ok(events.len())
}
