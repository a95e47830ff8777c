"""A subscriber that stops reading loses frames, never slows the engine, and heals by itself."""

from __future__ import annotations

import time

import pytest
import zmq

from marketdata.client import FeedClient, GapDetected
from tests.marketdata import (
    IIDS,
    WAIT_S,
    FeedServer,
    catch_up,
    client_view,
    engine_view,
    make_core,
    random_session,
)

HWM = 100
SESSION = 12_000


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def server_seconds(server: FeedServer, batches: list) -> float:
    """Time the server thread takes to apply and publish ``batches``, measured inside it."""
    start = server.call(lambda core, pub: time.perf_counter())
    for batch in batches:
        server.apply(batch)
    return server.call(lambda core, pub: time.perf_counter()) - start


def test_stalled_subscriber_loses_frames_then_heals_while_engine_keeps_its_pace(ctx):
    batches = random_session(8, SESSION)
    half = len(batches) // 2
    updates: list = []
    with FeedServer(ctx, make_core(), hwm=HWM) as server:
        alone = server_seconds(server, batches[:half])
        client = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS, hwm=HWM,
                            on_update=updates.append)
        assert client.wait_synced(WAIT_S)  # then it stalls: it reads nothing until catch_up
        stalled = server_seconds(server, batches[half:])
        frames = server.call(lambda core, pub: pub.frames_sent)
        catch_up(client, server)
        expected = server.call(lambda core, pub: engine_view(core, 10))
        assert client_view(client, 10) == expected
        client.close()
    assert any(type(u) is GapDetected for u in updates), f"{frames} frames, none lost"
    # The half with a stalled subscriber must not run slower than the half with none; the
    # bound is generous for a noisy machine (benchmarks/feed.py measures the ratio).
    assert stalled < 2 * alone + 0.05, (alone, stalled)
