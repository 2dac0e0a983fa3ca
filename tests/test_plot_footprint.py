"""`lobkit.plot.footprint`: the cells drawn are the footprint's numbers
(summed per row when rows hold several price steps), each bar's POC is
boxed, and bad arguments are refused before anything is drawn."""

import numpy as np
import pytest

import lobkit
from lobkit.signals import footprint

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # the tests pick the backend; the library never does
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from io_helpers import BUNDLED_BINANCE
from lobkit.plot import footprint as draw

S = 1_000_000_000


def tape():
    """Two 1-second bars of prints on a tick-1 grid (side = resting side)."""
    rows = [  # (ts, side, price, size): seller-initiated = resting bid (side 1)
        (0, -1, 101, 5), (1, -1, 101, 2), (2, 1, 100, 1), (3, 1, 99, 4),
        (S + 1, -1, 102, 7), (S + 2, 1, 100, 3), (S + 3, -1, 100, 1),
    ]
    ev = np.zeros(len(rows), dtype=lobkit.EVENT_DTYPE)
    for i, (ts, side, px, sz) in enumerate(rows):
        ev[i] = (ts, 0, px, sz, 7, side, 0)  # kind 7 = TRADE
    return ev


def test_cells_carry_the_footprint_numbers():
    fp = footprint(tape(), every="1s", ratio=2.0)
    fig = draw(fp, bars=5)
    texts = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text()
             for t in fig.axes[0].texts}
    # rows from price 99 (row 0) to 102 (row 3); bar 0 = column 0
    assert texts == {(0, 2): "0 x 7", (0, 1): "1 x 0", (0, 0): "4 x 0",
                     (1, 3): "0 x 7", (1, 1): "3 x 1"}
    boxes = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert sorted((b.get_x() + 0.5, b.get_y() + 0.5) for b in boxes) == [(0, 2), (1, 3)]
    assert len(fig.axes) == 3  # cells, bar delta, its CVD twin
    plt.close(fig)


def test_rows_of_several_steps_sum_their_cells():
    fp = footprint(tape(), every="1s")
    fig = draw(fp, row_steps=2)
    texts = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text()
             for t in fig.axes[0].texts}
    # rows: [98, 99] -> 0, [100, 101] -> 1, [102, 103] -> 2
    assert texts == {(0, 0): "4 x 0", (0, 1): "1 x 7", (1, 1): "3 x 1", (1, 2): "0 x 7"}
    plt.close(fig)


def test_draws_into_a_given_axes_and_refuses_bad_arguments():
    fp = footprint(tape(), every="1s")
    fig, ax = plt.subplots()
    assert draw(fp, ax=ax) is fig and len(fig.axes) == 1
    for kw in ({"bars": 0}, {"max_rows": 0}, {"row_steps": 0}, {"row_steps": 1, "max_rows": 2}):
        with pytest.raises(ValueError):
            draw(fp, **kw)
    empty = footprint(tape()[:0], every="1s")
    with pytest.raises(ValueError, match="no trades"):
        draw(empty)
    plt.close("all")


def test_bundled_binance_footprint_is_readable():
    feed = lobkit.io.load(BUNDLED_BINANCE)
    fp = footprint(feed, lobkit.replay(feed, depth=0, signals=True), every="5s")
    fig = draw(fp)
    texts = fig.axes[0].texts
    assert 0 < len(texts) <= len(fp.bar)  # rows merge cells, never invent them
    shown = sum(float(t.get_text().split(" x ")[0]) + float(t.get_text().split(" x ")[1])
                for t in texts)
    assert shown == pytest.approx(float(fp.buy.sum() + fp.sell.sum()), rel=1e-3)
    plt.close(fig)
