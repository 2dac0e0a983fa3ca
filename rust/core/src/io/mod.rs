//! Feed parsers: the bytes of a real market-data format in, [`Event`]s out.
//!
//! Every parser is exact (decimal strings go to integer ticks/lots through
//! [`decimal::Grid`], never through f64) and every error names the line
//! (1-based) and the field.
//!
//! [`Event`]: crate::Event

pub mod binance;
pub mod bybit;
pub mod decimal;
pub mod emit;
pub mod feed;
pub mod kraken;
pub mod levels;
pub mod lobster;
pub mod table;
pub mod tardis;
pub mod text;

/// `Event::flags` bits written by the parsers of this module other than
/// LOBSTER (which keeps its message type there). They follow Databento's
/// convention so DBN flags pass through unchanged.
pub mod flags {
    /// Last event of one feed message: the book is consistent after it.
    pub const LAST: u8 = 0x80;
    /// Part of a snapshot (a book reset and its levels).
    pub const SNAPSHOT: u8 = 0x20;
    /// On the `CLEAR` a keeper emits at a sequence gap or checksum mismatch
    /// (Databento's `F_MAYBE_BAD_BOOK`): the book is empty, never silently
    /// wrong, until the next snapshot.
    pub const BAD_BOOK: u8 = 0x04;
    /// The event continues the step of the event before it: one message's
    /// effect written as several events after the fact (LOBSTER's
    /// reconciliation corrections). The flow signals take eq. 10 and eq. 4
    /// between the state before the step and after its last event, so a
    /// message and its corrections sum to one message's OFI. Databento uses
    /// this bit for `F_TOB` (top-of-book records, a schema lobkit does not
    /// read); its loader clears it.
    pub const CONTINUES: u8 = 0x40;
}
