"""Call-auction uncross benchmark: prints one JSON line, or import :func:`run`.

- ``uncross_ms``: median time of ``find_uncross_sorted`` + ``allocate`` for a final uncross of
  10,000 resting orders over ~200 price levels. Both sides spread over the same levels, so
  about half of the orders execute: the allocation walk is not cut short.
- ``indicative_us``: median time to add one order to aggregated best-first depth of up to 100
  levels per side and recompute the indicative result (target <= 50 us).
- ``indicative_from_book_us``: the same when the depth lives in ``SortedDict``s keyed like
  ``engine.book`` (bids by negated price) and the level lists are rebuilt on every recompute.
"""

import json
import random
import statistics
import time
from bisect import bisect_left
from collections.abc import Callable

from sortedcontainers import SortedDict

from engine.uncross import BUY, SELL, allocate, find_uncross_sorted

TICK = 5
MID = 20_000  # minor units: 200.00 with a tick of 0.05


def run(seed: int = 1, orders: int = 10_000, levels: int = 200, samples: int = 2_000) -> dict:
    """Both measurements on books drawn from ``seed``."""
    rng = random.Random(seed)
    return {"bench": "auction", **_final_uncross(rng, orders, levels), **_indicative(rng, samples)}


def _final_uncross(rng: random.Random, orders: int, levels: int) -> dict:
    book: dict[int, list[tuple[int, int | None, int]]] = {BUY: [], SELL: []}
    for order_id in range(orders):
        limit = (
            None if rng.random() < 0.01 else MID + TICK * rng.randrange(-levels // 2, levels // 2)
        )
        book[rng.choice((BUY, SELL))].append((order_id, limit, rng.randint(1, 100)))
    queues = {side: _priority(book[side], side) for side in (BUY, SELL)}
    depth: dict[int, dict[int, int]] = {BUY: {}, SELL: {}}
    market = {BUY: 0, SELL: 0}
    for side, side_orders in book.items():
        for _, limit, qty in side_orders:
            if limit is None:
                market[side] += qty
            else:
                depth[side][limit] = depth[side].get(limit, 0) + qty
    buy_levels = sorted(depth[BUY].items(), reverse=True)
    sell_levels = sorted(depth[SELL].items())

    def uncross() -> tuple:
        result = find_uncross_sorted(buy_levels, sell_levels, market[BUY], market[SELL], MID, TICK)
        return result, allocate(result.price, result.volume, queues[BUY], queues[SELL])

    result, allocation = uncross()
    return {
        "uncross_ms": round(_median_ns(uncross, 21) / 1e6, 3),
        "orders": orders,
        "levels": len(depth[BUY].keys() | depth[SELL].keys()),
        "volume": result.volume,
        "executed_orders": len(allocation.buys) + len(allocation.sells),
        "fills": len(allocation.fills),
    }


def _priority(orders: list[tuple[int, int | None, int]], side: int) -> list:
    """Market orders first, then best price, then time (order id)."""
    sign = -1 if side == BUY else 1
    return sorted(orders, key=lambda o: (o[1] is not None, sign * (o[1] or 0), o[0]))


def _indicative(rng: random.Random, samples: int) -> dict:
    ranges = {BUY: (-60, 40), SELL: (-40, 60)}  # 100 levels per side, 80 of them overlapping
    levels: dict[int, list[tuple[int, int]]] = {BUY: [], SELL: []}
    book = {BUY: SortedDict(), SELL: SortedDict()}  # bids keyed by negated price, as engine.book
    market = {BUY: 300, SELL: 200}

    def add(side: int) -> None:
        price = MID + TICK * rng.randrange(*ranges[side])
        qty = rng.randint(1, 100)
        _add_level(levels[side], price, qty, -1 if side == BUY else 1)
        key = -price if side == BUY else price
        book[side][key] = book[side].get(key, 0) + qty

    for _ in range(2_000):
        add(rng.choice((BUY, SELL)))

    def from_lists() -> None:
        add(rng.choice((BUY, SELL)))
        find_uncross_sorted(levels[BUY], levels[SELL], market[BUY], market[SELL], MID, TICK)

    def from_book() -> None:
        add(rng.choice((BUY, SELL)))
        buys = [(-key, qty) for key, qty in book[BUY].items()]
        sells = list(book[SELL].items())
        find_uncross_sorted(buys, sells, market[BUY], market[SELL], MID, TICK)

    return {
        "indicative_us": round(_median_ns(from_lists, samples) / 1e3, 2),
        "indicative_from_book_us": round(_median_ns(from_book, samples) / 1e3, 2),
        "indicative_levels_per_side": max(len(levels[BUY]), len(levels[SELL])),
    }


def _add_level(depth: list[tuple[int, int]], price: int, qty: int, sign: int) -> None:
    """Add ``qty`` at ``price`` to best-first levels (``sign`` -1 for bids, which descend)."""
    i = bisect_left(depth, sign * price, key=lambda level: sign * level[0])
    if i < len(depth) and depth[i][0] == price:
        depth[i] = (price, depth[i][1] + qty)
    else:
        depth.insert(i, (price, qty))


def _median_ns(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times)


if __name__ == "__main__":
    print(json.dumps(run()))
