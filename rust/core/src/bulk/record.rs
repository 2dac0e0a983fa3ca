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

/// Writes `t`'s rows into the column slices at `row` (the rest stay 0).
#[inline]
fn write_rows(t: &TopN, row: usize, price: &mut [i64], size: &mut [i64]) {
    for (j, &(p, q)) in t.v.iter().enumerate() {
        price[row + j] = p;
        size[row + j] = q;
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
    (b, a): (&TopN, &TopN),
    dirty: [(usize, usize); 2],
    row: &mut [i64],
) {
    let d = acc.len();
    let mut scratch = vec![0; d];
    let (pb, pa) = prev.split_at_mut(d);
    level_ofi_side(pb, b, dirty[0], &mut scratch);
    level_ofi_side(pa, a, dirty[1], &mut scratch);
    for m in 0..d {
        let (bp, bq) = start[m];
        let (ap, aq) = start[d + m];
        let whole =
            ofi::bid_term(bp, bq, pb[m].0, pb[m].1) + ofi::ask_term(ap, aq, pa[m].0, pa[m].1);
        row[m] = whole - acc[m];
        acc[m] = whole;
    }
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
    signer: Signer,
    pub(super) out: ReplayOutput,
}

impl Recorder {
    /// Zeroed columns for `n` events; the top-N rows start from `l2`.
    pub(super) fn new(l2: &L2Book, n: usize, cfg: &ReplayConfig) -> Recorder {
        let d = cfg.depth;
        // Zeroed buffers come from calloc: empty levels cost nothing to write.
        let mut out = ReplayOutput {
            depth: d,
            ts: column(n),
            bid_price: column(n * d),
            bid_size: column(n * d),
            ask_price: column(n * d),
            ask_size: column(n * d),
            best_bid_price: column(n),
            best_bid_size: column(n),
            best_ask_price: column(n),
            best_ask_size: column(n),
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
            out.imbalance = column(n);
            out.ofi = column(n);
            out.weighted_mid = column(n);
            out.signed_volume = column(n);
            out.ofi_msg = column(n);
            out.ofi_levels = column(n * d);
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
            signer: Signer::new(cfg.trade_sign),
            out,
        }
    }

    /// Records row `i` after event `ev`: `step` is what the instrument's
    /// step did (None when the event was skipped), `l2` and `flow` the
    /// instrument after it; `next` the event after `ev` in the call, if
    /// any (a step that continues into it keeps its starting rows).
    #[inline]
    pub(super) fn on_event(
        &mut self,
        i: usize,
        ev: &Event,
        step: Option<&Step>,
        l2: &L2Book,
        flow: &Flow,
        next: Option<&Event>,
    ) {
        let d = self.d;
        // Top-N rows touched by this event, per side: [bid, ask] (lo, hi).
        let mut dirty = [(0usize, 0usize); 2];
        if let (Some(s), Some((bids, asks))) = (step, self.tops.as_mut()) {
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
        let top = flow.top;
        let out = &mut self.out;
        out.ts[i] = ev.ts;
        out.best_bid_price[i] = top.bid_price;
        out.best_bid_size[i] = top.bid_qty;
        out.best_ask_price[i] = top.ask_price;
        out.best_ask_size[i] = top.ask_qty;
        if let Some((bids, asks)) = &self.tops {
            let row = i * d;
            write_rows(bids, row, &mut out.bid_price, &mut out.bid_size);
            write_rows(asks, row, &mut out.ask_price, &mut out.ask_size);
        }
        if self.signals {
            out.imbalance[i] = queue_imbalance(top.bid_qty, top.ask_qty);
            out.weighted_mid[i] = weighted_mid(&top).unwrap_or(f64::NAN);
            // A skipped event changed nothing: its flow columns stay 0.
            if let Some(s) = step {
                out.ofi[i] = flow.last;
                out.ofi_msg[i] = flow.msg_last;
                out.signed_volume[i] = self.signer.signed(ev, &s.before);
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
                        (b, a),
                        dirty,
                        row,
                    );
                    return;
                }
                let opens = next.is_some_and(|e| e.flags & CONTINUES != 0) && step.is_some();
                if opens {
                    self.step_rows.clone_from(&self.prev_rows);
                }
                let (pb, pa) = self.prev_rows.split_at_mut(d);
                level_ofi_side(pb, b, dirty[0], row);
                level_ofi_side(pa, a, dirty[1], row);
                if opens {
                    self.step_acc.clear();
                    self.step_acc.extend_from_slice(row);
                    self.step_open = true;
                }
            }
        }
    }
}
