"""Continuous matching: price-time priority, self-trade prevention, icebergs and stops.

Public type: :class:`Matcher`.

An accepted order sweeps the opposite side best price first, oldest first within a price,
no further than its limit (a market order's limit is the edge of the price band: a protected
market order). A maker iceberg whose displayed peak is used up shows a new peak at the back
of its level, so hidden quantity trades only after everything displayed at that price.

Stops are released inside the command whose trades reach them, in this documented order:
after the incoming order has finished, every stop that any of its trades reached (a buy stop
by a trade at or above its stop price, a sell stop at or below) joins a queue ordered by order
id, that is by acceptance; the queue releases one stop at a time as a market or limit order,
and stops reached by that order's trades join the queue; the command ends when it is empty.
"""

from __future__ import annotations

import heapq

from engine.book import Book, Level, Levels, Order
from engine.codes import Reason
from engine.messages import (
    BookLevelChanged,
    DoneStatus,
    OrderAmended,
    OrderDone,
    Phase,
    PhaseChanged,
    Side,
    StopTriggered,
    StpMode,
    TimeInForce,
    Trade,
)

BUY = Side.BUY
SELL = Side.SELL
FILLED = DoneStatus.FILLED
CANCELLED = DoneStatus.CANCELLED
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
STP_NONE = StpMode.NONE
CANCEL_TAKER = StpMode.CANCEL_TAKER
CANCEL_MAKER = StpMode.CANCEL_MAKER
CANCEL_BOTH = StpMode.CANCEL_BOTH
SELF_TRADE = Reason.SELF_TRADE_PREVENTED
NO_REASON = Reason.NONE
IOC_REMAINDER = Reason.IOC_REMAINDER
MARKET_PROTECTION = Reason.MARKET_PROTECTION
MARKET_NO_LIQUIDITY = Reason.MARKET_NO_LIQUIDITY


class Matcher:
    """Matches orders against a book and numbers the trades; one per core.

    ``trade_low`` and ``trade_high`` span the prices traded since stops were last released
    (0 unless something traded in a book with pending stops): the caller releases stops only
    when ``trade_high`` is set.
    """

    def __init__(self) -> None:
        self.last_trade_id = 0
        self.trade_low = 0
        self.trade_high = 0

    # -- entry --------------------------------------------------------------------------

    def execute(self, book: Book, order: Order, seq: int, ts: int, out: list, min_qty: int = 0):
        """Match an accepted order, then rest it or end it; append what happened to ``out``.

        Outside continuous trading (a call) the order rests without matching. A sweep that
        would trade beyond the dynamic band stops at its edge and starts a volatility
        interruption, into which the order's remainder rests (IOC and FOK are cancelled).
        Every path that rests falls through to the one resting step at the end, inline, since
        most orders rest and a call costs about 400 instructions.
        """
        buy = order.side == BUY
        price = order.price
        if book.continuous:
            beyond = 0
            dynamic_bp = book.dynamic_band_bp
            if buy:
                limit = price or book.band_high
                if dynamic_bp:
                    last = book.last_price or book.reference_price
                    edge = last + last * dynamic_bp // 10_000
                    if edge < limit:
                        beyond, limit = limit, edge
                levels, key_limit = book.asks, limit
            else:
                limit = price or book.band_low
                if dynamic_bp:
                    last = book.last_price or book.reference_price
                    edge = last - last * dynamic_bp // 10_000
                    if edge > limit:
                        beyond, limit = limit, edge
                levels, key_limit = book.bids, -limit
            tif = order.tif
            best = levels.best  # NO_LEVEL, above every limit, when the side is empty
            # Tested as "does not cross" first: CPython 3.11 specialises an int comparison
            # only when the jump after it is short (no EXTENDED_ARG), as this one is.
            if best > key_limit:
                crossed = False
            else:
                crossed = True
                needed = order.leaves if tif == FOK else min_qty
                if needed and executable_qty(book, order, limit, needed) < needed:
                    reason = Reason.FOK_NOT_FILLED if tif == FOK else Reason.MIN_QTY_NOT_MET
                    out.append(done_event(book, order, seq, ts, CANCELLED, reason))
                    return
                if self._sweep(book, order, buy, levels, best, key_limit, seq, ts, out):
                    out.append(done_event(book, order, seq, ts, CANCELLED, SELF_TRADE))
                    return
                if not order.leaves:
                    out.append(
                        OrderDone(
                            seq,
                            ts,
                            book.instrument_id,
                            order.order_id,
                            order.participant,
                            FILLED,
                            NO_REASON,
                            0,
                        )
                    )
                    return
            if beyond and crosses(book, order.side, beyond):
                _interrupt(book, seq, ts, out)
                if tif in (IOC, FOK):
                    reason = Reason.IOC_REMAINDER if tif == IOC else Reason.FOK_NOT_FILLED
                    out.append(done_event(book, order, seq, ts, CANCELLED, reason))
                    return
            elif tif == FOK or (min_qty and not crossed):
                reason = Reason.FOK_NOT_FILLED if tif == FOK else Reason.MIN_QTY_NOT_MET
                out.append(done_event(book, order, seq, ts, CANCELLED, reason))
                return
            elif not price:
                opposite = book.asks if buy else book.bids
                reason = MARKET_PROTECTION if opposite else MARKET_NO_LIQUIDITY
                out.append(done_event(book, order, seq, ts, CANCELLED, reason))
                return
            elif tif == IOC:
                out.append(done_event(book, order, seq, ts, CANCELLED, IOC_REMAINDER))
                return
        # The order rests at the back of its level, showing its peak; a market order (price
        # 0) can rest only during a call, in the call's market queue. This is the only place
        # an order joins a level.
        peak, leaves = order.peak, order.leaves
        visible = order.visible = peak if peak and peak < leaves else leaves
        if price:
            if buy:
                levels, key = book.bids, -price
            else:
                levels, key = book.asks, price
            level = levels.get(key)
            if level is None:
                level = Level(price)
                levels.insert(key, level)
        else:
            level = book.market_bids if buy else book.market_asks
        oid = order.order_id
        orders = level.orders
        orders[oid] = order
        level.qty += visible
        if peak:
            level.hidden += leaves - visible
        book.orders[oid] = order
        if order.expire_ts:  # GTD
            book.gtd.add((order.expire_ts, oid))
        if price:
            out.append(
                BookLevelChanged(
                    seq, ts, book.instrument_id, order.side, price, level.qty, len(orders)
                )
            )

    def release_stops(self, book: Book, seq: int, ts: int, out: list) -> None:
        """Release the stops this command's trades reached, in acceptance order (see module)."""
        if not self.trade_high:
            return
        queue: list[tuple[int, Order]] = []
        while True:
            if self.trade_high and book.stop_count:
                for order in book.take_triggered_stops(self.trade_low, self.trade_high):
                    heapq.heappush(queue, (order.order_id, order))
            self.trade_low = self.trade_high = 0
            if not queue:
                return
            _, order = heapq.heappop(queue)
            order.stop_price = 0
            out.append(
                StopTriggered(
                    seq, ts, book.instrument_id, order.order_id, order.participant, book.last_price
                )
            )
            if order.price and not book.band_low <= order.price <= book.band_high:
                reason = Reason.PRICE_OUTSIDE_BAND
                out.append(done_event(book, order, seq, ts, CANCELLED, reason))
            else:
                self.execute(book, order, seq, ts, out, order.min_qty)

    # -- the sweep ----------------------------------------------------------------------

    def _sweep(
        self,
        book: Book,
        taker: Order,
        buy: bool,
        levels: Levels,
        key: int,
        key_limit: int,
        seq: int,
        ts: int,
        out: list,
    ) -> bool:
        """Take liquidity from ``levels`` (the opposite side), from the best level ``key`` up
        to the level key ``key_limit``; True if self-trade prevention ended the taker."""
        instrument = book.instrument_id
        index = book.orders
        aggressor = taker.side
        maker_side = SELL if buy else BUY
        me = taker.participant
        taker_id = taker.order_id
        stp = taker.stp
        append = out.append
        trade_id = self.last_trade_id
        stopped = False
        left = taker.leaves  # the taker's open quantity, stored back when the sweep ends
        traded = 0
        while True:
            level = levels[key]
            price = level.price
            orders = level.orders
            shown, count = level.qty, len(orders)
            first_trade_id = trade_id
            while orders:
                maker = orders[next(iter(orders))]
                if stp and maker.participant == me:
                    taker.leaves = left
                    stopped = self._prevent_self_trade(book, level, taker, maker, seq, ts, out)
                    left = taker.leaves
                    if stopped or not left:
                        break
                    continue
                visible = maker.visible
                qty = left if left < visible else visible
                left -= qty
                maker_left = maker.leaves - qty
                maker.visible = visible - qty
                maker.leaves = maker_left
                maker.filled += qty
                traded += qty
                level.qty -= qty
                trade_id += 1
                maker_id = maker.order_id
                maker_name = maker.participant
                if buy:
                    buy_id, sell_id = taker_id, maker_id
                    buyer, seller = me, maker_name
                    buy_left, sell_left = left, maker_left
                else:
                    buy_id, sell_id = maker_id, taker_id
                    buyer, seller = maker_name, me
                    buy_left, sell_left = maker_left, left
                append(
                    Trade(
                        seq,
                        ts,
                        instrument,
                        trade_id,
                        price,
                        qty,
                        aggressor,
                        buy_id,
                        sell_id,
                        buyer,
                        seller,
                        buy_left,
                        sell_left,
                    )
                )
                if not maker_left:
                    del orders[maker_id]
                    del index[maker_id]
                    if maker.expire_ts:  # GTD
                        book.gtd.remove((maker.expire_ts, maker_id))
                    append(
                        OrderDone(seq, ts, instrument, maker_id, maker_name, FILLED, NO_REASON, 0)
                    )
                elif visible == qty:  # an iceberg's peak is used up: show the next at the back
                    maker.visible = maker.peak if maker.peak < maker_left else maker_left
                    level.qty += maker.visible
                    level.hidden -= maker.visible
                    orders.move_to_end(maker_id)
                if not left:
                    break
            if trade_id != first_trade_id:
                book.last_price = price
                if book.stop_count:
                    self._widen_trade_range(price)
            if level.qty != shown or len(orders) != count:
                append(
                    BookLevelChanged(seq, ts, instrument, maker_side, price, level.qty, len(orders))
                )
            if not orders:
                levels.remove(key)
            if stopped or not left:
                break
            key = levels.best  # NO_LEVEL when the side is empty
            if key > key_limit:
                break
        self.last_trade_id = trade_id
        taker.leaves = left
        taker.filled += traded
        return stopped

    def _widen_trade_range(self, price: int) -> None:
        """Note a traded price for the stops; skipped in a book without pending stops."""
        if not self.trade_high:
            self.trade_low = self.trade_high = price
        elif price > self.trade_high:
            self.trade_high = price
        elif price < self.trade_low:
            self.trade_low = price

    def _prevent_self_trade(
        self, book: Book, level: Level, taker: Order, maker: Order, seq: int, ts: int, out: list
    ) -> bool:
        """Apply the taker's self-trade mode to one own maker; True if the taker must end."""
        mode = taker.stp
        if mode == CANCEL_TAKER:
            return True
        if mode in (CANCEL_MAKER, CANCEL_BOTH):
            out.append(done_event(book, maker, seq, ts, CANCELLED, SELF_TRADE))
            _remove_from_level(book, level, maker)
            return mode == CANCEL_BOTH
        qty = min(taker.leaves, maker.leaves)  # DECREMENT
        taker.leaves -= qty
        taker.qty -= qty
        if maker.leaves > qty:
            hidden = maker.leaves - maker.visible
            maker.leaves -= qty
            maker.qty -= qty
            shown = min(maker.visible, maker.leaves)
            level.qty -= maker.visible - shown
            maker.visible = shown
            if maker.peak:
                level.hidden += maker.leaves - shown - hidden
            out.append(amended_event(book, maker, seq, ts, True, SELF_TRADE))
        else:
            out.append(done_event(book, maker, seq, ts, CANCELLED, SELF_TRADE))
            _remove_from_level(book, level, maker)
            maker.leaves = 0
            maker.qty -= qty
        if taker.leaves:
            out.append(amended_event(book, taker, seq, ts, True, SELF_TRADE))
            return False
        taker.leaves = qty  # report what was open when it ended
        return True


# -- queries and helpers --------------------------------------------------------------------
# Module functions, not static methods: CPython 3.11 does not specialise a static method
# looked up on an instance, which costs about 180 instructions more per call.


def _interrupt(book: Book, seq: int, ts: int, out: list) -> None:
    """Switch continuous trading into a volatility interruption's call for its duration."""
    book.phase = Phase.VOLATILITY_INTERRUPTION
    book.phase_end_ts = ts + book.instrument.vi_duration_ns
    out.append(PhaseChanged(seq, ts, book.instrument_id, book.phase, book.phase_end_ts))


def crosses(book: Book, side: int, price: int) -> bool:
    """Would a limit order at ``price`` on ``side`` take liquidity now?"""
    if side == BUY:
        return book.asks.best <= price
    return -book.bids.best >= price


def executable_qty(book: Book, taker: Order, limit: int, needed: int) -> int:
    """Quantity the taker could fill at once within ``limit``, counting hidden quantity.

    Stops counting at ``needed``. Own orders never fill under self-trade prevention: they
    are skipped (cancel maker, decrement) or end the count (cancel taker, cancel both),
    and then only what is displayed ahead of the own order counts at its level, since a
    refreshed iceberg peak joins the queue behind it.
    """
    buy = taker.side == BUY
    levels = book.asks if buy else book.bids
    key_limit = limit if buy else -limit
    me, stp = taker.participant, taker.stp
    stops_at_own = stp in (CANCEL_TAKER, CANCEL_BOTH)
    total = 0
    for key, level in levels.items():
        if key > key_limit:
            break
        makers = level.orders.values()
        if stops_at_own and any(m.participant == me for m in makers):
            for maker in makers:
                if maker.participant == me:
                    return total
                total += maker.visible
            return total
        for maker in makers:
            if stp and maker.participant == me:
                continue
            total += maker.leaves
            if total >= needed:
                return total
    return total


def _remove_from_level(book: Book, level: Level, order: Order) -> None:
    """Drop an order from a level being swept (the sweep deletes the level when empty)."""
    del level.orders[order.order_id]
    level.qty -= order.visible
    if order.peak:
        level.hidden -= order.leaves - order.visible
    del book.orders[order.order_id]
    if order.expire_ts:  # GTD
        book.gtd.remove((order.expire_ts, order.order_id))


# -- events ----------------------------------------------------------------------------------


def done_event(book: Book, order: Order, seq: int, ts: int, status, reason) -> OrderDone:
    return OrderDone(
        seq,
        ts,
        book.instrument_id,
        order.order_id,
        order.participant,
        status,
        reason,
        order.leaves,
    )


def amended_event(
    book: Book, order: Order, seq: int, ts: int, kept_priority: bool, reason
) -> OrderAmended:
    """The order as it stands after an amend (by its owner, or by self-trade prevention)."""
    return OrderAmended(
        seq,
        ts,
        book.instrument_id,
        order.order_id,
        order.participant,
        order.price,
        order.leaves,
        kept_priority,
        reason,
    )


def level_event(book: Book, side: int, level: Level, seq: int, ts: int) -> BookLevelChanged:
    return BookLevelChanged(
        seq, ts, book.instrument_id, side, level.price, level.qty, len(level.orders)
    )
