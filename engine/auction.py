"""Auctions on a book: the indicative uncross, the call's uncross and the English auction.

Public functions: :func:`indicative`, :func:`indicative_event`, :func:`execute_uncross`,
:func:`close_english`, :func:`check_english_order`.

Price determination and allocation are pure functions in :mod:`engine.uncross`; this module
feeds them the book's aggregated demand (icebergs with their full size, market orders as a
quantity per side) and applies their result to the book. Allocation follows priority: market
orders first, then price, then time; at most one order per side is partly filled.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate

from engine.book import Book, Level, Levels, Order
from engine.codes import Reason
from engine.instruments import AuctionRule
from engine.matching import Matcher, done_event
from engine.messages import (
    AuctionIndicative,
    BookLevelChanged,
    DoneStatus,
    NewOrder,
    OrderDone,
    OrderType,
    Phase,
    Side,
    TimeInForce,
    Trade,
)
from engine.uncross import Allocation, UncrossResult, UncrossVariant, allocate, find_uncross_curves

BUY = Side.BUY
SELL = Side.SELL
FILLED = DoneStatus.FILLED
NONE = Reason.NONE
VARIANT = {
    AuctionRule.XETRA: UncrossVariant.XETRA,
    AuctionRule.EURONEXT: UncrossVariant.EURONEXT,
    AuctionRule.SSE: UncrossVariant.SSE,
}
ENGLISH_TIFS = frozenset({TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GFA})


def auction_reference(book: Book) -> int:
    """The price the ladder's last step leans on: the last trade, else the reference price."""
    return book.last_price or book.reference_price


def indicative(book: Book) -> UncrossResult:
    """The uncross the book would give now (the English auction: the leading bid)."""
    if book.phase == Phase.ENGLISH_AUCTION:
        return _english_indicative(book)
    return find_uncross_curves(
        list(book.bids),  # its keys: the negated bid prices, best first
        _demand(book.bids, book.market_bids),
        list(book.asks),
        _demand(book.asks, book.market_asks),
        auction_reference(book),
        book.instrument.tick_size,
        VARIANT[book.instrument.auction_rule],
    )


def indicative_event(book: Book, seq: int, ts: int) -> AuctionIndicative:
    result = indicative(book)
    return AuctionIndicative(
        seq,
        ts,
        book.instrument_id,
        result.price,
        result.volume,
        Side(result.surplus_side) if result.surplus_side else None,
        result.surplus,
        result.reference,
    )


def execute_uncross(
    book: Book, matcher: Matcher, seq: int, ts: int, out: list
) -> tuple[UncrossResult, int]:
    """Run the call's uncross: trades at one price, book updated; returns (result, trades)."""
    result = indicative(book)
    if result.price is None or not result.volume:
        return result, 0
    allocation = allocate(result.price, result.volume, _queue(book, BUY), _queue(book, SELL))
    _apply_fills(book, matcher, allocation, seq, ts, out)
    return result, len(allocation.fills)


def close_english(
    book: Book, matcher: Matcher, seq: int, ts: int, out: list
) -> tuple[UncrossResult, int]:
    """Close the English auction: the best bid buys the lot at its own price if it meets the
    seller's reserve (the sell order's limit)."""
    result = _english_indicative(book)
    if result.price is None:
        return result, 0
    bid = _first(book.bids)
    offer = _first(book.asks)
    qty = min(bid.leaves, offer.leaves)
    fill = Allocation(
        bid.price,
        [(bid.order_id, offer.order_id, qty)],
        [(bid.order_id, qty)],
        [(offer.order_id, qty)],
    )
    _apply_fills(book, matcher, fill, seq, ts, out)
    return result, 1


def check_english_order(book: Book, cmd: NewOrder) -> Reason:
    """The rules of an English auction for one order: one lot, plain limit orders, one seller,
    and each bid at least the start price and one increment above the best bid."""
    terms = book.english
    plain = (
        cmd.order_type == OrderType.LIMIT
        and cmd.tif in ENGLISH_TIFS
        and not cmd.display_qty
        and not cmd.post_only
        and cmd.qty == book.instrument.lot_size
    )
    if terms is None or not plain:
        return Reason.REGIME_VIOLATION
    if cmd.side == SELL:
        return Reason.REGIME_VIOLATION if book.asks else Reason.NONE
    best = book.best_bid()
    floor = (
        terms.start_price if best is None else max(terms.start_price, best + terms.min_increment)
    )
    return Reason.BID_TOO_LOW if cmd.price < floor else Reason.NONE


# -- internals ----------------------------------------------------------------------------


def _demand(levels: Levels, market: Level) -> list[int]:
    """One side's demand curve: its market orders, then plus each level's full size
    (icebergs count whole in an auction), best level first."""
    return list(
        accumulate(
            [lv.qty + lv.hidden for lv in levels.values()], initial=market.qty + market.hidden
        )
    )


def _first(levels) -> Order:
    level = levels[levels.best]
    return next(iter(level.orders.values()))


def _english_indicative(book: Book) -> UncrossResult:
    reference = auction_reference(book)
    if not book.bids or not book.asks:
        return UncrossResult(None, 0, 0, 0, reference)
    bid, offer = _first(book.bids), _first(book.asks)
    if bid.price < offer.price:
        return UncrossResult(None, 0, 0, 0, reference)
    return UncrossResult(bid.price, min(bid.leaves, offer.leaves), 0, 0, reference)


def _queue(book: Book, side: int) -> Iterator[tuple[int, int | None, int]]:
    """One side in auction priority: market orders, then best price, then time."""
    market = book.market_bids if side == BUY else book.market_asks
    for order in market.orders.values():
        yield order.order_id, None, order.leaves
    for level in (book.bids if side == BUY else book.asks).values():
        for order in level.orders.values():
            yield order.order_id, level.price, order.leaves


def _apply_fills(
    book: Book, matcher: Matcher, allocation: Allocation, seq: int, ts: int, out: list
) -> None:
    """Emit one trade per fill at the auction price, take out or shrink the orders that
    traded, then publish each level they touched once, in side and price order."""
    iid = book.instrument_id
    price = allocation.price
    orders = book.orders
    trade_id = matcher.last_trade_id
    buy_id = sell_id = buy_left = sell_left = 0
    buyer = seller = ""
    for fill_buy, fill_sell, qty in allocation.fills:
        if fill_buy != buy_id:  # each order's fills are consecutive: look it up once
            buy_id = fill_buy
            order = orders[buy_id]
            buyer, buy_left = order.participant, order.leaves
        if fill_sell != sell_id:
            sell_id = fill_sell
            order = orders[sell_id]
            seller, sell_left = order.participant, order.leaves
        buy_left -= qty
        sell_left -= qty
        trade_id += 1
        out.append(
            Trade(
                seq,
                ts,
                iid,
                trade_id,
                price,
                qty,
                None,
                buy_id,
                sell_id,
                buyer,
                seller,
                buy_left,
                sell_left,
            )
        )
    matcher.last_trade_id = trade_id
    touched: dict[tuple[int, int], Level | None] = {}
    _take_executed(book, BUY, allocation.buys, touched, seq, ts, out)
    _take_executed(book, SELL, allocation.sells, touched, seq, ts, out)
    for (side, level_price), level in sorted(touched.items(), key=_touched_key):
        qty, count = (level.qty, len(level.orders)) if level else (0, 0)
        out.append(BookLevelChanged(seq, ts, iid, side, level_price, qty, count))
    book.last_price = price


def _take_executed(
    book: Book,
    side: int,
    taken: list[tuple[int, int]],
    touched: dict[tuple[int, int], Level | None],
    seq: int,
    ts: int,
    out: list,
) -> None:
    """Take one side's executed orders out of the book, or shrink the one partly filled.

    ``taken`` is the head of the side's priority queue (market orders, then each level best
    first, in time order) with what each order executed; only its last order can be partly
    filled. A level the auction emptied leaves the book whole, one removal instead of one
    per order; only the level where execution stopped is worked order by order. ``touched``
    collects each level's key, with None for a level that is gone.
    """
    iid = book.instrument_id
    levels = book.side_levels(side)
    orders = book.orders
    n = len(taken)
    last_id, last_qty = taken[-1]
    whole = n if orders[last_id].leaves == last_qty else n - 1  # the filled-up head of taken
    i = 0
    while i < n:
        order_id, qty = taken[i]
        order = orders[order_id]
        if order.price:
            level = levels[levels.best]
            end = i + len(level.orders)
            if end <= whole:
                book.drop_level(levels, levels.best)
                for done_id, done in level.orders.items():
                    out.append(OrderDone(seq, ts, iid, done_id, done.participant, FILLED, NONE, 0))
                touched[(side, level.price)] = None
                i = end
                continue
        level = book.resize(order, order.leaves - qty, qty)
        if level.price:
            touched[(side, level.price)] = level
        if not order.leaves:
            out.append(done_event(book, order, seq, ts, FILLED, NONE))
        i += 1


def _touched_key(item: tuple[tuple[int, int], Level | None]) -> tuple[int, int]:
    return item[0]
