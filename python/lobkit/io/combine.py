"""Combining event streams: :func:`merge` by time, :func:`concat` in order,
both keeping :data:`lobkit.EVENT_DTYPE` exactly."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._events import EVENT_DTYPE


def merge(*streams: np.ndarray) -> np.ndarray:
    """Merges event arrays (e.g. a book feed and its trades) by ``ts``.
    Stable: events with equal ``ts`` keep their array order, earlier
    arguments first."""
    ev = concat(streams)
    order = np.argsort(ev["ts"], kind="stable")
    return np.ascontiguousarray(ev[order])


def concat(streams: Any) -> np.ndarray:
    """Concatenates event arrays keeping :data:`EVENT_DTYPE` exactly
    (``numpy.concatenate`` drops the padding and so changes the dtype)."""
    streams = list(streams)
    out = np.zeros(sum(len(s) for s in streams), EVENT_DTYPE)
    i = 0
    for s in streams:
        out[i:i + len(s)] = s
        i += len(s)
    return out
