//! Binance / Bybit captures (first byte picks the venue) through their
//! keepers and into a book: a typed error, or events the book applies.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::io::decimal::Grid;
use lobkit_core::io::feed::{parse_capture, TsSource};
use lobkit_core::io::{binance, bybit};
use lobkit_core::{Instrument, L2Book};

fuzz_target!(|data: &[u8]| {
    let Some((&venue, rest)) = data.split_first() else {
        return;
    };
    let (g, t) = (Grid::units(1), TsSource::Local);
    let evs = if venue % 2 == 0 {
        parse_capture(rest, &mut binance::DepthSync::new(g, g, t), 0)
    } else {
        parse_capture(rest, &mut bybit::BybitSync::new(g, g, t), 0)
    };
    if let Ok(evs) = evs {
        let mut inst = Instrument::new(L2Book::new());
        inst.set_check_ts(false);
        let _ = inst.apply_events(&evs, true);
    }
});
