//! Exact decimal strings to integer ticks/lots.
//!
//! Feeds print prices and sizes as decimal strings ("61653.40000000",
//! "6421.5", "1e-05"). Going through f64 would round; instead the string is
//! read as `mantissa × 10^exp` in i128 and divided by the grid step, which is
//! itself an exact decimal. A value that is not a whole number of steps is an
//! error (off the grid), never silently rounded.

/// Why a decimal could not be converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalError {
    /// Not of the form `[+-]digits[.digits][e[+-]digits]`.
    Syntax,
    /// Not a whole number of grid steps.
    OffGrid,
    /// Too many digits, or more than 2^60 steps.
    Range,
}

impl DecimalError {
    /// A phrase for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            DecimalError::Syntax => "is not a decimal number",
            DecimalError::OffGrid => "is not a whole number of grid steps",
            DecimalError::Range => "is out of range",
        }
    }
}

/// Largest magnitude accepted, in steps (the books' price range).
const MAX_STEPS: i128 = 1 << 60;

/// The parse error for text `s` of `field` on `line`: quotes the text and
/// says what is wrong with it.
fn field_error(s: &[u8], line: u64, field: &'static str, e: DecimalError) -> crate::Error {
    super::text::perr(
        line,
        field,
        format!("{:?} {}", String::from_utf8_lossy(s), e.describe()),
    )
}

/// Parses a decimal string exactly as `(mantissa, exp)`: value = m × 10^exp.
/// Trailing fractional zeros are dropped, so "61653.40000000" is (616534, -1).
pub fn parse(s: &[u8]) -> Result<(i128, i32), DecimalError> {
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (num, exp_part) = match rest.iter().position(|&c| c == b'e' || c == b'E') {
        Some(p) => (&rest[..p], Some(&rest[p + 1..])),
        None => (rest, None),
    };
    let (int_d, frac_d) = match num.iter().position(|&c| c == b'.') {
        Some(p) => (&num[..p], &num[p + 1..]),
        None => (num, &num[..0]),
    };
    if int_d.is_empty() && frac_d.is_empty() {
        return Err(DecimalError::Syntax);
    }
    let frac_len = frac_d.iter().rposition(|&c| c != b'0').map_or(0, |p| p + 1);
    let mut m: i128 = 0;
    for &c in int_d.iter().chain(&frac_d[..frac_len]) {
        if !c.is_ascii_digit() {
            return Err(DecimalError::Syntax);
        }
        m = m
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as i128))
            .ok_or(DecimalError::Range)?;
    }
    if !frac_d[frac_len..].iter().all(|&c| c == b'0') {
        return Err(DecimalError::Syntax);
    }
    let mut exp = -(frac_len as i32);
    if let Some(e) = exp_part {
        let (eneg, ed) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if ed.is_empty() || ed.len() > 4 || !ed.iter().all(u8::is_ascii_digit) {
            return Err(DecimalError::Syntax);
        }
        let v = ed.iter().fold(0i32, |v, &c| v * 10 + (c - b'0') as i32);
        exp += if eneg { -v } else { v };
    }
    Ok((if neg { -m } else { m }, exp))
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// A grid step as an exact decimal `mant × 10^exp` (tick 0.25 → 25 × 10^-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    mant: i128,
    exp: i32,
}

impl Grid {
    /// The step written as a decimal string ("0.01", "0.5", "1e-8", "100").
    pub fn parse(s: &str) -> Result<Grid, DecimalError> {
        let (mut mant, mut exp) = parse(s.trim().as_bytes())?;
        if mant <= 0 {
            return Err(DecimalError::Range);
        }
        while mant % 10 == 0 {
            mant /= 10;
            exp += 1;
        }
        // A step outside [1e-24, 1e18] is a typo (e.g. "1e400"), not a market:
        // every price would be off it, or its float form infinite.
        let digits = mant.to_string().len() as i32;
        if exp < -24 - (digits - 1) || exp + digits - 1 > 18 {
            return Err(DecimalError::Range);
        }
        Ok(Grid { mant, exp })
    }

    /// A whole-unit step of `n` (tick 1 for integer prices).
    pub fn units(n: i64) -> Grid {
        Grid {
            mant: n.max(1) as i128,
            exp: 0,
        }
    }

    /// Number of steps in the decimal string `s`; exact or an error.
    pub fn steps(&self, s: &[u8]) -> Result<i64, DecimalError> {
        let (m, e) = parse(s)?;
        self.steps_of(m, e)
    }

    /// Number of steps in `m × 10^e`.
    pub fn steps_of(&self, m: i128, e: i32) -> Result<i64, DecimalError> {
        if m == 0 {
            return Ok(0);
        }
        let d = e - self.exp;
        let q = if d >= 0 {
            let num = pow10(d as u32)
                .and_then(|p| m.checked_mul(p))
                .ok_or(DecimalError::Range)?;
            if num % self.mant != 0 {
                return Err(DecimalError::OffGrid);
            }
            num / self.mant
        } else {
            // A denominator beyond i128 means |value| < one step, and m != 0.
            let den = pow10((-d) as u32)
                .and_then(|p| p.checked_mul(self.mant))
                .ok_or(DecimalError::OffGrid)?;
            if m % den != 0 {
                return Err(DecimalError::OffGrid);
            }
            m / den
        };
        if q.abs() > MAX_STEPS {
            return Err(DecimalError::Range);
        }
        Ok(q as i64)
    }

    /// [`Grid::steps`] for the field `field` on `line` (1-based) of a file:
    /// an invalid or off-grid value becomes a parse error naming both and
    /// quoting the text. Every loader converts through this.
    pub fn field(
        &self,
        s: impl AsRef<[u8]>,
        line: u64,
        field: &'static str,
    ) -> Result<i64, crate::Error> {
        let s = s.as_ref();
        self.steps(s).map_err(|e| field_error(s, line, field, e))
    }

    /// [`Self::field`] for venue book prices (> 0) and sizes (>= 0): a
    /// negative or zero price in a venue's book is a corrupt message, not a
    /// level to keep. `min` is the least accepted number of steps.
    pub fn field_at_least(
        &self,
        s: impl AsRef<[u8]>,
        line: u64,
        field: &'static str,
        min: i64,
    ) -> Result<i64, crate::Error> {
        let v = self.field(s.as_ref(), line, field)?;
        if v < min {
            return Err(super::text::perr(
                line,
                field,
                format!(
                    "{:?} is {}",
                    String::from_utf8_lossy(s.as_ref()),
                    if min > 0 { "not positive" } else { "negative" }
                ),
            ));
        }
        Ok(v)
    }

    /// [`Self::field`] rounded to the nearest step (halves away from zero)
    /// instead of refused off the grid: for prices a venue computes rather
    /// than trades at (a liquidation's bankruptcy price), which need not be
    /// on the book's tick grid.
    pub fn field_nearest(
        &self,
        s: impl AsRef<[u8]>,
        line: u64,
        field: &'static str,
    ) -> Result<i64, crate::Error> {
        let s = s.as_ref();
        let bad = |e: DecimalError| field_error(s, line, field, e);
        let (m, e) = parse(s).map_err(bad)?;
        match self.steps_of(m, e) {
            Err(DecimalError::OffGrid) => {
                // value / step = (m × 10^d) / mant, d = e − exp.
                let d = e - self.exp;
                let (num, den) = if d >= 0 {
                    (
                        pow10(d as u32).and_then(|p| m.checked_mul(p)),
                        Some(self.mant),
                    )
                } else {
                    (
                        Some(m),
                        pow10((-d) as u32).and_then(|p| p.checked_mul(self.mant)),
                    )
                };
                let (Some(num), Some(den)) = (num, den) else {
                    return Err(bad(DecimalError::Range));
                };
                let (q, r) = (num / den, num % den);
                let q = if r.abs() >= den - r.abs() {
                    q + num.signum()
                } else {
                    q
                };
                if q.abs() > MAX_STEPS {
                    return Err(bad(DecimalError::Range));
                }
                Ok(q as i64)
            }
            other => other.map_err(bad),
        }
    }

    /// The step as `(mantissa, exp)`.
    pub fn parts(&self) -> (i128, i32) {
        (self.mant, self.exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(s: &str) -> Grid {
        Grid::parse(s).unwrap_or(Grid::units(1))
    }

    #[test]
    fn nearest_steps_round_halves_away_from_zero() {
        let n = |grid: &str, v: &str| g(grid).field_nearest(v, 1, "p").ok();
        assert_eq!(n("0.1", "9910"), Some(99_100));
        assert_eq!(n("0.1", "9910.04"), Some(99_100));
        assert_eq!(n("0.1", "9910.05"), Some(99_101));
        assert_eq!(n("0.1", "-9910.05"), Some(-99_101));
        assert_eq!(n("0.5", "6421.2"), Some(12_842));
        assert_eq!(n("0.5", "6421.25"), Some(12_843));
        assert_eq!(n("100", "5853349"), Some(58_533));
        assert_eq!(n("100", "5853350"), Some(58_534));
        assert_eq!(n("0.25", "3"), Some(12));
        assert_eq!(n("1", "x"), None);
        assert_eq!(n("1e-9", "1e30"), None);
    }

    proptest! {
        #[test]
        fn nearest_is_within_half_a_step(m in -10_000_000i64..10_000_000, e in -6i32..3) {
            let grid = Grid::parse("0.25").unwrap();
            let v = format!("{m}e{e}");
            let q = grid.field_nearest(&v, 1, "p").unwrap();
            let exact = m as f64 * 10f64.powi(e) / 0.25;
            prop_assert!((q as f64 - exact).abs() <= 0.5 + 1e-6, "{v}: {q} vs {exact}");
        }
    }

    #[test]
    fn exact_steps() {
        assert_eq!(g("0.01").steps(b"61653.40000000"), Ok(6_165_340));
        assert_eq!(g("0.5").steps(b"6421.5"), Ok(12_843));
        assert_eq!(g("0.5").steps(b"6421.25"), Err(DecimalError::OffGrid));
        assert_eq!(g("1e-8").steps(b"0.00012300"), Ok(12_300));
        assert_eq!(g("0.001").steps(b"1e-03"), Ok(1));
        assert_eq!(g("0.001").steps(b"1.5E2"), Ok(150_000));
        assert_eq!(g("0.25").steps(b"-4810.75"), Ok(-19_243));
        assert_eq!(g("100").steps(b"5853300"), Ok(58_533));
        assert_eq!(g("1").steps(b"0"), Ok(0));
        assert_eq!(g("1").steps(b"0.000"), Ok(0));
        assert_eq!(g("1").steps(b"."), Err(DecimalError::Syntax));
        assert_eq!(g("1").steps(b"1.2.3"), Err(DecimalError::Syntax));
        assert_eq!(g("1").steps(b"12a"), Err(DecimalError::Syntax));
        assert_eq!(g("1").steps(b""), Err(DecimalError::Syntax));
        assert_eq!(g("1e-9").steps(b"1e30"), Err(DecimalError::Range));
        assert_eq!(g("1").steps(b"1e-60"), Err(DecimalError::OffGrid));
        assert!(Grid::parse("0").is_err());
        assert!(Grid::parse("-1").is_err());
    }

    proptest! {
        /// k steps printed with any number of padding zeros parse back to k.
        #[test]
        fn printed_steps_round_trip(k in -1_000_000_000i64..1_000_000_000, scale in 0u32..9, pad in 0usize..6) {
            let grid = Grid { mant: 5, exp: -(scale as i32) };
            // k × 5 × 10^-scale as a decimal string.
            let v = (k as i128) * 5;
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            let p = 10u128.pow(scale);
            let s = if scale == 0 {
                format!("{sign}{a}")
            } else {
                format!("{sign}{}.{:0w$}{}", a / p, a % p, "0".repeat(pad), w = scale as usize)
            };
            prop_assert_eq!(grid.steps(s.as_bytes()), Ok(k));
        }
    }
}
