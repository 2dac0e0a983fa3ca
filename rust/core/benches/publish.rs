//! One writer, R readers, three ways to share a book (issue 12):
//!
//! * `change log` — lobkit's publisher: the writer applies each event
//!   through `Instrument::apply` (one streaming event = one message = one
//!   publication), which logs the book's level changes and commits them;
//!   readers keep their own top of the book from the log
//!   (`Reader::read_into`, the `Snapshot` a Python `read()` gets).
//! * `seqlock state` — the publisher before it (`publish::StatePublisher`):
//!   the writer keeps the sorted top N and stores the changed rows of a
//!   slot under a sequence lock; readers copy the slot (`read_words`).
//! * `mutex`    — the instrument behind a `std::sync::Mutex`: the writer
//!   locks, applies, unlocks; a reader locks and copies the same snapshot
//!   (top N levels a side, flow signals, event count).
//! * `rwlock`   — the same behind a `std::sync::RwLock` (readers share).
//!
//! Same events, same outputs, one process. Reported per design and R (0 ..
//! cores − 1): writer events/s, reader consistent copies/s (each reader),
//! and reader lag (events the writer had applied beyond the copy it got,
//! sampled per copy: median and 99th percentile). Medians over `REPEAT`
//! runs, with min–max.
//!
//! Two workloads: the synthetic L2 stream with one event a message (a
//! publication per event, the worst case) and a real Binance USD-M capture
//! published once per feed message (what a bot keeping a book from the feed
//! does). The lock designs hold the lock for a whole message too.
//!
//! Also a control: a "busy core" whose reader thread spins on nothing
//! shared (what a busy second core alone costs the writer on this VM).
//! Designs run interleaved, a round at a time, and the writer ratios are
//! taken within each round.
//!
//! `cargo bench -p lobkit-core --bench publish` (add `-- --quick` for a
//! short smoke run, `--repeat N` for N rounds, `--real-only`,
//! `--idle-reader` to keep a reader handle alive that never reads at R = 0:
//! the cost of publication itself).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use lobkit_core::io::binance::DepthSync;
use lobkit_core::io::feed::{parse_capture, TsSource};
use lobkit_core::publish::{decode, state_channel, Snapshot};
use lobkit_core::{synth, Event, Instrument, L2Book, Side};

const LEVELS: usize = 10;

/// The writer's progress, padded to its own cache line so that storing it
/// does not disturb the data the readers copy (same for every design).
#[repr(align(64))]
struct Progress(AtomicU64);

#[derive(Clone, Copy, Default)]
struct Run {
    writer_eps: f64,
    reader_cps: f64,
    lag_p50: f64,
    lag_p99: f64,
}

/// What a lock-based reader copies: the same words a snapshot holds (top
/// `LEVELS` rows a side, the flow totals, timestamp and event count); like
/// the seqlock reader it leaves imbalance and weighted mid to be derived.
fn copy_locked(inst: &Instrument<L2Book>, out: &mut Vec<(i64, i64)>) -> u64 {
    out.clear();
    let l2 = inst.levels();
    l2.for_each_level(Side::Bid, LEVELS, |p, q| out.push((p, q)));
    l2.for_each_level(Side::Ask, LEVELS, |p, q| out.push((p, q)));
    let f = inst.flow().totals();
    out.push((f.ofi, f.ofi_total));
    out.push((f.ofi_msg_total, l2.last_ts));
    inst.events()
}

fn percentile(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p) as usize] as f64
}

/// A reader thread's loop: `copy(sample)` makes one consistent copy and,
/// when `sample` (every 256th copy), returns the event count it holds, for
/// the lag behind the writer's progress. Returns (copies, lags).
fn copy_loop(
    stop: &AtomicBool,
    progress: &Progress,
    mut copy: impl FnMut(bool) -> u64,
) -> (u64, Vec<u64>) {
    let (mut n, mut lags) = (0u64, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let sample = n & 255 == 0;
        let events = copy(sample);
        let at = progress.0.load(Ordering::Relaxed);
        if sample {
            lags.push(at.saturating_sub(events));
        }
    }
    (n, lags)
}

/// Runs the readers while `writer` runs; returns the run's figures.
fn measure(
    readers: usize,
    progress: &Arc<Progress>,
    writer: impl FnOnce() -> f64,
    reader: impl Fn(&AtomicBool, &Progress) -> (u64, Vec<u64>) + Send + Sync + Clone + 'static,
) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (stop, progress, reader) = (stop.clone(), progress.clone(), reader.clone());
            std::thread::spawn(move || {
                let t = Instant::now();
                let (copies, lags) = reader(&stop, &progress);
                (copies as f64 / t.elapsed().as_secs_f64(), lags)
            })
        })
        .collect();
    let writer_eps = writer();
    stop.store(true, Ordering::Relaxed);
    let mut cps = 0.0;
    let mut lags = Vec::new();
    for h in handles {
        if let Ok((c, l)) = h.join() {
            cps += c;
            lags.extend(l);
        }
    }
    Run {
        writer_eps,
        reader_cps: if readers > 0 {
            cps / readers as f64
        } else {
            0.0
        },
        lag_p50: percentile(&mut lags, 0.5),
        lag_p99: percentile(&mut lags, 0.99),
    }
}

/// A workload: its events and the end of each feed message in them (a
/// message is one `apply_events` call, published once at its end).
struct Work {
    name: String,
    events: Vec<Event>,
    ends: Vec<usize>,
}

impl Work {
    /// The messages, in order.
    fn messages(&self) -> impl Iterator<Item = &[Event]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| &self.events[a..b])
    }
}

fn writer_loop(work: &Work, progress: &Progress, mut apply: impl FnMut(&[Event])) -> f64 {
    let t = Instant::now();
    let mut done = 0u64;
    for (i, m) in work.messages().enumerate() {
        apply(m);
        done += m.len() as u64;
        if i & 7 == 7 {
            progress.0.store(done, Ordering::Relaxed);
        }
    }
    work.events.len() as f64 / t.elapsed().as_secs_f64()
}

/// One message: `Instrument::apply` for one event (the streaming call),
/// `apply_events` (one publication at its end) for more.
fn apply_message(inst: &mut Instrument<L2Book>, m: &[Event]) {
    match m {
        [e] => {
            let _ = inst.apply(e);
        }
        _ => {
            let _ = inst.apply_events(m, false);
        }
    }
}

/// Whether R = 0 keeps a reader handle that never reads (`--idle-reader`):
/// the cost of publication itself. Without it the handle is dropped and
/// the publisher stops publishing (what a book whose readers are gone
/// costs).
fn idle_reader() -> bool {
    std::env::args().any(|a| a == "--idle-reader")
}

fn run_log(work: &Arc<Work>, readers: usize) -> Run {
    let progress = Arc::new(Progress(AtomicU64::new(0)));
    let mut inst = Instrument::new(L2Book::new());
    let Ok(r) = inst.reader(LEVELS) else {
        return Run::default();
    };
    let r = (readers > 0 || idle_reader()).then_some(r);
    let w = work.clone();
    let p = progress.clone();
    measure(
        readers,
        &progress,
        move || writer_loop(&w, &p, |m| apply_message(&mut inst, m)),
        move |stop, progress| {
            let Some(r) = &r else {
                return (0, Vec::new());
            };
            // Each reader thread its own handle (its own mirror), read
            // with `read_into(&mut self)`: no lock.
            let (mut r, mut s) = (r.clone(), Snapshot::default());
            copy_loop(stop, progress, |_| {
                r.read_into(&mut s);
                s.events
            })
        },
    )
}

/// The state publisher, driven as the instrument drove it: each event
/// stepped and its level changes given to the publisher, one publication
/// at the end of each message.
fn run_state(work: &Arc<Work>, readers: usize) -> Run {
    let progress = Arc::new(Progress(AtomicU64::new(0)));
    let mut inst = Instrument::new(L2Book::new());
    let (mut publisher, r) = state_channel(LEVELS);
    let r = (readers > 0 || idle_reader()).then_some(r);
    let w = work.clone();
    let p = progress.clone();
    measure(
        readers,
        &progress,
        move || {
            writer_loop(&w, &p, |m| {
                for e in m {
                    if inst.step(e).is_ok() {
                        for c in inst.last_step().changes.iter() {
                            publisher.on_change(c, inst.levels());
                        }
                    }
                }
                let l2 = inst.levels();
                publisher.publish_book(l2, l2.last_ts, inst.events(), &inst.flow().totals());
            })
        },
        move |stop, progress| {
            let Some(r) = &r else {
                return (0, Vec::new());
            };
            // The raw copy, decoded only when sampled.
            let mut buf = Vec::new();
            copy_loop(stop, progress, |sample| {
                let seq = r.read_words(&mut buf);
                if sample {
                    decode(LEVELS, seq, &buf).events
                } else {
                    0
                }
            })
        },
    )
}

/// A lock around the instrument: the writer applies under `write`, a
/// reader copies under `read` (a `Mutex` has one mode for both).
trait Guarded: Send + Sync + 'static {
    fn new(i: Instrument<L2Book>) -> Self;
    fn write(&self, f: impl FnOnce(&mut Instrument<L2Book>));
    fn read(&self, f: impl FnOnce(&Instrument<L2Book>) -> u64) -> Option<u64>;
}

impl Guarded for Mutex<Instrument<L2Book>> {
    fn new(i: Instrument<L2Book>) -> Self {
        Mutex::new(i)
    }
    fn write(&self, f: impl FnOnce(&mut Instrument<L2Book>)) {
        if let Ok(mut g) = self.lock() {
            f(&mut g);
        }
    }
    fn read(&self, f: impl FnOnce(&Instrument<L2Book>) -> u64) -> Option<u64> {
        self.lock().ok().map(|g| f(&g))
    }
}

impl Guarded for RwLock<Instrument<L2Book>> {
    fn new(i: Instrument<L2Book>) -> Self {
        RwLock::new(i)
    }
    fn write(&self, f: impl FnOnce(&mut Instrument<L2Book>)) {
        if let Ok(mut g) = RwLock::write(self) {
            f(&mut g);
        }
    }
    fn read(&self, f: impl FnOnce(&Instrument<L2Book>) -> u64) -> Option<u64> {
        RwLock::read(self).ok().map(|g| f(&g))
    }
}

fn run_locked<L: Guarded>(work: &Arc<Work>, readers: usize) -> Run {
    let progress = Arc::new(Progress(AtomicU64::new(0)));
    let shared = Arc::new(L::new(Instrument::new(L2Book::new())));
    let (w, p, g) = (work.clone(), progress.clone(), shared.clone());
    measure(
        readers,
        &progress,
        // The lock is held for a whole message, so readers never see one
        // half applied (as the publisher publishes at its end).
        move || writer_loop(&w, &p, |m| g.write(|i| apply_message(i, m))),
        move |stop, progress| {
            let (mut buf, mut n, mut lags) = (Vec::with_capacity(64), 0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let Some(ev) = shared.read(|g| copy_locked(g, &mut buf)) else {
                    break;
                };
                let at = progress.0.load(Ordering::Relaxed);
                n += 1;
                if n & 255 == 0 {
                    lags.push(at.saturating_sub(ev));
                }
            }
            (n, lags)
        },
    )
}

/// A reader thread that touches nothing the writer uses: what a busy
/// second core alone costs the writer on this machine (a control for the
/// VM's placement; the other designs' readers add their cache traffic to
/// this).
fn run_busy(work: &Arc<Work>, readers: usize) -> Run {
    let progress = Arc::new(Progress(AtomicU64::new(0)));
    let mut inst = Instrument::new(L2Book::new());
    let (w, p) = (work.clone(), progress.clone());
    measure(
        readers,
        &progress,
        move || writer_loop(&w, &p, |m| apply_message(&mut inst, m)),
        move |stop, _| {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..100 {
                    n = std::hint::black_box(n.wrapping_mul(31).wrapping_add(1));
                }
            }
            (n & 1, Vec::new())
        },
    )
}

/// The bare book, no sharing at all, the same calls: the reference for
/// "writer ≥ 0.7x".
fn run_bare(work: &Arc<Work>) -> Run {
    let progress = Progress(AtomicU64::new(0));
    let mut inst = Instrument::new(L2Book::new());
    Run {
        writer_eps: writer_loop(work, &progress, |m| apply_message(&mut inst, m)),
        ..Run::default()
    }
}

fn median_spread(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// The synthetic stream, one event a message (the streaming worst case:
/// a publication per event).
fn synthetic(n: usize) -> Work {
    let events = synth::l2_stream(n, 1, 1_000_000);
    Work {
        name: format!("{n} synthetic L2 events, one a message"),
        ends: (1..=events.len()).collect(),
        events,
    }
}

/// A real Binance USD-M BTCUSDT depth capture, one publication per feed
/// message (what `BinanceDepth(book=).on_message` does): the shared capture
/// when present, else the excerpt in the package. Decompressed with
/// `gzip -dc` (no compression crate for a bench).
fn binance(max_events: usize) -> Option<Work> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let paths = [
        root.join("../shared/data/binance/usdm/btcusdt_20240808.gz"),
        root.join("python/lobkit/data/binance/btcusdt_usdm_20240808_head4000.gz"),
    ];
    let path = paths.iter().find(|p| p.exists())?;
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .ok()?;
    let grid = |s: &str| lobkit_core::io::decimal::Grid::parse(s).ok();
    let mut sync = DepthSync::new(grid("0.1")?, grid("0.001")?, TsSource::Local);
    let mut events = parse_capture(&out.stdout, &mut sync, 0).ok()?;
    events.truncate(max_events);
    let mut ends: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.flags & lobkit_core::io::flags::LAST != 0)
        .map(|(i, _)| i + 1)
        .collect();
    if ends.last() != Some(&events.len()) {
        ends.push(events.len());
    }
    let name = format!(
        "{} real Binance USD-M BTCUSDT events in {} messages ({})",
        events.len(),
        ends.len(),
        path.file_name()?.to_string_lossy()
    );
    Some(Work { name, events, ends })
}

/// Command-line options: `--quick` (200k events, one round),
/// `--repeat N` (rounds), `--real-only` (skip the synthetic stream),
/// `--idle-reader` (see [`idle_reader`]).
struct Opts {
    n: usize,
    repeat: usize,
    real_only: bool,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let repeat = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    Opts {
        n: if quick { 200_000 } else { 2_000_000 },
        repeat: repeat.unwrap_or(if quick { 1 } else { 7 }).max(1),
        real_only: args.iter().any(|a| a == "--real-only"),
    }
}

/// Every design at every R, interleaved: each round runs the bare book and
/// then each design once, so that a slow minute of this shared VM hits all
/// of them alike; the ratios are taken within a round (seqlock ÷ other),
/// reported as the median and range over the rounds.
fn report(work: &Arc<Work>, repeat: usize, cores: usize) {
    println!(
        "{}: one writer, R readers (cores {cores}), {LEVELS} levels a side, median of {repeat} interleaved rounds (min-max)",
        work.name
    );
    type Design = fn(&Arc<Work>, usize) -> Run;
    let designs: [(&str, Design); 5] = [
        ("change log", run_log),
        ("seqlock state", run_state),
        ("Mutex", run_locked::<Mutex<Instrument<L2Book>>>),
        ("RwLock", run_locked::<RwLock<Instrument<L2Book>>>),
        ("busy core", run_busy),
    ];
    for r in 0..cores {
        let mut bare = Vec::new();
        let mut runs: Vec<Vec<Run>> = vec![Vec::new(); designs.len()];
        for _ in 0..repeat {
            bare.push(run_bare(work).writer_eps);
            for (k, (_, f)) in designs.iter().enumerate() {
                runs[k].push(f(work, r));
            }
        }
        let (b, lo, hi) = median_spread(&mut bare.clone());
        println!(
            "  R={r} bare book (no sharing)       writer {:6.2} M ev/s ({:.2}-{:.2})",
            b / 1e6,
            lo / 1e6,
            hi / 1e6
        );
        for ((name, _), runs) in designs.iter().zip(&runs) {
            let mut w: Vec<f64> = runs.iter().map(|x| x.writer_eps).collect();
            let mut to_bare: Vec<f64> = w.iter().zip(&bare).map(|(x, b)| x / b).collect();
            let mut c: Vec<f64> = runs.iter().map(|x| x.reader_cps).collect();
            let mut l50: Vec<f64> = runs.iter().map(|x| x.lag_p50).collect();
            let mut l99: Vec<f64> = runs.iter().map(|x| x.lag_p99).collect();
            let (wm, wl, wh) = median_spread(&mut w);
            let (tb, tl, th) = median_spread(&mut to_bare);
            let (cm, cl, ch) = median_spread(&mut c);
            println!(
                "  R={r} {name:<22} writer {:6.2} M ev/s ({:.2}-{:.2}) = {tb:4.2}x bare ({tl:.2}-{th:.2})   reader {:6.2} M copies/s ({:.2}-{:.2})   lag p50 {:.0} p99 {:.0} events",
                wm / 1e6,
                wl / 1e6,
                wh / 1e6,
                cm / 1e6,
                cl / 1e6,
                ch / 1e6,
                median_spread(&mut l50).0,
                median_spread(&mut l99).0,
            );
        }
        let mine = &runs[0];
        for ((name, _), other) in designs.iter().zip(&runs).skip(1) {
            let mut q: Vec<f64> = mine
                .iter()
                .zip(other)
                .map(|(a, x)| a.writer_eps / x.writer_eps)
                .collect();
            let (m, lo, hi) = median_spread(&mut q);
            println!(
                "      R={r} change-log writer ÷ {name} writer, per round: {m:.2}x ({lo:.2}-{hi:.2})"
            );
        }
    }
}

fn main() {
    let o = opts();
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    if !o.real_only {
        report(&Arc::new(synthetic(o.n)), o.repeat, cores);
    }
    match binance(o.n) {
        Some(w) => report(&Arc::new(w), o.repeat, cores),
        None => println!("real Binance capture: skipped (no capture found, or gzip missing)"),
    }
}
