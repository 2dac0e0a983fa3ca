//! Stress: one writer applies events at full speed and publishes after every
//! one; reader threads copy snapshots as fast as they can and compare every
//! copy with the writer's own record of that publication (a hash of its
//! rows, counts and figures, stored before the publication is released, so
//! a reader that sees publication `n` sees its record). Exact equality is
//! stronger than any checksum: a copy mixing two publications, a stale row
//! the incremental writer forgot to store, or a row count from another
//! publication all fail it. Zero mismatches over >= 10 million reads
//! (1 million in unoptimised builds), for the instrument's change log
//! (each reader thread keeping its own top of the book from it) and the
//! seqlock state publisher's plain `publish`.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use lobkit_core::book::Book;
use lobkit_core::publish::{decode, state_channel, FlowTotals, Snapshot, StateReader};
use lobkit_core::{synth, Event, Instrument, L2Book, Side};

const LEVELS: usize = 10;
/// Publications recorded at most (the writer stops there).
const RECORDS: usize = 1 << 23;

fn reads_target() -> u64 {
    if cfg!(debug_assertions) {
        1_000_000
    } else {
        10_000_000
    }
}

/// What a publication holds, hashed (0 is reserved for "not recorded").
fn digest(ts: i64, events: u64, ofi: [i64; 3], bids: &[(i64, i64)], asks: &[(i64, i64)]) -> u64 {
    let mut h = DefaultHasher::new();
    (ts, events, ofi, bids, asks).hash(&mut h);
    h.finish() | 1
}

fn snapshot_digest(s: &Snapshot) -> u64 {
    let f = s.signals;
    digest(
        s.ts,
        s.events,
        [f.ofi, f.ofi_total, f.ofi_msg_total],
        &s.bids,
        &s.asks,
    )
}

/// Runs `n_readers` readers against `publish_next`, which applies the next
/// event, records the digest of what it is about to publish at
/// `record[seq]` and publishes; returns (reads, publications). `done` are
/// the digests of the publications made before (from 1).
fn stress<R: Clone + Send + 'static>(
    reader: R,
    read: fn(&mut R, &mut Vec<u64>) -> Snapshot,
    done: &[u64],
    mut publish_next: impl FnMut(&[AtomicU64]) -> bool,
) -> (u64, u64) {
    let record: Arc<Vec<AtomicU64>> = Arc::new((0..RECORDS).map(|_| AtomicU64::new(0)).collect());
    for (i, &d) in done.iter().enumerate() {
        record[i + 1].store(d, Ordering::Relaxed);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let total_reads = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (mut r, stop, total, record) = (
                reader.clone(),
                stop.clone(),
                total_reads.clone(),
                record.clone(),
            );
            std::thread::spawn(move || -> Result<u64, String> {
                let mut buf = Vec::new();
                let (mut last_seq, mut reads) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let s = read(&mut r, &mut buf);
                    let seq = s.seq;
                    reads += 1;
                    if seq < last_seq {
                        return Err(format!("seq went back {last_seq} -> {seq}"));
                    }
                    last_seq = seq;
                    if seq > 0 {
                        let want = record[seq as usize].load(Ordering::Relaxed);
                        if want != snapshot_digest(&s) {
                            return Err(format!("copy of publication {seq} differs: {s:?}"));
                        }
                    }
                    if reads % 4096 == 0 {
                        total.fetch_add(4096, Ordering::Relaxed);
                    }
                }
                Ok(reads)
            })
        })
        .collect();
    let mut published = 0u64;
    while total_reads.load(Ordering::Relaxed) < reads_target() && (published as usize) < RECORDS - 2
    {
        if publish_next(&record) {
            published += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let results: Vec<Result<u64, String>> = handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("reader thread panicked".into()))
        })
        .collect();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "torn or wrong snapshots: {failures:?}");
    let reads: u64 = results.iter().filter_map(|r| r.as_ref().ok()).sum();
    (reads, published)
}

fn check(reads: u64, published: u64, what: &str) {
    // The writer stops at the record limit only if readers are starved.
    assert!(reads >= reads_target(), "{what}: {reads} reads");
    assert!(published > 1000, "{what}: {published} publications");
    eprintln!("{what}: {reads} reads of {published} publications, 0 wrong");
}

/// The events, looped; the book starts afresh on each pass (a CLEAR, which
/// makes the incremental publisher re-read its rows).
fn looped(events: Vec<Event>) -> impl FnMut() -> Event {
    let mut i = 0usize;
    move || {
        let mut e = events[i % events.len()];
        if i % events.len() == 0 {
            e.kind = lobkit_core::types::kind::CLEAR;
        }
        // Timestamps keep rising across passes.
        e.ts += (i / events.len()) as i64 * 1_000_000_000_000;
        i += 1;
        e
    }
}

#[test]
fn incremental_publication_is_never_torn_or_stale() {
    let mut next = looped(synth::l2_stream(200_000, 11, 1_000_000));
    let mut inst = Instrument::new(L2Book::new());
    let reader = inst.reader(LEVELS);
    assert!(reader.is_ok(), "no reader of {LEVELS} levels");
    let Ok(reader) = reader else { return };
    let own = reader.clone();
    // `reader()` published the empty book at once.
    let empty = digest(0, 0, [0; 3], &[], &[]);
    let (reads, published) = stress(
        reader,
        // Each thread its own handle, read without a lock (`read()`, the
        // shared handle's form, goes through the same catch-up).
        |r, _| {
            let mut s = Snapshot::default();
            r.read_into(&mut s);
            s
        },
        &[empty],
        |record| {
            let ev = next();
            // Only this thread publishes: the next publication's number.
            let seq = own.seq() + 1;
            // Apply without publishing, record, then publish.
            if inst.step(&ev).is_err() {
                return false;
            }
            let l2 = inst.levels();
            let f = inst.flow().totals();
            let d = digest(
                l2.last_ts,
                inst.events(),
                [f.ofi, f.ofi_total, f.ofi_msg_total],
                &l2.levels(Side::Bid, LEVELS),
                &l2.levels(Side::Ask, LEVELS),
            );
            record[seq as usize].store(d, Ordering::Relaxed);
            inst.publish();
            true
        },
    );
    check(reads, published, "publish_book");
}

#[test]
fn plain_publication_is_never_torn() {
    let mut next = looped(synth::l2_stream(200_000, 12, 1_000_000));
    let (mut publisher, reader) = state_channel(LEVELS);
    let mut book = L2Book::new();
    let mut n = 0u64;
    let read = |r: &mut StateReader, buf: &mut Vec<u64>| {
        let seq = r.read_words(buf);
        decode(LEVELS, seq, buf)
    };
    let (reads, published) = stress(reader, read, &[], |record| {
        let ev = next();
        if book.apply_event(&ev).is_err() {
            return false;
        }
        n += 1;
        let (bids, asks) = (
            book.levels(Side::Bid, LEVELS),
            book.levels(Side::Ask, LEVELS),
        );
        let f = FlowTotals {
            ofi: n as i64 ^ 0x55,
            ofi_total: ev.price,
            ofi_msg_total: -(n as i64),
        };
        let d = digest(
            ev.ts,
            n,
            [f.ofi, f.ofi_total, f.ofi_msg_total],
            &bids,
            &asks,
        );
        record[publisher.published() as usize + 1].store(d, Ordering::Relaxed);
        publisher.publish(ev.ts, n, bids.into_iter(), asks.into_iter(), &f);
        true
    });
    check(reads, published, "publish");
}
