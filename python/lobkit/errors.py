"""Typed exceptions. One class per failure kind, all under :class:`LobkitError`
and the nearest builtin, so ``except ValueError`` keeps working.

Every event error carries ``index`` (position of the offending event in the
call's input for bulk calls, the book's running event count for streaming
calls) and ``field`` (the event field at fault).
"""

from __future__ import annotations

from typing import Any


class LobkitError(Exception):
    """Base class of every lobkit error."""

    def __init__(self, message: str, index: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.index = index
        self.field = field

    def __str__(self) -> str:  # KeyError would otherwise print the repr
        return self.message

    def __reduce__(self) -> tuple[type[LobkitError], tuple[Any, ...]]:
        return (type(self), (self.message, self.index, self.field))


class InvalidSideError(LobkitError, ValueError):
    """``side`` is not 1/'bid' or -1/'ask'."""


class InvalidKindError(LobkitError, ValueError):
    """``kind`` is unknown, or not applicable to this book (L2 vs L3)."""


class InvalidPriceError(LobkitError, ValueError):
    """``price`` is NaN/inf, off the tick grid, or out of range."""


class InvalidSizeError(LobkitError, ValueError):
    """``size`` is negative, NaN/inf, off the lot grid, zero where positive is required, or too large."""


class UnknownOrderError(LobkitError, KeyError):
    """``order_id`` is not resting in the book."""


class DuplicateOrderError(LobkitError, KeyError):
    """``order_id`` is already resting in the book."""


class OverfillError(LobkitError, ValueError):
    """A cancel or execution is larger than the order's resting size."""


class CrossedBookError(LobkitError, ValueError):
    """An update would lock/cross the book under ``cross_policy='reject'``."""


class TimestampOrderError(LobkitError, ValueError):
    """``ts`` is earlier than the previous event's."""


class ParseError(LobkitError, ValueError):
    """A loader could not parse a file; the message names file, line and field."""


class _ExpectedGot(LobkitError):
    """An error comparing what a feed promised (``expected``) with what came
    (``got``); ``index`` is the event index where the book was flagged."""

    def __init__(self, message: str, index: int | None = None, field: str | None = None,
                 expected: int = 0, got: int = 0):
        super().__init__(message, index, field)
        self.expected = expected
        self.got = got

    def __reduce__(self) -> tuple[type[LobkitError], tuple[Any, ...]]:
        return (type(self), (self.message, self.index, self.field, self.expected, self.got))


class SequenceGapError(_ExpectedGot, ValueError):
    """A feed's update ids skipped (``strict=True``): messages were lost, so
    the book is out of sync until the next snapshot. ``expected``/``got``
    are the update ids."""


class ChecksumError(_ExpectedGot, ValueError):
    """A venue checksum did not match the rebuilt book (``strict=True``): the
    book is out of sync until the next snapshot. ``expected``/``got`` are the
    checksums."""


class EventDtypeError(LobkitError, TypeError):
    """An events argument is not a numpy array of ``lobkit.EVENT_DTYPE``."""


class EventLayoutError(LobkitError, ValueError):
    """An events argument is not 1-D and C-contiguous."""


class BackpressureError(LobkitError, RuntimeError):
    """An :class:`lobkit.Engine` ring stayed full for the whole push timeout.
    ``accepted`` events of that push were taken; the rest were not (never a
    silent drop: retry them)."""

    def __init__(self, message: str, accepted: int = 0):
        super().__init__(message, None, None)
        self.accepted = accepted

    def __reduce__(self) -> tuple[type[LobkitError], tuple[Any, ...]]:
        return (type(self), (self.message, self.accepted))


class EngineTimeoutError(LobkitError, TimeoutError):
    """:meth:`lobkit.Engine.flush` timed out; ``left`` events were still queued."""

    def __init__(self, message: str, left: int = 0):
        super().__init__(message, None, None)
        self.left = left

    def __reduce__(self) -> tuple[type[LobkitError], tuple[Any, ...]]:
        return (type(self), (self.message, self.left))


class EngineClosedError(LobkitError, RuntimeError):
    """The engine was closed."""


class InternalError(LobkitError, RuntimeError):
    """A bug inside lobkit's Rust core (a caught panic). Please report it."""


def _by_code() -> tuple[type[LobkitError], ...]:
    # The core's list of class names (``lobkit_core::error::CLASS_NAMES``)
    # is the one source of the code -> class mapping; the extension maps its
    # errors by the same list.
    from . import _core

    return tuple(globals()[name] for name in _core.error_class_names())


#: Classes in the order of the core's error codes (``skipped_by_code``).
BY_CODE = _by_code()

__all__ = [c.__name__ for c in BY_CODE] + [
    "LobkitError",
    "EventDtypeError",
    "SequenceGapError",
    "ChecksumError",
    "EventLayoutError",
    "BackpressureError",
    "EngineTimeoutError",
    "EngineClosedError",
    "InternalError",
    "BY_CODE",
]
