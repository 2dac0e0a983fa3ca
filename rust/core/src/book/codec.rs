//! Versioned byte format for books (pickling, snapshots to disk, handing a
//! book to another process). Little-endian; layout:
//!
//! ```text
//! magic "LOBK" | version u8 | kind u8 (2 = L2, 3 = L3) | cross u8 | unknown u8
//! last_ts i64 | stats: crossed, anonymous_fills u64, unmatched_qty i64, unknown_ids u64
//! L2: per side (bid, ask): n u64, then n × (price i64, qty i64), best first
//! L3: per side: n_levels u64, then per level: price i64, anon i64, n_orders u64,
//!     n_orders × (order_id u64, qty i64) in queue order (front first)
//! version 2: crc32 u32 of all the bytes before it
//! ```
//!
//! The checksum makes a flipped byte an error instead of a different book
//! (a changed size or price decodes as a perfectly valid book). Version 1
//! states, written before it, still decode.
//!
//! Decoding rebuilds the book through its public operations, so a decoded
//! book satisfies every invariant of a live one (FIFO order included).

use super::l2::{BookStats, CrossPolicy, L2Book};
use super::l3::{L3Book, UnknownIdPolicy};
use crate::error::ErrorKind;
use crate::types::Side;

const MAGIC: &[u8; 4] = b"LOBK";
/// Current format version.
pub const VERSION: u8 = 2;

/// Appends the checksum (version 2).
fn seal(mut out: Vec<u8>) -> Vec<u8> {
    let c = crate::io::kraken::crc32(&out);
    out.extend_from_slice(&c.to_le_bytes());
    out
}

/// The state without its checksum, after checking it (version 1 states
/// have none; a wrong magic is left for the header to report).
fn unseal(b: &[u8]) -> Result<&[u8], ErrorKind> {
    if b.len() < 5 || &b[..4] != MAGIC || b[4] < 2 {
        return Ok(b);
    }
    if b.len() < 9 {
        return Err(bad("truncated book state"));
    }
    let (body, tail) = b.split_at(b.len() - 4);
    let want = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    if crate::io::kraken::crc32(body) != want {
        return Err(bad(
            "book state checksum mismatch: the bytes were altered or truncated",
        ));
    }
    Ok(body)
}

fn bad(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Parse {
        line: 0,
        field: "state",
        message: message.into(),
    }
}

struct Reader<'a> {
    b: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ErrorKind> {
        if self.b.len() < n {
            return Err(bad("truncated book state"));
        }
        let (a, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, ErrorKind> {
        Ok(self.take(1)?[0])
    }
    fn i64(&mut self) -> Result<i64, ErrorKind> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(a))
    }
    fn u64(&mut self) -> Result<u64, ErrorKind> {
        Ok(self.i64()? as u64)
    }
    fn len(&mut self) -> Result<usize, ErrorKind> {
        let n = self.u64()?;
        // Every entry needs at least 16 bytes: refuse absurd counts early.
        if n > (self.b.len() / 16) as u64 + 1 {
            return Err(bad(format!("count {n} exceeds the remaining state")));
        }
        Ok(n as usize)
    }
}

fn header(out: &mut Vec<u8>, kind: u8, l2: &L2Book, unknown: u8) {
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.push(match l2.cross_policy {
        CrossPolicy::Allow => 0,
        CrossPolicy::Reject => 1,
    });
    out.push(unknown);
    let s = &l2.stats;
    for v in [
        l2.last_ts,
        s.crossed as i64,
        s.anonymous_fills as i64,
        s.unmatched_qty,
        s.unknown_ids as i64,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn read_header(
    r: &mut Reader<'_>,
    want_kind: u8,
) -> Result<(CrossPolicy, u8, i64, BookStats), ErrorKind> {
    if r.take(4)? != MAGIC {
        return Err(bad("not a lobkit book state (bad magic)"));
    }
    let v = r.u8()?;
    if !(1..=VERSION).contains(&v) {
        return Err(bad(format!(
            "book state version {v}, this lobkit reads 1..={VERSION}"
        )));
    }
    let k = r.u8()?;
    if k != want_kind {
        return Err(bad(format!("state is for an L{k} book, not L{want_kind}")));
    }
    let cross = match r.u8()? {
        0 => CrossPolicy::Allow,
        1 => CrossPolicy::Reject,
        x => return Err(bad(format!("unknown cross policy code {x}"))),
    };
    let unknown = r.u8()?;
    let last_ts = r.i64()?;
    let stats = BookStats {
        crossed: r.u64()?,
        anonymous_fills: r.u64()?,
        unmatched_qty: r.i64()?,
        unknown_ids: r.u64()?,
    };
    Ok((cross, unknown, last_ts, stats))
}

impl L2Book {
    /// Encodes the book (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 16 * (self.len(Side::Bid) + self.len(Side::Ask)));
        header(&mut out, 2, self, 0);
        for side in [Side::Bid, Side::Ask] {
            out.extend_from_slice(&(self.len(side) as u64).to_le_bytes());
            self.for_each_level(side, usize::MAX, |p, q| {
                out.extend_from_slice(&p.to_le_bytes());
                out.extend_from_slice(&q.to_le_bytes());
            });
        }
        seal(out)
    }

    /// Decodes a book written by [`L2Book::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<L2Book, ErrorKind> {
        let mut r = Reader { b: unseal(b)? };
        let (cross, _, last_ts, stats) = read_header(&mut r, 2)?;
        let mut book = L2Book::new();
        for side in [Side::Bid, Side::Ask] {
            for _ in 0..r.len()? {
                let (p, q) = (r.i64()?, r.i64()?);
                if q <= 0 {
                    return Err(bad(format!("level size {q} must be positive")));
                }
                book.set_level(side, p, q)?;
            }
        }
        if !r.b.is_empty() {
            return Err(bad("trailing bytes after book state"));
        }
        book.cross_policy = cross;
        book.last_ts = last_ts;
        book.stats = stats;
        Ok(book)
    }
}

impl L3Book {
    /// Encodes the book (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 24 * self.order_count());
        let unknown = match self.unknown_id {
            UnknownIdPolicy::Error => 0,
            UnknownIdPolicy::Anonymous => 1,
            UnknownIdPolicy::Skip => 2,
        };
        header(&mut out, 3, self.l2(), unknown);
        for side in [Side::Bid, Side::Ask] {
            let levels = self.l2().levels(side, usize::MAX);
            out.extend_from_slice(&(levels.len() as u64).to_le_bytes());
            for (p, _) in levels {
                let q = self.queue(side, p);
                out.extend_from_slice(&p.to_le_bytes());
                out.extend_from_slice(&self.anonymous_at(side, p).to_le_bytes());
                out.extend_from_slice(&(q.len() as u64).to_le_bytes());
                for (id, qty) in q {
                    out.extend_from_slice(&id.to_le_bytes());
                    out.extend_from_slice(&qty.to_le_bytes());
                }
            }
        }
        seal(out)
    }

    /// Decodes a book written by [`L3Book::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<L3Book, ErrorKind> {
        let mut r = Reader { b: unseal(b)? };
        let (cross, unknown, last_ts, stats) = read_header(&mut r, 3)?;
        let mut book = L3Book::new();
        for side in [Side::Bid, Side::Ask] {
            for _ in 0..r.len()? {
                let p = r.i64()?;
                let anon = r.i64()?;
                if anon > 0 {
                    book.seed(side, p, anon)?;
                }
                for _ in 0..r.len()? {
                    let (id, q) = (r.u64()?, r.i64()?);
                    book.add(id, side, p, q)?;
                }
            }
        }
        if !r.b.is_empty() {
            return Err(bad("trailing bytes after book state"));
        }
        book.unknown_id = match unknown {
            0 => UnknownIdPolicy::Error,
            1 => UnknownIdPolicy::Anonymous,
            2 => UnknownIdPolicy::Skip,
            x => return Err(bad(format!("unknown unknown-id policy code {x}"))),
        };
        book.set_cross_policy(cross);
        let l2 = book.l2_mut();
        l2.last_ts = last_ts;
        l2.stats = stats;
        Ok(book)
    }
}

#[cfg(test)]
mod checksum_tests {
    use super::*;

    #[test]
    fn every_flipped_byte_is_an_error_not_another_book() {
        let mut b = L3Book::new();
        for e in crate::synth::l3_stream(300, 9, 1_000_000, 50) {
            let _ = b.apply(&e);
        }
        let bytes = b.to_bytes();
        assert!(L3Book::from_bytes(&bytes).is_ok());
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut c = bytes.clone();
                c[i] ^= bit;
                assert!(L3Book::from_bytes(&c).is_err(), "byte {i} bit {bit:#x}");
            }
        }
        assert!(L3Book::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        // A version-1 state (no checksum) still decodes.
        let mut v1 = bytes[..bytes.len() - 4].to_vec();
        v1[4] = 1;
        assert!(L3Book::from_bytes(&v1).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn round_trip_keeps_levels_queues_and_counters() {
        let mut b = L3Book::new();
        b.unknown_id = UnknownIdPolicy::Anonymous;
        for e in synth::l3_stream(20_000, 5, 1_000_000, 500) {
            assert!(b.apply(&e).is_ok());
        }
        assert!(b.seed(Side::Ask, 1_000_500, 7).is_ok());
        let c = L3Book::from_bytes(&b.to_bytes());
        let c = c.unwrap();
        for side in [Side::Bid, Side::Ask] {
            assert_eq!(
                c.l2().levels(side, usize::MAX),
                b.l2().levels(side, usize::MAX)
            );
            for (p, _) in b.l2().levels(side, usize::MAX) {
                assert_eq!(c.queue(side, p), b.queue(side, p));
                assert_eq!(c.anonymous_at(side, p), b.anonymous_at(side, p));
            }
        }
        assert_eq!(c.l2().stats, b.l2().stats);
        assert_eq!(c.unknown_id, UnknownIdPolicy::Anonymous);

        let mut l2 = L2Book::new();
        for e in synth::l2_stream(5_000, 5, 1_000_000) {
            assert!(l2.apply(&e).is_ok());
        }
        let d = L2Book::from_bytes(&l2.to_bytes()).unwrap();
        assert_eq!(
            d.levels(Side::Bid, usize::MAX),
            l2.levels(Side::Bid, usize::MAX)
        );
        assert_eq!(
            d.levels(Side::Ask, usize::MAX),
            l2.levels(Side::Ask, usize::MAX)
        );
    }

    #[test]
    fn corrupt_states_are_refused() {
        let b = L2Book::new().to_bytes();
        assert!(L2Book::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(L3Book::from_bytes(&b).is_err());
        let mut x = b.clone();
        x[4] = 99;
        assert!(L2Book::from_bytes(&x).is_err());
        let mut y = b.clone();
        y.extend_from_slice(&[0; 3]);
        assert!(L2Book::from_bytes(&y).is_err());
    }
}
