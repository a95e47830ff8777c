"""Order controls and concentration as pure functions, and the demo setup's limits in a core."""

from __future__ import annotations

from engine.codes import Reason
from engine.core import Core
from engine.instruments import default_instruments
from engine.messages import NewOrder, OrderRejected, Side, StartEnglishAuction, Tick
from risk.alerts import Alerts
from risk.config import bootstrap, demo_setup
from risk.engine import RiskEngine
from risk.limits import NO_LIMIT, AssetLimits, Limits, position_reason
from risk.messages import SetAssetLimit, SetLimits


def test_limits_when_zero_then_off():
    off = Limits(SetLimits("A"))
    assert (off.max_qty, off.max_notional, off.collar_bp, off.position_limit) == (
        NO_LIMIT,
        NO_LIMIT,
        0,
        NO_LIMIT,
    )


def test_collar_when_on_the_edge_then_inside():
    limits = Limits(SetLimits("A", collar_bp=1_000))
    assert limits.collar_reason(100, 110) == Reason.NONE
    assert limits.collar_reason(100, 90) == Reason.NONE
    assert limits.collar_reason(100, 111) == Reason.PRICE_COLLAR
    assert limits.collar_reason(100, 0) == Reason.NONE  # a market order has no price


def test_collar_when_reach_is_fractional_or_reference_moves_then_exact():
    limits = Limits(SetLimits("A", collar_bp=333))  # 3.33 either side of 100
    assert limits.collar_reason(100, 103) == Reason.NONE
    assert limits.collar_reason(100, 104) == Reason.PRICE_COLLAR
    assert limits.collar_reason(100, 96) == Reason.PRICE_COLLAR
    assert limits.collar_reason(1_000, 1_033) == Reason.NONE  # re-centred: 33.3 either side
    assert limits.collar_reason(1_000, 1_034) == Reason.PRICE_COLLAR
    assert limits.collar_reason(100, 104) == Reason.PRICE_COLLAR


def test_position_when_working_orders_count_then_worst_case_each_side():
    # long 3, 2 working buys: 4 more would make 9 > 8
    assert position_reason(8, 3, 2, 0, True, 4) == Reason.POSITION_LIMIT
    assert position_reason(8, 3, 2, 0, True, 3) == Reason.NONE
    # short side: 1 working sell, 10 more from long 3 -> short 8
    assert position_reason(8, 3, 0, 1, False, 10) == Reason.NONE
    assert position_reason(8, 3, 0, 1, False, 11) == Reason.POSITION_LIMIT


def test_assets_when_capped_then_participant_and_market_caps_apply():
    assets = AssetLimits(Alerts())
    assets.set(SetAssetLimit("PAT", participant_limit=100, market_limit=150))
    capped = assets.limited(("PAT", "OTHER"))
    assert capped == (("PAT", 100, 150),)
    assets.add("A", capped, 100)
    assert assets.reason("A", capped, 1) == Reason.ASSET_CONCENTRATION
    assert assets.reason("B", capped, 50) == Reason.NONE
    assert assets.reason("B", capped, 51) == Reason.ASSET_CONCENTRATION
    assets.set(SetAssetLimit("PAT"))
    assert assets.limited(("PAT",)) == ()


def test_demo_setup_when_loaded_then_makers_quote_and_brokers_are_limited():
    core = Core(default_instruments(), risk=RiskEngine())
    seq, _ = bootstrap(core, demo_setup(), 1, 10**18)
    core.check()

    def order(oid, participant, side, qty, price, instrument="ULR-5GSEP-26"):
        nonlocal seq
        events = core.apply(NewOrder(instrument, oid, participant, side, qty, price), seq, 10**18)
        seq += 1
        core.check()
        rejected = [e.reason for e in events if type(e) is OrderRejected]
        return rejected[0] if rejected else Reason.NONE

    assert order(1, "MM-HAINAN-IP", Side.SELL, 1_000, 126_000) == Reason.NONE
    assert order(2, "BRK-SANYA-SEC", Side.BUY, 100, 126_000) == Reason.NONE
    assert order(3, "BRK-SANYA-SEC", Side.BUY, 6_000, 126_000) == Reason.MAX_QTY
    # it now holds the 100 it bought, and no more
    assert order(4, "BRK-SANYA-SEC", Side.SELL, 110, 126_000) == Reason.NO_HOLDING
    assert order(5, "POOL-5G", Side.SELL, 100, 130_000) == Reason.NONE
    # the assignment lot trades by English auction: open it first
    core.apply(
        StartEnglishAuction("ASG-HNRICE-PV", 1_200_000_000, 10_000_000, 2 * 10**18), seq, 10**18
    )
    seq += 1
    assert order(6, "BRK-HAIKOU-CAP", Side.BUY, 1, 1_250_000_000, "ASG-HNRICE-PV") == Reason.NONE
    assert order(7, "HN-SEED-INSTITUTE", Side.SELL, 1, 1_250_000_000, "ASG-HNRICE-PV") == (
        Reason.NONE
    )
    core.apply(Tick(), seq, 2 * 10**18)  # the auction closes: the bid meets the reserve
    seq += 1
    assert core.risk.accounts["BRK-HAIKOU-CAP"].positions["ASG-HNRICE-PV"].qty == 1
