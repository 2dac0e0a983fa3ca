//! Detector configuration from Python and alerts to numpy columns.

use crate::arrays::to_numpy;
use lobkit_core::detect::options::{OptionKind, OptionValue, OPTIONS};
use lobkit_core::detect::{Alert, DetectConfig};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

/// A `DetectConfig` from keyword overrides (names as in the core's option
/// table); unknown names, wrong types and out-of-range values are refused
/// with the core's message, so a typo never silently runs the defaults.
pub fn detect_config(d: Option<&Bound<'_, PyDict>>) -> PyResult<DetectConfig> {
    let mut c = DetectConfig::default();
    let Some(d) = d else { return Ok(c) };
    for (k, v) in d.iter() {
        let k: String = k.extract()?;
        // bool before int: Python's True is an int too.
        let val = if v.is_instance_of::<PyBool>() {
            OptionValue::Bool(v.extract()?)
        } else if let Ok(i) = v.extract::<i64>() {
            OptionValue::Int(i)
        } else if let Ok(x) = v.extract::<f64>() {
            OptionValue::Float(x)
        } else {
            return Err(PyValueError::new_err(format!(
                "detector option {k}: expected a number or bool, got {}",
                v.repr()?
            )));
        };
        c.set(&k, val).map_err(PyValueError::new_err)?;
    }
    Ok(c)
}

fn value_py<'py>(py: Python<'py>, v: OptionValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        OptionValue::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        OptionValue::Int(i) => i.into_pyobject(py)?.into_any(),
        OptionValue::Float(x) => x.into_pyobject(py)?.into_any(),
    })
}

/// The core's option table: a list of (name, type name, default, min, max).
#[pyfunction]
pub fn detect_options(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>> {
    let d = DetectConfig::default();
    OPTIONS
        .iter()
        .map(|o| {
            let t = match o.kind {
                OptionKind::Bool => "bool",
                OptionKind::Int => "int",
                OptionKind::Float => "float",
            };
            let row = (o.name, t, value_py(py, o.get(&d))?, o.min, o.max);
            Ok(row.into_pyobject(py)?.into_any())
        })
        .collect()
}

/// Alert kind names by code (`lobkit.detect.ALERT_KINDS`).
#[pyfunction]
pub fn alert_kind_names() -> Vec<&'static str> {
    lobkit_core::detect::alert_kind::NAMES.to_vec()
}

/// Every option of `c` as a dict.
pub fn config_dict<'py>(py: Python<'py>, c: &DetectConfig) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for o in OPTIONS {
        d.set_item(o.name, value_py(py, o.get(c))?)?;
    }
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
