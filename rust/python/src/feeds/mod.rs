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

/// The book a streaming keeper owns (`BinanceDepth(..., book=)`, same for
/// Bybit and Kraken), and the buffer its messages' events pass through.
#[derive(Debug, Default)]
pub(crate) struct OwnedBook {
    book: Option<Py<crate::books::l2::PyL2Book>>,
    scratch: Vec<Event>,
}

impl OwnedBook {
    pub(crate) fn bind(&mut self, book: Py<crate::books::l2::PyL2Book>) {
        self.book = Some(book);
    }

    pub(crate) fn get(&self, py: Python<'_>) -> Option<Py<crate::books::l2::PyL2Book>> {
        self.book.as_ref().map(|b| b.clone_ref(py))
    }

    /// One message through `feed` into the book as one message (see
    /// `lobkit_core::io::feed::apply_message`); returns the events applied.
    pub(crate) fn apply(
        &mut self,
        py: Python<'_>,
        feed: &mut (impl lobkit_core::io::feed::Feed + ?Sized),
        message: &[u8],
        recv_ts: i64,
        line: u64,
    ) -> PyResult<u64> {
        let Some(book) = &self.book else {
            return Err(PyValueError::new_err(
                "no book bound: construct the keeper with book=",
            ));
        };
        let mut b = book.bind(py).try_borrow_mut()?;
        let scratch = &mut self.scratch;
        crate::arrays::guard(py, || {
            lobkit_core::io::feed::apply_message(feed, &mut b.inst, message, recv_ts, line, scratch)
                .map(|a| a.applied)
                .map_err(|e| to_pyerr(py, &e))
        })
    }
}
