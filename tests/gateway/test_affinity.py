"""Core pinning: the loop's thread on its core, the rest of the process where it was."""

from __future__ import annotations

import os
import threading

import pytest
import zmq

from gateway import protocol as p
from gateway.affinity import io_threads_elsewhere
from gateway.cli import main
from gateway.protocol import ExecType
from tests.gateway.conftest import INSTRUMENT

ALLOWED = frozenset(os.sched_getaffinity(0))
LOOP_CPU = min(ALLOWED)


def test_io_threads_elsewhere_when_cpu_not_allowed_then_value_error():
    ctx = zmq.Context()
    try:
        with pytest.raises(ValueError, match="not one this process may run on"):
            io_threads_elsewhere(ctx, max(ALLOWED) + 1_000)
    finally:
        ctx.term()


@pytest.mark.parametrize("harness", [{"loop_cpu": LOOP_CPU}], indirect=True)
def test_server_when_loop_cpu_set_then_its_loop_runs_there_alone_and_trades(harness):
    loop = next(t for t in threading.enumerate() if t.name == "ipx-server")
    assert os.sched_getaffinity(loop.native_id) == {LOOP_CPU}
    assert os.sched_getaffinity(0) == ALLOWED  # the thread that built the server: untouched

    alice, bob = harness.client("ALICE"), harness.client("BOB")
    alice.sell(INSTRUMENT, 5, 4830)
    alice.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.NEW, 3000)
    bob.buy(INSTRUMENT, 3, 4840)  # sent once the sell rests: two sockets keep no mutual order
    fill = bob.wait_for(
        lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.FILL, 3000
    )
    assert (fill.last_qty, fill.last_px, fill.leaves_qty) == (3, 4830, 0)


def test_serve_when_loop_cpu_not_allowed_then_exits_with_the_reason(tmp_path):
    cpu = max(ALLOWED) + 1_000
    with pytest.raises(SystemExit) as exited:
        main([
            "serve", "--key-dir", str(tmp_path / "keys"), "--no-feed", "--loop-cpu", str(cpu),
            "--orders", f"ipc://{tmp_path}/orders", "--admin", f"ipc://{tmp_path}/admin",
        ])
    assert str(exited.value) == (
        f"ipx serve: cpu {cpu} is not one this process may run on: {sorted(ALLOWED)}"
    )
