"""The order-entry wire protocol: what brokers and market makers send and what they get back.

Requests (client to server): :class:`Logon`, :class:`Heartbeat`, :class:`NewOrder`,
:class:`CancelOrder`, :class:`AmendOrder`, :class:`MassCancel`, :class:`MassQuote`
(of :class:`QuoteEntry`), :class:`OrderStatus`, :class:`MassStatus`, :class:`CreditStatus`,
:class:`Logout`; their union :data:`AnyRequest`.

Responses (server to client): :class:`LogonAck`, :class:`LogonReject`,
:class:`ExecutionReport`, :class:`CancelReject`, :class:`MassCancelReport`,
:class:`MassQuoteAck` (of :class:`QuoteReject`), :class:`MassStatusReport`,
:class:`CreditStatusReport`, :class:`BusinessReject`, and the shared
:class:`Heartbeat` and :class:`Logout`; their union :data:`AnyResponse`.

Admin port: :class:`AdminRequest` wraps an engine command unchanged; :class:`AdminAck`
answers with the events it caused. :class:`CreditQuery` reads the credit state, answered by
:class:`CreditReport`. :class:`Watch` subscribes the connection to the risk desk's stream,
:class:`RiskEvents`, confirmed by :class:`Watching`. :class:`SessionsQuery` lists who is
logged on and :class:`EndSessions` logs a participant out (both answered by
:class:`SessionsReport`). Their unions :data:`AnyAdminRequest` and
:data:`AnyAdminReply`.

These types are separate from the engine's commands on purpose: the wire carries client
order ids and never a participant (the server takes the participant from the key that signed
in), and the engine carries order ids and participants that clients must not choose. Every
message is a msgpack array whose first item is an integer tag; fields are positional, so new
fields are only ever appended, with defaults. Prices are integers in the instrument currency's
minor units, quantities integer units, times integer nanoseconds since the epoch.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

import msgspec

from engine.codes import Reason
from engine.messages import OrderType, Side, StpMode, TimeInForce
from engine.schema import ExchangeCommand, ExchangeEvent
from risk.report import GuarantorView, LineView, PositionView

PROTOCOL_VERSION = 1
"""Sent in :class:`Logon`; the server rejects versions it does not speak."""

U63 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
"""An unsigned integer that fits a signed 64-bit field (ids, prices, quantities, times)."""
Id = Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)]
"""A client-chosen identifier: positive, at most 2**63 - 1."""
MAX_QTY = 10**6
MAX_PRICE = 10**12
Qty = Annotated[int, msgspec.Meta(gt=0, le=MAX_QTY)]
"""An order quantity: at most a million units, so quantity times price fits 63 bits."""
OptQty = Annotated[int, msgspec.Meta(ge=0, le=MAX_QTY)]
Price = Annotated[int, msgspec.Meta(ge=0, le=MAX_PRICE)]
"""A price in minor units: at most 10**12 (ten billion in a two-decimal currency)."""
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
"""An instrument id."""
HeartbeatMs = Annotated[int, msgspec.Meta(ge=0, le=3_600_000)]
MAX_QUOTE_ENTRIES = 256
"""Most instruments one :class:`MassQuote` may quote."""


class ExecType(IntEnum):
    """What happened in this report (FIX 150; FIX letters noted where they are not digits)."""

    NEW = 0
    PARTIAL_FILL = 1
    FILL = 2
    CANCELLED = 4
    REPLACED = 5
    REJECTED = 8
    RESTATED = 13
    """FIX 'D': the exchange changed the order (self-trade decrement)."""
    EXPIRED = 12
    """FIX 'C'."""
    ORDER_STATUS = 18
    """FIX 'I': the answer to :class:`OrderStatus`; nothing happened."""
    TRIGGERED = 21
    """FIX 'L': a stop order was triggered and now trades."""


class OrdStatus(IntEnum):
    """The order's state after this report (FIX 39)."""

    NEW = 0
    PARTIALLY_FILLED = 1
    FILLED = 2
    CANCELLED = 4
    REJECTED = 8
    EXPIRED = 12
    """FIX 'C'."""


class Liquidity(IntEnum):
    """Which side of a fill the order was on (FIX 851)."""

    NONE = 0
    ADDED = 1
    """The order rested in the book: maker."""
    REMOVED = 2
    """The order took liquidity: taker."""


class ResponseTo(IntEnum):
    """Which request a :class:`CancelReject` answers (FIX 434)."""

    CANCEL = 1
    AMEND = 2


class Msg(msgspec.Struct, tag_field="t", array_like=True, frozen=True, gc=False):
    """Base of every wire message: a msgpack array, integer tag first.

    A sender may leave off trailing fields that hold their default; a receiver ignores
    trailing fields it does not know (a newer peer's additions).
    """


# -- requests ------------------------------------------------------------------------------


class Logon(Msg, tag=1):
    """Open the session. The participant is the one whose key signed in, not a field."""

    version: int
    heartbeat_ms: HeartbeatMs = 1000
    """Both sides send a Heartbeat after this long without sending; 0 uses the default."""
    cancel_on_disconnect: bool = True
    """Cancel the session's orders when it logs out or times out."""


class Heartbeat(Msg, tag=2):
    """Keeps an idle session alive; sent by both sides. ``ts`` is the sender's clock, if any."""

    ts: U63 = 0


class NewOrder(Msg, tag=3):
    """Enter an order (FIX D). ``cl_ord_id`` must be new for the participant."""

    cl_ord_id: Id
    instrument: Symbol
    side: Side
    qty: Qty
    price: Price = 0
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    stop_price: Price = 0
    display_qty: OptQty = 0
    min_qty: OptQty = 0
    post_only: bool = False
    stp: StpMode = StpMode.NONE
    expire_ts: U63 = 0


class CancelOrder(Msg, tag=4):
    """Cancel an own order (FIX F); ``orig_cl_ord_id`` names it, ``cl_ord_id`` is new."""

    cl_ord_id: Id
    orig_cl_ord_id: Id


class AmendOrder(Msg, tag=5):
    """Cancel/replace an own order (FIX G): new total ``qty`` and ``price``.

    On success the order answers to the new ``cl_ord_id`` (the old one keeps naming it too).
    """

    cl_ord_id: Id
    orig_cl_ord_id: Id
    qty: Qty
    price: Price


class MassCancel(Msg, tag=6):
    """Cancel all own orders, or those of one instrument (``""`` = all) and side (0 = both)."""

    cl_ord_id: Id
    instrument: Annotated[str, msgspec.Meta(max_length=32)] = ""
    side: Annotated[int, msgspec.Meta(ge=0, le=2)] = 0


class QuoteEntry(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A two-sided quote on one instrument; a zero quantity withdraws that side."""

    instrument: Symbol
    bid_price: Price
    bid_qty: OptQty
    ask_price: Price
    ask_qty: OptQty


class MassQuote(Msg, tag=7):
    """Replace the sender's quotes on many instruments at once (market makers).

    Each side of each entry is one resting GTC limit order that the server keeps per
    (participant, instrument, side): a new quote amends it (or enters it), a zero quantity
    cancels it. Quote orders report fills as ExecutionReports with ``cl_ord_id`` 0.
    """

    quote_id: Id
    entries: Annotated[list[QuoteEntry], msgspec.Meta(max_length=MAX_QUOTE_ENTRIES)]
    mmp_reset: bool = False
    """Lift a market-maker-protection freeze, then apply the entries."""


class OrderStatus(Msg, tag=8):
    """Ask for an own order's current state; answered by an ORDER_STATUS report."""

    orig_cl_ord_id: Id


class Logout(Msg, tag=9):
    """End the session (either side); the server answers a client's Logout with its own."""

    reason: int = 0


class MassStatus(Msg, tag=10):
    """Ask for every own live order, or those of one instrument (``""`` = all) and side
    (0 = both): one ORDER_STATUS report each, then a :class:`MassStatusReport`. With
    :class:`OrderStatus` for orders that may have ended, how a client that was away catches
    up: reports for a participant with no live session are not kept."""

    request_id: Id
    instrument: Annotated[str, msgspec.Meta(max_length=32)] = ""
    side: Annotated[int, msgspec.Meta(ge=0, le=2)] = 0


class CreditStatus(Msg, tag=11):
    """Ask how much of the own credit line is used: answered by a :class:`CreditStatusReport`
    between commands, so it counts every order acknowledged before it."""

    request_id: Id


AnyRequest = (
    Logon | Heartbeat | NewOrder | CancelOrder | AmendOrder | MassCancel | MassQuote | OrderStatus
    | MassStatus | CreditStatus | Logout
)


# -- responses -----------------------------------------------------------------------------


class LogonAck(Msg, tag=20):
    """The session is open for ``participant``; the server's limits follow."""

    participant: str
    version: int
    heartbeat_ms: int
    throttle_rate: int
    """Requests per second the session may send on average."""
    throttle_burst: int
    """Requests the session may send at once after a quiet spell."""
    max_message_size: int
    ts: int


class LogonReject(Msg, tag=21):
    reason: Reason
    text: str = ""


class ExecutionReport(Msg, tag=22):
    """What happened to an order (FIX 8): ``exec_type`` is the event, ``ord_status`` the state.

    ``cum_notional`` is the sum of price times quantity over the order's fills, in minor
    units: the average price is ``cum_notional / cum_qty``. ``leaves_qty`` is 0 once the
    order is done. ``seq`` is the exchange sequence number of the command that caused it.
    """

    seq: int
    ts: int
    exec_id: int
    exec_type: ExecType
    ord_status: OrdStatus
    cl_ord_id: int
    orig_cl_ord_id: int
    order_id: int
    instrument: str
    side: int
    price: int
    order_qty: int
    leaves_qty: int
    cum_qty: int
    cum_notional: int
    last_qty: int = 0
    last_px: int = 0
    trade_id: int = 0
    liquidity: Liquidity = Liquidity.NONE
    reason: Reason = Reason.NONE
    leaf_index: int = -1
    """A fill's trade as a leaf of the exchange's Merkle tree of trades (-1: not a fill)."""
    leaf_hash: bytes = b""
    """That leaf's RFC 6962 hash: what the owner later checks a receipt against."""


class CancelReject(Msg, tag=23):
    """A cancel or amend that changed nothing (FIX 9)."""

    seq: int
    ts: int
    cl_ord_id: int
    orig_cl_ord_id: int
    order_id: int
    ord_status: OrdStatus
    response_to: ResponseTo
    reason: Reason


class MassCancelReport(Msg, tag=24):
    """The answer to :class:`MassCancel`: how many orders it cancelled (each also reported)."""

    seq: int
    ts: int
    cl_ord_id: int
    cancelled: int
    reason: Reason = Reason.NONE


class QuoteReject(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One side of one quote entry that the exchange refused."""

    index: int
    side: int
    reason: Reason


class MassQuoteAck(Msg, tag=25):
    """The answer to :class:`MassQuote`: which entry sides were refused (empty: all live)."""

    seq: int
    ts: int
    quote_id: int
    rejects: list[QuoteReject]
    reason: Reason = Reason.NONE


class MassStatusReport(Msg, tag=27):
    """Ends the answer to :class:`MassStatus`: ``count`` ORDER_STATUS reports came before it
    (``reason`` THROTTLED and ``count`` 0 when the request was refused)."""

    seq: int
    ts: int
    request_id: int
    count: int
    reason: Reason = Reason.NONE


class CreditStatusReport(Msg, tag=28):
    """The answer to :class:`CreditStatus`: the participant's line (limit, used, killed, the
    guarantors' shares), or no line and ``reason`` NOT_PERMITTED when it has no risk account
    or the exchange runs without risk; THROTTLED when refused."""

    seq: int
    ts: int
    request_id: int
    line: LineView | None
    reason: Reason = Reason.NONE
    positions: list[PositionView] = []
    """What the line's usage is made of: holdings, unsettled cash, working orders."""


class BusinessReject(Msg, tag=26):
    """A message the server could not take: malformed, unknown, unauthorised, throttled.

    ``ref_tag`` is the tag of the refused message when it could be read (else 0), ``ref_id``
    its client id (``cl_ord_id`` or ``quote_id``) when it could be read (else 0).
    """

    ref_tag: int
    ref_id: int
    reason: Reason
    text: str = ""


AnyResponse = (
    LogonAck
    | LogonReject
    | ExecutionReport
    | CancelReject
    | MassCancelReport
    | MassQuoteAck
    | MassStatusReport
    | CreditStatusReport
    | BusinessReject
    | Heartbeat
    | Logout
)


# -- admin port ----------------------------------------------------------------------------


class AdminRequest(Msg, tag=40):
    """An operator's engine command (list, phase, halt, reference price, kill switch, ...)."""

    request_id: int
    command: ExchangeCommand


class AdminAck(Msg, tag=41):
    """The command's sequence number and every event it caused (or why it was refused)."""

    request_id: int
    seq: int
    reason: Reason
    events: list[ExchangeEvent]
    text: str = ""


class CreditQuery(Msg, tag=42):
    """Read the credit lines and guarantors (one participant's, or all for ``""``); answered
    at once with :class:`CreditReport`, between commands, and never sequenced."""

    request_id: int
    participant: Annotated[str, msgspec.Meta(max_length=64)] = ""


class CreditReport(Msg, tag=43):
    """The credit state after command ``seq``: lines and guarantors by name. ``reason`` is
    NOT_PERMITTED (and both lists empty) for a participant without a risk account, or when
    the exchange runs without risk."""

    request_id: int
    seq: int
    lines: list[LineView]
    guarantors: list[GuarantorView]
    reason: Reason = Reason.NONE
    positions: list[PositionView] = []
    """The named participant's positions (empty when every line is asked for)."""


class Watch(Msg, tag=44):
    """Follow (``on``) or stop following the risk desk's stream on this admin connection:
    every risk alert, kill switch change, risk setting and grant transfer, batch by batch,
    as :class:`RiskEvents`; with ``trades``, every trade too, both sides named (a drop
    copy). Answered by :class:`Watching`."""

    request_id: int
    on: bool = True
    trades: bool = False


class Watching(Msg, tag=45):
    """The answer to :class:`Watch`: the stream starts (or stops) after command ``seq``."""

    request_id: int
    seq: int
    on: bool
    reason: Reason = Reason.NONE


class RiskEvents(Msg, tag=46):
    """The risk events (and trades, if asked) of one batch, for watching operators; ``seq``
    is its last command. Sent only when the batch had some; never acknowledged, never
    resent."""

    seq: int
    events: list[ExchangeEvent]


class SessionsQuery(Msg, tag=47):
    """List the logged-on order-entry sessions (one participant's, or all for ``""``);
    answered at once by :class:`SessionsReport`, never sequenced."""

    request_id: int
    participant: Annotated[str, msgspec.Meta(max_length=64)] = ""


class EndSessions(Msg, tag=49):
    """End every logged-on session of ``participant`` (an operator's forced logout): each
    gets ``Logout(LOGGED_OUT_BY_OPERATOR)`` and its cancel-on-disconnect choice applies.
    Answered by a :class:`SessionsReport` listing the sessions it ended."""

    request_id: int
    participant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class SessionView(msgspec.Struct, array_like=True, frozen=True):
    """One logged-on session, as an operator sees it."""

    participant: str
    connection: str
    """The connection's routing id, in hex."""
    logon_ts: int
    heartbeat_ms: int
    cancel_on_disconnect: bool
    live_orders: int
    """Orders entered in this session that are still live (what cancel-on-disconnect takes)."""


class SessionsReport(Msg, tag=48):
    """The answer to :class:`SessionsQuery` (or :class:`EndSessions`: the sessions ended), by
    participant, oldest logon first."""

    request_id: int
    seq: int
    sessions: list[SessionView]
    reason: Reason = Reason.NONE


AnyAdminRequest = AdminRequest | CreditQuery | Watch | SessionsQuery | EndSessions
AnyAdminReply = AdminAck | CreditReport | Watching | RiskEvents | SessionsReport
