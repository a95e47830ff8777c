"""Order ids, and what cancels and amends of ids that are not (or no longer) live get."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import DoneStatus, Phase, Request, SetPhase
from tests.stubs import (
    BUY,
    IID,
    SELL,
    accepted,
    amend,
    buy,
    cancel,
    done_of,
    instrument,
    level_changes,
    make_core,
    reject_reason,
    rejects,
    resting_ids,
    run,
    sell,
)


@pytest.fixture
def core():
    return make_core()


# -- order ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("order_id", [1, 2, 3], ids=["below last", "below last too", "equal"])
def test_new_order_when_id_not_above_last_accepted_then_duplicate_order_id(core, order_id):
    # Arrange
    run(core, buy(3, 5, 90))

    # Act
    events = run(core, sell(order_id, 5, 110))

    # Assert
    assert reject_reason(events) == Reason.DUPLICATE_ORDER_ID
    assert core.book(IID).depth(SELL) == []


def test_new_order_when_id_skips_ahead_then_accepted(core):
    # Arrange
    run(core, buy(1, 5, 90))

    # Act
    events = run(core, buy(100, 5, 90))

    # Assert
    assert [e.order_id for e in accepted(events)] == [100]
    assert core.last_order_id == 100


def test_new_order_when_earlier_order_with_that_id_was_rejected_then_id_still_free(core):
    # Arrange
    run(core, buy(1, 5, 90), buy(2, 0, 90))

    # Act
    events = run(core, buy(2, 5, 90))

    # Assert
    assert [e.order_id for e in accepted(events)] == [2]


def test_new_order_when_id_used_in_other_instrument_then_duplicate(core):
    # Arrange: ids are global to the core, not per instrument
    other = instrument(instrument_id="OTHER")
    core = make_core(instrument(), other)
    run(core, buy(5, 5, 90, instrument="OTHER"))

    # Act
    events = run(core, buy(5, 5, 90))

    # Assert
    assert reject_reason(events) == Reason.DUPLICATE_ORDER_ID


# -- cancels --------------------------------------------------------------------------------


def test_cancel_when_resting_then_done_cancelled_and_level_gone(core):
    # Arrange
    run(core, buy(1, 5, 90), buy(2, 3, 90), buy(3, 4, 89))

    # Act
    events = run(core, cancel(2))

    # Assert
    done = done_of(events, 2)
    assert (done.status, done.reason, done.leaves_qty) == (
        DoneStatus.CANCELLED,
        Reason.CANCELLED_BY_PARTICIPANT,
        3,
    )
    assert (done.seq, done.ts) == (4, 4_000)
    (level,) = level_changes(events)
    assert (level.side, level.price, level.qty, level.orders) == (BUY, 90, 5, 1)
    assert core.book(IID).depth(BUY) == [(90, 5, 1), (89, 4, 1)]


def test_cancel_when_partially_filled_then_done_reports_leaves(core):
    # Arrange
    run(core, sell(1, 10, 100, "S"), buy(2, 4, 100, "B"))

    # Act
    events = run(core, cancel(1, "S"))

    # Assert
    assert done_of(events, 1).leaves_qty == 6
    assert core.book(IID).depth(SELL) == []


def test_cancel_when_id_above_every_accepted_id_then_unknown_order(core):
    # Arrange
    run(core, buy(1, 5, 90))

    # Act
    events = run(core, cancel(2))

    # Assert
    assert reject_reason(events) == Reason.UNKNOWN_ORDER


def test_cancel_when_id_skipped_below_last_accepted_then_unknown_order(core):
    """Engine bug: id 3 was never accepted (ids 1 and 5 were), yet the reject says
    ORDER_NOT_LIVE; core.py ``_live_order`` treats every id up to ``last_order_id`` as known."""
    # Arrange
    run(core, buy(1, 5, 90), buy(5, 5, 90))

    # Act
    events = run(core, cancel(3))

    # Assert
    assert reject_reason(events) == Reason.UNKNOWN_ORDER


def test_amend_when_id_was_only_ever_rejected_then_unknown_order(core):
    """Engine bug: rejected orders do not consume ids, so id 2 was never accepted; the engine
    answers ORDER_NOT_LIVE because 2 <= last_order_id (core.py ``_live_order``)."""
    # Arrange
    run(core, buy(1, 5, 90), buy(2, -5, 90), buy(3, 5, 90))

    # Act
    events = run(core, amend(2, 4, 90))

    # Assert
    assert reject_reason(events) == Reason.UNKNOWN_ORDER


@pytest.mark.parametrize("request_kind", ["cancel", "amend"])
@pytest.mark.parametrize("ended_by", ["fill", "cancel"])
def test_cancel_or_amend_when_order_no_longer_live_then_order_not_live(
    core, request_kind, ended_by
):
    # Arrange
    run(core, sell(1, 5, 100, "S"))
    run(core, buy(2, 5, 100, "B") if ended_by == "fill" else cancel(1, "S"))

    # Act
    cmd = cancel(1, "S") if request_kind == "cancel" else amend(1, 4, 100, "S")
    events = run(core, cmd)

    # Assert
    (reject,) = rejects(events)
    assert reject.reason == Reason.ORDER_NOT_LIVE
    assert reject.request == (Request.CANCEL if request_kind == "cancel" else Request.AMEND)


@pytest.mark.parametrize("request_kind", ["cancel", "amend"])
def test_cancel_or_amend_when_other_participants_order_then_not_order_owner(core, request_kind):
    # Arrange
    run(core, sell(1, 5, 100, "S"))

    # Act
    cmd = cancel(1, "X") if request_kind == "cancel" else amend(1, 4, 100, "X")
    events = run(core, cmd)

    # Assert
    assert reject_reason(events) == Reason.NOT_ORDER_OWNER
    assert resting_ids(core, SELL) == [1]
    assert core.book(IID).depth(SELL) == [(100, 5, 1)]


@pytest.mark.parametrize("request_kind", ["cancel", "amend"])
def test_cancel_or_amend_when_unknown_instrument_then_unknown_instrument(core, request_kind):
    # Arrange
    run(core, sell(1, 5, 100, "S"))

    # Act
    cmd = cancel(1, "S", "NOPE") if request_kind == "cancel" else amend(1, 4, 100, "S", "NOPE")
    events = run(core, cmd)

    # Assert
    assert reject_reason(events) == Reason.UNKNOWN_INSTRUMENT


def test_cancel_when_instrument_halted_then_still_cancelled(core):
    # Arrange
    run(core, buy(1, 5, 90), SetPhase(IID, Phase.HALTED))

    # Act
    events = run(core, cancel(1))

    # Assert
    assert done_of(events, 1).reason == Reason.CANCELLED_BY_PARTICIPANT
    assert core.book(IID).depth(BUY) == []
