"""The integer edge: tick rounding, price bands, initial margin and the prepayment rule."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.instruments import BAND_BP_MAX as ENGINE_BAND_BP_MAX
from risk.pricing import (
    BAND_BP_MAX,
    BandParams,
    MarginParams,
    band_bp,
    initial_margin,
    invalidation_probability,
    reference_price,
    requires_prepayment,
)


@pytest.mark.parametrize(
    ("value", "tick", "price"),
    [
        (1234.5, 10, 1230),
        (1234.999, 10, 1230),
        (1235.0, 10, 1240),  # exact half rounds up
        (150.0, 100, 200),
        (149.99, 100, 100),
        (3.0, 10, 10),  # never below one tick
        (0.0, 5, 5),
        (987_654_321.4, 1, 987_654_321),
    ],
)
def test_reference_price_rounds_half_up_to_tick(value: float, tick: int, price: int) -> None:
    got = reference_price(value, tick)
    assert got == price
    assert type(got) is int


@pytest.mark.parametrize(("value", "tick"), [(-1.0, 10), (math.nan, 10), (math.inf, 1), (5.0, 0)])
def test_reference_price_rejects_bad_input(value: float, tick: int) -> None:
    with pytest.raises(ValueError):
        reference_price(value, tick)


@given(st.floats(0.0, 1e12), st.integers(1, 10_000))
def test_reference_price_is_a_nearest_tick(value: float, tick: int) -> None:
    price = reference_price(value, tick)
    assert price % tick == 0
    assert price >= tick
    assert abs(price - value) <= tick / 2 or price == tick


def test_band_floor_model_and_cap() -> None:
    params = BandParams(k=3.0, b_min_bp=500, horizon_years=1 / 252)
    assert band_bp(0.10, params) == 500  # model 189 bp: the floor wins
    assert band_bp(0.35, params) == 661  # 3 * 0.35 * sqrt(1/252) = 661.44 bp
    assert band_bp(40.0, params) == BAND_BP_MAX
    assert type(band_bp(0.35, params)) is int
    assert BAND_BP_MAX == ENGINE_BAND_BP_MAX


def test_band_rounds_half_up_to_a_basis_point() -> None:
    assert band_bp(0.0125, BandParams(k=1.0, b_min_bp=1, horizon_years=1.0)) == 125
    assert band_bp(0.01255, BandParams(k=1.0, b_min_bp=1, horizon_years=1.0)) == 126


H = 10 / 252
THRESHOLD_HAZARD = -math.log(0.99) / H  # 1 - e^(-lambda h) = 1% exactly


def test_prepayment_threshold_both_sides_of_one_percent() -> None:
    params = MarginParams(horizon_years=H)
    below, above = THRESHOLD_HAZARD * (1 - 1e-9), THRESHOLD_HAZARD * (1 + 1e-9)
    assert invalidation_probability(below, H) < 0.01 <= invalidation_probability(above, H)
    assert not requires_prepayment(below, params)
    assert requires_prepayment(above, params)
    assert initial_margin(1_000_000, 5_000.0, above, params) == 1_000_000
    # Just below: the add-on is 1% of exposure (10_000), bigger than ES.
    assert initial_margin(1_000_000, 5_000.0, below, params) == 10_000


def test_margin_is_es_when_es_dominates_rounded_up() -> None:
    params = MarginParams(horizon_years=H)
    # Add-on: 1_000_000 * (1 - e^(-0.02 * 10/252)) = 793.3
    assert initial_margin(1_000_000, 12_345.2, 0.02, params) == 12_346
    assert initial_margin(1_000_000, 12_345.0, 0.02, params) == 12_345


def test_margin_is_jump_add_on_when_it_dominates() -> None:
    params = MarginParams(horizon_years=H, loss_given_invalidation=0.6)
    add_on = 50_000_000 * 0.6 * -math.expm1(-0.1 * H)  # 118_811.7
    got = initial_margin(50_000_000, 1_000.0, 0.1, params)
    assert got == math.ceil(add_on) == 118_812
    assert type(got) is int


def test_margin_never_negative_and_validates() -> None:
    params = MarginParams(horizon_years=H)
    assert initial_margin(0, -5.0, 0.0, params) == 0
    with pytest.raises(ValueError):
        initial_margin(-1, 0.0, 0.0, params)
    with pytest.raises(ValueError):
        initial_margin(1, math.nan, 0.0, params)
