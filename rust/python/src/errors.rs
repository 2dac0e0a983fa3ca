//! Core errors -> the Python classes defined in `lobkit/errors.py`.
//!
//! The classes live in Python so each can inherit from both
//! `lobkit.errors.LobkitError` and the nearest builtin (ValueError, KeyError);
//! they are looked up once and cached.

use lobkit_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();
static INTERNAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Class names indexed by `ErrorKind::code()`.
const NAMES: [&str; lobkit_core::error::N_ERROR_CODES] = [
    "InvalidSideError",
    "InvalidKindError",
    "InvalidPriceError",
    "InvalidSizeError",
    "UnknownOrderError",
    "DuplicateOrderError",
    "OverfillError",
    "CrossedBookError",
    "TimestampOrderError",
    "ParseError",
];

fn class(py: Python<'_>, code: usize) -> PyResult<Bound<'_, PyType>> {
    let v = CLASSES.get_or_try_init(py, || -> PyResult<Vec<Py<PyType>>> {
        let m = py.import("lobkit.errors")?;
        NAMES
            .iter()
            .map(|n| Ok(m.getattr(*n)?.cast_into::<PyType>()?.unbind()))
            .collect()
    })?;
    Ok(v[code].bind(py).clone())
}

/// Builds the Python exception for a core error. `index` overrides the
/// error's own index (streaming calls pass the book's event counter).
pub fn to_pyerr(py: Python<'_>, err: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = class(py, err.kind.code())?;
        let obj = cls.call1((err.to_string(), err.index, err.kind.field()))?;
        Ok(PyErr::from_value(obj))
    };
    build().unwrap_or_else(|e| e)
}

/// A streaming-call error: no event index inside a batch, so the book's
/// running event count is reported.
pub fn kind_to_pyerr(py: Python<'_>, kind: ErrorKind, index: u64) -> PyErr {
    to_pyerr(py, &Error::at(index, kind))
}

/// `lobkit.errors.InternalError` for a caught Rust panic.
pub fn internal(py: Python<'_>, msg: String) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = INTERNAL.get_or_try_init(py, || -> PyResult<Py<PyType>> {
            Ok(py
                .import("lobkit.errors")?
                .getattr("InternalError")?
                .cast_into::<PyType>()?
                .unbind())
        })?;
        Ok(PyErr::from_value(cls.bind(py).call1((msg,))?))
    };
    build().unwrap_or_else(|e| e)
}

/// An exception of the class for `code` with a custom message (edge
/// conversions whose input was a float, not ticks).
pub fn custom(py: Python<'_>, code: usize, msg: String, index: Option<u64>, field: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = class(py, code)?;
        Ok(PyErr::from_value(cls.call1((msg, index, field))?))
    };
    build().unwrap_or_else(|e| e)
}
