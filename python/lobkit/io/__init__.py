"""Loaders for real market-data formats, each returning :data:`lobkit.EVENT_DTYPE` arrays."""

from .lobster import lobster_book_columns, read_lobster, read_lobster_orderbook

__all__ = ["lobster_book_columns", "read_lobster", "read_lobster_orderbook"]
