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

/// The last Python int returned per best price (bid, ask). A streaming loop
/// reads `best_bid_ticks`/`best_ask_ticks` after every update while the best
/// rarely moves, and a price in ticks is beyond CPython's small-int cache:
/// handing back the same int object saves an allocation and a free per call.
#[derive(Debug, Default)]
pub(crate) struct IntCache {
    slots: [Option<(i64, Py<PyAny>)>; 2],
}

impl IntCache {
    /// `v` as a Python int, reusing the object of the last call for `slot`.
    #[inline]
    pub(crate) fn get(&mut self, py: Python<'_>, slot: usize, v: i64) -> PyResult<Py<PyAny>> {
        let s = &mut self.slots[slot & 1];
        if let Some((k, o)) = s {
            if *k == v {
                return Ok(o.clone_ref(py));
            }
        }
        let o = v.into_pyobject(py)?.into_any().unbind();
        *s = Some((v, o.clone_ref(py)));
        Ok(o)
    }
}

/// The last `(price, size)` tuple returned per side (bid, ask), keyed by
/// the level in ticks and lots. A streaming loop reads `best_bid` and
/// `best_ask` after every update, and most updates leave one side's best
/// level as it was: handing back the same (immutable) tuple saves two
/// floats and a tuple per call.
#[derive(Debug, Default)]
pub(crate) struct PairCache {
    slots: [Option<CachedPair>; 2],
}

/// A level (ticks, lots) and the tuple handed out for it.
type CachedPair = ((i64, i64), Py<PyTuple>);

impl PairCache {
    /// The tuple of `level` (ticks, lots) for `slot`, as price/size units.
    #[inline]
    pub(crate) fn get<'py>(
        &mut self,
        py: Python<'py>,
        slot: usize,
        level: (i64, i64),
        grid: &Grid,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let s = &mut self.slots[slot & 1];
        if let Some((k, o)) = s {
            if *k == level {
                return Ok(o.bind(py).clone());
            }
        }
        let t = float_pair(py, grid.px(level.0), grid.sz(level.1))?;
        *s = Some((level, t.clone().unbind()));
        Ok(t)
    }
}
