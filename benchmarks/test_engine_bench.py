"""pytest-benchmark suite for the core's three basic operations: add, cancel and match.

Run with ``.venv/bin/python -m pytest benchmarks/test_engine_bench.py --benchmark-enable``.
Each round works on a book of 1,000 resting orders, so the figures are per operation on a
realistically sized book, and each test checks the operation's outcome after timing.
"""

from __future__ import annotations

import itertools

import pytest

from benchmarks.streams import BENCH_ID, bench_instrument
from engine.core import Core
from engine.messages import CancelOrder, NewOrder, Side, Trade

RESTING = 1_000


@pytest.fixture
def core() -> Core:
    """A core whose bench book holds 1,000 resting orders on 100 levels per side."""
    core = Core([bench_instrument()])
    for oid in range(1, RESTING + 1):
        side = Side.BUY if oid % 2 else Side.SELL
        offset = 1 + oid % 100
        price = 100_000 - offset if side == Side.BUY else 100_000 + offset
        core.apply(NewOrder(BENCH_ID, oid, f"P{oid % 7}", side, 10, price), oid, oid)
    return core


def test_add_resting_order(benchmark, core: Core) -> None:
    ids = itertools.count(RESTING + 1)

    def add() -> list:
        oid = next(ids)
        return core.apply(NewOrder(BENCH_ID, oid, "MM", Side.BUY, 10, 99_950), oid, oid)

    events = benchmark(add)
    assert [type(e).__name__ for e in events] == ["OrderAccepted", "BookLevelChanged"]


def test_cancel_resting_order(benchmark, core: Core) -> None:
    ids = itertools.count(RESTING + 1)

    def add_then_cancel() -> list:
        oid = next(ids)
        core.apply(NewOrder(BENCH_ID, oid, "MM", Side.SELL, 10, 100_050), oid, oid)
        return core.apply(CancelOrder(BENCH_ID, oid, "MM"), oid, oid)

    events = benchmark(add_then_cancel)
    assert [type(e).__name__ for e in events] == ["OrderDone", "BookLevelChanged"]


def test_match_against_best_level(benchmark, core: Core) -> None:
    ids = itertools.count(RESTING + 1)

    def replenish_then_take() -> list:
        oid = next(ids)
        core.apply(NewOrder(BENCH_ID, oid, "MM", Side.SELL, 10, 100_001), oid, oid)
        taker = next(ids)
        return core.apply(NewOrder(BENCH_ID, taker, "BRK", Side.BUY, 10, 100_001), taker, taker)

    events = benchmark(replenish_then_take)
    trades = [e for e in events if isinstance(e, Trade)]
    assert sum(t.qty for t in trades) == 10 and all(t.price == 100_001 for t in trades)
    core.check()
