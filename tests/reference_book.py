"""A deliberately simple reference order book for ONE instrument, written from the rules.

It is the oracle the engine is checked against, so it favours the obvious over the fast:

- resting orders live in one plain list per side, re-sorted by (price priority, arrival
  counter) after every change; every lookup is a linear scan;
- an iceberg that shows a new peak gets a fresh arrival counter, which is what "at the back of
  its level" means;
- whether a fill-or-kill or minimum-quantity order can fill is decided by dry-running the sweep
  on a copy of the book, so the answer follows the very queue order the real sweep will see;
- stops wait in a plain list; after an order's execution every stop one of its trades reached
  is queued, and the queue is released smallest order id first.

Commands go in as the engine's command structs (:meth:`RefBook.apply`); what comes out is a list
of plain tuples, one per fact, in the order the facts happen:

- ``("accepted", order_id)``, ``("rejected", order_id, reason)``
- ``("trade", price, qty, buy_id, sell_id)``
- ``("done", order_id, status, reason, leaves)``
- ``("amended", order_id, price, leaves, kept_priority, reason)`` (``kept_priority`` is ``None``
  for self-trade decrements, where the rules do not say)
- ``("triggered", order_id)``

Not modelled: phases, GTD expiry and the band formula: a reference price move is handed in
with its band already computed (:meth:`RefBook.set_reference`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from engine.codes import Reason
from engine.messages import (
    AmendOrder,
    CancelOrder,
    DoneStatus,
    EndTradingDay,
    MassCancel,
    NewOrder,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
)

BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
STOP = OrderType.STOP
STOP_LIMIT = OrderType.STOP_LIMIT
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
FILLED = DoneStatus.FILLED
CANCELLED = DoneStatus.CANCELLED
EXPIRED = DoneStatus.EXPIRED


@dataclass
class RefOrder:
    oid: int
    owner: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int  # 0 for a market order (and for a STOP while pending)
    stop_price: int  # 0 once triggered, or for a non-stop order
    leaves: int
    filled: int
    peak: int  # 0: shows everything
    min_qty: int
    post_only: bool
    stp: StpMode
    visible: int = 0
    arrival: int = 0

    @property
    def total(self) -> int:
        """The current total quantity, filled included."""
        return self.filled + self.leaves


class RefBook:
    """One instrument's book, from the rules; see the module docstring."""

    def __init__(
        self, tick: int, lot: int, reference_price: int, band_low: int, band_high: int
    ) -> None:
        self.tick = tick
        self.lot = lot
        self.reference_price = reference_price
        self.band_low = band_low
        self.band_high = band_high
        self.bids: list[RefOrder] = []
        self.asks: list[RefOrder] = []
        self.stops: list[RefOrder] = []
        self.accepted: set[int] = set()
        self.last_accepted = 0
        self.last_price = 0
        self.counter = 0
        self.out: list[tuple] = []

    def set_reference(self, price: int, band_low: int, band_high: int) -> None:
        self.reference_price = price
        self.band_low = band_low
        self.band_high = band_high

    # -- views ------------------------------------------------------------------------------

    def side_list(self, side: Side) -> list[RefOrder]:
        return self.bids if side == BUY else self.asks

    def _sort(self) -> None:
        self.bids.sort(key=lambda o: (-o.price, o.arrival))
        self.asks.sort(key=lambda o: (o.price, o.arrival))

    def levels(self, side: Side) -> list[tuple[int, int, int]]:
        """Displayed depth, best first: (price, displayed qty, order count)."""
        result: list[list[int]] = []
        for o in self.side_list(side):
            if result and result[-1][0] == o.price:
                result[-1][1] += o.visible
                result[-1][2] += 1
            else:
                result.append([o.price, o.visible, 1])
        return [tuple(level) for level in result]

    def queue(self, side: Side) -> list[tuple[int, int, int, int]]:
        """Resting orders in priority order: (order id, price, leaves, visible)."""
        return [(o.oid, o.price, o.leaves, o.visible) for o in self.side_list(side)]

    def hidden(self, side: Side) -> int:
        return sum(o.leaves - o.visible for o in self.side_list(side))

    def pending(self) -> list[tuple[int, int, int, int]]:
        """Pending stops by order id: (order id, side, stop price, leaves)."""
        return sorted((o.oid, int(o.side), o.stop_price, o.leaves) for o in self.stops)

    def live(self, oid: int) -> RefOrder | None:
        for o in self.bids + self.asks + self.stops:
            if o.oid == oid:
                return o
        return None

    # -- commands ---------------------------------------------------------------------------

    def apply(self, cmd) -> list[tuple]:
        self.out = []
        if isinstance(cmd, NewOrder):
            self._new(cmd)
        elif isinstance(cmd, CancelOrder):
            self._cancel(cmd)
        elif isinstance(cmd, AmendOrder):
            self._amend(cmd)
        elif isinstance(cmd, MassCancel):
            self._mass_cancel(cmd)
        elif isinstance(cmd, EndTradingDay):
            self._end_of_day()
        else:
            raise TypeError(f"the reference book does not model {cmd!r}")
        return self.out

    def _reject(self, oid: int, reason: Reason) -> None:
        self.out.append(("rejected", oid, reason))

    def _done(self, o: RefOrder, status: DoneStatus, reason: Reason, leaves: int) -> None:
        self.out.append(("done", o.oid, status, reason, leaves))

    def _price_problem(self, price: int) -> Reason:
        if price <= 0:
            return Reason.INVALID_PRICE
        if price % self.tick:
            return Reason.PRICE_OFF_TICK
        if not self.band_low <= price <= self.band_high:
            return Reason.PRICE_OUTSIDE_BAND
        return Reason.NONE

    def _qty_bad(self, qty: int) -> bool:
        return qty <= 0 or qty % self.lot != 0

    def _validate_new(self, c: NewOrder) -> Reason:
        if c.order_id <= self.last_accepted:
            return Reason.DUPLICATE_ORDER_ID
        if self._qty_bad(c.qty):
            return Reason.QTY_NOT_LOT_MULTIPLE
        if c.order_type in (LIMIT, STOP_LIMIT):
            problem = self._price_problem(c.price)
            if problem:
                return problem
        elif c.price != 0:
            return Reason.INVALID_PRICE
        elif c.post_only or c.display_qty:
            return Reason.INVALID_ORDER_COMBINATION
        if c.order_type in (STOP, STOP_LIMIT):
            if c.stop_price <= 0:
                return Reason.INVALID_STOP_PRICE
            if c.stop_price % self.tick:
                return Reason.PRICE_OFF_TICK
            if not self.band_low <= c.stop_price <= self.band_high:
                return Reason.PRICE_OUTSIDE_BAND
            last = self.last_price if self.last_price else self.reference_price
            reached = c.stop_price <= last if c.side == BUY else c.stop_price >= last
            if reached:
                return Reason.INVALID_STOP_PRICE
        elif c.stop_price:
            return Reason.INVALID_ORDER_COMBINATION
        if c.tif == TimeInForce.GTD or c.expire_ts:
            raise ValueError("the reference book does not model GTD orders")
        if c.post_only and (c.tif in (IOC, FOK) or c.order_type != LIMIT):
            return Reason.INVALID_ORDER_COMBINATION
        if c.display_qty:
            if c.tif in (IOC, FOK):
                return Reason.INVALID_ORDER_COMBINATION
            if not 0 < c.display_qty < c.qty or c.display_qty % self.lot:
                return Reason.INVALID_DISPLAY_QTY
        if c.min_qty and (not 0 < c.min_qty <= c.qty or c.min_qty % self.lot):
            return Reason.INVALID_MIN_QTY
        if c.post_only and self._would_cross(c.side, c.price):
            return Reason.POST_ONLY_WOULD_TAKE
        return Reason.NONE

    def _would_cross(self, side: Side, limit: int) -> bool:
        opposite = self.asks if side == BUY else self.bids
        return any(self._within(side, o.price, limit) for o in opposite)

    @staticmethod
    def _within(side: Side, maker_price: int, limit: int) -> bool:
        return maker_price <= limit if side == BUY else maker_price >= limit

    def _new(self, c: NewOrder) -> None:
        problem = self._validate_new(c)
        if problem:
            self._reject(c.order_id, problem)
            return
        self.accepted.add(c.order_id)
        self.last_accepted = c.order_id
        o = RefOrder(
            oid=c.order_id,
            owner=c.participant,
            side=c.side,
            order_type=c.order_type,
            tif=c.tif,
            price=c.price,
            stop_price=c.stop_price,
            leaves=c.qty,
            filled=0,
            peak=c.display_qty,
            min_qty=c.min_qty,
            post_only=c.post_only,
            stp=c.stp,
        )
        self.out.append(("accepted", o.oid))
        if o.order_type in (STOP, STOP_LIMIT):
            self.stops.append(o)
            return
        prices = self._execute(o, o.min_qty)
        self._release_stops(prices)

    def _find(self, oid: int, owner: str) -> RefOrder | Reason:
        o = self.live(oid)
        if o is None:
            return Reason.ORDER_NOT_LIVE if oid in self.accepted else Reason.UNKNOWN_ORDER
        if o.owner != owner:
            return Reason.NOT_ORDER_OWNER
        return o

    def _take_out(self, o: RefOrder) -> None:
        if o in self.stops:
            self.stops.remove(o)
        else:
            self.side_list(o.side).remove(o)

    def _cancel(self, c: CancelOrder) -> None:
        found = self._find(c.order_id, c.participant)
        if isinstance(found, Reason):
            self._reject(c.order_id, found)
            return
        self._done(found, CANCELLED, Reason.CANCELLED_BY_PARTICIPANT, found.leaves)
        self._take_out(found)

    def _mass_cancel(self, c: MassCancel) -> None:
        doomed = [
            o
            for o in self.bids + self.asks + self.stops
            if o.owner == c.participant and (c.side is None or o.side == c.side)
        ]
        for o in sorted(doomed, key=lambda o: o.oid):
            self._done(o, CANCELLED, Reason.MASS_CANCELLED, o.leaves)
            self._take_out(o)

    def _end_of_day(self) -> None:
        doomed = [o for o in self.bids + self.asks + self.stops if o.tif == TimeInForce.DAY]
        for o in sorted(doomed, key=lambda o: o.oid):
            self._done(o, EXPIRED, Reason.EXPIRED_END_OF_DAY, o.leaves)
            self._take_out(o)

    def _amend(self, c: AmendOrder) -> None:
        found = self._find(c.order_id, c.participant)
        if isinstance(found, Reason):
            self._reject(c.order_id, found)
            return
        o = found
        if self._qty_bad(c.qty):
            self._reject(o.oid, Reason.QTY_NOT_LOT_MULTIPLE)
            return
        if o.price == 0:  # a pending STOP: it has no price to change
            problem = Reason.INVALID_PRICE if c.price != 0 else Reason.NONE
        else:
            problem = self._price_problem(c.price)
        if not problem and c.qty <= o.filled:
            problem = Reason.AMEND_BELOW_FILLED
        if not problem and c.qty == o.total and c.price == o.price:
            problem = Reason.AMEND_NO_CHANGE
        if (
            not problem
            and o.post_only
            and c.price != o.price
            and self._would_cross(o.side, c.price)
        ):
            problem = Reason.POST_ONLY_WOULD_TAKE
        if problem:
            self._reject(o.oid, problem)
            return
        new_leaves = c.qty - o.filled
        if o in self.stops:
            o.price, o.leaves = c.price, new_leaves
            self.out.append(("amended", o.oid, o.price, o.leaves, True, Reason.NONE))
            return
        if c.price == o.price and new_leaves < o.leaves:
            o.leaves = new_leaves
            o.visible = min(o.visible, new_leaves)
            self.out.append(("amended", o.oid, o.price, o.leaves, True, Reason.NONE))
            return
        self.side_list(o.side).remove(o)
        o.price, o.leaves = c.price, new_leaves
        self.out.append(("amended", o.oid, o.price, o.leaves, False, Reason.NONE))
        prices = self._execute(o, 0)
        self._release_stops(prices)

    # -- matching ---------------------------------------------------------------------------

    def _limit_of(self, o: RefOrder) -> int:
        if o.price:
            return o.price
        return self.band_high if o.side == BUY else self.band_low

    def _fillable(self, taker: RefOrder, limit: int) -> int:
        """Dry run of the sweep on a copy: what the taker could fill at once.

        Own orders are skipped under cancel-maker and decrement (they would be cancelled or
        traded away, never filled) and end the count under cancel-taker and cancel-both.
        """
        opposite = copy.deepcopy(self.asks if taker.side == BUY else self.bids)
        counter = self.counter
        total = 0
        while opposite and self._within(taker.side, opposite[0].price, limit):
            m = opposite[0]
            if taker.stp != StpMode.NONE and m.owner == taker.owner:
                if taker.stp in (StpMode.CANCEL_TAKER, StpMode.CANCEL_BOTH):
                    return total
                opposite.pop(0)
                continue
            total += m.visible
            m.leaves -= m.visible
            if m.leaves == 0:
                opposite.pop(0)
            else:
                m.visible = min(m.peak, m.leaves)
                counter += 1
                m.arrival = counter
                if taker.side == BUY:
                    opposite.sort(key=lambda o: (o.price, o.arrival))
                else:
                    opposite.sort(key=lambda o: (-o.price, o.arrival))
        return total

    def _execute(self, o: RefOrder, min_qty: int) -> list[int]:
        """Match an order as the taker, then rest or end it; return the traded prices."""
        limit = self._limit_of(o)
        needed = o.leaves if o.tif == FOK else min_qty
        if needed and self._fillable(o, limit) < needed:
            reason = Reason.FOK_NOT_FILLED if o.tif == FOK else Reason.MIN_QTY_NOT_MET
            self._done(o, CANCELLED, reason, o.leaves)
            return []
        prices: list[int] = []
        stopped = self._sweep(o, limit, prices)
        opposite = self.asks if o.side == BUY else self.bids
        if stopped:
            self._done(o, CANCELLED, Reason.SELF_TRADE_PREVENTED, o.leaves)
        elif o.leaves == 0:
            self._done(o, FILLED, Reason.NONE, 0)
        elif o.price == 0:
            reason = Reason.MARKET_PROTECTION if opposite else Reason.MARKET_NO_LIQUIDITY
            self._done(o, CANCELLED, reason, o.leaves)
        elif o.tif == IOC:
            self._done(o, CANCELLED, Reason.IOC_REMAINDER, o.leaves)
        elif o.tif == FOK:
            self._done(o, CANCELLED, Reason.FOK_NOT_FILLED, o.leaves)
        else:
            o.visible = min(o.peak, o.leaves) if o.peak else o.leaves
            self.counter += 1
            o.arrival = self.counter
            self.side_list(o.side).append(o)
            self._sort()
        return prices

    def _sweep(self, t: RefOrder, limit: int, prices: list[int]) -> bool:
        """Take liquidity up to ``limit``; True when self-trade prevention ends the taker."""
        opposite = self.asks if t.side == BUY else self.bids
        while t.leaves > 0 and opposite and self._within(t.side, opposite[0].price, limit):
            m = opposite[0]
            if t.stp != StpMode.NONE and m.owner == t.owner:
                if self._prevent_self_trade(t, m):
                    return True
                continue
            qty = min(t.leaves, m.visible)
            t.leaves -= qty
            t.filled += qty
            m.leaves -= qty
            m.filled += qty
            m.visible -= qty
            buy_id, sell_id = (t.oid, m.oid) if t.side == BUY else (m.oid, t.oid)
            self.out.append(("trade", m.price, qty, buy_id, sell_id))
            self.last_price = m.price
            prices.append(m.price)
            if m.leaves == 0:
                opposite.remove(m)
                self._done(m, FILLED, Reason.NONE, 0)
            elif m.visible == 0:
                m.visible = min(m.peak, m.leaves)
                self.counter += 1
                m.arrival = self.counter
                self._sort()
        return False

    def _prevent_self_trade(self, t: RefOrder, m: RefOrder) -> bool:
        """Apply the taker's mode to its own resting order ``m``; True if the taker ends."""
        opposite = self.side_list(m.side)
        stp_reason = Reason.SELF_TRADE_PREVENTED
        if t.stp == StpMode.CANCEL_TAKER:
            return True
        if t.stp in (StpMode.CANCEL_MAKER, StpMode.CANCEL_BOTH):
            opposite.remove(m)
            self._done(m, CANCELLED, stp_reason, m.leaves)
            return t.stp == StpMode.CANCEL_BOTH
        # DECREMENT: both shrink by the smaller; the smaller (both if equal) is cancelled.
        qty = min(t.leaves, m.leaves)
        m.leaves -= qty
        t.leaves -= qty
        if m.leaves:
            m.visible = min(m.visible, m.leaves)
            self.out.append(("amended", m.oid, m.price, m.leaves, None, stp_reason))
        else:
            opposite.remove(m)
            self._done(m, CANCELLED, stp_reason, qty)
        if t.leaves:
            self.out.append(("amended", t.oid, t.price, t.leaves, None, stp_reason))
            return False
        t.leaves = qty  # so the taker's done reports what it had open
        return True

    # -- stops ------------------------------------------------------------------------------

    def _reached(self, prices: list[int]) -> list[RefOrder]:
        """Pending stops that one of ``prices`` reached; they leave the pending list."""
        if not prices:
            return []
        hit = [
            s
            for s in self.stops
            if (s.side == BUY and max(prices) >= s.stop_price)
            or (s.side == SELL and min(prices) <= s.stop_price)
        ]
        for s in hit:
            self.stops.remove(s)
        return hit

    def _release_stops(self, prices: list[int]) -> None:
        queue = self._reached(prices)
        while queue:
            queue.sort(key=lambda s: s.oid)
            s = queue.pop(0)
            s.stop_price = 0
            self.out.append(("triggered", s.oid))
            if s.price and not self.band_low <= s.price <= self.band_high:
                self._done(s, CANCELLED, Reason.PRICE_OUTSIDE_BAND, s.leaves)
                continue
            queue.extend(self._reached(self._execute(s, s.min_qty)))
