"""Model output to commands: reference prices and bands, and margins, rounded at the edge."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from engine.core import Core
from engine.instruments import default_instruments
from engine.messages import ReferencePriceChanged
from risk import model_prices
from risk.engine import RiskEngine
from risk.messages import RiskConfigured
from risk.model_prices import (
    margin_command,
    reference_price_command,
    settlement_margin_command,
)
from risk.pricing import BandParams, MarginParams, RoyaltyStream, simulate_future_settlement

INSTRUMENTS = {i.instrument_id: i for i in default_instruments()}
ULR = INSTRUMENTS["ULR-5GSEP-26"]
FUTURE = INSTRUMENTS["RF-SSB-27Q4"]
BAND = BandParams(k=3.0, b_min_bp=500, horizon_years=1 / 252)
MARGIN = MarginParams(horizon_years=2 / 252)


def test_doctests():
    result = doctest.testmod(model_prices)
    assert result.attempted > 0 and result.failed == 0


def test_reference_when_model_value_then_nearest_tick_and_volatility_band():
    cmd = reference_price_command(ULR, 125_025.0, 0.10, BAND)
    assert cmd.price == 125_050  # tick 50: the half rounds up
    assert cmd.band_bp == 500  # k sigma sqrt(h) = 189 bp, below the 500 bp floor


def test_reference_when_applied_then_the_band_moves():
    core = Core(default_instruments(), risk=RiskEngine())
    events = core.apply(reference_price_command(ULR, 130_000.0, 0.60, BAND), 1, 1)
    [changed] = [e for e in events if type(e) is ReferencePriceChanged]
    # 3 x 0.6 x sqrt(1/252) = 1,134 bp, edges rounded inward to the tick of 50
    assert (changed.price, changed.band_low, changed.band_high) == (130_000, 115_300, 144_700)


def test_margin_when_es_then_rounded_up_per_contract():
    cmd = margin_command(FUTURE, 412_345.2, 0.0, MARGIN)
    assert (cmd.instrument, cmd.initial_margin) == ("RF-SSB-27Q4", 412_346)


def test_margin_when_invalidation_likely_then_full_exposure():
    cmd = margin_command(FUTURE, 1.0, 2.0, MARGIN)  # P(invalidated in 2 days) > 1%
    assert cmd.initial_margin == 862_000 * 10


def test_margin_when_not_a_derivative_then_refused():
    with pytest.raises(ValueError):
        margin_command(ULR, 1.0, 0.0, MARGIN)


def test_margin_from_simulated_settlements_then_covers_the_worse_tail():
    stream = RoyaltyStream(
        r0=8_000.0,
        rho=1.0,
        rate=0.03,
        horizon=3,
        growth=0.05,
        hazard=0.02,
        mid_year=False,
        periods_per_year=4,
    )
    samples = simulate_future_settlement(stream, 0.3, 1.75, 2.0, 20_000, seed=7)
    cmd = settlement_margin_command(FUTURE, samples, 0.0, MARGIN)
    moves = samples - samples.mean()
    tail = np.sort(np.abs(moves))[-200:].mean()
    assert cmd.initial_margin >= 0.5 * tail * 10
    core = Core(default_instruments(), risk=RiskEngine())
    events = core.apply(cmd, 1, 1)
    assert [type(e) for e in events] == [RiskConfigured]
    assert core.risk.terms["RF-SSB-27Q4"].margin == cmd.initial_margin
