//! criterion: book throughput on the seeded synthetic workloads.
//! `cargo bench -p lobkit-core` (uses the bench profile = release + debug info).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use lobkit_core::bulk::{replay, OnError, ReplayConfig};
use lobkit_core::{synth, Instrument, L2Book, L3Book};

fn l2(c: &mut Criterion) {
    let evs = synth::l2_stream(1_000_000, 1, 1_000_000);
    let mut g = c.benchmark_group("l2");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.sample_size(10);
    g.bench_function("apply", |b| {
        b.iter(|| {
            let mut book = L2Book::new();
            for e in &evs {
                let _ = book.apply(e);
            }
            black_box(book.best_bid())
        })
    });
    for depth in [0usize, 10] {
        g.bench_function(format!("replay_depth{depth}"), |b| {
            let cfg = ReplayConfig {
                depth,
                on_error: OnError::Raise,
                check_ts: true,
                chunk: 1 << 20,
                signals: false,
                ..Default::default()
            };
            b.iter(|| {
                let mut inst = Instrument::new(L2Book::new());
                let out = replay(&mut inst, &evs, &cfg, &mut |_| true);
                black_box(out.map(|o| o.best_bid_price.len()).unwrap_or(0))
            })
        });
    }
    g.finish();
}

fn l3(c: &mut Criterion) {
    let evs = synth::l3_stream(1_000_000, 2, 1_000_000, 5_000);
    let mut g = c.benchmark_group("l3");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.sample_size(10);
    g.bench_function("apply", |b| {
        b.iter(|| {
            let mut book = L3Book::new();
            for e in &evs {
                let _ = book.apply(e);
            }
            black_box(book.order_count())
        })
    });
    g.bench_function("replay_depth0", |b| {
        let cfg = ReplayConfig {
            depth: 0,
            on_error: OnError::Raise,
            check_ts: true,
            chunk: 1 << 20,
            signals: false,
            ..Default::default()
        };
        b.iter(|| {
            let mut inst = Instrument::new(L3Book::new());
            let out = replay(&mut inst, &evs, &cfg, &mut |_| true);
            black_box(out.map(|o| o.best_bid_price.len()).unwrap_or(0))
        })
    });
    g.bench_function("replay_depth0_detect", |b| {
        let cfg = ReplayConfig {
            depth: 0,
            ..Default::default()
        };
        b.iter(|| {
            let mut inst = Instrument::new(L3Book::new());
            inst.enable_detectors(Default::default());
            let out = replay(&mut inst, &evs, &cfg, &mut |_| true);
            black_box(out.map(|o| o.alerts.len()).unwrap_or(0))
        })
    });
    g.finish();
}

/// Far levels (issue 12): the normal stream beside the two adversarial ones,
/// per event through `L2Book::apply`. The target is each adversarial stream
/// within 3x of the normal stream's time per event.
fn l2_far(c: &mut Criterion) {
    let n = 200_000;
    let mut g = c.benchmark_group("l2_far");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    let streams = [
        ("normal", synth::l2_stream(n, 3, 1_000_000)),
        (
            "new_best_beyond_window",
            synth::l2_far_stream(n, 3, 1_000_000, synth::FarPattern::NewBestBeyondWindow),
        ),
        (
            "flicker",
            synth::l2_far_stream(n, 3, 1_000_000, synth::FarPattern::Flicker),
        ),
    ];
    for (name, evs) in &streams {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut book = L2Book::new();
                for e in evs {
                    let _ = book.apply(e);
                }
                black_box(book.best_bid())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, l2, l3, l2_far);
criterion_main!(benches);
