"""Black-Scholes and the CRR tree: textbook values, parity, the note's convergence check."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.pricing import bs_call, bs_put, crr_price, norm_cdf

# The note's tree check: S=K=100, sigma=35%, T=10, r=3%, q=5%, lambda=4%.
NOTE = dict(s=100.0, k=100.0, t=10.0, r=0.03, sigma=0.35, q=0.05, hazard=0.04)


def test_norm_cdf_values() -> None:
    assert norm_cdf(0.0) == 0.5
    assert norm_cdf(1.959963984540054) == pytest.approx(0.975, abs=1e-15)
    assert norm_cdf(-30.0) == pytest.approx(4.906713927148187e-198, rel=1e-12)  # erfc: no 1 - x
    np.testing.assert_allclose(norm_cdf(np.array([-1.0, 1.0])), [0.15865525393, 0.84134474607])


def test_textbook_values() -> None:
    # Hull's classic: S=K=100, T=1, r=5%, sigma=20%.
    assert bs_call(100.0, 100.0, 1.0, 0.05, 0.2) == pytest.approx(10.450584, abs=1e-6)
    assert bs_put(100.0, 100.0, 1.0, 0.05, 0.2) == pytest.approx(5.573526, abs=1e-6)


def test_note_patent_example() -> None:
    assert bs_call(350.0, 500.0, 17.0, 0.04, 0.25, q=1 / 17) == pytest.approx(26.60, abs=0.005)


def test_hazard_scales_european_value() -> None:
    plain = dict(NOTE, hazard=0.0)
    assert bs_call(**NOTE) == pytest.approx(math.exp(-0.4) * bs_call(**plain), rel=1e-14)
    assert bs_put(**NOTE) == pytest.approx(math.exp(-0.4) * bs_put(**plain), rel=1e-14)


def test_vectorised_over_spot() -> None:
    spots = np.array([80.0, 100.0, 120.0])
    got = bs_call(spots, 100.0, 1.0, 0.05, 0.2)
    assert got.shape == (3,)
    for s, v in zip(spots, got, strict=True):
        assert v == pytest.approx(bs_call(s, 100.0, 1.0, 0.05, 0.2), rel=1e-14)


def test_rejects_degenerate_inputs() -> None:
    with pytest.raises(ValueError):
        bs_call(100.0, 100.0, 0.0, 0.05, 0.2)
    with pytest.raises(ValueError):
        crr_price(100.0, 100.0, 1.0, 0.5, 0.01, steps=1)  # p > 1


positive = st.floats(1.0, 1_000.0)
maturity = st.floats(0.05, 20.0)
rate = st.floats(-0.02, 0.15)
vol = st.floats(0.05, 1.0)
hazard = st.floats(0.0, 0.3)


@given(s=positive, k=positive, t=maturity, r=rate, sigma=vol, q=rate, lam=hazard)
def test_put_call_parity(
    s: float, k: float, t: float, r: float, sigma: float, q: float, lam: float
) -> None:
    lhs = bs_call(s, k, t, r, sigma, q, lam) - bs_put(s, k, t, r, sigma, q, lam)
    rhs = math.exp(-lam * t) * (s * math.exp(-q * t) - k * math.exp(-r * t))
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9 * (s + k))


@given(s=positive, bump=st.floats(1.001, 2.0), k=positive, t=maturity, sigma=vol)
def test_call_rises_and_put_falls_with_spot(
    s: float, bump: float, k: float, t: float, sigma: float
) -> None:
    noise = 1e-12 * (s + k)  # deep out of the money both sides are rounding noise
    assert bs_call(s * bump, k, t, 0.03, sigma) >= bs_call(s, k, t, 0.03, sigma) - noise
    assert bs_put(s * bump, k, t, 0.03, sigma) <= bs_put(s, k, t, 0.03, sigma) + noise


def test_european_tree_converges_to_hazard_scaled_black_scholes() -> None:
    target = bs_call(**NOTE)
    assert target == pytest.approx(14.743, abs=5e-4)
    coarse = crr_price(**NOTE, steps=100, american=False)
    fine = crr_price(**NOTE, steps=2000, american=False)
    assert fine == pytest.approx(14.741, abs=5e-4)
    assert abs(fine - target) < 0.005
    assert abs(fine - target) < abs(coarse - target) / 10
    put = crr_price(**NOTE, steps=2000, call=False, american=False)
    assert put == pytest.approx(bs_put(**NOTE), abs=0.005)


def test_american_above_european_on_note_case() -> None:
    for call in (True, False):
        american = crr_price(**NOTE, steps=500, call=call)
        european = crr_price(**NOTE, steps=500, call=call, american=False)
        assert american > european  # q > 0 and lambda > 0 both reward early exercise


def test_american_call_without_yield_or_hazard_is_european() -> None:
    args = dict(s=90.0, k=100.0, t=3.0, r=0.05, sigma=0.3)
    assert crr_price(**args, steps=300) == pytest.approx(
        crr_price(**args, steps=300, american=False), rel=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(s=positive, k=positive, t=st.floats(0.1, 10.0), sigma=vol, lam=hazard, call=st.booleans())
def test_american_at_least_european(
    s: float, k: float, t: float, sigma: float, lam: float, call: bool
) -> None:
    args = dict(s=s, k=k, t=t, r=0.03, sigma=sigma, q=0.02, hazard=lam, steps=200, call=call)
    assert crr_price(**args) >= crr_price(**args, american=False) - 1e-12
