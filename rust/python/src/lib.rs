//! `lobkit._core`: thin adapters from Python to lobkit-core.
//!
//! Per-event methods take and return primitives; bulk calls take the
//! documented 40-byte event record as a byte view, release the interpreter,
//! and move Rust-built vectors into numpy without copying.

mod args;
mod arrays;
mod books;
mod consolidated;
mod detect;
mod engine;
mod errors;
mod feeds;
mod publish;
mod signals;

use pyo3::prelude::*;

// Safe without the GIL: readers and the engine are Sync (atomics, a mutex on
// the producer side), books are guarded by PyO3's borrow flags.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<books::PyL2Book>()?;
    m.add_class::<books::PyL3Book>()?;
    m.add_class::<books::view::PyLevelChange>()?;
    m.add_function(wrap_pyfunction!(books::replay::replay, m)?)?;
    m.add_function(wrap_pyfunction!(books::pickle::restore, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_class_names, m)?)?;
    m.add_function(wrap_pyfunction!(detect::detect_options, m)?)?;
    m.add_function(wrap_pyfunction!(detect::alert_kind_names, m)?)?;
    m.add_function(wrap_pyfunction!(books::grid::side_names, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::parse_lobster_messages, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::parse_lobster_orderbook, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::lobster_reconcile, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(feeds::parse_tardis, m)?)?;
    m.add_function(wrap_pyfunction!(feeds::parse_event_table, m)?)?;
    m.add_function(wrap_pyfunction!(feeds::parse_depth, m)?)?;
    m.add_function(wrap_pyfunction!(feeds::parse_kraken, m)?)?;
    m.add_function(wrap_pyfunction!(feeds::decimal_steps, m)?)?;
    m.add_class::<feeds::DepthSync>()?;
    m.add_class::<feeds::TardisStream>()?;
    m.add_class::<feeds::KrakenSync>()?;
    m.add_function(wrap_pyfunction!(feeds::snapshots_to_events, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::synthetic_l2, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::synthetic_l3, m)?)?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<consolidated::PyConsolidated>()?;
    m.add_class::<publish::PyReader>()?;
    m.add_class::<publish::PySnapshot>()?;
    m.add_class::<signals::PyRolling>()?;
    m.add_class::<signals::PyVpin>()?;
    m.add_class::<signals::PyProfile>()?;
    m.add_class::<signals::PyLiveFootprint>()?;
    m.add_function(wrap_pyfunction!(signals::rolling_sums, m)?)?;
    m.add_function(wrap_pyfunction!(signals::classify_trades, m)?)?;
    m.add_function(wrap_pyfunction!(signals::vpin, m)?)?;
    m.add_function(wrap_pyfunction!(signals::value_area, m)?)?;
    m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
    m.add("EVENT_SIZE", std::mem::size_of::<lobkit_core::Event>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
