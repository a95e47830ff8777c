"""Model output to exchange commands: reference prices and bands, and derivatives' margins.

Public functions: :func:`reference_price_command`, :func:`margin_command`,
:func:`settlement_margin_command`.

The models (:mod:`risk.pricing`) work in floats; the exchange takes integers, and only as
sequenced commands, so a model run changes the market the way an operator would, journaled
and replayable. Rounding happens here and only through :mod:`risk.pricing.margin`: a price to
the nearest tick (halves up), a band to a whole basis point (halves up), a margin up to the
next minor unit (and the full exposure when invalidation is too likely to margin).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from engine.instruments import Instrument
from engine.messages import SetReferencePrice
from risk.messages import SetMargin
from risk.pricing import BandParams, MarginParams, band_bp, initial_margin, reference_price
from risk.pricing.montecarlo import tail_risk


def reference_price_command(
    instrument: Instrument, value_minor: float, sigma: float, band: BandParams
) -> SetReferencePrice:
    """Centre the instrument's band on the model value, as wide as its volatility asks.

    >>> from engine.instruments import default_instruments
    >>> ulr = default_instruments()[0]
    >>> reference_price_command(ulr, 131_234.9, 0.35, BandParams(3.0, 500, 1 / 252))
    SetReferencePrice(instrument='ULR-5GSEP-26', price=131250, band_bp=661)
    """
    price = reference_price(value_minor, instrument.tick_size)
    return SetReferencePrice(instrument.instrument_id, price, band_bp(sigma, band))


def margin_command(
    instrument: Instrument,
    expected_shortfall_minor: float,
    hazard: float,
    params: MarginParams,
    price: int | None = None,
) -> SetMargin:
    """Initial margin per contract from a model's expected shortfall per contract.

    The exposure a contract carries is ``price`` (the reference price by default) times the
    multiplier; when invalidation within the close-out horizon is too likely, the margin is
    that whole exposure (prepayment).
    """
    terms = instrument.derivative
    if terms is None:
        raise ValueError(f"{instrument.instrument_id} is not a derivative: it has no margin")
    exposure = (price or instrument.reference_price) * terms.multiplier
    margin = initial_margin(exposure, expected_shortfall_minor, hazard, params)
    return SetMargin(instrument.instrument_id, max(1, margin))


def settlement_margin_command(
    instrument: Instrument,
    settlements: ArrayLike,
    hazard: float,
    params: MarginParams,
    level: float = 0.99,
) -> SetMargin:
    """Margin from simulated settlement prices (per unit, minor units), e.g.
    :func:`risk.pricing.simulate_future_settlement`: the worse of the long's and the short's
    expected shortfall against the mean, per contract."""
    terms = instrument.derivative
    if terms is None:
        raise ValueError(f"{instrument.instrument_id} is not a derivative: it has no margin")
    prices = np.asarray(settlements, np.float64)
    moves = prices - prices.mean()
    es = max(tail_risk(-moves, level).es, tail_risk(moves, level).es)
    return margin_command(instrument, es * terms.multiplier, hazard, params)
