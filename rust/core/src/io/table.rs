//! The plain CSV event table: one row per lobkit event, with a header.
//!
//! | column     | required | content                                                        |
//! |------------|----------|----------------------------------------------------------------|
//! | `ts`       | yes      | integer ns                                                     |
//! | `kind`     | yes      | code 1..=11 or name (`set_level`, `add`, …; any case)          |
//! | `side`     | yes      | a name of [`crate::types::SIDE_NAMES`] (`1`/`bid`, `-1`/`ask`, `0`/empty = none) |
//! | `price`    | yes      | decimal in price units; must sit on the tick grid (0 = none)   |
//! | `size`     | yes      | decimal in size units; must sit on the lot grid                |
//! | `order_id` | no       | unsigned integer, 0 or empty = none                            |
//! | `flags`    | no       | integer 0..=255                                                |
//!
//! Columns may come in any order; others are ignored. `lobkit.io.write_events`
//! writes this layout, so a table round-trips exactly.

use super::decimal::Grid;
use super::text::{fields, lines, parse_int, perr, show, Header};
use crate::error::Error;
use crate::types::{kind, Event, Side};

/// The kind code of a name or number.
pub fn kind_code(s: &[u8]) -> Option<u8> {
    if let Ok(v) = std::str::from_utf8(s) {
        if let Ok(n) = v.parse::<u8>() {
            return (1..=kind::MAX).contains(&n).then_some(n);
        }
        let up = v.to_ascii_uppercase();
        return (1..=kind::MAX).find(|&k| kind::name(k) == up);
    }
    None
}

/// Parses a whole (decompressed) event table.
pub fn parse(data: &[u8], price: &Grid, size: &Grid) -> Result<Vec<Event>, Error> {
    let mut it = lines(data);
    let Some((_, head)) = it.next() else {
        return Err(perr(1, "header", "empty file"));
    };
    rows(head, it, price, size, data.len())
}

/// Parses a chunk of rows (whole lines) of a table whose header line is
/// `head`; `line0` is the number of file lines before the chunk.
pub fn parse_chunk(
    head: &[u8],
    data: &[u8],
    line0: u64,
    price: &Grid,
    size: &Grid,
) -> Result<Vec<Event>, Error> {
    rows(
        head,
        lines(data).map(|(l, r)| (l + line0, r)),
        price,
        size,
        data.len(),
    )
}

fn rows<'a>(
    head: &[u8],
    it: impl Iterator<Item = (u64, &'a [u8])>,
    price: &Grid,
    size: &Grid,
    bytes: usize,
) -> Result<Vec<Event>, Error> {
    let h = Header::new(head);
    let (c_ts, c_kind, c_side, c_price, c_size) = (
        h.require("ts")?,
        h.require("kind")?,
        h.require("side")?,
        h.require("price")?,
        h.require("size")?,
    );
    let (c_id, c_flags) = (h.find("order_id"), h.find("flags"));
    let ncols = h.len();
    let mut out = Vec::with_capacity(bytes / 32);
    let mut row: Vec<&[u8]> = Vec::with_capacity(ncols);
    for (line, raw) in it {
        fields(raw, &mut row);
        if row.len() != ncols {
            return Err(perr(
                line,
                "row",
                format!("{} columns, the header has {ncols}", row.len()),
            ));
        }
        let ts = parse_int(row[c_ts], line, "ts")?;
        let k = kind_code(row[c_kind]).ok_or_else(|| {
            perr(
                line,
                "kind",
                format!(
                    "unknown kind {:?} (codes 1..11 or names such as add, set_level)",
                    show(row[c_kind])
                ),
            )
        })?;
        let side = Side::code_of_name(row[c_side]).ok_or_else(|| {
            perr(
                line,
                "side",
                format!("expected 1/bid, -1/ask or 0, got {:?}", show(row[c_side])),
            )
        })?;
        let p = price.field(row[c_price], line, "price")?;
        let q = size.field(row[c_size], line, "size")?;
        let id = match c_id.map(|c| row[c]) {
            None | Some(b"") => 0,
            Some(s) => std::str::from_utf8(s)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| {
                    perr(
                        line,
                        "order_id",
                        format!("expected an unsigned integer, got {:?}", show(s)),
                    )
                })?,
        };
        let mut e = Event::new(ts, k, side, p, q, id);
        if let Some(c) = c_flags {
            let f = parse_int(row[c], line, "flags")?;
            e.flags = u8::try_from(f)
                .map_err(|_| perr(line, "flags", format!("{f} is not in 0..=255")))?;
        }
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_grids() {
        let g = Grid::parse("0.01").unwrap_or(Grid::units(1));
        let data = b"ts,kind,side,price,size,order_id\n5,add,bid,100.25,3,7\n6,3,-1,0.01,1,\n";
        let ev = parse(data, &g, &Grid::units(1)).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(
            (ev[0].kind, ev[0].side, ev[0].price, ev[0].order_id),
            (kind::ADD, 1, 10025, 7)
        );
        assert_eq!(
            (ev[1].kind, ev[1].side, ev[1].price, ev[1].order_id),
            (kind::CANCEL, -1, 1, 0)
        );
        let bad = parse(
            b"ts,kind,side,price,size\n1,add,bid,1.001,1\n",
            &g,
            &Grid::units(1),
        );
        assert!(matches!(
            bad,
            Err(Error {
                kind: crate::ErrorKind::Parse {
                    line: 2,
                    field: "price",
                    ..
                },
                ..
            })
        ));
        let bad = parse(
            b"ts,kind,side,price,size\n1,jump,bid,1,1\n",
            &g,
            &Grid::units(1),
        );
        assert!(matches!(
            bad,
            Err(Error {
                kind: crate::ErrorKind::Parse {
                    line: 2,
                    field: "kind",
                    ..
                },
                ..
            })
        ));
        assert!(parse(b"ts,kind,price,size\n", &g, &Grid::units(1)).is_err());
    }
}
