"""Amends: the quantity is the new TOTAL (filled included); a decrease at the same price keeps
time priority, a price change or an increase loses it, and a crossing price trades."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import Request
from tests.stubs import (
    BUY,
    IID,
    SELL,
    amend,
    amends,
    buy,
    done_of,
    fills,
    instrument,
    level_changes,
    make_core,
    reject_reason,
    rejects,
    resting_ids,
    run,
    sell,
    stop,
    trades,
    triggered,
)


@pytest.fixture
def core():
    return make_core()


def test_amend_when_qty_lowered_at_same_price_then_keeps_priority(core):
    # Arrange
    run(core, buy(1, 10, 99, "A"), buy(2, 5, 99, "B"))

    # Act
    events = run(core, amend(1, 6, 99, "A"))

    # Assert
    (changed,) = amends(events)
    assert (changed.order_id, changed.price, changed.leaves_qty, changed.kept_priority) == (
        1,
        99,
        6,
        True,
    )
    assert changed.reason == Reason.NONE
    assert (changed.seq, changed.ts) == (3, 3_000)
    assert resting_ids(core, BUY) == [1, 2]
    (level,) = level_changes(events)
    assert (level.price, level.qty, level.orders) == (99, 11, 2)


def test_amend_when_qty_raised_then_loses_priority(core):
    # Arrange
    run(core, buy(1, 10, 99, "A"), buy(2, 5, 99, "B"))

    # Act
    events = run(core, amend(1, 12, 99, "A"))

    # Assert
    (changed,) = amends(events)
    assert (changed.leaves_qty, changed.kept_priority) == (12, False)
    assert resting_ids(core, BUY) == [2, 1]
    assert core.book(IID).depth(BUY) == [(99, 17, 2)]


def test_amend_when_price_changed_then_loses_priority_at_new_level(core):
    # Arrange
    run(core, buy(1, 10, 99, "A"), buy(2, 5, 98, "B"))

    # Act
    events = run(core, amend(1, 10, 98, "A"))

    # Assert
    assert amends(events)[0].kept_priority is False
    assert resting_ids(core, BUY) == [2, 1]
    assert core.book(IID).depth(BUY) == [(98, 15, 2)]


def test_amend_when_price_lowered_and_qty_lowered_then_still_loses_priority(core):
    # Arrange
    run(core, sell(1, 10, 101, "A"), sell(2, 5, 100, "B"))

    # Act
    run(core, amend(1, 4, 100, "A"))

    # Assert
    assert resting_ids(core, SELL) == [2, 1]


def test_amend_when_new_price_crosses_then_trades_as_taker_and_rests_the_rest(core):
    # Arrange
    run(core, sell(1, 3, 101, "S"), sell(2, 3, 102, "S"), buy(3, 10, 99, "B"))

    # Act
    events = run(core, amend(3, 10, 101, "B"))

    # Assert
    assert fills(events) == [(101, 3, 3, 1)]
    assert done_of(events, 1).leaves_qty == 0
    assert core.book(IID).depth(BUY) == [(101, 7, 1)]
    assert [t.aggressor for t in trades(events)] == [BUY]


def test_amend_when_partially_filled_then_qty_is_new_total_including_filled(core):
    # Arrange: 4 of 10 filled, 6 open
    run(core, sell(1, 10, 100, "S"), buy(2, 4, 100, "B"))

    # Act
    events = run(core, amend(1, 7, 100, "S"))

    # Assert
    assert amends(events)[0].leaves_qty == 3
    (order,) = core.book(IID).resting(SELL)
    assert (order.qty, order.filled, order.leaves) == (7, 4, 3)


@pytest.mark.parametrize("qty", [4, 3], ids=["equal to filled", "below filled"])
def test_amend_when_qty_not_above_filled_then_amend_below_filled(core, qty):
    # Arrange
    run(core, sell(1, 10, 100, "S"), buy(2, 4, 100, "B"))

    # Act
    events = run(core, amend(1, qty, 100, "S"))

    # Assert
    (reject,) = rejects(events)
    assert (reject.reason, reject.request, reject.order_id) == (
        Reason.AMEND_BELOW_FILLED,
        Request.AMEND,
        1,
    )
    assert next(core.book(IID).resting(SELL)).leaves == 6


def test_amend_when_nothing_changes_then_amend_no_change(core):
    # Arrange
    run(core, sell(1, 10, 100, "S"))

    # Act
    events = run(core, amend(1, 10, 100, "S"))

    # Assert
    assert reject_reason(events) == Reason.AMEND_NO_CHANGE


@pytest.mark.parametrize(
    ("qty", "price", "reason"),
    [
        (0, 100, Reason.QTY_NOT_LOT_MULTIPLE),
        (-5, 100, Reason.QTY_NOT_LOT_MULTIPLE),
        (15, 100, Reason.QTY_NOT_LOT_MULTIPLE),
        (20, 0, Reason.INVALID_PRICE),
        (20, 102, Reason.PRICE_OFF_TICK),
        (20, 155, Reason.PRICE_OUTSIDE_BAND),
    ],
)
def test_amend_when_invalid_then_rejected_and_order_unchanged(qty, price, reason):
    # Arrange: tick 5, lot 10
    core = make_core(instrument(tick_size=5, lot_size=10))
    run(core, sell(1, 30, 110, "S"))

    # Act
    events = run(core, amend(1, qty, price, "S"))

    # Assert
    assert reject_reason(events) == reason
    assert core.book(IID).depth(SELL) == [(110, 30, 1)]


def test_amend_when_post_only_moved_to_crossing_price_then_post_only_would_take(core):
    # Arrange
    run(core, sell(1, 5, 101, "S"), buy(2, 5, 99, "B", post_only=True))

    # Act
    events = run(core, amend(2, 5, 101, "B"))

    # Assert
    assert reject_reason(events) == Reason.POST_ONLY_WOULD_TAKE
    assert core.book(IID).depth(BUY) == [(99, 5, 1)]
    assert fills(events) == []


def test_amend_when_iceberg_lowered_below_its_shown_part_then_shows_what_is_left(core):
    # Arrange: 10 with peak 4
    run(core, sell(1, 10, 101, "S", display_qty=4))

    # Act
    run(core, amend(1, 3, 101, "S"))

    # Assert
    (order,) = core.book(IID).resting(SELL)
    assert (order.leaves, order.visible) == (3, 3)
    assert core.book(IID).depth(SELL) == [(101, 3, 1)]


def test_amend_when_iceberg_requeued_then_shows_a_fresh_peak(core):
    # Arrange
    run(core, sell(1, 10, 101, "S", display_qty=4), buy(2, 3, 101, "B"))

    # Act
    run(core, amend(1, 12, 102, "S"))

    # Assert
    (order,) = core.book(IID).resting(SELL)
    assert (order.leaves, order.visible, order.price) == (9, 4, 102)


def test_amend_when_pending_stop_qty_changed_then_amended_in_place(core):
    # Arrange
    run(core, stop(1, BUY, 5, 110, price=112))

    # Act
    events = run(core, amend(1, 8, 112))

    # Assert
    assert (amends(events)[0].leaves_qty, amends(events)[0].kept_priority) == (8, True)
    (pending,) = core.book(IID).pending_stops()
    assert (pending.leaves, pending.stop_price, pending.price) == (8, 110, 112)


def test_amend_when_pending_stop_market_given_a_price_then_invalid_price(core):
    # Arrange
    run(core, stop(1, BUY, 5, 110))

    # Act
    events = run(core, amend(1, 5, 105))

    # Assert
    assert reject_reason(events) == Reason.INVALID_PRICE


def test_amend_when_its_trades_reach_a_stop_then_stop_released_in_same_command(core):
    # Arrange: a buy stop at 101, an ask at 101, a bid at 99 that is moved up to 101
    run(core, stop(1, BUY, 2, 101, participant="T"), sell(2, 5, 101, "S"), buy(3, 3, 99, "B"))

    # Act
    events = run(core, amend(3, 3, 101, "B"))

    # Assert
    assert [e.order_id for e in triggered(events)] == [1]
    assert fills(events) == [(101, 3, 3, 2), (101, 2, 1, 2)]
