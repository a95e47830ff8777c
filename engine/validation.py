"""Order validation: the rules an amend must pass, and the new-order rules of a call and of
a stop price.

Public functions: :func:`check_amend`, :func:`call_reason`, :func:`stop_reason`. Each returns
the first :class:`~engine.codes.Reason` that applies, or ``Reason.NONE``. Checks run cheapest
and most fundamental first (phase, quantity, price), so the reason a client sees is the root
cause. A new order's plain rules (quantity, price, expiry, combinations) are written out in
``Core._new_order``, which calls these two for the rarer cases.
"""

from __future__ import annotations

from engine.book import Book, Order
from engine.codes import Reason
from engine.instruments import TradingRegime
from engine.messages import (
    CALL_PHASES,
    AmendOrder,
    NewOrder,
    Phase,
    Side,
    TimeInForce,
)

OK = Reason.NONE
IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)
AT_OPEN = TimeInForce.AT_OPEN
AT_CLOSE = TimeInForce.AT_CLOSE


def _phase_reason(book: Book) -> Reason:
    """Outside continuous trading (callers test ``book.continuous`` first, a bool), orders
    and amends are taken in calls only."""
    phase = book.phase
    if phase in CALL_PHASES:
        return OK
    if book.instrument.regime == TradingRegime.RFQ:
        return Reason.REGIME_VIOLATION  # RFQ negotiation is not built: no order book trading
    return Reason.INSTRUMENT_HALTED if phase == Phase.HALTED else Reason.MARKET_CLOSED


def call_reason(book: Book, cmd: NewOrder) -> Reason:
    """What a call (or a closed or halted book) refuses: nothing can execute at once, and
    at-open and at-close orders belong to their own call."""
    reason = _phase_reason(book)
    if reason:
        return reason
    phase, tif = book.phase, cmd.tif
    if tif in IMMEDIATE or cmd.min_qty:
        return Reason.NOT_ALLOWED_IN_PHASE
    if (tif == AT_OPEN and phase != Phase.PRE_OPEN_CALL) or (
        tif == AT_CLOSE and phase != Phase.CLOSING_CALL
    ):
        return Reason.NOT_ALLOWED_IN_PHASE
    return OK


def _price_reason(book: Book, price: int) -> Reason:
    """A limit price must be positive, on the tick and inside the static band."""
    if price <= 0:
        return Reason.INVALID_PRICE
    if price % book.instrument.tick_size:
        return Reason.PRICE_OFF_TICK
    if not book.band_low <= price <= book.band_high:
        return Reason.PRICE_OUTSIDE_BAND
    return OK


def stop_reason(book: Book, cmd: NewOrder) -> Reason:
    """A stop price must be on the tick, in the band and not yet reached by the last trade."""
    stop = cmd.stop_price
    if stop <= 0:
        return Reason.INVALID_STOP_PRICE
    if stop % book.instrument.tick_size:
        return Reason.PRICE_OFF_TICK
    if not book.band_low <= stop <= book.band_high:
        return Reason.PRICE_OUTSIDE_BAND
    last = book.trigger_price
    if (stop <= last) if cmd.side == Side.BUY else (stop >= last):
        return Reason.INVALID_STOP_PRICE
    return OK


def check_amend(book: Book, order: Order, cmd: AmendOrder) -> Reason:
    """The first rule an amend of live ``order`` to ``cmd``'s price and quantity breaks."""
    if not book.continuous:
        reason = _phase_reason(book)
        if reason:
            return reason
    if cmd.qty <= 0 or cmd.qty % book.instrument.lot_size:
        return Reason.QTY_NOT_LOT_MULTIPLE
    if order.price == 0:  # a pending stop that becomes a market order has no price to change
        if cmd.price != 0:
            return Reason.INVALID_PRICE
    else:
        reason = _price_reason(book, cmd.price)
        if reason:
            return reason
    if cmd.qty <= order.filled:
        return Reason.AMEND_BELOW_FILLED
    if cmd.qty == order.qty and cmd.price == order.price:
        return Reason.AMEND_NO_CHANGE
    return OK
