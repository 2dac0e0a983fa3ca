//! Binance and Bybit depth keepers: whole captures and the streaming `DepthSync`.

use super::{events_out, grid, run, ts_source};
use crate::errors::to_pyerr;
use lobkit_core::io::feed::{self, Feed};
use lobkit_core::io::{binance, bybit};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

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
    for (k, v) in s.fields() {
        d.set_item(k, v)?;
    }
    Ok(d)
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
    /// Streaming keeps only the newest bookTickers, so a bot that never
    /// drains them does not grow without bound: at 2 × [`MAX_TICKERS`] the
    /// oldest half goes. (Trimming to exactly `MAX_TICKERS` on every message
    /// shifted 10,000 records per bookTicker once full: more than half of
    /// the keeper's time on the USD-M BTCUSDT capture.)
    fn bound_tickers(&mut self) {
        if let Keeper::Binance(s) = self {
            let n = s.tickers.len();
            if n >= 2 * MAX_TICKERS {
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
    /// The book `on_message_into` applies to (`BinanceDepth(..., book=)`).
    owned: super::OwnedBook,
}

#[pymethods]
impl DepthSync {
    #[new]
    #[pyo3(signature = (*, tick, lot, ts="local", venue="binance"))]
    fn new(tick: &str, lot: &str, ts: &str, venue: &str) -> PyResult<Self> {
        Ok(DepthSync {
            inner: Keeper::new(venue, tick, lot, ts)?,
            messages: 0,
            owned: Default::default(),
        })
    }

    /// Makes `book` the book `on_message_into` applies to (the caller
    /// checked its grid matches).
    fn bind_book(&mut self, book: Py<crate::books::l2::PyL2Book>) {
        self.owned.bind(book);
    }

    /// The bound book, if any.
    #[getter]
    fn book(&self, py: Python<'_>) -> Option<Py<crate::books::l2::PyL2Book>> {
        self.owned.get(py)
    }

    /// One message (JSON bytes) parsed and applied to the bound book as one
    /// message (all or nothing, one publication). Returns
    /// `(events_applied, new_gaps)`. If the book refuses the events it is
    /// unchanged and the keeper waits for a new snapshot.
    #[pyo3(signature = (message, recv_ts=0))]
    fn on_message_into(
        &mut self,
        py: Python<'_>,
        message: &[u8],
        recv_ts: i64,
    ) -> PyResult<(u64, usize)> {
        self.messages += 1;
        let before = self.inner.gaps().len();
        let applied = self
            .owned
            .apply(py, self.inner.feed(), message, recv_ts, self.messages)?;
        self.inner.ids().clear();
        self.inner.bound_tickers();
        Ok((applied, self.inner.gaps().len() - before))
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
        let mut t = self.inner.take_tickers();
        // `bound_tickers` lets up to 2 × MAX_TICKERS wait; hand out the newest.
        let n = t.len();
        if n > MAX_TICKERS {
            t.drain(..n - MAX_TICKERS);
        }
        tickers_dict(py, &t)
    }
}
