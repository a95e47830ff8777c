"""Catching up after time away, over real sockets: MassStatus lists a participant's live
orders (one ORDER_STATUS report each, then a MassStatusReport with the count), filtered by
instrument and side; status answers go to the session that asked, even when another
session of the same participant entered the order."""

from __future__ import annotations

import json

import pytest

from engine.codes import Reason
from engine.messages import Side
from gateway import protocol as p
from gateway.cli import main
from gateway.protocol import ExecType, OrdStatus
from tests.gateway.conftest import INSTRUMENT


def _acked(client, cl_ord_id: int) -> p.ExecutionReport:
    return client.wait_for(
        lambda m: type(m) is p.ExecutionReport and m.cl_ord_id == cl_ord_id
    )


def _mass_status(client, instrument: str = "", side: int = 0):
    """The ORDER_STATUS reports and the closing report of one MassStatus."""
    request_id = client.mass_status(instrument, side)
    reports = []
    while True:
        msg = client.wait_for(lambda m: type(m) in (p.ExecutionReport, p.MassStatusReport))
        if type(msg) is p.MassStatusReport:
            assert msg.request_id == request_id
            return reports, msg
        assert msg.exec_type == ExecType.ORDER_STATUS
        reports.append(msg)


def _trading_day(harness):
    """ALICE rests a buy that BOB partly fills, a sell, and a buy she cancels; BOB rests one."""
    alice, bob = harness.client("ALICE"), harness.client("BOB")
    bid = alice.buy(INSTRUMENT, 5, 4800)
    _acked(alice, bid)
    offer = alice.sell(INSTRUMENT, 3, 4900)
    _acked(alice, offer)
    gone = alice.buy(INSTRUMENT, 2, 4700)
    _acked(alice, gone)
    _acked(alice, alice.cancel(gone))
    hit = bob.sell(INSTRUMENT, 2, 4800)
    bob.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.FILL)
    _acked(bob, bob.buy(INSTRUMENT, 1, 4600))
    alice.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.PARTIAL_FILL)
    return alice, bid, offer, hit


def test_mass_status_when_orders_live_then_one_report_each_to_the_asking_session(harness):
    _, bid, offer, _ = _trading_day(harness)
    desk = harness.client("ALICE")  # a second session of the same participant

    reports, done = _mass_status(desk)

    assert (done.count, done.reason) == (2, Reason.NONE)
    assert [
        (r.cl_ord_id, r.ord_status, r.side, r.price, r.order_qty, r.cum_qty, r.leaves_qty)
        for r in reports
    ] == [
        (bid, OrdStatus.PARTIALLY_FILLED, Side.BUY, 4800, 5, 2, 3),
        (offer, OrdStatus.NEW, Side.SELL, 4900, 3, 0, 3),
    ]
    assert reports[0].cum_notional == 2 * 4800


def test_mass_status_when_filtered_then_only_that_instrument_and_side(harness):
    alice, _, offer, _ = _trading_day(harness)

    sells, done = _mass_status(alice, INSTRUMENT, Side.SELL)
    assert ([r.cl_ord_id for r in sells], done.count) == ([offer], 1)
    elsewhere, done = _mass_status(alice, "ULR-5GSEP-26")
    assert (elsewhere, done.count) == ([], 0)


def test_mass_status_when_nothing_live_then_count_zero(harness):
    carol = harness.client("CAROL")
    reports, done = _mass_status(carol)
    assert (reports, done.count, done.reason) == ([], 0, Reason.NONE)


def test_mass_status_when_quoting_then_both_quote_sides_listed(harness):
    carol = harness.client("CAROL")
    carol.mass_quote([p.QuoteEntry(INSTRUMENT, 4790, 4, 4810, 6)])
    carol.wait_for(lambda m: type(m) is p.MassQuoteAck)

    reports, done = _mass_status(carol)

    assert done.count == 2
    assert [(r.cl_ord_id, r.side, r.price, r.leaves_qty) for r in reports] == [
        (0, Side.BUY, 4790, 4),
        (0, Side.SELL, 4810, 6),
    ]


def test_order_status_when_asked_by_another_session_then_answered_to_it(harness):
    trader = harness.client("ALICE")
    bid = trader.buy(INSTRUMENT, 5, 4800)
    _acked(trader, bid)
    desk = harness.client("ALICE")

    desk.status(bid)

    status = desk.wait_for(
        lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.ORDER_STATUS
    )
    assert (status.cl_ord_id, status.leaves_qty) == (bid, 5)


@pytest.mark.parametrize("harness", [{"throttle_rate": 1, "throttle_burst": 1}], indirect=True)
def test_mass_status_when_throttled_then_refused_in_its_own_reply_type(harness):
    alice = harness.client("ALICE")
    alice.buy(INSTRUMENT, 1, 4800)  # spends the one token
    request_id = alice.mass_status()
    refused = alice.wait_for(lambda m: type(m) is p.MassStatusReport)
    assert (refused.request_id, refused.count, refused.reason) == (request_id, 0, Reason.THROTTLED)


def test_order_open_cli_when_orders_rest_then_prints_them_and_the_count(harness, capsys):
    _, bid, offer, _ = _trading_day(harness)
    endpoint, key_dir = harness.server.order_endpoint, str(harness.key_dir)
    # --wait longer than the heartbeat: the server's heartbeats must not keep it waiting.
    status = main([
        "order", "open", INSTRUMENT, "-p", "ALICE", "--endpoint", endpoint, "--key-dir",
        key_dir, "--wait", "1500",
    ])
    assert status == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(m["type"], m.get("cl_ord_id"), m.get("leaves_qty")) for m in printed] == [
        ("ExecutionReport", bid, 3),
        ("ExecutionReport", offer, 3),
        ("MassStatusReport", None, None),
    ]
    assert printed[-1]["count"] == 2


def test_responses_when_only_heartbeats_arrive_then_iteration_ends(harness):
    alice = harness.client("ALICE", heartbeat_ms=100)  # the shortest the server allows
    assert list(alice.responses(400)) == []
