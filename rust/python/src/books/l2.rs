//! `lobkit.L2Book`: a price-level book. Every mutating method builds an
//! event and feeds it through the instrument's one step.

use super::grid::{policy_cross, side_i8, Grid};
use super::view::book_class;
use crate::args::Wide;
use crate::errors::At;
use lobkit_core::{kind, Event, Instrument, L2Book};
use pyo3::prelude::*;

/// Price-level book. One writer: use from one thread at a time.
#[pyclass(module = "lobkit._core", name = "L2Book")]
#[derive(Debug)]
pub struct PyL2Book {
    /// The last Python ints handed out for the best prices (see `grid::IntCache`).
    pub(crate) ints: super::grid::IntCache,
    /// The last best-level tuples handed out (see `grid::PairCache`).
    pub(crate) pairs: super::grid::PairCache,
    pub(crate) inst: Instrument<L2Book>,
    pub(crate) grid: Grid,
}

impl PyL2Book {
    /// A Python book around an instrument (constructors, unpickling, the
    /// engine's final books, `to_l2`).
    pub(crate) fn from_instrument(inst: Instrument<L2Book>, grid: Grid) -> Self {
        PyL2Book {
            inst,
            grid,
            ints: Default::default(),
            pairs: Default::default(),
        }
    }

    /// One level set, in ticks/lots.
    #[inline]
    fn set(
        &mut self,
        py: Python<'_>,
        side: i8,
        price: i64,
        size: i64,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let ev = Event::new(
            self.ts_or_last(py, ts)?,
            kind::SET_LEVEL,
            side,
            price,
            size,
            0,
        );
        self.feed(ev)
    }
}

book_class!(PyL2Book, 2, {
    #[new]
    #[pyo3(signature = (*, tick_size=1.0, lot_size=1.0, cross_policy="allow"))]
    fn new(tick_size: f64, lot_size: f64, cross_policy: &str) -> PyResult<Self> {
        let mut inner = L2Book::new();
        inner.cross_policy = policy_cross(cross_policy)?;
        Ok(PyL2Book::from_instrument(
            Instrument::new(inner),
            Grid::new(tick_size, lot_size)?,
        ))
    }

    /// Sets the level at (side, price) to `size` (price/size units; 0 removes
    /// it). Off-grid values raise. `ts` (ns) defaults to the last event's.
    /// Returns True when the side's best changed.
    #[pyo3(signature = (side, price, size, *, ts=None))]
    fn update(
        &mut self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let (s, p, q) = self.grid.level(py, side, price, size, self.inst.events())?;
        self.set(py, s, p, q, ts)
    }

    /// Integer hot path: side 1/-1, price in ticks, size in lots, `ts` ns.
    #[pyo3(signature = (side, price, size, *, ts=None))]
    fn update_ticks(
        &mut self,
        py: Python<'_>,
        side: Wide,
        price: Wide,
        size: Wide,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        self.set(py, side_i8(side.v), price.v, size.v, ts)
    }

    /// Removes all levels of `side` (1/-1/'bid'/'ask'), or of both sides when None.
    #[pyo3(signature = (side=None, *, ts=None))]
    fn clear(
        &mut self,
        py: Python<'_>,
        side: Option<&Bound<'_, PyAny>>,
        ts: Option<Wide>,
    ) -> PyResult<()> {
        self.clear_side(py, side, ts)
    }

    /// Replaces the book with a snapshot: `bids`/`asks` are sequences of
    /// (price, size) in price/size units (ticks/lots with ticks=True). Fed
    /// as one message (a CLEAR, then one level per entry) that readers see
    /// whole; everything is validated first and on error the book is unchanged.
    #[pyo3(signature = (bids, asks, *, ticks=false, ts=None))]
    fn apply_snapshot(
        &mut self,
        py: Python<'_>,
        bids: Vec<(f64, f64)>,
        asks: Vec<(f64, f64)>,
        ticks: bool,
        ts: Option<Wide>,
    ) -> PyResult<()> {
        let ts = self.ts_or_last(py, ts)?;
        let idx = self.inst.events();
        let mut evs = Vec::with_capacity(1 + bids.len() + asks.len());
        evs.push(Event::new(ts, kind::CLEAR, 0, 0, 0, 0));
        for (side, lv) in [(1i8, &bids), (-1i8, &asks)] {
            for &(p, q) in lv.iter() {
                let (p, q) = if ticks {
                    (
                        Grid::whole(py, p, "price", idx)?,
                        Grid::whole(py, q, "size", idx)?,
                    )
                } else {
                    (self.grid.price(py, p, idx)?, self.grid.size(py, q, idx)?)
                };
                if q == 0 {
                    continue;
                }
                evs.push(Event::new(ts, kind::SET_LEVEL, side, p, q, 0));
            }
        }
        self.inst
            .apply_events(&evs, false)
            .map_err(|e| e.kind)
            .at(idx)?;
        Ok(())
    }
});
