//! `Engine`: a Rust thread that owns books (instruments) and applies pushed
//! events through their one step; readers come from `crate::publish`.

use std::sync::Mutex;
use std::time::Duration;

use crate::arrays::guard;
use crate::books::grid::Grid;
use crate::books::{PyL2Book, PyL3Book};
use crate::errors::{internal, to_pyerr};
use crate::publish::PyReader;
use lobkit_core::engine::{AnyBook, Engine, EngineConfig, EngineError, EngineStats};
use lobkit_core::instrument::Concrete;
use lobkit_core::{Event, Instrument};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn engine_err(py: Python<'_>, e: EngineError) -> PyErr {
    let cls =
        |name: &str| -> PyResult<Bound<'_, PyAny>> { py.import("lobkit.errors")?.getattr(name) };
    let build = || -> PyResult<PyErr> {
        Ok(match e {
            EngineError::Full { accepted } => PyErr::from_value(cls("BackpressureError")?.call1((
                format!("engine ring full: {accepted} events of this push accepted, the rest not (retry them, or pass a longer timeout)"),
                accepted,
            ))?),
            EngineError::Failed(msg) => internal(py, format!("engine thread failed: {msg}")),
            EngineError::Closed => PyErr::from_value(
                cls("EngineClosedError")?.call1(("engine is closed",))?,
            ),
            EngineError::Timeout { left } => PyErr::from_value(cls("EngineTimeoutError")?.call1((
                format!("flush timed out with {left} events still queued"),
                left,
            ))?),
            EngineError::BadInstrument {
                instrument,
                instruments,
            } => PyValueError::new_err(format!(
                "instrument={instrument}: this engine has {instruments} books (0..{instruments})"
            )),
        })
    };
    build().unwrap_or_else(|e| e)
}

fn stats_dict<'py>(
    py: Python<'py>,
    s: &EngineStats,
    queued: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("pushed", s.pushed)?;
    d.set_item("applied", s.applied)?;
    d.set_item("rejected", s.rejected)?;
    d.set_item("queued", queued)?;
    d.set_item("full_timeouts", s.full_timeouts)?;
    d.set_item("errors_dropped", s.errors_dropped)?;
    Ok(d)
}

/// The engine's interrupt check: true when Ctrl-C (or another signal
/// handler) raised, keeping that exception for the caller to raise — taking
/// it out of Python's signal state and dropping it turned a Ctrl-C during a
/// blocked push into a `BackpressureError`.
fn interrupted(signal: &mut Option<PyErr>) -> bool {
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            *signal = Some(e);
            true
        }
    })
}

/// An engine instrument as the Python book class of the book it holds,
/// keeping its event count and flow totals.
fn into_py_book(py: Python<'_>, inst: Instrument<AnyBook>, g: Grid) -> PyResult<Py<PyAny>> {
    Ok(match inst.into_concrete() {
        Concrete::L2(i) => Py::new(py, PyL2Book::from_instrument(i, g))?.into_any(),
        Concrete::L3(i) => Py::new(py, PyL3Book::from_instrument(i, g))?.into_any(),
    })
}

/// A background feed engine (see `lobkit.Engine`).
#[pyclass(frozen, name = "Engine", module = "lobkit._core")]
#[derive(Debug)]
pub struct PyEngine {
    inner: Mutex<Engine>,
    grids: Vec<Grid>,
    raise_errors: bool,
}

fn lock<'a>(py: Python<'_>, m: &'a Mutex<Engine>) -> PyResult<std::sync::MutexGuard<'a, Engine>> {
    m.lock()
        .map_err(|_| internal(py, "engine lock poisoned by an earlier panic".into()))
}

impl PyEngine {
    /// Raises the oldest pending engine error (all pending ones are
    /// drained; the message counts the others) under on_error='raise'.
    fn raise_pending(&self, py: Python<'_>, eng: &mut Engine) -> PyResult<()> {
        if !self.raise_errors {
            return Ok(());
        }
        let errs = eng.take_errors();
        match errs.first() {
            None => Ok(()),
            Some(e) => {
                let err = to_pyerr(py, e);
                if errs.len() > 1 {
                    let note = format!(
                        "{} more event(s) were rejected after this one (see Engine.stats)",
                        errs.len() - 1
                    );
                    crate::errors::add_note(py, &err, &note);
                }
                Err(err)
            }
        }
    }

    fn push_events(
        &self,
        py: Python<'_>,
        instrument: usize,
        evs: &[Event],
        timeout: Option<f64>,
    ) -> PyResult<usize> {
        // None / inf: wait as long as it takes (Ctrl-C still interrupts).
        let t = crate::args::timeout("timeout", timeout)?.unwrap_or(Duration::MAX);
        // The interrupt check takes the KeyboardInterrupt out of Python's
        // signal state: keep it and raise it, not a BackpressureError.
        let mut signal: Option<PyErr> = None;
        let res = py.detach(|| -> PyResult<Result<usize, EngineError>> {
            let mut eng = self
                .inner
                .lock()
                .map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
            let mut interrupt = || interrupted(&mut signal);
            Ok(eng.push(instrument, evs, Some(t), &mut interrupt))
        })?;
        let mut eng = lock(py, &self.inner)?;
        self.raise_pending(py, &mut eng)?;
        drop(eng);
        if let Some(e) = signal {
            if let Err(EngineError::Full { accepted }) = &res {
                let note = format!(
                    "{accepted} events of this push were accepted before the interrupt; the rest were not"
                );
                crate::errors::add_note(py, &e, &note);
            }
            return Err(e);
        }
        py.check_signals()?;
        res.map_err(|e| engine_err(py, e))
    }
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (books, *, capacity=crate::args::Wide::of(65536), levels=crate::args::Wide::of(10), check_ts=true, batch=crate::args::Wide::of(256), on_error="raise", detect=None), text_signature = "(books, *, capacity=65536, levels=10, check_ts=True, batch=256, on_error='raise', detect=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        books: &Bound<'_, PyAny>,
        capacity: crate::args::Wide,
        levels: crate::args::Wide,
        check_ts: bool,
        batch: crate::args::Wide,
        on_error: &str,
        detect: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let detect = detect
            .map(|d| crate::detect::detect_config(Some(d)))
            .transpose()?;
        let raise_errors = match on_error {
            "raise" => true,
            "skip" => false,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "on_error={on_error:?}: expected 'raise' or 'skip'"
                )))
            }
        };
        let levels = crate::publish::levels_arg(levels)?;
        let list: Vec<Bound<'_, PyAny>> =
            if books.is_instance_of::<PyList>() || books.is_instance_of::<pyo3::types::PyTuple>() {
                books.try_iter()?.collect::<PyResult<_>>()?
            } else {
                vec![books.clone()]
            };
        if list.is_empty() {
            return Err(PyValueError::new_err(
                "books: give at least one L2Book or L3Book",
            ));
        }
        let mut owned = Vec::new();
        let mut grids = Vec::new();
        for b in &list {
            if let Ok(b) = b.cast::<PyL2Book>() {
                let b = b.borrow();
                owned.push(b.inst.copy_state().map_book(AnyBook::L2));
                grids.push(b.grid());
            } else if let Ok(b) = b.cast::<PyL3Book>() {
                let b = b.borrow();
                owned.push(b.inst.copy_state().map_book(AnyBook::L3));
                grids.push(b.grid());
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "books: expected lobkit.L2Book / L3Book (or a list of them), got {}",
                    b.get_type().name()?
                )));
            }
        }
        // Bounded before the ring is allocated (2^24 slots of 48 bytes).
        let capacity = crate::args::bounded("capacity", capacity, 2, 1 << 24, "ring slots")?;
        let batch = crate::args::bounded("batch", batch, 1, 1 << 24, "events per publication")?;
        let cfg = EngineConfig {
            capacity,
            levels,
            check_ts,
            batch: batch.max(1),
            detect,
            ..EngineConfig::default()
        };
        let eng = guard(py, || {
            Engine::start(owned, cfg).map_err(|e| {
                PyRuntimeError::new_err(format!("cannot start the engine thread: {e}"))
            })
        })?;
        Ok(PyEngine {
            inner: Mutex::new(eng),
            grids,
            raise_errors,
        })
    }

    /// Books (instruments) in the engine.
    #[getter]
    fn instruments(&self) -> usize {
        self.grids.len()
    }

    /// A lock-free reader of instrument `instrument`'s snapshots.
    #[pyo3(signature = (instrument=crate::args::Wide::ZERO), text_signature = "($self, instrument=0)")]
    fn reader(&self, py: Python<'_>, instrument: crate::args::Wide) -> PyResult<PyReader> {
        let instrument = crate::args::index("instrument", instrument)?;
        let eng = py.detach(|| {
            self.inner
                .lock()
                .map(|e| e.reader(instrument))
                .map_err(|_| ())
        });
        let r = eng.map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
        match (r, self.grids.get(instrument)) {
            (Some(r), Some(&g)) => Ok(PyReader::new(r, g)),
            _ => Err(engine_err(
                py,
                EngineError::BadInstrument {
                    instrument,
                    instruments: self.grids.len(),
                },
            )),
        }
    }

    /// Pushes an EVENT_DTYPE array (as bytes view) for `instrument`; see
    /// `lobkit.Engine.push`.
    #[pyo3(signature = (events, instrument=crate::args::Wide::ZERO, timeout=None), text_signature = "($self, events, instrument=0, timeout=None)")]
    fn push(
        &self,
        py: Python<'_>,
        events: PyReadonlyArray1<'_, u8>,
        instrument: crate::args::Wide,
        timeout: Option<f64>,
    ) -> PyResult<usize> {
        let instrument = crate::args::index("instrument", instrument)?;
        let evs = crate::arrays::events("events", &events)?;
        self.push_events(py, instrument, evs, timeout)
    }

    /// Pushes one event given in ticks/lots (the low-latency path).
    #[pyo3(signature = (kind, side, price, size, order_id=0, ts=crate::args::Wide::ZERO, instrument=crate::args::Wide::ZERO, timeout=None), text_signature = "($self, kind, side, price, size, order_id=0, ts=0, instrument=0, timeout=None)")]
    #[allow(clippy::too_many_arguments)]
    fn push_one(
        &self,
        py: Python<'_>,
        kind: crate::args::Wide,
        side: crate::args::Wide,
        price: crate::args::Wide,
        size: crate::args::Wide,
        order_id: u64,
        ts: crate::args::Wide,
        instrument: crate::args::Wide,
        timeout: Option<f64>,
    ) -> PyResult<usize> {
        let instrument = crate::args::index("instrument", instrument)?;
        if ts.overflow {
            return Err(PyValueError::new_err(
                "ts is outside the int64 nanosecond range",
            ));
        }
        // As for the books' `*_ticks` methods: out-of-range codes and
        // saturated prices/sizes are values the engine rejects with their
        // typed error (raised on the next call), never an OverflowError here.
        let kind = u8::try_from(kind.v).unwrap_or(u8::MAX);
        let side = crate::books::grid::side_i8(side.v);
        let ev = Event::new(ts.v, kind, side, price.v, size.v, order_id);
        self.push_events(py, instrument, std::slice::from_ref(&ev), timeout)
    }

    /// Waits until every pushed event is applied or rejected; raises the
    /// first pending event error under on_error='raise'.
    #[pyo3(signature = (timeout=None))]
    fn flush(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let timeout = crate::args::timeout("timeout", timeout)?;
        let mut signal: Option<PyErr> = None;
        let res = py.detach(|| -> PyResult<Result<(), EngineError>> {
            let mut eng = self
                .inner
                .lock()
                .map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
            let mut interrupt = || interrupted(&mut signal);
            Ok(eng.flush(timeout, &mut interrupt))
        })?;
        let mut eng = lock(py, &self.inner)?;
        self.raise_pending(py, &mut eng)?;
        drop(eng);
        if let Some(e) = signal {
            return Err(e);
        }
        py.check_signals()?;
        res.map_err(|e| engine_err(py, e))
    }

    /// Alerts raised by the engine's detectors since the last call: a dict
    /// of columns (as `lobkit.detect`) plus `instrument`. Lock-free with
    /// respect to the engine thread.
    fn alerts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let got = py
            .detach(|| {
                self.inner
                    .lock()
                    .map(|mut e| (e.take_alerts(), e.alerts_dropped()))
                    .map_err(|_| ())
            })
            .map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
        let (tagged, dropped) = got;
        let (inst, alerts): (Vec<u32>, Vec<lobkit_core::detect::Alert>) =
            tagged.into_iter().unzip();
        let d = crate::detect::alerts_dict(py, &alerts)?;
        d.set_item(
            "instrument",
            numpy::PyArray1::from_vec(py, inst.into_iter().map(i64::from).collect()),
        )?;
        d.set_item("dropped", dropped)?;
        Ok(d)
    }

    /// Counters: pushed, applied, rejected, queued, full_timeouts, errors_dropped.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (s, q) = py
            .detach(|| {
                self.inner
                    .lock()
                    .map(|e| (e.stats(), e.queued()))
                    .map_err(|_| ())
            })
            .map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
        stats_dict(py, &s, q)
    }

    /// Errors of rejected events not yet raised or collected, as exception
    /// objects (each with `.index` = position among all pushed events).
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let errs = py
            .detach(|| {
                self.inner
                    .lock()
                    .map(|mut e| e.take_errors())
                    .map_err(|_| ())
            })
            .map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
        Ok(errs
            .iter()
            .map(|e| to_pyerr(py, e).value(py).clone().into_any())
            .collect())
    }

    /// Stops the engine thread. `drain=True` applies everything pushed
    /// first; `drain=False` leaves the queue (counted as `left`). Returns
    /// `(books, stats)`: copies of the final books as L2Book/L3Book objects
    /// and the counters with `left`. Idempotent.
    #[pyo3(signature = (drain=true))]
    fn close<'py>(
        &self,
        py: Python<'py>,
        drain: bool,
    ) -> PyResult<(Vec<Py<PyAny>>, Bound<'py, PyDict>)> {
        let res = py.detach(|| -> PyResult<_> {
            let mut eng = self
                .inner
                .lock()
                .map_err(|_| PyRuntimeError::new_err("engine lock poisoned"))?;
            Ok(eng.close(drain))
        })?;
        let (books, stats) = res.map_err(|e| engine_err(py, e))?;
        // Under on_error='raise' an event rejected since the last call is
        // raised here too (the engine is closed by then; calling close()
        // again returns the books).
        let mut eng = lock(py, &self.inner)?;
        self.raise_pending(py, &mut eng)?;
        drop(eng);
        let left = stats.pushed - stats.applied - stats.rejected;
        let d = stats_dict(py, &stats, left as usize)?;
        d.set_item("left", left)?;
        let mut out = Vec::new();
        for (inst, &g) in books.into_iter().zip(&self.grids) {
            out.push(into_py_book(py, inst, g)?);
        }
        Ok((out, d))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<Bound<'_, PyAny>>,
        _v: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py, true)?;
        Ok(false)
    }
}
