//! What both book classes share: the streaming step (every named method
//! builds an event and calls [`lobkit_core::Instrument::apply`]), detectors,
//! readers, and the read side (best prices, levels, signals). PyO3 allows
//! one `#[pymethods]` block per class, so the shared methods are a macro that
//! each class instantiates with its own extra methods.

use super::grid::Grid;
use lobkit_core::{L2Book, LevelChange, Side};
use numpy::PyArrayMethods;
use pyo3::prelude::*;

/// Top `n` levels of one side as a (k, 2) array: int64 ticks/lots when
/// `grid` is None, float64 price/size units otherwise.
pub(crate) fn levels_array<'py>(
    py: Python<'py>,
    l2: &L2Book,
    side: Side,
    n: usize,
    grid: Option<Grid>,
) -> PyResult<Bound<'py, PyAny>> {
    let lv = l2.levels(side, n);
    Ok(match grid {
        None => {
            let flat: Vec<i64> = lv.iter().flat_map(|&(p, q)| [p, q]).collect();
            numpy::PyArray1::from_vec(py, flat)
                .reshape([lv.len(), 2])?
                .into_any()
        }
        Some(g) => {
            let flat: Vec<f64> = lv.iter().flat_map(|&(p, q)| [g.px(p), g.sz(q)]).collect();
            numpy::PyArray1::from_vec(py, flat)
                .reshape([lv.len(), 2])?
                .into_any()
        }
    })
}

/// The last level change an event made, with named fields (ticks / lots).
#[pyclass(frozen, eq, module = "lobkit._core", name = "LevelChange")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PyLevelChange {
    c: LevelChange,
}

impl PyLevelChange {
    pub(crate) fn new(c: LevelChange) -> Self {
        PyLevelChange { c }
    }
}

#[pymethods]
impl PyLevelChange {
    /// 1 bid, -1 ask.
    #[getter]
    fn side(&self) -> i8 {
        self.c.side
    }
    /// Price of the level that changed (ticks).
    #[getter]
    fn price_ticks(&self) -> i64 {
        self.c.price
    }
    /// Its size before the event (lots).
    #[getter]
    fn prev_size_lots(&self) -> i64 {
        self.c.prev_qty
    }
    /// Its size after the event (lots; 0 = the level is gone).
    #[getter]
    fn new_size_lots(&self) -> i64 {
        self.c.new_qty
    }
    /// That side's best price before the event (ticks; 0 when empty).
    #[getter]
    fn prev_best_price_ticks(&self) -> i64 {
        self.c.prev_best_price
    }
    /// That side's best size before the event (lots; 0 when empty).
    #[getter]
    fn prev_best_size_lots(&self) -> i64 {
        self.c.prev_best_qty
    }
    /// That side's best price after the event (ticks; 0 when empty).
    #[getter]
    fn new_best_price_ticks(&self) -> i64 {
        self.c.new_best_price
    }
    /// That side's best size after the event (lots; 0 when empty).
    #[getter]
    fn new_best_size_lots(&self) -> i64 {
        self.c.new_best_qty
    }
    /// True when the side's best price or size changed.
    #[getter]
    fn best_changed(&self) -> bool {
        self.c.best_changed()
    }
    /// (side, price, prev_size, new_size, prev_best_price, prev_best_size,
    /// new_best_price, new_best_size) in ticks/lots.
    fn as_tuple(&self) -> (i8, i64, i64, i64, i64, i64, i64, i64) {
        let c = &self.c;
        (
            c.side,
            c.price,
            c.prev_qty,
            c.new_qty,
            c.prev_best_price,
            c.prev_best_qty,
            c.new_best_price,
            c.new_best_qty,
        )
    }
    fn __repr__(&self) -> String {
        let c = &self.c;
        format!(
            "LevelChange(side={}, price_ticks={}, prev_size_lots={}, new_size_lots={}, \
             prev_best=({}, {}), new_best=({}, {}))",
            c.side,
            c.price,
            c.prev_qty,
            c.new_qty,
            c.prev_best_price,
            c.prev_best_qty,
            c.new_best_price,
            c.new_best_qty
        )
    }
}

/// The methods both book classes share; `$extra` adds the class's own.
macro_rules! book_class {
    ($ty:ident, $pickle_kind:literal, { $($extra:tt)* }) => {
        impl $ty {
            /// The grid (engine and replay results convert with it).
            pub(crate) fn grid(&self) -> $crate::books::grid::Grid {
                self.grid
            }

            /// `ts` given, or the last event's (so a call without `ts=`
            /// never trips the timestamp order check).
            #[inline]
            fn ts_or_last(&self, py: Python<'_>, ts: Option<$crate::args::Wide>) -> PyResult<i64> {
                match ts {
                    None => Ok(self.inst.last_ts()),
                    Some(t) if t.overflow => {
                        let index = self.inst.events();
                        Err($crate::errors::edge_error(py, $crate::errors::code::TIMESTAMP_ORDER,
                            format!("event {index}: ts is outside the int64 nanosecond range"), Some(index), "ts"))
                    }
                    Some(t) => Ok(t.v),
                }
            }

            /// The one streaming step: `ev` through the instrument (flow,
            /// count, last change, detectors, publication). True when a best
            /// changed. On error the book is unchanged and the exception
            /// names the book's event count.
            #[inline]
            fn feed(&mut self, ev: lobkit_core::Event) -> PyResult<bool> {
                let index = self.inst.events();
                Ok(self.inst.apply(&ev).at(index)?.best_changed())
            }

            /// A CLEAR of `side` (None = both) as one event.
            fn clear_side(&mut self, py: Python<'_>, side: Option<&Bound<'_, PyAny>>, ts: Option<$crate::args::Wide>) -> PyResult<()> {
                let s = side.map(|s| $crate::books::grid::side_arg(py, s, self.inst.events())).transpose()?;
                let ev = lobkit_core::Event::new(self.ts_or_last(py, ts)?, lobkit_core::kind::CLEAR, s.map_or(0, |s| s as i8), 0, 0, 0);
                self.feed(ev).map(|_| ())
            }
        }

        #[pymethods]
        impl $ty {
            /// Turns the detectors on for this book (options as in
            /// `lobkit.detect.DEFAULTS`); their state then carries across
            /// every streaming call and bulk replay with `detect=`.
            #[pyo3(signature = (options=None))]
            fn _enable_detect(&mut self, options: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<()> {
                let cfg = $crate::detect::detect_config(options)?;
                self.inst.enable_detectors(cfg);
                Ok(())
            }

            /// True when detectors are on.
            #[getter]
            fn detecting(&self) -> bool { self.inst.detectors().is_some() }

            /// The running detectors' options (every name of
            /// `lobkit.detect.OPTIONS`), or None when detectors are off.
            #[getter]
            fn detect_config<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
                self.inst.detectors().map(|d| $crate::detect::config_dict(py, d.config())).transpose()
            }

            /// Alerts raised since the last call (dict of columns; see
            /// `lobkit.detect`), and clears them.
            fn _take_alerts<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
                let a = self.inst.take_alerts();
                $crate::detect::alerts_dict(py, &a)
            }

            /// Raises the alerts the detectors hold for a later event (end
            /// of a stream); returns how many. Take them with `_take_alerts`.
            fn _flush_detect(&mut self) -> usize {
                self.inst.flush_detectors()
            }

            /// One event in ticks/lots/ns through the book's one step
            /// (timestamp order checked, signals, detectors, publication).
            /// `kind` is a `lobkit.Kind` code; `ts` defaults to the last
            /// event's, as for the named methods. Returns True when a best changed.
            #[pyo3(signature = (kind, side, price, size, order_id=0, ts=None))]
            #[allow(clippy::too_many_arguments)]
            fn apply_event(&mut self, py: Python<'_>, kind: $crate::args::Wide, side: $crate::args::Wide, price: $crate::args::Wide, size: $crate::args::Wide, order_id: u64, ts: Option<$crate::args::Wide>) -> PyResult<bool> {
                let (kind, side, price, size) = (kind.v, side.v, price.v, size.v);
                // Out-of-range codes are the book's typed errors, not an
                // OverflowError from the integer conversion.
                let Ok(kind) = u8::try_from(kind) else {
                    let index = self.inst.events();
                    return Err($crate::errors::edge_error(py, $crate::errors::code::INVALID_KIND,
                        format!("event {index}: kind={kind} is not a lobkit.Kind code"), Some(index), "kind"));
                };
                let ts = self.ts_or_last(py, ts)?;
                let side = $crate::books::grid::side_i8(side);
                self.feed(lobkit_core::Event::new(ts, kind, side, price, size, order_id))
            }

            /// Applies an `EVENT_DTYPE` array (one feed message, a batch, a
            /// single event) and publishes once at its end, so readers never
            /// see it half applied. Validation and errors as `replay`:
            /// `on_error="raise"` applies all or nothing (the exception's
            /// `index` is the position in `events`), `"skip"` applies the
            /// valid events. Returns the number applied. Keeps the
            /// interpreter: for millions of events use `lobkit.replay`
            /// (per-event outputs, progress, Ctrl-C).
            #[pyo3(signature = (events, *, on_error="raise"))]
            fn apply(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>, on_error: &str) -> PyResult<u64> {
                let skip = match on_error {
                    "raise" => false,
                    "skip" => true,
                    _ => return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "on_error={on_error:?}: expected 'raise' or 'skip'"))),
                };
                let inst = &mut self.inst;
                $crate::arrays::with_event_slice(py, "events", events, |evs| {
                    inst.apply_events(evs, skip)
                        .map(|a| a.applied)
                        .map_err(|e| $crate::errors::to_pyerr(py, &e))
                })
            }

            /// A lock-free reader of this book's snapshots (top `levels` per
            /// side, signals, sequence number), usable from any thread. The
            /// first call turns publication on: from then on every event
            /// (and every bulk call, at its end) publishes a snapshot, which
            /// never waits for readers.
            #[pyo3(signature = (levels=$crate::args::Wide::of(10)), text_signature = "($self, levels=10)")]
            fn reader(&mut self, levels: $crate::args::Wide) -> PyResult<$crate::publish::PyReader> {
                let grid = self.grid;
                $crate::publish::new_reader(levels, grid, |n| self.inst.reader(n))
            }

            /// Price units per tick.
            #[getter]
            fn tick_size(&self) -> f64 { self.grid.tick }
            /// Size units per lot.
            #[getter]
            fn lot_size(&self) -> f64 { self.grid.lot }
            /// Events applied so far (streaming and bulk; failed and skipped
            /// events are not counted).
            #[getter]
            fn events(&self) -> u64 { self.inst.events() }
            /// Timestamp of the last applied event (ns; 0 before any).
            #[getter]
            fn last_ts(&self) -> i64 { self.inst.last_ts() }
            /// Best bid price in price units, or None.
            #[getter]
            fn best_bid_price(&self) -> Option<f64> { self.inst.levels().best_bid().map(|(p, _)| self.grid.px(p)) }
            /// Best ask price in price units, or None.
            #[getter]
            fn best_ask_price(&self) -> Option<f64> { self.inst.levels().best_ask().map(|(p, _)| self.grid.px(p)) }
            /// Size at the best bid in size units (0.0 when empty).
            #[getter]
            fn best_bid_size(&self) -> f64 { self.inst.levels().best_bid().map_or(0.0, |(_, q)| self.grid.sz(q)) }
            /// Size at the best ask in size units (0.0 when empty).
            #[getter]
            fn best_ask_size(&self) -> f64 { self.inst.levels().best_ask().map_or(0.0, |(_, q)| self.grid.sz(q)) }
            /// Best bid price in ticks, or None.
            #[getter]
            fn best_bid_ticks(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
                match self.inst.levels().best_bid() {
                    Some((p, _)) => self.ints.get(py, 0, p, || Ok(p.into_pyobject(py)?.into_any())).map(|o| Some(o.unbind())),
                    None => Ok(None),
                }
            }
            /// Best ask price in ticks, or None.
            #[getter]
            fn best_ask_ticks(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
                match self.inst.levels().best_ask() {
                    Some((p, _)) => self.ints.get(py, 1, p, || Ok(p.into_pyobject(py)?.into_any())).map(|o| Some(o.unbind())),
                    None => Ok(None),
                }
            }
            /// Size at the best bid in lots (0 when empty).
            #[getter]
            fn best_bid_lots(&self) -> i64 { self.inst.levels().best_bid().map_or(0, |(_, q)| q) }
            /// Size at the best ask in lots (0 when empty).
            #[getter]
            fn best_ask_lots(&self) -> i64 { self.inst.levels().best_ask().map_or(0, |(_, q)| q) }
            /// (price, size) of the best bid in price/size units, or None.
            #[getter]
            fn best_bid<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyTuple>>> { let (lv, g) = (self.inst.levels().best_bid(), self.grid); lv.map(|(p, q)| self.pairs.get(py, 0, (p, q), || $crate::books::grid::float_pair(py, g.px(p), g.sz(q)))).transpose() }
            /// (price, size) of the best ask in price/size units, or None.
            #[getter]
            fn best_ask<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyTuple>>> { let (lv, g) = (self.inst.levels().best_ask(), self.grid); lv.map(|(p, q)| self.pairs.get(py, 1, (p, q), || $crate::books::grid::float_pair(py, g.px(p), g.sz(q)))).transpose() }
            /// Best ask minus best bid in ticks, or None when a side is empty.
            #[getter]
            fn spread_ticks(&self) -> Option<i64> {
                let v = self.inst.levels();
                Some(v.best_ask()?.0 - v.best_bid()?.0)
            }
            /// Best ask minus best bid in price units, or None.
            #[getter]
            fn spread(&self) -> Option<f64> { self.spread_ticks().map(|s| self.grid.px(s)) }
            /// (best bid + best ask) / 2 in price units, or None.
            #[getter]
            fn mid(&self) -> Option<f64> {
                let v = self.inst.levels();
                Some(self.grid.px(v.best_ask()?.0 + v.best_bid()?.0) * 0.5)
            }
            /// Level-1 queue imbalance (qb - qa)/(qb + qa), in [-1, 1]; 0 when
            /// both sides are empty. Positive = more resting buy interest.
            #[getter]
            fn imbalance(&self) -> f64 {
                let t = self.inst.flow().top;
                lobkit_core::signals::imbalance::queue_imbalance(t.bid_qty, t.ask_qty)
            }
            /// Size-weighted mid (Pb·qa + Pa·qb)/(qb + qa) in price units, or None.
            #[getter]
            fn weighted_mid(&self) -> Option<f64> {
                lobkit_core::signals::imbalance::weighted_mid(&self.inst.flow().top).map(|t| self.grid.px_f(t))
            }
            /// Cont–Kukanov–Stoikov (2014) OFI e_n of the last event, size units
            /// (positive = buying pressure).
            #[getter]
            fn ofi(&self) -> f64 { self.grid.sz(self.inst.flow().last) }
            /// OFI summed over every event this book has applied (streaming and
            /// bulk), size units.
            #[getter]
            fn ofi_total(&self) -> f64 { self.grid.sz(self.inst.flow().total) }
            /// Message-accounting OFI (CKS 2014 eq. 4) of the last event:
            /// arrivals minus cancels and fills at or inside the touch, in
            /// size units (visible book; hidden prints with `ofi_msg_hidden`).
            #[getter]
            fn ofi_msg(&self) -> f64 { self.grid.sz(self.inst.flow().msg_last) }
            /// Running sum of `ofi_msg` since the book was made, size units.
            #[getter]
            fn ofi_msg_total(&self) -> f64 { self.grid.sz(self.inst.flow().msg_total) }
            /// Depth imbalance over the best `n` levels of each side, in [-1, 1].
            #[pyo3(signature = (n=10))]
            fn depth_imbalance(&self, n: usize) -> f64 { lobkit_core::signals::imbalance::depth_imbalance(self.inst.levels(), n) }
            /// Imbalance with level k (0 = best) weighted exp(-decay·k), over `n` levels.
            #[pyo3(signature = (n=10, decay=0.5))]
            fn weighted_imbalance(&self, n: usize, decay: f64) -> f64 { lobkit_core::signals::imbalance::weighted_imbalance(self.inst.levels(), n, decay) }
            /// Imbalance of the size within `band` price units of the mid on each side.
            fn band_imbalance(&self, py: Python<'_>, band: f64) -> PyResult<f64> {
                let b = self.grid.price(py, band, self.inst.events())?;
                Ok(lobkit_core::signals::imbalance::band_imbalance(self.inst.levels(), b))
            }
            /// Number of bid levels.
            #[getter]
            fn n_bids(&self) -> usize { self.inst.levels().len(lobkit_core::Side::Bid) }
            /// Number of ask levels.
            #[getter]
            fn n_asks(&self) -> usize { self.inst.levels().len(lobkit_core::Side::Ask) }
            /// Top `n` bid levels, best first: (k, 2) array of [price, size]
            /// (float64 in price/size units, or int64 ticks/lots with ticks=True).
            #[pyo3(signature = (n=10, *, ticks=false))]
            fn bids<'py>(&self, py: Python<'py>, n: usize, ticks: bool) -> PyResult<Bound<'py, PyAny>> {
                $crate::books::view::levels_array(py, self.inst.levels(), lobkit_core::Side::Bid, n, (!ticks).then_some(self.grid))
            }
            /// Top `n` ask levels, best first (see `bids`).
            #[pyo3(signature = (n=10, *, ticks=false))]
            fn asks<'py>(&self, py: Python<'py>, n: usize, ticks: bool) -> PyResult<Bound<'py, PyAny>> {
                $crate::books::view::levels_array(py, self.inst.levels(), lobkit_core::Side::Ask, n, (!ticks).then_some(self.grid))
            }
            /// Size summed over the best `n` levels of `side` (size units).
            #[pyo3(signature = (side, n=10))]
            fn depth(&self, py: Python<'_>, side: &Bound<'_, PyAny>, n: usize) -> PyResult<f64> {
                let s = $crate::books::grid::side_arg(py, side, self.inst.events())?;
                Ok(self.grid.sz(self.inst.levels().depth(s, n)))
            }
            /// Size (size units) on `side` within `band` price units of that side's best, inclusive.
            fn depth_within(&self, py: Python<'_>, side: &Bound<'_, PyAny>, band: f64) -> PyResult<f64> {
                let s = $crate::books::grid::side_arg(py, side, self.inst.events())?;
                let b = (band / self.grid.tick + 1e-9).floor() as i64;
                Ok(self.grid.sz(self.inst.levels().depth_within(s, b)))
            }
            /// Size in size units at `price` on `side` (0.0 when empty).
            fn size_at(&self, py: Python<'_>, side: &Bound<'_, PyAny>, price: f64) -> PyResult<f64> {
                let s = $crate::books::grid::side_arg(py, side, self.inst.events())?;
                let p = self.grid.price(py, price, self.inst.events())?;
                Ok(self.grid.sz(self.inst.levels().qty_at(s, p)))
            }
            /// Policy counters: events, crossed, anonymous_fills, unmatched_qty (lots), unknown_ids.
            #[getter]
            fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
                let s = self.inst.levels().stats;
                let d = pyo3::types::PyDict::new(py);
                d.set_item("events", self.inst.events())?;
                d.set_item("crossed", s.crossed)?;
                d.set_item("anonymous_fills", s.anonymous_fills)?;
                d.set_item("unmatched_qty", s.unmatched_qty)?;
                d.set_item("unknown_ids", s.unknown_ids)?;
                Ok(d)
            }
            /// The last level change any event made (a `LevelChange` with
            /// named fields in ticks/lots), None before the first. A CLEAR,
            /// TRADE or HALT makes none and leaves it as it was.
            #[getter]
            fn last_change(&self) -> Option<$crate::books::view::PyLevelChange> {
                self.inst.last_change().map($crate::books::view::PyLevelChange::new)
            }
            /// Crossing policy: 'allow' (counted in stats) or 'reject'.
            #[getter]
            fn cross_policy(&self) -> &'static str { $crate::books::grid::cross_name(self.inst.levels().cross_policy) }
            /// Pickle support: the versioned byte state of `lobkit_core`
            /// plus the grid and the event count.
            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<$crate::books::pickle::Reduced<'py>> {
                $crate::books::pickle::reduce(py, $pickle_kind, self.grid, self.inst.events(), &self.inst.book().to_bytes())
            }
            /// A deep copy of the book and its flow state (without detectors or readers).
            fn copy(&self) -> Self {
                $ty::from_instrument(self.inst.copy_state(), self.grid)
            }
            fn __repr__(&self) -> String {
                let v = self.inst.levels();
                let fmt = |x: Option<(i64, i64)>| x.map_or("-".to_string(), |(p, q)| format!("{}x{}", self.grid.px(p), self.grid.sz(q)));
                format!(
                    "{}(bid={}, ask={}, levels={}/{}, events={}, tick_size={}, lot_size={})",
                    stringify!($ty).trim_start_matches("Py"),
                    fmt(v.best_bid()), fmt(v.best_ask()), v.len(lobkit_core::Side::Bid), v.len(lobkit_core::Side::Ask),
                    self.inst.events(), self.grid.tick, self.grid.lot
                )
            }
            $($extra)*
        }
    };
}

pub(crate) use book_class;
