"""The publisher's cost in CPU instructions per command, counted by callgrind: one JSON line.

The feed's wall-clock figures on the shared VM move by 20%; the loop's CPU per command is what
a publisher change can move. This replays the engine benchmark's ``mixed`` stream (one command
per batch, the most frames per command) under callgrind (``benchmarks/callgrind.py``) three
times: loading only, the core alone, and the core with the real publisher bound to ``ipc://``
endpoints with no subscriber (every frame still goes through libzmq's send). The core's cost is
the second minus the first, the publisher's the third minus the second, per command.

    .venv/bin/python benchmarks/feed_instructions.py [--n 20000] [--depth 10]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.callgrind import count_instructions
from benchmarks.streams import bench_instrument, mixed
from engine.core import Core
from marketdata.publisher import MarketDataPublisher

MODES = ("setup", "core", "publisher")
MS = 1_000_000


def workload(mode: str, n: int, depth: int) -> None:
    """What one callgrind run executes: the stream, a core and a publisher, then a replay."""
    commands = mixed(n)
    core = Core([bench_instrument()])
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory() as tmp:
        pub = MarketDataPublisher(ctx, core, f"ipc://{tmp}/pub", f"ipc://{tmp}/snap",
                                  depth_levels=depth, epoch=0)
        gc.collect()
        gc.freeze()  # what was built stays out of the collections the replay triggers
        apply = core.apply
        if mode == "core":
            for seq, cmd in enumerate(commands, 1):
                apply(cmd, seq, seq * MS)
        elif mode == "publisher":
            on_events = pub.on_events
            for seq, cmd in enumerate(commands, 1):
                on_events(apply(cmd, seq, seq * MS))
        pub.close()
    ctx.term()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="commands replayed")
    parser.add_argument("--depth", type=int, default=10, help="depth levels published")
    parser.add_argument("--run", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        workload(args.run, args.n, args.depth)
        return
    counts = {}
    for mode in MODES:
        counts[mode] = count_instructions(__file__, "--run", mode, "--n", str(args.n),
                                          "--depth", str(args.depth))
        print(f"[feed-ir] {mode}: {counts[mode]:,} instructions", file=sys.stderr)
    core = (counts["core"] - counts["setup"]) / args.n
    publisher = (counts["publisher"] - counts["core"]) / args.n
    print(json.dumps({"bench": "feed_instructions", "stream": "mixed", "cmds": args.n,
                      "depth": args.depth, "core_ir_per_cmd": round(core),
                      "publisher_ir_per_cmd": round(publisher)}), flush=True)


if __name__ == "__main__":
    main()
