"""Validation: every 1xxx reject a new order can get, one row each, and what a reject leaves.

The instrument here has tick 5 and lot 10 (reference 100, band 50..150), so off-tick prices
and off-lot quantities exist.
"""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import OrderType, Request, StpMode, TimeInForce
from tests.stubs import (
    BUY,
    SELL,
    accepted,
    buy,
    instrument,
    make_core,
    new_order,
    reject_reason,
    rejects,
    run,
    sell,
    ts_of,
)

T5 = "TST-TICK5"
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
STOP, STOP_LIMIT = OrderType.STOP, OrderType.STOP_LIMIT
GTC, GTD, DAY, IOC, FOK = (
    TimeInForce.GTC,
    TimeInForce.GTD,
    TimeInForce.DAY,
    TimeInForce.IOC,
    TimeInForce.FOK,
)


@pytest.fixture
def core():
    return make_core(instrument(instrument_id=T5, tick_size=5, lot_size=10, reference_price=100))


def order(side=BUY, qty=20, price=100, **kw):
    return new_order(1, side, qty, price, "P1", instrument=T5, **kw)


REJECTS = [
    # (case, order, reason)
    ("qty zero", order(qty=0), Reason.QTY_NOT_LOT_MULTIPLE),
    ("qty negative", order(qty=-10), Reason.QTY_NOT_LOT_MULTIPLE),
    ("qty off lot", order(qty=15), Reason.QTY_NOT_LOT_MULTIPLE),
    ("limit price zero", order(price=0), Reason.INVALID_PRICE),
    ("limit price negative", order(price=-5), Reason.INVALID_PRICE),
    ("market with a price", order(price=100, order_type=MARKET), Reason.INVALID_PRICE),
    ("stop with a price", order(price=100, order_type=STOP, stop_price=120), Reason.INVALID_PRICE),
    ("limit price off tick", order(price=101), Reason.PRICE_OFF_TICK),
    (
        "stop price off tick",
        order(price=0, order_type=STOP, stop_price=121),
        Reason.PRICE_OFF_TICK,
    ),
    ("limit above band", order(price=155), Reason.PRICE_OUTSIDE_BAND),
    ("limit below band", order(side=SELL, price=45), Reason.PRICE_OUTSIDE_BAND),
    (
        "stop price above band",
        order(price=0, order_type=STOP, stop_price=155),
        Reason.PRICE_OUTSIDE_BAND,
    ),
    (
        "stop limit's limit outside band",
        order(price=160, order_type=STOP_LIMIT, stop_price=120),
        Reason.PRICE_OUTSIDE_BAND,
    ),
    (
        "market post only",
        order(price=0, order_type=MARKET, post_only=True),
        Reason.INVALID_ORDER_COMBINATION,
    ),
    (
        "market iceberg",
        order(price=0, order_type=MARKET, display_qty=10),
        Reason.INVALID_ORDER_COMBINATION,
    ),
    ("limit with stop price", order(stop_price=120), Reason.INVALID_ORDER_COMBINATION),
    ("post only IOC", order(post_only=True, tif=IOC), Reason.INVALID_ORDER_COMBINATION),
    ("post only FOK", order(post_only=True, tif=FOK), Reason.INVALID_ORDER_COMBINATION),
    (
        "post only stop limit",
        order(post_only=True, order_type=STOP_LIMIT, stop_price=120),
        Reason.INVALID_ORDER_COMBINATION,
    ),
    ("iceberg IOC", order(display_qty=10, tif=IOC), Reason.INVALID_ORDER_COMBINATION),
    ("iceberg FOK", order(display_qty=10, tif=FOK), Reason.INVALID_ORDER_COMBINATION),
    ("peak equal to qty", order(display_qty=20), Reason.INVALID_DISPLAY_QTY),
    ("peak above qty", order(display_qty=30), Reason.INVALID_DISPLAY_QTY),
    ("peak negative", order(display_qty=-10), Reason.INVALID_DISPLAY_QTY),
    ("peak off lot", order(qty=30, display_qty=5), Reason.INVALID_DISPLAY_QTY),
    ("min qty above qty", order(min_qty=30), Reason.INVALID_MIN_QTY),
    ("min qty negative", order(min_qty=-10), Reason.INVALID_MIN_QTY),
    ("min qty off lot", order(min_qty=5), Reason.INVALID_MIN_QTY),
    ("stop without stop price", order(price=0, order_type=STOP), Reason.INVALID_STOP_PRICE),
    (
        "buy stop at reference",
        order(price=0, order_type=STOP, stop_price=100),
        Reason.INVALID_STOP_PRICE,
    ),
    (
        "buy stop below reference",
        order(price=0, order_type=STOP, stop_price=95),
        Reason.INVALID_STOP_PRICE,
    ),
    (
        "sell stop at reference",
        order(side=SELL, price=0, order_type=STOP, stop_price=100),
        Reason.INVALID_STOP_PRICE,
    ),
    (
        "sell stop limit above reference",
        order(side=SELL, price=90, order_type=STOP_LIMIT, stop_price=105),
        Reason.INVALID_STOP_PRICE,
    ),
    ("GTD without expiry", order(tif=GTD), Reason.INVALID_EXPIRY),
    ("GTD expiring now", order(tif=GTD, expire_ts=ts_of(1)), Reason.INVALID_EXPIRY),
    ("GTD expired", order(tif=GTD, expire_ts=ts_of(1) - 1), Reason.INVALID_EXPIRY),
    ("expiry on GTC", order(tif=GTC, expire_ts=ts_of(9)), Reason.INVALID_EXPIRY),
    ("expiry on DAY", order(tif=DAY, expire_ts=ts_of(9)), Reason.INVALID_EXPIRY),
    (
        "unknown instrument",
        new_order(1, BUY, 20, 100, instrument="NOPE"),
        Reason.UNKNOWN_INSTRUMENT,
    ),
]


@pytest.mark.parametrize(
    ("cmd", "reason"), [row[1:] for row in REJECTS], ids=[row[0] for row in REJECTS]
)
def test_new_order_when_invalid_then_rejected_with_reason(core, cmd, reason):
    # Act
    events = core.apply(cmd, 1, ts_of(1))

    # Assert
    assert len(events) == 1
    (reject,) = events
    assert reject.reason == reason
    assert (reject.seq, reject.ts) == (1, ts_of(1))
    assert (reject.order_id, reject.participant, reject.instrument) == (1, "P1", cmd.instrument)
    assert reject.request == Request.NEW


VALID = [
    ("limit on tick and lot", order()),
    ("limit at band top", order(price=150)),
    ("limit at band bottom", order(side=SELL, price=50)),
    ("iceberg", order(qty=30, display_qty=10)),
    ("min qty equal to qty", order(min_qty=20)),
    ("post only GTC", order(post_only=True)),
    ("post only DAY", order(post_only=True, tif=DAY)),
    ("GTD expiring later", order(tif=GTD, expire_ts=ts_of(1) + 1)),
    ("market IOC", order(price=0, order_type=MARKET, tif=IOC)),
    ("buy stop above reference", order(price=0, order_type=STOP, stop_price=105)),
    ("sell stop below reference", order(side=SELL, price=0, order_type=STOP, stop_price=95)),
    ("stop limit iceberg", order(qty=30, order_type=STOP_LIMIT, stop_price=105, display_qty=10)),
    ("self-trade mode", order(stp=StpMode.DECREMENT)),
]


@pytest.mark.parametrize("cmd", [row[1] for row in VALID], ids=[row[0] for row in VALID])
def test_new_order_when_valid_then_accepted(core, cmd):
    # Act
    events = core.apply(cmd, 1, ts_of(1))

    # Assert
    assert rejects(events) == []
    (accept,) = accepted(events)
    assert (accept.order_id, accept.qty, accept.price) == (1, cmd.qty, cmd.price)
    assert (accept.stop_price, accept.display_qty) == (cmd.stop_price, cmd.display_qty)
    assert (accept.seq, accept.ts) == (1, ts_of(1))


def test_new_order_when_rejected_then_book_and_id_counter_unchanged(core):
    # Arrange
    run(core, new_order(1, SELL, 20, 110, "P1", instrument=T5))
    book = core.book(T5)
    depth_before = (book.depth(BUY), book.depth(SELL))

    # Act
    events = run(core, new_order(2, BUY, 15, 110, "P2", instrument=T5))

    # Assert
    assert reject_reason(events) == Reason.QTY_NOT_LOT_MULTIPLE
    assert (book.depth(BUY), book.depth(SELL)) == depth_before
    assert core.last_order_id == 1
    assert accepted(run(core, new_order(2, BUY, 10, 90, "P2", instrument=T5)))


def test_new_order_when_several_rules_broken_then_root_cause_reported(core):
    # Arrange: off-lot quantity and off-tick price at once; the quantity is checked first

    # Act
    events = core.apply(new_order(1, BUY, 15, 101, instrument=T5), 1, ts_of(1))

    # Assert
    assert reject_reason(events) == Reason.QTY_NOT_LOT_MULTIPLE


def test_buy_stop_when_above_last_trade_but_not_reference_then_judged_by_last_trade(core):
    # Arrange: a trade at 120 moves the stop trigger away from the reference price 100
    run(
        core,
        sell(1, 10, 120, "S", instrument=T5),
        buy(2, 10, 120, "B", instrument=T5),
    )

    # Act
    below_last = run(core, new_order(3, BUY, 10, 0, order_type=STOP, stop_price=110, instrument=T5))
    above_last = run(core, new_order(4, BUY, 10, 0, order_type=STOP, stop_price=125, instrument=T5))

    # Assert
    assert reject_reason(below_last) == Reason.INVALID_STOP_PRICE
    assert accepted(above_last)


def test_stop_types_are_the_highest_order_types():
    # Core._new_order tells a stop type by one comparison (order_type >= STOP)
    assert [t for t in OrderType if t >= OrderType.STOP] == [OrderType.STOP, OrderType.STOP_LIMIT]
