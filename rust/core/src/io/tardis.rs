//! Tardis.dev CSV files (<https://docs.tardis.dev/downloadable-csv-files>).
//!
//! * `incremental_book_L2`: `exchange,symbol,timestamp,local_timestamp,
//!   is_snapshot,side,price,amount`; `amount` is the level's new absolute
//!   size (0 removes it). A run of `is_snapshot=true` rows that follows
//!   update rows (or opens the file) is a new snapshot: a `CLEAR` is emitted
//!   before it. Each row is one `SET_LEVEL`.
//! * `trades`: `...,id,side,price,amount`; `side` is the taker's (`buy`,
//!   `sell`, `unknown`). Each row is one `TRADE` whose event `side` is the
//!   *resting* side (the lobkit convention), 0 when unknown.
//! * `book_snapshot_N`: `asks[i].price, asks[i].amount, bids[i].price,
//!   bids[i].amount` for i in 0..N; each row becomes the `SET_LEVEL` events
//!   that turn the previous row's top N into this one ([`super::levels`]).
//!
//! Timestamps are µs since the UNIX epoch; events carry ns. Rows that share
//! `local_timestamp` came in one message: the last event of each gets
//! [`flags::LAST`], snapshot rows [`flags::SNAPSHOT`].

use super::decimal::Grid;
use super::feed::TsSource;
use super::flags;
use super::levels::{self, Levels};
use super::text::{col, fields, parse_int, perr, show, trim, Header};
use crate::error::Error;
use crate::types::{kind, Event, Ts};

/// Which Tardis data type a file holds (from its header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// `incremental_book_L2`.
    IncrementalL2,
    /// `trades`.
    Trades,
    /// `liquidations` (the same columns as `trades`; chosen by
    /// [`Options::liquidations`], since the header cannot tell them apart).
    Liquidations,
    /// `book_snapshot_N` with `levels` = N.
    Snapshot {
        /// Levels per side.
        levels: usize,
    },
}

impl Schema {
    /// Tardis's name of the data type (`book_snapshot` for every N) and N
    /// (0 for the others).
    pub fn name(self) -> (&'static str, usize) {
        match self {
            Schema::IncrementalL2 => ("incremental_book_L2", 0),
            Schema::Trades => ("trades", 0),
            Schema::Liquidations => ("liquidations", 0),
            Schema::Snapshot { levels } => ("book_snapshot", levels),
        }
    }
}

/// Parser settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Price grid: `price` strings become ticks of this step.
    pub price: Grid,
    /// Size grid: `amount` strings become lots of this step.
    pub size: Grid,
    /// Timestamp column for `Event::ts`.
    pub ts: TsSource,
    /// Keep only rows of this symbol; `None` requires the file to hold one.
    pub symbol: Option<String>,
    /// A trades-shaped file is Tardis's `liquidations` data type: rows become
    /// `LIQUIDATION` notices.
    pub liquidations: bool,
}

/// Reads the header to tell the data type (`liquidations`: a trades-shaped
/// header is the `liquidations` data type).
pub fn schema(header: &Header<'_>, liquidations: bool) -> Result<Schema, Error> {
    if header.find("is_snapshot").is_some() {
        return Ok(Schema::IncrementalL2);
    }
    if header.find("asks[0].price").is_some() {
        let mut n = 0;
        while header.find(&format!("asks[{n}].price")).is_some() {
            n += 1;
        }
        return Ok(Schema::Snapshot { levels: n });
    }
    if header.find("id").is_some() && header.find("side").is_some() {
        return Ok(if liquidations {
            Schema::Liquidations
        } else {
            Schema::Trades
        });
    }
    Err(perr(
        1,
        "header",
        "not a Tardis incremental_book_L2, trades or book_snapshot_N header",
    ))
}

/// Column positions, from the header.
#[derive(Clone, Debug)]
struct Cols {
    n: usize,
    symbol: usize,
    ts: usize,
    local: usize,
    side: usize,
    price: usize,
    amount: usize,
    snapshot: usize,
    levels: Vec<[usize; 4]>,
}

impl Cols {
    fn new(header: &Header<'_>, schema: Schema) -> Result<Cols, Error> {
        let (side, price, amount, snapshot) = match schema {
            Schema::IncrementalL2 => (
                header.require("side")?,
                header.require("price")?,
                header.require("amount")?,
                header.require("is_snapshot")?,
            ),
            Schema::Trades | Schema::Liquidations => (
                header.require("side")?,
                header.require("price")?,
                header.require("amount")?,
                0,
            ),
            Schema::Snapshot { .. } => (0, 0, 0, 0),
        };
        let levels = match schema {
            Schema::Snapshot { levels } => (0..levels)
                .map(|i| {
                    let c = |n: String| {
                        header
                            .find(&n)
                            .ok_or_else(|| perr(1, "header", format!("missing column {n:?}")))
                    };
                    Ok([
                        c(format!("asks[{i}].price"))?,
                        c(format!("asks[{i}].amount"))?,
                        c(format!("bids[{i}].price"))?,
                        c(format!("bids[{i}].amount"))?,
                    ])
                })
                .collect::<Result<_, Error>>()?,
            _ => Vec::new(),
        };
        Ok(Cols {
            n: header.len(),
            symbol: header.require("symbol")?,
            ts: header.require("timestamp")?,
            local: header.require("local_timestamp")?,
            side,
            price,
            amount,
            snapshot,
            levels,
        })
    }
}

/// A streaming parser: feed it the file in chunks of whole lines (the
/// header first), then call [`Parser::finish`]. The events equal
/// [`parse`]'s on the whole file, whatever the chunking.
#[derive(Debug)]
pub struct Parser {
    opt: Options,
    /// Data type and columns, once the header was read.
    head: Option<(Schema, Cols)>,
    /// Lines consumed so far (for 1-based line numbers).
    line: u64,
    symbol: Option<Vec<u8>>,
    /// Incremental L2: the last event is held back until the next row tells
    /// whether it ends its message ([`flags::LAST`]).
    pending: Option<Event>,
    prev_key: Option<(i64, bool)>,
    in_snapshot: bool,
    /// Snapshots: the previous row's levels, and a buffer for the next.
    prev: (Levels, Levels),
    next: (Levels, Levels),
}

impl Parser {
    /// A parser with these settings.
    pub fn new(opt: Options) -> Parser {
        let symbol = opt.symbol.as_ref().map(|s| s.as_bytes().to_vec());
        Parser {
            opt,
            head: None,
            line: 0,
            symbol,
            pending: None,
            prev_key: None,
            in_snapshot: false,
            prev: Default::default(),
            next: Default::default(),
        }
    }

    /// The data type, once the header was read.
    pub fn schema(&self) -> Option<Schema> {
        self.head.as_ref().map(|h| h.0)
    }

    fn emit(&mut self, out: &mut Vec<Event>, e: Event) {
        if let Some(p) = self.pending.replace(e) {
            out.push(p);
        }
    }

    /// Parses `data`, whole lines without the final newline (the caller
    /// carries a partial last line into the next chunk), and appends the
    /// events whose message is known to be complete.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Event>) -> Result<(), Error> {
        let mut row: Vec<&[u8]> = Vec::new();
        for raw in data.split(|&c| c == b'\n') {
            self.line += 1;
            if trim(raw).is_empty() {
                continue;
            }
            let line = self.line;
            let Some((schema, cols)) = &self.head else {
                let header = Header::new(raw);
                let schema = schema(&header, self.opt.liquidations)?;
                let cols = Cols::new(&header, schema)?;
                self.head = Some((schema, cols));
                continue;
            };
            let (schema, cols) = (*schema, cols.clone());
            fields(raw, &mut row);
            if row.len() != cols.n {
                return Err(perr(
                    line,
                    "row",
                    format!("{} columns, the header has {}", row.len(), cols.n),
                ));
            }
            if !self.keep_symbol(col(&row, cols.symbol, line, "symbol", cols.n)?, line)? {
                continue;
            }
            // Both clocks are checked whichever becomes `ts`.
            let exch = parse_int(row[cols.ts], line, "timestamp")?;
            let local = parse_int(row[cols.local], line, "local_timestamp")?;
            let us = match self.opt.ts {
                TsSource::Exchange => exch,
                TsSource::Local => local,
            };
            let ts: Ts = us
                .checked_mul(1000)
                .ok_or_else(|| perr(line, "timestamp", "µs value out of range"))?;
            match schema {
                Schema::IncrementalL2 => self.incremental(&row, &cols, line, ts, local, out)?,
                Schema::Trades => out.push(self.trade(&row, &cols, line, ts, false)?),
                Schema::Liquidations => out.push(self.trade(&row, &cols, line, ts, true)?),
                Schema::Snapshot { .. } => self.snapshot(&row, &cols, line, ts, out)?,
            }
        }
        Ok(())
    }

    /// Whether a row of `sym` is kept: the chosen symbol's rows only; with
    /// none chosen, the file must hold one symbol.
    fn keep_symbol(&mut self, sym: &[u8], line: u64) -> Result<bool, Error> {
        match &self.symbol {
            Some(s) if s.as_slice() != sym => {
                if self.opt.symbol.is_some() {
                    return Ok(false);
                }
                Err(perr(
                    line,
                    "symbol",
                    format!(
                        "the file holds more than one symbol ({:?}, {:?}); pass symbol= to pick one",
                        show(s),
                        show(sym)
                    ),
                ))
            }
            Some(_) => Ok(true),
            None => {
                self.symbol = Some(sym.to_vec());
                Ok(true)
            }
        }
    }

    /// One `incremental_book_L2` row: a level's absolute size. A row whose
    /// (local time, is_snapshot) differs from the previous one's starts a
    /// new message, which ends the held-back event's; the first row of a
    /// snapshot run resets the book.
    fn incremental(
        &mut self,
        row: &[&[u8]],
        cols: &Cols,
        line: u64,
        ts: Ts,
        local: i64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let snap = match row[cols.snapshot] {
            b"true" | b"True" | b"TRUE" | b"1" => true,
            b"false" | b"False" | b"FALSE" | b"0" => false,
            other => {
                return Err(perr(
                    line,
                    "is_snapshot",
                    format!("expected true/false, got {:?}", show(other)),
                ))
            }
        };
        let side = match row[cols.side] {
            b"bid" | b"buy" => 1,
            b"ask" | b"sell" => -1,
            other => {
                return Err(perr(
                    line,
                    "side",
                    format!("expected bid or ask, got {:?}", show(other)),
                ))
            }
        };
        let price = self.opt.price.field(row[cols.price], line, "price")?;
        let size = self.opt.size.field(row[cols.amount], line, "amount")?;
        if size < 0 {
            return Err(perr(line, "amount", "negative size"));
        }
        let key = (local, snap);
        if self.prev_key.is_some_and(|k| k != key) {
            if let Some(p) = self.pending.as_mut() {
                p.flags |= flags::LAST;
            }
        }
        self.prev_key = Some(key);
        let fl = if snap { flags::SNAPSHOT } else { 0 };
        if snap && !self.in_snapshot {
            let mut e = Event::new(ts, kind::CLEAR, 0, 0, 0, 0);
            e.flags = fl;
            self.emit(out, e);
        }
        self.in_snapshot = snap;
        let mut e = Event::new(ts, kind::SET_LEVEL, side, price, size, 0);
        e.flags = fl;
        self.emit(out, e);
        Ok(())
    }

    /// One `trades` row: a TRADE on the resting side (a buy taker hit the
    /// asks), a message of its own. A `liquidations` row (`liq`): a
    /// LIQUIDATION notice, `side` the liquidation order's (buy: a short was
    /// liquidated, lifting the asks), its price rounded to the nearest tick
    /// (a bankruptcy price need not be on the grid).
    fn trade(
        &self,
        row: &[&[u8]],
        cols: &Cols,
        line: u64,
        ts: Ts,
        liq: bool,
    ) -> Result<Event, Error> {
        let side = match row[cols.side] {
            b"buy" => -1,
            b"sell" => 1,
            b"unknown" | b"" => 0,
            other => {
                return Err(perr(
                    line,
                    "side",
                    format!("expected buy, sell or unknown, got {:?}", show(other)),
                ))
            }
        };
        let price = if liq {
            self.opt
                .price
                .field_nearest(row[cols.price], line, "price")?
        } else {
            self.opt.price.field(row[cols.price], line, "price")?
        };
        let size = self.opt.size.field(row[cols.amount], line, "amount")?;
        if size <= 0 {
            return Err(perr(line, "amount", "trade size must be positive"));
        }
        let k = if liq { kind::LIQUIDATION } else { kind::TRADE };
        let mut e = Event::new(ts, k, side, price, size, 0);
        e.flags = flags::LAST;
        Ok(e)
    }

    /// One `book_snapshot_N` row: the top N as level diffs against the
    /// previous row (removals first), one message.
    fn snapshot(
        &mut self,
        row: &[&[u8]],
        cols: &Cols,
        line: u64,
        ts: Ts,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let (nb, na) = &mut self.next;
        nb.clear();
        na.clear();
        for c in &cols.levels {
            for (pc, qc, dst, field_p, field_q) in [
                (c[0], c[1], &mut *na, "asks[i].price", "asks[i].amount"),
                (c[2], c[3], &mut *nb, "bids[i].price", "bids[i].amount"),
            ] {
                // Thin books leave the deeper columns empty.
                if row[pc].is_empty() {
                    continue;
                }
                let p = self.opt.price.field(row[pc], line, field_p)?;
                let q = self.opt.size.field(row[qc], line, field_q)?;
                if q > 0 {
                    dst.push((p, q));
                }
            }
        }
        let (pb, pa) = &self.prev;
        levels::diff((pb, pa), (nb, na), ts, 0, flags::LAST, out);
        std::mem::swap(&mut self.prev, &mut self.next);
        Ok(())
    }

    /// Ends the input: emits the held-back event, which ends its message.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Result<Schema, Error> {
        if let Some(mut p) = self.pending.take() {
            p.flags |= flags::LAST;
            out.push(p);
        }
        self.schema().ok_or_else(|| perr(1, "header", "empty file"))
    }
}

/// Parses a whole (decompressed) file. Returns the data type and the events.
pub fn parse(data: &[u8], opt: &Options) -> Result<(Schema, Vec<Event>), Error> {
    let mut p = Parser::new(opt.clone());
    let mut out = Vec::with_capacity(data.len() / 60);
    p.feed(data, &mut out)?;
    let schema = p.finish(&mut out)?;
    Ok((schema, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn opt(tick: &str, lot: &str) -> Options {
        Options {
            price: Grid::parse(tick).unwrap_or(Grid::units(1)),
            size: Grid::parse(lot).unwrap_or(Grid::units(1)),
            ts: TsSource::Local,
            symbol: None,
            liquidations: false,
        }
    }

    const L2: &[u8] = b"exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
deribit,BTC-PERPETUAL,1000,1100,true,ask,6421.5,18640
deribit,BTC-PERPETUAL,1000,1100,true,bid,6421,10
deribit,BTC-PERPETUAL,2000,2100,false,bid,6421,0
deribit,BTC-PERPETUAL,2000,2100,false,bid,6420.5,5
deribit,BTC-PERPETUAL,3000,3100,true,ask,6430,1
";

    #[test]
    fn incremental_snapshots_reset_and_group() {
        let (s, ev) = parse(L2, &opt("0.5", "1")).unwrap_or_default_for_test();
        assert_eq!(s, Schema::IncrementalL2);
        let k: Vec<(u8, i8, i64, i64, u8)> = ev
            .iter()
            .map(|e| (e.kind, e.side, e.price, e.size, e.flags))
            .collect();
        assert_eq!(
            k,
            vec![
                (kind::CLEAR, 0, 0, 0, 0x20),
                (kind::SET_LEVEL, -1, 12843, 18640, 0x20),
                (kind::SET_LEVEL, 1, 12842, 10, 0xa0),
                (kind::SET_LEVEL, 1, 12842, 0, 0),
                (kind::SET_LEVEL, 1, 12841, 5, 0x80),
                (kind::CLEAR, 0, 0, 0, 0x20),
                (kind::SET_LEVEL, -1, 12860, 1, 0xa0),
            ]
        );
        assert_eq!(ev[0].ts, 1_100_000);
    }

    trait OrDefault {
        fn unwrap_or_default_for_test(self) -> (Schema, Vec<Event>);
    }
    impl OrDefault for Result<(Schema, Vec<Event>), Error> {
        fn unwrap_or_default_for_test(self) -> (Schema, Vec<Event>) {
            match self {
                Ok(v) => v,
                Err(e) => unreachable!("{e}"),
            }
        }
    }

    #[test]
    fn any_chunking_gives_the_same_events() {
        let (_, whole) = parse(L2, &opt("0.5", "1")).unwrap_or_default_for_test();
        let lines: Vec<&[u8]> = L2.split_inclusive(|&c| c == b'\n').collect();
        for cut in 1..lines.len() {
            let mut p = Parser::new(opt("0.5", "1"));
            let mut out = Vec::new();
            for chunk in [lines[..cut].concat(), lines[cut..].concat()] {
                let body = chunk.strip_suffix(b"\n").unwrap_or(&chunk);
                assert!(p.feed(body, &mut out).is_ok());
            }
            assert!(p.finish(&mut out).is_ok());
            assert_eq!(out, whole, "cut at line {cut}");
        }
    }

    #[test]
    fn off_grid_price_names_line_and_field() {
        match parse(L2, &opt("1", "1")) {
            Err(Error {
                kind:
                    ErrorKind::Parse {
                        line,
                        field,
                        message,
                    },
                ..
            }) => {
                assert_eq!((line, field), (2, "price"));
                assert!(message.contains("6421.5"), "{message}");
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn trades_side_is_the_resting_side() {
        let data = b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount
bitmex,XBTUSD,1,2,a-b,sell,8531.5,2152
bitmex,XBTUSD,1,2,c,buy,8532,1
bitmex,XBTUSD,1,2,d,unknown,8532,1
";
        let (s, ev) = parse(data, &opt("0.5", "1")).unwrap_or_default_for_test();
        assert_eq!(s, Schema::Trades);
        let sides: Vec<i8> = ev.iter().map(|e| e.side).collect();
        assert_eq!(sides, vec![1, -1, 0]);
        assert!(ev.iter().all(|e| e.kind == kind::TRADE));
    }

    #[test]
    fn liquidations_are_notices_with_rounded_prices() {
        // Tardis's liquidations columns (binance-futures): a sell liquidates
        // a long and hits the bids.
        let data = b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount
binance-futures,BTCUSDT,1000,1100,,sell,61650.37,0.25
binance-futures,BTCUSDT,2000,2100,,buy,61700.1,1.5
";
        let o = Options {
            liquidations: true,
            ..opt("0.1", "0.001")
        };
        let (s, ev) = parse(data, &o).unwrap_or_default_for_test();
        assert_eq!(s, Schema::Liquidations);
        assert_eq!(s.name(), ("liquidations", 0));
        let got: Vec<(i64, u8, i8, i64, i64)> = ev
            .iter()
            .map(|e| (e.ts, e.kind, e.side, e.price, e.size))
            .collect();
        assert_eq!(
            got,
            vec![
                (1_100_000, kind::LIQUIDATION, 1, 616_504, 250),
                (2_100_000, kind::LIQUIDATION, -1, 617_001, 1_500),
            ]
        );
        // Read as trades, the off-grid price is an error naming the field.
        assert!(parse(data, &opt("0.1", "0.001")).is_err());
    }

    #[test]
    fn several_symbols_need_a_filter() {
        let data = b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount
x,A,1,2,a,sell,1,1
x,B,1,2,b,sell,2,1
";
        assert!(parse(data, &opt("1", "1")).is_err());
        let mut o = opt("1", "1");
        o.symbol = Some("B".into());
        let (_, ev) = parse(data, &o).unwrap_or_default_for_test();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].price, 2);
    }

    #[test]
    fn snapshots_become_diffs() {
        let data = b"exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,asks[1].price,asks[1].amount,bids[1].price,bids[1].amount
x,S,1,2,10,1,9,2,11,3,8,4
x,S,1,3,10,1,9,2,11,3,8,4
x,S,1,4,10,5,9,2,,,8,4
";
        let (s, ev) = parse(data, &opt("1", "1")).unwrap_or_default_for_test();
        assert_eq!(s, Schema::Snapshot { levels: 2 });
        // 4 levels, then nothing, then ask 11 removed and ask 10 resized.
        assert_eq!(ev.len(), 6);
        assert_eq!((ev[4].price, ev[4].size, ev[4].side), (11, 0, -1));
        assert_eq!((ev[5].price, ev[5].size, ev[5].flags), (10, 5, 0x80));
    }
}
