"""Windowed flow signals, trade classification, VPIN, Kyle's lambda,
depth-normalised and integrated OFI, and Stoikov's micro-price.

Per-event signals (imbalance, OFI, message OFI, signed volume, multi-level
OFI, weighted mid) come out of :func:`lobkit.replay` with ``signals=True`` and
from the streaming books. This module aggregates them:

* :func:`rolling` — exact integer sums over a rolling time window (ns), event
  count or volume clock, O(1) amortised per event (Rust), with its streaming
  twin :class:`Rolling`;
* :func:`trade_flow` — buy/sell volume, trade imbalance and cumulative volume
  delta over a window; :func:`classify_trades` — tick rule / Lee–Ready;
* :func:`vpin` / :class:`Vpin` — VPIN with bulk volume classification;
* :func:`kyle_lambda` — rolling price impact per lot;
* :func:`ofi_bars`, :class:`IntegratedOFI`, :func:`integrated_ofi` — per-bar
  multi-level OFI, its depth-normalised form and the integrated OFI of Cont,
  Cucuringu and Zhang (2023), fitted on past data only;
* :class:`MicroPrice` — Stoikov (2018) micro-price: ``fit`` on history, O(1)
  lookup per event.

Sign convention: positive means buying pressure. Units are in each docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._core import Rolling, Vpin
from ._kinds import Kind
from ._typing import By, TradeSignMethod
from .profile import (
    Footprint,
    LiveFootprint,
    LiveProfile,
    RollingProfile,
    VolumeProfile,
    footprint,
    rolling_profile,
    volume_profile,
)

__all__ = [
    "Footprint",
    "IntegratedOFI",
    "LiveFootprint",
    "LiveProfile",
    "MicroPrice",
    "OfiBars",
    "Rolling",
    "RollingProfile",
    "VolumeProfile",
    "Vpin",
    "VpinResult",
    "band_imbalance",
    "classify_trades",
    "depth_imbalance",
    "footprint",
    "integrated_ofi",
    "kyle_lambda",
    "ofi_bars",
    "rolling",
    "rolling_profile",
    "trade_flow",
    "volume_profile",
    "vpin",
    "weighted_imbalance",
]


def _ints(name: str, a: Any, ndim: int | None = None) -> NDArray[Any]:
    """int64 C-contiguous copy/view of an integer array; floats are refused
    (window sums are exact integers: pass lots / ticks / ns)."""
    arr = np.asarray(a)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name}: expected integers (lots, ticks or ns), got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim}-D, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def rolling(values: Any, ts: Any = None, *, by: By = "events", size: int,
            weight: Any = None) -> tuple[NDArray[Any], NDArray[Any]]:
    """Rolling window sums of integer per-event ``values`` ((n,) or (n, k)).

    ``by='time'``: events with ``ts > t - size`` (``ts`` and ``size`` in ns);
    ``by='events'``: the last ``size`` events; ``by='volume'``: the shortest
    run of latest events whose ``weight`` (lots, e.g. ``abs(signed_volume)``)
    reaches ``size`` — a volume clock, whole events only.

    Returns ``(sums, counts)``: sums with the shape of ``values`` (exact
    int64), and the number of events in each window. O(1) amortised per event.
    """
    v = _ints("values", values)
    one_d = v.ndim == 1
    v2 = np.ascontiguousarray(v.reshape(len(v), -1))
    n = len(v2)
    if by == "time" and ts is None:
        raise ValueError("by='time' needs ts (ns per event)")
    if by == "volume" and weight is None:
        raise ValueError("by='volume' needs weight (lots per event)")
    t = _ints("ts", ts, 1) if ts is not None else np.arange(n, dtype=np.int64)
    w = _ints("weight", weight, 1) if weight is not None else np.zeros(n, np.int64)
    if by == "time" and n > 1 and (np.diff(t) < 0).any():
        i = int(np.argmax(np.diff(t) < 0)) + 1
        raise ValueError(f"ts: event {i} is earlier than event {i - 1}; a time window needs sorted ts")
    sums, counts = _core.rolling_sums(t, w, v2, by=by, size=int(size))
    return (sums[:, 0] if one_d else sums), counts


@dataclass
class TradeFlow:
    """Windowed trade flow (lots). ``imbalance = (buy - sell) / (buy + sell)``
    in [-1, 1] (0 with no trades in the window); ``cvd`` is the cumulative
    volume delta since the first event (not windowed)."""

    buy: NDArray[Any]
    sell: NDArray[Any]
    imbalance: NDArray[Any]
    cvd: NDArray[Any]


def trade_flow(signed_volume: Any, ts: Any = None, *, by: By = "events",
               size: int) -> TradeFlow:
    """Buy volume, sell volume, trade imbalance and CVD from per-event signed
    volume (``ReplayResult.signed_volume``, lots). ``by='volume'`` uses the
    traded volume itself as the clock."""
    sv = _ints("signed_volume", signed_volume, 1)
    buy, sell = np.maximum(sv, 0), np.maximum(-sv, 0)
    sums, _ = rolling(np.stack([buy, sell], axis=1), ts, by=by, size=size,
                      weight=np.abs(sv) if by == "volume" else None)
    b, s = sums[:, 0], sums[:, 1]
    tot = b + s
    with np.errstate(invalid="ignore", divide="ignore"):
        imb = np.where(tot > 0, (b - s) / np.where(tot > 0, tot, 1), 0.0)
    return TradeFlow(buy=b, sell=s, imbalance=imb, cvd=np.cumsum(sv))


def classify_trades(price: Any, bid: Any = None, ask: Any = None, *,
                    has_quote: Any = None, method: TradeSignMethod | None = None) -> NDArray[Any]:
    """Trade signs (int8: +1 buyer-initiated, -1 seller-initiated, 0 unknown).

    ``price``, ``bid``, ``ask``: int64 ticks; ``bid``/``ask`` are the quotes
    prevailing *before* each trade, ``has_quote`` false where a side was empty.
    ``method``: 'lee_ready' (default when quotes are given: above the mid buy,
    below sell, at the mid the tick rule; no 5-second lag) or 'tick' (up-tick
    buy, down-tick sell, zero-tick repeats the last non-zero tick).
    """
    p = _ints("price", price, 1)
    if method is None:
        method = "tick" if bid is None else "lee_ready"
    if method == "lee_ready":
        if bid is None or ask is None:
            raise ValueError("method='lee_ready' needs bid and ask (ticks before each trade)")
        b, a = _ints("bid", bid, 1), _ints("ask", ask, 1)
        q = (np.ones(len(p), bool) if has_quote is None
             else np.ascontiguousarray(has_quote, dtype=bool))
    else:
        b = a = np.zeros(0, np.int64)
        q = np.zeros(0, bool)
    return _core.classify_trades(p, b, a, q, method=method)


@dataclass
class VpinResult:
    """Per trade: ``vpin`` in [0, 1] after it (NaN before ``n_buckets``
    buckets are complete) and ``cdf``, its log-normal CDF rank among earlier
    VPIN values; ``buckets`` completed."""

    vpin: NDArray[Any]
    cdf: NDArray[Any]
    buckets: int


def vpin(ts: Any, price: Any, size: Any, *, bucket_volume: int, n_buckets: int = 50,
         bar_ns: int = 60_000_000_000) -> VpinResult:
    """VPIN (Easley, López de Prado and O'Hara 2012) over a trade stream.

    ``ts`` ns, ``price`` ticks, ``size`` lots, one row per trade. Volume is
    classified by bulk volume classification on ``bar_ns`` time bars (0 = per
    trade): buys = ``V · Φ(ΔP/σ)`` with ``σ`` estimated from *earlier* bars only;
    buckets hold exactly ``bucket_volume`` lots; VPIN averages
    ``|V^S - V^B| / bucket_volume`` over the last ``n_buckets`` buckets. The
    paper's choices: 50 buckets of 1/50 of daily volume, 1-minute bars.
    """
    t, p, s = _ints("ts", ts, 1), _ints("price", price, 1), _ints("size", size, 1)
    v, c, b = _core.vpin(t, p, s, bucket_volume=int(bucket_volume), n_buckets=int(n_buckets),
                         bar_ns=int(bar_ns))
    return VpinResult(vpin=v, cdf=c, buckets=int(b))


def kyle_lambda(events: NDArray[Any], result: Any, *, by: By = "events", size: int) -> NDArray[Any]:
    """Rolling Kyle's lambda: the OLS slope of mid-price changes on signed
    trade volume, trade by trade (Hasbrouck's trade-level form
    ``Δm_j = λ q_j + ε``), in ticks per lot.

    ``q_j`` is trade j's signed volume (``result.signed_volume``, which needs
    ``signals=True``); ``Δm_j`` the change of the mid from just before trade j
    to just before trade j+1. Pair j is known when trade j+1 arrives, so the
    value reported at trade j+1 uses pairs up to j only — no look-ahead.
    Windows (``by``/``size`` as in :func:`rolling`) count pairs, timed at trade
    j+1. Returns one value per trade (int-exact sums, float slope), NaN while
    the window holds fewer than 2 pairs or the volume does not vary.
    """
    if result.signed_volume is None:
        raise ValueError("kyle_lambda needs a replay with signals=True")
    sv = result.signed_volume
    idx = np.flatnonzero(sv)
    n = len(idx)
    out = np.full(n, np.nan)
    if n < 3:
        return out
    ok = (result.best_bid_size > 0) & (result.best_ask_size > 0)
    m2 = np.where(ok, result.best_bid_price + result.best_ask_price, 0)  # 2 x mid, ticks
    # mid just before each trade: the row before the trade's event
    prev = np.maximum(idx - 1, 0)
    m2_before = m2[prev]
    have = ok[prev] & (idx > 0)
    x = sv[idx][:-1]
    y = np.diff(m2_before)  # half ticks
    valid = have[:-1] & have[1:]
    x = np.where(valid, x, 0)
    y = np.where(valid, y, 0)
    vals = np.stack([valid.astype(np.int64), x, y, x * y, x * x], axis=1)
    ts_pairs = events["ts"][idx][1:]
    sums, _ = rolling(vals, ts_pairs, by=by, size=size,
                      weight=np.abs(x) if by == "volume" else None)
    c, sx, sy, sxy, sxx = (sums[:, i].astype(np.float64) for i in range(5))
    den = c * sxx - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where((c >= 2) & (den > 0), (c * sxy - sx * sy) / den / 2.0, np.nan)
    out[1:] = lam
    return out


# --------------------------------------------------------------------------
# Book imbalance columns from a replay's recorded levels


def _ratio(b: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
    tot = b + a
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, (b - a) / np.where(tot > 0, tot, 1), 0.0)


def _levels(result: Any, n: int) -> int:
    if result.depth == 0:
        raise ValueError("needs a replay with depth > 0 (the recorded levels)")
    if not 1 <= n <= result.depth:
        raise ValueError(f"n={n}: must be within 1..{result.depth} (the replay depth)")
    return n


def depth_imbalance(result: Any, n: int) -> NDArray[Any]:
    """Per event ``(Σ qb - Σ qa) / (Σ qb + Σ qa)`` over the best ``n`` levels of
    each side, in [-1, 1] (0 when both are empty); the column form of
    ``book.depth_imbalance(n)``. ``n`` ≤ the replay's ``depth``."""
    n = _levels(result, n)
    return _ratio(result.bid_size[:, :n].sum(1).astype(np.float64),
                  result.ask_size[:, :n].sum(1).astype(np.float64))


def weighted_imbalance(result: Any, n: int, decay: float) -> NDArray[Any]:
    """Per event imbalance with level k (0 = best) weighted ``exp(-decay·k)``;
    the column form of ``book.weighted_imbalance(n, decay)``."""
    n = _levels(result, n)
    w = np.exp(-decay * np.arange(n))
    return _ratio(result.bid_size[:, :n] @ w, result.ask_size[:, :n] @ w)


def band_imbalance(result: Any, band_ticks: int) -> NDArray[Any]:
    """Per event imbalance of the size within ``band_ticks`` of the mid (bids
    ``>= mid - band``, asks ``<= mid + band``); the column form of
    ``book.band_imbalance``, over the replay's recorded levels only — a band
    reaching past the recorded depth sees only those levels. 0 without a mid."""
    if result.depth == 0:
        raise ValueError("needs a replay with depth > 0 (the recorded levels)")
    m2 = (result.best_bid_price + result.best_ask_price)[:, None]  # 2 x mid, exact
    ok = ((result.best_bid_size > 0) & (result.best_ask_size > 0))[:, None]
    bid_in = ok & (result.bid_size > 0) & (2 * result.bid_price >= m2 - 2 * band_ticks)
    ask_in = ok & (result.ask_size > 0) & (2 * result.ask_price <= m2 + 2 * band_ticks)
    return _ratio(np.where(bid_in, result.bid_size, 0).sum(1).astype(np.float64),
                  np.where(ask_in, result.ask_size, 0).sum(1).astype(np.float64))


# --------------------------------------------------------------------------
# Multi-level, depth-normalised and integrated OFI (Cont, Cucuringu, Zhang 2023)


@dataclass
class OfiBars:
    """Per-bar aggregates of a replay. ``start`` bar start (ns); ``ofi``
    (bars, levels) multi-level OFI summed over the bar (lots); ``depth``
    average book depth per level per side over the bar's events, lots
    (``Q = (1/2M) Σ_m (q_b^m + q_a^m)``, averaged over events); ``mid_change``
    mid at the bar's last event minus mid at the previous bar's last event
    (ticks; NaN when a side was empty); ``events`` per bar. Empty bars are
    left out."""

    start: NDArray[Any]
    ofi: NDArray[Any]
    depth: NDArray[Any]
    mid_change: NDArray[Any]
    events: NDArray[Any]

    @property
    def normalized(self) -> NDArray[Any]:
        """Depth-normalised multi-level OFI ``OFI^m / Q`` (dimensionless)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out: NDArray[np.float64] = self.ofi / np.where(self.depth > 0, self.depth,
                                                            np.nan)[:, None]
        return out


def ofi_bars(events: NDArray[Any], result: Any, *, bar_ns: int, levels: int | None = None,
             include_seed: bool = False) -> OfiBars:
    """Aggregates a ``signals=True`` replay (with ``depth >= levels``) into
    time bars of ``bar_ns`` ns aligned to multiples of ``bar_ns``.

    ``include_seed``: the events that open the stream with the book as it
    already stood (the leading run of ``SEED`` events: LOBSTER's opening
    book, a snapshot loaded before the first diff) are not order flow, so by
    default they are left out — their OFI, their event count and their
    depth — and the first bar's mid change is measured from the book they
    built. ``True`` counts them in the first bar as before. ``SEED`` events
    later in the stream (reconciliation corrections) always count."""
    if result.ofi_levels is None or result.depth == 0:
        raise ValueError("ofi_bars needs a replay with signals=True and depth > 0")
    m = result.depth if levels is None else int(levels)
    if not 1 <= m <= result.depth:
        raise ValueError(f"levels={levels}: must be within 1..{result.depth} (the replay depth)")
    if bar_ns < 1:
        raise ValueError(f"bar_ns={bar_ns}: must be >= 1")
    if len(events) != len(result):
        raise ValueError(f"events has {len(events)} rows but the replay {len(result)}: pass the "
                         "events that were replayed")
    ts = events["ts"]
    ok = (result.best_bid_size > 0) & (result.best_ask_size > 0)
    mid = np.where(ok, (result.best_bid_price + result.best_ask_price) / 2.0, np.nan)
    n_seed = 0 if include_seed else _leading(events["kind"], Kind.SEED)
    ts, mid_all, mid = ts[n_seed:], mid, mid[n_seed:]
    if len(ts) == 0:
        z = np.zeros(0, np.int64)
        return OfiBars(z, np.zeros((0, m), np.int64), np.zeros(0), np.zeros(0), z)
    bar = ts // bar_ns
    starts = np.flatnonzero(np.r_[True, bar[1:] != bar[:-1]])
    ofi = np.add.reduceat(result.ofi_levels[n_seed:, :m], starts, axis=0)
    per_event_depth = (result.bid_size[n_seed:, :m].sum(1)
                       + result.ask_size[n_seed:, :m].sum(1)) / (2.0 * m)
    cnt = np.diff(np.r_[starts, len(ts)])
    depth = np.add.reduceat(per_event_depth, starts) / cnt
    last = np.r_[starts[1:] - 1, len(ts) - 1]
    ml = mid[last]
    mid_change = np.diff(np.r_[np.nan, ml])
    # The first bar: from the book the seed built when it was left out and
    # quoted both sides; else (the book before the first event is not in the
    # result) from the first event with both sides quoted.
    fin = np.flatnonzero(np.isfinite(mid))
    if n_seed and np.isfinite(mid_all[n_seed - 1]):
        mid_change[0] = ml[0] - mid_all[n_seed - 1]
    else:
        mid_change[0] = ml[0] - mid[fin[0]] if len(fin) else np.nan
    return OfiBars(start=bar[starts] * bar_ns, ofi=ofi, depth=depth, mid_change=mid_change,
                   events=cnt)


def _leading(values: NDArray[Any], value: int) -> int:
    """How many of ``values`` equal ``value`` before the first that does not."""
    other = np.flatnonzero(values != value)
    return int(other[0]) if len(other) else len(values)


class IntegratedOFI:
    """Integrated OFI (Cont, Cucuringu and Zhang 2023, eq. 6): the projection
    of the multi-level (depth-normalised) OFI vector on its first principal
    component ``w1``, scaled by ``||w1||_1``: ``ofi_I = w1ᵀ ofi / ||w1||_1``.

    ``fit`` estimates ``w1`` from past bars only; ``transform`` applies it to
    other bars. The sign of ``w1`` is fixed so its weights sum to a positive
    number (positive integrated OFI = buying pressure).
    """

    def __init__(self) -> None:
        self.weights_: NDArray[Any] | None = None
        self.explained_: float = float("nan")

    def fit(self, X: Any) -> IntegratedOFI:
        x = np.asarray(X, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"fit: need a (bars >= 2, levels) matrix, got shape {x.shape}")
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) < 2:
            raise ValueError("fit: fewer than 2 finite rows")
        cov = np.cov(x, rowvar=False)
        vals, vecs = np.linalg.eigh(np.atleast_2d(cov))
        w = vecs[:, -1]
        if w.sum() < 0:
            w = -w
        self.weights_ = w / np.abs(w).sum()
        tot = vals.sum()
        self.explained_ = float(vals[-1] / tot) if tot > 0 else float("nan")
        return self

    def transform(self, X: Any) -> NDArray[Any]:
        if self.weights_ is None:
            raise ValueError("IntegratedOFI: call fit() on past data first")
        x = np.asarray(X, dtype=np.float64)
        if x.shape[-1] != len(self.weights_):
            raise ValueError(f"transform: {x.shape[-1]} levels, fitted on {len(self.weights_)}")
        out: NDArray[np.float64] = x @ self.weights_
        return out


def integrated_ofi(X: Any, *, train: int, refit: int = 1) -> NDArray[Any]:
    """Walk-forward integrated OFI: row ``i`` is scored with weights fitted on
    rows ``[j - train, j)`` where ``j <= i`` is the latest refit point (every
    ``refit`` rows) — never on the row itself or anything after it. Rows
    before ``train`` are NaN."""
    x = np.asarray(X, dtype=np.float64)
    if train < 2 or refit < 1:
        raise ValueError(f"train={train} must be >= 2 and refit={refit} >= 1")
    out = np.full(len(x), np.nan)
    model = IntegratedOFI()
    for j in range(train, len(x), refit):
        model.fit(x[j - train:j])
        out[j:j + refit] = model.transform(x[j:j + refit])
    return out


# --------------------------------------------------------------------------
# Stoikov (2018) micro-price


class MicroPrice:
    """Stoikov's micro-price ``P_micro = M + G*(I, S)`` ("The micro-price: a
    high-frequency estimator of future prices", Quantitative Finance 18(12),
    2018): the limit of expected future mids given the imbalance
    ``I = qb / (qb + qa)`` and the spread ``S``.

    Fit (section 3 of the paper): states ``x = (S, I)`` with ``S`` in
    ``1..n_spread`` ticks and ``I`` in ``n_imbalance`` equal buckets; from
    consecutive observations count transitions without a mid change (``Q``),
    mid changes ``K = (-1, -0.5, 0.5, 1)`` ticks (``R1``) and the state after a
    mid change (``R2``), after *symmetrising* the data (each observation is
    also added mirrored: ``I -> 1 - I``, ``ΔM -> -ΔM``), as the paper requires
    so that ``G*`` is antisymmetric and the series converges. Then
    ``G1 = (1 - Q)^{-1} R1 K``, ``B = (1 - Q)^{-1} R2``, ``G* = Σ_i B^i G1``.
    Observations with a larger spread, a larger mid move, or an empty side
    are dropped.

    Lookup is O(1): ``adjustment(imbalance, spread)`` indexes the table.
    ``table_`` is ``(n_spread, n_imbalance)``, in ticks of ``tick`` raw ticks.
    """

    K = np.array([-1.0, -0.5, 0.5, 1.0])

    def __init__(self, table: NDArray[Any], tick: int, counts: int) -> None:
        self.table_: NDArray[np.float64] = np.asarray(table, dtype=np.float64)
        self.tick: int = int(tick)
        self.n_spread: int = self.table_.shape[0]
        self.n_imbalance: int = self.table_.shape[1]
        self.observations_: int = counts

    @classmethod
    def fit(cls, bid: Any, ask: Any, bid_size: Any, ask_size: Any, *, tick: int = 1,
            n_imbalance: int = 10, n_spread: int = 2, step: int = 1,
            max_iter: int = 100) -> MicroPrice:
        """Fits on history. ``bid``/``ask`` in book ticks (e.g.
        ``ReplayResult.best_bid_price``), sizes in lots; ``tick`` = book ticks
        per price tick (LOBSTER's $0.0001 ticks on a $0.01 grid: 100);
        ``step``: use every ``step``-th observation (the paper samples quotes
        at fixed intervals)."""
        if n_imbalance < 2 or n_spread < 1 or step < 1 or tick < 1:
            raise ValueError("need n_imbalance >= 2, n_spread >= 1, step >= 1, tick >= 1")
        b = _ints("bid", bid, 1)[::step]
        a = _ints("ask", ask, 1)[::step]
        qb = _ints("bid_size", bid_size, 1)[::step].astype(np.float64)
        qa = _ints("ask_size", ask_size, 1)[::step].astype(np.float64)
        _, s, i = cls._states(b, a, qb, qa, tick)
        imb = cls._bucket(i, n_imbalance)
        mid2 = b + a  # 2 x mid, raw ticks
        good = (s >= 1) & (s <= n_spread)
        x0, x1 = slice(None, -1), slice(1, None)
        pair = good[x0] & good[x1]
        dm = (mid2[x1] - mid2[x0]) / (2.0 * tick)  # ticks
        pair &= np.isin(dm, [-1.0, -0.5, 0.0, 0.5, 1.0])
        st = ((s - 1) * n_imbalance + imb)
        st_mirror = ((s - 1) * n_imbalance + (n_imbalance - 1 - imb))
        src = np.r_[st[x0][pair], st_mirror[x0][pair]]
        dst = np.r_[st[x1][pair], st_mirror[x1][pair]]
        d = np.r_[dm[pair], -dm[pair]]
        ns = n_spread * n_imbalance
        if len(src) == 0:
            raise ValueError("fit: no usable observation pairs (check tick and n_spread)")
        Q = np.zeros((ns, ns))
        R2 = np.zeros((ns, ns))
        R1 = np.zeros((ns, len(cls.K)))
        still = d == 0
        np.add.at(Q, (src[still], dst[still]), 1)
        np.add.at(R2, (src[~still], dst[~still]), 1)
        kidx = np.searchsorted(cls.K, d[~still])
        np.add.at(R1, (src[~still], kidx), 1)
        tot = Q.sum(1) + R1.sum(1)
        seen = tot > 0
        norm = np.where(seen, tot, 1)[:, None]
        Q, R1, R2 = Q / norm, R1 / norm, R2 / norm
        # States from which no mid change was ever seen, directly or through
        # other states (never observed, or closed loops of still
        # transitions), carry no information: adjustment 0, and their rows
        # are cleared so (1 - Q) stays invertible.
        reach = R1.sum(1) > 0
        while True:
            more = reach | (Q[:, reach].sum(1) > 0)
            if (more == reach).all():
                break
            reach = more
        Q[~reach], R1[~reach], R2[~reach] = 0.0, 0.0, 0.0
        A = np.eye(ns) - Q
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError as e:
            raise ValueError(f"fit: singular (1 - Q): a state never leaves itself ({e})") from None
        G1 = Ainv @ (R1 @ cls.K)
        B = Ainv @ R2
        G = G1.copy()
        term = G1
        for _ in range(max_iter):
            term = B @ term
            G = G + term
            if np.abs(term).max() < 1e-12:
                break
        return cls(G.reshape(n_spread, n_imbalance), tick, len(src))

    @staticmethod
    def _states(bid: NDArray[Any], ask: NDArray[Any], qb: NDArray[Any], qa: NDArray[Any],
                tick: int) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        """(both sides quoted, spread in price steps — 0 when unquoted or off
        the step grid, <= 0 when crossed, so outside every fitted state —,
        imbalance qb/(qb+qa), 0.5 when unquoted)."""
        ok = (qb > 0) & (qa > 0)
        raw = ask - bid
        s = np.where(ok & (raw % tick == 0), raw // tick, 0)
        imb = np.where(ok, qb / np.where(ok, qb + qa, 1), 0.5)
        return ok, s, imb

    @staticmethod
    def _bucket(i: NDArray[Any], n: int) -> NDArray[Any]:
        return np.minimum((np.asarray(i) * n).astype(np.int64), n - 1)

    def adjustment(self, imbalance: Any, spread: Any) -> Any:
        """``G*`` in price ticks for ``imbalance = qb/(qb+qa)`` in [0, 1] and
        ``spread`` in price ticks; NaN outside ``1..n_spread``."""
        s = np.asarray(spread)
        j = self._bucket(np.clip(imbalance, 0.0, 1.0), self.n_imbalance)
        inside = (s >= 1) & (s <= self.n_spread)
        val = self.table_[np.where(inside, s - 1, 0).astype(np.int64), j]
        out = np.where(inside, val, np.nan)
        return float(out) if out.ndim == 0 else out

    def price(self, book: Any) -> float | None:
        """Micro-price of a streaming book (price units) — O(1); None when a
        side is empty, NaN when the spread is outside the fitted range."""
        bb, ba = book.best_bid_ticks, book.best_ask_ticks
        if bb is None or ba is None:
            return None
        qb, qa = book.best_bid_lots, book.best_ask_lots
        spread_raw = ba - bb
        if spread_raw % self.tick:
            return float("nan")
        g = self.adjustment(qb / (qb + qa), spread_raw // self.tick)
        return float((bb + ba) / 2.0 + g * self.tick) * float(book.tick_size)

    def apply(self, result: Any) -> NDArray[Any]:
        """Micro-price after every event of a replay, in price units (NaN
        where a side is empty or the spread is outside the fitted range)."""
        bb, ba = result.best_bid_price, result.best_ask_price
        ok, s, imb = self._states(bb, ba, result.best_bid_size.astype(np.float64),
                                  result.best_ask_size.astype(np.float64), self.tick)
        g = self.adjustment(imb, s)
        out: NDArray[np.float64] = (np.where(ok, (bb + ba) / 2.0 + g * self.tick, np.nan)
                                    * result.tick_size)
        return out
