"""Detector precision and recall on scenario families: the defaults were
chosen on the tuning families (``lobkit.scenario_families.TUNING``); the
held-out families (``HELD_OUT``) are only reported. Also precision and
recall by score threshold, per detector, on each group; and the order-flow
detectors (delta divergence, liquidation cascade) on the labelled flow
scenarios of ``lobkit.flow_families`` in the same families.

    python benches/detector_eval.py [--seeds 3] [--seconds 600] [--json out.json] [--flow-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import lobkit
from lobkit.flow_families import ABSORPTION, flow_scenario
from lobkit.scenario_families import FRESH, HELD_OUT, TUNING, UNIDENTIFIABLE, family_scenario, to_l2
from lobkit.scenarios import INTENSITIES, evaluate

KINDS = tuple(INTENSITIES)
THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 0.9)


MANIPULATION = ("spoofing", "layering")


def manipulation(a, labels, kinds=MANIPULATION):
    """Spoofing and layering as one question — was a manipulative order
    pulled here? — because a layer of 6x typical is also a spoof to the
    spoofing detector: [good alerts, alerts, episodes hit, episodes, alerts
    on look-alike controls]. ``kinds``: the alert kinds that answer it (on
    the L2 form of a scenario: phantom and layering)."""
    a = a[np.isin(a["kind_name"], kinds)]
    ep = labels[np.isin(labels["kind"], MANIPULATION)]
    ctl = labels[np.char.startswith(labels["kind"], "control")]
    hit = np.zeros(len(ep), bool)
    good = on_controls = 0
    for al in a:
        ok = (ep["t0"] <= al["ts"]) & (al["ts"] <= ep["t1"] + 10**9) & (ep["side"] == al["side"])
        if ok.any():
            good += 1
            hit |= ok
        elif ((ctl["t0"] <= al["ts"]) & (al["ts"] <= ctl["t1"] + 10**9)
              & ((ctl["side"] == 0) | (ctl["side"] == al["side"]))).any():
            on_controls += 1
    return np.array([good, len(a), int(hit.sum()), len(ep), on_controls])


def sweeps(a, takes, min_levels=3):
    """The sweep detector against the generator's own record of every
    market order: [alerts naming a market order that traded at
    ``min_levels`` or more prices (same time, same aggressor), alerts, such
    orders named, such orders]."""
    pos = takes[takes["levels"] >= min_levels]
    keys = set(zip(pos["ts"].tolist(), pos["side"].tolist()))
    a = a[a["kind_name"] == "sweep"]
    named = {(int(x["ts"]), int(x["side"])) for x in a}
    good = sum((int(x["ts"]), int(x["side"])) in keys for x in a)
    return np.array([good, len(a), len(named & keys), len(pos)])


def run(families, seeds, seconds, episodes, detect):
    """Per detector and score threshold: [good alerts, alerts, episodes hit,
    episodes]; and the spoofing + layering totals of :func:`manipulation`."""
    tot = {k: {t: [0, 0, 0, 0] for t in THRESHOLDS} for k in KINDS}
    man = np.zeros(5, np.int64)
    man_l2 = np.zeros(5, np.int64)
    sw = np.zeros(4, np.int64)
    sw_l2 = np.zeros(4, np.int64)
    sw_rule = np.zeros(4, np.int64)
    for fam in families:
        for seed in range(seeds):
            takes = []
            ev, labels, _ = family_scenario(fam, seed, seconds=seconds, episodes=episodes,
                                            takes=takes)
            a = lobkit.replay(ev, depth=0, detect=detect).alerts
            man += manipulation(a, labels)
            sw += sweeps(a, takes[0])
            # the same market as an L2 feed: spoofs are phantom liquidity there
            a2 = lobkit.replay(to_l2(ev), depth=0, detect=detect).alerts
            man_l2 += manipulation(a2, labels, ("phantom", "layering"))
            sw_l2 += sweeps(a2, takes[0])
            # the rule alone: no alert budget (busy scenarios take more than
            # 120 multi-level orders an hour, and the budget keeps the strongest)
            rule = {"alert_budget_per_hour": 0, **{k: k == "sweep" for k in lobkit.detect.DETECTORS}}
            sw_rule += sweeps(lobkit.replay(ev, depth=0, detect=rule).alerts, takes[0])
            for t in THRESHOLDS:
                res = evaluate(a[a["score"] >= t], labels)
                for k in KINDS:
                    r = res[k]
                    x = tot[k][t]
                    x[0] += round(r["precision"] * r["alerts"]) if r["alerts"] else 0
                    x[1] += r["alerts"]
                    x[2] += round(r["recall"] * r["episodes"])
                    x[3] += r["episodes"]
    return tot, man, man_l2, sw, sw_l2, sw_rule


FLOW = (("delta_divergence", "divergence"), ("liquidation_cascade", "cascade"))


def named(alerts, ep, ctl, before_ns, after_ns):
    """[alerts naming an episode (within ``before_ns`` before its window to
    ``after_ns`` after it, on its side), alerts, episodes found, episodes,
    alerts within a look-alike's window (+ ``after_ns``)]."""
    hit = np.zeros(len(ep), bool)
    good = on_ctl = 0
    for al in alerts:
        ok = ((ep["t0"] - before_ns <= al["ts"]) & (al["ts"] <= ep["t1"] + after_ns)
              & (ep["side"] == al["side"]))
        if ok.any():
            good += 1
            hit |= ok
        elif ((ctl["t0"] <= al["ts"]) & (al["ts"] <= ctl["t1"] + after_ns)).any():
            on_ctl += 1
    return [good, len(alerts), int(hit.sum()), len(ep), on_ctl]


def flow(families, seeds, slack_ns=2_000_000_000):
    """The order-flow detectors on flow scenarios, as L2 feeds at default
    settings: per detector [alerts naming an episode (its window ± 2 s, its
    side), alerts, episodes found, episodes, alerts within a look-alike]."""
    only = {k: k in dict(FLOW) for k in lobkit.detect.DETECTORS}
    tot = {k: np.zeros(5, np.int64) for k, _ in FLOW}
    for fam in families:
        for seed in range(seeds):
            ev, labels = flow_scenario(fam, seed)
            a = lobkit.replay(to_l2(ev), depth=0, detect=only).alerts
            ctl = labels[np.char.startswith(labels["kind"], "control")]
            for kind, ep_kind in FLOW:
                tot[kind] += named(a[a["kind_name"] == kind], labels[labels["kind"] == ep_kind],
                                   ctl, slack_ns, slack_ns)
    return tot


def absorption(families, seeds, slack_ns=3_000_000_000):
    """The absorption detector on the absorption scenarios of
    ``lobkit.flow_families`` (``kinds=ABSORPTION``), as L3 and as L2 feeds,
    at default settings: per form [alerts naming an episode (its window + 3
    s, its defending side), alerts, episodes found, episodes, alerts within
    a look-alike, hours]."""
    only = {k: k == "absorption" for k in lobkit.detect.DETECTORS}
    tot = {form: np.zeros(6, np.float64) for form in ("L3", "L2")}
    for fam in families:
        for seed in range(seeds):
            ev, labels = flow_scenario(fam, seed, kinds=ABSORPTION)
            ep = labels[labels["kind"] == "absorption"]
            ctl = labels[np.char.startswith(labels["kind"], "control")]
            hours = (int(ev["ts"][-1]) - int(ev["ts"][0])) / 3.6e12
            for form, e in (("L3", ev), ("L2", to_l2(ev))):
                a = lobkit.replay(e, depth=0, detect=only).alerts
                a = a[a["kind_name"] == "absorption"]
                tot[form] += named(a, ep, ctl, 0, slack_ns) + [hours]
    return tot


def table(tot):
    rows = []
    for k in KINDS:
        cells = []
        for t in THRESHOLDS:
            g, n, h, e = tot[k][t]
            p = g / n if n else float("nan")
            cells.append(f"{p:.2f} / {h / e:.2f}" if e else "—")
        rows.append(f"| {k} | " + " | ".join(cells) + " |")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--json", default=None)
    ap.add_argument("--flow-only", action="store_true",
                    help="only the order-flow detectors on the flow scenarios")
    ap.add_argument("--groups", default="tuning,held-out,fresh,unidentifiable",
                    help="which family groups to run (comma-separated): tuning, held-out, "
                         "fresh (held out, added later), unidentifiable")
    ap.add_argument("--families", default=None,
                    help="only these families (comma-separated) of the chosen groups, e.g. "
                         "a fresh family on its own")
    a = ap.parse_args(argv)
    want = set(a.groups.split(","))
    groups = {"tuning": TUNING, "held-out": HELD_OUT, "fresh": FRESH,
              "unidentifiable": UNIDENTIFIABLE}
    if want - set(groups):
        ap.error(f"--groups: unknown {sorted(want - set(groups))}; known: {sorted(groups)}")
    if a.families is not None:
        only = set(a.families.split(","))
        known = {f for fams in groups.values() for f in fams}
        if only - known:
            ap.error(f"--families: unknown {sorted(only - known)}; known: {sorted(known)}")
        groups = {g: tuple(f for f in fams if f in only) for g, fams in groups.items()}

    def chosen(*names):
        return [(g, groups[g]) for g in names if g in want and groups[g]]

    out = {}
    for group, fams in chosen("tuning", "held-out", "fresh"):
        t = time.perf_counter()
        ab = absorption(fams, a.seeds)
        out.setdefault(group, {})["absorption"] = {k: [float(x) for x in v] for k, v in ab.items()}
        print(f"\n{group} families {', '.join(fams)}: absorption on the absorption scenarios "
              f"({a.seeds} seeds x 900 s, 4 episodes and 8 look-alikes each, defaults; "
              f"{time.perf_counter() - t:.0f} s)")
        for form, (g, n, h, e, c, hours) in ab.items():
            print(f"absorption ({form}): precision {g / max(n, 1):.2f}, recall {h / max(e, 1):.2f} "
                  f"({int(n)} alerts, {n / hours:.0f} an hour; {int(e)} episodes; "
                  f"{int(c)} alerts on look-alikes)")
    for group, fams in chosen("tuning", "held-out", "fresh", "unidentifiable"):
        t = time.perf_counter()
        ft = flow(fams, a.seeds)
        out.setdefault(group, {})["flow"] = {k: [int(x) for x in v] for k, v in ft.items()}
        print(f"\n{group} families {', '.join(fams)}: order-flow detectors on the flow scenarios "
              f"({a.seeds} seeds x 900 s, 4 episodes of each kind, L2 feeds, defaults; "
              f"{time.perf_counter() - t:.0f} s)")
        for k, (g, n, h, e, c) in ft.items():
            print(f"{k}: precision {g / max(n, 1):.2f}, recall {h / max(e, 1):.2f} "
                  f"({n} alerts, {e} episodes, {c} alerts on look-alikes)")
    for group, fams in chosen("tuning", "held-out", "fresh", "unidentifiable"):
        if a.flow_only:
            break
        t = time.perf_counter()
        tot, man, man_l2, sw, sw_l2, sw_rule = run(fams, a.seeds, a.seconds, a.episodes, True)
        g, n, h, e, c = (int(x) for x in man)
        g2, n2, h2, e2, c2 = (int(x) for x in man_l2)
        out.setdefault(group, {})
        out[group] |= {"families": list(fams), "by_threshold": {
            k: {str(th): tot[k][th] for th in THRESHOLDS} for k in KINDS},
            "manipulation": {"precision": g / n if n else None, "recall": h / e,
                             "alerts": n, "episodes": e, "alerts_on_controls": c},
            "l2_phantom_layering": {"precision": g2 / n2 if n2 else None, "recall": h2 / e2,
                                    "alerts": n2, "episodes": e2, "alerts_on_controls": c2},
            "sweep": {"l3": [int(x) for x in sw], "l2": [int(x) for x in sw_l2],
                      "l3_no_budget": [int(x) for x in sw_rule]}}
        print(f"\n{group} families {', '.join(fams)} ({a.seeds} seeds x {a.seconds:g} s, "
              f"{a.episodes} episodes of each kind; {time.perf_counter() - t:.0f} s, defaults)")
        print(f"spoofing + layering: precision {g / max(n, 1):.2f}, recall {h / e:.2f} "
              f"({n} alerts, {e} episodes, {c} alerts on look-alike controls)")
        print(f"the same markets as L2 feeds, phantom + layering: precision "
              f"{g2 / max(n2, 1):.2f}, recall {h2 / e2:.2f} ({n2} alerts, {c2} on controls)")
        for form, (g3, n3, f3, p3) in (("L3", sw), ("L2", sw_l2), ("L3, no alert budget", sw_rule)):
            print(f"sweep ({form}): precision {g3 / max(n3, 1):.2f}, recall {f3 / max(p3, 1):.2f} "
                  f"({n3} alerts; {p3} market orders that traded at >= 3 prices)")
        print("per detector, precision / recall of the alerts scoring >= threshold:")
        print("| detector | " + " | ".join(f">= {t:g}" for t in THRESHOLDS) + " |")
        print("|---|" + "---:|" * len(THRESHOLDS))
        print("\n".join(table(tot)))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
