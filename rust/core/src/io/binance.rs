//! Binance depth: REST snapshot + diff-depth stream, synchronised by the
//! documented procedure, plus trades and bookTicker.
//!
//! Procedure (spot and USD-M futures docs, "How to manage a local order book
//! correctly"):
//! 1. Buffer diffs until a snapshot (`lastUpdateId` = L) arrives.
//! 2. Drop buffered diffs that the snapshot already holds: spot `u <= L`,
//!    futures `u < L`.
//! 3. The first diff applied must bridge the snapshot: spot
//!    `U <= L+1 <= u`, futures `U <= L <= u`. A first diff that starts
//!    after that (`U > L+1`) means the snapshot is too old: a gap.
//! 4. Every later diff must continue the last one: spot `U == last_u + 1`,
//!    futures `pu == last_u`. Anything else is a gap.
//!
//! A gap never leaves a silently wrong book: the syncer emits a `CLEAR`
//! flagged [`flags::BAD_BOOK`], records a [`Gap`], and buffers again until a new
//! snapshot arrives ("out of sync"). Snapshots are emitted as `CLEAR` +
//! `SET_LEVEL`s flagged [`flags::SNAPSHOT`]; the last event of every message
//! is flagged [`flags::LAST`]. Event times never go backwards: buffered
//! diffs applied when the snapshot arrives carry the snapshot's time. A diff's level sizes are absolute (0 removes
//! the level; removing a level the book never had is a no-op).
//!
//! Trades become `TRADE` events on the *resting* side (`m` = true: the buyer
//! was the maker, so the resting side is the bid). bookTicker messages
//! change nothing; they are returned as [`Ticker`]s, the feed's own BBO
//! oracle keyed by update id. Futures `forceOrder` messages become
//! `LIQUIDATION` notices (see [`kind::LIQUIDATION`]).

use super::decimal::Grid;
use super::emit::Emitter;
use super::feed::{removals_first, Feed, Gap, Stats, TsSource};
use super::flags::{self, BAD_BOOK};
use super::text::perr;
use crate::error::Error;
use crate::types::{kind, Event, Price, Qty, Ts};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Most diffs buffered while waiting for a snapshot; older ones are dropped
/// (and counted), which at worst turns into a gap, never a wrong book.
pub const MAX_BUFFERED: usize = 100_000;

/// A bookTicker message: the venue's best bid/offer after update `u`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticker {
    /// Order-book update id.
    pub update_id: u64,
    /// Receive time (ns).
    pub ts: Ts,
    /// Best bid (ticks, lots) and best ask (ticks, lots).
    pub bid: (Price, Qty),
    /// Best ask (ticks, lots).
    pub ask: (Price, Qty),
}

#[derive(Deserialize)]
struct Msg<'a> {
    #[serde(borrow, default)]
    stream: Option<&'a str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    e: Option<&'a str>,
    #[serde(rename = "E", default)]
    event_ms: Option<i64>,
    #[serde(rename = "T", default)]
    trade_ms: Option<i64>,
    #[serde(rename = "U", default)]
    first: Option<u64>,
    #[serde(default)]
    u: Option<u64>,
    #[serde(default)]
    pu: Option<u64>,
    #[serde(borrow, default)]
    b: Option<&'a RawValue>,
    #[serde(borrow, default)]
    a: Option<&'a RawValue>,
    #[serde(rename = "B", borrow, default)]
    bid_qty: Option<&'a str>,
    #[serde(rename = "A", borrow, default)]
    ask_qty: Option<&'a str>,
    #[serde(rename = "lastUpdateId", default)]
    last_update_id: Option<u64>,
    #[serde(borrow, default)]
    bids: Option<Vec<[&'a str; 2]>>,
    #[serde(borrow, default)]
    asks: Option<Vec<[&'a str; 2]>>,
    #[serde(borrow, default)]
    p: Option<&'a str>,
    #[serde(borrow, default)]
    q: Option<&'a str>,
    #[serde(default)]
    m: Option<bool>,
    #[serde(default)]
    t: Option<u64>,
    /// `forceOrder`: the liquidation order.
    #[serde(borrow, default)]
    o: Option<&'a RawValue>,
}

/// The order of a futures `forceOrder` message (USD-M and COIN-M docs,
/// "Liquidation Order Streams").
#[derive(Deserialize)]
struct ForceOrder<'a> {
    /// The liquidation order's side: SELL closes a long.
    #[serde(rename = "S", borrow)]
    side: &'a str,
    /// Its limit price.
    #[serde(borrow)]
    p: &'a str,
    /// Filled quantity so far (the order is IOC: what it took).
    #[serde(borrow)]
    z: &'a str,
    /// Trade time (ms).
    #[serde(rename = "T", default)]
    trade_ms: Option<i64>,
}

#[derive(Clone, Debug)]
struct Diff {
    first: u64,
    last: u64,
    prev: Option<u64>,
    ts: Ts,
    message: u64,
    levels: Vec<(i8, Price, Qty)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No usable snapshot yet (start, or after a gap): buffering diffs.
    Buffering,
    /// Snapshot applied at `L`; the next diff must bridge it.
    Bridging(u64),
    /// In sync after update `u`.
    Synced(u64),
}

#[derive(Debug)]
/// The synchroniser: feed it messages in arrival order, get events back.
pub struct DepthSync {
    price: Grid,
    size: Grid,
    ts_source: TsSource,
    state: State,
    futures: Option<bool>,
    buffer: std::collections::VecDeque<Diff>,
    messages: u64,
    /// Gaps seen.
    pub gaps: Vec<Gap>,
    /// bookTicker messages seen.
    pub tickers: Vec<Ticker>,
    /// Emission state; `out.ids` holds, per event, the update id of its
    /// message (diff `u`, snapshot `lastUpdateId`, trade id `t`; the gap's
    /// `got`). The caller may drain it alongside the events.
    pub out: Emitter,
    /// Counters.
    pub stats: Stats,
}

fn ms(v: Option<i64>) -> Option<Ts> {
    v.and_then(|m| m.checked_mul(1_000_000))
}

impl DepthSync {
    /// A syncer converting prices/quantities onto the given grids.
    pub fn new(price: Grid, size: Grid, ts_source: TsSource) -> DepthSync {
        DepthSync {
            price,
            size,
            ts_source,
            state: State::Buffering,
            futures: None,
            buffer: Default::default(),
            messages: 0,
            gaps: Vec::new(),
            tickers: Vec::new(),
            out: Emitter::default(),
            stats: Stats::default(),
        }
    }

    /// True when the book built from the emitted events matches the venue's
    /// (a snapshot was applied and no gap has happened since).
    pub fn in_sync(&self) -> bool {
        !matches!(self.state, State::Buffering)
    }

    /// Last update id applied (or the snapshot's), if in sync.
    pub fn last_update_id(&self) -> Option<u64> {
        match self.state {
            State::Buffering => None,
            State::Bridging(l) | State::Synced(l) => Some(l),
        }
    }

    /// Diffs waiting for a snapshot.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    fn ts_of(&self, local: Ts, exch: Option<Ts>) -> Ts {
        match self.ts_source {
            TsSource::Local => local,
            // Messages without an exchange time (spot REST snapshots) keep
            // the clock where it was, so ts stays monotone.
            TsSource::Exchange => exch.unwrap_or(self.out.last_ts()),
        }
    }

    /// One message (`line` is its 1-based line for errors, `recv_ts` its
    /// receive time in ns). Appends the events it produces to `out`.
    pub fn on_message(
        &mut self,
        json: &[u8],
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let msg: Msg<'_> = serde_json::from_slice(json)
            .map_err(|e| perr(line, "json", format!("invalid JSON: {e}")))?;
        let (stream, msg) = match msg.data {
            Some(raw) => {
                let inner: Msg<'_> = serde_json::from_str(raw.get())
                    .map_err(|e| perr(line, "data", format!("invalid JSON: {e}")))?;
                (msg.stream.unwrap_or(""), inner)
            }
            None => ("", msg),
        };
        let message = self.messages;
        self.messages += 1;
        if msg.last_update_id.is_some() && msg.bids.is_some() {
            return self.on_snapshot(&msg, recv_ts, message, line, out);
        }
        if msg.e == Some("depthUpdate") || stream.contains("@depth") {
            return self.on_diff(&msg, recv_ts, message, line, out);
        }
        if msg.e == Some("trade") || stream.ends_with("@trade") {
            return self.on_trade(&msg, recv_ts, line, out);
        }
        if msg.e == Some("forceOrder") || stream.ends_with("@forceOrder") {
            return self.on_liquidation(&msg, recv_ts, line, out);
        }
        if stream.ends_with("@bookTicker") || (msg.u.is_some() && msg.bid_qty.is_some()) {
            return self.on_ticker(&msg, recv_ts, line);
        }
        self.stats.other += 1;
        Ok(())
    }

    fn side_levels(
        &self,
        raw: Option<&RawValue>,
        side: i8,
        line: u64,
        out: &mut Vec<(i8, Price, Qty)>,
    ) -> Result<(), Error> {
        let Some(raw) = raw else { return Ok(()) };
        let field = if side > 0 { "b" } else { "a" };
        let v: Vec<[&str; 2]> = serde_json::from_str(raw.get())
            .map_err(|e| perr(line, field, format!("expected [[price, qty], ...]: {e}")))?;
        for [p, q] in v {
            let price = self.price.field_at_least(p, line, "price", 1)?;
            let qty = self.size.field_at_least(q, line, "qty", 0)?;
            if qty < 0 {
                return Err(perr(line, "qty", format!("negative quantity {q:?}")));
            }
            out.push((side, price, qty));
        }
        Ok(())
    }

    fn on_diff(
        &mut self,
        msg: &Msg<'_>,
        recv_ts: Ts,
        message: u64,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let (Some(first), Some(last)) = (msg.first, msg.u) else {
            return Err(perr(line, "U", "depth update without U/u update ids"));
        };
        self.stats.diffs += 1;
        if msg.pu.is_some() {
            self.futures = Some(true);
        } else if self.futures.is_none() {
            self.futures = Some(false);
        }
        let mut levels = Vec::new();
        self.side_levels(msg.b, 1, line, &mut levels)?;
        self.side_levels(msg.a, -1, line, &mut levels)?;
        removals_first(&mut levels);
        let diff = Diff {
            first,
            last,
            prev: msg.pu,
            ts: self.ts_of(recv_ts, ms(msg.event_ms)),
            message,
            levels,
        };
        match self.state {
            State::Buffering => {
                if self.buffer.len() >= MAX_BUFFERED {
                    self.buffer.pop_front();
                    self.stats.overflow += 1;
                }
                self.buffer.push_back(diff);
                Ok(())
            }
            State::Bridging(l) => {
                self.bridge(l, diff, out);
                Ok(())
            }
            State::Synced(prev) => {
                self.continue_from(prev, diff, out);
                Ok(())
            }
        }
    }

    /// Applies a diff to the book if it bridges snapshot `l`; stale diffs are
    /// dropped; a diff past the snapshot is a gap.
    fn bridge(&mut self, l: u64, d: Diff, out: &mut Vec<Event>) {
        let fut = self.futures == Some(true);
        let stale = if fut { d.last < l } else { d.last <= l };
        if stale {
            self.stats.stale += 1;
            return;
        }
        let bridges = if fut {
            d.first <= l && l <= d.last
        } else {
            d.first <= l + 1 && l < d.last
        };
        if bridges {
            self.apply(d, out);
        } else {
            let expected = if fut { l } else { l + 1 };
            self.gap(expected, d.first, &d, out);
        }
    }

    fn continue_from(&mut self, prev: u64, d: Diff, out: &mut Vec<Event>) {
        let (ok, expected, got) = match d.prev {
            Some(pu) => (pu == prev, prev, pu),
            None => (d.first == prev + 1, prev + 1, d.first),
        };
        if ok {
            self.apply(d, out);
        } else {
            self.gap(expected, got, &d, out);
        }
    }

    fn apply(&mut self, d: Diff, out: &mut Vec<Event>) {
        let start = out.len();
        self.out.id = d.last;
        for &(side, p, q) in &d.levels {
            self.out
                .push(out, Event::new(d.ts, kind::SET_LEVEL, side, p, q, 0));
        }
        Emitter::close(out, start);
        self.stats.applied += 1;
        self.state = State::Synced(d.last);
    }

    fn gap(&mut self, expected: u64, got: u64, d: &Diff, out: &mut Vec<Event>) {
        self.gaps.push(Gap {
            event_index: self.out.emitted,
            message: d.message,
            expected,
            got,
            ts: d.ts,
        });
        self.out.id = got;
        let mut e = Event::new(d.ts, kind::CLEAR, 0, 0, 0, 0);
        e.flags = BAD_BOOK | flags::LAST;
        self.out.push(out, e);
        self.state = State::Buffering;
        self.buffer.clear();
        // This diff may still bridge the next snapshot.
        self.buffer.push_back(Diff {
            first: d.first,
            last: d.last,
            prev: d.prev,
            ts: d.ts,
            message: d.message,
            levels: d.levels.clone(),
        });
    }

    fn on_snapshot(
        &mut self,
        msg: &Msg<'_>,
        recv_ts: Ts,
        _message: u64,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let l = msg.last_update_id.unwrap_or(0);
        if !matches!(self.state, State::Buffering) {
            self.stats.snapshots_ignored += 1;
            return Ok(());
        }
        let ts = self.ts_of(recv_ts, ms(msg.event_ms));
        let mut levels = Vec::new();
        for (side, rows) in [(1i8, &msg.bids), (-1i8, &msg.asks)] {
            for [p, q] in rows.iter().flatten() {
                let price = self.price.field_at_least(p, line, "price", 1)?;
                let qty = self.size.field_at_least(q, line, "qty", 0)?;
                if qty > 0 {
                    levels.push((side, price, qty));
                }
            }
        }
        self.stats.snapshots += 1;
        let start = out.len();
        self.out.id = l;
        let mut clear = Event::new(ts, kind::CLEAR, 0, 0, 0, 0);
        clear.flags = flags::SNAPSHOT;
        self.out.push(out, clear);
        for (side, p, q) in levels {
            let mut e = Event::new(ts, kind::SET_LEVEL, side, p, q, 0);
            e.flags = flags::SNAPSHOT;
            self.out.push(out, e);
        }
        Emitter::close(out, start);
        self.state = State::Bridging(l);
        let buffered: Vec<Diff> = self.buffer.drain(..).collect();
        for d in buffered {
            match self.state {
                State::Bridging(l) => self.bridge(l, d, out),
                State::Synced(prev) => self.continue_from(prev, d, out),
                // A gap while draining: keep buffering the rest.
                State::Buffering => self.buffer.push_back(d),
            }
        }
        Ok(())
    }

    fn on_trade(
        &mut self,
        msg: &Msg<'_>,
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let (Some(p), Some(q), Some(m)) = (msg.p, msg.q, msg.m) else {
            return Err(perr(line, "trade", "trade without p/q/m"));
        };
        let price = self.price.field_at_least(p, line, "price", 1)?;
        let qty = self.size.field_at_least(q, line, "qty", 0)?;
        if qty <= 0 {
            // Binance futures prints zero-quantity "insurance fund" rows; skip.
            self.stats.other += 1;
            return Ok(());
        }
        let ts = self.ts_of(recv_ts, ms(msg.trade_ms.or(msg.event_ms)));
        // m: the buyer is the maker, so the resting order was a bid.
        let side = if m { 1 } else { -1 };
        self.out.id = msg.t.unwrap_or(0);
        let mut e = Event::new(ts, kind::TRADE, side, price, qty, 0);
        e.flags = flags::LAST;
        self.out.push(out, e);
        self.stats.trades += 1;
        Ok(())
    }

    /// A `forceOrder` message: one `LIQUIDATION` event on the resting side
    /// its fills hit, at the order's price, for its filled quantity. Binance
    /// pushes at most one liquidation per symbol and second (the latest), so
    /// these notices sample the liquidations; the fills print on the trade
    /// stream either way.
    fn on_liquidation(
        &mut self,
        msg: &Msg<'_>,
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let raw = msg
            .o
            .ok_or_else(|| perr(line, "o", "forceOrder without its order \"o\""))?;
        let o: ForceOrder<'_> = serde_json::from_str(raw.get())
            .map_err(|e| perr(line, "o", format!("expected {{S, p, z, T}}: {e}")))?;
        let side = match o.side {
            "SELL" => 1,
            "BUY" => -1,
            other => {
                return Err(perr(
                    line,
                    "S",
                    format!("expected BUY or SELL, got {other:?}"),
                ))
            }
        };
        let price = self.price.field_nearest(o.p, line, "p")?;
        let qty = self.size.field_at_least(o.z, line, "z", 0)?;
        if qty == 0 || price <= 0 {
            // Nothing filled (an expired order), or a price below one tick.
            self.stats.other += 1;
            return Ok(());
        }
        let ts = self.ts_of(recv_ts, ms(o.trade_ms.or(msg.event_ms)));
        self.out.id = 0;
        let mut e = Event::new(ts, kind::LIQUIDATION, side, price, qty, 0);
        e.flags = flags::LAST;
        self.out.push(out, e);
        self.stats.liquidations += 1;
        Ok(())
    }

    fn on_ticker(&mut self, msg: &Msg<'_>, recv_ts: Ts, line: u64) -> Result<(), Error> {
        let s = |r: Option<&RawValue>, f: &'static str| -> Result<String, Error> {
            let r = r.ok_or_else(|| perr(line, f, "missing"))?;
            serde_json::from_str::<String>(r.get())
                .map_err(|e| perr(line, f, format!("expected a decimal string: {e}")))
        };
        let (b, a) = (s(msg.b, "b")?, s(msg.a, "a")?);
        let bq = msg.bid_qty.ok_or_else(|| perr(line, "B", "missing"))?;
        let aq = msg.ask_qty.ok_or_else(|| perr(line, "A", "missing"))?;
        self.tickers.push(Ticker {
            update_id: msg.u.unwrap_or(0),
            ts: recv_ts,
            bid: (
                self.price.field_at_least(&b, line, "b", 1)?,
                self.size.field_at_least(bq, line, "B", 0)?,
            ),
            ask: (
                self.price.field_at_least(&a, line, "a", 1)?,
                self.size.field_at_least(aq, line, "A", 0)?,
            ),
        });
        Ok(())
    }
}

impl Feed for DepthSync {
    fn on_message(
        &mut self,
        json: &[u8],
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        DepthSync::on_message(self, json, recv_ts, line, out)
    }

    fn resync(&mut self) {
        self.state = State::Buffering;
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> DepthSync {
        DepthSync::new(Grid::units(1), Grid::units(1), TsSource::Local)
    }

    fn run(s: &mut DepthSync, msgs: &[&str]) -> Vec<Event> {
        let mut out = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            if let Err(e) = s.on_message(m.as_bytes(), i as i64, i as u64 + 1, &mut out) {
                unreachable!("{e}");
            }
        }
        out
    }

    const SNAP: &str = r#"{"lastUpdateId":10,"bids":[["99","5"]],"asks":[["101","5"]]}"#;

    #[test]
    fn spot_buffers_bridges_and_detects_gaps() {
        let mut s = sync();
        let ev = run(
            &mut s,
            &[
                r#"{"e":"depthUpdate","E":1,"U":5,"u":9,"b":[["98","1"]],"a":[]}"#,
                r#"{"e":"depthUpdate","E":2,"U":10,"u":12,"b":[["99","6"]],"a":[]}"#,
                SNAP,
                r#"{"e":"depthUpdate","E":3,"U":13,"u":13,"b":[],"a":[["101","0"]]}"#,
            ],
        );
        assert!(s.in_sync());
        assert_eq!(s.stats.stale, 1);
        // CLEAR + 2 snapshot levels, the bridging diff, the next one.
        let k: Vec<(u8, i64, i64)> = ev.iter().map(|e| (e.kind, e.price, e.size)).collect();
        assert_eq!(
            k,
            vec![(8, 0, 0), (1, 99, 5), (1, 101, 5), (1, 99, 6), (1, 101, 0)]
        );
        assert_eq!(s.last_update_id(), Some(13));
        // U jumps: a gap, a flagged CLEAR, out of sync until a snapshot.
        let ev = run(
            &mut s,
            &[r#"{"e":"depthUpdate","E":4,"U":15,"u":16,"b":[["99","1"]],"a":[]}"#],
        );
        assert!(!s.in_sync());
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].kind, ev[0].flags),
            (kind::CLEAR, BAD_BOOK | flags::LAST)
        );
        assert_eq!((s.gaps[0].expected, s.gaps[0].got), (14, 15));
        let ev = run(
            &mut s,
            &[
                r#"{"e":"depthUpdate","E":5,"U":17,"u":18,"b":[["97","2"]],"a":[]}"#,
                r#"{"lastUpdateId":17,"bids":[["99","1"]],"asks":[["102","3"]]}"#,
            ],
        );
        assert!(s.in_sync());
        assert_eq!(s.last_update_id(), Some(18));
        assert_eq!(ev.last().map(|e| (e.price, e.size)), Some((97, 2)));
    }

    #[test]
    fn futures_use_pu_and_a_too_old_snapshot_is_a_gap() {
        let mut s = sync();
        run(
            &mut s,
            &[
                r#"{"stream":"x@depth@0ms","data":{"e":"depthUpdate","E":1,"U":20,"u":25,"pu":19,"b":[],"a":[]}}"#,
                SNAP,
            ],
        );
        assert!(!s.in_sync());
        assert_eq!((s.gaps[0].expected, s.gaps[0].got), (10, 20));
        run(
            &mut s,
            &[
                r#"{"lastUpdateId":22,"bids":[["99","5"]],"asks":[["101","5"]]}"#,
                r#"{"stream":"x@depth@0ms","data":{"e":"depthUpdate","E":1,"U":26,"u":27,"pu":25,"b":[],"a":[]}}"#,
                r#"{"stream":"x@depth@0ms","data":{"e":"depthUpdate","E":1,"U":28,"u":29,"pu":26,"b":[],"a":[]}}"#,
            ],
        );
        assert_eq!(s.gaps.len(), 2);
        assert_eq!((s.gaps[1].expected, s.gaps[1].got), (27, 26));
    }

    #[test]
    fn trades_and_tickers() {
        let mut s = sync();
        let ev = run(
            &mut s,
            &[
                r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"t":1,"p":"100","q":"2","T":1,"m":true}}"#,
                r#"{"stream":"btcusdt@bookTicker","data":{"u":7,"b":"99","B":"1","a":"101","A":"3"}}"#,
            ],
        );
        assert_eq!((ev[0].kind, ev[0].side, ev[0].size), (kind::TRADE, 1, 2));
        assert_eq!(s.tickers[0].bid, (99, 1));
        assert_eq!(s.tickers[0].ask, (101, 3));
        let mut out = Vec::new();
        let bad = s.on_message(br#"{"e":"depthUpdate","U":1"#, 0, 9, &mut out);
        assert!(out.is_empty());
        assert!(matches!(
            bad,
            Err(Error {
                kind: crate::ErrorKind::Parse { line: 9, .. },
                ..
            })
        ));
    }

    #[test]
    fn force_orders_are_liquidation_notices() {
        let mut s = DepthSync::new(
            Grid::parse("0.1").unwrap_or(Grid::units(1)),
            Grid::parse("0.001").unwrap_or(Grid::units(1)),
            TsSource::Exchange,
        );
        let ev = run(
            &mut s,
            &[
                // The documented example: a SELL closes a long, hitting bids.
                r#"{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014","p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}"#,
                // Combined-stream form; an off-grid price rounds to a tick.
                r#"{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":2,"o":{"s":"BTCUSDT","S":"BUY","q":"0.5","p":"61000.06","ap":"60990.1","X":"PARTIALLY_FILLED","l":"0.1","z":"0.3","T":1723161256000}}}"#,
                // Nothing filled: no event.
                r#"{"e":"forceOrder","E":3,"o":{"S":"SELL","q":"1","p":"9000","z":"0","T":1723161257000}}"#,
            ],
        );
        let k: Vec<(i64, u8, i8, i64, i64, u8)> = ev
            .iter()
            .map(|e| (e.ts, e.kind, e.side, e.price, e.size, e.flags))
            .collect();
        assert_eq!(
            k,
            vec![
                (
                    1_568_014_460_893_000_000,
                    kind::LIQUIDATION,
                    1,
                    99_100,
                    14,
                    flags::LAST
                ),
                (
                    1_723_161_256_000_000_000,
                    kind::LIQUIDATION,
                    -1,
                    610_001,
                    300,
                    flags::LAST
                ),
            ]
        );
        assert_eq!((s.stats.liquidations, s.stats.other), (2, 1));
        // A bad side or a missing order is an error naming the line and field.
        for (msg, field) in [
            (
                r#"{"e":"forceOrder","E":1,"o":{"S":"HOLD","p":"1","z":"1"}}"#,
                "S",
            ),
            (r#"{"e":"forceOrder","E":1}"#, "o"),
            (
                r#"{"e":"forceOrder","E":1,"o":{"S":"BUY","p":"1","z":"-1"}}"#,
                "z",
            ),
        ] {
            let mut out = Vec::new();
            match s.on_message(msg.as_bytes(), 0, 4, &mut out) {
                Err(Error {
                    kind:
                        crate::ErrorKind::Parse {
                            line: 4, field: f, ..
                        },
                    ..
                }) => assert_eq!(f, field, "{msg}"),
                other => unreachable!("{msg}: {other:?}"),
            }
            assert!(out.is_empty());
        }
    }
}
