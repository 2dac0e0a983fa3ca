//! Adapters for the feed parsers in `lobkit_core::io` (other than LOBSTER,
//! which lives in `arrays.rs`), one file per format. Grids come as decimal
//! strings ("0.01").

mod depth;
mod kraken;
mod table;
mod tardis;

pub use depth::{parse_depth, DepthSync};
pub use kraken::{parse_kraken, KrakenSync};
pub use table::{decimal_steps, parse_event_table, snapshots_to_events};
pub use tardis::{parse_tardis, TardisStream};

use crate::errors::to_pyerr;
use lobkit_core::io::decimal::Grid;
use lobkit_core::io::feed::TsSource;
use lobkit_core::{Error, Event};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A grid step from its decimal string.
pub fn grid(name: &str, s: &str) -> PyResult<Grid> {
    Grid::parse(s).map_err(|e| {
        PyValueError::new_err(format!(
            "{name}={s:?} {}; expected a positive decimal such as '0.01'",
            e.describe()
        ))
    })
}

/// Events as a `uint8` array (the Python side views it as `EVENT_DTYPE`).
pub fn events_out<'py>(py: Python<'py>, ev: &[Event]) -> Bound<'py, PyArray1<u8>> {
    PyArray1::from_slice(py, bytemuck::cast_slice(ev))
}

pub(crate) fn run<'py, T: Send>(
    py: Python<'py>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    crate::arrays::guard(py, || py.detach(f).map_err(|e| to_pyerr(py, &e)))
}

pub(crate) fn ts_source(ts: &str) -> PyResult<TsSource> {
    match ts {
        "local" => Ok(TsSource::Local),
        "exchange" => Ok(TsSource::Exchange),
        other => Err(PyValueError::new_err(format!(
            "ts={other:?}: expected 'local' or 'exchange'"
        ))),
    }
}
