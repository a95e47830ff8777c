"""Call-auction uncross: research §7.6 vectors, the variants' tie rules, and properties.

The properties check the fast search against a brute force that evaluates every candidate
plainly, and check allocation against the invariants of §7.4 (exact volume, limits respected,
leftover book uncrossed, at most one partial fill per side).
"""

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import uncross
from engine.uncross import (
    BUY,
    SELL,
    UncrossResult,
    UncrossVariant,
    allocate,
    find_uncross,
    find_uncross_sorted,
)

XETRA, EURONEXT, SSE = UncrossVariant.XETRA, UncrossVariant.EURONEXT, UncrossVariant.SSE

Order = tuple[int, int | None, int]  # (order_id, limit or None for market, qty)


# -- helpers ------------------------------------------------------------------------------


def levels(orders: list[Order]) -> tuple[dict[int, int], int]:
    """Aggregate orders into ``price -> qty`` and the market quantity."""
    depth: dict[int, int] = {}
    market = 0
    for _, limit, qty in orders:
        if limit is None:
            market += qty
        else:
            depth[limit] = depth.get(limit, 0) + qty
    return depth, market


def queue(orders: list[Order], side: int) -> list[Order]:
    """Priority order: market first, then best price, then time (the list order)."""
    sign = -1 if side == BUY else 1
    return sorted(orders, key=lambda o: (o[1] is not None, sign * (o[1] or 0)))


def run(buys: list[Order], sells: list[Order], reference: int, tick: int = 1, variant=XETRA):
    buy_depth, market_buy = levels(buys)
    sell_depth, market_sell = levels(sells)
    result = find_uncross(buy_depth, sell_depth, market_buy, market_sell, reference, tick, variant)
    assert result.price is not None
    return result, allocate(result.price, result.volume, queue(buys, BUY), queue(sells, SELL))


def brute_force(
    buys: dict[int, int],
    sells: dict[int, int],
    market_buy: int,
    market_sell: int,
    reference: int,
    tick: int,
    variant: UncrossVariant,
) -> UncrossResult:
    """The ladder of §7 applied literally to every candidate, with no cleverness."""

    def bid(p: int) -> int:
        return market_buy + sum(q for limit, q in buys.items() if limit >= p)

    def ask(p: int) -> int:
        return market_sell + sum(q for limit, q in sells.items() if limit <= p)

    def result(price: int | None) -> UncrossResult:
        if price is None:
            return UncrossResult(None, 0, 0, 0, reference)
        b, s = bid(price), ask(price)
        side = BUY if b > s else SELL if s > b else 0
        return UncrossResult(price, min(b, s), side, abs(b - s), reference)

    candidates = sorted(set(buys) | set(sells))
    volume = {p: min(bid(p), ask(p)) for p in candidates}
    market_only = min(market_buy, market_sell)
    max_v = max(volume.values(), default=market_only)
    if max_v == market_only:  # limit orders add nothing: market vs market, or nothing at all
        return result(reference if max_v else None)
    remaining = [p for p in candidates if volume[p] == max_v]
    least = min(abs(bid(p) - ask(p)) for p in remaining)
    remaining = [p for p in remaining if abs(bid(p) - ask(p)) == least]
    bid_side = [p for p in remaining if bid(p) > ask(p)]
    ask_side = [p for p in remaining if ask(p) > bid(p)]
    if variant == XETRA:
        if bid_side and not ask_side:
            return result(max(remaining))
        if ask_side and not bid_side:
            return result(min(remaining))
        low, high = (max(bid_side), min(ask_side)) if bid_side else (min(remaining), max(remaining))
        return result(min(max(reference, low), high))
    if variant == EURONEXT:
        distance = min(abs(p - reference) for p in remaining)
        nearest = [p for p in remaining if abs(p - reference) == distance]
        return result(max(nearest) if bid_side and not ask_side else min(nearest))
    low, high = min(remaining), max(remaining)
    grid = range(low, high + 1, tick)
    gap = min(abs(2 * p - low - high) for p in grid)
    nearest = [p for p in grid if abs(2 * p - low - high) == gap]
    return result(min(nearest, key=lambda p: abs(p - reference)))


def crossed(buys: list[tuple[int | None, int]], sells: list[tuple[int | None, int]]) -> bool:
    """Whether any remaining buy could trade with any remaining sell (market crosses all)."""
    if not buys or not sells:
        return False
    if any(limit is None for limit, _ in buys + sells):
        return True
    return max(limit for limit, _ in buys) >= min(limit for limit, _ in sells)


# -- research §7.6 vectors ----------------------------------------------------------------

A_BUYS = [(1, 102, 100), (2, 101, 200), (3, 100, 100)]
A_SELLS = [(11, 99, 150), (12, 101, 100), (13, 103, 200)]


def test_vector_a_unique_price_and_fills() -> None:
    result, fills = run(A_BUYS, A_SELLS, reference=100)
    assert result == UncrossResult(
        price=101, volume=250, surplus_side=BUY, surplus=50, reference=100
    )
    assert fills.price == 101
    assert fills.buys == [(1, 100), (2, 150)]  # buy@102 full, buy@101 150 of 200
    assert fills.sells == [(11, 150), (12, 100)]  # sell@99 full, sell@101 full
    assert fills.fills == [(1, 11, 100), (2, 11, 50), (2, 12, 100)]


B_BUYS = {105: 300}
B_SELLS = {100: 100, 102: 100}


@pytest.mark.parametrize(
    ("variant", "reference", "price"),
    [
        (XETRA, 101, 105),  # bid surplus at 102 and 105: market pressure takes the highest
        (XETRA, 110, 105),
        (EURONEXT, 101, 102),  # nearest the reference
        (EURONEXT, 103, 102),
        (EURONEXT, 110, 105),
        (SSE, 101, 103),  # midpoint 103.5 rounds toward the reference
        (SSE, 110, 104),
    ],
)
def test_vector_b_pressure(variant: UncrossVariant, reference: int, price: int) -> None:
    result = find_uncross(B_BUYS, B_SELLS, 0, 0, reference, 1, variant)
    assert result == UncrossResult(price, 200, BUY, 100, reference)


def test_vector_b_euronext_partial_fill_of_the_better_limit() -> None:
    """§7.4: below the Xetra price the buy limited at 105 fills only 200 of 300."""
    result, fills = run([(1, 105, 300)], [(2, 100, 100), (3, 102, 100)], 101, variant=EURONEXT)
    assert result.price == 102
    assert fills.buys == [(1, 200)]
    assert fills.fills == [(1, 2, 100), (1, 3, 100)]


C_BUYS = {106: 100, 101: 100}
C_SELLS = {100: 100, 105: 100}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (103, UncrossResult(103, 100, 0, 0, 103)),  # inside [101, 105]: no order quotes 103
        (110, UncrossResult(105, 100, SELL, 100, 110)),
        (90, UncrossResult(101, 100, BUY, 100, 90)),
    ],
)
def test_vector_c_reference_clamp(reference: int, expected: UncrossResult) -> None:
    assert find_uncross(C_BUYS, C_SELLS, 0, 0, reference, 1) == expected


def test_vector_c_euronext_equidistant_tie_takes_the_lower_price() -> None:
    """101 (bid surplus) and 105 (ask surplus) are both 2 from 103: no pressure, so lower."""
    assert find_uncross(C_BUYS, C_SELLS, 0, 0, 103, 1, EURONEXT).price == 101


def test_euronext_equidistant_tie_under_buy_pressure_takes_the_higher_price() -> None:
    result = find_uncross({104: 300}, B_SELLS, 0, 0, 103, 1, EURONEXT)
    assert result == UncrossResult(104, 200, BUY, 100, 103)


def test_vector_d_market_orders_only_trade_at_the_reference() -> None:
    result, fills = run([(1, None, 100)], [(2, None, 50)], reference=100)
    assert result == UncrossResult(100, 50, BUY, 50, 100)
    assert fills.fills == [(1, 2, 50)]


@pytest.mark.parametrize("variant", list(UncrossVariant))
def test_market_orders_against_each_other_ignore_non_crossing_limits(
    variant: UncrossVariant,
) -> None:
    """Limits at 90/110 add no volume: the markets trade at the reference, not at a limit."""
    result = find_uncross({90: 10}, {110: 10}, 50, 50, 120, 1, variant)
    assert (result.price, result.volume) == (120, 50)


def test_market_order_trades_against_a_limit_at_that_limit() -> None:
    assert find_uncross({}, {110: 10}, 100, 50, 0, 1) == UncrossResult(110, 60, BUY, 40, 0)


@pytest.mark.parametrize(
    ("buys", "sells", "market_buy", "market_sell"),
    [({}, {}, 0, 0), ({90: 10}, {110: 10}, 0, 0), ({}, {}, 100, 0), ({105: 5}, {}, 7, 0)],
)
def test_no_price_when_nothing_executes(buys, sells, market_buy, market_sell) -> None:
    result = find_uncross(buys, sells, market_buy, market_sell, 100, 1)
    assert result == UncrossResult(None, 0, 0, 0, 100)


def test_ticks_in_minor_units() -> None:
    """Vector B with a tick of 5: the SSE midpoint (102.5 ticks) lands on a tick."""
    buys, sells = {525: 300}, {500: 100, 510: 100}
    assert find_uncross(buys, sells, 0, 0, 500, 5, SSE).price == 515
    assert find_uncross(buys, sells, 0, 0, 550, 5, SSE).price == 520


def test_sorted_levels_entry_point_takes_the_engine_depth_order() -> None:
    buys = [(102, 100), (101, 200), (100, 100)]  # best first: descending
    sells = [(99, 150), (101, 100), (103, 200)]  # best first: ascending
    assert find_uncross_sorted(buys, sells, 0, 0, 100, 1).price == 101


def test_reference_off_tick_is_rejected() -> None:
    with pytest.raises(ValueError, match="multiple of tick"):
        find_uncross(C_BUYS, C_SELLS, 0, 0, 103, 5)


def test_allocate_rejects_queues_that_do_not_match_the_volume() -> None:
    with pytest.raises(ValueError, match="only 100"):
        allocate(101, 150, [(1, 102, 100)], [(2, 99, 200)])
    with pytest.raises(ValueError, match="cannot trade at 101"):
        allocate(101, 150, [(1, 102, 100), (3, 100, 100)], [(2, 99, 200)])


def test_doctests() -> None:
    result = doctest.testmod(uncross, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


# -- properties ---------------------------------------------------------------------------

TICKS = st.sampled_from([1, 5])
DEPTH = st.dictionaries(st.integers(1, 12), st.integers(1, 30), max_size=8)
MARKET = st.one_of(st.just(0), st.integers(1, 60))
VARIANTS = st.sampled_from(UncrossVariant)
# one order in thirteen is a market order; prices in ticks, scaled by the tick in the test
ORDERS = st.lists(
    st.tuples(st.integers(0, 12).map(lambda t: t or None), st.integers(1, 30)), max_size=12
)


@settings(max_examples=600, deadline=None)
@given(DEPTH, DEPTH, MARKET, MARKET, st.integers(0, 14), TICKS, VARIANTS)
def test_fast_search_agrees_with_brute_force(
    buys, sells, market_buy, market_sell, reference, tick, variant
) -> None:
    buys = {p * tick: q for p, q in buys.items()}
    sells = {p * tick: q for p, q in sells.items()}
    args = (buys, sells, market_buy, market_sell, reference * tick, tick, variant)
    assert find_uncross(*args) == brute_force(*args)


@settings(max_examples=600, deadline=None)
@given(ORDERS, ORDERS, st.integers(0, 14), TICKS, VARIANTS)
def test_allocation_executes_the_maximum_volume_and_leaves_the_book_uncrossed(
    buy_specs, sell_specs, reference, tick, variant
) -> None:
    buys = [(i, None if p is None else p * tick, q) for i, (p, q) in enumerate(buy_specs)]
    sells = [(100 + i, None if p is None else p * tick, q) for i, (p, q) in enumerate(sell_specs)]
    buy_depth, market_buy = levels(buys)
    sell_depth, market_sell = levels(sells)
    args = (buy_depth, sell_depth, market_buy, market_sell, reference * tick, tick, variant)
    result = find_uncross(*args)
    assert result == brute_force(*args)
    limits = {oid: limit for oid, limit, _ in buys + sells}
    qty = {oid: q for oid, _, q in buys + sells}

    # the maximum executable volume over every price on the grid, not just the candidates
    def executable(p: int) -> int:
        b = market_buy + sum(q for limit, q in buy_depth.items() if limit >= p)
        return min(b, market_sell + sum(q for limit, q in sell_depth.items() if limit <= p))

    grid = range(0, 16 * tick, tick)
    assert result.volume == max(executable(p) for p in grid)
    if result.price is None:
        assert not crossed([o[1:] for o in buys], [o[1:] for o in sells])
        return
    price = result.price
    fills = allocate(price, result.volume, queue(buys, BUY), queue(sells, SELL))
    assert fills.price == price
    assert sum(q for _, _, q in fills.fills) == result.volume
    assert sum(q for _, q in fills.buys) == sum(q for _, q in fills.sells) == result.volume
    for buy_id, sell_id, q in fills.fills:
        assert q > 0
        assert limits[buy_id] is None or limits[buy_id] >= price
        assert limits[sell_id] is None or limits[sell_id] <= price
    executed = dict(fills.buys) | dict(fills.sells)
    assert all(0 < executed[oid] <= qty[oid] for oid in executed)
    left = {oid: qty[oid] - executed.get(oid, 0) for oid in qty}
    assert not crossed(
        [(limit, left[oid]) for oid, limit, _ in buys if left[oid]],
        [(limit, left[oid]) for oid, limit, _ in sells if left[oid]],
    )
    # only the marginal order of each side can be partly filled (§7.4)
    for side in (fills.buys, fills.sells):
        assert sum(q < qty[oid] for oid, q in side) <= 1
    if variant == XETRA and result.volume > min(market_buy, market_sell):
        # Xetra: every limit strictly better than the price fills in full
        assert all(left[oid] == 0 for oid, limit, _ in buys if limit is not None and limit > price)
        assert all(left[oid] == 0 for oid, limit, _ in sells if limit is not None and limit < price)
