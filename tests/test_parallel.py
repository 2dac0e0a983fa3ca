"""Per-partition replays on a local Dask cluster equal the sequential ones."""

import numpy as np
import pytest

from conftest import BUNDLED, ROOT

pd = pytest.importorskip("pandas")
GOOG = BUNDLED / "GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz"
BINANCE = ROOT / "python" / "lobkit" / "data" / "binance" / "btcusdt_usdm_20240808_head4000.gz"


def test_bars_aggregate_the_event_table():
    from lobkit.parallel import BAR_COLUMNS, replay_partition

    ev = replay_partition(BINANCE, tick_size="0.1", lot_size="0.001")
    bars = replay_partition(BINANCE, tick_size="0.1", lot_size="0.001", bar="1s")
    assert tuple(bars.columns) == BAR_COLUMNS
    assert bars["events"].sum() == len(ev)
    key = ev["ts"].astype("int64") // 1_000_000_000  # UTC timestamps -> whole seconds
    np.testing.assert_allclose(bars["ofi"].to_numpy(),
                               ev.groupby(key)["ofi"].sum().to_numpy())  # both in size units
    np.testing.assert_allclose(bars["mid"].to_numpy(), ev.groupby(key)["ts"].size().index.map(
        lambda k: ev["best_bid_price"][key == k].iloc[-1] / 2 + ev["best_ask_price"][key == k].iloc[-1] / 2),
        equal_nan=True)
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert bars["ts"].is_monotonic_increasing and bars["ts"].iloc[-1] >= ev["ts"].iloc[-1]
    with pytest.raises(ValueError, match="positive"):
        replay_partition(BINANCE, tick_size="0.1", lot_size="0.001", bar=0)


def test_dask_local_cluster_equals_sequential(tmp_path):
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    from lobkit.parallel import replay_dask, replay_partition, source_labels

    # Two "days" of the same instrument in different folders: labels stay unique.
    paths = []
    for day in ("d1", "d2"):
        (tmp_path / day).mkdir()
        p = tmp_path / day / GOOG.name
        p.write_bytes(GOOG.read_bytes())
        (tmp_path / day / GOOG.name.replace("message", "orderbook")).write_bytes(
            (BUNDLED / GOOG.name.replace("message", "orderbook")).read_bytes())
        paths.append(p)
    labels = source_labels([str(p) for p in paths])
    assert labels == [f"d1/{GOOG.name}", f"d2/{GOOG.name}"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ddf = replay_dask(paths, bar="10s")
        assert ddf.npartitions == 2
        got = ddf.compute().reset_index(drop=True)
        assert len(client.scheduler_info()["workers"]) == 2
    want = pd.concat([replay_partition(p, bar="10s", source=s) for p, s in zip(paths, labels)],
                     ignore_index=True)
    # dask stores strings as pyarrow-backed StringDtype (its convert-string
    # option); the values are what is compared, not the string storage.
    got["source"] = got["source"].astype(want["source"].dtype)
    pd.testing.assert_frame_equal(got, want)
    assert set(got["source"]) == set(labels) and got["events"].sum() == 2 * 20_774
