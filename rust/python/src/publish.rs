//! `Reader` / `Snapshot`: lock-free reads of the state a book or an engine
//! instrument publishes (the core's `publish` module), from any thread.

use crate::books::grid::Grid;
use lobkit_core::publish::{Reader, Snapshot};
use numpy::PyArray2;
use pyo3::prelude::*;

/// `levels=` of a `reader()` / engine: 1 ..= the core's `MAX_LEVELS` per side.
pub(crate) fn levels_arg(levels: crate::args::Wide) -> PyResult<usize> {
    crate::args::bounded(
        "levels",
        levels,
        1,
        lobkit_core::publish::MAX_LEVELS,
        "levels per side",
    )
}

/// A Python reader of `levels` per side, made by `make` (an instrument's
/// `reader`), on `grid`.
pub(crate) fn new_reader(
    levels: crate::args::Wide,
    grid: Grid,
    make: impl FnOnce(usize) -> Result<Reader, String>,
) -> PyResult<PyReader> {
    let r = make(levels_arg(levels)?).map_err(pyo3::exceptions::PyValueError::new_err)?;
    Ok(PyReader::new(r, grid))
}

/// One consistent snapshot: prices/sizes in price/size units.
#[pyclass(frozen, name = "Snapshot", module = "lobkit._core")]
#[derive(Debug)]
pub struct PySnapshot {
    snap: Snapshot,
    grid: Grid,
}

#[pymethods]
impl PySnapshot {
    /// Publication number (1 = first; 0 = nothing published yet).
    #[getter]
    fn seq(&self) -> u64 {
        self.snap.seq
    }
    /// Timestamp of the last event applied (ns).
    #[getter]
    fn ts(&self) -> i64 {
        self.snap.ts
    }
    /// Events the writer had applied.
    #[getter]
    fn events(&self) -> u64 {
        self.snap.events
    }
    /// Bid levels, best first: (n, 2) float64 [price, size].
    #[getter]
    fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.levels(py, &self.snap.bids)
    }
    /// Ask levels, best first: (n, 2) float64 [price, size].
    #[getter]
    fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.levels(py, &self.snap.asks)
    }
    /// Bid levels in (ticks, lots).
    #[getter]
    fn bids_ticks(&self) -> Vec<(i64, i64)> {
        self.snap.bids.clone()
    }
    /// Ask levels in (ticks, lots).
    #[getter]
    fn asks_ticks(&self) -> Vec<(i64, i64)> {
        self.snap.asks.clone()
    }
    /// OFI e_n of the last event (size units).
    #[getter]
    fn ofi(&self) -> f64 {
        self.grid.sz(self.snap.signals.ofi)
    }
    /// Running OFI (size units).
    #[getter]
    fn ofi_total(&self) -> f64 {
        self.grid.sz(self.snap.signals.ofi_total)
    }
    /// Running message-accounting OFI (size units).
    #[getter]
    fn ofi_msg_total(&self) -> f64 {
        self.grid.sz(self.snap.signals.ofi_msg_total)
    }
    /// Level-1 queue imbalance in [-1, 1].
    #[getter]
    fn imbalance(&self) -> f64 {
        self.snap.signals.imbalance
    }
    /// Size-weighted mid (price units; NaN when a side is empty).
    #[getter]
    fn weighted_mid(&self) -> f64 {
        self.grid.px_f(self.snap.signals.weighted_mid)
    }
    fn __repr__(&self) -> String {
        let lv = |v: &[(i64, i64)]| {
            v.first().map_or("-".to_string(), |&(p, q)| {
                format!("{}x{}", self.grid.px(p), self.grid.sz(q))
            })
        };
        format!(
            "Snapshot(seq={}, events={}, ts={}, bid={}, ask={}, levels={}/{})",
            self.snap.seq,
            self.snap.events,
            self.snap.ts,
            lv(&self.snap.bids),
            lv(&self.snap.asks),
            self.snap.bids.len(),
            self.snap.asks.len()
        )
    }
}

impl PySnapshot {
    fn levels<'py>(
        &self,
        py: Python<'py>,
        v: &[(i64, i64)],
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let rows: Vec<Vec<f64>> = v
            .iter()
            .map(|&(p, q)| vec![self.grid.px(p), self.grid.sz(q)])
            .collect();
        if rows.is_empty() {
            return Ok(PyArray2::<f64>::zeros(py, [0, 2], false));
        }
        Ok(PyArray2::from_vec2(py, &rows)?)
    }
}

/// A lock-free reader of one book's snapshots, usable from any thread.
#[pyclass(frozen, name = "Reader", module = "lobkit._core")]
#[derive(Debug)]
pub struct PyReader {
    inner: Reader,
    grid: Grid,
}

impl PyReader {
    pub(crate) fn new(inner: Reader, grid: Grid) -> Self {
        PyReader { inner, grid }
    }
}

#[pymethods]
impl PyReader {
    /// The latest consistent snapshot: the book after the last committed
    /// message. Each Reader keeps its own copy of the top of the book and
    /// catches it up from the writer's change log; never blocks the writer.
    fn read(&self, py: Python<'_>) -> PyResult<PySnapshot> {
        let snap = py.detach(|| self.inner.read());
        Ok(PySnapshot {
            snap,
            grid: self.grid,
        })
    }

    /// The latest publication number (one atomic load).
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq()
    }

    /// Levels per side in each snapshot.
    #[getter]
    fn levels(&self) -> usize {
        self.inner.levels()
    }

    /// Waits (interpreter released) until a publication newer than `seq`
    /// is visible; returns its number, or None after `timeout` seconds.
    #[pyo3(signature = (seq, timeout=None))]
    fn wait(&self, py: Python<'_>, seq: u64, timeout: Option<f64>) -> PyResult<Option<u64>> {
        // None / inf (or too long to add to now): wait without limit.
        let deadline = crate::args::timeout("timeout", timeout)?
            .and_then(|t| std::time::Instant::now().checked_add(t));
        Ok(py.detach(|| {
            let mut spins = 0u32;
            loop {
                let s = self.inner.seq();
                if s > seq {
                    return Some(s);
                }
                if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                    return None;
                }
                spins = spins.wrapping_add(1);
                if spins % 128 == 0 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }))
    }

    /// Copies `n` snapshots back to back in Rust, checking each one's
    /// level ordering, positive sizes, and that publication numbers and
    /// event counts never go back (a stress-test helper
    /// that runs at native speed with the interpreter released). Returns
    /// (reads, distinct publications seen, failures).
    fn check_reads(&self, py: Python<'_>, n: u64) -> (u64, u64, u64) {
        let r = self.inner.clone();
        py.detach(move || {
            let (mut last, mut last_events, mut distinct, mut bad) = (0u64, 0u64, 0u64, 0u64);
            for _ in 0..n {
                let s = r.read();
                let seq = s.seq;
                let sorted = s.bids.windows(2).all(|w| w[0].0 > w[1].0)
                    && s.asks.windows(2).all(|w| w[0].0 < w[1].0);
                let positive = s.bids.iter().chain(s.asks.iter()).all(|l| l.1 > 0);
                if !sorted || !positive || seq < last || s.events < last_events {
                    bad += 1;
                }
                if seq > last {
                    distinct += 1;
                }
                last = seq;
                last_events = s.events;
            }
            (n, distinct, bad)
        })
    }
}
