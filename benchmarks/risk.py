"""Risk on versus risk off, and the Monte Carlo pricing time: one JSON line.

Replays the engine benchmark's ``mixed`` stream (benchmarks/streams.py) into a core without
risk and into a core with :class:`risk.engine.RiskEngine`, alternating, in the same process, so
the ratio holds on any machine (target >= 0.7). Participants P0..P49 get credit lines (half of
them backed by two guarantors), order limits, a price collar and holdings through risk
commands before timing. After timing, the two cores must have produced the same trades and
rejects, and the risk core must pass its invariant check. Then prices 100,000 Monte Carlo paths
of 10 years monthly with ``benchmarks.pricing.time_monte_carlo`` (target <= 300 ms).

    .venv/bin/python benchmarks/risk.py [--n 200000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pricing import time_monte_carlo
from benchmarks.streams import BENCH_ID, bench_instrument, mixed
from engine.core import Core
from engine.instruments import InstrumentKind
from engine.messages import OrderRejected, Trade
from risk.config import bootstrap
from risk.engine import RiskEngine
from risk.messages import (
    Backer,
    GuarantorKind,
    SetCreditLine,
    SetGuarantor,
    SetHolding,
    SetLimits,
    SetPermissions,
    SetRiskParams,
)

PARTICIPANTS = [f"P{i}" for i in range(50)]
TS = 1_000_000_000


def risk_setup() -> list:
    """Lines, limits, permissions and holdings for the stream's fifty participants."""
    commands: list = [
        SetRiskParams(fee_bp=10),
        SetGuarantor("BENCH-BANK", "benchmark bank", GuarantorKind.BANK, "CNY", 10**15),
        SetGuarantor(
            "BENCH-GUARANTEE", "benchmark guarantor", GuarantorKind.GUARANTEE_COMPANY, "CNY", 10**15
        ),
    ]
    for n, p in enumerate(PARTICIPANTS):
        if n % 2:
            backers = (Backer("BENCH-BANK", 6_000), Backer("BENCH-GUARANTEE", 4_000))
        else:
            backers = (Backer("BENCH-BANK"),)
        commands += [
            SetCreditLine(p, "CNY", 10**13, backers),
            SetLimits(p, max_order_qty=1_000, max_order_notional=10**9, collar_bp=5_000),
            SetPermissions(p, (InstrumentKind.UNIT_LICENCE,)),
            SetHolding(p, BENCH_ID, 10**9),
        ]
    return commands


def make_core(with_risk: bool) -> tuple[Core, int]:
    """A fresh core (with its risk setup applied) and the next sequence number."""
    if not with_risk:
        return Core([bench_instrument()]), 1
    core = Core([bench_instrument()], risk=RiskEngine())
    seq, _ = bootstrap(core, risk_setup(), 1, TS)
    return core, seq


def timed_replay(commands: list, with_risk: bool) -> float:
    """Seconds to apply the stream to a fresh core. Events are dropped after each command, as
    the server drops them once sent: results kept alive would make the garbage collector scan
    hundreds of thousands of lists during the timing, a cost common to both cores that pulls
    their ratio towards 1."""
    core, first = make_core(with_risk)
    apply = core.apply
    start = time.perf_counter()
    for seq, cmd in enumerate(commands, first):
        apply(cmd, seq, TS + seq)
    return time.perf_counter() - start


def outcome(commands: list, with_risk: bool) -> tuple[Core, int, int]:
    """An untimed replay: the core, its trades and its rejects (risk must not change what the
    stream does)."""
    core, first = make_core(with_risk)
    trades = rejects = 0
    for seq, cmd in enumerate(commands, first):
        for event in core.apply(cmd, seq, TS + seq):
            kind = type(event)
            trades += kind is Trade
            rejects += kind is OrderRejected
    return core, trades, rejects


def run(n: int, repeats: int) -> dict:
    print(f"[risk] generating {n:,} commands", file=sys.stderr)
    commands = mixed(n)
    off_times, on_times = [], []
    for r in range(repeats + 1):  # the first round warms up and is not counted
        off = timed_replay(commands, False)
        on = timed_replay(commands, True)
        if r:
            off_times.append(off)
            on_times.append(on)
        print(
            f"[risk] round {r}/{repeats}: off {n / off:,.0f}/s, on {n / on:,.0f}/s",
            file=sys.stderr,
        )
    _, *off_outcome = outcome(commands, False)
    core, *on_outcome = outcome(commands, True)
    if off_outcome != on_outcome:
        raise SystemExit(f"risk changed the stream: {off_outcome} {on_outcome}")
    core.check()
    off_rate = n / statistics.median(off_times)
    on_rate = n / statistics.median(on_times)
    mc = time_monte_carlo()
    return {
        "bench": "risk",
        "stream": "mixed",
        "cmds": n,
        "risk_off_cmds_per_s": round(off_rate),
        "risk_on_cmds_per_s": round(on_rate),
        "ratio": round(on_rate / off_rate, 3),
        "ratio_target": 0.7,
        "trades": on_outcome[0],
        "mc_paths": mc["paths"],
        "mc_steps": mc["steps"],
        "mc_best_ms": mc["best_ms"],
        "mc_median_ms": mc["median_ms"],
        "mc_target_ms": 300,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="commands in the stream")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
