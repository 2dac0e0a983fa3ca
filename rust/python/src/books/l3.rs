//! `lobkit.L3Book`: an order-by-order book. Every mutating method builds an
//! event and feeds it through the instrument's one step.

use super::grid::{policy_cross, policy_unknown, side_arg, side_i8, unknown_name, Grid};
use super::l2::PyL2Book;
use super::view::book_class;
use crate::args::Wide;
use crate::errors::At;
use lobkit_core::{kind, Event, Instrument, L3Book};
use pyo3::prelude::*;

/// Order-by-order book. One writer: use from one thread at a time.
#[pyclass(module = "lobkit._core", name = "L3Book")]
#[derive(Debug)]
pub struct PyL3Book {
    /// The last Python ints handed out for the best prices (see `grid::IntCache`).
    pub(crate) ints: super::grid::IntCache,
    /// The last best-level tuples handed out (see `grid::PairCache`).
    pub(crate) pairs: super::grid::PairCache,
    pub(crate) inst: Instrument<L3Book>,
    pub(crate) grid: Grid,
}

impl PyL3Book {
    /// A Python book around an instrument (constructors, unpickling, the
    /// engine's final books).
    pub(crate) fn from_instrument(inst: Instrument<L3Book>, grid: Grid) -> Self {
        PyL3Book {
            inst,
            grid,
            ints: Default::default(),
            pairs: Default::default(),
        }
    }

    /// Optional (side, price) that locate anonymous liquidity for unknown ids
    /// (0 when not given).
    fn hints(
        &self,
        py: Python<'_>,
        side: Option<&Bound<'_, PyAny>>,
        price: Option<f64>,
    ) -> PyResult<(i8, i64)> {
        let i = self.inst.events();
        let s = side
            .map(|s| side_arg(py, s, i))
            .transpose()?
            .map_or(0, |s| s as i8);
        let p = price
            .map(|p| self.grid.price(py, p, i))
            .transpose()?
            .unwrap_or(0);
        Ok((s, p))
    }

    /// One order event in ticks/lots.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn order_event(
        &mut self,
        py: Python<'_>,
        k: u8,
        order_id: u64,
        side: i8,
        price: i64,
        size: i64,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let ev = Event::new(self.ts_or_last(py, ts)?, k, side, price, size, order_id);
        self.feed(ev)
    }
}

book_class!(PyL3Book, 3, {
    #[new]
    #[pyo3(signature = (*, tick_size=1.0, lot_size=1.0, cross_policy="allow", unknown_id="error"))]
    fn new(tick_size: f64, lot_size: f64, cross_policy: &str, unknown_id: &str) -> PyResult<Self> {
        let mut inner = L3Book::new();
        inner.set_cross_policy(policy_cross(cross_policy)?);
        inner.unknown_id = policy_unknown(unknown_id)?;
        Ok(PyL3Book::from_instrument(
            Instrument::new(inner),
            Grid::new(tick_size, lot_size)?,
        ))
    }

    /// Unknown-id policy: 'error', 'anonymous' or 'skip'.
    #[getter]
    fn unknown_id(&self) -> &'static str {
        unknown_name(self.inst.book().unknown_id)
    }

    /// New order at the back of its level (price/size units; `ts` ns,
    /// default the last event's). Returns True when a best changed.
    #[pyo3(signature = (order_id, side, price, size, *, ts=None))]
    fn add(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let (s, p, q) = self.grid.level(py, side, price, size, self.inst.events())?;
        self.order_event(py, kind::ADD, order_id, s, p, q, ts)
    }

    /// Integer hot path of `add` (side 1/-1, ticks, lots, ns).
    #[pyo3(signature = (order_id, side, price, size, *, ts=None))]
    fn add_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        side: Wide,
        price: Wide,
        size: Wide,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        self.order_event(
            py,
            kind::ADD,
            order_id,
            side_i8(side.v),
            price.v,
            size.v,
            ts,
        )
    }

    /// Removes `size` (size units) from an order, keeping its priority; the
    /// whole order when `size` is None. `side`/`price` locate anonymous
    /// liquidity for unknown ids under unknown_id='anonymous'.
    #[pyo3(signature = (order_id, size=None, *, side=None, price=None, ts=None))]
    fn cancel(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: Option<f64>,
        side: Option<&Bound<'_, PyAny>>,
        price: Option<f64>,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let (s, p) = self.hints(py, side, price)?;
        match size {
            None => self.order_event(py, kind::DELETE, order_id, s, p, 0, ts),
            Some(q) => {
                let q = self.grid.size(py, q, self.inst.events())?;
                self.order_event(py, kind::CANCEL, order_id, s, p, q, ts)
            }
        }
    }

    /// Integer hot path of `cancel` (lots; size 0 deletes the whole order).
    #[pyo3(signature = (order_id, size, side=Wide::ZERO, price=Wide::ZERO, *, ts=None), text_signature = "($self, order_id, size, side=0, price=0, *, ts=None)")]
    fn cancel_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: Wide,
        side: Wide,
        price: Wide,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let k = if size.v == 0 {
            kind::DELETE
        } else {
            kind::CANCEL
        };
        self.order_event(py, k, order_id, side_i8(side.v), price.v, size.v, ts)
    }

    /// Deletes an order whatever its remaining size.
    #[pyo3(signature = (order_id, *, ts=None))]
    fn delete(&mut self, py: Python<'_>, order_id: u64, ts: Option<Wide>) -> PyResult<bool> {
        self.order_event(py, kind::DELETE, order_id, 0, 0, 0, ts)
    }

    /// `size` (size units) of a resting order traded.
    #[pyo3(signature = (order_id, size, *, side=None, price=None, ts=None))]
    fn execute(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: f64,
        side: Option<&Bound<'_, PyAny>>,
        price: Option<f64>,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let (s, p) = self.hints(py, side, price)?;
        let q = self.grid.size(py, size, self.inst.events())?;
        self.order_event(py, kind::EXECUTE, order_id, s, p, q, ts)
    }

    /// Integer hot path of `execute`.
    #[pyo3(signature = (order_id, size, side=Wide::ZERO, price=Wide::ZERO, *, ts=None), text_signature = "($self, order_id, size, side=0, price=0, *, ts=None)")]
    fn execute_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        size: Wide,
        side: Wide,
        price: Wide,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        self.order_event(
            py,
            kind::EXECUTE,
            order_id,
            side_i8(side.v),
            price.v,
            size.v,
            ts,
        )
    }

    /// The order now rests at `price` with `size`. Size down at the same price
    /// keeps queue priority; a price change or size up loses it.
    #[pyo3(signature = (order_id, price, size, *, ts=None))]
    fn modify(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        price: f64,
        size: f64,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let i = self.inst.events();
        let p = self.grid.price(py, price, i)?;
        let q = self.grid.size(py, size, i)?;
        self.order_event(py, kind::MODIFY, order_id, 0, p, q, ts)
    }

    /// Integer hot path of `modify`.
    #[pyo3(signature = (order_id, price, size, *, ts=None))]
    fn modify_ticks(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        price: Wide,
        size: Wide,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        self.order_event(py, kind::MODIFY, order_id, 0, price.v, size.v, ts)
    }

    /// Anonymous liquidity (no order id) at the front of (side, price): volume
    /// that rested before the stream began.
    #[pyo3(signature = (side, price, size, *, ts=None))]
    fn seed(
        &mut self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
        ts: Option<Wide>,
    ) -> PyResult<bool> {
        let (s, p, q) = self.grid.level(py, side, price, size, self.inst.events())?;
        self.order_event(py, kind::SEED, 0, s, p, q, ts)
    }

    /// Removes all orders of `side`, or of both sides when None.
    #[pyo3(signature = (side=None, *, ts=None))]
    fn clear(
        &mut self,
        py: Python<'_>,
        side: Option<&Bound<'_, PyAny>>,
        ts: Option<Wide>,
    ) -> PyResult<()> {
        self.clear_side(py, side, ts)
    }

    /// (side, price, size) of a resting order in price/size units, or None.
    fn order(&self, order_id: u64) -> Option<(i8, f64, f64)> {
        self.inst
            .book()
            .order(order_id)
            .map(|o| (o.side as i8, self.grid.px(o.price), self.grid.sz(o.qty)))
    }

    /// Size (size units) ahead of the order in its FIFO queue, or None.
    fn queue_position(&self, order_id: u64) -> Option<f64> {
        self.inst
            .book()
            .queue_position(order_id)
            .map(|q| self.grid.sz(q))
    }

    /// [(order_id, size lots), ...] at a level, front of the queue first
    /// (anonymous liquidity is not listed; see `anonymous_at`).
    fn queue(
        &self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
    ) -> PyResult<Vec<(u64, i64)>> {
        let s = side_arg(py, side, self.inst.events())?;
        let p = self.grid.price(py, price, self.inst.events())?;
        Ok(self.inst.book().queue(s, p))
    }

    /// Anonymous size (size units) at a level.
    fn anonymous_at(&self, py: Python<'_>, side: &Bound<'_, PyAny>, price: f64) -> PyResult<f64> {
        let s = side_arg(py, side, self.inst.events())?;
        let p = self.grid.price(py, price, self.inst.events())?;
        Ok(self.grid.sz(self.inst.book().anonymous_at(s, p)))
    }

    /// Number of named resting orders.
    #[getter]
    fn n_orders(&self) -> usize {
        self.inst.book().order_count()
    }

    /// The aggregated price-level view as a new L2Book (same event count
    /// and flow state; no detectors or readers).
    fn to_l2(&self) -> PyL2Book {
        let inst = self.inst.copy_state().map_book(|b| b.l2().clone());
        PyL2Book::from_instrument(inst, self.grid)
    }
});
