"""Monte Carlo against its closed form, reproducibility, jump-to-zero and tail measures."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk.pricing import (
    RoyaltyStream,
    royalty_dcf,
    royalty_future_price,
    simulate_future_settlement,
    simulate_pv,
    tail_risk,
)
from risk.pricing.montecarlo import _row_prefix_sums

# The note's check: R0=10, g=-5%, r=10%, lambda=8%, sigma=30%, 10 years (closed form 35.24).
NOTE = dict(r0=10.0, rho=1.0, rate=0.10, horizon=10, growth=-0.05, hazard=0.08, mid_year=False)
SIGMA = 0.30


def test_mean_matches_closed_form_annual() -> None:
    # Standard error of the antithetic mean at 40k paths is about 0.076 (measured over 40 seeds);
    # the tolerance is four of them, 0.9% of the value.
    s = RoyaltyStream(**NOTE)
    pv = simulate_pv(s, SIGMA, 40_000, seed=11)
    assert royalty_dcf(s) == pytest.approx(35.2404, abs=1e-4)
    assert pv.mean() == pytest.approx(royalty_dcf(s), abs=0.3)


def test_mean_matches_closed_form_monthly() -> None:
    # 120 monthly steps, 20k paths: standard error about 0.13, tolerance 0.5 (1.3%).
    s = RoyaltyStream(**NOTE, periods_per_year=12, withholding=0.1)
    pv = simulate_pv(s, SIGMA, 20_000, seed=5)
    assert pv.shape == (20_000,)
    assert pv.mean() == pytest.approx(royalty_dcf(s), abs=0.5)


def test_no_volatility_no_hazard_is_the_dcf_on_every_path() -> None:
    s = RoyaltyStream(
        r0=10.0, rho=0.2, rate=0.07, horizon=5, growth=0.04, decay=0.1, periods_per_year=4
    )
    np.testing.assert_allclose(simulate_pv(s, 0.0, 64, seed=1), royalty_dcf(s), rtol=1e-12)


def test_invalidation_is_a_jump_to_zero() -> None:
    # Without volatility a path pays nothing iff invalidated before the first payment at t=1.
    s = RoyaltyStream(**dict(NOTE, hazard=0.5))
    pv = simulate_pv(s, 0.0, 20_000, seed=3)
    assert np.mean(pv == 0.0) == pytest.approx(1 - math.exp(-0.5), abs=0.01)
    full = royalty_dcf(RoyaltyStream(**dict(NOTE, hazard=0.0)))
    assert pv.max() == pytest.approx(full, rel=1e-12)  # survivors to T get the whole stream


def test_reproducible_for_a_seed_and_independent_of_threads() -> None:
    s = RoyaltyStream(**NOTE, periods_per_year=12)
    a = simulate_pv(s, SIGMA, 20_000, seed=42, workers=1)
    b = simulate_pv(s, SIGMA, 20_000, seed=42, workers=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, simulate_pv(s, SIGMA, 20_000, seed=43))


def test_future_settlement_mean_is_the_closed_form_price() -> None:
    s = RoyaltyStream(**NOTE, periods_per_year=12, withholding=0.3)
    settle = simulate_future_settlement(s, SIGMA, 2.0, 4.0, 20_000, seed=9)
    assert settle.mean() == pytest.approx(royalty_future_price(s, 2.0, 4.0), rel=0.01)


def test_rejects_bad_inputs() -> None:
    s = RoyaltyStream(**NOTE)
    with pytest.raises(ValueError):
        simulate_pv(s, SIGMA, 1_001, seed=1)  # antithetic pairs need an even count
    with pytest.raises(ValueError):
        simulate_pv(RoyaltyStream(**dict(NOTE, rho=np.array([1.0, 2.0]))), SIGMA, 10, seed=1)


def test_tail_risk_by_hand() -> None:
    losses = np.arange(1_000, dtype=float)[::-1]
    tr = tail_risk(losses, level=0.99)  # worst ten: 990..999
    assert (tr.var, tr.es) == (990.0, 994.5)
    with pytest.raises(ValueError):
        tail_risk(losses, level=1.0)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300), st.floats(0.5, 0.999))
def test_es_at_least_var(sample: list[float], level: float) -> None:
    tr = tail_risk(sample, level)
    assert tr.es >= tr.var - 1e-9 * max(1.0, abs(tr.var))
    assert tr.var >= np.quantile(sample, level, method="lower") - 1e-9


def test_es_at_least_var_on_royalty_losses() -> None:
    s = RoyaltyStream(**NOTE, periods_per_year=12)
    pv = simulate_pv(s, SIGMA, 20_000, seed=2)
    tr = tail_risk(pv.mean() - pv, 0.99)
    assert 0.0 < tr.var <= tr.es


@given(st.integers(1, 6), st.integers(1, 7), st.data())
def test_row_prefix_sums_match_naive(n: int, steps: int, data: st.DataObject) -> None:
    x = np.arange(1.0, n * steps + 1).reshape(n, steps)
    count = np.array(data.draw(st.lists(st.integers(0, steps), min_size=n, max_size=n)))
    expected = [x[p, : count[p]].sum() for p in range(n)]
    np.testing.assert_array_equal(_row_prefix_sums(x, count), expected)
