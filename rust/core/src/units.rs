//! Decimal <-> integer conversion at the edge, with an explicit grid.

/// Converts `value` (price or size in exchange units) to an integer number of
/// `step`s, refusing values that are not on the grid instead of rounding.
///
/// A value is on the grid when `value / step` is within float rounding noise
/// of an integer: 1e-9 steps plus 64 ulps of the quotient, so 60000.3 / 0.1
/// (600002.9999999999 in binary) is accepted and 60000.35 / 0.1 is not.
#[inline]
pub fn to_steps(value: f64, step: f64) -> Result<i64, &'static str> {
    if !value.is_finite() {
        return Err("not a finite number");
    }
    let q = value / step;
    let r = q.round();
    if r.abs() > (1u64 << 60) as f64 {
        return Err("outside ±2^60 ticks/lots");
    }
    let tol = 1e-9 + 64.0 * f64::EPSILON * r.abs();
    if (q - r).abs() > tol {
        return Err("not a multiple of the tick/lot size");
    }
    // 1e-20 lots is not "zero within noise": it is a value below one step,
    // and reading it as 0 would delete a level instead of refusing it.
    if r == 0.0 && value != 0.0 {
        return Err("smaller than one tick/lot but not zero");
    }
    Ok(r as i64)
}

#[cfg(test)]
mod tests {
    use super::to_steps;

    #[test]
    fn grid() {
        assert_eq!(to_steps(60000.3, 0.1), Ok(600003));
        assert_eq!(to_steps(0.3, 0.1), Ok(3));
        assert_eq!(to_steps(585.33, 0.01), Ok(58533));
        assert_eq!(to_steps(1e-8 * 7.0, 1e-8), Ok(7));
        assert!(to_steps(60000.35, 0.1).is_err());
        assert!(to_steps(f64::NAN, 0.1).is_err());
        assert!(to_steps(f64::INFINITY, 0.1).is_err());
        assert_eq!(to_steps(-2.5, 0.5), Ok(-5));
        assert_eq!(to_steps(0.0, 0.001), Ok(0));
        assert_eq!(to_steps(-0.0, 0.001), Ok(0));
        assert!(to_steps(1e-20, 0.001).is_err());
        assert!(to_steps(-1e-300, 1.0).is_err());
    }
}
