"""Risk's cost in CPU instructions per command, counted by callgrind: one JSON line.

Wall-clock ratios on a shared VM move by +-0.1 between identical runs, more than most changes
to risk; instruction counts repeat to within about 2%. This runs the ``mixed`` stream of
benchmarks/risk.py three times under ``valgrind --tool=callgrind`` (``PYTHONHASHSEED=0``):
building the stream and both cores only, then also replaying it into the core without risk,
then into the core with risk. The engine's cost is the second minus the first, risk's the third
minus the second, each divided by the commands replayed. What was built before the replay is
frozen out of the garbage collector, so its size does not leak into the replay's count, and
address randomisation is off (``setarch``): CPython's attribute cache is indexed by addresses,
and with it on, identical runs differ by up to 1%. Repeated runs then agree within 0.1%.

    .venv/bin/python benchmarks/risk_instructions.py [--n 20000]

Needs valgrind on the PATH; under callgrind 20,000 commands take about a minute per run.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.callgrind import count_instructions
from benchmarks.risk import TS, make_core
from benchmarks.streams import mixed

ROOT = Path(__file__).resolve().parent.parent
MODES = ("setup", "off", "on")


def workload(mode: str, n: int) -> None:
    """What one callgrind run executes: the stream and both cores, then at most one replay."""
    commands = mixed(n)
    cores = {False: make_core(False), True: make_core(True)}
    gc.collect()
    gc.freeze()  # what was built stays out of the collections the replay triggers
    if mode == "setup":
        return
    core, first = cores[mode == "on"]
    apply = core.apply
    for seq, cmd in enumerate(commands, first):
        apply(cmd, seq, TS + seq)


def instructions(mode: str, n: int) -> int:
    """Instructions of the whole process running ``workload(mode, n)``, by callgrind."""
    return count_instructions(__file__, "--run", mode, "--n", str(n))


def measure(n: int) -> dict:
    for package in ("benchmarks", "engine", "risk"):  # no run pays for compiling
        compileall.compile_dir(ROOT / package, quiet=1)
    counts = {}
    for mode in MODES:
        counts[mode] = instructions(mode, n)
        print(f"[risk-ir] {mode}: {counts[mode]:,} instructions", file=sys.stderr)
    engine = (counts["off"] - counts["setup"]) / n
    risk = (counts["on"] - counts["off"]) / n
    return {
        "bench": "risk_instructions",
        "stream": "mixed",
        "cmds": n,
        "engine_ir_per_cmd": round(engine),
        "risk_ir_per_cmd": round(risk),
        "ratio_by_count": round(engine / (engine + risk), 3),
        "ratio_target": 0.7,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="commands replayed")
    parser.add_argument("--run", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        workload(args.run, args.n)
        return
    print(json.dumps(measure(args.n)), flush=True)


if __name__ == "__main__":
    main()
