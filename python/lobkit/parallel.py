"""Scaling out: research over months of many instruments is embarrassingly
parallel by (instrument, day), one file each. :func:`replay_partition` turns
one file into a pandas DataFrame (per event, or per time bar); it is a plain
function of picklable arguments, so any engine can run it — Dask below, or
``ray.remote(replay_partition)``, or a ``ProcessPoolExecutor``.

:func:`replay_dask` builds a lazy ``dask.dataframe`` with one partition per
file (``pip install lobkit[dask]``)::

    from distributed import Client
    from lobkit.parallel import replay_dask

    client = Client()                                  # or an existing cluster
    ddf = replay_dask(paths, format="binance", tick_size="0.1", lot_size="0.001",
                      bar="1s")
    ddf.groupby("source").ofi.sum().compute()

Each worker reads and replays its own file in Rust with the interpreter
released; nothing but the (small) bar tables crosses the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._typing import FormatName
from .result import time_origin_ns

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

#: Columns of a bar table (``bar=`` given), in order.
BAR_COLUMNS = ("source", "ts", "events", "mid", "spread", "imbalance", "ofi", "ofi_msg",
               "signed_volume", "traded_volume")


def _bar_ns(bar: Any) -> int:
    if isinstance(bar, (int, np.integer)):
        return int(bar)
    import pandas as pd

    return int(pd.Timedelta(bar).value)


def replay_partition(path: str | os.PathLike[str], format: FormatName = "auto", *, tick_size: Any = None,
                     lot_size: Any = None, depth: int = 1, bar: Any = None,
                     source: str | None = None) -> pd.DataFrame:
    """Replays one file (any :mod:`lobkit.io` format) with signals and returns
    a pandas DataFrame with a ``source`` column (the file name, or
    ``source``). Without ``bar``: one row per event (the
    :mod:`lobkit.frames` layout in price units). With ``bar`` (a pandas
    offset such as '1s', or ns): one row per non-empty time bar ending at
    ``ts``: event count, last ``mid``, ``spread`` and ``imbalance``, and sums
    of ``ofi``, ``ofi_msg``, ``signed_volume`` and traded volume, all in
    size units (float64)."""
    import pandas as pd

    import lobkit
    from lobkit.io.auto import load

    loaded = load(path, format, tick_size=tick_size, lot_size=lot_size)
    ev = loaded.events
    res = lobkit.replay(loaded, depth=depth, signals=True)
    src = source or Path(path).name
    if bar is None:
        df = res.to_pandas(units="price")
        df.insert(0, "source", src)
        return df
    width = _bar_ns(bar)
    if width <= 0:
        raise ValueError(f"bar={bar!r}: must be a positive duration")
    ts = ev["ts"] + time_origin_ns(res)  # ns since the epoch, UTC
    key = ts // width
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(ts)] - 1
    lot = loaded.lot_size
    sv, ofi, ofi_msg, imb = res.signed_volume, res.ofi, res.ofi_msg, res.imbalance
    if sv is None or ofi is None or ofi_msg is None or imb is None:
        raise RuntimeError("replay(signals=True) returned no signal columns")

    def sums(a: NDArray[Any]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (np.add.reduceat(a, starts) if len(a) else a) * lot
        return out

    traded = np.abs(sv)
    bars: pd.DataFrame = pd.DataFrame({
        "source": pd.Series([src] * len(starts), dtype="string"),
        "ts": pd.to_datetime((key[starts] + 1) * width, utc=True),
        "events": (ends - starts + 1).astype(np.int64),
        "mid": res.mid[ends],
        "spread": res.spread_ticks[ends] * loaded.tick_size,
        "imbalance": imb[ends],
        "ofi": sums(ofi),
        "ofi_msg": sums(ofi_msg),
        "signed_volume": sums(sv),
        "traded_volume": sums(traded),
    })
    return bars


def replay_dask(paths: Sequence[str | os.PathLike[str]], format: FormatName = "auto", *,
                tick_size: Any = None, lot_size: Any = None, depth: int = 1,
                bar: Any = "1s") -> dd.DataFrame:
    """A lazy ``dask.dataframe.DataFrame``, one partition per file, each
    made by :func:`replay_partition` on a worker. ``bar=None`` keeps one row
    per event (large); the default aggregates to 1-second bars. The schema
    is computed on the first file locally (cheap for bars)."""
    import dask.dataframe as dd

    files = [os.fspath(p) for p in paths]
    if not files:
        raise ValueError("paths: no files")
    kw: dict[str, Any] = {"format": format, "tick_size": tick_size, "lot_size": lot_size,
                          "depth": depth, "bar": bar}
    labels = source_labels(files)
    meta = replay_partition(files[0], source=labels[0], **kw).iloc[:0]
    from_map: Callable[..., dd.DataFrame] = dd.from_map  # dask ships no types
    return from_map(_partition, list(zip(files, labels)), meta=meta, **kw)


def _partition(path_label: tuple[str, str], **kw: Any) -> pd.DataFrame:
    return replay_partition(path_label[0], source=path_label[1], **kw)


def source_labels(paths: Sequence[str]) -> list[str]:
    """Short unique labels: file names, or paths relative to the common
    folder when names repeat (``spot/btcusdt.gz`` vs ``usdm/btcusdt.gz``)."""
    names = [Path(p).name for p in paths]
    if len(set(names)) == len(names):
        return names
    common = os.path.commonpath([os.path.abspath(p) for p in paths])
    return [os.path.relpath(os.path.abspath(p), common) for p in paths]
