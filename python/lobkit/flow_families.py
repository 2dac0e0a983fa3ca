"""Labelled order-flow scenarios: delta divergences and liquidation cascades
(and, with ``kinds=ABSORPTION``, absorption at a defended level), with honest
look-alikes, in the markets of :mod:`lobkit.scenario_families`.

Every episode is built from what moves a real price — market orders that
eat the book, passive orders that step up or are pulled — inside the
family's background flow (whose market orders move the price too, so
price and delta agree in the background as they do on real data):

- ``divergence`` (label side −u for a move in direction u, as the
  detector reports it): price moves u on buying by 0.6–1.2x its range of
  the last two minutes (a swing extreme), gives back 50–80% of that, then
  passes the extreme while the aggressive flow is net the *other* way — passive orders step up behind the touch, the side ahead is
  pulled, and sellers (for u = +1) hit the bids all the way up;
- ``control_trend``: the same three legs with the last one made by
  aggressive flow in the direction of the move, 1.5–3x as heavy as the
  pullback's (delta confirms the new extreme);
- ``cascade`` (side = the aggressor): 4–10 market orders of one direction,
  the first walking 3–5 price levels and worth 2–6 s of the background's
  traded volume, each 1.1–1.6x the last's size,
  1–5 s apart at first and 10–40% closer each time, while 20–60% of the
  depth they hit is pulled after each; on a feed with a liquidation stream, most of them
  come with a venue ``LIQUIDATION`` notice;
- ``control_momentum``: 4–10 same-direction market orders of constant or
  shrinking size (0.7–1x each time), 1–5 s apart, with the depth they took
  re-posted behind them;
- ``control_two_way``: growing market orders alternating in direction;
- ``control_big_sweep``: one market order of 10–30x typical.

Half the scenarios carry a liquidation stream: background notices arrive
every 20–120 s in either direction, so a rule cannot just ask "was there a
liquidation". Families, seeds and the tuning / held-out split are those of
:mod:`lobkit.scenario_families`. Units: ticks, lots, ns. Deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._events import make_events
from ._kinds import Kind
from .scenario_families import FAMILIES, FamilyMarket, uniform
from .scenarios import LABEL_DTYPE

EPISODES = ("divergence", "cascade")
CONTROLS = ("control_trend", "control_momentum", "control_two_way", "control_big_sweep")
#: The absorption scenarios' episode and look-alikes (``kinds=ABSORPTION``).
ABSORPTION = ("absorption", "control_breakthrough", "control_big_taken")


def flow_scenario(family: str, seed: int = 0, *, seconds: float = 900.0, episodes: int = 4,
                  liquidation_stream: bool | None = None,
                  kinds: tuple[str, ...] | None = None,
                  ) -> tuple[NDArray[np.void], NDArray[np.void]]:
    """Events (L3 :data:`~lobkit.EVENT_DTYPE`, with ``LIQUIDATION`` notices
    when the scenario has a liquidation stream; :func:`lobkit.scenario_families.to_l2`
    gives the price-level form) and labels (:data:`~lobkit.scenarios.LABEL_DTYPE`;
    ``intensity``: the net signed volume (lots) of a divergence's last leg,
    a cascade's growth factor per market order). ``liquidation_stream``: None draws it (even
    odds). ``kinds``: the episodes and controls planted (default
    :data:`EPISODES` + :data:`CONTROLS`; :data:`ABSORPTION` for the
    absorption scenarios: ``absorption`` — takers of one direction hit a
    defended level for 2–8 s at 3–8x the background's whole pace, each order
    no larger than what the level shows, and the defender re-shows 1–2x
    typical every time it is taken, and for 3–6 s after the burst, so the
    level holds (label side = the defending side, intensity = volume /
    shown); ``control_breakthrough`` —
    the same burst, the defender re-shows at most twice and the takers then
    walk 2–4 levels through it; ``control_big_taken`` — the same burst into
    one visible order holding all of it, no refill)."""
    plan_kinds = EPISODES + CONTROLS if kinds is None else tuple(kinds)
    known = EPISODES + CONTROLS + ABSORPTION
    if any(k not in known for k in plan_kinds) or not plan_kinds:
        raise ValueError(f"kinds={kinds!r}: expected some of {', '.join(known)}")
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {sorted(FAMILIES)}")
    if not 60 <= seconds <= 86_400 or not 1 <= episodes <= 1000:
        raise ValueError("seconds must be within 60..86400 and episodes within 1..1000")
    f = FAMILIES[family]
    rng = np.random.default_rng([seed, sum(map(ord, family)), 17])
    m = FamilyMarket(rng, int(rng.integers(f.typical[0], f.typical[1] + 1)), f.sizes,
                      uniform(rng, f.spread), uniform(rng, f.depth_p),
                      None if f.big_rest_s is None else int(uniform(rng, f.big_rest_s) * 1e9),
                      f.big_at)
    liq = bool(rng.random() < 0.5) if liquidation_stream is None else liquidation_stream
    mean_dt = 1e9 / uniform(rng, f.rate)
    liq_every = uniform(rng, (20.0, 120.0)) * 1e9
    next_liq = [m.t + rng.exponential(liq_every)]

    def notice(aggressor: int, size: int, price: int | None = None) -> None:
        """A venue liquidation notice (resting side = the side it hits), at
        ``price`` or the touch it hits."""
        b = m.best(-aggressor) if price is None else price
        if liq and b is not None:
            m.rows.append((m.t, int(Kind.LIQUIDATION), -aggressor, b, max(1, size), 0))

    def tick() -> None:
        m.background(int(rng.exponential(mean_dt)) + 1)
        if m.t >= next_liq[0]:
            notice(1 if rng.random() < 0.5 else -1, m.size(0.5))
            next_liq[0] = m.t + rng.exponential(liq_every)

    def wait(ns: int) -> None:
        end = m.t + ns
        while m.t + mean_dt < end:
            tick()
        m.t = max(m.t, end)

    def touch(side: int) -> int:
        b = m.best(side)
        return b if b is not None else 10_000

    def book_size(side: int, levels: float) -> int:
        """Lots resting in the best ``levels`` price levels of ``side``
        (a fractional last level counts in part)."""
        prices = sorted(m.levels[side], reverse=side == 1)
        total, left = 0.0, levels
        for p in prices:
            q = sum(m.orders[o][2] for o in m.levels[side][p])
            total += q * min(1.0, left)
            left -= 1.0
            if left <= 0:
                break
        return max(1, int(total))

    def recent_fills(ns: float) -> Iterator[tuple[int, int]]:
        """(price, lots) of the executions of the last ``ns``, newest first."""
        for row in reversed(m.rows):
            if row[0] < m.t - ns:
                break
            if row[1] == Kind.EXECUTE:
                yield row[3], row[4]

    def recent_range(ns: float) -> int:
        """High minus low of the traded prices of the last ``ns``."""
        prices = [p for p, _ in recent_fills(ns)]
        return max(prices) - min(prices) if prices else 0

    # lots per second the background trades (18% of its messages are
    # market orders of ~0.8x typical): an episode's takers trade 0.5–2x that
    # on top, so its flow is a real part of the tape, not noise in it
    bg_lots_s = 0.18 * 0.8 * m.typ * 1e9 / mean_dt

    def leg(u: int, aggressor: int, target: int, passive: bool,
            share: float) -> tuple[int, int]:
        """Moves the touch in direction ``u`` until the traded price passes
        ``target`` (or 300 steps): market orders of ``aggressor``; with
        ``passive``, the ``u`` side steps up behind the touch and the other
        side is pulled (a move made by quotes, not by the takers). Returns
        (extreme traded price, net signed volume). ``share``: the takers'
        volume rate / the background's."""
        ext, net = touch(-u if aggressor == u else u), 0
        for _ in range(300):
            if passive:
                for oid in list(m.levels[-u].get(touch(-u), [])):
                    if oid not in m.protected:
                        m.cancel(oid)
                m.add(u, m.passive_price(u, -1), m.size(uniform(rng, (0.8, 2.0))))
            dt = int(uniform(rng, (80, 400)) * 1e6)
            want = bg_lots_s * share * dt / 1e9
            rest = -aggressor
            p = touch(rest)
            while want > 0:
                q = m.market(aggressor, max(1, min(int(want), m.size(uniform(rng, (0.5, 1.5))))))
                if not q:
                    break
                net += aggressor * q
                want -= q
                if passive:  # the stepped-up side keeps absorbing
                    m.add(u, m.passive_price(u, 0), m.size(uniform(rng, (0.5, 1.5))))
            ext = max(ext, p) if u > 0 else min(ext, p)
            # makers follow the takers: the side behind them steps up until
            # the spread is 1–2 ticks again (a move, not a hole in the book)
            for _ in range(50):
                b, a = m.best(1), m.best(-1)
                if b is None or a is None or a - b <= 2:
                    break
                m.add(aggressor, m.passive_price(aggressor, -1), m.size(uniform(rng, (0.5, 1.5))))
            wait(dt)
            if (ext - target) * u > 0:
                break
        return ext, net

    def traded_per_s(ns: float) -> float:
        """Lots per second the whole market traded over the last ``ns``."""
        return sum(q for _, q in recent_fills(ns)) * 1e9 / ns

    def absorb(kind: str) -> None:
        u = 1 if rng.random() < 0.5 else -1  # the takers' direction
        rest, t0 = -u, m.t
        p = touch(rest)
        span = int(uniform(rng, (2.0, 8.0)) * 1e9)
        # the takers trade what the whole market traded in the last 15–40 s
        want = traded_per_s(120e9) * uniform(rng, (15.0, 40.0))
        show = m.size(uniform(rng, (1.0, 2.0)))
        if kind == "control_big_taken":
            show = max(show, int(want * uniform(rng, (1.0, 1.3))))
        if kind == "absorption":
            refills = 1 << 30
        elif kind == "control_big_taken":
            refills = 0
        else:
            refills = int(rng.integers(0, 3))
        mine: list[int] = []

        def defend() -> bool:
            """Re-shows the level when it was taken (while refills last);
            False once it is gone for good."""
            nonlocal refills
            if m.levels[rest].get(p):
                return True
            if mine:  # a re-show uses a refill; the first showing does not
                if refills <= 0:
                    return False
                refills -= 1
            mine.append(m.add(rest, p, show))
            m.protected.add(mine[-1])
            return True

        defend()
        took, end, gone = 0, m.t + span, False
        while m.t < end and took < want and not gone:
            # one step's share of the burst, in orders no larger than what
            # the level shows (the defended level is hit, not walked)
            dt = int(uniform(rng, (50, 300)) * 1e6)
            need = max(1, int(want * dt / span))
            while need > 0 and not gone:
                if not defend():
                    gone = True
                    break
                at_p = sum(m.orders[o][2] for o in m.levels[rest][p])
                q = m.market(u, min(at_p, need))
                took, need = took + q, need - q
            # the background trades on meanwhile; the defender re-shows
            # whenever it took the level too
            step_end = m.t + dt
            while m.t + mean_dt < step_end and not gone:
                tick()
                gone = not defend()
            m.t = max(m.t, step_end)
        if kind == "control_breakthrough":
            m.market(u, book_size(rest, uniform(rng, (2.0, 4.0))))
        elif kind == "absorption":
            # the takers give up; the defender stays 3–6 s more (the level
            # held), as the background trades on
            stay = m.t + int(uniform(rng, (3.0, 6.0)) * 1e9)
            while m.t + mean_dt < stay:
                tick()
                defend()
        m.protected.difference_update(mine)
        labels.append((kind, t0, m.t, rest if kind == "absorption" else 0,
                       took / max(show, 1)))

    plan = [(k, e) for k in plan_kinds for e in range(episodes)]
    rng.shuffle(plan)
    total = int(seconds * 1e9)
    slots = np.linspace(0.1, 0.93, len(plan)) * total
    labels: list[tuple[Any, ...]] = []
    while m.t < max(0.05 * total, 30e9):  # warm-up: typical sizes, a price range
        tick()
    for slot, (kind, _) in zip(slots, plan):
        while m.t < slot:
            tick()
        m.t += int(uniform(rng, (0.1, 5.0)) * 1e6)
        t0 = m.t
        if kind in ("divergence", "control_trend"):
            u = 1 if rng.random() < 0.5 else -1
            # legs scaled to the market's own price range of the last 2 minutes
            r = recent_range(120e9)
            start = touch(u)
            hi, _ = leg(u, u, start + u * max(6, int(r * uniform(rng, (0.6, 1.2)))), False,
                        uniform(rng, (0.5, 2.0)))
            back = int(abs(hi - start) * uniform(rng, (0.5, 0.8)))
            pull = uniform(rng, (0.5, 2.0))
            leg(-u, -u, hi - u * max(back, 3), False, pull)
            t1 = m.t
            past = hi + u * max(2, int(abs(hi - start) * uniform(rng, (0.1, 0.3))))
            if kind == "divergence":
                _, net = leg(u, -u, past, True, uniform(rng, (0.5, 2.0)))
                labels.append((kind, t1, m.t, -u, float(net)))
            else:
                # takers retake the extreme and more: delta makes the new
                # extreme with price (a heavier leg than the pullback)
                leg(u, u, past, False, pull * uniform(rng, (1.5, 3.0)))
                labels.append((kind, t1, m.t, -u, 0.0))
        elif kind in ("cascade", "control_momentum", "control_two_way"):
            d = 1 if rng.random() < 0.5 else -1
            n = int(rng.integers(4, 11))
            growth = uniform(rng, (1.1, 1.6)) if kind != "control_momentum" else uniform(rng, (0.7, 1.0))
            # the first order walks 3–5 levels and is worth 2–6 s of the
            # market's whole traded volume; later ones grow from there
            size = max(book_size(-d, uniform(rng, (3.0, 5.0))), bg_lots_s * uniform(rng, (2.0, 6.0)))
            gap = uniform(rng, (1.0, 5.0))
            for j in range(n):
                a = d if kind != "control_two_way" else (d if j % 2 == 0 else -d)
                rest = -a
                at = touch(rest)
                took = m.market(a, int(size))
                if kind == "cascade":
                    if rng.random() < 0.8:
                        notice(a, int(took * uniform(rng, (0.3, 1.0))), at)
                    b = touch(rest)
                    near = [o for p, ids in m.levels[rest].items() if abs(p - b) <= 10
                            for o in ids if o not in m.protected]
                    frac = uniform(rng, (0.2, 0.6))
                    for oid in near:
                        if rng.random() < frac:
                            m.cancel(oid)
                    gap *= uniform(rng, (0.6, 0.9))  # forced orders come faster
                elif kind == "control_momentum":
                    # market makers re-post what was taken, a tick or two behind
                    left = took
                    while left > 0:
                        q = min(left, m.size())
                        m.add(rest, m.passive_price(rest, int(rng.integers(0, 3))), q)
                        left -= q
                size *= growth
                wait(int(max(gap, 0.2) * 1e9))
            labels.append((kind, t0, m.t, d if kind == "cascade" else 0,
                           growth if kind == "cascade" else 0.0))
        elif kind in ABSORPTION:
            absorb(kind)
        elif kind == "control_big_sweep":
            d = 1 if rng.random() < 0.5 else -1
            m.market(d, int(m.typ * uniform(rng, (10.0, 30.0))))
            labels.append((kind, t0, m.t, 0, 0.0))
    while m.t < total:
        tick()
    cols = [np.array(c, dtype=np.int64) for c in zip(*m.rows)]
    ev = make_events(ts=cols[0], kind=cols[1], side=cols[2], price=cols[3], size=cols[4],
                     order_id=cols[5])
    return ev, np.array(labels, dtype=LABEL_DTYPE)
