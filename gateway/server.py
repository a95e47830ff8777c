"""The exchange server: sockets, security and the one sequenced loop around the gateway.

Public names: :class:`Server`, :func:`run_in_thread`.

One thread owns all state. Each turn of the loop drains what the sockets hold (up to a batch
budget), lets :class:`~gateway.session.Gateway` turn requests into engine commands or
rejects, has it stamp, journal and apply them, sends the replies, and then gives the batch's
events to the sinks (the market-data publisher). Sends never block (``DONTWAIT``); a peer
that has gone (``ROUTER_MANDATORY`` says so) loses its session, and with it its orders when it
asked for cancel-on-disconnect.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import zmq

from engine.core import Core
from engine.instruments import default_instruments, load_instruments
from gateway.affinity import io_threads_elsewhere, pin_thread
from gateway.auth import ADMIN, ORDERS, ExchangeAuthenticator, KeyPair, load_key_pair
from gateway.codec import encode
from gateway.config import SERVER_KEY, ServerConfig
from gateway.journal import Journal, NullJournal
from gateway.session import Gateway
from gateway.sinks import EventSink
from gateway.store import Store
from risk.config import demo_setup, load_setup
from risk.engine import RiskEngine

log = logging.getLogger("ipx.server")

POLL_MS = 50
"""Longest the loop sleeps: bounds timer jitter and how long :meth:`Server.stop` takes."""
TIMER_NS = 50_000_000
"""How often heartbeats, session timeouts and expiry are checked."""
HWM = 100_000
TRANSPORT_MAX_BYTES = 1 << 20
"""libzmq drops (and disconnects) anything larger, before it costs us memory."""


class Server:
    """Builds the context, authenticator and core from a config; :meth:`run` serves them.

    Create sinks with :attr:`context`, :attr:`core` and :attr:`authenticator` (to admit
    keys on the ``mdata`` domain) and :meth:`add_sink` them before :meth:`run`.
    """

    def __init__(
        self,
        config: ServerConfig,
        *,
        core: Core | None = None,
        journal: Journal | None = None,
        sinks: list[EventSink] | tuple = (),
    ) -> None:
        self.config = config
        key_dir = config.key_path()
        self.server_key: KeyPair = load_key_pair(key_dir, SERVER_KEY)
        if self.server_key.secret is None:
            raise ValueError(f"no server secret key in {key_dir}")
        setup = []
        self.store: Store | None = None
        """The data directory (journal, snapshots, tree heads) when ``data_dir`` is set."""
        if config.data_dir and journal is None and core is None:
            self.store = Store(config)
            core = self.store.core
            journal = self.store.journal
        if core is None:
            source = config.instruments_file
            instruments = load_instruments(Path(source)) if source else default_instruments()
            risk = None
            if config.risk_enabled:
                risk = RiskEngine()
                setup = load_setup(Path(config.risk_file).read_bytes()) if config.risk_file else (
                    demo_setup()
                )
            core = Core(instruments, risk=risk)
        self.core = core
        self.journal = journal or NullJournal()
        self.sinks: list[EventSink] = list(sinks)
        participants = config.participant_keys()
        admins = config.admin_keys()
        self.context = zmq.Context()
        self._pinned = config.loop_cpu >= 0 and io_threads_elsewhere(self.context,
                                                                     config.loop_cpu)
        """The loop's thread is pinned to ``loop_cpu`` when :meth:`run` starts."""
        self.authenticator = ExchangeAuthenticator(self.context)
        self.authenticator.start()
        self.authenticator.allow(ORDERS, participants)
        self.authenticator.allow(ADMIN, admins)
        trades = self.store.trades if self.store is not None else None
        self.gateway = Gateway(
            self.core, config, participants, admins, self.journal, trades=trades
        )
        self._recovered = False
        for command in setup:  # sequenced and journaled before any client's order
            self.gateway.enqueue(command)
        self.order_endpoint = ""
        self.admin_endpoint = ""
        self.ready = threading.Event()
        """Set once the server listens, or once it failed to (then :attr:`error` says why)."""
        self.error: Exception | None = None
        self._stopping = threading.Event()
        self._lagging: set[bytes] = set()
        """Admin connections whose frames were dropped since they last took one."""

    def add_sink(self, sink: EventSink) -> None:
        """Add a sink before :meth:`recover` (so a durable one replays the journal's tail)."""
        self.sinks.append(sink)

    def recover(self) -> int:
        """Bring the core, the gateway and the durable sinks to the end of the data
        directory's journal; :meth:`run` calls it once. Returns the commands replayed."""
        if self._recovered or self.store is None:
            self._recovered = True
            return 0
        replayed = self.store.start(self.core, self.gateway, self.sinks)
        self._recovered = True  # only now may a clean stop snapshot the state
        return replayed

    def stop(self) -> None:
        """Ask the loop to finish its turn and return (safe from any thread or a signal)."""
        self._stopping.set()

    def _router(self, endpoint: str, domain: str) -> zmq.Socket:
        sock = self.context.socket(zmq.ROUTER)
        sock.linger = 0
        sock.router_mandatory = 1
        sock.sndhwm = sock.rcvhwm = HWM
        sock.maxmsgsize = TRANSPORT_MAX_BYTES
        sock.heartbeat_ivl = 1000
        sock.heartbeat_timeout = 3000
        sock.curve_server = True
        sock.curve_secretkey = self.server_key.secret
        sock.curve_publickey = self.server_key.public
        sock.zap_domain = domain.encode()
        try:
            sock.bind(endpoint)
        except zmq.ZMQError:  # an open socket would hold context.term() for ever
            sock.close()
            raise
        return sock

    def run(self) -> None:
        """Bind, set :attr:`ready`, and serve until :meth:`stop`; then close everything."""
        config = self.config
        if self._pinned:
            pin_thread(config.loop_cpu)
        orders = None
        try:
            self.recover()
            orders = self._router(config.order_endpoint, ORDERS)
            admin = self._router(config.admin_endpoint, ADMIN)
        except Exception as error:  # recovery or binding failed: say so, never hang callers
            self.error = error
            self.ready.set()
            if orders is not None:
                orders.close()
            self.close()
            raise
        self.order_endpoint = orders.last_endpoint.decode()
        self.admin_endpoint = admin.last_endpoint.decode()
        poller = zmq.Poller()
        poller.register(orders, zmq.POLLIN)
        poller.register(admin, zmq.POLLIN)
        sink_of = {}
        for sink in self.sinks:
            for sock in sink.sockets():
                poller.register(sock, zmq.POLLIN)
                sink_of[sock] = sink
        log.info("orders on %s, admin on %s", self.order_endpoint, self.admin_endpoint)
        self.ready.set()
        try:
            self._loop(poller, orders, admin, sink_of)
        finally:
            orders.close()
            admin.close()
            self.close()

    def _loop(self, poller: zmq.Poller, orders: zmq.Socket, admin: zmq.Socket, sink_of) -> None:
        gateway = self.gateway
        budget = self.config.batch_budget
        stopping = self._stopping
        poll = poller.poll
        next_timer = 0
        while not stopping.is_set():
            ready = dict(poll(POLL_MS))
            mono = time.monotonic_ns()
            if orders in ready:
                self._drain_orders(orders, budget, mono)
            if admin in ready:
                self._drain_admin(admin, budget)
            if mono >= next_timer:
                next_timer = mono + TIMER_NS
                gateway.on_timer(time.time_ns(), mono, self.next_deadline())
            seq = gateway.seq
            events = gateway.process()
            out, admin_out = gateway.take_replies()
            if out:
                self._send(orders, out, gateway, mono)
            if admin_out:
                self._send_admin(admin, admin_out)
            self.after_batch(events, gateway.seq != seq, mono)
            for sock in ready:
                sink = sink_of.get(sock)
                if sink is not None:
                    sink.on_readable(sock)

    def _send_admin(self, sock: zmq.Socket, frames: list[tuple[bytes, bytes]]) -> None:
        """Send admin replies and risk-stream frames without blocking. A connection that is
        gone stops being streamed to; one that does not read loses frames (its queue is
        full), logged once until it reads again, so a stalled watcher cannot flood the log."""
        gateway, lagging = self.gateway, self._lagging
        for rid, frame in frames:
            try:
                sock.send_multipart((rid, frame), zmq.DONTWAIT)
            except zmq.Again:
                if rid not in lagging:
                    lagging.add(rid)
                    log.warning("admin connection %r is not reading: frames dropped", rid)
            except zmq.ZMQError as error:
                if error.errno == zmq.EHOSTUNREACH:  # the connection is gone
                    gateway.on_admin_peer_lost(rid)
                    lagging.discard(rid)
                log.warning("admin reply to %r lost: %s", rid, error)
            else:
                lagging.discard(rid)

    def next_deadline(self) -> int | None:
        """When a clock tick is next due: the earliest deadline of the core or a sink."""
        due = [self.core.next_deadline(), *(sink.next_deadline() for sink in self.sinks)]
        return min((d for d in due if d is not None), default=None)

    def after_batch(self, events: list, sequenced: bool, mono: int) -> None:
        """Feed a batch's events to the sinks (``sequenced``: it stamped a command), then let
        the store snapshot and sign: after the sinks, so a snapshot cuts them at this batch."""
        gateway = self.gateway
        for sink in self.sinks:
            if sequenced:
                sink.on_events(events, gateway.last_ts)
            sink.on_idle(time.time_ns())
        if self.store is not None:
            self.store.after_batch(gateway, mono)

    def _drain_orders(self, sock: zmq.Socket, budget: int, mono: int) -> None:
        """Receive up to ``budget`` messages; the participant is the frame's ZAP User-Id."""
        recv = sock.recv
        more = sock.get
        on_frame = self.gateway.on_order_frame
        for _ in range(budget):
            try:
                head = recv(zmq.NOBLOCK, copy=False)  # a Frame: it carries the User-Id
            except zmq.Again:
                return
            payload = recv()  # the rest of a message is there once its first frame is
            if more(zmq.RCVMORE):
                extra = 1
                while more(zmq.RCVMORE):
                    recv()
                    extra += 1
                self.gateway.on_bad_envelope(head.bytes, extra + 1)
                continue
            on_frame(head.bytes, head.get("User-Id"), payload, mono)

    def _drain_admin(self, sock: zmq.Socket, budget: int) -> None:
        for _ in range(budget):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            if len(frames) == 2:
                head = frames[0]
                self.gateway.on_admin_frame(head.bytes, head.get("User-Id"), frames[1].bytes)

    @staticmethod
    def _send(sock: zmq.Socket, out: dict, gateway: Gateway, mono: int) -> None:
        """One frame per connection; never block: a vanished peer ends its session."""
        send = sock.send_multipart
        sessions = gateway.sessions
        lost = []
        for rid, msgs in out.items():
            try:
                send((rid, encode(msgs)), zmq.DONTWAIT)
            except zmq.Again:
                log.warning("dropped a reply to %r: its pipe is full", rid)
                continue
            except zmq.ZMQError as error:
                if error.errno != zmq.EHOSTUNREACH:
                    raise
                lost.append(rid)
                continue
            session = sessions.get(rid)
            if session is not None:
                session.last_send_ns = mono
        for rid in lost:
            gateway.on_peer_lost(rid)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        if self.store is not None:
            if self._recovered:
                self.store.close(self.gateway)
            else:  # never brought up to date: a snapshot now would misstate the journal
                self.store.wal.close()
        self.journal.close()
        self.authenticator.stop()
        self.context.term()


def run_in_thread(server: Server, timeout: float = 10.0) -> threading.Thread:
    """Run ``server`` on a daemon thread and return once it listens (or raise)."""
    thread = threading.Thread(target=server.run, name="ipx-server", daemon=True)
    thread.start()
    if not server.ready.wait(timeout):
        server.stop()
        raise TimeoutError("the server did not start listening")
    if server.error is not None:
        raise server.error
    return thread
