"""Commands into the core and events out of it: the one schema gateway, feed and journal share.

Commands (verbs): :class:`NewOrder`, :class:`CancelOrder`, :class:`AmendOrder`,
:class:`MassCancel`, :class:`Tick`, :class:`EndTradingDay`, :class:`Uncross`,
:class:`StartEnglishAuction`, :class:`ListInstrument`, :class:`SetPhase`,
:class:`SetReferencePrice`; their union :data:`AnyCommand`.

Events (facts): :class:`OrderAccepted`, :class:`OrderRejected`, :class:`Trade`,
:class:`OrderDone`, :class:`OrderAmended`, :class:`StopTriggered`, :class:`BookLevelChanged`,
:class:`InstrumentListed`, :class:`PhaseChanged`, :class:`ReferencePriceChanged`,
:class:`AuctionIndicative`, :class:`AuctionUncrossed`, :class:`AuctionExtended`; their union
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
    """How long an order may rest; the last three take part in auctions only."""

    DAY = 1
    """Rests until the end of the trading day (an :class:`EndTradingDay` command)."""
    GTC = 2
    """Rests until cancelled."""
    GTD = 3
    """Rests until ``expire_ts`` (swept by a :class:`Tick` command)."""
    IOC = 4
    """Fills what it can at once; the rest is cancelled."""
    FOK = 5
    """Fills completely at once or not at all."""
    AT_OPEN = 6
    """Entered in the pre-open call, takes part in the opening uncross only (FIX OPG)."""
    AT_CLOSE = 7
    """Entered in the closing call, takes part in the closing uncross only (FIX ATC)."""
    GFA = 8
    """Good for auction: takes part in the next uncross of any call, then is cancelled."""


AUCTION_ONLY = frozenset({TimeInForce.AT_OPEN, TimeInForce.AT_CLOSE, TimeInForce.GFA})


class StpMode(IntEnum):
    """Self-trade prevention; the incoming order's mode governs, scoped by participant."""

    NONE = 0
    CANCEL_TAKER = 1
    CANCEL_MAKER = 2
    CANCEL_BOTH = 3
    DECREMENT = 4
    """Both orders shrink by the smaller quantity; the smaller (both if equal) is cancelled."""


class Phase(IntEnum):
    """The trading phase of one instrument, changed only by sequenced commands."""

    CLOSED = 0
    CONTINUOUS = 1
    HALTED = 2
    PRE_OPEN_CALL = 3
    """Orders accumulate without matching until the opening uncross."""
    OPENING_UNCROSS = 4
    """Transient: the opening auction is executing."""
    VOLATILITY_INTERRUPTION = 5
    """A call entered because a trade would have left the dynamic band; ends by timer."""
    CLOSING_CALL = 6
    CLOSING_UNCROSS = 7
    """Transient: the closing auction is executing."""
    CALL = 8
    """A periodic call of a call-auction-only instrument; the operator schedules uncrosses."""
    ENGLISH_AUCTION = 9
    """Ascending bids for a single lot until the (extendable) end time."""


CALL_PHASES = frozenset(
    {
        Phase.PRE_OPEN_CALL,
        Phase.VOLATILITY_INTERRUPTION,
        Phase.CLOSING_CALL,
        Phase.CALL,
        Phase.ENGLISH_AUCTION,
    }
)
"""Phases in which orders rest without matching and the indicative uncross is published."""


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


class Tick(Command, frozen=True):
    """Timer: the sequencer's clock reached the command's time.

    Expires GTD orders whose ``expire_ts`` has come, ends volatility interruptions whose
    time is up (uncross, back to continuous) and closes English auctions past their end.
    """


class EndTradingDay(Command, frozen=True):
    """Calendar: expire every DAY order (and due GTD orders) in one instrument or all."""

    instrument: str | None = None


class ListInstrument(Command, frozen=True):
    instrument: Instrument


class SetPhase(Command, frozen=True):
    """Operator: move an instrument to a trading phase (halt, resume, close)."""

    instrument: str
    phase: Phase


class Uncross(Command, frozen=True):
    """Operator or schedule: run the call's uncross now and move to the phase after it.

    Pre-open call and volatility interruption go on to continuous trading, the closing call
    to closed, and a call-auction-only instrument stays in its call.
    """

    instrument: str


class StartEnglishAuction(Command, frozen=True):
    """Open an ascending auction for a single lot (assignment or exclusive licence).

    The seller enters one sell order whose limit is the reserve price; bids are buy orders
    of one lot, each at least ``min_increment`` above the best bid and at least
    ``start_price``. A bid within ``extension_window_ns`` of ``end_ts`` pushes the end to
    ``extension_ns`` after the bid (anti-sniping). Times come with commands, never a clock.
    """

    instrument: str
    start_price: int
    min_increment: int
    end_ts: int
    extension_window_ns: int = 0
    extension_ns: int = 0


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
    | Tick
    | EndTradingDay
    | Uncross
    | StartEnglishAuction
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
    """One execution: continuous (a resting maker and an incoming taker) or an auction's.

    ``aggressor`` is the taker's side, or None for auction trades, which have no aggressor.
    """

    instrument: str
    trade_id: int
    price: int
    qty: int
    aggressor: Side | None
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
    """A new trading phase; ``end_ts`` is when a timed phase ends (0: by command)."""

    instrument: str
    phase: Phase
    end_ts: int = 0


class AuctionIndicative(Event, frozen=True):
    """The uncross the call would give now: published on every book change during a call.

    ``price`` is None when nothing would execute; ``surplus_side`` names the side with
    unmatched quantity at that price (None when balanced).
    """

    instrument: str
    price: int | None
    volume: int
    surplus_side: Side | None
    surplus: int
    reference_price: int


class AuctionUncrossed(Event, frozen=True):
    """Summary of an executed auction (call uncross or English auction close)."""

    instrument: str
    price: int | None
    volume: int
    surplus_side: Side | None
    surplus: int
    trades: int


class AuctionExtended(Event, frozen=True):
    """An English auction's end moved later because a bid came in its last moments."""

    instrument: str
    end_ts: int


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
    | AuctionIndicative
    | AuctionUncrossed
    | AuctionExtended
)
