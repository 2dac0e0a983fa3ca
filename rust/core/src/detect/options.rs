//! The detector options as one table: name, type, default and accepted
//! range of every [`DetectConfig`] field. The Python layer reads it
//! (`lobkit.detect.OPTIONS` / `DEFAULTS`) and sets options only through
//! [`DetectConfig::set`], so an option added to the config is settable and
//! listed everywhere at once — a hand-kept list in the bindings had drifted
//! (`layer_min_lifetime_ns` could not be set from Python).
//!
//! Ranges bound what a typo can do: times are ns in `1..=1e18`, ratios are
//! finite and non-negative, fractions in `0..=1`, counts bounded before any
//! detector sizes state by them.

use super::DetectConfig;

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// On/off.
    Bool,
    /// Integer (ticks, lots, ns, counts).
    Int,
    /// Real number (ratios, fractions).
    Float,
}

/// A value given for, or read from, an option.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptionValue {
    /// A bool option's value.
    Bool(bool),
    /// An integer option's value.
    Int(i64),
    /// A real option's value (integers are accepted for it too).
    Float(f64),
}

/// One row of [`OPTIONS`].
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    /// The field name (also the Python keyword).
    pub name: &'static str,
    /// Its type.
    pub kind: OptionKind,
    /// Smallest accepted value (numbers only).
    pub min: f64,
    /// Largest accepted value (numbers only).
    pub max: f64,
    get: fn(&DetectConfig) -> OptionValue,
    set: fn(&mut DetectConfig, i64, f64, bool),
}

impl OptionSpec {
    /// This option's value in `cfg`.
    pub fn get(&self, cfg: &DetectConfig) -> OptionValue {
        (self.get)(cfg)
    }
}

const NS: f64 = 1e18;
const BIG: f64 = 1e12;

macro_rules! options {
    ($($name:ident : $kind:ident [$lo:expr, $hi:expr]),* $(,)?) => {
        /// Every option, in the order of [`DetectConfig`]'s fields.
        pub const OPTIONS: &[OptionSpec] = &[$(
            OptionSpec {
                name: stringify!($name),
                kind: OptionKind::$kind,
                min: $lo as f64,
                max: $hi as f64,
                get: |c| options!(@get $kind, c.$name),
                set: |c, _i, _f, _b| options!(@set $kind, c.$name, _i, _f, _b),
            },
        )*];

        /// Compiles only while every field of [`DetectConfig`] is in the
        /// table above (an exhaustive destructuring, no `..`).
        #[allow(dead_code)]
        fn every_field_is_listed(c: DetectConfig) {
            let DetectConfig { $($name: _),* } = c;
        }
    };
    (@get Bool, $v:expr) => { OptionValue::Bool($v) };
    (@get Int, $v:expr) => { OptionValue::Int($v as i64) };
    (@get Float, $v:expr) => { OptionValue::Float($v) };
    (@set Bool, $f:expr, $i:ident, $x:ident, $b:ident) => { $f = $b };
    (@set Int, $f:expr, $i:ident, $x:ident, $b:ident) => { $f = $i as _ };
    (@set Float, $f:expr, $i:ident, $x:ident, $b:ident) => { $f = $x };
}

options! {
    tick: Int [1, BIG],
    spoofing: Bool [0, 1],
    layering: Bool [0, 1],
    phantom: Bool [0, 1],
    iceberg: Bool [0, 1],
    quote_stuffing: Bool [0, 1],
    depth_collapse: Bool [0, 1],
    sweep: Bool [0, 1],
    delta_divergence: Bool [0, 1],
    liquidation_cascade: Bool [0, 1],
    absorption: Bool [0, 1],
    spoof_min_ratio: Float [0, BIG],
    spoof_min_z: Float [0, BIG],
    near_steps: Int [0, BIG],
    max_lifetime_ns: Int [1, NS],
    max_fill: Float [0, 1],
    quote_pair_ns: Int [0, NS],
    min_opp_volume: Int [0, NS],
    opp_pull_usual: Float [0, BIG],
    layer_opp_pull_usual: Float [0, BIG],
    layer_min_ratio: Float [0, BIG],
    layer_min_z: Float [0, BIG],
    layer_min_orders: Int [2, 1000],
    layer_window_ns: Int [1, NS],
    layer_min_lifetime_ns: Int [0, NS],
    phantom_min_ratio: Float [0, BIG],
    iceberg_min_refills: Int [1, BIG],
    refill_ns: Int [1, NS],
    hidden_min_ratio: Float [0, BIG],
    iceberg_window_ns: Int [1, NS],
    stuffing_bucket_ns: Int [1, NS],
    stuffing_rate_ratio: Float [0, BIG],
    stuffing_min_msgs: Int [1, BIG],
    stuffing_min_cancel_ratio: Float [0, BIG],
    collapse_band_steps: Int [1, BIG],
    collapse_drop: Float [0, 1],
    collapse_window_ns: Int [1, NS],
    collapse_sample_ns: Int [1, NS],
    collapse_min_depth_ratio: Float [0, BIG],
    sweep_min_levels: Int [2, 1_000_000],
    sweep_gap_ns: Int [0, NS],
    sweep_min_ratio: Float [0, BIG],
    divergence_window_ns: Int [1, NS],
    divergence_swing_frac: Float [0, 1],
    divergence_min_swing_steps: Int [1, BIG],
    divergence_min_frac: Float [0, 1],
    cascade_window_ns: Int [1, NS],
    cascade_min_sweeps: Int [2, 1_000_000],
    cascade_min_ratio: Float [0, BIG],
    cascade_min_excess: Float [0, BIG],
    cascade_min_accel: Float [0, BIG],
    cascade_depth_drop: Float [0, 1],
    absorb_min_ratio: Float [0, BIG],
    absorb_min_excess: Float [0, BIG],
    absorb_window_ns: Int [1, NS],
    absorb_min_prints: Int [1, BIG],
    absorb_hold_ns: Int [0, NS],
    absorb_rate_window_ns: Int [1, NS],
    alert_budget_per_hour: Float [0, 1e6],
}

/// The row of `name`, if it is an option.
pub fn spec(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

impl DetectConfig {
    /// Sets option `name` to `v`, checking its type and range; on error
    /// (a message naming the option, the value and what is accepted) the
    /// config is unchanged.
    pub fn set(&mut self, name: &str, v: OptionValue) -> Result<(), String> {
        let Some(o) = spec(name) else {
            return Err(format!(
                "unknown detector option {name:?}; see lobkit.detect.OPTIONS for the names"
            ));
        };
        let range = |x: f64| -> Result<(), String> {
            if x.is_finite() && x >= o.min && x <= o.max {
                Ok(())
            } else {
                Err(format!(
                    "detector option {name}={x}: must be within {}..={}",
                    o.min, o.max
                ))
            }
        };
        match (o.kind, v) {
            (OptionKind::Bool, OptionValue::Bool(b)) => (o.set)(self, 0, 0.0, b),
            (OptionKind::Int, OptionValue::Int(i)) => {
                range(i as f64)?;
                (o.set)(self, i, 0.0, false)
            }
            (OptionKind::Float, OptionValue::Float(x)) => {
                range(x)?;
                (o.set)(self, 0, x, false)
            }
            (OptionKind::Float, OptionValue::Int(i)) => {
                range(i as f64)?;
                (o.set)(self, 0, i as f64, false)
            }
            (k, v) => {
                return Err(format!(
                    "detector option {name}: expected {}, got {v:?}",
                    match k {
                        OptionKind::Bool => "True or False",
                        OptionKind::Int => "an integer",
                        OptionKind::Float => "a number",
                    }
                ))
            }
        }
        Ok(())
    }

    /// The value of option `name`.
    pub fn get(&self, name: &str) -> Option<OptionValue> {
        spec(name).map(|o| o.get(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_round_trips_through_set_and_get() {
        let d = DetectConfig::default();
        for o in OPTIONS {
            let mut c = d;
            let v = match o.get(&d) {
                OptionValue::Bool(b) => OptionValue::Bool(!b),
                OptionValue::Int(_) => OptionValue::Int(o.max as i64),
                OptionValue::Float(_) => OptionValue::Float(o.max),
            };
            assert_eq!(c.set(o.name, v), Ok(()), "{}", o.name);
            assert_eq!(c.get(o.name), Some(v), "{}", o.name);
            // exactly one field changed
            let changed = OPTIONS.iter().filter(|p| p.get(&c) != p.get(&d)).count();
            assert_eq!(changed, 1, "{}", o.name);
        }
        assert_eq!(OPTIONS.len(), 59);
        for o in OPTIONS {
            let x = match o.get(&d) {
                OptionValue::Bool(_) => continue,
                OptionValue::Int(i) => i as f64,
                OptionValue::Float(x) => x,
            };
            assert!(
                x >= o.min && x <= o.max,
                "default of {} outside its range",
                o.name
            );
        }
    }

    #[test]
    fn bad_values_are_refused_and_leave_the_config_alone() {
        let mut c = DetectConfig::default();
        let before = c;
        assert!(c.set("tick", OptionValue::Int(0)).is_err());
        assert!(c.set("max_fill", OptionValue::Float(f64::NAN)).is_err());
        assert!(c.set("max_fill", OptionValue::Float(1.5)).is_err());
        assert!(c.set("spoofing", OptionValue::Int(1)).is_err());
        assert!(c.set("near_steps", OptionValue::Float(2.5)).is_err());
        assert!(c
            .set("layer_min_orders", OptionValue::Int(1 << 40))
            .is_err());
        let e = c.set("nope", OptionValue::Int(1));
        assert!(e.is_err_and(|m| m.contains("unknown detector option")));
        assert_eq!(c, before);
        assert_eq!(c.set("layer_min_lifetime_ns", OptionValue::Int(0)), Ok(()));
        assert_eq!(c.layer_min_lifetime_ns, 0);
        assert_eq!(c.set("max_fill", OptionValue::Int(1)), Ok(()));
        assert_eq!(c.max_fill, 1.0);
    }
}
