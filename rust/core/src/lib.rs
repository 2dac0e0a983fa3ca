//! lobkit-core: exact integer-tick limit order books.
//!
//! Prices are ticks (i64), sizes lots (i64), time ns (i64). The crate knows
//! nothing of Python; `rust/python` adapts it.

// Tests may unwrap: a failed step must fail the test loudly, not turn into
// a default value that an assertion might happen to accept.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod book;
pub mod bulk;
pub mod consolidated;
pub mod detect;
pub mod engine;
pub mod error;
pub mod instrument;
pub mod io;
pub mod prefetch;
pub mod publish;
pub mod signals;
pub mod synth;
pub mod types;
pub mod units;

pub use book::l2::{BookStats, CrossPolicy, L2Book, LevelChange};
pub use book::l3::{Changes, L3Book, OrderInfo, UnknownIdPolicy};
pub use book::{AnyBook, Book};
pub use error::{Error, ErrorKind};
pub use instrument::{Applied, Instrument, Step};
pub use types::{kind, Event, OrderId, Price, Qty, Side, Ts};
