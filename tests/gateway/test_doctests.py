"""The gateway's and the feed ticker's docstring examples are tests too (pytest does not
collect them here)."""

import doctest

import pytest

from gateway import admin_cli, cli, cli_output, codec, mmp, participants
from marketdata import ticker


@pytest.mark.parametrize("module", [admin_cli, cli, cli_output, codec, mmp, participants, ticker])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
