"""Seeded workloads and hypothesis strategies for tests and benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._events import EVENT_DTYPE


def synthetic_l2(n: int, *, seed: int = 0, mid: int = 1_000_000) -> NDArray[Any]:
    """A crypto-like L2 diff stream of ``n`` SET_LEVEL events (prices in ticks
    around ``mid``): updates clustered near the touch (geometric distance, mean
    ~4 ticks; 2% up to 1,500 ticks away), ~15% removals of existing levels, the
    deepest level dropped when a side exceeds 500 levels (like depth-limited
    feeds), timestamps 1–200 µs apart. The book is never locked or crossed.
    Generated in Rust: deterministic for a given seed on every platform."""
    return _core.synthetic_l2(n, seed=seed, mid=mid).view(EVENT_DTYPE)


def synthetic_l3(n: int, *, seed: int = 0, mid: int = 1_000_000, live: int = 2_000) -> NDArray[Any]:
    """An L3 stream of ``n`` events: adds near the touch, full and partial
    cancels, size-down modifies and executions against the front of the best
    queue, with about ``live`` resting orders. Never crosses."""
    return _core.synthetic_l3(n, seed=seed, mid=mid, live=live).view(EVENT_DTYPE)


def scenario(seed: int = 0, **kw: Any) -> tuple[NDArray[np.void], NDArray[np.void]]:
    """Labelled L3 detector scenarios: ``(events, labels)``; see
    :func:`lobkit.scenarios.scenario`."""
    from .scenarios import scenario as _scenario

    return _scenario(seed, **kw)
