"""Scenario *families* for a held-out evaluation of the detectors.

:func:`lobkit.scenarios.scenario` is the generator the default thresholds
were tuned on; a score on its other seeds is not a held-out result. A
family here is a different market — background rate, size distribution
(log-normal or heavy-tailed Pareto), typical size, book sparsity, a
market maker re-quoting or not — and every episode parameter is drawn
from wide ranges per episode: spoof sizes 6–20x typical 1–3 ticks behind the touch for
0.1–1.5 s; layers of 3–8 orders of 3–8x typical starting 1–4 ticks behind
the touch, placed 10–300 ms apart and resting 0.2–2 s in all; icebergs of
3–8 refills of 0.5–2x clips after 2–80 ms; bursts of 200–1,200 messages in
100 ms; 60–95% of near depth pulled. Honest look-alikes are negatives:
clusters of 1.5–3x orders at distinct prices cancelled within a second,
large orders (4–6x) resting 5–30 s before a cancel, 10–20x orders that get
filled or rest 5–60 s, a market maker re-quoting, cancels far from the
touch.

:data:`TUNING` families may be used to choose thresholds; :data:`HELD_OUT`
families may only be reported (``benches/detector_eval.py``). Units: price
ticks (one tick = one price step), lots, ns. Deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._events import make_events
from .scenarios import LABEL_DTYPE, Market

#: Labelled orders of spoofing and layering episodes: which orders a
#: detector should name (``episode`` indexes the labels array).
ORDER_LABEL_DTYPE = np.dtype([("order_id", "<u8"), ("kind", "U20"), ("episode", "<i8")])


@dataclass(frozen=True)
class Family:
    """A market to generate in: ranges ``(lo, hi)`` drawn per scenario."""

    name: str
    #: Background messages per second.
    rate: tuple[float, float]
    #: Typical order size (lots).
    typical: tuple[int, int]
    #: ``"lognormal"`` (``spread`` = sigma of ln size) or ``"pareto"``
    #: (``spread`` = tail index alpha: smaller is heavier).
    sizes: str
    spread: tuple[float, float]
    #: Geometric parameter of the distance behind the touch of passive
    #: orders (smaller = a sparser, deeper book).
    depth_p: tuple[float, float]
    #: A market maker re-quoting both sides at the touch every so many ms
    #: (None: no market maker).
    mm_ms: tuple[int, int] | None
    #: Background orders of at least ``big_at`` x typical rest at least this long (s)
    #: before an honest cancel; None: they are cancelled like any other —
    #: the "flicker" market, where a large order pulled within a second is
    #: as common as a small one and size and timing cannot tell a spoof.
    big_rest_s: tuple[float, float] | None = (5.0, 30.0)
    #: ... from this multiple of typical on (smaller orders flicker freely).
    big_at: float = 3.0


FAMILIES: dict[str, Family] = {
    "poisson": Family("poisson", (150, 250), (80, 120), "lognormal", (0.3, 0.4), (0.3, 0.4), None),
    "busy": Family("busy", (400, 700), (40, 200), "lognormal", (0.5, 0.7), (0.3, 0.45), (80, 300)),
    "heavy_tail": Family("heavy_tail", (100, 400), (20, 2000), "pareto", (1.6, 2.5), (0.25, 0.4),
                         (50, 500), big_at=2.5),
    "thin": Family("thin", (20, 80), (5, 50), "lognormal", (0.7, 0.9), (0.15, 0.25), None,
                   big_at=4.0),
    "flicker": Family("flicker", (150, 400), (20, 500), "pareto", (1.6, 2.5), (0.25, 0.4),
                      (50, 500), None),
    # A tuning sibling of a crypto-like book (added with fast_mm, after its
    # first result): fast, small, widely spread orders, a quick market maker.
    "quick": Family("quick", (200, 600), (5, 60), "lognormal", (0.6, 0.9), (0.35, 0.5),
                    (30, 120), (3.0, 15.0)),
    # A crypto-like book: fast, small and widely spread orders over a dense
    # book, a market maker re-quoting every 20-60 ms, large orders resting
    # only 2-10 s.
    "fast_mm": Family("fast_mm", (300, 900), (2, 20), "lognormal", (0.8, 1.1), (0.45, 0.6),
                      (20, 60), (2.0, 10.0)),
    # A futures-like book, added later the same day before any rule change:
    # slow (40-150 messages/s), Pareto sizes with a lighter tail than
    # heavy_tail's, a dense book, a slow market maker (every 0.3-1 s), large
    # orders resting 10-60 s and counted large from 3.5x typical.
    "deep_slow": Family("deep_slow", (40, 150), (10, 300), "pareto", (2.2, 3.0), (0.4, 0.55),
                        (300, 1000), (10.0, 60.0), big_at=3.5),
    # Added 2026-12-04 before the depth-collapse span rule was chosen, and
    # only run after it (once): a very fast book of narrowly spread sizes
    # with a market maker re-quoting every 10-40 ms ...
    "hot": Family("hot", (800, 1400), (100, 1000), "lognormal", (0.4, 0.6), (0.3, 0.45),
                  (10, 40), (3.0, 20.0)),
    # ... and a slow, thin book of odd lots (a typical order of 1-10 lots,
    # heavy Pareto tail), no market maker, large orders resting 5-60 s.
    "odd_lot": Family("odd_lot", (10, 40), (1, 10), "pareto", (1.8, 2.6), (0.1, 0.2), None,
                      (5.0, 60.0)),
}
#: Families thresholds may be tuned on.
TUNING = ("poisson", "busy", "quick")
#: Families that are only ever reported.
HELD_OUT = ("heavy_tail", "thin")
#: Held out and added later (2026-12-03), after results on :data:`HELD_OUT`
#: had been seen and the layering rule of the other side trading was chosen:
#: never tuned on, reported once per change, so a number on it is still a
#: first look.
#: ``deep_slow`` was added (2026-12-03, second stop) with the rules unchanged
#: since ``fast_mm``'s second look, and run once.
#: ``hot`` and ``odd_lot`` were added (2026-12-04) before the depth-collapse
#: span rule was chosen on the tuning families, and run once after it.
FRESH = ("fast_mm", "deep_slow", "hot", "odd_lot")
#: Reported on its own: honest large orders flicker like small ones, so no
#: rule on size, distance and timing separates them from spoofs; what a
#: detector can do there is rank (the score) and stay within a budget.
UNIDENTIFIABLE = ("flicker",)

EPISODES = ("spoofing", "layering", "iceberg", "quote_stuffing", "depth_collapse")
CONTROLS = ("control_cluster", "control_big_rest", "control_filled", "control_resting",
            "control_requote", "control_far_cancel")


class FamilyMarket(Market):
    """A family's market: :class:`~lobkit.scenarios.Market` with the
    family's size distribution, book depth and honest large-order rests."""

    def __init__(self, rng: np.random.Generator, typical: int, sizes: str, spread: float,
                 depth_p: float, big_rest_ns: int | None, big_at: float) -> None:
        self._sizes, self._spread = sizes, spread
        self.depth_p: float = depth_p
        self._big_rest_ns, self._big_at = big_rest_ns, big_at
        self._born: dict[int, int] = {}
        super().__init__(rng, typical=typical)

    def add(self, side: int, price: int, size: int) -> int:
        oid = super().add(side, price, size)
        if size >= self._big_at * self.typ:
            self._born[oid] = self.t
        return oid

    def may_cancel(self, oid: int) -> bool:
        """An honest large order rests ``big_rest_ns`` before it may go."""
        born = self._born.get(oid)
        if born is None or self._big_rest_ns is None:
            return True
        if self.t - born < self._big_rest_ns:
            return False
        del self._born[oid]
        return True

    def size(self, mult: float = 1.0) -> int:
        if self._sizes == "pareto":
            # Pareto with its median at typical * mult
            a = self._spread
            x = (self.rng.pareto(a) + 1.0) / 2.0 ** (1.0 / a)
            return max(1, int(self.typ * mult * x))
        return max(1, int(self.rng.lognormal(np.log(self.typ * mult), self._spread)))


def uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    """One draw from ``[r[0], r[1])``."""
    return float(rng.uniform(r[0], r[1]))


#: One market order of a scenario (the sweep detector's ground truth):
#: time (ns), aggressor side, distinct prices it traded at, lots.
TAKE_DTYPE = np.dtype([("ts", "<i8"), ("side", "i1"), ("levels", "<i8"), ("size", "<i8")])


def family_scenario(family: str, seed: int = 0, *, seconds: float = 600.0,
                    episodes: int = 4, takes: list[NDArray[np.void]] | None = None,
                    ) -> tuple[NDArray[np.void], NDArray[np.void], NDArray[np.void]]:
    """Events (L3 :data:`~lobkit.EVENT_DTYPE`), episode labels
    (:data:`~lobkit.scenarios.LABEL_DTYPE`; ``intensity`` holds the drawn
    size ratio, layer count, refills, messages or fraction) and the labelled
    orders of spoofing and layering episodes (:data:`ORDER_LABEL_DTYPE`).

    ``episodes`` of each pattern and each look-alike are spread evenly over
    ``seconds``, in random order. ``takes``: a list that gets one array of
    every market order (:data:`TAKE_DTYPE`), the ground truth of sweeps."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {sorted(FAMILIES)}")
    if not 10 <= seconds <= 86_400 or not 1 <= episodes <= 1000:
        raise ValueError("seconds must be within 10..86400 and episodes within 1..1000")
    f = FAMILIES[family]
    rng = np.random.default_rng([seed, sum(map(ord, family))])
    m = FamilyMarket(rng, int(rng.integers(f.typical[0], f.typical[1] + 1)), f.sizes,
                      uniform(rng, f.spread), uniform(rng, f.depth_p),
                      None if f.big_rest_s is None else int(uniform(rng, f.big_rest_s) * 1e9),
                      f.big_at)
    rate = uniform(rng, f.rate)
    mean_dt = 1e9 / rate
    mm_every = None if f.mm_ms is None else int(rng.integers(*f.mm_ms)) * 1_000_000
    mm_ids: list[int] = []
    next_mm = 0

    def tick(dt: int) -> None:
        nonlocal next_mm, mm_ids
        m.background(dt)
        if mm_every is not None and m.t >= next_mm:
            for oid in mm_ids:
                m.cancel(oid)
            mm_ids = [m.add(s, m.passive_price(s, 0), m.size(1.5)) for s in (1, -1)]
            next_mm = m.t + mm_every

    def wait(ns: int) -> None:
        """Background flow for ``ns`` of market time (episodes happen in a live market)."""
        end = m.t + ns
        while True:
            dt = int(rng.exponential(mean_dt)) + 1
            if m.t + dt >= end:
                m.t = end
                return
            tick(dt)

    plan = [(k, e) for k in EPISODES + CONTROLS for e in range(episodes)]
    rng.shuffle(plan)
    total_ns = int(seconds * 1e9)
    slots = np.linspace(0.08, 0.95, len(plan)) * total_ns
    labels: list[tuple[Any, ...]] = []
    orders: list[tuple[int, str, int]] = []
    pending: list[tuple[int, int]] = []
    while m.t < 0.05 * total_ns or m.t < 5e9:  # warm-up: typical size, baselines
        tick(int(rng.exponential(mean_dt)) + 1)
    for slot, (kind, _) in zip(slots, plan):
        while m.t < slot:
            tick(int(rng.exponential(mean_dt)) + 1)
        # episodes start between background events, not on one's timestamp
        m.t += int(uniform(rng, (0.1, 5.0)) * 1e6)
        side = 1 if rng.random() < 0.5 else -1
        t0 = m.t
        ep = len(labels)
        if kind == "spoofing":
            mult = uniform(rng, (6.0, 20.0))
            # just behind the touch, where it shows size without being hit
            oid = m.add(side, m.passive_price(side, int(rng.integers(1, 4))), int(m.typ * mult))
            m.protected.add(oid)
            life = int(uniform(rng, (0.1, 1.5)) * 1e9)
            wait(life)
            m.market(side, m.size(0.5))  # the spoofer's real order on the other side fills
            wait(int(uniform(rng, (5, 100)) * 1e6))  # ... and the spoof goes right after
            m.cancel(oid)
            labels.append((kind, t0, m.t, side, mult))
            orders.append((oid, kind, ep))
        elif kind == "layering":
            n = int(rng.integers(3, 9))
            mult = uniform(rng, (3.0, 8.0))
            start, spacing = int(rng.integers(1, 5)), int(rng.integers(1, 3))
            rest = int(uniform(rng, (0.2, 2.0)) * 1e9)
            gap = int(uniform(rng, (10, 300)) * 1e6)
            ids = []
            for j in range(n):
                ids.append(m.add(side, m.passive_price(side, start + j * spacing),
                                 int(m.typ * mult)))
                m.protected.add(ids[-1])
                wait(gap)
            wait(max(rest - n * gap, 1))
            m.market(side, m.size(0.5))
            wait(int(uniform(rng, (5, 100)) * 1e6))
            for oid in ids:
                m.cancel(oid)
                wait(int(uniform(rng, (1, 100)) * 1e6))
            labels.append((kind, t0, m.t, side, n))
            orders += [(oid, kind, ep) for oid in ids]
        elif kind == "iceberg":
            r = int(rng.integers(3, 9))
            clip = max(1, int(m.typ * uniform(rng, (0.5, 2.0))))
            p = m.passive_price(side, 0)
            m.add(side, p, clip)
            for _ in range(r):
                wait(int(uniform(rng, (20, 200)) * 1e6))
                shown = sum(m.orders[o][2] for o in m.levels[side].get(p, []))
                if shown:
                    m.market(-side, shown)
                m.t += int(uniform(rng, (2, 80)) * 1e6)
                m.add(side, p, clip)
            labels.append((kind, t0, m.t, side, r))
        elif kind == "quote_stuffing":
            nmsg = int(rng.integers(200, 1201))
            m.stuff(nmsg)
            labels.append((kind, t0, m.t, 0, nmsg))
        elif kind == "depth_collapse":
            frac = uniform(rng, (0.6, 0.95))
            m.pull_near_depth(frac)
            labels.append((kind, t0, m.t, 0, frac))
        elif kind == "control_cluster":
            # an honest trader pulls a few ordinary-to-large orders together
            ids = [m.add(side, m.passive_price(side, 1 + j), int(m.typ * uniform(rng, (1.5, 3.0))))
                   for j in range(int(rng.integers(3, 6)))]
            m.protected.update(ids)
            wait(int(uniform(rng, (0.1, 0.9)) * 1e9))
            for oid in ids:
                m.cancel(oid)
            labels.append((kind, t0, m.t, side, 0))
        elif kind == "control_big_rest":
            ids = [m.add(side, m.passive_price(side, 1 + j), int(m.typ * uniform(rng, (4.0, 6.0))))
                   for j in range(int(rng.integers(3, 6)))]
            m.protected.update(ids)
            due = m.t + int(uniform(rng, (5, 30)) * 1e9)
            pending += [(due, oid) for oid in ids]
            labels.append((kind, t0, due, side, 0))
        elif kind == "control_filled":
            size = int(m.typ * uniform(rng, (10, 20)))
            oid = m.add(side, m.passive_price(side, 0), size)
            m.protected.add(oid)
            wait(int(uniform(rng, (0.05, 0.3)) * 1e9))
            best = m.best(side)
            ahead = [] if best is None else m.levels[side].get(best, [])
            m.market(-side, size + sum(int(m.orders[o][2]) for o in ahead if o != oid))
            m.cancel(oid)
            labels.append((kind, t0, m.t, side, 0))
        elif kind == "control_resting":
            oid = m.add(side, m.passive_price(side, 1), int(m.typ * uniform(rng, (10, 20))))
            m.protected.add(oid)
            due = m.t + int(uniform(rng, (5, 60)) * 1e9)
            pending.append((due, oid))
            labels.append((kind, t0, due, side, 0))
        elif kind == "control_requote":
            for _ in range(20):
                ids = [m.add(s, m.passive_price(s, 0), m.typ) for s in (1, -1)]
                wait(int(uniform(rng, (20, 200)) * 1e6))
                for oid in ids:
                    m.cancel(oid)
            labels.append((kind, t0, m.t, 0, 0))
        elif kind == "control_far_cancel":
            ids = [m.add(side, m.passive_price(side, 30 + j), int(m.typ * 10)) for j in range(4)]
            wait(int(uniform(rng, (0.1, 0.5)) * 1e9))
            for oid in ids:
                m.cancel(oid)
            labels.append((kind, t0, m.t, side, 0))
        pending = m.cancel_due(pending)
    while m.t < total_ns:
        tick(int(rng.exponential(mean_dt)) + 1)
        if pending and pending[0][0] <= m.t:
            pending = m.cancel_due(pending)
    for _, oid in pending:
        m.cancel(oid)
    if takes is not None:
        takes.append(np.array(m.takes, dtype=TAKE_DTYPE))
    cols = [np.array(c, dtype=np.int64) for c in zip(*m.rows)]
    ev = make_events(ts=cols[0], kind=cols[1], side=cols[2], price=cols[3], size=cols[4],
                     order_id=cols[5])
    return (ev, np.array(labels, dtype=LABEL_DTYPE),
            np.array(orders, dtype=ORDER_LABEL_DTYPE))


def to_l2(events: NDArray[np.void]) -> NDArray[np.void]:
    """The same market as a price-level feed: each ADD, DELETE and EXECUTE
    of a scenario becomes a ``SET_LEVEL`` with the level's new size, and an
    EXECUTE is preceded by a ``TRADE`` print at its price (resting side), as
    an L2 venue shows it. For the L2 detectors: a spoof is phantom liquidity
    there, a stack of layers is L2 layering. ``LIQUIDATION`` notices pass
    through unchanged, in place."""
    from ._kinds import Kind

    ev = np.asarray(events)
    liq = ev["kind"] == Kind.LIQUIDATION
    if liq.any():
        book = to_l2(ev[~liq])
        # a notice goes after the rows of the book events before it: one
        # row each, plus a print ahead of each EXECUTE
        n_book = np.cumsum(~liq)[liq]
        n_exec = np.r_[0, np.cumsum(ev["kind"][~liq] == Kind.EXECUTE)][n_book]
        return np.insert(book, n_book + n_exec, ev[liq])
    k = ev["kind"]
    if not np.isin(k, [Kind.ADD, Kind.DELETE, Kind.EXECUTE]).all():
        raise ValueError("to_l2: scenario events hold ADD, DELETE, EXECUTE and LIQUIDATION only")
    delta = np.where(k == Kind.ADD, ev["size"], -ev["size"]).astype(np.int64)
    # the level's size after each event: a running sum per (side, price)
    key = ev["side"].astype(np.int64) * (1 << 40) + ev["price"]
    order = np.argsort(key, kind="stable")
    d = delta[order]
    csum = np.cumsum(d)
    starts = np.r_[True, key[order][1:] != key[order][:-1]]
    base = np.maximum.accumulate(np.where(starts, np.arange(len(d)), 0))
    level = np.empty_like(csum)
    level[order] = csum - np.r_[0, csum][base]
    ex = k == Kind.EXECUTE
    n = len(ev) + int(ex.sum())
    pos = np.arange(len(ev)) + np.cumsum(ex)  # each book event's row; a print goes before
    out = np.zeros(n, ev.dtype)
    out["ts"][pos] = ev["ts"]
    out["kind"][pos] = Kind.SET_LEVEL
    out["side"][pos] = ev["side"]
    out["price"][pos] = ev["price"]
    out["size"][pos] = level
    pr = pos[ex] - 1
    out["ts"][pr] = ev["ts"][ex]
    out["kind"][pr] = Kind.TRADE
    out["side"][pr] = ev["side"][ex]
    out["price"][pr] = ev["price"][ex]
    out["size"][pr] = ev["size"][ex]
    return out
