//! Instruction-count workloads for the regression gate (`benches/instructions.py`).
//!
//! `instructions <workload>` builds its inputs, then runs the work inside a
//! `#[inline(never)] fn measured_*`; the driver runs this binary under
//! `valgrind --tool=callgrind --toggle-collect='*measured_*'`, so only the
//! work is counted (instructions, not seconds: repeatable whatever else the
//! machine does). Prints `events=<n>` so the driver reports instructions per
//! event. `instructions --list` names the workloads.
//!
//! Inputs are the seeded synthetic streams of `lobkit_core::synth`, so a
//! count moves only when the code (or the compiler) does.

use std::hint::black_box;

use lobkit_core::bulk::{replay, OnError, ReplayConfig};
use lobkit_core::publish::{Reader, Snapshot};
use lobkit_core::signals::vpin::{Vpin, VpinConfig};
use lobkit_core::signals::window::{Rolling, Window};
use lobkit_core::{kind, synth, Book, Event, Instrument, L2Book, L3Book};

const N: usize = 200_000;

fn l2_events() -> Vec<Event> {
    synth::l2_stream(N, 1, 1_000_000)
}

fn l3_events() -> Vec<Event> {
    synth::l3_stream(N, 2, 1_000_000, 5_000)
}

fn cfg(depth: usize, signals: bool) -> ReplayConfig {
    ReplayConfig {
        depth,
        on_error: OnError::Raise,
        check_ts: true,
        chunk: 1 << 20,
        signals,
        ..Default::default()
    }
}

/// The streaming step a bot calls per event: book, flow signals, last change
/// (with a reader subscribed, every event is also a publication: the worst
/// case for the writer).
#[inline(never)]
fn measured_step<B: Book>(inst: &mut Instrument<B>, evs: &[Event]) -> u64 {
    for e in evs {
        let _ = black_box(inst.apply(e).is_ok());
    }
    inst.events()
}

#[inline(never)]
fn measured_replay_l2(evs: &[Event], c: &ReplayConfig) -> usize {
    let mut inst = Instrument::new(L2Book::new());
    replay(&mut inst, evs, c, &mut |_| true).map_or(0, |o| o.best_bid_price.len())
}

#[inline(never)]
fn measured_replay_l3(evs: &[Event], c: &ReplayConfig, detect: bool) -> usize {
    let mut inst = Instrument::new(L3Book::new());
    if detect {
        inst.enable_detectors(Default::default());
    }
    replay(&mut inst, evs, c, &mut |_| true).map_or(0, |o| o.best_bid_price.len() + o.alerts.len())
}

/// A rolling OFI-style window: two columns over the last 1,000 events.
#[inline(never)]
fn measured_rolling(evs: &[Event]) -> i128 {
    let mut r = Rolling::new(Window::Events(1_000), 2);
    let mut acc = 0i128;
    for e in evs {
        let s = r.push(e.ts, e.size.abs(), &[e.size, e.price]);
        acc = acc.wrapping_add(s[0]);
    }
    acc
}

#[inline(never)]
fn measured_vpin(evs: &[Event]) -> u64 {
    let Some(mut v) = Vpin::new(VpinConfig {
        bucket_volume: 5_000,
        n_buckets: 50,
        bar_ns: 1_000_000,
    }) else {
        return 0;
    };
    for e in evs {
        v.on_trade(e.ts, e.price, e.size.abs().max(1));
    }
    v.buckets()
}

/// One read of a published book (the reader's side of publication).
#[inline(never)]
fn measured_read(r: &mut Reader, out: &mut Snapshot) -> u64 {
    r.read_into(out);
    out.seq
}

const WORKLOADS: &[&str] = &[
    "l2_step",
    "l3_step",
    "l2_step_publishing",
    "l2_read_each_event",
    "replay_l2_depth0",
    "replay_l2_depth10",
    "replay_l2_depth10_signals",
    "replay_l3_depth0",
    "replay_l3_depth0_detect",
    "rolling_events1000",
    "vpin",
];

fn run(name: &str) -> Option<usize> {
    let n = match name {
        "l2_step" => {
            let evs = l2_events();
            let mut inst = Instrument::new(L2Book::new());
            black_box(measured_step(&mut inst, &evs));
            evs.len()
        }
        "l3_step" => {
            let evs = l3_events();
            let mut inst = Instrument::new(L3Book::new());
            black_box(measured_step(&mut inst, &evs));
            evs.len()
        }
        "l2_step_publishing" => {
            let evs = l2_events();
            let mut inst = Instrument::new(L2Book::new());
            let reader = inst.reader(10).ok()?;
            black_box(measured_step(&mut inst, &evs));
            black_box(reader.read().seq);
            evs.len()
        }
        "l2_read_each_event" => {
            // a reader that reads after every event: each read applies one
            // message to its mirror and copies the top 10 (counted per
            // read, the stepping not counted)
            let evs = l2_events();
            let mut inst = Instrument::new(L2Book::new());
            let mut reader = inst.reader(10).ok()?;
            let mut s = Snapshot::default();
            let mut acc = 0u64;
            for e in &evs {
                // (`apply_events`, not `apply`: a second caller of `apply`
                // changed how it is inlined into `measured_step`, +25%)
                let _ = inst.apply_events(std::slice::from_ref(e), false);
                acc = acc.wrapping_add(measured_read(&mut reader, &mut s));
            }
            black_box(acc);
            evs.len()
        }
        "replay_l2_depth0" | "replay_l2_depth10" | "replay_l2_depth10_signals" => {
            let evs = l2_events();
            let c = match name {
                "replay_l2_depth0" => cfg(0, false),
                "replay_l2_depth10" => cfg(10, false),
                _ => cfg(10, true),
            };
            black_box(measured_replay_l2(&evs, &c));
            evs.len()
        }
        "replay_l3_depth0" | "replay_l3_depth0_detect" => {
            let evs = l3_events();
            black_box(measured_replay_l3(
                &evs,
                &cfg(0, false),
                name.ends_with("detect"),
            ));
            evs.len()
        }
        "rolling_events1000" => {
            let evs = l2_events();
            black_box(measured_rolling(&evs));
            evs.len()
        }
        "vpin" => {
            // trades only: the executions of the L3 stream
            let evs: Vec<Event> = l3_events()
                .into_iter()
                .filter(|e| e.kind == kind::EXECUTE)
                .collect();
            black_box(measured_vpin(&evs));
            evs.len()
        }
        _ => return None,
    };
    Some(n)
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    if arg == "--list" {
        for w in WORKLOADS {
            println!("{w}");
        }
        return;
    }
    match run(&arg) {
        Some(n) => println!("events={n}"),
        None => {
            eprintln!("unknown workload {arg:?}; one of {}", WORKLOADS.join(", "));
            std::process::exit(2);
        }
    }
}
