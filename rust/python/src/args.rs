//! Argument checks shared by the bindings: timeouts and size arguments,
//! refused with a clear `ValueError` before anything waits or allocates.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A timeout in seconds: `None` or `inf` (or anything too large for a
/// `Duration`) waits without limit; negative means do not wait; NaN is refused.
pub fn timeout(name: &str, t: Option<f64>) -> PyResult<Option<Duration>> {
    match t {
        None => Ok(None),
        Some(x) if x.is_nan() => Err(PyValueError::new_err(format!(
            "{name}={x}: expected seconds (a number, or None / float('inf') for no limit)"
        ))),
        Some(x) => Ok(Duration::try_from_secs_f64(x.max(0.0)).ok()),
    }
}

/// A size argument within `lo..=hi`, checked before it sizes anything.
pub fn bounded(name: &str, v: usize, lo: usize, hi: usize, what: &str) -> PyResult<usize> {
    if v < lo || v > hi {
        return Err(PyValueError::new_err(format!(
            "{name}={v}: must be within {lo}..={hi} ({what})"
        )));
    }
    Ok(v)
}
