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
from operator import neg

from engine.book import Book, Level, Levels, Order
from engine.codes import Reason
from engine.instruments import AuctionRule
from engine.matching import Matcher, done_event
from engine.messages import (
    AuctionIndicative,
    BookLevelChanged,
    DoneStatus,
    NewOrder,
    OrderType,
    Phase,
    Side,
    TimeInForce,
    Trade,
)
from engine.uncross import UncrossResult, UncrossVariant, allocate, find_uncross_curves

BUY = Side.BUY
SELL = Side.SELL
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
        list(map(neg, book.bids)),  # bid keys are negated prices, best first
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
    fills = [(buy_id, sell_id, qty) for buy_id, sell_id, qty in allocation.fills]
    executed = dict(allocation.buys) | dict(allocation.sells)
    _apply_fills(book, matcher, result.price, fills, executed, seq, ts, out)
    return result, len(fills)


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
    executed = {bid.order_id: qty, offer.order_id: qty}
    _apply_fills(
        book, matcher, bid.price, [(bid.order_id, offer.order_id, qty)], executed, seq, ts, out
    )
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
    book: Book,
    matcher: Matcher,
    price: int,
    fills: list[tuple[int, int, int]],
    executed: dict[int, int],
    seq: int,
    ts: int,
    out: list,
) -> None:
    """Emit one trade per fill at ``price``, then shrink or remove the orders that traded."""
    iid = book.instrument_id
    orders = book.orders
    left = {oid: orders[oid].leaves for oid in executed}
    for buy_id, sell_id, qty in fills:
        left[buy_id] -= qty
        left[sell_id] -= qty
        matcher.last_trade_id += 1
        buyer, seller = orders[buy_id], orders[sell_id]
        out.append(
            Trade(
                seq,
                ts,
                iid,
                matcher.last_trade_id,
                price,
                qty,
                None,
                buy_id,
                sell_id,
                buyer.participant,
                seller.participant,
                left[buy_id],
                left[sell_id],
            )
        )
    touched: dict[tuple[int, int], Level] = {}
    for oid, qty in executed.items():
        order = orders[oid]
        level = book.resize(order, order.leaves - qty, qty)
        if level.price:
            touched[(order.side, level.price)] = level
        if not order.leaves:
            out.append(done_event(book, order, seq, ts, DoneStatus.FILLED, Reason.NONE))
    for (side, level_price), level in sorted(touched.items(), key=_touched_key):
        out.append(BookLevelChanged(seq, ts, iid, side, level_price, level.qty, len(level.orders)))
    book.last_price = price


def _touched_key(item: tuple[tuple[int, int], Level]) -> tuple[int, int]:
    return item[0]
