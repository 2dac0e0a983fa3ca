//! `lobkit._core.replay`: bulk replay of an event array through a book's
//! instrument, with the interpreter released (Ctrl-C and the progress
//! callback serviced between chunks).

use super::l2::PyL2Book;
use super::l3::PyL3Book;
use crate::arrays::{guard, output_dict};
use crate::errors::to_pyerr;
use lobkit_core::bulk::{self, OnError, ReplayConfig, ReplayError};
use lobkit_core::detect::DetectConfig;
use lobkit_core::signals::trade_flow::TradeSign;
use lobkit_core::{Book, Event, Instrument};
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn on_error_arg(s: &str) -> PyResult<OnError> {
    match s {
        "raise" => Ok(OnError::Raise),
        "skip" => Ok(OnError::Skip),
        _ => Err(PyValueError::new_err(format!(
            "on_error={s:?}: expected 'raise' or 'skip'"
        ))),
    }
}

/// Replays `evs` through `inst` (either book type). `detect`: turn the
/// detectors on first unless they already run (their state carries over).
fn run<'py, B: Book + Send>(
    py: Python<'py>,
    inst: &mut Instrument<B>,
    evs: &[Event],
    cfg: ReplayConfig,
    progress: Option<Py<PyAny>>,
    detect: Option<DetectConfig>,
) -> PyResult<Bound<'py, PyDict>> {
    if let (Some(c), None) = (detect, inst.detectors()) {
        inst.enable_detectors(c);
    }
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
            bulk::replay(inst, evs, &cfg, &mut cb)
        }))
    })?;
    match res {
        Ok(mut out) => {
            let alerts = std::mem::take(&mut out.alerts);
            let d = output_dict(py, out)?;
            if detect.is_some() {
                d.set_item("alerts", crate::detect::alerts_dict(py, &alerts)?)?;
            } else {
                // Detectors turned on by `lobkit.detect.enable` ran too; their
                // alerts wait for `lobkit.detect.alerts(book)`.
                inst.keep_alerts(alerts);
            }
            Ok(d)
        }
        Err(ReplayError::Event(e)) => Err(to_pyerr(py, &e)),
        Err(ReplayError::TooLarge { bytes, limit }) => Err(PyMemoryError::new_err(format!(
            "replay: {} events at depth={} need {:.1} GiB of output columns, more than this \
             machine's {:.1} GiB of memory (depth is at most {}); lower depth or replay in chunks \
             (lobkit.io.iter_events)",
            evs.len(),
            cfg.depth,
            bytes as f64 / (1u64 << 30) as f64,
            limit as f64 / (1u64 << 30) as f64,
            bulk::MAX_DEPTH
        ))),
        Err(ReplayError::NeedsL3) => {
            // The caller (lobkit.replay) starts over with an L3 book.
            let d = PyDict::new(py);
            d.set_item("needs_l3", true)?;
            Ok(d)
        }
        Err(ReplayError::Interrupted) => {
            Err(pending.unwrap_or_else(|| PyKeyboardInterrupt::new_err("replay interrupted")))
        }
    }
}

/// Bulk replay through an `L2Book` or `L3Book` (see `lobkit.replay`).
#[pyfunction]
#[pyo3(signature = (book, events, *, depth, on_error, check_ts, chunk, signals=false, progress=None, ofi_msg_hidden=false, trade_sign="feed", detect=None, stop_at_l3=false, sample_ns=0))]
#[allow(clippy::too_many_arguments)]
pub fn replay<'py>(
    py: Python<'py>,
    book: &Bound<'py, PyAny>,
    events: numpy::PyReadonlyArray1<'py, u8>,
    depth: crate::args::Wide,
    on_error: &str,
    check_ts: bool,
    chunk: crate::args::Wide,
    signals: bool,
    progress: Option<Py<PyAny>>,
    ofi_msg_hidden: bool,
    trade_sign: &str,
    detect: Option<&Bound<'py, PyDict>>,
    stop_at_l3: bool,
    sample_ns: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let evs = crate::arrays::events("events", &events)?;
    let detect = detect
        .map(|d| crate::detect::detect_config(Some(d)))
        .transpose()?;
    // Beyond 64 bits (or usize) saturates: the core then refuses the depth
    // as too large for memory, and any chunk beyond the events is all of them.
    let (depth, chunk) = (
        usize::try_from(depth.v.max(0)).unwrap_or(usize::MAX),
        usize::try_from(chunk.v.max(1)).unwrap_or(usize::MAX),
    );
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
        stop_at_l3,
        // 0: every event; -1: one row per feed message; > 0: time bins (ns).
        sample: match sample_ns {
            0 => bulk::Sample::Event,
            -1 => bulk::Sample::Message,
            ns if ns > 0 => bulk::Sample::Every(ns),
            ns => {
                return Err(PyValueError::new_err(format!(
                    "sample_ns={ns}: expected 0 (every event), -1 (per message) or a bin > 0 ns"
                )))
            }
        },
    };
    if let Ok(b) = book.cast::<PyL2Book>() {
        run(
            py,
            &mut b.try_borrow_mut()?.inst,
            evs,
            cfg,
            progress,
            detect,
        )
    } else if let Ok(b) = book.cast::<PyL3Book>() {
        run(
            py,
            &mut b.try_borrow_mut()?.inst,
            evs,
            cfg,
            progress,
            detect,
        )
    } else {
        Err(PyTypeError::new_err(format!(
            "book: expected lobkit.L2Book or lobkit.L3Book, got {}",
            book.get_type().name()?
        )))
    }
}
