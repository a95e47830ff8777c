"""The exchange-facing edge: model floats in, integers out (note section 3.4).

Prices, exposures and margins are integers in the currency's minor units, bands are integer basis
points; float model outputs (also in minor units) are turned into integers only here, each with a
stated rounding rule: reference prices round half up to the nearest tick, bands round half up to a
whole basis point, margins round up to the next minor unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

BAND_BP_MAX = 10_000
"""Widest band the engine accepts (mirrors ``engine.instruments.BAND_BP_MAX``; risk must not import
the engine, which will import risk for pre-trade checks)."""


@dataclass(frozen=True, slots=True)
class BandParams:
    """Price collar b = max(b_min, k sigma sqrt(h)); sigma per year, h in years."""

    k: float
    b_min_bp: int
    horizon_years: float


@dataclass(frozen=True, slots=True)
class MarginParams:
    """Close-out horizon h in years (same time unit as the hazard), loss given invalidation as a
    fraction of exposure, and the invalidation probability at which we stop margining and require
    the position to be fully paid."""

    horizon_years: float
    loss_given_invalidation: float = 1.0
    prepay_threshold: float = 0.01


def _half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def reference_price(value_minor: float, tick: int) -> int:
    """Model value (minor units) to a listable price: the nearest tick, halves rounded up.

    Rounding uses the float's exact value, so 150.0 on a tick of 100 is a true half and gives 200.
    The result is at least one tick, since the engine lists only positive prices.

    >>> reference_price(1234.5, 10), reference_price(1235.0, 10), reference_price(3.0, 10)
    (1230, 1240, 10)
    """
    if tick <= 0:
        raise ValueError("tick must be positive")
    if not math.isfinite(value_minor) or value_minor < 0:
        raise ValueError(f"model value {value_minor!r} is not a finite non-negative price")
    return max(1, _half_up(Fraction(value_minor) / tick)) * tick


def band_bp(sigma: float, params: BandParams) -> int:
    """Band half-width in basis points, max(b_min, k sigma sqrt(h)), at most BAND_BP_MAX.

    >>> band_bp(0.35, BandParams(k=3.0, b_min_bp=500, horizon_years=1 / 252))
    661
    """
    if sigma < 0 or params.horizon_years < 0:
        raise ValueError("sigma and horizon must be non-negative")
    model_bp = _half_up(Fraction(params.k * sigma * math.sqrt(params.horizon_years)) * 10_000)
    return min(BAND_BP_MAX, max(params.b_min_bp, model_bp))


def invalidation_probability(hazard: float, horizon_years: float) -> float:
    """P(invalidated within h) = 1 - e^(-lambda h), computed without cancellation."""
    return -math.expm1(-hazard * horizon_years)


def requires_prepayment(hazard: float, params: MarginParams) -> bool:
    """True when invalidation within h is at least as likely as the threshold (1% by default).

    At 99% coverage such a position's VaR is its total loss, so only full payment covers it.
    """
    return invalidation_probability(hazard, params.horizon_years) >= params.prepay_threshold


def initial_margin(
    exposure_minor: int, expected_shortfall_minor: float, hazard: float, params: MarginParams
) -> int:
    """Initial margin in minor units.

    Full exposure when prepayment is required; otherwise max(ES over h, jump add-on), where the
    add-on exposure * LGI * (1 - e^(-lambda h)) covers the invalidation jump that diffusive ES
    misses. Rounded up: a margin is a liability, never rounded in the member's favour.

    >>> initial_margin(1_000_000, 12_345.2, 0.02, MarginParams(horizon_years=10 / 252))
    12346
    """
    if exposure_minor < 0 or hazard < 0 or not math.isfinite(expected_shortfall_minor):
        raise ValueError("exposure and hazard must be non-negative and ES finite")
    if requires_prepayment(hazard, params):
        return exposure_minor
    p = invalidation_probability(hazard, params.horizon_years)
    add_on = exposure_minor * params.loss_given_invalidation * p
    return max(0, math.ceil(max(expected_shortfall_minor, add_on)))
