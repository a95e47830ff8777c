"""The throughput benchmark runs from a fresh clone and replays its seeded streams exactly.

Rates are not asserted (benchmarks measure, tests do not time); the counts are, since both
streams are seeded and the engine is deterministic.
"""

import pytest

from benchmarks.engine_throughput import run

FIGURES = {"cmds_per_s", "p50_us", "p99_us", "naive_cmds_per_s", "ratio_vs_naive"}


@pytest.mark.parametrize(
    ("stream", "cmds", "events", "trades", "resting"),
    [("mixed", 2000, 5633, 667, 203), ("amend_heavy", 3000, 7693, 35, 1045)],
)
def test_stream_replays_to_the_same_counts(stream, cmds, events, trades, resting):
    result = run(stream, 2000, repeats=1)
    counts = {k: result[k] for k in ("stream", "cmds", "events", "trades", "resting")}
    assert counts == {
        "stream": stream,
        "cmds": cmds,
        "events": events,
        "trades": trades,
        "resting": resting,
    }
    assert set(result) == FIGURES | set(counts)
    assert all(result[key] > 0 for key in FIGURES)
