"""Call-auction benchmark: prints one JSON line, or import :func:`run`.

- ``uncross_ms``: median time of one ``Uncross`` command through ``engine.core.Core`` on
  10,000 orders over ~200 price levels, entered in its pre-open call: price determination,
  allocation, the book's updates and every trade, done and level event the exchange
  publishes (target <= 20 ms). Both sides spread over the same levels, so about half of the
  orders execute: the allocation walk is not cut short.
- ``indicative_us``: median time of the engine's indicative recompute on its live book (up to
  100 levels per side) after each ``NewOrder`` of the call, with the event it publishes
  (target <= 50 us); ``call_order_us`` the whole ``NewOrder`` command, which includes one.
- ``uncross_algorithm_ms`` and ``indicative_algorithm_us``: the bare functions of
  ``engine.uncross`` under them (``find_uncross_sorted`` and ``allocate`` on the same orders;
  one order added to aggregated best-first levels, then the indicative recomputed). The
  engine's auction must equal the bare one's price, volume and number of trades.
"""

import json
import random
import statistics
import sys
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.streams import BENCH_ID, bench_instrument
from engine.auction import indicative_event
from engine.core import Core
from engine.messages import (
    AuctionUncrossed,
    NewOrder,
    OrderRejected,
    OrderType,
    Phase,
    SetPhase,
    Side,
    Uncross,
)
from engine.uncross import BUY, SELL, allocate, find_uncross_sorted

TICK = 5
MID = 20_000  # minor units: 200.00 with a tick of 0.05


def run(
    seed: int = 1, orders: int = 10_000, levels: int = 200, samples: int = 2_000, uncrosses: int = 7
) -> dict:
    """Every measurement on books drawn from ``seed``."""
    rng = random.Random(seed)
    return {
        "bench": "auction",
        **_final_uncross(rng, orders, levels, uncrosses),
        **_indicative(rng, samples),
    }


def _final_uncross(rng: random.Random, orders: int, levels: int, uncrosses: int) -> dict:
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
    entries = sorted(
        (order_id, side, limit, qty)
        for side, side_orders in book.items()
        for order_id, limit, qty in side_orders
    )
    expected = (result.price, result.volume, len(allocation.fills))
    engine_ns = _engine_uncross_ns(entries, expected, uncrosses)
    return {
        "uncross_ms": round(engine_ns / 1e6, 3),
        "uncross_algorithm_ms": round(_median_ns(uncross, 21) / 1e6, 3),
        "orders": orders,
        "levels": len(depth[BUY].keys() | depth[SELL].keys()),
        "volume": result.volume,
        "executed_orders": len(allocation.buys) + len(allocation.sells),
        "fills": len(allocation.fills),
    }


def _call_core() -> Core:
    """A core with one instrument on this benchmark's tick, moved into its pre-open call."""
    instrument = msgspec.structs.replace(bench_instrument(), tick_size=TICK, reference_price=MID)
    core = Core([instrument])
    core.apply(SetPhase(BENCH_ID, Phase.PRE_OPEN_CALL), 1, 1)
    return core


def _order(order_id: int, side: int, limit: int | None, qty: int) -> NewOrder:
    """A GTC order for the call: a limit order, or a market order where ``limit`` is None."""
    kind = OrderType.MARKET if limit is None else OrderType.LIMIT
    return NewOrder(BENCH_ID, order_id, f"P{order_id % 16}", Side(side), qty, limit or 0, kind)


def _enter(core: Core, orders: Iterable[NewOrder]) -> None:
    """Apply ``orders``; any reject means the benchmark measures the wrong thing."""
    for order in orders:
        seq = core.last_seq + 1
        if any(type(e) is OrderRejected for e in core.apply(order, seq, seq)):
            raise SystemExit(f"order {order.order_id} rejected")


def _engine_uncross_ns(entries: list, expected: tuple, repeats: int) -> float:
    """Median ns of one ``Uncross`` command over ``entries`` ((order id, side, limit, qty)),
    each on a fresh core; its auction must match the bare algorithm's ``expected`` price,
    volume and number of trades."""
    orders = [_order(order_id + 1, side, limit, qty) for order_id, side, limit, qty in entries]
    times = []
    for r in range(repeats):
        print(
            f"[auction] uncross {r + 1}/{repeats}: entering {len(orders):,} orders", file=sys.stderr
        )
        core = _call_core()
        _enter(core, orders)
        seq = core.last_seq + 1
        start = time.perf_counter_ns()
        events = core.apply(Uncross(BENCH_ID), seq, seq)
        times.append(time.perf_counter_ns() - start)
        summary = next(e for e in events if type(e) is AuctionUncrossed)
        outcome = (summary.price, summary.volume, summary.trades)
        if outcome != expected:
            raise SystemExit(f"engine uncross {outcome} != algorithm {expected}")
    return statistics.median(times)


def _priority(orders: list[tuple[int, int | None, int]], side: int) -> list:
    """Market orders first, then best price, then time (order id)."""
    sign = -1 if side == BUY else 1
    return sorted(orders, key=lambda o: (o[1] is not None, sign * (o[1] or 0), o[0]))


def _indicative(rng: random.Random, samples: int) -> dict:
    ranges = {BUY: (-60, 40), SELL: (-40, 60)}  # 100 levels per side, 80 of them overlapping
    market = {BUY: 300, SELL: 200}

    def draw() -> tuple[int, int, int]:
        side = rng.choice((BUY, SELL))
        return side, MID + TICK * rng.randrange(*ranges[side]), rng.randint(1, 100)

    levels: dict[int, list[tuple[int, int]]] = {BUY: [], SELL: []}
    for _ in range(2_000):
        side, price, qty = draw()
        _add_level(levels[side], price, qty, -1 if side == BUY else 1)

    def from_lists() -> None:
        side, price, qty = draw()
        _add_level(levels[side], price, qty, -1 if side == BUY else 1)
        find_uncross_sorted(levels[BUY], levels[SELL], market[BUY], market[SELL], MID, TICK)

    core = _call_core()
    _enter(core, [_order(1, BUY, None, market[BUY]), _order(2, SELL, None, market[SELL])])
    _enter(core, [_order(3 + i, *draw()) for i in range(2_000)])
    book = core.book(BENCH_ID)
    clock = time.perf_counter_ns
    commands, recomputes = [], []
    for order in [_order(2_003 + i, *draw()) for i in range(samples)]:
        seq = core.last_seq + 1
        start = clock()
        core.apply(order, seq, seq)
        applied = clock()
        indicative_event(book, seq, seq)
        commands.append(applied - start)
        recomputes.append(clock() - applied)

    return {
        "indicative_us": round(statistics.median(recomputes) / 1e3, 2),
        "call_order_us": round(statistics.median(commands) / 1e3, 2),
        "indicative_algorithm_us": round(_median_ns(from_lists, samples) / 1e3, 2),
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
