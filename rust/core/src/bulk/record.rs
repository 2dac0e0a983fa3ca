//! What a replay records per event: an observer of the instrument's step
//! (best bid/ask, the top-N rows, the per-event signal columns). It reads
//! the instrument after each event and never applies anything itself.

use super::{ReplayConfig, ReplayOutput};
use crate::book::l2::L2Book;
use crate::instrument::Step;
use crate::io::flags::CONTINUES;
use crate::signals::flow::Flow;
use crate::signals::imbalance::{queue_imbalance, weighted_mid};
use crate::signals::ofi;
use crate::signals::trade_flow::Signer;
use crate::types::{kind, Event, Price, Qty, Side};

/// A zeroed output column of `n` i64. On Linux, columns of 4 MiB and more
/// ask for transparent huge pages: a replay writes every page of its output
/// once, and with 4 KiB pages the kernel's page-fault-and-zero work cost as
/// much as the book updates themselves (measured: 24 vs 52 M events/s for a
/// best-only L2 replay with pre-faulted buffers).
pub(super) fn column<T: Clone + Default>(n: usize) -> Vec<T> {
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

use crate::book::top::TopN;

/// Writes `t`'s rows into the column slices at `row` (the rest stay 0 in
/// a fresh row; see [`clear_tail`]).
#[inline]
fn write_rows(t: &TopN, row: usize, price: &mut [i64], size: &mut [i64]) {
    for (j, &(p, q)) in t.v.iter().enumerate() {
        price[row + j] = p;
        size[row + j] = q;
    }
}

/// A sampled row is written by each of its events: the levels past `t`'s
/// are cleared in case the book shrank since an earlier event of the row.
fn clear_tail(t: &TopN, d: usize, row: usize, price: &mut [i64], size: &mut [i64]) {
    for j in t.v.len()..d {
        price[row + j] = 0;
        size[row + j] = 0;
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

/// Multi-level OFI of an event that continues an open step: each level's
/// term between the rows before the step (`start`) and now, less what the
/// step's earlier events reported (`acc`, brought up to date), so the step's
/// rows sum to the term between message states. O(depth), but only on
/// continuing events (LOBSTER corrections). A step open at the start of a
/// call is not seen: its continuing events count as events of their own.
#[cold]
#[inline(never)]
fn continued_levels(
    prev: &mut [(Price, Qty)],
    start: &[(Price, Qty)],
    acc: &mut [i64],
    scratch: &mut Vec<i64>,
    (b, a): (&TopN, &TopN),
    dirty: [(usize, usize); 2],
    row: &mut [i64],
) {
    let d = acc.len();
    // the per-level terms of this event alone are not wanted (only `prev`
    // brought up to date): the recorder's buffer takes them, no allocation
    scratch.clear();
    scratch.resize(d, 0);
    let (pb, pa) = prev.split_at_mut(d);
    level_ofi_side(pb, b, dirty[0], scratch);
    level_ofi_side(pa, a, dirty[1], scratch);
    for m in 0..d {
        let (bp, bq) = start[m];
        let (ap, aq) = start[d + m];
        let whole =
            ofi::bid_term(bp, bq, pb[m].0, pb[m].1) + ofi::ask_term(ap, aq, pa[m].0, pa[m].1);
        row[m] += whole - acc[m];
        acc[m] = whole;
    }
}

/// Multi-level OFI of an event that opens a multi-event step (the next
/// event continues it): as usual, and the rows before it and what it
/// reported are kept for [`continued_levels`]. Cold, like it.
#[cold]
#[inline(never)]
fn opening_levels(
    prev: &mut Vec<(Price, Qty)>,
    start: &mut Vec<(Price, Qty)>,
    acc: &mut Vec<i64>,
    scratch: &mut Vec<i64>,
    (b, a): (&TopN, &TopN),
    dirty: [(usize, usize); 2],
    row: &mut [i64],
) {
    start.clone_from(prev);
    scratch.clear();
    scratch.extend_from_slice(row);
    let d = row.len();
    let (pb, pa) = prev.split_at_mut(d);
    level_ofi_side(pb, b, dirty[0], row);
    level_ofi_side(pa, a, dirty[1], row);
    // what this event alone reported (a sampled row may hold earlier events)
    acc.clear();
    acc.extend(row.iter().zip(scratch.iter()).map(|(r, s)| r - s));
}

/// The top-N rows after an event: brings `bids`/`asks` up to date from the
/// step's change records and writes row `i`; returns the rows touched per
/// side (for multi-level OFI).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn levels<const SAMPLED: bool>(
    bids: &mut TopN,
    asks: &mut TopN,
    step: Option<&Step>,
    ev: &Event,
    l2: &L2Book,
    d: usize,
    i: usize,
    out: &mut ReplayOutput,
) -> [(usize, usize); 2] {
    let mut dirty = [(0usize, 0usize); 2];
    if let Some(s) = step {
        if ev.kind == kind::CLEAR {
            bids.rebuild(l2);
            asks.rebuild(l2);
            dirty = [(0, d), (0, d)];
        }
        for ch in s.changes.iter() {
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
    let row = i * d;
    write_rows(bids, row, &mut out.bid_price, &mut out.bid_size);
    write_rows(asks, row, &mut out.ask_price, &mut out.ask_size);
    if SAMPLED {
        clear_tail(bids, d, row, &mut out.bid_price, &mut out.bid_size);
        clear_tail(asks, d, row, &mut out.ask_price, &mut out.ask_size);
    }
    dirty
}

/// The per-event recorder of one replay call.
#[derive(Debug)]
pub(super) struct Recorder {
    d: usize,
    signals: bool,
    tops: Option<(TopN, TopN)>,
    /// The top-N rows before the event (multi-level OFI), `[bids.., asks..]`.
    prev_rows: Vec<(Price, Qty)>,
    /// The rows before the open multi-event step (see
    /// [`crate::io::flags::CONTINUES`]) and the multi-level OFI its events
    /// have reported so far, per level; `step_open` while one is.
    step_rows: Vec<(Price, Qty)>,
    step_acc: Vec<i64>,
    step_open: bool,
    /// Working buffer of the cold step paths: the opening event's row
    /// before it (sampled rows accumulate), a continuing event's own terms.
    scratch: Vec<i64>,
    /// The row the next event lands in (sampled replays).
    row: usize,
    signer: Signer,
    pub(super) out: ReplayOutput,
}

impl Recorder {
    /// Zeroed columns for `rows` rows of `n` events; the top-N rows start
    /// from `l2`.
    pub(super) fn new(l2: &L2Book, n: usize, rows: usize, cfg: &ReplayConfig) -> Recorder {
        let d = cfg.depth;
        let sampled = cfg.sample != super::Sample::Event;
        // Zeroed buffers come from calloc: empty levels cost nothing to write.
        let mut out = ReplayOutput {
            depth: d,
            ts: column(rows),
            bid_price: column(rows * d),
            bid_size: column(rows * d),
            ask_price: column(rows * d),
            ask_size: column(rows * d),
            best_bid_price: column(rows),
            best_bid_size: column(rows),
            best_ask_price: column(rows),
            best_ask_size: column(rows),
            last_event: if sampled { column(rows) } else { Vec::new() },
            skipped_mask: vec![
                0;
                if cfg.on_error == super::OnError::Skip {
                    n
                } else {
                    0
                }
            ],
            ..Default::default()
        };
        if cfg.signals {
            out.imbalance = column(rows);
            out.ofi = column(rows);
            out.weighted_mid = column(rows);
            out.signed_volume = column(rows);
            out.ofi_msg = column(rows);
            out.ofi_levels = column(rows * d);
        }
        let tops = (d > 0).then(|| (TopN::new(Side::Bid, d, l2), TopN::new(Side::Ask, d, l2)));
        let mut prev_rows = Vec::new();
        if let (true, Some((b, a))) = (cfg.signals, &tops) {
            fill_rows(&mut prev_rows, b, a, d);
        }
        Recorder {
            d,
            signals: cfg.signals,
            tops,
            prev_rows,
            step_rows: Vec::new(),
            step_acc: Vec::new(),
            step_open: false,
            scratch: Vec::new(),
            row: 0,
            signer: Signer::new(cfg.trade_sign),
            out,
        }
    }

    /// Records row `i` after event `ev`: `step` is what the instrument's
    /// step did (None when the event was skipped), `l2` and `flow` the
    /// instrument after it; `next` the event after `ev` in the call, if
    /// any (a step that continues into it keeps its starting rows); `ends`:
    /// the event closes its output row (always, unless sampled).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_event<const SAMPLED: bool>(
        &mut self,
        i: usize,
        ev: &Event,
        step: Option<&Step>,
        l2: &L2Book,
        flow: &Flow,
        next: Option<&Event>,
        ends: bool,
    ) {
        // A row holds the book after its last event and the flow summed
        // over its events: state columns are written by every event of the
        // row (the last one stays), flow columns add up.
        let i = if SAMPLED {
            let row = self.row;
            self.out.last_event[row] = i as i64;
            if ends {
                self.row += 1;
            }
            row
        } else {
            i
        };
        let d = self.d;
        // Top-N rows touched by this event, per side: [bid, ask] (lo, hi).
        let mut dirty = [(0usize, 0usize); 2];
        if let Some((bids, asks)) = self.tops.as_mut() {
            // Out of line: a best-only replay's loop stays small.
            dirty = levels::<SAMPLED>(bids, asks, step, ev, l2, d, i, &mut self.out);
        }
        let top = flow.top;
        let out = &mut self.out;
        out.ts[i] = ev.ts;
        out.best_bid_price[i] = top.bid_price;
        out.best_bid_size[i] = top.bid_qty;
        out.best_ask_price[i] = top.ask_price;
        out.best_ask_size[i] = top.ask_qty;
        if self.signals {
            out.imbalance[i] = queue_imbalance(top.bid_qty, top.ask_qty);
            out.weighted_mid[i] = weighted_mid(&top).unwrap_or(f64::NAN);
            // A skipped event changed nothing: its flow columns stay 0.
            if let Some(s) = step {
                let signed = self.signer.signed(ev, &s.before);
                if SAMPLED {
                    out.ofi[i] += flow.last;
                    out.ofi_msg[i] += flow.msg_last;
                    out.signed_volume[i] += signed;
                } else {
                    out.ofi[i] = flow.last;
                    out.ofi_msg[i] = flow.msg_last;
                    out.signed_volume[i] = signed;
                }
            }
            if let Some((b, a)) = &self.tops {
                let row = &mut out.ofi_levels[i * d..(i + 1) * d];
                if step.is_none() {
                    // A skipped event cannot open or carry a step.
                    self.step_open = false;
                } else if self.step_open && ev.flags & CONTINUES != 0 {
                    continued_levels(
                        &mut self.prev_rows,
                        &self.step_rows,
                        &mut self.step_acc,
                        &mut self.scratch,
                        (b, a),
                        dirty,
                        row,
                    );
                    return;
                }
                if next.is_some_and(|e| e.flags & CONTINUES != 0) && step.is_some() {
                    opening_levels(
                        &mut self.prev_rows,
                        &mut self.step_rows,
                        &mut self.step_acc,
                        &mut self.scratch,
                        (b, a),
                        dirty,
                        row,
                    );
                    self.step_open = true;
                    return;
                }
                let (pb, pa) = self.prev_rows.split_at_mut(d);
                level_ofi_side(pb, b, dirty[0], row);
                level_ofi_side(pa, a, dirty[1], row);
            }
        }
    }
}
