//! numpy <-> core conversions: the event byte view, output arrays, loaders.

use crate::errors::{internal, to_pyerr};
use lobkit_core::{io::lobster, Event, Side};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// One `lobkit.EVENT_DTYPE` record as numpy hands it over: lets a method
/// take the structured array itself (`book.apply(events)`) instead of a
/// `uint8` view, whose creation (`events.view(np.uint8)`) costs ~0.5 µs —
/// half the budget of a one-event call.
#[derive(Clone, Copy, Debug, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct EventRecord(pub Event);

static EVENT_DESCR: pyo3::sync::PyOnceLock<Py<numpy::PyArrayDescr>> = pyo3::sync::PyOnceLock::new();

/// The dtype numpy checks arrays against (`lobkit._events.EVENT_DTYPE`).
/// Should the import ever fail, `uint8` is returned: no structured array
/// matches it, so extraction fails and the caller reports the dtype error.
fn event_descr(py: Python<'_>) -> Bound<'_, numpy::PyArrayDescr> {
    let d = EVENT_DESCR.get_or_try_init(py, || -> PyResult<Py<numpy::PyArrayDescr>> {
        let d = py.import("lobkit._events")?.getattr("EVENT_DTYPE")?;
        Ok(d.cast_into::<numpy::PyArrayDescr>()?.unbind())
    });
    match d {
        Ok(d) => d.bind(py).clone(),
        Err(_) => numpy::dtype::<u8>(py),
    }
}

// The one unsafe item of the bindings (the workspace denies unsafe code):
// numpy's `Element` is an unsafe trait because numpy trusts `get_dtype`.
#[allow(unsafe_code)]
// SAFETY: `EventRecord` is `repr(transparent)` over `Event`, a `repr(C)`,
// `Pod` struct of 40 bytes whose fields sit at the offsets and have the
// types of `EVENT_DTYPE` (ts <i8 @0, order_id <u8 @8, price <i8 @16,
// size <i8 @24, kind u1 @32, side i1 @33, flags u1 @34, padding to 40;
// `tests/test_layout.py` checks the two agree); every bit pattern is a
// valid `Event`, so any array numpy accepts as this dtype is valid data.
// Alignment is not promised by numpy for this dtype (alignment 1), so
// `event_slice` checks it before any slice is made.
unsafe impl numpy::Element for EventRecord {
    const IS_COPY: bool = true;
    fn get_dtype(py: Python<'_>) -> Bound<'_, numpy::PyArrayDescr> {
        event_descr(py)
    }
    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

/// `events` (an `EVENT_DTYPE` array) as `&[Event]` without a copy, or the
/// typed error `lobkit._events.check_events` gives for it (wrong type or
/// dtype, not 1-D, not contiguous, not 8-byte aligned).
pub fn with_event_slice<T>(
    py: Python<'_>,
    arg: &'static str,
    events: &Bound<'_, PyAny>,
    f: impl FnOnce(&[Event]) -> PyResult<T>,
) -> PyResult<T> {
    use bytemuck::TransparentWrapper;
    if let Ok(a) = events.extract::<PyReadonlyArray1<'_, EventRecord>>() {
        // Alignment first: numpy thinks this dtype needs none.
        let aligned = a
            .as_array()
            .as_ptr()
            .align_offset(std::mem::align_of::<Event>())
            == 0;
        if let (true, Ok(s)) = (aligned || a.len() == 0, a.as_slice()) {
            return f(EventRecord::peel_slice(s));
        }
    }
    // Not viewable: the Python checks name the problem and the fix.
    py.import("lobkit._events")?
        .getattr("check_events")?
        .call1((events, arg))?;
    Err(PyValueError::new_err(format!(
        "{arg}: cannot borrow this array as lobkit.EVENT_DTYPE records (is it being \
         written elsewhere?); pass {arg}.copy()"
    )))
}

/// Borrows a `uint8` view of an `EVENT_DTYPE` array as `&[Event]`.
/// The Python wrapper checks the dtype; this checks length and alignment.
pub fn events<'a>(arg: &'static str, bytes: &'a PyReadonlyArray1<'_, u8>) -> PyResult<&'a [Event]> {
    let raw = bytes.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "{arg}: array must be C-contiguous; pass numpy.ascontiguousarray({arg})"
        ))
    })?;
    if raw.is_empty() {
        // numpy's empty arrays may carry an unaligned dangling pointer.
        return Ok(&[]);
    }
    bytemuck::try_cast_slice::<u8, Event>(raw).map_err(|e| {
        PyValueError::new_err(format!(
            "{arg}: cannot view {} bytes as 40-byte EVENT_DTYPE records ({e:?}); \
             pass numpy.ascontiguousarray({arg}, dtype=lobkit.EVENT_DTYPE)",
            raw.len()
        ))
    })
}

/// Moves a Vec into numpy without copying, as 1-D.
pub fn to_numpy<'py>(py: Python<'py>, v: Vec<i64>) -> Bound<'py, PyAny> {
    PyArray1::from_vec(py, v).into_any()
}

/// Moves a Vec into numpy without copying, reshaped to `(rows, cols)`.
pub fn to_numpy2<'py>(
    py: Python<'py>,
    v: Vec<i64>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, v).reshape([rows, cols])?.into_any())
}

/// Parses a LOBSTER message file's bytes into event records.
///
/// Returns `(events_u8, n_seeded)`; `first_row` (one orderbook row, 4×L
/// ints) seeds the book as it stood before the first message.
#[pyfunction]
#[pyo3(signature = (data, *, tick, first_row=None))]
pub fn parse_lobster_messages<'py>(
    py: Python<'py>,
    data: &[u8],
    tick: i64,
    first_row: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<(Bound<'py, PyArray1<u8>>, usize)> {
    let row: Option<Vec<i64>> = match &first_row {
        Some(r) => Some(r.as_slice()?.to_vec()),
        None => None,
    };
    let res = py.detach(|| -> Result<(Vec<Event>, usize), lobkit_core::Error> {
        let msgs = lobster::parse_messages(data)?;
        let seed: Vec<(Side, i64, i64)> = match (&row, msgs.first()) {
            (Some(r), Some(m0)) => lobster::initial_levels(r, m0),
            _ => Vec::new(),
        };
        let ev = lobster::to_events(&msgs, tick, &seed)?;
        Ok((ev, seed.len()))
    });
    let (ev, n_seed) = res.map_err(|e| to_pyerr(py, &e))?;
    let bytes: &[u8] = bytemuck::cast_slice(&ev);
    Ok((PyArray1::from_slice(py, bytes), n_seed))
}

/// Parses a LOBSTER orderbook file's bytes into an `(rows, 4*levels)` int64 array.
#[pyfunction]
pub fn parse_lobster_orderbook<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let (v, levels) = py
        .detach(|| lobster::parse_orderbook(data))
        .map_err(|e| to_pyerr(py, &e))?;
    let cols = 4 * levels;
    let rows = v.len().checked_div(cols).unwrap_or(0);
    to_numpy2(py, v, rows, cols)
}

/// Panics inside Rust on purpose, to test that a panic becomes
/// `lobkit.errors.InternalError` instead of aborting the interpreter.
#[pyfunction]
pub fn panic_for_test(py: Python<'_>) -> PyResult<()> {
    guard(py, || -> PyResult<()> {
        let v: Vec<u8> = Vec::new();
        let i = v.len() + 3;
        // Out-of-bounds index: a genuine panic path, not an explicit panic!().
        let _ = std::hint::black_box(&v)[i];
        Ok(())
    })
}

/// Runs `f`, turning a Rust panic into `lobkit.errors.InternalError`.
pub fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(internal(
                py,
                format!("internal error in lobkit's Rust core (please report): {msg}"),
            ))
        }
    }
}

/// Builds the dict of replay outputs.
pub fn output_dict<'py>(
    py: Python<'py>,
    out: lobkit_core::bulk::ReplayOutput,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let depth = out.depth;
    let n = out.best_bid_price.len();
    d.set_item("depth", depth)?;
    d.set_item("ts", to_numpy(py, out.ts))?;
    d.set_item("bid_price", to_numpy2(py, out.bid_price, n, depth)?)?;
    d.set_item("bid_size", to_numpy2(py, out.bid_size, n, depth)?)?;
    d.set_item("ask_price", to_numpy2(py, out.ask_price, n, depth)?)?;
    d.set_item("ask_size", to_numpy2(py, out.ask_size, n, depth)?)?;
    d.set_item("best_bid_price", to_numpy(py, out.best_bid_price))?;
    d.set_item("best_bid_size", to_numpy(py, out.best_bid_size))?;
    d.set_item("best_ask_price", to_numpy(py, out.best_ask_price))?;
    d.set_item("best_ask_size", to_numpy(py, out.best_ask_size))?;
    if !out.last_event.is_empty() {
        d.set_item("last_event", to_numpy(py, out.last_event))?;
    }
    d.set_item(
        "skipped_mask",
        PyArray1::from_vec(py, out.skipped_mask).into_any(),
    )?;
    if out.ofi.len() == n {
        d.set_item(
            "imbalance",
            PyArray1::from_vec(py, out.imbalance).into_any(),
        )?;
        d.set_item("ofi", to_numpy(py, out.ofi))?;
        d.set_item("signed_volume", to_numpy(py, out.signed_volume))?;
        d.set_item("ofi_msg", to_numpy(py, out.ofi_msg))?;
        d.set_item(
            "weighted_mid",
            PyArray1::from_vec(py, out.weighted_mid).into_any(),
        )?;
        d.set_item("ofi_levels", to_numpy2(py, out.ofi_levels, n, depth)?)?;
    }
    d.set_item("skipped", out.skipped)?;
    d.set_item("skipped_by_code", out.skipped_by_code.to_vec())?;
    if let Some(e) = out.first_skipped {
        d.set_item("first_skipped", to_pyerr(py, &e).value(py).clone())?;
    }
    Ok(d)
}

/// Inserts orderbook-file corrections into LOBSTER events (see
/// `lobkit_core::lobster::reconcile`). Returns `(events_u8, corrections)`
/// where corrections is a dict of equal-length arrays: row, side, price,
/// delta, reason (0 unexplained, 1 out of window, 2 unknown id).
#[pyfunction]
#[pyo3(signature = (events, *, n_seed, orderbook, tick))]
pub fn lobster_reconcile<'py>(
    py: Python<'py>,
    events: PyReadonlyArray1<'py, u8>,
    n_seed: usize,
    orderbook: numpy::PyReadonlyArray2<'py, i64>,
    tick: i64,
) -> PyResult<(Bound<'py, PyArray1<u8>>, Bound<'py, PyDict>)> {
    let evs = crate::arrays::events("events", &events)?;
    let shape = orderbook.shape().to_vec();
    if shape[1] % 4 != 0 {
        return Err(PyValueError::new_err(format!(
            "orderbook: {} columns is not a multiple of 4",
            shape[1]
        )));
    }
    let ob = orderbook.as_slice().map_err(|_| {
        PyValueError::new_err(
            "orderbook: must be C-contiguous; pass numpy.ascontiguousarray(orderbook)",
        )
    })?;
    let r = py
        .detach(|| lobster::reconcile(evs, n_seed, ob, shape[1] / 4, tick))
        .map_err(|e| to_pyerr(py, &e))?;
    let c = &r.corrections;
    let d = PyDict::new(py);
    d.set_item(
        "row",
        PyArray1::from_iter(py, c.iter().map(|x| x.row as i64)),
    )?;
    d.set_item(
        "side",
        PyArray1::from_iter(py, c.iter().map(|x| x.side as i8)),
    )?;
    d.set_item("price", PyArray1::from_iter(py, c.iter().map(|x| x.price)))?;
    d.set_item("delta", PyArray1::from_iter(py, c.iter().map(|x| x.delta)))?;
    d.set_item(
        "reason",
        PyArray1::from_iter(py, c.iter().map(|x| x.reason)),
    )?;
    let bytes: &[u8] = bytemuck::cast_slice(&r.events);
    Ok((PyArray1::from_slice(py, bytes), d))
}

/// Seeded synthetic L2 diff stream (see `lobkit_core::synth::l2_stream`) as event bytes.
#[pyfunction]
#[pyo3(signature = (n, *, seed=0, mid=1_000_000))]
pub fn synthetic_l2<'py>(
    py: Python<'py>,
    n: crate::args::Wide,
    seed: u64,
    mid: i64,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let n = synthetic_len(n)?;
    let ev = py.detach(|| lobkit_core::synth::l2_stream(n, seed, mid));
    Ok(PyArray1::from_slice(py, bytemuck::cast_slice(&ev)))
}

/// Synthetic streams are held in memory twice while converted (40 bytes an
/// event each): bounded to 2^26 events (2.7 GB) before generating.
fn synthetic_len(n: crate::args::Wide) -> PyResult<usize> {
    crate::args::bounded(
        "n",
        n,
        0,
        1 << 26,
        "events; generate larger streams in pieces",
    )
}

/// Seeded synthetic L3 stream (see `lobkit_core::synth::l3_stream`) as event bytes.
#[pyfunction]
#[pyo3(signature = (n, *, seed=0, mid=1_000_000, live=crate::args::Wide::of(2_000)), text_signature = "(n, *, seed=0, mid=1000000, live=2000)")]
pub fn synthetic_l3<'py>(
    py: Python<'py>,
    n: crate::args::Wide,
    seed: u64,
    mid: i64,
    live: crate::args::Wide,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let n = synthetic_len(n)?;
    let live = crate::args::bounded("live", live, 1, 1 << 24, "resting orders")?;
    let ev = py.detach(|| lobkit_core::synth::l3_stream(n, seed, mid, live));
    Ok(PyArray1::from_slice(py, bytemuck::cast_slice(&ev)))
}
