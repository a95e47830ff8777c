"""Options on a licence's value: Black-Scholes and a CRR binomial tree, both with invalidation.

Rates r and yield q are continuously compounded, as in the note's section 3.3(a)-(b). The
invalidation hazard lambda *extinguishes the option* (the licence it would grant no longer exists),
so a European call or put is worth e^(-lambda T) times its Black-Scholes value and the tree
discounts at r + lambda. Put-call parity therefore reads C - P = e^(-lambda T)(S e^-qT - K e^-rT).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatOrArray = float | NDArray[np.float64]

_erfc = np.frompyfunc(math.erfc, 1, 1)


def norm_cdf(x: ArrayLike) -> FloatOrArray:
    """Standard normal CDF via math.erfc (exact to double precision; scipy is not a dependency).

    >>> norm_cdf(0.0)
    0.5
    """
    out = 0.5 * np.asarray(_erfc(-np.asarray(x, np.float64) / math.sqrt(2.0)), np.float64)
    return float(out) if out.ndim == 0 else out


def _black_scholes(
    s: ArrayLike,
    k: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike,
    hazard: ArrayLike,
    sign: float,
) -> FloatOrArray:
    """sign=+1 prices the call, -1 the put; all inputs broadcast."""
    s, k, t, r, sigma, q, hazard = (
        np.asarray(a, np.float64) for a in (s, k, t, r, sigma, q, hazard)
    )
    if np.any(s <= 0) or np.any(k <= 0) or np.any(t <= 0) or np.any(sigma <= 0):
        raise ValueError("S, K, T and sigma must be positive")
    vol = sigma * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * sigma * sigma) * t) / vol
    d2 = d1 - vol
    fwd_s = s * np.exp(-q * t)
    pv_k = k * np.exp(-r * t)
    # Deep out of the money the two terms cancel to rounding noise: an option is never
    # worth less than nothing, so clip at zero.
    value = np.maximum(
        0.0,
        sign * (fwd_s * np.asarray(norm_cdf(sign * d1)) - pv_k * np.asarray(norm_cdf(sign * d2))),
    )
    out = np.exp(-hazard * t) * value
    return float(out) if out.ndim == 0 else out


def bs_call(
    s: ArrayLike,
    k: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike = 0.0,
    hazard: ArrayLike = 0.0,
) -> FloatOrArray:
    """European call, e^(-lambda T)[S e^-qT N(d1) - K e^-rT N(d2)]; broadcasts over inputs.

    The note's patent example (S=350, K=500, sigma=25%, T=17, r=4%, q=1/17):

    >>> round(bs_call(350.0, 500.0, 17.0, 0.04, 0.25, q=1 / 17), 2)
    26.6
    """
    return _black_scholes(s, k, t, r, sigma, q, hazard, 1.0)


def bs_put(
    s: ArrayLike,
    k: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike = 0.0,
    hazard: ArrayLike = 0.0,
) -> FloatOrArray:
    """European put, e^(-lambda T)[K e^-rT N(-d2) - S e^-qT N(-d1)]; broadcasts over inputs."""
    return _black_scholes(s, k, t, r, sigma, q, hazard, -1.0)


def crr_price(
    s: float,
    k: float,
    t: float,
    r: float,
    sigma: float,
    q: float = 0.0,
    hazard: float = 0.0,
    *,
    steps: int = 500,
    call: bool = True,
    american: bool = True,
) -> float:
    """Cox-Ross-Rubinstein tree; American exercise = commercialise or abandon at any node.

    u = e^(sigma sqrt dt), d = 1/u, p = (e^((r-q)dt) - d)/(u - d), and each step discounts by
    e^-(r+lambda)dt. Each layer is one numpy operation, so n=2000 takes milliseconds.
    """
    if min(s, k, t, sigma) <= 0 or steps < 1:
        raise ValueError("S, K, T, sigma and steps must be positive")
    dt = t / steps
    u = math.exp(sigma * math.sqrt(dt))
    d = 1.0 / u
    p = (math.exp((r - q) * dt) - d) / (u - d)
    if not 0.0 < p < 1.0:
        raise ValueError(f"risk-neutral probability {p:.4f} outside (0, 1): use more steps")
    disc_up = math.exp(-(r + hazard) * dt) * p
    disc_down = math.exp(-(r + hazard) * dt) * (1.0 - p)
    sign = 1.0 if call else -1.0
    # Node j of layer i has spot S u^(i-2j): j counts down-moves.
    spot = s * np.exp(sigma * math.sqrt(dt) * (steps - 2.0 * np.arange(steps + 1)))
    value = np.maximum(sign * (spot - k), 0.0)
    for _ in range(steps):
        value = disc_up * value[:-1] + disc_down * value[1:]
        if american:
            spot = spot[:-1] * d
            np.maximum(value, sign * (spot - k), out=value)
    return float(value[0])
