"""Liquidation notices (Binance futures forceOrder, Bybit allLiquidation /
liquidation) as LIQUIDATION events, and the detectors that read order flow:
delta divergence and liquidation cascades on labelled flow scenarios."""

import gzip
import json

import numpy as np
import pytest

import lobkit
from lobkit.flow_families import CONTROLS, EPISODES, flow_scenario
from lobkit.io import BinanceDepth, read_binance, read_events, write_events
from lobkit.scenario_families import to_l2

from io_helpers import BUNDLED_BINANCE, book_dict, gz_lines


def _force_order(ms, side, price, filled):
    return json.dumps({"stream": "btcusdt@forceOrder", "data": {
        "e": "forceOrder", "E": ms, "o": {"s": "BTCUSDT", "S": side, "o": "LIMIT", "f": "IOC",
                                          "q": filled, "p": price, "ap": price, "X": "FILLED",
                                          "l": filled, "z": filled, "T": ms}}})


def _with_notices(tmp_path):
    """The bundled USD-M excerpt with a forceOrder after every 500th line."""
    lines = list(gz_lines(BUNDLED_BINANCE))
    out, notes = [], []
    for i, line in enumerate(lines):
        out.append(line)
        if i % 500 == 250:
            ts, msg = line.split(" ", 1)
            ms = json.loads(msg).get("data", {}).get("E", 1723161256299)
            side = "SELL" if len(notes) % 2 == 0 else "BUY"
            notes.append((ms, side))
            out.append(f"{ts} {_force_order(ms, side, '61650.37', '0.25')}")
    f = tmp_path / "with_liquidations.gz"
    with gzip.open(f, "wt") as fh:
        fh.write("\n".join(out) + "\n")
    return f, notes


def test_binance_force_orders_are_notices_that_change_no_book_and_no_volume(tmp_path):
    f, notes = _with_notices(tmp_path)
    plain = read_binance(BUNDLED_BINANCE, tick_size="0.1", lot_size="0.001")
    feed = read_binance(f, tick_size="0.1", lot_size="0.001")
    liq = feed.events[feed.events["kind"] == lobkit.Kind.LIQUIDATION]
    assert feed.stats["liquidations"] == len(liq) == len(notes) > 3
    # SELL closes a long: it hits the bids (resting side 1); the off-grid
    # price 61650.37 rounds to the nearest 0.1 tick.
    assert liq["side"].tolist() == [1 if s == "SELL" else -1 for _, s in notes]
    assert set(liq["price"].tolist()) == {616504} and set(liq["size"].tolist()) == {250}
    assert np.array_equal(feed.events[feed.events["kind"] != lobkit.Kind.LIQUIDATION],
                          plain.events)
    a = lobkit.replay(feed.events, tick_size=0.1, lot_size=0.001, depth=1, signals=True)
    b = lobkit.replay(plain.events, tick_size=0.1, lot_size=0.001, depth=1, signals=True)
    assert book_dict(a.book, 0.1, 0.001) == book_dict(b.book, 0.1, 0.001)
    keep = feed.events["kind"] != lobkit.Kind.LIQUIDATION
    # the fills print on the trade stream: a notice adds no traded volume
    assert np.array_equal(a.signed_volume[keep], b.signed_volume)
    # streaming: one message at a time gives the same events
    sync = BinanceDepth(tick_size="0.1", lot_size="0.001")
    got = [sync.on_message(line.split(" ", 1)[1], int(line.split(" ", 1)[0]))
           for line in gz_lines(f)]
    assert np.array_equal(np.concatenate(got), feed.events)


def test_bybit_liquidation_topics(tmp_path):
    from lobkit.io import read_bybit

    msgs = [
        {"topic": "orderbook.50.X", "type": "snapshot", "ts": 1,
         "data": {"s": "X", "b": [["0.04490", "10"]], "a": [["0.04500", "10"]], "u": 1}},
        {"topic": "allLiquidation.X", "type": "snapshot", "ts": 2,
         "data": [{"T": 2, "s": "X", "S": "Buy", "v": "300", "p": "0.044985"},
                  {"T": 2, "s": "X", "S": "Sell", "v": "7", "p": "0.04501"}]},
        {"topic": "liquidation.X", "type": "snapshot", "ts": 3,
         "data": {"price": "0.0448", "side": "Sell", "size": "5", "symbol": "X",
                  "updatedTime": 3}},
    ]
    f = tmp_path / "bybit.jsonl"
    f.write_text("".join(f"{i} {json.dumps(m)}\n" for i, m in enumerate(msgs)))
    feed = read_bybit(f, tick_size="0.00001", lot_size="1")
    liq = feed.events[feed.events["kind"] == lobkit.Kind.LIQUIDATION]
    # Bybit names the position: Buy = a long, closed by a sell into the bids.
    assert liq[["side", "price", "size"]].tolist() == [(1, 4499, 300), (-1, 4501, 7),
                                                       (-1, 4480, 5)]
    assert feed.stats["liquidations"] == 3
    bad = tmp_path / "bad.jsonl"
    bad.write_text('0 {"topic":"allLiquidation.X","ts":1,"data":[{"T":1,"S":"Long","v":"1","p":"1"}]}\n')
    with pytest.raises(lobkit.errors.ParseError, match="S"):
        read_bybit(bad, tick_size="1", lot_size="1")


def test_liquidation_kind_round_trips_through_the_event_table(tmp_path):
    ev = lobkit.make_events(ts=[1, 2], kind=[lobkit.Kind.TRADE, lobkit.Kind.LIQUIDATION],
                            side=[1, -1], price=[100, 101], size=[3, 4])
    for name in ("e.csv", "e.parquet"):
        if name.endswith("parquet"):
            pytest.importorskip("pyarrow")
        write_events(ev, tmp_path / name)
        assert np.array_equal(read_events(tmp_path / name), ev)
    text = (tmp_path / "e.csv").read_text()
    assert "liquidation" in text
    # a book takes a notice without a change, and refuses a bad one
    book = lobkit.L2Book()
    book.update("bid", 99, 5)
    lobkit.replay(ev, book=book, depth=0)
    assert book.best_bid == (99, 5)


def test_flow_scenarios_are_deterministic_and_label_what_they_hold():
    ev, lab = flow_scenario("poisson", 1, seconds=300, episodes=1, liquidation_stream=True)
    ev2, lab2 = flow_scenario("poisson", 1, seconds=300, episodes=1, liquidation_stream=True)
    assert np.array_equal(ev, ev2) and np.array_equal(lab, lab2)
    assert sorted(lab["kind"].tolist()) == sorted(EPISODES + CONTROLS)
    assert np.all(np.diff(ev["ts"]) >= 0)
    liq = ev[ev["kind"] == lobkit.Kind.LIQUIDATION]
    c = lab[lab["kind"] == "cascade"][0]
    inside = liq[(liq["ts"] >= c["t0"]) & (liq["ts"] <= c["t1"])]
    # a cascade's notices name its direction (resting side = -aggressor)
    assert len(inside) > 0 and set(inside["side"].tolist()) <= {-int(c["side"])}
    # the divergence's last leg went against its price move: the label side is
    # where the detector points (-1 after a rise), the flow had the other sign
    d = lab[lab["kind"] == "divergence"][0]
    assert np.sign(d["intensity"]) == -np.sign(-d["side"]) != 0
    no = flow_scenario("poisson", 1, seconds=300, episodes=1, liquidation_stream=False)[0]
    assert not (no["kind"] == lobkit.Kind.LIQUIDATION).any()
    l2 = to_l2(ev)
    notice = l2["kind"] == lobkit.Kind.LIQUIDATION
    assert np.array_equal(l2[notice], liq) and np.all(np.diff(l2["ts"]) >= 0)
    assert np.array_equal(l2[~notice], to_l2(ev[ev["kind"] != lobkit.Kind.LIQUIDATION]))
    # each notice sits right after the rows of the book event before it
    pos = np.flatnonzero(notice)
    src = np.flatnonzero(ev["kind"] == lobkit.Kind.LIQUIDATION)
    rows_before = [int((ev["kind"][:i] != lobkit.Kind.LIQUIDATION).sum()
                       + (ev["kind"][:i] == lobkit.Kind.EXECUTE).sum()) for i in src]
    assert (pos - np.arange(len(pos))).tolist() == rows_before


def _hits(alerts, labels, kind, episode):
    a = alerts[alerts["kind_name"] == kind]
    ep = labels[labels["kind"] == episode]
    hit = [((a["ts"] >= e["t0"] - 2e9) & (a["ts"] <= e["t1"] + 2e9) & (a["side"] == e["side"])).any()
           for e in ep]
    return int(np.sum(hit)), len(ep), len(a)


def test_divergence_and_cascade_detectors_find_labelled_episodes():
    """The families these detectors were tuned on, seed 0 (the held-out
    tables: benches/detector_eval.py)."""
    only = {k: k in ("delta_divergence", "liquidation_cascade") for k in lobkit.detect.DETECTORS}
    div = casc = np.zeros(3, int)
    for fam in ("poisson", "busy"):
        ev, lab = flow_scenario(fam, 0)
        l2 = to_l2(ev)
        a = lobkit.replay(l2, depth=0, detect=only).alerts
        div = div + _hits(a, lab, "delta_divergence", "divergence")
        casc = casc + _hits(a, lab, "liquidation_cascade", "cascade")
    # found, episodes, alerts
    assert div[1] == 8 and div[0] >= 6 and div[2] <= 2 * div[0], div
    assert casc[1] == 8 and casc[0] >= 4, casc
    # streaming == bulk for the new detectors (the last scenario)
    book = lobkit.detect.enable(lobkit.L2Book(), only)
    lobkit.replay(l2, book=book, depth=0)
    s = lobkit.detect.alerts(book)
    assert np.array_equal(s["ts"], a["ts"]) and np.array_equal(s["kind"], a["kind"])
    assert np.array_equal(s["score"], a["score"])


def test_tardis_liquidations_file(tmp_path):
    from lobkit.io.tardis import read_tardis, tardis_schema

    rows = ("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
            "binance-futures,BTCUSDT,1000,1100,,sell,61650.37,0.25\n"
            "binance-futures,BTCUSDT,2000,2100,,buy,61700.1,1.5\n")
    f = tmp_path / "binance-futures_liquidations_2024-08-08_BTCUSDT.csv.gz"
    with gzip.open(f, "wt") as fh:
        fh.write(rows)
    assert tardis_schema(f) == "liquidations"
    ev = read_tardis(f, tick_size="0.1", lot_size="0.001")
    assert ev[["ts", "kind", "side", "price", "size"]].tolist() == [
        (1_100_000, lobkit.Kind.LIQUIDATION, 1, 616504, 250),
        (2_100_000, lobkit.Kind.LIQUIDATION, -1, 617001, 1500)]
    # the same rows under another name are trades (and 61650.37 is off the grid)
    g = tmp_path / "trades.csv"
    g.write_text(rows)
    with pytest.raises(lobkit.errors.ParseError, match="price"):
        read_tardis(g, tick_size="0.1", lot_size="0.001")
    assert len(read_tardis(g, tick_size="0.1", lot_size="0.001", liquidations=True)) == 2
    # chunked reading agrees
    from lobkit.io.tardis import iter_chunks

    got = np.concatenate(list(iter_chunks(f, chunk_bytes=40, tick_size="0.1",
                                          lot_size="0.001")))
    assert np.array_equal(got, ev)


def test_io_load_and_iter_events_take_liquidations(tmp_path):
    """``lobkit.io.load`` / ``iter_events`` pass ``liquidations=`` to the
    Tardis reader (a liquidations file under any name), and refuse it, naming
    the format, where the format has no such file type."""
    rows = ("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
            "binance-futures,BTCUSDT,1000,1100,,sell,61650.4,0.25\n"
            "binance-futures,BTCUSDT,2000,2100,,buy,61700.1,1.5\n")
    g = tmp_path / "trades.csv"
    g.write_text(rows)
    as_trades = lobkit.io.load(g, tick_size="0.1", lot_size="0.001")
    assert set(as_trades.events["kind"].tolist()) == {lobkit.Kind.TRADE}
    feed = lobkit.io.load(g, tick_size="0.1", lot_size="0.001", liquidations=True)
    assert feed.events["kind"].tolist() == [lobkit.Kind.LIQUIDATION] * 2
    assert feed.events[["side", "price", "size"]].tolist() == [(1, 616504, 250),
                                                               (-1, 617001, 1500)]
    chunks = list(lobkit.io.iter_events(g, "tardis", tick_size="0.1", lot_size="0.001",
                                        liquidations=True, chunk_bytes=40))
    assert np.array_equal(np.concatenate(chunks), feed.events)
    # liquidations=False keeps a file named "liquidations" a trades file
    f = tmp_path / "binance-futures_liquidations_2024-08-08_BTCUSDT.csv"
    f.write_text(rows)
    assert np.array_equal(lobkit.io.load(f, tick_size="0.1", lot_size="0.001",
                                         liquidations=False).events, as_trades.events)
    lob = tmp_path / "AAPL_2012-06-21_34200000_57600000_message_1.csv"
    lob.write_text("34200.0,1,1,100,5850000,1\n")
    with pytest.raises(ValueError, match="lobster input has no liquidations file type"):
        lobkit.io.load(lob, liquidations=True)
    with pytest.raises(ValueError, match="lobster input has no liquidations file type"):
        next(lobkit.io.iter_events(lob, liquidations=True))
