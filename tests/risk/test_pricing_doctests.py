"""The pricing modules' docstring examples are tests too (pytest does not collect them here)."""

import doctest

import pytest

from risk.pricing import margin, montecarlo, options, royalty


@pytest.mark.parametrize("module", [royalty, options, montecarlo, margin])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
