"""Income-approach values of a royalty stream: DCF, relief-from-royalty, royalty-future price.

Formulas are those of the domain note, sections 3.1, 3.2 and 3.3(d). Cash flows fall on a grid of
m = ``periods_per_year`` payments a year, t_i = i/m for i = 1..T*m, each paying one period's
royalty rho R(t_i) / m, where R(t) = R0 (1+g)^t (1-delta)^t is an annual revenue *rate*. With
m = 1 this is the note's annual sum; the Monte Carlo uses the same grid, so this module is its
closed-form oracle.

Every numeric field of :class:`RoyaltyStream` may be a numpy array; they broadcast, and the result
has their broadcast shape (a 0-d result comes back as a Python float).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Compounding = Literal["annual", "continuous"]
FloatOrArray = float | NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RoyaltyStream:
    """A licensor's royalty stream and how to discount it.

    ``rate`` is an annually compounded rate, DF = (1+r)^-t, unless ``compounding`` is
    ``"continuous"`` (DF = e^-rt). ``hazard`` is the invalidation intensity lambda: the stream
    survives to t with probability e^-lambda t, so ``rate`` must not also carry that premium.
    ``mid_year`` discounts each payment half a period early (the note's DF = (1+r)^-(t-1/2)).
    """

    r0: ArrayLike
    rho: ArrayLike
    rate: ArrayLike
    horizon: int
    growth: ArrayLike = 0.0
    decay: ArrayLike = 0.0
    withholding: ArrayLike = 0.0
    hazard: ArrayLike = 0.0
    mid_year: bool = True
    compounding: Compounding = "annual"
    periods_per_year: int = 1

    def __post_init__(self) -> None:
        if self.horizon < 1 or self.periods_per_year < 1:
            raise ValueError("horizon and periods_per_year must be at least 1")
        if self.compounding not in ("annual", "continuous"):
            raise ValueError(f"unknown compounding {self.compounding!r}")

    def times(self) -> NDArray[np.float64]:
        """Payment times t_i in years."""
        m = self.periods_per_year
        return np.arange(1, self.horizon * m + 1, dtype=np.float64) / m

    def discount_times(self) -> NDArray[np.float64]:
        """Times at which payments are discounted (half a period early when mid-year)."""
        shift = 0.5 / self.periods_per_year if self.mid_year else 0.0
        return self.times() - shift

    def log_growth(self) -> NDArray[np.float64]:
        """Continuous drift of revenue, ln(1+g) + ln(1-delta): E[R_t] = R0 e^(drift t)."""
        return np.log1p(np.asarray(self.growth, np.float64)) + np.log1p(
            -np.asarray(self.decay, np.float64)
        )


def discount_factors(
    t: ArrayLike, rate: ArrayLike, compounding: Compounding = "annual"
) -> NDArray[np.float64]:
    """DF(t) under annual, (1+r)^-t, or continuous, e^-rt, compounding; broadcasts."""
    t = np.asarray(t, np.float64)
    r = np.asarray(rate, np.float64)
    if compounding == "continuous":
        return np.exp(-r * t)
    return np.exp(-np.log1p(r) * t)


def _col(x: ArrayLike) -> NDArray[np.float64]:
    """Parameter with a trailing axis for the time grid."""
    return np.asarray(x, np.float64)[..., None]


def _scalar_or_array(x: NDArray[np.float64]) -> FloatOrArray:
    return float(x) if x.ndim == 0 else x


def expected_royalties(s: RoyaltyStream) -> NDArray[np.float64]:
    """Expected survival-weighted gross royalty per payment, rho E[R_t] e^-lambda t / m.

    Shape: broadcast shape of the parameters plus a trailing time axis.
    """
    t = s.times()
    drift = _col(s.log_growth()) - _col(s.hazard)
    return _col(s.rho) * _col(s.r0) * np.exp(drift * t) / s.periods_per_year


def royalty_dcf(s: RoyaltyStream) -> FloatOrArray:
    """V0 = sum_t rho R_t (1-w) e^-lambda t DF_t: the licensor's value of the royalty stream.

    >>> round(royalty_dcf(RoyaltyStream(r0=100.0, rho=0.05, rate=0.10, horizon=1)), 6)
    4.767313
    """
    df = discount_factors(s.discount_times(), _col(s.rate), s.compounding)
    net = 1.0 - _col(s.withholding)
    return _scalar_or_array((expected_royalties(s) * net * df).sum(axis=-1))


def tax_amortisation_benefit(
    rate: ArrayLike, tax: ArrayLike, years: int, compounding: Compounding = "annual"
) -> FloatOrArray:
    """TAB = 1 / (1 - (tau/n) sum_{k=1..n} DF(k - 1/2)).

    A buyer may deduct the asset's cost over n years; those tax savings are part of its value, and
    since they depend on the value itself the uplift is a fixed point, hence the 1/(1 - x) form.
    """
    if years < 1:
        raise ValueError("amortisation years must be at least 1")
    k = np.arange(1, years + 1, dtype=np.float64) - 0.5
    annuity = discount_factors(k, _col(rate), compounding).sum(axis=-1)
    return _scalar_or_array(1.0 / (1.0 - np.asarray(tax, np.float64) / years * annuity))


def relief_from_royalty(
    s: RoyaltyStream, tax: ArrayLike, amortisation_years: int | None = None
) -> FloatOrArray:
    """Owner's value: the after-tax PV of royalties it avoids paying, times TAB.

    ``amortisation_years=None`` means amortisation is not allowed (TAB = 1). The owner pays no
    withholding on royalties it does not pay, so ``s.withholding`` is ignored here.

    >>> s = RoyaltyStream(r0=100.0, rho=0.05, rate=0.10, horizon=1)
    >>> round(relief_from_royalty(s, tax=0.25), 6)
    3.575485
    """
    after_tax = 1.0 - np.asarray(tax, np.float64)
    value = np.asarray(royalty_dcf(replace(s, withholding=0.0))) * after_tax
    if amortisation_years is not None:
        value = value * tax_amortisation_benefit(s.rate, tax, amortisation_years, s.compounding)
    return _scalar_or_array(np.asarray(value))


def window_mask(s: RoyaltyStream, t1: float, t2: float) -> NDArray[np.bool_]:
    """Payments in (t1, t2]: the periods a royalty future on [t1, t2] settles against.

    Half-open so that back-to-back windows never count a payment twice. Both ends must lie on the
    payment grid, or a contract would silently settle on a partial period.
    """
    m = s.periods_per_year
    lo, hi = round(t1 * m), round(t2 * m)
    if abs(lo - t1 * m) > 1e-9 or abs(hi - t2 * m) > 1e-9:
        raise ValueError(f"window ({t1}, {t2}] is not on the {m}-a-year payment grid")
    if not 0 <= lo < hi <= s.horizon * m:
        raise ValueError(f"window ({t1}, {t2}] is empty or outside the horizon")
    i = np.arange(1, s.horizon * m + 1)
    return (i > lo) & (i <= hi)


def royalty_future_price(s: RoyaltyStream, t1: float, t2: float) -> FloatOrArray:
    """F0 = sum over (t1, t2] of rho E[R_t] e^-lambda t, undiscounted.

    A daily-settled future with deterministic rates carries no discounting. It settles on
    *reported* (gross) royalties, so withholding does not enter.
    """
    return _scalar_or_array(expected_royalties(s)[..., window_mask(s, t1, t2)].sum(axis=-1))
