"""Time the royalty Monte Carlo: 100,000 paths x 120 monthly steps must price in <= 300 ms.

Run from the repository root: ``python benchmarks/pricing.py`` prints one JSON line. Other
benchmarks import :func:`time_monte_carlo` from ``benchmarks.pricing``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo before this folder

from risk.pricing import RoyaltyStream, royalty_dcf, simulate_pv

SIGMA = 0.30


def _stream(steps: int) -> RoyaltyStream:
    """The domain note's Monte Carlo case on a monthly grid: R0=10, g=-5%, r=10%, lambda=8%."""
    if steps < 12 or steps % 12:
        raise ValueError("steps must be a positive whole number of years of monthly steps")
    return RoyaltyStream(
        r0=10.0,
        rho=1.0,
        rate=0.10,
        horizon=steps // 12,
        growth=-0.05,
        hazard=0.08,
        mid_year=False,
        periods_per_year=12,
    )


def time_monte_carlo(paths: int = 100_000, steps: int = 120, repeats: int = 5) -> dict:
    """One warm-up run, then best and median wall time of ``repeats`` runs, in milliseconds."""
    stream = _stream(steps)
    simulate_pv(stream, SIGMA, paths, seed=0)
    times_ms = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        pv = simulate_pv(stream, SIGMA, paths, seed=seed)
        fair_value = float(pv.mean())
        times_ms.append((time.perf_counter() - start) * 1e3)
    return {
        "bench": "pricing_mc",
        "paths": paths,
        "steps": steps,
        "best_ms": round(min(times_ms), 2),
        "median_ms": round(statistics.median(times_ms), 2),
        "fair_value": round(fair_value, 4),
        "closed_form": round(royalty_dcf(stream), 4),
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    print(json.dumps(time_monte_carlo()))
