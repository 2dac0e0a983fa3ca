"""The bad-input matrix of the streaming methods (issue 13): every method of
both book classes × every kind of bad argument, asserting the exception
class, its ``.index`` (the book's event count) and ``.field``, and that the
book — levels, counters, flow totals, last change — is exactly as before."""

import math

import pytest

import lobkit
from lobkit import errors

E = errors

# (bad value, exception class, field) per argument kind.
SIDES = [("up", E.InvalidSideError), (0, E.InvalidSideError), (2, E.InvalidSideError),
         (-2, E.InvalidSideError), (None, E.InvalidSideError), (1.5, E.InvalidSideError)]
PRICES = [(math.nan, E.InvalidPriceError), (math.inf, E.InvalidPriceError),
          (-math.inf, E.InvalidPriceError), (100.005, E.InvalidPriceError),
          (1e300, E.InvalidPriceError)]
SIZES = [(-1.0, E.InvalidSizeError), (math.nan, E.InvalidSizeError),
         (math.inf, E.InvalidSizeError), (0.0005, E.InvalidSizeError),
         (1e-20, E.InvalidSizeError), (1e300, E.InvalidSizeError)]
TS = [(5, E.TimestampOrderError)]  # earlier than the book's last event (10)


def _l2():
    b = lobkit.L2Book(tick_size=0.01, lot_size=0.001)
    b.update("bid", 100.0, 1.0, ts=5)
    b.update("ask", 100.02, 2.0, ts=10)
    return b


def _l3():
    b = lobkit.L3Book(tick_size=0.01, lot_size=0.001)
    b.add(1, "bid", 100.0, 1.0, ts=5)
    b.add(2, "ask", 100.02, 2.0, ts=10)
    return b


def _state(b):
    return (b.events, b.last_ts, b.ofi_total, b.ofi_msg_total,
            b.last_change.as_tuple() if b.last_change else None,
            b.bids(100, ticks=True).tolist(), b.asks(100, ticks=True).tolist(),
            getattr(b, "n_orders", None))


def _cases():
    """(id, book factory, call(book, bad), bad values with their class, field)."""
    L2, L3 = _l2, _l3
    c = []
    for v, cls in SIDES:
        c.append(("l2.update side", L2, lambda b, v: b.update(v, 100.0, 1.0), v, cls, "side"))
        c.append(("l3.add side", L3, lambda b, v: b.add(9, v, 100.0, 1.0), v, cls, "side"))
        c.append(("l3.seed side", L3, lambda b, v: b.seed(v, 100.0, 1.0), v, cls, "side"))
        if v is not None and not isinstance(v, float):
            c.append(("l2.update_ticks side", L2,
                      lambda b, v: b.update_ticks(v if isinstance(v, int) else 9, 10000, 1),
                      v, cls, "side"))
    for v, cls in PRICES:
        c.append(("l2.update price", L2, lambda b, v: b.update("bid", v, 1.0), v, cls, "price"))
        c.append(("l3.add price", L3, lambda b, v: b.add(9, "bid", v, 1.0), v, cls, "price"))
        c.append(("l3.modify price", L3, lambda b, v: b.modify(1, v, 1.0), v, cls, "price"))
        c.append(("l3.seed price", L3, lambda b, v: b.seed("bid", v, 1.0), v, cls, "price"))
    for v, cls in SIZES:
        c.append(("l2.update size", L2, lambda b, v: b.update("bid", 100.0, v), v, cls, "size"))
        c.append(("l3.add size", L3, lambda b, v: b.add(9, "bid", 100.0, v), v, cls, "size"))
        c.append(("l3.modify size", L3, lambda b, v: b.modify(1, 100.0, v), v, cls, "size"))
        c.append(("l3.cancel size", L3, lambda b, v: b.cancel(1, v), v, cls, "size"))
        c.append(("l3.execute size", L3, lambda b, v: b.execute(1, v), v, cls, "size"))
    for v, cls in TS:
        c.append(("l2.update ts", L2, lambda b, v: b.update("bid", 99.0, 1.0, ts=v), v, cls, "ts"))
        c.append(("l3.add ts", L3, lambda b, v: b.add(9, "bid", 99.0, 1.0, ts=v), v, cls, "ts"))
        c.append(("l3.cancel ts", L3, lambda b, v: b.cancel(1, ts=v), v, cls, "ts"))
        c.append(("l2.clear ts", L2, lambda b, v: b.clear(ts=v), v, cls, "ts"))
    # Order ids and book rules.
    c += [
        ("l3.add duplicate", L3, lambda b, v: b.add(v, "bid", 99.0, 1.0), 1,
         E.DuplicateOrderError, "order_id"),
        ("l3.cancel unknown", L3, lambda b, v: b.cancel(v), 77, E.UnknownOrderError, "order_id"),
        ("l3.modify unknown", L3, lambda b, v: b.modify(v, 99.0, 1.0), 77, E.UnknownOrderError,
         "order_id"),
        ("l3.execute overfill", L3, lambda b, v: b.execute(1, v), 1.5, E.OverfillError, "size"),
        ("l3.execute other side", L3, lambda b, v: b.execute_ticks(1, 1, v), -1,
         E.InvalidSideError, "side"),
        ("l2.apply_event kind", L2, lambda b, v: b.apply_event(v, 1, 10000, 1), 2,
         E.InvalidKindError, "kind"),
        ("l3.apply_event kind", L3, lambda b, v: b.apply_event(v, 1, 10000, 1, 5), 1,
         E.InvalidKindError, "kind"),
        ("l2.apply_event unknown kind", L2, lambda b, v: b.apply_event(v, 1, 10000, 1), 99,
         E.InvalidKindError, "kind"),
        ("l2.apply_event huge kind", L2, lambda b, v: b.apply_event(v, 1, 10000, 1), 300,
         E.InvalidKindError, "kind"),
        ("l2.apply_event huge side", L2, lambda b, v: b.apply_event(1, v, 10000, 1), 300,
         E.InvalidSideError, "side"),
        ("l3.apply_event negative side", L3, lambda b, v: b.apply_event(2, v, 10000, 1, 9), -300,
         E.InvalidSideError, "side"),
        ("l2.snapshot size", L2, lambda b, v: b.apply_snapshot([(100.0, v)], []), -1.0,
         E.InvalidSizeError, "size"),
        ("l2.snapshot price", L2, lambda b, v: b.apply_snapshot([(v, 1.0)], []), math.nan,
         E.InvalidPriceError, "price"),
        ("l2.trade size", L2, lambda b, v: b.apply_event(7, -1, 10002, v, 0, 20), 0,
         E.InvalidSizeError, "size"),
    ]
    return c


CASES = _cases()


@pytest.mark.parametrize("name,factory,call,value,cls,field", CASES,
                         ids=[f"{c[0]}={c[3]!r}" for c in CASES])
def test_bad_argument(name, factory, call, value, cls, field):
    b = factory()
    before = _state(b)
    with pytest.raises(cls) as e:
        call(b, value)
    assert isinstance(e.value, errors.LobkitError)
    assert e.value.field == field, e.value
    assert e.value.index == 2  # the book's event count when it was refused
    assert _state(b) == before


def test_the_matrix_is_wide():
    assert len(CASES) >= 80
