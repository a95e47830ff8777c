"""Engine throughput: replay seeded streams through the core and through a naive book.

Prints one JSON line per stream with ``stream``, ``cmds_per_s``, ``p50_us``, ``p99_us``,
``events``, ``trades``, ``naive_cmds_per_s`` and ``ratio_vs_naive``. Both books replay the
same command list in the same process, so the ratio holds on any machine; after timing, the
resting orders of the two must agree and every engine replay must reach the same fingerprint.
Rates are medians over the rounds; the ratio is the median of each round's own ratio, since the
two replays of one round run back to back and so see the same machine speed (on a shared VM
that speed can change by 40% between rounds).

    .venv/bin/python benchmarks/engine_throughput.py [--n 200000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.naive_book import NaiveBook
from benchmarks.streams import BENCH_ID, amend_heavy, bench_instrument, mixed
from engine.core import Core
from engine.messages import Trade

STREAMS = {"mixed": mixed, "amend_heavy": amend_heavy}


def replay_engine(commands: list) -> tuple[float, Core]:
    """One timed replay into a fresh core: seconds and the core (events are dropped, as a
    server drops them once sent, so the timing carries no retention cost)."""
    core = Core([bench_instrument()])
    apply = core.apply
    start = time.perf_counter()
    for seq, cmd in enumerate(commands, 1):
        apply(cmd, seq, seq)
    return time.perf_counter() - start, core


def replay_naive(commands: list, core: Core) -> tuple[float, NaiveBook]:
    book = core.book(BENCH_ID)
    naive = NaiveBook(book.band_low, book.band_high)
    apply = naive.apply
    start = time.perf_counter()
    for cmd in commands:
        apply(cmd)
    return time.perf_counter() - start, naive


def latency_pass(commands: list) -> tuple[float, float, int, int]:
    """p50 and p99 of single-command latency in microseconds (clock overhead included),
    and the events and trades the stream produces."""
    core = Core([bench_instrument()])
    apply = core.apply
    clock = time.perf_counter_ns
    samples = []
    events = trades = 0
    for seq, cmd in enumerate(commands, 1):
        start = clock()
        out = apply(cmd, seq, seq)
        samples.append(clock() - start)
        events += len(out)
        trades += sum(1 for e in out if type(e) is Trade)
    samples.sort()
    p50, p99 = samples[len(samples) // 2], samples[len(samples) * 99 // 100]
    return p50 / 1e3, p99 / 1e3, events, trades


def run(stream: str, n: int, repeats: int) -> dict:
    print(f"[{stream}] generating {n:,} commands", file=sys.stderr)
    commands = STREAMS[stream](n)
    engine_times, naive_times, round_ratios, prints = [], [], [], set()
    for r in range(repeats + 1):  # the first round warms up and is not counted
        elapsed, core = replay_engine(commands)
        naive_elapsed, naive = replay_naive(commands, core)
        prints.add(core.fingerprint())
        round_ratio = naive_elapsed / elapsed
        if r:
            engine_times.append(elapsed)
            naive_times.append(naive_elapsed)
            round_ratios.append(round_ratio)
        print(
            f"[{stream}] round {r}/{repeats}: engine {len(commands) / elapsed:,.0f}/s, "
            f"naive {len(commands) / naive_elapsed:,.0f}/s, ratio {round_ratio:.3f}",
            file=sys.stderr,
        )
    core.check()
    book = core.book(BENCH_ID)
    resting = {oid: o.leaves for oid, o in book.orders.items()}
    if len(prints) != 1 or resting != {oid: o[2] for oid, o in naive.orders.items()}:
        raise SystemExit(f"{stream}: replays disagree (fingerprints {len(prints)})")
    p50, p99, events, trades = latency_pass(commands)
    engine_rate = len(commands) / statistics.median(engine_times)
    naive_rate = len(commands) / statistics.median(naive_times)
    return {
        "stream": stream,
        "cmds": len(commands),
        "cmds_per_s": round(engine_rate),
        "p50_us": round(p50, 2),
        "p99_us": round(p99, 2),
        "events": events,
        "trades": trades,
        "resting": len(resting),
        "naive_cmds_per_s": round(naive_rate),
        "ratio_vs_naive": round(statistics.median(round_ratios), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="commands per stream")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream", choices=sorted(STREAMS), action="append")
    args = parser.parse_args()
    for stream in args.stream or list(STREAMS):
        print(json.dumps(run(stream, args.n, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
