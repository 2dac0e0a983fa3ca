//! `ConsolidatedBook`: the core's consolidated multi-venue book
//! (`lobkit_core::consolidated`), adapted: venue names, the common grid's
//! float conversion, numpy outputs.

use lobkit_core::consolidated::{common_step, Consolidated, Scale, State};
use lobkit_core::error::Error;
use lobkit_core::{Event, Side};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::books::grid::Grid;
use crate::errors::to_pyerr;

/// Several venues' price-level books on one common grid.
#[pyclass(module = "lobkit._core", name = "ConsolidatedBook")]
#[derive(Debug)]
pub struct PyConsolidated {
    inner: Consolidated,
    names: Vec<String>,
    tick: String,
    lot: String,
    grid: Grid,
}

fn state_code(s: State) -> i8 {
    match s {
        State::Normal => 0,
        State::Locked => 1,
        State::Crossed => 2,
        State::OneSided => 3,
    }
}

impl PyConsolidated {
    fn venue_index(&self, venue: &Bound<'_, PyAny>) -> PyResult<usize> {
        if let Ok(i) = venue.extract::<usize>() {
            if i < self.names.len() {
                return Ok(i);
            }
        } else if let Ok(s) = venue.extract::<String>() {
            if let Some(i) = self.names.iter().position(|n| *n == s) {
                return Ok(i);
            }
        }
        Err(PyValueError::new_err(format!(
            "venue={}: expected one of {:?} or an index below {}",
            venue.repr()?,
            self.names,
            self.names.len()
        )))
    }

    fn best<'py>(&self, py: Python<'py>, side: Side) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some((p, q)) = self.inner.book().best(side) else {
            return Ok(None);
        };
        let mask = self.inner.venues_at_best(side);
        let names: Vec<&str> = (0..self.names.len())
            .filter(|v| mask >> v & 1 == 1)
            .map(|v| self.names[v].as_str())
            .collect();
        Ok(Some(PyTuple::new(
            py,
            [
                self.grid.px(p).into_pyobject(py)?.into_any(),
                self.grid.sz(q).into_pyobject(py)?.into_any(),
                PyList::new(py, names)?.into_any(),
            ],
        )?))
    }
}

#[pymethods]
impl PyConsolidated {
    /// `venues`: (name, tick size, lot size) per venue, the steps as decimal
    /// strings; `tick_size`/`lot_size`: the common grid (default: the
    /// coarsest that holds every venue's prices / sizes exactly).
    #[new]
    #[pyo3(signature = (venues, *, tick_size=None, lot_size=None))]
    fn new(
        venues: Vec<(String, String, String)>,
        tick_size: Option<String>,
        lot_size: Option<String>,
    ) -> PyResult<Self> {
        let mut names: Vec<String> = Vec::with_capacity(venues.len());
        for (n, _, _) in &venues {
            if names.contains(n) {
                return Err(PyValueError::new_err(format!("venue {n:?} given twice")));
            }
            names.push(n.clone());
        }
        let ticks: Vec<&str> = venues.iter().map(|v| v.1.as_str()).collect();
        let lots: Vec<&str> = venues.iter().map(|v| v.2.as_str()).collect();
        let (tick, pm) = common_step(&ticks, tick_size.as_deref())
            .map_err(|e| PyValueError::new_err(format!("tick sizes: {e}")))?;
        let (lot, sm) = common_step(&lots, lot_size.as_deref())
            .map_err(|e| PyValueError::new_err(format!("lot sizes: {e}")))?;
        let scales: Vec<Scale> = pm
            .iter()
            .zip(&sm)
            .map(|(&price_mult, &size_mult)| Scale {
                price_mult,
                size_mult,
            })
            .collect();
        let inner = Consolidated::new(&scales).map_err(PyValueError::new_err)?;
        let parse = |s: &str| {
            s.parse::<f64>()
                .map_err(|e| PyValueError::new_err(e.to_string()))
        };
        let grid = Grid::new(parse(&tick)?, parse(&lot)?)?;
        Ok(PyConsolidated {
            inner,
            names,
            tick,
            lot,
            grid,
        })
    }

    /// Applies `events` (EVENT_DTYPE, in the venue's own ticks and lots) of
    /// one venue (name or index), in order. Every event is checked before
    /// any is applied, so a refused one leaves the book as it was (the
    /// exception's `index` is its position in `events`). Returns the count.
    fn apply(
        &mut self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        events: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        let v = self.venue_index(venue)?;
        let inner = &mut self.inner;
        crate::arrays::with_event_slice(py, "events", events, |evs| {
            apply_all(inner, v, evs).map_err(|e| to_pyerr(py, &e))
        })
    }

    /// Bulk: applies `events` of the venues `venue` (one index per event,
    /// uint16) in order and returns per-event columns: best bid / ask price
    /// and size (common grid, price/size units; NaN / 0 when empty), the
    /// venues at each best as a bit mask (bit v = venue v), the state code
    /// (0 normal, 1 locked, 2 crossed, 3 one-sided), OFI (size units) and
    /// level-1 imbalance. Stops at the first refused event (raised; the
    /// events before it stay applied).
    fn replay<'py>(
        &mut self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
        venue: PyReadonlyArray1<'py, u16>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let venue = venue.as_slice()?.to_vec();
        let n = venue.len();
        let mut cols = Cols::with_capacity(n);
        let inner = &mut self.inner;
        crate::arrays::with_event_slice(py, "events", events, |evs| {
            inner
                .replay(evs, &venue, |_, c| cols.push(c))
                .map_err(|(i, k)| to_pyerr(py, &Error::at(i as u64, k)))
        })?;
        cols.into_dict(py, &self.grid)
    }

    /// A lock-free reader of the consolidated book (top `levels` a side,
    /// OFI and imbalance), usable from any thread; it sees the book as of
    /// the end of each `apply` / `replay` call.
    #[pyo3(signature = (levels=crate::args::Wide::of(10)), text_signature = "($self, levels=10)")]
    fn reader(&mut self, levels: crate::args::Wide) -> PyResult<crate::publish::PyReader> {
        let grid = self.grid;
        crate::publish::new_reader(levels, grid, |n| self.inner.reader(n))
    }

    /// Venue names, in index order.
    #[getter]
    fn venues(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The common tick size (price units, a decimal string).
    #[getter]
    fn tick_size(&self) -> &str {
        &self.tick
    }
    /// The common lot size (size units, a decimal string).
    #[getter]
    fn lot_size(&self) -> &str {
        &self.lot
    }

    /// (price, size, [venues at that price]) of the consolidated best bid, or None.
    #[getter]
    fn best_bid<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.best(py, Side::Bid)
    }

    /// (price, size, [venues at that price]) of the consolidated best ask, or None.
    #[getter]
    fn best_ask<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.best(py, Side::Ask)
    }

    /// 'normal', 'locked' (best bid = best ask across venues), 'crossed'
    /// (bid > ask: an arbitrage) or 'one_sided'.
    #[getter]
    fn state(&self) -> &'static str {
        self.inner.state().name()
    }

    /// The top `n` consolidated levels of `side` ('bid'/'ask'/1/-1) as an
    /// (n, 2 + venues) float array: price, total size, then each venue's
    /// size at that price (price/size units).
    #[pyo3(signature = (side, n=crate::args::Wide::of(10)), text_signature = "($self, side, n=10)")]
    fn levels<'py>(
        &self,
        py: Python<'py>,
        side: &Bound<'py, PyAny>,
        n: crate::args::Wide,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let side = crate::books::grid::side_arg(py, side, 0)?;
        let n = crate::args::bounded("n", n, 0, 1 << 20, "levels")?;
        let k = self.names.len();
        let mut out = vec![0.0; 0];
        let book = self.inner.book();
        let mut rows = 0usize;
        book.for_each_level(side, n, |p, q| {
            out.push(self.grid.px(p));
            out.push(self.grid.sz(q));
            for v in 0..k {
                out.push(self.grid.sz(self.inner.venue_qty_at(v, side, p)));
            }
            rows += 1;
        });
        let arr = PyArray1::from_vec(py, out);
        arr.reshape([rows, 2 + k])
    }

    /// Level-1 queue imbalance of the consolidated book, in [-1, 1].
    #[getter]
    fn imbalance(&self) -> f64 {
        self.inner.instrument().flow().values().imbalance
    }

    /// Running OFI of the consolidated book (size units).
    #[getter]
    fn ofi_total(&self) -> f64 {
        self.grid
            .sz(self.inner.instrument().flow().values().ofi_total)
    }

    /// Per venue: in sync (False from a sequence gap until its snapshot).
    #[getter]
    fn in_sync(&self) -> Vec<(String, bool)> {
        (0..self.names.len())
            .map(|v| (self.names[v].clone(), self.inner.in_sync(v)))
            .collect()
    }

    /// Counters: events, locked/crossed events and ns, per-venue events and gaps.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("events", s.events)?;
        d.set_item("locked_events", s.locked_events)?;
        d.set_item("crossed_events", s.crossed_events)?;
        d.set_item("locked_ns", s.locked_ns)?;
        d.set_item("crossed_ns", s.crossed_ns)?;
        let per = PyDict::new(py);
        for (v, name) in self.names.iter().enumerate() {
            let (gaps, events) = self.inner.venue_counts(v);
            per.set_item(name, (events, gaps))?;
        }
        d.set_item("venue_events_gaps", per)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let b = self.inner.book();
        let f = |x: Option<(i64, i64)>| {
            x.map_or("-".to_string(), |(p, q)| {
                format!("{}x{}", self.grid.px(p), self.grid.sz(q))
            })
        };
        format!(
            "ConsolidatedBook(venues={:?}, tick={}, bid={}, ask={}, state={})",
            self.names,
            self.tick,
            f(b.best_bid()),
            f(b.best_ask()),
            self.inner.state().name()
        )
    }
}

/// Checks every event, then applies them (all or nothing, as far as the
/// per-event checks go: see `Consolidated::apply`).
fn apply_all(c: &mut Consolidated, v: usize, evs: &[Event]) -> Result<u64, Error> {
    for (i, e) in evs.iter().enumerate() {
        c.check_event(v, e).map_err(|k| Error::at(i as u64, k))?;
    }
    let applied = evs
        .iter()
        .enumerate()
        .try_for_each(|(i, e)| c.apply(v, e).map_err(|k| Error::at(i as u64, k)));
    // One publication per call: readers never see a call half applied.
    c.publish();
    applied.map(|()| evs.len() as u64)
}

/// Per-event output columns of a consolidated replay.
struct Cols {
    bid_px: Vec<i64>,
    bid_sz: Vec<i64>,
    ask_px: Vec<i64>,
    ask_sz: Vec<i64>,
    bid_venues: Vec<u64>,
    ask_venues: Vec<u64>,
    state: Vec<i8>,
    ofi: Vec<i64>,
    imbalance: Vec<f64>,
}

impl Cols {
    fn with_capacity(n: usize) -> Cols {
        Cols {
            bid_px: Vec::with_capacity(n),
            bid_sz: Vec::with_capacity(n),
            ask_px: Vec::with_capacity(n),
            ask_sz: Vec::with_capacity(n),
            bid_venues: Vec::with_capacity(n),
            ask_venues: Vec::with_capacity(n),
            state: Vec::with_capacity(n),
            ofi: Vec::with_capacity(n),
            imbalance: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, c: &Consolidated) {
        let b = c.book();
        let (bp, bq) = b.best_bid().unwrap_or((0, 0));
        let (ap, aq) = b.best_ask().unwrap_or((0, 0));
        self.bid_px.push(bp);
        self.bid_sz.push(bq);
        self.ask_px.push(ap);
        self.ask_sz.push(aq);
        self.bid_venues.push(c.venues_at_best(Side::Bid));
        self.ask_venues.push(c.venues_at_best(Side::Ask));
        self.state.push(state_code(c.state()));
        let f = c.instrument().flow().values();
        self.ofi.push(f.ofi);
        self.imbalance.push(f.imbalance);
    }

    fn into_dict<'py>(self, py: Python<'py>, g: &Grid) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let px = |v: &[i64], q: &[i64]| -> Vec<f64> {
            v.iter()
                .zip(q)
                .map(|(&p, &s)| if s > 0 { g.px(p) } else { f64::NAN })
                .collect()
        };
        let sz = |v: &[i64]| -> Vec<f64> { v.iter().map(|&s| g.sz(s)).collect() };
        d.set_item(
            "bid_price",
            PyArray1::from_vec(py, px(&self.bid_px, &self.bid_sz)),
        )?;
        d.set_item("bid_size", PyArray1::from_vec(py, sz(&self.bid_sz)))?;
        d.set_item(
            "ask_price",
            PyArray1::from_vec(py, px(&self.ask_px, &self.ask_sz)),
        )?;
        d.set_item("ask_size", PyArray1::from_vec(py, sz(&self.ask_sz)))?;
        d.set_item("bid_venues", PyArray1::from_vec(py, self.bid_venues))?;
        d.set_item("ask_venues", PyArray1::from_vec(py, self.ask_venues))?;
        d.set_item("state", PyArray1::from_vec(py, self.state))?;
        d.set_item("ofi", PyArray1::from_vec(py, sz(&self.ofi)))?;
        d.set_item("imbalance", PyArray1::from_vec(py, self.imbalance))?;
        Ok(d)
    }
}
