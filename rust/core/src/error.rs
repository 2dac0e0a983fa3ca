//! One error variant per failure kind. Every variant names the field at fault;
//! [`Error`] adds the index of the event that caused it.

use crate::types::{OrderId, Price, Qty, Side, Ts};
use std::fmt;

/// What went wrong, without the event position.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `side` is not 1 (bid) or -1 (ask).
    InvalidSide { value: i8 },
    /// `kind` is not a known code, or the book cannot apply it.
    InvalidKind { kind: u8, book: &'static str },
    /// `price` out of range (ticks).
    InvalidPrice { price: Price, reason: &'static str },
    /// `size` negative, zero where a positive size is needed, or out of range (lots).
    InvalidSize { size: Qty, reason: &'static str },
    /// `order_id` not resting in the book.
    UnknownOrder { order_id: OrderId },
    /// `order_id` already resting in the book.
    DuplicateOrder { order_id: OrderId },
    /// `size` exceeds the order's resting size (lots).
    Overfill {
        order_id: OrderId,
        size: Qty,
        resting: Qty,
    },
    /// The update would cross the book and the policy is `reject`.
    CrossedBook {
        side: Side,
        price: Price,
        opposite_best: Price,
    },
    /// `ts` is earlier than the previous event's (ns).
    TimestampOrder { ts: Ts, last_ts: Ts },
    /// A loader could not parse `field` on `line` (1-based).
    Parse {
        line: u64,
        field: &'static str,
        message: String,
    },
}

impl ErrorKind {
    /// The event field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ErrorKind::InvalidSide { .. } => "side",
            ErrorKind::InvalidKind { .. } => "kind",
            ErrorKind::InvalidPrice { .. } | ErrorKind::CrossedBook { .. } => "price",
            ErrorKind::InvalidSize { .. } | ErrorKind::Overfill { .. } => "size",
            ErrorKind::UnknownOrder { .. } | ErrorKind::DuplicateOrder { .. } => "order_id",
            ErrorKind::TimestampOrder { .. } => "ts",
            ErrorKind::Parse { field, .. } => field,
        }
    }

    /// Stable short code, one per variant (the Python exception class is chosen by it).
    pub fn code(&self) -> usize {
        match self {
            ErrorKind::InvalidSide { .. } => 0,
            ErrorKind::InvalidKind { .. } => 1,
            ErrorKind::InvalidPrice { .. } => 2,
            ErrorKind::InvalidSize { .. } => 3,
            ErrorKind::UnknownOrder { .. } => 4,
            ErrorKind::DuplicateOrder { .. } => 5,
            ErrorKind::Overfill { .. } => 6,
            ErrorKind::CrossedBook { .. } => 7,
            ErrorKind::TimestampOrder { .. } => 8,
            ErrorKind::Parse { .. } => 9,
        }
    }
}

/// Number of distinct [`ErrorKind::code`] values.
pub const N_ERROR_CODES: usize = 10;

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidSide { value } => {
                write!(f, "side={value} is not 1 (bid) or -1 (ask)")
            }
            ErrorKind::InvalidKind { kind, book } => write!(
                f,
                "kind={kind} ({}) cannot be applied to an {book} book",
                crate::types::kind::name(*kind)
            ),
            ErrorKind::InvalidPrice { price, reason } => {
                write!(f, "price={price} ticks is invalid: {reason}")
            }
            ErrorKind::InvalidSize { size, reason } => {
                write!(f, "size={size} lots is invalid: {reason}")
            }
            ErrorKind::UnknownOrder { order_id } => {
                write!(f, "order_id={order_id} is not resting in the book")
            }
            ErrorKind::DuplicateOrder { order_id } => {
                write!(f, "order_id={order_id} is already resting in the book")
            }
            ErrorKind::Overfill {
                order_id,
                size,
                resting,
            } => write!(
                f,
                "size={size} lots exceeds the {resting} lots resting for order_id={order_id}"
            ),
            ErrorKind::CrossedBook {
                side,
                price,
                opposite_best,
            } => write!(
                f,
                "{} at price={price} ticks would cross the opposite best {opposite_best} (cross_policy='reject')",
                side.name()
            ),
            ErrorKind::TimestampOrder { ts, last_ts } => write!(
                f,
                "ts={ts} ns is earlier than the previous event's ts={last_ts} ns"
            ),
            ErrorKind::Parse {
                line,
                field,
                message,
            } => write!(f, "line {line}, field '{field}': {message}"),
        }
    }
}

/// An [`ErrorKind`] at a position in the input (event index, 0-based), when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Index of the offending event in the call's input (bulk) or the book's
    /// running event count (streaming); `None` for loader errors.
    pub index: Option<u64>,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// Attaches an event index.
    pub fn at(index: u64, kind: ErrorKind) -> Error {
        Error {
            index: Some(index),
            kind,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "event {i}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Error {}
