"""Royalty DCF, relief-from-royalty and royalty-future price against hand-computed sums."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk.pricing import (
    RoyaltyStream,
    relief_from_royalty,
    royalty_dcf,
    royalty_future_price,
    tax_amortisation_benefit,
)


def test_one_year_dcf_by_hand() -> None:
    s = RoyaltyStream(
        r0=100.0,
        rho=0.05,
        rate=0.08,
        horizon=1,
        growth=0.10,
        decay=0.20,
        withholding=0.10,
        hazard=0.05,
    )
    expected = 0.05 * 100.0 * 1.10 * 0.80 * 0.90 * math.exp(-0.05) * 1.08**-0.5
    assert royalty_dcf(s) == pytest.approx(expected, rel=1e-12)


def test_end_of_year_continuous_two_years_by_hand() -> None:
    s = RoyaltyStream(
        r0=50.0,
        rho=0.1,
        rate=0.06,
        horizon=2,
        growth=0.03,
        hazard=0.02,
        mid_year=False,
        compounding="continuous",
    )
    expected = sum(5.0 * 1.03**t * math.exp(-0.02 * t) * math.exp(-0.06 * t) for t in (1, 2))
    assert royalty_dcf(s) == pytest.approx(expected, rel=1e-12)


def test_quarterly_grid_by_hand() -> None:
    s = RoyaltyStream(r0=40.0, rho=0.25, rate=0.10, horizon=2, growth=-0.05, periods_per_year=4)
    expected = sum(10.0 * 0.95 ** (i / 4) / 4 * 1.10 ** -(i / 4 - 1 / 8) for i in range(1, 9))
    assert royalty_dcf(s) == pytest.approx(expected, rel=1e-12)


def test_note_monte_carlo_oracle_is_end_of_year() -> None:
    # The note's 35.24 uses end-of-year discounting, (1+r)^-t, despite its mid-year notation.
    base = dict(r0=10.0, rho=1.0, rate=0.10, horizon=10, growth=-0.05, hazard=0.08)
    assert royalty_dcf(RoyaltyStream(**base, mid_year=False)) == pytest.approx(35.2404, abs=1e-4)
    assert royalty_dcf(RoyaltyStream(**base)) == pytest.approx(36.9604, abs=1e-4)


def test_vectorised_over_parameters_matches_scalar_calls() -> None:
    rho = np.array([0.02, 0.05, 0.08])
    hazard = np.array([[0.0], [0.1]])
    got = royalty_dcf(RoyaltyStream(r0=100.0, rho=rho, rate=0.09, horizon=7, hazard=hazard))
    assert got.shape == (2, 3)
    for i, h in enumerate(hazard[:, 0]):
        for j, r in enumerate(rho):
            one = royalty_dcf(RoyaltyStream(r0=100.0, rho=r, rate=0.09, horizon=7, hazard=h))
            assert got[i, j] == pytest.approx(one, rel=1e-12)


def test_tax_amortisation_benefit_by_hand() -> None:
    annuity = sum(1.10 ** -(k - 0.5) for k in range(1, 16))
    assert tax_amortisation_benefit(0.10, 0.25, 15) == pytest.approx(
        1 / (1 - 0.25 / 15 * annuity), rel=1e-12
    )
    assert tax_amortisation_benefit(0.10, 0.0, 15) == 1.0


def test_relief_from_royalty_ignores_withholding_and_applies_tax_and_tab() -> None:
    s = RoyaltyStream(r0=200.0, rho=0.04, rate=0.12, horizon=8, decay=0.1, withholding=0.3)
    gross = royalty_dcf(RoyaltyStream(r0=200.0, rho=0.04, rate=0.12, horizon=8, decay=0.1))
    assert relief_from_royalty(s, tax=0.25) == pytest.approx(0.75 * gross, rel=1e-12)
    tab = tax_amortisation_benefit(0.12, 0.25, 15)
    assert relief_from_royalty(s, tax=0.25, amortisation_years=15) == pytest.approx(
        0.75 * gross * tab, rel=1e-12
    )


def test_royalty_future_window_by_hand() -> None:
    s = RoyaltyStream(r0=10.0, rho=0.5, rate=0.1, horizon=5, growth=0.02, hazard=0.1)
    expected = sum(5.0 * 1.02**t * math.exp(-0.1 * t) for t in (2, 3))
    assert royalty_future_price(s, 1, 3) == pytest.approx(expected, rel=1e-12)
    whole = royalty_future_price(s, 0, 5)
    assert royalty_future_price(s, 0, 2) + royalty_future_price(s, 2, 5) == pytest.approx(whole)


@pytest.mark.parametrize(("t1", "t2"), [(0.5, 2.0), (2.0, 2.0), (3.0, 6.0), (-1.0, 1.0)])
def test_royalty_future_rejects_bad_windows(t1: float, t2: float) -> None:
    s = RoyaltyStream(r0=10.0, rho=0.5, rate=0.1, horizon=5)
    with pytest.raises(ValueError):
        royalty_future_price(s, t1, t2)


def test_stream_rejects_bad_grid() -> None:
    with pytest.raises(ValueError):
        RoyaltyStream(r0=1.0, rho=0.1, rate=0.1, horizon=0)
    with pytest.raises(ValueError):
        RoyaltyStream(r0=1.0, rho=0.1, rate=0.1, horizon=1, compounding="monthly")  # type: ignore[arg-type]


rates = st.floats(0.0, 0.3)


@given(rate=rates, hazard=st.floats(0.0, 0.5), bump=st.floats(0.001, 0.2))
def test_dcf_falls_with_rate_and_hazard(rate: float, hazard: float, bump: float) -> None:
    def v(r: float, h: float) -> float:
        return royalty_dcf(RoyaltyStream(r0=100.0, rho=0.05, rate=r, horizon=10, hazard=h))

    assert v(rate + bump, hazard) < v(rate, hazard)
    assert v(rate, hazard + bump) < v(rate, hazard)
