//! Core errors -> the Python classes defined in `lobkit/errors.py`.
//!
//! The classes live in Python so each can inherit from both
//! `lobkit.errors.LobkitError` and the nearest builtin (ValueError, KeyError);
//! they are looked up once, by the names in the core's
//! [`lobkit_core::error::CLASS_NAMES`] (the same list `lobkit.errors.BY_CODE`
//! is built from), and cached.

use lobkit_core::error::{CLASS_NAMES, N_ERROR_CODES};
use lobkit_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

pub use lobkit_core::error::code;

static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();
static INTERNAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn class(py: Python<'_>, code: usize) -> PyResult<Bound<'_, PyType>> {
    let v = CLASSES.get_or_try_init(py, || -> PyResult<Vec<Py<PyType>>> {
        let m = py.import("lobkit.errors")?;
        CLASS_NAMES
            .iter()
            .map(|n| Ok(m.getattr(*n)?.cast_into::<PyType>()?.unbind()))
            .collect()
    })?;
    Ok(v[code.min(N_ERROR_CODES - 1)].bind(py).clone())
}

/// A core error on its way to Python: `?` turns it into the
/// `lobkit.errors` class of its kind (`From<CoreError> for PyErr`).
#[derive(Debug)]
pub struct CoreError(pub Error);

impl From<CoreError> for PyErr {
    fn from(e: CoreError) -> PyErr {
        Python::attach(|py| to_pyerr(py, &e.0))
    }
}

impl From<Error> for CoreError {
    fn from(e: Error) -> CoreError {
        CoreError(e)
    }
}

/// Attaches an event index to a core error kind (streaming calls use the
/// book's running event count).
pub trait At<T> {
    /// The result with its error as a [`CoreError`] at `index`.
    fn at(self, index: u64) -> Result<T, CoreError>;
}

impl<T> At<T> for Result<T, ErrorKind> {
    #[inline]
    fn at(self, index: u64) -> Result<T, CoreError> {
        self.map_err(|k| CoreError(Error::at(index, k)))
    }
}

/// Builds the Python exception for a core error.
pub fn to_pyerr(py: Python<'_>, err: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = class(py, err.kind.code())?;
        let obj = cls.call1((err.to_string(), err.index, err.kind.field()))?;
        Ok(PyErr::from_value(obj))
    };
    build().unwrap_or_else(|e| e)
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

/// An exception of the class of [`code`] `code` with a message of the
/// edge's own (a float price off the grid has no core error value: the core
/// only ever sees ticks).
pub fn edge_error(
    py: Python<'_>,
    code: usize,
    msg: String,
    index: Option<u64>,
    field: &str,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = class(py, code)?;
        Ok(PyErr::from_value(cls.call1((msg, index, field))?))
    };
    build().unwrap_or_else(|e| e)
}

/// The class names by code, for `lobkit.errors.BY_CODE`.
#[pyfunction]
pub fn error_class_names() -> Vec<&'static str> {
    CLASS_NAMES.to_vec()
}

/// Attaches a PEP 678 note to an exception: `add_note` on 3.11+, and on 3.10
/// (which the abi3 wheel also serves) the same `__notes__` list that
/// `add_note` would fill, so callers read the notes one way everywhere.
pub fn add_note(py: Python<'_>, err: &PyErr, note: &str) {
    let value = err.value(py);
    if value.hasattr("add_note").unwrap_or(false) {
        let _ = value.call_method1("add_note", (note,));
        return;
    }
    let notes = match value.getattr("__notes__") {
        Ok(n) if n.is_instance_of::<pyo3::types::PyList>() => n,
        _ => {
            let n = pyo3::types::PyList::empty(py).into_any();
            if value.setattr("__notes__", &n).is_err() {
                return;
            }
            n
        }
    };
    let _ = notes.call_method1("append", (note,));
}
