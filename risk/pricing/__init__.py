"""Pricing models for IP instruments (numpy) and the integer edge the exchange consumes.

Models work in floats: :mod:`~risk.pricing.royalty` (DCF, relief-from-royalty, royalty-future
price), :mod:`~risk.pricing.options` (Black-Scholes, CRR tree), :mod:`~risk.pricing.montecarlo`
(GBM with jump-to-zero, VaR/ES). :mod:`~risk.pricing.margin` turns their output into integer
prices, bands and margins.
"""

from risk.pricing.margin import (
    BAND_BP_MAX,
    BandParams,
    MarginParams,
    band_bp,
    initial_margin,
    invalidation_probability,
    reference_price,
    requires_prepayment,
)
from risk.pricing.montecarlo import (
    BLOCK_PATHS,
    TailRisk,
    simulate_future_settlement,
    simulate_pv,
    tail_risk,
)
from risk.pricing.options import bs_call, bs_put, crr_price, norm_cdf
from risk.pricing.royalty import (
    Compounding,
    RoyaltyStream,
    discount_factors,
    expected_royalties,
    relief_from_royalty,
    royalty_dcf,
    royalty_future_price,
    tax_amortisation_benefit,
    window_mask,
)

__all__ = [
    "BAND_BP_MAX",
    "BLOCK_PATHS",
    "BandParams",
    "Compounding",
    "MarginParams",
    "RoyaltyStream",
    "TailRisk",
    "band_bp",
    "bs_call",
    "bs_put",
    "crr_price",
    "discount_factors",
    "expected_royalties",
    "initial_margin",
    "invalidation_probability",
    "norm_cdf",
    "reference_price",
    "relief_from_royalty",
    "requires_prepayment",
    "royalty_dcf",
    "royalty_future_price",
    "simulate_future_settlement",
    "simulate_pv",
    "tail_risk",
    "tax_amortisation_benefit",
    "window_mask",
]
