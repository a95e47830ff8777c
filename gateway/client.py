"""Client library for brokers, market makers and operators: blocking and asyncio.

Public names: :class:`Client`, :class:`AsyncClient`, :class:`AdminClient`,
:class:`LogonError`, :func:`participant_keys`.

A client is a DEALER socket with the participant's CURVE key pair. It never says who it is:
the server knows from the key. Request methods return the id they used (client order ids are
drawn from a counter that starts at the current time in microseconds, so a restarted client
does not reuse yesterday's ids); responses arrive through :meth:`Client.recv` in the order
the server sent them. ``IMMEDIATE`` is set, so nothing queues for a server that is not there.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import zmq
import zmq.asyncio

from engine.messages import AnyCommand, OrderType, Side, StpMode, TimeInForce
from gateway import protocol as p
from gateway.auth import KeyPair, load_key_pair
from gateway.codec import decode_admin_reply, decode_response, encode
from gateway.config import SERVER_KEY

SEND_TIMEOUT_MS = 3000
"""With IMMEDIATE set a send blocks until the connection is up; a refused key never is."""


class LogonError(RuntimeError):
    """The server refused the logon (or never answered)."""


def participant_keys(key_dir: Path, participant: str) -> tuple[bytes, KeyPair]:
    """The server's public key and ``participant``'s key pair from a key directory."""
    server = load_key_pair(key_dir, SERVER_KEY).public
    return server, load_key_pair(key_dir / "participants", participant)


def _dealer(ctx: zmq.Context, endpoint: str, server_key: bytes, key: KeyPair, rid) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.immediate = 1
    sock.sndtimeo = SEND_TIMEOUT_MS
    sock.sndhwm = sock.rcvhwm = 100_000
    sock.curve_serverkey = server_key
    sock.curve_publickey = key.public
    sock.curve_secretkey = key.secret
    if rid:
        sock.routing_id = rid
    sock.connect(endpoint)
    return sock


class _Requests:
    """Builds requests with fresh ids; :class:`Client` and :class:`AsyncClient` send them
    (each request method there returns the id it used)."""

    def __init__(self) -> None:
        self._next_id = time.time_ns() // 1000

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _new_order(
        self,
        instrument: str,
        side: Side,
        qty: int,
        price: int = 0,
        *,
        order_type: OrderType = OrderType.LIMIT,
        tif: TimeInForce = TimeInForce.GTC,
        cl_ord_id: int = 0,
        stop_price: int = 0,
        display_qty: int = 0,
        min_qty: int = 0,
        post_only: bool = False,
        stp: StpMode = StpMode.NONE,
        expire_ts: int = 0,
    ) -> p.NewOrder:
        return p.NewOrder(
            cl_ord_id or self.next_id(), instrument, side, qty, price, order_type, tif,
            stop_price, display_qty, min_qty, post_only, stp, expire_ts,
        )

    def _cancel(self, orig_cl_ord_id: int) -> p.CancelOrder:
        return p.CancelOrder(self.next_id(), orig_cl_ord_id)

    def _amend(self, orig_cl_ord_id: int, qty: int, price: int) -> p.AmendOrder:
        """Replace an order's total quantity and price; the order takes the new id."""
        return p.AmendOrder(self.next_id(), orig_cl_ord_id, qty, price)

    def _mass_cancel(self, instrument: str = "", side: int = 0) -> p.MassCancel:
        return p.MassCancel(self.next_id(), instrument, side)

    def _mass_quote(self, entries: list[p.QuoteEntry], mmp_reset: bool = False) -> p.MassQuote:
        """Replace the quotes; ``mmp_reset`` first lifts a market-maker-protection freeze."""
        return p.MassQuote(self.next_id(), entries, mmp_reset)

    def _mass_status(self, instrument: str = "", side: int = 0) -> p.MassStatus:
        """Every own live order (of one instrument and side, if given): ORDER_STATUS reports,
        then a :class:`~gateway.protocol.MassStatusReport` naming the request's id."""
        return p.MassStatus(self.next_id(), instrument, side)

    def _credit_status(self) -> p.CreditStatus:
        """How much of the own credit line is used: a CreditStatusReport answers."""
        return p.CreditStatus(self.next_id())


def _id_of(msg: p.Msg) -> int:
    """The client id a request carries, which its answers name."""
    for field in ("cl_ord_id", "quote_id", "request_id", "orig_cl_ord_id"):
        if hasattr(msg, field):
            return getattr(msg, field)
    return 0


class Client(_Requests):
    """A blocking order-entry session.

    >>> # client = Client("tcp://127.0.0.1:5555", server_key, my_keys); client.logon()
    >>> # client.buy("ULR-5GSEP-26", 10, 125_000); report = client.recv(1000)
    """

    def __init__(
        self,
        endpoint: str,
        server_key: bytes,
        key: KeyPair,
        *,
        context: zmq.Context | None = None,
        routing_id: bytes | None = None,
    ) -> None:
        super().__init__()
        self.context = context or zmq.Context.instance()
        self.sock = _dealer(self.context, endpoint, server_key, key, routing_id)
        self.heartbeat_ns = 0
        self._last_send = time.monotonic_ns()
        self._inbox: deque[p.Msg] = deque()
        self.participant = ""

    # -- session --------------------------------------------------------------------------

    def logon(
        self, heartbeat_ms: int = 1000, cancel_on_disconnect: bool = True, timeout_ms: int = 5000
    ) -> p.LogonAck:
        """Log on and wait for the answer; raise :class:`LogonError` if refused or silent."""
        self.sock.sndtimeo = timeout_ms
        try:
            self.send(p.Logon(p.PROTOCOL_VERSION, heartbeat_ms, cancel_on_disconnect))
        except zmq.Again:
            raise LogonError("no connection to the server (is the key allowed?)") from None
        finally:
            self.sock.sndtimeo = SEND_TIMEOUT_MS
        reply = self.recv(timeout_ms)
        if type(reply) is not p.LogonAck:
            raise LogonError(reply or "no answer from the server (is the key allowed?)")
        self.heartbeat_ns = reply.heartbeat_ms * 1_000_000
        self.participant = reply.participant
        return reply

    def logout(self, timeout_ms: int = 2000) -> None:
        """Log out and wait for the server's Logout (reports before it are dropped)."""
        self.send(p.Logout())
        self.wait_for(lambda m: type(m) is p.Logout, timeout_ms)

    def close(self) -> None:
        self.sock.close(linger=0)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------

    def send(self, msg: p.Msg) -> None:
        self.sock.send(encode(msg))
        self._last_send = time.monotonic_ns()

    def new_order(self, instrument: str, side: Side, qty: int, price: int = 0, **options) -> int:
        """Send an order (options as :class:`~gateway.protocol.NewOrder`); return cl_ord_id."""
        return self.request(self._new_order(instrument, side, qty, price, **options))

    def buy(self, instrument: str, qty: int, price: int = 0, **options) -> int:
        return self.new_order(instrument, Side.BUY, qty, price, **options)

    def sell(self, instrument: str, qty: int, price: int = 0, **options) -> int:
        return self.new_order(instrument, Side.SELL, qty, price, **options)

    def request(self, msg: p.Msg) -> int:
        """Send a request; return its client id."""
        self.send(msg)
        return _id_of(msg)

    def cancel(self, orig_cl_ord_id: int) -> int:
        return self.request(self._cancel(orig_cl_ord_id))

    def amend(self, orig_cl_ord_id: int, qty: int, price: int) -> int:
        return self.request(self._amend(orig_cl_ord_id, qty, price))

    def mass_cancel(self, instrument: str = "", side: int = 0) -> int:
        return self.request(self._mass_cancel(instrument, side))

    def mass_quote(self, entries: list[p.QuoteEntry], mmp_reset: bool = False) -> int:
        return self.request(self._mass_quote(entries, mmp_reset))

    def status(self, orig_cl_ord_id: int) -> int:
        return self.request(p.OrderStatus(orig_cl_ord_id))

    def mass_status(self, instrument: str = "", side: int = 0) -> int:
        return self.request(self._mass_status(instrument, side))

    def credit_status(self) -> int:
        return self.request(self._credit_status())

    # -- responses ------------------------------------------------------------------------

    def recv(self, timeout_ms: int = 1000) -> p.Msg | None:
        """The next response, or None after ``timeout_ms``; sends heartbeats while waiting."""
        if self._inbox:
            return self._inbox.popleft()
        deadline = time.monotonic_ns() + timeout_ms * 1_000_000
        sock = self.sock
        while True:
            now = time.monotonic_ns()
            if self.heartbeat_ns and now - self._last_send >= self.heartbeat_ns:
                self.send(p.Heartbeat(time.time_ns()))
            wait = deadline - now
            if self.heartbeat_ns:
                wait = min(wait, self.heartbeat_ns - (now - self._last_send))
            if sock.poll(max(0, wait // 1_000_000)):
                self._inbox.extend(decode_response(sock.recv()))
                return self._inbox.popleft()
            if time.monotonic_ns() >= deadline:
                return None

    def wait_for(self, predicate: Callable[[p.Msg], bool], timeout_ms: int = 2000) -> p.Msg:
        """Receive until a response satisfies ``predicate``; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            msg = self.recv(int(left * 1000) + 1)
            if msg is not None and predicate(msg):
                return msg
        raise TimeoutError("no matching response")

    def responses(self, timeout_ms: int = 1000) -> Iterator[p.Msg]:
        """Yield responses until none arrives for ``timeout_ms``. The server's heartbeats are
        skipped and do not extend the wait: one comes every heartbeat interval, so with a
        longer ``timeout_ms`` the iteration would otherwise never end."""
        quiet_ns = timeout_ms * 1_000_000
        deadline = time.monotonic_ns() + quiet_ns
        while (left := deadline - time.monotonic_ns()) > 0:
            msg = self.recv(left // 1_000_000 + 1)
            if msg is None:
                return
            if type(msg) is not p.Heartbeat:
                yield msg
                deadline = time.monotonic_ns() + quiet_ns


class AsyncClient(_Requests):
    """The asyncio twin of :class:`Client` for event-loop applications (quoting engines)."""

    def __init__(
        self,
        endpoint: str,
        server_key: bytes,
        key: KeyPair,
        *,
        context: zmq.asyncio.Context | None = None,
    ) -> None:
        super().__init__()
        self.context = context or zmq.asyncio.Context.instance()
        self.sock = _dealer(self.context, endpoint, server_key, key, None)
        self._inbox: deque[p.Msg] = deque()
        self.participant = ""

    async def send(self, msg: p.Msg) -> None:
        await self.sock.send(encode(msg))

    async def logon(self, heartbeat_ms: int = 1000, cancel_on_disconnect: bool = True):
        await self.send(p.Logon(p.PROTOCOL_VERSION, heartbeat_ms, cancel_on_disconnect))
        reply = await self.recv(5.0)
        if type(reply) is not p.LogonAck:
            raise LogonError(reply or "no answer from the server (is the key allowed?)")
        self.participant = reply.participant
        return reply

    async def new_order(self, instrument: str, side: Side, qty: int, price: int = 0, **opts):
        return await self.request(self._new_order(instrument, side, qty, price, **opts))

    async def request(self, msg: p.Msg) -> int:
        """Send a request; return its client id."""
        await self.send(msg)
        return _id_of(msg)

    async def cancel(self, orig_cl_ord_id: int) -> int:
        return await self.request(self._cancel(orig_cl_ord_id))

    async def amend(self, orig_cl_ord_id: int, qty: int, price: int) -> int:
        return await self.request(self._amend(orig_cl_ord_id, qty, price))

    async def mass_cancel(self, instrument: str = "", side: int = 0) -> int:
        return await self.request(self._mass_cancel(instrument, side))

    async def mass_quote(self, entries: list[p.QuoteEntry], mmp_reset: bool = False) -> int:
        return await self.request(self._mass_quote(entries, mmp_reset))

    async def status(self, orig_cl_ord_id: int) -> int:
        return await self.request(p.OrderStatus(orig_cl_ord_id))

    async def mass_status(self, instrument: str = "", side: int = 0) -> int:
        return await self.request(self._mass_status(instrument, side))

    async def credit_status(self) -> int:
        return await self.request(self._credit_status())

    async def recv(self, timeout: float | None = None) -> p.Msg | None:
        """The next response, or None after ``timeout`` seconds."""
        if not self._inbox:
            try:
                data = await asyncio.wait_for(self.sock.recv(), timeout)
            except TimeoutError:
                return None
            self._inbox.extend(decode_response(data))
        return self._inbox.popleft()

    async def responses(self) -> AsyncIterator[p.Msg]:
        """Yield every response as it arrives, forever."""
        while True:
            yield await self.recv()

    def close(self) -> None:
        self.sock.close(linger=0)


class AdminClient:
    """An operator's connection to the admin port: one engine command per request, a
    credit query, or the risk desk's stream (:meth:`watch`, then :meth:`risk_events`)."""

    def __init__(self, endpoint: str, server_key: bytes, key: KeyPair, **kw) -> None:
        self.context = kw.get("context") or zmq.Context.instance()
        self.sock = _dealer(self.context, endpoint, server_key, key, None)
        self._next = 0
        self._stream: deque[p.RiskEvents] = deque()
        """Streamed risk events that arrived while waiting for a reply."""

    def request(self, command: AnyCommand, timeout_ms: int = 5000) -> p.AdminAck:
        """Send ``command`` and return its :class:`~gateway.protocol.AdminAck`."""
        self._next += 1
        return self._ask(p.AdminRequest(self._next, command), timeout_ms)

    def credit(self, participant: str = "", timeout_ms: int = 5000) -> p.CreditReport:
        """The credit lines and guarantors now (one participant's and its backers, or all)."""
        self._next += 1
        return self._ask(p.CreditQuery(self._next, participant), timeout_ms)

    def sessions(self, participant: str = "", timeout_ms: int = 5000) -> p.SessionsReport:
        """The logged-on order-entry sessions (one participant's, or all)."""
        self._next += 1
        return self._ask(p.SessionsQuery(self._next, participant), timeout_ms)

    def end_sessions(self, participant: str, timeout_ms: int = 5000) -> p.SessionsReport:
        """Log every session of ``participant`` out; the report lists those ended."""
        self._next += 1
        return self._ask(p.EndSessions(self._next, participant), timeout_ms)

    def watch(self, on: bool = True, trades: bool = False, timeout_ms: int = 5000) -> p.Watching:
        """Follow (or stop following) the risk desk's stream on this connection; ``trades``
        adds every trade (a drop copy)."""
        self._next += 1
        return self._ask(p.Watch(self._next, on, trades), timeout_ms)

    def risk_events(self, timeout_ms: int = 1000) -> Iterator[p.RiskEvents]:
        """Yield the streamed batches of risk events until none arrives for ``timeout_ms``."""
        while self._stream or self.sock.poll(timeout_ms):
            if self._stream:
                yield self._stream.popleft()
                continue
            reply = decode_admin_reply(self.sock.recv())
            if type(reply) is p.RiskEvents:
                yield reply

    def _ask(self, request: p.AnyAdminRequest, timeout_ms: int):
        """Send one admin request and return the reply naming its id."""
        self.sock.sndtimeo = timeout_ms
        try:
            self.sock.send(encode(request))
        except zmq.Again:
            raise TimeoutError("no connection to the admin port (is this an admin key?)") from None
        deadline = time.monotonic() + timeout_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            if self.sock.poll(int(left * 1000) + 1):
                reply = decode_admin_reply(self.sock.recv())
                if type(reply) is p.RiskEvents:
                    self._stream.append(reply)
                elif reply.request_id == request.request_id:
                    return reply
        raise TimeoutError("the admin port did not answer (is this an admin key?)")

    def close(self) -> None:
        self.sock.close(linger=0)
