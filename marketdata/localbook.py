"""A subscriber's picture of one instrument, rebuilt from feed messages.

Public types: :class:`LocalBook`, :class:`InstrumentView`.

Applying is the same for a snapshot and for live frames, except that a snapshot first clears
what it replaces (the depth window, the order queues). Trades and bars are merged by trade id
and bar start, so the recent history a snapshot replays never duplicates what was seen.
"""

from __future__ import annotations

from collections import deque

from marketdata.messages import (
    AuctionIndicative,
    Bar,
    Bars,
    DailyStats,
    DepthUpdate,
    InstrumentStatus,
    LevelTuple,
    OrderLevels,
    QueueTuple,
    Quote,
    Trades,
    TradeTuple,
)

BUY = 1
MAX_TRADES = 10_000


class LocalBook:
    """Aggregated levels (price -> (qty, orders)) and order queues of both sides."""

    def __init__(self) -> None:
        self.levels: dict[int, dict[int, tuple[int, int]]] = {1: {}, 2: {}}
        self.queues: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def apply_levels(self, levels: list[LevelTuple]) -> None:
        for side, price, qty, orders in levels:
            if qty:
                self.levels[side][price] = (qty, orders)
            else:
                self.levels[side].pop(price, None)

    def apply_queues(self, levels: list[QueueTuple]) -> None:
        for side, price, orders in levels:
            if orders:
                self.queues[(side, price)] = orders
            else:
                self.queues.pop((side, price), None)

    def depth(self, side: int, levels: int | None = None) -> list[tuple[int, int, int]]:
        """``(price, qty, orders)`` best first, the shape of ``engine.book.Book.depth``."""
        prices = sorted(self.levels[side], reverse=side == BUY)[:levels]
        book = self.levels[side]
        return [(p, *book[p]) for p in prices]

    def best(self, side: int) -> int:
        """Best price of a side, 0 when it is empty."""
        book = self.levels[side]
        if not book:
            return 0
        return max(book) if side == BUY else min(book)

    def resting(self, side: int) -> list[tuple[int, int, int]]:
        """``(order_id, price, displayed qty)`` in priority order, from the order channel."""
        prices = sorted((p for s, p in self.queues if s == side), reverse=side == BUY)
        return [(oid, p, qty) for p in prices for oid, qty in self.queues[(side, p)]]

    def queue_depth(self, side: int) -> list[tuple[int, int, int]]:
        """Levels aggregated from the order queues: full depth, whatever the window."""
        prices = sorted((p for s, p in self.queues if s == side), reverse=side == BUY)
        return [
            (p, sum(q for _, q in self.queues[(side, p)]), len(self.queues[(side, p)]))
            for p in prices
        ]


class InstrumentView:
    """Everything a subscriber knows about one instrument, updated message by message."""

    def __init__(self, instrument: str) -> None:
        self.instrument = instrument
        self.book = LocalBook()
        self.quote: Quote | None = None
        self.status: InstrumentStatus | None = None
        self.auction: AuctionIndicative | None = None
        self.stats: DailyStats | None = None
        self.trades: deque[TradeTuple] = deque(maxlen=MAX_TRADES)
        self.bars: dict[int, list[Bar]] = {}

    @property
    def last_trade_id(self) -> int:
        return self.trades[-1][0] if self.trades else 0

    def apply(self, msg, snapshot: bool = False) -> None:
        """Apply one data message; a snapshot's replaces the state it covers."""
        match msg:
            case DepthUpdate():
                if snapshot:
                    self.book.levels = {1: {}, 2: {}}
                self.book.apply_levels(msg.levels)
            case OrderLevels():
                if snapshot:
                    self.book.queues = {}
                self.book.apply_queues(msg.levels)
            case Trades():
                last = self.last_trade_id
                self.trades.extend(t for t in msg.trades if t[0] > last)
            case Quote():
                self.quote = msg
            case InstrumentStatus():
                self.status = msg
            case AuctionIndicative():
                self.auction = msg
            case DailyStats():
                self.stats = msg
            case Bars():
                for bar in msg.bars:
                    series = self.bars.setdefault(bar.interval_s, [])
                    if not series or bar.start_ts > series[-1].start_ts:
                        series.append(bar)
