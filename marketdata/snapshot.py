"""Snapshot answers (the Clone pattern's ICANHAZ / KTHXBAI): an instrument's state on request.

Public functions: :func:`answer`, :func:`queues`.

The server is single-threaded, so a snapshot taken between two batches reflects exactly the
sequence numbers last published; it carries them in :class:`SnapshotEnd` and the client
applies only live frames above them. Each channel's state travels as that channel's own live
message type (a depth update listing the whole window, a trades message with the recent
trades), so a client has one way to apply anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

import msgspec

from engine.book import Book
from engine.core import Core
from engine.messages import Side
from marketdata.feedstate import InstrumentFeed
from marketdata.messages import (
    AUCTION,
    BARS,
    CHANNELS,
    DEPTH,
    ORDERS,
    QUOTE,
    STATS,
    STATUS,
    TRADES,
    Bars,
    DailyStats,
    DepthUpdate,
    Directory,
    InstrumentInfo,
    OrderLevels,
    QueueTuple,
    SnapshotEnd,
    SnapshotReject,
    Trades,
    decode_request,
    encode,
)

BUY = int(Side.BUY)
SELL = int(Side.SELL)
_ORDER_VIEW = attrgetter("order_id", "visible")
"""An order as the feed shows it, ``(order_id, displayed qty)``, built in C."""


def answer(
    payload: bytes,
    feeds: dict[str, InstrumentFeed],
    core: Core,
    epoch: int,
    depth_levels: int,
) -> list[bytes]:
    """The reply frames to one encoded request: state messages then the end marker."""
    try:
        req = decode_request(payload)
    except msgspec.DecodeError as exc:
        return [encode(SnapshotReject(0, f"bad request: {exc}"))]
    if not req.instrument:
        return [encode(Directory(req.req_id, epoch, [_info(f.book) for f in feeds.values()]))]
    feed = feeds.get(req.instrument)
    if feed is None:
        return [encode(SnapshotReject(req.req_id, f"unknown instrument {req.instrument!r}"))]
    unknown = set(req.channels) - set(CHANNELS)
    if unknown or not req.channels:
        return [encode(SnapshotReject(req.req_id, f"unknown channels {sorted(unknown)}"))]
    frames = [encode(m) for m in _state(feed, req.channels, depth_levels)]
    seqs = {c: feed.seqs[CHANNELS.index(c)] for c in req.channels}
    frames.append(encode(SnapshotEnd(req.req_id, epoch, feed.instrument, seqs)))
    return frames


def _state(feed: InstrumentFeed, channels: str, depth_levels: int) -> list:
    """The current state of each requested channel, as that channel's message type."""
    iid, book, seqs = feed.instrument, feed.book, feed.seqs
    seq = dict(zip(CHANNELS, seqs, strict=True))
    ts = max(feed.sent_ns)
    out: list = []
    if STATUS in channels:
        out.append(feed.status)
    if AUCTION in channels and feed.auction is not None:
        out.append(feed.auction)
    if TRADES in channels:
        out.append(Trades(seq[TRADES], iid, list(feed.recent_trades)))
    if DEPTH in channels:
        levels = depth_levels or None
        out.append(DepthUpdate(seq[DEPTH], iid, [
            (side, price, qty, orders)
            for side in (BUY, SELL)
            for price, qty, orders in book.depth(side, levels)
        ], ts))
    if ORDERS in channels:
        every = [key for side in (BUY, SELL) for key in book.side_levels(side)]
        out.append(OrderLevels(seq[ORDERS], iid, queues(book, every), ts))
    if QUOTE in channels:
        out.append(feed.quote)
    if STATS in channels:
        st = feed.stats
        out.append(DailyStats(seq[STATS], iid, st.day, st.open, st.high, st.low, st.last,
                              st.vwap, st.volume, st.turnover, st.trades, ts))
    if BARS in channels:
        bars = [bar for ring in feed.recent_bars.values() for bar in ring]
        out.append(Bars(seq[BARS], iid, bars))
    return out


def queues(book: Book, keys: Iterable[int]) -> list[QueueTuple]:
    """Each level's displayed queue in time priority, empty if it is gone; levels named by
    their book keys (-price for bids, price for asks)."""
    out = []
    bids, asks = book.bids, book.asks
    for key in keys:
        if key < 0:
            level, side, price = bids.get(key), BUY, -key
        else:
            level, side, price = asks.get(key), SELL, key
        out.append((side, price, list(map(_ORDER_VIEW, level.orders.values())) if level else []))
    return out


def _info(book: Book) -> InstrumentInfo:
    i = book.instrument
    return InstrumentInfo(i.instrument_id, i.name, i.currency, i.minor_units, i.tick_size,
                          i.lot_size, i)
