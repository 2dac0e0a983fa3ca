"""Loaders for real market-data formats, each returning :data:`lobkit.EVENT_DTYPE` arrays."""

from .lobster import (
    FLAG_RECONCILE,
    REASON_OUT_OF_WINDOW,
    REASON_UNEXPLAINED,
    REASON_UNKNOWN_ID,
    lobster_book_columns,
    message_rows,
    read_lobster,
    read_lobster_orderbook,
    read_lobster_reconciled,
)

__all__ = [
    "FLAG_RECONCILE",
    "REASON_OUT_OF_WINDOW",
    "REASON_UNEXPLAINED",
    "REASON_UNKNOWN_ID",
    "lobster_book_columns",
    "message_rows",
    "read_lobster",
    "read_lobster_orderbook",
    "read_lobster_reconciled",
]
