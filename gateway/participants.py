"""Who is connected and what they own, as the gateway knows it.

Public types: :class:`TokenBucket`, :class:`OrderRecord`, :class:`Participant`,
:class:`Session`, :class:`QuoteAck`.

The core knows orders by engine order id and participant; brokers know them by client order
id. A :class:`Participant` holds that translation (and makes client order ids idempotent);
an :class:`OrderRecord` carries the running totals FIX reports need (cumulative quantity and
notional) that the core's events give only as deltas. A :class:`Session` is one logged-on
connection: its routing id, heartbeat clock, throttle and cancel-on-disconnect choice.
"""

from __future__ import annotations

import msgspec

from gateway import protocol as p
from gateway.mmp import MarketMakerProtection
from gateway.protocol import OrdStatus


class TokenBucket:
    """Admit ``rate`` requests per second on average and ``burst`` at once; never queue.

    >>> bucket = TokenBucket(rate=10, burst=2, now_ns=0)
    >>> [bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(100_000_000)]
    [True, True, False, True]
    """

    __slots__ = ("burst", "last_ns", "per_ns", "tokens")

    def __init__(self, rate: int, burst: int, now_ns: int) -> None:
        self.per_ns = rate / 1e9
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last_ns = now_ns

    def take(self, now_ns: int) -> bool:
        """Spend one token if there is one; O(1)."""
        tokens = self.tokens + (now_ns - self.last_ns) * self.per_ns
        if tokens > self.burst:
            tokens = self.burst
        self.last_ns = now_ns
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


class OrderRecord(msgspec.Struct, gc=False):
    """One order as its owner knows it; kept after it ends so status queries still answer.

    Not tracked by the cyclic GC (``gc=False``): the gateway holds one per order ever
    entered, and full collections over millions of them would stall the loop.
    """

    order_id: int
    cl_ord_id: int
    participant: Participant
    session: Session
    instrument: str
    side: int
    price: int
    order_qty: int
    quote: bool = False
    orig_cl_ord_id: int = 0
    cum_qty: int = 0
    cum_notional: int = 0
    status: OrdStatus = OrdStatus.NEW

    @property
    def leaves(self) -> int:
        return self.order_qty - self.cum_qty if self.status < OrdStatus.FILLED else 0


class Participant:
    """A participant's client order ids (each used once), live orders, quotes and sessions."""

    __slots__ = ("cl_ord_ids", "mmp", "name", "quotes", "sessions")

    def __init__(self, name: str, mmp: MarketMakerProtection | None = None) -> None:
        self.name = name
        self.mmp = mmp
        """Market maker protection of its quotes, if the operator set limits for it."""
        self.cl_ord_ids: dict[int, OrderRecord | None] = {}
        """Every client order id used; the order it names, or None (cancels, rejects)."""
        self.quotes: dict[tuple[str, int], OrderRecord] = {}
        """(instrument, side) -> the order carrying that side of the participant's quote."""
        self.sessions: list[Session] = []

    def live_session(self, preferred: Session) -> Session | None:
        """Where a report for an order of ``preferred`` goes: it, or another live session."""
        if preferred.logged_on:
            return preferred
        return self.sessions[0] if self.sessions else None


class Session:
    """One logged-on connection, addressed by its routing id, owned by one participant."""

    __slots__ = (
        "bucket",
        "cancel_on_disconnect",
        "heartbeat_ns",
        "last_recv_ns",
        "last_send_ns",
        "logged_on",
        "logon_ts",
        "orders",
        "participant",
        "routing_id",
    )

    def __init__(
        self,
        routing_id: bytes,
        participant: Participant,
        heartbeat_ns: int,
        cancel_on_disconnect: bool,
        bucket: TokenBucket,
        now_ns: int,
    ) -> None:
        self.routing_id = routing_id
        self.participant = participant
        self.heartbeat_ns = heartbeat_ns
        self.cancel_on_disconnect = cancel_on_disconnect
        self.bucket = bucket
        self.last_recv_ns = now_ns
        self.last_send_ns = now_ns
        self.logged_on = True
        self.logon_ts = 0
        """The exchange's time of the logon (ns), for the operators' session list."""
        self.orders: dict[int, OrderRecord] = {}
        """The session's live orders by engine order id (what cancel-on-disconnect removes)."""

    def timed_out(self, now_ns: int) -> bool:
        """Nothing received for three heartbeat intervals."""
        return now_ns - self.last_recv_ns > 3 * self.heartbeat_ns


class QuoteAck:
    """Collects the outcome of one MassQuote's commands until the last one is applied."""

    __slots__ = ("pending", "quote_id", "rejects", "session")

    def __init__(self, session: Session, quote_id: int) -> None:
        self.session = session
        self.quote_id = quote_id
        self.pending = 0
        self.rejects: list[p.QuoteReject] = []
