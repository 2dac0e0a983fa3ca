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
/// Taken as a [`Wide`], so a negative or beyond-64-bit Python int gets this
/// same message instead of PyO3's bare `OverflowError`.
pub fn bounded(name: &str, v: Wide, lo: usize, hi: usize, what: &str) -> PyResult<usize> {
    match usize::try_from(v.v) {
        Ok(u) if !v.overflow && (lo..=hi).contains(&u) => Ok(u),
        _ => {
            let shown = if v.overflow {
                if v.v < 0 {
                    "-(beyond 64 bits)".to_string()
                } else {
                    "(beyond 64 bits)".to_string()
                }
            } else {
                v.v.to_string()
            };
            Err(PyValueError::new_err(format!(
                "{name}={shown}: must be within {lo}..={hi} ({what})"
            )))
        }
    }
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
    pub const ZERO: Wide = Wide::of(0);
    /// 1, for defaults.
    pub const ONE: Wide = Wide::of(1);

    /// A value that fitted.
    pub const fn of(v: i64) -> Wide {
        Wide { v, overflow: false }
    }
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

/// An index argument (an engine's instrument): negative or beyond 64 bits
/// is a `ValueError` naming it; the caller checks the upper end.
pub fn index(name: &str, v: Wide) -> PyResult<usize> {
    bounded(name, v, 0, usize::MAX, "an index, 0 or more")
}
