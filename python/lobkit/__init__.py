"""lobkit: exact, fast limit order books (L2 and L3) with a Rust core.

Streaming: :class:`L2Book` / :class:`L3Book`, one event per call.
Bulk: :func:`replay` over an :data:`EVENT_DTYPE` array.
Loaders: :mod:`lobkit.io`. Errors: :mod:`lobkit.errors`.
"""

import logging as _logging

from . import detect, errors, io
from ._core import L2Book, L3Book, __version__
from ._events import ASK, BID, EVENT_DTYPE, check_events, make_events, replay
from ._kinds import Kind
from .consolidated import ConsolidatedBook, consolidate
from .engine import Engine, Reader, Snapshot
from .result import ReplayResult

__all__ = [
    "ASK",
    "BID",
    "EVENT_DTYPE",
    "ConsolidatedBook",
    "Engine",
    "Kind",
    "L2Book",
    "L3Book",
    "Reader",
    "ReplayResult",
    "Snapshot",
    "__version__",
    "check_events",
    "consolidate",
    "detect",
    "errors",
    "io",
    "make_events",
    "replay",
]

# A library logs, the application decides where to: gaps, resyncs and checksum
# failures go to logging.getLogger("lobkit") (WARNING / INFO).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
