"""Progress bars for long calls: tqdm when it is installed
(``pip install lobkit[cli]``), else a small built-in bar; nothing at all when
stderr is not a terminal (logs and pipes get no carriage returns).

:func:`events_bar` is what ``replay(progress=True)`` draws (events done,
rate); :func:`stage` wraps a step without a count — loading a file, writing
a table — so a command line run shows every phase, not only the replay.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def enabled() -> bool:
    """Bars are drawn only on a terminal."""
    return sys.stderr.isatty()


def events_bar(total: int, label: str = "replay") -> Callable[[int], None]:
    """A callback ``done -> None`` for ``total`` events (a replay's
    ``progress=``); it closes itself when ``done`` reaches ``total``."""
    if not enabled():
        return lambda done: None
    try:
        from tqdm import tqdm
    except ImportError:
        return _Plain(total, label)
    cols, rows = _size()
    bar = tqdm(total=max(total, 1), desc=label, unit="ev", unit_scale=True, file=sys.stderr,
               leave=False, ncols=cols, nrows=rows)
    seen = [0]

    def update(done: int) -> None:
        bar.update(max(done - seen[0], 0))
        seen[0] = max(done, seen[0])
        if done >= total:
            bar.close()

    return update


@contextmanager
def stage(label: str) -> Iterator[None]:
    """A step without a count (load, write): shown while it runs, with its
    time when it ends."""
    if not enabled():
        yield
        return
    t0 = time.perf_counter()
    try:
        from tqdm import tqdm
    except ImportError:
        sys.stderr.write(f"{label} ...")
        sys.stderr.flush()
        yield
        sys.stderr.write(f"\r{label} done in {time.perf_counter() - t0:.2f} s\n")
        return
    cols, rows = _size()
    with tqdm(total=1, desc=label, file=sys.stderr, leave=False, ncols=cols, nrows=rows,
              bar_format="{desc} {elapsed}") as bar:
        yield
        bar.update(1)


def _size() -> tuple[int, int]:
    """The terminal's columns and rows, 80 x 24 where it reports none (a
    pseudo-terminal without a size: tqdm would draw nothing at all)."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
        cols, rows = size.columns, size.lines
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        cols, rows = 0, 0
    return cols or 80, rows or 24


class _Plain:
    """The built-in bar: updated between replay chunks."""

    def __init__(self, total: int, label: str):
        self.total = max(total, 1)
        self.label = label
        self.t0 = time.perf_counter()

    def __call__(self, done: int) -> None:
        frac = done / self.total
        bar = "#" * int(frac * 30)
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {done:>12,}/{self.total:,} "
                         f"{rate / 1e6:6.1f} M events/s")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def callback(progress: Any, total: int) -> Callable[[int], Any] | None:
    """``replay(progress=)`` as a callback: True = :func:`events_bar`, a
    callable as given, anything false = none."""
    if progress is True:
        return events_bar(total)
    return progress or None
