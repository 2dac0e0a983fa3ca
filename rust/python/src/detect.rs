//! Detector configuration from Python and alerts to numpy columns.

use crate::arrays::to_numpy;
use lobkit_core::detect::{Alert, DetectConfig};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Calls `$m!(field, ...)` with every `DetectConfig` option: the one list of
/// option names (parsing and the defaults dict both use it).
macro_rules! with_options {
    ($m:ident) => {
        $m!(
            tick,
            spoofing,
            layering,
            phantom,
            iceberg,
            quote_stuffing,
            depth_collapse,
            spoof_min_ratio,
            near_steps,
            max_lifetime_ns,
            max_fill,
            min_opp_volume,
            layer_min_ratio,
            layer_min_orders,
            layer_window_ns,
            phantom_min_ratio,
            iceberg_min_refills,
            refill_ns,
            hidden_min_ratio,
            iceberg_window_ns,
            stuffing_bucket_ns,
            stuffing_rate_ratio,
            stuffing_min_msgs,
            stuffing_min_cancel_ratio,
            collapse_band_steps,
            collapse_drop,
            collapse_window_ns,
            collapse_sample_ns,
            collapse_min_depth_ratio
        )
    };
}

/// A `DetectConfig` from keyword overrides (names as the Rust fields);
/// unknown names are refused so a typo never silently runs the defaults.
pub fn detect_config(d: Option<&Bound<'_, PyDict>>) -> PyResult<DetectConfig> {
    let mut c = DetectConfig::default();
    let Some(d) = d else { return Ok(c) };
    for (k, v) in d.iter() {
        let k: String = k.extract()?;
        macro_rules! set {
            ($($f:ident),*) => {
                match k.as_str() {
                    $(stringify!($f) => { c.$f = v.extract().map_err(|e| PyValueError::new_err(format!("detector option {k}: {e}")))?; })*
                    _ => return Err(PyValueError::new_err(format!(
                        "unknown detector option {k:?}; see lobkit.detect.DEFAULTS for the names"))),
                }
            };
        }
        with_options!(set);
    }
    if c.tick < 1 || c.max_lifetime_ns < 1 || c.stuffing_bucket_ns < 1 || c.layer_min_orders < 2 {
        return Err(PyValueError::new_err(
            "detector options: tick, max_lifetime_ns, stuffing_bucket_ns must be >= 1 and layer_min_orders >= 2",
        ));
    }
    Ok(c)
}

/// The defaults as a dict (documentation and `lobkit.detect.DEFAULTS`).
#[pyfunction]
pub fn detect_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let c = DetectConfig::default();
    let d = PyDict::new(py);
    macro_rules! put { ($($f:ident),*) => { $( d.set_item(stringify!($f), c.$f)?; )* }; }
    with_options!(put);
    Ok(d)
}

/// Alerts as a dict of numpy columns (ticks / lots / ns).
pub fn alerts_dict<'py>(py: Python<'py>, a: &[Alert]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let f = |g: fn(&Alert) -> f64| PyArray1::from_vec(py, a.iter().map(g).collect());
    let i = |g: fn(&Alert) -> i64| to_numpy(py, a.iter().map(g).collect());
    d.set_item("ts", i(|x| x.ts))?;
    d.set_item("kind", i(|x| x.kind as i64))?;
    d.set_item("side", i(|x| x.side as i64))?;
    d.set_item("price_ticks", i(|x| x.price))?;
    d.set_item(
        "order_id",
        PyArray1::from_vec(py, a.iter().map(|x| x.order_id).collect()),
    )?;
    d.set_item("score", f(|x| x.score))?;
    d.set_item("size_lots", i(|x| x.size))?;
    d.set_item("size_ratio", f(|x| x.size_ratio))?;
    d.set_item("lifetime_ns", i(|x| x.lifetime_ns))?;
    d.set_item("fill_frac", f(|x| x.fill_frac))?;
    d.set_item("opp_volume_lots", i(|x| x.opp_volume))?;
    d.set_item("price_move", f(|x| x.price_move))?;
    d.set_item("count", i(|x| x.count))?;
    d.set_item("event_index", i(|x| x.event_index as i64))?;
    Ok(d)
}
