"""Bars and daily statistics equal hand-computed values, live and through a snapshot.

The publisher runs in the test's thread here, so every timestamp is chosen by the test:
bars close on sequenced time (each batch's last timestamp), never on a clock.
"""

from __future__ import annotations

import pytest
import zmq

from engine.core import Core
from engine.messages import Side
from marketdata.bars import NS_PER_DAY, NS_PER_S, BarBuilder, DayStats
from marketdata.client import FeedClient
from marketdata.messages import Bar, Bars, DailyStats, Heartbeat, decode_feed, split_frame, topic
from marketdata.publisher import MarketDataPublisher
from tests.marketdata import WAIT_S
from tests.stubs import IID, buy, make_core, sell

T0 = 29_000_000 * 60 * NS_PER_S  # a minute boundary
MS = 1_000_000
HEARTBEAT = 10 * MS

# (time offset, command): trades 2@100 and 3@100 in second 0, 4@102 and 1@101 in second 1,
# 5@102 in second 61.
SESSION = [
    (50 * MS, sell(1, 5, 100)),
    (100 * MS, buy(2, 2, 100)),
    (500 * MS, buy(3, 3, 100)),
    (1_100 * MS, sell(4, 10, 102)),
    (1_200 * MS, buy(5, 4, 102)),
    (1_500 * MS, sell(6, 1, 101)),
    (1_900 * MS, buy(7, 1, 101)),
    (61_000 * MS, buy(8, 5, 102)),
]
END = T0 + 120 * NS_PER_S

EXPECTED_BARS = [
    Bar(1, T0, 100, 100, 100, 100, 5, 500, 2),
    Bar(1, T0 + NS_PER_S, 102, 102, 101, 101, 5, 509, 2),
    Bar(60, T0, 100, 102, 100, 101, 10, 1_009, 4),
    Bar(1, T0 + 61 * NS_PER_S, 102, 102, 102, 102, 5, 510, 1),
    Bar(60, T0 + 60 * NS_PER_S, 102, 102, 102, 102, 5, 510, 1),
]
# open 100, high 102, low 100, last 102; VWAP 1519 / 15 = 101.27 -> 101
EXPECTED_STATS = (T0 // NS_PER_DAY, 100, 102, 100, 102, 101, 15, 1_519, 5)


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def publisher(ctx, tmp_path):
    pub = MarketDataPublisher(ctx, make_core(), f"ipc://{tmp_path}/pub",
                              f"ipc://{tmp_path}/snap", heartbeat_ns=HEARTBEAT, epoch=7)
    yield pub
    pub.close()


def run_session(pub: MarketDataPublisher) -> None:
    core: Core = pub.core
    for seq, (offset, cmd) in enumerate(SESSION, 1):
        pub.on_events(core.apply(cmd, seq, T0 + offset))
    pub.on_events([], END)  # a clock tick's batch: sequenced time passes the last bar's end


def test_bars_and_stats_match_hand_computed_values_when_trades_span_intervals(ctx, publisher,
                                                                               tmp_path):
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    for channel in "BS":
        sub.subscribe(topic(channel, IID))
    sub.connect(f"ipc://{tmp_path}/pub")
    now = T0 - NS_PER_S
    while not sub.poll(10):  # handshake: heartbeats until the subscription is live
        now += HEARTBEAT
        publisher.on_idle(now)
    while sub.poll(0):
        sub.recv()
    run_session(publisher)
    bars, stats = [], []
    while sub.poll(100):
        msg = decode_feed(split_frame(sub.recv())[1])
        if type(msg) is Bars:
            bars += msg.bars
        elif type(msg) is DailyStats:
            stats.append(msg)
    assert bars == EXPECTED_BARS
    assert len(stats) == 5
    s = stats[-1]
    assert (s.day, s.open, s.high, s.low, s.last, s.vwap, s.volume, s.turnover, s.trades) == (
        EXPECTED_STATS
    )
    sub.close()


def test_late_joiner_gets_the_session_bars_and_stats_through_a_snapshot(ctx, publisher,
                                                                       tmp_path):
    run_session(publisher)
    client = FeedClient(ctx, f"ipc://{tmp_path}/pub", f"ipc://{tmp_path}/snap", [IID])
    now = END
    for _ in range(int(WAIT_S * 100)):
        now += HEARTBEAT
        publisher.on_idle(now)
        for sock in publisher.sockets():
            if sock.poll(0):
                publisher.on_readable(sock)
        client.poll(10)
        if client.synced(IID):
            break
    view = client.views[IID]
    assert view.bars == {
        1: [b for b in EXPECTED_BARS if b.interval_s == 1],
        60: [b for b in EXPECTED_BARS if b.interval_s == 60],
    }
    s = view.stats
    assert (s.day, s.open, s.high, s.low, s.last, s.vwap, s.volume, s.turnover, s.trades) == (
        EXPECTED_STATS
    )
    assert [t[:4] for t in view.trades] == [
        (1, 100, 2, Side.BUY), (2, 100, 3, Side.BUY), (3, 102, 4, Side.BUY),
        (4, 101, 1, Side.BUY), (5, 102, 5, Side.BUY),
    ]
    client.close()


def test_bar_builder_skips_intervals_without_trades_and_closes_on_time():
    builder = BarBuilder(1)
    assert builder.add(10, 1, 0) is None
    assert builder.close_due(NS_PER_S - 1) is None
    closed = builder.add(12, 2, 5 * NS_PER_S)  # seconds 1..4 had no trades: no bars
    assert closed == Bar(1, 0, 10, 10, 10, 10, 1, 10, 1)
    assert builder.close_due(6 * NS_PER_S) == Bar(1, 5 * NS_PER_S, 12, 12, 12, 12, 2, 24, 1)
    assert builder.close_due(7 * NS_PER_S) is None


def test_day_stats_start_again_when_a_trade_falls_on_the_next_day():
    stats = DayStats()
    stats.add(100, 5, NS_PER_DAY - 1)
    stats.add(90, 1, NS_PER_DAY)
    assert (stats.day, stats.open, stats.high, stats.low, stats.volume, stats.vwap) == (
        1, 90, 90, 90, 1, 90
    )


def test_heartbeat_repeats_the_last_sequence_number_when_a_topic_is_idle(ctx, publisher,
                                                                          tmp_path):
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.subscribe(topic("S", IID))
    sub.connect(f"ipc://{tmp_path}/pub")
    now = T0
    while not sub.poll(10):
        now += HEARTBEAT
        publisher.on_idle(now)
    run_session(publisher)  # five trades: five statistics frames, seq 1..5
    while sub.poll(50):
        sub.recv()
    publisher.on_idle(END + HEARTBEAT)
    assert sub.poll(int(WAIT_S * 1000))
    beat = decode_feed(split_frame(sub.recv())[1])
    assert beat == Heartbeat(5, 7, END + HEARTBEAT)
    sub.close()


def test_next_deadline_when_bars_are_open_then_their_earliest_close_until_all_closed(publisher):
    core: Core = publisher.core
    assert publisher.next_deadline() is None
    for seq, (offset, cmd) in enumerate(SESSION[:2], 1):  # a trade at T0 + 100 ms opens bars
        publisher.on_events(core.apply(cmd, seq, T0 + offset))
    assert publisher.next_deadline() == T0 + NS_PER_S  # the second's bar: a tick is due then

    publisher.on_events([], T0 + NS_PER_S)  # that tick's batch closes it
    assert publisher.next_deadline() == T0 + 60 * NS_PER_S  # then the minute's
    publisher.on_events([], T0 + 60 * NS_PER_S)
    assert publisher.next_deadline() is None
