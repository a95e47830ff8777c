"""Reservation arithmetic and exposure: what an order holds, what a fill turns it into, what a
cancel, an expiry, an amend or a settlement gives back, for every kind of order."""

from __future__ import annotations

import doctest

import pytest

from engine.codes import Reason
from engine.messages import (
    AmendOrder,
    CancelOrder,
    EndTradingDay,
    OrderType,
    SetReferencePrice,
    TimeInForce,
)
from risk import alerts, limits, reservations
from risk.messages import (
    Backer,
    GuarantorKind,
    SetCreditLine,
    SetGuarantor,
    SetHolding,
    SetMargin,
    SetRiskParams,
    Settle,
)
from tests.risk.compiled import source_module
from tests.risk.test_risk_engine_support import BUY, FUT, OPT, SELL, ULR, market, reason


@pytest.mark.parametrize("module", [reservations, alerts, limits])
def test_doctests(module):
    result = doctest.testmod(source_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_buy_when_accepted_then_reserves_qty_times_limit_plus_fee_rounded_up():
    m = market(fee_bp=25)
    m.order("A", BUY, 3, 101)  # 303 + 0.7575 fee -> 304
    assert m.position("A").reserved == 304
    assert m.used("A") == 304


def test_sell_when_accepted_then_reserves_no_credit_but_encumbers_the_holding():
    m = market()
    m.order("A", SELL, 7, 101)
    pos = m.position("A")
    assert (pos.reserved, pos.working_sell, m.used("A")) == (0, 7, 0)


def test_fill_when_price_improves_then_exposure_at_fill_price_and_rest_released():
    m = market(fee_bp=10)
    m.order("B", SELL, 4, 95)
    oid, _ = m.order("A", BUY, 10, 100)  # 4 fill at 95, 6 rest at 100
    pos = m.position("A")
    assert pos.reserved == 600 + 1  # 6 x 100 + fee 0.6 -> 1
    assert pos.net == 380 + 1  # 4 x 95 + fee 0.38 -> 1
    assert m.used("A") == 982
    m.apply(CancelOrder(ULR, oid, "A"))
    assert (pos.reserved, m.used("A")) == (0, 381)


def test_market_buy_when_entered_then_valued_at_the_band_edge():
    m = market()
    m.order("B", SELL, 2, 100)
    m.order("B", SELL, 2, 110)
    m.market_order("A", BUY, 4)  # reserves 4 x 150, fills 200 + 220
    assert m.position("A").reserved == 0 and m.used("A") == 420


def test_stop_market_buy_when_pending_then_valued_at_band_edge_and_follows_the_band():
    m = market()
    oid, _ = m.order("A", BUY, 2, 0, order_type=OrderType.STOP, stop_price=110)
    assert m.position("A").reserved == 300  # band 50..150
    m.apply(SetReferencePrice(ULR, 120))  # band 60..180
    assert m.position("A").reserved == 360
    m.apply(CancelOrder(ULR, oid, "A"))
    assert m.used("A") == 0


def test_stop_limit_buy_when_pending_then_valued_at_its_limit():
    m = market()
    m.order("A", BUY, 2, 112, order_type=OrderType.STOP_LIMIT, stop_price=110)
    assert m.position("A").reserved == 224


def test_stop_when_triggered_then_fills_turn_into_exposure():
    m = market()
    m.order("A", BUY, 2, 0, order_type=OrderType.STOP, stop_price=105)
    m.order("B", SELL, 5, 105)
    m.order("C", BUY, 1, 105)  # prints 105: the stop triggers and buys 2 at 105
    assert m.position("A").reserved == 0 and m.position("A").net == 210


def test_amend_when_price_or_qty_changes_then_reservation_follows():
    m = market()
    oid, _ = m.order("A", BUY, 10, 100)
    m.apply(AmendOrder(ULR, oid, "A", 12, 100))
    assert m.position("A").reserved == 1_200
    m.apply(AmendOrder(ULR, oid, "A", 12, 90))
    assert m.position("A").reserved == 1_080


def test_expiry_when_day_ends_then_day_orders_release():
    m = market()
    m.order("A", BUY, 10, 100, tif=TimeInForce.DAY)
    m.apply(EndTradingDay())
    assert m.position("A").reserved == 0 and m.used("A") == 0


def test_ioc_when_partly_filled_then_remainder_released():
    m = market()
    m.order("B", SELL, 3, 100)
    m.order("A", BUY, 10, 100, tif=TimeInForce.IOC)
    assert m.position("A").reserved == 0 and m.used("A") == 300


def test_net_when_buy_and_sell_same_instrument_then_obligations_net():
    m = market()
    m.order("B", SELL, 10, 100)
    m.order("A", BUY, 10, 100)
    m.order("A", SELL, 10, 100)
    m.order("C", BUY, 10, 100)
    assert m.position("A").net == 0 and m.used("A") == 0
    assert m.position("A").qty == 1_000


def test_receivable_when_in_one_instrument_then_does_not_offset_another():
    m = market()
    m.order("A", SELL, 10, 100)
    m.order("B", BUY, 10, 100)  # A is owed 1,000 in ULR
    m.order("C", SELL, 5, 100, "RPU")
    m.order("A", BUY, 5, 100, "RPU")  # A owes 500 HKD = 450 CNY
    assert m.position("A").net == -1_000
    assert m.used("A") == 450


def test_settle_when_paid_then_exposure_released_and_overpayment_rejected():
    m = market()
    m.order("B", SELL, 10, 100)
    m.order("A", BUY, 10, 100)
    assert reason(m.apply(Settle("A", ULR, 1_001))) == Reason.SETTLEMENT_EXCEEDS_OBLIGATION
    assert reason(m.apply(Settle("A", ULR, -1))) == Reason.SETTLEMENT_EXCEEDS_OBLIGATION
    assert reason(m.apply(Settle("A", ULR, 600))) == Reason.NONE
    assert m.used("A") == 400
    assert reason(m.apply(Settle("B", ULR, -1_000))) == Reason.NONE
    assert m.position("B").net == 0


def test_future_when_orders_and_fills_then_margin_per_contract_on_net_position():
    m = market()
    m.order("A", BUY, 3, 100, FUT)
    assert m.position("A", FUT).reserved == 150  # 3 x margin 50
    m.order("B", SELL, 3, 100, FUT)
    a, b = m.position("A", FUT), m.position("B", FUT)
    assert (a.qty, a.reserved, m.used("A")) == (3, 0, 150)
    assert (b.qty, m.used("B")) == (-3, 150)
    m.order("A", SELL, 2, 100, FUT)
    m.order("C", BUY, 2, 100, FUT)  # A closes 2: margin on 1 contract
    assert m.used("A") == 50


def test_option_when_bought_then_premium_and_when_written_then_margin():
    m = market()
    m.order("B", SELL, 4, 60, OPT)
    assert m.position("B", OPT).reserved == 80  # 4 x margin 20
    m.order("A", BUY, 4, 60, OPT)
    assert m.used("A") == 240  # premium payable
    assert m.used("B") == 80  # short margin; the premium received is no credit elsewhere


def test_margin_when_changed_then_working_orders_and_positions_revalued():
    m = market()
    m.order("A", BUY, 2, 100, FUT)
    m.order("B", SELL, 1, 100, FUT)
    m.apply(SetMargin(FUT, 80))
    assert m.position("A", FUT).reserved == 80  # 1 working
    assert m.used("A") == 160 and m.used("B") == 80


def test_fee_when_changed_then_working_buys_revalued():
    m = market()
    m.order("A", BUY, 10, 100)
    m.apply(SetRiskParams(fee_bp=100))
    assert m.position("A").reserved == 1_010


def test_guarantor_when_shares_then_exact_share_of_usage():
    m = market(limit=10_000, capacity=100_000)
    m.apply(SetGuarantor("INS", "insurer", GuarantorKind.INSURER, "CNY", 100_000))
    m.apply(SetCreditLine("A", "CNY", 10_000, (Backer("BANK", 3_333), Backer("INS", 6_667))))
    m.order("A", BUY, 1, 101)
    bank, ins = m.risk.ledger.guarantors["BANK"], m.risk.ledger.guarantors["INS"]
    assert (bank.used_bp, ins.used_bp) == (101 * 3_333, 101 * 6_667)
    assert (bank.used, ins.used) == (34, 68)  # shown rounded up


def test_holding_when_set_below_working_sells_then_rejected():
    m = market()
    m.order("A", SELL, 30, 120)
    assert reason(m.apply(SetHolding("A", ULR, 29))) == Reason.HOLDING_ENCUMBERED
    assert reason(m.apply(SetHolding("A", FUT, 5))) == Reason.INVALID_RISK_SETTING
    assert reason(m.apply(SetHolding("A", "NOPE", 5))) == Reason.UNKNOWN_INSTRUMENT


def test_line_when_currency_changes_with_usage_then_rejected():
    m = market()
    m.order("A", BUY, 1, 100)
    assert reason(m.apply(SetCreditLine("A", "HKD", 0, ()))) == Reason.INVALID_RISK_SETTING
