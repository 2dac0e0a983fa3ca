//! Kraken websocket v1 `book-N` messages with their CRC32 checksums.
//!
//! A snapshot `[chan, {"as": [...], "bs": [...]}, "book-N", pair]` resets the
//! book; updates `[chan, {"a": [...]}, {"b": [...], "c": "crc"}, "book-N",
//! pair]` carry absolute volumes (0 deletes; a 4th element "r" republishes a
//! level that re-enters the N-level window). After each message the book is
//! truncated to N levels per side (Kraken's rule), and the checksum is
//! verified: CRC32 over the top 10 asks (ascending) then the top 10 bids
//! (descending), each level's price then volume as printed, with the '.'
//! removed and leading zeros stripped. The strings are kept per level, so
//! the check is exact. A mismatch means the book is wrong: a `CLEAR` flagged
//! [`BAD_BOOK`](super::flags::BAD_BOOK) is emitted and updates are dropped until the next snapshot.
//!
//! Capture lines (cryptofeed's format): `<recv_ts>: <json>`; other lines
//! (`configuration:`, `wss://...`) are skipped.

use super::decimal;
use super::decimal::Grid;
use super::emit::Emitter;
use super::flags;
use super::flags::BAD_BOOK;
use super::text::{perr, show, trim};
use crate::error::Error;
use crate::types::{kind, Event, Price, Ts};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A checksum that did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Index of the flagged `CLEAR` event.
    pub event_index: u64,
    /// 1-based line of the message.
    pub line: u64,
    /// Checksum the message carried.
    pub expected: u32,
    /// Checksum of the book after applying it.
    pub got: u32,
}

#[derive(Clone, Debug)]
struct Level {
    price_s: String,
    qty_s: String,
}

/// The book keeper for one pair.
#[derive(Debug)]
pub struct KrakenBook {
    price: Grid,
    size: Grid,
    pair: String,
    depth: usize,
    bids: BTreeMap<Price, Level>,
    asks: BTreeMap<Price, Level>,
    synced: bool,
    out: Emitter,
    /// Checksums verified equal.
    pub checks_ok: u64,
    /// Checksums that did not match.
    pub mismatches: Vec<Mismatch>,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Book messages of this pair seen.
    pub messages: u64,
    /// Pairs seen in the file (in order of first appearance).
    pub pairs: Vec<String>,
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn digits(s: &str, out: &mut Vec<u8>) {
    let start = out.len();
    for &c in s.as_bytes() {
        if c == b'.' {
            continue;
        }
        if c == b'0' && out.len() == start {
            continue;
        }
        out.push(c);
    }
}

/// Receive time `"1617666424.942793"` (seconds) in ns, exactly.
fn seconds_ns(s: &[u8], line: u64) -> Result<Ts, Error> {
    let bad = || {
        perr(
            line,
            "recv_ts",
            format!("expected seconds, got {:?}", String::from_utf8_lossy(s)),
        )
    };
    let (m, e) = decimal::parse(s).map_err(|_| bad())?;
    let d = e + 9;
    let v = if d >= 0 {
        10i128.checked_pow(d as u32).and_then(|p| m.checked_mul(p))
    } else {
        10i128.checked_pow((-d) as u32).map(|p| m / p)
    };
    v.and_then(|v| i64::try_from(v).ok()).ok_or_else(bad)
}

impl KrakenBook {
    /// A keeper for `pair` ("XBT/USD") on the given grids.
    pub fn new(price: Grid, size: Grid, pair: &str) -> KrakenBook {
        KrakenBook {
            price,
            size,
            pair: pair.to_string(),
            depth: 1000,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            synced: false,
            out: Emitter::untracked(),
            checks_ok: 0,
            mismatches: Vec::new(),
            snapshots: 0,
            messages: 0,
            pairs: Vec::new(),
        }
    }

    /// True after a snapshot and no checksum mismatch since.
    pub fn in_sync(&self) -> bool {
        self.synced
    }

    /// The checksum of the current book.
    pub fn checksum(&self) -> u32 {
        let mut buf = Vec::with_capacity(400);
        for l in self.asks.values().take(10) {
            digits(&l.price_s, &mut buf);
            digits(&l.qty_s, &mut buf);
        }
        for l in self.bids.values().rev().take(10) {
            digits(&l.price_s, &mut buf);
            digits(&l.qty_s, &mut buf);
        }
        crc32(&buf)
    }

    fn set(
        &mut self,
        side: i8,
        entry: &[&str],
        ts: Ts,
        fl: u8,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let (Some(p), Some(q)) = (entry.first(), entry.get(1)) else {
            return Err(perr(line, "level", "expected [price, volume, timestamp]"));
        };
        let price = self.price.field_at_least(p, line, "price", 1)?;
        let qty = self.size.field_at_least(q, line, "volume", 0)?;
        let book = if side > 0 {
            &mut self.bids
        } else {
            &mut self.asks
        };
        if qty == 0 {
            if book.remove(&price).is_none() {
                return Ok(());
            }
        } else {
            book.insert(
                price,
                Level {
                    price_s: p.to_string(),
                    qty_s: q.to_string(),
                },
            );
        }
        let mut e = Event::new(ts, kind::SET_LEVEL, side, price, qty, 0);
        e.flags = fl;
        self.out.push(out, e);
        Ok(())
    }

    fn truncate(&mut self, ts: Ts, fl: u8, out: &mut Vec<Event>) {
        while self.bids.len() > self.depth {
            if let Some((&p, _)) = self.bids.iter().next() {
                self.bids.remove(&p);
                let mut e = Event::new(ts, kind::SET_LEVEL, 1, p, 0, 0);
                e.flags = fl;
                self.out.push(out, e);
            }
        }
        while self.asks.len() > self.depth {
            if let Some((&p, _)) = self.asks.iter().next_back() {
                self.asks.remove(&p);
                let mut e = Event::new(ts, kind::SET_LEVEL, -1, p, 0, 0);
                e.flags = fl;
                self.out.push(out, e);
            }
        }
    }

    /// One capture line.
    pub fn on_line(&mut self, raw: &[u8], line: u64, out: &mut Vec<Event>) -> Result<(), Error> {
        let raw = trim(raw);
        let Some(colon) = raw.windows(2).position(|w| w == b": ") else {
            return Ok(());
        };
        if !raw[0].is_ascii_digit() {
            return Ok(()); // configuration:, wss://... lines
        }
        let ts = seconds_ns(&raw[..colon], line)?;
        self.on_message(&raw[colon + 2..], ts, line, out)
    }

    /// One websocket message (JSON) received at `ts` ns; `line` numbers it
    /// for errors. Messages of other pairs and channels are skipped.
    pub fn on_message(
        &mut self,
        json: &[u8],
        ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let json = trim(json);
        match json.first() {
            Some(b'[') => {}
            Some(b'{') => {
                // Events, heartbeats, subscription status: skipped, but they
                // must be JSON — garbage is an error, as on the other venues.
                serde_json::from_slice::<&RawValue>(json)
                    .map_err(|e| perr(line, "json", format!("invalid JSON: {e}")))?;
                return Ok(());
            }
            _ => {
                return Err(perr(
                    line,
                    "json",
                    format!(
                        "not a Kraken websocket message (a JSON array or object): {:?}",
                        show(json)
                    ),
                ))
            }
        }
        let parts: Vec<&RawValue> = serde_json::from_slice(json)
            .map_err(|e| perr(line, "json", format!("invalid JSON: {e}")))?;
        if parts.len() < 4 {
            return Ok(());
        }
        let pair: &str = serde_json::from_str(parts[parts.len() - 1].get())
            .map_err(|e| perr(line, "pair", format!("{e}")))?;
        let chan: &str = serde_json::from_str(parts[parts.len() - 2].get())
            .map_err(|e| perr(line, "channel", format!("{e}")))?;
        if !self.pairs.iter().any(|p| p == pair) {
            self.pairs.push(pair.to_string());
        }
        if pair != self.pair || !chan.starts_with("book-") {
            return Ok(());
        }
        if let Ok(n) = chan[5..].parse::<usize>() {
            self.depth = n;
        }
        self.messages += 1;
        let start = out.len();
        let mut checksum: Option<u32> = None;
        for part in &parts[1..parts.len() - 2] {
            let d: BTreeMap<&str, &RawValue> = serde_json::from_str(part.get())
                .map_err(|e| perr(line, "book", format!("expected an object: {e}")))?;
            if d.contains_key("as") || d.contains_key("bs") {
                self.snapshots += 1;
                self.bids.clear();
                self.asks.clear();
                self.synced = true;
                let mut c = Event::new(ts, kind::CLEAR, 0, 0, 0, 0);
                c.flags = flags::SNAPSHOT;
                self.out.push(out, c);
                for (key, side) in [("as", -1i8), ("bs", 1i8)] {
                    if let Some(v) = d.get(key) {
                        let rows: Vec<Vec<&str>> = serde_json::from_str(v.get())
                            .map_err(|e| perr(line, "book", format!("{e}")))?;
                        for r in rows {
                            self.set(side, &r, ts, flags::SNAPSHOT, line, out)?;
                        }
                    }
                }
                continue;
            }
            if !self.synced {
                continue;
            }
            for (key, side) in [("a", -1i8), ("b", 1i8)] {
                if let Some(v) = d.get(key) {
                    let rows: Vec<Vec<&str>> = serde_json::from_str(v.get())
                        .map_err(|e| perr(line, "book", format!("{e}")))?;
                    for r in rows {
                        self.set(side, &r, ts, 0, line, out)?;
                    }
                }
            }
            if let Some(c) = d.get("c") {
                let s: &str =
                    serde_json::from_str(c.get()).map_err(|e| perr(line, "c", format!("{e}")))?;
                checksum = Some(
                    s.parse()
                        .map_err(|_| perr(line, "c", format!("bad checksum {s:?}")))?,
                );
            }
        }
        if !self.synced {
            return Ok(());
        }
        self.truncate(ts, 0, out);
        if let Some(want) = checksum {
            let got = self.checksum();
            if got == want {
                self.checks_ok += 1;
            } else {
                self.mismatches.push(Mismatch {
                    event_index: self.out.emitted,
                    line,
                    expected: want,
                    got,
                });
                let mut c = Event::new(ts, kind::CLEAR, 0, 0, 0, 0);
                c.flags = BAD_BOOK;
                self.out.push(out, c);
                self.bids.clear();
                self.asks.clear();
                self.synced = false;
            }
        }
        Emitter::close(out, start);
        Ok(())
    }
}

impl super::feed::Feed for KrakenBook {
    fn on_message(
        &mut self,
        json: &[u8],
        recv_ts: Ts,
        line: u64,
        out: &mut Vec<Event>,
    ) -> Result<(), Error> {
        KrakenBook::on_message(self, json, recv_ts, line, out)
    }

    /// Out of sync until the next snapshot (resubscribe): updates are
    /// ignored until then, as after a checksum mismatch.
    fn resync(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.synced = false;
    }
}

/// Parses a capture (or a chunk of whole lines after `line0` lines) for one pair.
pub fn parse_capture(data: &[u8], book: &mut KrakenBook, line0: u64) -> Result<Vec<Event>, Error> {
    let mut out = Vec::with_capacity(data.len() / 60);
    for (line, raw) in super::text::lines(data) {
        book.on_line(raw, line + line0, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn kraken_docs_digits() {
        let mut v = Vec::new();
        digits("0.05005", &mut v);
        digits("0.00000500", &mut v);
        assert_eq!(v, b"5005500");
    }

    #[test]
    fn snapshot_update_truncate_and_checksum() {
        let g = |s: &str| Grid::parse(s).unwrap_or(Grid::units(1));
        let mut b = KrakenBook::new(g("0.1"), g("0.001"), "X/Y");
        let mut out = Vec::new();
        let snap = br#"1.5: [1,{"as":[["10.1","1.000","1"],["10.2","2.000","1"],["10.3","1.000","1"]],"bs":[["10.0","3.000","1"],["9.9","1.000","1"]]},"book-2","X/Y"]"#;
        let r = b.on_line(snap, 1, &mut out);
        assert!(r.is_ok());
        // depth 2: the 10.3 ask is truncated away.
        assert!(b.in_sync() && b.asks.len() == 2);
        let mut buf = Vec::new();
        for s in [
            "10.1", "1.000", "10.2", "2.000", "10.0", "3.000", "9.9", "1.000",
        ] {
            digits(s, &mut buf);
        }
        let good = crc32(&buf);
        let upd = format!(
            r#"2.0: [1,{{"b":[["9.9","0.000","2"]],"c":"{}"}},"book-2","X/Y"]"#,
            {
                let mut buf = Vec::new();
                for s in ["10.1", "1.000", "10.2", "2.000", "10.0", "3.000"] {
                    digits(s, &mut buf);
                }
                crc32(&buf)
            }
        );
        assert!(b.on_line(upd.as_bytes(), 2, &mut out).is_ok());
        assert_eq!(b.checks_ok, 1);
        assert_ne!(good, 0);
        let bad = br#"3.0: [1,{"b":[["9.8","1.000","3"]],"c":"12345"},"book-2","X/Y"]"#;
        assert!(b.on_line(bad, 3, &mut out).is_ok());
        assert_eq!(b.mismatches.len(), 1);
        assert!(!b.in_sync());
        assert_eq!(
            out.last().map(|e| (e.kind, e.flags)),
            Some((kind::CLEAR, BAD_BOOK | flags::LAST))
        );
        assert_eq!(out[0].ts, 1_500_000_000);
    }
}
