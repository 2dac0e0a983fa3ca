//! Kraken book captures (with their CRC32 checks): a typed error or events.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::io::decimal::Grid;
use lobkit_core::io::kraken::{parse_capture, KrakenBook};

fuzz_target!(|data: &[u8]| {
    let mut book = KrakenBook::new(Grid::units(1), Grid::units(1), "XBT/USD");
    let _ = parse_capture(data, &mut book, 0);
});
