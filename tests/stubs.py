"""Builders and event filters shared by the engine tests.

- :func:`instrument` builds a sound test instrument (tick 1, lot 1, reference 100, band 50..150
  by default); override any field by keyword: ``instrument(tick_size=5, band_bp=2000)``.
- :func:`make_core` lists instruments in a fresh :class:`~engine.core.Core`.
- :func:`new_order`, :func:`buy`, :func:`sell`, :func:`market`, :func:`stop`, :func:`cancel`,
  :func:`amend`, :func:`mass_cancel` build commands with test defaults.
- :func:`run` applies commands with increasing sequence numbers and times (``seq * TS_STEP``
  unless a time is given) and returns all their events; :func:`run_each` keeps them apart.
- :func:`trades`, :func:`dones`, :func:`rejects`, ... filter events by type;
  :func:`fills` reduces trades to ``(price, qty, buy id, sell id)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from engine.codes import Reason
from engine.core import Core
from engine.instruments import (
    Instrument,
    InstrumentKind,
    IpType,
    RightType,
)
from engine.messages import (
    AmendOrder,
    BookLevelChanged,
    CancelOrder,
    Event,
    MassCancel,
    NewOrder,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    OrderRejected,
    OrderType,
    Side,
    StopTriggered,
    Trade,
)

IID = "TST-UNIT"
"""The default test instrument's id."""

TS_STEP = 1_000
"""Default time of command ``seq`` is ``seq * TS_STEP`` nanoseconds."""

BUY = Side.BUY
SELL = Side.SELL


# -- instruments ---------------------------------------------------------------------------


def instrument(**overrides) -> Instrument:
    """A sound unit-licence instrument: tick 1, lot 1, reference 100, band +-50% (50..150)."""
    fields = {
        "instrument_id": IID,
        "name": "Test patent pool unit licence",
        "kind": InstrumentKind.UNIT_LICENCE,
        "ip_type": IpType.INVENTION_PATENT,
        "ip_asset_ids": ("CN000000001B",),
        "right": RightType.STANDARDIZED_LICENCE_UNIT,
        "territory": ("CN",),
        "field_of_use": "all fields",
        "term_start": dt.date(2026, 1, 1),
        "term_end": dt.date(2030, 12, 31),
        "currency": "CNY",
        "tick_size": 1,
        "lot_size": 1,
        "reference_price": 100,
        "band_bp": 5_000,
    }
    fields.update(overrides)
    return Instrument(**fields)


def make_core(*instruments: Instrument) -> Core:
    """A core with the given instruments, or with the default :func:`instrument` alone."""
    return Core(instruments or [instrument()])


# -- commands ------------------------------------------------------------------------------


def new_order(
    order_id: int,
    side: Side,
    qty: int,
    price: int = 0,
    participant: str = "P1",
    instrument: str = IID,
    **kw,
) -> NewOrder:
    """A new order with test defaults (a GTC limit order unless ``order_type`` says more)."""
    return NewOrder(instrument, order_id, participant, side, qty, price, **kw)


def buy(order_id: int, qty: int, price: int, participant: str = "P1", **kw) -> NewOrder:
    return new_order(order_id, BUY, qty, price, participant, **kw)


def sell(order_id: int, qty: int, price: int, participant: str = "P1", **kw) -> NewOrder:
    return new_order(order_id, SELL, qty, price, participant, **kw)


def market(order_id: int, side: Side, qty: int, participant: str = "P1", **kw) -> NewOrder:
    """A market order (price 0); GTC unless ``tif`` is given, and it never rests either way."""
    return new_order(order_id, side, qty, 0, participant, order_type=OrderType.MARKET, **kw)


def stop(
    order_id: int,
    side: Side,
    qty: int,
    stop_price: int,
    price: int = 0,
    participant: str = "P1",
    **kw,
) -> NewOrder:
    """A STOP order (price 0: becomes a market order) or a STOP_LIMIT order (price given)."""
    order_type = OrderType.STOP_LIMIT if price else OrderType.STOP
    return new_order(
        order_id, side, qty, price, participant, order_type=order_type, stop_price=stop_price, **kw
    )


def cancel(order_id: int, participant: str = "P1", instrument: str = IID) -> CancelOrder:
    return CancelOrder(instrument, order_id, participant)


def amend(
    order_id: int, qty: int, price: int, participant: str = "P1", instrument: str = IID
) -> AmendOrder:
    """Amend to a new TOTAL quantity (filled included) and price."""
    return AmendOrder(instrument, order_id, participant, qty, price)


def mass_cancel(participant: str = "P1", instrument: str | None = None, side=None) -> MassCancel:
    return MassCancel(participant, instrument, side)


# -- running -------------------------------------------------------------------------------


def next_seq(core: Core) -> int:
    return core.last_seq + 1


def ts_of(seq: int) -> int:
    """The default time of the command applied with sequence number ``seq``."""
    return seq * TS_STEP


def run_each(core: Core, *cmds, ts: int | None = None) -> list[list[Event]]:
    """Apply ``cmds`` in order with the next sequence numbers; one event list per command.

    Each command's time is ``ts`` when given, else ``ts_of(seq)``.
    """
    results = []
    for cmd in cmds:
        seq = next_seq(core)
        results.append(core.apply(cmd, seq, ts_of(seq) if ts is None else ts))
    return results


def run(core: Core, *cmds, ts: int | None = None) -> list[Event]:
    """Apply ``cmds`` in order (see :func:`run_each`) and return all their events."""
    return [event for events in run_each(core, *cmds, ts=ts) for event in events]


# -- event filters -------------------------------------------------------------------------


def of_type(events: Iterable[Event], cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def trades(events: Iterable[Event]) -> list[Trade]:
    return of_type(events, Trade)


def fills(events: Iterable[Event]) -> list[tuple[int, int, int, int]]:
    """Trades as ``(price, qty, buy order id, sell order id)``, in order."""
    return [(t.price, t.qty, t.buy_order_id, t.sell_order_id) for t in trades(events)]


def accepted(events: Iterable[Event]) -> list[OrderAccepted]:
    return of_type(events, OrderAccepted)


def rejects(events: Iterable[Event]) -> list[OrderRejected]:
    return of_type(events, OrderRejected)


def dones(events: Iterable[Event]) -> list[OrderDone]:
    return of_type(events, OrderDone)


def amends(events: Iterable[Event]) -> list[OrderAmended]:
    return of_type(events, OrderAmended)


def triggered(events: Iterable[Event]) -> list[StopTriggered]:
    return of_type(events, StopTriggered)


def level_changes(events: Iterable[Event]) -> list[BookLevelChanged]:
    return of_type(events, BookLevelChanged)


def reject_reason(events: Iterable[Event]) -> Reason:
    """The reason of the one reject among ``events`` (fails if there is not exactly one)."""
    found = rejects(events)
    assert len(found) == 1, f"expected one reject, got {events}"
    return found[0].reason


def done_of(events: Iterable[Event], order_id: int) -> OrderDone:
    """The one :class:`OrderDone` of ``order_id`` among ``events``."""
    found = [e for e in dones(events) if e.order_id == order_id]
    assert len(found) == 1, f"expected one OrderDone for {order_id}, got {events}"
    return found[0]


def resting_ids(core: Core, side: Side, instrument: str = IID) -> list[int]:
    """Ids of the resting orders of one side, in priority order."""
    return [o.order_id for o in core.book(instrument).resting(side)]


def encode(events: Iterable[Event]) -> bytes:
    """Events as msgpack bytes (tagged structs), to compare streams byte for byte."""
    return msgspec.msgpack.encode(list(events))
