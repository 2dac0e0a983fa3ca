"""Event kind codes: one definition, shared by the event array helpers
(:mod:`lobkit._events`, which exports :class:`Kind`) and the tables
(:mod:`lobkit.result`), so neither imports the other for it."""

from enum import IntEnum

__all__ = ["Kind"]


class Kind(IntEnum):
    """Event kind codes stored in ``EVENT_DTYPE['kind']`` (stable)."""

    SET_LEVEL = 1  #: L2: level (side, price) now has `size` lots; 0 removes it
    ADD = 2  #: L3: new order `order_id` at (side, price) with `size` lots
    CANCEL = 3  #: L3: remove `size` lots from `order_id`, keeping priority
    DELETE = 4  #: L3: delete `order_id` whatever its size
    MODIFY = 5  #: L3: `order_id` now at `price` with `size` lots
    EXECUTE = 6  #: L3: `size` lots of resting `order_id` traded (`side` = resting side)
    TRADE = 7  #: trade print that does not change the visible book (hidden/cross)
    CLEAR = 8  #: clear the book (side 0) or one side
    SEED = 9  #: L3: anonymous resting lots at (side, price), ahead of named orders
    HALT = 10  #: trading-state message; no book change
    #: a venue's liquidation notice (`side` = resting side its fills hit:
    #: 1 a long liquidated by a sell); no book change and not volume (the
    #: fills print on the trade stream)
    LIQUIDATION = 11
