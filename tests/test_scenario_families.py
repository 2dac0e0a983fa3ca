"""The held-out evaluation of the detectors: scenario families (generator
checks) and a floor under the held-out numbers, so a change that loses them
fails here. The full table is ``python benches/detector_eval.py``."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import lobkit
from lobkit.scenario_families import FAMILIES, FRESH, HELD_OUT, TUNING, family_scenario

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("detector_eval", ROOT / "benches" / "detector_eval.py")
assert _spec and _spec.loader
detector_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(detector_eval)


def test_families_are_disjoint_and_deterministic():
    groups = [set(TUNING), set(HELD_OUT), set(FRESH)]
    assert sum(map(len, groups)) == len(set().union(*groups))  # no family in two groups
    assert set().union(*groups) <= set(FAMILIES)
    a = family_scenario("thin", 3, seconds=60, episodes=1)
    b = family_scenario("thin", 3, seconds=60, episodes=1)
    for x, y in zip(a, b):
        assert (x == y).all()
    c = family_scenario("thin", 4, seconds=60, episodes=1)
    assert len(c[0]) != len(a[0]) or (c[0] != a[0]).any()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_replays_and_its_labels_name_real_orders(family):
    ev, labels, orders = family_scenario(family, 0, seconds=60, episodes=1)
    res = lobkit.replay(ev, depth=0)  # a valid L3 stream: nothing skipped, no error
    assert len(res) == len(ev) and (np.diff(ev["ts"]) >= 0).all()
    kinds = set(labels["kind"])
    assert {"spoofing", "layering", "control_cluster", "control_big_rest"} <= kinds
    adds = ev[ev["kind"] == lobkit.Kind.ADD]
    assert np.isin(orders["order_id"], adds["order_id"]).all()
    # each labelled order is pulled (a cancel), and inside its episode's time span
    dels = ev[ev["kind"] == lobkit.Kind.DELETE]
    assert np.isin(orders["order_id"], dels["order_id"]).all()
    for o in orders:
        t = dels["ts"][dels["order_id"] == o["order_id"]][0]
        lab = labels[o["episode"]]
        assert lab["kind"] == o["kind"] and lab["t0"] <= t <= lab["t1"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown family"):
        family_scenario("nope")
    with pytest.raises(ValueError, match="seconds"):
        family_scenario("thin", seconds=1e9)


def assert_spoofing_and_layering_floor(man, episodes):
    """The issue's bar on families nobody tuned on: the expected number of
    spoofing + layering episodes, recall >= 0.8, precision >= 0.9 and no
    alert on a look-alike control (``man`` from ``detector_eval.run``)."""
    good, alerts, hit, n, on_controls = (int(x) for x in man)
    assert n == episodes, man
    assert hit / n >= 0.8, man
    assert good / alerts >= 0.9, man
    assert on_controls == 0, man


def test_held_out_spoofing_and_layering_stay_above_their_floor():
    """Measured 0.95 / 0.88 on 3 seeds x 10 min (README; 1.00 / 0.94 and no
    alert on a look-alike on the one seed x 5 min here), with room for noise."""
    _, man, _, sw, sw_l2, sw_rule = detector_eval.run(HELD_OUT, 1, 300.0, 4, True)
    assert_spoofing_and_layering_floor(man, episodes=2 * 2 * 4)
    # Sweeps against the generator's record of every market order (thresholds
    # set before any evaluation): L3 fills share a timestamp, so precision is
    # exact; on L2 prints two takers within 1 ms may merge. The rule alone
    # finds most; the alert budget then keeps the strongest.
    good, alerts, named, positives = (int(x) for x in sw_rule)
    assert positives >= 10 and good == alerts and named / positives >= 0.85, sw_rule
    good, alerts, named, positives = (int(x) for x in sw)
    assert good == alerts and 0 < named <= positives, sw
    good, alerts, named, positives = (int(x) for x in sw_l2)
    assert good / alerts >= 0.9 and named > 0, sw_l2


def test_the_second_fresh_family_holds_at_first_look():
    # deep_slow was generated and run once with the rules as they stood
    # (spoofing + layering 1.00 / 0.88 over 3 seeds x 600 s); this keeps a
    # later rule from quietly losing what it found there.
    _, man, *_ = detector_eval.run(("deep_slow",), 2, 300.0, 4, True)
    assert_spoofing_and_layering_floor(man, episodes=2 * 2 * 4)


def test_sweep_ground_truth_is_the_market_orders_own_fills():
    takes = []
    ev, _, _ = family_scenario("busy", 1, seconds=60, episodes=1, takes=takes)
    tk = takes[0]
    assert len(tk) > 20 and (tk["levels"] >= 3).any()
    ex = ev[ev["kind"] == lobkit.Kind.EXECUTE]
    for t in tk[:200]:
        fills = ex[(ex["ts"] == t["ts"]) & (ex["side"] == -t["side"])]
        assert len(np.unique(fills["price"])) == t["levels"]
        assert int(fills["size"].sum()) == t["size"]


def test_to_l2_is_the_same_book_as_a_level_feed():
    from lobkit.scenario_families import to_l2

    ev, _, _ = family_scenario("busy", 1, seconds=30, episodes=1)
    l2 = to_l2(ev)
    a = lobkit.replay(ev, depth=10)
    b = lobkit.replay(l2, depth=10)
    book = l2["kind"] == lobkit.Kind.SET_LEVEL
    assert book.sum() == len(ev)
    for col in ("bid_price", "bid_size", "ask_price", "ask_size"):
        assert (getattr(a, col) == getattr(b, col)[book]).all(), col
    prints = l2[l2["kind"] == lobkit.Kind.TRADE]
    ex = ev[ev["kind"] == lobkit.Kind.EXECUTE]
    assert (prints["size"] == ex["size"]).all() and (prints["price"] == ex["price"]).all()
    with pytest.raises(ValueError, match="ADD, DELETE, EXECUTE and LIQUIDATION"):
        to_l2(l2)


def test_held_out_absorption_finds_the_defended_levels_and_not_the_look_alikes():
    """Thresholds chosen on the tuning families (1.00 / 0.92 there); held out,
    3 seeds x 15 min: 1.00 / 1.00 (README). One seed here, L3 and L2 forms
    alike: every alert names a defended level, none falls on a level that
    gave way or on one large order that showed all it had."""
    ab = detector_eval.absorption(HELD_OUT, 1)
    for form, (good, alerts, hit, episodes, on_controls, hours) in ab.items():
        assert episodes == 2 * 4, (form, ab)
        assert alerts > 0 and good == alerts, (form, ab)
        assert hit / episodes >= 0.75, (form, ab)
        assert on_controls == 0, (form, ab)


def test_absorption_scenarios_plant_what_they_say():
    from lobkit.flow_families import ABSORPTION, flow_scenario

    ev, lab = flow_scenario("thin", 0, seconds=300, episodes=2, kinds=ABSORPTION)
    assert sorted(lab["kind"].tolist()) == sorted(ABSORPTION * 2)
    for e in lab[lab["kind"] == "absorption"]:
        # the defended level traded many times what the defender showed, and
        # most of what the defending side traded went at that one price
        x = ev[(ev["ts"] >= e["t0"]) & (ev["ts"] <= e["t1"]) & (ev["kind"] == lobkit.Kind.EXECUTE)
               & (ev["side"] == e["side"])]
        prices, vol = np.unique(x["price"], return_inverse=True)
        top = np.bincount(vol, weights=x["size"]).max()
        assert e["intensity"] >= 4 and top >= 0.6 * x["size"].sum(), e
    with pytest.raises(ValueError, match="kinds"):
        flow_scenario("thin", 0, kinds=("absorption", "nope"))
