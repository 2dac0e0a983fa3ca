"""Deliberately naive pure-Python books: the oracle for lobkit's Rust books.

Plain dicts and lists, no cleverness: every query sorts from scratch. Same
integer units (ticks, lots) and the same documented policies as the core.
Errors are raised as the lobkit.errors class the core must raise.
"""

from __future__ import annotations

from lobkit import errors

BID, ASK = 1, -1
MAX_QTY = 1 << 52
MAX_PRICE = 1 << 60


def _check_price(p):
    if not (-MAX_PRICE <= p <= MAX_PRICE):
        raise errors.InvalidPriceError("price", None, "price")


def _check_qty(q, positive):
    if q < 0 or (positive and q == 0) or q > MAX_QTY:
        raise errors.InvalidSizeError("size", None, "size")


class RefL2:
    def __init__(self, cross_policy="allow"):
        self.side = {BID: {}, ASK: {}}
        self.cross_policy = cross_policy
        self.crossed = 0

    def best(self, s):
        lv = self.levels(s, 1)
        return lv[0] if lv else None

    def levels(self, s, n=None):
        items = sorted(self.side[s].items(), reverse=(s == BID))
        return items if n is None else items[:n]

    def _crosses(self, s, p):
        o = self.best(-s)
        return o is not None and (p >= o[0] if s == BID else p <= o[0])

    def set(self, s, p, q):
        if s not in (BID, ASK):
            raise errors.InvalidSideError("side", None, "side")
        _check_price(p)
        _check_qty(q, False)
        if q > 0 and self._crosses(s, p):
            if self.cross_policy == "reject":
                raise errors.CrossedBookError("crossed", None, "price")
            self.crossed += 1
        prev_best = self.best(s) or (0, 0)
        prev = self.side[s].get(p, 0)
        if q == 0:
            self.side[s].pop(p, None)
        else:
            self.side[s][p] = q
        new_best = self.best(s) or (0, 0)
        return (s, p, prev, q, *prev_best, *new_best)

    def clear(self, s=None):
        for k in (BID, ASK) if s is None else (s,):
            self.side[k].clear()

    def depth_within(self, s, band):
        b = self.best(s)
        if b is None:
            return 0
        return sum(q for p, q in self.side[s].items() if abs(p - b[0]) <= band)


class RefL3:
    """Orders in a dict, each level a list (FIFO) plus anonymous lots in front."""

    def __init__(self, unknown_id="error", cross_policy="allow"):
        self.orders = {}  # id -> [side, price, qty]
        self.queues = {}  # (side, price) -> [ids]
        self.anon = {}  # (side, price) -> lots
        self.unknown_id = unknown_id
        self.cross_policy = cross_policy
        self.unmatched = 0

    def total(self, s, p):
        k = (s, p)
        return self.anon.get(k, 0) + sum(self.orders[i][2] for i in self.queues.get(k, []))

    def l2(self):
        r = RefL2()
        for (s, p) in set(self.queues) | set(self.anon):
            t = self.total(s, p)
            if t:
                r.side[s][p] = t
        return r

    def _cross_check(self, s, p):
        if self.cross_policy == "reject" and self.l2()._crosses(s, p):
            raise errors.CrossedBookError("crossed", None, "price")

    def add(self, oid, s, p, q):
        if s not in (BID, ASK):
            raise errors.InvalidSideError("side", None, "side")
        _check_price(p)
        _check_qty(q, True)
        if oid in self.orders:
            raise errors.DuplicateOrderError("dup", None, "order_id")
        self._cross_check(s, p)
        self.orders[oid] = [s, p, q]
        self.queues.setdefault((s, p), []).append(oid)

    def _remove(self, oid):
        s, p, _ = self.orders.pop(oid)
        self.queues[(s, p)].remove(oid)

    def _unknown(self, oid, s, p, q):
        if self.unknown_id == "error":
            raise errors.UnknownOrderError("unknown", None, "order_id")
        if self.unknown_id == "skip":
            return
        if s not in (BID, ASK):
            raise errors.InvalidSideError("side", None, "side")
        a = self.anon.get((s, p), 0)
        take = min(a, q)
        self.unmatched += q - take
        self.anon[(s, p)] = a - take

    def cancel(self, oid, q, s=0, p=0):
        _check_qty(q, True)
        if oid not in self.orders:
            return self._unknown(oid, s, p, q)
        o = self.orders[oid]
        if q > o[2]:
            raise errors.OverfillError("overfill", None, "size")
        o[2] -= q
        if o[2] == 0:
            self._remove(oid)

    def execute(self, oid, q, s=0, p=0):
        # An execution names the resting order's side (or 0).
        if s not in (BID, ASK, 0):
            raise errors.InvalidSideError("side", None, "side")
        if oid in self.orders and s != 0 and s != self.orders[oid][0]:
            raise errors.InvalidSideError("side", None, "side")
        self.cancel(oid, q, s, p)

    def delete(self, oid, q=0, s=0, p=0):
        if oid not in self.orders:
            return self._unknown(oid, s, p, q)
        self._remove(oid)

    def modify(self, oid, p, q):
        _check_price(p)
        _check_qty(q, False)
        if oid not in self.orders:
            if self.unknown_id == "error":
                raise errors.UnknownOrderError("unknown", None, "order_id")
            return
        s, op, oq = self.orders[oid]
        if q == 0:
            return self._remove(oid)
        if p == op and q <= oq:
            self.orders[oid][2] = q
            return
        if p != op:
            self._cross_check(s, p)
        self._remove(oid)
        self.orders[oid] = [s, p, q]
        self.queues.setdefault((s, p), []).append(oid)

    def seed(self, s, p, q):
        _check_price(p)
        _check_qty(q, True)
        self._cross_check(s, p)
        self.anon[(s, p)] = self.anon.get((s, p), 0) + q

    def queue_position(self, oid):
        s, p, _ = self.orders[oid]
        ahead = self.anon.get((s, p), 0)
        for i in self.queues[(s, p)]:
            if i == oid:
                return ahead
            ahead += self.orders[i][2]
        raise AssertionError("order not in its queue")
