"""FX: integer conversion rounded against the participant, the haircut, staleness, and what a
new table does to usage booked in other currencies."""

from __future__ import annotations

import pytest

from engine.codes import Reason
from risk import config, fx
from risk.fx import FxTable
from risk.messages import FX_SCALE, FxRate, SetFxRates, SetRiskParams
from tests.risk.test_risk_engine_support import BUY, NOTE, RPU, SELL, market, reason


def table(haircut_bp: int = 0, **rates: str) -> FxTable:
    t = FxTable()
    t.set(tuple(config.fx_rate(c, r) for c, r in rates.items()), ts=0)
    t.haircut_bp = haircut_bp
    t.max_age_ns = 100
    return t


def test_doctests():
    import doctest

    for module in (fx, config):
        result = doctest.testmod(module)
        assert result.failed == 0


def test_convert_when_exact_then_exact_and_when_not_then_rounded_up():
    t = table(USD="7.1050")
    assert t.convert(100, "USD", "CNY") == 711  # 710.5 fen -> 711
    assert t.convert(200, "USD", "CNY") == 1_421
    assert t.convert(1_421, "CNY", "USD") == 200
    assert t.convert(1_422, "CNY", "USD") == 201  # 200.14 cents -> 201


def test_convert_when_minor_units_differ_then_scaled():
    t = table(JPY="0.047650")
    assert t.convert(1_000, "JPY", "CNY") == 4_765  # 1,000 yen = 47.65 CNY
    assert t.convert(4_765, "CNY", "JPY") == 1_000


def test_convert_when_haircut_then_added_before_rounding_up():
    t = table(haircut_bp=300, HKD="0.9")
    assert t.convert(1_000, "HKD", "CNY") == 927  # 900 x 1.03
    assert t.convert(1_000, "CNY", "CNY") == 1_000  # no conversion, no haircut


def test_reason_when_old_or_missing_then_stale_or_missing():
    t = table(USD="7")
    assert t.reason("USD", "CNY", 100) == Reason.NONE
    assert t.reason("USD", "CNY", 101) == Reason.FX_RATE_STALE
    assert t.reason("EUR", "CNY", 0) == Reason.FX_RATE_MISSING


@pytest.mark.parametrize(
    "rates",
    [
        (FxRate("USD", 0),),
        (FxRate("XXX", FX_SCALE),),
        (FxRate("CNY", 2 * FX_SCALE),),
        (FxRate("USD", FX_SCALE), FxRate("USD", FX_SCALE)),
        (),  # drops USD and HKD, which the table already has
    ],
)
def test_table_when_unusable_then_rejected(rates):
    m = market()
    assert reason(m.apply(SetFxRates(rates))) == Reason.INVALID_RISK_SETTING


def test_fx_rate_when_more_than_eight_decimals_then_refused():
    with pytest.raises(ValueError):
        config.fx_rate("USD", "7.123456789")


def test_cross_currency_buy_when_reserved_then_counted_in_line_currency_with_haircut():
    m = market(haircut_bp=200)
    m.order("A", BUY, 3, 101, NOTE)  # 303 cents x 7 x 1.02 = 2,163.42 fen -> 2,164
    assert m.position("A", NOTE).reserved == 303
    assert m.used("A") == 2_164
    assert m.account("A").foreign["USD"] == 303


def test_cross_currency_when_several_orders_then_converted_once_per_currency():
    m = market(haircut_bp=200)
    m.order("A", BUY, 1, 101, NOTE)
    m.order("A", BUY, 2, 101, NOTE)
    assert m.used("A") == 2_164  # not ceil(721.14) + ceil(1442.28) = 2,165


def test_rates_when_changed_then_usage_recounted():
    m = market()
    m.order("A", BUY, 10, 100, NOTE)
    assert m.used("A") == 7_000
    m.apply(SetFxRates((FxRate("USD", 720_000_000), FxRate("HKD", 90_000_000))))
    assert m.used("A") == 7_200
    m.apply(SetRiskParams(fx_haircut_bp=500, fx_max_age_ns=10**15))
    assert m.used("A") == 7_560


def test_rates_when_usage_crosses_limit_then_alert_and_orders_blocked():
    m = market(limit=7_500)
    m.order("A", BUY, 10, 100, NOTE)
    events = m.apply(SetFxRates((FxRate("USD", 760_000_000), FxRate("HKD", 90_000_000))))
    assert [e.level_bp for e in events if type(e).__name__ == "RiskAlert"] == [10_000]
    assert reason(m.order("A", BUY, 1, 100, RPU)[1]) == Reason.CREDIT_LIMIT
    assert reason(m.order("A", SELL, 1, 100, RPU)[1]) == Reason.NONE  # reduces nothing, adds 0
