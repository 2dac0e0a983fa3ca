//! Manipulation and hidden-liquidity detectors: incremental state machines
//! driven by the books' events and level change records, O(1) amortised per
//! event, with bounded memory (every piece of state expires).
//!
//! Each detector emits [`Alert`]s: a score in (0, 1] for ranking, not only a
//! flag, plus the evidence. Prices are book ticks, sizes lots, times ns;
//! distances are in *price steps* of `tick` book ticks (LOBSTER prices are
//! $0.0001 ticks on a $0.01 grid: `tick = 100`).
//!
//! Every threshold is a named field of [`DetectConfig`] with its default and
//! the reason for it next to it.

pub mod absorption;
pub mod budget;
pub mod cascade;
pub mod collapse;
pub mod divergence;
pub mod iceberg;
mod layering;
pub mod options;
pub mod phantom;
pub mod spoof;
pub mod stuffing;
pub mod sweep;
#[cfg(test)]
mod testkit;

use crate::book::l3::Changes;
use crate::signals::Top;
use crate::types::{kind, Event, OrderId, Price, Qty, Side, Ts};
use crate::L2Book;

/// Alert kinds (the `kind` column of `result.alerts`).
pub mod alert_kind {
    /// A large order near the touch cancelled quickly, unfilled, while the
    /// other side traded (L3).
    pub const SPOOFING: u8 = 1;
    /// Several large orders at distinct levels of one side placed and
    /// withdrawn together (L3 orders, or L2 phantom levels).
    pub const LAYERING: u8 = 2;
    /// L2: a large size appeared at a level and vanished without trading.
    pub const PHANTOM: u8 = 3;
    /// Hidden or replenished liquidity at a level.
    pub const ICEBERG: u8 = 4;
    /// A burst of messages and cancels far above the rolling baseline.
    pub const QUOTE_STUFFING: u8 = 5;
    /// Depth near the mid fell by a large fraction within a short window.
    pub const DEPTH_COLLAPSE: u8 = 6;
    /// An aggressive order took liquidity at several price levels within
    /// moments (L3 fills, L2 trade prints).
    pub const SWEEP: u8 = 7;
    /// Price made a new swing high/low while the cumulative volume delta
    /// did not, or the reverse.
    pub const DELTA_DIVERGENCE: u8 = 8;
    /// A run of same-direction sweeps with growing volume while the depth
    /// they hit collapsed (with the venue's liquidation notices, when the
    /// feed carries them).
    pub const LIQUIDATION_CASCADE: u8 = 9;
    /// Aggressive volume at one level far above what it showed, in a burst
    /// above the market's pace, and the level held.
    pub const ABSORPTION: u8 = 10;
    /// Kinds, plus the unused code 0.
    pub const COUNT: usize = 11;
    /// Names, indexed by code (0 unused).
    pub const NAMES: [&str; COUNT] = [
        "",
        "spoofing",
        "layering",
        "phantom",
        "iceberg",
        "quote_stuffing",
        "depth_collapse",
        "sweep",
        "delta_divergence",
        "liquidation_cascade",
        "absorption",
    ];
}

/// One alert and its evidence. Fields that do not apply to a kind are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Alert {
    /// Time of the event that completed the pattern (ns).
    pub ts: Ts,
    /// One of [`alert_kind`].
    pub kind: u8,
    /// Side of the suspicious liquidity (1 bid, -1 ask, 0 none); for a
    /// sweep, the aggressor (1 buyer, -1 seller).
    pub side: i8,
    /// Price of the order / level (ticks; the mid for book-wide alerts).
    pub price: Price,
    /// Order id (0 when not an order-level alert).
    pub order_id: OrderId,
    /// Ranking score in (0, 1].
    pub score: f64,
    /// Size involved (lots): the order / layers / phantom increase, the
    /// hidden or refilled volume (iceberg), the cancels (quote stuffing),
    /// the depth lost (depth collapse).
    pub size: Qty,
    /// Size relative to the typical order/level size; quote stuffing: the
    /// message rate / its rolling mean; depth collapse: the fraction of the
    /// window's peak depth lost (so the peak is `size / size_ratio`).
    pub size_ratio: f64,
    /// Lifetime of the order/level, or the pattern's duration (ns).
    pub lifetime_ns: i64,
    /// Fraction of the size that traded.
    pub fill_frac: f64,
    /// Volume executed on the opposite side during the lifetime (lots).
    pub opp_volume: Qty,
    /// Mid move over the lifetime in price steps, signed so that positive
    /// is the direction the suspicious side would profit from.
    pub price_move: f64,
    /// Orders / levels (layering), messages (quote stuffing), refills or
    /// hidden prints (iceberg); 1 for one order; 0 for depth collapse.
    pub count: i64,
    /// Index of the completing event in the call's input (bulk) or the
    /// book's event counter (streaming).
    pub event_index: u64,
}

/// Which detectors run, and their thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectConfig {
    /// Book ticks per price step (distances are in steps).
    pub tick: i64,
    /// Run the spoofing detector (L3).
    pub spoofing: bool,
    /// Run the layering detector (L3 orders, L2 phantom levels).
    pub layering: bool,
    /// Run the phantom-liquidity detector (L2 feeds only: on L3 data the
    /// spoofing detector sees the orders themselves).
    pub phantom: bool,
    /// Run the iceberg / hidden-liquidity detector.
    pub iceberg: bool,
    /// Run the quote-stuffing detector.
    pub quote_stuffing: bool,
    /// Run the depth-collapse detector.
    pub depth_collapse: bool,
    /// Run the sweep detector ([`sweep`]).
    pub sweep: bool,
    /// Run the delta-divergence detector ([`divergence`]).
    pub delta_divergence: bool,
    /// Run the liquidation-cascade detector ([`cascade`]).
    pub liquidation_cascade: bool,
    /// Run the absorption detector ([`absorption`]).
    pub absorption: bool,
    /// Spoofing: minimum size / typical order size. 5: the prosecuted cases'
    /// orders were an order of magnitude above the normal clip size, and a
    /// 5x order is in the top percent of LOBSTER add sizes.
    pub spoof_min_ratio: f64,
    /// Spoofing: minimum ln(size / typical) in units of the market's own
    /// spread of ln order size (a running mean absolute deviation, read as
    /// a log-normal sigma). 2.5: a fixed multiple is rare in a narrow-sized
    /// market and everyday in a wide one (a 5x order is the top 0.1% where
    /// sigma = 0.5, the top 4% where it is 0.9). Chosen on the tuning
    /// families (spoofing + layering precision / recall, alerts on
    /// look-alikes), with `layer_min_z` off: 0 or 2: 0.89 / 0.90, 1; 2.5:
    /// 0.90 / 0.89, 0; 3: 0.92 / 0.83; with `layer_min_z` 1.5: 0: 0.94 /
    /// 0.90, 1; 2.5: 0.96 / 0.89, 0. 0 turns it off.
    pub spoof_min_z: f64,
    /// Spoofing/layering: an order rests "near the touch" within this many
    /// price steps of its side's best at entry. 12: Sarao's layers sat 3–6
    /// ticks from the best, and layers stack deeper than one order; at 5 the
    /// deeper layers of 2–7-tick stacks were missed, and at 8 a stack whose
    /// touch moved away while it was built (layering recall 0.62 at 8, 0.75
    /// at 12 and at 16, precision 1.00 at each, on the tuning scenario
    /// families; deeper orders rarely move a price).
    pub near_steps: i64,
    /// Spoofing/layering/phantom: cancelled within this lifetime (ns).
    /// 2 s: Coscia cancelled within a few hundred ms; genuine large resting
    /// orders live seconds to minutes.
    pub max_lifetime_ns: i64,
    /// Spoofing/layering: at most this fraction filled (0.1: a spoof is
    /// meant not to trade; a little incidental fill is allowed).
    pub max_fill: f64,
    /// Spoofing/layering: an order placed within this long (ns) of an order
    /// on the other side is half of a two-sided quote, not a spoof or a
    /// layer (100 µs: a market maker's two quotes leave together; by chance
    /// an unrelated order lands that close on a few per cent of orders in a
    /// 500-message-a-second book). 0 turns it off.
    pub quote_pair_ns: i64,
    /// Spoofing: minimum volume executed on the opposite side during the
    /// order's life (lots; 1 = any). The point of a spoof is to trade there.
    pub min_opp_volume: Qty,
    /// Spoofing: a lone order (no other layer-size order of its side placed
    /// within `layer_window_ns`) pulled while the cancels near the other
    /// side's touch in the current and previous 200 ms windows reach this
    /// multiple of their usual two-window volume (and ten typical orders)
    /// is part of a withdrawal from both sides, not a one-sided spoof; an
    /// order that may be one layer of a stack is judged by
    /// `layer_opp_pull_usual`. 3 (a burst of cancels, three times the
    /// usual). Chosen on the tuning families (spoofing + layering precision
    /// / recall, 2026-12-04) once held alerts were judged against each depth
    /// collapse's span (see `spoof::judge_delay`), both bars together: 1
    /// (the default before): 0.98 / 0.85 (spoofing alone 0.86 / 0.89,
    /// layering 1.00 / 0.72: in busy markets the other side is pulled at
    /// its usual volume half the time, so most spoofs there fell under it);
    /// 1.5: 0.96 / 0.90; 2, 3 and 5: 0.96 / 0.92 (spoofing 0.97 / 0.97,
    /// layering 0.94 / 0.86); off: 0.94 / 0.92 — 3 is the middle of that
    /// plateau. The grid before the span rule (2026-12-03, this bar alone,
    /// the layering bar at 1): 0: 0.85 / 0.93, 1.5: 0.93 / 0.93, 2: 0.87 /
    /// 0.93. 0 turns it off.
    pub opp_pull_usual: f64,
    /// Layering: the same bar for a candidate layer (3, chosen with
    /// `opp_pull_usual`; 1 before 2026-12-04, chosen before the span rule,
    /// when it gave spoofing + layering 0.98 / 0.88 on the tuning families,
    /// 1.5x 0.88 / 0.90 and no rule 0.81 / 0.92). 0 turns it off.
    pub layer_opp_pull_usual: f64,
    /// Layering: minimum size / typical (the running median order) of each
    /// layer (3: layers are large but each smaller than a lone spoof; at 2.5
    /// ordinary 2–3x orders pulled together in a busy book made most false
    /// groups on the tuning scenario families).
    pub layer_min_ratio: f64,
    /// Layering: minimum ln(size / typical) of each layer in units of the
    /// market's spread of ln order size (see `spoof_min_z`). 1.5: on the
    /// tuning families it took layering precision from 0.88 to 1.00 at the
    /// same recall (0.78); 2 lost recall (0.69). 0 turns it off.
    pub layer_min_z: f64,
    /// Layering: minimum orders (levels) at distinct prices (3: two is an
    /// ordinary re-quote; Sarao used 4–6).
    pub layer_min_orders: usize,
    /// Layering: the layers were placed within this span (ns), and are
    /// withdrawn within it too (2 s; they must also all have rested at one
    /// moment, which is what keeps a market maker's successive re-quotes
    /// out — at 1 s, stacks built over 1–2 s were missed).
    pub layer_window_ns: i64,
    /// Layering: each layer rested at least this long (ns; 20 ms). Three
    /// levels pulled within a millisecond of being posted are a market
    /// maker refreshing its quotes — nobody could have seen, let alone
    /// reacted to, them (on LOBSTER most raw layering alerts were that).
    pub layer_min_lifetime_ns: i64,
    /// Phantom: a level increase of at least this × typical increment (5).
    pub phantom_min_ratio: f64,
    /// Iceberg: refills of a level within `refill_ns` after a fill emptied
    /// it, in a row with the same size (the clip an iceberg shows; 3
    /// refills: one or two happen by chance as traders re-quote).
    pub iceberg_min_refills: i64,
    /// Iceberg: a refill must follow the fill within this (ns; 100 ms is
    /// what exchange-side icebergs take; humans are slower).
    pub refill_ns: i64,
    /// Iceberg: hidden executions at one price within `iceberg_window_ns`
    /// of at least this × typical order size (3: one order's worth of hidden
    /// volume prints all day on NASDAQ — midpoint and non-displayed orders;
    /// three at one price within seconds is a reserve being worked).
    pub hidden_min_ratio: f64,
    /// Iceberg: window for refill counts and hidden volume (ns; 3 s: an
    /// exchange iceberg is hit and replenished in bursts; at 10 s ordinary
    /// re-quoting at a busy price accumulated 'refills' in our scenarios).
    pub iceberg_window_ns: i64,
    /// Quote stuffing: window length (ns; 100 ms — a burst must be short),
    /// evaluated every half window so a burst straddling a boundary counts.
    pub stuffing_bucket_ns: i64,
    /// Quote stuffing: messages in a bucket / the rolling mean (10x). Looked
    /// at again on 2026-12-04 and kept: on the tuning scenario families 6x
    /// gave recall 0.89 and 4x 0.97 (10x: 0.69; their smaller bursts are a
    /// few times a busy market's pace) at precision 1.00 each — but those
    /// families hold no honest burst to weigh against, and on the Binance
    /// captures the raw rate at 6x is 1.5–3.7x that at 10x (LOBSTER and ES
    /// unchanged).
    pub stuffing_rate_ratio: f64,
    /// Quote stuffing: at least this many messages in the window (150).
    pub stuffing_min_msgs: i64,
    /// Quote stuffing: cancels / (trades + 1) in the bucket at least (20).
    pub stuffing_min_cancel_ratio: f64,
    /// Depth collapse: band around the mid (price steps; 10).
    pub collapse_band_steps: i64,
    /// Depth collapse: drop from the window's maximum (fraction; 0.55 —
    /// random cancels and fills alone reached 0.5 in our scenarios).
    pub collapse_drop: f64,
    /// Depth collapse: window (ns; 1 s).
    pub collapse_window_ns: i64,
    /// Depth collapse: depth is sampled once per this (ns; 10 ms).
    pub collapse_sample_ns: i64,
    /// Depth collapse: the window maximum must be at least this × typical
    /// order size (20) — thin books flicker without meaning anything.
    pub collapse_min_depth_ratio: f64,
    /// Sweep: at least this many distinct prices traded in one run (3: two
    /// is any order that clears the touch; three is walking the book).
    pub sweep_min_levels: i64,
    /// Sweep, L2 feeds: prints of one run are at most this far apart (ns;
    /// 1 ms: Binance stamps a taker order's fills with one millisecond;
    /// 0 = the same timestamp only). On L3 books a run's fills share one
    /// timestamp exactly, whatever this says.
    pub sweep_gap_ns: i64,
    /// Sweep: the run's volume is at least this × the typical print (2).
    pub sweep_min_ratio: f64,
    /// Delta divergence: pivots older than this are not compared, and the
    /// swing size is a fraction of the price range over this (ns; 120 s).
    pub divergence_window_ns: i64,
    /// Delta divergence: a leg turns after retracing this fraction of the
    /// window's price range (0.3; chosen with `divergence_min_frac` on the
    /// tuning scenario families: 0.25 let minor swings in busy books pair
    /// up).
    pub divergence_swing_frac: f64,
    /// Delta divergence: ... and at least this many price steps (3).
    pub divergence_min_swing_steps: i64,
    /// Delta divergence: |CVD change| / volume since the earlier pivot, at
    /// least (0.4: at 0.1 a third of the tuning families' alerts fell on
    /// honest trends whose pullback out-traded the leg before it).
    pub divergence_min_frac: f64,
    /// Liquidation cascade: its sweeps, notices and depth maximum are
    /// looked at over this (ns; 10 s: on the tuning scenario families a 30 s
    /// window held dozens of everyday sweeps of a thin book around each
    /// cascade, and recall fell from 0.62 to 0.29).
    pub cascade_window_ns: i64,
    /// Liquidation cascade: at least this many same-direction sweeps (3).
    pub cascade_min_sweeps: i64,
    /// Liquidation cascade: a sweep takes part when its volume is at least
    /// this × the typical print (5).
    pub cascade_min_ratio: f64,
    /// Liquidation cascade: the run swept at least this × the market's usual
    /// swept volume per window (1: more than usual in one direction alone;
    /// at 2 or 3, tuning recall halved with no gain in precision).
    pub cascade_min_excess: f64,
    /// Liquidation cascade: swept volume per second of the later half of the
    /// sweeps / that of the earlier half, at least (1.0: not slowing down).
    pub cascade_min_accel: f64,
    /// Liquidation cascade: the hit side's band depth fell at least this
    /// fraction below its window maximum (0.7; 0.5 raised more alerts on the
    /// tuning families' look-alikes for the same recall).
    pub cascade_depth_drop: f64,
    /// Absorption: the volume at the level within a window is at least
    /// this × the most the level showed (4: a defended level refilled at
    /// least three times over).
    pub absorb_min_ratio: f64,
    /// Absorption: ... and at least this × what the whole market trades in
    /// a window at its recent pace (1.5: a burst, not a level's share of
    /// ordinary flow; chosen on the tuning scenario families, where 2 gave
    /// precision 1.00 / recall 0.79, 1.5 gave 1.00 / 0.92 and 1 gave
    /// 0.85 / 0.92).
    pub absorb_min_excess: f64,
    /// Absorption: the window of prints at the level judged together (ns;
    /// 10 s: a burst of a few seconds fits; at 5 s the tuning families'
    /// episodes raised two alerts each).
    pub absorb_window_ns: i64,
    /// Absorption: at least this many prints (3).
    pub absorb_min_prints: i64,
    /// Absorption: the level must stand this long after it first qualified
    /// (ns; 2 s).
    pub absorb_hold_ns: i64,
    /// Absorption: the market's pace is its traded volume over this
    /// (exponentially weighted, ns; 300 s).
    pub absorb_rate_window_ns: i64,
    /// Alerts per hour of market time each detector may raise: candidates
    /// are ranked by score against the detector's own recent candidates and
    /// only about this many of the strongest per hour are kept
    /// ([`budget`]). 120 (two a minute) is what one analyst can review per
    /// instrument; 0 keeps every candidate (the fixed thresholds alone).
    /// Never more than this many within any hour (at most 1e6: the bound
    /// holds the kept alerts' times).
    pub alert_budget_per_hour: f64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            tick: 1,
            spoofing: true,
            layering: true,
            phantom: true,
            iceberg: true,
            quote_stuffing: true,
            depth_collapse: true,
            sweep: true,
            delta_divergence: true,
            liquidation_cascade: true,
            absorption: true,
            spoof_min_ratio: 5.0,
            spoof_min_z: 2.5,
            near_steps: 12,
            max_lifetime_ns: 2_000_000_000,
            max_fill: 0.1,
            quote_pair_ns: 100_000,
            min_opp_volume: 1,
            opp_pull_usual: 3.0,
            layer_opp_pull_usual: 3.0,
            layer_min_ratio: 3.0,
            layer_min_z: 1.5,
            layer_min_orders: 3,
            layer_window_ns: 2_000_000_000,
            layer_min_lifetime_ns: 20_000_000,
            phantom_min_ratio: 5.0,
            iceberg_min_refills: 3,
            refill_ns: 100_000_000,
            hidden_min_ratio: 3.0,
            iceberg_window_ns: 3_000_000_000,
            stuffing_bucket_ns: 100_000_000,
            stuffing_rate_ratio: 10.0,
            stuffing_min_msgs: 150,
            stuffing_min_cancel_ratio: 20.0,
            collapse_band_steps: 10,
            collapse_drop: 0.55,
            collapse_window_ns: 1_000_000_000,
            collapse_sample_ns: 10_000_000,
            collapse_min_depth_ratio: 20.0,
            sweep_min_levels: 3,
            sweep_gap_ns: 1_000_000,
            sweep_min_ratio: 2.0,
            divergence_window_ns: 120_000_000_000,
            divergence_swing_frac: 0.3,
            divergence_min_swing_steps: 3,
            divergence_min_frac: 0.4,
            cascade_window_ns: 10_000_000_000,
            cascade_min_sweeps: 3,
            cascade_min_ratio: 5.0,
            cascade_min_excess: 1.0,
            cascade_min_accel: 1.0,
            cascade_depth_drop: 0.7,
            absorb_min_ratio: 4.0,
            absorb_min_excess: 1.5,
            absorb_window_ns: 10_000_000_000,
            absorb_min_prints: 3,
            absorb_hold_ns: 2_000_000_000,
            absorb_rate_window_ns: 300_000_000_000,
            alert_budget_per_hour: 120.0,
        }
    }
}

/// Typical size: a running median of ln size (a plain mean of ln size while
/// warming up), so the large orders being judged barely move their own
/// yardstick. It learns at most one size per [`Typical::MIN_GAP_NS`]: a
/// burst of hundreds of 1-lot orders in 100 ms (quote stuffing) is one
/// actor, not the market's order size, and counted per order it dragged the
/// yardstick of a thin book to half its median.
#[derive(Clone, Copy, Debug)]
pub struct Typical {
    log_mean: f64,
    n: u64,
    alpha: f64,
    /// exp(log_mean), cached: read on every event, changed only by adds.
    value: f64,
    /// Running mean absolute deviation of ln size from `log_mean`.
    log_dev: f64,
    /// Time of the last size learnt (ns).
    last_ts: Ts,
}

impl Typical {
    /// Sizes closer together than this (ns; 5 ms) teach the yardstick once.
    pub const MIN_GAP_NS: i64 = 5_000_000;

    /// Step `alpha` per observation (the median moves by `alpha / 2` in ln
    /// units per size learnt).
    pub fn new(alpha: f64) -> Typical {
        Typical {
            log_mean: 0.0,
            n: 0,
            alpha,
            value: 0.0,
            log_dev: 0.0,
            last_ts: Ts::MIN,
        }
    }
    /// Offers one size (lots, > 0) seen at `ts` (ns).
    #[inline]
    pub fn add(&mut self, size: Qty, ts: Ts) {
        if size <= 0 || (self.n > 0 && ts.saturating_sub(self.last_ts) < Self::MIN_GAP_NS) {
            return;
        }
        self.last_ts = ts;
        let x = (size as f64).ln();
        self.n += 1;
        let warm = self.n as f64 > 1.0 / self.alpha;
        let a = if warm {
            self.alpha
        } else {
            1.0 / self.n as f64
        };
        let d = x - self.log_mean;
        if self.n > 1 {
            // The spread is each size's distance from the median of the
            // sizes before it, so the first size (nothing before it) adds
            // none; while warming up, the plain mean of the n - 1 distances.
            let b = if warm {
                self.alpha
            } else {
                1.0 / (self.n - 1) as f64
            };
            self.log_dev += b * (d.abs() - self.log_dev);
        }
        // After warm-up a step of fixed size toward the observation: a
        // stochastic-approximation *median* of ln size, which is what "x
        // typical" should mean. A clipped mean sat below the median when
        // sizes are small integers (many 1- and 2-lot orders), and let
        // 4x-median orders pass as 6x.
        let d = if warm {
            0.5 * d.signum() * f64::from(u8::from(d != 0.0))
        } else {
            d
        };
        self.log_mean += a * d;
        self.value = self.log_mean.exp();
    }
    /// The typical size (lots); 0 before any observation.
    #[inline]
    pub fn get(&self) -> f64 {
        self.value
    }
    /// The spread of ln size (a log-normal's sigma, from the mean absolute
    /// deviation of each size from the running median before it: sigma *
    /// sqrt(2 / pi)); 0 before two observations.
    #[inline]
    pub fn spread(&self) -> f64 {
        self.log_dev / std::f64::consts::FRAC_2_PI.sqrt()
    }
    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.n
    }
}

#[cfg(test)]
mod typical_tests {
    use super::Typical;

    /// ln-normal sizes with median 10,000 lots and sigma `sigma`, 10 ms apart
    /// (a fixed-seed LCG and Box-Muller: no dependency, same every run).
    fn fed(sigma: f64, n: usize) -> Typical {
        let mut t = Typical::new(0.001);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for i in 0..n {
            let z = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            let size = (10_000.0 * (sigma * z).exp()).round() as i64;
            t.add(size.max(1), i as i64 * 10_000_000);
        }
        t
    }

    #[test]
    fn the_yardstick_reads_a_log_normals_median_and_sigma() {
        for sigma in [0.3, 0.6, 0.9] {
            let t = fed(sigma, 20_000);
            let (median, spread) = (t.get(), t.spread());
            assert!((median / 10_000.0 - 1.0).abs() < 0.1, "{sigma}: {median}");
            assert!((spread / sigma - 1.0).abs() < 0.15, "{sigma}: {spread}");
        }
        assert_eq!(
            (Typical::new(0.001).get(), Typical::new(0.001).spread()),
            (0.0, 0.0)
        );
    }

    /// The first size has nothing to differ from: one size, or the same
    /// size many times, has no spread (it read ln size, 9.2 for 10,000
    /// lots, before); two sizes e^2 apart, a spread of 2 / sqrt(2 / pi).
    #[test]
    fn the_spread_starts_at_the_second_size() {
        let mut t = Typical::new(0.001);
        t.add(10_000, 0);
        assert_eq!((t.get().round(), t.spread()), (10_000.0, 0.0));
        for i in 1..50 {
            t.add(10_000, i * 10_000_000);
        }
        assert!(t.spread().abs() < 1e-9, "{}", t.spread());
        let mut t = Typical::new(0.001);
        t.add(100, 0);
        t.add(739, 10_000_000); // ln(739 / 100) = 2.0003
        let want = (739f64 / 100.0).ln() / std::f64::consts::FRAC_2_PI.sqrt();
        assert!((t.spread() - want).abs() < 1e-9, "{} vs {want}", t.spread());
    }
}

/// What every detector sees per event.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The event.
    pub ev: &'a Event,
    /// Its index (bulk input position or streaming counter).
    pub index: u64,
    /// The level changes it caused.
    pub changes: &'a Changes,
    /// Top of the book before it.
    pub before: &'a Top,
    /// The book after it.
    pub l2: &'a L2Book,
}

impl Ctx<'_> {
    /// Mid before the event, in half ticks (None when a side was empty).
    pub fn mid2_before(&self) -> Option<i64> {
        (self.before.bid_qty > 0 && self.before.ask_qty > 0)
            .then(|| self.before.bid_price + self.before.ask_price)
    }
    /// Mid after the event, in half ticks.
    pub fn mid2_after(&self) -> Option<i64> {
        match (self.l2.best_bid(), self.l2.best_ask()) {
            (Some((b, _)), Some((a, _))) => Some(b + a),
            _ => None,
        }
    }
}

/// All detectors of one book.
#[derive(Clone, Debug)]
pub struct Detectors {
    cfg: DetectConfig,
    l3: bool,
    /// Typical order size (ADD sizes on L3, positive level increments on L2).
    pub typical: Typical,
    spoof: spoof::SpoofDetector,
    phantom: phantom::PhantomDetector,
    iceberg: iceberg::IcebergDetector,
    stuffing: stuffing::StuffingDetector,
    collapse: collapse::CollapseDetector,
    sweep: sweep::SweepDetector,
    divergence: divergence::DivergenceDetector,
    cascade: cascade::CascadeDetector,
    absorption: absorption::AbsorptionDetector,
    /// Alerts emitted so far, per kind code.
    pub counts: [u64; alert_kind::COUNT],
    /// The alert budget's ledgers (what it dropped: `budget.dropped`).
    pub budget: budget::Budget,
}

impl Detectors {
    /// Detectors for an L3 (`l3 = true`) or L2 book.
    pub fn new(cfg: DetectConfig, l3: bool) -> Detectors {
        let cfg = DetectConfig {
            tick: cfg.tick.max(1),
            ..cfg
        };
        Detectors {
            cfg,
            l3,
            typical: Typical::new(0.001),
            spoof: spoof::SpoofDetector::default(),
            phantom: phantom::PhantomDetector::default(),
            iceberg: iceberg::IcebergDetector::default(),
            stuffing: stuffing::StuffingDetector::default(),
            collapse: collapse::CollapseDetector::default(),
            sweep: sweep::SweepDetector::default(),
            divergence: divergence::DivergenceDetector::default(),
            cascade: cascade::CascadeDetector::default(),
            absorption: absorption::AbsorptionDetector::default(),
            counts: [0; alert_kind::COUNT],
            budget: budget::Budget::default(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectConfig {
        &self.cfg
    }

    /// Processes one applied event; appends alerts to `out`.
    pub fn on_event(&mut self, cx: &Ctx<'_>, out: &mut Vec<Alert>) {
        let start = out.len();
        let cfg = &self.cfg;
        let typ = self.typical.get();
        if self.l3 {
            if cfg.spoofing || cfg.layering {
                self.spoof
                    .on_event(cfg, typ, self.typical.spread(), cx, out);
            }
        } else if cfg.phantom || cfg.layering {
            self.phantom.on_event(cfg, typ, cx, out);
        }
        if cfg.iceberg {
            self.iceberg.on_event(cfg, typ, cx, out);
        }
        if cfg.quote_stuffing {
            self.stuffing.on_event(cfg, cx, out);
        }
        if cfg.depth_collapse {
            let before = out.len();
            self.collapse.on_event(cfg, typ, cx, out);
            if let Some(a) = out[before..].last() {
                // held spoofing and layering alerts of orders pulled around
                // it are part of the collapse (see `spoof::Held`)
                self.spoof
                    .on_collapse(a.ts.saturating_sub(a.lifetime_ns), a.ts);
            }
        }
        if cfg.liquidation_cascade {
            self.cascade.on_event(cfg, cx);
        }
        if cfg.sweep || cfg.liquidation_cascade {
            let closed = self.sweep.on_event(cfg, self.l3, cx, out);
            if let (Some(s), true) = (closed, cfg.liquidation_cascade) {
                self.cascade.on_sweep(cfg, s, cx, out);
            }
        }
        if cfg.delta_divergence {
            self.divergence.on_event(cfg, self.l3, cx, out);
        }
        if cfg.absorption {
            self.absorption.on_event(cfg, cx, out);
        }
        // The yardstick learns after judging, so an order never sets its own bar.
        if self.l3 {
            if cx.ev.kind == kind::ADD {
                self.typical.add(cx.ev.size, cx.ev.ts);
            }
        } else {
            for c in cx.changes.iter() {
                if c.new_qty > c.prev_qty {
                    self.typical.add(c.new_qty - c.prev_qty, cx.ev.ts);
                }
            }
        }
        self.budget.on_event(cx.ev.ts);
        self.admit(start, cx.index, out);
    }

    /// The alerts pushed from `out[start]` on go through the budget; those
    /// kept get `index` as their event index and are counted.
    fn admit(&mut self, start: usize, index: u64, out: &mut Vec<Alert>) {
        if out.len() > start {
            let per_hour = self.cfg.alert_budget_per_hour;
            if per_hour > 0.0 {
                let budget = &mut self.budget;
                let mut j = 0;
                out.retain(|a| {
                    let keep = j < start || budget.admit(a, per_hour);
                    j += 1;
                    keep
                });
            }
            for a in &mut out[start..] {
                a.event_index = index;
                self.counts[a.kind as usize % alert_kind::COUNT] += 1;
            }
        }
    }

    /// The end of a stream (or of a session): raises what waits for a later
    /// event — L3 spoofing and layering alerts held to be judged against
    /// depth collapses (`collapse_window_ns` + 0.4 s after the pull) or for
    /// a stack's layering alert,
    /// an L2 sweep whose gap has not passed — with `index` (the last
    /// event's) as their event index, through the budget like any other.
    /// Without it a replay that ends within 1.4 s of a spoof (or
    /// `layer_window_ns` of a possible layer) never raises it. Streaming
    /// and bulk stay equal as long as both flush at the same point.
    pub fn flush(&mut self, index: u64, out: &mut Vec<Alert>) {
        let start = out.len();
        if self.l3 {
            self.spoof.flush(out);
        }
        if self.cfg.sweep {
            self.sweep.flush(&self.cfg, out);
        }
        self.admit(start, index, out);
    }

    /// Entries held across all detectors (what bounds the memory).
    pub fn state_size(&self) -> usize {
        self.spoof.state_size()
            + self.phantom.state_size()
            + self.iceberg.state_size()
            + self.collapse.state_size()
            + self.divergence.state_size()
            + self.cascade.state_size()
            + self.absorption.state_size()
    }
}

/// The maximum (`MIN` false) or minimum (`MIN` true) of the values pushed
/// over the last `window` ns: a monotonic deque, amortised O(1) per push,
/// holding only values that can still become the extreme. One mechanism for
/// the detectors' window extremes (depth peaks, price ranges); the kind is
/// in the type, so `Default` is right for both.
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowExtreme<const MIN: bool> {
    /// (time, value), values strictly decreasing (max) / increasing (min)
    /// from the front.
    q: std::collections::VecDeque<(Ts, i64)>,
}

/// The window maximum.
pub(crate) type WindowMax = WindowExtreme<false>;
/// The window minimum.
pub(crate) type WindowMin = WindowExtreme<true>;

impl<const MIN: bool> WindowExtreme<MIN> {
    /// Drops the values older than `window` ns before `now`, then adds
    /// `x` seen at `now` (a value equal to the newest only moves its time).
    #[inline]
    pub(crate) fn push(&mut self, now: Ts, window: i64, x: i64) {
        while self
            .q
            .front()
            .is_some_and(|&(t, _)| now.saturating_sub(t) > window)
        {
            self.q.pop_front();
        }
        if let Some(back) = self.q.back_mut().filter(|b| b.1 == x) {
            back.0 = now;
            return;
        }
        while self
            .q
            .back()
            .is_some_and(|&(_, y)| if MIN { y >= x } else { y <= x })
        {
            self.q.pop_back();
        }
        self.q.push_back((now, x));
    }

    /// The extreme and its time (None: nothing pushed yet).
    #[inline]
    pub(crate) fn get(&self) -> Option<(Ts, i64)> {
        self.q.front().copied()
    }

    /// Values held.
    pub(crate) fn len(&self) -> usize {
        self.q.len()
    }
}

/// Two-sided quoting, the one rule for L3 orders and L2 levels: an add
/// within `quote_pair_ns` of an add on the other side makes both halves of
/// one quote (a market maker re-quoting both sides), which neither spoofs,
/// shows phantom size, nor layers. `K` names what was added (an order id, a
/// price); each detector decides which adds it feeds.
#[derive(Clone, Debug)]
pub(crate) struct QuotePairs<K> {
    /// The last add per side [bid, ask]: (time ns, what).
    last: [Option<(Ts, K)>; 2],
}

impl<K> Default for QuotePairs<K> {
    fn default() -> Self {
        QuotePairs { last: [None, None] }
    }
}

impl<K: Copy> QuotePairs<K> {
    /// Records an add of `key` on `side` at `now` (ns); returns the other
    /// side's last add when it came within `quote_pair_ns` (the other half,
    /// for the caller to mark).
    #[inline]
    pub(crate) fn on_add(&mut self, cfg: &DetectConfig, side: Side, now: Ts, key: K) -> Option<K> {
        let i = usize::from(side == Side::Ask);
        let other = self.last[1 - i]
            .filter(|&(t, _)| cfg.quote_pair_ns > 0 && now - t <= cfg.quote_pair_ns)
            .map(|(_, k)| k);
        self.last[i] = Some((now, key));
        other
    }
}

/// Pops the entries older than `horizon` ns from the front of a
/// time-ordered expiry queue, handing each `(time, key)` to `drop`: the one
/// mechanism that bounds every detector's memory.
#[inline]
pub(crate) fn expire<K: Copy>(
    q: &mut std::collections::VecDeque<(Ts, K)>,
    now: Ts,
    horizon: i64,
    mut drop: impl FnMut(Ts, K),
) {
    while let Some(&(t0, k)) = q.front() {
        if now - t0 <= horizon {
            break;
        }
        q.pop_front();
        drop(t0, k);
    }
}

/// Drops the stale entries of an expiry queue (`live(time, key)` false:
/// the record was removed or replaced) once the queue holds more than twice
/// the live records plus 64. The time-based [`expire`] alone never shrinks
/// the queue while the clock stands still (constant or repeated timestamps:
/// Bitfinex R0 captures, a stalled feed clock), and memory then grew by
/// ~2.5 MiB per million events. Amortised O(1): after a compaction the
/// queue holds at most the live records.
#[inline]
pub(crate) fn compact<K: Copy>(
    q: &mut std::collections::VecDeque<(Ts, K)>,
    live_len: usize,
    mut live: impl FnMut(Ts, K) -> bool,
) {
    if q.len() > 2 * live_len + 64 {
        q.retain(|&(t, k)| live(t, k));
    }
}

/// `side` as `Side`, if it is one.
#[inline]
pub(crate) fn side_of(s: i8) -> Option<Side> {
    Side::from_i8(s)
}

/// Index of an event-record side in per-side arrays `[bid, ask]` (any
/// negative value is the ask side).
#[inline]
pub(crate) fn side_index(s: i8) -> usize {
    usize::from(s < 0)
}

/// Price distance (steps) of `price` behind `side`'s best `best` (0 or
/// negative = at or better than the best).
#[inline]
pub(crate) fn steps_behind(side: Side, price: Price, best: Price, tick: i64) -> i64 {
    let d = match side {
        Side::Bid => best - price,
        Side::Ask => price - best,
    };
    d.div_euclid(tick)
}

#[cfg(test)]
mod window_tests {
    use super::{WindowMax, WindowMin};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn window_extremes_equal_a_naive_scan(
            steps in proptest::collection::vec((0i64..50, -20i64..20), 1..300),
            window in 0i64..200,
        ) {
            let (mut hi, mut lo) = (WindowMax::default(), WindowMin::default());
            let mut seen: Vec<(i64, i64)> = Vec::new();
            let mut t = 0;
            for (dt, x) in steps {
                t += dt;
                hi.push(t, window, x);
                lo.push(t, window, x);
                seen.push((t, x));
                let live = seen.iter().filter(|&&(t0, _)| t - t0 <= window).map(|p| p.1);
                prop_assert_eq!(hi.get().map(|p| p.1), live.clone().max());
                prop_assert_eq!(lo.get().map(|p| p.1), live.min());
            }
        }
    }
}
