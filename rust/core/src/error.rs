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
    /// `side` names the other side from the order's (an EXECUTE's `side` is
    /// the resting order's side; trade-sign signals are signed by it).
    SideMismatch {
        order_id: OrderId,
        side: i8,
        resting: Side,
    },
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
            ErrorKind::InvalidSide { .. } | ErrorKind::SideMismatch { .. } => "side",
            ErrorKind::InvalidKind { .. } => "kind",
            ErrorKind::InvalidPrice { .. } | ErrorKind::CrossedBook { .. } => "price",
            ErrorKind::InvalidSize { .. } | ErrorKind::Overfill { .. } => "size",
            ErrorKind::UnknownOrder { .. } | ErrorKind::DuplicateOrder { .. } => "order_id",
            ErrorKind::TimestampOrder { .. } => "ts",
            ErrorKind::Parse { field, .. } => field,
        }
    }

    /// Stable short code, one per variant (index into [`CLASS_NAMES`]; the
    /// `skipped_by_code` counters of a replay are indexed by it).
    pub fn code(&self) -> usize {
        match self {
            ErrorKind::InvalidSide { .. } | ErrorKind::SideMismatch { .. } => code::INVALID_SIDE,
            ErrorKind::InvalidKind { .. } => code::INVALID_KIND,
            ErrorKind::InvalidPrice { .. } => code::INVALID_PRICE,
            ErrorKind::InvalidSize { .. } => code::INVALID_SIZE,
            ErrorKind::UnknownOrder { .. } => code::UNKNOWN_ORDER,
            ErrorKind::DuplicateOrder { .. } => code::DUPLICATE_ORDER,
            ErrorKind::Overfill { .. } => code::OVERFILL,
            ErrorKind::CrossedBook { .. } => code::CROSSED_BOOK,
            ErrorKind::TimestampOrder { .. } => code::TIMESTAMP_ORDER,
            ErrorKind::Parse { .. } => code::PARSE,
        }
    }
}

/// The error codes by name (for errors raised at the edge, e.g. a float
/// price off the grid, that have no [`ErrorKind`] value of their own).
pub mod code {
    /// [`super::ErrorKind::InvalidSide`].
    pub const INVALID_SIDE: usize = 0;
    /// [`super::ErrorKind::InvalidKind`].
    pub const INVALID_KIND: usize = 1;
    /// [`super::ErrorKind::InvalidPrice`].
    pub const INVALID_PRICE: usize = 2;
    /// [`super::ErrorKind::InvalidSize`].
    pub const INVALID_SIZE: usize = 3;
    /// [`super::ErrorKind::UnknownOrder`].
    pub const UNKNOWN_ORDER: usize = 4;
    /// [`super::ErrorKind::DuplicateOrder`].
    pub const DUPLICATE_ORDER: usize = 5;
    /// [`super::ErrorKind::Overfill`].
    pub const OVERFILL: usize = 6;
    /// [`super::ErrorKind::CrossedBook`].
    pub const CROSSED_BOOK: usize = 7;
    /// [`super::ErrorKind::TimestampOrder`].
    pub const TIMESTAMP_ORDER: usize = 8;
    /// [`super::ErrorKind::Parse`].
    pub const PARSE: usize = 9;
}

/// Number of distinct [`ErrorKind::code`] values.
pub const N_ERROR_CODES: usize = 10;

/// The exception class of each code (`lobkit.errors.<name>`): the one list
/// the bindings and `lobkit.errors.BY_CODE` are built from.
pub const CLASS_NAMES: [&str; N_ERROR_CODES] = [
    "InvalidSideError",
    "InvalidKindError",
    "InvalidPriceError",
    "InvalidSizeError",
    "UnknownOrderError",
    "DuplicateOrderError",
    "OverfillError",
    "CrossedBookError",
    "TimestampOrderError",
    "ParseError",
];

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidSide { value } => {
                write!(f, "side={value} is not 1 (bid) or -1 (ask)")
            }
            ErrorKind::SideMismatch {
                order_id,
                side,
                resting,
            } => write!(
                f,
                "side={side} does not match order_id={order_id}, which rests on the {}",
                resting.name()
            ),
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
