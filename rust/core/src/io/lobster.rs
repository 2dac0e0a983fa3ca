//! LOBSTER (lobsterdata.com) message and orderbook files.
//!
//! Message rows: `time,type,order_id,size,price,direction`; `time` is seconds
//! after midnight with up to 9 decimals (parsed as a decimal string, so ns are
//! exact), `price` is dollars × 10000, `direction` 1 = bid, -1 = ask (the side
//! of the *resting* order). Orderbook rows: `ask_p,ask_s,bid_p,bid_s` per
//! level; empty levels are ±9999999999 with size 0.

use super::text::{parse_int, perr, show, trim};
use crate::error::Error;
use crate::types::{kind, Event, OrderId, Price, Qty, Side, Ts};

/// One parsed message row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// ns after midnight.
    pub ts: Ts,
    /// LOBSTER type 1..=7.
    pub typ: u8,
    /// Order reference (0 for hidden executions, -1 for some cross trades).
    pub order_id: i64,
    /// Shares.
    pub size: i64,
    /// Dollars × 10000.
    pub price: i64,
    /// 1 bid, -1 ask.
    pub direction: i8,
}

/// Seconds with decimals -> ns. Up to 9 decimals are exact. Longer
/// fractions are float-printing noise (AMZN's sample has "43002.632812672004")
/// and are rounded half-up to the nearest ns.
fn parse_time(s: &[u8], line: u64) -> Result<Ts, Error> {
    let t = trim(s);
    let (int_part, frac) = match t.iter().position(|&c| c == b'.') {
        Some(p) => (&t[..p], &t[p + 1..]),
        None => (t, &t[..0]),
    };
    if frac.len() > 18 {
        return Err(perr(
            line,
            "time",
            format!("too many decimals in {:?}", show(s)),
        ));
    }
    let secs = parse_int(int_part, line, "time")?;
    if secs < 0 {
        return Err(perr(line, "time", format!("negative time {:?}", show(s))));
    }
    let mut ns: i64 = 0;
    for &c in frac.iter().take(9) {
        if !c.is_ascii_digit() {
            return Err(perr(
                line,
                "time",
                format!("expected seconds, got {:?}", show(s)),
            ));
        }
        ns = ns * 10 + (c - b'0') as i64;
    }
    ns *= 10i64.pow(9 - frac.len().min(9) as u32);
    if frac.len() > 9 {
        if !frac[9..].iter().all(|c| c.is_ascii_digit()) {
            return Err(perr(
                line,
                "time",
                format!("expected seconds, got {:?}", show(s)),
            ));
        }
        if frac[9] >= b'5' {
            ns += 1;
        }
    }
    // A time beyond ~292 years in ns is not a trading day: refuse it (a
    // release build would otherwise wrap it into some other timestamp).
    secs.checked_mul(1_000_000_000)
        .and_then(|t| t.checked_add(ns))
        .ok_or_else(|| perr(line, "time", format!("time out of range: {:?}", show(s))))
}

/// Parses a whole message file (already decompressed).
pub fn parse_messages(data: &[u8]) -> Result<Vec<Message>, Error> {
    let mut out = Vec::with_capacity(data.len() / 40);
    for (ln, raw) in data.split(|&c| c == b'\n').enumerate() {
        let line = ln as u64 + 1;
        if trim(raw).is_empty() {
            continue;
        }
        let mut f = raw.split(|&c| c == b',');
        let mut next = |name: &'static str| {
            f.next()
                .ok_or_else(|| perr(line, name, "missing column (expected 6 columns)"))
        };
        let ts = parse_time(next("time")?, line)?;
        let typ = parse_int(next("type")?, line, "type")?;
        if !(1..=7).contains(&typ) {
            return Err(perr(
                line,
                "type",
                format!("unknown message type {typ} (expected 1..7)"),
            ));
        }
        let order_id = parse_int(next("order_id")?, line, "order_id")?;
        let size = parse_int(next("size")?, line, "size")?;
        let price = parse_int(next("price")?, line, "price")?;
        let direction = parse_int(next("direction")?, line, "direction")?;
        if direction != 1 && direction != -1 {
            return Err(perr(
                line,
                "direction",
                format!("{direction} is not 1 or -1"),
            ));
        }
        if size < 0 {
            return Err(perr(line, "size", format!("negative size {size}")));
        }
        out.push(Message {
            ts,
            typ: typ as u8,
            order_id,
            size,
            price,
            direction: direction as i8,
        });
    }
    Ok(out)
}

/// Parses an orderbook file into row-major `(rows, 4 * levels)` integers.
/// Returns `(values, levels)`.
pub fn parse_orderbook(data: &[u8]) -> Result<(Vec<i64>, usize), Error> {
    let mut cols = 0usize;
    let mut out = Vec::new();
    for (ln, raw) in data.split(|&c| c == b'\n').enumerate() {
        let line = ln as u64 + 1;
        if trim(raw).is_empty() {
            continue;
        }
        let before = out.len();
        for f in raw.split(|&c| c == b',') {
            out.push(parse_int(f, line, "orderbook")?);
        }
        let n = out.len() - before;
        if cols == 0 {
            if n == 0 || n % 4 != 0 {
                return Err(perr(
                    line,
                    "orderbook",
                    format!("{n} columns is not a multiple of 4"),
                ));
            }
            cols = n;
        } else if n != cols {
            return Err(perr(
                line,
                "orderbook",
                format!("{n} columns, expected {cols}"),
            ));
        }
    }
    Ok((out, cols / 4))
}

/// Empty-level price marker in orderbook files (ask side; bids use the negative).
pub const EMPTY_PRICE: i64 = 9_999_999_999;

fn to_ticks(price: i64, tick: i64, line: u64) -> Result<Price, Error> {
    if price % tick != 0 {
        return Err(perr(
            line,
            "price",
            format!("{price} is not a multiple of the tick {tick} (price units)"),
        ));
    }
    Ok(price / tick)
}

/// The book before message 0: orderbook row 0 with message 0 undone.
/// Returns (side, price units, shares) levels.
pub fn initial_levels(first_row: &[i64], first: &Message) -> Vec<(Side, i64, i64)> {
    let mut lv: Vec<(Side, i64, i64)> = Vec::new();
    for l in 0..first_row.len() / 4 {
        let (ap, asz, bp, bsz) = (
            first_row[4 * l],
            first_row[4 * l + 1],
            first_row[4 * l + 2],
            first_row[4 * l + 3],
        );
        if asz > 0 && ap != EMPTY_PRICE {
            lv.push((Side::Ask, ap, asz));
        }
        if bsz > 0 && bp != -EMPTY_PRICE {
            lv.push((Side::Bid, bp, bsz));
        }
    }
    let Some(side) = Side::from_i8(first.direction) else {
        return lv;
    };
    let delta = match first.typ {
        1 => -first.size,
        2..=4 => first.size,
        _ => 0,
    };
    if delta != 0 {
        match lv
            .iter_mut()
            .find(|(s, p, _)| *s == side && *p == first.price)
        {
            Some(e) => e.2 += delta,
            None => lv.push((side, first.price, delta)),
        }
        lv.retain(|e| e.2 > 0);
    }
    lv
}

/// Converts messages to lobkit events. `tick` is the tick in price units
/// (100 = $0.01). `seed` levels (side, price units, shares) become SEED events
/// stamped with the first message's time. `flags` holds the LOBSTER type.
pub fn to_events(
    msgs: &[Message],
    tick: i64,
    seed: &[(Side, i64, Qty)],
) -> Result<Vec<Event>, Error> {
    if tick <= 0 {
        return Err(perr(
            0,
            "tick",
            format!("tick must be positive, got {tick}"),
        ));
    }
    let mut out = Vec::with_capacity(msgs.len() + seed.len());
    let t0 = msgs.first().map_or(0, |m| m.ts);
    for &(side, p, q) in seed {
        out.push(Event::new(
            t0,
            kind::SEED,
            side as i8,
            to_ticks(p, tick, 0)?,
            q,
            0,
        ));
    }
    for (i, m) in msgs.iter().enumerate() {
        let line = i as u64 + 1;
        let k = match m.typ {
            1 => kind::ADD,
            2 => kind::CANCEL,
            3 => kind::DELETE,
            4 => kind::EXECUTE,
            5 | 6 => kind::TRADE,
            _ => kind::HALT,
        };
        // Halt rows carry a state code (-1, 0, 1) in the price column, not a price.
        let price = if k == kind::HALT {
            m.price
        } else {
            to_ticks(m.price, tick, line)?
        };
        let mut ev = Event::new(
            m.ts,
            k,
            m.direction,
            price,
            m.size,
            m.order_id.max(0) as u64,
        );
        ev.flags = m.typ;
        out.push(ev);
    }
    Ok(out)
}

/// `flags` bit on events synthesised by [`reconcile`] from the orderbook file.
/// They also carry [`super::flags::CONTINUES`]: a message and its corrections
/// are one step for the flow signals.
pub const FLAG_RECONCILE: u8 = 0x80;

/// One correction made by [`reconcile`]: the book after message `row`
/// differed from orderbook row `row` at (side, price ticks) by `delta` lots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Correction {
    /// Message/orderbook row (0-based).
    pub row: usize,
    /// Side of the level.
    pub side: Side,
    /// Level price (ticks).
    pub price: Price,
    /// Lots added (> 0) or removed (< 0) to match the orderbook row.
    pub delta: Qty,
    /// Why the message file could not have produced this level; one of
    /// [`REASON_OUT_OF_WINDOW`], [`REASON_UNKNOWN_ID`], or
    /// [`REASON_UNEXPLAINED`] (a replay bug or a data defect).
    pub reason: u8,
}

/// No known mechanism explains the correction.
pub const REASON_UNEXPLAINED: u8 = 0;
/// The level was outside the previous row's visible top-L window (worse than
/// its L-th level): LOBSTER only reports events inside that window.
pub const REASON_OUT_OF_WINDOW: u8 = 1;
/// This row's message removed volume at this level under an order id the
/// file never added (while the level was visible). NASDAQ replaces an order
/// (new id) at the same price and size without any visible book change, and
/// LOBSTER emits no message for it; the later cancel names the new id.
pub const REASON_UNKNOWN_ID: u8 = 2;

/// Events with corrections inserted, and the corrections made.
#[derive(Clone, Debug, Default)]
pub struct Reconciled {
    /// Seeds, then each message followed by its corrections.
    pub events: Vec<Event>,
    /// Every correction, in order.
    pub corrections: Vec<Correction>,
}

fn row_levels(row: &[i64], side: Side, tick: i64) -> Vec<(Price, Qty)> {
    let (pc, sc, empty) = match side {
        Side::Ask => (0, 1, EMPTY_PRICE),
        Side::Bid => (2, 3, -EMPTY_PRICE),
    };
    (0..row.len() / 4)
        .filter_map(|l| {
            let (p, q) = (row[4 * l + pc], row[4 * l + sc]);
            (q > 0 && p != empty).then_some((p.div_euclid(tick), q))
        })
        .collect()
}

/// True when `p` is strictly worse than `bound` on `side`.
fn worse(side: Side, p: Price, bound: Price) -> bool {
    match side {
        Side::Bid => p < bound,
        Side::Ask => p > bound,
    }
}

/// Replays `events` (from [`to_events`], with `n_seed` seed events first and
/// then exactly one event per message) through an L3 book and, after each
/// message, makes the top `levels` of the book equal orderbook row k by
/// inserting SEED (add anonymous lots) or CANCEL (remove lots; `order_id` 0
/// takes anonymous lots, a real id takes from that order) events flagged
/// [`FLAG_RECONCILE`]. `orderbook` is row-major `(rows, 4 * levels)` in
/// LOBSTER price units; `tick` as in [`to_events`].
pub fn reconcile(
    events: &[Event],
    n_seed: usize,
    orderbook: &[i64],
    levels: usize,
    tick: i64,
) -> Result<Reconciled, Error> {
    use crate::book::l3::{L3Book, UnknownIdPolicy};
    let cols = 4 * levels;
    let rows = orderbook.len().checked_div(cols).unwrap_or(0);
    if events.len() != n_seed + rows {
        return Err(perr(
            0,
            "orderbook",
            format!(
                "{} message rows but {rows} orderbook rows: the files do not belong together",
                events.len() - n_seed.min(events.len())
            ),
        ));
    }
    let mut book = L3Book::new();
    book.unknown_id = UnknownIdPolicy::Anonymous;
    let mut out = Reconciled {
        events: Vec::with_capacity(events.len() + events.len() / 8),
        corrections: Vec::new(),
    };
    for (i, ev) in events[..n_seed].iter().enumerate() {
        book.apply(ev).map_err(|k| Error::at(i as u64, k))?;
        out.events.push(*ev);
    }
    let msgs = &events[n_seed..];
    let next_of = next_mentions(msgs);
    let mut last_seen: rustc_hash::FxHashMap<OrderId, usize> = rustc_hash::FxHashMap::default();
    let mut prev_bound: [Option<Price>; 2] = [None, None];
    for (k, ev) in msgs.iter().enumerate() {
        if ev.order_id != 0 {
            last_seen.insert(ev.order_id, k);
        }
        let unknown_at = matches!(ev.kind, kind::CANCEL | kind::DELETE | kind::EXECUTE)
            && book.order(ev.order_id).is_none();
        book.apply(ev)
            .map_err(|e| Error::at((n_seed + k) as u64, e))?;
        out.events.push(*ev);
        let row = &orderbook[k * cols..(k + 1) * cols];
        for (si, side) in [Side::Bid, Side::Ask].into_iter().enumerate() {
            let (fixes, bound) = level_fixes(&book, row, side, tick, levels);
            for (p, delta) in fixes {
                let reason = if prev_bound[si].is_some_and(|b| worse(side, p, b)) {
                    REASON_OUT_OF_WINDOW
                } else if unknown_at && ev.price == p && ev.side == side as i8 {
                    REASON_UNKNOWN_ID
                } else {
                    REASON_UNEXPLAINED
                };
                out.corrections.push(Correction {
                    row: k,
                    side,
                    price: p,
                    delta,
                    reason,
                });
                let fix = if delta > 0 {
                    vec![(0, delta, kind::SEED)]
                } else {
                    removal_plan(&book, side, p, -delta, &last_seen, &next_of, msgs)
                        .into_iter()
                        .map(|(id, q)| (id, q, kind::CANCEL))
                        .collect()
                };
                for (id, q, k) in fix {
                    let mut e = Event::new(ev.ts, k, side as i8, p, q, id);
                    e.flags = FLAG_RECONCILE | super::flags::CONTINUES;
                    book.apply(&e)
                        .map_err(|x| Error::at(out.events.len() as u64, x))?;
                    out.events.push(e);
                }
            }
            prev_bound[si] = bound;
        }
    }
    Ok(out)
}

/// `next[j]`: the next message (row) about the same order id as row `j`
/// (`usize::MAX` when none).
fn next_mentions(msgs: &[Event]) -> Vec<usize> {
    let mut next = vec![usize::MAX; msgs.len()];
    let mut seen: rustc_hash::FxHashMap<OrderId, usize> = rustc_hash::FxHashMap::default();
    for j in (0..msgs.len()).rev() {
        let id = msgs[j].order_id;
        if id != 0 {
            if let Some(&n) = seen.get(&id) {
                next[j] = n;
            }
            seen.insert(id, j);
        }
    }
    next
}

/// What makes `side` of the book equal to the orderbook row's levels:
/// (price, lots to add (+) or remove (−)) per level, and the row's visible
/// bound (its L-th level when the row is full; levels beyond it are out of
/// view and left alone).
fn level_fixes(
    book: &crate::book::l3::L3Book,
    row: &[i64],
    side: Side,
    tick: i64,
    levels: usize,
) -> (Vec<(Price, Qty)>, Option<Price>) {
    let want = row_levels(row, side, tick);
    let bound = (want.len() == levels).then(|| want[levels - 1].0);
    let mut fixes: Vec<(Price, Qty)> = Vec::new();
    for &(p, q) in &want {
        let have = book.l2().qty_at(side, p);
        if have != q {
            fixes.push((p, q - have));
        }
    }
    book.l2().for_each_level(side, usize::MAX, |p, q| {
        if bound.is_none_or(|b| !worse(side, p, b)) && !want.iter().any(|w| w.0 == p) {
            fixes.push((p, -q));
        }
    });
    (fixes, bound)
}

/// Which lots vanished out of view at (side, p), `lots` in all, as
/// (order id, lots) to cancel — decided from the file itself: first orders
/// whose next message is a full delete (type 3) of fewer shares than they
/// hold (they lost the difference), then anonymous lots (id 0), then orders
/// never mentioned again (cancelled out of view?), then the rest, newest
/// first.
fn removal_plan(
    book: &crate::book::l3::L3Book,
    side: Side,
    p: Price,
    lots: Qty,
    last_seen: &rustc_hash::FxHashMap<OrderId, usize>,
    next_of: &[usize],
    msgs: &[Event],
) -> Vec<(OrderId, Qty)> {
    let mut plan: Vec<(u8, usize, OrderId, Qty)> = Vec::new();
    let anon = book.anonymous_at(side, p);
    if anon > 0 {
        plan.push((1, 0, 0, anon));
    }
    for (pos, &(id, q)) in book.queue(side, p).iter().enumerate() {
        let nxt = last_seen
            .get(&id)
            .and_then(|&i| next_of.get(i).copied())
            .filter(|&j| j != usize::MAX)
            .map(|j| &msgs[j]);
        let (rank, cap) = match nxt {
            Some(m) if m.kind == kind::DELETE && m.size < q => (0, q - m.size),
            None => (2, q),
            Some(_) => (3, q),
        };
        plan.push((rank, usize::MAX - pos, id, cap));
    }
    plan.sort_unstable();
    let mut left = lots;
    let mut out = Vec::new();
    for (_, _, id, cap) in plan {
        if left == 0 {
            break;
        }
        let take = cap.min(left);
        out.push((id, take));
        left -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn time_is_exact_ns() {
        assert_eq!(
            parse_time(b"34200.015105074", 1).ok(),
            Some(34_200_015_105_074)
        );
        assert_eq!(
            parse_time(b"34200.05990197", 1).ok(),
            Some(34_200_059_901_970)
        );
        assert_eq!(parse_time(b"34200", 1).ok(), Some(34_200_000_000_000));
        assert_eq!(
            parse_time(b"43002.632812672004", 1).ok(),
            Some(43_002_632_812_672)
        );
        assert_eq!(parse_time(b"1.0000000015", 1).ok(), Some(1_000_000_002));
        assert!(parse_time(b"1.00000000x5", 1).is_err());
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        let e = parse_messages(b"34200.1,1,5,100,5800000,1\n34200.2,1,6,1x0,5800000,1\n");
        match e {
            Err(Error {
                kind: ErrorKind::Parse { line, field, .. },
                ..
            }) => assert_eq!((line, field), (2, "size")),
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn seed_undoes_first_message() {
        let row = [5802300, 100, 5794000, 196];
        let m = Message {
            ts: 1,
            typ: 4,
            order_id: 9,
            size: 300,
            price: 5794000,
            direction: 1,
        };
        let lv = initial_levels(&row, &m);
        assert!(lv.contains(&(Side::Bid, 5794000, 496)));
        assert!(lv.contains(&(Side::Ask, 5802300, 100)));
    }
}
