"""Where :func:`lobkit.io.load` reads from: a path, a file object, bytes, or
a URL that fsspec can open (``s3://``, ``gs://``, ``https://``, ``memory://``
... when ``fsspec`` and the protocol's package are installed).

The loaders parse whole files in Rust from bytes, so a source that is not a
local path is written once to a temporary file under its own name (the name
tells the format apart, and a LOBSTER message file finds its orderbook file
beside it; for a URL that sibling is fetched too when it exists).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Union

#: What :func:`lobkit.io.load` accepts as ``source``.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


def is_url(s: str) -> bool:
    head, sep, _ = s.partition("://")
    return bool(sep) and head.isidentifier() and len(head) > 1 and head != "file"


def _name(source: Any, name: str | None) -> str:
    if name:
        return Path(name).name
    got = getattr(source, "name", None)
    if isinstance(got, str) and got:
        return Path(got).name
    return "data"


@contextlib.contextmanager
def local_path(source: Any, *, name: str | None = None) -> Iterator[Path]:
    """A local path holding ``source``'s bytes for the duration of the block.

    ``name``: the file name to give bytes or a file object (``.gz``/``.zst``
    suffixes mean compressed, ``_message_`` a LOBSTER file ...); without it
    the name of the file object, else ``data`` (then the format is told
    from the first bytes, or pass ``format=``).
    """
    if isinstance(source, (str, os.PathLike)) and not (isinstance(source, str) and is_url(source)):
        p = Path(os.fspath(source))
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file")
        yield p
        return
    with tempfile.TemporaryDirectory(prefix="lobkit-") as tmp:
        if isinstance(source, str):  # a URL
            yield _fetch(source, Path(tmp), name)
            return
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        elif hasattr(source, "read"):
            data = source.read()
            if isinstance(data, str):
                raise TypeError("source: open the file in binary mode ('rb'); got text")
        else:
            raise TypeError(f"source: expected a path, bytes, a binary file object or a URL, got "
                            f"{type(source).__name__}")
        p = Path(tmp) / _name(source, name)
        p.write_bytes(data)
        yield p


def _fetch(url: str, tmp: Path, name: str | None) -> Path:
    try:
        import fsspec
    except ImportError:
        raise ImportError(f"{url}: reading a URL needs fsspec (pip install fsspec, plus s3fs/gcsfs "
                          f"for s3:// and gs://)") from None
    fs, path = fsspec.core.url_to_fs(url)
    out = tmp / (Path(name).name if name else Path(path).name or "data")
    with fs.open(path, "rb") as f:
        out.write_bytes(f.read())
    if "_message_" in out.name:  # LOBSTER: the orderbook file beside it reconciles
        sibling = path.replace("_message_", "_orderbook_")
        if fs.exists(sibling):
            with fs.open(sibling, "rb") as f:
                (tmp / out.name.replace("_message_", "_orderbook_")).write_bytes(f.read())
    return out
