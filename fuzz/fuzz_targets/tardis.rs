//! Tardis CSV (every schema): a typed error or events — never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::io::decimal::Grid;
use lobkit_core::io::feed::TsSource;
use lobkit_core::io::tardis::{parse, Options};

fuzz_target!(|data: &[u8]| {
    let opt = Options {
        price: Grid::units(1),
        size: Grid::units(1),
        ts: TsSource::Local,
        symbol: None,
    };
    let _ = parse(data, &opt);
});
