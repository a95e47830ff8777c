"""Sessions: heartbeats, timeouts, logout, cancel-on-disconnect and the throttle."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import OrderDone
from gateway import protocol as p
from gateway.codec import decode_response
from gateway.protocol import ExecType
from tests.gateway.conftest import INSTRUMENT, wait_until


def _new(client, **kw) -> p.ExecutionReport:
    client.buy(INSTRUMENT, 1, 4800, **kw)
    return client.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.NEW)


def _raw_recv(client, timeout_ms: int) -> p.Msg | None:
    """Receive without the client's automatic heartbeats, to play a silent peer."""
    return decode_response(client.sock.recv())[0] if client.sock.poll(timeout_ms) else None


def test_idle_session_when_heartbeat_interval_passes_then_server_heartbeats(harness):
    alice = harness.client("ALICE", heartbeat_ms=100)
    assert type(_raw_recv(alice, 1000)) is p.Heartbeat


def test_silent_session_when_three_intervals_pass_then_logged_out_with_timeout(harness):
    alice = harness.client("ALICE", heartbeat_ms=100)
    msg = _raw_recv(alice, 1000)
    while type(msg) is p.Heartbeat:
        msg = _raw_recv(alice, 1000)
    assert type(msg) is p.Logout
    assert msg.reason == Reason.SESSION_TIMEOUT


def test_disconnect_when_cancel_on_disconnect_then_session_orders_cancelled(harness):
    alice = harness.client("ALICE", heartbeat_ms=100)
    order_id = _new(alice).order_id
    alice.close()  # gone without a Logout
    done = harness.sink.wait_for(lambda e: type(e) is OrderDone and e.order_id == order_id)
    assert done.participant == "ALICE"


def test_disconnect_when_session_opted_out_then_orders_stay(harness):
    alice = harness.client("ALICE", heartbeat_ms=100, cancel_on_disconnect=False)
    _new(alice)
    alice.close()
    wait_until(lambda: not harness.server.gateway.sessions)
    bob = harness.client("BOB")
    bob.sell(INSTRUMENT, 1, 4800)
    fill = bob.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.FILL)
    assert fill.last_px == 4800


def test_logout_when_requested_then_server_answers_and_cancels(harness):
    alice = harness.client("ALICE")
    order_id = _new(alice).order_id
    alice.logout()
    harness.sink.wait_for(lambda e: type(e) is OrderDone and e.order_id == order_id)
    alice.buy(INSTRUMENT, 1, 4800)
    assert alice.wait_for(lambda m: type(m) is p.BusinessReject).reason == Reason.NOT_LOGGED_ON


@pytest.mark.parametrize("harness", [{"throttle_rate": 1, "throttle_burst": 5}], indirect=True)
def test_burst_when_over_the_bucket_then_excess_rejected_throttled_not_queued(harness):
    alice = harness.client("ALICE")
    sent = [alice.buy(INSTRUMENT, 1, 4800) for _ in range(8)]
    reports = [
        alice.wait_for(lambda m: type(m) is p.ExecutionReport) for _ in range(len(sent))
    ]
    by_id = {r.cl_ord_id: r for r in reports}
    outcomes = [(by_id[c].exec_type, by_id[c].reason) for c in sent]
    assert outcomes[:5] == [(ExecType.NEW, Reason.NONE)] * 5
    assert outcomes[5:] == [(ExecType.REJECTED, Reason.THROTTLED)] * 3
    assert alice.recv(300) is None  # nothing was queued to execute later


@pytest.mark.parametrize("harness", [{"throttle_rate": 1, "throttle_burst": 1}], indirect=True)
def test_heartbeat_when_bucket_is_empty_then_not_throttled(harness):
    alice = harness.client("ALICE")
    alice.buy(INSTRUMENT, 1, 4800)
    alice.send(p.Heartbeat(1))
    alice.send(p.Logout())
    assert type(alice.wait_for(lambda m: type(m) is p.Logout)) is p.Logout


# -- the operators' list of sessions (SessionsQuery on the admin port) ---------------------


def test_sessions_query_when_firms_log_on_then_each_session_is_listed_with_its_orders(harness):
    trader = harness.client("ALICE", cancel_on_disconnect=False, heartbeat_ms=2000)
    _new(trader)
    _new(trader)
    desk = harness.client("ALICE")
    harness.client("BOB")
    admin = harness.admin()

    every = admin.sessions()
    assert [(v.participant, v.heartbeat_ms, v.cancel_on_disconnect, v.live_orders)
            for v in every.sessions] == [
        ("ALICE", 2000, False, 2), ("ALICE", 1000, True, 0), ("BOB", 1000, True, 0)
    ]
    assert every.sessions[0].logon_ts <= every.sessions[1].logon_ts

    desk.logout()
    wait_until(lambda: len(admin.sessions("ALICE").sessions) == 1)
    (left,) = admin.sessions("ALICE").sessions
    assert (left.cancel_on_disconnect, left.live_orders) == (False, 2)  # the trader stays


def test_admin_sessions_cli_prints_a_table(harness, capsys):
    from gateway.cli import main

    harness.client("CAROL")
    args = ["--endpoint", harness.server.admin_endpoint, "--key-dir", str(harness.key_dir)]
    assert main(["admin", "sessions", "CAROL", *args]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["participant", "connection"]
    assert (row.split()[0], row.split()[-1]) == ("CAROL", "0")


def test_end_sessions_when_operator_logs_a_firm_out_then_each_session_ends_by_its_choice(
    harness,
):
    keeps = harness.client("ALICE", cancel_on_disconnect=False)
    kept = _new(keeps)
    cancels = harness.client("ALICE")
    pulled = _new(cancels)
    bob = harness.client("BOB")
    admin = harness.admin()

    ended = admin.end_sessions("ALICE")

    assert [(v.participant, v.live_orders) for v in ended.sessions] == [("ALICE", 1)] * 2
    for client in (keeps, cancels):
        logout = client.wait_for(lambda m: type(m) is p.Logout)
        assert logout.reason == Reason.LOGGED_OUT_BY_OPERATOR
    book = harness.server.core.book(INSTRUMENT)
    wait_until(lambda: pulled.order_id not in book.orders)
    assert kept.order_id in book.orders  # that session opted out of cancel-on-disconnect
    assert [v.participant for v in admin.sessions().sessions] == ["BOB"]
    bob.status(kept.cl_ord_id)  # BOB is unharmed (and cannot see ALICE's order)
    assert bob.wait_for(lambda m: type(m) is p.ExecutionReport).reason == Reason.UNKNOWN_ORDER
