"""The plain event table (CSV / Parquet)."""

import numpy as np
import pytest

import lobkit
import lobkit.testing
from lobkit.errors import ParseError
from lobkit.io import read_events, write_events


def test_event_table_round_trip_csv_and_parquet(tmp_path):
    ev = lobkit.testing.synthetic_l3(2000, seed=3)
    for name in ("ev.csv", "ev.csv.gz", "ev.parquet"):
        if name.endswith("parquet"):
            pytest.importorskip("pyarrow")
        f = tmp_path / name
        write_events(ev, f, tick_size=0.01, lot_size=0.5)
        back = read_events(f, tick_size=0.01, lot_size=0.5)
        assert back.dtype == lobkit.EVENT_DTYPE
        np.testing.assert_array_equal(back, ev)


def test_event_table_errors(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("ts,kind,side,price,size\n1,add,bid,1.005,1\n")
    with pytest.raises(ParseError, match=r"e.csv: line 2, field 'price'"):
        read_events(f, tick_size=0.01)
    f.write_text("ts,kind,side,size\n1,add,bid,1\n")
    with pytest.raises(ParseError, match="missing column \"price\""):
        read_events(f)
    f.write_text("ts,kind,side,price,size,order_id\n1,ADD,b,100,1,7\n2,cancel,B,100,1,7\n")
    ev = read_events(f)
    assert list(ev["kind"]) == [2, 3] and list(ev["side"]) == [1, 1]
