//! Arbitrary event records through both books, both error modes: an
//! all-or-nothing call that fails leaves the instrument exactly as it was,
//! and the books stay sorted (best bid above every other bid, etc.).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::{Book, Event, Instrument, L2Book, L3Book, Side};

fn levels<B: Book>(i: &Instrument<B>) -> (Vec<(i64, i64)>, Vec<(i64, i64)>, u64) {
    let l2 = i.levels();
    (l2.levels(Side::Bid, usize::MAX), l2.levels(Side::Ask, usize::MAX), i.events())
}

fn run<B: Book>(mut inst: Instrument<B>, evs: &[Event]) {
    for chunk in evs.chunks(7) {
        let before = levels(&inst);
        if inst.apply_events(chunk, false).is_err() {
            assert_eq!(levels(&inst), before, "a failed message changed the book");
            let _ = inst.apply_events(chunk, true);
        }
        let (bids, asks, _) = levels(&inst);
        assert!(bids.windows(2).all(|w| w[0].0 > w[1].0 && w[1].1 > 0));
        assert!(asks.windows(2).all(|w| w[0].0 < w[1].0 && w[1].1 > 0));
    }
}

fuzz_target!(|data: &[u8]| {
    let evs: Vec<Event> = data.chunks_exact(40).filter_map(event).collect();
    run(Instrument::new(L2Book::new()), &evs);
    run(Instrument::new(L3Book::new()), &evs);
});

/// 40 bytes as an event (little-endian fields, as `EVENT_DTYPE`).
fn event(b: &[u8]) -> Option<Event> {
    let w = |o: usize| -> Option<i64> { Some(i64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?)) };
    let mut e = Event::new(w(0)?, *b.get(32)?, *b.get(33)? as i8, w(16)?, w(24)?, w(8)? as u64);
    e.flags = *b.get(34)?;
    Some(e)
}
