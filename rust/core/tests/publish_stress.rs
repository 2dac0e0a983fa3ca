//! Stress: one writer applies events at full speed and publishes after every
//! one; reader threads copy snapshots as fast as they can and check each copy
//! for internal consistency. Zero torn reads over >= 10 million reads
//! (1 million in unoptimised builds).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use lobkit_core::book::Book;
use lobkit_core::publish::{channel, decode, verify, SignalValues};
use lobkit_core::signals::imbalance::queue_imbalance;
use lobkit_core::{synth, L2Book, Side};

const LEVELS: usize = 10;

fn reads_target() -> u64 {
    if cfg!(debug_assertions) {
        1_000_000
    } else {
        10_000_000
    }
}

#[test]
fn readers_never_see_a_torn_snapshot() {
    let events = synth::l2_stream(200_000, 11, 1_000_000);
    let (mut publisher, reader) = channel(LEVELS);
    let stop = Arc::new(AtomicBool::new(false));
    let total_reads = Arc::new(AtomicU64::new(0));
    let n_readers = 3;
    let mut handles = Vec::new();
    for _ in 0..n_readers {
        let r = reader.clone();
        let stop = stop.clone();
        let total = total_reads.clone();
        handles.push(std::thread::spawn(move || -> Result<u64, String> {
            let mut buf = Vec::new();
            let (mut last_seq, mut last_events, mut reads) = (0u64, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let seq = r.read_words(&mut buf);
                reads += 1;
                if !verify(&buf) {
                    return Err(format!("checksum mismatch at seq {seq}"));
                }
                let s = decode(LEVELS, seq, &buf);
                if seq < last_seq {
                    return Err(format!("seq went back {last_seq} -> {seq}"));
                }
                if seq > 0 {
                    if s.events != seq {
                        return Err(format!("seq {seq} carries events {}", s.events));
                    }
                    if seq > last_seq && s.events <= last_events && last_seq > 0 {
                        return Err("events not increasing".into());
                    }
                    if !s.bids.windows(2).all(|w| w[0].0 > w[1].0)
                        || !s.asks.windows(2).all(|w| w[0].0 < w[1].0)
                    {
                        return Err(format!("levels not sorted at seq {seq}"));
                    }
                    if s.bids.iter().chain(s.asks.iter()).any(|l| l.1 <= 0) {
                        return Err(format!("non-positive size at seq {seq}"));
                    }
                    if let (Some(b), Some(a)) = (s.bids.first(), s.asks.first()) {
                        if b.0 >= a.0 {
                            return Err(format!("crossed at seq {seq}: {b:?} {a:?}"));
                        }
                        let imb = queue_imbalance(b.1, a.1);
                        if (imb - s.signals.imbalance).abs() > 1e-12 {
                            return Err(format!("signal from another publication at seq {seq}"));
                        }
                    }
                }
                last_seq = seq;
                last_events = s.events;
                if reads % 4096 == 0 {
                    total.fetch_add(4096, Ordering::Relaxed);
                }
            }
            Ok(reads)
        }));
    }
    // The writer: full speed, one publication per event, fresh book per pass.
    let mut published = 0u64;
    let mut book = L2Book::new();
    let mut i = 0usize;
    while total_reads.load(Ordering::Relaxed) < reads_target() {
        let ev = &events[i];
        i += 1;
        if i == events.len() {
            i = 0;
            book = L2Book::new();
        }
        if book.apply_event(ev).is_err() {
            continue;
        }
        published += 1;
        let (bp, bq) = book.best_bid().unwrap_or((0, 0));
        let (ap, aq) = book.best_ask().unwrap_or((0, 0));
        let sig = SignalValues {
            imbalance: queue_imbalance(bq, aq),
            ofi: bp ^ ap,
            ..SignalValues::default()
        };
        publisher.publish(
            ev.ts,
            published,
            book.levels(Side::Bid, LEVELS).into_iter(),
            book.levels(Side::Ask, LEVELS).into_iter(),
            &sig,
        );
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
    assert!(
        failures.is_empty(),
        "torn or inconsistent snapshots: {failures:?}"
    );
    let reads: u64 = results.iter().filter_map(|r| r.as_ref().ok()).sum();
    assert!(reads >= reads_target(), "{reads} reads");
    assert!(published > 1000, "{published} publications");
    eprintln!("{reads} reads of {published} publications, 0 torn");
}
