//! The plain event table, snapshot rows to level diffs, exact decimal columns.

use super::{events_out, grid, run};
use lobkit_core::io::{levels, table};
use lobkit_core::Error;
use numpy::{PyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Parses the plain CSV event table (see `lobkit_core::io::table`); with
/// `header`, `data` is a chunk of rows after `line0` file lines.
#[pyfunction]
#[pyo3(signature = (data, *, tick, lot, header=None, line0=0))]
pub fn parse_event_table<'py>(
    py: Python<'py>,
    data: &[u8],
    tick: &str,
    lot: &str,
    header: Option<&[u8]>,
    line0: u64,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let (p, q) = (grid("tick_size", tick)?, grid("lot_size", lot)?);
    let ev = run(py, || match header {
        Some(h) => table::parse_chunk(h, data, line0, &p, &q),
        None => table::parse(data, &p, &q),
    })?;
    Ok(events_out(py, &ev))
}

/// Events (as bytes) and, per event, the input row it came from.
type EventsAndRows<'py> = (Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<i64>>);

/// Top-N snapshots (rows; ticks and lots; 0 size = empty) to the SET_LEVEL
/// events that take each row to the next, starting from an empty book.
/// Returns `(events_u8, row_of_event)`.
#[pyfunction]
#[pyo3(signature = (ts, bid_price, bid_size, ask_price, ask_size, *, flags=0, last_flag=0x80))]
#[allow(clippy::too_many_arguments)]
pub fn snapshots_to_events<'py>(
    py: Python<'py>,
    ts: numpy::PyReadonlyArray1<'py, i64>,
    bid_price: PyReadonlyArray2<'py, i64>,
    bid_size: PyReadonlyArray2<'py, i64>,
    ask_price: PyReadonlyArray2<'py, i64>,
    ask_size: PyReadonlyArray2<'py, i64>,
    flags: u8,
    last_flag: u8,
) -> PyResult<EventsAndRows<'py>> {
    let shape = bid_price.shape().to_vec();
    let rows = ts.len();
    for (name, a) in [
        ("bid_size", &bid_size),
        ("ask_price", &ask_price),
        ("ask_size", &ask_size),
    ] {
        if a.shape() != shape.as_slice() {
            return Err(PyValueError::new_err(format!(
                "{name}: shape {:?} differs from bid_price's {shape:?}",
                a.shape()
            )));
        }
    }
    if shape[0] != rows {
        return Err(PyValueError::new_err(format!(
            "ts has {rows} rows, the level arrays {}",
            shape[0]
        )));
    }
    let n = shape[1];
    let c = |a: &PyReadonlyArray2<'py, i64>| -> PyResult<Vec<i64>> {
        Ok(a.as_array().iter().copied().collect())
    };
    let (bp, bq, ap, aq) = (c(&bid_price)?, c(&bid_size)?, c(&ask_price)?, c(&ask_size)?);
    let tsv = ts.as_slice()?.to_vec();
    let (ev, rowix) = py.detach(|| {
        let mut out = Vec::with_capacity(rows * 2);
        let mut rowix = Vec::with_capacity(rows * 2);
        let (mut pb, mut pa, mut nb, mut na): (
            levels::Levels,
            levels::Levels,
            levels::Levels,
            levels::Levels,
        ) = Default::default();
        for (r, &t) in tsv.iter().enumerate() {
            nb.clear();
            na.clear();
            for i in 0..n {
                let k = r * n + i;
                if bq[k] > 0 {
                    nb.push((bp[k], bq[k]));
                }
                if aq[k] > 0 {
                    na.push((ap[k], aq[k]));
                }
            }
            let m = levels::diff((&pb, &pa), (&nb, &na), t, flags, last_flag, &mut out);
            rowix.extend(std::iter::repeat_n(r as i64, m));
            std::mem::swap(&mut pb, &mut nb);
            std::mem::swap(&mut pa, &mut na);
        }
        (out, rowix)
    });
    Ok((events_out(py, &ev), PyArray1::from_vec(py, rowix)))
}

/// Decimal strings to whole grid steps, exactly (int64 array). An invalid
/// or off-grid value raises `ParseError` naming its index as the line.
#[pyfunction]
#[pyo3(signature = (values, *, step, field="value"))]
pub fn decimal_steps<'py>(
    py: Python<'py>,
    values: Vec<String>,
    step: &str,
    field: &str,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let g = grid("step", step)?;
    let field: &'static str = match field {
        "price" => "price",
        "size" => "size",
        _ => "value",
    };
    let v = run(py, || {
        values
            .iter()
            .enumerate()
            .map(|(i, s)| g.field(s, i as u64, field))
            .collect::<Result<Vec<i64>, Error>>()
    })?;
    Ok(PyArray1::from_vec(py, v))
}
