//! Model check of the change-log publication (`publish::log`) with loom:
//! every interleaving of one writer committing three one-change messages
//! through a ring of 8 words (so the later messages overwrite the earlier
//! ones) and a reader reading meanwhile. A read that succeeds must be
//! exactly the book after one commit — its levels, event count and OFI —
//! never a half-applied message or a copy mixing laps of the ring. The
//! messages after the first are simple, so a reader one behind takes them
//! from the `latest` line (its own sequence lock) and one further behind
//! from the ring.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p lobkit-core --test loom_log --release`
#![cfg(loom)]

use lobkit_core::publish::{channel, FlowTotals, Snapshot};
use lobkit_core::{L2Book, Side};
use loom::thread;

/// Message k (1-based) sets bid level 100 + k to k lots.
fn expected(k: u64) -> (Vec<(i64, i64)>, u64) {
    let mut v: Vec<(i64, i64)> = (1..=k).map(|j| (100 + j as i64, j as i64)).collect();
    v.reverse();
    v.truncate(1);
    (v, k)
}

#[test]
fn reads_are_whole_commits_across_ring_laps() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| {
        let Some((mut p, mut r)) = channel(1) else {
            unreachable!("no channel")
        };
        let reader = thread::spawn(move || {
            let mut s = Snapshot::default();
            for _ in 0..2 {
                if r.try_read_into(&mut s) {
                    let (bids, events) = expected(s.seq);
                    assert_eq!((s.bids.clone(), s.events), (bids, events), "{s:?}");
                    assert_eq!(s.signals.ofi, s.seq as i64);
                }
            }
        });
        let mut l2 = L2Book::new();
        for k in 1..=3u64 {
            if let Ok(c) = l2.set_level(Side::Bid, 100 + k as i64, k as i64) {
                p.on_change(&c);
            }
            let flow = FlowTotals {
                ofi: k as i64,
                ..FlowTotals::default()
            };
            p.publish_book(&l2, k as i64, k, &flow);
        }
        assert!(reader.join().is_ok());
    });
}
