"""The naive baseline: a minimal SortedDict-plus-deque book with no events and no validation.

It replays the same streams as the engine in the same process, so the ratio of the two rates
measures what events, validation and the order types cost, on whatever machine runs it.
It knows limit, market and IOC orders, cancels and amends (cancel plus re-add, or an in-place
decrease), which is all the benchmark streams contain.
"""

from __future__ import annotations

from collections import deque

from sortedcontainers import SortedDict

from engine.messages import AmendOrder, CancelOrder, NewOrder, Side, TimeInForce


class NaiveBook:
    """Bids keyed by negated price so index 0 is the best level of either side."""

    def __init__(self, band_low: int, band_high: int) -> None:
        self.sides = {Side.BUY: SortedDict(), Side.SELL: SortedDict()}
        self.orders: dict[int, list] = {}  # id -> [side, price, leaves, total ordered]
        self.band = (band_low, band_high)
        self.trades = 0

    def apply(self, cmd) -> None:
        if type(cmd) is NewOrder:
            self.add(cmd.order_id, cmd.side, cmd.price, cmd.qty, cmd.tif == TimeInForce.IOC)
        elif type(cmd) is CancelOrder:
            self.cancel(cmd.order_id)
        elif type(cmd) is AmendOrder:
            order = self.orders.get(cmd.order_id)
            if order is None:
                return
            side, price, leaves, total = order
            new_leaves = cmd.qty - (total - leaves)
            if new_leaves <= 0 or (cmd.qty == total and cmd.price == price):
                return
            if cmd.price == price and cmd.qty < total:
                order[2], order[3] = new_leaves, cmd.qty
            else:
                self.cancel(cmd.order_id)
                self.add(cmd.order_id, side, cmd.price, new_leaves, False, cmd.qty)

    def add(self, oid: int, side: int, price: int, qty: int, ioc: bool, total: int = 0) -> None:
        total = total or qty
        buy = side == Side.BUY
        opposite = self.sides[Side.SELL if buy else Side.BUY]
        market = price == 0
        limit = (self.band[1] if buy else self.band[0]) if market else price
        key_limit = limit if buy else -limit
        while qty and opposite:
            key, level = opposite.peekitem(0)
            if key > key_limit:
                break
            while qty and level:
                maker_id = level[0]
                maker = self.orders[maker_id]
                done = min(qty, maker[2])
                qty -= done
                maker[2] -= done
                self.trades += 1
                if not maker[2]:
                    level.popleft()
                    del self.orders[maker_id]
            if not level:
                del opposite[key]
        if qty and not market and not ioc:
            own = self.sides[side]
            key = -price if buy else price
            level = own.get(key)
            if level is None:
                level = own[key] = deque()
            level.append(oid)
            self.orders[oid] = [side, price, qty, total]

    def cancel(self, oid: int) -> None:
        order = self.orders.pop(oid, None)
        if order is None:
            return
        side, price = order[0], order[1]
        levels = self.sides[side]
        key = -price if side == Side.BUY else price
        level = levels[key]
        level.remove(oid)
        if not level:
            del levels[key]
