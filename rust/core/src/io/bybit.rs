//! Bybit v5 order book (`orderbook.{depth}.{symbol}`) and public trades.
//!
//! Bybit sends the book in-band: a `snapshot` message resets it, then
//! `delta` messages carry absolute level sizes (0 removes the level) with an
//! update id `u` that grows by one per message. A delta with `u == 1` is a
//! snapshot after a service restart (Bybit's docs: overwrite the local
//! book). A delta that does not continue `u` is a gap: a `CLEAR` flagged
//! [`BAD_BOOK`](super::flags::BAD_BOOK), a recorded [`Gap`], and deltas are dropped until the next
//! snapshot. `publicTrade` entries become `TRADE` events on the resting side
//! (taker `S` = Buy hit the asks); `allLiquidation` and `liquidation`
//! entries become `LIQUIDATION` notices (see [`kind::LIQUIDATION`]).

use super::decimal::Grid;
use super::emit::Emitter;
use super::feed::{removals_first, Feed, Gap, Stats, TsSource};
use super::flags;
use super::flags::BAD_BOOK;
use super::text::perr;
use crate::error::Error;
use crate::types::{kind, Event, Ts};
use serde::Deserialize;

#[derive(Deserialize)]
struct Msg<'a> {
    #[serde(borrow, default)]
    topic: Option<&'a str>,
    #[serde(rename = "type", borrow, default)]
    typ: Option<&'a str>,
    #[serde(default)]
    ts: Option<i64>,
    #[serde(borrow, default)]
    data: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct Book<'a> {
    #[serde(borrow, default)]
    b: Vec<[&'a str; 2]>,
    #[serde(borrow, default)]
    a: Vec<[&'a str; 2]>,
    u: u64,
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(rename = "T", default)]
    time_ms: Option<i64>,
    #[serde(rename = "S", borrow)]
    taker: &'a str,
    #[serde(borrow)]
    v: &'a str,
    #[serde(borrow)]
    p: &'a str,
}

/// One entry of `allLiquidation.{symbol}` (`data` is a list of them).
#[derive(Deserialize)]
struct AllLiquidation<'a> {
    #[serde(rename = "T", default)]
    time_ms: Option<i64>,
    /// The liquidated *position's* side: Buy, a long.
    #[serde(rename = "S", borrow)]
    position: &'a str,
    #[serde(borrow)]
    v: &'a str,
    #[serde(borrow)]
    p: &'a str,
}

/// The `data` object of the older `liquidation.{symbol}` topic.
#[derive(Deserialize)]
struct Liquidation<'a> {
    #[serde(rename = "updatedTime", default)]
    time_ms: Option<i64>,
    /// The liquidated position's side, as in [`AllLiquidation`].
    #[serde(borrow)]
    side: &'a str,
    #[serde(borrow)]
    size: &'a str,
    #[serde(borrow)]
    price: &'a str,
}

/// The Bybit book keeper: feed it messages in arrival order.
#[derive(Debug)]
pub struct BybitSync {
    price: Grid,
    size: Grid,
    ts_source: TsSource,
    last_u: Option<u64>,
    messages: u64,
    /// Gaps seen.
    pub gaps: Vec<Gap>,
    /// Emission state; `out.ids` holds, per event, the `u` of its message
    /// (0 for trades).
    pub out: Emitter,
    /// Counters (`diffs` counts deltas, `stale` deltas dropped out of sync).
    pub stats: Stats,
}

impl Feed for BybitSync {
    fn on_message(
        &mut self,
        json: &[u8],
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        BybitSync::on_message(self, json, recv_ts, line, out)
    }

    fn resync(&mut self) {
        self.last_u = None;
    }
}

impl BybitSync {
    /// A keeper converting prices/sizes onto the given grids.
    pub fn new(price: Grid, size: Grid, ts_source: TsSource) -> BybitSync {
        BybitSync {
            price,
            size,
            ts_source,
            last_u: None,
            messages: 0,
            gaps: Vec::new(),
            out: Emitter::default(),
            stats: Stats::default(),
        }
    }

    /// True after a snapshot and no gap since.
    pub fn in_sync(&self) -> bool {
        self.last_u.is_some()
    }

    /// Last applied `u`.
    pub fn last_update_id(&self) -> Option<u64> {
        self.last_u
    }

    /// One message (JSON), received at `recv_ts` ns, from `line` (1-based).
    pub fn on_message(
        &mut self,
        json: &[u8],
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let msg: Msg<'_> = serde_json::from_slice(json)
            .map_err(|e| perr(line, "json", format!("invalid JSON: {e}")))?;
        let message = self.messages;
        self.messages += 1;
        let topic = msg.topic.unwrap_or("");
        let ts = match self.ts_source {
            TsSource::Local => recv_ts,
            TsSource::Exchange => msg.ts.unwrap_or(0).saturating_mul(1_000_000),
        };
        let Some(data) = msg.data else {
            self.stats.other += 1;
            return Ok(());
        };
        if topic.starts_with("orderbook.") {
            let book: Book<'_> = serde_json::from_str(data.get())
                .map_err(|e| perr(line, "data", format!("expected {{b, a, u}}: {e}")))?;
            return self.on_book(msg.typ.unwrap_or(""), &book, ts, message, line, out);
        }
        if topic.starts_with("publicTrade.") {
            let trades: Vec<Trade<'_>> = serde_json::from_str(data.get())
                .map_err(|e| perr(line, "data", format!("expected a list of trades: {e}")))?;
            for t in trades {
                let p = self.price.field_at_least(t.p, line, "p", 1)?;
                let q = self.size.field_at_least(t.v, line, "v", 0)?;
                let side = match t.taker {
                    "Buy" => -1,
                    "Sell" => 1,
                    other => {
                        return Err(perr(
                            line,
                            "S",
                            format!("expected Buy or Sell, got {other:?}"),
                        ))
                    }
                };
                let tts = match self.ts_source {
                    TsSource::Local => ts,
                    TsSource::Exchange => t.time_ms.unwrap_or(0).saturating_mul(1_000_000),
                };
                let mut e = Event::new(tts, kind::TRADE, side, p, q, 0);
                e.flags = flags::LAST;
                self.out.id = 0;
                self.out.push(out, e);
                self.stats.trades += 1;
            }
            return Ok(());
        }
        if topic.starts_with("allLiquidation.") {
            let rows: Vec<AllLiquidation<'_>> = serde_json::from_str(data.get()).map_err(|e| {
                perr(
                    line,
                    "data",
                    format!("expected a list of {{T, S, v, p}}: {e}"),
                )
            })?;
            // Check every entry before emitting any: a bad message adds nothing.
            let mut evs = Vec::with_capacity(rows.len());
            for r in &rows {
                evs.push(self.liquidation(r.position, r.p, r.v, r.time_ms, ts, line, "S")?);
            }
            for e in evs.into_iter().flatten() {
                self.push_liquidation(e, out);
            }
            return Ok(());
        }
        if topic.starts_with("liquidation.") {
            let r: Liquidation<'_> = serde_json::from_str(data.get()).map_err(|e| {
                perr(
                    line,
                    "data",
                    format!("expected {{price, side, size, updatedTime}}: {e}"),
                )
            })?;
            if let Some(e) =
                self.liquidation(r.side, r.price, r.size, r.time_ms, ts, line, "side")?
            {
                self.push_liquidation(e, out);
            }
            return Ok(());
        }
        self.stats.other += 1;
        Ok(())
    }

    /// A liquidation notice as a `LIQUIDATION` event (None: zero size).
    /// Bybit names the liquidated *position*: a long (Buy) is closed by a
    /// sell that hits the bids, so the resting side is the bid. The price
    /// is the bankruptcy price, which need not be on the tick grid: it is
    /// rounded to the nearest tick.
    #[allow(clippy::too_many_arguments)]
    fn liquidation(
        &self,
        position: &str,
        price: &str,
        size: &str,
        time_ms: Option<i64>,
        msg_ts: Ts,
        line: u64,
        side_field: &'static str,
    ) -> Result<Option<Event>, Error> {
        let side = match position {
            "Buy" => 1,
            "Sell" => -1,
            other => {
                return Err(perr(
                    line,
                    side_field,
                    format!("expected Buy or Sell, got {other:?}"),
                ))
            }
        };
        let p = self.price.field_nearest(price, line, "price")?;
        let q = self.size.field_at_least(size, line, "size", 0)?;
        if q == 0 || p <= 0 {
            return Ok(None);
        }
        let ts = match self.ts_source {
            TsSource::Local => msg_ts,
            TsSource::Exchange => time_ms.map_or(msg_ts, |t| t.saturating_mul(1_000_000)),
        };
        Ok(Some(Event::new(ts, kind::LIQUIDATION, side, p, q, 0)))
    }

    fn push_liquidation(&mut self, mut e: Event, out: &mut Vec<Event>) {
        e.flags = flags::LAST;
        self.out.id = 0;
        self.out.push(out, e);
        self.stats.liquidations += 1;
    }

    fn on_book(
        &mut self,
        typ: &str,
        book: &Book<'_>,
        ts: Ts,
        message: u64,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let snapshot = typ == "snapshot" || book.u == 1;
        if !snapshot && typ != "delta" {
            return Err(perr(
                line,
                "type",
                format!("expected snapshot or delta, got {typ:?}"),
            ));
        }
        let mut levels = Vec::with_capacity(book.b.len() + book.a.len());
        for (side, rows) in [(1i8, &book.b), (-1i8, &book.a)] {
            for [p, q] in rows {
                let price = self.price.field_at_least(p, line, "price", 1)?;
                let qty = self.size.field_at_least(q, line, "size", 0)?;
                if qty < 0 {
                    return Err(perr(line, "size", format!("negative size {q:?}")));
                }
                levels.push((side, price, qty));
            }
        }
        let start = out.len();
        self.out.id = book.u;
        if snapshot {
            self.stats.snapshots += 1;
            let mut c = Event::new(ts, kind::CLEAR, 0, 0, 0, 0);
            c.flags = flags::SNAPSHOT;
            self.out.push(out, c);
        } else {
            self.stats.diffs += 1;
            match self.last_u {
                None => {
                    self.stats.stale += 1;
                    return Ok(());
                }
                Some(prev) if book.u != prev + 1 => {
                    self.gaps.push(Gap {
                        event_index: self.out.emitted,
                        message,
                        expected: prev + 1,
                        got: book.u,
                        ts,
                    });
                    let mut c = Event::new(ts, kind::CLEAR, 0, 0, 0, 0);
                    c.flags = BAD_BOOK | flags::LAST;
                    self.out.push(out, c);
                    self.last_u = None;
                    return Ok(());
                }
                Some(_) => self.stats.applied += 1,
            }
        }
        removals_first(&mut levels);
        let fl = if snapshot { flags::SNAPSHOT } else { 0 };
        for (side, p, q) in levels {
            if snapshot && q == 0 {
                continue;
            }
            let mut e = Event::new(ts, kind::SET_LEVEL, side, p, q, 0);
            e.flags = fl;
            self.out.push(out, e);
        }
        Emitter::close(out, start);
        self.last_u = Some(book.u);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_delta_gap_restart() {
        let mut s = BybitSync::new(Grid::units(1), Grid::units(1), TsSource::Local);
        let mut out = Vec::new();
        let msgs = [
            r#"{"topic":"orderbook.50.X","type":"delta","ts":1,"data":{"s":"X","b":[],"a":[],"u":4,"seq":1}}"#,
            r#"{"topic":"orderbook.50.X","type":"snapshot","ts":1,"data":{"s":"X","b":[["99","1"]],"a":[["101","2"]],"u":5,"seq":1}}"#,
            r#"{"topic":"orderbook.50.X","type":"delta","ts":2,"data":{"s":"X","b":[["99","0"],["100","3"]],"a":[],"u":6,"seq":2}}"#,
            r#"{"topic":"publicTrade.X","type":"snapshot","ts":3,"data":[{"T":3,"s":"X","S":"Buy","v":"1","p":"101","i":"a","BT":false}]}"#,
            r#"{"topic":"orderbook.50.X","type":"delta","ts":4,"data":{"s":"X","b":[],"a":[],"u":8,"seq":3}}"#,
            r#"{"topic":"orderbook.50.X","type":"delta","ts":5,"data":{"s":"X","b":[["98","1"]],"a":[],"u":9,"seq":4}}"#,
            r#"{"topic":"orderbook.50.X","type":"delta","ts":6,"data":{"s":"X","b":[["97","1"]],"a":[["103","1"]],"u":1,"seq":5}}"#,
        ];
        for (i, m) in msgs.iter().enumerate() {
            if let Err(e) = s.on_message(m.as_bytes(), i as i64, i as u64 + 1, &mut out) {
                unreachable!("{e}");
            }
        }
        let k: Vec<(u8, i8, i64, i64)> = out
            .iter()
            .map(|e| (e.kind, e.side, e.price, e.size))
            .collect();
        assert_eq!(
            k,
            vec![
                (8, 0, 0, 0),
                (1, 1, 99, 1),
                (1, -1, 101, 2),
                (1, 1, 99, 0),
                (1, 1, 100, 3),
                (7, -1, 101, 1),
                (8, 0, 0, 0),
                (8, 0, 0, 0),
                (1, 1, 97, 1),
                (1, -1, 103, 1),
            ]
        );
        assert_eq!((s.gaps[0].expected, s.gaps[0].got), (7, 8));
        assert_eq!(s.stats.stale, 2); // before the first snapshot, and u=9 after the gap
        assert!(s.in_sync());
    }

    #[test]
    fn liquidation_topics_name_the_position() {
        let mut s = BybitSync::new(
            Grid::parse("0.00001").unwrap_or(Grid::units(1)),
            Grid::units(1),
            TsSource::Exchange,
        );
        let mut out = Vec::new();
        let msgs = [
            // allLiquidation: a list; Buy = a long liquidated (a sell order).
            r#"{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"},{"T":1739502302930,"s":"ROSEUSDT","S":"Buy","v":"300","p":"0.044985"}]}"#,
            // the older liquidation topic: one object.
            r#"{"topic":"liquidation.ROSEUSDT","type":"snapshot","ts":1673251091822,"data":{"price":"0.04","side":"Buy","size":"7","symbol":"ROSEUSDT","updatedTime":1739502303000}}"#,
        ];
        for (i, m) in msgs.iter().enumerate() {
            if let Err(e) = s.on_message(m.as_bytes(), 0, i as u64 + 1, &mut out) {
                unreachable!("{e}");
            }
        }
        let k: Vec<(i64, u8, i8, i64, i64)> = out
            .iter()
            .map(|e| (e.ts, e.kind, e.side, e.price, e.size))
            .collect();
        assert_eq!(
            k,
            vec![
                (
                    1_739_502_302_929_000_000,
                    kind::LIQUIDATION,
                    -1,
                    4499,
                    20_000
                ),
                // 0.044985 is half a tick: rounded away from zero.
                (1_739_502_302_930_000_000, kind::LIQUIDATION, 1, 4499, 300),
                (1_739_502_303_000_000_000, kind::LIQUIDATION, 1, 4000, 7),
            ]
        );
        assert_eq!(s.stats.liquidations, 3);
        // One bad entry: an error, and none of the message's entries emitted.
        let bad = r#"{"topic":"allLiquidation.X","ts":1,"data":[{"T":1,"S":"Buy","v":"1","p":"1"},{"T":1,"S":"Long","v":"1","p":"1"}]}"#;
        let mut out = Vec::new();
        assert!(s.on_message(bad.as_bytes(), 0, 9, &mut out).is_err());
        assert!(out.is_empty());
    }
}
