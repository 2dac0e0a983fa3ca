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

/// An integer argument of the `*_ticks` / `apply_event` methods (ticks,
/// lots, side or kind codes, ns): extracted as `i64` like a plain `i64`
/// parameter — same cost on the hot path — but a Python int beyond the
/// 64-bit range saturates (and says so) instead of raising a bare
/// `OverflowError` before the book sees it. Saturated prices, sizes, sides
/// and kinds are then refused by the core with its typed error, index and
/// field; a saturated timestamp is refused by [`Wide::ts`].
#[derive(Clone, Copy, Debug)]
pub struct Wide {
    /// The value, or `i64::MIN`/`i64::MAX` when it did not fit.
    pub v: i64,
    /// True when the Python int was outside the 64-bit range.
    pub overflow: bool,
}

impl Wide {
    /// 0, for defaults.
    pub const ZERO: Wide = Wide {
        v: 0,
        overflow: false,
    };
}

impl<'a, 'py> FromPyObject<'a, 'py> for Wide {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.extract::<i64>() {
            Ok(v) => Ok(Wide { v, overflow: false }),
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyOverflowError>(obj.py()) => {
                let negative = obj.lt(0)?;
                Ok(Wide {
                    v: if negative { i64::MIN } else { i64::MAX },
                    overflow: true,
                })
            }
            Err(e) => Err(e),
        }
    }
}
