"""Seeded command streams for the engine benchmarks, shared by every script that replays them.

Streams are generated once against a live core, so cancels and amends name orders that are
really resting at that point; the timed runs then replay the finished list.
"""

from __future__ import annotations

import datetime as dt
import random

from engine.core import Core
from engine.instruments import Instrument, InstrumentKind, IpType, RightType
from engine.messages import AmendOrder, CancelOrder, NewOrder, OrderType, Side, TimeInForce

BENCH_ID = "BENCH-ULR"


def bench_instrument() -> Instrument:
    """One unit-licence instrument with a tick of 1 and a band wide enough for any drift."""
    return Instrument(
        instrument_id=BENCH_ID,
        name="benchmark unit licence",
        kind=InstrumentKind.UNIT_LICENCE,
        ip_type=IpType.INVENTION_PATENT,
        ip_asset_ids=("CN000000000B",),
        right=RightType.STANDARDIZED_LICENCE_UNIT,
        territory=("WORLD",),
        field_of_use="benchmarks",
        term_start=dt.date(2026, 1, 1),
        term_end=dt.date(2030, 12, 31),
        currency="CNY",
        tick_size=1,
        lot_size=1,
        reference_price=100_000,
        band_bp=9_000,
    )


class _Generator:
    """Builds a stream while a shadow core tells which orders are live."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.core = Core([bench_instrument()])
        self.book = self.core.book(BENCH_ID)
        self.commands: list = []
        self.next_id = 0

    def emit(self, cmd) -> None:
        self.commands.append(cmd)
        self.core.apply(cmd, len(self.commands), len(self.commands))

    def new(self, side: Side, qty: int, price: int, **kw) -> None:
        self.next_id += 1
        self.emit(
            NewOrder(BENCH_ID, self.next_id, f"P{self.rng.randrange(50)}", side, qty, price, **kw)
        )

    def live_order(self):
        """A uniformly chosen resting order (O(1) via the id index's insertion order)."""
        orders = self.book.orders
        if not orders:
            return None
        keys = list(orders) if len(orders) < 64 else None
        if keys is not None:
            return orders[self.rng.choice(keys)]
        for _ in range(8):
            order = orders.get(self.rng.randint(max(1, self.next_id - 4000), self.next_id))
            if order is not None:
                return order
        return next(iter(orders.values()))


def mixed(n: int, seed: int = 1) -> list:
    """60% limits near a drifting mid (most rest, some cross), 10% market, 25% cancel, 5% amend."""
    g = _Generator(seed)
    rng = g.rng
    mid = 100_000.0
    while len(g.commands) < n:
        mid += rng.gauss(0, 2)
        r = rng.random()
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        if r < 0.60:
            sign = -1 if side == Side.BUY else 1
            offset = rng.randint(-5, 40)  # negative offsets cross the spread
            g.new(side, rng.randint(1, 20), int(mid) + sign * offset)
        elif r < 0.70:
            g.new(side, rng.randint(1, 15), 0, order_type=OrderType.MARKET, tif=TimeInForce.IOC)
        elif r < 0.95:
            order = g.live_order()
            if order is not None:
                g.emit(CancelOrder(BENCH_ID, order.order_id, order.participant))
        else:
            order = g.live_order()
            if order is not None:
                qty = max(order.filled + 1, order.qty + rng.choice((-2, -1, 1, 2)))
                g.emit(
                    AmendOrder(
                        BENCH_ID,
                        order.order_id,
                        order.participant,
                        qty,
                        order.price + rng.choice((-2, -1, 0, 1, 2)),
                    )
                )
    return g.commands


def amend_heavy(n: int, seed: int = 2, resting: int = 1_000) -> list:
    """exchange-core's mix: 9% GTC, 3% IOC, 6% cancel, 82% amend by 1-2 ticks, ~1,000 resting."""
    g = _Generator(seed)
    rng = g.rng
    mid = 100_000
    while len(g.book.orders) < resting:
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        sign = -1 if side == Side.BUY else 1
        g.new(side, rng.randint(1, 50), mid + sign * rng.randint(1, 380))
    warmup = len(g.commands)
    while len(g.commands) - warmup < n:
        r = rng.random()
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        sign = -1 if side == Side.BUY else 1
        live = len(g.book.orders)
        if live < resting // 2 or (r < 0.09 and live < resting * 11 // 10):
            g.new(side, rng.randint(1, 50), mid + sign * rng.randint(1, 380))
        elif r < 0.12:
            g.new(side, rng.randint(1, 30), mid - sign * rng.randint(0, 5), tif=TimeInForce.IOC)
        elif r < 0.18 or live > resting * 11 // 10:
            order = g.live_order()
            g.emit(CancelOrder(BENCH_ID, order.order_id, order.participant))
        else:
            order = g.live_order()
            step = rng.choice((-2, -1, 1, 2))
            g.emit(
                AmendOrder(
                    BENCH_ID, order.order_id, order.participant, order.qty, order.price + step
                )
            )
    return g.commands
