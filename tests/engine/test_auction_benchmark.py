"""The auction benchmark runs from a fresh clone, and the engine's uncross in it agrees with
the bare algorithm (the script exits otherwise).

Times are not asserted (benchmarks measure, tests do not time); the seeded book's outcome is.
"""

from benchmarks.auction import run

FIGURES = {
    "uncross_ms",
    "uncross_algorithm_ms",
    "indicative_us",
    "call_order_us",
    "indicative_algorithm_us",
}


def test_seeded_books_give_the_same_auction_through_the_engine():
    result = run(orders=1000, levels=40, samples=50, uncrosses=1)
    outcome = {k: result[k] for k in ("orders", "levels", "volume", "executed_orders", "fills")}
    assert outcome == {
        "orders": 1000,
        "levels": 40,
        "volume": 11457,
        "executed_orders": 478,
        "fills": 470,
    }
    assert result["indicative_levels_per_side"] == 100
    assert all(result[key] > 0 for key in FIGURES)
