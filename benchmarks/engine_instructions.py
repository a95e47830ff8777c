"""Engine cost in CPU instructions per command, counted by callgrind: steady on a noisy VM.

Prints one JSON line: instructions per command for the engine and the naive book on the
``mixed`` and ``amend_heavy`` streams, and for ``Core.apply`` on the journal benchmark's flow
(limit orders of 1 to 5 units at the reference price +-5 ticks from two participants, as
``benchmarks/journal.py`` sends them through the gateway). Each workload runs in its own
``valgrind --tool=callgrind`` process (``benchmarks/callgrind.py``), once replaying the commands
and once only loading them; the difference divided by the commands is the figure. Streams are
generated once and cached as msgpack, so loading is a decode and does not run the engine.

    .venv/bin/python benchmarks/engine_instructions.py [--n 20000] [--workload engine_mixed]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.callgrind import count_instructions
from benchmarks.naive_book import NaiveBook
from benchmarks.streams import BENCH_ID, amend_heavy, bench_instrument, mixed
from engine.core import Core
from engine.instruments import default_instruments
from engine.messages import AnyCommand, NewOrder, Side

JOURNAL_INSTRUMENT = "RPU-GUZHENG-CAT"
JOURNAL_PARTICIPANTS = ("BENCH-A", "BENCH-B")
WORKLOADS = (
    "engine_mixed",
    "naive_mixed",
    "engine_amend_heavy",
    "naive_amend_heavy",
    "journal_flow",
)
STREAMS = {"mixed": mixed, "amend_heavy": amend_heavy}


def _stream(workload: str) -> str:
    """The command list a workload replays: ``engine_mixed`` -> ``mixed``, ``journal_flow``
    -> ``flow``."""
    return workload.split("_", 1)[1]


def journal_flow(n: int, seed: int = 7) -> list[NewOrder]:
    """The engine commands the gateway makes of ``benchmarks/journal.py``'s frames."""
    rng = random.Random(seed)
    commands = []
    for i in range(n):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        qty, price = rng.randint(1, 5), 4820 + 10 * rng.randint(-5, 5)
        commands.append(
            NewOrder(JOURNAL_INSTRUMENT, i + 1, JOURNAL_PARTICIPANTS[i % 2], side, qty, price)
        )
    return commands


def _load(path: Path) -> list:
    return msgspec.msgpack.decode(path.read_bytes(), type=list[AnyCommand])


def run_workload(workload: str, path: Path, replay: bool) -> None:
    """Load the cached commands and, if ``replay``, apply them (the callgrind child's job)."""
    commands = _load(path)
    if workload.startswith("naive_"):
        book = Core([bench_instrument()]).book(BENCH_ID)
        naive = NaiveBook(book.band_low, book.band_high)
        if replay:
            for cmd in commands:
                naive.apply(cmd)
        return
    core = Core(default_instruments() if workload == "journal_flow" else [bench_instrument()])
    if replay:
        apply = core.apply
        for seq, cmd in enumerate(commands, 1):
            apply(cmd, seq, seq)


def _count(workload: str, path: Path, replay: bool) -> int:
    return count_instructions(__file__, "--child", workload, str(path), str(int(replay)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="commands per workload")
    parser.add_argument("--workload", choices=WORKLOADS, action="append")
    parser.add_argument("--jobs", type=int, default=2, help="callgrind processes at once")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        workload, path, replay = args.child
        run_workload(workload, Path(path), replay == "1")
        return
    with tempfile.TemporaryDirectory() as tmp:
        encode = msgspec.msgpack.encode
        workloads = args.workload or list(WORKLOADS)
        paths, sizes = {}, {}
        for workload in workloads:
            name = _stream(workload)
            if name not in paths:
                commands = journal_flow(args.n) if name == "flow" else STREAMS[name](args.n)
                paths[name] = Path(tmp) / f"{name}.msgpack"
                paths[name].write_bytes(encode(commands))
                sizes[name] = len(commands)
        runs = [(w, replay) for w in workloads for replay in (True, False)]

        def count(run: tuple[str, bool]) -> int:
            workload, replay = run
            return _count(workload, paths[_stream(workload)], replay)

        print(f"counting {len(runs)} callgrind runs", file=sys.stderr)
        with ThreadPoolExecutor(args.jobs) as pool:
            counts = dict(zip(runs, pool.map(count, runs), strict=True))
        result: dict = {"n": args.n}
        for workload in workloads:
            size = sizes[_stream(workload)]
            per_cmd = (counts[workload, True] - counts[workload, False]) / size
            result[f"{workload}_instr_per_cmd"] = round(per_cmd)
        for stream in STREAMS:
            engine, naive = f"engine_{stream}_instr_per_cmd", f"naive_{stream}_instr_per_cmd"
            if engine in result and naive in result:
                result[f"{stream}_ratio_by_instructions"] = round(result[naive] / result[engine], 3)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
