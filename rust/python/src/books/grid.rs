//! The edge between Python values and the core's integers: the price/size
//! grid of a book (price units <-> ticks, size units <-> lots), `side=`
//! arguments and the book policies' names.

use crate::errors::{code, edge_error};
use lobkit_core::units::to_steps;
use lobkit_core::{CrossPolicy, Side, UnknownIdPolicy};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyString, PyTuple};

/// Side argument: a name of the core's `SIDE_NAMES` ('bid', 'ask', 'b',
/// 'sell', ... any case) or 1 / -1. Strings are tried first: they are the
/// common spelling, and a failed integer extraction costs a Python exception.
#[inline]
pub(crate) fn side_arg(py: Python<'_>, obj: &Bound<'_, PyAny>, index: u64) -> PyResult<Side> {
    let code = if let Ok(s) = obj.cast::<PyString>() {
        // The two spellings nearly every caller uses, matched on the bytes
        // before the case-insensitive table walk.
        match s.to_str()?.as_bytes() {
            b"bid" => Some(1),
            b"ask" => Some(-1),
            other => Side::code_of_name(other),
        }
    } else if let Ok(v) = obj.extract::<i64>() {
        (v == 1 || v == -1).then_some(v as i8)
    } else {
        None
    };
    match code.and_then(Side::from_i8) {
        Some(s) => Ok(s),
        None => Err(edge_error(
            py,
            code::INVALID_SIDE,
            format!(
                "event {index}: side={} is not 1/'bid' or -1/'ask'",
                obj.repr()?
            ),
            Some(index),
            "side",
        )),
    }
}

/// Integer side of the `*_ticks` hot paths as the event's `i8`: values
/// outside `i8` saturate to values the core rejects as sides, so they can
/// never alias 1, -1 or 0 ("no side" for the L3 hints).
#[inline]
pub(crate) fn side_i8(side: i64) -> i8 {
    side.clamp(-128, 127) as i8
}

pub(crate) fn policy_cross(p: &str) -> PyResult<CrossPolicy> {
    match p {
        "allow" => Ok(CrossPolicy::Allow),
        "reject" => Ok(CrossPolicy::Reject),
        _ => Err(PyValueError::new_err(format!(
            "cross_policy={p:?}: expected 'allow' or 'reject'"
        ))),
    }
}

pub(crate) fn cross_name(p: CrossPolicy) -> &'static str {
    match p {
        CrossPolicy::Allow => "allow",
        CrossPolicy::Reject => "reject",
    }
}

pub(crate) fn policy_unknown(p: &str) -> PyResult<UnknownIdPolicy> {
    match p {
        "error" => Ok(UnknownIdPolicy::Error),
        "anonymous" => Ok(UnknownIdPolicy::Anonymous),
        "skip" => Ok(UnknownIdPolicy::Skip),
        _ => Err(PyValueError::new_err(format!(
            "unknown_id={p:?}: expected 'error', 'anonymous' or 'skip'"
        ))),
    }
}

pub(crate) fn unknown_name(p: UnknownIdPolicy) -> &'static str {
    match p {
        UnknownIdPolicy::Error => "error",
        UnknownIdPolicy::Anonymous => "anonymous",
        UnknownIdPolicy::Skip => "skip",
    }
}

/// Grid conversion shared by both books.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    /// Price units per tick.
    pub(crate) tick: f64,
    /// Size units per lot.
    pub(crate) lot: f64,
    /// 1/tick and 1/lot when they are integers (decimal grids such as 0.01):
    /// dividing by them gives the correctly rounded float (575.93, not the
    /// 575.9300000000001 that multiplying by 0.0001 gives).
    inv_tick: Option<f64>,
    inv_lot: Option<f64>,
}

fn exact_inverse(step: f64) -> Option<f64> {
    let inv = 1.0 / step;
    let r = inv.round();
    (r >= 1.0 && (inv - r).abs() <= 1e-9 * r).then_some(r)
}

impl Grid {
    pub(crate) fn new(tick: f64, lot: f64) -> PyResult<Grid> {
        if !(tick.is_finite() && tick > 0.0) {
            return Err(PyValueError::new_err(format!(
                "tick_size={tick}: must be a positive finite number"
            )));
        }
        if !(lot.is_finite() && lot > 0.0) {
            return Err(PyValueError::new_err(format!(
                "lot_size={lot}: must be a positive finite number"
            )));
        }
        Ok(Grid {
            tick,
            lot,
            inv_tick: exact_inverse(tick),
            inv_lot: exact_inverse(lot),
        })
    }

    /// Ticks to price units.
    #[inline]
    pub(crate) fn px(&self, ticks: i64) -> f64 {
        self.px_f(ticks as f64)
    }

    /// Fractional ticks (a weighted mid) to price units, same rounding as `px`.
    #[inline]
    pub(crate) fn px_f(&self, ticks: f64) -> f64 {
        match self.inv_tick {
            Some(inv) => ticks / inv,
            None => ticks * self.tick,
        }
    }

    /// Lots to size units.
    #[inline]
    pub(crate) fn sz(&self, lots: i64) -> f64 {
        match self.inv_lot {
            Some(inv) => lots as f64 / inv,
            None => lots as f64 * self.lot,
        }
    }

    /// (side, price ticks, size lots) of a float-valued streaming call.
    #[inline]
    pub(crate) fn level(
        &self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price: f64,
        size: f64,
        index: u64,
    ) -> PyResult<(i8, i64, i64)> {
        Ok((
            side_arg(py, side, index)? as i8,
            self.price(py, price, index)?,
            self.size(py, size, index)?,
        ))
    }

    /// A price in price units to ticks; off the grid raises.
    #[inline]
    pub(crate) fn price(&self, py: Python<'_>, p: f64, index: u64) -> PyResult<i64> {
        to_steps(p, self.tick).map_err(|why| {
            edge_error(
                py,
                code::INVALID_PRICE,
                format!(
                    "event {index}: price={p} is invalid for tick_size={}: {why}",
                    self.tick
                ),
                Some(index),
                "price",
            )
        })
    }

    /// A size in size units to lots; negative or off the grid raises.
    #[inline]
    pub(crate) fn size(&self, py: Python<'_>, q: f64, index: u64) -> PyResult<i64> {
        if q < 0.0 {
            return Err(edge_error(
                py,
                code::INVALID_SIZE,
                format!("event {index}: size={q} is negative"),
                Some(index),
                "size",
            ));
        }
        to_steps(q, self.lot).map_err(|why| {
            edge_error(
                py,
                code::INVALID_SIZE,
                format!(
                    "event {index}: size={q} is invalid for lot_size={}: {why}",
                    self.lot
                ),
                Some(index),
                "size",
            )
        })
    }

    /// A float that must already be a whole number of ticks/lots
    /// (`apply_snapshot(..., ticks=True)`).
    pub(crate) fn whole(py: Python<'_>, v: f64, field: &str, index: u64) -> PyResult<i64> {
        if v.fract() != 0.0 || !v.is_finite() || v.abs() > 9.0e18 {
            let c = if field == "price" {
                code::INVALID_PRICE
            } else {
                code::INVALID_SIZE
            };
            return Err(edge_error(
                py,
                c,
                format!("event {index}: {field}={v} is not an integer tick/lot count"),
                Some(index),
                field,
            ));
        }
        Ok(v as i64)
    }
}

/// The core's side spellings as (name, code) pairs (code 0 = no side), for
/// the Python table readers.
#[pyfunction]
pub fn side_names() -> Vec<(&'static str, i8)> {
    lobkit_core::types::SIDE_NAMES.to_vec()
}

/// `(a, b)` as a new Python tuple of two floats: the `best_bid`/`best_ask`
/// getters run once per event in a streaming loop, and building the floats
/// and the tuple directly skips PyO3's generic `Option<(T0, T1)>` conversion.
#[inline]
pub(crate) fn float_pair(py: Python<'_>, a: f64, b: f64) -> PyResult<Bound<'_, PyTuple>> {
    PyTuple::new(py, [PyFloat::new(py, a), PyFloat::new(py, b)])
}

/// The last Python object handed out per slot (bid 0, ask 1), keyed by the
/// integers it was built from. A streaming loop reads the best bid and ask
/// after every update while most updates leave them as they were: handing
/// back the same (immutable) object saves building it and freeing the old
/// one per call.
pub(crate) struct ObjCache<K, T> {
    slots: [Option<(K, Py<T>)>; 2],
}

impl<K: std::fmt::Debug, T> std::fmt::Debug for ObjCache<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys say what is cached; the objects are their Python form.
        let keys: Vec<Option<&K>> = self
            .slots
            .iter()
            .map(|s| s.as_ref().map(|x| &x.0))
            .collect();
        f.debug_struct("ObjCache").field("keys", &keys).finish()
    }
}

impl<K, T> Default for ObjCache<K, T> {
    fn default() -> Self {
        ObjCache {
            slots: [None, None],
        }
    }
}

impl<K: Copy + PartialEq, T> ObjCache<K, T> {
    /// The object for `key` in `slot`: the last one if `key` is unchanged,
    /// else `make()`'s, remembered.
    #[inline]
    pub(crate) fn get<'py>(
        &mut self,
        py: Python<'py>,
        slot: usize,
        key: K,
        make: impl FnOnce() -> PyResult<Bound<'py, T>>,
    ) -> PyResult<Bound<'py, T>> {
        let s = &mut self.slots[slot & 1];
        if let Some((k, o)) = s {
            if *k == key {
                return Ok(o.bind(py).clone());
            }
        }
        let o = make()?;
        *s = Some((key, o.clone().unbind()));
        Ok(o)
    }
}

/// Best prices in ticks as Python ints: beyond CPython's small-int cache,
/// so reusing the object saves an allocation.
pub(crate) type IntCache = ObjCache<i64, PyAny>;

/// Best levels (ticks, lots) as `(price, size)` float tuples.
pub(crate) type PairCache = ObjCache<(i64, i64), PyTuple>;
