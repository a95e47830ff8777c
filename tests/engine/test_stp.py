"""Self-trade prevention: the taker's mode governs; the same participant is "self"."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import DoneStatus, StpMode, TimeInForce
from tests.stubs import (
    BUY,
    IID,
    SELL,
    amends,
    buy,
    done_of,
    dones,
    fills,
    make_core,
    resting_ids,
    run,
    sell,
    trades,
)

NONE, CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH, DECREMENT = (
    StpMode.NONE,
    StpMode.CANCEL_TAKER,
    StpMode.CANCEL_MAKER,
    StpMode.CANCEL_BOTH,
    StpMode.DECREMENT,
)
STP = Reason.SELF_TRADE_PREVENTED
CANCELLED = DoneStatus.CANCELLED
FOK, IOC = TimeInForce.FOK, TimeInForce.IOC


@pytest.fixture
def core():
    return make_core()


def test_taker_when_stp_none_then_trades_with_own_order(core):
    # Arrange
    run(core, sell(1, 5, 100, "A"))

    # Act
    events = run(core, buy(2, 5, 100, "A", stp=NONE))

    # Assert
    assert fills(events) == [(100, 5, 2, 1)]


@pytest.mark.parametrize(
    "mode", [CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH, DECREMENT], ids=lambda mode: mode.name
)
def test_taker_when_resting_order_is_another_participants_then_trades_normally(core, mode):
    # Arrange
    run(core, sell(1, 5, 100, "B"))

    # Act
    events = run(core, buy(2, 5, 100, "A", stp=mode))

    # Assert
    assert fills(events) == [(100, 5, 2, 1)]


def test_taker_when_cancel_taker_reaches_own_order_then_taker_rest_cancelled(core):
    # Arrange: another's 2 first, then own 5, then another's 5
    run(core, sell(1, 2, 100, "B"), sell(2, 5, 100, "A"), sell(3, 5, 100, "B"))

    # Act
    events = run(core, buy(4, 10, 100, "A", stp=CANCEL_TAKER))

    # Assert
    assert fills(events) == [(100, 2, 4, 1)]
    done = done_of(events, 4)
    assert (done.status, done.reason, done.leaves_qty) == (CANCELLED, STP, 8)
    assert resting_ids(core, SELL) == [2, 3]
    assert resting_ids(core, BUY) == []


def test_taker_when_cancel_maker_reaches_own_order_then_maker_cancelled_and_sweep_goes_on(core):
    # Arrange
    run(core, sell(1, 5, 100, "A"), sell(2, 5, 101, "B"))

    # Act
    events = run(core, buy(3, 4, 101, "A", stp=CANCEL_MAKER))

    # Assert
    maker = done_of(events, 1)
    assert (maker.status, maker.reason, maker.leaves_qty) == (CANCELLED, STP, 5)
    assert fills(events) == [(101, 4, 3, 2)]
    assert events.index(maker) < events.index(trades(events)[0])
    assert resting_ids(core, SELL) == [2]


def test_taker_when_cancel_both_reaches_own_order_then_both_cancelled(core):
    # Arrange
    run(core, sell(1, 5, 100, "A"), sell(2, 5, 100, "B"))

    # Act
    events = run(core, buy(3, 8, 100, "A", stp=CANCEL_BOTH))

    # Assert
    assert fills(events) == []
    assert [(d.order_id, d.reason, d.leaves_qty) for d in dones(events)] == [
        (1, STP, 5),
        (3, STP, 8),
    ]
    assert resting_ids(core, SELL) == [2]
    assert resting_ids(core, BUY) == []


def test_taker_when_decrement_and_taker_larger_then_maker_cancelled_taker_reduced(core):
    # Arrange
    run(core, sell(1, 3, 100, "A"), sell(2, 5, 100, "B"))

    # Act
    events = run(core, buy(3, 10, 100, "A", stp=DECREMENT))

    # Assert
    maker = done_of(events, 1)
    assert (maker.status, maker.reason, maker.leaves_qty) == (CANCELLED, STP, 3)
    (taker_amended,) = amends(events)
    assert (taker_amended.order_id, taker_amended.leaves_qty, taker_amended.reason) == (3, 7, STP)
    assert fills(events) == [(100, 5, 3, 2)]
    assert core.book(IID).depth(BUY) == [(100, 2, 1)]
    (taker,) = core.book(IID).resting(BUY)
    assert (taker.qty, taker.filled, taker.leaves) == (7, 5, 2)


def test_taker_when_decrement_after_a_fill_then_the_filled_part_counts(core):
    # Arrange: another participant's order ahead of the taker's own
    run(core, sell(1, 5, 100, "B"), sell(2, 3, 100, "A"))

    # Act: 5 fill against B, then the own maker takes 3 off the remaining 5
    events = run(core, buy(3, 10, 100, "A", stp=DECREMENT))

    # Assert
    assert fills(events) == [(100, 5, 3, 1)]
    maker = done_of(events, 2)
    assert (maker.status, maker.reason, maker.leaves_qty) == (CANCELLED, STP, 3)
    (taker_amended,) = amends(events)
    assert (taker_amended.order_id, taker_amended.leaves_qty) == (3, 2)
    (taker,) = core.book(IID).resting(BUY)
    assert (taker.qty, taker.filled, taker.leaves) == (7, 5, 2)
    core.check()


def test_taker_when_decrement_and_maker_larger_then_maker_reduced_taker_cancelled(core):
    # Arrange
    run(core, sell(1, 10, 100, "A"), sell(2, 5, 100, "B"))

    # Act
    events = run(core, buy(3, 4, 100, "A", stp=DECREMENT))

    # Assert
    (maker_amended,) = amends(events)
    assert (maker_amended.order_id, maker_amended.leaves_qty, maker_amended.reason) == (1, 6, STP)
    taker = done_of(events, 3)
    assert (taker.status, taker.reason, taker.leaves_qty) == (CANCELLED, STP, 4)
    assert fills(events) == []
    assert resting_ids(core, SELL) == [1, 2]  # the reduced maker keeps its place
    assert core.book(IID).depth(SELL) == [(100, 11, 2)]


def test_taker_when_decrement_and_equal_then_both_cancelled(core):
    # Arrange
    run(core, sell(1, 5, 100, "A"))

    # Act
    events = run(core, buy(2, 5, 100, "A", stp=DECREMENT))

    # Assert
    assert [(d.order_id, d.reason, d.leaves_qty) for d in dones(events)] == [
        (1, STP, 5),
        (2, STP, 5),
    ]
    assert amends(events) == []
    assert core.book(IID).depth(SELL) == []


def test_taker_when_decrement_against_iceberg_then_hidden_part_shrinks_too(core):
    # Arrange: own iceberg 10 showing 3
    run(core, sell(1, 10, 100, "A", display_qty=3))

    # Act
    run(core, buy(2, 8, 100, "A", stp=DECREMENT))

    # Assert
    (maker,) = core.book(IID).resting(SELL)
    assert (maker.leaves, maker.visible) == (2, 2)
    core.check()


def test_maker_mode_when_taker_has_none_then_taker_mode_governs(core):
    # Arrange: the resting order asks for cancel-taker, the incoming one for nothing
    run(core, sell(1, 5, 100, "A", stp=CANCEL_TAKER))

    # Act
    events = run(core, buy(2, 5, 100, "A", stp=NONE))

    # Assert
    assert fills(events) == [(100, 5, 2, 1)]


OTHERS_2 = (100, 2, 4, 1)
OTHERS_3 = (100, 3, 4, 3)


@pytest.mark.parametrize(
    ("mode", "fok_qty", "expected_fills", "taker_reason"),
    [
        # own 4 skipped, the others' 2 + 3 count; the own order is cancelled on the way
        (CANCEL_MAKER, 5, [OTHERS_2, OTHERS_3], Reason.NONE),
        (CANCEL_MAKER, 6, [], Reason.FOK_NOT_FILLED),
        # own 4 skipped in the count; the sweep then decrements the taker's last 3 against it
        (DECREMENT, 5, [OTHERS_2], STP),
        (DECREMENT, 6, [], Reason.FOK_NOT_FILLED),
        # counting stops at the own order, after the others' 2
        (CANCEL_TAKER, 2, [OTHERS_2], Reason.NONE),
        (CANCEL_TAKER, 3, [], Reason.FOK_NOT_FILLED),
        (CANCEL_BOTH, 2, [OTHERS_2], Reason.NONE),
        (CANCEL_BOTH, 3, [], Reason.FOK_NOT_FILLED),
    ],
)
def test_fok_when_own_orders_in_the_way_then_counting_follows_stp_mode(
    core, mode, fok_qty, expected_fills, taker_reason
):
    # Arrange: others' 2, own 4, others' 3 at one price
    run(core, sell(1, 2, 100, "B"), sell(2, 4, 100, "A"), sell(3, 3, 100, "B"))

    # Act
    events = run(core, buy(4, fok_qty, 100, "A", tif=FOK, stp=mode))

    # Assert
    assert fills(events) == expected_fills
    assert done_of(events, 4).reason == taker_reason
    if not expected_fills:
        assert resting_ids(core, SELL) == [1, 2, 3]


@pytest.mark.parametrize(
    ("mode", "min_qty", "meets"),
    [(CANCEL_MAKER, 5, True), (CANCEL_MAKER, 6, False), (CANCEL_TAKER, 3, False)],
)
def test_min_qty_when_own_orders_in_the_way_then_counting_follows_stp_mode(
    core, mode, min_qty, meets
):
    # Arrange: others' 2, own 4, others' 3
    run(core, sell(1, 2, 100, "B"), sell(2, 4, 100, "A"), sell(3, 3, 100, "B"))

    # Act
    events = run(core, buy(4, 9, 100, "A", tif=IOC, min_qty=min_qty, stp=mode))

    # Assert
    if meets:
        assert fills(events) == [(100, 2, 4, 1), (100, 3, 4, 3)]
    else:
        assert (done_of(events, 4).reason, fills(events)) == (Reason.MIN_QTY_NOT_MET, [])


@pytest.mark.parametrize("mode", [CANCEL_TAKER, CANCEL_BOTH], ids=lambda mode: mode.name)
def test_fok_when_own_order_sits_behind_a_refilled_iceberg_then_no_partial_fill(core, mode):
    """Engine bug: matching.py ``executable_qty`` counts an iceberg's whole leaves before an
    own order behind it at the same price, but the sweep puts the iceberg's next peak BEHIND
    the own order; the FOK trades 2 and then stops at its own order (SELF_TRADE_PREVENTED),
    breaking "fills completely at once or is cancelled with no trade"."""
    # Arrange: B's iceberg 10 (peak 2), then A's own 5, at 100
    run(core, sell(1, 10, 100, "B", display_qty=2), sell(2, 5, 100, "A"))

    # Act
    events = run(core, buy(3, 10, 100, "A", tif=FOK, stp=mode))

    # Assert
    assert fills(events) == []
    assert done_of(events, 3).reason == Reason.FOK_NOT_FILLED


def test_min_qty_when_own_order_sits_behind_a_refilled_iceberg_then_no_partial_fill(core):
    """Engine bug, as above for a minimum quantity: 2 trade although min_qty 6 was not met."""
    # Arrange
    run(core, sell(1, 10, 100, "B", display_qty=2), sell(2, 5, 100, "A"))

    # Act
    events = run(core, buy(3, 10, 100, "A", tif=IOC, min_qty=6, stp=CANCEL_TAKER))

    # Assert
    assert fills(events) == []
    assert done_of(events, 3).reason == Reason.MIN_QTY_NOT_MET
