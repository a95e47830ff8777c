"""Risk and auctions end to end over real sockets: credit limit, no holding, kill switch,
and an English auction run through the admin and order ports."""

from __future__ import annotations

import time

import pytest

from engine.codes import Reason
from engine.messages import AuctionExtended, AuctionUncrossed, StartEnglishAuction, Trade
from gateway import protocol as p
from gateway.journal import MemoryJournal
from gateway.protocol import ExecType
from gateway.server import Server, run_in_thread
from risk.messages import KillScope, KillSwitch
from tests.gateway.conftest import INSTRUMENT, Harness, RecordingSink, make_config, wait_until

# HKD instrument, CNY lines: every order here is cross-currency through the FX table.
RISK_SETUP = """
[fx]
HKD = "0.91180"

[[guarantors]]
id = "BANK"
name = "Test bank"
kind = "bank"
currency = "CNY"
capacity = 100_000_000_000

[[participants]]
id = "ALICE"
limit = 10_000                       # CNY 100.00
backers = [{ guarantor = "BANK" }]
kinds = ["royalty_participation", "assignment_lot"]

[[participants]]
id = "BOB"
limit = 1_000_000
backers = [{ guarantor = "BANK" }]
kinds = ["royalty_participation", "assignment_lot"]
holdings = { "RPU-GUZHENG-CAT" = 100, "ASG-HNRICE-PV" = 1 }

[[participants]]
id = "CAROL"
limit = 3_000_000_000                # CNY 30m: two binding bids on the assignment lot
backers = [{ guarantor = "BANK" }]
kinds = ["royalty_participation", "assignment_lot"]
"""


@pytest.fixture
def risk_file(tmp_path):
    path = tmp_path / "risk.toml"
    path.write_text(RISK_SETUP)
    return str(path)


def _report(client, exec_type) -> p.ExecutionReport:
    return client.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == exec_type)


@pytest.fixture
def harness_with_risk(key_dir, tmp_path, risk_file):
    config = make_config(key_dir, tmp_path, risk_enabled=True, risk_file=risk_file)
    sink = RecordingSink()
    server = Server(config, journal=MemoryJournal(), sinks=[sink])
    thread = run_in_thread(server)
    harness = Harness(server, key_dir, sink)
    try:
        yield harness
    finally:
        harness.close()
        server.stop()
        thread.join(5)


def test_buy_when_over_the_credit_line_then_rejected_credit_limit(harness_with_risk):
    alice = harness_with_risk.client("ALICE")
    alice.buy(INSTRUMENT, 1, 4800)  # HKD 48 = CNY 43.77 plus FX haircut and fees: fits
    assert _report(alice, ExecType.NEW).leaves_qty == 1
    alice.buy(INSTRUMENT, 2, 4800)  # another HKD 96 would pass CNY 100
    reject = _report(alice, ExecType.REJECTED)
    assert reject.reason == Reason.CREDIT_LIMIT


def test_sell_when_participant_holds_nothing_then_rejected_no_holding(harness_with_risk):
    carol = harness_with_risk.client("CAROL")
    carol.sell(INSTRUMENT, 1, 4800)
    assert _report(carol, ExecType.REJECTED).reason == Reason.NO_HOLDING
    bob = harness_with_risk.client("BOB")
    bob.sell(INSTRUMENT, 1, 4800)
    assert _report(bob, ExecType.NEW).leaves_qty == 1


def test_kill_switch_when_engaged_then_orders_cancelled_and_new_ones_refused(harness_with_risk):
    bob = harness_with_risk.client("BOB")
    bob.sell(INSTRUMENT, 5, 4900)
    _report(bob, ExecType.NEW)
    ack = harness_with_risk.admin().request(KillSwitch(KillScope.PARTICIPANT, "BOB"))
    assert ack.reason == Reason.NONE
    cancelled = _report(bob, ExecType.CANCELLED)
    assert (cancelled.reason, cancelled.leaves_qty) == (Reason.KILLED, 0)
    bob.sell(INSTRUMENT, 1, 4900)
    assert _report(bob, ExecType.REJECTED).reason == Reason.KILLED


def test_english_auction_when_run_over_the_gateway_then_extended_and_won(harness_with_risk):
    """The server's own clock Ticks close the auction: no test-side sleeping or timing."""
    lot = "ASG-HNRICE-PV"
    admin = harness_with_risk.admin()
    sink = harness_with_risk.sink
    end = time.time_ns() + 1_000_000_000
    start = StartEnglishAuction(lot, 1_200_000_000, 10_000_000, end, 60_000_000_000, 2_000_000_000)
    assert admin.request(start).reason == Reason.NONE
    bob, alice, carol = (harness_with_risk.client(n) for n in ("BOB", "ALICE", "CAROL"))
    bob.sell(lot, 1, 1_250_000_000)  # the reserve: CNY 12.5m
    _report(bob, ExecType.NEW)
    carol.buy(lot, 1, 1_200_000_000)
    _report(carol, ExecType.NEW)
    alice.buy(lot, 1, 1_205_000_000)  # not a full increment above the best bid
    assert _report(alice, ExecType.REJECTED).reason == Reason.BID_TOO_LOW
    carol.buy(lot, 1, 1_260_000_000)  # inside the anti-sniping window: the end moves
    _report(carol, ExecType.NEW)
    extended = sink.wait_for(lambda e: type(e) is AuctionExtended, timeout=5)
    assert extended.end_ts > end
    result = sink.wait_for(lambda e: type(e) is AuctionUncrossed, timeout=10)
    assert (result.price, result.volume) == (1_260_000_000, 1)
    fill = _report(carol, ExecType.FILL)
    assert (fill.last_px, fill.last_qty) == (1_260_000_000, 1)
    assert _report(bob, ExecType.FILL).last_px == 1_260_000_000
    lost = _report(carol, ExecType.CANCELLED)
    assert lost.reason == Reason.AUCTION_LOST


# -- the operators' credit view (CreditQuery on the admin port) ---------------------------


def test_credit_query_when_order_rests_then_its_line_and_guarantor_show_the_reservation(
    harness_with_risk,
):
    alice = harness_with_risk.client("ALICE")
    admin = harness_with_risk.admin()
    bid = alice.buy(INSTRUMENT, 1, 4800)
    accepted = _report(alice, ExecType.NEW)
    reserved = harness_with_risk.server.core.risk.accounts["ALICE"].used  # server is idle

    report = admin.credit("ALICE")

    assert (report.reason, report.seq) == (Reason.NONE, accepted.seq)
    (line,) = report.lines
    assert (line.participant, line.currency, line.limit, line.killed) == (
        "ALICE", "CNY", 10_000, False
    )
    assert line.used == reserved == 4_377  # HKD 48.00 at 0.9118 in fen, rounded up
    assert line.used_bp == 4_377  # of a CNY 100.00 line: 43.77%
    assert line.backers == [("BANK", 10_000)]
    (bank,) = report.guarantors
    assert (bank.guarantor, bank.kind, bank.used) == ("BANK", "bank", reserved)

    alice.cancel(bid)
    _report(alice, ExecType.CANCELLED)
    assert admin.credit("ALICE").lines[0].used == 0


def test_credit_query_when_no_participant_named_then_every_line_and_guarantor(harness_with_risk):
    report = harness_with_risk.admin().credit()
    assert [line.participant for line in report.lines] == ["ALICE", "BOB", "CAROL"]
    assert [(g.guarantor, g.participants) for g in report.guarantors] == [
        ("BANK", ["ALICE", "BOB", "CAROL"])
    ]


def test_credit_query_when_participant_unknown_then_not_permitted(harness_with_risk):
    report = harness_with_risk.admin().credit("NOBODY")
    assert (report.reason, report.lines, report.guarantors) == (Reason.NOT_PERMITTED, [], [])


def test_credit_query_when_risk_is_off_then_not_permitted(harness):
    assert harness.admin().credit().reason == Reason.NOT_PERMITTED


def test_admin_credit_cli_when_asked_then_prints_the_line_as_a_table(harness_with_risk, capsys):
    from gateway.cli import main

    server = harness_with_risk.server
    args = ["--endpoint", server.admin_endpoint, "--key-dir", str(harness_with_risk.key_dir)]
    assert main(["admin", "credit", "BOB", *args]) == 0
    table = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert table[1] == ["participant", "ccy", "limit", "used", "used%", "killed", "backers"]
    assert table[2] == ["BOB", "CNY", "10,000.00", "0.00", "0.00%", "no", "BANK", "100%"]
    assert table[3][0] == "guarantor" and table[4][:2] == ["BANK", "CNY"]


def test_credit_status_when_order_rests_then_the_participant_sees_its_own_line(
    harness_with_risk,
):
    alice = harness_with_risk.client("ALICE")
    alice.buy(INSTRUMENT, 1, 4800)
    accepted = _report(alice, ExecType.NEW)

    request_id = alice.credit_status()

    status = alice.wait_for(lambda m: type(m) is p.CreditStatusReport)
    assert (status.request_id, status.seq, status.reason) == (request_id, accepted.seq, Reason.NONE)
    line = status.line
    assert (line.participant, line.limit, line.used, line.backers) == (
        "ALICE", 10_000, 4_377, [("BANK", 10_000)]
    )


def test_credit_status_when_risk_is_off_then_no_line_not_permitted(harness):
    alice = harness.client("ALICE")
    alice.credit_status()
    status = alice.wait_for(lambda m: type(m) is p.CreditStatusReport)
    assert (status.line, status.reason) == (None, Reason.NOT_PERMITTED)


def test_order_credit_cli_when_asked_then_prints_the_own_line(harness_with_risk, capsys):
    import json

    from gateway.cli import main

    where = ["-p", "BOB", "--endpoint", harness_with_risk.server.order_endpoint,
             "--key-dir", str(harness_with_risk.key_dir), "--wait", "1500"]
    assert main(["order", "credit", *where]) == 0
    (printed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed["type"] == "CreditStatusReport"
    assert (printed["line"]["participant"], printed["line"]["limit"]) == ("BOB", 1_000_000)


def test_admin_line_cli_when_limit_raised_then_a_bigger_order_fits(harness_with_risk, capsys):
    from gateway.cli import main

    alice = harness_with_risk.client("ALICE")
    alice.buy(INSTRUMENT, 3, 4800)  # CNY 131.31 against a CNY 100.00 line
    assert _report(alice, ExecType.REJECTED).reason == Reason.CREDIT_LIMIT
    server = harness_with_risk.server
    args = ["--endpoint", server.admin_endpoint, "--key-dir", str(harness_with_risk.key_dir)]

    assert main(["admin", "line", "ALICE", "CNY", "20000", "BANK", *args]) == 0

    assert '"RiskConfigured"' in capsys.readouterr().out
    assert harness_with_risk.admin().credit("ALICE").lines[0].limit == 20_000
    alice.buy(INSTRUMENT, 3, 4800)
    assert _report(alice, ExecType.NEW).leaves_qty == 3


# -- the risk desk's stream (Watch on the admin port) --------------------------------------


def _desk(harness):
    """An admin connection watching the stream from after the start-up risk setup: a credit
    query is answered only once the batches before it (the setup's) are applied."""
    desk = harness.admin()
    desk.credit()
    assert desk.watch().on
    return desk


def test_watch_when_a_line_crosses_its_warning_then_the_alert_is_streamed(harness_with_risk):
    desk = _desk(harness_with_risk)
    alice = harness_with_risk.client("ALICE")

    alice.buy(INSTRUMENT, 2, 4800)  # CNY 87.54 of a CNY 100.00 line: past the 80% warning

    accepted = _report(alice, ExecType.NEW)
    (batch,) = list(desk.risk_events(2000))
    (alert,) = batch.events
    assert batch.seq == accepted.seq
    assert (type(alert).__name__, alert.subject, alert.used, alert.limit, alert.level_bp) == (
        "RiskAlert", "ALICE", 8_754, 10_000, 8_000
    )


def test_watch_when_another_operator_kills_then_the_change_is_streamed_and_stop_ends_it(
    harness_with_risk,
):
    desk, operator = _desk(harness_with_risk), harness_with_risk.admin()
    ack = operator.request(KillSwitch(KillScope.PARTICIPANT, "BOB"))
    batch = next(desk.risk_events(2000))
    (change,) = batch.events
    assert (batch.seq, change.target, change.engaged) == (ack.seq, "BOB", True)

    stopped = desk.watch(on=False)
    assert not stopped.on
    wait_until(lambda: not harness_with_risk.server.gateway.watchers)


def test_admin_watch_cli_prints_each_risk_event_by_name(harness_with_risk, capsys):
    import threading

    from gateway.cli import main

    server = harness_with_risk.server
    harness_with_risk.admin().credit()  # the start-up setup is applied (see _desk)
    args = ["--endpoint", server.admin_endpoint, "--key-dir", str(harness_with_risk.key_dir)]
    watching = threading.Thread(target=main, args=(["admin", "watch", "--seconds", "3", *args],))
    watching.start()
    wait_until(lambda: server.gateway.watchers)
    harness_with_risk.admin().request(KillSwitch(KillScope.PARTICIPANT, "CAROL"))
    watching.join(10)

    (line,) = capsys.readouterr().out.splitlines()
    assert '"type": "KillSwitchChanged"' in line and '"target": "CAROL"' in line


def test_watch_when_trades_asked_then_every_trade_is_copied_with_both_sides(harness_with_risk):
    desk = _desk(harness_with_risk)
    copy = harness_with_risk.admin()
    copy.credit()
    copy.watch(trades=True)
    alice, bob = harness_with_risk.client("ALICE"), harness_with_risk.client("BOB")
    bob.sell(INSTRUMENT, 1, 4800)
    _report(bob, ExecType.NEW)
    alice.buy(INSTRUMENT, 1, 4800)
    fill = _report(alice, ExecType.FILL)

    (batch,) = [b for b in copy.risk_events(2000) if any(type(e) is Trade for e in b.events)]
    (trade,) = [e for e in batch.events if type(e) is Trade]
    assert (trade.trade_id, trade.buyer, trade.seller, trade.price, trade.qty) == (
        fill.trade_id, "ALICE", "BOB", 4800, 1
    )
    assert not [e for b in desk.risk_events(300) for e in b.events if type(e) is Trade]


# -- positions and settlement --------------------------------------------------------------


def test_settle_when_a_fill_is_paid_then_the_obligation_and_its_credit_are_released(
    harness_with_risk, capsys
):
    from gateway.cli import main

    alice, bob = harness_with_risk.client("ALICE"), harness_with_risk.client("BOB")
    bob.sell(INSTRUMENT, 1, 4800)
    _report(bob, ExecType.NEW)
    alice.buy(INSTRUMENT, 1, 4800)
    _report(alice, ExecType.FILL)
    admin = harness_with_risk.admin()

    owed = admin.credit("ALICE")
    (position,) = owed.positions
    assert (position.instrument, position.currency, position.qty, position.net) == (
        INSTRUMENT, "HKD", 1, 4_800
    )
    assert owed.lines[0].used == 4_377  # the payable, converted to the line's CNY
    sold = {v.instrument: v for v in admin.credit("BOB").positions}[INSTRUMENT]
    assert (sold.qty, sold.net) == (99, -4_800)  # held 100, and is owed the proceeds
    alice.credit_status()
    assert alice.wait_for(lambda m: type(m) is p.CreditStatusReport).positions == [position]

    server = harness_with_risk.server
    args = ["--endpoint", server.admin_endpoint, "--key-dir", str(harness_with_risk.key_dir)]
    assert main(["admin", "settle", "ALICE", INSTRUMENT, "4800", *args]) == 0
    assert main(["admin", "credit", "ALICE", *args]) == 0

    settled = admin.credit("ALICE")
    assert (settled.positions[0].net, settled.lines[0].used) == (0, 0)
    printed = capsys.readouterr().out.splitlines()
    assert '"RiskConfigured"' in printed[0]
    assert printed[-2].split()[:4] == ["instrument", "ccy", "qty", "net"]
    assert printed[-1].split()[:4] == [INSTRUMENT, "HKD", "1", "0.00"]


def test_settle_when_more_than_owed_then_refused_and_nothing_changes(harness_with_risk):
    from risk.messages import Settle

    ack = harness_with_risk.admin().request(Settle("ALICE", INSTRUMENT, 1))
    assert ack.reason == Reason.SETTLEMENT_EXCEEDS_OBLIGATION
