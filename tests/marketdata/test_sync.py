"""A client's rebuilt market equals the engine's, whether it joined early, late or lost frames.

Every test drives a real core and publisher in a server thread and a real client over TCP.
"""

from __future__ import annotations

import time

import pytest
import zmq

from marketdata.client import FeedClient, GapDetected, Synced
from marketdata.messages import DEPTH, Heartbeat, decode_feed, split_frame
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


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def assert_same_market(server: FeedServer, client: FeedClient, depth_levels: int) -> None:
    catch_up(client, server)
    expected = server.call(lambda core, pub: engine_view(core, depth_levels))
    assert client_view(client, depth_levels) == expected


def trade_ids(server: FeedServer, iid: str) -> list[int]:
    return server.call(lambda core, pub: [t[0] for t in pub.feeds[iid].recent_trades])


@pytest.mark.parametrize(("seed", "depth_levels"), [(1, 10), (2, 3), (3, 0)])
def test_rebuilt_book_equals_engine_book_when_session_is_random(ctx, seed, depth_levels):
    with FeedServer(ctx, make_core(), depth_levels=depth_levels) as server:
        client = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS)
        assert client.wait_synced(WAIT_S)
        for batch in random_session(seed, 4_000):
            server.apply(batch)
        assert_same_market(server, client, depth_levels)
        for iid in IIDS:
            view = client.views[iid]
            assert [t[0] for t in view.trades][-50:] == trade_ids(server, iid)[-50:]
            assert view.stats.volume == sum(t[2] for t in view.trades)
        assert client.gaps == 0
        client.close()


def test_late_joiner_synchronises_through_snapshot_when_joining_mid_session(ctx):
    batches = random_session(4, 4_000)
    with FeedServer(ctx, make_core()) as server:
        for batch in batches[:300]:
            server.apply(batch)
        client = None
        for i, batch in enumerate(batches[300:]):
            server.apply(batch)
            if i == 20:
                client = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS)
            if client is not None:
                client.poll(0)
        assert_same_market(server, client, 10)
        assert client.snapshots >= len(IIDS)
        client.close()


def steal_frames(client: FeedClient, until: bytes) -> list[bytes]:
    """Read frames off the client's SUB socket behind its back, up to one on ``until``."""
    stolen = []
    while client.sub.poll(int(WAIT_S * 1000)):
        frame = client.sub.recv()
        stolen.append(frame)
        name, payload = split_frame(frame)
        if name.startswith(until) and type(decode_feed(payload)) is not Heartbeat:
            return stolen
    raise AssertionError("no frame to steal")


def test_forced_gap_heals_through_snapshot_when_a_depth_frame_is_lost(ctx):
    batches = random_session(5, 3_000)
    updates: list = []
    with FeedServer(ctx, make_core()) as server:
        client = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS,
                            on_update=updates.append)
        assert client.wait_synced(WAIT_S)
        for batch in batches[:100]:
            server.apply(batch)
        steal_frames(client, f"{DEPTH}.".encode())
        for batch in batches[100:]:
            server.apply(batch)
            client.poll(0)
        assert_same_market(server, client, 10)
        gaps = [u for u in updates if type(u) is GapDetected]
        assert gaps and gaps[0].received > gaps[0].expected
        assert client.snapshots > len(IIDS)
        client.close()


def test_heartbeat_reveals_a_lost_tail_when_the_market_goes_quiet(ctx):
    with FeedServer(ctx, make_core()) as server:
        client = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS)
        assert client.wait_synced(WAIT_S)
        for batch in random_session(6, 200):
            server.apply(batch)
        catch_up(client, server)
        server.apply(random_session(7, 30, first_id=10_000)[0])
        steal_frames(client, f"{DEPTH}.".encode())  # the last depth frame; then silence
        seen: list = []
        end = time.monotonic() + WAIT_S
        while not any(type(u) is Synced for u in seen) and time.monotonic() < end:
            seen += client.poll(20)
        assert any(type(u) is GapDetected for u in seen)
        assert_same_market(server, client, 10)
        client.close()
