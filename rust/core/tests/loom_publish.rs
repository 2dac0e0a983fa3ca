//! Model check of the seqlock publication primitive with loom: every
//! interleaving (and every value a relaxed load may return under the C++11
//! memory model) of one writer publishing twice and readers copying. A copy
//! that `try_read` accepts must be exactly one publication: never torn.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p lobkit-core --test loom_publish --release`
#![cfg(loom)]

use lobkit_core::publish::SeqBlock;
use loom::sync::Arc;
use loom::thread;

fn reader(block: Arc<SeqBlock>) -> impl FnOnce() {
    move || {
        let mut buf = [0u64; 2];
        if let Ok(s) = block.try_read(&mut buf) {
            // publication k writes [k, 10k]; sequence 0 is all zero
            assert_eq!(buf, [s, 10 * s], "torn read at publication {s}");
        }
    }
}

#[test]
fn accepted_reads_are_never_torn() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(|| {
        let block = Arc::new(SeqBlock::with_slots(2, 2));
        let r1 = thread::spawn(reader(block.clone()));
        for k in 1..=3u64 {
            block.write(&[k, 10 * k]);
        }
        assert!(r1.join().is_ok());
    });
}

#[test]
fn two_readers_one_writer() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| {
        let block = Arc::new(SeqBlock::with_slots(2, 1));
        let r1 = thread::spawn(reader(block.clone()));
        let r2 = thread::spawn(reader(block.clone()));
        block.write(&[1, 10]);
        block.write(&[2, 20]);
        assert!(r1.join().is_ok());
        assert!(r2.join().is_ok());
    });
}

/// The writer stores only the words that changed since the slot's previous
/// publication (`write_with`, as `Publisher` does): an accepted copy must
/// still be exactly one publication, including the words it did not store.
#[test]
fn sparse_writes_are_whole_publications() {
    // Publication k's words; slot k % 2 last held publication k - 2.
    const PUBS: [[u64; 2]; 5] = [[0, 0], [1, 10], [2, 10], [3, 10], [3, 40]];
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(|| {
        let block = Arc::new(SeqBlock::with_slots(2, 2));
        let r = {
            let block = block.clone();
            thread::spawn(move || {
                let mut buf = [0u64; 2];
                if let Ok(s) = block.try_read(&mut buf) {
                    assert_eq!(buf, PUBS[s as usize], "torn sparse read at {s}");
                }
            })
        };
        for k in 1..PUBS.len() {
            block.write_with(|n, w| {
                assert_eq!(n as usize, k);
                let prev = if k > 2 { PUBS[k - 2] } else { [0, 0] };
                for i in 0..2 {
                    if PUBS[k][i] != prev[i] {
                        w.store(i, PUBS[k][i]);
                    }
                }
            });
        }
        assert!(r.join().is_ok());
    });
}
