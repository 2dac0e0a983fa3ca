//! Zero heap allocations per event in steady state, counted by a wrapping
//! global allocator.

use lobkit_core::{synth, L2Book, L3Book};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread: the test harness runs tests in parallel threads.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    ALLOCS.with(|c| c.set(c.get() + 1));
}

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

#[allow(unsafe_code)]
// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn l2_steady_state_allocates_nothing() {
    let evs = synth::l2_stream(400_000, 7, 1_000_000);
    let mut b = L2Book::new();
    // Warm-up: far levels and the re-centring scratch buffer reach their size.
    for e in &evs[..200_000] {
        assert!(b.apply(e).is_ok());
    }
    let before = allocs();
    for e in &evs[200_000..] {
        assert!(b.apply(e).is_ok());
    }
    let n = allocs() - before;
    assert_eq!(n, 0, "{n} allocations over 200k L2 events");
    assert_eq!(b.stats.crossed, 0);
}

#[test]
fn l3_steady_state_allocates_nothing() {
    let evs = synth::l3_stream(900_000, 11, 1_000_000, 2_000);
    let mut b = L3Book::new();
    for e in &evs[..600_000] {
        assert!(b.apply(e).is_ok());
    }
    let before = allocs();
    for e in &evs[600_000..] {
        assert!(b.apply(e).is_ok());
    }
    let n = allocs() - before;
    assert_eq!(n, 0, "{n} allocations over 300k L3 events");
    assert_eq!(b.l2().stats.crossed, 0);
}
