"""Feed tests over real sockets, and the two helpers they share.

- :class:`FeedServer`: the server loop in miniature. One thread owns a real core and a real
  :class:`~marketdata.publisher.MarketDataPublisher`; it applies command batches sent to it,
  serves snapshots and heartbeats between batches, like ``gateway/server.py``.
- :func:`random_session`: a seeded command stream that exercises every book change the feed
  must carry (limits, markets, IOC, icebergs, stops, cancels, amends, mass cancels, halts).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable

import zmq

from engine.core import Core
from engine.messages import (
    AmendOrder,
    CancelOrder,
    MassCancel,
    NewOrder,
    OrderType,
    Phase,
    SetPhase,
    SetReferencePrice,
    Side,
    TimeInForce,
)
from marketdata.messages import CHANNELS
from marketdata.publisher import MarketDataPublisher
from tests.stubs import instrument

IIDS = ("TST-A", "TST-B")
HEARTBEAT_NS = 20_000_000
"""Tests heartbeat every 20 ms so a subscriber's handshake takes milliseconds."""
WAIT_S = 10.0


def make_core() -> Core:
    return Core([instrument(instrument_id=iid) for iid in IIDS])


class FeedServer:
    """A thread that owns the core and the publisher; other threads talk to it by messages.

    Commands and calls travel through a queue and a wake-up PAIR socket, so the thread sleeps
    in ``poll`` like the real server and never shares the core with the test's thread.
    """

    def __init__(self, ctx: zmq.Context, core: Core, **publisher_kw) -> None:
        self.ctx = ctx
        self.core = core
        self.kw = {"heartbeat_ns": HEARTBEAT_NS, **publisher_kw}
        self.inbox: queue.Queue = queue.Queue()
        self.seq = 0
        self._wake_addr = f"inproc://wake-{id(self)}"
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> FeedServer:
        self._wake = self.ctx.socket(zmq.PAIR)
        self._wake.bind(self._wake_addr)
        self._thread.start()
        if not self._ready.wait(WAIT_S):
            raise RuntimeError("feed server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self.inbox.put(None)
        self._wake.send(b"")
        self._thread.join(WAIT_S)
        self._wake.close(linger=0)

    def apply(self, batch: list) -> None:
        """Queue one batch of commands; the thread applies it and publishes its events."""
        self.inbox.put(batch)
        self._wake.send(b"")

    def call(self, fn: Callable):
        """Run ``fn(core, publisher)`` in the server thread after every queued batch."""
        done: queue.Queue = queue.Queue()
        self.inbox.put((fn, done))
        self._wake.send(b"")
        result = done.get(timeout=WAIT_S)
        if isinstance(result, BaseException):
            raise result
        return result

    def _loop(self) -> None:
        wake = self.ctx.socket(zmq.PAIR)
        wake.connect(self._wake_addr)
        pub = MarketDataPublisher(
            self.ctx, self.core, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", **self.kw
        )
        self.publisher = pub
        self.pub_endpoint = pub.pub.last_endpoint.decode()
        self.snapshot_endpoint = pub.router.last_endpoint.decode()
        poller = zmq.Poller()
        poller.register(wake, zmq.POLLIN)
        for sock in pub.sockets():
            poller.register(sock, zmq.POLLIN)
        self._ready.set()
        try:
            while True:
                ready = dict(poller.poll(5))
                for sock in pub.sockets():
                    if sock in ready:
                        pub.on_readable(sock)
                if wake in ready:
                    while wake.poll(0):
                        wake.recv()
                    if not self._drain(pub):
                        return
                pub.on_idle(time.time_ns())
        finally:
            pub.close()
            wake.close(linger=0)

    def _drain(self, pub: MarketDataPublisher) -> bool:
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return True
            if item is None:
                return False
            if isinstance(item, tuple):
                fn, done = item
                try:
                    done.put(fn(self.core, pub))
                except BaseException as exc:  # handed back to the caller's thread
                    done.put(exc)
                continue
            events = []
            for cmd in item:
                self.seq += 1
                events += self.core.apply(cmd, self.seq, time.time_ns())
            pub.on_events(events)


def random_session(seed: int, n: int, first_id: int = 1) -> list[list]:
    """``n`` seeded commands on :data:`IIDS`, cut into batches of 1 to 12 commands.

    Prices walk around 100 on a tick of 1 inside the test instrument's 50..150 band.
    Ids of cancels and amends are drawn from the ids sent before, so some name orders that
    are gone (rejected by the core, as a real session's would be).
    """
    rng = random.Random(seed)
    sent: list[tuple[str, int, str]] = []
    next_id = first_id
    cmds: list = []
    mids = dict.fromkeys(IIDS, 100)
    for _ in range(n):
        iid = rng.choice(IIDS)
        mids[iid] = min(130, max(70, mids[iid] + rng.choice((-1, 0, 0, 1))))
        mid = mids[iid]
        who = f"P{rng.randrange(6)}"
        side = rng.choice((Side.BUY, Side.SELL))
        sign = -1 if side == Side.BUY else 1
        r = rng.random()
        if r < 0.45 or not sent:
            kw = {}
            if rng.random() < 0.1:
                kw["display_qty"] = rng.randint(1, 3)
            if rng.random() < 0.1:
                kw["tif"] = TimeInForce.IOC
            price = mid + sign * rng.randint(-3, 8)
            cmds.append(NewOrder(iid, next_id, who, side, rng.randint(1, 12), price, **kw))
            sent.append((iid, next_id, who))
            next_id += 1
        elif r < 0.52:
            cmds.append(NewOrder(iid, next_id, who, side, rng.randint(1, 8),
                                 order_type=OrderType.MARKET, tif=TimeInForce.IOC))
            next_id += 1
        elif r < 0.55:
            stop_px = mid - sign * rng.randint(1, 4)
            cmds.append(NewOrder(iid, next_id, who, side, rng.randint(1, 5),
                                 order_type=OrderType.STOP, stop_price=stop_px))
            sent.append((iid, next_id, who))
            next_id += 1
        elif r < 0.80:
            cmds.append(CancelOrder(*rng.choice(sent)))
        elif r < 0.95:
            oiid, oid, owner = rng.choice(sent)
            cmds.append(AmendOrder(oiid, oid, owner, rng.randint(1, 14),
                                   mids[oiid] + rng.randint(-6, 6)))
        elif r < 0.97:
            cmds.append(MassCancel(who, iid))
        elif r < 0.985:
            cmds.append(SetReferencePrice(iid, mid))
        else:
            cmds.append(SetPhase(iid, Phase.HALTED))
            cmds.append(SetPhase(iid, Phase.CONTINUOUS))
    batches = []
    i = 0
    while i < len(cmds):
        size = rng.randint(1, 12)
        batches.append(cmds[i : i + size])
        i += size
    return batches


def engine_view(core: Core, depth_levels: int) -> dict:
    """What a synchronised client must hold, read from the engine's books."""
    out = {}
    for iid, book in core.books.items():
        out[iid] = {
            "depth": [book.depth(s, depth_levels or None) for s in (Side.BUY, Side.SELL)],
            "resting": [
                [(o.order_id, o.price, o.visible) for o in book.resting(s)]
                for s in (Side.BUY, Side.SELL)
            ],
            "full": [book.depth(s) for s in (Side.BUY, Side.SELL)],
            "best": (book.best_bid() or 0, book.best_ask() or 0),
            "status": (int(book.phase), book.reference_price, book.band_low, book.band_high),
        }
    return out


def client_view(client, depth_levels: int) -> dict:
    """The same picture as :func:`engine_view`, read from a client's local views."""
    out = {}
    for iid, view in client.views.items():
        b = view.book
        q = view.quote
        s = view.status
        out[iid] = {
            "depth": [b.depth(side, depth_levels or None) for side in (1, 2)],
            "resting": [b.resting(side) for side in (1, 2)],
            "full": [b.queue_depth(side) for side in (1, 2)],
            "best": (q.bid_price, q.ask_price) if q else (0, 0),
            "status": (s.phase, s.reference_price, s.band_low, s.band_high) if s else None,
        }
    return out


def published_seqs(server: FeedServer) -> dict[str, list[int]]:
    return server.call(lambda core, pub: {i: list(f.seqs) for i, f in pub.feeds.items()})


def catch_up(client, server: FeedServer, timeout_s: float = WAIT_S) -> None:
    """Poll the client until it is live and has applied every frame published so far."""
    target = published_seqs(server)
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        client.poll(20)
        if all(
            client.synced(iid)
            and all(n >= target[iid][CHANNELS.index(c)] for c, n in client.seqs(iid).items())
            for iid in client.views
        ):
            return
    raise AssertionError(f"client did not catch up with {target}")
