"""After a crash the market-data feed continues: same epoch, every topic's next number.

In process, the server's batches are turned by hand with a real publisher as its sink, as
the server loop does (events to the sinks, then the snapshot check). End to end, ``ipx
serve`` runs as a subprocess with its feed on ipc sockets and a real subscriber stays
connected across a SIGKILL and a restart.
"""

from __future__ import annotations

import time

import pytest
import zmq

from gateway import protocol as p
from gateway.recovery import replay_journal
from gateway.server import Server
from gateway.snapshots import snapshot_files
from marketdata.client import FeedClient, GapDetected
from marketdata.publisher import MarketDataPublisher
from tests.gateway.conftest import INSTRUMENT
from tests.gateway.test_crash import ServerProcess, Trader, server_config
from tests.gateway.test_recovery import Driver, config, trade_a_little  # noqa: F401

WAIT_S = 10.0


class FeedDriver(Driver):
    """A :class:`Driver` whose server publishes market data over ipc sockets."""

    def __init__(self, server_config, directory) -> None:
        self.directory = directory
        super().__init__(server_config)

    def build(self, server_config) -> Server:
        server = Server(server_config)
        self.publisher = MarketDataPublisher(
            server.context, server.core, f"ipc://{self.directory}/pub",
            f"ipc://{self.directory}/snap",
        )
        server.add_sink(self.publisher)
        return server

    def crash(self) -> None:
        self.publisher.close()
        super().crash()

    def numbering(self) -> dict[str, tuple]:
        """What a subscriber checks: the epoch, every topic's last number, and the bars and
        statistics those numbers count."""
        pub = self.publisher
        return {
            iid: (pub.epoch, tuple(feed.seqs), feed.stats.volume, feed.stats.turnover,
                  [(b.start, b.end) for b in feed.bar_builders], list(feed.recent_trades))
            for iid, feed in pub.feeds.items()
        }


def test_restart_when_crashed_then_feed_numbering_continues_and_equals_a_replay_from_genesis(
    config, tmp_path  # noqa: F811
):
    d = FeedDriver(config, tmp_path)
    trade_a_little(d)
    d.send("BOB", p.NewOrder(103, INSTRUMENT, p.Side.SELL, 3, 4790))  # after the last snapshot
    before = d.numbering()
    seqs = before[INSTRUMENT][1]
    assert min(seqs[:4]) > 0  # trades, quotes, depth and order levels all published
    assert snapshot_files(tmp_path / "data" / "snapshots")
    d.crash()

    again = FeedDriver(config, tmp_path)
    assert again.store.recovery.snapshot  # the snapshot's feed state plus the tail
    assert again.numbering() == before
    again.crash()

    for snapshot in snapshot_files(tmp_path / "data" / "snapshots"):
        snapshot.unlink()
    from_genesis = FeedDriver(config, tmp_path)
    assert not from_genesis.store.recovery.snapshot
    assert from_genesis.numbering() == before
    from_genesis.stop()


@pytest.fixture
def exchange_with_feed(key_dir, tmp_path):
    config_file = server_config(key_dir, tmp_path, snapshot_every=5, feed=True)
    return ServerProcess(config_file, feed=True), tmp_path


def _trade(traders: dict[str, Trader], price: int, qty: int) -> None:
    """BOB offers, CAROL lifts it: one trade, and both see their fills."""
    traders["BOB"].client.new_order(INSTRUMENT, p.Side.SELL, qty, price)
    traders["CAROL"].client.new_order(INSTRUMENT, p.Side.BUY, qty, price)
    for trader in traders.values():
        trader.drain(200)


def _offer_and_see_quote(traders: dict[str, Trader], feed: FeedClient, price: int) -> None:
    """BOB improves the offer; once the quote shows it, the subscriber holds every frame
    sent before (the quote is the last of a batch's frames on these channels)."""
    traders["BOB"].client.new_order(INSTRUMENT, p.Side.SELL, 1, price)
    traders["BOB"].drain(200)
    view = feed.views[INSTRUMENT]
    deadline = time.monotonic() + WAIT_S
    gaps = []
    while not (view.quote and view.quote.ask_price == price) and time.monotonic() < deadline:
        gaps += [u for u in feed.poll(50) if type(u) is GapDetected]
    assert view.quote and view.quote.ask_price == price
    assert gaps == []


def test_sigkill_when_subscriber_stays_connected_then_it_continues_without_a_gap(
    exchange_with_feed, key_dir
):
    server, tmp_path = exchange_with_feed
    ctx = zmq.Context()
    traders = {name: Trader(key_dir, name) for name in ("BOB", "CAROL")}
    # Channels that only commands move: a bar closed by a clock tick journaled just before
    # the kill could be numbered and never sent, a true gap that a resync would heal.
    feed = FeedClient(ctx, f"ipc://{tmp_path}/feed", f"ipc://{tmp_path}/snap",
                      [INSTRUMENT], channels="TQDO")
    view = feed.views[INSTRUMENT]
    try:
        server.start()
        for trader in traders.values():
            trader.connect(f"ipc://{tmp_path}/orders")
        assert feed.wait_synced(WAIT_S)
        for i in range(8):  # more commands than snapshot_every: a snapshot and a tail
            _trade(traders, 4820 + 10 * (i % 3), 1 + i % 2)
        _offer_and_see_quote(traders, feed, 4860)
        assert len(view.trades) == 8
        before = feed.seqs(INSTRUMENT)
        epoch = feed.epoch

        server.kill()
        for trader in traders.values():
            trader.close()
        restarted_ns = time.time_ns()
        server.start()
        # The SUB reconnects by itself; until its subscription reaches the new PUB, frames
        # are dropped (a real gap). A heartbeat stamped after the restart proves it arrived.
        deadline = time.monotonic() + WAIT_S
        while feed.last_heartbeat_ns < restarted_ns and time.monotonic() < deadline:
            assert [u for u in feed.poll(50) if type(u) is GapDetected] == []
        assert feed.last_heartbeat_ns > restarted_ns
        for trader in traders.values():
            trader.connect(f"ipc://{tmp_path}/orders")
        _trade(traders, 4840, 1)
        _offer_and_see_quote(traders, feed, 4850)
        assert len(view.trades) == 9

        after = feed.seqs(INSTRUMENT)
        assert feed.epoch == epoch
        assert (feed.gaps, feed.snapshots) == (0, 1)  # no resync: it just went on
        assert after["T"] == before["T"] + 1
        assert all(after[channel] > before[channel] for channel in "TQDO")
        for trader in traders.values():
            trader.close()
        server.stop()
        core = replay_journal(tmp_path / "data" / "journal")[0]
        book = core.book(INSTRUMENT)
        assert [view.book.depth(side) for side in (p.Side.BUY, p.Side.SELL)] == [
            book.depth(side) for side in (p.Side.BUY, p.Side.SELL)
        ]
    finally:
        feed.close()
        ctx.term()
