"""The market-data publisher: the server loop's events in, sequenced feed frames out.

Public type: :class:`MarketDataPublisher` (the server's event sink); constants
:data:`DEFAULT_HWM`, :data:`HEARTBEAT_NS`.

A thin adapter in the h11 sense: it never touches the core except to read books for the
depth window and for snapshots, and it never reads a clock: bars close on the sequenced time
of each batch (a journaled clock tick is a batch too), so a replay of the journal's batches
numbers every topic exactly as the live server did, and after a crash the numbers continue
(:class:`gateway.sinks.DurableSink`). All of one batch's changes to a topic leave as one
frame (per-frame Python cost dominates). The PUB socket
drops at its high-water mark instead of blocking, so a stalled analyst costs the engine
nothing; the analyst sees the gap in the topic's sequence and heals through a snapshot,
which the single-threaded server serves between batches, exactly at the published sequence.
"""

from __future__ import annotations

import contextlib
import time
from itertools import islice

import msgspec
import zmq
import zmq.backend

from engine import messages as ev_types
from engine.core import Core
from engine.messages import Event, Side
from marketdata import snapshot
from marketdata.feedstate import InstrumentFeed
from marketdata.messages import (
    AuctionIndicative,
    Bars,
    ChannelState,
    DailyStats,
    DepthUpdate,
    Heartbeat,
    InstrumentStatus,
    OrderLevels,
    Quote,
    Trades,
    encode,
)

BUY = int(Side.BUY)
SELL = int(Side.SELL)
DONTWAIT = zmq.DONTWAIT
_SIDE_CODE = {None: 0, Side.BUY: BUY, Side.SELL: SELL}
"""An event's side (an IntEnum, or None for an auction's aggressor) as the plain int the feed
carries: msgspec encodes an IntEnum through its slow path for uncommon types and CPython 3.11
does not specialise comparisons with one, while a lookup here finds the member by identity."""
T, Q, D, L3, A, H, B, S = range(8)  # channel indexes, in messages.CHANNELS order

DEFAULT_HWM = 10_000
"""Frames queued per subscriber before the PUB drops. Bursts are absorbed on the analyst's
side (the client's receive HWM is 100,000); here the bound keeps a stalled subscriber from
costing more than this much memory and I/O-thread copying."""
SNDBUF_BYTES = 256 * 1024
"""Kernel send buffer per subscriber connection. Loopback autotuning would let a stalled
subscriber's connection soak up megabytes, every byte copied by libzmq's I/O thread, which
shares the machine with the engine; a fixed buffer makes the HWM the real bound."""
SNAPSHOT_HWM = 1_000
HEARTBEAT_NS = 1_000_000_000
"""Idle time after which a topic repeats its last sequence number."""
SNAPSHOT_BUDGET = 16
"""Snapshot requests served per readable event, so recovery storms cannot starve matching."""
MDATA_DOMAIN = b"mdata"

_encode_into = msgspec.msgpack.Encoder().encode_into
"""Same settings as ``messages.encode``; writes after the topic in a reused buffer."""

CurveKeys = tuple[bytes, bytes]
"""A CURVE key pair ``(public, secret)`` in Z85, as ``zmq.curve_keypair()`` returns."""


class MarketDataPublisher:
    """PUB for sequenced updates plus ROUTER for snapshots, fed one batch at a time."""

    state_key = "marketdata"

    def __init__(
        self,
        ctx: zmq.Context,
        core: Core,
        pub_endpoint: str,
        snapshot_endpoint: str,
        *,
        curve: CurveKeys | None = None,
        depth_levels: int = 10,
        hwm: int = DEFAULT_HWM,
        heartbeat_ns: int = HEARTBEAT_NS,
        epoch: int | None = None,
    ) -> None:
        """``depth_levels`` 0 publishes every level; ``epoch`` defaults to the start time."""
        self.core = core
        self.depth_levels = depth_levels
        self.heartbeat_ns = heartbeat_ns
        self.epoch = time.time_ns() if epoch is None else epoch
        self.pub = _socket(ctx, zmq.PUB, curve, hwm)
        self.router = _socket(ctx, zmq.ROUTER, curve, SNAPSHOT_HWM)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.pub.bind(pub_endpoint)
        self.router.bind(snapshot_endpoint)
        self.feeds = {
            iid: InstrumentFeed(book, depth_levels, 0) for iid, book in core.books.items()
        }
        self.frames_sent = 0
        self._next_close = -1  # earliest end of an open bar, -1 when none
        self._next_heartbeat_check = 0
        # The backend's send, past pyzmq's Python-level wrapper (routing ids and groups,
        # which a PUB never uses): a per-frame saving on the hot path.
        self._send_frame = zmq.backend.Socket.send.__get__(self.pub)
        # Keyed by the event's class: one dict lookup per event, no name string.
        self._handlers = {
            ev_types.Trade: self._on_trade,
            ev_types.BookLevelChanged: self._on_level,
            ev_types.PhaseChanged: self._on_phase,
            ev_types.AuctionExtended: self._on_phase,
            ev_types.ReferencePriceChanged: self._on_status,
            ev_types.InstrumentListed: self._on_status,
            ev_types.AuctionIndicative: self._on_indicative,
        }

    # -- the server's EventSink protocol --------------------------------------------------

    def sockets(self) -> list[zmq.Socket]:
        return [self.router]

    def on_readable(self, sock: zmq.Socket) -> None:
        """Serve up to :data:`SNAPSHOT_BUDGET` snapshot requests waiting on ``sock``."""
        for _ in range(SNAPSHOT_BUDGET):
            try:
                parts = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            reply = snapshot.answer(parts[-1], self.feeds, self.core, self.epoch,
                                    self.depth_levels)
            with contextlib.suppress(zmq.ZMQError):  # the client left or is not reading:
                sock.send_multipart([parts[0], *reply], DONTWAIT)  # it will ask again

    def on_events(self, events: list[Event], ts: int | None = None) -> None:
        """Publish what one batch of commands changed: at most one frame per topic.

        ``ts`` is the sequenced time of the batch's last command (by default its last
        event's); bars that end by then close.
        """
        if ts is None:
            if not events:
                return
            ts = events[-1].ts
        elif not events and not 0 <= self._next_close <= ts:
            return
        touched: dict[str, InstrumentFeed] = {}
        handlers = self._handlers
        feeds = self.feeds
        last_iid = feed = None  # a batch mostly touches one instrument: skip the lookups
        for ev in events:
            handler = handlers.get(type(ev))
            if handler is not None:
                iid = ev.instrument
                if iid != last_iid:
                    if type(iid) is not str:  # InstrumentListed carries the whole instrument
                        iid = iid.instrument_id
                        self._listed(iid, ev.ts)
                    last_iid = iid
                    feed = touched.get(iid)
                    if feed is None:
                        feed = touched[iid] = feeds[iid]
                handler(ev, feed)
        if 0 <= self._next_close <= ts:
            self._close_bars(ts, touched)
        for feed in touched.values():
            self._flush(feed, ts)

    def next_deadline(self) -> int | None:
        """The close of the earliest open bar: bars close on sequenced time only."""
        return self._next_close if self._next_close >= 0 else None

    def on_idle(self, now_ns: int) -> None:
        """Repeat the sequence number on topics idle for a heartbeat period (no state moves
        on the wall clock: a heartbeat advances nothing)."""
        if now_ns < self._next_heartbeat_check:
            return
        self._next_heartbeat_check = now_ns + self.heartbeat_ns // 4
        stale = now_ns - self.heartbeat_ns
        send = self.pub.send
        epoch = self.epoch
        for feed in self.feeds.values():
            sent_ns = feed.sent_ns
            for channel, last in enumerate(sent_ns):
                if last <= stale:
                    send(feed.topics[channel] + encode(Heartbeat(feed.seqs[channel], epoch,
                                                                 now_ns)), DONTWAIT)
                    sent_ns[channel] = now_ns
                    self.frames_sent += 1

    def close(self) -> None:
        self.pub.close(linger=0)
        self.router.close(linger=0)

    # -- the server's DurableSink protocol ------------------------------------------------

    def capture(self) -> dict:
        """Everything the numbering depends on; the feeds refer to the core's books."""
        return {"epoch": self.epoch, "feeds": self.feeds}

    def resume(self, state: dict | None, epoch: int) -> None:
        """Continue a snapshot's feeds and epoch, or number the books as they stand in
        ``epoch``."""
        if state is None:
            self.epoch = epoch
            return
        self.epoch = state["epoch"]
        self.feeds = state["feeds"]
        self._next_close = self._earliest_bar_close()

    def replay(self, events: list[Event], ts: int) -> None:
        """A journaled batch, numbered and remembered as live, with nothing sent."""
        send_frame, sent = self._send_frame, self.frames_sent
        self._send_frame = _discard
        try:
            self.on_events(events, ts)
        finally:
            self._send_frame, self.frames_sent = send_frame, sent

    # -- event handlers: note what changed ------------------------------------------------

    def _on_trade(self, ev, feed: InstrumentFeed) -> None:
        price, qty, ts = ev.price, ev.qty, ev.ts
        aggressor = _SIDE_CODE[ev.aggressor]
        trade = (ev.trade_id, price, qty, aggressor, ts)
        feed.trades.append(trade)
        feed.recent_trades.append(trade)
        feed.stats.add(price, qty, ts)
        for builder in feed.bar_builders:
            closed = builder.add(price, qty, ts)
            if closed is not None:
                feed.closed_bars.append(closed)
                feed.recent_bars[closed.interval_s].append(closed)
        end = feed.bar_builders[0].end  # the shortest interval ends first
        if self._next_close < 0 or end < self._next_close:
            self._next_close = end
        # The maker's queue changes even when its displayed total does not (iceberg refill);
        # an auction trade has no maker, and the uncross reports every level it touches.
        if aggressor:
            feed.queues[price if aggressor == BUY else -price] = None  # the maker's level

    def _on_level(self, ev, feed: InstrumentFeed) -> None:
        side, price = _SIDE_CODE[ev.side], ev.price
        quote = feed.quote
        if side == BUY:
            key = -price
            if price >= quote.bid_price:
                feed.quote_dirty = True
        else:
            key = price
            if not quote.ask_price or price <= quote.ask_price:
                feed.quote_dirty = True
        feed.queues[key] = None
        levels = self.depth_levels
        if not levels:
            feed.full_depth[key] = (side, price, ev.qty, ev.orders)
        else:
            # Every change to a level of the published window is noted, so a side that only
            # changed sizes needs no book read. Anything that may change which levels the
            # window holds makes the side dirty: the flush re-reads the levels it has no note of.
            window = feed.window[side]
            qty = ev.qty
            if key in window:
                feed.full_depth[key] = (side, price, qty, ev.orders)
                if not qty:
                    feed.depth_dirty[side] = True
            elif feed.depth_dirty[side]:
                pass
            elif len(window) < levels:
                feed.depth_dirty[side] = True
            else:  # better than the window's worst (windows are kept best first)?
                feed.depth_dirty[side] = key < next(reversed(window))

    def _on_status(self, ev, feed: InstrumentFeed) -> None:
        feed.status_dirty = True

    def _on_phase(self, ev, feed: InstrumentFeed) -> None:
        """A new phase, or a later end of the current one (an English auction extended)."""
        feed.phase_end_ts = ev.end_ts
        feed.status_dirty = True

    def _on_indicative(self, ev, feed: InstrumentFeed) -> None:
        """The engine's indicative uncross during a call; the last of a batch is published."""
        feed.auction = AuctionIndicative(
            0, feed.instrument, ev.price, ev.volume, int(ev.surplus_side or 0), ev.surplus,
            ev.reference_price, ev.ts,
        )
        feed.auction_dirty = True

    def _listed(self, iid: str, ts: int) -> None:
        if iid not in self.feeds:
            self.feeds[iid] = InstrumentFeed(self.core.book(iid), self.depth_levels, ts)

    def _close_bars(self, now_ns: int, touched: dict[str, InstrumentFeed]) -> None:
        """Close every bar ending at or before ``now_ns``; find the next end."""
        for iid, feed in self.feeds.items():
            for builder in feed.bar_builders:
                closed = builder.close_due(now_ns)
                if closed is not None:
                    feed.closed_bars.append(closed)
                    feed.recent_bars[closed.interval_s].append(closed)
                    touched.setdefault(iid, feed)
        self._next_close = self._earliest_bar_close()

    def _earliest_bar_close(self) -> int:
        """The earliest end of an open bar of any instrument, or -1 when none is open."""
        ends = [end for feed in self.feeds.values() if (end := feed.next_bar_close()) >= 0]
        return min(ends, default=-1)

    # -- flush: one frame per changed topic -----------------------------------------------

    def _flush(self, feed: InstrumentFeed, ts: int) -> None:
        iid = feed.instrument
        book = feed.book
        seqs = feed.seqs
        out: list[tuple[int, ChannelState]] = []  # (channel, message), sent together below
        if feed.status_dirty:
            feed.status_dirty = False
            seqs[H] += 1
            feed.status = InstrumentStatus(seqs[H], iid, int(book.phase), book.reference_price,
                                           book.band_low, book.band_high, feed.phase_end_ts, ts)
            out.append((H, feed.status))
        if feed.auction_dirty:
            feed.auction_dirty = False
            seqs[A] += 1
            a = feed.auction
            feed.auction = AuctionIndicative(seqs[A], iid, a.price, a.volume, a.surplus_side,
                                             a.surplus, a.reference, a.ts)
            out.append((A, feed.auction))
        if feed.trades:
            seqs[T] += 1
            seqs[S] += 1
            st = feed.stats
            out.append((T, Trades(seqs[T], iid, feed.trades)))
            out.append((S, DailyStats(seqs[S], iid, st.day, st.open, st.high, st.low, st.last,
                                      st.vwap, st.volume, st.turnover, st.trades, ts)))
            feed.trades = []
        if feed.full_depth or feed.depth_dirty[BUY] or feed.depth_dirty[SELL]:
            changes = self._depth_changes(feed)
            if changes:
                seqs[D] += 1
                out.append((D, DepthUpdate(seqs[D], iid, changes, ts)))
        if feed.queues:
            seqs[L3] += 1
            out.append((L3, OrderLevels(seqs[L3], iid, snapshot.queues(book, feed.queues), ts)))
            feed.queues = {}
        if feed.quote_dirty:
            feed.quote_dirty = False
            bid_px = book.best_bid() or 0
            ask_px = book.best_ask() or 0
            bid_qty = book.bids[-bid_px].qty if bid_px else 0  # bids are keyed by -price
            ask_qty = book.asks[ask_px].qty if ask_px else 0
            q = feed.quote
            if (bid_px != q.bid_price or bid_qty != q.bid_qty or ask_px != q.ask_price
                    or ask_qty != q.ask_qty):
                seqs[Q] += 1
                feed.quote = Quote(seqs[Q], iid, bid_px, bid_qty, ask_px, ask_qty, ts)
                out.append((Q, feed.quote))
        if feed.closed_bars:
            seqs[B] += 1
            out.append((B, Bars(seqs[B], iid, feed.closed_bars)))
            feed.closed_bars = []
        self._send(feed, out, ts)

    def _depth_changes(self, feed: InstrumentFeed) -> list[tuple[int, int, int, int]]:
        """Levels of the published window that this batch changed, deletions as qty 0."""
        full_depth = feed.full_depth
        if not self.depth_levels:
            changes = list(full_depth.values())
            full_depth.clear()
            return changes
        changes = []
        dirty = feed.depth_dirty
        window = feed.window
        for key, change in full_depth.items():
            side = change[0]
            if not dirty[side]:
                window[side][key] = change[2:]
                changes.append(change)
        book = feed.book
        for side in (BUY, SELL):
            if not dirty[side]:
                continue
            dirty[side] = False
            # The new window is the book's top levels, best first (the handlers' edge test
            # relies on it). A level of the old window without a note kept its size; what is
            # left of ``old`` afterwards has left the window.
            old = window[side]
            new = {}
            pop = old.pop
            levels = book.side_levels(side)
            sign = -1 if side == BUY else 1  # bids are keyed by -price
            for key in islice(levels.sorted_keys, self.depth_levels):  # best key first
                prev = pop(key, None)
                if prev is not None and key not in full_depth:
                    new[key] = prev
                    continue
                level = levels[key]
                state = new[key] = (level.qty, len(level.orders))
                if prev != state:
                    changes.append((side, key * sign, *state))
            changes.extend((side, key * sign, 0, 0) for key in old)
            window[side] = new
        full_depth.clear()
        return changes

    def _send(self, feed: InstrumentFeed, out: list[tuple[int, ChannelState]], ts: int) -> None:
        """Encode each message straight after its topic in the channel's reused buffer and
        send it (the send copies); one call per batch, not per frame."""
        frames = feed.frames
        sent_ns = feed.sent_ns
        offset = feed.topic_len
        send = self._send_frame
        for channel, msg in out:
            frame = frames[channel]
            _encode_into(msg, frame, offset)
            send(frame, DONTWAIT)
            sent_ns[channel] = ts
        self.frames_sent += len(out)


def _discard(frame: bytearray, flags: int) -> None:
    """Stands in for the PUB's send while a replay renumbers the feed."""


def _socket(ctx: zmq.Context, kind: int, curve: CurveKeys | None, hwm: int) -> zmq.Socket:
    """A server socket with bounded queues, no linger, TCP keepalive by ZMTP heartbeats."""
    sock = ctx.socket(kind)
    sock.linger = 0
    sock.sndhwm = hwm
    sock.rcvhwm = hwm
    sock.sndbuf = SNDBUF_BYTES
    sock.setsockopt(zmq.HEARTBEAT_IVL, 1_000)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3_000)
    if curve is not None:
        public, secret = curve
        sock.curve_server = True
        sock.curve_publickey = public
        sock.curve_secretkey = secret
        sock.zap_domain = MDATA_DOMAIN
    return sock
