"""Combining event streams: :func:`merge` by time, :func:`concat` in order,
both keeping :data:`lobkit.EVENT_DTYPE` exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._events import EVENT_DTYPE
from ..errors import EventDtypeError

#: The meaningful fields (not the padding), copied by name.
_FIELDS = tuple(n for n in EVENT_DTYPE.names or () if not n.startswith("pad"))


def merge(*streams: NDArray[Any]) -> NDArray[Any]:
    """Merges event arrays (e.g. a book feed and its trades) by ``ts``.
    Stable: events with equal ``ts`` keep their array order, earlier
    arguments first."""
    ev = concat(streams)
    order = np.argsort(ev["ts"], kind="stable")
    return np.ascontiguousarray(ev[order])


def concat(streams: Any) -> NDArray[Any]:
    """Concatenates event arrays keeping :data:`EVENT_DTYPE` exactly
    (``numpy.concatenate`` drops the padding and so changes the dtype).
    Fields are copied by name, so a structured array with the same fields in
    another order is read correctly; anything else is refused."""
    streams = [np.asarray(s) for s in streams]
    for k, s in enumerate(streams):
        names = s.dtype.names or ()
        missing = [f for f in _FIELDS if f not in names]
        missing += [f for f in _FIELDS if f in names and s.dtype[f].kind not in "iu"]
        if s.ndim != 1 or missing:
            raise EventDtypeError(
                f"streams[{k}]: expected a 1-D array of lobkit.EVENT_DTYPE, got dtype "
                f"{s.dtype} with shape {s.shape}"
                + (f" (field {missing[0]!r} missing or not an integer)" if missing else ""),
                None, "events")
    out = np.zeros(sum(len(s) for s in streams), EVENT_DTYPE)
    i = 0
    for s in streams:
        if s.dtype == EVENT_DTYPE:
            out[i:i + len(s)] = s
        else:
            for f in _FIELDS:
                out[f][i:i + len(s)] = s[f]
        i += len(s)
    return out
