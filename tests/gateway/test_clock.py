"""The server's clock over real sockets: a `Tick` is sequenced only when something is due,
so an idle exchange journals nothing, and a GTD order still expires on time."""

from __future__ import annotations

import time

from engine.codes import Reason
from engine.messages import DoneStatus, OrderDone, Tick, TimeInForce
from tests.gateway.conftest import INSTRUMENT


def test_server_when_a_gtd_order_comes_due_then_one_tick_expires_it_and_none_came_before(
    harness,
):
    alice = harness.client("ALICE")
    expire = time.time_ns() + 300_000_000
    alice.sell(INSTRUMENT, 5, 4830, tif=TimeInForce.GTD, expire_ts=expire)

    done = harness.sink.wait_for(lambda e: type(e) is OrderDone, timeout=5.0)

    assert (done.status, done.reason, done.leaves_qty) == (
        DoneStatus.EXPIRED, Reason.EXPIRED_GTD, 5
    )
    journaled = harness.server.journal.entries
    ticks = [(seq, ts) for seq, ts, cmd, _ in journaled if type(cmd) is Tick]
    assert ticks == [(done.seq, done.ts)] and done.ts >= expire
    assert harness.server.core.next_deadline() is None
