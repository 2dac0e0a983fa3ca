//! `L2Book` / `L3Book` Python classes and the bulk replay entry points.

use crate::arrays::{guard, output_dict};
use crate::errors::{custom, kind_to_pyerr, to_pyerr};
use lobkit_core::bulk::{self, OnError, ReplayConfig, ReplayError};
use lobkit_core::detect::{Alert, Ctx, Detectors};
use lobkit_core::publish::{channel, Publisher};
use lobkit_core::signals::flow::Flow;
use lobkit_core::signals::imbalance::{
    band_imbalance, depth_imbalance, queue_imbalance, weighted_imbalance, weighted_mid,
};
use lobkit_core::signals::trade_flow::TradeSign;
use lobkit_core::signals::Top;
use lobkit_core::units::to_steps;
use lobkit_core::{
    Changes, CrossPolicy, ErrorKind, L2Book, L3Book, LevelChange, Side, UnknownIdPolicy,
};
use numpy::PyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

/// Side argument: 1 / -1, or "bid"/"b"/"buy" / "ask"/"a"/"sell".
fn side_arg(py: Python<'_>, obj: &Bound<'_, PyAny>, index: u64) -> PyResult<Side> {
    if let Ok(v) = obj.extract::<i64>() {
        if let Some(s) = Side::from_i8(v.clamp(-128, 127) as i8).filter(|_| v == 1 || v == -1) {
            return Ok(s);
        }
        return Err(custom(
            py,
            0,
            format!("event {index}: side={v} is not 1 (bid) or -1 (ask)"),
            Some(index),
            "side",
        ));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        match s.to_str()?.to_ascii_lowercase().as_str() {
            "bid" | "b" | "buy" | "bids" => return Ok(Side::Bid),
            "ask" | "a" | "sell" | "asks" | "offer" => return Ok(Side::Ask),
            _ => {}
        }
    }
    Err(custom(
        py,
        0,
        format!(
            "event {index}: side={} is not 1/'bid' or -1/'ask'",
            obj.repr()?
        ),
        Some(index),
        "side",
    ))
}

/// Integer side argument of the `*_ticks` hot paths: exactly 1 or -1.
#[inline]
fn side_ticks(py: Python<'_>, side: i64, index: u64) -> PyResult<Side> {
    match side {
        1 => Ok(Side::Bid),
        -1 => Ok(Side::Ask),
        v => Err(kind_to_pyerr(
            py,
            ErrorKind::InvalidSide {
                value: v.clamp(-128, 127) as i8,
            },
            index,
        )),
    }
}

fn policy_cross(p: &str) -> PyResult<CrossPolicy> {
    match p {
        "allow" => Ok(CrossPolicy::Allow),
        "reject" => Ok(CrossPolicy::Reject),
        _ => Err(PyValueError::new_err(format!(
            "cross_policy={p:?}: expected 'allow' or 'reject'"
        ))),
    }
}

fn policy_unknown(p: &str) -> PyResult<UnknownIdPolicy> {
    match p {
        "error" => Ok(UnknownIdPolicy::Error),
        "anonymous" => Ok(UnknownIdPolicy::Anonymous),
        "skip" => Ok(UnknownIdPolicy::Skip),
        _ => Err(PyValueError::new_err(format!(
            "unknown_id={p:?}: expected 'error', 'anonymous' or 'skip'"
        ))),
    }
}

fn cross_name(p: CrossPolicy) -> &'static str {
    match p {
        CrossPolicy::Allow => "allow",
        CrossPolicy::Reject => "reject",
    }
}

/// Grid conversion shared by both books.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    tick: f64,
    lot: f64,
    /// 1/tick and 1/lot when they are integers (decimal grids such as 0.01):
    /// dividing by them gives the correctly rounded float (575.93, not the
    /// 575.9300000000001 that multiplying by 0.0001 gives).
    inv_tick: Option<f64>,
    inv_lot: Option<f64>,
}

fn exact_inverse(step: f64) -> Option<f64> {
    let inv = 1.0 / step;
    let r = inv.round();
    (r >= 1.0 && (inv - r).abs() <= 1e-9 * r).then_some(r)
}

impl Grid {
    fn new(tick: f64, lot: f64) -> PyResult<Grid> {
        if !(tick.is_finite() && tick > 0.0) {
            return Err(PyValueError::new_err(format!(
                "tick_size={tick}: must be a positive finite number"
            )));
        }
        if !(lot.is_finite() && lot > 0.0) {
            return Err(PyValueError::new_err(format!(
                "lot_size={lot}: must be a positive finite number"
            )));
        }
        Ok(Grid {
            tick,
            lot,
            inv_tick: exact_inverse(tick),
            inv_lot: exact_inverse(lot),
        })
    }

    /// Ticks to price units.
    #[inline]
    pub(crate) fn px(&self, ticks: i64) -> f64 {
        self.px_f(ticks as f64)
    }

    /// Fractional ticks (a weighted mid) to price units, same rounding as `px`.
    #[inline]
    pub(crate) fn px_f(&self, ticks: f64) -> f64 {
        match self.inv_tick {
            Some(inv) => ticks / inv,
            None => ticks * self.tick,
        }
    }

    /// Lots to size units.
    #[inline]
    pub(crate) fn sz(&self, lots: i64) -> f64 {
        match self.inv_lot {
            Some(inv) => lots as f64 / inv,
            None => lots as f64 * self.lot,
        }
    }

    /// (side, price, size) of a float-valued streaming call, on the grid.
    fn level(
        &self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
        index: u64,
    ) -> PyResult<(Side, i64, i64)> {
        Ok((
            side_arg(py, side, index)?,
            self.price(py, price, index)?,
            self.size(py, size, index)?,
        ))
    }

    fn price(&self, py: Python<'_>, p: f64, index: u64) -> PyResult<i64> {
        to_steps(p, self.tick).map_err(|why| {
            custom(
                py,
                2,
                format!(
                    "event {index}: price={p} is invalid for tick_size={}: {why}",
                    self.tick
                ),
                Some(index),
                "price",
            )
        })
    }

    fn size(&self, py: Python<'_>, q: f64, index: u64) -> PyResult<i64> {
        if q < 0.0 {
            return Err(custom(
                py,
                3,
                format!("event {index}: size={q} is negative"),
                Some(index),
                "size",
            ));
        }
        to_steps(q, self.lot).map_err(|why| {
            custom(
                py,
                3,
                format!(
                    "event {index}: size={q} is invalid for lot_size={}: {why}",
                    self.lot
                ),
                Some(index),
                "size",
            )
        })
    }
}

fn levels_array<'py>(
    py: Python<'py>,
    l2: &L2Book,
    side: Side,
    n: usize,
    grid: Option<Grid>,
) -> Bound<'py, PyAny> {
    let lv = l2.levels(side, n);
    match grid {
        None => {
            let rows: Vec<Vec<i64>> = lv.iter().map(|&(p, q)| vec![p, q]).collect();
            if rows.is_empty() {
                return PyArray2::<i64>::zeros(py, [0, 2], false).into_any();
            }
            PyArray2::from_vec2(py, &rows).map_or_else(
                |_| PyArray2::<i64>::zeros(py, [0, 2], false).into_any(),
                |a| a.into_any(),
            )
        }
        Some(g) => {
            let rows: Vec<Vec<f64>> = lv.iter().map(|&(p, q)| vec![g.px(p), g.sz(q)]).collect();
            if rows.is_empty() {
                return PyArray2::<f64>::zeros(py, [0, 2], false).into_any();
            }
            PyArray2::from_vec2(py, &rows).map_or_else(
                |_| PyArray2::<f64>::zeros(py, [0, 2], false).into_any(),
                |a| a.into_any(),
            )
        }
    }
}

fn change_tuple(c: &LevelChange) -> (i8, i64, i64, i64, i64, i64, i64, i64) {
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

/// Read-side methods shared by both book classes. `$view` maps `&self` to the
/// `L2Book` view; the extra token tree adds class-specific methods.
macro_rules! book_class {
    ($ty:ident, $inner:ty, $view:expr, $is_l3:expr, { $($extra:tt)* }) => {
        impl $ty {
            /// A Python book around a core book, `seq` events already
            /// applied (constructors, unpickling, the engine's final books).
            pub(crate) fn from_parts(inner: $inner, grid: Grid, seq: u64) -> Self {
                let mut b = $ty {
                    inner,
                    grid,
                    last: None,
                    seq,
                    flow: Flow::default(),
                    publisher: None,
                    detectors: None,
                    pending_alerts: Vec::new(),
                };
                b.flow = Flow::of($view(&b));
                b
            }

            pub(crate) fn grid(&self) -> Grid {
                self.grid
            }

            /// Publishes the book to its readers, if it has any (after every
            /// streaming event and every bulk call).
            #[inline]
            fn publish_now(&mut self) {
                // Taken out and put back (a pointer move) so the book can be
                // borrowed while the publisher is written.
                if let Some(mut p) = self.publisher.take() {
                    let l2 = $view(&*self);
                    p.publish_book(l2, l2.last_ts, self.seq, &self.flow.values());
                    self.publisher = Some(p);
                }
            }
        }

        #[pymethods]
        impl $ty {
            /// A lock-free reader of this book's snapshots (top `levels` per
            /// side, signals, sequence number), usable from any thread. The
            /// first call turns publication on: from then on every event
            /// (and every bulk call, at its end) publishes a snapshot, which
            /// costs the writer a few tens of ns and never waits for readers.
            /// Turns the detectors on for this book (options as in
            /// `lobkit.detect.DEFAULTS`); their state then carries across
            /// `apply_event` calls and bulk replays with `detect=`.
            #[pyo3(signature = (options=None))]
            fn _enable_detect(&mut self, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
                let cfg = crate::detect::detect_config(options)?;
                self.detectors = Some(Box::new(Detectors::new(cfg, $is_l3)));
                Ok(())
            }

            /// True when detectors are on.
            #[getter]
            fn detecting(&self) -> bool { self.detectors.is_some() }

            /// Alerts raised since the last call (dict of columns; see
            /// `lobkit.detect`), and clears them.
            fn _take_alerts<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let a = std::mem::take(&mut self.pending_alerts);
                crate::detect::alerts_dict(py, &a)
            }

            /// One event in ticks/lots through the same path as bulk replay
            /// (timestamp order checked, signals, detectors, publication).
            /// `kind` is a `lobkit.Kind` code. Returns True when a best changed.
            #[pyo3(signature = (kind, side, price, size, order_id=0, ts=0))]
            #[allow(clippy::too_many_arguments)]
            fn apply_event(&mut self, py: Python<'_>, kind: u8, side: i8, price: i64, size: i64, order_id: u64, ts: i64) -> PyResult<bool> {
                let ev = lobkit_core::Event::new(ts, kind, side, price, size, order_id);
                let before = self.flow.top;
                let ch = bulk::check_and_apply(&mut self.inner, &ev, true)
                    .map_err(|k| kind_to_pyerr(py, k, self.seq))?;
                let index = self.seq;
                self.seq += 1;
                let mut flow = self.flow;
                flow.step($view(&*self), &ch);
                self.flow = flow;
                if let Some(mut d) = self.detectors.take() {
                    let mut pend = std::mem::take(&mut self.pending_alerts);
                    let cx = Ctx { ev: &ev, index, changes: &ch, before: &before, l2: $view(&*self) };
                    d.on_event(&cx, &mut pend);
                    self.pending_alerts = pend;
                    self.detectors = Some(d);
                }
                self.publish_now();
                let changed = ch.first.is_some_and(|c| c.best_changed()) || ch.second.is_some_and(|c| c.best_changed());
                Ok(changed)
            }

            #[pyo3(signature = (levels=10))]
            fn reader(&mut self, levels: usize) -> PyResult<crate::engine::PyReader> {
                if let Some(p) = &self.publisher {
                    if p.levels() != levels {
                        return Err(PyValueError::new_err(format!(
                            "levels={levels}: this book already publishes {} levels", p.levels()
                        )));
                    }
                } else {
                    if levels == 0 || levels > 4096 {
                        return Err(PyValueError::new_err(format!("levels={levels}: must be within 1..4096")));
                    }
                    self.publisher = Some(Box::new(channel(levels).0));
                    self.publish_now();
                }
                let r = self.publisher.as_ref().map(|p| p.reader());
                r.map(|r| crate::engine::PyReader::new(r, self.grid))
                    .ok_or_else(|| PyValueError::new_err("no publisher"))
            }

            /// Price units per tick.
            #[getter]
            fn tick_size(&self) -> f64 { self.grid.tick }
            /// Size units per lot.
            #[getter]
            fn lot_size(&self) -> f64 { self.grid.lot }
            /// Events applied so far (streaming and bulk).
            #[getter]
            fn events(&self) -> u64 { self.seq }
            /// Best bid price in price units, or None.
            #[getter]
            fn best_bid_price(&self) -> Option<f64> { $view(self).best_bid().map(|(p, _)| self.grid.px(p)) }
            /// Best ask price in price units, or None.
            #[getter]
            fn best_ask_price(&self) -> Option<f64> { $view(self).best_ask().map(|(p, _)| self.grid.px(p)) }
            /// Size at the best bid in size units (0.0 when empty).
            #[getter]
            fn best_bid_size(&self) -> f64 { $view(self).best_bid().map_or(0.0, |(_, q)| self.grid.sz(q)) }
            /// Size at the best ask in size units (0.0 when empty).
            #[getter]
            fn best_ask_size(&self) -> f64 { $view(self).best_ask().map_or(0.0, |(_, q)| self.grid.sz(q)) }
            /// Best bid price in ticks, or None.
            #[getter]
            fn best_bid_ticks(&self) -> Option<i64> { $view(self).best_bid().map(|(p, _)| p) }
            /// Best ask price in ticks, or None.
            #[getter]
            fn best_ask_ticks(&self) -> Option<i64> { $view(self).best_ask().map(|(p, _)| p) }
            /// Size at the best bid in lots (0 when empty).
            #[getter]
            fn best_bid_lots(&self) -> i64 { $view(self).best_bid().map_or(0, |(_, q)| q) }
            /// Size at the best ask in lots (0 when empty).
            #[getter]
            fn best_ask_lots(&self) -> i64 { $view(self).best_ask().map_or(0, |(_, q)| q) }
            /// (price, size) of the best bid in price/size units, or None.
            #[getter]
            fn best_bid(&self) -> Option<(f64, f64)> { $view(self).best_bid().map(|(p, q)| (self.grid.px(p), self.grid.sz(q))) }
            /// (price, size) of the best ask in price/size units, or None.
            #[getter]
            fn best_ask(&self) -> Option<(f64, f64)> { $view(self).best_ask().map(|(p, q)| (self.grid.px(p), self.grid.sz(q))) }
            /// Best ask minus best bid in ticks, or None when a side is empty.
            #[getter]
            fn spread_ticks(&self) -> Option<i64> {
                let v = $view(self);
                Some(v.best_ask()?.0 - v.best_bid()?.0)
            }
            /// Best ask minus best bid in price units, or None.
            #[getter]
            fn spread(&self) -> Option<f64> { self.spread_ticks().map(|s| self.grid.px(s)) }
            /// (best bid + best ask) / 2 in price units, or None.
            #[getter]
            fn mid(&self) -> Option<f64> {
                let v = $view(self);
                Some(self.grid.px(v.best_ask()?.0 + v.best_bid()?.0) * 0.5)
            }
            /// Level-1 queue imbalance (qb - qa)/(qb + qa), in [-1, 1]; 0 when
            /// both sides are empty. Positive = more resting buy interest.
            #[getter]
            fn imbalance(&self) -> f64 {
                let v = $view(self);
                queue_imbalance(v.best_bid().map_or(0, |x| x.1), v.best_ask().map_or(0, |x| x.1))
            }
            /// Size-weighted mid (Pb·qa + Pa·qb)/(qb + qa) in price units, or None.
            #[getter]
            fn weighted_mid(&self) -> Option<f64> {
                weighted_mid(&Top::of($view(self))).map(|t| self.grid.px_f(t))
            }
            /// Cont–Kukanov–Stoikov (2014) OFI e_n of the last event, size units
            /// (positive = buying pressure).
            #[getter]
            fn ofi(&self) -> f64 { self.grid.sz(self.flow.last) }
            /// OFI summed over every event this book has applied (streaming and
            /// bulk), size units.
            #[getter]
            fn ofi_total(&self) -> f64 { self.grid.sz(self.flow.total) }
            /// Message-accounting OFI (CKS 2014 eq. 4) of the last event:
            /// arrivals minus cancels and fills at or inside the touch, in
            /// size units (visible book; hidden prints only in bulk replay).
            #[getter]
            fn ofi_msg(&self) -> f64 { self.grid.sz(self.flow.msg_last) }
            /// Running sum of `ofi_msg` since the book was made, size units.
            #[getter]
            fn ofi_msg_total(&self) -> f64 { self.grid.sz(self.flow.msg_total) }
            /// Depth imbalance over the best `n` levels of each side, in [-1, 1].
            #[pyo3(signature = (n=10))]
            fn depth_imbalance(&self, n: usize) -> f64 { depth_imbalance($view(self), n) }
            /// Imbalance with level k (0 = best) weighted exp(-decay·k), over `n` levels.
            #[pyo3(signature = (n=10, decay=0.5))]
            fn weighted_imbalance(&self, n: usize, decay: f64) -> f64 { weighted_imbalance($view(self), n, decay) }
            /// Imbalance of the size within `band` price units of the mid on each side.
            fn band_imbalance(&self, py: Python<'_>, band: f64) -> PyResult<f64> {
                let b = self.grid.price(py, band, self.seq)?;
                Ok(band_imbalance($view(self), b))
            }
            /// Number of bid levels.
            #[getter]
            fn n_bids(&self) -> usize { $view(self).len(Side::Bid) }
            /// Number of ask levels.
            #[getter]
            fn n_asks(&self) -> usize { $view(self).len(Side::Ask) }
            /// Top `n` bid levels, best first: (k, 2) array of [price, size]
            /// (float64 in price/size units, or int64 ticks/lots with ticks=True).
            #[pyo3(signature = (n=10, *, ticks=false))]
            fn bids<'py>(&self, py: Python<'py>, n: usize, ticks: bool) -> Bound<'py, PyAny> {
                levels_array(py, $view(self), Side::Bid, n, (!ticks).then_some(self.grid))
            }
            /// Top `n` ask levels, best first (see `bids`).
            #[pyo3(signature = (n=10, *, ticks=false))]
            fn asks<'py>(&self, py: Python<'py>, n: usize, ticks: bool) -> Bound<'py, PyAny> {
                levels_array(py, $view(self), Side::Ask, n, (!ticks).then_some(self.grid))
            }
            /// Size summed over the best `n` levels of `side` (size units).
            #[pyo3(signature = (side, n=10))]
            fn depth(&self, py: Python<'_>, side: &Bound<'_, PyAny>, n: usize) -> PyResult<f64> {
                let s = side_arg(py, side, self.seq)?;
                Ok(self.grid.sz($view(self).depth(s, n)))
            }
            /// Size (size units) on `side` within `band` price units of that side's best, inclusive.
            fn depth_within(&self, py: Python<'_>, side: &Bound<'_, PyAny>, band: f64) -> PyResult<f64> {
                let s = side_arg(py, side, self.seq)?;
                let b = (band / self.grid.tick + 1e-9).floor() as i64;
                Ok(self.grid.sz($view(self).depth_within(s, b)))
            }
            /// Size in size units at `price` on `side` (0.0 when empty).
            fn size_at(&self, py: Python<'_>, side: &Bound<'_, PyAny>, price: f64) -> PyResult<f64> {
                let s = side_arg(py, side, self.seq)?;
                let p = self.grid.price(py, price, self.seq)?;
                Ok(self.grid.sz($view(self).qty_at(s, p)))
            }
            /// Policy counters: events, crossed, anonymous_fills, unmatched_qty (lots), unknown_ids.
            #[getter]
            fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let s = $view(self).stats;
                let d = PyDict::new(py);
                d.set_item("events", self.seq)?;
                d.set_item("crossed", s.crossed)?;
                d.set_item("anonymous_fills", s.anonymous_fills)?;
                d.set_item("unmatched_qty", s.unmatched_qty)?;
                d.set_item("unknown_ids", s.unknown_ids)?;
                Ok(d)
            }
            /// The last level change as a tuple in ticks/lots:
            /// (side, price, prev_size, new_size, prev_best_price, prev_best_size,
            /// new_best_price, new_best_size); None before the first change.
            #[getter]
            fn last_change(&self) -> Option<(i8, i64, i64, i64, i64, i64, i64, i64)> {
                self.last.as_ref().map(change_tuple)
            }
            /// Crossing policy: 'allow' (counted in stats) or 'reject'.
            #[getter]
            fn cross_policy(&self) -> &'static str { cross_name($view(self).cross_policy) }
            fn __repr__(&self) -> String {
                let v = $view(self);
                let fmt = |x: Option<(i64, i64)>| x.map_or("-".to_string(), |(p, q)| format!("{}x{}", self.grid.px(p), self.grid.sz(q)));
                format!(
                    "{}(bid={}, ask={}, levels={}/{}, events={}, tick_size={}, lot_size={})",
                    stringify!($ty).trim_start_matches("Py"),
                    fmt(v.best_bid()), fmt(v.best_ask()), v.len(Side::Bid), v.len(Side::Ask),
                    self.seq, self.grid.tick, self.grid.lot
                )
            }
            $($extra)*
        }
    };
}

/// Price-level book. One writer: use from one thread at a time.
#[pyclass(module = "lobkit._core", name = "L2Book")]
#[derive(Debug)]
pub struct PyL2Book {
    pub inner: L2Book,
    grid: Grid,
    last: Option<LevelChange>,
    seq: u64,
    flow: Flow,
    publisher: Option<Box<Publisher>>,
    detectors: Option<Box<Detectors>>,
    pending_alerts: Vec<Alert>,
}

impl PyL2Book {
    #[inline]
    fn set(&mut self, py: Python<'_>, side: Side, p: i64, q: i64) -> PyResult<bool> {
        match self.inner.set_level(side, p, q) {
            Ok(c) => {
                self.seq += 1;
                self.flow.step(
                    &self.inner,
                    &Changes {
                        first: Some(c),
                        second: None,
                    },
                );
                self.publish_now();
                let changed = c.best_changed();
                self.last = Some(c);
                Ok(changed)
            }
            Err(k) => Err(kind_to_pyerr(py, k, self.seq)),
        }
    }
}

fn l2_view(b: &PyL2Book) -> &L2Book {
    &b.inner
}

book_class!(PyL2Book, L2Book, l2_view, false, {
    #[new]
    #[pyo3(signature = (*, tick_size=1.0, lot_size=1.0, cross_policy="allow"))]
    fn new(tick_size: f64, lot_size: f64, cross_policy: &str) -> PyResult<Self> {
        let mut inner = L2Book::new();
        inner.cross_policy = policy_cross(cross_policy)?;
        Ok(PyL2Book::from_parts(
            inner,
            Grid::new(tick_size, lot_size)?,
            0,
        ))
    }

    /// Sets the level at (side, price) to `size` (price/size units; 0 removes
    /// it). Off-grid values raise. Returns True when the side's best changed.
    fn update(
        &mut self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
    ) -> PyResult<bool> {
        let (s, p, q) = self.grid.level(py, side, price, size, self.seq)?;
        self.set(py, s, p, q)
    }

    /// Integer hot path: side 1/-1, price in ticks, size in lots.
    fn update_ticks(&mut self, py: Python<'_>, side: i64, price: i64, size: i64) -> PyResult<bool> {
        let s = side_ticks(py, side, self.seq)?;
        self.set(py, s, price, size)
    }

    /// Removes all levels of `side` (1/-1/'bid'/'ask'), or of both sides when None.
    #[pyo3(signature = (side=None))]
    fn clear(&mut self, py: Python<'_>, side: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let s = side.map(|s| side_arg(py, s, self.seq)).transpose()?;
        self.inner.clear(s);
        self.seq += 1;
        self.flow.step(&self.inner, &Changes::default());
        self.publish_now();
        Ok(())
    }

    /// Replaces the book with a snapshot: `bids`/`asks` are sequences of
    /// (price, size) in price/size units (ticks/lots with ticks=True).
    /// Everything is validated first; on error the book is unchanged.
    #[pyo3(signature = (bids, asks, *, ticks=false))]
    fn apply_snapshot(
        &mut self,
        py: Python<'_>,
        bids: Vec<(f64, f64)>,
        asks: Vec<(f64, f64)>,
        ticks: bool,
    ) -> PyResult<()> {
        let conv = |v: &[(f64, f64)]| -> PyResult<Vec<(i64, i64)>> {
            v.iter()
                .map(|&(p, q)| {
                    if ticks {
                        let pi = self.grid_int(py, p, "price")?;
                        let qi = self.grid_int(py, q, "size")?;
                        Ok((pi, qi))
                    } else {
                        Ok((
                            self.grid.price(py, p, self.seq)?,
                            self.grid.size(py, q, self.seq)?,
                        ))
                    }
                })
                .collect()
        };
        let b = conv(&bids)?;
        let a = conv(&asks)?;
        self.inner
            .apply_snapshot(&b, &a)
            .map_err(|k| kind_to_pyerr(py, k, self.seq))?;
        self.seq += 1;
        self.flow.step(&self.inner, &Changes::default());
        self.publish_now();
        Ok(())
    }

    /// Pickle support: the versioned byte state of `lobkit_core` plus the grid.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        reduce(py, 2, self.grid, self.seq, &self.inner.to_bytes())
    }

    /// A deep copy.
    fn copy(&self) -> Self {
        PyL2Book {
            inner: self.inner.clone(),
            grid: self.grid,
            last: self.last,
            seq: self.seq,
            flow: self.flow,
            publisher: None,
            detectors: None,
            pending_alerts: Vec::new(),
        }
    }
});

impl PyL2Book {
    fn grid_int(&self, py: Python<'_>, v: f64, field: &str) -> PyResult<i64> {
        if v.fract() != 0.0 || !v.is_finite() {
            let code = if field == "price" { 2 } else { 3 };
            return Err(custom(
                py,
                code,
                format!(
                    "event {}: {field}={v} is not an integer tick/lot count",
                    self.seq
                ),
                Some(self.seq),
                field,
            ));
        }
        Ok(v as i64)
    }
}

/// Order-by-order book. One writer: use from one thread at a time.
#[pyclass(module = "lobkit._core", name = "L3Book")]
#[derive(Debug)]
pub struct PyL3Book {
    pub inner: L3Book,
    grid: Grid,
    last: Option<LevelChange>,
    seq: u64,
    flow: Flow,
    publisher: Option<Box<Publisher>>,
    detectors: Option<Box<Detectors>>,
    pending_alerts: Vec<Alert>,
}

fn l3_view(b: &PyL3Book) -> &L2Book {
    b.inner.l2()
}

impl PyL3Book {
    /// Optional (side, price) that locate anonymous liquidity for unknown ids
    /// (0 when not given).
    fn hints(
        &self,
        py: Python<'_>,
        side: Option<&Bound<'_, PyAny>>,
        price: Option<f64>,
    ) -> PyResult<(i8, i64)> {
        let s = side
            .map(|s| side_arg(py, s, self.seq))
            .transpose()?
            .map_or(0, |s| s as i8);
        let p = price
            .map(|p| self.grid.price(py, p, self.seq))
            .transpose()?
            .unwrap_or(0);
        Ok((s, p))
    }

    #[inline]
    fn done(&mut self, py: Python<'_>, r: Result<Changes, ErrorKind>) -> PyResult<bool> {
        match r {
            Ok(c) => {
                self.seq += 1;
                self.flow.step(self.inner.l2(), &c);
                self.publish_now();
                let last = c.second.or(c.first);
                let changed = c.first.is_some_and(|c| c.best_changed())
                    || c.second.is_some_and(|c| c.best_changed());
                if last.is_some() {
                    self.last = last;
                }
                Ok(changed)
            }
            Err(k) => Err(kind_to_pyerr(py, k, self.seq)),
        }
    }
}

book_class!(PyL3Book, L3Book, l3_view, true, {
    #[new]
    #[pyo3(signature = (*, tick_size=1.0, lot_size=1.0, cross_policy="allow", unknown_id="error"))]
    fn new(tick_size: f64, lot_size: f64, cross_policy: &str, unknown_id: &str) -> PyResult<Self> {
        let mut inner = L3Book::new();
        inner.set_cross_policy(policy_cross(cross_policy)?);
        inner.unknown_id = policy_unknown(unknown_id)?;
        Ok(PyL3Book::from_parts(
            inner,
            Grid::new(tick_size, lot_size)?,
            0,
        ))
    }

    /// Unknown-id policy: 'error', 'anonymous' or 'skip'.
    #[getter]
    fn unknown_id(&self) -> &'static str {
        match self.inner.unknown_id {
            UnknownIdPolicy::Error => "error",
            UnknownIdPolicy::Anonymous => "anonymous",
            UnknownIdPolicy::Skip => "skip",
        }
    }

    /// New order at the back of its level. Returns True when a best changed.
    fn add(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
    ) -> PyResult<bool> {
        let (s, p, q) = self.grid.level(py, side, price, size, self.seq)?;
        let r = self.inner.add(order_id, s, p, q);
        self.done(py, r)
    }

    /// Integer hot path of `add` (side 1/-1, ticks, lots).
    fn add_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        side: i64,
        price: i64,
        size: i64,
    ) -> PyResult<bool> {
        let s = side_ticks(py, side, self.seq)?;
        let r = self.inner.add(order_id, s, price, size);
        self.done(py, r)
    }

    /// Removes `size` (size units) from an order, keeping its priority; the
    /// whole order when `size` is None. `side`/`price` locate anonymous
    /// liquidity for unknown ids under unknown_id='anonymous'.
    #[pyo3(signature = (order_id, size=None, *, side=None, price=None))]
    fn cancel(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: Option<f64>,
        side: Option<&Bound<'_, PyAny>>,
        price: Option<f64>,
    ) -> PyResult<bool> {
        let (s, p) = self.hints(py, side, price)?;
        let r = match size {
            None => self.inner.delete(order_id, 0, s, p),
            Some(q) => {
                let q = self.grid.size(py, q, self.seq)?;
                self.inner.cancel(order_id, q, s, p)
            }
        };
        self.done(py, r)
    }

    /// Integer hot path of `cancel` (lots; size 0 deletes the whole order).
    #[pyo3(signature = (order_id, size, side=0, price=0))]
    fn cancel_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: i64,
        side: i64,
        price: i64,
    ) -> PyResult<bool> {
        let s = side.clamp(-128, 127) as i8;
        let r = if size == 0 {
            self.inner.delete(order_id, 0, s, price)
        } else {
            self.inner.cancel(order_id, size, s, price)
        };
        self.done(py, r)
    }

    /// Deletes an order whatever its remaining size.
    fn delete(&mut self, py: Python<'_>, order_id: u64) -> PyResult<bool> {
        let r = self.inner.delete(order_id, 0, 0, 0);
        self.done(py, r)
    }

    /// `size` (size units) of a resting order traded.
    #[pyo3(signature = (order_id, size, *, side=None, price=None))]
    fn execute(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: f64,
        side: Option<&Bound<'_, PyAny>>,
        price: Option<f64>,
    ) -> PyResult<bool> {
        let (s, p) = self.hints(py, side, price)?;
        let q = self.grid.size(py, size, self.seq)?;
        let r = self.inner.execute(order_id, q, s, p);
        self.done(py, r)
    }

    /// Integer hot path of `execute`.
    #[pyo3(signature = (order_id, size, side=0, price=0))]
    fn execute_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: i64,
        side: i64,
        price: i64,
    ) -> PyResult<bool> {
        let r = self
            .inner
            .execute(order_id, size, side.clamp(-128, 127) as i8, price);
        self.done(py, r)
    }

    /// The order now rests at `price` with `size`. Size down at the same price
    /// keeps queue priority; a price change or size up loses it.
    fn modify(&mut self, py: Python<'_>, order_id: u64, price: f64, size: f64) -> PyResult<bool> {
        let p = self.grid.price(py, price, self.seq)?;
        let q = self.grid.size(py, size, self.seq)?;
        let r = self.inner.modify(order_id, p, q);
        self.done(py, r)
    }

    /// Integer hot path of `modify`.
    fn modify_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        price: i64,
        size: i64,
    ) -> PyResult<bool> {
        let r = self.inner.modify(order_id, price, size);
        self.done(py, r)
    }

    /// Anonymous liquidity (no order id) at the front of (side, price): volume
    /// that rested before the stream began.
    fn seed(
        &mut self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
    ) -> PyResult<bool> {
        let (s, p, q) = self.grid.level(py, side, price, size, self.seq)?;
        let r = self.inner.seed(s, p, q);
        self.done(py, r)
    }

    /// Removes all orders of `side`, or of both sides when None.
    #[pyo3(signature = (side=None))]
    fn clear(&mut self, py: Python<'_>, side: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let s = side.map(|s| side_arg(py, s, self.seq)).transpose()?;
        self.inner.clear(s);
        self.seq += 1;
        self.flow.step(self.inner.l2(), &Changes::default());
        self.publish_now();
        Ok(())
    }

    /// (side, price, size) of a resting order in price/size units, or None.
    fn order(&self, order_id: u64) -> Option<(i8, f64, f64)> {
        self.inner
            .order(order_id)
            .map(|o| (o.side as i8, self.grid.px(o.price), self.grid.sz(o.qty)))
    }

    /// Size (size units) ahead of the order in its FIFO queue, or None.
    fn queue_position(&self, order_id: u64) -> Option<f64> {
        self.inner.queue_position(order_id).map(|q| self.grid.sz(q))
    }

    /// [(order_id, size lots), ...] at a level, front of the queue first
    /// (anonymous liquidity is not listed; see `anonymous_at`).
    fn queue(
        &self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
    ) -> PyResult<Vec<(u64, i64)>> {
        let s = side_arg(py, side, self.seq)?;
        let p = self.grid.price(py, price, self.seq)?;
        Ok(self.inner.queue(s, p))
    }

    /// Anonymous size (size units) at a level.
    fn anonymous_at(&self, py: Python<'_>, side: &Bound<'_, PyAny>, price: f64) -> PyResult<f64> {
        let s = side_arg(py, side, self.seq)?;
        let p = self.grid.price(py, price, self.seq)?;
        Ok(self.grid.sz(self.inner.anonymous_at(s, p)))
    }

    /// Number of named resting orders.
    #[getter]
    fn n_orders(&self) -> usize {
        self.inner.order_count()
    }

    /// The aggregated price-level view as a new L2Book.
    fn to_l2(&self) -> PyL2Book {
        PyL2Book {
            inner: self.inner.l2().clone(),
            grid: self.grid,
            last: self.last,
            seq: self.seq,
            flow: self.flow,
            publisher: None,
            detectors: None,
            pending_alerts: Vec::new(),
        }
    }

    /// Pickle support: the versioned byte state of `lobkit_core` plus the grid.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        reduce(py, 3, self.grid, self.seq, &self.inner.to_bytes())
    }

    /// A deep copy.
    fn copy(&self) -> Self {
        PyL3Book {
            inner: self.inner.clone(),
            grid: self.grid,
            last: self.last,
            seq: self.seq,
            flow: self.flow,
            publisher: None,
            detectors: None,
            pending_alerts: Vec::new(),
        }
    }
});

fn on_error_arg(s: &str) -> PyResult<OnError> {
    match s {
        "raise" => Ok(OnError::Raise),
        "skip" => Ok(OnError::Skip),
        _ => Err(PyValueError::new_err(format!(
            "on_error={s:?}: expected 'raise' or 'skip'"
        ))),
    }
}

/// Runs the generic kernel with the interpreter released; Ctrl-C and the
/// progress callback are serviced between chunks.
fn run<'py, B: lobkit_core::Book + Send>(
    py: Python<'py>,
    book: &mut B,
    evs: &[lobkit_core::Event],
    cfg: ReplayConfig,
    progress: Option<Py<PyAny>>,
    det: Option<&mut Detectors>,
) -> PyResult<(Bound<'py, PyDict>, [i64; 4])> {
    let mut pending: Option<PyErr> = None;
    let res = guard(py, || {
        Ok(py.detach(|| {
            let mut cb = |done: usize| -> bool {
                Python::attach(|py| {
                    if let Err(e) = py.check_signals() {
                        pending = Some(e);
                        return false;
                    }
                    if let Some(f) = &progress {
                        if let Err(e) = f.call1(py, (done,)) {
                            pending = Some(e);
                            return false;
                        }
                    }
                    true
                })
            };
            bulk::replay_detect(book, evs, &cfg, &mut cb, det)
        }))
    })?;
    match res {
        Ok(out) => {
            let t = [out.ofi_sum, out.ofi_last, out.ofi_msg_sum, out.ofi_msg_last];
            let alerts = crate::detect::alerts_dict(py, &out.alerts)?;
            let d = output_dict(py, out)?;
            d.set_item("alerts", alerts)?;
            Ok((d, t))
        }
        Err(ReplayError::Event(e)) => Err(to_pyerr(py, &e)),
        Err(ReplayError::Interrupted) => Err(pending.unwrap_or_else(|| {
            pyo3::exceptions::PyKeyboardInterrupt::new_err("replay interrupted")
        })),
    }
}

/// Bulk replay through an `L2Book` or `L3Book` (see `lobkit.replay`).
#[pyfunction]
#[pyo3(signature = (book, events, *, depth, on_error, check_ts, chunk, signals=false, progress=None, ofi_msg_hidden=false, trade_sign="feed", detect=None))]
#[allow(clippy::too_many_arguments)]
pub fn replay<'py>(
    py: Python<'py>,
    book: &Bound<'py, PyAny>,
    events: numpy::PyReadonlyArray1<'py, u8>,
    depth: usize,
    on_error: &str,
    check_ts: bool,
    chunk: usize,
    signals: bool,
    progress: Option<Py<PyAny>>,
    ofi_msg_hidden: bool,
    trade_sign: &str,
    detect: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let evs = crate::arrays::events("events", &events)?;
    let det_cfg = detect
        .map(|d| crate::detect::detect_config(Some(d)))
        .transpose()?;
    let cfg = ReplayConfig {
        depth,
        on_error: on_error_arg(on_error)?,
        check_ts,
        chunk,
        signals,
        ofi_msg_hidden,
        trade_sign: TradeSign::parse(trade_sign).ok_or_else(|| {
            PyValueError::new_err(format!(
                "trade_sign={trade_sign:?}: expected 'feed', 'lee_ready' or 'tick'"
            ))
        })?,
    };
    let n = evs.len() as u64;
    if let Ok(b) = book.cast::<PyL2Book>() {
        let mut b = b.try_borrow_mut()?;
        let b = &mut *b;
        if let (Some(c), None) = (det_cfg, &b.detectors) {
            b.detectors = Some(Box::new(Detectors::new(c, false)));
        }
        let det = if det_cfg.is_some() {
            b.detectors.as_deref_mut()
        } else {
            None
        };
        let (d, t) = run(py, &mut b.inner, evs, cfg, progress, det)?;
        b.seq += n;
        let top = Top::of(&b.inner);
        b.flow.after_bulk(top, t, n);
        b.publish_now();
        Ok(d)
    } else if let Ok(b) = book.cast::<PyL3Book>() {
        let mut b = b.try_borrow_mut()?;
        let b = &mut *b;
        if let (Some(c), None) = (det_cfg, &b.detectors) {
            b.detectors = Some(Box::new(Detectors::new(c, true)));
        }
        let det = if det_cfg.is_some() {
            b.detectors.as_deref_mut()
        } else {
            None
        };
        let (d, t) = run(py, &mut b.inner, evs, cfg, progress, det)?;
        b.seq += n;
        let top = Top::of(b.inner.l2());
        b.flow.after_bulk(top, t, n);
        b.publish_now();
        Ok(d)
    } else {
        Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "book: expected lobkit.L2Book or lobkit.L3Book, got {}",
            book.get_type().name()?
        )))
    }
}

/// What `__reduce__` returns: (`lobkit._core._restore`, its arguments).
type Reduced<'py> = (Bound<'py, PyAny>, (u8, f64, f64, u64, Bound<'py, PyBytes>));

fn reduce<'py>(
    py: Python<'py>,
    kind: u8,
    grid: Grid,
    seq: u64,
    state: &[u8],
) -> PyResult<Reduced<'py>> {
    let restore = py.import("lobkit._core")?.getattr("_restore")?;
    Ok((
        restore,
        (kind, grid.tick, grid.lot, seq, PyBytes::new(py, state)),
    ))
}

/// Rebuilds a pickled book (`kind` 2 = L2Book, 3 = L3Book).
#[pyfunction]
#[pyo3(name = "_restore")]
pub fn restore(
    py: Python<'_>,
    kind: u8,
    tick: f64,
    lot: f64,
    seq: u64,
    data: &[u8],
) -> PyResult<Py<PyAny>> {
    let grid = Grid::new(tick, lot)?;
    let err = |k: ErrorKind| kind_to_pyerr(py, k, seq);
    match kind {
        2 => {
            let inner = L2Book::from_bytes(data).map_err(err)?;
            Ok(Py::new(py, PyL2Book::from_parts(inner, grid, seq))?.into_any())
        }
        3 => {
            let inner = L3Book::from_bytes(data).map_err(err)?;
            Ok(Py::new(py, PyL3Book::from_parts(inner, grid, seq))?.into_any())
        }
        k => Err(PyValueError::new_err(format!(
            "kind={k}: expected 2 (L2Book) or 3 (L3Book)"
        ))),
    }
}
