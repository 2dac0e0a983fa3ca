//! Rolling sums over a time window (ns), an event count, or a volume clock,
//! in amortised O(1) per event, exact in integers.
//!
//! Every flow signal of lobkit is an integer per event (OFI and signed volume
//! in lots, mid changes in half ticks, their products), so a window sum is an
//! exact `i128` add on entry and subtract on exit — no floating-point drift
//! however long the stream. Ratios (trade imbalance, Kyle's lambda) are formed
//! from the exact sums at read time.

use std::collections::VecDeque;

use crate::types::Ts;

/// Which events a window holds after an event at time `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Events with `ts > t - ns` (the last `ns` nanoseconds, `(t-ns, t]`).
    Time(i64),
    /// The last `n` events.
    Events(usize),
    /// Volume clock: the shortest run of latest events whose summed weight
    /// (traded volume, lots) reaches `v`; all events while the total is below
    /// `v`. Whole events only: an event is never split across the boundary,
    /// which keeps the sums exact integers.
    Volume(i64),
}

impl Window {
    /// Parses `by` = "time" | "events" | "volume" with its size; `None` when
    /// `by` is unknown or `size < 1`.
    pub fn parse(by: &str, size: i64) -> Option<Window> {
        if size < 1 {
            return None;
        }
        match by {
            "time" => Some(Window::Time(size)),
            "events" => usize::try_from(size).ok().map(Window::Events),
            "volume" => Some(Window::Volume(size)),
            _ => None,
        }
    }
}

/// Rolling sums of `k` integer columns. Memory: the events inside the window
/// (one `(ts, weight)` pair and `k` values each); a time or volume window over
/// a burst holds the whole burst.
#[derive(Clone, Debug)]
pub struct Rolling {
    window: Window,
    k: usize,
    meta: VecDeque<(Ts, i64)>,
    vals: VecDeque<i64>,
    sums: Vec<i128>,
    weight: i128,
}

impl Rolling {
    /// A window over `k` columns.
    pub fn new(window: Window, k: usize) -> Rolling {
        Rolling {
            window,
            k,
            meta: VecDeque::new(),
            vals: VecDeque::new(),
            sums: vec![0; k],
            weight: 0,
        }
    }

    /// Columns per event.
    pub fn width(&self) -> usize {
        self.k
    }

    /// Adds one event (`values.len() == k`, `weight` in lots, used by the
    /// volume clock only) and expires what left the window. Returns the sums
    /// over the window, this event included.
    pub fn push(&mut self, ts: Ts, weight: i64, values: &[i64]) -> &[i128] {
        debug_assert_eq!(values.len(), self.k);
        self.meta.push_back((ts, weight));
        self.vals.extend(values.iter().copied());
        for (s, &v) in self.sums.iter_mut().zip(values) {
            *s += v as i128;
        }
        self.weight += weight as i128;
        while self.meta.len() > 1 && self.expired(ts) {
            self.pop();
        }
        // A time window may empty entirely only if ns < 1, which parse refuses.
        &self.sums
    }

    #[inline]
    fn expired(&self, now: Ts) -> bool {
        let Some(&(ts0, w0)) = self.meta.front() else {
            return false;
        };
        match self.window {
            Window::Time(ns) => (ts0 as i128) <= now as i128 - ns as i128,
            Window::Events(n) => self.meta.len() > n,
            Window::Volume(v) => self.weight - w0 as i128 >= v as i128,
        }
    }

    fn pop(&mut self) {
        if let Some((_, w)) = self.meta.pop_front() {
            self.weight -= w as i128;
            for s in self.sums.iter_mut() {
                if let Some(v) = self.vals.pop_front() {
                    *s -= v as i128;
                }
            }
        }
    }

    /// Current sums (the last `push`'s result).
    pub fn sums(&self) -> &[i128] {
        &self.sums
    }

    /// Events in the window.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// True before the first event.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Summed weight in the window (lots).
    pub fn weight(&self) -> i128 {
        self.weight
    }
}

/// Bulk rolling sums: row `i` of the `(n, k)` output is the window sum after
/// event `i`; `counts[i]` the events in it. Values beyond ±2^63 saturate
/// (they cannot arise from lot sizes within the books' ±2^60 range over
/// fewer than 8 events, and callers pass lots, not notionals).
pub fn rolling_sums(
    window: Window,
    ts: &[Ts],
    weight: &[i64],
    values: &[i64],
    k: usize,
) -> (Vec<i64>, Vec<i64>) {
    let n = ts.len();
    let mut r = Rolling::new(window, k);
    let mut out = vec![0i64; n * k];
    let mut counts = vec![0i64; n];
    for i in 0..n {
        let w = weight.get(i).copied().unwrap_or(0);
        let s = r.push(ts[i], w, &values[i * k..(i + 1) * k]);
        for (o, &v) in out[i * k..(i + 1) * k].iter_mut().zip(s) {
            *o = v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        }
        counts[i] = r.len() as i64;
    }
    (out, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_events_and_volume_windows() {
        let ts = [0, 5, 10, 11, 30];
        let w = [1, 2, 3, 4, 5];
        let v: Vec<i64> = vec![10, 20, 30, 40, 50];
        let (s, c) = rolling_sums(Window::Time(10), &ts, &w, &v, 1);
        // (t-10, t]: {0}, {0,5}, {5,10}, {5,10,11}, {30}
        assert_eq!(s, vec![10, 30, 50, 90, 50]);
        assert_eq!(c, vec![1, 2, 2, 3, 1]);
        let (s, _) = rolling_sums(Window::Events(2), &ts, &w, &v, 1);
        assert_eq!(s, vec![10, 30, 50, 70, 90]);
        // volume 5: shortest suffix with weight >= 5
        let (s, c) = rolling_sums(Window::Volume(5), &ts, &w, &v, 1);
        // w: [1] [1,2] [2,3]=5 [4,3]... suffix {3,4}=7 -> can drop 3? 7-3=4<5 no
        assert_eq!(c, vec![1, 2, 2, 2, 1]);
        assert_eq!(s, vec![10, 30, 50, 70, 50]);
    }

    #[test]
    fn several_columns_and_parse() {
        let (s, _) = rolling_sums(
            Window::Events(2),
            &[1, 2, 3],
            &[0; 3],
            &[1, -1, 2, -2, 3, -3],
            2,
        );
        assert_eq!(s, vec![1, -1, 3, -3, 5, -5]);
        assert_eq!(Window::parse("time", 0), None);
        assert_eq!(Window::parse("bars", 5), None);
        assert_eq!(Window::parse("volume", 5), Some(Window::Volume(5)));
    }
}
