"""Databento DBN MBO / MBP-10."""

import numpy as np
import pytest

import lobkit
import lobkit.testing
from lobkit.errors import ParseError
from lobkit.io import F_LAST


def _dbn_objects(path):
    import databento_dbn

    from lobkit.io import read_bytes

    dec = databento_dbn.DBNDecoder()
    dec.write(read_bytes(path))
    return dec.decode()[1:]


@pytest.mark.realdata
def test_dbn_record_view_equals_databento_decoder(shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io.dbn import read_dbn_records

    d = shared_data / "databento"
    for path in (d / "orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst",
                 d / "dbn_format_fixtures" / "test_data.mbo.v3.dbn.zst",
                 d / "dbn_format_fixtures" / "test_data.mbp-10.v3.dbn.zst"):
        f = read_dbn_records(path)
        objs = _dbn_objects(path)
        assert len(objs) == len(f.records)
        for r, o in zip(f.records, objs):
            for name in ("ts_recv", "ts_event", "price", "size", "flags", "sequence",
                         "instrument_id"):
                assert int(r[name]) == int(getattr(o, name)), name
            assert r["action"].decode() == str(o.action) and r["side"].decode() == str(o.side)
            if f.schema == "mbo":
                assert int(r["order_id"]) == o.order_id
            else:
                for i, lv in enumerate(o.levels):
                    assert (int(r["levels"][i]["bid_px"]), int(r["levels"][i]["ask_sz"])) == \
                        (lv.bid_px, lv.ask_sz)


@pytest.mark.realdata
def test_dbn_mbo_es_day_checks(shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io import read_dbn

    d = shared_data / "databento"
    ev = read_dbn(d / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", tick_size=0.25)
    # T records are prints, F records nothing; unknown ids would raise (unknown_id='error').
    assert (ev["kind"] == lobkit.Kind.TRADE).sum() == 2973
    res = lobkit.replay(ev, tick_size=0.25, depth=1, book_type="l3")
    last = np.flatnonzero(ev["flags"] & F_LAST)
    assert len(last) == 47_022
    both = (res.best_bid_size[last] > 0) & (res.best_ask_size[last] > 0)
    crossed = last[both & (res.best_bid_price[last] >= res.best_ask_price[last])]
    # Crossed only in the Christmas pre-open auction, 22:39:55 to the 23:00 UTC open.
    assert len(crossed) == 891
    t0, t1 = 1703543995 * 10**9, 1703545200 * 10**9 + 100_000
    assert ev["ts"][crossed].min() >= t0 and ev["ts"][crossed].max() <= t1
    b = res.book
    assert (b.best_bid_price, b.best_bid_size, b.best_ask_price, b.best_ask_size) == \
        (4810.0, 22, 4810.25, 28)
    ev = read_dbn(d / "orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst", tick_size=0.25)
    assert ev["kind"][0] == lobkit.Kind.CLEAR  # the R record
    res = lobkit.replay(ev, tick_size=0.25, depth=1, book_type="l3")
    last = np.flatnonzero(ev["flags"] & F_LAST)
    assert len(last) == 185
    assert (res.best_bid_price[last] < res.best_ask_price[last]).all()
    with pytest.raises(ParseError, match="not on the tick grid"):
        read_dbn(d / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", tick_size=0.5)


@pytest.mark.realdata
def test_dbn_mbp10_book_is_the_record_top10(shared_data):
    pytest.importorskip("databento_dbn")
    from lobkit.io import read_dbn

    path = shared_data / "databento" / "dbn_format_fixtures" / "test_data.mbp-10.v3.dbn.zst"
    ev = read_dbn(path, tick_size=0.25)
    res = lobkit.replay(ev, tick_size=0.25, depth=10, book_type="l2")
    last = np.flatnonzero(ev["flags"] & F_LAST)
    objs = _dbn_objects(path)
    assert len(last) == len(objs)
    for k, o in zip(last, objs):
        assert list(res.bid_price[k]) == [lv.bid_px // 250_000_000 for lv in o.levels]
        assert list(res.ask_size[k]) == [lv.ask_sz for lv in o.levels]



@pytest.mark.realdata
@pytest.mark.parametrize("chunk", [56 * 7, 56 * 1000, 1 << 24])
def test_iter_dbn_equals_read_dbn(shared_data, chunk):
    pytest.importorskip("databento_dbn")
    from lobkit.io import concat, iter_events, read_dbn

    d = shared_data / "databento"
    for path in (d / "esh4-glbx-mdp3-20231225.mbo.dbn.zst",
                 d / "dbn_format_fixtures" / "test_data.mbp-10.v3.dbn.zst"):
        whole = read_dbn(path, tick_size=0.25)
        got = concat(iter_events(path, chunk_bytes=chunk if "mbo" in path.name else 368,
                                 tick_size=0.25))
        np.testing.assert_array_equal(got, whole)
