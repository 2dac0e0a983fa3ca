//! LOBSTER message and orderbook files: a typed error or rows that convert
//! to events an L3 book accepts or refuses with a typed error — never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::io::lobster;

fuzz_target!(|data: &[u8]| {
    let _ = lobster::parse_orderbook(data);
    if let Ok(msgs) = lobster::parse_messages(data) {
        assert!(msgs.len() <= data.len(), "more rows than bytes");
    }
});
