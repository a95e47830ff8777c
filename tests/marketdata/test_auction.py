"""Auction indications reach subscribers live and through snapshots.

The engine's call phases publish :class:`engine.messages.AuctionIndicative` on every book
change during a call; here the test hands the publisher such events itself, through the same
``on_events`` path the server uses.
"""

from __future__ import annotations

import pytest
import zmq

from engine.messages import AuctionIndicative as EngineIndicative
from engine.messages import Side
from marketdata.client import FeedClient
from marketdata.messages import AuctionIndicative
from tests.marketdata import IIDS, WAIT_S, FeedServer, catch_up, make_core


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def publish(server: FeedServer, *events) -> None:
    server.call(lambda core, pub: pub.on_events(list(events)))


def test_indicative_uncross_reaches_live_and_late_subscribers(ctx):
    with FeedServer(ctx, make_core()) as server:
        early = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS)
        assert early.wait_synced(WAIT_S)
        publish(
            server,
            EngineIndicative(1, 10, "TST-A", None, 0, None, 0, 100),
            EngineIndicative(2, 20, "TST-A", 101, 40, Side.SELL, 15, 100),
            EngineIndicative(2, 20, "TST-B", 99, 5, None, 0, 100),
        )
        catch_up(early, server)
        late = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint, IIDS)
        assert late.wait_synced(WAIT_S)
        for client in (early, late):
            assert client.views["TST-A"].auction == AuctionIndicative(
                1, "TST-A", 101, 40, Side.SELL, 15, 100, 20
            )  # one frame per batch: the last indication of the batch
            assert client.views["TST-B"].auction == AuctionIndicative(1, "TST-B", 99, 5, 0, 0,
                                                                      100, 20)
        publish(server, EngineIndicative(3, 30, "TST-A", None, 0, None, 0, 100))
        catch_up(early, server)
        assert early.views["TST-A"].auction.price is None
        early.close()
        late.close()
