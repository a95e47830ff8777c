"""Call-auction uncross: auction price determination and allocation (research §7).

Pure functions over aggregated demand, so the engine can recompute the indicative price on every
book change during the call and run the final uncross without this module knowing the book.

Conventions (all integers, no floats):

- prices are minor currency units, multiples of the instrument's ``tick``;
- sides are ``BUY = 1`` and ``SELL = 2``, the values of ``engine.messages.Side``;
- market orders have no limit. In the demand given to :func:`find_uncross` they are one
  quantity per side (``market_buy``, ``market_sell``) that counts at *every* price; in the
  queues given to :func:`allocate` their limit is ``None``.

What happens to unfilled remainders (rest, cancel, market-to-limit) is the engine's policy.

For a price ``p``: ``B(p)`` is the market buys plus the limit buys at or above ``p``, ``S(p)``
the market sells plus the limit sells at or below ``p``, ``V(p) = min(B(p), S(p))`` the
executable volume and ``|B(p) - S(p)|`` the surplus, on the bid side when ``B > S``. The
candidates are the distinct limit prices in the book (Xetra's "limits").
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from itertools import accumulate
from operator import itemgetter, neg

import msgspec

BUY = 1
SELL = 2

# (order_id, limit price or None for a market order, open quantity)
QueueEntry = tuple[int, int | None, int]

_price = itemgetter(0)
_qty = itemgetter(1)


class UncrossVariant(IntEnum):
    """Which venue's tie-break ladder picks the price among the max-volume candidates."""

    XETRA = 1
    EURONEXT = 2
    SSE = 3


class UncrossResult(msgspec.Struct, frozen=True, gc=False):
    """The (indicative) auction outcome; everything is measured at ``price``.

    ``price`` is ``None`` when nothing can execute (then publish best bid and ask instead, and
    volume and surplus are 0). ``surplus_side`` is 0 when balanced, ``BUY`` for a bid surplus
    and ``SELL`` for an ask surplus. ``reference`` is the reference price the ladder used.
    """

    price: int | None
    volume: int
    surplus_side: int
    surplus: int
    reference: int


class Allocation(msgspec.Struct, frozen=True, gc=False):
    """The trades of one uncross, all at ``price``, and what each order executed.

    ``fills`` holds ``(buy_order_id, sell_order_id, qty)`` in execution order; ``buys`` and
    ``sells`` hold ``(order_id, executed qty)`` for every order that traded, in priority order.
    """

    price: int
    fills: list[tuple[int, int, int]]
    buys: list[tuple[int, int]]
    sells: list[tuple[int, int]]


def find_uncross(
    buy_levels: Mapping[int, int],
    sell_levels: Mapping[int, int],
    market_buy: int,
    market_sell: int,
    reference: int,
    tick: int,
    variant: UncrossVariant = UncrossVariant.XETRA,
) -> UncrossResult:
    """Auction price for limit demand given as ``price -> qty`` maps (any order).

    Convenience form of :func:`find_uncross_sorted`, which states the rules.
    """
    return find_uncross_sorted(
        sorted(buy_levels.items(), reverse=True),
        sorted(sell_levels.items()),
        market_buy,
        market_sell,
        reference,
        tick,
        variant,
    )


def find_uncross_sorted(
    buy_levels: Sequence[tuple[int, int]],
    sell_levels: Sequence[tuple[int, int]],
    market_buy: int,
    market_sell: int,
    reference: int,
    tick: int,
    variant: UncrossVariant = UncrossVariant.XETRA,
) -> UncrossResult:
    """Auction price, volume and surplus for aggregated ``(price, qty)`` levels, best first.

    Buy levels come in descending and sell levels in ascending price, with distinct prices and
    positive quantities: the order the engine's book keeps its levels in, so building the
    lists is one pass. Cost: O(L log L) in C to merge the prices, then O(log L) Python probes
    of ``B``/``S``, cheap enough to recompute the indicative price on every book change.

    Every variant first keeps the candidates with maximum ``V`` and, among them, the minimum
    surplus. If no order can execute there is no price. If only market orders execute against
    each other (no limit order adds volume anywhere) the price is the reference price, in
    every variant: no limit can anchor it. Then:

    - ``XETRA`` (default, §7.2): a bid surplus at all remaining candidates gives the highest,
      an ask surplus at all the lowest. Otherwise the reference price is clamped into
      [highest with bid surplus, lowest with ask surplus], or into [lowest, highest] of the
      remaining when none has a surplus; the result may be a price no order quoted.
    - ``EURONEXT``: the remaining candidate nearest the reference price. Equidistant tie: the
      higher one when every remaining candidate has a bid surplus (buy pressure, as Xetra's
      X3), otherwise the lower one: under ask pressure as in X3, and as a fixed convention
      when neither side presses (opposite or no surpluses; the manual leaves this open).
    - ``SSE``: the midpoint of the remaining candidates' range. An off-tick midpoint is always
      exactly half a tick off and rounds to the neighbouring tick on the reference's side.

    ``reference`` must be a multiple of ``tick`` so that every result is on the tick grid.
    """
    buy_prices, buy_cum = _prices_and_cumsum(buy_levels, market_buy)
    sell_prices, sell_cum = _prices_and_cumsum(sell_levels, market_sell)
    buy_keys = list(map(neg, buy_prices))
    return find_uncross_curves(buy_keys, buy_cum, sell_prices, sell_cum, reference, tick, variant)


def find_uncross_curves(
    buy_keys: list[int],
    buy_cum: Sequence[int],
    sell_prices: list[int],
    sell_cum: Sequence[int],
    reference: int,
    tick: int,
    variant: UncrossVariant = UncrossVariant.XETRA,
) -> UncrossResult:
    """:func:`find_uncross_sorted` on demand curves, best level first: the buy levels as their
    negated prices (ascending, as the engine's book keys them) and the sell levels as their
    prices, each with ``cum``: ``cum[0]`` the side's market orders and ``cum[i]`` those plus
    its first ``i`` levels. The engine passes its level keys as they are.
    """
    if tick <= 0 or reference % tick:
        raise ValueError(f"reference {reference} is not a multiple of tick {tick}")

    def bid(p: int) -> int:  # B(p): the buys whose key -price is at most -p
        return buy_cum[bisect_right(buy_keys, -p)]

    def ask(p: int) -> int:  # S(p)
        return sell_cum[bisect_right(sell_prices, p)]

    # two ascending runs, merged by the sort in one pass; a price both sides quote appears
    # twice, which the ladder allows
    candidates = sorted([*map(neg, reversed(buy_keys)), *sell_prices])
    market_volume = min(buy_cum[0], sell_cum[0])
    price = _auction_price(candidates, bid, ask, market_volume, reference, tick, variant)
    if price is None:
        return UncrossResult(None, 0, 0, 0, reference)
    b, s = bid(price), ask(price)
    side = BUY if b > s else SELL if s > b else 0
    return UncrossResult(price, min(b, s), side, abs(b - s), reference)


def _prices_and_cumsum(
    levels: Sequence[tuple[int, int]], market: int
) -> tuple[list[int], list[int]]:
    """Level prices, and the side's volume over its first ``i`` levels plus its market orders.

    >>> _prices_and_cumsum([(102, 100), (101, 200)], 5)
    ([102, 101], [5, 105, 305])
    """
    return list(map(_price, levels)), list(accumulate(map(_qty, levels), initial=market))


def _auction_price(
    candidates: list[int],
    bid: Callable[[int], int],
    ask: Callable[[int], int],
    market_volume: int,
    reference: int,
    tick: int,
    variant: UncrossVariant,
) -> int | None:
    """Run the ladder on ascending candidates with ``B``/``S`` given as functions.

    A price may appear twice among the candidates: equal prices have equal ``B`` and ``S``, so
    the split falls between distinct prices and a repeat changes none of the prices picked.

    ``B - S`` never increases with the price, so the first candidate ``k`` without a bid
    surplus splits the candidates: below it ``V = S`` rises, from it on ``V = B`` falls. The
    maximum volume is next to the split, and so is the minimum surplus among the max-volume
    candidates; those tied on both form a short run around ``k`` (consecutive candidates keep
    both ``B`` and ``S`` only across a sell-only level followed by a buy-only level).
    """
    n = len(candidates)
    k = bisect_left(candidates, True, key=lambda p: bid(p) <= ask(p))
    below_v = ask(candidates[k - 1]) if k else 0
    above_v = bid(candidates[k]) if k < n else 0
    max_v = max(below_v, above_v)
    if max_v <= market_volume:
        # V(p) >= min(market buys, market sells) at every price, so equality means no limit
        # order adds volume: only market orders execute, against each other, or nothing does.
        return reference if market_volume else None
    below_s = bid(candidates[k - 1]) - max_v if below_v == max_v else None
    above_s = ask(candidates[k]) - max_v if above_v == max_v else None
    surplus = min(s for s in (below_s, above_s) if s is not None)
    first, last = k, k - 1  # the remaining candidates are candidates[first:last + 1]
    if below_s == surplus:
        first = k - 1
        while first and ask(p := candidates[first - 1]) == max_v == bid(p) - surplus:
            first -= 1
    if above_s == surplus:
        last = k
        while last + 1 < n and bid(p := candidates[last + 1]) == max_v == ask(p) - surplus:
            last += 1
    remaining = candidates[first : last + 1]
    bid_surplus = k - first  # remaining[:bid_surplus] have a bid surplus, the rest an ask one
    if variant == UncrossVariant.SSE:
        return _tick_midpoint(remaining[0], remaining[-1], tick, reference)
    buy_pressure = bid_surplus == len(remaining)
    if variant == UncrossVariant.EURONEXT:
        return min(remaining, key=lambda p: (abs(p - reference), -p if buy_pressure else p))
    if buy_pressure:  # X3
        return remaining[-1]
    if surplus and not bid_surplus:  # X3, ask surplus everywhere
        return remaining[0]
    low, high = (  # X4: (a) opposite surpluses, (b) none
        (remaining[bid_surplus - 1], remaining[bid_surplus])
        if bid_surplus
        else (remaining[0], remaining[-1])
    )
    return min(max(reference, low), high)


def _tick_midpoint(low: int, high: int, tick: int, reference: int) -> int:
    """Midpoint of on-tick ``low`` and ``high``, rounded toward ``reference`` when off-tick.

    Rounding toward the reference keeps the price nearest the last known fair value; the
    direction is always defined because an on-tick reference is never half a tick off.

    >>> _tick_midpoint(102, 105, 1, 90), _tick_midpoint(102, 105, 1, 110)
    (103, 104)
    >>> _tick_midpoint(100, 110, 5, 0)
    105
    """
    twice = low + high
    if twice % (2 * tick) == 0:
        return twice // 2
    return (twice + tick) // 2 if 2 * reference > twice else (twice - tick) // 2


def allocate(
    price: int,
    volume: int,
    buys: Iterable[QueueEntry],
    sells: Iterable[QueueEntry],
) -> Allocation:
    """Execute exactly ``volume`` at ``price``, pairing the two queues deterministically.

    Each queue is ``(order_id, limit or None, qty)`` in priority order: market orders first,
    then price (best first), then time. Each side is consumed from its head, whole orders
    first, so only the last order taken on a side can be partly filled. With a Xetra price
    (other than the market-only case) every limit strictly better than ``price`` fills in
    full, so that order is a market order or one limited at ``price``. The walk stops once
    ``volume`` is reached, so the queues may be lazy iterators over the whole book and the
    cost follows the orders that trade.

    Raises ``ValueError`` if a queue reaches an order that cannot trade at ``price`` (limit
    below it for a buy, above it for a sell) or runs dry before ``volume``: the caller passed a
    result and queues that do not belong together.
    """
    bought = _take(buys, volume, price, BUY)
    sold = _take(sells, volume, price, SELL)
    fills = []
    sells_taken = iter(sold)
    sell_id = sell_left = 0
    for buy_id, buy_left in bought:
        while buy_left:
            if not sell_left:
                sell_id, sell_left = next(sells_taken)
            qty = buy_left if buy_left < sell_left else sell_left
            fills.append((buy_id, sell_id, qty))
            buy_left -= qty
            sell_left -= qty
    return Allocation(price, fills, bought, sold)


def _take(queue: Iterable[QueueEntry], volume: int, price: int, side: int) -> list[tuple[int, int]]:
    """Take ``volume`` from the head of one priority queue, whole orders first."""
    taken = []
    left = volume
    buy = side == BUY
    for order_id, limit, qty in queue:
        if not left:
            break
        if limit is not None and (limit < price if buy else limit > price):
            raise ValueError(f"order {order_id} limited at {limit} cannot trade at {price}")
        if qty > left:
            qty = left
        taken.append((order_id, qty))
        left -= qty
    if left:
        raise ValueError(f"queue holds only {volume - left} of volume {volume} at {price}")
    return taken
