//! Tardis.dev CSV: whole-file parse and the chunked `TardisStream`.

use super::{events_out, grid, run};
use lobkit_core::io::feed::TsSource;
use lobkit_core::io::tardis;
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Tardis parser settings from the Python arguments.
fn tardis_options(
    tick: &str,
    lot: &str,
    ts: &str,
    symbol: Option<String>,
    liquidations: bool,
) -> PyResult<tardis::Options> {
    Ok(tardis::Options {
        price: grid("tick_size", tick)?,
        size: grid("lot_size", lot)?,
        ts: match ts {
            "local" => TsSource::Local,
            "exchange" => TsSource::Exchange,
            other => {
                return Err(PyValueError::new_err(format!(
                    "ts={other:?}: expected 'local' or 'exchange'"
                )))
            }
        },
        symbol,
        liquidations,
    })
}

/// Parses a Tardis.dev CSV file (decompressed bytes). Returns
/// `(schema, levels, events_u8)`: schema is 'incremental_book_L2', 'trades',
/// 'liquidations' or 'book_snapshot'; levels is N for snapshots, else 0.
/// `liquidations`: a trades-shaped file is the `liquidations` data type.
#[pyfunction]
#[pyo3(signature = (data, *, tick, lot, ts="local", symbol=None, liquidations=false))]
pub fn parse_tardis<'py>(
    py: Python<'py>,
    data: &[u8],
    tick: &str,
    lot: &str,
    ts: &str,
    symbol: Option<String>,
    liquidations: bool,
) -> PyResult<(&'static str, usize, Bound<'py, PyArray1<u8>>)> {
    let opt = tardis_options(tick, lot, ts, symbol, liquidations)?;
    let (schema, ev) = run(py, || tardis::parse(data, &opt))?;
    let (name, n) = schema.name();
    Ok((name, n, events_out(py, &ev)))
}

/// Streaming Tardis CSV parser: feed chunks of whole lines, then finish.
#[pyclass(module = "lobkit._core")]
#[derive(Debug)]
pub struct TardisStream {
    inner: tardis::Parser,
}

#[pymethods]
impl TardisStream {
    #[new]
    #[pyo3(signature = (*, tick, lot, ts="local", symbol=None, liquidations=false))]
    fn new(
        tick: &str,
        lot: &str,
        ts: &str,
        symbol: Option<String>,
        liquidations: bool,
    ) -> PyResult<Self> {
        Ok(TardisStream {
            inner: tardis::Parser::new(tardis_options(tick, lot, ts, symbol, liquidations)?),
        })
    }

    /// Whole lines without the final newline; returns the events completed.
    fn feed<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyArray1<u8>>> {
        let mut out = Vec::new();
        let p = &mut self.inner;
        run(py, || p.feed(data, &mut out))?;
        Ok(events_out(py, &out))
    }

    /// Ends the input; returns the last events.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<u8>>> {
        let mut out = Vec::new();
        let p = &mut self.inner;
        run(py, || p.finish(&mut out))?;
        Ok(events_out(py, &out))
    }
}
