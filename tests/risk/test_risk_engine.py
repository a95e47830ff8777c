"""The risk engine inside a real core: one test per pre-trade control and reason code, the check
order, the kill switch, alerts and replay. Every command is followed by ``core.check()``."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.codes import Reason
from engine.messages import (
    AmendOrder,
    CancelOrder,
    DoneStatus,
    OrderDone,
    OrderType,
    Phase,
    SetPhase,
    Trade,
)
from risk.messages import (
    Backer,
    GrantTransferred,
    GuarantorKind,
    KillScope,
    KillSwitch,
    KillSwitchChanged,
    LimitScope,
    RegisterExclusiveGrant,
    RiskAlert,
    RiskConfigured,
    SetAssetLimit,
    SetCreditLine,
    SetGuarantor,
    SetLimits,
    SetPermissions,
)
from tests.risk.test_risk_engine_support import (
    ASG,
    BUY,
    EXL,
    FUT,
    NOTE,
    SELL,
    ULR,
    market,
    of_type,
    reason,
)

# -- NOT_PERMITTED and where it sits -------------------------------------------------------


def test_order_when_participant_unknown_then_not_permitted():
    m = market()
    _, events = m.order("STRANGER", BUY, 1, 100)
    assert reason(events) == Reason.NOT_PERMITTED


def test_order_when_kind_not_permitted_then_not_permitted():
    m = market()
    m.apply(SetPermissions("A", ()))
    assert reason(m.order("A", BUY, 1, 100, FUT)[1]) == Reason.NOT_PERMITTED


def test_order_when_halted_then_permission_is_checked_first():
    m = market()
    m.apply(SetPhase(ULR, Phase.HALTED))
    assert reason(m.order("STRANGER", BUY, 1, 100)[1]) == Reason.NOT_PERMITTED
    assert reason(m.order("A", BUY, 1, 100)[1]) == Reason.INSTRUMENT_HALTED


# -- order controls ------------------------------------------------------------------------


def test_order_when_above_max_qty_then_max_qty():
    m = market()
    m.apply(SetLimits("A", max_order_qty=10))
    assert reason(m.order("A", BUY, 11, 100)[1]) == Reason.MAX_QTY
    assert reason(m.order("A", BUY, 10, 100)[1]) == Reason.NONE


def test_order_when_notional_above_max_then_max_notional():
    m = market()
    m.apply(SetLimits("A", max_order_notional=1_000))
    assert reason(m.order("A", BUY, 11, 100)[1]) == Reason.MAX_NOTIONAL
    assert reason(m.order("A", BUY, 10, 100)[1]) == Reason.NONE
    # a market buy counts at the band's upper edge (150)
    assert reason(m.market_order("A", BUY, 7)[1]) == Reason.MAX_NOTIONAL


def test_order_when_notional_in_foreign_currency_then_converted_to_the_line():
    m = market()  # USD at 7 CNY: 100 cents x 2 = 200 cents = 1,400 fen
    m.apply(SetLimits("A", max_order_notional=1_399))
    assert reason(m.order("A", BUY, 2, 100, NOTE)[1]) == Reason.MAX_NOTIONAL
    m.apply(SetLimits("A", max_order_notional=1_400))
    assert reason(m.order("A", BUY, 2, 100, NOTE)[1]) == Reason.NONE


def test_order_when_price_outside_collar_then_price_collar():
    m = market()
    m.apply(SetLimits("A", collar_bp=1_000))  # 90..110 around the reference 100
    assert reason(m.order("A", BUY, 1, 111)[1]) == Reason.PRICE_COLLAR
    assert reason(m.order("A", SELL, 1, 89)[1]) == Reason.PRICE_COLLAR
    assert reason(m.order("A", BUY, 1, 110)[1]) == Reason.NONE
    stop = {"order_type": OrderType.STOP, "stop_price": 120}
    assert reason(m.order("A", BUY, 1, 0, **stop)[1]) == Reason.PRICE_COLLAR


def test_order_when_seller_holds_too_little_then_no_holding():
    m = market(holding=10)
    assert reason(m.order("A", SELL, 11, 100)[1]) == Reason.NO_HOLDING
    assert reason(m.order("A", SELL, 6, 100)[1]) == Reason.NONE
    # the working sell encumbers 6 of the 10
    assert reason(m.order("A", SELL, 5, 100)[1]) == Reason.NO_HOLDING
    assert reason(m.order("D", SELL, 1, 100)[1]) == Reason.NOT_PERMITTED


def test_order_when_issuer_sells_then_no_holding_needed_and_units_issued():
    m = market()
    _, events = m.order("ISSUER", SELL, 50, 100)
    assert reason(events) == Reason.NONE
    m.order("A", BUY, 50, 100)
    assert m.risk.terms[ULR].issued == 50
    assert m.position("A").qty == 1_050


def test_order_when_exclusive_grant_overlaps_then_exclusivity_conflict():
    m = market()
    grant = RegisterExclusiveGrant(
        "TM-1", "RIVAL", ("CN",), "class 33", dt.date(2025, 1, 1), dt.date(2027, 6, 30)
    )
    m.apply(grant)
    assert reason(m.order("LICENSOR", SELL, 1, 100, EXL)[1]) == Reason.EXCLUSIVITY_CONFLICT


def test_order_when_exclusive_grant_elsewhere_then_licence_may_be_granted():
    m = market()
    for territory, field, end in (
        (("HK", "MO"), "class 33", dt.date(2040, 1, 1)),
        (("CN",), "class 32", dt.date(2040, 1, 1)),
        (("CN",), "class 33", dt.date(2025, 12, 31)),  # ends before the licence starts
    ):
        m.apply(RegisterExclusiveGrant("TM-1", "RIVAL", territory, field, dt.date(2020, 1, 1), end))
    assert reason(m.order("LICENSOR", SELL, 1, 100, EXL)[1]) == Reason.NONE


def test_order_when_exclusive_licence_sold_then_grant_moves_and_second_sale_conflicts():
    m = market()
    m.order("LICENSOR", SELL, 1, 100, EXL)
    _, events = m.order("A", BUY, 1, 100, EXL)
    assert [(g.instrument, g.holder) for g in of_type(events, GrantTransferred)] == [(EXL, "A")]
    assert reason(m.order("LICENSOR", SELL, 1, 100, EXL)[1]) == Reason.EXCLUSIVITY_CONFLICT
    # the licensee may resell what it holds; the grant follows the licence
    m.order("A", SELL, 1, 100, EXL)
    m.order("B", BUY, 1, 100, EXL)
    assert [g.holder for g in m.risk.grants.by_asset["TM-1"]] == ["B"]


def test_order_when_assignment_offered_twice_then_exclusivity_conflict():
    m = market()
    assert reason(m.order("OWNER", SELL, 1, 100, ASG)[1]) == Reason.NONE
    assert reason(m.order("OWNER", SELL, 1, 100, ASG)[1]) == Reason.EXCLUSIVITY_CONFLICT


def test_order_when_derivative_position_would_pass_limit_then_position_limit():
    m = market()
    m.apply(SetLimits("A", position_limit=5))
    assert reason(m.order("A", BUY, 6, 100, FUT)[1]) == Reason.POSITION_LIMIT
    assert reason(m.order("A", BUY, 3, 100, FUT)[1]) == Reason.NONE
    assert reason(m.order("A", BUY, 3, 100, FUT)[1]) == Reason.POSITION_LIMIT  # 3 working
    assert reason(m.order("A", SELL, 5, 100, FUT)[1]) == Reason.NONE  # short side is apart


def test_order_when_margin_unset_then_margin_not_set():
    m = market()
    m.risk.terms[FUT].margin = 0  # as listed, before any SetMargin
    assert reason(m.order("A", BUY, 1, 100, FUT)[1]) == Reason.MARGIN_NOT_SET


def test_order_when_reservation_passes_line_then_credit_limit():
    m = market(limit=1_000)
    assert reason(m.order("A", BUY, 11, 100)[1]) == Reason.CREDIT_LIMIT
    assert reason(m.order("A", BUY, 10, 100)[1]) == Reason.NONE
    assert reason(m.order("A", BUY, 1, 100)[1]) == Reason.CREDIT_LIMIT
    # a sell of a holding uses no credit: allowed at 100%
    assert reason(m.order("A", SELL, 1, 120)[1]) == Reason.NONE


def test_order_when_guarantor_capacity_used_then_guarantor_limit():
    m = market(limit=1_000, capacity=1_500)
    assert reason(m.order("A", BUY, 10, 100)[1]) == Reason.NONE
    assert reason(m.order("B", BUY, 6, 100)[1]) == Reason.GUARANTOR_LIMIT
    assert reason(m.order("B", BUY, 5, 100)[1]) == Reason.NONE


def test_order_when_guarantor_backs_a_share_then_it_carries_that_share():
    m = market(limit=1_000, capacity=1_000)
    m.apply(SetGuarantor("INSURER", "an insurer", GuarantorKind.INSURER, "CNY", 10_000))
    m.apply(SetCreditLine("A", "CNY", 3_000, (Backer("BANK", 5_000), Backer("INSURER", 5_000))))
    assert reason(m.order("A", BUY, 15, 100)[1]) == Reason.NONE  # 750 on BANK
    assert m.risk.ledger.guarantors["BANK"].used == 750
    assert reason(m.order("A", BUY, 6, 100)[1]) == Reason.GUARANTOR_LIMIT  # 1,050 > 1,000


def test_order_when_asset_exposure_passes_cap_then_asset_concentration():
    m = market()
    m.apply(SetAssetLimit("CN-PAT-1", participant_limit=1_000, market_limit=1_500))
    assert reason(m.order("A", BUY, 11, 100)[1]) == Reason.ASSET_CONCENTRATION
    assert reason(m.order("A", BUY, 10, 100)[1]) == Reason.NONE
    # the same asset under another instrument (the option) counts too
    assert reason(m.order("A", BUY, 1, 60, "OPT")[1]) == Reason.ASSET_CONCENTRATION
    # and the market as a whole: B may add only 500
    assert reason(m.order("B", BUY, 6, 100)[1]) == Reason.ASSET_CONCENTRATION
    assert reason(m.order("B", BUY, 5, 100)[1]) == Reason.NONE


def test_order_when_killed_then_killed():
    m = market()
    m.apply(KillSwitch(KillScope.PARTICIPANT, "A"))
    assert reason(m.order("A", BUY, 1, 100)[1]) == Reason.KILLED


def test_order_when_fx_table_stale_then_cross_currency_orders_rejected():
    m = market(max_age_ns=1_000_000)
    assert reason(m.order("A", BUY, 1, 100, NOTE)[1]) == Reason.NONE
    m.apply(SetLimits("B"), ts=m.ts + 1_000_000)
    assert reason(m.order("A", BUY, 1, 100, NOTE)[1]) == Reason.FX_RATE_STALE
    assert reason(m.order("A", SELL, 1, 100, NOTE)[1]) == Reason.FX_RATE_STALE
    assert reason(m.order("A", BUY, 1, 100, ULR)[1]) == Reason.NONE  # same currency


def test_order_when_currency_not_in_table_then_fx_rate_missing():
    m = market()
    assert reason(m.apply(SetCreditLine("A", "EUR", 0, ()))) == Reason.NONE
    assert reason(m.order("A", SELL, 1, 100)[1]) == Reason.FX_RATE_MISSING


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"max_order_qty": 1, "max_order_notional": 1, "collar_bp": 1}, Reason.MAX_QTY),
        ({"max_order_notional": 1, "collar_bp": 1}, Reason.MAX_NOTIONAL),
        ({"collar_bp": 1}, Reason.PRICE_COLLAR),
        ({}, Reason.CREDIT_LIMIT),
    ],
)
def test_order_when_many_controls_fail_then_the_first_in_order_is_reported(limits, expected):
    m = market(limit=100)
    m.apply(SetLimits("A", **limits))
    m.apply(KillSwitch(KillScope.PARTICIPANT, "A"))
    assert reason(m.order("A", BUY, 5, 120)[1]) == expected


def test_order_when_sell_fails_holding_and_kill_then_no_holding_first():
    m = market(holding=0)
    m.apply(KillSwitch(KillScope.PARTICIPANT, "A"))
    assert reason(m.order("A", SELL, 1, 100)[1]) == Reason.NO_HOLDING


# -- amends --------------------------------------------------------------------------------


def test_amend_when_it_needs_more_credit_than_left_then_credit_limit_and_down_is_fine():
    m = market(limit=1_000)
    oid, _ = m.order("A", BUY, 10, 100)
    assert reason(m.apply(AmendOrder(ULR, oid, "A", 11, 100))) == Reason.CREDIT_LIMIT
    assert reason(m.apply(AmendOrder(ULR, oid, "A", 10, 101))) == Reason.CREDIT_LIMIT
    assert reason(m.apply(AmendOrder(ULR, oid, "A", 8, 99))) == Reason.NONE
    assert m.position("A").reserved == 792


def test_amend_when_sell_grows_past_holding_then_no_holding():
    m = market(holding=10)
    oid, _ = m.order("A", SELL, 10, 100)
    assert reason(m.apply(AmendOrder(ULR, oid, "A", 11, 100))) == Reason.NO_HOLDING


def test_amend_when_limits_break_then_the_control_reports():
    m = market()
    oid, _ = m.order("A", BUY, 10, 100)
    m.apply(SetLimits("A", max_order_qty=10, collar_bp=500))
    assert reason(m.apply(AmendOrder(ULR, oid, "A", 11, 100))) == Reason.MAX_QTY
    assert reason(m.apply(AmendOrder(ULR, oid, "A", 10, 106))) == Reason.PRICE_COLLAR


# -- kill switch ---------------------------------------------------------------------------


def test_kill_switch_when_participant_engaged_then_orders_cancelled_in_same_command():
    m = market()
    a1, _ = m.order("A", BUY, 5, 99)
    a2, _ = m.order("A", SELL, 5, 110)
    m.order("B", BUY, 5, 98)
    events = m.apply(KillSwitch(KillScope.PARTICIPANT, "A"))
    switched = of_type(events, KillSwitchChanged)
    assert [(s.target, s.engaged, s.participants) for s in switched] == [("A", True, ("A",))]
    done = {(d.order_id, d.reason) for d in of_type(events, OrderDone)}
    assert done == {(a1, Reason.KILLED), (a2, Reason.KILLED)}
    assert m.position("A").reserved == 0 and m.used("A") == 0
    assert m.position("B").reserved == 490
    m.apply(KillSwitch(KillScope.PARTICIPANT, "A", engaged=False))
    assert reason(m.order("A", BUY, 1, 100)[1]) == Reason.NONE


def test_kill_switch_when_guarantor_engaged_then_all_its_participants_stop():
    m = market()
    m.order("A", BUY, 5, 99)
    m.order("C", SELL, 5, 110)
    events = m.apply(KillSwitch(KillScope.GUARANTOR, "BANK"))
    assert of_type(events, KillSwitchChanged)[0].participants == ("A", "B", "C")
    assert len(of_type(events, OrderDone)) == 2
    assert reason(m.order("B", BUY, 1, 100)[1]) == Reason.KILLED
    m.apply(KillSwitch(KillScope.GUARANTOR, "BANK", engaged=False))
    assert reason(m.order("B", BUY, 1, 100)[1]) == Reason.NONE


def test_kill_switch_when_guarantor_unknown_then_rejected():
    m = market()
    assert reason(m.apply(KillSwitch(KillScope.GUARANTOR, "NOBODY"))) == Reason.UNKNOWN_GUARANTOR


# -- post-trade ------------------------------------------------------------------------------


def test_fill_when_trade_then_positions_holdings_and_exposure_move():
    m = market(fee_bp=10)
    m.order("B", SELL, 10, 100)
    _, events = m.order("A", BUY, 10, 105)
    assert [(t.price, t.qty) for t in of_type(events, Trade)] == [(100, 10)]
    a, b = m.position("A"), m.position("B")
    assert (a.qty, a.reserved, a.net) == (1_010, 0, 1_001)  # 1,000 + fee 1
    assert (b.qty, b.net) == (990, -999)  # proceeds less fee
    assert m.used("A") == 1_001 and m.used("B") == 0
    assert m.risk.ledger.guarantors["BANK"].used == 1_001


def test_alerts_when_usage_crosses_80_and_100_percent_then_raised_once_each_way():
    m = market(limit=1_000, capacity=10_000)
    _, events = m.order("A", BUY, 7, 100)
    assert not of_type(events, RiskAlert)
    oid, events = m.order("A", BUY, 1, 100)
    [alert] = of_type(events, RiskAlert)
    assert (alert.scope, alert.subject, alert.used, alert.limit, alert.level_bp) == (
        LimitScope.CREDIT_LINE,
        "A",
        800,
        1_000,
        8_000,
    )
    _, events = m.order("A", BUY, 2, 100)
    assert [a.level_bp for a in of_type(events, RiskAlert)] == [10_000]
    events = m.apply(CancelOrder(ULR, oid, "A"))
    assert [a.level_bp for a in of_type(events, RiskAlert)] == [8_000]


def test_alerts_when_guarantor_usage_crosses_then_guarantor_alert():
    m = market(limit=1_000, capacity=1_000)
    _, events = m.order("A", BUY, 8, 100)
    scopes = {(a.scope, a.level_bp) for a in of_type(events, RiskAlert)}
    assert scopes == {(LimitScope.CREDIT_LINE, 8_000), (LimitScope.GUARANTOR, 8_000)}


def test_market_buy_when_it_ends_then_reservation_at_band_edge_released():
    m = market()
    m.order("B", SELL, 3, 100)
    _, events = m.market_order("A", BUY, 5)
    done = of_type(events, OrderDone)[-1]
    assert (done.status, done.leaves_qty) == (DoneStatus.CANCELLED, 2)
    assert m.position("A").reserved == 0 and m.used("A") == 300


# -- administration ------------------------------------------------------------------------


def test_settings_when_accepted_then_echoed_and_when_bad_then_rejected():
    m = market()
    events = m.apply(SetLimits("A", max_order_qty=5))
    assert [type(e) for e in events] == [RiskConfigured]
    assert reason(m.apply(SetLimits("A", max_order_qty=-1))) == Reason.INVALID_RISK_SETTING
    assert reason(m.apply(SetCreditLine("A", "CNY", 10, (Backer("NOBODY"),)))) == (
        Reason.UNKNOWN_GUARANTOR
    )
    assert reason(m.apply(SetCreditLine("A", "CNY", 10, (Backer("BANK", 5_000),)))) == (
        Reason.INVALID_RISK_SETTING
    )
    assert reason(m.apply(SetCreditLine("A", "HKD", 10, (Backer("BANK"),)))) == (
        Reason.INVALID_RISK_SETTING
    )


def test_replay_when_same_commands_then_same_events_and_fingerprint():
    def session():
        m = market(fee_bp=7)
        m.order("B", SELL, 10, 100)
        m.order("A", BUY, 4, 101)
        m.market_order("C", BUY, 3)
        m.apply(KillSwitch(KillScope.PARTICIPANT, "B"))
        return m.core.fingerprint()

    assert session() == session()


def test_order_when_guarantor_past_capacity_and_usage_falls_a_little_then_guarantor_limit():
    m = market(limit=2_000, capacity=3_000)
    m.order("A", BUY, 10, 100)
    small, _ = m.order("A", BUY, 1, 100)
    m.order("B", BUY, 10, 100)
    m.apply(SetGuarantor("BANK", "test bank", GuarantorKind.BANK, "CNY", 1_800))  # 2,100 used
    m.apply(CancelOrder(ULR, small, "A"))  # 2,000 used: still past capacity
    assert reason(m.order("A", BUY, 1, 99)[1]) == Reason.GUARANTOR_LIMIT
    assert reason(m.order("B", SELL, 1, 101)[1]) == Reason.NONE  # a sell uses no credit
