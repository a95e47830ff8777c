"""The subscriber library: subscribe by instrument and channel, keep a local book and bars.

Public types: :class:`FeedClient`, :class:`Update`, :class:`Synced`, :class:`GapDetected`,
:data:`ClientCurve`.

Recovery is the ZeroMQ Guide's Clone pattern (research/protocol.md §7.3), per instrument:

1. subscribe to the instrument's topics and wait for the first frame or heartbeat on any of
   them, so the subscription is known to be live;
2. ask the snapshot port for the instrument's state, keeping live frames in a buffer;
3. apply the snapshot, drop buffered frames at or below its sequence numbers, apply the rest;
4. live: ``seq == last + 1`` applies; a jump is a gap. On an incremental channel (trades,
   depth, orders, bars) a gap sends the instrument back to step 2: no retransmit requests.
   State channels (quote, auction, status, statistics) carry the whole state in every
   message, so the next one heals them. A heartbeat above ``last`` reveals a lost tail, a
   sequence going backwards or a new epoch a publisher that could not continue its
   numbering: both resynchronise too. A publisher recovered from its journal keeps its epoch
   and continues every topic's numbers, so a subscriber just goes on.

Use it with callbacks (``on_update``), by polling (:meth:`FeedClient.poll`) or as an iterator
(:meth:`FeedClient.updates`). The client owns its sockets; it is not thread-safe.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import msgspec
import zmq

from marketdata.localbook import InstrumentView
from marketdata.messages import (
    CHANNEL_OF,
    CHANNELS,
    STATE_CHANNELS,
    Directory,
    Heartbeat,
    InstrumentInfo,
    SnapshotEnd,
    SnapshotReject,
    SnapshotRequest,
    decode_feed,
    decode_reply,
    encode,
    split_frame,
    topic,
)

DEFAULT_HWM = 100_000
SNAPSHOT_TIMEOUT_S = 2.0
"""A snapshot request unanswered this long is sent again (the reply may have been dropped)."""
MAX_BUFFER = 200_000
"""Live frames kept while a snapshot is on its way; losing older ones only causes a resync."""
WAITING, SYNCING, LIVE = range(3)

ClientCurve = tuple[bytes, bytes, bytes]
"""``(client public, client secret, server public)`` CURVE keys in Z85."""


class Synced(msgspec.Struct, frozen=True):
    """The instrument's state now equals the publisher's at ``seqs``: updates are exact."""

    instrument: str
    seqs: dict[str, int]


class GapDetected(msgspec.Struct, frozen=True):
    """A frame was lost on ``channel``; the client resynchronises by itself."""

    instrument: str
    channel: str
    expected: int
    received: int


Update = msgspec.Struct
"""What :meth:`FeedClient.poll` returns: an applied feed message, :class:`Synced` or
:class:`GapDetected`."""


class _Sync:
    """Recovery state of one instrument."""

    def __init__(self, instrument: str, channels: str) -> None:
        self.instrument = instrument
        self.channels = channels
        self.state = WAITING
        self.seqs = dict.fromkeys(channels, 0)
        self.buffer: deque[tuple[str, object]] = deque(maxlen=MAX_BUFFER)
        self.req_id = 0
        self.deadline = 0.0
        self.epoch = 0


class FeedClient:
    """SUB for live frames plus DEALER for snapshots, and one view per instrument."""

    def __init__(
        self,
        ctx: zmq.Context,
        pub_endpoint: str,
        snapshot_endpoint: str,
        instruments: Iterable[str] = (),
        channels: str = CHANNELS,
        *,
        curve: ClientCurve | None = None,
        on_update: Callable[[Update], None] | None = None,
        hwm: int = DEFAULT_HWM,
    ) -> None:
        unknown = set(channels) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; choose from {CHANNELS}")
        self.channels = channels
        self.on_update = on_update
        self.sub = _socket(ctx, zmq.SUB, curve, hwm)
        self.dealer = _socket(ctx, zmq.DEALER, curve, hwm)
        self.sub.connect(pub_endpoint)
        self.dealer.connect(snapshot_endpoint)
        self.poller = zmq.Poller()
        self.poller.register(self.sub, zmq.POLLIN)
        self.poller.register(self.dealer, zmq.POLLIN)
        self.views: dict[str, InstrumentView] = {}
        self.directory: list[InstrumentInfo] | None = None
        self.epoch = 0
        self.gaps = 0
        self.snapshots = 0
        self.last_heartbeat_ns = 0
        """The publisher's time in the last heartbeat heard: the feed is alive up to then."""
        self._routes: dict[bytes, tuple[_Sync, str]] = {}
        self._syncs: dict[str, _Sync] = {}
        self._pending: dict[int, _Sync] = {}
        self._req_ids = itertools.count(1)
        for instrument in instruments:
            self.subscribe(instrument)

    # -- public ----------------------------------------------------------------------------

    def subscribe(self, instrument: str) -> InstrumentView:
        """Subscribe to the instrument's channels; its view fills in once synchronised."""
        if instrument not in self._syncs:
            sync = self._syncs[instrument] = _Sync(instrument, self.channels)
            self.views[instrument] = InstrumentView(instrument)
            for channel in self.channels:
                t = topic(channel, instrument)
                self._routes[t] = (sync, channel)
                self.sub.subscribe(t)
        return self.views[instrument]

    def synced(self, instrument: str) -> bool:
        return self._syncs[instrument].state == LIVE

    def seqs(self, instrument: str) -> dict[str, int]:
        """The sequence number last applied on each of the instrument's channels."""
        return dict(self._syncs[instrument].seqs)

    def request_directory(self) -> None:
        """Ask for the listed instruments; :attr:`directory` is set when the answer arrives."""
        self.dealer.send(encode(SnapshotRequest(next(self._req_ids), "", "")), zmq.DONTWAIT)

    def poll(self, timeout_ms: int = 0) -> list[Update]:
        """Wait up to ``timeout_ms`` for frames, apply all that are waiting, return them."""
        out: list[Update] = []
        ready = dict(self.poller.poll(timeout_ms))
        if self.dealer in ready:
            self._drain_replies(out)
        if self.sub in ready:
            self._drain_live(out)
        self._retry_snapshots()
        if self.on_update is not None:
            for update in out:
                self.on_update(update)
        return out

    def updates(self, seconds: float | None = None) -> Iterator[Update]:
        """Iterate over updates as they come, for ``seconds`` or until the caller stops."""
        end = None if seconds is None else time.monotonic() + seconds
        while end is None or time.monotonic() < end:
            left = 100 if end is None else max(0, min(100, int((end - time.monotonic()) * 1000)))
            yield from self.poll(left)

    def wait_synced(self, timeout_s: float) -> bool:
        """Poll until every subscribed instrument is synchronised, or the time is up."""
        end = time.monotonic() + timeout_s
        while not all(s.state == LIVE for s in self._syncs.values()):
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.poll(int(min(left, 0.05) * 1000) + 1)
        return True

    def close(self) -> None:
        self.sub.close(linger=0)
        self.dealer.close(linger=0)

    # -- live frames -----------------------------------------------------------------------

    def _drain_live(self, out: list[Update]) -> None:
        recv = self.sub.recv
        routes = self._routes
        while True:
            try:
                frame = recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            name, payload = split_frame(frame)
            route = routes.get(name)
            if route is None:
                continue
            sync, channel = route
            msg = decode_feed(payload)
            if type(msg) is Heartbeat:
                self.last_heartbeat_ns = msg.ts
            if sync.state == LIVE:
                self._live(sync, channel, msg, out, replay=False)
            else:
                sync.buffer.append((channel, msg))
                if sync.state == WAITING:
                    self._request_snapshot(sync)

    def _live(self, sync: _Sync, channel: str, msg, out: list[Update], replay: bool) -> None:
        """Apply one frame in sequence, or start a resynchronisation."""
        last = sync.seqs[channel]
        seq = msg.seq
        if type(msg) is Heartbeat:
            if msg.epoch != sync.epoch or seq > last or (seq < last and not replay):
                self._resync(sync, channel, last + 1, seq, out)
            return
        if seq <= last:
            if not replay:  # in order on one connection: only a restart goes backwards
                self._resync(sync, channel, last + 1, seq, out)
            return
        if seq != last + 1:
            if channel not in STATE_CHANNELS:
                self._resync(sync, channel, last + 1, seq, out)
                sync.buffer.append((channel, msg))
                return
            self.gaps += 1
        sync.seqs[channel] = seq
        self.views[sync.instrument].apply(msg)
        out.append(msg)

    def _resync(self, sync: _Sync, channel: str, expected: int, got: int, out: list) -> None:
        self.gaps += 1
        out.append(GapDetected(sync.instrument, channel, expected, got))
        sync.buffer.clear()
        self._request_snapshot(sync)

    # -- snapshots -------------------------------------------------------------------------

    def _request_snapshot(self, sync: _Sync) -> None:
        self._pending.pop(sync.req_id, None)
        sync.state = SYNCING
        sync.req_id = next(self._req_ids)
        sync.deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
        self._pending[sync.req_id] = sync
        request = SnapshotRequest(sync.req_id, sync.instrument, sync.channels)
        with contextlib.suppress(zmq.Again):  # not connected yet: the retry timer resends
            self.dealer.send(encode(request), zmq.DONTWAIT)

    def _retry_snapshots(self) -> None:
        now = time.monotonic()
        for sync in list(self._pending.values()):
            if now >= sync.deadline:
                self._request_snapshot(sync)

    def _drain_replies(self, out: list[Update]) -> None:
        while True:
            try:
                frames = self.dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            msgs = [decode_reply(f) for f in frames]
            last = msgs[-1]
            if type(last) is Directory:
                self.directory = last.instruments
            elif type(last) is SnapshotReject:
                sync = self._pending.pop(last.req_id, None)
                if sync is not None:
                    raise ValueError(f"snapshot of {sync.instrument} refused: {last.reason}")
            elif type(last) is SnapshotEnd:
                sync = self._pending.pop(last.req_id, None)
                if sync is not None:  # else an answer to a request since superseded
                    self._apply_snapshot(sync, msgs[:-1], last, out)

    def _apply_snapshot(self, sync: _Sync, msgs: list, end: SnapshotEnd, out: list) -> None:
        self.snapshots += 1
        self.epoch = sync.epoch = end.epoch
        view = self.views[sync.instrument]
        for msg in msgs:
            if CHANNEL_OF[type(msg)] in sync.channels:
                view.apply(msg, snapshot=True)
                out.append(msg)
        sync.seqs = dict(end.seqs)
        sync.state = LIVE
        out.append(Synced(sync.instrument, dict(end.seqs)))
        buffered = list(sync.buffer)
        sync.buffer.clear()
        for channel, msg in buffered:
            if sync.state != LIVE:
                sync.buffer.append((channel, msg))
            else:
                self._live(sync, channel, msg, out, replay=True)


def _socket(ctx: zmq.Context, kind: int, curve: ClientCurve | None, hwm: int) -> zmq.Socket:
    sock = ctx.socket(kind)
    sock.linger = 0
    sock.rcvhwm = hwm
    sock.sndhwm = hwm
    sock.setsockopt(zmq.HEARTBEAT_IVL, 1_000)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3_000)
    if curve is not None:
        public, secret, server = curve
        sock.curve_publickey = public
        sock.curve_secretkey = secret
        sock.curve_serverkey = server
    return sock
