"""Commands into the core and events out of it: the one schema gateway, feed and journal share.

Commands (verbs): :class:`NewOrder`, :class:`CancelOrder`, :class:`AmendOrder`,
:class:`MassCancel`, :class:`ExpireOrders`, :class:`EndTradingDay`, :class:`ListInstrument`,
:class:`SetPhase`, :class:`SetReferencePrice`; their union :data:`AnyCommand`.

Events (facts): :class:`OrderAccepted`, :class:`OrderRejected`, :class:`Trade`,
:class:`OrderDone`, :class:`OrderAmended`, :class:`StopTriggered`, :class:`BookLevelChanged`,
:class:`InstrumentListed`, :class:`PhaseChanged`, :class:`ReferencePriceChanged`; their union
:data:`AnyEvent`.

Commands carry no sequence number or time: the sequencer hands both to
``Core.apply(cmd, seq, ts)``, and every event the command causes carries them. Prices are
integers in the instrument currency's minor units, quantities integer units, times integer
nanoseconds. All structs are tagged by class name so one decoder takes the whole union.
"""

from __future__ import annotations

from enum import IntEnum

import msgspec

from engine.codes import Reason
from engine.instruments import Instrument


class Side(IntEnum):
    BUY = 1
    SELL = 2


class OrderType(IntEnum):
    LIMIT = 1
    MARKET = 2
    STOP = 3
    """Becomes a (protected) market order when the last trade reaches the stop price."""
    STOP_LIMIT = 4
    """Becomes a limit order when the last trade reaches the stop price."""


class TimeInForce(IntEnum):
    DAY = 1
    """Rests until the end of the trading day (an :class:`EndTradingDay` command)."""
    GTC = 2
    """Rests until cancelled."""
    GTD = 3
    """Rests until ``expire_ts`` (swept by an :class:`ExpireOrders` command)."""
    IOC = 4
    """Fills what it can at once; the rest is cancelled."""
    FOK = 5
    """Fills completely at once or not at all."""


class StpMode(IntEnum):
    """Self-trade prevention; the incoming order's mode governs, scoped by participant."""

    NONE = 0
    CANCEL_TAKER = 1
    CANCEL_MAKER = 2
    CANCEL_BOTH = 3
    DECREMENT = 4
    """Both orders shrink by the smaller quantity; the smaller (both if equal) is cancelled."""


class Phase(IntEnum):
    """The trading phase of one instrument, changed only by :class:`SetPhase`."""

    CLOSED = 0
    CONTINUOUS = 1
    HALTED = 2


class DoneStatus(IntEnum):
    """How an order left the market."""

    FILLED = 1
    CANCELLED = 2
    EXPIRED = 3


class Request(IntEnum):
    """Which kind of command a reject answers (a new order, or a cancel/amend of one)."""

    NEW = 1
    CANCEL = 2
    AMEND = 3
    MASS_CANCEL = 4
    ADMIN = 5


class Command(msgspec.Struct, tag=True, frozen=True, gc=False, array_like=True):
    """Base of every command; tagged by class name."""


class NewOrder(Command, frozen=True):
    """Enter an order. ``order_id`` must exceed every id accepted before (the sequencer's)."""

    instrument: str
    order_id: int
    participant: str
    side: Side
    qty: int
    price: int = 0
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    stop_price: int = 0
    display_qty: int = 0
    """Iceberg peak; 0 shows the whole order."""
    min_qty: int = 0
    """Minimum quantity to fill on entry (FIX MinQty); 0 for none."""
    post_only: bool = False
    stp: StpMode = StpMode.NONE
    expire_ts: int = 0


class CancelOrder(Command, frozen=True):
    instrument: str
    order_id: int
    participant: str


class AmendOrder(Command, frozen=True):
    """Change price and/or total quantity (FIX OrderQty: filled plus leaves).

    A quantity decrease at the same price keeps time priority; a price change or a quantity
    increase loses it (the CME rule).
    """

    instrument: str
    order_id: int
    participant: str
    qty: int
    price: int


class MassCancel(Command, frozen=True):
    """Cancel all of a participant's orders, optionally only in one instrument and side."""

    participant: str
    instrument: str | None = None
    side: Side | None = None


class ExpireOrders(Command, frozen=True):
    """Timer: expire every GTD order whose ``expire_ts`` is at or before the command's time."""


class EndTradingDay(Command, frozen=True):
    """Calendar: expire every DAY order (and due GTD orders) in one instrument or all."""

    instrument: str | None = None


class ListInstrument(Command, frozen=True):
    instrument: Instrument


class SetPhase(Command, frozen=True):
    """Operator: move an instrument to a trading phase (halt, resume, close)."""

    instrument: str
    phase: Phase


class SetReferencePrice(Command, frozen=True):
    """Operator or model: set the reference price the static band is centred on.

    ``band_bp`` sets a new band width too (a model's volatility-based width); 0 keeps it.
    """

    instrument: str
    price: int
    band_bp: int = 0


AnyCommand = (
    NewOrder
    | CancelOrder
    | AmendOrder
    | MassCancel
    | ExpireOrders
    | EndTradingDay
    | ListInstrument
    | SetPhase
    | SetReferencePrice
)


class Event(msgspec.Struct, tag=True, frozen=True, gc=False, array_like=True):
    """Base of every event: the sequence number and time of the command that caused it."""

    seq: int
    ts: int


class OrderAccepted(Event, frozen=True):
    instrument: str
    order_id: int
    participant: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int
    qty: int
    stop_price: int
    display_qty: int


class OrderRejected(Event, frozen=True):
    """A command refused as a whole; nothing changed. ``request`` says which kind."""

    instrument: str
    order_id: int
    participant: str
    request: Request
    reason: Reason


class Trade(Event, frozen=True):
    """One execution between a resting (maker) and an incoming (taker) order."""

    instrument: str
    trade_id: int
    price: int
    qty: int
    aggressor: Side
    buy_order_id: int
    sell_order_id: int
    buyer: str
    seller: str
    buy_leaves: int
    sell_leaves: int


class OrderDone(Event, frozen=True):
    """The order left the market; ``leaves_qty`` is what was unfilled (0 when filled)."""

    instrument: str
    order_id: int
    participant: str
    status: DoneStatus
    reason: Reason
    leaves_qty: int


class OrderAmended(Event, frozen=True):
    """Price or quantity changed, by the owner or by self-trade decrement (then ``reason``)."""

    instrument: str
    order_id: int
    participant: str
    price: int
    leaves_qty: int
    kept_priority: bool
    reason: Reason


class StopTriggered(Event, frozen=True):
    """A stop order's trigger was reached; it now trades as a market or limit order."""

    instrument: str
    order_id: int
    participant: str
    last_price: int


class BookLevelChanged(Event, frozen=True):
    """Displayed quantity at a price level after the command; ``qty`` 0 means the level is gone."""

    instrument: str
    side: Side
    price: int
    qty: int
    orders: int


class InstrumentListed(Event, frozen=True):
    instrument: Instrument


class PhaseChanged(Event, frozen=True):
    instrument: str
    phase: Phase


class ReferencePriceChanged(Event, frozen=True):
    """The reference price and the static band around it."""

    instrument: str
    price: int
    band_low: int
    band_high: int


AnyEvent = (
    OrderAccepted
    | OrderRejected
    | Trade
    | OrderDone
    | OrderAmended
    | StopTriggered
    | BookLevelChanged
    | InstrumentListed
    | PhaseChanged
    | ReferencePriceChanged
)
