"""Labelled L3 market scenarios for the detectors (``lobkit.testing.scenario``).

A simple market — Poisson limit orders near the touch, cancels (many far from
the touch), market orders, and a market maker re-quoting both sides — with
injected episodes of each pattern at a chosen intensity, and negative
controls that must *not* alert: market-maker re-quotes, large genuine orders
that get filled, large orders that rest for a long time before a cancel, and
ordinary cancels far from the touch. Units: price ticks (1 tick = one price
step), lots, ns. Deterministic for a seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._events import make_events
from ._kinds import Kind

#: Labelled episodes: kind name, start/end ns, side (0 = book-wide), intensity.
LABEL_DTYPE = np.dtype([("kind", "U20"), ("t0", "<i8"), ("t1", "<i8"), ("side", "i1"),
                        ("intensity", "<f8")])

#: Intensities used by :func:`scenario` per pattern (weak -> strong).
INTENSITIES = {
    "spoofing": (6.0, 10.0, 20.0),        # order size / typical size
    "layering": (3.0, 4.0, 6.0),          # orders in the layer
    "iceberg": (3.0, 5.0, 8.0),           # refills
    "quote_stuffing": (300.0, 600.0, 1200.0),  # messages in 100 ms
    "depth_collapse": (0.6, 0.8, 0.95),   # fraction of near depth pulled
}


class Market:
    """The toy L3 market the scenarios write: FIFO queues per price, Poisson
    background flow (``background``), and the moves an episode makes."""

    def __init__(self, rng: np.random.Generator, mid: int = 10_000, typical: int = 100):
        self.rng = rng
        self.typ = typical
        self.orders: dict[int, list[int]] = {}  # id -> [side, price, size]
        self.levels: dict[int, dict[int, list[int]]] = {1: {}, -1: {}}  # side -> price -> ids FIFO
        self.next_id: int = 1
        self.protected: set[int] = set()  # episode orders the background leaves alone
        self.rows: list[tuple[int, int, int, int, int, int]] = []  # ts, kind, side, price, size, id
        self.t: int = 0
        #: Every market order: (ns, aggressor side, distinct prices it
        #: traded at, lots) — the ground truth for the sweep detector.
        self.takes: list[tuple[int, int, int, int]] = []
        for i in range(1, 11):
            for _ in range(3):
                self.add(1, mid - i, self.size())
                self.add(-1, mid + i, self.size())

    def size(self, mult: float = 1.0) -> int:
        return max(1, int(self.rng.lognormal(np.log(self.typ * mult), 0.35)))

    def best(self, side: int) -> int | None:
        lv = self.levels[side]
        if not lv:
            return None
        return max(lv) if side == 1 else min(lv)

    def add(self, side: int, price: int, size: int) -> int:
        oid = self.next_id
        self.next_id += 1
        self.orders[oid] = [side, price, size]
        self.levels[side].setdefault(price, []).append(oid)
        self.rows.append((self.t, Kind.ADD, side, price, size, oid))
        return oid

    def _drop(self, oid: int) -> None:
        side, price, _ = self.orders.pop(oid)
        q = self.levels[side][price]
        q.remove(oid)
        if not q:
            del self.levels[side][price]

    def cancel(self, oid: int) -> None:
        if oid not in self.orders:
            return
        side, price, size = self.orders[oid]
        self.rows.append((self.t, Kind.DELETE, side, price, size, oid))
        self._drop(oid)

    def market(self, aggressor: int, size: int) -> int:
        """A market order of ``aggressor`` side (1 = buy) eating the other side FIFO."""
        rest = -aggressor
        done = 0
        prices: set[int] = set()
        while size > 0:
            p = self.best(rest)
            if p is None:
                break
            oid = self.levels[rest][p][0]
            q = min(size, self.orders[oid][2])
            self.rows.append((self.t, Kind.EXECUTE, rest, p, q, oid))
            prices.add(p)
            self.orders[oid][2] -= q
            size -= q
            done += q
            if self.orders[oid][2] == 0:
                self._drop(oid)
        if done:
            self.takes.append((self.t, aggressor, len(prices), done))
        return done

    def passive_price(self, side: int, behind: int) -> int:
        b, a = self.best(1), self.best(-1)
        if b is None or a is None:
            mid = b if b is not None else (a if a is not None else 10_000)
            return mid - side * (behind + 1)
        if behind < 0 and a - b > 1:
            return b + 1 if side == 1 else a - 1
        return (b if side == 1 else a) - side * max(behind, 0)

    def cancel_due(self, pending: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Cancels the ``(due ns, order id)`` entries whose time has come; returns the rest."""
        for due, oid in pending:
            if due <= self.t:
                self.cancel(oid)
        return [x for x in pending if x[0] > self.t]

    def stuff(self, nmsg: int) -> None:
        """A quote-stuffing burst: ``nmsg`` messages in 90 ms, tiny orders
        added 2–5 ticks behind the touch and cancelled at once."""
        step = max(1, 90_000_000 // nmsg)
        for _ in range(nmsg // 2):
            s = 1 if self.rng.random() < 0.5 else -1
            oid = self.add(s, self.passive_price(s, int(self.rng.integers(2, 6))),
                           max(1, self.typ // 10))
            self.t += step
            self.cancel(oid)
            self.t += step

    def pull_near_depth(self, frac: float) -> None:
        """A depth collapse: orders within 10 ticks of either touch, in
        random order, cancelled 1–4 ms apart until ``frac`` of that depth is gone."""
        near: list[int] = []
        for s in (1, -1):
            b = self.best(s)
            if b is not None:
                near += [o for p, ids in self.levels[s].items() if abs(p - b) <= 10 for o in ids]
        total = sum(self.orders[o][2] for o in near)
        self.rng.shuffle(near)
        pulled = 0
        for oid in near:
            if pulled >= frac * total:
                break
            pulled += self.orders[oid][2]
            self.t += int(self.rng.integers(1, 5)) * 1_000_000
            self.cancel(oid)

    #: Geometric parameter of a passive order's distance behind the touch.
    depth_p: float = 0.35

    def may_cancel(self, oid: int) -> bool:
        """Whether background flow may cancel ``oid`` now (beyond the
        episode orders in ``protected``, which it never touches)."""
        return True

    def background(self, dt_ns: int) -> None:
        self.t += dt_ns
        u = self.rng.random()
        side = 1 if self.rng.random() < 0.5 else -1
        if u < 0.45 or len(self.orders) < 40:
            behind = int(self.rng.geometric(self.depth_p)) - 1 if self.rng.random() > 0.05 else -1
            self.add(side, self.passive_price(side, behind), self.size())
        elif u < 0.82:
            ids = list(self.orders)
            oid = ids[int(self.rng.integers(len(ids)))]
            if oid not in self.protected and self.may_cancel(oid):
                self.cancel(oid)
        else:
            self.market(side, self.size(0.8))


def scenario(seed: int = 0, *, seconds: float = 300.0, episodes: int = 6,
             rate: float = 200.0,
             intensity: int | None = None) -> tuple[NDArray[np.void], NDArray[np.void]]:
    """Events (:data:`~lobkit.EVENT_DTYPE`, L3) and labels (:data:`LABEL_DTYPE`).

    ``episodes`` of each pattern and of each negative control are spread over
    ``seconds`` of a ``rate`` messages/s background market; ``intensity``
    picks one of :data:`INTENSITIES` (0 weak, 1 medium, 2 strong) for all of
    them, or None to cycle through the three.
    """
    rng = np.random.default_rng(seed)
    m = Market(rng)
    kinds = list(INTENSITIES) + ["control_requote", "control_filled", "control_resting",
                                 "control_far_cancel"]
    plan = [(k, e) for k in kinds for e in range(episodes)]
    rng.shuffle(plan)
    total_ns = int(seconds * 1e9)
    slots = np.linspace(0.05, 0.95, len(plan)) * total_ns
    labels = []
    mean_dt = 1e9 / rate
    # Warm up so the detectors' typical size and baselines settle.
    for _ in range(int(rate * 5)):
        m.background(int(rng.exponential(mean_dt)) + 1)
    pending = []  # (t_due, callable) for multi-step episodes
    for slot, (kind, e) in zip(slots, plan):
        while m.t < slot:
            m.background(int(rng.exponential(mean_dt)) + 1)
        lvl = intensity if intensity is not None else e % 3
        side = 1 if rng.random() < 0.5 else -1
        t0 = m.t
        if kind == "spoofing":
            mult = INTENSITIES[kind][lvl]
            oid = m.add(side, m.passive_price(side, int(rng.integers(0, 2))), int(m.typ * mult))
            m.protected.add(oid)
            for _ in range(int(rng.integers(5, 30))):
                m.background(int(rng.exponential(mean_dt)) + 1)
            m.t += int(rng.integers(10, 100)) * 1_000_000
            m.market(side, m.size(0.5))  # the small genuine order on the other side trades
            m.t += int(rng.integers(50, 400)) * 1_000_000
            m.cancel(oid)
            labels.append((kind, t0, m.t, side, mult))
        elif kind == "layering":
            n = int(INTENSITIES[kind][lvl])
            start = int(rng.integers(1, 3))
            ids = []
            for j in range(n):
                m.t += int(rng.integers(5, 60)) * 1_000_000
                ids.append(m.add(side, m.passive_price(side, start + j), int(m.typ * 3.5)))
                m.protected.add(ids[-1])
            m.t += int(rng.integers(50, 300)) * 1_000_000
            m.market(side, m.size(0.5))  # the other side trades meanwhile
            for oid in ids:
                m.t += int(rng.integers(1, 40)) * 1_000_000
                m.cancel(oid)
            labels.append((kind, t0, m.t, side, n))
        elif kind == "iceberg":
            r = int(INTENSITIES[kind][lvl])
            p = m.passive_price(side, 0)
            oid = m.add(side, p, m.typ)
            for _ in range(r):
                m.t += int(rng.integers(20, 200)) * 1_000_000
                shown = sum(m.orders[o][2] for o in m.levels[side].get(p, []))
                if shown:
                    m.market(-side, shown)  # a buyer/seller takes the whole level
                m.t += int(rng.integers(2, 40)) * 1_000_000
                oid = m.add(side, p, m.typ)  # the hidden reserve shows the next clip
            labels.append((kind, t0, m.t, side, r))
        elif kind == "quote_stuffing":
            nmsg = int(INTENSITIES[kind][lvl])
            m.stuff(nmsg)
            labels.append((kind, t0, m.t, 0, nmsg))
        elif kind == "depth_collapse":
            frac = INTENSITIES[kind][lvl]
            m.pull_near_depth(frac)
            labels.append((kind, t0, m.t, 0, frac))
        elif kind == "control_requote":
            for _ in range(20):
                ids = [m.add(s, m.passive_price(s, 0), m.typ) for s in (1, -1)]
                m.t += int(rng.integers(20, 200)) * 1_000_000
                m.market(side, m.size(0.3))
                for oid in ids:
                    m.cancel(oid)
            labels.append((kind, t0, m.t, 0, 0))
        elif kind == "control_filled":
            oid = m.add(side, m.passive_price(side, 0), int(m.typ * 15))
            m.protected.add(oid)
            m.t += int(rng.integers(50, 300)) * 1_000_000
            best = m.best(side)
            ahead = [] if best is None else m.levels[side].get(best, [])
            # the market order fills the control and everything queued before it
            m.market(-side, int(m.typ * 15) + sum(int(m.orders[o][2]) for o in ahead if o != oid))
            m.t += int(rng.integers(50, 300)) * 1_000_000
            m.cancel(oid)
            labels.append((kind, t0, m.t, side, 0))
        elif kind == "control_resting":
            oid = m.add(side, m.passive_price(side, 1), int(m.typ * 15))
            m.protected.add(oid)
            pending.append((m.t + int(rng.integers(5, 20)) * 1_000_000_000, oid))
            labels.append((kind, t0, t0, side, 0))
        elif kind == "control_far_cancel":
            ids = [m.add(side, m.passive_price(side, 30 + j), int(m.typ * 10)) for j in range(4)]
            m.t += int(rng.integers(100, 500)) * 1_000_000
            for oid in ids:
                m.cancel(oid)
            labels.append((kind, t0, m.t, side, 0))
        pending = m.cancel_due(pending)  # resting controls whose time has come
    while m.t < total_ns:
        m.background(int(rng.exponential(mean_dt)) + 1)
    for _, oid in pending:
        m.cancel(oid)
    cols = [np.array(c, dtype=np.int64) for c in zip(*m.rows)]
    ev = make_events(ts=cols[0], kind=cols[1], side=cols[2], price=cols[3], size=cols[4],
                     order_id=cols[5])
    return ev, np.array(labels, dtype=LABEL_DTYPE)


def evaluate(alerts: NDArray[Any], labels: NDArray[Any], slack_ns: int = 1_000_000_000) -> dict[str, Any]:
    """Precision and recall per detector kind and intensity.

    An alert matches an episode of its kind when its time falls within
    ``[t0, t1 + slack_ns]`` (and the sides agree for one-sided patterns). An
    alert matching no episode is a false positive, wherever it is — including
    on the negative controls. Returns ``{kind: {"precision", "recall",
    "alerts", "episodes", "by_intensity": {level: recall}}}``.
    """
    out = {}
    for kind in INTENSITIES:
        a = alerts[alerts["kind_name"] == kind]
        ep = labels[labels["kind"] == kind]
        hit_ep = np.zeros(len(ep), bool)
        good = 0
        for al in a:
            ok = (ep["t0"] <= al["ts"]) & (al["ts"] <= ep["t1"] + slack_ns)
            ok &= (ep["side"] == 0) | (ep["side"] == al["side"])
            if ok.any():
                good += 1
                hit_ep |= ok
        by = {}
        for lvl in np.unique(ep["intensity"]):
            sel = ep["intensity"] == lvl
            by[float(lvl)] = float(hit_ep[sel].mean())
        out[kind] = {"precision": good / len(a) if len(a) else float("nan"),
                     "recall": float(hit_ep.mean()) if len(ep) else float("nan"),
                     "alerts": len(a), "episodes": len(ep), "by_intensity": by}
    # Alerts of the L3 detectors during negative controls, for the report.
    ctl = labels[np.char.startswith(labels["kind"], "control")]
    fp = 0
    for c in ctl:
        fp += int(((alerts["ts"] >= c["t0"]) & (alerts["ts"] <= c["t1"] + slack_ns)
                   & np.isin(alerts["kind_name"], ["spoofing", "layering"])).sum())
    out["controls"] = {"episodes": len(ctl), "spoof_or_layering_alerts": fp}
    return out
