//! lobkit's event-table CSV: a typed error or events — never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::io::decimal::Grid;
use lobkit_core::io::table::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, &Grid::units(1), &Grid::units(1));
});
