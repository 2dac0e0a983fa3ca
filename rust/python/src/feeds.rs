//! Adapters for the feed parsers in `lobkit_core::io` (other than LOBSTER,
//! which lives in `arrays.rs`). Grids come as decimal strings ("0.01").

use crate::errors::to_pyerr;
use lobkit_core::io::feed::{self, Feed, TsSource};
use lobkit_core::io::{binance, bybit, decimal::Grid, levels, table, tardis};
use lobkit_core::{Error, Event};
use numpy::{PyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// A grid step from its decimal string.
pub fn grid(name: &str, s: &str) -> PyResult<Grid> {
    Grid::parse(s).map_err(|e| {
        PyValueError::new_err(format!(
            "{name}={s:?} {}; expected a positive decimal such as '0.01'",
            e.describe()
        ))
    })
}

/// Events as a `uint8` array (the Python side views it as `EVENT_DTYPE`).
pub fn events_out<'py>(py: Python<'py>, ev: &[Event]) -> Bound<'py, PyArray1<u8>> {
    PyArray1::from_slice(py, bytemuck::cast_slice(ev))
}

fn run<'py, T: Send>(py: Python<'py>, f: impl FnOnce() -> Result<T, Error> + Send) -> PyResult<T> {
    crate::arrays::guard(py, || py.detach(f).map_err(|e| to_pyerr(py, &e)))
}

/// Tardis parser settings from the Python arguments.
fn tardis_options(
    tick: &str,
    lot: &str,
    ts: &str,
    symbol: Option<String>,
) -> PyResult<tardis::Options> {
    Ok(tardis::Options {
        price: grid("tick_size", tick)?,
        size: grid("lot_size", lot)?,
        ts: match ts {
            "local" => TsSource::Local,
            "exchange" => TsSource::Exchange,
            other => {
                return Err(PyValueError::new_err(format!(
                    "ts={other:?}: expected 'local' or 'exchange'"
                )))
            }
        },
        symbol,
    })
}

/// Parses a Tardis.dev CSV file (decompressed bytes). Returns
/// `(schema, levels, events_u8)`: schema is 'incremental_book_L2', 'trades'
/// or 'book_snapshot'; levels is N for snapshots, else 0.
#[pyfunction]
#[pyo3(signature = (data, *, tick, lot, ts="local", symbol=None))]
pub fn parse_tardis<'py>(
    py: Python<'py>,
    data: &[u8],
    tick: &str,
    lot: &str,
    ts: &str,
    symbol: Option<String>,
) -> PyResult<(&'static str, usize, Bound<'py, PyArray1<u8>>)> {
    let opt = tardis_options(tick, lot, ts, symbol)?;
    let (schema, ev) = run(py, || tardis::parse(data, &opt))?;
    let (name, n) = match schema {
        tardis::Schema::IncrementalL2 => ("incremental_book_L2", 0),
        tardis::Schema::Trades => ("trades", 0),
        tardis::Schema::Snapshot { levels } => ("book_snapshot", levels),
    };
    Ok((name, n, events_out(py, &ev)))
}

/// Parses the plain CSV event table (see `lobkit_core::io::table`); with
/// `header`, `data` is a chunk of rows after `line0` file lines.
#[pyfunction]
#[pyo3(signature = (data, *, tick, lot, header=None, line0=0))]
pub fn parse_event_table<'py>(
    py: Python<'py>,
    data: &[u8],
    tick: &str,
    lot: &str,
    header: Option<&[u8]>,
    line0: u64,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let (p, q) = (grid("tick_size", tick)?, grid("lot_size", lot)?);
    let ev = run(py, || match header {
        Some(h) => table::parse_chunk(h, data, line0, &p, &q),
        None => table::parse(data, &p, &q),
    })?;
    Ok(events_out(py, &ev))
}

/// Events (as bytes) and, per event, the input row it came from.
type EventsAndRows<'py> = (Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<i64>>);

/// Top-N snapshots (rows; ticks and lots; 0 size = empty) to the SET_LEVEL
/// events that take each row to the next, starting from an empty book.
/// Returns `(events_u8, row_of_event)`.
#[pyfunction]
#[pyo3(signature = (ts, bid_price, bid_size, ask_price, ask_size, *, flags=0, last_flag=0x80))]
#[allow(clippy::too_many_arguments)]
pub fn snapshots_to_events<'py>(
    py: Python<'py>,
    ts: numpy::PyReadonlyArray1<'py, i64>,
    bid_price: PyReadonlyArray2<'py, i64>,
    bid_size: PyReadonlyArray2<'py, i64>,
    ask_price: PyReadonlyArray2<'py, i64>,
    ask_size: PyReadonlyArray2<'py, i64>,
    flags: u8,
    last_flag: u8,
) -> PyResult<EventsAndRows<'py>> {
    let shape = bid_price.shape().to_vec();
    let rows = ts.len();
    for (name, a) in [
        ("bid_size", &bid_size),
        ("ask_price", &ask_price),
        ("ask_size", &ask_size),
    ] {
        if a.shape() != shape.as_slice() {
            return Err(PyValueError::new_err(format!(
                "{name}: shape {:?} differs from bid_price's {shape:?}",
                a.shape()
            )));
        }
    }
    if shape[0] != rows {
        return Err(PyValueError::new_err(format!(
            "ts has {rows} rows, the level arrays {}",
            shape[0]
        )));
    }
    let n = shape[1];
    let c = |a: &PyReadonlyArray2<'py, i64>| -> PyResult<Vec<i64>> {
        Ok(a.as_array().iter().copied().collect())
    };
    let (bp, bq, ap, aq) = (c(&bid_price)?, c(&bid_size)?, c(&ask_price)?, c(&ask_size)?);
    let tsv = ts.as_slice()?.to_vec();
    let (ev, rowix) = py.detach(|| {
        let mut out = Vec::with_capacity(rows * 2);
        let mut rowix = Vec::with_capacity(rows * 2);
        let (mut pb, mut pa, mut nb, mut na): (
            levels::Levels,
            levels::Levels,
            levels::Levels,
            levels::Levels,
        ) = Default::default();
        for (r, &t) in tsv.iter().enumerate() {
            nb.clear();
            na.clear();
            for i in 0..n {
                let k = r * n + i;
                if bq[k] > 0 {
                    nb.push((bp[k], bq[k]));
                }
                if aq[k] > 0 {
                    na.push((ap[k], aq[k]));
                }
            }
            let m = levels::diff((&pb, &pa), (&nb, &na), t, flags, last_flag, &mut out);
            rowix.extend(std::iter::repeat_n(r as i64, m));
            std::mem::swap(&mut pb, &mut nb);
            std::mem::swap(&mut pa, &mut na);
        }
        (out, rowix)
    });
    Ok((events_out(py, &ev), PyArray1::from_vec(py, rowix)))
}

fn gaps_dict<'py>(py: Python<'py>, gaps: &[feed::Gap]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(
        "event_index",
        PyArray1::from_iter(py, gaps.iter().map(|g| g.event_index as i64)),
    )?;
    d.set_item(
        "message",
        PyArray1::from_iter(py, gaps.iter().map(|g| g.message as i64)),
    )?;
    d.set_item(
        "expected",
        PyArray1::from_iter(py, gaps.iter().map(|g| g.expected)),
    )?;
    d.set_item("got", PyArray1::from_iter(py, gaps.iter().map(|g| g.got)))?;
    d.set_item("ts", PyArray1::from_iter(py, gaps.iter().map(|g| g.ts)))?;
    Ok(d)
}

fn tickers_dict<'py>(py: Python<'py>, t: &[binance::Ticker]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(
        "update_id",
        PyArray1::from_iter(py, t.iter().map(|x| x.update_id)),
    )?;
    d.set_item("ts", PyArray1::from_iter(py, t.iter().map(|x| x.ts)))?;
    d.set_item(
        "bid_price",
        PyArray1::from_iter(py, t.iter().map(|x| x.bid.0)),
    )?;
    d.set_item(
        "bid_size",
        PyArray1::from_iter(py, t.iter().map(|x| x.bid.1)),
    )?;
    d.set_item(
        "ask_price",
        PyArray1::from_iter(py, t.iter().map(|x| x.ask.0)),
    )?;
    d.set_item(
        "ask_size",
        PyArray1::from_iter(py, t.iter().map(|x| x.ask.1)),
    )?;
    Ok(d)
}

fn stats_dict<'py>(py: Python<'py>, s: &feed::Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in [
        ("diffs", s.diffs),
        ("applied", s.applied),
        ("stale", s.stale),
        ("overflow", s.overflow),
        ("snapshots", s.snapshots),
        ("snapshots_ignored", s.snapshots_ignored),
        ("trades", s.trades),
        ("other", s.other),
    ] {
        d.set_item(k, v)?;
    }
    Ok(d)
}

fn ts_source(ts: &str) -> PyResult<TsSource> {
    match ts {
        "local" => Ok(TsSource::Local),
        "exchange" => Ok(TsSource::Exchange),
        other => Err(PyValueError::new_err(format!(
            "ts={other:?}: expected 'local' or 'exchange'"
        ))),
    }
}

/// Either venue's book keeper.
#[derive(Debug)]
enum Keeper {
    Binance(binance::DepthSync),
    Bybit(bybit::BybitSync),
}

impl Keeper {
    fn new(venue: &str, tick: &str, lot: &str, ts: &str) -> PyResult<Keeper> {
        let (p, q, t) = (
            grid("tick_size", tick)?,
            grid("lot_size", lot)?,
            ts_source(ts)?,
        );
        match venue {
            "binance" => Ok(Keeper::Binance(binance::DepthSync::new(p, q, t))),
            "bybit" => Ok(Keeper::Bybit(bybit::BybitSync::new(p, q, t))),
            other => Err(PyValueError::new_err(format!(
                "venue={other:?}: expected 'binance' or 'bybit'"
            ))),
        }
    }
    fn feed(&mut self) -> &mut (dyn Feed + Send) {
        match self {
            Keeper::Binance(s) => s,
            Keeper::Bybit(s) => s,
        }
    }
    fn gaps(&self) -> &[feed::Gap] {
        match self {
            Keeper::Binance(s) => &s.gaps,
            Keeper::Bybit(s) => &s.gaps,
        }
    }
    fn ids(&mut self) -> &mut Vec<u64> {
        match self {
            Keeper::Binance(s) => &mut s.out.ids,
            Keeper::Bybit(s) => &mut s.out.ids,
        }
    }
    fn stats(&self) -> &feed::Stats {
        match self {
            Keeper::Binance(s) => &s.stats,
            Keeper::Bybit(s) => &s.stats,
        }
    }
    fn in_sync(&self) -> bool {
        match self {
            Keeper::Binance(s) => s.in_sync(),
            Keeper::Bybit(s) => s.in_sync(),
        }
    }
    fn last_update_id(&self) -> Option<u64> {
        match self {
            Keeper::Binance(s) => s.last_update_id(),
            Keeper::Bybit(s) => s.last_update_id(),
        }
    }
    fn buffered(&self) -> usize {
        match self {
            Keeper::Binance(s) => s.buffered(),
            Keeper::Bybit(_) => 0,
        }
    }
    fn take_tickers(&mut self) -> Vec<binance::Ticker> {
        match self {
            Keeper::Binance(s) => std::mem::take(&mut s.tickers),
            Keeper::Bybit(_) => Vec::new(),
        }
    }
    /// Streaming keeps only the newest [`MAX_TICKERS`] bookTickers, so a
    /// bot that never drains them does not grow without bound.
    fn bound_tickers(&mut self) {
        if let Keeper::Binance(s) = self {
            let n = s.tickers.len();
            if n > MAX_TICKERS {
                s.tickers.drain(..n - MAX_TICKERS);
            }
        }
    }
}

/// bookTickers a streaming `DepthSync` keeps between `take_tickers` calls.
const MAX_TICKERS: usize = 10_000;

/// Parses a capture (`<recv_ts_ns> <json>` lines) of `venue` ('binance' or
/// 'bybit') through its book keeper. Returns
/// `(events_u8, update_ids, gaps, tickers, stats, in_sync)`.
#[pyfunction]
#[pyo3(signature = (data, *, tick, lot, ts="local", venue="binance"))]
pub fn parse_depth<'py>(
    py: Python<'py>,
    data: &[u8],
    tick: &str,
    lot: &str,
    ts: &str,
    venue: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    let mut k = Keeper::new(venue, tick, lot, ts)?;
    let ev = run(py, || feed::parse_capture(data, k.feed(), 0))?;
    let ids = std::mem::take(k.ids());
    let tickers = k.take_tickers();
    (
        events_out(py, &ev),
        PyArray1::from_vec(py, ids),
        gaps_dict(py, k.gaps())?,
        tickers_dict(py, &tickers)?,
        stats_dict(py, k.stats())?,
        k.in_sync(),
    )
        .into_pyobject(py)
}

/// Streaming depth keeper: feed websocket/REST messages in arrival order,
/// get the events to apply to a book.
#[pyclass(module = "lobkit._core")]
#[derive(Debug)]
pub struct DepthSync {
    inner: Keeper,
    messages: u64,
}

#[pymethods]
impl DepthSync {
    #[new]
    #[pyo3(signature = (*, tick, lot, ts="local", venue="binance"))]
    fn new(tick: &str, lot: &str, ts: &str, venue: &str) -> PyResult<Self> {
        Ok(DepthSync {
            inner: Keeper::new(venue, tick, lot, ts)?,
            messages: 0,
        })
    }

    /// One message (JSON bytes); returns `(events_u8, new_gaps)`.
    #[pyo3(signature = (message, recv_ts=0))]
    fn on_message<'py>(
        &mut self,
        py: Python<'py>,
        message: &[u8],
        recv_ts: i64,
    ) -> PyResult<(Bound<'py, PyArray1<u8>>, usize)> {
        self.messages += 1;
        let before = self.inner.gaps().len();
        let mut out = Vec::new();
        let line = self.messages;
        let feed = self.inner.feed();
        crate::arrays::guard(py, || {
            feed.on_message(message, recv_ts, line, &mut out)
                .map_err(|e| to_pyerr(py, &e))
        })?;
        self.inner.ids().clear();
        self.inner.bound_tickers();
        Ok((events_out(py, &out), self.inner.gaps().len() - before))
    }

    /// A chunk of a capture file: whole `<recv_ts_ns> <json>` lines (no
    /// partial last line). Returns `(events_u8, update_ids, new_gaps)`.
    fn feed_lines<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyTuple>> {
        let before = self.inner.gaps().len();
        let line0 = self.messages;
        self.messages += data.split(|&c| c == b'\n').count() as u64;
        let feed = self.inner.feed();
        let ev = run(py, || feed::parse_capture(data, feed, line0))?;
        let ids = std::mem::take(self.inner.ids());
        (
            events_out(py, &ev),
            PyArray1::from_vec(py, ids),
            self.inner.gaps().len() - before,
        )
            .into_pyobject(py)
    }

    #[getter]
    fn in_sync(&self) -> bool {
        self.inner.in_sync()
    }

    #[getter]
    fn last_update_id(&self) -> Option<u64> {
        self.inner.last_update_id()
    }

    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    #[getter]
    fn gaps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        gaps_dict(py, self.inner.gaps())
    }

    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_dict(py, self.inner.stats())
    }

    /// bookTicker messages seen since the last call (the newest 10,000), as arrays.
    fn take_tickers<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = self.inner.take_tickers();
        tickers_dict(py, &t)
    }
}

fn kraken_dicts<'py>(
    py: Python<'py>,
    book: &lobkit_core::io::kraken::KrakenBook,
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let m = &book.mismatches;
    let mm = PyDict::new(py);
    mm.set_item(
        "event_index",
        PyArray1::from_iter(py, m.iter().map(|x| x.event_index as i64)),
    )?;
    mm.set_item(
        "line",
        PyArray1::from_iter(py, m.iter().map(|x| x.line as i64)),
    )?;
    mm.set_item(
        "expected",
        PyArray1::from_iter(py, m.iter().map(|x| x.expected as i64)),
    )?;
    mm.set_item(
        "got",
        PyArray1::from_iter(py, m.iter().map(|x| x.got as i64)),
    )?;
    let st = PyDict::new(py);
    st.set_item("messages", book.messages)?;
    st.set_item("snapshots", book.snapshots)?;
    st.set_item("checksums_ok", book.checks_ok)?;
    st.set_item("checksum_mismatches", book.mismatches.len())?;
    Ok((mm, st))
}

/// Parses a Kraken `book-N` capture for one pair, verifying every checksum.
/// Returns `(events_u8, mismatches, stats, pairs, in_sync)`.
#[pyfunction]
#[pyo3(signature = (data, *, pair, tick, lot))]
pub fn parse_kraken<'py>(
    py: Python<'py>,
    data: &[u8],
    pair: &str,
    tick: &str,
    lot: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    use lobkit_core::io::kraken;
    let mut book = kraken::KrakenBook::new(grid("tick_size", tick)?, grid("lot_size", lot)?, pair);
    let ev = run(py, || kraken::parse_capture(data, &mut book, 0))?;
    let (mm, st) = kraken_dicts(py, &book)?;
    (
        events_out(py, &ev),
        mm,
        st,
        book.pairs.clone(),
        book.in_sync(),
    )
        .into_pyobject(py)
}

/// Streaming Tardis CSV parser: feed chunks of whole lines, then finish.
#[pyclass(module = "lobkit._core")]
#[derive(Debug)]
pub struct TardisStream {
    inner: tardis::Parser,
}

#[pymethods]
impl TardisStream {
    #[new]
    #[pyo3(signature = (*, tick, lot, ts="local", symbol=None))]
    fn new(tick: &str, lot: &str, ts: &str, symbol: Option<String>) -> PyResult<Self> {
        Ok(TardisStream {
            inner: tardis::Parser::new(tardis_options(tick, lot, ts, symbol)?),
        })
    }

    /// Whole lines without the final newline; returns the events completed.
    fn feed<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyArray1<u8>>> {
        let mut out = Vec::new();
        let p = &mut self.inner;
        run(py, || p.feed(data, &mut out))?;
        Ok(events_out(py, &out))
    }

    /// Ends the input; returns the last events.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<u8>>> {
        let mut out = Vec::new();
        let p = &mut self.inner;
        run(py, || p.finish(&mut out))?;
        Ok(events_out(py, &out))
    }
}

/// Decimal strings to whole grid steps, exactly (int64 array). An invalid
/// or off-grid value raises `ParseError` naming its index as the line.
#[pyfunction]
#[pyo3(signature = (values, *, step, field="value"))]
pub fn decimal_steps<'py>(
    py: Python<'py>,
    values: Vec<String>,
    step: &str,
    field: &str,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let g = grid("step", step)?;
    let field: &'static str = match field {
        "price" => "price",
        "size" => "size",
        _ => "value",
    };
    let v = run(py, || {
        values
            .iter()
            .enumerate()
            .map(|(i, s)| g.field(s, i as u64, field))
            .collect::<Result<Vec<i64>, Error>>()
    })?;
    Ok(PyArray1::from_vec(py, v))
}

/// Streaming Kraken book keeper for one pair, verifying every checksum.
#[pyclass(module = "lobkit._core")]
#[derive(Debug)]
pub struct KrakenSync {
    inner: lobkit_core::io::kraken::KrakenBook,
    lines: u64,
}

#[pymethods]
impl KrakenSync {
    #[new]
    #[pyo3(signature = (*, pair, tick, lot))]
    fn new(pair: &str, tick: &str, lot: &str) -> PyResult<Self> {
        Ok(KrakenSync {
            inner: lobkit_core::io::kraken::KrakenBook::new(
                grid("tick_size", tick)?,
                grid("lot_size", lot)?,
                pair,
            ),
            lines: 0,
        })
    }

    /// One websocket message (JSON bytes) received at `recv_ts` ns; returns
    /// `(events_u8, new_mismatches)`.
    #[pyo3(signature = (message, recv_ts=0))]
    fn on_message<'py>(
        &mut self,
        py: Python<'py>,
        message: &[u8],
        recv_ts: i64,
    ) -> PyResult<(Bound<'py, PyArray1<u8>>, usize)> {
        self.lines += 1;
        let before = self.inner.mismatches.len();
        let (inner, line) = (&mut self.inner, self.lines);
        let mut out = Vec::new();
        run(py, || inner.on_message(message, recv_ts, line, &mut out))?;
        Ok((events_out(py, &out), self.inner.mismatches.len() - before))
    }

    /// A chunk of a capture file: whole `<recv_ts>: <json>` lines.
    fn feed_lines<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
    ) -> PyResult<(Bound<'py, PyArray1<u8>>, usize)> {
        use lobkit_core::io::kraken;
        let before = self.inner.mismatches.len();
        let line0 = self.lines;
        self.lines += data.split(|&c| c == b'\n').count() as u64;
        let inner = &mut self.inner;
        let ev = run(py, || kraken::parse_capture(data, inner, line0))?;
        Ok((events_out(py, &ev), self.inner.mismatches.len() - before))
    }

    #[getter]
    fn in_sync(&self) -> bool {
        self.inner.in_sync()
    }

    #[getter]
    fn checksum(&self) -> u32 {
        self.inner.checksum()
    }

    #[getter]
    fn mismatches<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(kraken_dicts(py, &self.inner)?.0)
    }

    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(kraken_dicts(py, &self.inner)?.1)
    }
}
