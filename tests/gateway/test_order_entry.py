"""End to end over real CURVE sockets: logon, orders, fills, cancels, amends, idempotency."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from gateway import protocol as p
from gateway.client import LogonError
from gateway.protocol import ExecType, OrdStatus
from tests.gateway.conftest import INSTRUMENT


def _report(client, exec_type=None, timeout_ms=3000) -> p.ExecutionReport:
    return client.wait_for(
        lambda m: type(m) is p.ExecutionReport and (exec_type is None or m.exec_type == exec_type),
        timeout_ms,
    )


def test_logon_when_key_is_registered_then_ack_names_its_participant(harness):
    alice = harness.client("ALICE", logon=False)
    ack = alice.logon()
    assert ack.participant == "ALICE"
    assert ack.version == p.PROTOCOL_VERSION


def test_logon_when_key_is_unknown_then_no_message_ever_arrives(harness):
    mallory = harness.client("MALLORY", logon=False)
    with pytest.raises(LogonError):
        mallory.logon(timeout_ms=500)
    alice = harness.client("ALICE")  # the server is unharmed
    assert alice.participant == "ALICE"


def test_logon_when_version_is_wrong_then_rejected(harness):
    alice = harness.client("ALICE", logon=False)
    alice.send(p.Logon(99))
    reply = alice.recv(2000)
    assert type(reply) is p.LogonReject
    assert reply.reason == Reason.UNSUPPORTED_VERSION


def test_order_when_not_logged_on_then_business_reject(harness):
    alice = harness.client("ALICE", logon=False)
    alice.buy(INSTRUMENT, 1, 4820)
    reply = alice.recv(2000)
    assert type(reply) is p.BusinessReject
    assert reply.reason == Reason.NOT_LOGGED_ON


def test_order_when_crossed_then_both_sides_get_fill_reports(harness):
    alice, bob = harness.client("ALICE"), harness.client("BOB")
    sell_id = alice.sell(INSTRUMENT, 5, 4830)
    ack = _report(alice, ExecType.NEW)
    assert (ack.cl_ord_id, ack.ord_status, ack.leaves_qty) == (sell_id, OrdStatus.NEW, 5)

    buy_id = bob.buy(INSTRUMENT, 3, 4840)
    bob_new = _report(bob, ExecType.NEW)
    bob_fill = _report(bob, ExecType.FILL)
    alice_fill = _report(alice, ExecType.PARTIAL_FILL)

    assert bob_new.cl_ord_id == buy_id
    assert (bob_fill.cl_ord_id, bob_fill.last_qty, bob_fill.last_px) == (buy_id, 3, 4830)
    assert (bob_fill.ord_status, bob_fill.leaves_qty, bob_fill.cum_qty) == (OrdStatus.FILLED, 0, 3)
    assert bob_fill.cum_notional == 3 * 4830
    assert bob_fill.liquidity == p.Liquidity.REMOVED
    assert (alice_fill.cl_ord_id, alice_fill.ord_status) == (sell_id, OrdStatus.PARTIALLY_FILLED)
    assert (alice_fill.cum_qty, alice_fill.leaves_qty) == (3, 2)
    assert alice_fill.liquidity == p.Liquidity.ADDED
    assert alice_fill.trade_id == bob_fill.trade_id


def test_cancel_when_order_rests_then_cancelled_report_with_both_ids(harness):
    alice = harness.client("ALICE")
    order_id = alice.buy(INSTRUMENT, 2, 4800)
    _report(alice, ExecType.NEW)
    cancel_id = alice.cancel(order_id)
    done = _report(alice, ExecType.CANCELLED)
    assert (done.cl_ord_id, done.orig_cl_ord_id) == (cancel_id, order_id)
    assert (done.ord_status, done.leaves_qty, done.reason) == (
        OrdStatus.CANCELLED,
        0,
        Reason.CANCELLED_BY_PARTICIPANT,
    )
    again = alice.cancel(order_id)
    reject = alice.wait_for(lambda m: type(m) is p.CancelReject)
    assert (reject.cl_ord_id, reject.reason) == (again, Reason.ORDER_NOT_LIVE)


def test_amend_when_price_changes_then_replaced_under_new_id(harness):
    alice = harness.client("ALICE")
    first = alice.buy(INSTRUMENT, 4, 4800)
    _report(alice, ExecType.NEW)
    second = alice.amend(first, 6, 4790)
    replaced = _report(alice, ExecType.REPLACED)
    assert (replaced.cl_ord_id, replaced.orig_cl_ord_id) == (second, first)
    assert (replaced.price, replaced.order_qty, replaced.leaves_qty) == (4790, 6, 6)
    alice.status(second)
    status = _report(alice, ExecType.ORDER_STATUS)
    assert (status.cl_ord_id, status.ord_status, status.price) == (second, OrdStatus.NEW, 4790)


def test_cancel_and_amend_when_sent_by_another_session_then_both_sessions_get_the_report(
    harness,
):
    trader, desk = harness.client("ALICE"), harness.client("ALICE")  # one firm, two sessions
    first = trader.buy(INSTRUMENT, 4, 4800)
    _report(trader, ExecType.NEW)

    second = desk.amend(first, 3, 4790)
    asked, held = _report(desk, ExecType.REPLACED), _report(trader, ExecType.REPLACED)
    assert asked == held  # one report, its exec id included, to the asker and the holder
    assert (asked.cl_ord_id, asked.orig_cl_ord_id, asked.price) == (second, first, 4790)

    third = desk.cancel(second)
    asked, held = _report(desk, ExecType.CANCELLED), _report(trader, ExecType.CANCELLED)
    assert asked == held and (asked.cl_ord_id, asked.orig_cl_ord_id) == (third, second)


def test_new_order_when_cl_ord_id_repeats_then_rejected_and_not_executed_twice(harness):
    alice, bob = harness.client("ALICE"), harness.client("BOB")
    alice.sell(INSTRUMENT, 10, 4830)
    _report(alice, ExecType.NEW)
    bob.buy(INSTRUMENT, 1, 4830, cl_ord_id=77)
    _report(bob, ExecType.FILL)
    bob.buy(INSTRUMENT, 1, 4830, cl_ord_id=77)
    dup = _report(bob, ExecType.REJECTED)
    assert (dup.cl_ord_id, dup.order_id, dup.reason) == (77, 0, Reason.DUPLICATE_CL_ORD_ID)
    alice.status(123_456_789)  # an id never used: answered, not an error
    status = _report(alice, ExecType.ORDER_STATUS)
    assert status.reason == Reason.UNKNOWN_ORDER


def test_reject_when_engine_refuses_then_rejected_report_with_engine_reason(harness):
    alice = harness.client("ALICE")
    cl = alice.buy(INSTRUMENT, 1, 4825)  # off the 10 tick
    reject = _report(alice, ExecType.REJECTED)
    assert (reject.cl_ord_id, reject.reason) == (cl, Reason.PRICE_OFF_TICK)
    assert reject.order_id > 0
