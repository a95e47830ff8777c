"""The participant is the key that signed in: no client can act for, or see, another."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import MassCancel, Phase, SetPhase, Tick
from gateway import protocol as p
from gateway.auth import load_key_pair
from gateway.client import AdminClient
from gateway.protocol import ExecType
from tests.gateway.conftest import INSTRUMENT, wait_until


def _report(client, exec_type):
    return client.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == exec_type)


def test_cancel_amend_status_when_order_is_another_participants_then_unknown(harness):
    alice, bob = harness.client("ALICE"), harness.client("BOB")
    alice_order = alice.buy(INSTRUMENT, 1, 4800, cl_ord_id=1000)
    _report(alice, ExecType.NEW)

    bob.cancel(alice_order)
    cancel_reject = bob.wait_for(lambda m: type(m) is p.CancelReject)
    bob.amend(alice_order, 5, 4790)
    amend_reject = bob.wait_for(lambda m: type(m) is p.CancelReject)
    bob.status(alice_order)
    status = _report(bob, ExecType.ORDER_STATUS)

    assert cancel_reject.reason == amend_reject.reason == Reason.UNKNOWN_ORDER
    assert cancel_reject.order_id == amend_reject.order_id == 0
    assert (status.reason, status.order_id, status.instrument) == (Reason.UNKNOWN_ORDER, 0, "")
    alice.status(alice_order)
    assert _report(alice, ExecType.ORDER_STATUS).leaves_qty == 1  # untouched


def test_mass_cancel_when_sent_by_one_participant_then_others_orders_survive(harness):
    alice, bob = harness.client("ALICE"), harness.client("BOB")
    alice.buy(INSTRUMENT, 1, 4800)
    _report(alice, ExecType.NEW)
    bob.mass_cancel()
    report = bob.wait_for(lambda m: type(m) is p.MassCancelReport)
    assert report.cancelled == 0


def test_routing_id_when_reused_by_another_key_then_it_acts_as_its_own_participant(harness):
    alice = harness.client(
        "ALICE", routing_id=b"desk-1", heartbeat_ms=100, cancel_on_disconnect=False
    )
    order = alice.buy(INSTRUMENT, 1, 4800)
    _report(alice, ExecType.NEW)
    alice.close()  # leaves without logging out; Bob takes the same routing id
    # A ROUTER ignores a second connection with a routing id it still holds, so wait until
    # the server has found ALICE gone (its heartbeat found no route, or she timed out).
    wait_until(lambda: not harness.server.gateway.sessions)
    bob = harness.client("BOB", logon=False, routing_id=b"desk-1")
    first = None
    for _ in range(30):  # the ROUTER refuses the id until it has dropped ALICE's pipe
        bob.send(p.CancelOrder(1, order))
        if (first := bob.recv(100)) is not None:
            break
    assert type(first) is p.BusinessReject  # not ALICE's session
    assert first.reason == Reason.NOT_LOGGED_ON
    assert bob.logon().participant == "BOB"
    bob.cancel(order)
    assert bob.wait_for(lambda m: type(m) is p.CancelReject).reason == Reason.UNKNOWN_ORDER


def test_admin_port_when_key_is_a_participants_then_refused(harness):
    key = load_key_pair(harness.key_dir / "participants", "ALICE")
    intruder = AdminClient(
        harness.server.admin_endpoint, harness.server_key, key, context=harness.context
    )
    harness.clients.append(intruder)
    with pytest.raises(TimeoutError):
        intruder.request(SetPhase(INSTRUMENT, Phase.HALTED), timeout_ms=500)


def test_admin_halt_and_resume_when_admin_key_then_orders_follow_the_phase(harness):
    admin, alice = harness.admin(), harness.client("ALICE")
    ack = admin.request(SetPhase(INSTRUMENT, Phase.HALTED))
    assert ack.reason == Reason.NONE and ack.seq > 0
    alice.buy(INSTRUMENT, 1, 4800)
    assert _report(alice, ExecType.REJECTED).reason == Reason.INSTRUMENT_HALTED
    admin.request(SetPhase(INSTRUMENT, Phase.CONTINUOUS))
    alice.buy(INSTRUMENT, 1, 4800)
    assert _report(alice, ExecType.NEW).ord_status == p.OrdStatus.NEW


def test_admin_kill_switch_when_participant_has_orders_then_all_cancelled_and_reported(harness):
    admin, alice = harness.admin(), harness.client("ALICE")
    alice.buy(INSTRUMENT, 1, 4800)
    alice.sell(INSTRUMENT, 1, 4900)
    _report(alice, ExecType.NEW)
    _report(alice, ExecType.NEW)
    ack = admin.request(MassCancel("ALICE"))
    assert sum(type(e).__name__ == "OrderDone" for e in ack.events) == 2
    assert _report(alice, ExecType.CANCELLED).reason == Reason.MASS_CANCELLED


def test_admin_when_command_is_refused_then_ack_carries_the_reason(harness):
    ack = harness.admin().request(SetPhase("NO-SUCH", Phase.HALTED))
    assert ack.reason == Reason.UNKNOWN_INSTRUMENT


@pytest.mark.parametrize(
    ("request_", "reply_type"),
    [
        (p.CreditQuery(7), p.CreditReport),
        (p.SessionsQuery(7), p.SessionsReport),
        (p.EndSessions(7, "BOB"), p.SessionsReport),
        (p.Watch(7), p.Watching),
        (p.AdminRequest(7, Tick()), p.AdminAck),
    ],
)
def test_admin_request_when_key_is_not_an_admins_then_refused_in_its_reply_type(
    key_dir, tmp_path, request_, reply_type
):
    """Defence behind the ZAP domain (which admits only admin keys to the admin port): the
    gateway itself refuses a request whose key is not an admin's, and changes nothing."""
    from gateway.codec import decode_admin_reply, encode
    from gateway.journal import MemoryJournal
    from gateway.server import Server
    from tests.gateway.conftest import make_config

    server = Server(make_config(key_dir, tmp_path), journal=MemoryJournal())
    gateway = server.gateway
    try:
        gateway.on_admin_frame(b"rid", "ALICE", encode(request_))
        gateway.process()
        ((rid, frame),) = gateway.take_replies()[1]
    finally:
        server.close()
    reply = decode_admin_reply(frame)
    assert (rid, type(reply), reply.request_id, reply.reason) == (
        b"rid", reply_type, 7, Reason.NOT_AUTHORISED
    )
    assert (gateway.seq, gateway.watchers) == (0, {})
