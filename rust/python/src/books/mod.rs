//! The `L2Book` / `L3Book` Python classes and bulk replay into them.
//!
//! Both classes wrap a core [`lobkit_core::Instrument`]: every streaming
//! method builds an event and calls its one step; these files only convert
//! Python values at the edge (`grid`), share the read side (`view`), and
//! adapt bulk replay (`replay`) and pickling (`pickle`).

pub(crate) mod grid;
pub(crate) mod l2;
pub(crate) mod l3;
pub(crate) mod pickle;
pub(crate) mod replay;
pub(crate) mod view;

pub use l2::PyL2Book;
pub use l3::PyL3Book;
