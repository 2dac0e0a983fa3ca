"""iter_events: files in chunks equal the whole-file loaders."""

import gzip

import numpy as np
import pytest

import lobkit
import lobkit.testing
from lobkit.errors import ParseError
from lobkit.io import read_binance, read_tardis, write_events

from io_helpers import BUNDLED_BINANCE, TARDIS_L2


@pytest.mark.parametrize("chunk", [7, 100, 4096, 1 << 20])
def test_iter_events_equals_the_whole_file(tmp_path, chunk):
    from lobkit.io import concat, iter_events

    # Tardis incremental with snapshot runs spanning chunks.
    rows = TARDIS_L2.splitlines()
    body = "\n".join([rows[0]] + rows[1:] * 20) + "\n"
    f = tmp_path / "t.csv.gz"
    f.write_bytes(gzip.compress(body.encode()))
    whole = read_tardis(f, tick_size=0.5, lot_size=1)
    parts = list(iter_events(f, "tardis", chunk_bytes=chunk, tick_size=0.5, lot_size=1))
    np.testing.assert_array_equal(concat(parts), whole)
    # The event table, CSV.
    ev = lobkit.testing.synthetic_l3(500, seed=4)
    write_events(ev, tmp_path / "e.csv", tick_size=0.01)
    got = concat(iter_events(tmp_path / "e.csv", chunk_bytes=chunk, tick_size=0.01))
    np.testing.assert_array_equal(got, ev)
    # Binance: the sync state carries across chunks.
    if chunk >= 4096:
        feed = read_binance(BUNDLED_BINANCE, tick_size="0.1", lot_size="0.001")
        got = concat(iter_events(BUNDLED_BINANCE, chunk_bytes=chunk, tick_size="0.1",
                                 lot_size="0.001"))
        np.testing.assert_array_equal(got, feed.events)


def test_iter_events_errors_name_the_file_line(tmp_path):
    from lobkit.io import iter_events

    ev = lobkit.testing.synthetic_l3(300, seed=4)
    f = tmp_path / "e.csv"
    write_events(ev, f, tick_size=0.01)
    lines = f.read_text().splitlines()
    lines[250] = lines[250].replace(",add,", ",jump,").replace(",cancel,", ",jump,") \
        .replace(",delete,", ",jump,").replace(",modify,", ",jump,").replace(",execute,", ",jump,")
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError, match=r"e.csv: line 251, field 'kind'"):
        list(iter_events(f, chunk_bytes=300, tick_size=0.01))
    g = tmp_path / "t.csv"
    g.write_text(TARDIS_L2 * 1 + TARDIS_L2.splitlines()[1].replace("6421.5", "6421.3") + "\n")
    with pytest.raises(ParseError, match=r"t.csv: line 9, field 'price'"):
        list(iter_events(g, "tardis", chunk_bytes=64, tick_size=0.5, lot_size=1))


def test_iter_events_parquet_batches(tmp_path):
    pytest.importorskip("pyarrow")
    from lobkit.io import concat, iter_events

    ev = lobkit.testing.synthetic_l3(5000, seed=6)
    write_events(ev, tmp_path / "e.parquet", tick_size=0.01, lot_size=0.5)
    parts = list(iter_events(tmp_path / "e.parquet", chunk_bytes=64 * 700, tick_size=0.01,
                             lot_size=0.5))
    assert len(parts) > 1
    np.testing.assert_array_equal(concat(parts), ev)
