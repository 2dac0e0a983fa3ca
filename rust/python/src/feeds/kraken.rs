//! Kraken `book-N` with CRC32 checksums: whole captures and `KrakenSync`.

use super::{events_out, grid, run};
use lobkit_core::io::kraken;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

fn kraken_dicts<'py>(
    py: Python<'py>,
    book: &kraken::KrakenBook,
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

/// Streaming Kraken book keeper for one pair, verifying every checksum.
#[pyclass(module = "lobkit._core")]
#[derive(Debug)]
pub struct KrakenSync {
    inner: kraken::KrakenBook,
    lines: u64,
    /// The book `on_message_into` applies to (`KrakenDepth(..., book=)`).
    owned: super::OwnedBook,
}

#[pymethods]
impl KrakenSync {
    #[new]
    #[pyo3(signature = (*, pair, tick, lot))]
    fn new(pair: &str, tick: &str, lot: &str) -> PyResult<Self> {
        Ok(KrakenSync {
            inner: kraken::KrakenBook::new(grid("tick_size", tick)?, grid("lot_size", lot)?, pair),
            lines: 0,
            owned: Default::default(),
        })
    }

    /// Makes `book` the book `on_message_into` applies to.
    fn bind_book(&mut self, book: Py<crate::books::l2::PyL2Book>) {
        self.owned.bind(book);
    }

    /// The bound book, if any.
    #[getter]
    fn book(&self, py: Python<'_>) -> Option<Py<crate::books::l2::PyL2Book>> {
        self.owned.get(py)
    }

    /// One message parsed and applied to the bound book as one message;
    /// returns `(events_applied, new_mismatches)`. If the book refuses the
    /// events it is unchanged and the keeper waits for a new snapshot.
    #[pyo3(signature = (message, recv_ts=0))]
    fn on_message_into(
        &mut self,
        py: Python<'_>,
        message: &[u8],
        recv_ts: i64,
    ) -> PyResult<(u64, usize)> {
        self.lines += 1;
        let before = self.inner.mismatches.len();
        let applied = self
            .owned
            .apply(py, &mut self.inner, message, recv_ts, self.lines)?;
        Ok((applied, self.inner.mismatches.len() - before))
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

    /// Every pair seen in the messages so far.
    #[getter]
    fn pairs(&self) -> Vec<String> {
        self.inner.pairs.clone()
    }
}
