"""Bitfinex R0 raw order books."""

import json

import numpy as np
import pytest

import lobkit
from lobkit.errors import ParseError
from lobkit.io import F_LAST


@pytest.mark.realdata
def test_bitfinex_raw_book_self_consistency(shared_data):
    from lobkit.io import read_bitfinex

    ev = read_bitfinex(shared_data / "bitfinex" / "L3_feed.json.gz")
    k = ev["kind"]
    assert (k == lobkit.Kind.DELETE).sum() == 37_021
    assert ((k == lobkit.Kind.ADD) | (k == lobkit.Kind.MODIFY)).sum() == 62_977 + 50
    res = lobkit.replay(ev, book_type="l3", tick_size=1e-8, lot_size=1e-8, depth=1,
                        unknown_id="error")
    assert res.skipped == 0  # every delete and replace names a resting order
    assert res.book.n_orders == 38
    last = np.flatnonzero(ev["flags"] & F_LAST)
    both = (res.best_bid_size[last] > 0) & (res.best_ask_size[last] > 0)
    crossed = (res.best_bid_price[last] >= res.best_ask_price[last]) & both
    assert crossed.sum() == 21  # a marketable order shows before the deletes it caused
    # Prices keep their exact text: 60923.032129 is 6092303212900 ticks of 1e-8.
    assert 6_092_303_212_900 in set(ev["price"].tolist())


def test_bitfinex_messages_per_line(tmp_path):
    from lobkit.io import read_bitfinex

    f = tmp_path / "b.jsonl"
    f.write_text('{"event":"info","version":2}\n[1,[[10,100.5,1.5],[11,101,-2]]]\n[1,"hb"]\n'
                 '[1,[10,100.25,1.5]]\n[1,[11,0,-1]]\n[1,[12,99,0.1]]\n')
    ev = read_bitfinex(f, tick_size="0.25", lot_size="0.1")
    assert list(ev["kind"]) == [8, 2, 2, 5, 4, 2]
    assert list(ev["side"]) == [0, 1, -1, 1, -1, 1]
    assert list(ev["price"]) == [0, 402, 404, 401, 0, 396]
    assert list(ev["size"]) == [0, 15, 20, 15, 0, 1]
    res = lobkit.replay(ev, book_type="l3", tick_size=0.25, lot_size=0.1, depth=2)
    assert res.book.best_bid == (100.25, 1.5) and res.book.n_asks == 0
    f.write_text("[1,[[10,100.3,1]]]\n")
    with pytest.raises(ParseError, match="100.3"):
        read_bitfinex(f, tick_size="0.25", lot_size="0.1")
