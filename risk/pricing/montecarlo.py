"""Monte Carlo of royalty revenue with a jump to zero at invalidation (note section 3.3(c)).

Revenue follows GBM on the stream's payment grid, ln R_{t+dt} = ln R_t + (drift - sigma^2/2) dt +
sigma sqrt(dt) Z, with drift = ln(1+g) + ln(1-delta) so that E[R_t] matches the DCF's
R0 (1+g)^t (1-delta)^t. Invalidation strikes at tau ~ Exp(lambda); a payment at t_i is made only if
t_i < tau. Hence E[PV] is exactly :func:`risk.pricing.royalty.royalty_dcf` of the same stream,
which is the oracle the tests use.

Speed: paths run in blocks of :data:`BLOCK_PATHS` so each block's (paths x steps) array stays in
cache, and blocks run on a thread pool (numpy releases the GIL in its loops). Every block draws
from its own generator spawned from ``default_rng(seed)``, so results depend on the seed and the
path count only, never on the number of threads. Within a block the second half of the paths are
antithetic to the first: -Z for the Brownian increments and 1-U for the invalidation time.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from risk.pricing.royalty import RoyaltyStream, discount_factors, window_mask

BLOCK_PATHS = 8192
"""Paths per block: 8192 x 120 float64 is 7.5 MiB, small enough to stay in cache."""


@dataclass(frozen=True, slots=True)
class TailRisk:
    """Value at risk and expected shortfall of a loss sample at one confidence level."""

    level: float
    var: float
    es: float


def tail_risk(losses: ArrayLike, level: float = 0.99) -> TailRisk:
    """VaR and ES over the worst ceil(n (1 - level)) losses (positive numbers are losses).

    VaR is the smallest loss in that tail and ES its mean, so ES >= VaR by construction.

    >>> tail_risk(list(range(100)), level=0.95)
    TailRisk(level=0.95, var=95.0, es=97.0)
    """
    x = np.asarray(losses, np.float64).ravel()
    if not 0.0 < level < 1.0 or x.size == 0:
        raise ValueError("need 0 < level < 1 and a non-empty sample")
    tail = max(1, math.ceil(round(x.size * (1.0 - level), 9)))
    worst = np.partition(x, x.size - tail)[x.size - tail :]
    return TailRisk(level=level, var=float(worst.min()), es=float(worst.mean()))


def simulate_pv(
    stream: RoyaltyStream, sigma: float, paths: int, seed: int, *, workers: int | None = None
) -> NDArray[np.float64]:
    """Per-path PV of the stream's net royalties, sum_i rho R_i (1-w)/m DF_i 1{t_i < tau}."""
    _check_scalar(stream)
    m = stream.periods_per_year
    df = discount_factors(stream.discount_times(), stream.rate, stream.compounding)
    per_payment = float(stream.rho) * (1.0 - float(stream.withholding)) / m
    return _simulate(stream, sigma, np.log(per_payment * df), paths, seed, workers)


def simulate_future_settlement(
    stream: RoyaltyStream,
    sigma: float,
    t1: float,
    t2: float,
    paths: int,
    seed: int,
    *,
    workers: int | None = None,
) -> NDArray[np.float64]:
    """Per-path final settlement of a royalty future on (t1, t2]: gross royalties reported there.

    Undiscounted, like :func:`risk.pricing.royalty.royalty_future_price`; its mean is the fair
    future price F0 and its spread is what margin must cover.
    """
    _check_scalar(stream)
    mask = window_mask(stream, t1, t2)
    log_w = np.full(mask.shape, -np.inf)
    log_w[mask] = math.log(float(stream.rho) / stream.periods_per_year)
    last = int(np.flatnonzero(mask)[-1]) + 1  # later steps cannot pay into the window
    return _simulate(stream, sigma, log_w[:last], paths, seed, workers)


def _check_scalar(stream: RoyaltyStream) -> None:
    for name in ("r0", "rho", "rate", "growth", "decay", "withholding", "hazard"):
        if np.ndim(getattr(stream, name)) != 0:
            raise ValueError(f"Monte Carlo needs scalar parameters; {name} is an array")
    if float(stream.r0) <= 0:
        raise ValueError("r0 must be positive")


def _simulate(
    stream: RoyaltyStream,
    sigma: float,
    log_weights: NDArray[np.float64],
    paths: int,
    seed: int,
    workers: int | None,
) -> NDArray[np.float64]:
    """Sum over steps of weight_i R_i 1{t_i < tau} per path, for the first len(weights) steps."""
    if paths < 2 or paths % 2 or sigma < 0:
        raise ValueError("paths must be a positive even number (antithetic pairs), sigma >= 0")
    steps = log_weights.size
    dt = 1.0 / stream.periods_per_year
    t = stream.times()[:steps]
    drift = float(stream.log_growth()) - 0.5 * sigma * sigma
    offset = math.log(float(stream.r0)) + drift * t + log_weights
    hazard = float(stream.hazard)
    sizes = [min(BLOCK_PATHS, paths - start) for start in range(0, paths, BLOCK_PATHS)]
    rngs = np.random.default_rng(seed).spawn(len(sizes))

    def block(i: int) -> NDArray[np.float64]:
        return _block(rngs[i], sizes[i], sigma * math.sqrt(dt), offset, t, hazard)

    n_workers = min(len(sizes), workers or os.cpu_count() or 1)
    if n_workers == 1:
        return np.concatenate([block(i) for i in range(len(sizes))])
    with ThreadPoolExecutor(n_workers) as pool:
        return np.concatenate(list(pool.map(block, range(len(sizes)))))


def _block(
    rng: np.random.Generator,
    n: int,
    step_vol: float,
    offset: NDArray[np.float64],
    t: NDArray[np.float64],
    hazard: float,
) -> NDArray[np.float64]:
    """One block of n paths (n even): one (n x steps) array, transformed in place."""
    half = n // 2
    x = np.empty((n, t.size))
    z = rng.standard_normal((half, t.size))
    z *= step_vol
    np.cumsum(z, axis=1, out=x[:half])  # sigma W(t_i)
    np.negative(x[:half], out=x[half:])  # antithetic
    x += offset  # ln(R_i weight_i)
    np.exp(x, out=x)
    if hazard == 0.0:
        return x.sum(axis=1)
    u = rng.random(half)
    with np.errstate(divide="ignore"):  # u == 0 gives tau = inf: never invalidated
        tau = -np.log(np.concatenate([u, 1.0 - u])) / hazard
    paid = np.searchsorted(t, tau, side="left")  # number of t_i < tau
    return _row_prefix_sums(x, paid)


def _row_prefix_sums(x: NDArray[np.float64], count: NDArray[np.intp]) -> NDArray[np.float64]:
    """sum(x[p, :count[p]]) for every row p, in one pass (a row cumsum is ~10x slower).

    ``add.reduceat`` sums the flat array between consecutive indices; the indices alternate row
    start and row start + count, and the odd segments (the unpaid tails) are discarded.
    """
    n, steps = x.shape
    starts = np.arange(n) * steps
    bounds = np.empty(2 * n, np.intp)
    bounds[0::2] = starts
    bounds[1::2] = starts + count
    bounds[-1] = starts[-1]  # would point past the end; the last row is summed below
    sums = np.add.reduceat(x.ravel(), bounds)[0::2]
    sums[-1] = x[-1, : count[-1]].sum()
    sums[count == 0] = 0.0  # reduceat yields x[start] for an empty segment
    return sums
