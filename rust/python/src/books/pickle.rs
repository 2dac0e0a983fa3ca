//! Pickling: a book is the core's versioned byte state plus its grid and
//! event count, rebuilt by `lobkit._core._restore`.

use super::grid::Grid;
use super::l2::PyL2Book;
use super::l3::PyL3Book;
use crate::errors::At;
use lobkit_core::{Instrument, L2Book, L3Book};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// What `__reduce__` returns: (`lobkit._core._restore`, its arguments).
pub(crate) type Reduced<'py> = (Bound<'py, PyAny>, (u8, f64, f64, u64, Bound<'py, PyBytes>));

pub(crate) fn reduce<'py>(
    py: Python<'py>,
    kind: u8,
    grid: Grid,
    events: u64,
    state: &[u8],
) -> PyResult<Reduced<'py>> {
    let restore = py.import("lobkit._core")?.getattr("_restore")?;
    Ok((
        restore,
        (kind, grid.tick, grid.lot, events, PyBytes::new(py, state)),
    ))
}

/// Rebuilds a pickled book (`kind` 2 = L2Book, 3 = L3Book) that had applied
/// `events` events.
#[pyfunction]
#[pyo3(name = "_restore")]
pub fn restore(
    py: Python<'_>,
    kind: u8,
    tick: f64,
    lot: f64,
    events: u64,
    data: &[u8],
) -> PyResult<Py<PyAny>> {
    let grid = Grid::new(tick, lot)?;
    match kind {
        2 => {
            let b = L2Book::from_bytes(data).at(events)?;
            let inst = Instrument::resume(b, events);
            Ok(Py::new(py, PyL2Book::from_instrument(inst, grid))?.into_any())
        }
        3 => {
            let b = L3Book::from_bytes(data).at(events)?;
            let inst = Instrument::resume(b, events);
            Ok(Py::new(py, PyL3Book::from_instrument(inst, grid))?.into_any())
        }
        k => Err(PyValueError::new_err(format!(
            "kind={k}: expected 2 (L2Book) or 3 (L3Book)"
        ))),
    }
}
