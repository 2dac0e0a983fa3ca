//! Bulk signal helpers over numpy arrays and their streaming twins
//! (`Rolling`, `Vpin`). The Python wrappers in `lobkit.signals` validate
//! dtypes and units; these take int64 ticks/lots/ns.

use crate::arrays::{guard, to_numpy, to_numpy2};
use crate::errors::CoreError;
use lobkit_core::signals::classify::{lee_ready, TickRule};
use lobkit_core::signals::footprint::{BarCell, LiveFootprint};
use lobkit_core::signals::profile::{value_area as core_value_area, Profile};
use lobkit_core::signals::vpin::{vpin_series, Vpin, VpinConfig};
use lobkit_core::signals::window::{rolling_sums as core_rolling, Rolling, Window};
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn window_arg(by: &str, size: i64) -> PyResult<Window> {
    Window::parse(by, size).ok_or_else(|| {
        PyValueError::new_err(format!(
            "window by={by:?} size={size}: expected by in 'time' (ns), 'events', 'volume' (lots) and size >= 1"
        ))
    })
}

fn same_len(name: &str, n: usize, got: usize) -> PyResult<()> {
    if got != n {
        return Err(PyValueError::new_err(format!(
            "{name}: length {got} != {n} (one value per event)"
        )));
    }
    Ok(())
}

/// Rolling window sums of the `(n, k)` int64 `values`; returns
/// `(sums (n, k), counts (n,))`.
#[pyfunction]
#[pyo3(signature = (ts, weight, values, *, by, size))]
pub fn rolling_sums<'py>(
    py: Python<'py>,
    ts: PyReadonlyArray1<'py, i64>,
    weight: PyReadonlyArray1<'py, i64>,
    values: PyReadonlyArray2<'py, i64>,
    by: &str,
    size: i64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let w = window_arg(by, size)?;
    let (ts, weight) = (ts.as_slice()?, weight.as_slice()?);
    let shape = values.shape();
    let (n, k) = (shape[0], shape[1]);
    same_len("ts", n, ts.len())?;
    same_len("weight", n, weight.len())?;
    let vals = values.as_slice()?;
    let (s, c) = guard(
        py,
        || Ok(py.detach(|| core_rolling(w, ts, weight, vals, k))),
    )?;
    Ok((to_numpy2(py, s, n, k)?, to_numpy(py, c)))
}

/// Trade signs (+1 buy, -1 sell, 0 unknown). `method` 'tick' or
/// 'lee_ready'; for Lee–Ready, `bid`/`ask` are the prevailing quotes in ticks
/// with `has_quote` false where either side was empty.
#[pyfunction]
#[pyo3(signature = (price, bid, ask, has_quote, *, method))]
pub fn classify_trades<'py>(
    py: Python<'py>,
    price: PyReadonlyArray1<'py, i64>,
    bid: PyReadonlyArray1<'py, i64>,
    ask: PyReadonlyArray1<'py, i64>,
    has_quote: PyReadonlyArray1<'py, bool>,
    method: &str,
) -> PyResult<Bound<'py, PyArray1<i8>>> {
    let p = price.as_slice()?;
    let (b, a, q) = (bid.as_slice()?, ask.as_slice()?, has_quote.as_slice()?);
    let tick_only = match method {
        "tick" => true,
        "lee_ready" => false,
        m => {
            return Err(PyValueError::new_err(format!(
                "method={m:?}: expected 'tick' or 'lee_ready'"
            )))
        }
    };
    if !tick_only {
        for (name, l) in [("bid", b.len()), ("ask", a.len()), ("has_quote", q.len())] {
            same_len(name, p.len(), l)?;
        }
    }
    let out = py.detach(|| {
        let mut t = TickRule::new();
        p.iter()
            .enumerate()
            .map(|(i, &px)| {
                if tick_only || !q[i] {
                    t.classify(px)
                } else {
                    lee_ready(px, Some(b[i]), Some(a[i]), &mut t)
                }
            })
            .collect::<Vec<i8>>()
    });
    Ok(PyArray1::from_vec(py, out))
}

fn vpin_cfg(bucket_volume: i64, n_buckets: crate::args::Wide, bar_ns: i64) -> PyResult<VpinConfig> {
    let n_buckets = crate::args::bounded("n_buckets", n_buckets, 1, 1 << 20, "VPIN buckets")?;
    let cfg = VpinConfig {
        bucket_volume,
        n_buckets,
        bar_ns,
    };
    if bucket_volume < 1 || n_buckets < 1 || bar_ns < 0 {
        return Err(PyValueError::new_err(format!(
            "VPIN: bucket_volume={bucket_volume} (lots) and n_buckets={n_buckets} must be >= 1, bar_ns={bar_ns} >= 0"
        )));
    }
    Ok(cfg)
}

/// Bulk VPIN over trades; returns `(vpin, cdf, buckets)`.
#[pyfunction]
#[pyo3(signature = (ts, price, size, *, bucket_volume, n_buckets, bar_ns))]
#[allow(clippy::type_complexity)]
pub fn vpin<'py>(
    py: Python<'py>,
    ts: PyReadonlyArray1<'py, i64>,
    price: PyReadonlyArray1<'py, i64>,
    size: PyReadonlyArray1<'py, i64>,
    bucket_volume: i64,
    n_buckets: crate::args::Wide,
    bar_ns: i64,
) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>, u64)> {
    let cfg = vpin_cfg(bucket_volume, n_buckets, bar_ns)?;
    let (t, p, s) = (ts.as_slice()?, price.as_slice()?, size.as_slice()?);
    same_len("price", t.len(), p.len())?;
    same_len("size", t.len(), s.len())?;
    let (v, c, b) = py
        .detach(|| vpin_series(cfg, t, p, s))
        .ok_or_else(|| PyValueError::new_err("VPIN: invalid parameters"))?;
    Ok((PyArray1::from_vec(py, v), PyArray1::from_vec(py, c), b))
}

/// Streaming rolling sums: `Rolling(by, size, width=1)`; `push(ts, values,
/// weight=0)` returns the window sums after the event.
#[derive(Debug)]
#[pyclass(name = "Rolling", module = "lobkit._core")]
pub struct PyRolling {
    inner: Rolling,
}

#[pymethods]
impl PyRolling {
    #[new]
    #[pyo3(signature = (by, size, width=crate::args::Wide::ONE), text_signature = "(by, size, width=1)")]
    fn new(by: &str, size: i64, width: crate::args::Wide) -> PyResult<Self> {
        let width = crate::args::bounded("width", width, 1, 1 << 16, "values per event")?;
        Ok(PyRolling {
            inner: Rolling::new(window_arg(by, size)?, width),
        })
    }

    /// Adds one event (`values`: `width` ints) and returns the window sums.
    #[pyo3(signature = (ts, values, weight=0))]
    fn push(&mut self, ts: i64, values: Vec<i64>, weight: i64) -> PyResult<Vec<i128>> {
        same_len("values", self.inner.width(), values.len())?;
        Ok(self.inner.push(ts, weight, &values).to_vec())
    }

    /// Events in the window.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Window sums after the last push.
    #[getter]
    fn sums(&self) -> Vec<i128> {
        self.inner.sums().to_vec()
    }

    /// Summed weight in the window (lots).
    #[getter]
    fn weight(&self) -> i128 {
        self.inner.weight()
    }
}

/// Streaming VPIN (see `lobkit.signals.vpin`).
#[derive(Debug)]
#[pyclass(name = "Vpin", module = "lobkit._core")]
pub struct PyVpin {
    inner: Vpin,
}

#[pymethods]
impl PyVpin {
    #[new]
    #[pyo3(signature = (bucket_volume, n_buckets=crate::args::Wide::of(50), bar_ns=60_000_000_000), text_signature = "(bucket_volume, n_buckets=50, bar_ns=60000000000)")]
    fn new(bucket_volume: i64, n_buckets: crate::args::Wide, bar_ns: i64) -> PyResult<Self> {
        let cfg = vpin_cfg(bucket_volume, n_buckets, bar_ns)?;
        Vpin::new(cfg)
            .map(|inner| PyVpin { inner })
            .ok_or_else(|| PyValueError::new_err("VPIN: invalid parameters"))
    }

    /// One trade: `ts` ns, `price` ticks, `size` lots. Returns the VPIN.
    fn on_trade(&mut self, ts: i64, price: i64, size: i64) -> f64 {
        self.inner.on_trade(ts, price, size);
        self.inner.value()
    }

    /// Closes the open time bar so its trades are classified (end of a
    /// stream or session); a partly filled bucket stays open. Returns the VPIN.
    fn flush(&mut self) -> f64 {
        self.inner.flush();
        self.inner.value()
    }

    /// The clock reached `ts` (ns) without a trade: closes the open bar if
    /// `ts` is at or past its end. Returns the VPIN.
    fn advance(&mut self, ts: i64) -> f64 {
        self.inner.advance(ts);
        self.inner.value()
    }

    /// Lots classified into the bucket being filled.
    #[getter]
    fn bucket_fill(&self) -> i64 {
        self.inner.bucket_fill()
    }

    /// Lots traded in the open time bar, not yet classified.
    #[getter]
    fn bar_volume(&self) -> i64 {
        self.inner.bar_volume()
    }

    /// VPIN after the last completed bucket (NaN before `n_buckets`).
    #[getter]
    fn value(&self) -> f64 {
        self.inner.value()
    }

    /// Log-normal CDF rank of the current VPIN among earlier values.
    #[getter]
    fn cdf(&self) -> f64 {
        self.inner.cdf()
    }

    /// Completed buckets.
    #[getter]
    fn buckets(&self) -> u64 {
        self.inner.buckets()
    }
}

/// Streaming volume profile (see `lobkit.signals.LiveProfile`, which adds
/// units): prices in ticks, sizes in lots.
#[derive(Debug)]
#[pyclass(name = "Profile", module = "lobkit._core")]
pub struct PyProfile {
    inner: Profile,
}

#[pymethods]
impl PyProfile {
    #[new]
    #[pyo3(signature = (step_ticks=1))]
    fn new(step_ticks: i64) -> PyResult<Self> {
        Profile::new(step_ticks)
            .map(|inner| PyProfile { inner })
            .ok_or_else(|| PyValueError::new_err(format!("step_ticks={step_ticks}: must be >= 1")))
    }

    /// One trade: `price` ticks, `size` lots (ignored unless > 0),
    /// `aggressor` +1 buy, -1 sell, 0 unknown. Nothing counted on an error.
    fn add(&mut self, price: i64, size: i64, aggressor: i64) -> PyResult<()> {
        let a = aggressor.signum() as i8;
        self.inner.add(price, size, a).map_err(CoreError)?;
        Ok(())
    }

    /// The EXECUTE and TRADE rows of an `EVENT_DTYPE` array (aggressor
    /// opposite the resting side); all or nothing. Returns the trades counted.
    fn apply(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<usize> {
        crate::arrays::with_event_slice(py, "events", events, |evs| {
            Ok(self.inner.apply(evs).map_err(CoreError)?)
        })
    }

    /// Forgets every trade (a new session).
    fn reset(&mut self) {
        self.inner.reset();
    }

    /// Ticks per row.
    #[getter]
    fn step_ticks(&self) -> i64 {
        self.inner.step()
    }

    /// Trades counted.
    #[getter]
    fn trades(&self) -> u64 {
        self.inner.trades()
    }

    /// Lots traded.
    #[getter]
    fn total(&self) -> i64 {
        self.inner.total()
    }

    /// Price (ticks) of the lowest row; None before any trade.
    #[getter]
    fn low(&self) -> Option<i64> {
        self.inner.low()
    }

    /// Price (ticks) of maximum volume (ties: the lower); None before any trade.
    #[getter]
    fn poc(&self) -> Option<i64> {
        self.inner.poc()
    }

    /// `(volume, buy, sell)` int64 arrays (lots), one per row from `low`.
    fn rows<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>) {
        let n = self.inner.rows().len();
        let (mut v, mut b, mut s) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for r in self.inner.rows() {
            v.push(r.volume);
            b.push(r.buy);
            s.push(r.sell);
        }
        (to_numpy(py, v), to_numpy(py, b), to_numpy(py, s))
    }

    /// `(low, high, volume)` of the value area holding `share` of the
    /// volume (ticks, ticks, lots); None before any trade.
    #[pyo3(signature = (share=0.7, rows_per_step=1))]
    fn value_area(&self, share: f64, rows_per_step: usize) -> Option<(i64, i64, i64)> {
        self.inner.value_area(share, rows_per_step)
    }
}

/// `(poc, low, high, area volume)` row indices of the value area over
/// `volume` (int64 lots per consecutive row); None for no rows. The one
/// statement of the rule, for the bulk profile and footprint.
#[pyfunction]
#[pyo3(signature = (volume, share, rows_per_step))]
pub fn value_area(
    volume: PyReadonlyArray1<'_, i64>,
    share: f64,
    rows_per_step: usize,
) -> PyResult<Option<(usize, usize, usize, i64)>> {
    let v = volume.as_slice()?;
    Ok(core_value_area(v, share, rows_per_step).map(|a| (a.poc, a.low, a.high, a.volume)))
}

/// Cells as `(bar, price, buy, sell, volume, trades)` int64 arrays.
type CellArrays<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
);

fn cell_arrays<'py>(py: Python<'py>, cells: impl Iterator<Item = BarCell>) -> CellArrays<'py> {
    let mut cols: [Vec<i64>; 6] = Default::default();
    for (b, p, c) in cells {
        for (col, v) in cols
            .iter_mut()
            .zip([b, p, c.buy, c.sell, c.volume, c.trades])
        {
            col.push(v);
        }
    }
    let [b, p, buy, sell, vol, n] = cols;
    (
        to_numpy(py, b),
        to_numpy(py, p),
        to_numpy(py, buy),
        to_numpy(py, sell),
        to_numpy(py, vol),
        to_numpy(py, n),
    )
}

/// Streaming footprint cells (see `lobkit.signals.LiveFootprint`, which
/// derives deltas, imbalances, CVD and POC): ns, ticks, lots.
#[derive(Debug)]
#[pyclass(name = "LiveFootprint", module = "lobkit._core")]
pub struct PyLiveFootprint {
    inner: LiveFootprint,
}

#[pymethods]
impl PyLiveFootprint {
    #[new]
    #[pyo3(signature = (bar_ns, keep_bars=None))]
    fn new(bar_ns: i64, keep_bars: Option<i64>) -> PyResult<Self> {
        let keep = match keep_bars {
            None => None,
            Some(k) if k >= 1 => Some(usize::try_from(k).unwrap_or(usize::MAX)),
            Some(k) => {
                return Err(PyValueError::new_err(format!(
                    "keep_bars={k}: must be >= 1 (or None to hold closed bars until drained)"
                )))
            }
        };
        LiveFootprint::with_cap(bar_ns, keep)
            .map(|inner| PyLiveFootprint { inner })
            .ok_or_else(|| PyValueError::new_err(format!("bar_ns={bar_ns}: must be >= 1")))
    }

    /// Most closed bars held; None: until drained.
    #[getter]
    fn keep_bars(&self) -> Option<usize> {
        self.inner.keep_bars()
    }

    /// Closed bars the cap dropped since the footprint was made or reset.
    #[getter]
    fn dropped_bars(&self) -> u64 {
        self.inner.dropped_bars()
    }

    /// Closed bars held.
    #[getter]
    fn closed_bars(&self) -> usize {
        self.inner.closed_bars()
    }

    /// The EXECUTE and TRADE rows of an `EVENT_DTYPE` array (aggressor
    /// opposite the resting side), in time order; all or nothing. Returns
    /// the trades counted.
    fn apply(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<usize> {
        crate::arrays::with_event_slice(py, "events", events, |evs| {
            Ok(self.inner.apply(evs).map_err(CoreError)?)
        })
    }

    /// Closes the open bar now (end of a session).
    fn flush(&mut self) {
        self.inner.flush();
    }

    /// Forgets everything.
    fn reset(&mut self) {
        self.inner.reset();
    }

    /// Bar length (ns).
    #[getter]
    fn bar_ns(&self) -> i64 {
        self.inner.bar_ns()
    }

    /// Start of the open bar (ns); None before any trade or after `flush`.
    #[getter]
    fn open_bar(&self) -> Option<i64> {
        self.inner.open_bar()
    }

    /// The closed cells not yet drained, then the open bar's (`include_open`),
    /// as `(bar, price, buy, sell, volume, trades)` int64 arrays, bar then
    /// price ascending.
    #[pyo3(signature = (include_open=true))]
    fn cells<'py>(&self, py: Python<'py>, include_open: bool) -> CellArrays<'py> {
        cell_arrays(py, self.inner.cells(include_open))
    }

    /// Takes the closed cells (the open bar stays), as `cells`.
    fn drain_closed<'py>(&mut self, py: Python<'py>) -> CellArrays<'py> {
        cell_arrays(py, self.inner.drain_closed().into_iter())
    }
}
