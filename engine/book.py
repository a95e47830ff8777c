"""One instrument's limit order book: price levels, FIFO queues, an id index, pending stops.

Public types: :class:`Order`, :class:`Level`, :class:`Levels`, :class:`Book`,
:class:`InvariantError`.

The book is a data structure only; matching rules live in :mod:`engine.matching` and command
handling in :mod:`engine.core`. Complexity: adding or removing an order is O(log L) in the
number of price levels L (:class:`Levels`, ordered by sortedcontainers) and O(1) per order
inside its level (an ``OrderedDict`` keeps FIFO order and deletes by id); finding an order by
id is O(1).
Bid levels are keyed by the negated price, so the smallest key of either side is its best
level.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from itertools import islice

import msgspec
from sortedcontainers import SortedList

from engine.instruments import Instrument, TradingRegime
from engine.messages import CALL_PHASES, Phase, Side, TimeInForce

BUY = Side.BUY
SELL = Side.SELL
GTD = TimeInForce.GTD
INITIAL_PHASE = {
    TradingRegime.CONTINUOUS: Phase.CONTINUOUS,
    TradingRegime.CALL_AUCTION: Phase.CALL,
    TradingRegime.ENGLISH_AUCTION: Phase.CLOSED,
    TradingRegime.RFQ: Phase.CLOSED,
}
"""The phase a newly listed book starts in."""


class EnglishTerms(msgspec.Struct, frozen=True, gc=False):
    """The running English auction's terms; ``end_ts`` moves with anti-sniping extensions."""

    start_price: int
    min_increment: int
    end_ts: int
    extension_window_ns: int
    extension_ns: int


NO_LEVEL = sys.maxsize
""":attr:`Levels.best` of an empty side: above every key, so "is the best key within my
limit?" is False without a separate emptiness test."""


class Levels(dict):
    """One side's price levels by key (the ask price, or minus the bid price): a ``dict``
    for lookups at C speed, a sortedcontainers ``SortedList`` of its keys for price order,
    and :attr:`best`, the smallest key, kept by :meth:`insert` and :meth:`remove`.

    The matcher reads top of book on every order; as a plain attribute that costs a few
    instructions where a call into a ``SortedDict`` cost hundreds. Keys change only through
    :meth:`insert` and :meth:`remove` (``Book.check`` verifies the three agree); dict methods
    that would change keys behind the sorted list's back refuse. Iteration, ``keys``,
    ``values`` and ``items`` are in price order, best first.
    """

    __slots__ = ("best", "sorted_keys")

    def __init__(self, items: Iterable[tuple[int, Level]] = ()) -> None:
        super().__init__(items)
        self.sorted_keys = SortedList(dict.__iter__(self))
        self.best = self.sorted_keys[0] if self else NO_LEVEL

    def insert(self, key: int, level: Level) -> None:
        self[key] = level
        self.sorted_keys.add(key)
        if key < self.best:
            self.best = key

    def remove(self, key: int) -> None:
        del self[key]
        keys = self.sorted_keys
        if key == self.best:  # the first key: popped without searching for it
            keys.pop(0)
            self.best = keys[0] if self else NO_LEVEL
        else:
            keys.remove(key)

    def __iter__(self) -> Iterator[int]:
        return iter(self.sorted_keys)

    def keys(self) -> Iterator[int]:  # type: ignore[override]
        return iter(self.sorted_keys)

    def values(self) -> Iterator[Level]:  # type: ignore[override]
        return map(self.__getitem__, self.sorted_keys)

    def items(self) -> Iterator[tuple[int, Level]]:  # type: ignore[override]
        return ((key, self[key]) for key in self.sorted_keys)

    def __reduce__(self) -> tuple:
        """Pickle as the items alone (snapshots): the sorted keys and best are rebuilt."""
        return (Levels, (list(self.items()),))

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("Levels change only through insert() and remove()")

    pop = popitem = setdefault = update = clear = __ior__ = _refuse  # type: ignore[assignment]


class InvariantError(RuntimeError):
    """The book broke one of its own rules: a bug, never a client error."""


class Order(msgspec.Struct, gc=False):
    """A live order's mutable state; ``qty`` is the total ordered, ``leaves`` what is open.

    ``visible`` is the displayed part of ``leaves`` while resting (an iceberg shows at most
    ``peak``). A pending stop has a non-zero ``stop_price`` and sits in no level; when it
    triggers, ``stop_price`` drops to 0 and it trades as a plain market or limit order.
    """

    order_id: int
    participant: str
    side: int
    order_type: int
    tif: int
    price: int
    qty: int
    leaves: int
    visible: int
    peak: int
    stp: int
    post_only: bool
    stop_price: int
    expire_ts: int
    """Non-zero exactly for GTD orders (validation), so it alone marks one for the GTD index."""
    filled: int = 0
    min_qty: int = 0
    """Checked when the order first meets the book: on entry, or when a stop triggers."""


class Level:
    """Orders resting at one price in time priority.

    ``qty`` is their displayed total and ``hidden`` their iceberg reserve, so an auction can
    count full sizes without walking the orders. Price 0 is the queue of market orders that
    wait for an auction.
    """

    __slots__ = ("hidden", "orders", "price", "qty")

    def __init__(self, price: int) -> None:
        self.price = price
        self.qty = 0
        self.hidden = 0
        self.orders: OrderedDict[int, Order] = OrderedDict()


class Book:
    """Bids, asks, pending stops and the id index of one instrument, plus its price state."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.instrument_id = instrument.instrument_id
        self.bids = Levels()
        self.asks = Levels()
        self.orders: dict[int, Order] = {}
        self.stops_buy: SortedList = SortedList()
        self.stops_sell: SortedList = SortedList()
        self.stop_count = 0
        """Pending stops on both sides: a plain int, since the matcher asks after every trade
        and a ``SortedList``'s truth test is a Python-level ``__len__``."""
        self.gtd: SortedList = SortedList()
        self.market_bids = Level(0)
        self.market_asks = Level(0)
        self.continuous = False
        """``phase == CONTINUOUS``, kept by the phase setter: the hot path tests this bool, since
        CPython 3.11 does not specialise comparisons of IntEnum members."""
        self.phase = INITIAL_PHASE[instrument.regime]
        self.phase_end_ts = 0
        self.english: EnglishTerms | None = None
        self.dynamic_band_bp = instrument.dynamic_band_bp
        self.last_price = 0
        self.reference_price = 0
        self.band_bp = instrument.band_bp
        self.band_low = 0
        self.band_high = 0
        self.set_reference_price(instrument.reference_price)

    @property
    def phase(self) -> Phase:
        """The trading phase; setting it sets :attr:`continuous` too."""
        return self._phase

    @phase.setter
    def phase(self, phase: Phase) -> None:
        self._phase = phase
        self.continuous = phase == Phase.CONTINUOUS

    # -- price state --------------------------------------------------------------------

    def set_reference_price(self, price: int, band_bp: int = 0) -> None:
        """Centre the static band on ``price`` (``band_bp`` wide if given); edges are rounded
        inward to ticks."""
        tick = self.instrument.tick_size
        if band_bp:
            self.band_bp = band_bp
        delta = price * self.band_bp // 10_000
        self.reference_price = price
        self.band_high = (price + delta) // tick * tick
        self.band_low = max(tick, -(-(price - delta) // tick) * tick)

    @property
    def trigger_price(self) -> int:
        """The price stops compare with: the last trade, or the reference before any trade."""
        return self.last_price or self.reference_price

    # -- resting orders -----------------------------------------------------------------

    def side_levels(self, side: int) -> Levels:
        return self.bids if side == BUY else self.asks

    def level_of(self, order: Order) -> Level:
        if not order.price:
            return self.market_bids if order.side == BUY else self.market_asks
        if order.side == BUY:
            return self.bids[-order.price]
        return self.asks[order.price]

    def unrest(self, order: Order) -> Level:
        """Take a resting order out of its level (and the level out of the book if empty)."""
        price = order.price
        if not price:
            levels, key = None, 0
            level = self.market_bids if order.side == BUY else self.market_asks
        else:
            if order.side == BUY:
                levels, key = self.bids, -price
            else:
                levels, key = self.asks, price
            level = levels[key]
        del level.orders[order.order_id]
        level.qty -= order.visible
        if order.peak:
            level.hidden -= order.leaves - order.visible
        if levels is not None and not level.orders:
            levels.remove(key)
        del self.orders[order.order_id]
        if order.expire_ts:  # GTD
            self.gtd.remove((order.expire_ts, order.order_id))
        return level

    def drop_level(self, levels: Levels, key: int) -> Level:
        """Take a whole level and its orders out of the book (an auction filled them all):
        one removal from the side instead of one per order. Returns the level, its orders
        left in it for the caller to report."""
        level = levels[key]
        levels.remove(key)
        orders = self.orders
        for order_id, order in level.orders.items():
            del orders[order_id]
            if order.expire_ts:  # GTD
                self.gtd.remove((order.expire_ts, order_id))
        return level

    def resize(self, order: Order, leaves: int, filled: int = 0) -> Level:
        """Set a resting order's open quantity outside the sweep (auction fill, amend down,
        self-trade decrement), keeping its place; remove it when nothing is left.

        ``filled`` says how much of the reduction executed; the rest is cancelled from the
        order's total quantity. Returns the order's level (price 0: the market queue).
        """
        cancelled = order.leaves - leaves - filled
        if not leaves:
            level = self.unrest(order)
        else:
            level = self.level_of(order)
            shown = min(order.visible, leaves)
            level.qty += shown - order.visible
            if order.peak:
                level.hidden += (leaves - shown) - (order.leaves - order.visible)
            order.visible = shown
        order.qty -= cancelled
        order.filled += filled
        order.leaves = leaves
        return level

    # -- pending stops ------------------------------------------------------------------

    def add_stop(self, order: Order) -> None:
        stops = self.stops_buy if order.side == BUY else self.stops_sell
        stops.add((order.stop_price, order.order_id))
        self.stop_count += 1
        self.orders[order.order_id] = order
        if order.expire_ts:  # GTD
            self.gtd.add((order.expire_ts, order.order_id))

    def remove_stop(self, order: Order) -> None:
        stops = self.stops_buy if order.side == BUY else self.stops_sell
        stops.remove((order.stop_price, order.order_id))
        self.stop_count -= 1
        del self.orders[order.order_id]
        if order.expire_ts:  # GTD
            self.gtd.remove((order.expire_ts, order.order_id))

    def take_triggered_stops(self, low: int, high: int) -> list[Order]:
        """Remove and return the stops that trades between ``low`` and ``high`` reached.

        A buy stop triggers when a trade prints at or above its stop price, a sell stop at or
        below. The orders leave the index too: they re-enter as new orders. O(k log n).
        """
        ids = []
        buys = self.stops_buy
        while buys and buys[0][0] <= high:
            ids.append(buys.pop(0)[1])
        sells = self.stops_sell
        while sells and sells[-1][0] >= low:
            ids.append(sells.pop()[1])
        self.stop_count -= len(ids)
        triggered = [self.orders.pop(oid) for oid in ids]
        for order in triggered:
            if order.expire_ts:  # GTD
                self.gtd.remove((order.expire_ts, order.order_id))
        return triggered

    # -- views --------------------------------------------------------------------------

    def crossed(self) -> bool:
        """Best bid at or above best ask: only possible while orders wait for an uncross."""
        return bool(self.bids and self.asks) and -self.bids.best >= self.asks.best

    def market_orders_waiting(self) -> bool:
        return bool(self.market_bids.orders or self.market_asks.orders)

    def best_bid(self) -> int | None:
        return -self.bids.best if self.bids else None

    def best_ask(self) -> int | None:
        return self.asks.best if self.asks else None

    def depth(self, side: int, levels: int | None = None) -> list[tuple[int, int, int]]:
        """Displayed depth of one side, best first: ``(price, qty, order count)`` per level."""
        return [
            (lv.price, lv.qty, len(lv.orders))
            for lv in islice(self.side_levels(side).values(), levels)
        ]

    def resting(self, side: int) -> Iterator[Order]:
        """Resting orders of one side in priority order (best price first, then time)."""
        for level in self.side_levels(side).values():
            yield from level.orders.values()

    def pending_stops(self) -> list[Order]:
        """Pending stop orders, buys then sells, each in trigger order."""
        return [self.orders[oid] for _, oid in self.stops_buy] + [
            self.orders[oid] for _, oid in reversed(self.stops_sell)
        ]

    def state(self) -> tuple:
        """Everything that decides future matching, in a canonical order, for fingerprints."""
        return (
            self.instrument_id,
            int(self.phase),
            self.reference_price,
            self.band_bp,
            self.last_price,
            [list(level.orders.values()) for level in self.bids.values()],
            [list(level.orders.values()) for level in self.asks.values()],
            list(self.market_bids.orders.values()),
            list(self.market_asks.orders.values()),
            self.pending_stops(),
            self.phase_end_ts,
            self.english,
        )

    # -- invariants ---------------------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`InvariantError` if the book is crossed or its indexes disagree."""
        if self.phase not in CALL_PHASES and (self.crossed() or self.market_orders_waiting()):
            raise InvariantError(f"{self.instrument_id}: crossed outside a call")
        for levels in (self.bids, self.asks):
            keys = list(levels.sorted_keys)
            if keys != sorted(dict.keys(levels)) or levels.best != (keys[0] if keys else NO_LEVEL):
                raise InvariantError(f"{self.instrument_id}: level index drift")
        seen = 0
        for side, levels, sign in ((BUY, self.bids, -1), (SELL, self.asks, 1)):
            market = self.market_bids if side == BUY else self.market_asks
            for key, level in [*levels.items(), (0, market)]:
                if key != sign * level.price or (level.price and not level.orders):
                    raise InvariantError(f"{self.instrument_id}: bad level {level.price}")
                if level.qty != sum(o.visible for o in level.orders.values()):
                    raise InvariantError(f"{self.instrument_id}: level {level.price} qty drift")
                if level.hidden != sum(o.leaves - o.visible for o in level.orders.values()):
                    raise InvariantError(f"{self.instrument_id}: level {level.price} hidden drift")
                for oid, order in level.orders.items():
                    self._check_order(order, oid, side)
                    if not 0 < order.visible <= order.leaves:
                        raise InvariantError(f"order {oid}: visible {order.visible} out of range")
                    if order.peak and order.visible > order.peak:
                        raise InvariantError(f"order {oid}: visible above peak")
                    seen += 1
        if self.stop_count != len(self.stops_buy) + len(self.stops_sell):
            raise InvariantError(f"{self.instrument_id}: stop count drift")
        for stops, side in ((self.stops_buy, BUY), (self.stops_sell, SELL)):
            for _, oid in stops:
                self._check_order(self.orders.get(oid), oid, side)
                seen += 1
        if seen != len(self.orders):
            raise InvariantError(f"{self.instrument_id}: index {len(self.orders)} != {seen} live")
        gtd = [(o.expire_ts, o.order_id) for o in self.orders.values() if o.tif == GTD]
        if sorted(gtd) != list(self.gtd):
            raise InvariantError(f"{self.instrument_id}: GTD index drift")

    def _check_order(self, order: Order | None, oid: int, side: int) -> None:
        if order is None or self.orders.get(oid) is not order:
            raise InvariantError(f"{self.instrument_id}: order {oid} missing from the index")
        if order.side != side or order.leaves <= 0 or order.leaves != order.qty - order.filled:
            raise InvariantError(f"order {oid}: side or quantities inconsistent")
